"""test_grpc.py - cachewired's gRPC transport through a gRPC client no one
here wrote: Debian's python3-grpcio, with stubs generated now, from
proto/ alone, by Debian's protoc and grpc_python_plugin (and the standard
grpc.health.v1 stubs from the published health.proto). Nothing of
cachewire's own client is used on the gRPC side.

- the shared conformance cases (tests/conformance/cases.txt) over h2c
  and over TLS (ALPN h2);
- mutual TLS: a client without a certificate, or with one of another CA,
  is refused; one with a good certificate is served;
- tokens and tenants: UNAUTHENTICATED, PERMISSION_DENIED, namespaces;
- a deadline passing while Redis is stalled (SIGSTOP): DEADLINE_EXCEEDED;
- a message over server.max_message_bytes: RESOURCE_EXHAUSTED;
- an unknown method: UNIMPLEMENTED; a compressed message: UNIMPLEMENTED;
- grpc.health.v1.Health/Check: SERVING, then NOT_SERVING once Redis is
  stopped; without a token even when tokens are required;
- a key written over gRPC is read over nng, and the other way round;
- /metrics counts requests by transport.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

import harness  # first: puts the built package on sys.path
from harness import Servers, make_certs, wait_for

import cachewire
from cachewire._expiry import expiry_fields
from test_conformance import CASES, daemon_env, load, run_step


def generate_stubs():
    """protoc + grpc_python_plugin on proto/ (and on the published health
    protocol) into a temporary directory. The message module of
    cache.proto is the same protoc output the built Python package holds
    as cachewire.v1.cache_pb2 (client/python/build.sh), and the generated
    stub imports it from there: one copy of the .proto's descriptors in
    the process."""
    out = tempfile.mkdtemp(prefix="cw-grpc-stubs-")
    plugin = "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"
    proto = os.path.join(harness.SOURCE_DIR, "proto")
    health = os.path.join(harness.SOURCE_DIR, "server", "health")
    subprocess.run(["protoc", "--grpc_python_out=" + out, plugin, "-I", proto,
                    os.path.join(proto, "cachewire/v1/cache.proto")], check=True)
    subprocess.run(["protoc", "--python_out=" + out, "--grpc_python_out=" + out,
                    plugin, "-I", health, os.path.join(health, "health.proto")],
                   check=True)
    sys.path.insert(0, out)
    spec = importlib.util.spec_from_file_location(
        "cache_pb2_grpc", os.path.join(out, "cachewire", "v1", "cache_pb2_grpc.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pb_grpc = generate_stubs()
from cachewire.v1 import cache_pb2 as pb  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402

MiB = 1 << 20
CALL_OPTIONS = [("grpc.max_receive_message_length", 64 * MiB),
                ("grpc.max_send_message_length", 64 * MiB)]


class GrpcCache:
    """The conformance runner's client API (get/set/delete/clear and the
    batches) over a stock grpcio stub; a failed call raises
    cachewire.Error with the gRPC status and details, so the runner
    compares statuses as it does for cachewire.Client."""

    def __init__(self, channel, timeout=10.0, metadata=()):
        self.stub = pb_grpc.CacheStub(channel)
        self.timeout = timeout
        self.metadata = tuple(metadata)

    def _call(self, method, request):
        try:
            return getattr(self.stub, method)(
                request, timeout=self.timeout, metadata=self.metadata)
        except grpc.RpcError as e:
            raise cachewire.Error(e.code().value[0], e.details() or "")

    def set(self, key, value, expires=None):
        self._call("Set", pb.SetRequest(key=key, value=value,
                                        **expiry_fields(expires)))

    def get(self, key):
        r = self._call("Get", pb.GetRequest(key=key))
        return r.value if r.found else None

    def delete(self, key):
        return self._call("Delete", pb.DeleteRequest(key=key)).existed

    def clear(self):
        return self._call("Clear", pb.ClearRequest()).removed

    def get_many(self, keys):
        r = self._call("GetMany", pb.GetManyRequest(keys=keys))
        return [x.value if x.found else None for x in r.results]

    def set_many(self, items):
        entries = [pb.SetRequest(key=i[0], value=i[1],
                                 **(expiry_fields(i[2]) if len(i) > 2 else {}))
                   for i in items]
        self._call("SetMany", pb.SetManyRequest(entries=entries))

    def delete_many(self, keys):
        return list(self._call("DeleteMany",
                               pb.DeleteManyRequest(keys=keys)).existed)

    def ping(self):
        return self._call("Ping", pb.PingRequest()).version


def tls_channel(servers, cert=None, key=None, ca="ca.crt"):
    d = servers.tls_dir

    def read(name):
        with open(os.path.join(d, name), "rb") as f:
            return f.read()
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(ca),
        private_key=read(key) if key else None,
        certificate_chain=read(cert) if cert else None)
    return grpc.secure_channel(servers.grpc_tls_addr, creds,
                               options=CALL_OPTIONS)


def code_of(fn, *args, **kw):
    """The grpc.StatusCode a call ends with (OK when it succeeds)."""
    try:
        fn(*args, **kw)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details() or ""


class SharedCasesOverGrpc(unittest.TestCase):
    """Every case of the shared file through grpcio, over h2c and TLS."""

    @classmethod
    def setUpClass(cls):
        cls.settings, cls.cases = load(CASES)
        cls.tmp = tempfile.mkdtemp(prefix="cw-test-grpc-")
        cls.servers = Servers(env=daemon_env(cls.settings), grpc=True,
                              tls_dir=make_certs(cls.tmp)).start()

    @classmethod
    def tearDownClass(cls):
        status = cls.servers.stop()
        if status != 0:
            raise AssertionError("cachewired exited %s on SIGTERM" % status)

    def run_cases(self, channel, what):
        with channel:
            c = GrpcCache(channel)
            for name, steps in self.cases:
                with self.subTest(case=name):
                    c.clear()
                    for s in steps:
                        try:
                            why = run_step(c, s)
                        except Exception as e:  # the client broke: say where
                            why = "%s: %s" % (type(e).__name__, e)
                        if why is not None:
                            self.fail("%s: case %s (%s:%d): %s"
                                      % (what, name, CASES, s.line, why))
        print("grpc %s: %d shared cases, %d steps" % (
            what, len(self.cases), sum(len(st) for _, st in self.cases)))

    def test_h2c(self):
        self.run_cases(grpc.insecure_channel(self.servers.grpc_addr,
                                             options=CALL_OPTIONS), "h2c")

    def test_tls(self):
        self.run_cases(tls_channel(self.servers), "tls")


class GrpcBehaviour(unittest.TestCase):
    """One daemon (h2c and TLS, small message limit) for the rest."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cw-test-grpc-")
        cls.servers = Servers(grpc=True, tls_dir=make_certs(cls.tmp), env={
            "CACHEWIRE_SERVER_MAX_MESSAGE_BYTES": "1MiB",
            "CACHEWIRE_CACHE_MAX_VALUE_BYTES": "512KiB",
        }).start()
        cls.channel = grpc.insecure_channel(cls.servers.grpc_addr,
                                            options=CALL_OPTIONS)
        cls.c = GrpcCache(cls.channel, timeout=5.0)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        status = cls.servers.stop()
        if status != 0:
            raise AssertionError("cachewired exited %s on SIGTERM" % status)

    def test_grpc_and_nng_see_the_same_keys(self):
        nng = cachewire.Client(self.servers.tcp_url, timeout=5.0)
        try:
            self.c.set(b"cross:from-grpc", b"\x00grpc\xff")
            self.assertEqual(nng.get(b"cross:from-grpc"), b"\x00grpc\xff")
            nng.set(b"cross:from-nng", b"nng\x00")
            self.assertEqual(self.c.get(b"cross:from-nng"), b"nng\x00")
            self.assertTrue(self.c.delete(b"cross:from-nng"))
            self.assertIsNone(nng.get(b"cross:from-nng"))
        finally:
            nng.close()

    def test_oversized_message_is_resource_exhausted(self):
        code, details = code_of(self.c.stub.Set, pb.SetRequest(
            key=b"big", value=b"x" * (2 * MiB)), timeout=5)
        self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
        self.assertIn("server.max_message_bytes", details)
        # under the message limit but over cache.max_value_bytes
        code, details = code_of(self.c.stub.Set, pb.SetRequest(
            key=b"big", value=b"x" * (600 * 1024)), timeout=5)
        self.assertIn(code, (grpc.StatusCode.RESOURCE_EXHAUSTED,
                             grpc.StatusCode.INVALID_ARGUMENT), details)
        self.assertIsNone(self.c.get(b"big"))
        self.assertTrue(self.c.ping())  # still serving

    def test_a_large_value_in_chunks(self):
        """BeginUpload, PutChunk, CommitUpload and GetRange from a stock
        gRPC stub: a value of several chunks, over both message limits,
        round trips; Get says to read it with GetRange."""
        stub = self.c.stub
        value = os.urandom(2 * MiB + 12345)
        up = stub.BeginUpload(pb.BeginUploadRequest(
            key=b"grpc-big", ttl_ms=60000, total_size=len(value)), timeout=5)
        self.assertGreater(up.chunk_bytes, 0)
        self.assertLess(up.chunk_bytes, MiB)  # cut to the message limit
        # chunks in reverse order: each lands at its offset
        offsets = list(range(0, len(value), up.chunk_bytes))
        for off in reversed(offsets):
            stub.PutChunk(pb.PutChunkRequest(
                upload_id=up.upload_id, offset=off,
                data=value[off:off + up.chunk_bytes]), timeout=5)
        code, details = code_of(stub.PutChunk, pb.PutChunkRequest(
            upload_id=up.upload_id, offset=3, data=b"x"), timeout=5)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT, details)
        done = stub.CommitUpload(pb.CommitUploadRequest(
            upload_id=up.upload_id, total_size=len(value)), timeout=5)
        self.assertNotEqual(done.version, 0)
        back, at = b"", 0
        while True:
            r = stub.GetRange(pb.GetRangeRequest(
                key=b"grpc-big", offset=at, length=len(value),
                version=done.version), timeout=5)
            self.assertTrue(r.found)
            self.assertEqual(r.total_size, len(value))
            self.assertEqual(r.version, done.version)
            back += r.data
            at += len(r.data)
            if at >= r.total_size:
                break
        self.assertEqual(back, value)
        code, details = code_of(stub.Get, pb.GetRequest(key=b"grpc-big"),
                                timeout=5)
        self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
        self.assertIn("GetRange", details)
        code, details = code_of(stub.CommitUpload, pb.CommitUploadRequest(
            upload_id=up.upload_id, total_size=len(value)), timeout=5)
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND, details)
        self.assertTrue(self.c.delete(b"grpc-big"))

    def test_unknown_method_is_unimplemented(self):
        call = self.channel.unary_unary("/cachewire.v1.Cache/Frobnicate")
        code, details = code_of(call, b"", timeout=5)
        self.assertEqual(code, grpc.StatusCode.UNIMPLEMENTED)
        self.assertIn("Frobnicate", details)
        call = self.channel.unary_unary("/other.Service/Get")
        self.assertEqual(code_of(call, b"", timeout=5)[0],
                         grpc.StatusCode.UNIMPLEMENTED)

    def test_undecodable_request_is_invalid_argument(self):
        call = self.channel.unary_unary("/cachewire.v1.Cache/Get")
        code, details = code_of(call, b"\xff\xff\xff", timeout=5)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT, details)

    def test_compressed_message_with_unknown_encoding(self):
        # grpcio compresses with gzip when asked; we serve identity only
        code, details = code_of(self.c.stub.Get, pb.GetRequest(key=b"k" * 200),
                                timeout=5, compression=grpc.Compression.Gzip)
        self.assertEqual(code, grpc.StatusCode.UNIMPLEMENTED, details)
        self.assertIn("gzip", details)

    def test_errors_carry_status_and_message(self):
        code, details = code_of(self.c.stub.Get, pb.GetRequest(key=b""),
                                timeout=5)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("key is empty", details)

    def test_mutual_tls_is_not_asked_here_but_tls_works(self):
        with tls_channel(self.servers) as ch:
            self.assertTrue(GrpcCache(ch).ping())

    def test_health_check(self):
        h = health_pb2_grpc.HealthStub(self.channel)
        r = h.Check(health_pb2.HealthCheckRequest(), timeout=5)
        self.assertEqual(r.status, health_pb2.HealthCheckResponse.SERVING)
        r = h.Check(health_pb2.HealthCheckRequest(service="cachewire.v1.Cache"),
                    timeout=5)
        self.assertEqual(r.status, health_pb2.HealthCheckResponse.SERVING)
        code, _ = code_of(h.Check, health_pb2.HealthCheckRequest(
            service="no.such.Service"), timeout=5)
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)

    def test_metrics_count_by_transport(self):
        self.c.ping()
        m = self.servers.metrics()
        self.assertRegex(m, r'cachewire_transport_requests_total\{transport="grpc"\} [1-9]')
        self.assertRegex(m, r'cachewire_transport_requests_total\{transport="nng"\} \d')


