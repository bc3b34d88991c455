"""test_client.py - cachewire.Client against a real cachewired + redis-server
(harness.Servers): every method, keys and values, expiry (checked in Redis
itself with PTTL), errors and their codes, tokens and namespaces, TLS,
threads, closing. Run by tests/python/run.sh."""

import datetime
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import cachewire
from cachewire import Error, Status, TLS
from harness import Servers, far_time_zone, free_port, make_certs, wait_for

UTC = datetime.timezone.utc
MAX_VALUE = 2 * 1024 * 1024  # the main daemon's cache.max_value_bytes


def setUpModule():
    global _restore_tz
    _restore_tz = far_time_zone()  # naive datetimes must mean UTC


def tearDownModule():
    _restore_tz()


class WithServers(unittest.TestCase):
    """One redis-server + cachewired for the class (setUpClass)."""

    env = {}

    @classmethod
    def setUpClass(cls):
        cls.servers = Servers(env=cls.env).start()
        cls.c = cachewire.Client(cls.servers.tcp_url, timeout=5.0)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        status = cls.servers.stop()
        assert status == 0, "cachewired exited %s" % status

    def pttl(self, key, namespace="pyconf"):
        """Redis' own PTTL of key (ms; -1 no expiry, -2 missing)."""
        out = subprocess.run(
            ["redis-cli", "-s", self.servers.redis_sock, "PTTL", namespace + ":" + key],
            check=True, capture_output=True, text=True).stdout
        return int(out.strip())

    def assertCode(self, status, fn, *args, **kwargs):
        with self.assertRaises(Error) as cm:
            fn(*args, **kwargs)
        e = cm.exception
        self.assertEqual(e.code, int(status), str(e))
        self.assertEqual(e.status, status.name)
        self.assertEqual(str(e), "%s: %s" % (status.name, e.message))
        return e


