#!/usr/bin/env python3
"""The staff's queue, behind the real web server: its sidebar of views
with their counts (from the counters: they must equal what the list
finds, also after changes), every filter control of the page without
JavaScript (statuses as checkboxes, priority, assignee, customer by
username or e-mail, created from/to, the search box with #123, sorting),
paging links that keep the filters, and the agents' saved views, by the
API (GET/POST /api/support/views/, DELETE /api/support/views/{id}/, with
every bad input) and by the page's forms.

Run from the repo root of a built tree:  python3 tests/http/test_queue.py
"""

import datetime
import html
import os
import re
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, status, error,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page, LOGIN  # noqa: E402

VIEWS = "/api/support/views/"
HOME = "/support/"
PAGE_SAVE = "/support/views/"

srv = None


def user_id(name):
    r = srv.client(name).get("/api/support/session/")
    status(r, 200, "session of %s" % name)
    return r.json["user"]["id"]


def browser(name):
    b = Page(srv.port)
    b.get(LOGIN)
    status(b.submit(LOGIN, {"username": name, "password": srv.users[name].password}), 303,
           "log in as %s" % name)
    return b


def open_ticket(who, subject, priority="normal"):
    r = srv.client(who).post(TICKETS, {"subject": subject, "initial_message": "about " + subject,
                                       "priority": priority})
    status(r, 201, "open %s" % subject)
    return r.json


def patch(uuid, body, who="dave"):
    status(srv.client(who).patch(TICKETS + uuid + "/", body), 200, "patch %s" % body)


def api_count(query, who="carol"):
    r = srv.client(who).get(TICKETS + "?" + query)
    status(r, 200, "list ?%s" % query)
    return r.json["count"]


def subjects(text):
    """The subjects of the queue's rows, in order."""
    return [html.unescape(s) for s in
            re.findall(r'<tr data-uuid="[0-9a-f-]{36}">.*?<a class="subject" href="[^"]+">([^<]*)</a>',
                       text, re.S)]


VIEW_RE = re.compile(r'<li(?: data-view="(\d+)")?><a href="([^"]+)"( aria-current="page")?>'
                     r'<span class="view-name">([^<]*)</span>(?: <span class="view-count">(\d+)</span>)?</a>')


def views(text):
    """The sidebar: [(name, url, count or None, current, saved id or None)]."""
    return [(html.unescape(m.group(4)), html.unescape(m.group(2)),
             int(m.group(5)) if m.group(5) is not None else None, bool(m.group(3)),
             int(m.group(1)) if m.group(1) else None)
            for m in VIEW_RE.finditer(text)]


BUILTIN = [
    ("All tickets", ""),
    ("Unassigned", "status=open,waiting_for_admin&assignee=none"),
    ("Mine", "status=open,waiting_for_admin,waiting_for_user&assignee=me"),
    ("All open", "status=open,waiting_for_admin"),
    ("Waiting for customer", "status=waiting_for_user"),
    ("Resolved", "status=resolved"),
    ("Closed", "status=closed"),
]


def check_counts(b, who):
    """Every view's count on the page equals what the list API finds."""
    r = b.get(HOME)
    status(r, 200)
    shown = {v[0]: v for v in views(r.text())}
    for name, query in BUILTIN:
        check(name in shown, "view %s in the sidebar" % name)
        eq(shown[name][1], HOME + ("?" + query if query else ""), "the link of %s" % name)
        eq(shown[name][2], api_count(query, who), "the count of %s" % name)
    return shown


def setup():
    """Tickets of every status, priority and assignee; returns them by subject."""
    carol, erin = user_id("carol"), user_id("erin")
    t = {}
    for subject, who, pri in (("Printer jam", "alice", "urgent"), ("VPN slow", "alice", "low"),
                              ("Invoice copy", "bob", "high"), ("Password reset", "bob", "normal"),
                              ("Laptop fan", "alice", "normal"), ("Old question", "bob", "normal"),
                              ("Closed matter", "alice", "high")):
        t[subject] = open_ticket(who, subject, pri)
    patch(t["Printer jam"]["uuid"], {"assignee": carol})
    patch(t["VPN slow"]["uuid"], {"assignee": erin, "status": "waiting_for_user"})
    patch(t["Invoice copy"]["uuid"], {"assignee": carol, "status": "waiting_for_user"})
    patch(t["Old question"]["uuid"], {"status": "resolved"})
    patch(t["Closed matter"]["uuid"], {"status": "closed"})
    # A customer's reply: waiting for staff.
    status(srv.client("bob").post(TICKETS + t["Password reset"]["uuid"] + "/messages/",
                                  {"content": "any news?"}), 201)
    return t


