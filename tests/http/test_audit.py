#!/usr/bin/env python3
"""Message edit and delete by staff, and the audit log (issue 17 parts 7
and 8; docs/api.md "Message edit and delete", "Audit log"), through the
real programs behind the web server:

- PATCH and DELETE /api/support/tickets/{uuid}/messages/{uuid}/ by staff:
  the new text for everyone, "edited_at", the thread's ETag moving, the
  counts of the ticket worked out again after a deletion (message_count,
  unanswered_messages_count, awaiting_staff_count, last_message), every
  bad input (400 naming the field, nothing changed), a customer (403),
  nobody logged in (401), unknown ids and a message of another ticket
  (404), the history (GET .../history/) for staff only;
- the same from the ticket page's forms without JavaScript (303; 400 for
  an empty text), the controls shown to staff and not to customers;
- the rows of the audit log for each kind of change (status, priority,
  assignee, subject, message edits and deletions, role changes, a
  disabled account, logins that succeeded and failed) with their actor
  and client address; a change made by supportctl without an address;
- the filters of GET /api/support/audit/ (actor, ticket by uuid and
  number, from, to, paging with next) and every bad value, who may read
  it (admins), the page /support/admin/audit/ and a ticket's history on
  its page (admins only), `supportctl audit`;
- a store made before the audit log: it is built from the event log
  when opened, and `db verify` finds it whole.

Run from the repo root of a built tree:  python3 tests/http/test_audit.py
"""

import datetime
import html
import json
import os
import re
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, error, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page  # noqa: E402
import test_pages  # noqa: E402

AUDIT = "/api/support/audit/"
AUDIT_PAGE = "/support/admin/audit/"
ADDR = "127.0.0.1"
srv = None
ids = {}


def uid(name):
    if name not in ids:
        r = srv.client(name).get("/api/support/session/")
        status(r, 200, "session of " + name)
        ids[name] = r.json["user"]["id"]
    return ids[name]


def browser(name):
    test_pages.srv = srv
    b = Page(srv.port)
    b.login_form(name, srv.users[name].password)
    return b


def open_ticket(who, subject, message="Please help."):
    r = srv.client(who).post(TICKETS, {"subject": subject, "initial_message": message})
    status(r, 201, "open a ticket as " + who)
    return r.json


def post(who, t, content, **extra):
    body = {"content": content}
    body.update(extra)
    r = srv.client(who).post(TICKETS + t["uuid"] + "/messages/", body)
    status(r, 201, "post as %s" % who)
    return r.json


def msg_path(t, m):
    return TICKETS + "%s/messages/%s/" % (t["uuid"], m["uuid"] if isinstance(m, dict) else m)


def thread(who, t):
    r = srv.client(who).get(TICKETS + t["uuid"] + "/messages/")
    status(r, 200, "thread as " + who)
    return r.json


def ticket(who, t):
    r = srv.client(who).get(TICKETS + t["uuid"] + "/")
    status(r, 200, "ticket as " + who)
    return r.json


def audit(who="dave", expect=200, **query):
    r = srv.client(who).get(AUDIT + ("?" + urllib.parse.urlencode(query) if query else ""))
    status(r, expect, "GET audit %r as %s" % (query, who))
    return r.json


def events():
    p = srv.ctl("events")
    check(p.returncode == 0, "supportctl events: exit %d" % p.returncode)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def bad(r, field, what=""):
    """A 400 whose envelope names field, whatever its code."""
    status(r, 400, what)
    fl = r.json["error"].get("fields")
    check(isinstance(fl, dict) and field in fl, "error.fields should name %r: %s" % (field, r.json))


def changed(row):
    return {c["field"]: (c["from"], c["to"]) for c in row["changed"]}