class Methods(WithServers):
    env = {"CACHEWIRE_CACHE_MAX_VALUE_BYTES": str(MAX_VALUE)}

    def test_ping_gives_the_version(self):
        self.assertRegex(self.c.ping(), r"^\d+\.\d+\.\d+")

    def test_set_get_delete(self):
        self.assertIsNone(self.c.get("m:missing"))
        self.assertIsNone(self.c.set("m:k", b"v1"))
        self.assertEqual(self.c.get("m:k"), b"v1")
        self.c.set("m:k", "v2")  # str values are UTF-8
        self.assertEqual(self.c.get("m:k"), b"v2")
        self.assertTrue(self.c.delete("m:k"))
        self.assertFalse(self.c.delete("m:k"))
        self.assertIsNone(self.c.get("m:k"))

    def test_str_and_bytes_keys_are_the_same_key(self):
        self.c.set("m:ключ", b"x")
        self.assertEqual(self.c.get("m:ключ".encode()), b"x")
        self.c.set(bytearray(b"m:ba"), memoryview(b"y"))
        self.assertEqual(self.c.get("m:ba"), b"y")
        with self.assertRaises(TypeError):
            self.c.get(42)
        with self.assertRaises(TypeError):
            self.c.set("m:k", 42)

    def test_binary_keys_and_values(self):
        every_byte = bytes(range(256)) * 4
        key = b"m:\x00bin\xff\x00"
        self.c.set(key, every_byte)
        self.assertEqual(self.c.get(key), every_byte)
        self.assertIsNone(self.c.get(b"m:\x00bin\xff"))  # not a prefix match
        self.c.set("m:empty", b"")
        self.assertEqual(self.c.get("m:empty"), b"")  # found, empty: not None

    def test_a_1_mib_value(self):
        big = os.urandom(1024 * 1024)
        self.c.set("m:big", big)
        self.assertEqual(self.c.get("m:big"), big)
        self.assertEqual(self.c.get_many(["m:big", "m:none"]), [big, None])

    def test_clear_counts_and_empties_the_namespace(self):
        with cachewire.Client(self.servers.ipc_url) as c:  # ipc:// too
            c.clear()
            c.set_many([("c:%d" % i, b"x") for i in range(5)])
            self.assertEqual(c.clear(), 5)
            self.assertEqual(c.get_many(["c:%d" % i for i in range(5)]), [None] * 5)
            self.assertEqual(c.clear(), 0)

    def test_batches(self):
        self.c.set_many([("b:1", b"one"), (b"b:2", "two", 60), ("b:3", b"three", 0)],
                        expires=30)
        self.assertEqual(self.c.get_many(["b:1", "b:2", "b:nope", "b:3", "b:1"]),
                         [b"one", b"two", None, b"three", b"one"])
        self.assertTrue(25000 < self.pttl("b:1") <= 30000)  # the batch's default
        self.assertTrue(55000 < self.pttl("b:2") <= 60000)  # its own
        self.assertEqual(self.pttl("b:3"), -1)  # its own 0: never
        self.assertEqual(self.c.delete_many(["b:1", "b:nope", "b:2", "b:1"]),
                         [True, False, True, False])
        self.assertEqual(self.c.get_many([]), [])
        self.assertEqual(self.c.delete_many([]), [])
        self.assertIsNone(self.c.set_many([]))
        e = self.assertCode(Status.INVALID_ARGUMENT, self.c.get_many, ["b:ok", ""])
        self.assertIn("1", e.message)  # names the bad item's index
        with self.assertRaises(ValueError):
            self.c.set_many([("only-a-key",)])

    def test_empty_key_is_invalid_argument(self):
        e = self.assertCode(Status.INVALID_ARGUMENT, self.c.get, "")
        self.assertEqual(str(e), "INVALID_ARGUMENT: key is empty")
        self.assertCode(Status.INVALID_ARGUMENT, self.c.set, b"", b"v")
        self.assertCode(Status.INVALID_ARGUMENT, self.c.delete, "")
        self.assertCode(Status.INVALID_ARGUMENT, self.c.get, "k" * 5000)  # > max_key_bytes

    def test_too_big_value_is_resource_exhausted(self):
        e = self.assertCode(Status.RESOURCE_EXHAUSTED, self.c.set, "m:huge", b"x" * (MAX_VALUE + 1))
        self.assertTrue(e.message)
        self.assertIsNone(self.c.get("m:huge"))
        # over the client's max_message_bytes: refused locally, nothing sent
        with cachewire.Client(self.servers.tcp_url, max_message_bytes=1000) as small:
            e = self.assertCode(Status.RESOURCE_EXHAUSTED, small.set, "m:local", b"x" * 2000)
            self.assertIn("nothing was sent", e.message)
            self.assertIsNone(small.get("m:local"))

    def test_other_namespace_is_permission_denied(self):
        with cachewire.Client(self.servers.tcp_url, namespace="someone-else") as other:
            self.assertCode(Status.PERMISSION_DENIED, other.get, "k")
        with cachewire.Client(self.servers.tcp_url, namespace="pyconf") as own:
            own.set("m:ns", b"mine")
            self.assertEqual(self.c.get("m:ns"), b"mine")
        self.assertCode(Status.INVALID_ARGUMENT, cachewire.Client, self.servers.tcp_url,
                        namespace="bad namespace!")


