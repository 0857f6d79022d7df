#!/usr/bin/env python3
"""Taking tokens and accounts away while the desk runs: supportctl token
revoke, user disable / enable / set-role / set-password, through the real
programs behind the web server.

Each program keeps the tokens it accepted for a moment (USER_CACHE_US, 2 s):
what an administrator takes away must still fail at the very next request,
in every worker.  So every case keeps clients busy on every program (several
at once, so that each worker serves and caches the token) while supportctl
runs, and then asserts on each request sent after supportctl returned.  With
a cache that only expired, those would still be answered 200.

Run from the repo root of a built tree:  python3 tests/http/test_revoke.py
"""

import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Three workers a program (run.sh's defaults are 2, and 8 for messages): a
# token must be refused by each, whichever serves the request.
os.environ.setdefault("SUPPORT_CHILDREN", "3")
os.environ.setdefault("SUPPORT_MESSAGES_CHILDREN", "3")

from support import (T, TICKETS, SESSION, USERS, Client, check, eq, error,  # noqa: E402
                     status, standard_server, check_no_leftovers, run_main, log)
from test_session import Browser  # noqa: E402

THREADS = 6             # clients at once: more than the workers of a program
PAUSE_S = 0.01          # each client's pause between requests
WARM_S = 0.8            # busy this long before supportctl runs
AFTER_S = 0.6           # and this long after it returned

srv = None
TICKET = {}             # name -> the uuid of a ticket they own


def outcome(r):
    """What a user notices of a response: its status, and for the session
    resource who it says is logged in."""
    if r.status == 200 and r.path == SESSION:
        u = (r.json or {}).get("user")
        return "200 " + (u["username"] if u else "anonymous")
    return str(r.status)


class Busy:
    """THREADS clients sending the probes in turn until stopped.  A probe is
    (label, function returning a Response); each result is (label, start,
    end, outcome), times from time.monotonic()."""

    def __init__(self, probes):
        self.probes = probes
        self.results = []
        self.errors = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(THREADS)]

    def _run(self, i):
        n = i
        while not self.stopping.is_set():
            label, fn = self.probes[n % len(self.probes)]
            n += 1
            t0 = time.monotonic()
            try:
                got = outcome(fn())
            except Exception as e:  # noqa: BLE001 -- reported by the case
                with self.lock:
                    self.errors.append("%s: %r" % (label, e))
                continue
            with self.lock:
                self.results.append((label, t0, time.monotonic(), got))
            time.sleep(PAUSE_S)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(60)


def while_busy(probes, action):
    """Run action() (supportctl) while every probe is being sent.  Returns
    (action's result, outcomes of requests finished before it started,
    outcomes of requests started after it returned), each {label: set}."""
    with Busy(probes) as busy:
        time.sleep(WARM_S)
        t0 = time.monotonic()
        result = action()
        t1 = time.monotonic()
        time.sleep(AFTER_S)
    check(not busy.errors, "requests failed: %s" % busy.errors[:3])
    before, after = {}, {}
    for label, start, end, got in busy.results:
        if end < t0:
            before.setdefault(label, set()).add(got)
        elif start > t1:
            after.setdefault(label, set()).add(got)
    log("supportctl took %.0f ms; %d requests" % ((t1 - t0) * 1000, len(busy.results)))
    return result, before, after


def expect(seen, want, when):
    """Every probe was answered only with its wanted outcome."""
    for label, w in want.items():
        got = seen.get(label, set())
        check(got, "%s: no request of %s" % (when, label))
        eq(got, {w}, "%s, %s" % (when, label))


