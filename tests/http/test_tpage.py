#!/usr/bin/env python3
"""The staff's ticket page and the canned replies' page (docs/pages.md,
"The staff's ticket page", "Canned replies"), through the real programs
behind the web server, as a browser without JavaScript uses them and as
the page's script does (the same change by fetch):

- the controls (status, priority, assignee: every agent, away or not, not
  a disabled one; "Nobody"; "Assign to me"), each posted as a form (303
  and the notice) and as the script's PATCH; bad input (an unknown
  assignee, a customer as assignee, a priority out of the list) refused
  with nothing changed; a customer posting the staff's controls (403 on
  their own ticket, 404 on another's) and seeing none of them;
- the side panel: the customer's name, e-mail, customer since, their
  other tickets (newest 10, not this one) and the link to their page;
- the canned-response picker: the page again with the reply box filled
  for this ticket (every placeholder), an unknown id an error on the
  page, a customer refused;
- /support/canned/: list, create, edit, delete, the sharing rules, errors
  by field;
- staff opening a ticket for a customer (the API's "user" and the form):
  the customer's ticket, their counters and limit, the event's actor;
  bad input (unknown, staff, disabled, wrong type; a customer sending it).

Run from the repo root of a built tree:  python3 tests/http/test_tpage.py
"""

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

CANNED_API = "/api/support/canned-responses/"
CANNED_PAGE = "/support/canned/"
NEW = "/support/tickets/new/"
srv = None
ids = {}


def page_url(uuid):
    return "/support/tickets/%s/" % uuid


def browser(name):
    test_pages.srv = srv
    b = Page(srv.port)
    b.login_form(name, srv.users[name].password)
    return b


def uid(name):
    if name not in ids:
        r = srv.client(name).get("/api/support/session/")
        status(r, 200, "session of " + name)
        ids[name] = r.json["user"]["id"]
    return ids[name]


def open_ticket(who, subject, message="Please help."):
    r = srv.client(who).post(TICKETS, {"subject": subject, "initial_message": message})
    status(r, 201, "open a ticket as " + who)
    return r.json


def ticket(uuid, who="carol"):
    r = srv.client(who).get(TICKETS + uuid + "/")
    status(r, 200, "GET the ticket")
    return r.json


