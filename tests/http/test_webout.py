#!/usr/bin/env python3
"""Webhooks out (docs/webhooks.md) against a real HTTP receiver on
127.0.0.1 (Python's http.server in a thread, on a free port), which checks
every call's signature and timestamp as a receiver should and records it:

- support-worker as run.sh starts it: an event a subscription chose
  reaches it, one it did not choose does not; two subscriptions each get
  their own delivery (their own X-Support-Delivery), a disabled one none;
  the body (the ticket as staff see it, a note marked is_internal, a new
  user without any password, no secret anywhere);
- `kill -9` of the worker in the middle of a run: nothing lost, and a
  call received twice carries the same X-Support-Delivery;
- then with `support-worker --once` passes: a receiver answering 500 then
  200 (retried after the back-off, one delivery id, each attempt signed
  with its own timestamp); 410 and 400 (dead at once, the status kept);
  a receiver that is down (retried as the test clock moves, dead after
  outbox_retry_hours);
- the admins' delivery log (GET /api/support/admin/webhooks/, its filters
  and paging, the retry) and its page without JavaScript (the retry
  button, CSRF); a customer and an agent get 403; supportctl outbox list
  shows the deliveries;
- a bad [webhook.NAME] section is refused at start, saying which section,
  which key and why;
- under plain CGI (Apache's mod_cgi, no daemon) a note's call goes out
  after the request's answer.

Run alone from the repo root: python3 tests/http/test_webout.py
"""

import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (T, BUILD, TICKETS, Fail, check, eq, status, error, free_port,  # noqa: E402
                     standard_server, set_conf_key, run_main, check_no_leftovers, log)

from test_pages import Page, LOGIN  # noqa: E402

WORKER = os.path.join(BUILD, "bin", "support-worker")
LOG_API = "/api/support/admin/webhooks/"
LOG_PAGE = "/support/admin/webhooks/"
SECRET_A = "whsec-a-0123456789abcdef0123456789"
SECRET_B = "whsec-b-fedcba9876543210fedcba9876"
SECRET_X = "whsec-x-00112233445566778899aabbcc"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

srv = None


class Receiver:
    """An HTTP server on 127.0.0.1 taking the desk's calls: each path has a
    secret (the subscription's) and a list of statuses to answer in turn
    (then 200); every call is checked and recorded."""

    def __init__(self):
        self.calls = []         # (path, headers dict, body bytes, ok, why)
        self.ids = set()        # every X-Support-Delivery received
        self.secrets = {}
        self.answers = {}
        self.lock = threading.Lock()
        self.delay = 0.0        # seconds to wait before answering
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                path = self.path
                h = {k.lower(): v for k, v in self.headers.items()}
                ok, why = rec.verify(path, h, body)
                with rec.lock:
                    rec.calls.append((path, h, body, ok, why))
                    rec.ids.add(h.get("x-support-delivery"))
                    plan = rec.answers.get(path) or []
                    code = plan.pop(0) if plan else 200
                if rec.delay:
                    time.sleep(rec.delay)
                try:
                    self.send_response(code if ok else 401)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass        # the worker killed mid-call (the kill -9 case)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def verify(self, path, h, body):
        """A receiver's checks: the signature under the path's secret, the
        timestamp within 300 s of the desk's clock, the headers present."""
        secret = self.secrets.get(path)
        ts, sig = h.get("x-support-timestamp"), h.get("x-support-signature")
        if secret is None:
            return False, "no subscription at %s" % path
        if not ts or not sig or not re.fullmatch(r"[0-9]+", ts):
            return False, "headers missing"
        want = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            return False, "bad signature"
        if abs(int(ts) - (time.time() + srv.clock_s)) > 300:
            return False, "stale timestamp %s" % ts
        if h.get("content-type") != "application/json":
            return False, "content type %r" % h.get("content-type")
        if not re.fullmatch(UUID, h.get("x-support-delivery", "")):
            return False, "X-Support-Delivery %r" % h.get("x-support-delivery")
        try:
            doc = json.loads(body)
        except ValueError:
            return False, "not JSON"
        if doc.get("id") != h["x-support-delivery"] or doc.get("event") != h.get("x-support-event"):
            return False, "body id/event differ from the headers"
        return True, ""

    def at(self, path):
        with self.lock:
            return [c for c in self.calls if c[0] == path]

    def wait(self, path, n, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.at(path)) >= n:
                return self.at(path)
            time.sleep(0.1)
        raise Fail("%d calls at %s after %ds, waited for %d" % (len(self.at(path)), path, timeout, n))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def docs(calls):
    return [json.loads(c[2]) for c in calls]


