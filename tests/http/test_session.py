#!/usr/bin/env python3
"""Browser sessions, CSRF, login throttling, registration, password change and
REMOTE_USER, through the real programs behind nginx (and REMOTE_USER through
the programs run as plain CGI, where the server sets the variable).

Run from the repo root of a built tree:  python3 tests/http/test_session.py
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, REPO, TICKETS, SESSION, USERS, CGI_SESSION, Client, Fail, check, eq, error,  # noqa: E402
                     status, standard_server, check_no_leftovers, run_main, log, basic)
from test_cgi import CGIResponse  # noqa: E402

TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")


def set_cookies(r):
    """{name: (value, attribute text)} of the response's Set-Cookie lines."""
    out = {}
    for line in r.header_all("Set-Cookie"):
        first, _, attrs = line.partition(";")
        name, _, value = first.partition("=")
        out[name.strip()] = (value.strip(), attrs)
    return out


def attrs_of(attr_text):
    """The attributes of a cookie, lowercased names -> value ('' for flags)."""
    out = {}
    for a in attr_text.split(";"):
        if a.strip():
            k, _, v = a.strip().partition("=")
            out[k.strip().lower()] = v.strip()
    return out


class Browser:
    """A client with a cookie jar, as a browser keeps one."""

    def __init__(self, port):
        self.client = Client(port)
        self.cookies = {}

    def request(self, method, path, json_body=None, headers=None, form=None, csrf=None, **kw):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if csrf is not None:
            h["X-CSRFToken"] = csrf
        if form is not None:
            kw["body"] = urllib.parse.urlencode(form)
            kw["content_type"] = "application/x-www-form-urlencoded"
        r = self.client.request(method, path, json_body=json_body, headers=h, **kw)
        for name, (value, attrs) in set_cookies(r).items():
            if attrs_of(attrs).get("max-age") == "0" or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def login(self, name, password, expect=200):
        r = self.post(SESSION, {"username": name, "password": password})
        status(r, expect, "log in as %s" % name)
        return r

    def who(self):
        r = self.get(SESSION)
        status(r, 200, "GET session")
        u = r.json["user"]
        return u["username"] if u else None

    @property
    def csrf(self):
        return self.cookies.get("csrftoken")


srv = None      # allow_registration = yes, 3 failures per account
srv2 = None     # tiny session lifetimes, trust_remote_user = yes


def count(name):
    r = srv.client(name).get(TICKETS)
    status(r, 200)
    return r.json["count"]


def thread_len(name, ticket):
    r = srv.client(name).get(TICKETS + ticket + "/messages/")
    status(r, 200)
    return len(r.json)


def test_anonymous():
    with T.case("GET session anonymous: user null, a CSRF token, and the csrftoken cookie (readable, Lax)"):
        b = Browser(srv.port)
        r = b.get(SESSION)
        status(r, 200)
        eq(r.json["user"], None, "user")
        check(TOKEN_RE.match(r.json["csrf_token"] or ""), "csrf_token: %r" % r.json["csrf_token"])
        c = set_cookies(r)
        check("csrftoken" in c, "no csrftoken cookie: %s" % r.header_all("Set-Cookie"))
        eq(c["csrftoken"][0], r.json["csrf_token"], "cookie value")
        a = attrs_of(c["csrftoken"][1])
        check("httponly" not in a, "csrftoken must be readable by scripts")
        eq(a.get("samesite"), "Lax", "SameSite")
        eq(a.get("path"), "/", "Path")
        check("sessionid" not in c, "no session for an anonymous visitor")
        r = b.get(SESSION)
        eq(r.json["csrf_token"], c["csrftoken"][0], "the cookie's token is kept")