class GrpcRedisTrouble(unittest.TestCase):
    """A daemon whose Redis is stalled, then stopped."""

    def test_deadline_then_not_serving(self):
        with Servers(grpc=True) as s, grpc.insecure_channel(s.grpc_addr) as ch:
            c = GrpcCache(ch)
            c.set(b"k", b"v")
            s.redis.send_signal(signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                code, details = code_of(c.stub.Get, pb.GetRequest(key=b"k"),
                                        timeout=0.5)
                took = time.monotonic() - t0
                self.assertEqual(code, grpc.StatusCode.DEADLINE_EXCEEDED, details)
                self.assertLess(took, 5.0)  # bounded: not Redis's timeout
            finally:
                s.redis.send_signal(signal.SIGCONT)
            self.assertEqual(c.get(b"k"), b"v")
            s.stop_redis()
            h = health_pb2_grpc.HealthStub(ch)
            not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
            self.assertTrue(wait_for(lambda: h.Check(
                health_pb2.HealthCheckRequest(), timeout=5).status == not_serving,
                10, 0.1), "health never said NOT_SERVING with Redis stopped")
            code, details = code_of(c.stub.Get, pb.GetRequest(key=b"k"), timeout=5)
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE, details)


class GrpcStopAndReload(unittest.TestCase):
    """SIGTERM drains gRPC as it drains nng; SIGHUP's limits and tokens
    apply to gRPC calls."""

    def test_sigterm_answers_calls_in_flight_then_exits_0(self):
        with Servers(grpc=True) as s:
            ch = grpc.insecure_channel(s.grpc_addr)
            c = GrpcCache(ch)
            c.set(b"k", b"v")
            s.redis.send_signal(signal.SIGSTOP)  # hold the next call
            try:
                pending = c.stub.Get.future(pb.GetRequest(key=b"k"), timeout=15)
                time.sleep(0.3)
                s.daemon.send_signal(signal.SIGTERM)
                # stopping: a new call is refused (listener closed, or
                # UNAVAILABLE from the draining server), not served
                self.assertTrue(wait_for(lambda: "stopping on SIGTERM" in s.log(), 10))
                with grpc.insecure_channel(s.grpc_addr) as fresh:
                    code, details = code_of(GrpcCache(fresh).stub.Ping,
                                            pb.PingRequest(), timeout=10)
                self.assertEqual(code, grpc.StatusCode.UNAVAILABLE, details)
                time.sleep(0.3)
            finally:
                s.redis.send_signal(signal.SIGCONT)
            r = pending.result(timeout=15)  # the call in flight is answered
            self.assertTrue(r.found)
            self.assertEqual(r.value, b"v")
            self.assertEqual(s.daemon.wait(30), 0)
            ch.close()

    def test_sighup_limits_and_tokens_apply_to_grpc(self):
        d = tempfile.mkdtemp(prefix="cw-test-grpc-hup-")
        tokens, conf = os.path.join(d, "tokens.yaml"), os.path.join(d, "c.yaml")
        with open(tokens, "w") as f:
            f.write("- token: first-token-0123456789abcdef\n  namespaces: [a]\n")
        with open(conf, "w") as f:
            f.write("server:\n  max_message_bytes: 4MiB\n"
                    "cache:\n  max_value_bytes: 2MiB\n")
        with Servers(grpc=True, env={"CACHEWIRE_AUTH_TOKENS_FILE": tokens,
                                     "CACHEWIRE_CONFIG": conf}) as s, \
                grpc.insecure_channel(s.grpc_addr, options=CALL_OPTIONS) as ch:
            first = GrpcCache(ch, metadata=[
                ("authorization", "Bearer first-token-0123456789abcdef")])
            second = GrpcCache(ch, metadata=[
                ("authorization", "Bearer second-token-0123456789abcde")])
            first.set(b"k", b"x" * 1500000)  # under the limits
            self.assertEqual(code_of(second.stub.Ping, pb.PingRequest(),
                                     metadata=second.metadata, timeout=5)[0],
                             grpc.StatusCode.UNAUTHENTICATED)
            with open(tokens, "w") as f:
                f.write("- token: second-token-0123456789abcde\n"
                        "  namespaces: [a]\n")
            with open(conf, "w") as f:
                f.write("server:\n  max_message_bytes: 1MiB\n"
                        "cache:\n  max_value_bytes: 512KiB\n")
            s.daemon.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "SIGHUP: configuration reloaded"
                                     in s.log(), 5), s.log())
            self.assertTrue(second.ping())
            self.assertEqual(status_of(first.ping), "UNAUTHENTICATED")
            code, details = code_of(second.stub.Set, pb.SetRequest(
                key=b"k", value=b"x" * 1500000), metadata=second.metadata,
                timeout=5)
            self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
            self.assertIn("server.max_message_bytes", details)