def main():
    base = os.environ.get("TMPDIR") or "/tmp"
    work = os.path.join(base, "support-webout-%d" % os.getpid())
    os.makedirs(work)
    rec = Receiver()
    try:
        body(rec, work)
    finally:
        rec.stop()
        shutil.rmtree(work, ignore_errors=True)


def write_conf(path, base_conf, sections):
    """A copy of base_conf without its [webhook.*] sections, with these."""
    with open(base_conf) as f:
        text = f.read()
    text = re.sub(r"(?ms)^\[webhook\.[^\]]*\]\n.*?(?=^\[|\Z)", "", text)
    for name, keys in sections:
        text += "\n[webhook.%s]\n" % name + "".join("%s = %s\n" % kv for kv in keys)
    with open(path, "w") as f:
        f.write(text)
    return path


def body(rec, work):
    global srv
    secret_file = os.path.join(work, "b.secret")
    srv = standard_server(clock=True, conf={
        ("support", "reminder_days"): "0",
        ("support", "escalation_hours"): "0",
        ("support", "max_tickets_per_user"): "0",
        ("webhook.a", "url"): rec.url("/a"),
        ("webhook.a", "events"): "ticket.created, message.posted",
        ("webhook.a", "secret"): SECRET_A,
        ("webhook.b", "url"): rec.url("/b"),
        ("webhook.b", "events"): "*",
        ("webhook.b", "secret_file"): secret_file,
        ("webhook.off", "url"): rec.url("/off"),
        ("webhook.off", "events"): "*",
        ("webhook.off", "secret"): SECRET_X,
        ("webhook.off", "enabled"): "no",
    }) if _write_secret(secret_file) else None
    rec.secrets.update({"/a": SECRET_A, "/b": SECRET_B, "/off": SECRET_X})
    # The standard users were made after the start: their user.created
    # calls reach b (every event) first; the cases count from here.
    rec.wait("/b", len(srv.users), timeout=60)
    eq_setup = sorted(d["data"]["user"]["username"] for d in docs(rec.at("/b")))
    check(set(srv.users) <= set(eq_setup), "b got the standard users' user.created: %s" % eq_setup)
    with rec.lock:
        rec.calls.clear()
    alice, carol, dave = srv.client("alice"), srv.client("carol"), srv.client("dave")

    def outbox():
        r = srv.ctl("outbox", "list")
        check(r.returncode == 0, "supportctl outbox list: %s" % r.stderr.decode())
        return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]

    def hooks(state=None):
        return [d for d in outbox() if d["kind"] == "webhook" and (state is None or d["state"] == state)]

    def once(conf=None, check_rc=True):
        r = subprocess.run([WORKER, "--once", "--conf", conf or srv.conf], env=srv.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if check_rc:
            check(r.returncode == 0, "support-worker --once: %d %s" % (r.returncode, r.stderr.decode()))
        return r

    t = {}

    with T.case("a ticket opened: each subscription that chose ticket.created gets its own signed call"):
        r = alice.post(TICKETS, {"subject": "Printer on fire", "initial_message": "Smoke everywhere."})
        status(r, 201)
        t["id"] = r.json["uuid"]
        a = rec.wait("/a", 1)
        b = rec.wait("/b", 1)
        for c in a + b:
            check(c[3], "the receiver's checks: %s" % c[4])
        da, db = docs(a)[0], docs(b)[0]
        eq((da["event"], db["event"]), ("ticket.created", "ticket.created"), "the event")
        eq(a[0][1]["x-support-event"], "ticket.created", "X-Support-Event")
        check(da["id"] != db["id"], "each subscription its own delivery id")
        eq(da["event_id"], db["event_id"], "the same event")
        tk = da["data"]["ticket"]
        eq(tk.get("uuid"), t["id"], "the ticket in the body")
        eq(tk.get("subject"), "Printer on fire", "its subject")
        eq(da["data"]["actor"]["username"], "alice", "the actor, a User object")
        eq(da["data"]["actor"].get("email"), "alice@example.com", "with the e-mail (staff's view)")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT.*Z", da["created_at"]), "created_at %r" % da["created_at"])
        eq(rec.at("/off"), [], "the disabled subscription gets nothing")

    with T.case("a note: to the subscription of every event, marked is_internal; not to one that chose none"):
        status(carol.post(TICKETS + t["id"] + "/messages/", {"content": "Internal: call the fire brigade",
                                                             "is_internal": True}), 201)
        status(carol.post(TICKETS + t["id"] + "/messages/", {"content": "We are on it."}), 201)
        b = rec.wait("/b", 3)
        a = rec.wait("/a", 2)
        kinds_b = [d["event"] for d in docs(b)]
        eq(kinds_b, ["ticket.created", "note.added", "message.posted"], "b: every event, in order")
        eq([d["event"] for d in docs(a)], ["ticket.created", "message.posted"], "a: not the note")
        note = docs(b)[1]["data"]["message"]
        eq(note.get("is_internal"), True, "the note is marked is_internal")
        eq(note.get("content"), "Internal: call the fire brigade", "the note's text")
        eq(docs(a)[1]["data"]["message"].get("is_internal"), False, "the reply is public")

    with T.case("a new account: user.created without any password or hash; no secret in any body"):
        status(dave.post("/api/support/users/", {"username": "webby", "email": "webby@example.com",
                                                  "password": "pw-webby-Secret-1"}), 201)
        b = rec.wait("/b", 4)
        d = docs(b)[3]
        eq(d["event"], "user.created", "the event")
        eq(d["data"]["user"]["username"], "webby", "the User object")
        for c in rec.calls:
            low = c[2].lower()
            for bad in (b"pw-webby", b"password_hash", b"$argon2", SECRET_A.encode(), SECRET_B.encode()):
                check(bad not in low, "%r in a body" % bad)

    with T.case("kill -9 of the worker mid-run: nothing lost, a repeat carries the same X-Support-Delivery"):
        rec.answers["/b"] = []
        n = 10
        before_b = len(rec.at("/b"))
        rec.delay = 0.15        # so that the kill lands mid-run
        for i in range(n):
            status(alice.post(TICKETS, {"subject": "Batch %d" % i, "initial_message": "x"}), 201)
        rec.wait("/b", before_b + 3, timeout=60)
        with open(os.path.join(srv.var, "run", "support-worker.pid")) as f:
            pid = int(f.read().split()[0])
        os.kill(pid, signal.SIGKILL)
        log("killed support-worker %d after %d calls at /b" % (pid, len(rec.at("/b"))))
        rec.delay = 0.0
        srv.move_clock(6 * 60)      # the claims' lease
        for _ in range(5):
            once()
            if not hooks("pending"):
                break
        eq(hooks("pending"), [], "nothing left pending")
        eq(hooks("dead"), [], "nothing dead")
        got = [c[1]["x-support-delivery"] for c in rec.calls]
        ids = set(got)
        every = {d["id"] for d in hooks()}
        eq(every - rec.ids, set(), "every delivery received")
        dups = len(got) - len(ids)
        check(dups <= 2, "%d received twice (only what was in flight)" % dups)
        batch = [d for d in docs(rec.at("/b")) if d["event"] == "ticket.created"
                 and d["data"]["ticket"]["subject"].startswith("Batch")]
        eq(len({d["id"] for d in batch}), n, "b: each of the batch's tickets once (by delivery id)")
        for c in rec.calls:
            check(c[3], "every call passed the receiver's checks: %s" % c[4])

    # From here on the test drives the passes itself (the daemon is gone).
    def phase(name, path, secret=SECRET_X, events="ticket.created", extra=()):
        rec.secrets[path] = secret
        return write_conf(os.path.join(work, name + ".conf"), srv.conf,
                          [(name, [("url", rec.url(path)), ("events", events),
                                   ("secret", secret)] + list(extra))])

    def ticket(subject):
        status(alice.post(TICKETS, {"subject": subject, "initial_message": "x"}), 201)

    def of(name):
        return [d for d in hooks() if d["to"] == name]

    with T.case("500 then 200: retried after the back-off, one delivery id, each attempt signed afresh"):
        conf = phase("flaky", "/flaky")
        rec.answers["/flaky"] = [500]
        ticket("Flaky")
        once(conf)
        d = of("flaky")
        eq(len(d), 1, "one delivery")
        eq((d[0]["state"], d[0]["attempts"]), ("pending", 1), "pending after one attempt")
        check(d[0].get("last_error", "").startswith("HTTP 500"), "its error: %r" % d[0].get("last_error"))
        eq(d[0]["label"], "ticket.created", "outbox list shows the event")
        once(conf)
        eq(len(rec.at("/flaky")), 1, "not before its time (1 min)")
        srv.move_clock(61)
        once(conf)
        calls = rec.wait("/flaky", 2)
        eq(of("flaky")[0]["state"], "sent", "sent")
        eq(len({c[1]["x-support-delivery"] for c in calls}), 1, "the same X-Support-Delivery both times")
        eq(calls[0][2], calls[1][2], "the same body")
        check(int(calls[1][1]["x-support-timestamp"]) >= int(calls[0][1]["x-support-timestamp"]) + 60,
              "the second attempt signed with its own time")
        once(conf)
        eq(len(rec.at("/flaky")), 2, "exactly twice")

    with T.case("410 and 400: dead at once, the status kept; nothing more is sent"):
        for name, code in (("gone", 410), ("bad", 400)):
            conf = phase(name, "/" + name)
            rec.answers["/" + name] = [code] * 5
            ticket(name)
            once(conf)
            d = of(name)
            eq([x["state"] for x in d], ["dead"], "%s: dead" % name)
            check(d[0]["last_error"].startswith("HTTP %d" % code), "the status kept: %r" % d[0]["last_error"])
            srv.move_clock(3600)
            once(conf)
            eq(len(rec.at("/" + name)), 1, "%s: called once" % name)

    with T.case("a receiver that is down: retried as time passes, dead after outbox_retry_hours"):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
        s.close()
        conf = write_conf(os.path.join(work, "down.conf"), srv.conf, [
            ("down", [("url", "http://127.0.0.1:%d/down" % dead_port), ("events", "ticket.created"),
                      ("secret", SECRET_X)])])
        ticket("Down")
        once(conf)
        d = of("down")[0]
        eq((d["state"], d["attempts"]), ("pending", 1), "pending after a refused connection")
        check("no answer" in d["last_error"], "its error: %r" % d["last_error"])
        for _ in range(6):
            srv.move_clock(3600)
            once(conf)
        d = of("down")[0]
        eq(d["state"], "pending", "still retried within 48 h")
        check(d["attempts"] >= 6, "attempts %d" % d["attempts"])
        srv.move_clock(48 * 3600)
        once(conf)
        eq(of("down")[0]["state"], "dead", "dead after outbox_retry_hours")

    with T.case("the delivery log: subscriptions without secrets, newest first, filters, paging"):
        r = dave.get(LOG_API)
        status(r, 200)
        subs = {s["name"]: s for s in r.json["subscriptions"]}
        eq(sorted(subs), ["a", "b", "off"], "the subscriptions of support.conf")
        eq(subs["b"]["secret"], "set", "a secret shown only as set")
        eq(subs["off"]["enabled"], False, "off is disabled")
        check(SECRET_A not in r.text() and SECRET_B not in r.text(), "no secret in the answer")
        rows = r.json["results"]
        check(rows, "deliveries listed")
        times = [x["created_at"] for x in rows]
        eq(times, sorted(times, reverse=True), "newest first")
        eq(set(rows[0]) >= {"id", "subscription", "event", "state", "attempts", "last_error",
                            "created_at", "next_at", "sent_at"}, True, "a delivery's members")
        r = dave.get(LOG_API + "?subscription=gone")
        eq([(x["subscription"], x["state"]) for x in r.json["results"]], [("gone", "dead")], "by subscription")
        r = dave.get(LOG_API + "?state=dead")
        eq(sorted(x["subscription"] for x in r.json["results"]), ["bad", "down", "gone"], "by state")
        r = dave.get(LOG_API + "?subscription=b&limit=3")
        eq(len(r.json["results"]), 3, "a page of 3")
        nxt = r.json["next"]
        check(nxt and "before=" in nxt, "a next link: %r" % nxt)
        r2 = dave.get(nxt[nxt.index("/api/"):])
        status(r2, 200)
        first = {x["id"] for x in r.json["results"]}
        check(r2.json["results"] and not first & {x["id"] for x in r2.json["results"]}, "the next page: older ones")
        check(max(x["created_at"] for x in r2.json["results"]) <= min(x["created_at"] for x in r.json["results"]),
              "older than the first page")
        for q, field in (("state=lost", "state"), ("subscription=BAD%20NAME", "subscription"),
                         ("limit=0", "limit"), ("before=xyz", "before"), ("colour=red", "colour")):
            r = dave.get(LOG_API + "?" + q)
            status(r, 400)
            check(field in r.json["error"].get("fields", {}), "%s: the field named: %s" % (q, r.text()))

    with T.case("customers and agents get 403 for the log, its retry and its page"):
        for who in (alice, carol):
            status(who.get(LOG_API), 403)
            gone = [x for x in hooks("dead") if x["to"] == "gone"][0]
            status(who.post(LOG_API + gone["id"] + "/retry/", {}), 403)
        status(srv.client().get(LOG_API), 401)
        b = Page(srv.port)
        b.login_form("carol", srv.users["carol"].password)
        check(b.get(LOG_PAGE).status in (403, 404), "an agent: no page")

    with T.case("retry by the API: a dead delivery queued again and sent; a sent one is 409; an unknown id 404"):
        gone = [x for x in hooks("dead") if x["to"] == "gone"][0]
        rec.answers["/gone"] = []
        r = dave.post(LOG_API + gone["id"] + "/retry/", {})
        status(r, 200)
        eq(r.json["state"], "pending", "pending again")
        once(phase("gone", "/gone"))
        eq([x["state"] for x in hooks() if x["id"] == gone["id"]], ["sent"], "sent after the retry")
        eq(len({c[1]["x-support-delivery"] for c in rec.at("/gone")}), 1, "the same delivery id")
        error(dave.post(LOG_API + gone["id"] + "/retry/", {}), 409, "conflict")
        error(dave.post(LOG_API + "00000000-0000-7000-8000-000000000000/retry/", {}), 404, "not_found")

    with T.case("the log's page without JavaScript: the table, the filters, a retry button with CSRF"):
        bad = [x for x in hooks("dead") if x["to"] == "bad"][0]
        b = Page(srv.port)
        b.login_form("dave", srv.users["dave"].password)
        r = b.get(LOG_PAGE)
        status(r, 200)
        text = r.text()
        check('id="webhook-subscriptions"' in text and 'id="webhook-deliveries"' in text, "both tables")
        check(SECRET_A not in text and SECRET_B not in text, "no secret on the page")
        check('action="/support/admin/webhooks/%s/retry/"' % bad["id"] in text, "a retry button for the dead one")
        r = b.get(LOG_PAGE + "?state=sent")
        status(r, 200)
        check("/retry/" not in r.text(), "no retry for sent ones")
        status(b.get(LOG_PAGE + "?state=lost"), 400)
        status(b.submit(LOG_PAGE + bad["id"] + "/retry/", {}, csrf=None), 403, "no CSRF token")
        eq([x["state"] for x in hooks() if x["id"] == bad["id"]], ["dead"], "and nothing changed")
        r = b.submit(LOG_PAGE + bad["id"] + "/retry/", {})
        status(r, 303, "the retry")
        check((r.header("Location") or "").endswith(LOG_PAGE + "?done=retried"), "back to the log")
        check('id="webhooks-notice"' in b.get(LOG_PAGE + "?done=retried").text(), "saying so")
        eq([x["state"] for x in hooks() if x["id"] == bad["id"]], ["pending"], "queued again")

    with T.case("a bad [webhook.NAME] section is refused at start: which section, which key, why"):
        cases = [
            ([("x", [("url", "ftp://example.com/"), ("events", "*"), ("secret", SECRET_X)])],
             r"\[webhook\.x\] url: must be an http:// or https:// URL"),
            ([("x", [("url", rec.url("/x")), ("events", "ticket.exploded"), ("secret", SECRET_X)])],
             r"\[webhook\.x\] events: ticket\.exploded is not an event"),
            ([("x", [("url", rec.url("/x")), ("events", "login.failed"), ("secret", SECRET_X)])],
             r"\[webhook\.x\] events: login\.failed is not an event"),
            ([("x", [("url", rec.url("/x")), ("events", "*")])],
             r"\[webhook\.x\] secret: give either secret or secret_file"),
            ([("x", [("url", rec.url("/x")), ("events", "*"), ("secret", "short")])],
             r"\[webhook\.x\] secret: must be at least 16 bytes"),
            ([("x", [("events", "*"), ("secret", SECRET_X)])],
             r"\[webhook\.x\] url: missing"),
            ([("x", [("url", rec.url("/x")), ("events", "*"), ("secret", SECRET_X), ("colour", "red")])],
             r"\[webhook\.x\]: unknown key colour"),
            ([("Bad Name", [("url", rec.url("/x")), ("events", "*"), ("secret", SECRET_X)])],
             r"\[webhook\.Bad Name\]: the name"),
            ([("x", [("url", rec.url("/x")), ("events", "*"),
                     ("secret_file", os.path.join(work, "missing"))])],
             r"\[webhook\.x\] secret_file: .*missing cannot be read"),
        ]
        before = len(outbox())
        for sections, want in cases:
            conf = write_conf(os.path.join(work, "badconf.conf"), srv.conf, sections)
            r = once(conf, check_rc=False)
            err = r.stderr.decode()
            eq(r.returncode, 1, "refused: %s" % want)
            check(re.search(want, err), "the message %r says %r" % (err.strip(), want))
        eq(len(outbox()), before, "nothing changed")

    check_no_leftovers(srv)
    cgi(rec)


def cgi(rec):
    """Plain CGI (Apache's mod_cgi), where no daemon runs: the request that
    appended an event a subscription may want starts one pass of the worker
    after its answer, a note too (which makes no mail)."""
    global srv
    srv = standard_server(mode="apache-cgi", conf={
        ("webhook.cgi", "url"): rec.url("/cgi"),
        ("webhook.cgi", "events"): "note.added",
        ("webhook.cgi", "secret"): SECRET_A,
    })
    rec.secrets["/cgi"] = SECRET_A
    with T.case("plain CGI: no worker runs, yet a note's webhook goes out after the answer"):
        check(not os.path.exists(os.path.join(srv.var, "run", "support-worker.pid")),
              "run.sh started no worker under plain CGI")
        r = srv.client("alice").post(TICKETS, {"subject": "From CGI", "initial_message": "x"})
        status(r, 201)
        status(srv.client("carol").post(TICKETS + r.json["uuid"] + "/messages/",
                                        {"content": "A note under CGI", "is_internal": True}), 201)
        c = rec.wait("/cgi", 1, timeout=30)
        check(c[0][3], "the receiver's checks: %s" % c[0][4])
        d = json.loads(c[0][2])
        eq(d["event"], "note.added", "the note's call")
        eq(d["data"]["message"]["is_internal"], True, "marked is_internal")
    check_no_leftovers(srv)


def _write_secret(path):
    with open(path, "w") as f:
        f.write(SECRET_B + "\n")
    os.chmod(path, 0o644)
    os.chmod(os.path.dirname(path), 0o755)
    return True


if __name__ == "__main__":
    run_main(main)