def test_sidebar(t):
    carol = browser("carol")
    with T.case("queue sidebar: every view, its link and its count equal to what the list finds"):
        shown = check_counts(carol, "carol")
        eq(shown["Mine"][2], 2, "carol's: Printer jam (open), Invoice copy (waiting for the customer)")
        eq(shown["Unassigned"][2], 2, "Password reset and Laptop fan")
        check(shown["All tickets"][3], "the page without filters is All tickets, marked current")
        eq([v[0] for v in views(carol.get(HOME).text()) if v[3]], ["All tickets"], "one current view")
    with T.case("queue sidebar: the view shown is marked aria-current, by its filters in any order or spelling"):
        r = carol.get(HOME + "?assignee=none&status=waiting_for_admin&status=open")
        status(r, 200)
        eq([v[0] for v in views(r.text()) if v[3]], ["Unassigned"], "current view")
        check("<h1>Unassigned</h1>" in r.text(), "the heading names the view")
        eq(sorted(subjects(r.text())), ["Laptop fan", "Password reset"], "the unassigned tickets")
        r = carol.get(HOME + "?status=waiting_for_user,open,waiting_for_admin&assignee=me&ordering=-updated_at")
        eq([v[0] for v in views(r.text()) if v[3]], ["Mine"], "Mine, the default ordering written out")
        r = carol.get(HOME + "?priority=low")
        eq([v[0] for v in views(r.text()) if v[3]], [], "no view for a filter of its own")
        check("<h1>Tickets</h1>" in r.text(), "a filtered queue without a view")
    with T.case("queue sidebar: counts follow changes (status, assignee, a new ticket, a bulk change)"):
        patch(t["Laptop fan"]["uuid"], {"assignee": user_id("carol")})
        patch(t["Printer jam"]["uuid"], {"status": "resolved"})
        open_ticket("alice", "Brand new")
        r = srv.client("carol").post(TICKETS + "bulk/", {"uuids": [t["Password reset"]["uuid"],
                                                                     t["Old question"]["uuid"]],
                                                           "status": "closed"})
        status(r, 200)
        shown = check_counts(carol, "carol")
        eq(shown["Mine"][2], 2, "Laptop fan came, Printer jam went")
        eq(shown["Closed"][2], 3, "closed now")
        shown = check_counts(browser("erin"), "erin")
        eq(shown["Mine"][2], 1, "erin's own: VPN slow")
    with T.case("a customer's list keeps its columns and has no views, filters or table"):
        r = browser("alice").get(HOME)
        status(r, 200)
        text = r.text()
        check('<ul class="tickets" id="tickets">' in text and "<table" not in text, "a list, not the table")
        check('id="queue-views"' not in text and 'id="filter"' not in text, "no sidebar, no filters")
        check("Printer jam" in text and "Invoice copy" not in text, "only alice's")
        check(re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', text),
              "last activity")
        eq(api_count("assignee=me", "alice"), 0, "assignee=me of a customer: none")