def test_login():
    alice = srv.users["alice"]
    with T.case("log in by username: 200 User with e-mail, sessionid cookie HttpOnly; SameSite=Lax; Path=/"):
        b = Browser(srv.port)
        r = b.login("alice", alice.password)
        eq(r.json["username"], "alice", "username")
        eq(r.json["email"], alice.email, "email")
        c = set_cookies(r)
        check("sessionid" in c and len(c["sessionid"][0]) == 43, "sessionid: %s" % r.header_all("Set-Cookie"))
        a = attrs_of(c["sessionid"][1])
        check("httponly" in a, "sessionid must be HttpOnly")
        eq(a.get("samesite"), "Lax", "SameSite")
        eq(a.get("path"), "/", "Path")
        check("secure" not in a, "no Secure over plain HTTP")
        r = b.get(SESSION)
        eq(r.json["user"]["username"], "alice", "GET session user")
        eq(r.json["user"]["email"], alice.email, "GET session e-mail")
        eq(r.json["csrf_token"], b.csrf, "csrf_token is the cookie's")
        r = b.get(TICKETS)
        status(r, 200, "the cookie reads the API")
    with T.case("log in by e-mail (any case)"):
        b = Browser(srv.port)
        r = b.login(alice.email.upper(), alice.password)
        eq(r.json["username"], "alice", "username")
    with T.case("wrong password and unknown user: 401 invalid_credentials, same message, no cookie"):
        b = Browser(srv.port)
        r1 = b.post(SESSION, {"username": "alice", "password": "wrong-password"})
        error(r1, 401, "invalid_credentials")
        r2 = b.post(SESSION, {"username": "nobody-here", "password": "wrong-password"})
        error(r2, 401, "invalid_credentials")
        eq(r2.json["error"]["message"], r1.json["error"]["message"], "message")
        check("sessionid" not in set_cookies(r1), "no session cookie")
        eq(b.who(), None, "not logged in")
    with T.case("log in: missing fields 400 naming them"):
        r = Browser(srv.port).post(SESSION, {"username": "alice"})
        error(r, 400, "invalid", ["password"])
    with T.case("a new session id at every login; logging in again ends the old session"):
        b = Browser(srv.port)
        b.login("alice", alice.password)
        old = b.cookies["sessionid"]
        r = b.post(SESSION, {"username": "alice", "password": alice.password}, csrf=b.csrf)
        status(r, 200)
        new = b.cookies["sessionid"]
        check(new != old, "same session id after a second login")
        stale = Browser(srv.port)
        stale.cookies["sessionid"] = old
        eq(stale.who(), None, "the old session")
        eq(b.who(), "alice", "the new session")


