#!/usr/bin/env python3
"""auto_assign = round_robin behind the real web server: three available
agents get a customer's tickets in turn (two each of six), in the order of
their ids; an agent who marks themself away (PATCH /api/support/users/{id}/
{"away": true}) is skipped until back, and so is one made away by
`supportctl user set-away`; a ticket staff open is nobody's.  Who may mark
whom away (a customer: 403; an agent, another: 403; an admin: anyone), bad
bodies (400), an unknown user (404), and "away" shown to staff only.  The
password page's availability switch (POST /support/away/) does the same
without JavaScript; a customer gets neither the switch nor the route.

Run from the repo root of a built tree:  python3 tests/http/test_assign.py
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, USERS, check, eq, error, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page, LOGIN  # noqa: E402

PASSWORD_PAGE = "/support/password/"
AWAY_PAGE = "/support/away/"

srv = None
ids = {}


def user_id(name):
    """The id of the account name, as staff find it."""
    if name not in ids:
        r = srv.client("dave").get(USERS + "?q=" + name)
        status(r, 200, "find " + name)
        found = [u["id"] for u in r.json["results"] if u["username"] == name]
        eq(len(found), 1, "accounts named " + name)
        ids[name] = found[0]
    return ids[name]


def open_ticket(who="alice"):
    """Open a ticket as who; its assignee's username as staff see it (None: nobody)."""
    r = srv.client(who).post(TICKETS, {"subject": "Help", "initial_message": "It broke."})
    status(r, 201, "open a ticket as " + who)
    r = srv.client("dave").get(TICKETS + r.json["uuid"] + "/")
    status(r, 200, "the ticket as staff see it")
    a = r.json["assignee"]
    return None if a is None else a["username"]


def away(caller, name, value):
    return srv.client(caller).patch(USERS + "%d/" % user_id(name), {"away": value})


def last_created_event():
    p = srv.ctl("events")
    eq(p.returncode, 0, "supportctl events")
    evs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return [e for e in evs if e["type"] == "ticket.created"][-1]


def test_round_robin():
    with T.case("supportctl user set-away: the admins away, three agents left"):
        for name in ("admin", "dave"):
            p = srv.ctl("user", "set-away", name, "yes")
            eq(p.returncode, 0, "set-away %s yes: %s" % (name, p.stderr.decode(errors="replace")))
        eq(srv.ctl("user", "set-away", "carol", "maybe").returncode, 2, "set-away carol maybe")
        eq(srv.ctl("user", "set-away", "nobody", "yes").returncode, 1, "set-away of no such user")

    agents = sorted(["carol", "erin", "fred"], key=user_id)
    with T.case("six customer tickets go to the three agents in turn, two each"):
        got = [open_ticket("alice" if i % 2 == 0 else "bob") for i in range(6)]
        eq(got, agents + agents, "assignees in order")
        eq(last_created_event()["data"]["assignee"], user_id(agents[2]),
           "ticket.created carries the assignee")

    with T.case("an agent marks themself away through the API and is skipped"):
        r = away(agents[1], agents[1], True)
        status(r, 200, "PATCH away true")
        eq(r.json.get("away"), True, "the User says away")
        got = [open_ticket() for _ in range(4)]
        eq(got, [agents[0], agents[2], agents[0], agents[2]], "assignees with %s away" % agents[1])
        r = away(agents[1], agents[1], False)
        status(r, 200, "PATCH away false")
        eq(r.json.get("away"), False, "the User says back")
        eq(open_ticket(), agents[0], "after %s: %s" % (agents[2], agents[0]))
        eq(open_ticket(), agents[1], "back in turn")

    with T.case("a ticket staff open is nobody's, and the turn stays"):
        eq(open_ticket("carol"), None, "carol's own ticket")
        eq(last_created_event()["data"]["assignee"], None, "ticket.created: assignee null")
        eq(open_ticket(), agents[2], "the turn goes on")

    with T.case("nobody available: the ticket stays unassigned"):
        for a in agents:
            status(away("dave", a, True), 200, "dave marks %s away" % a)
        eq(open_ticket(), None, "no agent")
        for a in agents:
            status(away("dave", a, False), 200, "dave marks %s back" % a)
        eq(open_ticket(), agents[0], "the turn wraps to the first")