def test_filters(t):
    carol = browser("carol")
    erin_id = user_id("erin")
    with T.case("filter: statuses as checkboxes (repeated), checked again on the page"):
        r = carol.get(HOME + "?status=waiting_for_user&status=closed")
        status(r, 200)
        eq(sorted(subjects(r.text())), sorted(["VPN slow", "Invoice copy", "Closed matter",
                                               "Password reset", "Old question"]), "rows")
        for st in ("waiting_for_user", "closed"):
            check('value="%s" id="status-%s" checked>' % (st, st) in r.text(), "%s checked" % st)
        check('value="open" id="status-open">' in r.text(), "open not checked")
        status(carol.get(HOME + "?status=open&status=bogus"), 400)
    with T.case("filter: priority, selected in its control"):
        r = carol.get(HOME + "?priority=urgent")
        eq(subjects(r.text()), ["Printer jam"], "urgent only")
        check('<option value="urgent" selected>Urgent</option>' in r.text(), "selected")
        status(carol.get(HOME + "?priority=extreme"), 400)
    with T.case("filter: assignee anyone, nobody, me, an agent by name"):
        r = carol.get(HOME + "?assignee=none")
        check(sorted(subjects(r.text())) == sorted(["Password reset", "Old question", "Closed matter",
                                                    "Brand new"]), "nobody's: %r" % subjects(r.text()))
        check('<option value="none" selected>Nobody</option>' in r.text(), "Nobody selected")
        r = carol.get(HOME + "?assignee=me")
        eq(sorted(subjects(r.text())), ["Invoice copy", "Laptop fan", "Printer jam"], "carol's")
        r = carol.get(HOME + "?assignee=%d" % erin_id)
        eq(subjects(r.text()), ["VPN slow"], "erin's")
        check('<option value="%d" selected>erin</option>' % erin_id in r.text(), "erin listed by name")
        check('<option value="" >' not in r.text(), "well-formed options")
        status(carol.get(HOME + "?assignee=somebody"), 400)
    with T.case("filter: customer by username or e-mail, resolved to user=; an unknown one is a field error"):
        r = carol.get(HOME + "?customer=bob")
        eq(sorted(subjects(r.text())), ["Invoice copy", "Old question", "Password reset"], "bob's")
        check('id="customer-filter" name="customer" type="text" maxlength="254" value="bob"' in r.text(),
              "the customer kept in its box")
        m = re.search(r'name="query" value="([^"]*)"', r.text())
        eq(html.unescape(m.group(1)), "user=%d" % user_id("bob"), "saved as user=ID")
        r = carol.get(HOME + "?customer=" + urllib.parse.quote(srv.users["alice"].email.upper()))
        check("Printer jam" in subjects(r.text()) and "Invoice copy" not in subjects(r.text()),
              "by e-mail, any case")
        r = carol.get(HOME + "?customer=nobody-here")
        status(r, 400)
        check('aria-invalid="true" aria-describedby="customer-error"' in r.text() and
              'id="customer-error"' in r.text(), "the error next to the field")
        check('value="nobody-here"' in r.text() and subjects(r.text()) == [], "typed text kept, no rows")
        check('id="queue-views"' in r.text(), "still the queue, with its views")
        r = carol.get(HOME + "?user=%d" % user_id("alice"))
        check('value="alice"' in r.text(), "a user= link shows the customer's username")
        status(carol.get(HOME + "?user=%d&customer=bob" % user_id("alice")), 400)
    with T.case("filter: created from / to, by date (the to day included)"):
        today = datetime.datetime.now(datetime.timezone.utc).date()
        r = carol.get(HOME + "?created_from=%s&created_to=%s" % (today, today))
        eq(len(subjects(r.text())), 8, "everything made today")
        check('name="created_from" type="date" value="%s"' % today in r.text(), "from kept")
        r = carol.get(HOME + "?created_from=%s" % (today + datetime.timedelta(days=1)))
        eq(subjects(r.text()), [], "nothing from tomorrow")
        check('id="no-tickets"' in r.text(), "says so")
        r = carol.get(HOME + "?created_to=%s" % (today - datetime.timedelta(days=1)))
        eq(subjects(r.text()), [], "nothing until yesterday")
        status(carol.get(HOME + "?created_to=yesterday"), 400)
        status(carol.get(HOME + "?created_to=%s&created_before=%s" % (today, today)), 400)
    with T.case("filter: the search box, a subject or #number"):
        r = carol.get(HOME + "?q=INVOICE")
        eq(subjects(r.text()), ["Invoice copy"], "subject, any case")
        n = t["Laptop fan"]["number"]
        r = carol.get(HOME + "?q=" + urllib.parse.quote("#%d" % n))
        eq(subjects(r.text()), ["Laptop fan"], "#number")
        check('type="search" maxlength="200" value="#%d"' % n in r.text(), "kept in the box")
    with T.case("sort: last activity, creation, priority"):
        r = carol.get(HOME + "?ordering=-priority&status=open,waiting_for_admin,waiting_for_user")
        got = subjects(r.text())
        eq(got[0], "Invoice copy", "high before normal and low")
        eq(got[-1], "VPN slow", "low last")
        check('<option value="-priority" selected>' in r.text(), "selected")
        r = carol.get(HOME + "?ordering=created_at")
        eq(subjects(r.text())[0], "Printer jam", "the oldest first")
        r = carol.get(HOME + "?ordering=-created_at")
        eq(subjects(r.text())[0], "Brand new", "the newest first")
        status(carol.get(HOME + "?ordering=size"), 400)
    with T.case("the table: number, subject link, customer, priority, status, assignee, relative time"):
        r = carol.get(HOME + "?q=Invoice")
        row = re.search(r'<tr data-uuid="%s">(.*?)</tr>' % t["Invoice copy"]["uuid"], r.text(), re.S)
        check(row, "a row with data-uuid")
        row = row.group(1)
        check('<td class="number">#%d</td>' % t["Invoice copy"]["number"] in row, "number")
        check('<a class="subject" href="/support/tickets/%s/">Invoice copy</a>' % t["Invoice copy"]["uuid"]
              in row, "subject link")
        check('<td class="customer">bob</td>' in row, "customer")
        check('<span class="priority-high">high</span>' in row, "priority")
        check('class="badge status-waiting_for_user">Waiting for the customer<' in row, "status")
        check('<td class="assignee">carol</td>' in row, "assignee")
        check(re.search(r'<time class="ago" datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">'
                        r'(just now|\d+ min ago)</time>', row), "relative time: %s" % row)
        check('class="bulk-pick" name="uuids" value="%s"' % t["Invoice copy"]["uuid"] in row, "bulk box")
        r = carol.get(HOME + "?q=Password")
        check('<span class="unanswered">2 awaiting reply</span>' in r.text(), "unanswered badge")


