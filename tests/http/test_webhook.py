#!/usr/bin/env python3
"""The webhook in behind the real web server (POST /api/support/webhook/,
docs/api.md "Webhook"): a signed call opens a ticket (channel webhook)
for the account with the e-mail, found or made; every bad input is a 400
naming the field, every bad signature or timestamp a 401, and none of
them changes anything; Idempotency-Key replays the first answer, and the
same key with another body is 409; without a key the same signed call
again (a replay) gets the first answer and makes nothing; the test clock moves the window; a
body over max_body_bytes is 413; with no webhook_secret every call is 401
and the settings never show the secret.

Run from the repo root of a built tree:  python3 tests/http/test_webhook.py
(SUPPORT_SERVER=apache-cgi for Apache under plain CGI).
"""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Client, check, eq, error, status,  # noqa: E402
                     standard_server, set_conf_key, check_no_leftovers, run_main)

WEBHOOK = "/api/support/webhook/"
USERS = "/api/support/users/"
SETTINGS = "/api/support/settings/"
SECRET = "whsec-test-0123456789abcdef0123456789abcdef"
LIMIT = 3
srv = None


def now():
    """The desk's clock, as the test clock has moved it."""
    return int(time.time() + srv.clock_s)


def sign(ts, body, secret=SECRET):
    mac = hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def hook(payload=None, raw=None, ts=None, sig=None, key=None, secret=SECRET,
         ctype="application/json", headers=None, drop=()):
    """POST a call: payload (JSON) or raw bytes, signed unless told."""
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    ts = now() if ts is None else ts
    h = {"X-Support-Timestamp": str(ts),
         "X-Support-Signature": sig if sig is not None else sign(ts, body, secret)}
    if key is not None:
        h["Idempotency-Key"] = key
    for d in drop:
        h.pop(d, None)
    h.update(headers or {})
    return Client(srv.port).request("POST", WEBHOOK, body=body, headers=h, content_type=ctype)


def count_tickets():
    r = srv.client("dave").get(TICKETS + "?page_size=1")
    status(r, 200, "count tickets")
    return r.json["count"]


def count_users():
    r = srv.client("dave").get(USERS + "?page_size=1")
    status(r, 200, "count users")
    return r.json["count"]


def user_by_email(email):
    r = srv.client("dave").get(USERS + "?" + urllib.parse.urlencode({"q": email}))
    status(r, 200, "find " + email)
    found = [u for u in r.json["results"] if u.get("email", "").lower() == email.lower()]
    return found[0] if found else None


def ticket(tid):
    r = srv.client("dave").get(TICKETS + tid + "/")
    status(r, 200, "the ticket " + tid)
    return r.json


def events(kind):
    p = srv.ctl("events")
    check(p.returncode == 0, "supportctl events: %s" % p.stderr.decode(errors="replace"))
    return [e for e in map(json.loads, p.stdout.decode().splitlines()) if e["type"] == kind]


def unchanged(what, fn):
    """Run fn (which sends refused calls); nothing may change."""
    t, u = count_tickets(), count_users()
    fn()
    eq((count_tickets(), count_users()), (t, u), what + ": tickets and users unchanged")