def ctl_ok(*args, input=None):
    p = srv.ctl(*args, input=input)
    eq(p.returncode, 0, "supportctl %s exit status (stderr: %s)"
       % (" ".join(args), p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode()


def token_probes(user, token):
    """A request to each program with this bearer token."""
    c = Client(srv.port, "Bearer " + token)
    t = TICKET[user]
    return [
        ("tickets", lambda: c.get(TICKETS + t + "/")),
        ("messages", lambda: c.get(TICKETS + t + "/messages/")),
        ("session", lambda: c.get(SESSION)),
        ("users", lambda: c.get(USERS + "%d/" % srv.users[user].id)),
    ]


def cookie_probes(browser):
    """The same with a browser's session cookie (as it has it now: the
    browser keeps sending it, whatever the answers say)."""
    t = TICKET[browser.name]
    c = Client(srv.port)
    h = {"Cookie": "; ".join("%s=%s" % kv for kv in browser.cookies.items())}
    return [
        ("cookie tickets", lambda: c.get(TICKETS + t + "/", headers=h)),
        ("cookie messages", lambda: c.get(TICKETS + t + "/messages/", headers=h)),
        ("cookie session", lambda: c.get(SESSION, headers=h)),
    ]


def working(user):
    return {"tickets": "200", "messages": "200", "session": "200 " + user, "users": "200"}


REFUSED = {"tickets": "401", "messages": "401", "session": "401", "users": "401"}


def new_user(name, role="user"):
    """A user with a token, an id and a ticket of their own."""
    u = srv.add_user(name, role)
    c = srv.client(name)
    u.id = c.get(SESSION).json["user"]["id"]
    r = c.post(TICKETS, {"subject": "Printer on fire", "initial_message": "Smoke, mostly."})
    status(r, 201, "a ticket for " + name)
    TICKET[name] = r.json["uuid"]
    return u


def logged_in(name):
    b = Browser(srv.port)
    b.login(name, srv.users[name].password)
    b.name = name
    return b


def test_token_revoke_by_id():
    u = new_user("tess")
    with T.case("token list: id, user, label, created and last use; never the token itself"):
        status(srv.client("tess").get(TICKETS), 200)
        out = ctl_ok("token", "list", "tess")
        check(u.token not in out and u.token[4:] not in out, "the token is printed: %r" % out)
        lines = out.splitlines()
        eq(len(lines), 1, "lines of %r" % out)
        m = re.match(r"^([0-9a-f]{12})  tess +cli +created \S+Z  last used (\S+)$", lines[0])
        check(m, "line: %r" % lines[0])
        check(m.group(2) != "never", "just used, yet: %r" % lines[0])
        check("tess" in ctl_ok("token", "list"), "token list without a name lists everyone's")
        u.token_id = m.group(1)
    with T.case("token revoke ID while every worker has the token cached: the next request is 401 everywhere"):
        probes = token_probes("tess", u.token)
        p, before, after = while_busy(probes, lambda: srv.ctl("token", "revoke", u.token_id))
        eq(p.returncode, 0, "exit status (%s)" % p.stderr.decode(errors="replace"))
        eq(p.stdout.decode().strip(), "revoked token " + u.token_id, "output")
        expect(before, working("tess"), "before the revoke")
        expect(after, REFUSED, "after the revoke")
        eq(ctl_ok("token", "list", "tess"), "", "token list once it is revoked")
    with T.case("token revoke: an unknown id is 1, a malformed one 2, nothing printed on stdout"):
        p = srv.ctl("token", "revoke", u.token_id)
        eq((p.returncode, p.stdout), (1, b""), "revoked again")
        check(b"no such token" in p.stderr, "stderr: %r" % p.stderr)
        p = srv.ctl("token", "revoke", "not-an-id")
        eq((p.returncode, p.stdout), (2, b""), "malformed id")
        p = srv.ctl("token", "revoke")
        eq(p.returncode, 2, "no id")


def test_token_revoke_by_stdin():
    srv.add_user("tom")
    tom = srv.users["tom"]
    tom.id = srv.client("tom").get(SESSION).json["user"]["id"]
    r = srv.client("tom").post(TICKETS, {"subject": "Stapler", "initial_message": "Jammed."})
    status(r, 201)
    TICKET["tom"] = r.json["uuid"]
    p = srv.ctl("token", "create", "tom", "--label", "second")
    other = p.stdout.decode().strip()
    with T.case("token revoke --token-stdin: that token is 401 at the next request; the user's other token works"):
        probes = token_probes("tom", tom.token)
        c2 = Client(srv.port, "Bearer " + other)
        probes.append(("other token", lambda: c2.get(TICKETS)))
        p, before, after = while_busy(
            probes, lambda: srv.ctl("token", "revoke", "--token-stdin", input=(tom.token + "\n").encode()))
        eq(p.returncode, 0, "exit status (%s)" % p.stderr.decode(errors="replace"))
        check(re.match(r"^revoked token [0-9a-f]{12}$", p.stdout.decode().strip()), "output %r" % p.stdout)
        expect(before, dict(working("tom"), **{"other token": "200"}), "before")
        expect(after, dict(REFUSED, **{"other token": "200"}), "after")
    with T.case("token revoke --token-stdin of an unknown token: exit 1"):
        p = srv.ctl("token", "revoke", "--token-stdin", input=b"sup_nothing\n")
        eq(p.returncode, 1, "exit status")


def test_disable_enable():
    u = new_user("dora")
    b1, b2 = logged_in("dora"), logged_in("dora")
    with T.case("user disable: her token is 401 and her sessions anonymous at the next request, in every worker"):
        probes = token_probes("dora", u.token) + cookie_probes(b1)
        p, before, after = while_busy(probes, lambda: srv.ctl("user", "disable", "dora"))
        eq(p.returncode, 0, "exit status (%s)" % p.stderr.decode(errors="replace"))
        eq(p.stdout.decode().strip(), "disabled user dora (2 sessions ended)", "output")
        expect(before, dict(working("dora"), **{"cookie tickets": "200", "cookie messages": "200",
                                                "cookie session": "200 dora"}), "before")
        expect(after, dict(REFUSED, **{"cookie tickets": "401", "cookie messages": "401",
                                       "cookie session": "200 anonymous"}), "after")
        check("(inactive)" in [l for l in ctl_ok("user", "list").splitlines() if " dora " in l][0],
              "user list marks her inactive")
    with T.case("a disabled user cannot log in, by form or by Basic"):
        error(Browser(srv.port).post(SESSION, {"username": "dora", "password": u.password}),
              401, "invalid_credentials")
        error(srv.client("dora", how="basic").get(TICKETS), 401, "not_authenticated")
    with T.case("user enable: her token and her password work again; the ended sessions stay ended"):
        p = srv.ctl("user", "enable", "dora")
        eq((p.returncode, p.stdout.decode().strip()), (0, "enabled user dora"), "exit status and output")
        status(srv.client("dora").get(TICKETS), 200, "her token")
        eq(b1.who(), None, "her first old session")
        eq(b2.who(), None, "her second old session")
        error(b2.get(TICKETS), 401, "not_authenticated")
        eq(logged_in("dora").who(), "dora", "a new login")
    with T.case("user disable / enable of nobody: exit 1; without a name: 2"):
        p = srv.ctl("user", "disable", "nobody-at-all")
        eq((p.returncode, p.stdout), (1, b""), "disable")
        check(b"no such user" in p.stderr, "stderr: %r" % p.stderr)
        eq(srv.ctl("user", "enable", "nobody-at-all").returncode, 1, "enable")
        eq(srv.ctl("user", "disable").returncode, 2, "no name")


def test_set_role():
    u = new_user("adam", "agent")
    new_user("cleo")
    theirs = TICKET["cleo"]
    c = srv.client("adam")
    b = logged_in("adam")
    jar = {"Cookie": "; ".join("%s=%s" % kv for kv in b.cookies.items())}
    staff = {"users list": "200", "cleo's ticket": "200", "cleo's messages": "200",
             "cookie users list": "200"}
    customer = {"users list": "403", "cleo's ticket": "404", "cleo's messages": "404",
                "cookie users list": "403"}
    probes = [
        ("users list", lambda: c.get(USERS + "?q=cleo")),
        ("cleo's ticket", lambda: c.get(TICKETS + theirs + "/")),
        ("cleo's messages", lambda: c.get(TICKETS + theirs + "/messages/")),
        ("cookie users list", lambda: Client(srv.port).get(USERS + "?q=cleo", headers=jar)),
    ]
    with T.case("user set-role agent -> user: staff endpoints are 403/404 at the next request, token and cookie"):
        p, before, after = while_busy(probes, lambda: srv.ctl("user", "set-role", "adam", "user"))
        eq((p.returncode, p.stdout.decode().strip()), (0, "user adam is now user"), "exit status and output")
        expect(before, staff, "an agent")
        expect(after, customer, "made a customer")
    with T.case("user set-role user -> admin: staff again at the next request"):
        p, before, after = while_busy(probes, lambda: srv.ctl("user", "set-role", "adam", "admin"))
        eq(p.returncode, 0, "exit status")
        expect(before, customer, "a customer")
        expect(after, staff, "made an admin")
        eq(srv.client("adam").get(SESSION).json["user"]["is_staff"], True, "is_staff")
    with T.case("user set-role: an unknown role is 2, an unknown user 1"):
        eq(srv.ctl("user", "set-role", "adam", "boss").returncode, 2, "role boss")
        eq(srv.ctl("user", "set-role", "nobody-at-all", "user").returncode, 1, "nobody")
        eq(u.role, "agent", "(the cast)")


def test_set_password():
    u = new_user("pia")
    b1, b2 = logged_in("pia"), logged_in("pia")
    with T.case("user set-password: every session ends at its next request, the old password fails, the new works"):
        probes = cookie_probes(b1)
        p, before, after = while_busy(
            probes, lambda: srv.ctl("user", "set-password", "pia", "--password-stdin",
                                    input=b"a brand new password\n"))
        eq(p.returncode, 0, "exit status (%s)" % p.stderr.decode(errors="replace"))
        eq(p.stdout.decode().strip(), "password of pia set (2 sessions ended)", "output")
        expect(before, {"cookie tickets": "200", "cookie messages": "200", "cookie session": "200 pia"},
               "before")
        expect(after, {"cookie tickets": "401", "cookie messages": "401",
                       "cookie session": "200 anonymous"}, "after")
        eq(b2.who(), None, "the other session")
        error(Browser(srv.port).post(SESSION, {"username": "pia", "password": u.password}),
              401, "invalid_credentials")
        eq(Browser(srv.port).login("pia", "a brand new password").json["username"], "pia", "new password")
        status(srv.client("pia").get(TICKETS), 200, "her token (tokens are revoked on their own)")
    with T.case("user set-password: no --password-stdin or no password is 2, nobody 1"):
        eq(srv.ctl("user", "set-password", "pia").returncode, 2, "no --password-stdin")
        eq(srv.ctl("user", "set-password", "pia", "--password-stdin", input=b"").returncode, 2, "no password")
        eq(srv.ctl("user", "set-password", "nobody-at-all", "--password-stdin",
                   input=b"whatever it is\n").returncode, 1, "nobody")
        Browser(srv.port).login("pia", "a brand new password")


def test_verify():
    with T.case("supportctl db verify after all this (server stopped): no problem"):
        srv.stop()
        p = srv.ctl("db", "verify")
        eq(p.returncode, 0, "exit status: %s" % p.stdout.decode(errors="replace")[-300:])


def main():
    global srv
    srv = standard_server(conf={("support", "login_fails_address"): "1000"})
    test_token_revoke_by_id()
    test_token_revoke_by_stdin()
    test_disable_enable()
    test_set_role()
    test_set_password()
    check_no_leftovers(srv)
    test_verify()


if __name__ == "__main__":
    run_main(main)
