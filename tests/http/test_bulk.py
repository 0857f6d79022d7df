#!/usr/bin/env python3
"""Bulk changes of tickets, behind the real web server: the API's
POST /api/support/tickets/bulk/ (staff; every ticket changed in one
transaction or none, the refused ticket named) and the queue page's bulk
bar, posted as a form without JavaScript.  Each ticket changed gets its
own ticket.updated event (`supportctl events`).

Run from the repo root of a built tree:  python3 tests/http/test_bulk.py
"""

import json
import os
import re
import sys
import urllib.parse
import uuid as uuidlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, status, error,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page, LOGIN  # noqa: E402

BULK = TICKETS + "bulk/"
PAGE_BULK = "/support/tickets/bulk/"
HOME = "/support/"

srv = None


def events(*args):
    p = srv.ctl("events", *args)
    check(p.returncode == 0, "supportctl events: exit %d: %s" % (
        p.returncode, p.stderr.decode(errors="replace")))
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def last_seq():
    evs = events()
    return evs[-1]["seq"] if evs else 0


def user_id(name):
    r = srv.client(name).get("/api/support/session/")
    status(r, 200, "session of %s" % name)
    return r.json["user"]["id"]


def open_tickets(n, who="alice"):
    c = srv.client(who)
    out = []
    for i in range(n):
        r = c.post(TICKETS, {"subject": "Bulk %d" % i, "initial_message": "Body %d" % i})
        status(r, 201, "open ticket %d" % i)
        out.append(r.json["uuid"])
    return out


def show(u, who="carol"):
    r = srv.client(who).get(TICKETS + u + "/")
    status(r, 200, "show %s" % u)
    return r.json


def state(uuids):
    """What a bulk may change of each ticket, and its revision of time."""
    return {u: (t["status"], t["priority"], t["assignee"] and t["assignee"]["id"],
                t["updated_at"]) for u, t in ((u, show(u)) for u in uuids)}