def test_rules():
    with T.case("PATCH away: a customer 403, an agent on another 403, an admin on anyone 200"):
        error(away("alice", "alice", True), 403, "forbidden")
        error(away("alice", "carol", True), 403, "forbidden")
        error(away("carol", "erin", True), 403, "forbidden")
        r = srv.client("dave").get(USERS + "%d/" % user_id("erin"))
        eq(r.json.get("away"), False, "erin untouched")
        status(away("dave", "erin", True), 200, "dave marks erin away")
        status(away("erin", "erin", False), 200, "erin back")

    with T.case("PATCH away: bad bodies are 400 and change nothing"):
        path = USERS + "%d/" % user_id("carol")
        c = srv.client("carol")
        for body in ({"away": "yes"}, {"away": 1}, {"away": None}, {}, {"away": True, "role": "admin"}):
            r = c.patch(path, body)
            status(r, 400, "PATCH %s" % json.dumps(body))
        r = c.request("PATCH", path, body=b"{\"away\": tru", content_type="application/json")
        status(r, 400, "broken JSON")
        r = c.get(path)
        eq(r.json.get("away"), False, "carol is not away")
        eq(r.json.get("role"), "agent", "nor an admin")

    with T.case("PATCH away on no such user: 404 for an admin"):
        error(srv.client("dave").patch(USERS + "999999/", {"away": True}), 404, "not_found")

    with T.case("away is shown to staff, not to a customer looking at themself"):
        r = srv.client("alice").get(USERS + "%d/" % user_id("alice"))
        status(r, 200, "alice's own User")
        check("away" not in r.json, "a customer sees no away: %s" % r.json)
        r = srv.client("dave").get(USERS + "?q=carol")
        eq(r.json["results"][0].get("away"), False, "the staff's list shows away")


def page_login(name):
    b = Page(srv.port)
    b.get(LOGIN)
    r = b.submit(LOGIN, {"username": name, "password": srv.users[name].password})
    status(r, 303, "log in as %s" % name)
    return b


def switch(b):
    """The password page's availability: (state text, token, hidden away value)."""
    r = b.get(PASSWORD_PAGE)
    status(r, 200, "the password page")
    text = r.text()
    state = re.search(r'id="away-state">You are <strong>(\w+)</strong>', text)
    token = re.search(r'name="csrfmiddlewaretoken" value="([0-9a-f]{64})"', text)
    value = re.search(r'name="away" value="(true|false)"', text)
    return (state.group(1) if state else None, token.group(1) if token else None,
            value.group(1) if value else None)


def test_page():
    with T.case("the password page's switch marks an agent away and back, without JavaScript"):
        b = page_login("erin")
        state, token, value = switch(b)
        eq((state, value), ("available", "true"), "erin is available, the switch offers away")
        r = b.submit(AWAY_PAGE, {"csrfmiddlewaretoken": token, "away": value})
        status(r, 303, "POST the switch")
        check((r.header("Location") or "").endswith(PASSWORD_PAGE), "back to the password page")
        eq(srv.client("dave").get(USERS + "%d/" % user_id("erin")).json.get("away"), True,
           "the API says erin is away")
        state, token, value = switch(b)
        eq((state, value), ("away", "false"), "the page says away, the switch offers back")
        status(b.submit(AWAY_PAGE, {"csrfmiddlewaretoken": token, "away": value}), 303, "back")
        eq(srv.client("dave").get(USERS + "%d/" % user_id("erin")).json.get("away"), False,
           "the API says erin is back")

    with T.case("the switch: a bad value is 400, no CSRF token is 403, and nothing changes"):
        b = page_login("erin")
        _, token, _ = switch(b)
        r = b.submit(AWAY_PAGE, {"csrfmiddlewaretoken": token, "away": "perhaps"})
        status(r, 400, "away=perhaps")
        r = b.submit(AWAY_PAGE, {"away": "true"}, csrf=None)
        status(r, 403, "no token")
        eq(srv.client("dave").get(USERS + "%d/" % user_id("erin")).json.get("away"), False,
           "erin is still available")

    with T.case("a customer has no switch and may not post one"):
        b = page_login("alice")
        state, token, _ = switch(b)
        eq(state, None, "no availability on a customer's page")
        r = b.submit(AWAY_PAGE, {"csrfmiddlewaretoken": token, "away": "true"})
        status(r, 403, "a customer posting the switch")


def main():
    global srv
    srv = standard_server(extra_users=(("erin", "agent"), ("fred", "agent")),
                          conf={("support", "auto_assign"): "round_robin",
                                ("support", "max_tickets_per_user"): "0"})
    test_round_robin()
    test_rules()
    test_page()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
