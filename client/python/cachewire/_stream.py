"""_stream.py - values too large for one message, in chunks (cache.proto:
BeginUpload, PutChunk, CommitUpload, AbortUpload, GetRange), with about
one chunk (the server's chunk_bytes, 1 MiB by default) in memory.

    version = upload(client, key, source, expires=None, size=None)
    reader = open_value(client, key)     # a file-like object, or None

`source` is bytes-like (a memoryview over an mmap is read slice by slice,
each slice's pages given back to the kernel once sent) or a binary file
object. A failed upload is aborted: the old value stays. The reader
raises Error(FAILED_PRECONDITION) when the value is replaced while it
reads, rather than return a mix of two values.
"""

import io
import mmap

from ._errors import Error, Status
from ._expiry import expiry_fields
from .v1 import cache_pb2

_REST = 1 << 62  # GetRange length meaning "the rest": the server cuts it


def _source_slices(source, chunk):
    """Yield successive chunks of source: slices of a bytes-like object, or
    reads of a file object (filled to chunk bytes but for the last)."""
    try:
        view = memoryview(source).cast("B")
    except TypeError:
        view = None
    if view is not None:
        owner = view.obj if isinstance(view.obj, mmap.mmap) else None
        for at in range(0, len(view), chunk):
            yield bytes(view[at:at + chunk])
            if owner is not None:
                # sent: let the kernel take the pages back, so a body
                # mapped from a file never sits whole in our RSS
                owner.madvise(mmap.MADV_DONTNEED, at, min(chunk, len(view) - at))
        return
    while True:
        parts, have = [], 0
        while have < chunk:
            b = source.read(chunk - have)
            if not b:
                break
            parts.append(b)
            have += len(b)
        if not parts:
            return
        yield b"".join(parts)
        if have < chunk:
            return


def upload(client, key, source, expires=None, size=None):
    """Store source under key in chunks; the new value's version."""
    if size is None:
        try:
            size = memoryview(source).nbytes
        except TypeError:
            pass
    req = cache_pb2.BeginUploadRequest(key=key, **expiry_fields(expires))
    if size is not None:
        req.total_size = size
    up = client._call("BeginUpload", req, cache_pb2.BeginUploadResponse)
    try:
        at = 0
        for data in _source_slices(source, up.chunk_bytes):
            if at + len(data) > up.max_bytes:
                raise Error(Status.RESOURCE_EXHAUSTED,
                            "value is over %d bytes, the server's limit" % up.max_bytes)
            client._call("PutChunk", cache_pb2.PutChunkRequest(
                upload_id=up.upload_id, offset=at, data=data), cache_pb2.PutChunkResponse)
            at += len(data)
        r = client._call("CommitUpload", cache_pb2.CommitUploadRequest(
            upload_id=up.upload_id, total_size=at), cache_pb2.CommitUploadResponse)
        return r.version
    except BaseException:
        try:
            client._call("AbortUpload", cache_pb2.AbortUploadRequest(
                upload_id=up.upload_id), cache_pb2.AbortUploadResponse)
        except Error:
            pass  # it expires by itself (cache.upload_ttl_ms)
        raise


class RangeReader(io.RawIOBase):
    """A value read chunk by chunk with GetRange, checked against the
    version of its first read."""

    def __init__(self, client, key, first):
        super().__init__()
        self._client, self._key = client, key
        self.size, self.version = first.total_size, first.version
        self._buf, self._at = memoryview(first.data), len(first.data)

    def readable(self):
        return True

    def readinto(self, b):
        if not self._buf:
            if self._at >= self.size:
                return 0
            r = self._client._call("GetRange", cache_pb2.GetRangeRequest(
                key=self._key, offset=self._at, length=_REST, version=self.version),
                cache_pb2.GetRangeResponse)
            if not r.data:
                raise Error(Status.INTERNAL, "the server sent no bytes at offset %d of %d"
                            % (self._at, self.size))
            self._buf = memoryview(r.data)
            self._at += len(r.data)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def open_value(client, key):
    """The value under key as a binary file object (None: no such key)."""
    first = client._call("GetRange", cache_pb2.GetRangeRequest(key=key, length=_REST),
                         cache_pb2.GetRangeResponse)
    if not first.found:
        return None
    if first.version == 0 and len(first.data) < first.total_size:
        # written by Set: no version to read it safely in parts, but one
        # Get returns it whole
        value = client._call("Get", cache_pb2.GetRequest(key=key), cache_pb2.GetResponse)
        return io.BytesIO(value.value) if value.found else None
    return io.BufferedReader(RangeReader(client, key, first), buffer_size=64 * 1024)
