#!/usr/bin/env python3
"""The programs as plain CGI: one process per request, CGI environment, body on
stdin, response on stdout (`Status:` and headers, blank line, body).

Uses a fresh store made by supportctl in a temp dir with a minimal support.conf.
Run from the repo root of a built tree:  python3 tests/http/test_cgi.py
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, REPO, SUPPORTCTL, CGI_TICKETS, CGI_MESSAGES, TICKETS, Fail, check, eq, error,  # noqa: E402
                     envelope_problem, is_time, is_uuid, require_built, run_main, short, log, Response)


class CGIResponse(Response):
    """A CGI program's output, read as a Response (header(), json, text())."""
    def __init__(self, rc, out, err, elapsed, timed_out=False):
        self.rc = rc
        self.raw = out
        self.stderr = err
        self.elapsed = elapsed
        self.timed_out = timed_out
        self.headers = []
        self.body = b""
        self.status = None
        self.status_line = None
        head, sep, body = out.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = out.partition(b"\n\n")
        if sep:
            self.body = body
            for line in head.decode("latin-1").splitlines():
                k, _, v = line.partition(":")
                self.headers.append((k.strip(), v.strip()))
        st = self.header("Status")
        if st is not None:
            self.status_line = st
            try:
                self.status = int(st.split()[0])
            except (ValueError, IndexError):
                self.status = None
        elif sep:
            self.status = 200   # CGI: no Status header means 200
        self._json, self._parsed = None, False

    def summary(self):
        return "rc=%s status=%s %s stderr=%s" % (self.rc, self.status, short(self.raw.decode("utf-8", "replace"), 300),
                                                 short(self.stderr.decode("utf-8", "replace"), 200))