def test_csrf():
    with T.case("ticket POST by cookie without / with a wrong CSRF token: 403 csrf_failed, nothing created"):
        b = Browser(srv.port)
        b.login("bob", srv.users["bob"].password)
        before = count("bob")
        r = b.post(TICKETS, {"subject": "no token", "initial_message": "x"})
        error(r, 403, "csrf_failed")
        r = b.post(TICKETS, {"subject": "wrong token", "initial_message": "x"}, csrf="0" * 64)
        error(r, 403, "csrf_failed")
        r = b.post(TICKETS, {"subject": "bad token", "initial_message": "x"}, csrf="nonsense")
        error(r, 403, "csrf_failed")
        eq(count("bob"), before, "bob's tickets")
    with T.case("ticket POST by cookie with the right X-CSRFToken: 201"):
        before = count("bob")
        r = b.post(TICKETS, {"subject": "with token", "initial_message": "x"}, csrf=b.csrf)
        status(r, 201)
        eq(count("bob"), before + 1, "bob's tickets")
        ticket = r.json["uuid"]
    with T.case("message POST by cookie: no token 403 and no message; the right token 201"):
        n = thread_len("bob", ticket)
        r = b.post(TICKETS + ticket + "/messages/", {"content": "sneaky"})
        error(r, 403, "csrf_failed")
        r = b.post(TICKETS + ticket + "/messages/", {"content": "sneaky"}, csrf="f" * 64)
        error(r, 403, "csrf_failed")
        eq(thread_len("bob", ticket), n, "messages")
        r = b.post(TICKETS + ticket + "/messages/", {"content": "fine"}, csrf=b.csrf)
        status(r, 201)
        eq(thread_len("bob", ticket), n + 1, "messages")
    with T.case("PATCH by cookie without the token: 403 and the ticket unchanged"):
        r = b.request("PATCH", TICKETS + ticket + "/", json_body={"status": "resolved"})
        error(r, 403, "csrf_failed")
        r = srv.client("bob").get(TICKETS + ticket + "/")
        check(r.json["status"] != "resolved", "status changed to resolved")
    with T.case("a form POST with the csrfmiddlewaretoken field: 201; with a wrong one: 403"):
        before = count("bob")
        r = b.post(TICKETS, form={"subject": "from a form", "initial_message": "typed in a page",
                                  "csrfmiddlewaretoken": b.csrf})
        status(r, 201)
        eq(r.json["subject"], "from a form", "subject")
        r = b.post(TICKETS + r.json["uuid"] + "/messages/",
                   form={"content": "a reply from a form", "csrfmiddlewaretoken": b.csrf})
        status(r, 201)
        eq(r.json["content"], "a reply from a form", "content")
        r = b.post(TICKETS, form={"subject": "forged", "initial_message": "x", "csrfmiddlewaretoken": "1" * 64})
        error(r, 403, "csrf_failed")
        r = b.post(TICKETS, form={"subject": "forged", "initial_message": "x"})
        error(r, 403, "csrf_failed")
        eq(count("bob"), before + 1, "bob's tickets")
    with T.case("a form with a field it does not take: 400 unknown_field; malformed: 400"):
        r = b.post(TICKETS, form={"subject": "s", "initial_message": "m", "bogus": "1",
                                  "csrfmiddlewaretoken": b.csrf})
        error(r, 400, "unknown_field", ["bogus"])
        r = b.post(TICKETS, body="subject=%zz&csrfmiddlewaretoken=" + b.csrf,
                   content_type="application/x-www-form-urlencoded")
        error(r, 400, "invalid")
    with T.case("Bearer and Basic writes need no CSRF token (even with a session cookie beside them)"):
        r = srv.client("bob").post(TICKETS, {"subject": "bearer", "initial_message": "x"})
        status(r, 201)
        r = srv.client("bob", how="basic").post(TICKETS, {"subject": "basic", "initial_message": "x"})
        status(r, 201)
        r = srv.client("bob").post(TICKETS, {"subject": "bearer+cookie", "initial_message": "x"},
                                   headers={"Cookie": "sessionid=" + b.cookies["sessionid"]})
        status(r, 201)
    with T.case("a form POST by Basic needs the csrftoken cookie's value too (browsers resend Basic)"):
        before = count("bob")
        basic_b = Browser(srv.port)
        basic_b.client.authorization = basic("bob", srv.users["bob"].password)
        r = basic_b.post(TICKETS, form={"subject": "forged via basic", "initial_message": "x"})
        error(r, 403, "csrf_failed")
        basic_b.get(SESSION)
        r = basic_b.post(TICKETS, form={"subject": "basic form", "initial_message": "x",
                                        "csrfmiddlewaretoken": basic_b.csrf})
        status(r, 201)
        eq(count("bob"), before + 1, "bob's tickets")
    with T.case("a form log-in needs the csrftoken cookie's value; with it, 200"):
        f = Browser(srv.port)
        r = f.post(SESSION, form={"username": "bob", "password": srv.users["bob"].password})
        error(r, 403, "csrf_failed")
        f.get(SESSION)
        r = f.post(SESSION, form={"username": "bob", "password": srv.users["bob"].password,
                                  "csrfmiddlewaretoken": "2" * 64})
        error(r, 403, "csrf_failed")
        r = f.post(SESSION, form={"username": "bob", "password": srv.users["bob"].password,
                                  "csrfmiddlewaretoken": f.csrf})
        status(r, 200)
        eq(f.who(), "bob", "logged in")


