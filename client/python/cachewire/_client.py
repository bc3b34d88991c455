"""_client.py - cachewire.Client: one nng REQ socket to a cachewired.

A call is one exchange (rpc.proto): a cachewire.v1.Request {method,
payload, timeout_ms, auth_token, namespace} out, a cachewire.v1.Reply
{code, message, payload} back. One exchange runs at a time, so one Client
may be shared by any number of threads; calls that wait meanwhile go
together in the next exchange, as one batch (Request.calls, up to 64 and
under the smaller of max_message_bytes and the server's own limit, which
a Ping asks the first time calls wait together), unless the Client was made with coalesce=False: each still gets its own
reply and keeps its own timeout (a caller whose time runs out while its
batch is away gets DEADLINE_EXCEEDED at once).

Like the C client (client/src/client.c) the socket dials in the background
(NNG_FLAG_NONBLOCK) and reconnects by itself: a Client can be made while
the server is down, and calls then fail UNAVAILABLE. Errors:
  - Reply.code != OK: that code, the server's message
  - timeout with no connection up: UNAVAILABLE ("no connection to URL ...")
  - timeout while connected: DEADLINE_EXCEEDED ("no reply from URL ...")
  - connection broke mid-call: UNAVAILABLE (the request is not resent)
  - client closed (before or during the call): CANCELLED
  - request over max_message_bytes: RESOURCE_EXHAUSTED, nothing is sent
  - bad options (URL, TLS files, namespace): INVALID_ARGUMENT at once
"""

import atexit
import ctypes
import random
import re
import threading
import time
import urllib.parse
import weakref

from . import _nng, _stream
from ._errors import Error, Status
from ._expiry import expiry_fields

try:
    from .v1 import cache_pb2, rpc_pb2
except ImportError as e:  # the sources, not a build.sh output
    raise ImportError("cachewire's protobuf modules are missing: build the "
                      "package with client/python/build.sh OUTDIR (%s)" % e) from e

DEFAULT_MAX_MESSAGE_BYTES = 33 * 1024 * 1024  # the server's default limit
_RECV_SLACK = 64 * 1024  # room for the reply envelope around a value
_MARGIN_MS = 250  # the nng receive timeout is the call's timeout + this
_CLOSE_WAIT = 2.0  # nng 1.5.2's nng_close can hang; wait this long for it
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
_MAX_BATCH = 64  # calls per batch message
_CALLS_TAG = b"\x32"  # Request.calls: field 6, length-delimited
_CALL_OVERHEAD = 11  # the tag and length varint around a call in a batch
_ASK_AGAIN = 1.0  # seconds after a Ping that could not say
_open_clients = weakref.WeakSet()
_leaked = []  # what a hung nng_close may still use; kept alive for good


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class TLS:
    """TLS options for tls+tcp:// URLs: ca_file (PEM, required: the CA
    that signed the server's certificate), cert_file/key_file (a client
    certificate, for servers with tls.client_ca_file), server_name (the
    name expected in the server's certificate; default the URL's host)."""

    def __init__(self, ca_file, cert_file=None, key_file=None, server_name=None):
        self.ca_file, self.cert_file = ca_file, cert_file
        self.key_file, self.server_name = key_file, server_name


def _key(key):
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError("a key is bytes or str, not %s" % type(key).__name__)


