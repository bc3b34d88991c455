"""test_grpc_hostile.py - hostile input on cachewired's gRPC port, sent
with raw sockets and with Debian's python3-h2 (an HTTP/2 implementation
no one here wrote), so that frames a gRPC library would never send can be
sent. Each case is answered (a gRPC status) or its connection closed, and
the daemon goes on serving; it exits 0 on SIGTERM at the end.

- an HTTP/1.1 request, random bytes, a truncated HTTP/2 preface, many idle
  connections;
- over HTTP/2: a body whose gRPC length prefix claims more than comes, a
  second message on a unary call, a compressed flag without an encoding,
  a prefix over the message limit (refused before the bytes arrive), no
  body at all, a GET, a wrong content-type, a bad grpc-timeout, an
  unknown method, a stream reset by the client mid-call.
"""

import os
import socket
import struct
import time
import unittest

import h2.config
import h2.connection
import h2.events

import harness  # first: puts the built package on sys.path
from harness import Servers, wait_for

import cachewire

GET_K = b"\x0a\x01k"  # GetRequest{key: "k"}


def prefixed(msg, flag=0, claim=None):
    """A gRPC length-prefixed message (claim: the length it says)."""
    return struct.pack(">BI", flag, len(msg) if claim is None else claim) + msg


class H2:
    """One HTTP/2 connection to the daemon, driven by python3-h2."""

    def __init__(self, addr):
        host, port = addr.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.results = {}  # stream id -> what status() returns
        self.headers = {}
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()

    def flush(self):
        self.sock.sendall(self.conn.data_to_send())

    def call(self, path="/cachewire.v1.Cache/Get", body=prefixed(GET_K), headers=(),
             method="POST", content_type="application/grpc", end=True):
        """Start a call on a new stream; its id."""
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", "http"), (":path", path),
                (":authority", "cachewired"), ("te", "trailers")]
        if content_type is not None:
            hdrs.append(("content-type", content_type))
        hdrs += list(headers)
        self.conn.send_headers(sid, hdrs, end_stream=body is None and end)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=end)
        self.flush()
        return sid

    def status(self, sid, seconds=5):
        """The call's (grpc-status, grpc-message), or ("reset", code), or
        ("closed", None) when the connection ends first."""
        deadline = time.monotonic() + seconds
        while sid not in self.results and time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                return ("closed", None)
            for ev in self.conn.receive_data(data):
                i = getattr(ev, "stream_id", None)
                if isinstance(ev, (h2.events.ResponseReceived,
                                   h2.events.TrailersReceived)):
                    h = self.headers.setdefault(i, {})
                    h.update(dict(ev.headers))
                    if "grpc-status" in h:
                        self.results[i] = (int(h["grpc-status"]),
                                           h.get("grpc-message", ""))
                elif isinstance(ev, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(
                        ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    self.results.setdefault(i, ("reset", ev.error_code))
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    return self.results.get(sid, ("closed", ev.error_code))
            self.flush()
        if sid in self.results:
            return self.results[sid]
        raise AssertionError("no answer on stream %d in %ss" % (sid, seconds))

    def close(self):
        self.sock.close()


def closed_by_peer(sock, seconds):
    """True when the peer closes sock (EOF or reset) within seconds."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


class HostileGrpc(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.servers = Servers(grpc=True, env={
            "CACHEWIRE_SERVER_MAX_MESSAGE_BYTES": "128KiB",
            "CACHEWIRE_CACHE_MAX_VALUE_BYTES": "16KiB",
            "CACHEWIRE_CACHE_MAX_KEY_BYTES": "1KiB",
        }).start()
        host, port = cls.servers.grpc_addr.split(":")
        cls.hostport = (host, int(port))

    @classmethod
    def tearDownClass(cls):
        status = cls.servers.stop()
        if status != 0:
            raise AssertionError("cachewired exited %s on SIGTERM; log:\n%s"
                                 % (status, cls.servers.log()))

    def assert_serving(self):
        c = H2(self.servers.grpc_addr)
        try:
            self.assertEqual(c.status(c.call(path="/cachewire.v1.Cache/Ping",
                                             body=prefixed(b"")))[0], 0)
        finally:
            c.close()

    def raw(self, data):
        s = socket.create_connection(self.hostport, timeout=5)
        if data:
            s.sendall(data)
        return s

    # ---- below HTTP/2 ------------------------------------------------

    def test_http1_request_is_closed(self):
        s = self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(closed_by_peer(s, 5))
        s.close()
        self.assert_serving()

    def test_random_bytes_are_closed(self):
        s = self.raw(os.urandom(64 * 1024))
        self.assertTrue(closed_by_peer(s, 5))
        s.close()
        self.assert_serving()

    def test_truncated_preface_and_idle_connections(self):
        # 200 connections that never finish setting up: one with half a
        # preface, the rest silent. Served meanwhile; closed in time.
        half = self.raw(b"PRI * HTTP/2.0\r\n")
        idle = [self.raw(b"") for _ in range(200)]
        self.assert_serving()
        t0 = time.monotonic()
        self.assertTrue(closed_by_peer(half, 20), "half a preface kept open")
        for s in idle:
            self.assertTrue(closed_by_peer(s, max(1.0, 20 - (time.monotonic() - t0))))
            s.close()
        half.close()
        self.assert_serving()

    # ---- HTTP/2, bad gRPC ----------------------------------------------

    def check(self, want_status, text=None, **call):
        c = H2(self.servers.grpc_addr)
        try:
            got = c.status(c.call(**call))
        finally:
            c.close()
        self.assertEqual(got[0], want_status, got)
        if text is not None:
            self.assertIn(text, got[1])
        return got

    def test_length_prefix_larger_than_body(self):
        self.check(3, "says 100 bytes, 3 came", body=prefixed(GET_K, claim=100))
        self.check(3, "not even its 5-byte length prefix", body=b"\0\0")

    def test_two_messages_on_a_unary_call(self):
        self.check(3, "more than one", body=prefixed(GET_K) + prefixed(GET_K))

    def test_compressed_flag_without_encoding(self):
        self.check(13, "compressed", body=prefixed(GET_K, flag=1))

    def test_compressed_with_unknown_encoding(self):
        self.check(12, "snappy", body=prefixed(GET_K, flag=1),
                   headers=[("grpc-encoding", "snappy")])

    def test_prefix_over_the_limit_is_refused_at_once(self):
        # says 1 GiB, sends 10 bytes and keeps the stream open: the answer
        # must come without waiting for the rest
        self.check(8, "server.max_message_bytes",
                   body=prefixed(b"x" * 10, claim=1 << 30), end=False)

    def test_no_body(self):
        self.check(3, "without a request message", body=None)

    def test_get_method_and_wrong_content_type(self):
        self.check(12, "POST", method="GET")
        self.check(3, "content-type", content_type="application/json")

    def test_bad_grpc_timeout(self):
        self.check(3, "grpc-timeout", headers=[("grpc-timeout", "soon")])

    def test_unknown_method(self):
        self.check(12, "unknown method", path="/cachewire.v1.Cache/Nope")
        # not a path at all: HTTP/2's own rules (nghttp2) reset the stream
        self.check("reset", None, path="x")
        self.check(12, "this server has only", path="/a/b")

    def test_reset_mid_call_and_after(self):
        c = H2(self.servers.grpc_addr)
        try:
            sid = c.call(end=False)
            c.conn.reset_stream(sid)
            c.flush()
            sid2 = c.call(path="/cachewire.v1.Cache/Ping", body=prefixed(b""))
            c.conn.reset_stream(sid2)  # likely after its answer was sent
            c.flush()
            self.assertEqual(c.status(c.call(path="/cachewire.v1.Cache/Ping",
                                             body=prefixed(b"")))[0], 0)
        finally:
            c.close()

    def test_many_streams_at_once(self):
        # more than SETTINGS_MAX_CONCURRENT_STREAMS are refused by HTTP/2
        # itself; the rest are answered, each with its own status
        c = H2(self.servers.grpc_addr)
        try:
            ids = [c.call(body=prefixed(GET_K)) for _ in range(100)]
            self.assertEqual({c.status(i)[0] for i in ids}, {0})
        finally:
            c.close()

    def test_nng_client_still_served(self):
        with cachewire.Client(self.servers.tcp_url, timeout=5.0) as nng:
            self.assertTrue(nng.ping())


if __name__ == "__main__":
    unittest.main()