def test_isolation():
    with T.case("alice's session cookie cannot read bob's ticket (404) nor write to it"):
        r = srv.client("bob").post(TICKETS, {"subject": "bob's secret", "initial_message": "x"})
        status(r, 201)
        ticket = r.json["uuid"]
        a = Browser(srv.port)
        a.login("alice", srv.users["alice"].password)
        r = a.get(TICKETS + ticket + "/")
        error(r, 404, "not_found")
        r = a.get(TICKETS + ticket + "/messages/")
        error(r, 404, "not_found")
        r = a.post(TICKETS + ticket + "/messages/", {"content": "hi"}, csrf=a.csrf)
        error(r, 404, "not_found")
        r = a.get(TICKETS)
        check(ticket not in [t["uuid"] for t in r.json["results"]], "bob's ticket listed for alice")


def test_logout():
    with T.case("logout by cookie needs the token; with it 204, the cookie is removed and the session ends"):
        b = Browser(srv.port)
        b.login("alice", srv.users["alice"].password)
        sid = b.cookies["sessionid"]
        r = b.request("DELETE", SESSION)
        error(r, 403, "csrf_failed")
        eq(b.who(), "alice", "still logged in")
        r = b.request("DELETE", SESSION, csrf=b.csrf)
        status(r, 204)
        c = set_cookies(r)
        check("sessionid" in c and attrs_of(c["sessionid"][1]).get("max-age") == "0",
              "sessionid not removed: %s" % r.header_all("Set-Cookie"))
        replay = Browser(srv.port)
        replay.cookies["sessionid"] = sid
        error(replay.get(TICKETS), 401, "not_authenticated")
        eq(replay.who(), None, "the old cookie")


def test_throttle():
    u = srv.add_user("victim")
    with T.case("throttling: after 3 failures the right password gets 429 too_many_attempts with Retry-After"):
        b = Browser(srv.port)
        for i in range(3):
            r = b.post(SESSION, {"username": "victim", "password": "guess-%d" % i})
            error(r, 401, "invalid_credentials")
        r = b.post(SESSION, {"username": "victim", "password": u.password})
        error(r, 429, "too_many_attempts")
        ra = r.header("Retry-After")
        check(ra is not None and ra.isdigit() and 1 <= int(ra) <= 60, "Retry-After: %r" % ra)
        check("sessionid" not in set_cookies(r), "no session while throttled")
        r = b.post(SESSION, {"username": u.email, "password": u.password})
        error(r, 429, "too_many_attempts")
        # Other accounts are not locked by it.
        b.login("carol", srv.users["carol"].password)
    with T.case("throttling of a name with no account: the same 401s then 429"):
        b = Browser(srv.port)
        for i in range(3):
            error(b.post(SESSION, {"username": "ghost", "password": "x-%d" % i}), 401, "invalid_credentials")
        error(b.post(SESSION, {"username": "ghost", "password": "x"}), 429, "too_many_attempts")
    with T.case("Basic is a login too: throttled alike (429 with Retry-After); the bearer token still works"):
        r = Client(srv.port, basic("victim", u.password)).get(TICKETS)
        error(r, 429, "too_many_attempts")
        check((r.header("Retry-After") or "").isdigit(), "Retry-After: %r" % r.header("Retry-After"))
        status(srv.client("victim").get(TICKETS), 200)