class Expiry(WithServers):
    def test_none_and_zero_never_expire(self):
        for i, never in enumerate((None, 0, 0.0)):
            self.c.set("e:never%d" % i, b"v", expires=never)
            self.assertEqual(self.pttl("e:never%d" % i), -1, never)

    def test_float_seconds_keep_milliseconds(self):
        self.c.set("e:ms", b"v", expires=5.678)  # whole seconds: <= 5000 or 6000
        self.assertTrue(5000 < self.pttl("e:ms") <= 5678, self.pttl("e:ms"))
        self.c.set("e:int", b"v", expires=90)
        self.assertTrue(85000 < self.pttl("e:int") <= 90000)
        self.c.set("e:tiny", b"v", expires=0.0001)  # rounds up to 1 ms, not "never"
        self.assertNotEqual(self.pttl("e:tiny"), -1)

    def test_an_entry_expires(self):
        self.c.set("e:short", b"v", expires=0.3)
        self.assertEqual(self.c.get("e:short"), b"v")
        self.assertTrue(wait_for(lambda: self.c.get("e:short") is None, 3))

    def test_timedelta_is_relative(self):
        self.c.set("e:td", b"v", expires=datetime.timedelta(seconds=20))
        self.assertTrue(19000 < self.pttl("e:td") <= 20000)
        self.c.set("e:td", b"v", expires=datetime.timedelta(seconds=-1))
        self.assertIsNone(self.c.get("e:td"))

    def test_aware_datetime(self):
        tz = datetime.timezone(datetime.timedelta(hours=-7))  # not UTC, not local
        at = datetime.datetime.now(tz) + datetime.timedelta(seconds=20)
        self.c.set("e:aware", b"v", expires=at)
        self.assertTrue(18000 < self.pttl("e:aware") <= 20000, self.pttl("e:aware"))

    def test_naive_datetime_is_utc(self):
        # the process' local time is UTC+5:30 (setUpModule)
        at = datetime.datetime.utcnow() + datetime.timedelta(seconds=20)
        self.c.set("e:naive", b"v", expires=at)
        self.assertTrue(18000 < self.pttl("e:naive") <= 20000, self.pttl("e:naive"))

    def test_past_datetime_stores_nothing_and_removes_the_old_entry(self):
        for i, past in enumerate((datetime.datetime.utcnow() - datetime.timedelta(seconds=5),
                                  datetime.datetime.now(UTC) - datetime.timedelta(days=1),
                                  datetime.datetime(1960, 1, 1))):
            key = "e:past%d" % i
            self.c.set(key, b"old")
            self.assertIsNone(self.c.set(key, b"new", expires=past))  # no error
            self.assertIsNone(self.c.get(key))
            self.assertEqual(self.pttl(key), -2)

    def test_bad_expiries_are_refused_locally(self):
        for bad in (-1, -0.5, float("nan"), float("inf")):
            with self.assertRaises(ValueError, msg=repr(bad)):
                self.c.set("e:bad", b"v", expires=bad)
        for bad in ("60", True, [60]):
            with self.assertRaises(TypeError, msg=repr(bad)):
                self.c.set("e:bad", b"v", expires=bad)
        self.assertIsNone(self.c.get("e:bad"))


TOKEN_A = "py-token-of-tenant-a-0123456789"
TOKEN_AS = "py-token-a-and-shared-012345678"


class Tokens(WithServers):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cw-test-py-tokens-")
        cls.tokens = os.path.join(cls.dir, "tokens.yaml")
        with open(cls.tokens, "w") as f:
            f.write("- token: %s\n  namespaces: [tenant-a]\n"
                    "- token: %s\n  namespaces: [tenant-a, shared]\n" % (TOKEN_A, TOKEN_AS))
        cls.env = {"CACHEWIRE_AUTH_TOKENS_FILE": cls.tokens}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.dir)

    def client(self, **kw):
        c = cachewire.Client(self.servers.tcp_url, **kw)
        self.addCleanup(c.close)
        return c

    def test_missing_or_unknown_token_is_unauthenticated(self):
        self.assertCode(Status.UNAUTHENTICATED, self.c.ping)
        self.assertCode(Status.UNAUTHENTICATED, self.client(token="not-a-token").get, "k")
        self.assertCode(Status.UNAUTHENTICATED, self.client(token=TOKEN_A + "x").set, "k", b"v")

    def test_a_token_works_in_its_namespaces_only(self):
        a = self.client(token=TOKEN_A)
        a.set("t:k", b"a's")
        self.assertEqual(a.get("t:k"), b"a's")
        self.assertCode(Status.PERMISSION_DENIED,
                        self.client(token=TOKEN_A, namespace="shared").get, "t:k")
        shared = self.client(token=TOKEN_AS, namespace="shared")
        self.assertIsNone(shared.get("t:k"))  # another tenant's key space
        shared.set("t:k", b"shared's")
        self.assertEqual(a.get("t:k"), b"a's")
        # the first namespace of TOKEN_AS is tenant-a
        self.assertEqual(self.client(token=TOKEN_AS).get("t:k"), b"a's")

    def test_token_file(self):
        path = os.path.join(self.dir, "a.token")
        with open(path, "w") as f:
            f.write(TOKEN_A + "\n")
        self.assertRegex(self.client(token_file=path).ping(), r"^\d")
        self.assertCode(Status.INVALID_ARGUMENT, cachewire.Client, self.servers.tcp_url,
                        token_file=os.path.join(self.dir, "missing"))