def test_api():
    carol, dave, alice = srv.client("carol"), srv.client("dave"), srv.client("alice")
    carol_id = user_id("carol")
    tickets = open_tickets(20)

    with T.case("bulk: 20 tickets get status, priority and assignee at once; 200 {updated, results}"):
        start = last_seq() + 1
        r = carol.post(BULK, {"uuids": tickets, "status": "waiting_for_user",
                              "priority": "high", "assignee": carol_id})
        status(r, 200)
        eq(r.json["updated"], 20, "updated")
        eq([t["uuid"] for t in r.json["results"]], tickets, "results in the order given")
        check(all("messages" not in t for t in r.json["results"]), "results as the list shows them")
        for u in tickets:
            t = show(u)
            eq((t["status"], t["priority"], t["assignee"]["id"]),
               ("waiting_for_user", "high", carol_id), "ticket %s" % u)
        evs = [e for e in events("--from", str(start)) if e["type"] == "ticket.updated"]
        eq(sorted(e["ticket"] for e in evs), sorted(tickets), "one ticket.updated per ticket")
        for e in evs:
            eq(e["actor"], carol_id, "actor")
            eq(e["changes"], {"status": ["open", "waiting_for_user"], "priority": ["normal", "high"],
                              "assignee": [None, carol_id]}, "changes of %s" % e["ticket"])

    with T.case("bulk: assignee null unassigns; the same status again changes nothing of it"):
        r = dave.post(BULK, {"uuids": tickets[:3], "assignee": None, "status": "waiting_for_user"})
        status(r, 200)
        eq(r.json["updated"], 3, "updated")
        for u in tickets[:3]:
            eq(show(u)["assignee"], None, "assignee of %s" % u)
            eq(show(u)["status"], "waiting_for_user", "status of %s" % u)

    with T.case("bulk: all or nothing: an unknown uuid in the middle: 404 naming it, nothing changed"):
        before = state(tickets)
        ghost = str(uuidlib.uuid4())
        r = carol.post(BULK, {"uuids": tickets[:10] + [ghost] + tickets[10:], "priority": "urgent"})
        error(r, 404, "not_found")
        err = r.json["error"]
        check(ghost in err["fields"]["uuids"], "fields.uuids names the ticket: %r" % err)
        check(ghost in err["message"], "the message names the ticket: %r" % err)
        eq(state(tickets), before, "no ticket changed")

    with T.case("bulk: all or nothing: an assignee who is no longer staff, with one ticket already theirs"):
        # The status machine refuses staff no move (docs/api.md), so the
        # refusal in the middle here is the assignee rule: tickets[10] is
        # assigned to erin while she is an agent; once she is a customer,
        # assigning her the others is refused, that one alone passes.
        srv.add_user("erin", "agent")
        erin_id = user_id("erin")
        status(carol.patch(TICKETS + tickets[10] + "/", {"assignee": erin_id}), 200)
        p = srv.ctl("user", "set-role", "erin", "user")
        check(p.returncode == 0, "supportctl user role: %s" % p.stderr.decode(errors="replace"))
        before = state(tickets)
        r = carol.post(BULK, {"uuids": tickets[10:12], "status": "open", "assignee": erin_id})
        error(r, 400, "invalid", ["assignee"])
        eq(state(tickets), before, "no ticket changed, not even the status of tickets[10]")

    with T.case("bulk: 101 uuids, none, a bad uuid, duplicates, bad types, unknown field: 400 naming the field"):
        many = [str(uuidlib.uuid4()) for _ in range(101)]
        r = carol.post(BULK, {"uuids": many, "status": "open"})
        error(r, 400, "invalid", ["uuids"])
        check("100" in r.json["error"]["fields"]["uuids"], "says the limit")
        error(carol.post(BULK, {"uuids": [], "status": "open"}), 400, "invalid", ["uuids"])
        error(carol.post(BULK, {"status": "open"}), 400, "invalid", ["uuids"])
        error(carol.post(BULK, {"uuids": ["nope"], "status": "open"}), 400, "invalid", ["uuids"])
        error(carol.post(BULK, {"uuids": tickets[0], "status": "open"}), 400, "invalid", ["uuids"])
        error(carol.post(BULK, {"uuids": [1, 2], "status": "open"}), 400, "invalid", ["uuids"])
        before = state(tickets[:3])
        r = carol.post(BULK, {"uuids": [tickets[0], tickets[1], tickets[0]], "status": "open"})
        error(r, 400, "invalid", ["uuids"])
        check(tickets[0] in r.json["error"]["fields"]["uuids"], "names the repeated ticket")
        eq(state(tickets[:3]), before, "nothing changed")
        error(carol.post(BULK, {"uuids": tickets[:2], "status": "bogus"}), 400, "invalid", ["status"])
        error(carol.post(BULK, {"uuids": tickets[:2], "priority": 3}), 400, "invalid", ["priority"])
        error(carol.post(BULK, {"uuids": tickets[:2], "assignee": "me"}), 400, "invalid", ["assignee"])
        error(carol.post(BULK, {"uuids": tickets[:2], "assignee": user_id("alice")}), 400, "invalid",
              ["assignee"])
        error(carol.post(BULK, {"uuids": tickets[:2], "subject": "x"}), 400, "unknown_field", ["subject"])
        eq(state(tickets[:3]), before, "nothing changed")

    with T.case("bulk: a customer gets 403 and changes nothing; anonymous 401; GET 405"):
        before = state(tickets[:2])
        error(alice.post(BULK, {"uuids": tickets[:2], "status": "closed"}), 403, "forbidden")
        error(srv.client().post(BULK, {"uuids": tickets[:2], "status": "closed"}), 401, "not_authenticated")
        eq(state(tickets[:2]), before, "nothing changed")
        status(carol.get(BULK), 405)

    with T.case("bulk: exactly 100 tickets at once"):
        more = open_tickets(80, who="bob")
        hundred = tickets + more
        r = carol.post(BULK, {"uuids": hundred, "status": "resolved"})
        status(r, 200)
        eq(r.json["updated"], 100, "updated")
        r = carol.get(TICKETS + "?status=resolved&page_size=100")
        status(r, 200)
        eq(r.json["count"], 100, "the list counts them resolved")
    return tickets


def page_token(b):
    r = b.get(HOME)
    status(r, 200, "queue page")
    m = re.search(r'name="csrfmiddlewaretoken" value="([0-9a-f]{64})"', r.text())
    check(m, "no csrfmiddlewaretoken on the queue")
    return m.group(1), r


