"""test_grpc_node.py - cachewired's gRPC transport through Node's
@grpc/grpc-js, with the .proto loaded at run time by @grpc/proto-loader
(tests/node: pinned by its lockfile, installed into the build tree by
tests/node/install.sh). Each call is made by a small Node process
(tests/node/steps.js) that this module drives line by line, so the shared
cases are read by one reader (test_conformance.py) for every client.

- the shared conformance cases over h2c and over TLS;
- mutual TLS: refused without a client certificate, served with one;
- tokens and tenants: UNAUTHENTICATED, PERMISSION_DENIED;
- a deadline passing while Redis is stalled: DEADLINE_EXCEEDED;
- a message over the limit: RESOURCE_EXHAUSTED;
- the health check: SERVING, then NOT_SERVING once Redis is stopped;
- a key written over gRPC is read over nng, and the other way round.
"""

import base64
import json
import os
import signal
import subprocess
import tempfile
import unittest

import harness  # first: puts the built package on sys.path
from harness import Servers, make_certs, wait_for

import cachewire
from test_conformance import CASES, daemon_env, load, run_step
from cachewire._expiry import expiry_fields

NODE_DIR = os.path.join(os.path.dirname(harness.PYTHON_BUILD), "node")
STEPS = os.path.join(harness.SOURCE_DIR, "tests", "node", "steps.js")
MiB = 1 << 20


def b64(b):
    return base64.b64encode(b).decode()


