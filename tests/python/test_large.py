"""test_large.py - large values from Python: Client.set_stream/get_stream
(chunks of 64 KiB here) at the sizes around a chunk, a replaced value
noticed mid-read, a failing source aborting its upload; and Debian's
cachecontrol + requests caching and serving a 300 MiB response through
CachewireCache (a SeparateBodyBaseCache) in a process whose peak RSS
is measured and must stay far under the body's size. Run by
tests/python/run.sh."""

import hashlib
import http.server
import io
import os
import subprocess
import sys
import threading
import unittest

import cachewire
from cachewire import CachewireCache, Error, Status
from harness import Servers

CHUNK = 64 * 1024
MiB = 1 << 20
BIG = 300 * MiB


def pattern(n, seed):
    """n bytes that differ with position and seed (a misplaced chunk shows)."""
    block = hashlib.sha256(b"%d" % seed).digest() * (CHUNK // 32 + 1)
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d:%d" % (seed, i)).digest() + block[:CHUNK - 32]
        i += 1
    return bytes(out[:n])


class Streams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = Servers(env={"CACHEWIRE_CACHE_CHUNK_BYTES": "64KiB"}).start()
        cls.c = cachewire.Client(cls.servers.tcp_url, timeout=10.0)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        assert cls.servers.stop() == 0

    def uploads_left(self):
        out = subprocess.run(["redis-cli", "-s", self.servers.redis_sock, "KEYS",
                              "*:upload:*"], check=True, capture_output=True, text=True)
        return [k for k in out.stdout.split("\n") if k]

    def test_round_trip_at_every_size(self):
        for i, n in enumerate([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 123]):
            with self.subTest(size=n):
                value = pattern(n, i)
                key = "size-%d" % n
                self.assertNotEqual(self.c.set_stream(key, value), 0)
                with self.c.get_stream(key) as f:
                    self.assertEqual(f.read(), value)
                # from a file object, read back in odd pieces
                self.c.set_stream(key, io.BytesIO(value))
                f, back = self.c.get_stream(key), b""
                while True:
                    piece = f.read(7777)
                    if not piece:
                        break
                    back += piece
                self.assertEqual(back, value)
        self.assertIsNone(self.c.get_stream("no-such-key"))
        self.assertEqual(self.uploads_left(), [])

    def test_a_value_written_by_set_reads_too(self):
        self.c.set("plain", b"p" * (3 * CHUNK))
        self.assertEqual(self.c.get_stream("plain").read(), b"p" * (3 * CHUNK))

    def test_a_replaced_value_is_noticed_mid_read(self):
        self.c.set_stream("moving", pattern(4 * CHUNK, 1))
        f = self.c.get_stream("moving")
        self.assertEqual(f.read(CHUNK), pattern(4 * CHUNK, 1)[:CHUNK])
        self.c.set_stream("moving", pattern(4 * CHUNK, 2))
        with self.assertRaises(Error) as e:
            f.read()
        self.assertEqual(e.exception.code, Status.FAILED_PRECONDITION)
        self.assertIn("the value changed", str(e.exception))

    def test_a_failing_source_aborts_and_keeps_the_old_value(self):
        old = pattern(2 * CHUNK, 3)
        self.c.set_stream("keep", old)

        class Broken(io.RawIOBase):
            def __init__(self):
                self.sent = 0

            def read(self, n=-1):
                if self.sent > 2 * CHUNK:
                    raise OSError("disk on fire")
                self.sent += n
                return b"x" * n

        with self.assertRaises(OSError):
            self.c.set_stream("keep", Broken())
        self.assertEqual(self.c.get_stream("keep").read(), old)
        self.assertEqual(self.uploads_left(), [])


# ---- cachecontrol + requests, 300 MiB ------------------------------------

class BigOrigin(http.server.ThreadingHTTPServer):
    """Serves BIG bytes of pattern (max-age=600), generated as it goes."""

    daemon_threads = True

    def __init__(self):
        self.hits = 0
        super().__init__(("127.0.0.1", 0), BigHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


BLOCK = pattern(MiB, 42)


class BigHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Cache-Control", "max-age=600")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(BIG))
        self.end_headers()
        for i in range(BIG // MiB):
            self.wfile.write(i.to_bytes(8, "little") + BLOCK[8:])

    def log_message(self, *args):
        pass


def expected_digest():
    h = hashlib.sha256()
    for i in range(BIG // MiB):
        h.update(i.to_bytes(8, "little") + BLOCK[8:])
    return h.hexdigest()


# Run in a process of its own, so that its peak RSS is this alone.
FETCH_TWICE = r"""
import hashlib, resource, sys, cachecontrol, requests, cachewire
cache = cachewire.CachewireCache(sys.argv[1], timeout=30.0)
s = cachecontrol.CacheControl(requests.Session(), cache=cache)
for n in (1, 2):
    h = hashlib.sha256()
    with s.get(sys.argv[2], stream=True) as r:
        r.raise_for_status()
        for part in r.iter_content(1 << 20):
            h.update(part)
        print("fetch %d from_cache=%s sha256=%s" % (
            n, getattr(r, "from_cache", False), h.hexdigest()))
cache.close()
print("peak_rss_kib=%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


class ThroughCachecontrol(unittest.TestCase):
    def test_300_mib_response_cached_and_served_with_bounded_memory(self):
        origin = BigOrigin()
        try:
            with Servers() as servers:
                url = "http://127.0.0.1:%d/torch.whl" % origin.server_address[1]
                out = subprocess.run([sys.executable, "-c", FETCH_TWICE, servers.tcp_url, url],
                                     capture_output=True, text=True, timeout=600,
                                     env=dict(os.environ))
                self.assertEqual(out.returncode, 0, out.stderr[-3000:])
                want = expected_digest()
                fetches = [l for l in out.stdout.split("\n") if l.startswith("fetch")]
                self.assertEqual(len(fetches), 2, out.stdout)
                self.assertIn("from_cache=False sha256=" + want, fetches[0])
                self.assertIn("from_cache=True sha256=" + want, fetches[1])
                self.assertEqual(origin.hits, 1)  # the second came from cachewire
                rss_mib = int(out.stdout.split("peak_rss_kib=")[1]) / 1024
                print("\n    300 MiB through cachecontrol: peak RSS %.1f MiB" % rss_mib)
                self.assertLess(rss_mib, 100, "peak RSS %.1f MiB" % rss_mib)
        finally:
            origin.shutdown()
            origin.server_close()


if __name__ == "__main__":
    unittest.main()