def test_registration():
    with T.case("registration on: 201, logged in, Location; the account logs in with its password"):
        b = Browser(srv.port)
        r = b.post(USERS, {"username": "newcomer", "email": "newcomer@example.com",
                           "password": "a fine password", "display_name": "New Comer"})
        status(r, 201)
        eq(r.json["username"], "newcomer", "username")
        eq(r.json["display_name"], "New Comer", "display_name")
        eq(r.json["is_staff"], False, "is_staff")
        check("sessionid" in b.cookies, "no session cookie")
        eq(r.header("Location"), USERS + "%d/" % r.json["id"], "Location")
        eq(b.who(), "newcomer", "logged in")
        r = b.post(TICKETS, {"subject": "first", "initial_message": "x"}, csrf=b.csrf)
        status(r, 201)
        Browser(srv.port).login("newcomer@example.com", "a fine password")
    with T.case("registration: taken username / e-mail 409 naming the field; bad fields 400"):
        b = Browser(srv.port)
        r = b.post(USERS, {"username": "ALICE", "email": "x1@example.com", "password": "a fine password"})
        error(r, 409, "already_exists", ["username"])
        r = b.post(USERS, {"username": "x1", "email": "Alice@Example.com", "password": "a fine password"})
        error(r, 409, "already_exists", ["email"])
        r = b.post(USERS, {"username": "x2", "email": "x2@example.com", "password": "short"})
        error(r, 400, "invalid", ["password"])
        r = b.post(USERS, {"username": "x3longname", "email": "x3@example.com", "password": "X3LONGNAME"})
        error(r, 400, "invalid", ["password"])
        r = b.post(USERS, {"username": "bad name", "email": "not-an-address", "password": "a fine password"})
        error(r, 400, "invalid", ["username", "email"])
        r = b.post(USERS, {"username": "x4", "email": "x4@example.com", "password": "p" * 1025})
        error(r, 400, "invalid", ["password"])
        for name in ("x1", "x2", "x3longname", "x4"):
            error(b.post(SESSION, {"username": name, "password": "a fine password"}), 401, "invalid_credentials")


def test_users():
    carol = srv.client("carol")
    with T.case("users list: staff search by name / e-mail / display name; customers 403"):
        r = carol.get(USERS + "?q=ALI")
        status(r, 200)
        names = [u["username"] for u in r.json["results"]]
        check("alice" in names and "bob" not in names, "q=ALI gave %s" % names)
        check(all("email" in u for u in r.json["results"]), "staff see e-mail")
        r = carol.get(USERS + "?q=bob@example")
        eq([u["username"] for u in r.json["results"]], ["bob"], "by e-mail")
        r = carol.get(USERS + "?page_size=2")
        status(r, 200)
        eq(len(r.json["results"]), 2, "page size")
        check(r.json["count"] >= 4 and r.json["next"], "count/next: %s" % r.json)
        error(srv.client("alice").get(USERS), 403, "forbidden")
        error(Client(srv.port).get(USERS), 401, "not_authenticated")
        error(carol.get(USERS + "?bogus=1"), 400, "unknown_field")
    with T.case("user detail: self and staff 200 with ticket counts; another customer 404"):
        alice_id = srv.client("alice").get(SESSION).json["user"]["id"]
        bob_id = srv.client("bob").get(SESSION).json["user"]["id"]
        r = srv.client("alice").get(USERS + "%d/" % alice_id)
        status(r, 200)
        eq(r.json["username"], "alice", "self")
        check(isinstance(r.json.get("ticket_count"), int), "ticket_count: %s" % r.json)
        r = carol.get(USERS + "%d/" % bob_id)
        status(r, 200)
        eq(r.json["ticket_count"], count("bob"), "bob's ticket count")
        error(srv.client("alice").get(USERS + "%d/" % bob_id), 404, "not_found")
        error(carol.get(USERS + "999999/"), 404, "not_found")
        error(carol.get(USERS + "0/"), 404, "not_found")


def test_password_change():
    u = srv.add_user("changer", password="the old password")
    uid = srv.client("changer").get(SESSION).json["user"]["id"]
    with T.case("password change: other sessions end, this one stays; old password refused, new accepted"):
        a, b = Browser(srv.port), Browser(srv.port)
        a.login("changer", u.password)
        b.login("changer", u.password)
        path = USERS + "%d/password/" % uid
        r = a.post(path, {"old_password": u.password, "new_password": "the new password"})
        error(r, 403, "csrf_failed")
        r = a.post(path, {"old_password": "not it at all", "new_password": "the new password"}, csrf=a.csrf)
        error(r, 400, "invalid", ["old_password"])
        r = a.post(path, {"old_password": u.password, "new_password": "changer"}, csrf=a.csrf)
        error(r, 400, "invalid", ["new_password"])
        r = a.post(path, {"old_password": u.password, "new_password": "the new password"}, csrf=a.csrf)
        status(r, 200)
        eq(b.who(), None, "the other session")
        eq(a.who(), "changer", "the session that changed it")
        error(Browser(srv.port).post(SESSION, {"username": "changer", "password": u.password}),
              401, "invalid_credentials")
        Browser(srv.port).login("changer", "the new password")
    with T.case("password change of someone else: customer 404, staff 403"):
        error(srv.client("alice").post(USERS + "%d/password/" % uid,
                                       {"old_password": "x", "new_password": "the newer password"}),
              404, "not_found")
        error(srv.client("carol").post(USERS + "%d/password/" % uid,
                                       {"old_password": "x", "new_password": "the newer password"}),
              403, "forbidden")