class NodeCache:
    """The conformance runner's client API through one steps.js process;
    a failed call raises cachewire.Error with grpc-js's code and
    details."""

    def __init__(self, address, tls_dir=None, cert=None, metadata=None):
        argv = ["node", STEPS, harness.SOURCE_DIR, address]
        if tls_dir:
            argv.append(os.path.join(tls_dir, "ca.crt"))
            if cert:
                argv += [os.path.join(tls_dir, cert + ".crt"),
                         os.path.join(tls_dir, cert + ".key")]
        env = dict(os.environ, NODE_PATH=os.path.join(NODE_DIR, "node_modules"),
                   CW_GRPC_METADATA=json.dumps(metadata or {}))
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env, text=True)

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, request=None, timeout_ms=10000, service="cache"):
        self.p.stdin.write(json.dumps({"method": method, "request": request or {},
                                       "timeout_ms": timeout_ms,
                                       "service": service}) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("steps.js exited %s" % self.p.wait(5))
        r = json.loads(line)
        if not r["ok"]:
            raise cachewire.Error(r["code"], r["details"])
        return r["response"]

    @staticmethod
    def entry(key, value, expires=None):
        e = {"key": b64(key), "value": b64(value)}
        e.update({k: str(v) for k, v in expiry_fields(expires).items()})
        return e

    def set(self, key, value, expires=None):
        self.call("Set", self.entry(key, value, expires))

    def get(self, key):
        r = self.call("Get", {"key": b64(key)})
        return base64.b64decode(r["value"]) if r["found"] else None

    def delete(self, key):
        return self.call("Delete", {"key": b64(key)})["existed"]

    def clear(self):
        return int(self.call("Clear")["removed"])

    def get_many(self, keys):
        r = self.call("GetMany", {"keys": [b64(k) for k in keys]})
        return [base64.b64decode(x["value"]) if x["found"] else None
                for x in r["results"]]

    def set_many(self, items):
        self.call("SetMany", {"entries": [self.entry(*i) for i in items]})

    def delete_many(self, keys):
        return list(self.call("DeleteMany",
                              {"keys": [b64(k) for k in keys]})["existed"])

    def ping(self):
        return self.call("Ping")["version"]

    def health(self, service=""):
        return self.call("Check", {"service": service}, service="health")["status"]


def status_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
        return "OK"
    except cachewire.Error as e:
        return e.status


class NodeSharedCases(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.settings, cls.cases = load(CASES)
        cls.tmp = make_certs(tempfile.mkdtemp(prefix="cw-test-node-"))
        cls.servers = Servers(env=daemon_env(cls.settings), grpc=True,
                              tls_dir=cls.tmp).start()

    @classmethod
    def tearDownClass(cls):
        status = cls.servers.stop()
        if status != 0:
            raise AssertionError("cachewired exited %s on SIGTERM" % status)

    def run_cases(self, c, what):
        with c:
            for name, steps in self.cases:
                with self.subTest(case=name):
                    c.clear()
                    for s in steps:
                        try:
                            why = run_step(c, s)
                        except Exception as e:
                            why = "%s: %s" % (type(e).__name__, e)
                        if why is not None:
                            self.fail("node %s: case %s (%s:%d): %s"
                                      % (what, name, CASES, s.line, why))
        print("node grpc-js %s: %d shared cases" % (what, len(self.cases)))

    def test_h2c(self):
        self.run_cases(NodeCache(self.servers.grpc_addr), "h2c")

    def test_tls(self):
        self.run_cases(NodeCache(self.servers.grpc_tls_addr, self.tmp), "tls")


class NodeBehaviour(unittest.TestCase):

    def test_limits_cross_transport_deadline_and_health(self):
        with Servers(grpc=True, env={
                "CACHEWIRE_SERVER_MAX_MESSAGE_BYTES": "1MiB",
                "CACHEWIRE_CACHE_MAX_VALUE_BYTES": "512KiB"}) as s, \
                NodeCache(s.grpc_addr) as c, \
                cachewire.Client(s.tcp_url, timeout=5.0) as nng:
            self.assertEqual(status_of(c.set, b"big", b"x" * (2 * MiB)),
                             "RESOURCE_EXHAUSTED")
            c.set(b"from-node", b"\x00node")
            self.assertEqual(nng.get(b"from-node"), b"\x00node")
            nng.set(b"from-nng", b"nng\xff")
            self.assertEqual(c.get(b"from-nng"), b"nng\xff")
            self.assertEqual(c.health(), "SERVING")
            s.redis.send_signal(signal.SIGSTOP)
            try:
                self.assertEqual(status_of(c.call, "Get", {"key": b64(b"k")},
                                           timeout_ms=500),
                                 "DEADLINE_EXCEEDED")
            finally:
                s.redis.send_signal(signal.SIGCONT)
            s.stop_redis()
            self.assertTrue(wait_for(lambda: c.health() == "NOT_SERVING", 10, 0.1))
            self.assertEqual(status_of(c.get, b"k"), "UNAVAILABLE")

    def test_tokens_and_tenants(self):
        d = tempfile.mkdtemp(prefix="cw-test-node-tokens-")
        tokens = os.path.join(d, "tokens.yaml")
        with open(tokens, "w") as f:
            f.write("- token: node-token-a-0123456789abcdef\n"
                    "  namespaces: [tenant-a]\n")
        with Servers(grpc=True, env={"CACHEWIRE_AUTH_TOKENS_FILE": tokens}) as s:
            with NodeCache(s.grpc_addr) as none:
                self.assertEqual(status_of(none.get, b"k"), "UNAUTHENTICATED")
                self.assertEqual(none.health(), "SERVING")
            bearer = {"authorization": "Bearer node-token-a-0123456789abcdef"}
            with NodeCache(s.grpc_addr, metadata=bearer) as a:
                a.set(b"k", b"v")
                self.assertEqual(a.get(b"k"), b"v")
            with NodeCache(s.grpc_addr, metadata=dict(
                    bearer, **{"cachewire-namespace": "other"})) as other:
                self.assertEqual(status_of(other.get, b"k"), "PERMISSION_DENIED")

    def test_mutual_tls(self):
        tmp = make_certs(tempfile.mkdtemp(prefix="cw-test-node-mtls-"))
        with Servers(grpc=True, tls_dir=tmp, client_ca=True) as s:
            with NodeCache(s.grpc_tls_addr, tmp, "client") as good:
                self.assertTrue(good.ping())
            with NodeCache(s.grpc_tls_addr, tmp) as anonymous:
                self.assertEqual(status_of(anonymous.ping), "UNAVAILABLE")
            with NodeCache(s.grpc_tls_addr, tmp, "rogue-client") as rogue:
                self.assertEqual(status_of(rogue.ping), "UNAVAILABLE")


if __name__ == "__main__":
    unittest.main()