class Store:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="support-cgi-")
        os.makedirs(os.path.join(self.dir, "data"))
        self.conf = os.path.join(self.dir, "support.conf")
        with open(self.conf, "w") as f:
            f.write("[support]\ndata_dir = %s/data\n" % self.dir)
        self.users = {}

    def ctl(self, *args, input=None):
        env = dict(os.environ, SUPPORT_CONF=self.conf)
        return subprocess.run([SUPPORTCTL, "--conf", self.conf] + list(args), cwd=REPO, env=env, input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


store = None


def cgi(program, method, path, query="", body=None, auth=None, env_extra=None, mode="both", content_type=None,
        keep_stdin_open=False, timeout=30):
    """Run one CGI request.  mode: 'both' (PATH_INFO + REQUEST_URI), 'uri' (REQUEST_URI only),
    'path_info' (PATH_INFO + QUERY_STRING only)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "test-cgi/1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "SUPPORT_CONF": store.conf,
    }
    if mode in ("both", "path_info"):
        env["PATH_INFO"] = path
    if mode in ("both", "uri"):
        env["REQUEST_URI"] = path + (("?" + query) if query else "")
    if body is not None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = content_type or "application/json"
    if auth:
        env["HTTP_AUTHORIZATION"] = auth
    env.update(env_extra or {})
    t0 = time.monotonic()
    p = subprocess.Popen([program], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        if keep_stdin_open:
            # do not close stdin: a program that tries to read the body would hang here
            out, err = b"", b""
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                r = CGIResponse(None, out, err, time.monotonic() - t0, timed_out=True)
                T.last_response = r
                return r
            out, err = p.stdout.read(), p.stderr.read()
            p.stdin.close()
        else:
            out, err = p.communicate(input=body or b"", timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        r = CGIResponse(None, out, err, time.monotonic() - t0, timed_out=True)
        T.last_response = r
        return r
    r = CGIResponse(p.returncode, out, err, time.monotonic() - t0)
    T.last_response = r
    return r


def txn_stat(store):
    """The store's transaction statistics (db5.3_stat -t): the last checkpoint LSN and the count of
    transactions begun since the environment's regions were made."""
    p = subprocess.run(["db5.3_stat", "-h", os.path.join(store.dir, "data"), "-t"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    check(p.returncode == 0, "db5.3_stat -t: %s" % short(p.stderr.decode(errors="replace")))
    out = {}
    for line in p.stdout.decode().splitlines():
        value, _, what = line.partition("\t")
        if what.endswith("checkpoint LSN"):     # "No checkpoint LSN" before the first one
            out["checkpoint"] = line
        elif what == "Number of transactions begun":
            out["begun"] = int(value)
    check(len(out) == 2, "db5.3_stat -t printed no checkpoint or count: %s" % short(p.stdout.decode()))
    return out


def bearer(name):
    return "Bearer " + store.users[name]["token"]


def ok(r, code):
    if r.timed_out:
        raise Fail("CGI program did not finish (timeout)")
    if r.status != code:
        raise Fail("expected Status %d, got %r: %s" % (code, r.status_line, short(r.text(), 300)))
    eq(r.rc, 0, "CGI exit status")


def main():
    global store
    require_built(SUPPORTCTL, CGI_TICKETS, CGI_MESSAGES)
    store = Store()
    log("store in " + store.dir)
    failed_before = T.failed
    try:
        body(store)
    finally:
        if T.failed == failed_before:
            shutil.rmtree(store.dir, ignore_errors=True)
        else:
            log("store kept for inspection: " + store.dir)


def body(store):
    with T.case("setup: supportctl creates users and tokens in a fresh store"):
        for name, role in (("alice", "user"), ("bob", "user"), ("carol", "agent")):
            pw = "pw-%s-Secret-1" % name
            p = store.ctl("user", "add", name, "--email", name + "@example.com", "--role", role, "--password-stdin",
                          input=(pw + "\n").encode())
            check(p.returncode == 0, "user add %s: %s" % (name, p.stderr.decode(errors="replace")))
            p = store.ctl("token", "create", name)
            lines = [l for l in p.stdout.decode().splitlines() if l.strip()]
            check(p.returncode == 0 and len(lines) == 1, "token create %s: %r %r" % (name, p.stdout, p.stderr))
            check(lines[0].strip().startswith("sup_"), "token does not start with sup_: %r" % lines[0])
            store.users[name] = {"password": pw, "token": lines[0].strip()}

    with T.case("supportctl user list shows the users"):
        p = store.ctl("user", "list")
        eq(p.returncode, 0, "exit status")
        out = p.stdout.decode()
        for n in ("alice", "bob", "carol"):
            check(n in out, "%s not in user list: %s" % (n, short(out)))

    with T.case("CGI GET list without credentials: Status 401, WWW-Authenticate, error envelope"):
        r = cgi(CGI_TICKETS, "GET", TICKETS)
        ok(r, 401)
        check(r.status_line.startswith("401"), "Status line %r" % r.status_line)
        check((r.header("WWW-Authenticate") or "").lower().startswith("basic"), "WWW-Authenticate %r"
              % r.header("WWW-Authenticate"))
        check(envelope_problem(r) is None, envelope_problem(r) or "")
        eq(r.json["error"]["code"], "not_authenticated", "error.code")

    with T.case("CGI: REMOTE_USER is not trusted unless the admin turns it on"):
        r = cgi(CGI_TICKETS, "GET", TICKETS, env_extra={"REMOTE_USER": "carol"})
        ok(r, 401)

    with T.case("CGI GET list with a bearer token: Status 200, empty paginated list"):
        r = cgi(CGI_TICKETS, "GET", TICKETS, auth=bearer("alice"))
        ok(r, 200)
        check("application/json" in (r.header("Content-Type") or ""), "Content-Type %r" % r.header("Content-Type"))
        eq(r.json, {"count": 0, "next": None, "previous": None, "results": []}, "empty list")

    state = {}
    with T.case("CGI POST ticket: Status 201, Location, ticket JSON with first message"):
        r = cgi(CGI_TICKETS, "POST", TICKETS, body={"subject": "CGI ticket", "initial_message": "Sent through CGI"},
                auth=bearer("alice"))
        ok(r, 201)
        t = r.json
        check(isinstance(t, dict), "body is not a JSON object")
        is_uuid(t["uuid"], "uuid")
        state["t"] = t
        eq((t["subject"], t["status"], t["message_count"]), ("CGI ticket", "open", 1), "subject/status/count")
        is_time(t["created_at"], "created_at")
        eq(t["last_message"]["content"], "Sent through CGI", "last_message")
        loc = r.header("Location") or ""
        check(loc.endswith("/api/support/tickets/%s/" % t["uuid"]), "Location %r" % loc)

    with T.case("CGI: the created ticket is in the list afterwards (new process, same store)"):
        r = cgi(CGI_TICKETS, "GET", TICKETS, auth=bearer("alice"))
        ok(r, 200)
        eq(r.json["count"], 1, "count")
        eq(r.json["results"][0]["uuid"], state["t"]["uuid"], "uuid")

    with T.case("CGI GET detail: 200 with embedded messages"):
        r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("alice"))
        ok(r, 200)
        eq([m["content"] for m in r.json["messages"]], ["Sent through CGI"], "messages")

    for mode in ("uri", "path_info"):
        with T.case("CGI with only %s: the route is found" % ("REQUEST_URI" if mode == "uri" else
                                                             "PATH_INFO + QUERY_STRING")):
            r = cgi(CGI_TICKETS, "GET", TICKETS, query="page_size=5", auth=bearer("alice"), mode=mode)
            ok(r, 200)
            eq(r.json["count"], 1, "count")

    with T.case("CGI Basic auth (username and e-mail): 200"):
        pw = store.users["alice"]["password"]
        for login in ("alice", "alice@example.com"):
            r = cgi(CGI_TICKETS, "GET", TICKETS,
                    auth="Basic " + base64.b64encode(("%s:%s" % (login, pw)).encode()).decode())
            ok(r, 200)

    with T.case("CGI wrong password: 401"):
        r = cgi(CGI_TICKETS, "GET", TICKETS, auth="Basic " + base64.b64encode(b"alice:nope").decode())
        ok(r, 401)

    mpath = TICKETS + state.get("t", {}).get("uuid", "x") + "/messages/"
    with T.case("CGI messages program: POST message 201, owner's status becomes waiting_for_admin"):
        r = cgi(CGI_MESSAGES, "POST", mpath, body={"content": "second, via CGI"}, auth=bearer("alice"))
        ok(r, 201)
        eq(r.json["content"], "second, via CGI", "content")
        r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("alice"))
        eq(r.json["status"], "waiting_for_admin", "status")

    with T.case("CGI messages program: GET is a plain array of both messages, ETag, 304"):
        r = cgi(CGI_MESSAGES, "GET", mpath, auth=bearer("alice"))
        ok(r, 200)
        check(isinstance(r.json, list), "not an array")
        eq([m["content"] for m in r.json], ["Sent through CGI", "second, via CGI"], "messages")
        etag = r.header("ETag")
        check(etag, "no ETag")
        r2 = cgi(CGI_MESSAGES, "GET", mpath, auth=bearer("alice"), env_extra={"HTTP_IF_NONE_MATCH": etag})
        ok(r2, 304)
        eq(r2.body.strip(), b"", "304 body")

    with T.case("CGI: staff reply through the messages program; another user gets 404"):
        r = cgi(CGI_MESSAGES, "POST", mpath, body={"content": "agent reply"}, auth=bearer("carol"))
        ok(r, 201)
        r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("alice"))
        eq(r.json["status"], "waiting_for_user", "status after the agent's reply")
        r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("bob"))
        ok(r, 404)
        r = cgi(CGI_MESSAGES, "POST", mpath, body={"content": "bob intrudes"}, auth=bearer("bob"))
        ok(r, 404)

    with T.case("CGI: Content-Length over the cap with stdin left open: 413 at once, body not read"):
        r = cgi(CGI_TICKETS, "POST", TICKETS, auth=bearer("alice"), keep_stdin_open=True, timeout=10,
                env_extra={"CONTENT_LENGTH": "300000", "CONTENT_TYPE": "application/json"})
        ok(r, 413)
        check(r.elapsed < 5, "took %.1f s" % r.elapsed)
        eq(r.json["error"]["code"], "payload_too_large", "error.code")

    with T.case("CGI: bad JSON 400 invalid_json, unknown route 404, wrong method 405 with Allow"):
        r = cgi(CGI_TICKETS, "POST", TICKETS, body=b"{nope", auth=bearer("alice"))
        ok(r, 400)
        eq(r.json["error"]["code"], "invalid_json", "code")
        r = cgi(CGI_TICKETS, "GET", TICKETS + "not-a-uuid/", auth=bearer("alice"))
        ok(r, 404)
        eq(r.json["error"]["code"], "not_found", "code")
        r = cgi(CGI_TICKETS, "DELETE", TICKETS, auth=bearer("alice"))
        ok(r, 405)
        check("GET" in (r.header("Allow") or "") and "POST" in (r.header("Allow") or ""), "Allow %r"
              % r.header("Allow"))

    with T.case("CGI: nothing was created by the failed requests"):
        r = cgi(CGI_TICKETS, "GET", TICKETS, auth=bearer("carol"))
        ok(r, 200)
        eq(r.json["count"], 1, "tickets in the store")
        r = cgi(CGI_MESSAGES, "GET", mpath, auth=bearer("carol"))
        eq(len(r.json), 3, "messages in the thread")

    # DESIGN §5: recovery runs only when a process died holding the store
    # (DB_REGISTER).  Recovery makes the environment's regions afresh and
    # writes a checkpoint, so it shows in the transaction statistics: the
    # count of transactions begun starts again, the last checkpoint moves.
    with T.case("CGI: a request after requests that ended normally runs no recovery"):
        before = txn_stat(store)
        for _ in range(3):
            r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("alice"))
            ok(r, 200)
        after = txn_stat(store)
        eq(after["checkpoint"], before["checkpoint"], "last checkpoint LSN (recovery writes one)")
        check(after["begun"] >= before["begun"] + 3, "transactions begun went from %d to %d: the environment was "
              "made afresh (recovery)" % (before["begun"], after["begun"]))

    # Many CGI processes opening and closing the store at once, as under a
    # web server: none may take another that closed cleanly for a dead one
    # (a race in Berkeley DB's register that store_close guards against,
    # docs/store.md) and run recovery, which fails the requests in flight.
    with T.case("CGI: 32 processes at once, 3000 requests ending normally: every one 200, no recovery"):
        before = txn_stat(store)
        # xargs starts the processes: fast enough to reach the race that a
        # Python loop does not (without the guard: 500s and a recovery in
        # every run of this on a two-core machine).
        script = ('seq 1 3000 | xargs -P 32 -I{} env -i SUPPORT_CONF="$C" REQUEST_METHOD=GET '
                  'REQUEST_URI="$U" HTTP_AUTHORIZATION="$A" "$P" 2>/dev/null | grep "^Status: "')
        p = subprocess.run(["sh", "-c", script], cwd=REPO, stdout=subprocess.PIPE, timeout=240,
                           env=dict(os.environ, C=store.conf, U=TICKETS + state["t"]["uuid"] + "/",
                                    A=bearer("alice"), P=CGI_TICKETS))
        statuses = p.stdout.decode().splitlines()
        eq(len(statuses), 3000, "answers")
        bad = [st for st in statuses if st.strip() != "Status: 200 OK"]
        check(not bad, "%d of 3000 requests failed: %r" % (len(bad), bad[:3]))
        # (So many requests write enough log for the CGI upkeep's own
        # checkpoint, so only the count tells recovery apart here.)
        after = txn_stat(store)
        check(after["begun"] >= before["begun"] + 3000,
              "transactions begun went from %d to %d over 3000 requests: a recovery made the environment afresh"
              % (before["begun"], after["begun"]))

    with T.case("CGI: a process killed while it holds the store makes the next request recover it, data whole"):
        # It has opened the store and waits for a body that never comes.
        r = cgi(CGI_TICKETS, "POST", TICKETS, auth=bearer("alice"), keep_stdin_open=True, timeout=2,
                env_extra={"CONTENT_LENGTH": "100"})
        check(r.timed_out, "the program answered without its body: %s" % r.summary())
        before = txn_stat(store)
        r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("alice"))
        ok(r, 200)
        eq(len(r.json["messages"]), 3, "messages of the ticket after recovery")
        after = txn_stat(store)
        check(after["begun"] < before["begun"], "no sign of recovery (the count of transactions begun would "
              "start again): %r then %r" % (before, after))

    # Every process logs the opening and closing of each database (about 3 kB a request), so a desk served
    # only as CGI must checkpoint too, or its log is never removed and all of it is replayed after a crash.
    with T.case("CGI: requests alone checkpoint the store once 1 MB of log has been written"):
        first = txn_stat(store)["checkpoint"]
        moved = False
        for i in range(800):
            r = cgi(CGI_TICKETS, "GET", TICKETS + state["t"]["uuid"] + "/", auth=bearer("alice"))
            ok(r, 200)
            if i % 50 == 49 and txn_stat(store)["checkpoint"] != first:
                moved = True
                break
        check(moved, "800 requests and the last checkpoint is still %r" % first)

    with T.case("supportctl db verify exits 0 after the CGI requests"):
        p = store.ctl("db", "verify")
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, short(p.stderr.decode(errors="replace"))))


if __name__ == "__main__":
    run_main(main)
