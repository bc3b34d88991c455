"""cachewire - a client for the cachewire cache daemon (cachewired).

    import cachewire
    with cachewire.Client("tcp://127.0.0.1:7420", timeout=2.0) as c:
        c.set("greeting", b"hello", expires=60)
        c.get("greeting")            # b"hello" (None on a miss)

Built by client/python/build.sh OUTDIR (copies this package and generates
cachewire/v1/*_pb2.py from proto/ with protoc). Modules:
  _client.py   Client and TLS: the calls, over one nng REQ socket
  _nng.py      the ctypes binding of the system's libnng
  _expiry.py   `expires` arguments -> SetRequest's ttl_ms / expire_at_ms
  _errors.py   Status (gRPC codes) and Error
  _stream.py   large values in chunks (Client.set_stream, get_stream)
  cache.py     CachewireCache, a cache for cachecontrol
"""

from ._errors import Error, Status
from ._client import Client, TLS
from .cache import CachewireCache

__all__ = ["Client", "TLS", "Error", "Status", "CachewireCache"]