def test_good():
    with T.case("a signed call for a new e-mail: 201, a new customer with the name, the ticket"):
        users = count_users()
        r = hook({"email": "Jane.Roe@Example.org", "subject": "From the shop",
                  "message": "Order 42 never came.", "name": "Jane Roë"})
        status(r, 201, "the call")
        eq(sorted(r.json), ["ticket_id"], "the body has ticket_id only")
        t = ticket(r.json["ticket_id"])
        eq((t["channel"], t["subject"], t["status"]), ("webhook", "From the shop", "open"),
           "channel, subject, status")
        eq(t["messages"][0]["content"], "Order 42 never came.", "the first message")
        eq(count_users(), users + 1, "one account made")
        u = user_by_email("jane.roe@example.org")
        check(u is not None, "the account is found by its e-mail")
        eq((u["username"], u["display_name"], u["role"]), ("Jane.Roe", "Jane Roë", "user"),
           "username from the e-mail, display name, a customer")
        eq(t["user"]["id"] if isinstance(t["user"], dict) else t["user"], u["id"], "the ticket is theirs")
        evs = [e for e in events("ticket.created") if e["ticket"] == r.json["ticket_id"]]
        eq(len(evs), 1, "one ticket.created")
        eq((evs[0]["data"]["channel"], evs[0]["actor"], evs[0].get("user", evs[0]["actor"])),
           ("webhook", u["id"], u["id"]), "its channel, actor and user: the customer")

    with T.case("the account made has no password anyone can log in with"):
        for pw in ("", "x", "Jane.Roe"):
            r = Client(srv.port).post("/api/support/session/", {"username": "Jane.Roe", "password": pw})
            check(r.status in (400, 401), "log-in with %r: %d" % (pw, r.status))

    with T.case("a known e-mail (any case): the ticket is that account's, nobody made"):
        users = count_users()
        alice = srv.users["alice"]
        r = hook({"email": "ALICE@example.com", "subject": "Via the shop", "message": "Hi"})
        status(r, 201)
        eq(count_users(), users, "no account made")
        r2 = srv.client("alice").get(TICKETS + r.json["ticket_id"] + "/")
        status(r2, 200, "alice sees it as hers (%s)" % alice.name)
        eq(r2.json["channel"], "webhook", "channel")

    with T.case("a taken username gets a number; no name: the username is the display name"):
        a = hook({"email": "jo@one.example", "subject": "s", "message": "m"})
        b = hook({"email": "jo@two.example", "subject": "s", "message": "m", "name": None})
        status(a, 201)
        status(b, 201)
        ua, ub = user_by_email("jo@one.example"), user_by_email("jo@two.example")
        eq((ua["username"], ub["username"]), ("jo", "jo-2"), "usernames made unique")
        eq(ub["display_name"], "jo-2", "display name")

    with T.case("no session, no CSRF token: a browser's cookie neither helps nor hinders"):
        r = hook({"email": "cookie@example.org", "subject": "s", "message": "m"},
                 headers={"Cookie": "sessionid=nonsense; csrftoken=abc"})
        status(r, 201)
        error(Client(srv.port).get(WEBHOOK), 405, "method_not_allowed")


