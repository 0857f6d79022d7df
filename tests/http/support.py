"""Shared harness for the HTTP tests (Python 3 standard library only).

- Server: a temp var dir, a free port on 127.0.0.1, start/stop through run.sh
  (always stopped again: finally + atexit + SIGTERM/SIGINT handler).  The
  web server is run.sh's choice by SUPPORT_SERVER: nginx (the default),
  apache-fcgid, apache-proxy or apache-cgi; SERVER_MODE says which.
- supportctl helpers: users and bearer tokens.
- Client: http.client wrapper returning Response(status, headers, body, json).
- TAP: `ok N - desc` / `not ok N - desc` (+ `# details`), `1..N` at the end,
  exit status 1 if anything failed.  A failing case never stops the others.

Used by test_api.py, test_cgi.py, test_crash.py, test_concurrency.py; each of
them runs alone from the repo root: `python3 tests/http/test_api.py`.
"""

import atexit
import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_SH = os.path.join(REPO, "run.sh")
# run.sh takes the programs from SUPPORT_BUILD when set (another build of this
# tree, e.g. the sanitizer build): use the same ones here.
BUILD = os.environ.get("SUPPORT_BUILD") or REPO
SUPPORTCTL = os.path.join(BUILD, "bin", "supportctl")
CGI_TICKETS = os.path.join(BUILD, "cgi-bin", "tickets")
CGI_MESSAGES = os.path.join(BUILD, "cgi-bin", "messages")
CGI_SESSION = os.path.join(BUILD, "cgi-bin", "session")
CGI_USERS = os.path.join(BUILD, "cgi-bin", "users")


def _routes_sh(mode):
    """The lines of conf/routes.sh MODE (programs, rows): what
    conf/programs.tab says, read as the web servers' routing reads it."""
    p = subprocess.run(["sh", os.path.join(REPO, "conf", "routes.sh"), mode, os.path.join(REPO, "conf")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("conf/routes.sh %s failed: %s" % (mode, p.stderr.decode(errors="replace")))
    return p.stdout.decode().splitlines()


# The programs (conf/programs.tab): every one of them is built and served.
PROGRAMS = tuple(_routes_sh("programs"))
# Its rows in order, the first match wins: (program, path, regular expression).
ROUTE_ROWS = tuple(tuple(line.split("\t")) for line in _routes_sh("rows"))

# The web server run.sh puts in front of the programs (run.sh checks the name).
SERVER_MODE = os.environ.get("SUPPORT_SERVER") or "nginx"
SERVER_MODES = ("nginx", "apache-fcgid", "apache-proxy", "apache-cgi")

API = "/api/support"
TICKETS = API + "/tickets/"
SESSION = API + "/session/"
USERS = API + "/users/"

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Standard cast of the tests.
DEFAULT_USERS = [
    ("alice", "user"),
    ("bob", "user"),
    ("carol", "agent"),
    ("dave", "admin"),
]


def log(msg):
    """A TAP comment line (never parsed as a result)."""
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


# --------------------------------------------------------------------------
# TAP reporter


class Fail(Exception):
    """An assertion failure inside a test case."""


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.last_response = None   # shown in the details of a failing case

    def _report(self, ok, desc, details=()):
        self.n += 1
        desc = " ".join(str(desc).split())
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, desc), flush=True)
        if not ok:
            self.failed += 1
            for d in details:
                for line in str(d).splitlines():
                    print("#   " + line, flush=True)

    def ok(self, cond, desc, *details):
        """Record one result without raising."""
        self._report(bool(cond), desc, details)
        return bool(cond)

    @contextlib.contextmanager
    def case(self, desc):
        """`with t.case("..."):` -- any exception inside becomes `not ok`."""
        self.last_response = None
        try:
            yield self
        except Fail as e:
            det = [str(e)]
            if self.last_response is not None:
                det.append("last response: " + self.last_response.summary())
            self._report(False, desc, det)
        except (KeyboardInterrupt, SystemExit):
            self._report(False, desc, ["interrupted"])
            raise
        except Exception as e:  # noqa: BLE001 -- a broken case is a failed case
            det = ["exception: %r" % (e,)]
            det += traceback.format_exc().splitlines()[-8:]
            if self.last_response is not None:
                det.append("last response: " + self.last_response.summary())
            self._report(False, desc, det)
        else:
            self._report(True, desc)

    def finish(self):
        print("1..%d" % self.n, flush=True)
        print("# %d passed, %d failed" % (self.n - self.failed, self.failed), flush=True)
        return 1 if self.failed else 0