def test_page(tickets):
    carol_id = user_id("carol")
    b = Page(srv.port)
    b.get(LOGIN)
    r = b.submit(LOGIN, {"username": "carol", "password": srv.users["carol"].password})
    status(r, 303, "log in as carol")

    with T.case("queue page: a checkbox per ticket, select all and the bulk bar, with the CSRF token"):
        token, r = page_token(b)
        text = r.text()
        check('id="bulk"' in text and 'action="/support/tickets/bulk/"' in text, "the bulk form")
        boxes = re.findall(r'<input type="checkbox" class="bulk-pick" name="uuids" value="([0-9a-f-]{36})"', text)
        eq(len(boxes), 20, "a checkbox per ticket on the page")
        check('id="bulk-all"' in text, "select all")
        check('<option value="%d">Me</option>' % carol_id in text, "assignee: me")
        check('<option value="0">Nobody</option>' in text, "assignee: nobody")

    with T.case("queue page: the form without JavaScript moves the checked tickets and redirects (303) with a notice"):
        token, _ = page_token(b)
        picked = tickets[:4]
        start = last_seq() + 1
        form = [("csrfmiddlewaretoken", token)] + [("uuids", u) for u in picked] + \
            [("status", "waiting_for_admin"), ("priority", "low"), ("assignee", "0")]
        r = b.post(PAGE_BULK, form=form)
        status(r, 303)
        loc = urllib.parse.urlsplit(r.header("Location") or "")
        eq(loc.path, HOME, "back to the queue")
        eq(loc.query, "updated=4", "with the count")
        for u in picked:
            t = show(u)
            eq((t["status"], t["priority"], t["assignee"]), ("waiting_for_admin", "low", None), u)
        evs = [e for e in events("--from", str(start)) if e["type"] == "ticket.updated"]
        eq(sorted(e["ticket"] for e in evs), sorted(picked), "one event per ticket")
        r = b.get(HOME + "?" + loc.query)
        status(r, 200)
        check('id="bulk-notice"' in r.text() and "4 tickets changed." in r.text(), "the notice")

    with T.case("queue page: one checked box; empty selects leave fields as they are; assignee me"):
        token, _ = page_token(b)
        before = show(tickets[5])
        r = b.post(PAGE_BULK, form=[("csrfmiddlewaretoken", token), ("uuids", tickets[5]),
                                    ("status", ""), ("priority", ""), ("assignee", str(carol_id))])
        status(r, 303)
        t = show(tickets[5])
        eq((t["status"], t["priority"], t["assignee"]["id"]),
           (before["status"], before["priority"], carol_id), "only the assignee moved")

    with T.case("queue page: all on this page takes the tickets shown"):
        token, r = page_token(b)
        shown = re.findall(r'<input type="hidden" name="shown" value="([0-9a-f-]{36})"', r.text())
        eq(len(shown), 20, "the page shows 20")
        form = [("csrfmiddlewaretoken", token), ("all", "1")] + [("shown", u) for u in shown] + \
            [("status", ""), ("priority", "urgent"), ("assignee", "")]
        status(b.post(PAGE_BULK, form=form), 303)
        for u in shown:
            eq(show(u)["priority"], "urgent", u)

    with T.case("queue page: errors are pages naming the ticket, nothing changed"):
        token, _ = page_token(b)
        ghost = str(uuidlib.uuid4())
        before = state(tickets[:2])
        r = b.post(PAGE_BULK, form=[("csrfmiddlewaretoken", token), ("uuids", tickets[0]),
                                    ("uuids", ghost), ("status", "closed"), ("priority", ""),
                                    ("assignee", "")])
        status(r, 404)
        check((r.header("Content-Type") or "").startswith("text/html"), "an HTML page")
        check(ghost in r.text(), "the page names the ticket")
        eq(state(tickets[:2]), before, "nothing changed")
        r = b.post(PAGE_BULK, form=[("csrfmiddlewaretoken", token), ("status", "closed")])
        status(r, 400)
        check('data-field="uuids"' in r.text(), "no ticket selected: names uuids")
        r = b.post(PAGE_BULK, form=[("csrfmiddlewaretoken", token), ("uuids", tickets[0]),
                                    ("status", "closed"), ("status", "open")])
        status(r, 400)
        check('data-field="status"' in r.text(), "a field given twice")
        eq(state(tickets[:2]), before, "nothing changed")

    with T.case("queue page: without the CSRF token 403; a customer's post 403"):
        before = state(tickets[:2])
        r = b.post(PAGE_BULK, form=[("uuids", tickets[0]), ("status", "closed")])
        status(r, 403)
        a = Page(srv.port)
        a.get(LOGIN)
        status(a.submit(LOGIN, {"username": "alice", "password": srv.users["alice"].password}), 303)
        r = a.get(HOME)
        check('id="bulk"' not in r.text(), "no bulk bar for a customer")
        m = re.search(r'name="csrfmiddlewaretoken" value="([0-9a-f]{64})"', r.text())
        r = a.post(PAGE_BULK, form=[("csrfmiddlewaretoken", m.group(1)), ("uuids", tickets[0]),
                                    ("status", "closed")])
        status(r, 403)
        eq(state(tickets[:2]), before, "nothing changed")


def main():
    global srv
    srv = standard_server(conf={("support", "max_tickets_per_user"): "0"})
    tickets = test_api()
    test_page(tickets)
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