def test_bad_input():
    def bad(payload, field, code="invalid"):
        r = hook(payload)
        error(r, 400, code, [field] if field else None)

    def cases():
        good = {"email": "bad@example.org", "subject": "s", "message": "m"}
        for f in ("email", "subject", "message"):
            p = dict(good)
            del p[f]
            bad(p, f)
        for f, v in (("email", 5), ("subject", []), ("message", {}), ("name", 7),
                     ("email", None), ("subject", True)):
            p = dict(good)
            p[f] = v
            bad(p, f)
        for f, v in (("subject", "x" * 256), ("message", "y" * 65537), ("name", "n" * 151),
                     ("email", "a" * 250 + "@b.example"), ("email", "not-an-address"),
                     ("subject", "   "), ("message", "")):
            p = dict(good)
            p[f] = v
            bad(p, f)
        bad(dict(good, extra=1), "extra", "unknown_field")
        error(hook(raw=b'{"email": "bad@example.org", "subject": '), 400, "invalid_json")
        error(hook(raw=b"[1, 2]"), 400, "invalid_json")
        error(hook(raw=b""), 400, "invalid_json")
        r = hook(raw=b'{"email": "bad@example.org", "subject": "\xff\xfe", "message": "m"}')
        check(r.status == 400, "non-UTF-8 subject: %d %s" % (r.status, r.text()[:200]))
        error(hook(raw=b"email=bad%40example.org&subject=s&message=m",
                   ctype="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
        error(hook(good, key=""), 400, "invalid", ["Idempotency-Key"])
        error(hook(good, key="k" * 201), 400, "invalid", ["Idempotency-Key"])
        error(hook(good, key="caf\u00e9".encode("utf-8").decode("latin-1")), 400, "invalid",
              ["Idempotency-Key"])

    with T.case("every bad input is a 400 (or 415) naming what, and changes nothing"):
        unchanged("bad inputs", cases)

    with T.case("a body over max_body_bytes is 413, signed or not, and changes nothing"):
        def big():
            body = json.dumps({"email": "big@example.org", "subject": "s",
                               "message": "z" * 300000}).encode()
            error(hook(raw=body), 413, "payload_too_large")
        unchanged("too large", big)


def test_bad_signature():
    body = json.dumps({"email": "sig@example.org", "subject": "s", "message": "m"}).encode()

    def cases():
        ts = now()
        for what, kw in (
                ("no headers", {"drop": ("X-Support-Timestamp", "X-Support-Signature")}),
                ("no signature", {"drop": ("X-Support-Signature",)}),
                ("no timestamp", {"drop": ("X-Support-Timestamp",)}),
                ("another secret", {"secret": "not the secret"}),
                ("no sha256= prefix", {"sig": sign(ts, body)[7:], "ts": ts}),
                ("sha1=", {"sig": "sha1=" + sign(ts, body)[7:], "ts": ts}),
                ("short hex", {"sig": sign(ts, body)[:-2], "ts": ts}),
                ("non-hex", {"sig": sign(ts, body)[:-1] + "g", "ts": ts}),
                ("a signature of another body", {"sig": sign(ts, body + b" "), "ts": ts}),
                ("a signature of another timestamp", {"sig": sign(ts - 1, body), "ts": ts}),
                ("a timestamp that is no number", {"ts": "12a4"}),
                ("a negative timestamp", {"ts": "-%d" % ts}),
                ("a timestamp in milliseconds", {"ts": str(ts * 1000)}),
                ("an empty signature", {"sig": ""})):
            r = hook(raw=body, **kw)
            error(r, 401, "bad_signature")
            check(r.header("WWW-Authenticate") is None, "%s: no Basic challenge" % what)
        error(hook(raw=body, ts=now() - 301), 401, "stale_timestamp")
        error(hook(raw=body, ts=now() + 301), 401, "stale_timestamp")
        # A wrong signature on a stale call says only that it is wrong.
        error(hook(raw=body, ts=now() - 1000, secret="other"), 401, "bad_signature")
        # Unsigned garbage is refused for its signature, not parsed.
        error(hook(raw=b"\xff not json", drop=("X-Support-Signature",)), 401, "bad_signature")

    with T.case("missing, malformed, wrong, stale and future signatures: 401, nothing changes"):
        unchanged("bad signatures", cases)

    with T.case("a timestamp 299 s off either way is taken"):
        status(hook(raw=body, ts=now() - 299), 201, "299 s old")
        status(hook(raw=body, ts=now() + 299), 201, "299 s ahead")

    with T.case("the desk's clock decides (SUPPORT_TEST_CLOCK): moved an hour on"):
        srv.move_clock(3600)
        real = int(time.time())
        error(hook(raw=body, ts=real), 401, "stale_timestamp")
        status(hook(raw=body, ts=now()), 201, "stamped with the desk's time")


def test_idempotency():
    body = {"email": "idem@example.org", "subject": "Once", "message": "only once"}
    with T.case("the same Idempotency-Key again: the first answer, one ticket"):
        before = count_tickets()
        a = hook(body, key="order-42")
        status(a, 201)
        eq(a.header("Idempotent-Replayed"), None, "the first is no replay")
        time.sleep(1.1)
        b = hook(body, key="order-42")  # another timestamp, another signature
        eq((b.status, b.json), (a.status, a.json), "the same status and body")
        eq(b.header("Idempotent-Replayed"), "true", "marked as a replay")
        eq(count_tickets(), before + 1, "one ticket")

    with T.case("the same key with another body: 409, nothing changes"):
        unchanged("key reused", lambda: error(hook(dict(body, message="twice"), key="order-42"),
                                              409, "idempotency_key_reused"))

    with T.case("the same signed call again without a key (a replay): the first answer, no new ticket"):
        raw = json.dumps(dict(body, email="replay@example.org")).encode()
        ts = now()
        before = count_tickets()
        a = hook(raw=raw, ts=ts)
        status(a, 201)
        eq(a.header("Idempotent-Replayed"), None, "the first is no replay")
        for sig in (sign(ts, raw), sign(ts, raw).upper().replace("SHA256=", "sha256=")):
            b = hook(raw=raw, ts=ts, sig=sig)
            eq((b.status, b.json), (a.status, a.json), "the same status and body")
            eq(b.header("Idempotent-Replayed"), "true", "marked as a replay")
        eq(count_tickets(), before + 1, "one ticket")
        c = hook(raw=raw, ts=ts + 1)       # signed anew: another call
        status(c, 201)
        check(c.json["ticket_id"] != a.json["ticket_id"], "a call signed anew is a new ticket")

    body = dict(body, email="idem2@example.org")
    with T.case("a refused call does not use its key up"):
        error(hook(dict(body, subject=""), key="order-43"), 400, "invalid", ["subject"])
        status(hook(body, key="order-43"), 201, "then the good call with the key")

    body = dict(body, email="idem3@example.org")
    with T.case("a key expires after 24 hours: then it makes a new ticket"):
        a = hook(body, key="order-44")
        status(a, 201)
        srv.move_clock(86400 + 10)
        b = hook(body, key="order-44")
        status(b, 201)
        check(b.json["ticket_id"] != a.json["ticket_id"], "a new ticket")
        eq(b.header("Idempotent-Replayed"), None, "no replay")
        c = hook(body, key="order-44")
        eq(c.json, b.json, "and the key holds again")


def test_limit():
    with T.case("max_tickets_per_user holds: the call over it is 403 ticket_limit_reached"):
        p = {"email": "many@example.org", "subject": "s", "message": "m"}
        for i in range(LIMIT):
            status(hook(dict(p, subject="s%d" % i)), 201, "ticket %d" % (i + 1))
        unchanged("over the limit", lambda: error(hook(p, key="many-1"), 403, "ticket_limit_reached"))


def test_off():
    with T.case("the settings show webhook_secret only as set"):
        r = srv.client("dave").get(SETTINGS)
        status(r, 200)
        got = {s["name"]: s for s in r.json["results"]}
        eq((got["webhook_secret"]["value"], got["webhook_secret"]["default"]), ("set", "not set"),
           "value and default")
        check(SECRET not in r.text(), "the secret is not in the answer")
        page = srv.client("dave").get("/support/admin/settings/")
        check(SECRET not in page.text(), "nor on the settings page")

    with T.case("no webhook_secret: every call is 401 webhook_off, nothing changes"):
        srv.stop()
        set_conf_key(srv.conf, "support", "webhook_secret", "")
        srv.start()
        p = {"email": "off@example.org", "subject": "s", "message": "m"}
        unchanged("webhooks off", lambda: [
            error(hook(p), 401, "webhook_off"),
            error(hook(p, secret=""), 401, "webhook_off"),
            error(hook(p, drop=("X-Support-Signature",)), 401, "webhook_off")])
        r = srv.client("dave").get(SETTINGS)
        eq({s["name"]: s["value"] for s in r.json["results"]}["webhook_secret"], "not set", "settings")


def main():
    global srv
    srv = standard_server(conf={("support", "webhook_secret"): SECRET,
                                ("support", "max_tickets_per_user"): str(LIMIT)}, clock=True)
    test_good()
    test_bad_input()
    test_bad_signature()
    test_idempotency()
    test_limit()
    test_off()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