def _value(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("a value is bytes or str, not %s" % type(value).__name__)


class _Pipes:
    """How many connections the socket has (nng's pipe events)."""

    def __init__(self):
        self.n = 0
        self._lock = threading.Lock()

    def event(self, pipe, ev, arg):  # on an nng thread
        with self._lock:
            if ev == _nng.PIPE_EV_ADD_PRE:
                self.n += 1
            elif ev == _nng.PIPE_EV_REM_POST:  # nng's pair to ADD_PRE
                self.n -= 1


class Client:
    """A connection to cachewired at url (tcp://, ipc://, tls+tcp://), or
    to several replicas: url "a,b,c" or a list (see _open_replicas).

    timeout: seconds per call (sent as timeout_ms). tls: a TLS (needed for
    tls+tcp://). token / token_file: the bearer token (auth.tokens_file
    servers). namespace: the tenant to work in (default: the server's).
    """

    def __init__(self, url, timeout=5.0, tls=None, token=None, namespace=None,
                 token_file=None, max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES,
                 coalesce=True):
        self._members = None
        if isinstance(url, (list, tuple)) or (isinstance(url, str) and "," in url):
            self._open_replicas(url, timeout, tls, token, namespace, token_file,
                                max_message_bytes, coalesce)
            return
        if not isinstance(url, str) or not url:
            raise Error(Status.INVALID_ARGUMENT, "a Client needs a URL")
        if not timeout or timeout <= 0:
            raise Error(Status.INVALID_ARGUMENT, "timeout must be > 0 seconds")
        if token_file is not None:
            try:
                with open(token_file, encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError as e:
                raise Error(Status.INVALID_ARGUMENT, "token_file: %s" % e) from None
        if namespace is not None and not _NAMESPACE.match(namespace):
            raise Error(Status.INVALID_ARGUMENT, "namespace %r: 1 to 64 of "
                        "A-Z a-z 0-9 _ . -" % (namespace,))
        self.url = url
        self._timeout = float(timeout)
        self._timeout_ms = max(1, int(round(self._timeout * 1000)))
        self._max = max_message_bytes
        self._envelope = {"auth_token": token or "", "namespace": namespace or ""}
        self._lock = threading.Lock()  # one exchange at a time
        self._coalesce = coalesce
        self._cv = threading.Condition()  # the queue of waiting calls
        self._queue = []
        self._busy = False  # a thread is running an exchange for the queue
        self._batches = None  # the server takes batches: unknown yet
        self._ask_after = 0.0  # asking it (a Ping) not before then
        self._batch_bytes = max_message_bytes  # and the server's, once known
        self._closed = False
        self._tls = self._tls_config(url, tls)
        self._pipes = _Pipes()
        self._pipe_cb = _nng.PIPE_CB(self._pipes.event)
        self._sock = _nng.Handle()
        try:
            self._open_socket()
        except BaseException:
            self._closed = True  # nothing for close() or __del__ to do
            if self._tls:
                _nng.tls_free(self._tls)
                self._tls = None
            raise
        _open_clients.add(self)

    # ---- several replicas ------------------------------------------------

    def _open_replicas(self, urls, timeout, tls, token, namespace, token_file,
                       max_message_bytes, coalesce=True):
        """url as several replicas ("a,b,c" or a list): one Client each,
        calls spread over them in turn (skipping ones with no connection)
        and, but for clear(), retried once on another replica when they
        fail UNAVAILABLE with time left (as the C client does)."""
        if isinstance(urls, str):
            urls = urls.split(",")
        urls = [u.strip() for u in urls if u and u.strip()]
        if not urls:
            raise Error(Status.INVALID_ARGUMENT, "a Client needs a URL")
        self.url = ",".join(urls)
        self._closed = False
        self._timeout = float(timeout or 0)
        self._members = []
        try:
            for u in urls:
                self._members.append(Client(u, timeout, tls, token, namespace,
                                            token_file, max_message_bytes,
                                            coalesce))
        except BaseException:
            self.close()
            raise
        self._timeout_ms = self._members[0]._timeout_ms
        self._next = random.randrange(len(self._members))
        self._next_lock = threading.Lock()

    def _pick(self, avoid=None):
        with self._next_lock:
            start = self._next
            self._next += 1
        n = len(self._members)
        order = [self._members[(start + k) % n] for k in range(n)]
        order = [m for m in order if m is not avoid] or order
        up = [m for m in order if m._pipes.n > 0]
        return (up or order)[0]

    def _call_replicas(self, method, request, response_type):
        start = time.monotonic()
        # just opened, nothing connected yet: wait for the first replica
        # to be up (at most half the timeout and 1 s), so a dead one is
        # skipped then too
        until = start + min(self._timeout / 2, 1.0)
        while (not any(m._pipes.n > 0 for m in self._members)
               and time.monotonic() < until):
            time.sleep(0.001)
        m = self._pick()
        try:
            return m._call(method, request, response_type)
        except Error as e:
            left_ms = self._timeout_ms - int((time.monotonic() - start) * 1000)
            if (e.status != Status.UNAVAILABLE or method == "Clear"
                    or len(self._members) < 2 or left_ms <= 0):
                raise
        return self._pick(avoid=m)._call(method, request, response_type, left_ms)

    @property
    def timeout(self):
        """Seconds per call (fixed when the Client is made)."""
        return self._timeout

    # ---- setup ----------------------------------------------------------

    @staticmethod
    def _tls_config(url, tls):
        if not url.lower().startswith(("tls+tcp://", "tls+tcp4://", "tls+tcp6://")):
            return None
        if tls is None or not tls.ca_file:
            raise Error(Status.INVALID_ARGUMENT, "a tls+tcp:// URL needs "
                        "tls=cachewire.TLS(ca_file=...) (nng has no system trust store)")
        name = tls.server_name or urllib.parse.urlsplit(url).hostname
        try:
            return _nng.tls_config(tls.ca_file, tls.cert_file, tls.key_file, name)
        except (_nng.NngError, OSError) as e:
            raise Error(Status.INVALID_ARGUMENT, "cannot use the TLS files: %s" % e) from None

    def _open_socket(self):
        lib, s = _nng.lib, self._sock
        _nng.check(lib.nng_req0_open(ctypes.byref(s)), "cannot open an nng req0 socket")
        try:
            for opt, ms in ((_nng.OPT_RECVTIMEO, self._timeout_ms + _MARGIN_MS),
                            (_nng.OPT_SENDTIMEO, self._timeout_ms),
                            (_nng.OPT_RECONNMINT, 100), (_nng.OPT_RECONNMAXT, 2000),
                            # no resends: a call runs once or fails
                            (_nng.OPT_REQ_RESENDTIME, _nng.DURATION_INFINITE)):
                _nng.check(lib.nng_socket_set_ms(s, opt, ms), "socket option")
            _nng.check(lib.nng_socket_set_size(s, _nng.OPT_RECVMAXSZ, self._max + _RECV_SLACK),
                       "socket option")
            for ev in (_nng.PIPE_EV_ADD_PRE, _nng.PIPE_EV_REM_POST):
                _nng.check(lib.nng_pipe_notify(s, ev, self._pipe_cb, None), "pipe notify")
            d = _nng.Handle()
            rv = lib.nng_dialer_create(ctypes.byref(d), s, self.url.encode())
            if rv == 0 and self._tls:
                rv = lib.nng_dialer_set_ptr(d, _nng.OPT_TLS_CONFIG, self._tls)
            if rv == 0:  # connect (and reconnect) in the background
                rv = lib.nng_dialer_start(d, _nng.FLAG_NONBLOCK)
        except _nng.NngError as e:
            lib.nng_close(s)
            raise Error(Status.INTERNAL, str(e)) from None
        if rv != 0:
            lib.nng_close(s)
            raise Error(Status.INVALID_ARGUMENT,
                        "cannot use URL '%s': %s" % (self.url, _nng.strerror(rv)))

    # ---- one exchange ---------------------------------------------------

    def _call(self, method, request, response_type, timeout_ms=None):
        if self._members is not None:
            return self._call_replicas(method, request, response_type)
        data = rpc_pb2.Request(method="/cachewire.v1.Cache/" + method,
                               payload=request.SerializeToString(),
                               timeout_ms=timeout_ms or self._timeout_ms,
                               **self._envelope).SerializeToString()
        if len(data) > self._max:
            raise Error(Status.RESOURCE_EXHAUSTED, "request of %d bytes is over "
                        "max_message_bytes (%d); nothing was sent" % (len(data), self._max))
        if self._coalesce:
            reply = self._call_queued(data, timeout_ms or self._timeout_ms)
        else:
            with self._lock:
                if self._closed:
                    raise Error(Status.CANCELLED, "the client is closed")
                reply = self._reply(self._exchange(data, timeout_ms))
        try:
            if reply.code != Status.OK:
                raise Error(reply.code, reply.message or "the server answered %d" % reply.code)
            return response_type.FromString(reply.payload)
        except Error:
            raise
        except Exception as e:  # protobuf's DecodeError
            raise Error(Status.INTERNAL, "undecodable reply from %s: %s" % (self.url, e)) from None

    def _exchange(self, data, timeout_ms=None):
        """One message out, its reply's bytes back (under self._lock)."""
        try:
            if timeout_ms:  # not the Client's own: a retry's, a batch's
                self._set_timeouts(timeout_ms)
            try:
                _nng.send(self._sock, data)
                return _nng.recv(self._sock)
            finally:
                if timeout_ms:
                    self._set_timeouts(self._timeout_ms)
        except _nng.NngError as e:
            raise self._transport_error(e.rv) from None

    def _reply(self, raw):
        try:
            return rpc_pb2.Reply.FromString(raw)
        except Exception as e:  # protobuf's DecodeError
            raise Error(Status.INTERNAL, "undecodable reply from %s: %s"
                        % (self.url, e)) from None

    # ---- coalescing: calls that wait go together ------------------------

    def _call_queued(self, data, timeout_ms):
        """Queue the call; the first caller that finds no exchange running
        sends what is queued (one call alone, or a batch) and hands each
        its Reply. Returns this call's Reply."""
        slot = {"data": data, "deadline": time.monotonic() + timeout_ms / 1000,
                "reply": None, "error": None, "done": False}
        with self._cv:
            if self._closed:
                raise Error(Status.CANCELLED, "the client is closed")
            self._queue.append(slot)
            while not slot["done"]:
                if not self._busy and slot in self._queue:
                    self._busy = True
                    self._cv.release()
                    try:
                        self._ask_batches()
                        with self._cv:
                            batch = self._take_batch()
                        self._send_queued(batch)
                    finally:
                        self._cv.acquire()
                        self._busy = False
                        self._cv.notify_all()
                    continue
                left = slot["deadline"] - time.monotonic()
                if left <= 0:
                    if slot in self._queue:
                        self._queue.remove(slot)
                    slot["done"] = True  # its batch's reply is dropped
                    raise Error(Status.DEADLINE_EXCEEDED, "no reply from %s "
                                "within %d ms" % (self.url, timeout_ms))
                self._cv.wait(left)
        if slot["error"] is not None:
            raise slot["error"]
        return slot["reply"]

    def _take_batch(self):
        """The queued calls that go next (under self._cv): in order, at
        most _MAX_BATCH of them and self._batch_bytes together, at least
        one."""
        n, size = 0, 0
        for s in self._queue[:_MAX_BATCH]:
            size += len(s["data"]) + _CALL_OVERHEAD
            if n > 0 and size > self._batch_bytes:
                break
            n += 1
        batch = self._queue[:n]
        del self._queue[:n]
        return batch

    def _ask_batches(self):
        """Once, when calls first wait together: ask the server (Ping)
        whether it takes batches and how large a message it takes. Called
        by the thread sending for the queue (self._busy), without _cv."""
        with self._cv:
            waiting = [s["deadline"] for s in self._queue]
        now = time.monotonic()
        if self._batches is not None or len(waiting) < 2 or now < self._ask_after:
            return
        ms = max(1, int((min(waiting) - now) * 1000))
        data = rpc_pb2.Request(method="/cachewire.v1.Cache/Ping", timeout_ms=ms,
                               **self._envelope).SerializeToString()
        try:
            with self._lock:
                if self._closed:
                    return
                reply = self._reply(self._exchange(data, ms))
            if reply.code != Status.OK:
                raise Error(reply.code, reply.message)
            pong = cache_pb2.PingResponse.FromString(reply.payload)
        except Exception:  # noqa: BLE001 - not known: ask again later
            self._ask_after = time.monotonic() + _ASK_AGAIN
            return
        if 0 < pong.max_message_bytes < self._batch_bytes:
            self._batch_bytes = pong.max_message_bytes
        self._batches = pong.batches

    def _send_queued(self, batch):
        """Send batch (queued calls' Requests) and set each one's reply or
        error; as a batch message when there are several and the server
        takes batches, else one by one."""
        now = time.monotonic()
        for s in [s for s in batch if s["deadline"] <= now]:  # not sent
            s["error"] = Error(Status.DEADLINE_EXCEEDED, "no reply from %s within "
                               "its timeout (it never left)" % self.url)
            s["done"] = True
            batch.remove(s)
        if not batch:
            return
        left_ms = [max(1, int((s["deadline"] - now) * 1000)) for s in batch]
        with self._lock:
            if self._closed:
                err = Error(Status.CANCELLED, "the client was closed during the call")
                for s in batch:
                    s["error"], s["done"] = err, True
                return
            if len(batch) > 1 and self._batches is not False:
                calls = b"".join(_CALLS_TAG + _varint(len(s["data"])) + s["data"]
                                 for s in batch)
                # the token and namespace again, so that a server without
                # batches says UNIMPLEMENTED, not UNAUTHENTICATED
                data = rpc_pb2.Request(**self._envelope).SerializeToString() + calls
                try:
                    reply = self._reply(self._exchange(data, max(left_ms)))
                except Error as e:
                    for s in batch:
                        s["error"], s["done"] = e, True
                    return
                if len(reply.replies) == len(batch):
                    self._batches = True
                    for s, r in zip(batch, reply.replies):
                        s["reply"], s["done"] = r, True
                    return
                if reply.code != Status.UNIMPLEMENTED:  # refused as a whole
                    err = Error(reply.code or Status.INTERNAL, reply.message or
                                "the server answered a batch with %d replies"
                                % len(reply.replies))
                    for s in batch:
                        s["error"], s["done"] = err, True
                    return
                self._batches = False  # an older server: one by one
            for s, ms in zip(batch, left_ms):
                try:
                    s["reply"] = self._reply(self._exchange(s["data"], ms))
                except Error as e:
                    s["error"] = e
                s["done"] = True

    def _set_timeouts(self, ms):
        lib = _nng.lib
        _nng.check(lib.nng_socket_set_ms(self._sock, _nng.OPT_RECVTIMEO, ms + _MARGIN_MS),
                   "socket option")
        _nng.check(lib.nng_socket_set_ms(self._sock, _nng.OPT_SENDTIMEO, ms), "socket option")

    def _transport_error(self, rv):
        if self._closed or rv == _nng.ECLOSED:
            return Error(Status.CANCELLED, "the client was closed during the call")
        if rv == _nng.ETIMEDOUT and self._pipes.n <= 0:
            return Error(Status.UNAVAILABLE, "no connection to %s within %d ms (%s)"
                         % (self.url, self._timeout_ms, self._why_not_connected()))
        if rv == _nng.ETIMEDOUT:
            return Error(Status.DEADLINE_EXCEEDED, "no reply from %s within %d ms"
                         % (self.url, self._timeout_ms))
        if rv in (_nng.ECONNRESET, _nng.ECONNSHUT):
            return Error(Status.UNAVAILABLE, "connection to %s broke before the reply "
                         "came (%s); the request was not retried" % (self.url, _nng.strerror(rv)))
        code = Status.INTERNAL if rv == _nng.ENOMEM else Status.UNAVAILABLE
        return Error(code, "%s: %s" % (self.url, _nng.strerror(rv)))

    def _why_not_connected(self):
        """What one blocking dial (on a throwaway socket, waited for up
        to a second) says, e.g. "Connection refused" or a TLS failure."""
        result = []

        def dial():
            lib, s, d = _nng.lib, _nng.Handle(), _nng.Handle()
            if lib.nng_req0_open(ctypes.byref(s)) != 0:
                return
            rv = lib.nng_dialer_create(ctypes.byref(d), s, self.url.encode())
            if rv == 0 and self._tls:
                rv = lib.nng_dialer_set_ptr(d, _nng.OPT_TLS_CONFIG, self._tls)
            result.append(rv or lib.nng_dialer_start(d, 0))
            lib.nng_close(s)

        t = threading.Thread(target=dial, daemon=True)
        t.start()
        t.join(1.0)
        hint = "is the server running?"
        if self._tls:
            hint = "is the server running, with TLS, a certificate ca_file signed " \
                   "for the server_name, and accepting this client's certificate?"
        if not result or result[0] == 0:
            return hint
        why = _nng.strerror(result[0])
        if self._tls and result[0] in (_nng.ECRYPTO, _nng.EPEERAUTH, _nng.ECLOSED,
                                       _nng.ECONNSHUT, _nng.ECONNRESET):
            return "TLS handshake failed: %s; %s" % (why, hint)
        if result[0] in (_nng.ECONNSHUT, _nng.ECLOSED, _nng.ECONNRESET):
            hint = "is it a TLS listener? then use tls+tcp://"
        return "%s; %s" % (why, hint)

    # ---- the methods (cache.proto) --------------------------------------

    def get(self, key):
        """The value stored under key (bytes), or None."""
        r = self._call("Get", cache_pb2.GetRequest(key=_key(key)), cache_pb2.GetResponse)
        return r.value if r.found else None

    def set(self, key, value, expires=None):
        """Store value under key; expires: None/0 never, seconds from now,
        a timedelta, or a datetime (naive = UTC; in the past: not stored)."""
        req = cache_pb2.SetRequest(key=_key(key), value=_value(value), **expiry_fields(expires))
        self._call("Set", req, cache_pb2.SetResponse)

    def delete(self, key):
        """Remove key; True when it existed."""
        r = self._call("Delete", cache_pb2.DeleteRequest(key=_key(key)), cache_pb2.DeleteResponse)
        return r.existed

    def clear(self):
        """Remove every key of the namespace; how many were removed."""
        return self._call("Clear", cache_pb2.ClearRequest(), cache_pb2.ClearResponse).removed

    def ping(self):
        """The server's version (checks that it and its Redis answer)."""
        return self._call("Ping", cache_pb2.PingRequest(), cache_pb2.PingResponse).version

    def get_many(self, keys):
        """[value or None for each key], in one round trip."""
        req = cache_pb2.GetManyRequest(keys=[_key(k) for k in keys])
        r = self._call("GetMany", req, cache_pb2.GetManyResponse)
        return [x.value if x.found else None for x in r.results]

    def set_many(self, entries, expires=None):
        """Store (key, value) or (key, value, expires) entries; expires is
        the default for entries without their own."""
        req = cache_pb2.SetManyRequest()
        for e in entries:
            if len(e) not in (2, 3):
                raise ValueError("an entry is (key, value) or (key, value, expires)")
            exp = e[2] if len(e) == 3 else expires
            req.entries.add(key=_key(e[0]), value=_value(e[1]), **expiry_fields(exp))
        self._call("SetMany", req, cache_pb2.SetManyResponse)

    def delete_many(self, keys):
        """[existed for each key]."""
        req = cache_pb2.DeleteManyRequest(keys=[_key(k) for k in keys])
        return list(self._call("DeleteMany", req, cache_pb2.DeleteManyResponse).existed)

    def set_stream(self, key, source, expires=None, size=None):
        """Store a large value in chunks (up to the server's
        cache.max_upload_bytes): source is bytes-like or a binary file
        object, read one chunk at a time; size, when known and not given,
        is taken from a bytes-like source. Readers see the old value or
        the whole new one. Returns the new value's version."""
        return _stream.upload(self, _key(key), source, expires, size)

    def get_stream(self, key):
        """The value under key as a binary file object read chunk by chunk
        (None: no such key). A value replaced while it is read raises
        Error(FAILED_PRECONDITION) instead of mixing two values."""
        return _stream.open_value(self, _key(key))

    # ---- closing --------------------------------------------------------

    def close(self):
        """Close the socket (a call in progress fails CANCELLED); calling
        it again does nothing."""
        if self._closed:
            return
        self._closed = True
        if self._members is not None:
            for m in self._members:
                m.close()
            return
        _open_clients.discard(self)
        # nng 1.5.2 can hang in nng_close (client/src/client.c): a thread.
        t = threading.Thread(target=_nng.lib.nng_close, args=(self._sock,), daemon=True)
        t.start()
        t.join(_CLOSE_WAIT)
        if t.is_alive():
            _leaked.append((self._pipe_cb, self._tls))
        elif self._tls:
            _nng.tls_free(self._tls)
        self._tls = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if not getattr(self, "_closed", True) and hasattr(self, "_sock"):
            self.close()

    def __repr__(self):
        return "<cachewire.Client %s%s>" % (self.url, " closed" if self._closed else "")


@atexit.register
def _close_all():
    """Close what is still open before the interpreter goes away (nng's
    threads call back into Python for connection events)."""
    for c in list(_open_clients):
        c.close()