def test_edit_delete():
    with T.case("staff edit a message: the new text for everyone, edited_at, the ETag moves"):
        t = open_ticket("alice", "Edit me", "First words.")
        reply = post("carol", t, "Helo, try turning it off.")
        before = srv.client("alice").get(TICKETS + t["uuid"] + "/messages/")
        status(before, 200, "alice's thread")
        tag = before.header("ETag")
        check(tag, "an ETag")
        r = srv.client("carol").patch(msg_path(t, reply), {"content": "Hello, try **turning it off**."})
        status(r, 200, "PATCH")
        eq(r.json["content"], "Hello, try **turning it off**.", "content")
        check("<strong>turning it off</strong>" in r.json["content_html"], "rendered: %s" % r.json["content_html"])
        check(r.json.get("edited_at"), "edited_at set")
        eq(r.json["uuid"], reply["uuid"], "the same message")
        eq(r.json["created_at"], reply["created_at"], "its time kept")
        r = srv.client("alice").get(TICKETS + t["uuid"] + "/messages/", headers={"If-None-Match": tag})
        status(r, 200, "the customer's poll with the old tag: changed")
        check(r.header("ETag") != tag, "a new tag")
        eq([m["content"] for m in r.json], ["First words.", "Hello, try **turning it off**."],
           "the customer reads the new text")
        eq(ticket("alice", t)["last_message"]["content"], "Hello, try **turning it off**.",
           "last_message is the new text")
        n = len(events())
        r = srv.client("carol").patch(msg_path(t, reply), {"content": "Hello, try **turning it off**."})
        status(r, 200, "the same text again")
        eq(len(events()), n, "no event for no change")
        ev = [e for e in events() if e["type"] == "message.edited"][-1]
        eq((ev["actor"], ev["ticket"], ev["message"], ev["addr"]),
           (uid("carol"), t["uuid"], reply["uuid"], ADDR), "the event")
        eq(ev["changes"]["content"], ["Helo, try turning it off.", "Hello, try **turning it off**."],
           "the text before and after")

    with T.case("an internal note can be edited; the customer never sees it"):
        note = post("carol", t, "Secret note.", is_internal=True)
        r = srv.client("dave").patch(msg_path(t, note), {"text": "Secret note, edited."})
        status(r, 200, "PATCH with the alias text")
        eq(r.json["is_internal"], True, "still a note")
        check("Secret" not in json.dumps(thread("alice", t)), "the customer does not see it")

    with T.case("history: the message's edits, for staff only"):
        r = srv.client("carol").get(msg_path(t, reply) + "history/")
        status(r, 200, "history")
        eq(len(r.json), 1, "one edit")
        eq(changed(r.json[0])["content"], ("Helo, try turning it off.", "Hello, try **turning it off**."),
           "before and after")
        eq((r.json[0]["actor_name"], r.json[0]["addr"]), ("carol", ADDR), "who and from where")
        error(srv.client("alice").get(msg_path(t, reply) + "history/"), 403, "forbidden")
        r = srv.client("carol").get(msg_path(t, t["uuid"]) + "history/")
        status(r, 200, "a uuid that is no message: no history")
        eq(r.json, [], "empty")

    with T.case("every bad edit is refused with the field named, and nothing changes"):
        path = msg_path(t, reply)
        for body, field in (({}, "content"), ({"content": ""}, "content"), ({"content": "   "}, "content"),
                            ({"content": 5}, "content"), ({"content": None}, "content"),
                            ({"content": "x" * 65537}, "content"),
                            ({"content": "ok", "is_internal": True}, "is_internal"),
                            ({"content": "ok", "user": 3}, "user")):
            bad(srv.client("carol").patch(path, body), field, json.dumps(body)[:60])
        r = srv.client("carol").request("PATCH", path, body=b"not json",
                                        headers={"Content-Type": "application/json"})
        status(r, 400, "a body that is not JSON")
        r = srv.client("carol").request("PATCH", path, body=b"[1]",
                                        headers={"Content-Type": "application/json"})
        status(r, 400, "a body that is not an object")
        r = srv.client("carol").request("PATCH", path, body=b"content=x",
                                        headers={"Content-Type": "text/plain"})
        status(r, 415, "a body of another type")
        eq([m["content"] for m in thread("carol", t)][1], "Hello, try **turning it off**.", "unchanged")

    with T.case("a customer may not edit or delete (403), nobody logged in 401"):
        mine = thread("alice", t)[0]
        error(srv.client("alice").patch(msg_path(t, mine), {"content": "mine"}), 403, "forbidden")
        error(srv.client("alice").delete(msg_path(t, mine)), 403, "forbidden")
        error(srv.client("bob").patch(msg_path(t, mine), {"content": "x"}), 403, "forbidden")
        error(srv.client().patch(msg_path(t, mine), {"content": "x"}), 401, "not_authenticated")
        error(srv.client().delete(msg_path(t, mine)), 401, "not_authenticated")
        eq(thread("alice", t)[0]["content"], "First words.", "unchanged")

    with T.case("unknown ids and a message of another ticket: 404"):
        other = open_ticket("bob", "Other ticket", "Bob's words.")
        bobs = thread("bob", other)[0]
        zero = "00000000-0000-4000-8000-000000000000"
        for path in (msg_path(t, zero), TICKETS + zero + "/messages/" + reply["uuid"] + "/",
                     msg_path(t, bobs), msg_path(other, reply)):
            error(srv.client("carol").patch(path, {"content": "x"}), 404, "not_found")
            error(srv.client("carol").delete(path), 404, "not_found")
        r = srv.client("carol").patch(TICKETS + t["uuid"] + "/messages/not-a-uuid/", {"content": "x"})
        status(r, 404, "a path that is no message")
        eq(thread("bob", other)[0]["content"], "Bob's words.", "bob's message unchanged")

    with T.case("delete: the message leaves the thread, the counts are worked out again"):
        d = open_ticket("alice", "Counts", "One.")
        a2 = post("alice", d, "Two.")
        s1 = post("carol", d, "Staff reply.")
        a3 = post("alice", d, "Three.")
        a4 = post("alice", d, "Four.")
        n1 = post("carol", d, "A note.", is_internal=True)
        tk = ticket("carol", d)
        eq((tk["message_count"], tk["awaiting_staff_count"]), (6, 2), "before: counts")
        eq(ticket("alice", d)["message_count"], 5, "the customer counts no note")
        r = srv.client("carol").get(TICKETS + d["uuid"] + "/messages/")
        tag = r.header("ETag")
        status(srv.client("carol").delete(msg_path(d, a4)), 204, "DELETE alice's last")
        error(srv.client("carol").delete(msg_path(d, a4)), 404, "not_found")
        r = srv.client("carol").get(TICKETS + d["uuid"] + "/messages/", headers={"If-None-Match": tag})
        status(r, 200, "the thread moved")
        eq([m["content"] for m in thread("alice", d)], ["One.", "Two.", "Staff reply.", "Three."],
           "gone for the customer")
        tk = ticket("carol", d)
        eq((tk["message_count"], tk["awaiting_staff_count"]), (5, 1), "after: counts")
        eq(ticket("alice", d)["last_message"]["content"], "Three.", "the customer's last message")
        status(srv.client("dave").delete(msg_path(d, s1)), 204, "DELETE the staff reply")
        tk = ticket("alice", d)
        eq((tk["message_count"], tk["unanswered_messages_count"], tk["awaiting_staff_count"]),
           (3, 0, 3), "no staff reply left: three awaiting staff")
        eq(tk["status"], "waiting_for_admin", "the status stays")
        check(tk["first_response_at"], "first_response_at stays: a reply was given")
        status(srv.client("carol").delete(msg_path(d, n1)), 204, "DELETE the note")
        tk = ticket("carol", d)
        eq((tk["message_count"], tk["last_message"]["content"]), (3, "Three."), "the note gone")
        ev = [e for e in events() if e["type"] == "message.deleted"]
        eq([(e["message"], e["data"]["content"], e["actor"], e["addr"]) for e in ev],
           [(a4["uuid"], "Four.", uid("carol"), ADDR), (s1["uuid"], "Staff reply.", uid("dave"), ADDR),
            (n1["uuid"], "A note.", uid("carol"), ADDR)], "the events keep the text")
        del a2, a3

    with T.case("the forms of the ticket page, without JavaScript"):
        f = open_ticket("alice", "Form edits", "Customer text.")
        r1 = post("carol", f, "Agent text.")
        b = browser("carol")
        page = b.get("/support/tickets/%s/" % f["uuid"])
        status(page, 200, "the page")
        check('id="edit-content-%s"' % r1["uuid"] in page.text(), "an edit form per message")
        check('id="delete-submit-%s"' % r1["uuid"] in page.text(), "a delete button per message")
        base = "/support/tickets/%s/messages/%s/" % (f["uuid"], r1["uuid"])
        r = b.submit(base + "edit/", {"content": "Agent text, corrected."})
        status(r, 303, "edit by form")
        eq(urllib.parse.urlsplit(r.header("Location")).path, "/support/tickets/%s/" % f["uuid"], "back to the page")
        page = b.get("/support/tickets/%s/" % f["uuid"])
        check("Agent text, corrected." in page.text() and 'id="edited-%s"' % r1["uuid"] in page.text(),
              "the page shows the new text, marked edited")
        r = b.submit(base + "edit/", {"content": ""})
        status(r, 400, "an empty edit")
        check('id="message-edit-error"' in r.text() and "was not edited" in r.text(), "said on the page")
        r = b.submit(base + "edit/", {"content": "x"}, csrf=None)
        status(r, 403, "no CSRF token")
        r = b.submit(base + "delete/", {})
        status(r, 303, "delete by form")
        check("Agent text" not in b.get("/support/tickets/%s/" % f["uuid"]).text(), "gone from the page")
        a = browser("alice")
        page = a.get("/support/tickets/%s/" % f["uuid"])
        check("message-tools" not in page.text() and "/edit/" not in page.text(), "no controls for the customer")
        mine = thread("alice", f)[0]["uuid"]
        r = a.submit("/support/tickets/%s/messages/%s/edit/" % (f["uuid"], mine), {"content": "x"})
        status(r, 403, "a customer posting the edit form")


