#!/usr/bin/env python3
"""Seed inputs for the whole-program fuzz targets (tests/fuzz/fuzz_prog.h).

    python3 tests/fuzz/seeds.py [--out DIR]

writes, for each program (and prog_webhook, the tickets program's webhook
in, signed by its target), into DIR/prog_<program>/ (default: this
directory's corpus/): the requests the http tests make (tests/http/
test_api.py, test_session.py, test_pages.py), one or more per route, with
each way of logging in (Bearer token, Basic, session cookie with its CSRF
token, anonymous), JSON and form bodies; and, for every body and query
field of every route, a value at the field's length limit and one past it,
in 1-, 2-, 3- and 4-byte UTF-8 characters (the limits of the field tables
in cgi-bin/*.c and cgi-bin/tquery.c's tquery_fields).  Files are named by the
SHA-1 of their content, as libFuzzer names its own, so running it again
adds nothing twice.  "@name@" stands for a secret of the target's store
(fuzz_prog.c).
"""
import argparse
import base64
import hashlib
import json
import os
import urllib.parse

# The field limits: keep them as cgi-bin/*.c, cgi-bin/tquery.c, lib/desk/user.h say.
SUBJECT_MAX = 255          # characters (F_STRING)
CONTENT_MAX = 65536        # bytes (F_TEXT)
USERNAME_MAX = 150         # characters
EMAIL_MAX = 254            # characters
PASSWORD_MAX = 1024        # bytes
PAGE_NEXT_MAX = 2048       # bytes
UUID_STRLEN = 36           # characters
QUERY_TEXT_MAX = 200       # status=, q= of the ticket list (characters)
QUERY_ASSIGNEE_MAX = 12    # characters

# One character of each UTF-8 length.
CHARS = ["a", "\u00e9", "\u20ac", "\U0001f600"]

API = "/api/support/"
TICKETS = API + "tickets/"
SESSION = API + "session/"
USERS = API + "users/"
TA = "@ticket_alice@"
TB = "@ticket_bob@"
TC = "@ticket_closed@"


def basic(name, password=None):
    pw = password if password is not None else name + " password"
    return "Basic " + base64.b64encode((name + ":" + pw).encode()).decode()


class Who:
    """How a request logs in: headers, and the CSRF token of a cookie."""

    def __init__(self, kind, name=None):
        self.kind, self.name = kind, name

    def headers(self, method):
        h = []
        if self.kind == "bearer":
            h.append(("HTTP_AUTHORIZATION", "Bearer @%s_token@" % self.name))
        elif self.kind == "basic":
            h.append(("HTTP_AUTHORIZATION", basic(self.name)))
        elif self.kind == "cookie":
            h.append(("HTTP_COOKIE", "sessionid=@%s_sid@; csrftoken=@%s_csrf@"
                      % (self.name, self.name)))
            if method not in ("GET", "HEAD"):
                h.append(("HTTP_X_CSRFTOKEN", "@%s_csrf@" % self.name))
        return h

    def form_token(self):
        return "@%s_csrf@" % self.name if self.kind == "cookie" else None


ALICE = Who("bearer", "alice")
ALICE_BASIC = Who("basic", "alice")
ALICE_COOKIE = Who("cookie", "alice")
BOB = Who("basic", "bob")
CAROL = Who("bearer", "carol")
CAROL_COOKIE = Who("cookie", "carol")
DAVE = Who("bearer", "dave")
DAVE_COOKIE = Who("cookie", "dave")
ANON = Who("anon")


def request(method, path, who=ANON, query=None, json_body=None, form=None,
            body=None, ctype=None, extra=(), uri_var="REQUEST_URI"):
    """One input: CGI variables, an empty line, the body."""
    env = [("REQUEST_METHOD", method)]
    qs = ""
    if query is not None:
        qs = query if isinstance(query, str) else urllib.parse.urlencode(query)
        qs = qs.replace("%40", "@")     # "@name@" placeholders stay whole
    if uri_var == "REQUEST_URI":
        env.append(("REQUEST_URI", path + ("?" + qs if qs else "")))
    else:
        env.append(("SCRIPT_NAME", "/cgi-bin/prog"))
        env.append(("PATH_INFO", path))
    if qs:
        env.append(("QUERY_STRING", qs))
    data = b""
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode()
        ctype = ctype or "application/json"
    elif form is not None:
        # A dict, or (name, value) pairs when a name repeats (checkboxes).
        f = list(form.items()) if isinstance(form, dict) else list(form)
        if who.form_token():
            f.append(("csrfmiddlewaretoken", who.form_token()))
        data = urllib.parse.urlencode(f).encode()
        ctype = ctype or "application/x-www-form-urlencoded"
    elif body is not None:
        data = body
    if ctype:
        env.append(("CONTENT_TYPE", ctype))
    env += who.headers(method)
    env.append(("REMOTE_ADDR", "127.0.0.1"))
    env.append(("HTTP_ACCEPT", "text/html" if path.startswith("/support/")
                else "application/json"))
    env += list(extra)
    head = "".join("%s=%s\n" % kv for kv in env).encode()
    # A form's token goes in as "@name@" unescaped: urlencode made it %40.
    data = data.replace(b"%40", b"@") if form is not None else data
    return head + b"\n" + data


def chars(n, c):
    """n characters of c: an F_STRING value of n characters."""
    return c * n