T = TAP()


# --------------------------------------------------------------------------
# assertions (raise Fail)


def short(v, n=300):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def check(cond, what):
    if not cond:
        raise Fail(what)


def eq(actual, expected, what):
    if actual != expected:
        raise Fail("%s: expected %s, got %s" % (what, short(expected), short(actual)))


def status(r, expected, what=""):
    exp = expected if isinstance(expected, (tuple, list, set)) else (expected,)
    if r.status not in exp:
        raise Fail("%sexpected HTTP %s, got %d: %s" % (what + ": " if what else "", "/".join(map(str, exp)),
                                                       r.status, short(r.text(), 400)))


def envelope_problem(r):
    """None if r carries {"error": {"code": str, "message": str, ...}}, else why not."""
    j = r.json
    if not isinstance(j, dict):
        return "body is not a JSON object: %s" % short(r.text(), 200)
    e = j.get("error")
    if not isinstance(e, dict):
        return "no \"error\" object in %s" % short(j, 200)
    if not isinstance(e.get("code"), str) or not e.get("code"):
        return "error.code missing or not a string in %s" % short(j, 200)
    if not re.match(r"^[a-z][a-z0-9_]*$", e["code"]):
        return "error.code is not snake_case: %r" % e["code"]
    if not isinstance(e.get("message"), str) or not e.get("message").strip():
        return "error.message missing or empty in %s" % short(j, 200)
    if "fields" in e and not isinstance(e["fields"], dict):
        return "error.fields is not an object in %s" % short(j, 200)
    ct = r.header("Content-Type") or ""
    if "application/json" not in ct:
        return "error Content-Type is %r, not application/json" % ct
    return None


def error(r, expected_status, code, fields=None):
    """Assert an error response: status, envelope, code, and named fields."""
    status(r, expected_status)
    p = envelope_problem(r)
    if p:
        raise Fail("error envelope: " + p)
    eq(r.json["error"]["code"], code, "error.code")
    for f in fields or ():
        fl = r.json["error"].get("fields")
        if not isinstance(fl, dict) or f not in fl:
            raise Fail("error.fields should name %r: %s" % (f, short(r.json, 300)))


def is_time(v, what):
    if not (isinstance(v, str) and TIME_RE.match(v)):
        raise Fail("%s is not a UTC ISO time with microseconds like "
                   "2026-11-23T10:04:05.123456Z: %r" % (what, v))


def is_uuid(v, what):
    if not (isinstance(v, str) and UUID_RE.match(v)):
        raise Fail("%s is not a canonical UUID: %r" % (what, v))


# --------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, method, path, status, reason, headers, body, elapsed):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body
        self.elapsed = elapsed
        self._json = None
        self._parsed = False

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except Exception:  # noqa: BLE001
                self._json = None
        return self._json

    def summary(self):
        return "%s %s -> %d %s" % (self.method, short(self.path, 120), self.status, short(self.text(), 400))