def test_expiry():
    """srv2 runs with a test clock (docs/testing.md): the cases move it on
    instead of waiting, except one, which waits for the real clock."""
    alice = srv2.users["alice"]
    if srv2.mode == "nginx":
        with T.case("idle expiry by the real clock: a session unused for session_idle_s ends"):
            # The clock file is not there yet: no offset, real time passing.
            check(not os.path.exists(srv2.clock), "the clock is still the real one")
            b = Browser(srv2.port)
            b.login("alice", alice.password)
            eq(b.who(), "alice", "right after login")
            time.sleep(2.2)
            eq(b.who(), None, "2.2 s later")
    with T.case("idle expiry: a session unused longer than session_idle_s ends"):
        b = Browser(srv2.port)
        b.login("alice", alice.password)
        srv2.move_clock(1.5)
        eq(b.who(), "alice", "unused for 1.5 s")
        srv2.move_clock(1.5)
        eq(b.who(), "alice", "used again 1.5 s later: the idle time starts again")
        srv2.move_clock(2.2)
        eq(b.who(), None, "unused for 2.2 s")
        error(b.get(TICKETS), 401, "not_authenticated")
    with T.case("absolute expiry: a session in use ends session_max_s after its login"):
        b = Browser(srv2.port)
        b.login("alice", alice.password)
        seen = []
        # Used every 0.6 s (well within the 2 s idle limit) up to 6 s.
        for step in range(1, 11):
            srv2.move_clock(0.6)
            seen.append((round(0.6 * step, 1), b.who()))
        early = [w for t, w in seen if t < 4.5]
        late = [w for t, w in seen if t > 5.4]
        check(early and all(w == "alice" for w in early), "ended early: %s" % seen)
        check(late and all(w is None for w in late), "still alive after session_max_s: %s" % seen)
    with T.case("supportctl session purge removes expired sessions nobody used again"):
        b = Browser(srv2.port)
        b.login("bob", srv2.users["bob"].password)
        srv2.move_clock(2.5)
        p = srv2.ctl("session", "purge")
        eq(p.returncode, 0, "exit status (%s)" % p.stderr.decode(errors="replace"))
        m = re.match(r"(\d+) records? removed", p.stdout.decode())
        check(m and int(m.group(1)) >= 1, "output: %r" % p.stdout)
        p = srv2.ctl("session", "purge")
        eq(p.stdout.decode().strip(), "0 records removed", "a second purge")
    with T.case("throttling ends with its window: login_window_s after the failures, the password works"):
        carol = srv2.users["carol"]
        b = Browser(srv2.port)
        for i in range(5):
            error(b.post(SESSION, {"username": "carol", "password": "guess-%d" % i}), 401,
                  "invalid_credentials")
        error(b.post(SESSION, {"username": "carol", "password": carol.password}), 429,
              "too_many_attempts")
        srv2.move_clock(850)
        error(b.post(SESSION, {"username": "carol", "password": carol.password}), 429,
              "too_many_attempts")
        srv2.move_clock(60)
        b.login("carol", carol.password)
        eq(b.who(), "carol", "logged in once the window (900 s) has passed")


def test_registration_off():
    with T.case("registration off (the default): 403 registration_closed, no account"):
        r = Browser(srv2.port).post(USERS, {"username": "walkin", "email": "walkin@example.com",
                                            "password": "a fine password"})
        error(r, 403, "registration_closed")
        error(Browser(srv2.port).post(SESSION, {"username": "walkin", "password": "a fine password"}),
              401, "invalid_credentials")