def test_rows():
    with T.case("the audit rows of a ticket's changes: actor, address, from and to"):
        t = open_ticket("alice", "Audit me", "Hello.")
        r = srv.client("carol").patch(TICKETS + t["uuid"] + "/",
                                      {"status": "resolved", "priority": "high", "subject": "Audited",
                                       "assignee": uid("carol")})
        status(r, 200, "PATCH the ticket")
        rows = audit(ticket=t["uuid"])["results"]
        eq(len(rows), 1, "one row")
        row = rows[0]
        eq((row["type"], row["actor"], row["actor_name"], row["addr"], row["ticket"], row["ticket_number"]),
           ("ticket.updated", uid("carol"), "carol", ADDR, t["uuid"], t["number"]), "the row")
        ch = changed(row)
        eq(ch["status"], ("open", "resolved"), "status")
        eq(ch["priority"], ("normal", "high"), "priority")
        eq(ch["subject"], ("Audit me", "Audited"), "subject")
        eq(ch["assignee"], ("none", "carol"), "assignee by name")
        eq(row["changes"]["assignee"], [None, uid("carol")], "the raw change too")
        check(re.match(r"^\d{4}-\d\d-\d\dT", row["at"]), "a time")

    with T.case("a message posted is no audit row; an edit and a deletion are"):
        m = post("carol", t, "Reply.")
        eq(len(audit(ticket=t["uuid"])["results"]), 1, "still one row")
        status(srv.client("carol").patch(msg_path(t, m), {"content": "Reply, edited."}), 200, "edit")
        status(srv.client("dave").delete(msg_path(t, m)), 204, "delete")
        rows = audit(ticket=t["uuid"])["results"]
        eq([r["type"] for r in rows], ["message.deleted", "message.edited", "ticket.updated"], "newest first")
        eq((rows[0]["actor_name"], rows[0]["data"]["content"], rows[0]["message"]),
           ("dave", "Reply, edited.", m["uuid"]), "the deletion keeps the text")
        eq(changed(rows[1])["content"], ("Reply.", "Reply, edited."), "the edit")

    with T.case("accounts: a role change, a disabled account, by an admin, from where"):
        r = srv.client("dave").patch("/api/support/users/%d/" % uid("erin"), {"role": "admin"})
        status(r, 200, "make erin admin")
        r = srv.client("dave").patch("/api/support/users/%d/" % uid("hank"), {"is_active": False})
        status(r, 200, "disable hank")
        r = srv.client("dave").patch("/api/support/users/%d/" % uid("erin"), {"away": True})
        status(r, 200, "erin away (no audit row)")
        rows = audit(actor="dave")["results"]
        eq([r["type"] for r in rows[:2]], ["user.disabled", "user.changed"], "dave's latest")
        eq((rows[1]["user_name"], changed(rows[1])["role"], rows[1]["addr"]),
           ("erin", ("agent", "admin"), ADDR), "the role change")
        eq((rows[0]["user_name"], rows[0]["addr"]), ("hank", ADDR), "the disabled account")
        check(not any(r["type"] == "user.changed" and "away" in r.get("changes", {})
                      for r in audit(limit=200)["results"]), "the away switch is not audited")

    with T.case("logins: succeeded and failed, on the account's rows, with the address"):
        c = srv.client()
        status(c.post("/api/support/session/", {"username": "ivy", "password": "wrong"}), 401, "a bad password")
        status(c.post("/api/support/session/", {"username": "ivy", "password": srv.users["ivy"].password}),
               200, "a good one")
        rows = audit(actor="ivy")["results"]
        eq([(r["type"], r["addr"], r["user_name"]) for r in rows],
           [("login.succeeded", ADDR, "ivy"), ("login.failed", ADDR, "ivy")], "ivy's logins")

    with T.case("a change made with supportctl: no actor, no address"):
        p = srv.ctl("user", "set-role", "june", "agent")
        check(p.returncode == 0, "set-role: %s" % p.stderr)
        row = [r for r in audit(limit=200)["results"] if r.get("user_name") == "june"][0]
        eq((row["type"], row["actor"], row["actor_name"], "addr" in row), ("user.changed", None, None, False),
           "the desk's change")


