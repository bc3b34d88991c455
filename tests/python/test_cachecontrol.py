"""test_cachecontrol.py - cachewire.CachewireCache as the cache of Debian's
cachecontrol + requests, for real: a local HTTP server (http.server, one
thread per request) counts its hits, cachewired + redis-server come from
harness.Servers. The second request for a cacheable URL is served from
cachewire (the hit counter does not move, the entry is in the daemon), also
for a second process (a shared remote cache); no-store and expired
responses go back to the server. Then cachecontrol's `expires` edge cases
directly on CachewireCache. Run by tests/python/run.sh."""

import datetime
import http.server
import os
import re
import subprocess
import threading
import time
import unittest

import cachecontrol
import requests
from cachecontrol.cache import BaseCache
from cachecontrol.controller import CacheController

import cachewire
from cachewire import CachewireCache
from harness import Servers, far_time_zone, free_port

UTC = datetime.timezone.utc


def setUpModule():
    global _restore_tz
    _restore_tz = far_time_zone()  # naive datetimes must mean UTC


def tearDownModule():
    _restore_tz()


class Origin(http.server.ThreadingHTTPServer):
    """HTTP server on 127.0.0.1: /cacheable* (max-age=60), /short*
    (max-age=2), /nostore* (no-store); counts hits per path."""

    daemon_threads = True

    def __init__(self):
        self.hits = {}
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.server_address[1], path)

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with self.server.lock:
            self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
            n = self.server.hits[self.path]
        if self.path.startswith("/cacheable"):
            cc = "max-age=60"
        elif self.path.startswith("/short"):
            # 2, not 1: Date has whole seconds, so cachecontrol may find a
            # max-age=1 response stale right away
            cc = "max-age=2"
        else:
            cc = "no-store"
        body = ("%s hit %d\n" % (self.path, n)).encode()
        self.send_response(200)  # adds Date, which cachecontrol needs
        self.send_header("Cache-Control", cc)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def set_count(servers):
    """The daemon's count of answered Set calls (/metrics)."""
    m = re.search(r'cachewire_requests_total\{method="Set",code="OK"\} (\d+)', servers.metrics())
    return int(m.group(1)) if m else 0


# What the second process runs: its own CachewireCache and session.
SECOND_PROCESS = r"""
import sys, cachecontrol, requests, cachewire
cache = cachewire.CachewireCache(sys.argv[1])
s = cachecontrol.CacheControl(requests.Session(), cache=cache)
r = s.get(sys.argv[2])
print(repr((r.status_code, getattr(r, "from_cache", False), r.text)))
cache.close()
"""


class WithServers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = Servers().start()
        cls.origin = Origin()
        cls.raw = cachewire.Client(cls.servers.tcp_url)

    @classmethod
    def tearDownClass(cls):
        cls.raw.close()
        cls.origin.shutdown()
        cls.origin.server_close()
        status = cls.servers.stop()
        assert status == 0, "cachewired exited %s" % status

    def session(self, url=None, timeout=5.0):
        cache = CachewireCache(url or self.servers.tcp_url, timeout=timeout)
        s = cachecontrol.CacheControl(requests.Session(), cache=cache)
        self.addCleanup(s.close)  # closes the adapter, and with it the cache
        return s

    def pttl(self, key):
        out = subprocess.run(["redis-cli", "-s", self.servers.redis_sock, "PTTL",
                              "pyconf:" + key], check=True, capture_output=True, text=True)
        return int(out.stdout.strip())


