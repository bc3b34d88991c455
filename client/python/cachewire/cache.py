"""cache.py - CachewireCache: cachewire as cachecontrol's cache (a
SeparateBodyBaseCache: bodies apart from headers, large ones in chunks).

    import requests, cachecontrol, cachewire
    s = cachecontrol.CacheControl(requests.Session(),
            cache=cachewire.CachewireCache("tcp://127.0.0.1:7420"))

Every process (and host) using the same cachewired shares the cache.
cachecontrol hands over str keys (URLs) and bytes values; `expires` comes
as int seconds (cachecontrol 0.12.12 and 0.13), a datetime (older 0.12:
naive = UTC, as cachecontrol's own RedisCache treats it), or None / 0 for
"no expiry". An expiry in the past (a past datetime, or the negative
seconds cachecontrol computes from an Expires header before Date) stores
nothing and removes any earlier entry, without an error.
Errors (e.g. the server is down) propagate as cachewire.Error, as
cachecontrol's own caches let theirs propagate.
"""

import datetime
import numbers

try:  # the base class when cachecontrol is installed; any object works
    from cachecontrol.cache import SeparateBodyBaseCache as _Base
except ImportError:  # pragma: no cover - cachecontrol older than 0.12.12
    try:
        from cachecontrol.cache import BaseCache as _Base
    except ImportError:
        _Base = object

from ._client import Client

_BODY = b"\x00body"  # a body's key: the URL's and this (no URL has a NUL)
_SMALL_BODY = 4 * 1024 * 1024  # up to this, a body is one Set


class CachewireCache(_Base):
    """cachecontrol's SeparateBodyBaseCache on a cachewire Client: give a
    URL (and any Client options) or an existing client (then close()
    leaves it open: its owner closes it).

    cachecontrol stores a response's headers with set() and its body with
    set_body() under the same key; the body goes under key + NUL "body",
    with the expiry of the headers set just before, in chunks when large
    (a 300 MiB download never sits whole in this process), and comes back
    from get_body() as a file object read chunk by chunk."""

    def __init__(self, url=None, client=None, **client_options):
        if (url is None) == (client is None):
            raise ValueError("CachewireCache needs a url or a client (one of them)")
        self._owned = client is None
        self.client = client if client is not None else Client(url, **client_options)
        self._expiry = {}  # key -> expires of its headers, for its body

    @staticmethod
    def _body_key(key):
        return (key.encode() if isinstance(key, str) else bytes(key)) + _BODY

    @staticmethod
    def _expires(expires):
        if isinstance(expires, numbers.Real) and not isinstance(expires, bool) \
                and expires < 0:
            return datetime.timedelta(seconds=expires)  # already expired
        return expires

    def get(self, key):
        return self.client.get(key)

    def set(self, key, value, expires=None):
        expires = self._expires(expires)
        self.client.set(key, value, expires=expires)
        if len(self._expiry) > 1024:  # set without set_body: forget
            self._expiry.clear()
        self._expiry[key] = expires

    def set_body(self, key, body):
        expires = self._expiry.pop(key, None)
        if len(memoryview(body)) <= _SMALL_BODY:
            self.client.set(self._body_key(key), bytes(body), expires=expires)
        else:
            self.client.set_stream(self._body_key(key), body, expires=expires)

    def get_body(self, key):
        return self.client.get_stream(self._body_key(key))

    def delete(self, key):
        self.client.delete_many([key, self._body_key(key)])

    def close(self):
        if self._owned:
            self.client.close()