def events(*args):
    p = srv.ctl("events", *args)
    check(p.returncode == 0, "supportctl events: exit %d" % p.returncode)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def select_of(text, sel_id):
    m = re.search(r'<select id="%s"[^>]*>(.*?)</select>' % sel_id, text, re.S)
    check(m, "no select #%s" % sel_id)
    return [(v, bool(s), html.unescape(label)) for v, s, label in
            re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', m.group(1))]


def textarea(text, ta_id="content"):
    m = re.search(r'<textarea id="%s"[^>]*>(.*?)</textarea>' % ta_id, text, re.S)
    check(m, "no textarea #%s" % ta_id)
    return html.unescape(m.group(1))


def redirected(r, path, query):
    status(r, 303, "the form's answer")
    loc = urllib.parse.urlsplit(r.header("Location") or "")
    eq(loc.path, path, "redirected to")
    eq(urllib.parse.parse_qs(loc.query), query, "the notice's query")
    return loc.path + ("?" + loc.query if loc.query else "")


def test_controls():
    t = open_ticket("alice", "Controls ticket")
    u = page_url(t["uuid"])
    carol = browser("carol")
    alice = browser("alice")

    with T.case("the staff page: controls, with every status, priority and agent"):
        srv.ctl("user", "set-away", "erin", "yes")
        r = carol.get(u)
        status(r, 200)
        text = r.text()
        eq([(v, s) for v, s, _ in select_of(text, "control-status")],
           [("open", True), ("waiting_for_admin", False), ("waiting_for_user", False),
            ("resolved", False), ("closed", False)], "status choices")
        eq([(v, s) for v, s, _ in select_of(text, "control-priority")],
           [("low", False), ("normal", True), ("high", False), ("urgent", False)],
           "priority choices")
        agents = select_of(text, "control-assignee")
        eq(agents[0], ("", True, "Nobody"), "Nobody first, selected")
        names = [label for _, _, label in agents[1:]]
        check("carol" in names and "dave" in names, "agents listed: %s" % names)
        check("erin" in names, "an agent who is away is still offered: %s" % names)
        check("gus" not in names, "a disabled agent is offered: %s" % names)
        check("alice" not in names, "a customer offered as assignee")
        check('id="assign-me"' in text and 'value="%d"' % uid("carol") in text,
              "no Assign to me button")
        check('id="resolve"' in text, "staff have no Resolve button")
        for keep in ('id="ticket-status"', 'id="ticket-priority"', 'id="content"',
                     'id="is_internal"', 'id="reply"'):
            check(keep in text, "the page lost %s" % keep)
        srv.ctl("user", "set-away", "erin", "no")

    with T.case("without JavaScript: priority, assignee, assign to me, status"):
        r = carol.submit(u, {"priority": "urgent"})
        back = redirected(r, u, {"changed_priority": ["urgent"]})
        text = carol.get(back).text()
        check('id="priority-changed"' in text and "Priority changed to Urgent." in text,
              "no priority notice")
        check('data-priority="urgent"' in text, "the page does not show the priority")
        eq(ticket(t["uuid"])["priority"], "urgent", "priority stored")

        r = carol.submit(u, {"assignee": str(uid("dave"))})
        back = redirected(r, u, {"assigned": ["1"]})
        text = carol.get(back).text()
        check("Assigned to dave." in text, "no assignee notice")
        check('data-assignee="%d"' % uid("dave") in text, "the page does not show dave")
        eq(ticket(t["uuid"])["assignee"]["id"], uid("dave"), "dave assigned")
        check((str(uid("dave")), True, "dave") in select_of(text, "control-assignee"),
              "the select does not hold dave")

        r = carol.submit(u, {"assignee": ""})
        back = redirected(r, u, {"assigned": ["1"]})
        check("Unassigned." in carol.get(back).text(), "no unassigned notice")
        eq(ticket(t["uuid"])["assignee"], None, "Nobody unassigns")

        r = carol.submit(u, {"assignee": str(uid("carol"))})
        redirected(r, u, {"assigned": ["1"]})
        eq(ticket(t["uuid"])["assignee"]["id"], uid("carol"), "assign to me")

        r = carol.submit(u, {"status": "waiting_for_user"})
        back = redirected(r, u, {"changed": ["waiting_for_user"]})
        check("Status changed to Waiting for the customer." in carol.get(back).text(),
              "no status notice")
        r = carol.submit(u, {"status": "closed"})
        redirected(r, u, {"changed": ["closed"]})
        r = carol.submit(u, {"status": "waiting_for_admin"})
        redirected(r, u, {"changed": ["waiting_for_admin"]})
        eq(ticket(t["uuid"])["status"], "waiting_for_admin", "staff move a closed ticket anywhere")

    with T.case("with JavaScript: the same changes by the script's PATCH (cookie and token)"):
        tok = carol.token()
        r = carol.request("PATCH", TICKETS + t["uuid"] + "/", json_body={"priority": "low"}, csrf=tok)
        status(r, 200, "PATCH priority")
        r = carol.request("PATCH", TICKETS + t["uuid"] + "/",
                          json_body={"assignee": uid("dave")}, csrf=tok)
        status(r, 200, "PATCH assignee")
        r = carol.request("PATCH", TICKETS + t["uuid"] + "/", json_body={"status": "resolved"}, csrf=tok)
        status(r, 200, "PATCH status")
        text = carol.get(u).text()
        check('data-priority="low"' in text and 'data-status="resolved"' in text and
              'data-assignee="%d"' % uid("dave") in text, "the page after the script's changes")
        r = carol.request("PATCH", TICKETS + t["uuid"] + "/", json_body={"assignee": None}, csrf=tok)
        status(r, 200, "PATCH assignee null")

    with T.case("bad input: nothing changes, the field is named"):
        before = ticket(t["uuid"])
        for fields, name in (({"assignee": "999999"}, "assignee"),
                             ({"assignee": str(uid("alice"))}, "assignee"),
                             ({"assignee": "x"}, "assignee"),
                             ({"priority": "critical"}, "priority"),
                             ({"status": "done"}, "status"),
                             ({"bogus": "1"}, "bogus")):
            r = carol.submit(u, fields)
            status(r, 400, "POST %s" % fields)
            check(name in r.text(), "the error page does not name %s: %s" % (name, fields))
        after = ticket(t["uuid"])
        eq({k: after[k] for k in ("status", "priority", "assignee", "updated_at")},
           {k: before[k] for k in ("status", "priority", "assignee", "updated_at")},
           "nothing changed")

    with T.case("a customer: no controls, panel or picker; posting them refused"):
        text = alice.get(u).text()
        for staff_only in ('id="ticket-controls"', 'id="customer-panel"', 'id="canned-picker"',
                           'id="assign-me"'):
            check(staff_only not in text, "the customer sees %s" % staff_only)
        status(alice.submit(u, {"priority": "urgent"}), 403, "customer priority")
        status(alice.submit(u, {"assignee": str(uid("alice"))}), 403, "customer assignee")
        status(alice.submit(u, {"canned": "1"}), 403, "customer canned")
        other = open_ticket("bob", "Bob's own")
        status(alice.submit(page_url(other["uuid"]), {"priority": "urgent"}), 404,
               "another's ticket")
        eq(ticket(t["uuid"])["priority"], "low", "unchanged by the customer")
        eq(ticket(other["uuid"])["priority"], "normal", "unchanged by another customer")


def test_panel():
    with T.case("the side panel: the customer, their newest other tickets, the link"):
        mine = []
        for i in range(12):
            mine.append(open_ticket("hank", "Hank ticket %d" % i))
            # resolved at once, so that the limit of 10 open ones is not met
            r = srv.client("carol").patch(TICKETS + mine[-1]["uuid"] + "/", {"status": "resolved"})
            status(r, 200, "resolve")
        cur = mine[0]
        text = browser("carol").get(page_url(cur["uuid"])).text()
        m = re.search(r'<aside class="card ticket-side" id="customer-panel" '
                      r'aria-labelledby="customer-panel-heading">(.*?)</aside>', text, re.S)
        check(m, "no aside panel")
        panel = m.group(1)
        check('<h2 id="customer-panel-heading">Customer</h2>' in panel, "no heading")
        check('id="panel-customer-name">hank<' in panel, "no name: %s" % panel[:400])
        check("hank@example.com" in panel, "no e-mail")
        check(re.search(r'id="panel-customer-since"><time datetime="\d{4}-', panel), "no since")
        others = re.findall(r'>#(\d+) Hank ticket (\d+)</a>', panel)
        eq(len(others), 10, "ten other tickets")
        check("0" not in [n for _, n in others], "this ticket among the others")
        eq([int(n) for _, n in others], list(range(11, 1, -1)), "newest first")
        check('href="/support/customers/%d/"' % uid("hank") in panel, "no customer link")
        check('id="panel-customer-count">12<' in panel, "ticket count")
        lone = open_ticket("ivy", "Ivy's only")
        panel = browser("carol").get(page_url(lone["uuid"])).text()
        check('id="panel-no-others"' in panel, "no 'no other tickets'")


def test_picker():
    carol = browser("carol")
    t = open_ticket("alice", "Picker subject")
    u = page_url(t["uuid"])
    r = srv.client("carol").post(CANNED_API, {
        "title": "Hello", "body": "Hi {{customer.name}} ({{customer.email}}), about #{{ticket.number}} "
        "{{ticket.subject}}. -- {{agent.name}}"})
    status(r, 201)
    cid = r.json["id"]
    r = srv.client("erin").post(CANNED_API, {"title": "Erin's own", "body": "mine"})
    status(r, 201)
    erins = r.json["id"]

    with T.case("the picker lists the reader's canned responses"):
        text = carol.get(u).text()
        opts = select_of(text, "canned")
        check((str(cid), False, "Hello") in opts, "Hello not offered: %s" % opts)
        check(str(erins) not in [v for v, _, _ in opts], "another agent's own offered")

    with T.case("without JavaScript: the page comes back with the reply filled in"):
        r = carol.submit(u, {"canned": str(cid)})
        status(r, 200, "the picker")
        want = "Hi alice (alice@example.com), about #%d Picker subject. -- carol" % t["number"]
        got = textarea(r.text())
        eq(got, want, "every placeholder filled")
        r2 = srv.client("carol").post(CANNED_API + "%d/render/" % cid, {"ticket": t["uuid"]})
        status(r2, 200)
        eq(got, r2.json["content"], "the page and the render API agree")
        check('id="canned-inserted"' in r.text(), "no notice")
        eq(ticket(t["uuid"])["message_count"], 1, "nothing sent yet")
        r = carol.submit(u + "messages/", {"content": got})
        status(r, 303, "send it")
        msgs = ticket(t["uuid"])["messages"]
        eq(msgs[-1]["content"], got, "sent as rendered")

    with T.case("an unknown id (or another's own) is an error on the page"):
        for bad in ("999999", str(erins)):
            r = carol.submit(u, {"canned": bad})
            status(r, 400, "canned=" + bad)
            check('id="canned-error"' in r.text() and "There is no canned response %s." % bad
                  in r.text(), "no error on the page")
            check('id="reply"' in r.text(), "not the ticket page")
        for bad in ("0", "x", ""):
            status(carol.submit(u, {"canned": bad}), 400, "canned=%r" % bad)
        r = carol.submit(u, {"canned": str(cid), "priority": "high"})
        status(r, 400, "canned with a change")
        status(carol.submit(page_url("00000000-0000-4000-8000-000000000000"),
                            {"canned": str(cid)}), 404, "unknown ticket")


def canned_titles(b):
    return re.findall(r'<h3 class="canned-title">([^<]*)</h3>', b.get(CANNED_PAGE).text())


def form_id(b, title):
    text = b.get(CANNED_PAGE).text()
    for cid, t in re.findall(r'<li class="card" id="canned-(\d+)">\s*<h3 class="canned-title">([^<]*)</h3>', text):
        if html.unescape(t) == title:
            return int(cid)
    return None


def test_manage():
    carol, dave, erin = browser("carol"), browser("dave"), browser("erin")

    with T.case("an agent creates a personal reply; the list shows shared and own"):
        r = srv.client("dave").post(CANNED_API, {"title": "Team greeting", "body": "Hello!",
                                                 "shared": True})
        status(r, 201)
        shared = r.json["id"]
        r = carol.submit(CANNED_PAGE, {"title": "Carol sign-off", "body": "Bye {{customer.name}}",
                                       "shortcut": "bye"})
        redirected(r, CANNED_PAGE, {"done": ["created"]})
        text = carol.get(CANNED_PAGE + "?done=created").text()
        check("Canned reply created." in text, "no notice")
        titles = canned_titles(carol)
        check("Team greeting" in titles and "Carol sign-off" in titles, "list: %s" % titles)
        check("Carol sign-off" not in canned_titles(erin), "another agent sees carol's own")
        mine = form_id(carol, "Carol sign-off")
        check('id="edit-%d"' % mine in text and 'id="edit-%d"' % shared not in text,
              "an agent may edit their own, not a shared one")
        check('id="canned-shared"' not in text, "an agent is offered sharing")
        check('id="canned-shared"' in dave.get(CANNED_PAGE).text(), "an admin is not offered sharing")

    with T.case("errors by field; nothing made"):
        before = canned_titles(carol)
        r = carol.submit(CANNED_PAGE, {"title": "", "body": "x"})
        status(r, 400)
        check('id="title-error"' in r.text() and 'id="body-error"' not in r.text(),
              "the title's error")
        r = carol.submit(CANNED_PAGE, {"title": "Bad", "body": "Hi {{customer.age}}"})
        status(r, 400)
        check('id="body-error"' in r.text() and "customer.age" in r.text(), "the placeholder")
        check('value="Bad"' in r.text(), "what was typed is lost")
        r = carol.submit(CANNED_PAGE, {"title": "Again", "body": "x", "shortcut": "bye"})
        status(r, 409)
        check('id="shortcut-error"' in r.text(), "the shortcut's error")
        r = carol.submit(CANNED_PAGE, {"title": "Sneaky", "body": "x", "shared": "true"})
        status(r, 403, "an agent making a shared one")
        eq(canned_titles(carol), before, "nothing made")

    with T.case("edit: own by its agent, shared by admins only"):
        r = carol.get(CANNED_PAGE + "%d/" % mine)
        status(r, 200)
        check('value="Carol sign-off"' in r.text() and "Bye {{customer.name}}" in r.text(),
              "the form holds it")
        r = carol.submit(CANNED_PAGE + "%d/" % mine, {"title": "Carol farewell",
                                                      "body": "Bye", "shortcut": "bye"})
        redirected(r, CANNED_PAGE, {"done": ["saved"]})
        check("Carol farewell" in canned_titles(carol), "not saved")
        r = carol.submit(CANNED_PAGE + "%d/" % mine, {"title": "", "body": "Bye"})
        status(r, 400)
        check('id="title-error"' in r.text(), "edit error by field")
        status(carol.get(CANNED_PAGE + "%d/" % shared), 403, "agent opens a shared one")
        status(carol.submit(CANNED_PAGE + "%d/" % shared, {"title": "X", "body": "Y"}), 403,
               "agent edits a shared one")
        status(erin.get(CANNED_PAGE + "%d/" % mine), 404, "another agent's own")
        status(erin.submit(CANNED_PAGE + "%d/" % mine, {"title": "X", "body": "Y"}), 404,
               "another agent edits carol's own")
        r = dave.submit(CANNED_PAGE + "%d/" % shared, {"title": "Team hello", "body": "Hello!",
                                                       "shared": "true"})
        redirected(r, CANNED_PAGE, {"done": ["saved"]})
        r = srv.client("dave").get(CANNED_API + "%d/" % shared)
        eq((r.json["title"], r.json["shared"]), ("Team hello", True), "admin's edit")

    with T.case("delete: own by its agent; shared by admins; a customer has no page"):
        status(carol.submit(CANNED_PAGE + "%d/delete/" % shared, {}), 403, "agent deletes shared")
        status(erin.submit(CANNED_PAGE + "%d/delete/" % mine, {}), 404, "another's own")
        r = carol.submit(CANNED_PAGE + "%d/delete/" % mine, {})
        redirected(r, CANNED_PAGE, {"done": ["deleted"]})
        check("Carol farewell" not in canned_titles(carol), "not deleted")
        status(carol.submit(CANNED_PAGE + "%d/delete/" % mine, {}), 404, "deleted twice")
        r = dave.submit(CANNED_PAGE + "%d/delete/" % shared, {})
        redirected(r, CANNED_PAGE, {"done": ["deleted"]})
        alice = browser("alice")
        status(alice.get(CANNED_PAGE), 403, "a customer")
        status(alice.submit(CANNED_PAGE, {"title": "a", "body": "b"}), 403, "a customer posts")
        status(carol.get(CANNED_PAGE + "?done=maybe"), 400, "an unknown notice")
        check('id="nav-canned"' in carol.get("/support/").text(), "no header link for staff")
        check('id="nav-canned"' not in alice.get("/support/").text(), "header link for a customer")


def test_on_behalf():
    with T.case("API: staff open a ticket for a customer by username, e-mail or id"):
        before = srv.client("june").get("/api/support/users/%d/" % uid("june")).json
        seq = events()[-1]["seq"]
        r = srv.client("carol").post(TICKETS, {"subject": "Phoned in", "initial_message": "She called.",
                                               "user": "june"})
        status(r, 201)
        t = r.json
        eq((t["user"]["username"], t["status"], t["channel"], t["assignee"]),
           ("june", "open", "api", None), "june's ticket")
        m = t["messages"][0]
        eq((m["is_from_user"], m["sender"]["username"]), (True, "carol"),
           "the customer's request, carol its sender")
        ev = [e for e in events() if e["seq"] > seq and e["type"] == "ticket.created"]
        eq(len(ev), 1, "one event")
        eq(ev[0]["actor"], uid("carol"), "the event's actor is carol")
        eq(ev[0].get("user"), uid("june"), "the event's user is june")
        r = srv.client("june").get(TICKETS)
        check(t["uuid"] in [x["uuid"] for x in r.json["results"]], "june does not see it")
        after = srv.client("june").get("/api/support/users/%d/" % uid("june")).json
        eq(after["ticket_count"], before["ticket_count"] + 1, "june's counter")
        for who in ("june@example.com", uid("june")):
            r = srv.client("dave").post(TICKETS, {"subject": "For june", "initial_message": "x",
                                                  "user": who})
            status(r, 201, "user=%r" % who)
            eq(r.json["user"]["username"], "june", "by %r" % who)

    with T.case("API: bad users refused by field, nothing made"):
        count = srv.client("june").get(TICKETS).json["count"]
        for bad in ("nobody-here", "carol", "gus", 0, -1, 2 ** 40, 999999, "", True, [1], None):
            r = srv.client("carol").post(TICKETS, {"subject": "Bad", "initial_message": "x",
                                                   "user": bad})
            error(r, 400, "invalid", fields=["user"])
        r = srv.client("alice").post(TICKETS, {"subject": "Mine", "initial_message": "x",
                                               "user": "june"})
        status(r, 403, "a customer sending user")
        r = srv.client("alice").post(TICKETS, {"subject": "Mine", "initial_message": "x",
                                               "user": "alice"})
        status(r, 403, "a customer naming themself")
        eq(srv.client("june").get(TICKETS).json["count"], count, "nothing made")

    with T.case("the limit is the customer's"):
        for i in range(10 - srv.client("kim").get(TICKETS).json["count"]):
            open_ticket("kim", "Kim %d" % i)
        r = srv.client("carol").post(TICKETS, {"subject": "One more", "initial_message": "x",
                                               "user": "kim"})
        error(r, 403, "ticket_limit_reached")

    with T.case("the form: staff choose the customer; errors by field"):
        carol = browser("carol")
        text = carol.get(NEW).text()
        check('<input id="user" name="user"' in text and '<label for="user">' in text,
              "no customer field")
        check('id="user"' not in browser("alice").get(NEW).text(), "a customer sees it")
        r = carol.submit(NEW, {"user": "june", "subject": "By the form", "initial_message": "Hi"})
        status(r, 303)
        uuid = r.header("Location").rstrip("/").rsplit("/", 1)[1]
        t = ticket(uuid)
        eq((t["user"]["username"], t["channel"]), ("june", "web"), "june's, by the web")
        for bad, why in (("", "Choose the customer"), ("ghost", "No such customer"),
                         ("dave", "active customer")):
            r = carol.submit(NEW, {"user": bad, "subject": "S", "initial_message": "M"})
            status(r, 400, "user=%r" % bad)
            check('id="user-error"' in r.text() and why in r.text(), "error for %r" % bad)
            check('value="S"' in r.text(), "what was typed is kept")
        r = browser("alice").submit(NEW, {"user": "june", "subject": "S", "initial_message": "M"})
        status(r, 403, "a customer posting user")


def main():
    global srv
    srv = standard_server(extra_users=(("erin", "agent"), ("gus", "agent"), ("hank", "user"),
                                       ("ivy", "user"), ("june", "user"), ("kim", "user")))
    srv.ctl("user", "disable", "gus")
    test_controls()
    test_panel()
    test_picker()
    test_manage()
    test_on_behalf()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
