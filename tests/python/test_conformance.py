"""test_conformance.py - the shared conformance cases against the Python client.

tests/conformance/cases.txt (or the file named by $CW_CONFORMANCE_CASES)
holds the cache contract as a client sees it; its header describes the
format. tests/integration/conformance_cases.c reads the same file for the
cache core and the C client, so both clients are held to ONE list of cases.
This module reads it the same way (a mistake in the file is an error naming
file:line), applies its settings to cachewired (harness env), and runs
every case against cachewire.Client over tcp:// and over ipc://, each case
on an emptied namespace. A failing step fails its case (a subTest) with the
case's name and the step's file:line; the other cases still run.
"""

import datetime
import os
import re
import shutil
import tempfile
import time
import unittest

import harness  # first: puts the built package on sys.path
from harness import Servers

import cachewire

CASES = os.environ.get("CW_CONFORMANCE_CASES") or os.path.join(
    harness.SOURCE_DIR, "tests", "conformance", "cases.txt")
STATUSES = [s.name for s in cachewire.Status if s.name != "OK"]
OPS = ("set", "get", "delete", "clear", "get_many", "set_many",
       "delete_many", "sleep")
UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


class CaseFileError(Exception):
    """A mistake in the case file; str() is "file:line: what"."""


# ---- reading the file (the same rules as conformance_cases.c) -----------------

def tokenize(line):
    """Whitespace separates; "..." and (...) group; ',' is a token of its
    own; '#' at the start of a token begins a comment."""
    toks, i, n = [], 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i == n or line[i] == "#":
            return toks
        start, depth, quoted = i, 0, False
        if line[i] == ",":
            i += 1
        else:
            while i < n and (quoted or depth or
                             (not line[i].isspace() and line[i] != ",")):
                c = line[i]
                if quoted and c == "\\" and i + 1 < n:
                    i += 2
                    continue
                i += 1
                if c == '"':
                    quoted = not quoted
                elif not quoted:
                    depth += {"(": 1, ")": -1}.get(c, 0)
        if quoted or depth:
            raise ValueError("unterminated " + ("quote" if quoted else "("))
        toks.append(line[start:i])


SIZE_TERM = re.compile(r"(\d+)(KiB|MiB)?|([A-Za-z_](?:[A-Za-z0-9_]|\.(?!\.))*)")


def parse_size(text, pos, settings):
    """A SIZE at text[pos:] (integers with KiB/MiB, setting names, + and -):
    (value, position after it)."""
    total, sign = 0, 1
    while True:
        m = SIZE_TERM.match(text, pos)
        if not m:
            raise ValueError("expected a size at '%s'" % text[pos:pos + 20])
        if m.group(1):
            v = int(m.group(1)) << {"KiB": 10, "MiB": 20}.get(m.group(2), 0)
        elif m.group(3) in settings:
            v = settings[m.group(3)]
        else:
            raise ValueError("unknown setting '%s'" % m.group(3))
        total, pos = total + sign * v, m.end()
        if pos == len(text) or text[pos] not in "+-":
            break
        sign = 1 if text[pos] == "+" else -1
        pos += 1
    if total < 0:
        raise ValueError("negative size %d" % total)
    return total, pos


def size_token(text, settings):
    v, pos = parse_size(text, 0, settings)
    if pos != len(text):
        raise ValueError("unexpected '%s' after a size" % text[pos:pos + 20])
    return v


ESCAPES = {"\\": 92, '"': 34, "n": 10, "r": 13, "t": 9}


def quoted(text, pos):
    r"""A "..." at text[pos:] with \\ \" \n \r \t \xHH: (bytes, position)."""
    if text[pos:pos + 1] != '"':
        raise ValueError("expected \"text\" at '%s'" % text[pos:pos + 20])
    out, i = bytearray(), pos + 1
    while True:
        if i >= len(text):
            raise ValueError("unterminated quote")
        c = text[i]
        if c == '"':
            return bytes(out), i + 1
        if c == "\\":
            e = text[i + 1:i + 2]
            if e in ESCAPES:
                out.append(ESCAPES[e])
                i += 2
                continue
            if e == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            raise ValueError("bad escape '\\%s'" % e)
        out += c.encode()
        i += 1


