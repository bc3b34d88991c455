"""cache.py - CachewireCache: cachewire as cachecontrol's cache.

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
    from cachecontrol.cache import BaseCache
except ImportError:  # pragma: no cover
    BaseCache = object

from ._client import Client


class CachewireCache(BaseCache):
    """cachecontrol's BaseCache on a cachewire Client: give a URL (and
    any Client options) or an existing client (then close() leaves it
    open: its owner closes it)."""

    def __init__(self, url=None, client=None, **client_options):
        if (url is None) == (client is None):
            raise ValueError("CachewireCache needs a url or a client (one of them)")
        self._owned = client is None
        self.client = client if client is not None else Client(url, **client_options)

    def get(self, key):
        return self.client.get(key)

    def set(self, key, value, expires=None):
        if isinstance(expires, numbers.Real) and not isinstance(expires, bool) \
                and expires < 0:
            expires = datetime.timedelta(seconds=expires)  # already expired
        self.client.set(key, value, expires=expires)

    def delete(self, key):
        self.client.delete(key)

    def close(self):
        if self._owned:
            self.client.close()