def test_filters():
    with T.case("filters: actor, ticket by number, dates, paging"):
        t = open_ticket("kim", "Filter me", "Hi.")
        for p in ("low", "high", "urgent", "normal", "low"):
            status(srv.client("carol").patch(TICKETS + t["uuid"] + "/", {"priority": p}), 200, "priority " + p)
        status(srv.client("dave").patch(TICKETS + t["uuid"] + "/", {"priority": "high"}), 200, "dave")
        by_num = audit(ticket=str(t["number"]))["results"]
        eq(len(by_num), 6, "six rows by number")
        eq(audit(ticket=t["uuid"])["results"], by_num, "the same by uuid")
        both = audit(ticket=t["uuid"], actor="carol")["results"]
        eq(len(both), 5, "carol's on this ticket")
        check(all(r["actor_name"] == "carol" for r in both), "carol's only")
        eq(audit(ticket=t["uuid"], actor=str(uid("dave")))["results"][0]["actor_name"], "dave", "actor by id")
        page1 = audit(ticket=t["uuid"], limit=4)
        eq(len(page1["results"]), 4, "a page of four")
        check(page1["next"], "a next link")
        nxt = urllib.parse.urlsplit(page1["next"])
        eq(nxt.path, AUDIT, "next's path")
        r = srv.client("dave").get(nxt.path + "?" + nxt.query)
        status(r, 200, "next page")
        eq(len(r.json["results"]), 2, "the rest")
        eq(r.json["next"], None, "no more")
        eq(page1["results"] + r.json["results"], by_num, "the pages make the whole")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        eq(len(audit(ticket=t["uuid"], to=str(today))["results"]), 6, "to: today included")
        eq(audit(ticket=t["uuid"], to=str(today - datetime.timedelta(days=1)))["results"], [], "to yesterday")
        eq(len(audit(ticket=t["uuid"], **{"from": str(today)})["results"]), 6, "from today")
        eq(audit(ticket=t["uuid"], **{"from": str(today + datetime.timedelta(days=1))})["results"], [],
           "from tomorrow")
        eq(audit(ticket=t["uuid"], to="1960-01-01")["results"], [], "to a date before the epoch")
        eq(len(audit(ticket=t["uuid"], **{"from": "1960-01-01"})["results"]), 6, "from before the epoch")
        cut = by_num[2]["at"]
        eq(audit(ticket=t["uuid"], **{"from": cut})["results"], by_num[:3], "from a time: it and newer")
        eq(audit(ticket=t["uuid"], to=cut)["results"], by_num[3:], "to a time: older")

    with T.case("every bad filter: 400 naming it"):
        for q, field in (({"actor": "nobody-here"}, "actor"), ({"ticket": "abc"}, "ticket"),
                         ({"ticket": "999999"}, "ticket"),
                         ({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"),
                         ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
                         ({"before": "zz"}, "before"), ({"before": "0" * 31}, "before"),
                         ({"before": "g" * 32}, "before"),
                         ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "x"}, "limit"),
                         ({"page": "2"}, "page"), ({"actor": "x" * 255}, "actor")):
            r = srv.client("dave").get(AUDIT + "?" + urllib.parse.urlencode(q))
            bad(r, field, repr(q))

    with T.case("a ticket's uuid: its rows, none when it never had any (or is gone)"):
        eq(audit(ticket="00000000-0000-4000-8000-000000000000")["results"], [], "no rows")

    with T.case("who may read the log: admins"):
        error(srv.client("carol").get(AUDIT), 403, "forbidden")
        error(srv.client("alice").get(AUDIT), 403, "forbidden")
        error(srv.client().get(AUDIT), 401, "not_authenticated")
        for method in ("POST", "PATCH", "DELETE"):
            r = srv.client("dave").request(method, AUDIT, json_body={})
            status(r, 405, method + " on the log")


