"""test_coalesce.py - the Python client's coalescing: threads sharing one
cachewire.Client have the calls that wait for a running exchange sent
together, as one batch message (rpc.proto, Request.calls), against a real
cachewired and Redis (harness.Servers).

- 16 threads, mixed calls, some invalid, each thread's keys holding only
  its own values: every call gets its own reply (checked by value), and
  the server counted batches (cachewire_nng_batches_total);
- the same with coalesce=False: no batch;
- short timeouts while Redis is stalled end DEADLINE_EXCEEDED in time,
  without taking the other calls of the batch with them;
- calls that fit the server's message limit each but not all together
  (the client's own limit being the default, larger): every batch stays
  under the server's limit (learned from its Ping) and all succeed;
- the shared conformance cases with coalesce=False too.
"""

import re
import signal
import threading
import time
import unittest

import harness  # first: puts the built package on sys.path
from harness import Servers

import cachewire
from cachewire import Error, Status
from test_conformance import CASES, daemon_env, load, run_step

THREADS, CALLS = 16, 150


def batches(servers):
    m = re.search(r"^cachewire_nng_batches_total (\d+)", servers.metrics(), re.M)
    return int(m.group(1))


class Coalescing(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.servers = Servers().start()

    @classmethod
    def tearDownClass(cls):
        status = cls.servers.stop()
        if status != 0:
            raise AssertionError("cachewired exited %s on SIGTERM" % status)

    def load(self, client):
        wrong, counts = [], {"ok": 0}
        lock = threading.Lock()

        def work(t):
            for i in range(CALLS):
                key = "t%d:k%d" % (t, i % 5)
                value = ("v%d:%d" % (t, i)).encode()
                try:
                    if i % 4 == 0:
                        client.set(key, value)
                        got = client.get(key)
                        if got != value:
                            wrong.append("%s: wanted %r, got %r" % (key, value, got))
                    elif i % 4 == 1:
                        got = client.get_many([key, "t%d:k%d" % (t, (i + 1) % 5)])
                        if any(g is not None and not g.startswith(b"v%d:" % t)
                               for g in got):
                            wrong.append("%s: another's value %r" % (key, got))
                    elif i % 4 == 2:
                        try:
                            client.set("", value)
                            wrong.append("an empty key was taken")
                        except Error as e:
                            if e.status != "INVALID_ARGUMENT":
                                wrong.append("empty key: %s" % e)
                    else:
                        client.delete(key)
                    with lock:
                        counts["ok"] += 1
                except Error as e:
                    wrong.append("%s: %s" % (key, e))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return wrong, counts["ok"]

    def test_threads_share_one_client(self):
        before = batches(self.servers)
        with cachewire.Client(self.servers.tcp_url, timeout=10.0) as c:
            wrong, ok = self.load(c)
        after = batches(self.servers)
        print("coalescing: %d calls ok, %d batches" % (ok, after - before))
        self.assertEqual(wrong, [])
        self.assertEqual(ok, THREADS * CALLS)
        self.assertGreater(after, before)

    def test_coalesce_false_sends_no_batch(self):
        before = batches(self.servers)
        with cachewire.Client(self.servers.tcp_url, timeout=10.0,
                              coalesce=False) as c:
            wrong, ok = self.load(c)
        self.assertEqual(wrong, [])
        self.assertEqual(ok, THREADS * CALLS)
        self.assertEqual(batches(self.servers), before)

    def test_each_call_keeps_its_own_timeout(self):
        with cachewire.Client(self.servers.tcp_url, timeout=5.0) as c:
            c.set("slow", b"v")
            results = {}
            short = cachewire.Client(self.servers.tcp_url, timeout=0.3)
            self.servers.redis.send_signal(signal.SIGSTOP)
            try:
                threads = [threading.Thread(target=lambda i=i: results.__setitem__(
                    i, self._timed(short if i % 2 else c, i)))
                    for i in range(8)]
                for t in threads:
                    t.start()
                time.sleep(1.0)
            finally:
                self.servers.redis.send_signal(signal.SIGCONT)
            for t in threads:
                t.join()
            short.close()
            for i in range(8):
                status, took = results[i]
                if i % 2:  # 0.3 s: ended in time, while Redis was stopped
                    self.assertEqual(status, "DEADLINE_EXCEEDED")
                    self.assertLess(took, 0.3 + 0.7)
                else:  # 5 s: answered once Redis went on
                    self.assertEqual(status, "OK")

    @staticmethod
    def _timed(client, i):
        t0 = time.monotonic()
        try:
            client.get("slow")
            return "OK", time.monotonic() - t0
        except Error as e:
            return e.status, time.monotonic() - t0


class BatchesUnderTheServersLimit(unittest.TestCase):

    def test_large_calls_are_never_refused_together(self):
        env = {"CACHEWIRE_SERVER_MAX_MESSAGE_BYTES": "256KiB",
               "CACHEWIRE_CACHE_MAX_VALUE_BYTES": "128KiB"}
        value = b"x" * (48 * 1024)
        failures = []
        with Servers(env=env) as s, cachewire.Client(s.tcp_url, timeout=10.0) as c:
            def work(t):
                for i in range(10):
                    try:
                        c.set("big%d:%d" % (t, i), value)
                    except Error as e:
                        failures.append(str(e))
            threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            m = s.metrics()
            n_batches = batches(s)
            calls = int(re.search(r"^cachewire_nng_batched_calls_total (\d+)", m,
                                  re.M).group(1))
        print("48 KiB sets under a 256 KiB limit: %d failed, %d batches carried "
              "%d calls" % (len(failures), n_batches, calls))
        self.assertEqual(failures, [])
        self.assertGreater(n_batches, 0)  # they did go together
        self.assertLessEqual(calls, 5 * n_batches)  # 5 x 48 KiB fit, not 6


class SharedCasesWithoutCoalescing(unittest.TestCase):
    """The shared cases through Client(coalesce=False)."""

    def test_tcp(self):
        settings, cases = load(CASES)
        with Servers(env=daemon_env(settings)) as s, \
                cachewire.Client(s.tcp_url, timeout=10.0, coalesce=False) as c:
            for name, steps in cases:
                with self.subTest(case=name):
                    c.clear()
                    for st in steps:
                        why = run_step(c, st)
                        if why is not None:
                            self.fail("case %s (%s:%d): %s" % (name, CASES, st.line, why))


if __name__ == "__main__":
    unittest.main()