class ThroughRequests(WithServers):
    def test_second_request_is_served_from_cachewire(self):
        s, url = self.session(), self.origin.url("/cacheable/one")
        sets = set_count(self.servers)
        r1 = s.get(url)
        self.assertEqual((r1.status_code, r1.text), (200, "/cacheable/one hit 1\n"))
        self.assertFalse(getattr(r1, "from_cache", False))
        self.assertEqual(self.origin.count("/cacheable/one"), 1)
        # the entry is in the daemon, under cachecontrol's key for the URL:
        # its headers there, its body (a SeparateBodyBaseCache's) under
        # the key + NUL "body", with the same expiry
        self.assertGreater(set_count(self.servers), sets)
        key = CacheController.cache_url(url)
        stored = self.raw.get(key)
        self.assertIsNotNone(stored)
        self.assertIn(b"max-age=60", stored)
        self.assertEqual(self.raw.get(key.encode() + b"\x00body"),
                         b"/cacheable/one hit 1\n")
        self.assertTrue(55000 < self.pttl(key) <= 60000)
        # (redis-cli's own quoting on stdin carries the NUL)
        body_ttl = subprocess.run(
            ["redis-cli", "-s", self.servers.redis_sock],
            input='PTTL "pyconf:%s\\x00body"\n' % key, check=True,
            capture_output=True, text=True).stdout
        self.assertTrue(55000 < int(body_ttl) <= 60000, body_ttl)

        r2 = s.get(url)
        self.assertEqual(r2.text, "/cacheable/one hit 1\n")
        self.assertTrue(r2.from_cache)
        self.assertEqual(self.origin.count("/cacheable/one"), 1)  # not asked again

    def test_no_store_goes_to_the_server_every_time(self):
        s, url = self.session(), self.origin.url("/nostore")
        self.assertEqual(s.get(url).text, "/nostore hit 1\n")
        self.assertEqual(s.get(url).text, "/nostore hit 2\n")
        self.assertEqual(self.origin.count("/nostore"), 2)
        self.assertIsNone(self.raw.get(CacheController.cache_url(url)))

    def test_a_second_process_shares_the_cache(self):
        url = self.origin.url("/cacheable/shared")
        self.assertEqual(self.session().get(url).text, "/cacheable/shared hit 1\n")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.environ.get("CW_PYTHON_BUILD", "") + os.pathsep + \
            env.get("PYTHONPATH", "")
        for transport in (self.servers.tcp_url, self.servers.ipc_url):
            p = subprocess.run(["/usr/bin/python3", "-c", SECOND_PROCESS, transport, url],
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.strip(), repr((200, True, "/cacheable/shared hit 1\n")))
        self.assertEqual(self.origin.count("/cacheable/shared"), 1)

    def test_an_expired_entry_goes_back_to_the_server(self):
        s, url = self.session(), self.origin.url("/short")
        key = CacheController.cache_url(url)
        self.assertEqual(s.get(url).text, "/short hit 1\n")
        self.assertTrue(0 < self.pttl(key) <= 2000)  # cachewire expires it
        self.assertTrue(s.get(url).from_cache)
        self.assertEqual(self.origin.count("/short"), 1)
        time.sleep(2.5)
        self.assertIsNone(self.raw.get(key))  # gone from cachewire itself
        r = s.get(url)
        self.assertEqual(r.text, "/short hit 2\n")
        self.assertFalse(getattr(r, "from_cache", False))
        self.assertEqual(self.origin.count("/short"), 2)

    def test_a_down_cache_is_an_error_not_a_silent_miss(self):
        s = self.session("tcp://127.0.0.1:%d" % free_port(), timeout=0.3)
        with self.assertRaises(cachewire.Error) as cm:
            s.get(self.origin.url("/cacheable/down"))
        self.assertEqual(cm.exception.status, "UNAVAILABLE")


class Expires(WithServers):
    """cachecontrol's `expires` argument, straight to CachewireCache.set."""

    def setUp(self):
        self.cache = CachewireCache(self.servers.tcp_url)
        self.addCleanup(self.cache.close)

    def test_is_a_base_cache(self):
        self.assertIsInstance(self.cache, BaseCache)
        with self.assertRaises(ValueError):
            CachewireCache()
        with self.assertRaises(ValueError):
            CachewireCache(self.servers.tcp_url, client=self.raw)

    def test_round_trip_str_key_bytes_value(self):
        key = "http://example.invalid/päth?q=1"
        self.assertIsNone(self.cache.get(key))
        self.cache.set(key, b"\x00serialized\xff")
        self.assertEqual(self.cache.get(key), b"\x00serialized\xff")
        self.assertEqual(self.raw.get(key.encode("utf-8")), b"\x00serialized\xff")
        self.cache.delete(key)
        self.cache.delete(key)  # missing: no error
        self.assertIsNone(self.cache.get(key))

    def test_zero_and_none_mean_no_expiry(self):
        for i, never in enumerate((0, None)):
            self.cache.set("x:never%d" % i, b"v", expires=never)
            self.assertEqual(self.cache.get("x:never%d" % i), b"v")
            self.assertEqual(self.pttl("x:never%d" % i), -1)

    def test_int_seconds(self):  # cachecontrol 0.12.12 / 0.13
        self.cache.set("x:int", b"v", expires=60)
        self.assertTrue(55000 < self.pttl("x:int") <= 60000)

    def test_negative_seconds_store_nothing(self):
        # cachecontrol computes Expires - Date, negative for an Expires
        # header in the past
        self.cache.set("x:neg", b"old")
        self.cache.set("x:neg", b"new", expires=-30)  # no error
        self.assertIsNone(self.cache.get("x:neg"))

    def test_aware_datetime(self):
        at = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))) \
            + datetime.timedelta(seconds=60)
        self.cache.set("x:aware", b"v", expires=at)
        self.assertTrue(55000 < self.pttl("x:aware") <= 60000, self.pttl("x:aware"))

    def test_naive_datetime_is_utc(self):  # as cachecontrol's RedisCache
        at = datetime.datetime.utcnow() + datetime.timedelta(seconds=60)
        self.cache.set("x:naive", b"v", expires=at)
        self.assertTrue(55000 < self.pttl("x:naive") <= 60000, self.pttl("x:naive"))

    def test_past_datetime_is_no_error_and_not_served(self):
        for i, past in enumerate((datetime.datetime.utcnow() - datetime.timedelta(seconds=1),
                                  datetime.datetime.now(UTC) - datetime.timedelta(hours=1))):
            key = "x:past%d" % i
            self.cache.set(key, b"old")
            self.cache.set(key, b"new", expires=past)
            self.assertIsNone(self.cache.get(key))

    def test_close_leaves_a_given_client_open(self):
        c = cachewire.Client(self.servers.tcp_url)
        cache = CachewireCache(client=c)
        cache.set("x:given", b"v")
        cache.close()
        self.assertEqual(c.get("x:given"), b"v")  # still usable
        c.close()
        own = CachewireCache(self.servers.tcp_url)
        own.close()
        own.close()
        with self.assertRaises(cachewire.Error):
            own.get("x:given")


if __name__ == "__main__":
    unittest.main()
