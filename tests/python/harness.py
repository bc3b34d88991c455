"""harness.py - real servers for the Python tests (shared by every test_*.py).

    from harness import Servers
    with Servers(env={"CACHEWIRE_AUTH_TOKENS_FILE": path}) as s:
        s.tcp_url, s.ipc_url, s.admin_url, s.redis_url, s.log_path

Servers starts a private redis-server (unix socket only, in a temporary
directory) and cachewired listening on a free tcp:// port and an ipc://
socket, with its admin endpoint on another free port and cache.namespace
"pyconf"; it waits for " INFO ready" in the daemon's log. On exit it stops
both with SIGTERM and fails (AssertionError) unless cachewired exited 0.

Paths come from the runner's environment (tests/python/run.sh sets them):
CW_CACHEWIRED, CW_CLI, CW_SOURCE_DIR, CW_PYTHON_BUILD (the directory that
holds the built `cachewire` package; added to sys.path on import).
CW_TEST_WRAPPER (e.g. "valgrind -q") runs cachewired under a command,
as tests/helpers/servers.c does. REDIS_SERVER overrides redis-server.
"""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CACHEWIRED = os.environ.get("CW_CACHEWIRED", "")
CLI = os.environ.get("CW_CLI", "")
SOURCE_DIR = os.environ.get(
    "CW_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
)
PYTHON_BUILD = os.environ.get("CW_PYTHON_BUILD", "")
NAMESPACE = "pyconf"

if PYTHON_BUILD and PYTHON_BUILD not in sys.path:
    sys.path.insert(0, PYTHON_BUILD)