def status_of(fn, *args):
    try:
        fn(*args)
        return "OK"
    except cachewire.Error as e:
        return e.status


TOKEN_A = "grpc-token-of-tenant-a-0123456789"
TOKEN_AS = "grpc-token-a-and-shared-01234567"


class GrpcTokensAndTenants(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cw-test-grpc-tokens-")
        tokens = os.path.join(cls.dir, "tokens.yaml")
        with open(tokens, "w") as f:
            f.write("- token: %s\n  namespaces: [tenant-a]\n"
                    "- token: %s\n  namespaces: [tenant-a, shared]\n"
                    % (TOKEN_A, TOKEN_AS))
        cls.servers = Servers(grpc=True, env={
            "CACHEWIRE_AUTH_TOKENS_FILE": tokens}).start()
        cls.channel = grpc.insecure_channel(cls.servers.grpc_addr)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.servers.stop()

    def client(self, token=None, namespace=None):
        md = []
        if token is not None:
            md.append(("authorization", "Bearer " + token))
        if namespace is not None:
            md.append(("cachewire-namespace", namespace))
        return GrpcCache(self.channel, timeout=5.0, metadata=md)

    def status(self, fn, *args):
        try:
            fn(*args)
            return "OK"
        except cachewire.Error as e:
            return e.status

    def test_missing_bad_or_unknown_token(self):
        self.assertEqual(self.status(self.client().get, b"k"), "UNAUTHENTICATED")
        self.assertEqual(self.status(self.client("nope").get, b"k"),
                         "UNAUTHENTICATED")
        bad = GrpcCache(self.channel, metadata=[("authorization", "Basic eDp5")])
        self.assertEqual(self.status(bad.get, b"k"), "UNAUTHENTICATED")

    def test_tenants(self):
        a = self.client(TOKEN_A)
        a.set(b"t:k", b"a's")
        self.assertEqual(self.status(self.client(TOKEN_A, "shared").get, b"t:k"),
                         "PERMISSION_DENIED")
        shared = self.client(TOKEN_AS, "shared")
        self.assertIsNone(shared.get(b"t:k"))  # another namespace
        shared.set(b"t:k", b"shared's")
        self.assertEqual(self.client(TOKEN_AS).get(b"t:k"), b"a's")
        self.assertEqual(shared.get(b"t:k"), b"shared's")

    def test_health_needs_no_token(self):
        h = health_pb2_grpc.HealthStub(self.channel)
        r = h.Check(health_pb2.HealthCheckRequest(), timeout=5)
        self.assertEqual(r.status, health_pb2.HealthCheckResponse.SERVING)


class GrpcMutualTls(unittest.TestCase):

    def test_client_certificate_required(self):
        tmp = make_certs(tempfile.mkdtemp(prefix="cw-test-grpc-mtls-"))
        with Servers(grpc=True, tls_dir=tmp, client_ca=True) as s:
            with tls_channel(s, "client.crt", "client.key") as ch:
                self.assertTrue(GrpcCache(ch).ping())
            for cert in (None, "rogue-client"):
                with tls_channel(s, cert and cert + ".crt",
                                 cert and cert + ".key") as ch:
                    code, _ = code_of(GrpcCache(ch).stub.Ping,
                                      pb.PingRequest(), timeout=5)
                    self.assertEqual(code, grpc.StatusCode.UNAVAILABLE, cert)
            # and it still serves the good client afterwards
            with tls_channel(s, "client.crt", "client.key") as ch:
                self.assertTrue(GrpcCache(ch).ping())


if __name__ == "__main__":
    unittest.main()