def test_paging():
    carol = browser("carol")
    for i in range(22):
        open_ticket("bob", "Paged %02d" % i, "low")
    with T.case("paging links keep the filters and drop updated="):
        r = carol.get(HOME + "?status=open&status=waiting_for_admin&priority=low&updated=3")
        status(r, 200)
        check("3 tickets changed." in r.text(), "the notice")
        m = re.search(r'id="page-next" href="([^"]+)"', r.text())
        check(m, "an Older link")
        nxt = html.unescape(m.group(1))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query)
        eq(q, {"status": ["open,waiting_for_admin"], "priority": ["low"], "page": ["2"]}, "the link")
        r = carol.get(nxt)
        status(r, 200)
        check("tickets changed" not in r.text(), "no notice on page two")
        eq(len(subjects(r.text())), 2, "the rest")
        m = re.search(r'id="page-prev" href="([^"]+)"', r.text())
        eq(urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(m.group(1))).query)["page"], ["1"],
           "a Newer link back")


def test_views_api():
    carol, erin, alice = srv.client("carol"), srv.client("erin"), srv.client("alice")
    with T.case("views API: save (canonical query, Location), list, own only"):
        r = carol.post(VIEWS, {"name": "Urgent needing us", "query": "?priority=urgent&status=waiting_for_admin,open"})
        status(r, 201)
        v = r.json
        eq(v["name"], "Urgent needing us", "name")
        eq(v["query"], "status=open,waiting_for_admin&priority=urgent", "canonical query")
        check(isinstance(v["id"], int) and v["created_at"].endswith("Z"), "id, created_at")
        eq(r.header("Location"), VIEWS + "%d/" % v["id"], "Location")
        r = carol.post(VIEWS, {"name": "Everything", "query": ""})
        status(r, 201)
        eq(r.json["query"], "", "an empty query: every ticket")
        r = carol.get(VIEWS)
        status(r, 200)
        eq([x["name"] for x in r.json["results"]], ["Urgent needing us", "Everything"], "in the order made")
        eq(r.json["count"], 2, "count")
        eq(erin.get(VIEWS).json["results"], [], "erin sees none of carol's")
    with T.case("views API: bad input is 400 naming the field, nothing saved"):
        error(carol.post(VIEWS, {"name": "x" * 61, "query": ""}), 400, "invalid", ["name"])
        error(carol.post(VIEWS, {"name": "", "query": ""}), 400, "invalid", ["name"])
        error(carol.post(VIEWS, {"name": "   ", "query": ""}), 400, "invalid", ["name"])
        error(carol.post(VIEWS, {"name": 5, "query": ""}), 400, "invalid", ["name"])
        error(carol.post(VIEWS, {"name": "n", "query": 5}), 400, "invalid", ["query"])
        error(carol.post(VIEWS, {"name": "n", "query": ["status=open"]}), 400, "invalid", ["query"])
        error(carol.post(VIEWS, {"name": "n"}), 400, "invalid", ["query"])
        error(carol.post(VIEWS, {"query": ""}), 400, "invalid", ["name"])
        error(carol.post(VIEWS, {"name": "n", "query": "", "shared": True}), 400, "unknown_field", ["shared"])
        error(carol.post(VIEWS, {"name": "tab\there", "query": ""}), 400, "invalid", ["name"])
        for q, what in (("status=bogus", "status"), ("colour=red", "colour"), ("page=2", "page"),
                        ("customer=alice", "customer"), ("updated=3", "updated"),
                        ("priority=urgent&priority=low", "priority"), ("q=%zz", "query"),
                        ("assignee=someone", "assignee"), ("x" * 1001, None)):
            r = carol.post(VIEWS, {"name": "bad", "query": q})
            error(r, 400, "invalid", ["query"])
            if what:
                check(what in r.json["error"]["fields"]["query"], "%r names %s: %s" % (
                    q, what, r.json["error"]["fields"]["query"]))
        r = carol.post(VIEWS, {"name": "n", "query": "x"})
        error(r, 400, "invalid", ["query"])
        error(carol.post(VIEWS, body="not json", content_type="application/json"), 400, "invalid_json")
        eq(carol.get(VIEWS).json["count"], 2, "nothing saved")
    with T.case("views API: a duplicate name (any case) is 409; another agent may use it"):
        error(carol.post(VIEWS, {"name": "urgent NEEDING us", "query": "status=closed"}), 409, "already_exists",
              ["name"])
        status(erin.post(VIEWS, {"name": "Urgent needing us", "query": "status=closed"}), 201)
    with T.case("views API: delete own; another agent's, an unknown id, a deleted one: 404"):
        mine = carol.get(VIEWS).json["results"]
        erins = erin.get(VIEWS).json["results"][0]["id"]
        error(carol.delete(VIEWS + "%d/" % erins), 404, "not_found")
        error(erin.delete(VIEWS + "%d/" % mine[0]["id"]), 404, "not_found")
        error(carol.delete(VIEWS + "999999/"), 404, "not_found")
        error(carol.delete(VIEWS + "abc/"), 404, "not_found")
        eq(len(carol.get(VIEWS).json["results"]), 2, "carol's still there")
        status(carol.delete(VIEWS + "%d/" % mine[1]["id"]), 204)
        error(carol.delete(VIEWS + "%d/" % mine[1]["id"]), 404, "not_found")
        eq([x["name"] for x in carol.get(VIEWS).json["results"]], ["Urgent needing us"], "one left")
        error(carol.patch(VIEWS + "%d/" % mine[0]["id"], {"name": "x"}), 405, "method_not_allowed")
    with T.case("views API: a customer 403, nobody 401"):
        error(alice.get(VIEWS), 403, "forbidden")
        error(alice.post(VIEWS, {"name": "mine", "query": ""}), 403, "forbidden")
        error(alice.delete(VIEWS + "%d/" % erins), 403, "forbidden")
        error(srv.client().get(VIEWS), 401, "not_authenticated")
        eq(len(erin.get(VIEWS).json["results"]), 1, "erin's view untouched")
    with T.case("views API: at most 50 views an agent (409), one more after a delete"):
        made = erin.get(VIEWS).json["count"]
        for i in range(made, 50):
            status(erin.post(VIEWS, {"name": "View %02d" % i, "query": "status=closed"}), 201)
        r = erin.post(VIEWS, {"name": "One too many", "query": ""})
        error(r, 409, "conflict", ["name"])
        eq(erin.get(VIEWS).json["count"], 50, "fifty")
        status(erin.delete(VIEWS + "%d/" % erin.get(VIEWS).json["results"][-1]["id"]), 204)
        status(erin.post(VIEWS, {"name": "One too many", "query": ""}), 201)
        r = browser("erin").get(HOME)
        check('id="save-view"' not in r.text(), "no Save form at the limit")