def far_time_zone():
    """Set the process' local time to UTC+5:30 (POSIX TZ, no tzdata
    needed), so that treating a naive datetime as local time instead of
    UTC cannot pass by accident. Returns a function that restores it:
    use as setUpModule / tearDownModule."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "XXX-05:30"
    time.tzset()

    def restore():
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()
    return restore


def free_port(avoid=()):
    """A loopback TCP port nobody listens on right now (not in avoid)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def wait_for(predicate, seconds=10.0, step=0.02):
    """Poll predicate() until true (returns True) or seconds pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def make_certs(directory):
    """Test TLS material in directory (tests/helpers/make_certs.sh):
    ca.crt, server.crt/.key (127.0.0.1 and localhost), client.crt/.key,
    rogue-ca.crt, rogue-client.crt/.key, bad.pem. Returns directory."""
    script = os.path.join(SOURCE_DIR, "tests", "helpers", "make_certs.sh")
    subprocess.run(["sh", script, directory], check=True)
    return directory


def _read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _unix_accepts(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


class Servers:
    """redis-server + cachewired for one test (or one test class).

    cachewired: path (default CW_CACHEWIRED). env: extra CACHEWIRE_*
    variables, applied after the harness's own (so they may override
    them, e.g. CACHEWIRE_CACHE_NAMESPACE). tls_dir: a make_certs()
    directory; adds a tls+tcp:// listener (s.tls_url) with its
    server.crt/server.key (and, with client_ca=True, requires client
    certificates signed by its ca.crt). tcp_port: the tcp:// port to use
    (default a free one). grpc=True: gRPC on a free port too (s.grpc_addr,
    "127.0.0.1:PORT", h2c), and with tls_dir on another (s.grpc_tls_addr).
    """

    def __init__(self, cachewired=None, env=None, tls_dir=None,
                 client_ca=False, namespace=NAMESPACE, tcp_port=None,
                 grpc=False):
        self.cachewired = cachewired or CACHEWIRED
        if not self.cachewired:
            raise RuntimeError("no cachewired: set CW_CACHEWIRED")
        self.extra_env = dict(env or {})
        self.tls_dir = tls_dir
        self.client_ca = client_ca
        self.namespace = namespace
        self.dir = None
        self.redis = None
        self.daemon = None
        self.tls_url = None
        self.tcp_port = tcp_port
        self.grpc = grpc
        self.grpc_addr = self.grpc_tls_addr = None

    # ---- lifecycle ------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        status = self.stop()
        if exc_type is None and status != 0:
            raise AssertionError(
                "cachewired exited %s on SIGTERM; log:\n%s" % (status, self.log())
            )
        return False

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="cw-test-py-")
        try:
            self._start_redis()
            self._start_daemon()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop cachewired (SIGTERM) and redis; returns cachewired's exit
        status (0 = clean; None if it was not running)."""
        status = self.stop_daemon()
        self.stop_redis()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        return status

    # ---- redis ----------------------------------------------------------

    def _start_redis(self):
        self.redis_sock = os.path.join(self.dir, "redis.sock")
        self.redis_url = "unix://" + self.redis_sock
        self.redis_log = os.path.join(self.dir, "redis.log")
        with open(self.redis_log, "wb") as log:
            self.redis = subprocess.Popen(
                [os.environ.get("REDIS_SERVER", "redis-server"),
                 "--port", "0", "--unixsocket", self.redis_sock,
                 "--save", "", "--appendonly", "no", "--dir", self.dir,
                 "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_for(lambda: self.redis.poll() is not None
                        or _unix_accepts(self.redis_sock)):
            raise RuntimeError("redis-server did not start:\n" + _read(self.redis_log))
        if self.redis.poll() is not None:
            raise RuntimeError("redis-server exited:\n" + _read(self.redis_log))

    def stop_redis(self):
        """Stop redis-server (e.g. to see cachewired answer UNAVAILABLE)."""
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(10)
            self.redis = None

    # ---- cachewired -----------------------------------------------------

    def _start_daemon(self):
        tcp = self.tcp_port or free_port()
        admin = free_port(avoid=(tcp,))
        self.tcp_url = "tcp://127.0.0.1:%d" % tcp
        self.ipc_url = "ipc://%s/cw.sock" % self.dir
        self.admin_url = "http://127.0.0.1:%d" % admin
        self.log_path = os.path.join(self.dir, "cachewired.log")
        listen = [self.tcp_url, self.ipc_url]
        env = dict(os.environ)
        env.update({
            "CACHEWIRE_REDIS_URL": self.redis_url,
            "CACHEWIRE_ADMIN_LISTEN": self.admin_url,
            "CACHEWIRE_CACHE_NAMESPACE": self.namespace,
        })
        if self.tls_dir:
            self.tls_url = "tls+tcp://127.0.0.1:%d" % free_port(avoid=(tcp, admin))
            listen.append(self.tls_url)
            env["CACHEWIRE_TLS_CERT_FILE"] = os.path.join(self.tls_dir, "server.crt")
            env["CACHEWIRE_TLS_KEY_FILE"] = os.path.join(self.tls_dir, "server.key")
            if self.client_ca:
                env["CACHEWIRE_TLS_CLIENT_CA_FILE"] = os.path.join(self.tls_dir, "ca.crt")
        env["CACHEWIRE_LISTEN"] = ",".join(listen)
        if self.grpc:
            taken = (tcp, admin)
            self.grpc_addr = "127.0.0.1:%d" % free_port(avoid=taken)
            grpc_listen = [self.grpc_addr]
            if self.tls_dir:
                self.grpc_tls_addr = "127.0.0.1:%d" % free_port(
                    avoid=taken + (int(self.grpc_addr.split(":")[1]),))
                grpc_listen.append("tls://" + self.grpc_tls_addr)
            env["CACHEWIRE_GRPC_LISTEN"] = ",".join(grpc_listen)
        env.update(self.extra_env)
        argv = shlex.split(os.environ.get("CW_TEST_WRAPPER", "")) + [self.cachewired]
        with open(self.log_path, "wb") as log:
            self.daemon = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        ready = lambda: (" INFO ready\n" in self.log()
                         or '"msg":"ready"}' in self.log())
        if not wait_for(lambda: self.daemon.poll() is not None or ready(), 20):
            raise RuntimeError("cachewired did not become ready:\n" + self.log())
        if self.daemon.poll() is not None:
            status = self.daemon.returncode
            self.daemon = None
            raise RuntimeError("cachewired exited %s:\n%s" % (status, self.log()))

    def stop_daemon(self):
        """SIGTERM cachewired; its exit status (None if not running)."""
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
        try:
            status = self.daemon.wait(20)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            status = "killed (ignored SIGTERM)"
        self.daemon = None
        return status

    def log(self):
        """cachewired's log so far."""
        return _read(self.log_path) if getattr(self, "log_path", None) else ""

    def metrics(self):
        """The admin endpoint's /metrics text."""
        with urllib.request.urlopen(self.admin_url + "/metrics", timeout=5) as r:
            return r.read().decode()

    def path(self, name):
        """A file name in the servers' temporary directory."""
        return os.path.join(self.dir, name)