# every response any Client got, for the "all errors had the envelope" check
SEEN = []


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Client:
    def __init__(self, port, authorization=None, host="127.0.0.1", name=None):
        self.port = port
        self.host = host
        self.authorization = authorization
        self.name = name

    def with_auth(self, authorization):
        return Client(self.port, authorization, self.host)

    def request(self, method, path, json_body=None, body=None, headers=None, timeout=60,
                content_type="application/json", record=True):
        hdrs = {}
        if self.authorization:
            hdrs["Authorization"] = self.authorization
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        if body is not None:
            if isinstance(body, str):
                body = body.encode("utf-8")
            if content_type:
                hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        t0 = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            r = Response(method, path, resp.status, resp.reason, resp.getheaders(), data,
                         time.monotonic() - t0)
        finally:
            conn.close()
        if record:
            T.last_response = r
            SEEN.append((method, path, r.status, envelope_problem(r) if r.status >= 400 else None))
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request("PATCH", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def raw_request(port, data, timeout=10.0, host="127.0.0.1"):
    """Send raw bytes, return (status or None, raw response bytes, seconds).

    Reads until the server closes or `timeout` passes.  Used for requests
    http.client will not send (a Content-Length with no body)."""
    t0 = time.monotonic()
    s = socket.create_connection((host, port), timeout=timeout)
    got = b""
    try:
        s.sendall(data)
        s.settimeout(timeout)
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
            # one response is enough: stop once headers + announced body are in
            head, sep, rest = got.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return (int(m.group(1)) if m else None), got, time.monotonic() - t0


# --------------------------------------------------------------------------
# server


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def require_built(*paths):
    """Exit with a TAP failure when the tree is not built."""
    missing = [p for p in (paths or (RUN_SH, SUPPORTCTL) + tuple(os.path.join(BUILD, "cgi-bin", n)
                                                                   for n in PROGRAMS))
               if not os.access(p, os.X_OK)]
    if missing:
        T.ok(False, "the tree is built (run.sh and programs present)",
             *["missing or not executable: " + m for m in missing])
        sys.exit(T.finish())


def set_conf_key(conf_path, section, key, value):
    """Set `key = value` in [section] of an INI file (add it if missing)."""
    with open(conf_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out, cur, done = [], None, False
    sec_re = re.compile(r"^\s*\[([^\]]+)\]\s*$")
    key_re = re.compile(r"^\s*[;#]?\s*%s\s*[=:]" % re.escape(key))
    for line in lines:
        m = sec_re.match(line)
        if m:
            if cur == section and not done:
                out.append("%s = %s" % (key, value))
                done = True
            cur = m.group(1).strip()
            out.append(line)
            continue
        if cur == section and key_re.match(line):
            if not done:
                out.append("%s = %s" % (key, value))
                done = True
            continue
        out.append(line)
    if not done:
        if cur != section:
            out.append("[%s]" % section)
        out.append("%s = %s" % (key, value))
    with open(conf_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


class User:
    def __init__(self, name, role, email, password, token):
        self.name = name
        self.role = role
        self.email = email
        self.password = password
        self.token = token
        self.id = None          # learnt from API responses when needed

    @property
    def is_staff(self):
        return self.role in ("agent", "admin")


class Server:
    """One var dir + one port; run.sh starts and stops nginx and the programs."""

    _live = []

    def __init__(self, prefix="support-http-", mode=None, clock=False):
        self.mode = mode or SERVER_MODE
        self.var = tempfile.mkdtemp(prefix=prefix)
        self.port = free_port()
        self.conf = os.path.join(self.var, "support.conf")
        # The test clock (docs/testing.md): a file in the store's directory
        # (where the confined workers may read) whose offset every program
        # of this server, and supportctl, adds to the time.
        self.clock = os.path.join(self.var, "data", "test-clock") if clock else None
        self.clock_s = 0.0
        self.users = {}
        self.running = False
        self.keep = False           # keep the var dir (set when something failed)
        self.leftovers = []         # (pid, cmd, wchan) still running after run.sh stop
        Server._live.append(self)

    # -- process control ----------------------------------------------------
    def env(self, **extra):
        e = dict(os.environ)
        e["SUPPORT_VAR"] = self.var
        e["SUPPORT_PORT"] = str(self.port)
        e["SUPPORT_CONF"] = self.conf
        e["SUPPORT_SERVER"] = self.mode
        if self.clock:
            e["SUPPORT_TEST_CLOCK"] = self.clock
        else:
            e.pop("SUPPORT_TEST_CLOCK", None)
        e.update(extra)
        return e

    def move_clock(self, seconds):
        """Move this server's clock on by seconds, at once, for every program
        (the file is replaced by a rename, which they see at their next read
        of the time)."""
        if not self.clock:
            raise RuntimeError("this server was started without a test clock")
        self.clock_s += seconds
        tmp = self.clock + ".new"
        with open(tmp, "w") as f:
            f.write("%.6f\n" % self.clock_s)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.clock)

    def _run_sh(self, *args, timeout=120):
        logf = os.path.join(self.var, "run-sh.log")
        with open(logf, "ab") as out:
            out.write(("\n=== run.sh %s at %s\n" % (" ".join(args), time.strftime("%H:%M:%S"))).encode())
            out.flush()
            # stdout/stderr to a file: background children must not hold a pipe of ours
            p = subprocess.run([RUN_SH] + list(args), cwd=REPO, env=self.env(), stdin=subprocess.DEVNULL,
                               stdout=out, stderr=out, timeout=timeout)
        return p.returncode

    def run_sh_log_tail(self, n=30):
        try:
            with open(os.path.join(self.var, "run-sh.log"), encoding="utf-8", errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    def start(self, timeout=120):
        rc = self._run_sh("--background", timeout=timeout)
        if rc != 0:
            raise RuntimeError("run.sh --background exited %d:\n%s" % (rc, self.run_sh_log_tail()))
        self.running = True
        self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                r = Client(self.port).request("GET", TICKETS, timeout=5, record=False)
                if r.status in (200, 401):
                    return
                last = "HTTP %d" % r.status
            except OSError as e:
                last = repr(e)
            time.sleep(0.2)
        raise RuntimeError("server on port %d not answering: %s" % (self.port, last))

    def stop(self):
        if not os.path.isdir(self.var):
            return
        pids = self.pids()
        try:
            self._run_sh("stop", timeout=60)
        except Exception as e:  # noqa: BLE001
            log("run.sh stop failed: %r" % (e,))
        # belt and braces: anything run.sh started for this var dir that is still there
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(self._ours(p) for p in pids):
            time.sleep(0.1)
        for p in pids:
            if self._ours(p):
                log("pid %d still running after run.sh stop; killing it" % p)
                self.leftovers.append((p, "listed in a pid file", ""))
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
        # anything else started for this var dir (workers whose supervisor is gone)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.processes():
            time.sleep(0.1)
        for p, cmd in self.processes():
            wchan = ""
            with contextlib.suppress(OSError):
                with open("/proc/%d/wchan" % p) as f:
                    wchan = f.read()
            log("pid %d (%s) outlived run.sh stop, waiting in %s; killing it" % (p, cmd[:80], wchan or "?"))
            self.leftovers.append((p, cmd[:120], wchan))
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        self.running = False

    def processes(self):
        """Live processes whose command line names this var dir: ours."""
        pat = re.compile(re.escape(self.var) + r"(/|\s|$)")
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
                with open("/proc/%s/stat" % d) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z" and pat.search(cmd) and int(d) != os.getpid():
                out.append((int(d), cmd.strip()))
        return out

    def restart(self):
        self.stop()
        self.start()

    def pid_files(self):
        d = os.path.join(self.var, "run")
        try:
            return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".pid"))
        except OSError:
            return []

    def pids(self):
        out = []
        for f in self.pid_files():
            try:
                with open(f) as fh:
                    out.append(int(fh.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def _ours(self, pid):
        """True if pid is alive and its command line or cwd is about this tree / var dir."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            return False
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return False
        except (OSError, IndexError):
            pass
        return (self.var in cmd or REPO in cmd or "cgi-bin/" in cmd or "nginx" in cmd
                or "apache2" in cmd)

    def report_logs(self, lines=10):
        """After a failure: show the tails of the logs, and keep them (in
        $TEST_OUT when set, else by keeping the var dir)."""
        logdir = os.path.join(self.var, "log")
        files = [os.path.join(self.var, "run-sh.log")]
        with contextlib.suppress(OSError):
            files += sorted(os.path.join(logdir, f) for f in os.listdir(logdir))
        for f in files:
            if os.path.basename(f) == "nginx-access.log":
                continue
            with contextlib.suppress(OSError):
                with open(f, encoding="utf-8", errors="replace") as fh:
                    tail = fh.read().splitlines()[-lines:]
                if tail:
                    log("--- tail of %s" % f)
                    log("\n".join(tail))
        out = os.environ.get("TEST_OUT")
        if out and os.path.isdir(out):
            dest = os.path.join(out, "%s-%s" % (os.path.splitext(os.path.basename(sys.argv[0]))[0],
                                                os.path.basename(self.var)))
            with contextlib.suppress(OSError):
                os.makedirs(dest, exist_ok=True)
                for f in files + [self.conf]:
                    if os.path.isfile(f):
                        shutil.copy(f, dest)
                log("logs kept in " + dest)
        else:
            self.keep = True

    def cleanup(self):
        if self.running:
            self.stop()
        if self.keep:
            log("var dir kept for inspection: " + self.var)
        else:
            shutil.rmtree(self.var, ignore_errors=True)
        with contextlib.suppress(ValueError):
            Server._live.remove(self)

    # -- supportctl ---------------------------------------------------------
    def store_owner(self):
        """(uid, gid) of the store when it is not ours, else None.

        run.sh run as root gives the store to the user Apache runs the
        programs as (root is refused by Debian's Apache): supportctl must
        run as that user too, or the files it makes would be root's."""
        try:
            st = os.stat(os.path.join(self.var, "data"))
        except OSError:
            return None
        if os.geteuid() != 0 or st.st_uid == 0:
            return None
        return st.st_uid, st.st_gid

    def ctl(self, *args, input=None, timeout=60):
        owner = self.store_owner()

        def become_owner():
            os.setgroups([])
            os.setgid(owner[1])
            os.setuid(owner[0])

        return subprocess.run([SUPPORTCTL, "--conf", self.conf] + list(args), cwd=REPO, env=self.env(),
                              input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              preexec_fn=become_owner if owner else None)

    def add_user(self, name, role="user", email=None, password=None):
        email = email or "%s@example.com" % name
        password = password or "pw-%s-Secret-1" % name
        p = self.ctl("user", "add", name, "--email", email, "--role", role, "--password-stdin",
                     input=(password + "\n").encode())
        if p.returncode != 0:
            raise RuntimeError("supportctl user add %s failed (%d): %s %s" % (
                name, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
        p = self.ctl("token", "create", name)
        lines = [l.strip() for l in p.stdout.decode().splitlines() if l.strip()]
        if p.returncode != 0 or len(lines) != 1:
            raise RuntimeError("supportctl token create %s failed (%d): %r %s" % (
                name, p.returncode, p.stdout, p.stderr.decode(errors="replace")))
        u = User(name, role, email, password, lines[0])
        self.users[name] = u
        return u

    def add_default_users(self, extra=()):
        for name, role in list(DEFAULT_USERS) + list(extra):
            self.add_user(name, role)

    # -- clients ------------------------------------------------------------
    def client(self, name=None, how="bearer"):
        if name is None:
            return Client(self.port)
        u = self.users[name]
        if how == "bearer":
            return Client(self.port, "Bearer " + u.token, name=name)
        if how == "basic":
            return Client(self.port, basic(u.name, u.password), name=name)
        if how == "email":
            return Client(self.port, basic(u.email, u.password), name=name)
        raise ValueError(how)


def _cleanup_all():
    for s in list(Server._live):
        with contextlib.suppress(Exception):
            s.cleanup()


atexit.register(_cleanup_all)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def standard_server(extra_users=(), conf=None, mode=None, clock=False):
    """Start a server with the standard users; returns it (stopped at exit).
    mode: the web server (SERVER_MODES), else SUPPORT_SERVER's; clock: run
    it with a test clock (Server.move_clock)."""
    require_built()
    srv = Server(mode=mode, clock=clock)
    if conf:
        # run.sh writes support.conf only when missing: let it write one, then edit it
        srv.start()
        srv.stop()
        for (section, key), value in conf.items():
            set_conf_key(srv.conf, section, key, value)
    srv.start()
    srv.add_default_users(extra_users)
    return srv


def check_no_leftovers(srv):
    """A test case: every run.sh stop of this run left no process behind."""
    with T.case("run.sh stop left no process of the server behind (no orphaned workers)"):
        srv.stop()
        check(not srv.leftovers, "processes that outlived run.sh stop: %s"
              % "; ".join("pid %d %s (waiting in %s)" % l for l in srv.leftovers[:6]))


def run_main(body):
    """Run `body()` then print the TAP plan and exit with its status."""
    try:
        body()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 -- setup failure
        T.ok(False, "test script ran to the end", "exception: %r" % (e,),
             *traceback.format_exc().splitlines()[-12:])
    finally:
        if T.failed:
            for s in Server._live:
                s.report_logs()
        _cleanup_all()
    sys.exit(T.finish())
