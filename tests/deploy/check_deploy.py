#!/usr/bin/python3
"""Checks of deploy/ against the real programs (run by check_deploy.sh).

Usage: check_deploy.py REPO PREFIX BUILD  (PREFIX: where deploy/install.sh
put BUILD, the build tree). Each check prints "ok - what" or "FAIL - what: why"; the last line is
"N passed, N failed", and the exit status is 1 when anything failed.
Needs Debian's python3-yaml (hence /usr/bin/python3), apt-cache, dpkg,
systemd-analyze and redis-server (deploy/local/install-deps.sh --test).
"""
import atexit
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import fnmatch

import yaml

REPO, PREFIX, BUILD = sys.argv[1], sys.argv[2], sys.argv[3]
DAEMON = os.path.join(PREFIX, "bin", "cachewired")
CLI = os.path.join(PREFIX, "bin", "cachewire")
TMP = tempfile.mkdtemp(prefix="cw-deploy-")
atexit.register(shutil.rmtree, TMP, True)  # also when a check crashes
SERVICE_PORT, ADMIN_PORT, GRPC_PORT = 7420, 7421, 7422
# Where the deployments put the configuration and the secrets.
CONFIG_PATH = "/etc/cachewire/cachewire.yaml"
results = [0, 0]


def check(ok, what, why=""):
    results[0 if ok else 1] += 1
    print(("ok - %s" % what) if ok else ("FAIL - %s: %s" % (what, why)), flush=True)
    return ok


def rel(p):
    return os.path.relpath(p, REPO)


def read(p):
    with open(os.path.join(REPO, p)) as f:
        return f.read()


def run(argv, env=None, timeout=30, **kw):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, **kw)