def test_client_remote_user_headers():
    with T.case("trust_remote_user = yes: a client's Remote-User / X-Remote-User header logs nobody in"):
        for h in ("Remote-User", "X-Remote-User", "REMOTE_USER"):
            r = Client(srv2.port).get(TICKETS, headers={h: "alice"})
            error(r, 401, "not_authenticated")
            r = Client(srv2.port).get(SESSION, headers={h: "alice"})
            eq(r.json["user"], None, "GET session with %s" % h)


def cgi_session(conf, env_extra):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": SESSION,
        "PATH_INFO": SESSION,
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
        "SUPPORT_CONF": conf,
    }
    env.update(env_extra)
    t0 = time.monotonic()
    p = subprocess.run([CGI_SESSION], cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    r = CGIResponse(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
    T.last_response = r
    return r


def test_remote_user():
    with T.case("REMOTE_USER (set by the server) with trust_remote_user = yes: logged in, account made once"):
        r = cgi_session(srv2.conf, {"REMOTE_USER": "kerberized"})
        status(r, 200)
        check(r.json["user"] is not None, "not logged in: %s" % r.json)
        eq(r.json["user"]["username"], "kerberized", "username")
        eq(r.json["user"]["is_staff"], False, "is_staff")
        first = r.json["user"]["id"]
        r = cgi_session(srv2.conf, {"REMOTE_USER": "KERBERIZED"})
        eq(r.json["user"]["id"], first, "the same account the second time")
        r = cgi_session(srv2.conf, {"REMOTE_USER": "alice"})
        eq(r.json["user"]["username"], "alice", "an existing account")
    with T.case("REMOTE_USER equal to someone's e-mail address is not their account"):
        r = cgi_session(srv2.conf, {"REMOTE_USER": srv2.users["bob"].email})
        status(r, 200)
        eq(r.json["user"]["username"], srv2.users["bob"].email, "username")
        check(r.json["user"]["id"] != srv2.client("bob").get(SESSION).json["user"]["id"], "landed in bob's account")
        p = srv2.ctl("user", "list")
        eq(len(re.findall(r"\bkerberized\b", p.stdout.decode())), 1, "kerberized accounts")
    with T.case("REMOTE_USER is ignored when trust_remote_user is off (no account made)"):
        r = cgi_session(srv.conf, {"REMOTE_USER": "outsider"})
        status(r, 200)
        eq(r.json["user"], None, "user")
        p = srv.ctl("user", "list")
        check("outsider" not in p.stdout.decode(), "an account was made")
    with T.case("REMOTE_USER of a name no username can hold: not logged in"):
        r = cgi_session(srv2.conf, {"REMOTE_USER": "DOMAIN\\someone"})
        error(r, 401, "not_authenticated")
    with T.case("HTTPS=on: the cookies are Secure"):
        r = cgi_session(srv.conf, {"HTTPS": "on"})
        c = set_cookies(r)
        check("csrftoken" in c and "secure" in attrs_of(c["csrftoken"][1]),
              "csrftoken without Secure: %s" % r.header_all("Set-Cookie"))


def main():
    global srv, srv2
    srv = standard_server(conf={("support", "allow_registration"): "yes",
                                ("support", "login_fails_account"): "3",
                                ("support", "login_fails_address"): "1000",
                                ("support", "login_window_s"): "60",
                                ("support", "max_tickets_per_user"): "0"})
    srv2 = standard_server(conf={("support", "session_idle_s"): "2",
                                 ("support", "session_max_s"): "5",
                                 ("support", "trust_remote_user"): "yes"}, clock=True)
    test_anonymous()
    test_login()
    test_csrf()
    test_isolation()
    test_logout()
    test_throttle()
    test_registration()
    test_users()
    test_password_change()
    test_expiry()
    test_registration_off()
    test_client_remote_user_headers()
    test_remote_user()
    check_no_leftovers(srv)
    check_no_leftovers(srv2)


if __name__ == "__main__":
    run_main(main)