class Transport(unittest.TestCase):
    def assertCode(self, status, fn, *args):
        with self.assertRaises(Error) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code, int(status), str(cm.exception))
        return cm.exception

    def test_no_server_is_unavailable_at_the_call(self):
        url = "tcp://127.0.0.1:%d" % free_port()
        c = cachewire.Client(url, timeout=0.5)  # no error yet: connects lazily
        t = time.monotonic()
        e = self.assertCode(Status.UNAVAILABLE, c.ping)
        self.assertLess(time.monotonic() - t, 3)
        self.assertIn(url, e.message)
        self.assertIn("refused", e.message.lower())
        c.close()
        tmp = tempfile.mkdtemp(prefix="cw-test-py-")
        self.addCleanup(shutil.rmtree, tmp)
        with cachewire.Client("ipc://%s/none.sock" % tmp, timeout=0.3) as c:
            self.assertCode(Status.UNAVAILABLE, c.get, "k")

    def test_client_made_before_the_server_starts(self):
        port = free_port()
        c = cachewire.Client("tcp://127.0.0.1:%d" % port, timeout=0.3)
        self.addCleanup(c.close)
        self.assertCode(Status.UNAVAILABLE, c.ping)
        with Servers(tcp_port=port):  # the same client reconnects by itself

            def answers():
                try:
                    return bool(c.ping())
                except Error:
                    return False

            self.assertTrue(wait_for(answers, 10))

    def test_server_going_away_is_unavailable(self):
        s = Servers().start()
        try:
            c = cachewire.Client(s.tcp_url, timeout=0.5)
            self.addCleanup(c.close)
            c.set("k", b"v")
            self.assertEqual(s.stop_daemon(), 0)
            self.assertCode(Status.UNAVAILABLE, c.get, "k")
        finally:
            s.stop()

    def test_connected_but_no_reply_is_deadline_exceeded(self):
        # nngcat as a REP server that reads requests and never answers
        url = "tcp://127.0.0.1:%d" % free_port()
        p = subprocess.Popen(["nngcat", "--rep0", "--listen", url, "--quoted"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        with cachewire.Client(url, timeout=0.3) as c:
            # wait until nngcat accepts connections
            self.assertTrue(wait_for(lambda: c._pipes.n > 0, 5), "nngcat never came up")
            e = self.assertCode(Status.DEADLINE_EXCEEDED, c.ping)
            self.assertIn("no reply", e.message)

    def test_bad_urls_and_options(self):
        self.assertCode(Status.INVALID_ARGUMENT, cachewire.Client, "")
        self.assertCode(Status.INVALID_ARGUMENT, cachewire.Client, "nope://x")
        self.assertCode(Status.INVALID_ARGUMENT, cachewire.Client, "tcp://127.0.0.1:1", 0)
        e = self.assertCode(Status.INVALID_ARGUMENT, cachewire.Client, "tls+tcp://127.0.0.1:1")
        self.assertIn("ca_file", e.message)

    def test_status_and_error(self):
        self.assertEqual(Status.OK, 0)
        self.assertEqual(Status.UNAVAILABLE, 14)
        self.assertEqual(Status.UNAUTHENTICATED, 16)
        e = Error(3, "key is empty")
        self.assertEqual((e.code, e.status, e.message), (3, "INVALID_ARGUMENT", "key is empty"))
        self.assertEqual(str(e), "INVALID_ARGUMENT: key is empty")
        self.assertEqual(Error(99, "?").status, "UNKNOWN")


class Threads(WithServers):
    def test_threads_share_one_client(self):
        errors = []

        def work(n):
            try:
                for i in range(150):
                    key = "th:%d:%d" % (n, i)
                    value = ("%d-%d" % (n, i)).encode() * (1 + i % 7)
                    self.c.set(key, value)
                    got = self.c.get(key)
                    if got != value:
                        errors.append((key, got))
                    if i % 10 == 0:
                        self.c.get_many([key, "th:none"])
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])

    def test_close_twice_and_calls_after_close(self):
        c = cachewire.Client(self.servers.tcp_url)
        self.assertTrue(c.ping())
        c.close()
        c.close()
        with self.assertRaises(Error) as cm:
            c.get("k")
        self.assertEqual(cm.exception.status, "CANCELLED")
        with cachewire.Client(self.servers.tcp_url) as c2:
            c2.ping()
        self.assertIn("closed", repr(c2))

    def test_close_during_a_blocked_call(self):
        # a call waiting for its turn fails CANCELLED when the client closes
        url = "tcp://127.0.0.1:%d" % free_port()
        c = cachewire.Client(url, timeout=2.0)  # nobody there: calls block
        result = []

        def call():
            try:
                c.ping()
            except Error as e:
                result.append(e.status)

        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.2)
        c.close()
        t.join(5)
        self.assertFalse(t.is_alive())
        self.assertIn(result, (["CANCELLED"], ["UNAVAILABLE"]))


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = make_certs(tempfile.mkdtemp(prefix="cw-test-py-tls-"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def p(self, name):
        return os.path.join(self.dir, name)

    def refused(self, c, why):
        with self.assertRaises(Error, msg=why) as cm:
            c.ping()
        self.assertEqual(cm.exception.status, "UNAVAILABLE", why)
        self.assertIn("TLS", cm.exception.message, why)
        c.close()

    def test_tls_round_trip_and_server_checks(self):
        with Servers(tls_dir=self.dir) as s:
            with cachewire.Client(s.tls_url, tls=TLS(self.p("ca.crt"))) as c:
                c.set("tls:k", b"over tls\x00")
                self.assertEqual(c.get("tls:k"), b"over tls\x00")
            with cachewire.Client(s.tls_url, tls=TLS(self.p("ca.crt"), server_name="localhost")) as c:
                self.assertEqual(c.get("tls:k"), b"over tls\x00")
            self.refused(cachewire.Client(s.tls_url, timeout=1, tls=TLS(self.p("rogue-ca.crt"))),
                         "untrusted server")
            self.refused(cachewire.Client(s.tls_url, timeout=1, tls=TLS(
                self.p("ca.crt"), server_name="not-the-server.example")), "wrong name")
            # plain tcp:// to the TLS port gets no service
            plain = cachewire.Client("tcp://" + s.tls_url.split("://", 1)[1], timeout=0.5)
            with self.assertRaises(Error):
                plain.ping()
            plain.close()

    def test_mutual_tls(self):
        with Servers(tls_dir=self.dir, client_ca=True) as s:
            self.refused(cachewire.Client(s.tls_url, timeout=1, tls=TLS(self.p("ca.crt"))),
                         "no client certificate")
            self.refused(cachewire.Client(s.tls_url, timeout=1, tls=TLS(
                self.p("ca.crt"), self.p("rogue-client.crt"), self.p("rogue-client.key"))),
                "certificate from another CA")
            with cachewire.Client(s.tls_url, tls=TLS(
                    self.p("ca.crt"), self.p("client.crt"), self.p("client.key"))) as c:
                self.assertRegex(c.ping(), r"^\d")

    def test_unusable_tls_files(self):
        url = "tls+tcp://127.0.0.1:%d" % free_port()
        for tls in (TLS(self.p("bad.pem")), TLS(self.p("missing.crt")),
                    TLS(self.p("ca.crt"), self.p("bad.pem"), self.p("client.key"))):
            with self.assertRaises(Error) as cm:
                cachewire.Client(url, tls=tls)
            self.assertEqual(cm.exception.status, "INVALID_ARGUMENT")


if __name__ == "__main__":
    unittest.main()