def clean_env(extra=None):
    """The environment without any CACHEWIRE_* variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CACHEWIRE_")}
    env["LD_LIBRARY_PATH"] = os.path.join(PREFIX, "lib")
    env.update(extra or {})
    return env


def tmpfile(name, text):
    p = os.path.join(TMP, name)
    with open(p, "w") as f:
        f.write(text)
    return p


# ---- 1. every YAML file under deploy/ parses -------------------------------
docs = {}  # repo-relative path -> list of documents
for p in sorted(glob.glob(os.path.join(REPO, "deploy", "**", "*.y*ml"), recursive=True)):
    try:
        with open(p) as f:
            docs[rel(p)] = [d for d in yaml.safe_load_all(f) if d is not None]
        check(docs[rel(p)] != [], "%s parses as YAML" % rel(p), "no document in it")
    except yaml.YAMLError as e:
        check(False, "%s parses as YAML" % rel(p), str(e).replace("\n", " "))
for need in ["deploy/compose.yaml", "deploy/config/cachewire.yaml"]:
    check(need in docs, "%s exists" % need, "missing")
k8s = {}  # kind -> document
for p, ds in docs.items():
    if p.startswith("deploy/k8s/"):
        for d in ds:
            k8s[d.get("kind")] = d
for kind in ["Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"]:
    check(kind in k8s, "deploy/k8s/ has a %s" % kind, "none found")
compose = (docs.get("deploy/compose.yaml") or [{}])[0]
services = compose.get("services", {})
for s in ["redis", "cachewired", "smoke"]:
    check(s in services, "compose service %s exists" % s, "missing")
cm_text = k8s.get("ConfigMap", {}).get("data", {}).get("cachewire.yaml", "")
try:
    cm_conf = yaml.safe_load(cm_text) or {}
    check(cm_conf != {}, "the ConfigMap's cachewire.yaml parses", "empty")
except yaml.YAMLError as e:
    cm_conf = {}
    check(False, "the ConfigMap's cachewire.yaml parses", str(e))
cm_file = tmpfile("configmap-cachewire.yaml", cm_text)

# ---- the Dockerfile: instructions per stage --------------------------------
dockerfile = "deploy/docker/Dockerfile"
instrs = []  # (stage index, INSTRUCTION, argument text)
stage = -1
for line in re.sub(r"\\\n", " ", read(dockerfile)).splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    op, _, arg = line.partition(" ")
    op = op.upper()
    stage += op == "FROM"
    instrs.append((stage, op, arg.strip()))
final = stage
docker_env = {}
for st, op, arg in instrs:
    if op == "ENV" and st == final:
        for tok in shlex.split(arg):
            k, _, v = tok.partition("=")
            docker_env[k] = v


# ---- 2. the daemon rejects what it should, so acceptance means something ----
def check_config(env, config=None):
    argv = [DAEMON] + (["--config", config] if config else []) + ["--check-config"]
    r = run(argv, env=clean_env(env))
    return r.returncode, (r.stdout + r.stderr).strip()


rc, out = check_config({"CACHEWIRE_NOT_A_KEY": "1"})
check(rc == 2 and "unknown variable" in out,
      "cachewired rejects CACHEWIRE_NOT_A_KEY (else acceptance proves nothing)",
      "exit %d: %s" % (rc, out))
rc, out = check_config({"CACHEWIRE_LOG_LEVEL": "info"})
check(rc == 0, "cachewired accepts CACHEWIRE_LOG_LEVEL=info", "exit %d: %s" % (rc, out))

# ---- 3. every CACHEWIRE_* name in deploy/ is accepted, with its values -------
tokens = tmpfile("tokens.yaml", "- token: check-deploy-token-0123456789\n  namespaces: [cachewire]\n")
password = tmpfile("redis_password", "check-deploy-password\n")


def tls_files():
    if not os.path.exists(os.path.join(TMP, "tls.crt")):
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=cachewire", "-keyout", os.path.join(TMP, "tls.key"),
             "-out", os.path.join(TMP, "tls.crt")])
    return os.path.join(TMP, "tls.crt"), os.path.join(TMP, "tls.key")


def local_value(name, value, config):
    """The value to test with here: files named by the deployments (mounted
    secrets, the mounted configuration) become local files of the same kind."""
    if name == "CACHEWIRE_CONFIG":
        return config
    if name == "CACHEWIRE_REDIS_PASSWORD_FILE":
        return password
    if name == "CACHEWIRE_AUTH_TOKENS_FILE":
        return tokens
    if name in ("CACHEWIRE_TLS_CERT_FILE", "CACHEWIRE_TLS_CLIENT_CA_FILE"):
        return tls_files()[0]
    if name == "CACHEWIRE_TLS_KEY_FILE":
        return tls_files()[1]
    return value


# Literal NAME=VALUE (comments, shell, systemd) anywhere under deploy/, and
# the structured env of compose and k8s.
names, literals = set(), {}
for p in sorted(glob.glob(os.path.join(REPO, "deploy", "**", "*"), recursive=True)):
    if not os.path.isfile(p):
        continue
    text = open(p, errors="replace").read()
    names.update(re.findall(r"\bCACHEWIRE_[A-Z0-9_]+", text))
    for n, v in re.findall(r"\b(CACHEWIRE_[A-Z0-9_]+)=([^\s\"'`,;)]+)", text):
        if "$" not in v:  # shell expansions are not literal
            literals.setdefault(n, set()).add(v)
compose_env = services.get("cachewired", {}).get("environment", {}) or {}
if isinstance(compose_env, list):
    compose_env = dict(e.split("=", 1) for e in compose_env)
container = (k8s.get("Deployment", {}).get("spec", {}).get("template", {}).get("spec", {})
             .get("containers", [{}]))[0]
k8s_env = {e["name"]: str(e.get("value", "")) for e in container.get("env", [])}
unit = read("deploy/systemd/cachewired.service")
unit_env = dict(re.findall(r"^Environment=(CACHEWIRE_[A-Z0-9_]+)=(\S*)", unit, re.M))
for env in (docker_env, compose_env, k8s_env, unit_env):
    for n, v in env.items():
        names.add(n)
        literals.setdefault(n, set()).add(str(v))
check(len(names) >= 5, "deploy/ names CACHEWIRE_* variables", "found only %s" % sorted(names))
default_config = os.path.join(REPO, "deploy", "config", "cachewire.yaml")
for n in sorted(names):
    values = literals.get(n) or {None}
    for v in sorted(values, key=str):
        lv = local_value(n, v, default_config)
        if lv is None:  # no value to test: the name alone must be known
            rc, out = check_config({n: ""})
            check("unknown variable" not in out, "%s is a variable cachewired knows" % n, out)
        else:
            rc, out = check_config({n: lv})
            check(rc == 0, "cachewired --check-config accepts %s=%s" % (n, v),
                  "exit %d: %s" % (rc, out))

# ---- 4. configuration files, alone and with each deployment's environment ----
for p in sorted(glob.glob(os.path.join(REPO, "deploy", "config", "*.yaml"))) + [cm_file]:
    rc, out = check_config({}, p)
    name = rel(p) if p.startswith(REPO) else "the ConfigMap's cachewire.yaml"
    check(rc == 0, "%s passes --check-config" % name, "exit %d: %s" % (rc, out))
compose_mounts = [v.split(":") for v in services.get("cachewired", {}).get("volumes", [])
                  if isinstance(v, str)]
compose_config = next((os.path.normpath(os.path.join(REPO, "deploy", m[0]))
                       for m in compose_mounts if m[1] == CONFIG_PATH), None)
check(compose_config is not None and os.path.isfile(compose_config),
      "compose mounts an existing file at %s" % CONFIG_PATH, "mounts %s" % compose_mounts)
contexts = {  # deployment -> (its configuration file, its environment)
    "Dockerfile": (default_config, docker_env),
    "compose cachewired": (compose_config or default_config, {**docker_env, **compose_env}),
    "k8s Deployment": (cm_file, {**docker_env, **k8s_env}),
    "systemd unit": (os.path.join(REPO, "config", "cachewire.yaml"), unit_env),
}
for ctx, (conf, env) in contexts.items():
    local = {n: local_value(n, v, conf) for n, v in env.items()}
    local.setdefault("CACHEWIRE_CONFIG", conf)
    rc, out = check_config(local)
    check(rc == 0, "%s: configuration + environment pass --check-config" % ctx,
          "exit %d: %s" % (rc, out))


# ---- 5. ports and probe paths agree with the listen and admin URLs -----------
def effective(conf_path, env):
    with open(conf_path) as f:
        conf = yaml.safe_load(f) or {}
    listen = env.get("CACHEWIRE_LISTEN")
    listen = listen.split(",") if listen else conf.get("listen", [])
    listen = [listen] if isinstance(listen, str) else listen
    admin = env.get("CACHEWIRE_ADMIN_LISTEN", (conf.get("admin") or {}).get("listen"))
    grpc = env.get("CACHEWIRE_GRPC_LISTEN")
    grpc = grpc.split(",") if grpc else (conf.get("grpc") or {}).get("listen", [])
    grpc = [grpc] if isinstance(grpc, str) else grpc
    return listen, admin, grpc


def host_port(url):
    m = re.match(r"^[a-z0-9+]+://(\[[^]]*\]|[^:/]*):(\d+)$", url or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


WILDCARD = ("0.0.0.0", "", "*", "[::]")
for ctx in ["Dockerfile", "compose cachewired", "k8s Deployment"]:
    conf, env = contexts[ctx]
    listen, admin, grpc = effective(conf, env)
    tcp = [host_port(u) for u in listen if u.startswith(("tcp://", "tls+tcp://"))]
    check(any(h in WILDCARD and p == SERVICE_PORT for h, p in tcp),
          "%s listens on port %d on all interfaces" % (ctx, SERVICE_PORT), "listen: %s" % listen)
    check(not any(u.startswith("ipc:///tmp/") for u in listen),
          "%s has no ipc:///tmp listener (read-only root filesystem)" % ctx, "listen: %s" % listen)
    h, p = host_port(admin)
    check(admin and admin.startswith("http://") and h in WILDCARD and p == ADMIN_PORT,
          "%s: admin on http://0.0.0.0:%d" % (ctx, ADMIN_PORT), "admin.listen: %s" % admin)
    check(any(host_port("x://" + g.replace("tls://", "")) in [(w, GRPC_PORT) for w in WILDCARD]
              for g in grpc),
          "%s: gRPC on 0.0.0.0:%d" % (ctx, GRPC_PORT), "grpc.listen: %s" % grpc)

exposed = {int(x.split("/")[0]) for st, op, a in instrs if op == "EXPOSE" and st == final
           for x in a.split()}
check(exposed == {SERVICE_PORT, ADMIN_PORT, GRPC_PORT}, "Dockerfile EXPOSEs 7420, 7421 and 7422",
      str(exposed))
cw = services.get("cachewired", {})
published = {int(str(p).rsplit(":", 1)[1].split("/")[0]) for p in cw.get("ports", [])}
check(published == {SERVICE_PORT, ADMIN_PORT, GRPC_PORT},
      "compose publishes container ports 7420, 7421 and 7422",
      str(published))
smoke_cmd = "\n".join(services.get("smoke", {}).get("entrypoint", [])[2:])
urls = set(re.findall(r"--url (\S+)", smoke_cmd))
check(urls == {"tcp://cachewired:%d" % SERVICE_PORT}, "compose smoke dials tcp://cachewired:7420",
      str(urls))
check(cw.get("depends_on", {}).get("redis", {}).get("condition") == "service_healthy"
      and services.get("smoke", {}).get("depends_on", {}).get("cachewired", {})
      .get("condition") == "service_healthy",
      "compose waits for healthy redis and cachewired", "depends_on conditions")

cports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
check(sorted(cports.values()) == [SERVICE_PORT, ADMIN_PORT, GRPC_PORT],
      "k8s containerPorts are 7420, 7421, 7422", str(cports))


def resolve(port):
    return cports.get(port) if isinstance(port, str) else port


g = (container.get("livenessProbe") or {}).get("httpGet", {})
check(g.get("path") == "/healthz" and resolve(g.get("port")) == ADMIN_PORT,
      "k8s livenessProbe GETs /healthz on %d" % ADMIN_PORT, str(g))
g = (container.get("readinessProbe") or {}).get("grpc", {})
check(resolve(g.get("port")) == GRPC_PORT and g.get("service", "") == "",
      "k8s readinessProbe asks gRPC health on %d" % GRPC_PORT, str(g))
svc = k8s.get("Service", {}).get("spec", {})
sp = svc.get("ports", [{}])
check(sorted((p.get("port"), resolve(p.get("targetPort"))) for p in sp)
      == [(SERVICE_PORT, SERVICE_PORT), (GRPC_PORT, GRPC_PORT)],
      "k8s Service: ports 7420 and 7422 -> the container's", str(sp))
dep = k8s.get("Deployment", {}).get("spec", {})
labels = dep.get("template", {}).get("metadata", {}).get("labels", {})
for what, sel in [("Deployment", dep.get("selector", {}).get("matchLabels")),
                  ("Service", svc.get("selector")),
                  ("PodDisruptionBudget", k8s.get("PodDisruptionBudget", {}).get("spec", {})
                   .get("selector", {}).get("matchLabels"))]:
    check(bool(sel) and all(labels.get(k) == v for k, v in sel.items()),
          "k8s %s selects the pods" % what, "%s vs labels %s" % (sel, labels))
ann = dep.get("template", {}).get("metadata", {}).get("annotations", {})
check(ann.get("prometheus.io/port") in (None, str(ADMIN_PORT)), "k8s scrape port is 7421", str(ann))
check(dep.get("replicas") == 2, "k8s Deployment has 2 replicas", str(dep.get("replicas")))
sc = container.get("securityContext", {})
check(sc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
      and sc.get("allowPrivilegeEscalation") is False
      and sc.get("capabilities", {}).get("drop") == ["ALL"]
      and {"requests", "limits"} <= set(container.get("resources", {})),
      "k8s container: non-root, read-only root, no escalation, no capabilities, resources",
      str(sc))
mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
check(mounts.get(os.path.dirname(CONFIG_PATH)) == "config"
      and os.path.dirname(k8s_env.get("CACHEWIRE_REDIS_PASSWORD_FILE", "?")) in mounts,
      "k8s mounts the ConfigMap at /etc/cachewire and the password file's directory",
      str(mounts))

# ---- 6. the Dockerfile calls only scripts CI runs; its COPY sources exist ----
# Scripts CI reaches: .ci/run and, recursively, every *.sh path named in a
# reached file (tests/CMakeLists.txt names the ctest scripts).
reached, todo = set(), [".ci/run"]
while todo:
    f = todo.pop()
    if f in reached or not os.path.isfile(os.path.join(REPO, f)):
        continue
    reached.add(f)
    if f == "tests/run.sh":
        todo.append("tests/CMakeLists.txt")  # it runs ctest on the tree
    code = re.sub(r"(^|\s)#.*", "", read(f))  # comments do not run anything
    for ref in re.findall(r"([\w.-]+(?:/[\w.-]+)*\.sh)\b", code):
        for cand in (ref, os.path.normpath(os.path.join(os.path.dirname(f), ref))):
            if os.path.isfile(os.path.join(REPO, cand)):
                todo.append(cand)
for need in ["tests/run.sh", "deploy/local/install-deps.sh", "tests/deploy/check_deploy.sh",
             "deploy/install.sh"]:
    check(need in reached, "CI runs %s (reached from .ci/run)" % need,
          "not reached; register tests/deploy/check_deploy.sh in tests/CMakeLists.txt"
          if need.startswith(("tests/deploy", "deploy/install")) else "not reached")

SYSTEM = {"ldconfig", "useradd", "rm"}  # plain system commands allowed in RUN
ignore = [l.strip() for l in read(".dockerignore").splitlines()
          if l.strip() and not l.startswith("#")] if os.path.exists(
              os.path.join(REPO, ".dockerignore")) else []
copied = {}  # stage -> repo paths copied into it
for st, op, arg in instrs:
    if op == "FROM":
        check(arg.split()[0] == "debian:bookworm-slim", "Dockerfile stage %d is FROM "
              "debian:bookworm-slim" % st, arg)
    elif op == "COPY" and "--from=" not in arg:
        srcs = shlex.split(arg)[:-1]
        for s in srcs:
            ok = os.path.exists(os.path.join(REPO, s))
            top = os.path.normpath(s).split("/")[0]
            ign = [i for i in ignore if fnmatch.fnmatch(top, i)] if top != "." else []
            check(ok and not ign, "Dockerfile COPY source %s exists and is in the context" % s,
                  "missing" if not ok else "excluded by .dockerignore %s" % ign)
            copied.setdefault(st, set()).add(os.path.normpath(s))
    elif op == "COPY":
        src = shlex.split(arg)[1]
        m = [a for s, o, a in instrs if o == "RUN" and "deploy/install.sh" in a]
        dest = m and re.search(r"--destdir (\S+)", m[0]) and re.search(r"--prefix (\S+)", m[0])
        want = dest and (re.search(r"--destdir (\S+)", m[0]).group(1)
                         + re.search(r"--prefix (\S+)", m[0]).group(1))
        check(bool(want) and os.path.normpath(src) == os.path.normpath(want),
              "Dockerfile copies what deploy/install.sh staged (%s)" % src, "staged at %s" % want)
    elif op == "RUN":
        for cmd in re.split(r"&&|\|\||;|\|", arg):
            words = shlex.split(cmd)
            while words and re.match(r"^\w+=", words[0]):
                words.pop(0)
            if not words:
                continue
            w = words[0]
            if "/" in w and not w.startswith("/"):
                inside = "." in copied.get(st, set()) or os.path.normpath(w) in copied.get(st, set())
                check(w in reached and inside,
                      "Dockerfile RUN %s: a script CI runs, copied into the stage" % w,
                      "CI does not run it" if w not in reached else "not COPYed first")
            else:
                check(w in SYSTEM, "Dockerfile RUN %s is an allowed system command" % w,
                      "call a project script instead (allowed: %s)" % sorted(SYSTEM))
last = {op: a for st, op, a in instrs if st == final}
check(re.search(r"install-deps\.sh --runtime", " ".join(a for s, o, a in instrs
                                                         if s == final and o == "RUN")) is not None,
      "runtime stage installs install-deps.sh --runtime", "not found")
check(last.get("USER") not in (None, "root", "0"), "runtime stage runs as a non-root USER",
      str(last.get("USER")))
check(last.get("ENTRYPOINT") == '["cachewired"]', "ENTRYPOINT is cachewired",
      str(last.get("ENTRYPOINT")))
check(re.search(r'CMD \["cachewire", *"health"\]', last.get("HEALTHCHECK", "")) is not None,
      'HEALTHCHECK is CMD ["cachewire", "health"]', str(last.get("HEALTHCHECK")))
check(docker_env.get("CACHEWIRE_CONFIG") == CONFIG_PATH
      and any(o == "COPY" and a.endswith(" " + CONFIG_PATH) for s, o, a in instrs if s == final),
      "image's CACHEWIRE_CONFIG is the file it COPYs", str(docker_env))

# ---- 7. runtime packages exist and provide every library the binaries load ----
with open("/etc/os-release") as f:
    osr = f.read()
check('VERSION_ID="12"' in osr and "ID=debian" in osr,
      "package names are checked on Debian 12 (the image's base)", "not Debian 12")
r = run([os.path.join(REPO, "deploy/local/install-deps.sh"), "--runtime", "--list"])
runtime = r.stdout.split()
check(r.returncode == 0 and runtime, "install-deps.sh --runtime --list names packages", r.stderr)
for pkg in runtime:
    r = run(["apt-cache", "show", "--no-all-versions", pkg])
    check(r.returncode == 0 and "Package: %s" % pkg in r.stdout,
          "Debian package %s exists (apt-cache show)" % pkg, r.stderr.strip() or "not found")
# apt installs the list and its dependencies (Depends, Pre-Depends).
r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + runtime)
closure = {l.strip() for l in r.stdout.splitlines() if l and not l.startswith(" ")}
# A sanitizer build (tests/run.sh's second pass) also loads libasan/libubsan;
# the image installs the plain build, so those (and their dependencies) are
# let through for such a build only.
with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
    sanitized = re.search(r"^CW_SANITIZE:BOOL=(ON|1|TRUE)$", f.read(), re.M) is not None
if sanitized:
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
             "libasan8", "libubsan1"])
    closure |= {l.strip() for l in r.stdout.splitlines() if l and not l.startswith(" ")}
    print("# sanitizer build: libasan8, libubsan1 and their dependencies allowed")


def owner(path):
    cands = [path, os.path.realpath(path)]
    cands += [c[4:] if c.startswith("/usr/") else "/usr" + c for c in list(cands)]
    for c in cands:
        r = run(["dpkg", "-S", c])
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None


elves = [p for p in glob.glob(os.path.join(PREFIX, "bin", "*")) +
         glob.glob(os.path.join(PREFIX, "lib", "*.so*")) if os.path.isfile(p)]
check(os.path.join(PREFIX, "bin", "cachewire") in elves and DAEMON in elves,
      "deploy/install.sh put cachewired and cachewire in PREFIX/bin", str(elves))
for b in sorted({os.path.realpath(e) for e in elves}):
    r = run(["ldd", b], env=clean_env())
    bad = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+)(?: => (\S+))?", line)
        lib, path = m.group(1), m.group(2) or (m.group(1) if m.group(1).startswith("/") else None)
        if "not found" in line:
            bad.append("%s not found" % lib)
        elif path and not os.path.realpath(path).startswith(os.path.realpath(PREFIX)):
            pkg = owner(path)
            if pkg not in closure:
                bad.append("%s is from %s" % (path, pkg))
    check(r.returncode == 0 and not bad, "%s: every library it loads (ldd) comes from "
          "install-deps.sh --runtime's packages (or theirs)" % os.path.basename(b),
          "; ".join(bad) or r.stderr)
for b, args in [(DAEMON, ["--version"]), (CLI, ["--version"])]:
    r = run([b] + args, env=clean_env())
    check(r.returncode == 0 and "0." in r.stdout, "installed %s --version runs" %
          os.path.basename(b), (r.stdout + r.stderr).strip())

# ---- 8. systemd unit ------------------------------------------------------------
default_prefix = re.search(r"prefix=(/[\w/]+)", read("deploy/install.sh")).group(1)
execs = re.findall(r"^ExecStart=(\S+)", unit, re.M)
check(execs == [default_prefix + "/bin/cachewired"],
      "ExecStart is deploy/install.sh's default %s/bin/cachewired" % default_prefix, str(execs))
for key in ["Type=simple", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes",
            "PrivateTmp=yes", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service",
            "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
            "RestrictAddressFamilies="]:
    check(re.search(r"^" + re.escape(key), unit, re.M) is not None, "unit has %s" % key.strip(),
          "missing")
check(re.search(r"^(DynamicUser=yes|User=\w+)", unit, re.M) is not None,
      "unit runs as DynamicUser or a dedicated user", "neither")
udir = os.path.join(TMP, "systemd")
os.makedirs(udir)
# Verify a copy whose commands point at the installed binary (systemd-analyze
# insists they exist). Any output is a warning systemd would log: fail on it.
tmp_unit = os.path.join(udir, "cachewired.service")
with open(tmp_unit, "w") as f:
    f.write(unit.replace(default_prefix + "/bin/", PREFIX + "/bin/"))
r = run(["systemd-analyze", "verify", "./cachewired.service"], cwd=udir)
out = (r.stdout + r.stderr).strip()
check(r.returncode == 0 and out == "", "systemd-analyze verify cachewired.service", out)
r = run(["systemd-analyze", "security", "--offline=true", "--threshold=20",
         "./cachewired.service"], cwd=udir)
score = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
check(r.returncode == 0, "systemd-analyze security: exposure <= 2.0",
      score.group(0) if score else (r.stdout + r.stderr)[-300:])


# ---- 9. run it: compose's Redis command, the daemon, probes, health, smoke -----
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def unescape(cmd):  # compose's $$ -> $
    return cmd.replace("$$", "$")


procs = []
try:
    sock = os.path.join(TMP, "redis.sock")
    # compose's redis command with the secret path and a private socket.
    rcmd = unescape(services["redis"]["command"][2]).replace("/run/secrets/redis_password",
                                                            password)
    rcmd = rcmd.replace("redis-server -", "redis-server - --port 0 --unixsocket %s --dir %s"
                        % (sock, TMP), 1)
    procs.append(subprocess.Popen(["sh", "-c", rcmd], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    hc = services["redis"]["healthcheck"]["test"][1]
    hc = unescape(hc).replace("/run/secrets/redis_password", password).replace(
        "redis-cli", "redis-cli -s " + sock)
    r = run(["sh", "-c", hc])
    check(r.returncode == 0, "compose's redis command serves and its healthcheck passes",
          r.stdout + r.stderr)
    r = run(["redis-cli", "-s", sock, "ping"])
    check("NOAUTH" in r.stdout + r.stderr, "compose's redis requires the password", r.stdout)

    sport, aport, gport = free_port(), free_port(), free_port()
    url, admin = "tcp://127.0.0.1:%d" % sport, "http://127.0.0.1:%d" % aport
    conf, env = contexts["compose cachewired"]
    env = {n: local_value(n, v, conf) for n, v in env.items()}
    env.update({"CACHEWIRE_CONFIG": conf, "CACHEWIRE_REDIS_URL": "unix://" + sock,
                "CACHEWIRE_LISTEN": url, "CACHEWIRE_ADMIN_LISTEN": admin,
                "CACHEWIRE_GRPC_LISTEN": "127.0.0.1:%d" % gport})
    log = open(os.path.join(TMP, "cachewired.log"), "w")
    daemon = subprocess.Popen([DAEMON], env=clean_env(env), stdout=log, stderr=log)
    procs.append(daemon)

    def get(path):
        try:
            with urllib.request.urlopen(admin + path, timeout=2) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return None, str(e)

    status = (None, "")
    for _ in range(50):  # /readyz turns 200 once Redis answered a PING
        status = get("/readyz")
        if status[0] == 200:
            break
        time.sleep(0.1)
    check(status == (200, "ready\n"), "GET /readyz -> 200 ready (deployment's config, real "
          "Redis with password file)", str(status))
    check(get("/healthz") == (200, "ok\n"), "GET /healthz -> 200 ok", str(get("/healthz")))
    # what the kubelet's gRPC readiness probe asks: Health/Check, service ""
    # (an empty HealthCheckRequest); SERVING is HealthCheckResponse{status: 1}
    import grpc
    with grpc.insecure_channel("127.0.0.1:%d" % gport) as ch:
        try:
            got = ch.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=5)
        except grpc.RpcError as e:
            got = "%s: %s" % (e.code(), e.details())
    check(got == b"\x08\x01", "gRPC Health/Check (the readiness probe) -> SERVING", repr(got))
    for args, what in [(["health"], "the image's HEALTHCHECK"),
                       (["health", "--ready"], "compose's healthcheck")]:
        r = run([CLI] + args + ["--admin", admin], env=clean_env())
        check(r.returncode == 0, "cachewire %s (%s) exits 0" % (" ".join(args), what),
              "exit %d: %s" % (r.returncode, (r.stdout + r.stderr).strip()))
    smoke = unescape(smoke_cmd).replace("tcp://cachewired:%d" % SERVICE_PORT, url)
    r = run(["sh", "-c", smoke], env=clean_env({"PATH": PREFIX + "/bin:" + os.environ["PATH"]}))
    check(r.returncode == 0 and "smoke: OK" in r.stdout, "compose's smoke command passes",
          "exit %d: %s" % (r.returncode, (r.stdout + r.stderr).strip()))
    with open(os.path.join(TMP, "cachewired.log")) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    check(lines and all(l.startswith("{") and '"msg":' in l for l in lines),
          "log.format json: every log line is a JSON object", "\n".join(lines[:3]))
    daemon.send_signal(signal.SIGTERM)
    check(daemon.wait(timeout=20) == 0, "SIGTERM: cachewired exits 0", str(daemon.returncode))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()

print("%d passed, %d failed" % tuple(results))
sys.exit(1 if results[1] else 0)