def test_pages():
    with T.case("the audit page: filters, rows, paging; admins only"):
        t = open_ticket("kim", "Paged", "Hi.")
        for p in ("low", "high", "urgent"):
            status(srv.client("carol").patch(TICKETS + t["uuid"] + "/", {"priority": p}), 200, "priority")
        b = browser("dave")
        r = b.get(AUDIT_PAGE + "?" + urllib.parse.urlencode({"ticket": t["number"], "limit": 2}))
        status(r, 200, "the page")
        text = r.text()
        check('id="audit-log"' in text and text.count('class="audit-row"') == 2, "two rows")
        check('value="%d"' % t["number"] in text, "the filter kept")
        m = re.search(r'id="audit-next" href="([^"]+)"', text)
        check(m, "an older-entries link")
        r = b.get(html.unescape(m.group(1)))
        status(r, 200, "the next page")
        check(r.text().count('class="audit-row"') == 1 and 'id="audit-next"' not in r.text(), "the last row")
        check("carol" in r.text() and ADDR in r.text(), "who and from where")
        r = b.get(AUDIT_PAGE + "?actor=nobody-here")
        status(r, 400, "a bad filter")
        check('id="audit-actor-error"' in r.text() and 'aria-invalid="true"' in r.text(), "said by the field")
        r = b.get(AUDIT_PAGE + "?ticket=999999&from=2026-01-01")
        status(r, 400, "an unknown ticket")
        r = b.get(AUDIT_PAGE + "?actor=dave&from=2001-01-01&to=2001-01-02")
        status(r, 200, "nothing in the window")
        check('id="audit-empty"' in r.text(), "said so")
        status(browser("carol").get(AUDIT_PAGE), 403, "an agent")
        status(browser("alice").get(AUDIT_PAGE), 403, "a customer")

    with T.case("a ticket's history on its page: for admins only"):
        page = browser("dave").get("/support/tickets/%s/" % t["uuid"])
        status(page, 200, "the ticket page as dave")
        check('id="ticket-history"' in page.text(), "the history section")
        check(page.text().count('class="audit-row"') == 3, "its three rows")
        page = browser("carol").get("/support/tickets/%s/" % t["uuid"])
        check('id="ticket-history"' not in page.text(), "not for an agent")

    with T.case("supportctl audit: filters, lines and JSON"):
        p = srv.ctl("audit", "--ticket", str(t["number"]))
        check(p.returncode == 0, "exit %d %s" % (p.returncode, p.stderr))
        lines = p.stdout.decode().splitlines()
        eq(len(lines), 3, "three lines")
        check(all(" carol %s ticket.updated #%d priority: " % (ADDR, t["number"]) in line for line in lines),
              "who, where, what: %s" % lines)
        p = srv.ctl("audit", "--ticket", t["uuid"], "--actor", "carol", "--since", "2001-01-01", "--json")
        rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
        eq([changed(r)["priority"][1] for r in rows], ["urgent", "high", "low"], "as JSON, newest first")
        p = srv.ctl("audit", "--since", "2999-01-01")
        eq((p.returncode, p.stdout), (0, b""), "nothing since")
        for bad in (("--actor", "nobody-here"), ("--ticket", "abc"), ("--since", "soon"), ("--what",)):
            p = srv.ctl("audit", *bad)
            eq(p.returncode, 2, "refused: %s" % (bad,))


def test_build():
    with T.case("a store made before the audit log gets it from the event log"):
        before = audit(limit=200)["results"]
        check(len(before) > 10, "rows to rebuild")
        srv.stop()
        for f in ("audit.db", "audit_by_ticket.db", "audit_by_actor.db"):
            os.remove(os.path.join(srv.var, "data", f))
        srv.start()
        after = audit(limit=200)["results"]
        eq([r["seq"] for r in after], [r["seq"] for r in before], "the same rows")
        eq(after, before, "the same content")
        eq(len(audit(actor="carol", limit=200)["results"]),
           len([r for r in before if r["actor_name"] == "carol"]), "the actor index")
        p = srv.ctl("db", "verify")
        check(p.returncode == 0, "db verify: %s %s" % (p.stdout.decode(), p.stderr.decode()))


def main():
    global srv
    srv = standard_server(extra_users=(("erin", "agent"), ("hank", "user"), ("ivy", "user"),
                                       ("june", "user"), ("kim", "user")))
    test_edit_delete()
    test_rows()
    test_filters()
    test_pages()
    test_build()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