def test_views_page():
    carol = browser("carol")
    with T.case("page: save this view (no JS): 303 to it, in the sidebar with its count, marked current"):
        r = carol.get(HOME + "?status=waiting_for_user&assignee=me")
        m = re.search(r'name="query" value="([^"]*)"', r.text())
        eq(html.unescape(m.group(1)), "status=waiting_for_user&assignee=me", "the form carries the filters")
        r = carol.submit(PAGE_SAVE, {"name": "Mine, waiting", "query": html.unescape(m.group(1))})
        status(r, 303)
        eq(r.header("Location"), HOME + "?status=waiting_for_user&assignee=me", "to the view")
        r = carol.get(r.header("Location"))
        v = [x for x in views(r.text()) if x[0] == "Mine, waiting"]
        check(v, "in the sidebar")
        eq(v[0][2], api_count("status=waiting_for_user&assignee=me"), "its count, from the counters")
        check(v[0][3], "marked current")
        check("<h1>Mine, waiting</h1>" in r.text(), "the heading")
    with T.case("page: a saved view the counters cannot count shows no count; its link shows its tickets"):
        r = carol.submit(PAGE_SAVE, {"name": "Urgent ones", "query": "priority=urgent"})
        status(r, 303)
        r = carol.get(HOME)
        v = [x for x in views(r.text()) if x[0] == "Urgent ones"][0]
        eq(v[2], None, "no count for a priority filter")
        r = carol.get(v[1])
        eq(subjects(r.text()), ["Printer jam"], "the view's tickets")
    with T.case("page: the count of a saved view follows changes"):
        r = carol.get(HOME)
        before = [x for x in views(r.text()) if x[0] == "Mine, waiting"][0][2]
        t = open_ticket("alice", "Will wait")
        patch(t["uuid"], {"assignee": user_id("carol"), "status": "waiting_for_user"})
        r = carol.get(HOME)
        eq([x for x in views(r.text()) if x[0] == "Mine, waiting"][0][2], before + 1, "one more")
    with T.case("page: bad save forms are error pages naming the field; nothing saved"):
        n = srv.client("carol").get(VIEWS).json["count"]
        r = carol.submit(PAGE_SAVE, {"name": "Mine, waiting", "query": ""})
        status(r, 409)
        check("name" in r.text() and "already" in r.text(), "names the duplicate")
        r = carol.submit(PAGE_SAVE, {"name": "", "query": ""})
        status(r, 400)
        r = carol.submit(PAGE_SAVE, {"name": "Odd", "query": "status=nope"})
        status(r, 400)
        check("status" in r.text(), "names the problem")
        status(carol.submit(PAGE_SAVE, {"name": "No token", "query": ""}, csrf=None), 403)
        eq(srv.client("carol").get(VIEWS).json["count"], n, "nothing saved")
    with T.case("page: delete a saved view by its button; another's is a 404 page; a customer 403"):
        r = carol.get(HOME)
        v = [x for x in views(r.text()) if x[0] == "Urgent ones"][0]
        check('aria-label="Delete the view Urgent ones"' in r.text(), "a labelled delete button")
        erin = browser("erin")
        status(erin.submit("/support/views/%d/delete/" % v[4], {}), 404)
        r = carol.submit("/support/views/%d/delete/" % v[4], {})
        status(r, 303)
        eq(r.header("Location"), HOME, "back to the queue")
        check("Urgent ones" not in carol.get(HOME).text(), "gone")
        alice = browser("alice")
        status(alice.submit(PAGE_SAVE, {"name": "x", "query": ""}), 403)


def main():
    global srv
    srv = standard_server(extra_users=(("erin", "agent"),),
                          conf={("support", "max_tickets_per_user"): "0"})
    t = setup()
    test_sidebar(t)
    test_filters(t)
    test_paging()
    test_views_api()
    test_views_page()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