def nbytes(n, c):
    """Exactly n bytes of text made of c (padded with 'a'): an F_TEXT value."""
    k = len(c.encode())
    return c * (n // k) + "a" * (n % k)


def limits(maxlen, unit):
    """Values at the limit and one past it, in each UTF-8 length."""
    out = []
    for c in CHARS:
        if unit == "chars":
            out += [chars(maxlen, c), chars(maxlen + 1, c)]
        else:
            out += [nbytes(maxlen, c), nbytes(maxlen + 1, c)]
    return out


def tickets():
    s = []
    # POST /api/support/tickets/, each way of logging in (test_api.py).
    t = {"subject": "Printer", "initial_message": "It smokes", "priority": "high"}
    for who in (ALICE, ALICE_BASIC, ALICE_COOKIE, BOB, CAROL, ANON):
        s.append(request("POST", TICKETS, who, json_body=t))
    s.append(request("POST", TICKETS, ALICE_COOKIE, json_body=t,
                     extra=[("HTTP_X_CSRFTOKEN", "0" * 64)]))
    s.append(request("POST", TICKETS, Who("cookie", "alice"), json_body=t,
                     extra=[("HTTP_AUTHORIZATION", "Bearer @alice_token@")]))
    s.append(request("POST", TICKETS, ALICE, body=b'{"subject": "s", '
                     b'"initial_message": "m"}', ctype="text/plain"))
    s.append(request("POST", TICKETS, ALICE, body=b'{"subject": "caf\xe9\xff", '
                     b'"initial_message": "x"}', ctype="application/json"))
    s.append(request("POST", TICKETS, ALICE, body=b'{"subject": "x", "subject":'
                     b' "y", "initial_message": "m", "extra": 1}',
                     ctype="application/json"))
    s.append(request("POST", TICKETS, ALICE, body=b'[1, {"a": "\\ud800"}]',
                     ctype="application/json"))
    s.append(request("POST", TICKETS, ALICE, body=b'{"subject": "x"',
                     ctype="application/json",
                     extra=[("CONTENT_LENGTH", "999")]))
    s.append(request("POST", TICKETS, ALICE, body=b'{"subject": "chunked",'
                     b' "initial_message": "m"}', ctype="application/json",
                     extra=[("HTTP_TRANSFER_ENCODING", "chunked")]))
    s.append(request("POST", TICKETS, ALICE, json_body=t,
                     extra=[("CONTENT_LENGTH", "99999999999999999999")]))
    s.append(request("POST", TICKETS, ALICE, json_body={
        "subject": "  padded  ", "initial_message": "**bold** <script>x</script>"
        " [l](javascript:alert(1))", "priority": "nope"}))
    for field, maxlen, unit in (("subject", SUBJECT_MAX, "chars"),
                                ("initial_message", CONTENT_MAX, "bytes")):
        for v in limits(maxlen, unit):
            b = {"subject": "s", "initial_message": "m"}
            b[field] = v
            s.append(request("POST", TICKETS, ALICE, json_body=b))
    # GET /api/support/tickets/ and its filters.
    queries = [None, {"status": "open,waiting_for_admin"}, {"priority": "high"},
               {"assignee": "me"}, {"assignee": "none"}, {"assignee": "3"},
               {"user": "1"}, {"q": "printer"},
               {"created_after": "2026-01-01T00:00:00Z",
                "created_before": "2099-01-01T00:00:00.123456Z"},
               {"ordering": "-created_at", "page": "2", "page_size": "1"},
               {"ordering": "priority", "page_size": "100"},
               "status=%ZZ&q=%00", "page=0&page=1", "page_size=101"]
    for q in queries:
        for who in (ALICE, CAROL):
            s.append(request("GET", TICKETS, who, query=q))
    s.append(request("GET", TICKETS, ANON))
    for field, maxlen in (("q", QUERY_TEXT_MAX), ("status", QUERY_TEXT_MAX),
                          ("assignee", QUERY_ASSIGNEE_MAX)):
        for v in limits(maxlen, "chars"):
            s.append(request("GET", TICKETS, CAROL, query={field: v}))
    # One ticket.
    for who in (ALICE, ALICE_COOKIE, BOB, CAROL, DAVE, ANON):
        s.append(request("GET", TICKETS + TA + "/", who))
    s.append(request("HEAD", TICKETS + TA + "/", ALICE))
    s.append(request("GET", TICKETS + TA + "/", ALICE, uri_var="PATH_INFO"))
    s.append(request("GET", TICKETS + "not-a-uuid/", ALICE))
    s.append(request("DELETE", TICKETS, ALICE))
    s.append(request("GET", API + "nope/", ALICE))
    s.append(request("GET", TICKETS + TA + "/", ALICE, query="x=1"))
    # PATCH.
    patches = [(ALICE, TA, {"status": "resolved"}), (ALICE, TA, {"status": "closed"}),
               (ALICE, TA, {"priority": "low"}), (ALICE_COOKIE, TA, {"status": "resolved"}),
               (CAROL, TA, {"assignee": 3, "priority": "urgent", "subject": "New"}),
               (CAROL, TA, {"assignee": None}), (CAROL, TA, {"assignee": 1}),
               (CAROL, TC, {"status": "open"}), (ALICE, TC, {"status": "resolved"}),
               (BOB, TA, {"status": "closed"}), (DAVE, TB, {"status": "waiting_for_user"})]
    for who, t_, b in patches:
        s.append(request("PATCH", TICKETS + t_ + "/", who, json_body=b))
    for v in limits(SUBJECT_MAX, "chars"):
        s.append(request("PATCH", TICKETS + TA + "/", CAROL, json_body={"subject": v}))
    # Bulk changes (test_bulk.py): the API and the queue's form.
    bulk = TICKETS + "bulk/"
    ghost = "0193a0c4-0000-7000-8000-000000000001"
    bodies = [{"uuids": [TA, TB, TC], "status": "waiting_for_user", "priority": "high",
               "assignee": 3},
              {"uuids": [TA, TB], "assignee": None}, {"uuids": [TA, ghost, TB], "status": "open"},
              {"uuids": [TA, TA]}, {"uuids": []}, {"uuids": TA}, {"uuids": [1, "x"]},
              {"uuids": [ghost] * 101}, {"uuids": [TA], "assignee": 1},
              {"uuids": [TA], "subject": "x"}]
    for b in bodies:
        s.append(request("POST", bulk, CAROL, json_body=b))
    s.append(request("POST", bulk, ALICE, json_body=bodies[0]))
    s.append(request("GET", bulk, CAROL))
    page_bulk = "/support/tickets/bulk/"
    forms = [[("uuids", TA), ("uuids", TB), ("status", "closed"), ("priority", ""),
              ("assignee", "0")],
             [("all", "1"), ("shown", TA), ("shown", TC), ("status", ""), ("priority", "low"),
              ("assignee", "")],
             [("uuids", TA), ("uuids", ghost), ("status", "open")],
             [("status", "closed")], [("uuids", TA), ("status", "open"), ("status", "closed")]]
    for f in forms:
        s.append(request("POST", page_bulk, CAROL_COOKIE, form=f))
    s.append(request("POST", page_bulk, ALICE_COOKIE, form=forms[0]))
    s.append(request("GET", "/support/", CAROL_COOKIE, query={"updated": "3"}))
    # The pages (test_pages.py).
    for who in (ALICE_COOKIE, CAROL_COOKIE, ANON):
        s.append(request("GET", "/support/", who))
        s.append(request("GET", "/support/tickets/new/", who))
        s.append(request("GET", "/support/tickets/" + TA + "/", who))
    s.append(request("GET", "/support/", CAROL_COOKIE,
                     query={"status": "open", "q": "fire", "page": "1"}))
    f = {"subject": "From the page", "initial_message": "Hello"}
    s.append(request("POST", "/support/tickets/new/", ALICE_COOKIE, form=f))
    s.append(request("POST", "/support/tickets/new/", ALICE_COOKIE,
                     form={"subject": "", "initial_message": "x"}))
    s.append(request("POST", "/support/tickets/new/", Who("cookie", "alice"),
                     form=f, extra=[]).replace(b"csrfmiddlewaretoken=@alice_csrf@",
                                               b"csrfmiddlewaretoken=bad"))
    for field, maxlen, unit in (("subject", SUBJECT_MAX, "chars"),
                                ("initial_message", CONTENT_MAX, "bytes")):
        for v in limits(maxlen, unit):
            b = dict(f)
            b[field] = v
            s.append(request("POST", "/support/tickets/new/", ALICE_COOKIE, form=b))
    for st in ("resolved", "closed", "open", "bogus"):
        s.append(request("POST", "/support/tickets/" + TA + "/", ALICE_COOKIE,
                         form={"status": st}))
        s.append(request("POST", "/support/tickets/" + TA + "/", CAROL_COOKIE,
                         form={"status": st}))
    s.extend(queue())
    return s


def queue():
    """The staff's queue page and the saved views (cgi-bin/queue.c)."""
    s = []
    for q in ("status=open&status=waiting_for_admin&assignee=none",
              "status=open,waiting_for_admin,waiting_for_user&assignee=me",
              "priority=urgent&customer=alice&created_from=2026-01-01&created_to=2026-12-31"
              "&q=%23123&ordering=-priority&updated=3",
              "customer=nobody@example.com", "customer=bob&user=2",
              "created_to=2026-01-01&created_before=2026-01-02", "status=&status=closed"):
        s.append(request("GET", "/support/", CAROL, query=q))
    s.append(request("GET", "/support/", ALICE, query="customer=alice"))
    views = API + "views/"
    s.append(request("GET", views, CAROL))
    for body in ({"name": "Mine", "query": "?assignee=me&status=waiting_for_user,open"},
                 {"name": "x" * 61, "query": ""}, {"name": 5, "query": 5},
                 {"name": "Bad", "query": "page=2&customer=x&colour=red"},
                 {"name": "Esc", "query": "q=%zz"}, {"name": "Long", "query": "q=" + "a" * 1000},
                 {"name": "\u00e9" * 60, "query": "user=1&priority=low"}):
        s.append(request("POST", views, CAROL, json_body=body))
    s.append(request("POST", views, ALICE, json_body={"name": "n", "query": ""}))
    s.append(request("DELETE", views + "1/", CAROL))
    s.append(request("DELETE", views + "99999/", DAVE))
    s.append(request("POST", "/support/views/", CAROL_COOKIE,
                     form={"name": "Saved", "query": "status=closed"}))
    s.append(request("POST", "/support/views/1/delete/", CAROL_COOKIE, form={}))
    return s


def messages():
    s = []
    m = TICKETS + TA + "/messages/"
    for who in (ALICE, ALICE_COOKIE, CAROL, DAVE, BOB, ANON):
        s.append(request("GET", m, who))
    s.append(request("GET", m, ALICE, query={"after": "@msg_alice@"}))
    s.append(request("GET", m, CAROL, query={"after": "@note_alice@"}))
    s.append(request("GET", m, ALICE, query={"after": "@ticket_bob@"}))
    s.append(request("GET", m, ALICE, query={"after": "zz"}))
    s.append(request("GET", m, ALICE, extra=[("HTTP_IF_NONE_MATCH", '"x", *')]))
    s.append(request("HEAD", m, ALICE))
    for v in limits(UUID_STRLEN, "chars"):
        s.append(request("GET", m, ALICE, query={"after": v}))
    posts = [(ALICE, TA, {"content": "Still smoking"}), (ALICE, TA, {"text": "alias"}),
             (ALICE_COOKIE, TA, {"content": "from the browser"}),
             (ALICE_BASIC, TA, {"content": "basic"}),
             (ALICE, TA, {"content": "note?", "is_internal": True}),
             (CAROL, TA, {"content": "a note", "is_internal": True}),
             (CAROL, TA, {"content": "a reply", "is_internal": False}),
             (DAVE, TB, {"content": "*admin* `reply`"}),
             (ALICE, TC, {"content": "closed?"}), (CAROL, TC, {"content": "reopen"}),
             (BOB, TA, {"content": "not mine"}), (ANON, TA, {"content": "x"}),
             (ALICE, TA, {"content": "   "}), (ALICE, TA, {"content": 5}),
             (ALICE, TA, {"content": "x", "text": "y"}),
             (ALICE, TA, {"content": "x", "last_seen": "@msg_alice@"})]
    for who, t_, b in posts:
        s.append(request("POST", TICKETS + t_ + "/messages/", who, json_body=b))
    for v in limits(CONTENT_MAX, "bytes"):
        s.append(request("POST", m, ALICE, json_body={"content": v}))
    pm = "/support/tickets/" + TA + "/messages/"
    for who, f in ((ALICE_COOKIE, {"content": "page reply"}),
                   (CAROL_COOKIE, {"content": "page note", "is_internal": "on"}),
                   (ALICE_COOKIE, {"content": ""}), (ANON, {"content": "x"})):
        s.append(request("POST", pm, who, form=f))
    for v in limits(CONTENT_MAX, "bytes"):
        s.append(request("POST", pm, ALICE_COOKIE, form={"content": v}))
    # Presence (staff): the staff poll marks, the endpoint reads and sets.
    pr = TICKETS + TA + "/presence/"
    for who in (CAROL, DAVE, ALICE, ANON):
        s.append(request("GET", pr, who))
    s.append(request("GET", m, CAROL, extra=[("HTTP_IF_NONE_MATCH", '"1-s-0-p0000abcd"')]))
    for who, b in ((CAROL, {"typing": True}), (CAROL, {"typing": False}),
                   (DAVE, {"viewing": False}), (CAROL, {}), (CAROL, {"typing": "yes"}),
                   (CAROL, {"typing": True, "viewing": False}), (CAROL, {"mood": 1}),
                   (ALICE, {"typing": True}), (CAROL_COOKIE, {"typing": True})):
        s.append(request("POST", pr, who, json_body=b))
    s.append(request("POST", TICKETS + TC + "/presence/", CAROL, json_body={"typing": True}))
    s += message_changes()
    return s


def message_changes():
    """Staff's edit and delete of a message, its history, the page forms
    (issue 17 part 8)."""
    s = []
    mm = TICKETS + TA + "/messages/@msg_alice@/"
    other = TICKETS + TB + "/messages/@msg_alice@/"
    for who, b in ((CAROL, {"content": "edited *text*"}), (DAVE, {"text": "alias"}),
                   (CAROL_COOKIE, {"content": "from the page's script"}),
                   (ALICE, {"content": "mine"}), (BOB, {"content": "x"}), (ANON, {"content": "x"}),
                   (CAROL, {}), (CAROL, {"content": ""}), (CAROL, {"content": "  "}),
                   (CAROL, {"content": 5}), (CAROL, {"content": None}),
                   (CAROL, {"content": "x", "is_internal": True})):
        s.append(request("PATCH", mm, who, json_body=b))
    s.append(request("PATCH", mm, CAROL, body=b"[1]", ctype="application/json"))
    s.append(request("PATCH", mm, CAROL, body=b"content=x", ctype="text/plain"))
    s.append(request("PATCH", other, CAROL, json_body={"content": "wrong ticket"}))
    s.append(request("PATCH", TICKETS + TA + "/messages/@note_alice@/", CAROL,
                     json_body={"content": "a note, edited"}))
    for v in limits(CONTENT_MAX, "bytes"):
        s.append(request("PATCH", mm, CAROL, json_body={"content": v}))
    for who in (CAROL, DAVE, ALICE, ANON):
        s.append(request("GET", mm + "history/", who))
        s.append(request("DELETE", mm, who))
    s.append(request("DELETE", other, CAROL))
    s.append(request("DELETE", TICKETS + TA + "/messages/zz/", CAROL))
    s.append(request("DELETE", mm, CAROL, query={"x": "1"}))
    pm = "/support/tickets/" + TA + "/messages/@msg_alice@/"
    for who, f in ((CAROL_COOKIE, {"content": "page edit"}), (CAROL_COOKIE, {"content": ""}),
                   (ALICE_COOKIE, {"content": "x"}), (ANON, {"content": "x"})):
        s.append(request("POST", pm + "edit/", who, form=f))
    for who in (CAROL_COOKIE, ALICE_COOKIE, DAVE_COOKIE):
        s.append(request("POST", pm + "delete/", who, form={}))
    return s


def session():
    s = []
    for who in (ANON, ALICE_COOKIE, ALICE, CAROL_COOKIE):
        s.append(request("GET", SESSION, who))
    good = {"username": "alice", "password": "alice password"}
    s.append(request("POST", SESSION, ANON, json_body=good))
    s.append(request("POST", SESSION, ANON, json_body={
        "email": "carol@example.com", "password": "carol password"}))
    s.append(request("POST", SESSION, ANON, json_body={
        "username": "alice", "password": "wrong"}))
    s.append(request("POST", SESSION, ANON, json_body={
        "username": "nobody", "password": "x"}))
    s.append(request("POST", SESSION, ANON, form=good))
    s.append(request("POST", SESSION, ANON, form=dict(good, csrfmiddlewaretoken="a" * 64),
                     extra=[("HTTP_COOKIE", "csrftoken=" + "a" * 64)]))
    s.append(request("POST", SESSION, ANON, json_body=good,
                     extra=[("HTTP_COOKIE", "csrftoken=" + "b" * 64),
                            ("HTTP_X_CSRFTOKEN", "b" * 64)]))
    s.append(request("POST", SESSION, ALICE_COOKIE, json_body=good))
    for field, maxlen, unit in (("username", EMAIL_MAX, "chars"),
                                ("password", PASSWORD_MAX, "bytes")):
        for v in limits(maxlen, unit):
            b = dict(good)
            b[field] = v
            s.append(request("POST", SESSION, ANON, json_body=b))
    s.append(request("DELETE", SESSION, ALICE_COOKIE))
    s.append(request("DELETE", SESSION, Who("cookie", "carol")).replace(
        b"HTTP_X_CSRFTOKEN=@carol_csrf@", b"HTTP_X_CSRFTOKEN=x"))
    s.append(request("DELETE", SESSION, ANON))
    # The pages.
    s.append(request("GET", "/support/login/", ANON))
    s.append(request("GET", "/support/login/", ANON, query={"next": "/support/tickets/new/"}))
    s.append(request("GET", "/support/login/", ANON, query={"next": "//evil.example/"}))
    s.append(request("GET", "/support/login/", ALICE_COOKIE))
    for v in limits(PAGE_NEXT_MAX, "bytes"):
        s.append(request("GET", "/support/login/", ANON, query={"next": "/" + v[1:]}))
    tok = "c" * 64
    s.append(request("POST", "/support/login/", ANON,
                     form=dict(good, csrfmiddlewaretoken=tok, next="/support/"),
                     extra=[("HTTP_COOKIE", "csrftoken=" + tok)]))
    s.append(request("POST", "/support/login/", ANON,
                     form={"username": "alice", "password": "bad",
                           "csrfmiddlewaretoken": tok},
                     extra=[("HTTP_COOKIE", "csrftoken=" + tok)]))
    s.append(request("POST", "/support/login/", ANON, form=good))
    s.append(request("POST", "/support/logout/", ALICE_COOKIE, form={}))
    s.append(request("POST", "/support/logout/", ANON, form={}))
    return s


def users():
    s = []
    reg = {"username": "newcomer", "email": "newcomer@example.com",
           "password": "a fine password", "display_name": "New Comer"}
    s.append(request("POST", USERS, ANON, json_body=reg))
    for b in ({"username": "x1", "email": "Alice@Example.com", "password": "a fine password"},
              {"username": "ALICE", "email": "x1@example.com", "password": "a fine password"},
              {"username": "x2", "email": "x2@example.com", "password": "short"},
              {"username": "x3longname", "email": "x3@example.com", "password": "X3LONGNAME"},
              {"username": "bad name", "email": "not-an-address", "password": "a fine password"}):
        s.append(request("POST", USERS, ANON, json_body=b))
    s.append(request("POST", USERS, ALICE, json_body=reg))
    s.append(request("POST", USERS, ANON, form=reg))
    for field, maxlen, unit in (("username", USERNAME_MAX, "chars"),
                                ("email", EMAIL_MAX, "chars"),
                                ("password", PASSWORD_MAX, "bytes"),
                                ("display_name", USERNAME_MAX, "chars")):
        for v in limits(maxlen, unit):
            b = dict(reg)
            b[field] = v
            s.append(request("POST", USERS, ANON, json_body=b))
    for q in (None, {"q": "ali"}, {"q": "example.com", "page": "1", "page_size": "1"},
              {"page_size": "101"}, {"page": "1000001"}):
        for who in (CAROL, DAVE, ALICE):
            s.append(request("GET", USERS, who, query=q))
    for v in limits(EMAIL_MAX, "chars"):
        s.append(request("GET", USERS, CAROL, query={"q": v}))
    for who, uid in ((ALICE, "@alice_id@"), (ALICE, "@bob_id@"), (CAROL, "@alice_id@"),
                     (DAVE, "@carol_id@"), (CAROL, "0"), (CAROL, "99999"),
                     (CAROL, "4294967296"), (ANON, "@alice_id@")):
        s.append(request("GET", USERS + uid + "/", who))
    pw = {"old_password": "bob password", "new_password": "bob password"}
    s.append(request("POST", USERS + "@bob_id@/password/", BOB, json_body=pw))
    s.append(request("POST", USERS + "@bob_id@/password/", BOB,
                     json_body={"old_password": "not it", "new_password": "another one"}))
    s.append(request("POST", USERS + "@bob_id@/password/", BOB,
                     json_body={"old_password": "bob password", "new_password": "bob"}))
    s.append(request("POST", USERS + "@alice_id@/password/", BOB, json_body=pw))
    s.append(request("POST", USERS + "@bob_id@/password/", DAVE, json_body=pw))
    for field in ("old_password", "new_password"):
        for v in limits(PASSWORD_MAX, "bytes"):
            b = {"old_password": "not it", "new_password": "x"}
            b[field] = v
            s.append(request("POST", USERS + "@bob_id@/password/", BOB, json_body=b))
    # The pages.
    for who in (ANON, ALICE_COOKIE):
        s.append(request("GET", "/support/register/", who))
        s.append(request("GET", "/support/password/", who))
    s.append(request("GET", "/support/password/", ALICE_COOKIE, query={"changed": "1"}))
    s.append(request("GET", "/support/password/", ALICE_COOKIE, query={"changed": "maybe"}))
    tok = "d" * 64
    f = dict(reg, username="pageuser", email="pageuser@example.com",
             csrfmiddlewaretoken=tok)
    s.append(request("POST", "/support/register/", ANON, form=f,
                     extra=[("HTTP_COOKIE", "csrftoken=" + tok)]))
    s.append(request("POST", "/support/register/", ANON, form=dict(f, password="short"),
                     extra=[("HTTP_COOKIE", "csrftoken=" + tok)]))
    s.append(request("POST", "/support/password/", ALICE_COOKIE,
                     form={"old_password": "wrong", "new_password": "the new password"}))
    s.append(request("POST", "/support/password/", ALICE_COOKIE,
                     form={"old_password": "alice password", "new_password": "alice"}))
    s += admin()
    return s


def admin():
    """The admin area (cgi-bin/users.c, admin.c): its API and pages, by an admin
    and by those it refuses, with good and bad input."""
    s = []
    made = {"username": "madeagent", "email": "madeagent@example.com",
            "password": "a fine password", "role": "agent"}
    for who in (DAVE, CAROL, ALICE, ANON):
        s.append(request("POST", USERS, who, json_body=made))
    for b in (dict(made, role="boss"), dict(made, role=2), dict(made, role=None),
              dict(made, username="ALICE"), dict(made, password="short")):
        s.append(request("POST", USERS, DAVE, json_body=b))
    for q in ({"role": "agent"}, {"is_active": "false"}, {"role": "boss"},
              {"is_active": "maybe"}, {"role": "", "is_active": "", "q": "a"}):
        s.append(request("GET", USERS, DAVE, query=q))
    for uid in ("@alice_id@", "@carol_id@", "@dave_id@", "99999"):
        for body in ({"role": "agent"}, {"is_active": False}, {"is_active": True},
                     {"role": "user", "is_active": False, "away": True}, {"role": 1}, {}):
            s.append(request("PATCH", USERS + uid + "/", DAVE, json_body=body))
        s.append(request("POST", USERS + uid + "/password/", DAVE,
                         json_body={"new_password": "a new password"}))
        s.append(request("POST", USERS + uid + "/password/", DAVE,
                         json_body={"new_password": "short"}))
        for method in ("GET", "DELETE"):
            s.append(request(method, USERS + uid + "/tokens/", DAVE))
        s.append(request("DELETE", USERS + uid + "/sessions/", DAVE))
        s.append(request("DELETE", USERS + uid + "/sessions/", CAROL))
    s.append(request("PATCH", USERS + "@carol_id@/", CAROL, json_body={"role": "admin"}))
    for who in (DAVE, CAROL):
        s.append(request("GET", API + "settings/", who))
    # The audit log (issue 17 part 7): its filters, each bad value, who may.
    AUD = API + "audit/"
    for who in (DAVE, CAROL, ALICE, ANON, DAVE_COOKIE):
        s.append(request("GET", AUD, who))
    for q in ({"actor": "carol"}, {"actor": "@carol_id@"}, {"actor": "nobody"},
              {"ticket": TA}, {"ticket": "1"}, {"ticket": "99999"}, {"ticket": "abc"},
              {"from": "2026-01-01", "to": "2026-12-31"}, {"from": "2026-12-31T10:00:00Z"},
              {"to": "2026-01-01", "from": "2026-02-01"}, {"from": "yesterday"},
              {"before": "0" * 32}, {"before": "zz"}, {"before": "f" * 33},
              {"limit": "1"}, {"limit": "200"}, {"limit": "0"}, {"limit": "201"},
              {"page": "2"}, "actor=%ZZ", "limit=1&limit=2",
              {"actor": "carol", "ticket": TA, "from": "2026-01-01", "limit": "2"}):
        s.append(request("GET", AUD, DAVE, query=q))
        s.append(request("GET", "/support/admin/audit/", DAVE_COOKIE, query=q))
    for v in limits(254, "chars"):
        s.append(request("GET", AUD, DAVE, query={"actor": v}))
    for v in limits(UUID_STRLEN, "chars"):
        s.append(request("GET", AUD, DAVE, query={"ticket": v}))
    for method in ("POST", "PATCH", "DELETE"):
        s.append(request(method, AUD, DAVE, json_body={}))
    for who in (CAROL_COOKIE, ALICE_COOKIE, ANON):
        s.append(request("GET", "/support/admin/audit/", who))
    # The webhooks out's delivery log (issue 16 part 8): filters, paging, retry.
    WH = API + "admin/webhooks/"
    for who in (DAVE, CAROL, ALICE, ANON, DAVE_COOKIE):
        s.append(request("GET", WH, who))
    for q in ({"subscription": "crm"}, {"subscription": "BAD NAME"}, {"state": "dead"},
              {"state": "lost"}, {"before": "01a24f06-63f6-7c24-a27a-b8b06d2d565b"},
              {"before": "xyz"}, {"limit": "1"}, {"limit": "200"}, {"limit": "0"},
              {"limit": "201"}, {"colour": "red"}, "state=dead&state=sent",
              {"subscription": "crm", "state": "pending", "limit": "5"}):
        s.append(request("GET", WH, DAVE, query=q))
        s.append(request("GET", "/support/admin/webhooks/", DAVE_COOKIE, query=q))
    for v in limits(40, "chars"):
        s.append(request("GET", WH, DAVE, query={"subscription": v}))
    for who in (DAVE, CAROL):
        s.append(request("POST", WH + "01a24f06-63f6-7c24-a27a-b8b06d2d565b/retry/", who))
    s.append(request("POST", WH + "not-a-uuid/retry/", DAVE))
    s.append(request("POST", "/support/admin/webhooks/01a24f06-63f6-7c24-a27a-b8b06d2d565b/retry/",
                     DAVE_COOKIE, form={}))
    s.append(request("GET", "/support/admin/webhooks/", DAVE_COOKIE, query={"done": "retried"}))
    s.append(request("GET", "/support/admin/webhooks/", CAROL_COOKIE))
    # The pages.
    A = "/support/admin/"
    for who in (DAVE_COOKIE, CAROL_COOKIE, ALICE_COOKIE, ANON):
        s.append(request("GET", A, who))
        s.append(request("GET", A + "users/", who, query={"q": "a", "role": "agent"}))
        s.append(request("GET", A + "users/@alice_id@/", who, query={"done": "disabled"}))
        s.append(request("GET", A + "settings/", who))
    s.append(request("GET", A + "users/@alice_id@/", DAVE_COOKIE, query={"done": "nope"}))
    form = {"username": "formmade", "email": "formmade@example.com",
            "password": "a fine password", "role": "agent", "display_name": "Form"}
    s.append(request("POST", A + "users/", DAVE_COOKIE, form=form))
    s.append(request("POST", A + "users/", DAVE_COOKIE, form=dict(form, role="boss")))
    for uid in ("@alice_id@", "@dave_id@", "99999"):
        for f in ({"role": "agent"}, {"is_active": "false"}, {"is_active": "true"}):
            s.append(request("POST", A + "users/" + uid + "/", DAVE_COOKIE, form=f))
        s.append(request("POST", A + "users/" + uid + "/password/", DAVE_COOKIE,
                         form={"new_password": "a new password"}))
        s.append(request("POST", A + "users/" + uid + "/sessions/", DAVE_COOKIE, form={}))
        s.append(request("POST", A + "users/" + uid + "/tokens/", DAVE_COOKIE, form={"x": "1"}))
    return s


def canned():
    s = []
    C = API + "canned-responses/"
    good = {"title": "Greeting", "body": "Hello {{customer.name}}, about #{{ticket.number}} "
            "({{ticket.subject:u}}): {{agent.name}} <{{customer.email}}>{{! a comment }}",
            "shortcut": "hi", "shared": False}
    for who in (CAROL, DAVE, ALICE):
        s.append(request("POST", C, who, json_body=good))
        s.append(request("POST", C, who, json_body=dict(good, shared=True, shortcut="hello")))
        s.append(request("GET", C, who))
    for body in ("{{nobody.name}}", "{{#section}}x{{/section}}", "{{>include}}", "{{=<% %>=}}",
                 "{{customer.name", "{{BI_SPACE}}{{BI_NEWLINE}}", "{{{customer.name}}}", ""):
        s.append(request("POST", C, CAROL, json_body=dict(good, body=body)))
    for field, maxlen in (("title", 200), ("body", 10000), ("shortcut", 50)):
        for v in limits(maxlen, "chars"):
            s.append(request("POST", C, CAROL, json_body=dict(good, **{field: v})))
    for cid in ("1", "2", "0", "4294967296", "99999"):
        s.append(request("GET", C + cid + "/", CAROL))
        s.append(request("PATCH", C + cid + "/", CAROL, json_body={"title": "New", "shared": True}))
        s.append(request("PATCH", C + cid + "/", DAVE, json_body={"body": "{{agent.name}}"}))
        s.append(request("POST", C + cid + "/render/", CAROL, json_body={"ticket": TA}))
        s.append(request("POST", C + cid + "/render/", CAROL, json_body={"ticket": "not a uuid"}))
        s.append(request("DELETE", C + cid + "/", DAVE))
    s.append(request("POST", C, CAROL, form=good))
    return s


def tpage():
    """The staff's ticket page and tickets for a customer (issue 15 part
    3): the tickets program's part."""
    s = []
    t = {"subject": "Phoned in", "initial_message": "She called"}
    for user in ("alice", "alice@example.com", 1, 0, -1, 2 ** 32, "carol", "", True, None, [1]):
        for who in (CAROL, ALICE):
            s.append(request("POST", TICKETS, who, json_body=dict(t, user=user)))
    s.append(request("POST", "/support/tickets/new/", CAROL_COOKIE, form=dict(t, user="alice")))
    s.append(request("POST", "/support/tickets/new/", CAROL_COOKIE, form=dict(t, user="")))
    page = "/support/tickets/" + TA + "/"
    for who in (CAROL_COOKIE, ALICE_COOKIE):
        s.append(request("GET", page, who))
        for form in ({"priority": "urgent"}, {"assignee": "3"}, {"assignee": ""},
                     {"assignee": "99999"}, {"status": "closed"}, {"canned": "1"},
                     {"canned": "99999"}, {"canned": "1", "priority": "low"}, {"canned": ""}):
            s.append(request("POST", page, who, form=form))
    s.append(request("GET", page + "?changed=open&changed_priority=high&assigned=1", CAROL_COOKIE))
    s.append(request("GET", page + "?changed_priority=x&assigned=maybe", CAROL_COOKIE))
    return s


def canned_pages():
    """The canned replies' page (issue 15 part 5): the canned program's."""
    s = []
    P = "/support/canned/"
    good = {"title": "Hi", "body": "Hello {{customer.name}}", "shortcut": "hi"}
    for who in (CAROL_COOKIE, DAVE_COOKIE, ALICE_COOKIE):
        s.append(request("GET", P, who))
        s.append(request("POST", P, who, form=good))
        s.append(request("POST", P, who, form=dict(good, shared="true")))
        s.append(request("POST", P, who, form=dict(good, title="", body="{{x}}")))
        for cid in ("1", "0", "99999"):
            s.append(request("GET", P + cid + "/", who))
            s.append(request("POST", P + cid + "/", who, form=good))
            s.append(request("POST", P + cid + "/delete/", who, form={}))
    s.append(request("GET", P + "?done=saved", CAROL_COOKIE))
    s.append(request("GET", P + "?done=other", CAROL_COOKIE))
    return s


WEBHOOK = API + "webhook/"
WEBHOOK_SECRET = "fuzz-webhook-secret"   # FUZZ_WEBHOOK_SECRET, fuzz_prog.h


def webhook():
    """The webhook in (issue 16 part 7), for fuzz_prog_webhook, which signs
    an input that has no signature line: good calls, every field at and
    past its limit, bad bodies and keys; and inputs that carry their own
    (bad) signature headers, which it serves as they are."""
    import hmac as _hmac
    s = []
    good = {"email": "hook@example.org", "subject": "From the shop",
            "message": "Order 42 never came.", "name": "Jane Ro\u00eb"}
    s.append(request("POST", WEBHOOK, json_body=good))
    s.append(request("POST", WEBHOOK, json_body=dict(good, email="alice@example.com")))
    s.append(request("POST", WEBHOOK, json_body=dict(good, name=None)))
    s.append(request("POST", WEBHOOK, json_body=good,
                     extra=[("HTTP_IDEMPOTENCY_KEY", "order-42")]))
    s.append(request("POST", WEBHOOK, json_body=dict(good, message="other"),
                     extra=[("HTTP_IDEMPOTENCY_KEY", "order-42")]))
    for key in ("", "k" * 200, "k" * 201, "caf\u00e9", "a\tb"):
        s.append(request("POST", WEBHOOK, json_body=good,
                         extra=[("HTTP_IDEMPOTENCY_KEY", key)]))
    s.append(request("POST", WEBHOOK, ALICE_COOKIE, json_body=good))
    for name, maxlen, unit in (("email", EMAIL_MAX, "chars"), ("subject", SUBJECT_MAX, "chars"),
                               ("message", CONTENT_MAX, "bytes"), ("name", USERNAME_MAX, "chars")):
        for v in limits(maxlen, unit):
            s.append(request("POST", WEBHOOK, json_body=dict(good, **{name: v})))
    for f in ("email", "subject", "message"):
        s.append(request("POST", WEBHOOK, json_body={k: v for k, v in good.items() if k != f}))
    for f, v in (("email", 5), ("subject", []), ("message", {}), ("name", 7),
                 ("email", "not-an-address"), ("extra", 1), ("subject", " ")):
        s.append(request("POST", WEBHOOK, json_body=dict(good, **{f: v})))
    for body in (b"", b"[]", b"{", b'{"email": "a@b.c", "subject": "\xff\xfe", "message": "m"}',
                 b'{"email": "a@b.c", "subject": "s", "message": "m\\u0000"}'):
        s.append(request("POST", WEBHOOK, body=body, ctype="application/json"))
    s.append(request("POST", WEBHOOK, form={"email": "a@b.c", "subject": "s", "message": "m"}))
    s.append(request("GET", WEBHOOK))
    s.append(request("POST", WEBHOOK, query={"x": "1"}, json_body=good))
    # Signed by the input itself: wrong, malformed, stale.
    body = json.dumps(good).encode()
    mac = _hmac.new(WEBHOOK_SECRET.encode(), b"1700000000." + body, "sha256").hexdigest()
    for ts, sig in (("1700000000", "sha256=" + mac), ("1700000000", "sha256=" + "0" * 64),
                    ("abc", "sha256=" + mac), ("", ""), ("1700000000", mac),
                    ("99999999999999", "sha256=" + mac[:-1])):
        s.append(request("POST", WEBHOOK, json_body=good,
                         extra=[("HTTP_X_SUPPORT_TIMESTAMP", ts), ("HTTP_X_SUPPORT_SIGNATURE", sig)]))
    return s


PROGRAMS = {"tickets": lambda: tickets() + tpage(), "messages": messages,
            "session": session, "users": users,
            "canned": lambda: canned() + canned_pages(), "webhook": webhook}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "corpus"))
    args = ap.parse_args()
    for name, make in PROGRAMS.items():
        d = os.path.join(args.out, "prog_" + name)
        os.makedirs(d, exist_ok=True)
        new = 0
        seeds = make()
        for data in seeds:
            path = os.path.join(d, hashlib.sha1(data).hexdigest())
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(data)
                new += 1
        print("prog_%s: %d seeds, %d new" % (name, len(seeds), new))


if __name__ == "__main__":
    main()