def parse_bytes(text, settings):
    """"text", rep(SIZE,"pattern"), seq(SIZE), joined by '+'."""
    out, pos = bytearray(), 0
    while True:
        if text.startswith('"', pos):
            b, pos = quoted(text, pos)
            out += b
        elif text.startswith(("rep(", "seq("), pos):
            rep = text[pos] == "r"
            n, pos = parse_size(text, pos + 4, settings)
            if rep:
                if text[pos:pos + 1] != ",":
                    raise ValueError('expected rep(SIZE,"pattern")')
                pos += 1
                while text[pos:pos + 1] in (" ", "\t"):
                    pos += 1
                pat, pos = quoted(text, pos)
                if not pat:
                    raise ValueError('expected rep(SIZE,"pattern")')
                out += (pat * (n // len(pat) + 1))[:n]
            else:
                out += (bytes(range(256)) * (n // 256 + 1))[:n]
            if text[pos:pos + 1] != ")":
                raise ValueError("expected ')' in rep/seq")
            pos += 1
        else:
            raise ValueError("expected \"text\", rep(SIZE,\"pattern\") or "
                             "seq(SIZE) at '%s'" % text[pos:pos + 20])
        if pos == len(text):
            return bytes(out)
        if text[pos] != "+":
            raise ValueError("expected '+' or the end at '%s'" % text[pos:pos + 20])
        pos += 1


def segments(toks, settings):
    """Tokens into items at ','; an item ending in *A..B is repeated for
    i = A..B with {i} replaced: a list of token lists."""
    out, i = [], 0
    while i < len(toks):
        j = i
        while j < len(toks) and toks[j] != ",":
            j += 1
        if j == i or j == len(toks) - 1:
            raise ValueError("empty item in a list")
        seg, last = toks[i:j], toks[j - 1]
        if last.startswith("*") and ".." in last:
            lo, hi = last[1:].split("..", 1)
            a, b = size_token(lo, settings), size_token(hi, settings)
            seg = seg[:-1]
            if not seg:
                raise ValueError("nothing to repeat")
            step = 1 if a <= b else -1
            for k in range(a, b + step, step):
                out.append([t.replace("{i}", str(k)) for t in seg])
        else:
            out.append(seg)
        i = j + 1
    return out


class Step:
    """One step: op, line, items [(key, value, (kind, ms))], results
    (bytes, None for a miss, or True/False), number, status, message."""

    def __init__(self, op, line):
        self.op, self.line = op, line
        self.items, self.results = [], []
        self.number, self.status, self.message = None, None, None


def parse_item(seg, entry, settings):
    if len(seg) != (2 if entry else 1) and not (entry and len(seg) == 4):
        raise ValueError("expected KEY VALUE [ttl MS | at [+-]MS]"
                         if entry else "expected one KEY")
    key = parse_bytes(seg[0], settings)
    value = parse_bytes(seg[1], settings) if entry else None
    expiry = (None, 0)
    if len(seg) == 4:
        kind, ms = seg[2], seg[3]
        if kind not in ("ttl", "at"):
            raise ValueError("expected ttl or at, not '%s'" % kind)
        if kind == "at" and ms[:1] in ("+", "-"):
            kind, v = "at_rel", size_token(ms[1:], settings)
            v = -v if ms[0] == "-" else v
        else:
            v = size_token(ms, settings)
        if kind == "at" and v == 0:
            raise ValueError("at 0: never in C, the epoch in Python; use ttl 0")
        expiry = (kind, v)
    return key, value, expiry


def parse_result(seg, settings):
    if len(seg) != 1:
        raise ValueError("expected one result per item")
    words = {"miss": None, "true": True, "false": False}
    return words[seg[0]] if seg[0] in words else parse_bytes(seg[0], settings)


def parse_step(op, args, line, settings):
    """One step (no repetition of the whole step) from its tokens."""
    s = Step(op, line)
    has_rhs = "->" in args
    lhs = args[:args.index("->")] if has_rhs else args
    rhs = args[args.index("->") + 1:] if has_rhs else []
    items = segments(lhs, settings)
    results = []
    if rhs and rhs[0] in STATUSES:
        s.status = rhs[0]
        if len(rhs) > 2:
            raise ValueError("wrong number of items or results for " + op)
        if len(rhs) == 2:
            s.message = parse_bytes(rhs[1], settings)
    elif has_rhs:
        results = segments(rhs, settings)
    want_rhs = op not in ("set", "set_many", "sleep")
    if want_rhs and not has_rhs:
        raise ValueError("expected '-> result'")
    if not want_rhs and has_rhs and not s.status:
        raise ValueError("unexpected '->'")
    bad = ValueError("wrong number of items or results for " + op)
    if op in ("clear", "sleep"):
        words = results if op == "clear" else items
        if (op == "clear" and items) or (not s.status and len(words) != 1):
            raise bad
        if words:
            if len(words[0]) != 1:
                raise bad
            s.number = size_token(words[0][0], settings)
        return s
    many = op.endswith("_many")
    if (not many and len(items) != 1) or (
            not s.status and want_rhs and len(results) != (len(items) if many else 1)):
        raise bad
    entry = op in ("set", "set_many")
    s.items = [parse_item(seg, entry, settings) for seg in items]
    s.results = [parse_result(seg, settings) for seg in results]
    for i, r in enumerate(s.results):
        if op.startswith("delete") != isinstance(r, bool):
            raise ValueError("result %d: %s" % (i, "a delete answers true or false"
                             if op.startswith("delete") else
                             "true/false answer deletes only"))
    return s


def steps_of_line(toks, line, settings):
    """The steps of one step line (a set/get/delete ending in *A..B is the
    whole step repeated)."""
    op = toks[0]
    if op not in OPS:
        raise ValueError("unknown step '%s'" % op)
    last = toks[-1]
    if op in ("set", "get", "delete") and last.startswith("*") and ".." in last:
        return [parse_step(op, seg, line, settings)
                for seg in segments(toks[1:], settings)]
    return [parse_step(op, toks[1:], line, settings)]


def load(path):
    """(settings {name: int}, [(case name, [Step])]) of the case file."""
    settings, cases, current, line = {}, [], None, 0
    try:
        with open(path, encoding="utf-8") as f:
            for line, text in enumerate(f, 1):
                toks = tokenize(text)
                if not toks:
                    continue
                w = toks[0]
                if w == "setting":
                    if current is not None or cases:
                        raise ValueError("settings come before the first case")
                    if len(toks) != 3 or not re.fullmatch(r"[a-z_.]{1,60}", toks[1]):
                        raise ValueError("expected setting NAME SIZE (NAME: a-z _ .)")
                    settings[toks[1]] = size_token(toks[2], settings)
                elif w == "case":
                    if current is not None:
                        raise ValueError("case inside case '%s' (no end)" % current[0])
                    if len(toks) != 2:
                        raise ValueError("expected case NAME")
                    current = (toks[1], [])
                    cases.append(current)
                elif w == "end":
                    if current is None or len(toks) != 1:
                        raise ValueError("'end' without a case")
                    current = None
                elif current is None:
                    raise ValueError("a step outside a case: '%s'" % w)
                else:
                    current[1].extend(steps_of_line(toks, line, settings))
        if current is not None:
            raise ValueError("case '%s' has no end" % current[0])
        if not cases:
            raise ValueError("no cases")
    except (OSError, ValueError) as e:
        raise CaseFileError("%s:%d: %s" % (path, line, e)) from None
    return settings, cases


def daemon_env(settings):
    """The settings as cachewired's environment, as the C runner sets it."""
    return {"CACHEWIRE_" + n.replace(".", "_").upper(): str(v)
            for n, v in settings.items()}


# ---- running them ----------------------------------------------------------------

def expires(expiry):
    """An item's expiry as the Python API's `expires` argument."""
    kind, ms = expiry
    if kind is None:
        return None
    if kind == "ttl":
        return ms / 1000 if ms else 0  # seconds, ms precision; 0 = never
    if kind == "at_rel":
        return datetime.datetime.now(UTC) + datetime.timedelta(milliseconds=ms)
    return EPOCH + datetime.timedelta(milliseconds=ms)  # aware, absolute


def show(v):
    """A result for a message: a miss, a flag, or bytes (length, start)."""
    if v is None or isinstance(v, bool):
        return "a miss" if v is None else str(v).lower()
    return "%d bytes %r%s" % (len(v), v[:24], "..." if len(v) > 24 else "")


def run_step(c, s):
    """Run step s on client c; None, or a string saying what differs."""
    keys = [k for k, _, _ in s.items]
    try:
        if s.op == "set":
            k, v, x = s.items[0]
            got = c.set(k, v, expires(x))
        elif s.op == "get":
            got = [c.get(keys[0])]
        elif s.op == "delete":
            got = [c.delete(keys[0])]
        elif s.op == "clear":
            got = c.clear()
        elif s.op == "get_many":
            got = c.get_many(keys)
        elif s.op == "set_many":
            got = c.set_many([(k, v, expires(x)) if x[0] else (k, v)
                              for k, v, x in s.items])
        elif s.op == "delete_many":
            got = c.delete_many(keys)
        else:
            time.sleep(s.number / 1000)
            return None
    except cachewire.Error as e:
        if s.status is None:
            return str(e)
        if e.status != s.status or (
                s.message and s.message not in e.message.encode()):
            return "wanted %s %r, got %s" % (s.status, s.message or b"", e)
        return None
    if s.status is not None:
        return "wanted %s %r, got success" % (s.status, s.message or b"")
    if s.op == "clear" and got != s.number:
        return "clear: wanted %d removed, got %s" % (s.number, got)
    if s.op in ("get", "delete", "get_many", "delete_many"):
        if len(got) != len(s.results):
            return "wanted %d results, got %d" % (len(s.results), len(got))
        for i, (want, have) in enumerate(zip(s.results, got)):
            if want != have or type(want) is not type(have):
                return "%s[%d]: wanted %s, got %s" % (
                    s.op, i, show(want), show(have))
    return None


class SharedCases(unittest.TestCase):
    """Every case of the file, over tcp:// and over ipc:// (one cachewired
    with the file's settings, namespace "pyconf")."""

    @classmethod
    def setUpClass(cls):
        cls.settings, cls.cases = load(CASES)
        cls.servers = Servers(env=daemon_env(cls.settings)).start()

    @classmethod
    def tearDownClass(cls):
        status = cls.servers.stop()
        if status != 0:
            raise AssertionError("cachewired exited %s on SIGTERM" % status)

    def run_cases(self, url):
        with cachewire.Client(url, timeout=10.0) as c:
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
                                      % (url.split(":")[0], name, CASES, s.line, why))
        print("%s: %d shared cases, %d steps (%s)" % (
            url.split(":")[0], len(self.cases),
            sum(len(steps) for _, steps in self.cases), CASES))

    def test_tcp(self):
        self.run_cases(self.servers.tcp_url)

    def test_ipc(self):
        self.run_cases(self.servers.ipc_url)


if os.environ.get("CW_TEST_CLUSTER_NODES"):
    class SharedCasesOnCluster(SharedCases):
        """The same cases with cachewired on the Redis Cluster that
        tests/integration/test_cluster.sh started (its nodes in
        CW_TEST_CLUSTER_NODES; user tester, password s3cret). Defined
        only there, so it is never skipped."""

        @classmethod
        def setUpClass(cls):
            cls.settings, cls.cases = load(CASES)
            env = daemon_env(cls.settings)
            env.update({
                "CACHEWIRE_REDIS_MODE": "cluster",
                "CACHEWIRE_REDIS_NODES": os.environ["CW_TEST_CLUSTER_NODES"],
                "CACHEWIRE_REDIS_URL": "redis://tester:s3cret@unused/0",
            })
            cls.servers = Servers(env=env).start()


class CaseFileReading(unittest.TestCase):
    """The reader itself, on snippets whose meaning is known."""

    def test_values_sizes_and_repetition(self):
        settings = {"cache.max_key_bytes": 1024}
        self.assertEqual(parse_bytes(r'"a\x00b\xff\n\\\""+seq(3)', settings),
                         b'a\x00b\xff\n\\"\x00\x01\x02')
        self.assertEqual(parse_bytes('rep(cache.max_key_bytes+1,"ab")', settings),
                         b"ab" * 512 + b"a")
        self.assertEqual(size_token("1MiB-2KiB+3", settings), 2**20 - 2048 + 3)
        self.assertEqual(tokenize('get_many "a b", rep(2, "x") *3..1 # c'),
                         ["get_many", '"a b"', ",", 'rep(2, "x")', "*3..1"])
        st = steps_of_line(tokenize('get "k{i}" -> "v{i}" *2..0'), 7, settings)
        self.assertEqual([(s.items[0][0], s.results) for s in st],
                         [(b"k2", [b"v2"]), (b"k1", [b"v1"]), (b"k0", [b"v0"])])
        s = steps_of_line(tokenize(
            'set_many "a" "1" at -5, "b{i}" "" *0..1 -> INVALID_ARGUMENT "x"'),
            1, settings)[0]
        self.assertEqual(s.items, [(b"a", b"1", ("at_rel", -5)),
                                   (b"b0", b"", (None, 0)), (b"b1", b"", (None, 0))])
        self.assertEqual((s.status, s.message), ("INVALID_ARGUMENT", b"x"))

    def test_mistakes_name_the_line(self):
        for bad in ('get "k" -> mis', 'get "k"', 'set "k "v"', 'get "\\x0g" -> miss',
                    'get_many "a", "b" -> miss', 'delete "k" -> "true"',
                    'set "k" "v" tl 5', 'set "k" "v" at 0', 'frob "k"'):
            path = os.path.join(self.tmp, "bad.txt")
            with open(path, "w") as f:
                f.write("setting cache.clear_batch 10\ncase c\n  %s\nend\n" % bad)
            with self.assertRaisesRegex(CaseFileError, re.escape(path) + ":3: "):
                load(path)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cw-test-cases-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
