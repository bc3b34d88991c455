"""_nng.py - the few functions of the system's libnng (1.5.2) that a REQ
client needs, through ctypes: no compiled extension.

nng's handles (nng_socket, nng_dialer, nng_pipe) are structs holding one
uint32 id, passed by value; ctypes passes them as Structures.
ctypes releases the GIL around every call, so a thread blocked in
nng_recv does not stop the others.
"""

import ctypes
import ctypes.util

FLAG_ALLOC = 1  # NNG_FLAG_ALLOC: nng_recv allocates, free with nng_free
FLAG_NONBLOCK = 2  # NNG_FLAG_NONBLOCK: nng_dial connects in the background

# Option names (nng.h, protocol/reqrep0/req.h)
OPT_RECVTIMEO = b"recv-timeout"
OPT_SENDTIMEO = b"send-timeout"
OPT_RECVMAXSZ = b"recv-size-max"
OPT_RECONNMINT = b"reconnect-time-min"
OPT_RECONNMAXT = b"reconnect-time-max"
OPT_REQ_RESENDTIME = b"req:resend-time"
OPT_TLS_CONFIG = b"tls-config"
DURATION_INFINITE = -1

# Error numbers (enum nng_errno_enum) the client tells apart
ENOMEM, EINVAL, ETIMEDOUT, ECONNREFUSED, ECLOSED = 2, 3, 5, 6, 7
ENOENT, ECONNRESET, ECRYPTO, EPEERAUTH, ECONNSHUT = 12, 19, 26, 27, 31

# nng_pipe_ev
PIPE_EV_ADD_PRE, PIPE_EV_REM_POST = 0, 2

# nng_tls_mode / nng_tls_auth_mode
TLS_MODE_CLIENT = 0
TLS_AUTH_MODE_REQUIRED = 2


class Handle(ctypes.Structure):
    """nng_socket / nng_dialer / nng_pipe: struct { uint32_t id; }."""

    _fields_ = [("id", ctypes.c_uint32)]


# nng_pipe_cb(nng_pipe, nng_pipe_ev, void *): the pipe as its uint32 id
# (a one-uint32 struct is passed exactly like a uint32 by the C ABI)
PIPE_CB = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_int, ctypes.c_void_p)


def _load():
    name = ctypes.util.find_library("nng") or "libnng.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        lib = ctypes.CDLL("libnng.so.1")
    H, P, I, S = Handle, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    sz, szp = ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)
    protos = {
        "nng_req0_open": (I, [ctypes.POINTER(H)]),
        "nng_close": (I, [H]),
        "nng_socket_set_ms": (I, [H, S, ctypes.c_int32]),
        "nng_socket_set_size": (I, [H, S, sz]),
        "nng_pipe_notify": (I, [H, I, PIPE_CB, P]),
        "nng_dialer_create": (I, [ctypes.POINTER(H), H, S]),
        "nng_dialer_set_ptr": (I, [H, S, P]),
        "nng_dialer_start": (I, [H, I]),
        "nng_send": (I, [H, P, sz, I]),
        "nng_recv": (I, [H, P, szp, I]),
        "nng_free": (None, [P, sz]),
        "nng_strerror": (S, [I]),
        "nng_tls_config_alloc": (I, [ctypes.POINTER(P), I]),
        "nng_tls_config_free": (None, [P]),
        "nng_tls_config_ca_file": (I, [P, S]),
        "nng_tls_config_own_cert": (I, [P, S, S, S]),
        "nng_tls_config_server_name": (I, [P, S]),
        "nng_tls_config_auth_mode": (I, [P, I]),
    }
    for fn, (restype, argtypes) in protos.items():
        f = getattr(lib, fn)
        f.restype, f.argtypes = restype, argtypes
    return lib


lib = _load()


class NngError(Exception):
    """A failed nng call: .rv is nng's error number."""

    def __init__(self, rv, what):
        self.rv = rv
        super().__init__("%s: %s" % (what, strerror(rv)))


def strerror(rv):
    return lib.nng_strerror(rv).decode("utf-8", "replace")


def check(rv, what):
    if rv != 0:
        raise NngError(rv, what)


def send(sock, data):
    """nng_send a copy of data (bytes) on sock; blocks up to send-timeout."""
    buf = ctypes.create_string_buffer(data, len(data))
    check(lib.nng_send(sock, buf, len(data), 0), "send")


def recv(sock):
    """nng_recv one message (NNG_FLAG_ALLOC) from sock, as bytes."""
    ptr, size = ctypes.c_void_p(), ctypes.c_size_t()
    check(lib.nng_recv(sock, ctypes.byref(ptr), ctypes.byref(size), FLAG_ALLOC), "recv")
    try:
        return ctypes.string_at(ptr, size.value)
    finally:
        lib.nng_free(ptr, size)


def tls_config(ca_file, cert_file=None, key_file=None, server_name=None):
    """A client nng_tls_config (the caller frees it with tls_free): trusts
    ca_file, presents cert_file/key_file (PEM) when given, and expects
    server_name. Files are read here so that errors can name them."""
    cfg = ctypes.c_void_p()
    check(lib.nng_tls_config_alloc(ctypes.byref(cfg), TLS_MODE_CLIENT), "TLS config")
    try:
        check(lib.nng_tls_config_auth_mode(cfg, TLS_AUTH_MODE_REQUIRED), "TLS auth mode")
        check(lib.nng_tls_config_ca_file(cfg, ca_file.encode()), "TLS ca_file %s" % ca_file)
        if cert_file:
            with open(cert_file, "rb") as f:
                cert = f.read()
            with open(key_file or cert_file, "rb") as f:
                key = f.read()
            check(lib.nng_tls_config_own_cert(cfg, cert, key, None),
                  "TLS cert_file %s / key_file %s" % (cert_file, key_file or cert_file))
        if server_name:
            check(lib.nng_tls_config_server_name(cfg, server_name.encode()),
                  "TLS server_name %s" % server_name)
    except BaseException:
        lib.nng_tls_config_free(cfg)
        raise
    return cfg


def tls_free(cfg):
    lib.nng_tls_config_free(cfg)
