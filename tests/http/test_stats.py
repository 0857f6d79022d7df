#!/usr/bin/env python3
"""The support statistics (GET /api/support/stats/, supportctl support_stats,
the dashboard /support/stats/) behind the real web server, against numbers
worked out here, independently, from a generated history at fixed times (the
test clock): the tickets and their messages as the API shows them, and the
status changes as `supportctl events` lists them.  The history straddles
UTC midnights; windows of one day, of several, an empty one in the future;
every bad window refused with its field named; a customer refused.

Run from the repo root of a built tree:  python3 tests/http/test_stats.py
"""

import datetime
import json
import math
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, SESSION, check, eq, status, error,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_session import Browser  # noqa: E402

STATS = "/api/support/stats/"
PAGE = "/support/stats/"
DAY = 86400
# docs/reports.md: the buckets' bounds in seconds (the last bucket has none).
BOUNDS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400,
          172800, 345600, 604800, 1209600, 2592000]

srv = None
TK = {}         # the history's tickets by name
D0 = 0          # the epoch second of the history's day D (00:00 UTC)


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def day_of(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")


def date(d):
    """The date of day D + d."""
    return day_of(D0 + d * DAY)


def go(second):
    """Set the server's clock to D + second."""
    srv.move_clock(D0 + second - (time.time() + srv.clock_s))


def quantile(times, pct):
    """The bound of the bucket of the ceil(pct n / 100)-th smallest time."""
    if not times:
        return None
    times = sorted(times)
    t = times[math.ceil(pct * len(times) / 100) - 1]
    for b in BOUNDS:
        if t < b:
            return b
    return BOUNDS[-1]


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def near(a, b, what):
    if a is None or b is None:
        eq(a, b, what)
    else:
        check(abs(a - b) <= 0.0015, "%s: %r, expected %r" % (what, a, b))


def history():
    """The tickets; returns the staff's ids."""
    c = {n: srv.client(n) for n in ("alice", "bob", "carol", "dave")}
    ids = {n: c[n].get(SESSION).json["user"]["id"] for n in c}

    def open_(who, pri):
        r = c[who].post(TICKETS, {"subject": "Help %s" % pri, "initial_message": "Please.",
                                  "priority": pri})
        status(r, 201)
        return r.json["uuid"]

    def say(who, t, text="Hello."):
        status(c[who].post(TICKETS + t + "/messages/", {"content": text}), 201)

    def patch(who, t, **kw):
        status(c[who].patch(TICKETS + t + "/", kw), 200)

    go(-40)                        # D-1, 23:59:20
    t1 = open_("alice", "normal")
    go(-30)
    patch("dave", t1, assignee=ids["carol"])
    go(30)                         # D, 00:00:30: the first response, 70 s
    say("carol", t1)
    go(600)
    patch("carol", t1, status="resolved")
    go(100)
    t2 = open_("bob", "urgent")
    go(200)
    t3 = open_("alice", "low")
    go(500)
    say("carol", t3)               # 300 s: the 300-900 bucket
    go(600 + 20)
    say("carol", t3, "And more.")
    status(c["carol"].post(TICKETS + t3 + "/messages/", {"content": "a note",
                                                           "is_internal": True}), 201)
    go(1200)
    patch("alice", t3, status="closed")      # closed, never resolved
    go(4100)
    say("dave", t2)                # 4000 s
    go(8100)
    patch("dave", t2, status="resolved")
    go(9000)
    say("bob", t2, "Not fixed.")   # re-opened: no longer resolved
    go(DAY + 10)                   # D+1
    open_("bob", "normal")
    go(DAY + 500)
    t5 = open_("alice", "high")
    go(DAY + 600)
    patch("carol", t5, status="resolved")    # resolved with no reply
    go(DAY + 700)
    return ids, {"t1": t1, "t2": t2, "t3": t3, "t5": t5}


def facts():
    """Every ticket with its messages, and the events, as the desk shows them."""
    dave = srv.client("dave")
    tickets, url = [], TICKETS + "?page_size=100"
    r = dave.get(url)
    status(r, 200)
    for t in r.json["results"]:
        d = dave.get(TICKETS + t["uuid"] + "/")
        status(d, 200)
        tickets.append(d.json)
    p = srv.ctl("events")
    check(p.returncode == 0, "supportctl events")
    events = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return tickets, events


def expected(tickets, events, staff, lo, hi):
    """The report of days D+lo..D+hi worked out from the tickets and events."""
    days = [date(d) for d in range(lo, hi + 1)]
    inwin = set(days)
    created = lambda t: parse_time(t["created_at"])  # noqa: E731
    cohort = [t for t in tickets if day_of(created(t)) in inwin]
    fr = [parse_time(t["first_response_at"]) - created(t) for t in cohort if t["first_response_at"]]
    res = [parse_time(t["resolved_at"]) - created(t) for t in cohort if t["resolved_at"]]
    e = {
        "total_tickets": len(cohort),
        "open_tickets": sum(1 for t in tickets if t["status"] == "open"),
        "resolved_tickets": len(res),
        "avg_response_time": mean(fr), "median_response_time": quantile(fr, 50),
        "p90_response_time": quantile(fr, 90),
        "avg_resolution_time": mean(res), "median_resolution_time": quantile(res, 50),
        "p90_resolution_time": quantile(res, 90),
        "tickets_by_status": [{"status": s, "count": sum(1 for t in tickets if t["status"] == s)}
                              for s in ("open", "waiting_for_admin", "waiting_for_user", "resolved", "closed")],
    }
    # Per day and agent: what happened on each day.
    daily = {d: {"created": 0, "first_responses": 0, "resolved": 0, "closed": 0} for d in days}
    agents = {}
    prio = {}       # by the ticket's priority (the history never changes one)

    def pri(t):
        return prio.setdefault(t["priority"], {"created": 0, "first_responses": 0, "resolved": 0,
                                               "closed": 0, "fr": [], "res": []})

    def agent(i):
        return agents.setdefault(i, {"replies": 0, "first_responses": 0, "resolutions": 0,
                                     "closed": 0, "fr": [], "res": [], "assigned_open": 0})
    by_uuid = {t["uuid"]: t for t in tickets}
    for t in tickets:
        d = day_of(created(t))
        if d in inwin:
            daily[d]["created"] += 1
            pri(t)["created"] += 1
        if t["assignee"] and t["status"] not in ("resolved", "closed"):
            agent(t["assignee"]["id"])["assigned_open"] += 1
        first = True
        for m in t["messages"]:
            if m["is_from_user"] or m["is_internal"]:
                continue
            md = day_of(parse_time(m["created_at"]))
            if md in inwin:
                agent(m["user"]["id"])["replies"] += 1
            if first:
                first = False
                eq(m["created_at"], t["first_response_at"], "the first staff reply is first_response_at")
                if md in inwin:
                    daily[md]["first_responses"] += 1
                    a = agent(m["user"]["id"])
                    a["first_responses"] += 1
                    a["fr"].append(parse_time(m["created_at"]) - created(t))
                    pri(t)["first_responses"] += 1
                    pri(t)["fr"].append(parse_time(m["created_at"]) - created(t))
    assignee = {}
    for ev in events:
        if ev["type"] == "ticket.created":
            assignee[ev["ticket"]] = ev["data"].get("assignee")
        ch = ev.get("changes", {})
        if "assignee" in ch:
            assignee[ev["ticket"]] = ch["assignee"][1]
        if "status" in ch and ch["status"][1] in ("resolved", "closed"):
            d = day_of(parse_time(ev["at"]))
            if d not in inwin:
                continue
            t = by_uuid[ev["ticket"]]
            who = assignee.get(ev["ticket"]) or (ev["actor"] if ev["actor"] != t["user"]["id"] else None)
            if ch["status"][1] == "resolved":
                daily[d]["resolved"] += 1
                pri(t)["resolved"] += 1
                pri(t)["res"].append(parse_time(ev["at"]) - created(t))
                if who:
                    agent(who)["resolutions"] += 1
                    agent(who)["res"].append(parse_time(ev["at"]) - created(t))
            else:
                daily[d]["closed"] += 1
                pri(t)["closed"] += 1
                if who:
                    agent(who)["closed"] += 1
    e["daily"] = [dict(date=d, **daily[d]) for d in days]
    e["per_agent"] = agents
    e["by_priority"] = prio
    return e


def compare(got, want, what):
    for k in ("total_tickets", "open_tickets", "resolved_tickets", "median_response_time",
              "p90_response_time", "median_resolution_time", "p90_resolution_time",
              "tickets_by_status"):
        eq(got[k], want[k], "%s: %s" % (what, k))
    near(got["avg_response_time"], want["avg_response_time"], what + ": avg_response_time")
    near(got["avg_resolution_time"], want["avg_resolution_time"], what + ": avg_resolution_time")
    eq([{k: d[k] for k in ("date", "created", "first_responses", "resolved", "closed")}
        for d in got["daily"]], want["daily"], what + ": daily")
    eq(sorted(p["priority"] for p in got["by_priority"]), ["high", "low", "normal", "urgent"],
       what + ": by_priority, every priority")
    for p in got["by_priority"]:
        w = want["by_priority"].get(p["priority"], {"created": 0, "first_responses": 0, "resolved": 0,
                                                   "closed": 0, "fr": [], "res": []})
        for k in ("created", "first_responses", "resolved", "closed"):
            eq(p[k], w[k], "%s: by_priority %s %s" % (what, p["priority"], k))
        near(p["avg_response_time"], mean(w["fr"]), "%s: by_priority %s avg_response_time" % (what, p["priority"]))
        near(p["avg_resolution_time"], mean(w["res"]),
             "%s: by_priority %s avg_resolution_time" % (what, p["priority"]))
    agents = {a["id"]: a for a in got["per_agent"]}
    for i, w in want["per_agent"].items():
        check(i in agents, "%s: agent %s in per_agent" % (what, i))
        a = agents[i]
        for k in ("replies", "first_responses", "resolutions", "closed", "assigned_open"):
            eq(a[k], w[k], "%s: agent %s %s" % (what, a["username"], k))
        near(a["avg_response_time"], mean(w["fr"]), "%s: agent %s avg_response_time" % (what, i))
        eq(a["median_response_time"], quantile(w["fr"], 50), "%s: agent %s median" % (what, i))
        near(a["avg_resolution_time"], mean(w["res"]), "%s: agent %s avg_resolution_time" % (what, i))
    for i, a in agents.items():
        if i not in want["per_agent"]:
            check(a["replies"] == a["first_responses"] == a["resolutions"] == a["assigned_open"] == 0,
                  "%s: agent %s has nothing to show" % (what, i))


def test_numbers():
    global D0, TK
    now = time.time()
    D0 = (int(now) // DAY + 20) * DAY     # a day 20 days ahead, nobody else's
    with T.case("a history at fixed times, across two midnights"):
        staff, TK = history()
    tickets, events = facts()
    dave = srv.client("dave")
    for lo, hi, what in ((0, 0, "day D"), (-1, 0, "D-1..D"), (0, 1, "D..D+1"), (-1, 1, "D-1..D+1"),
                         (1, 1, "day D+1"), (5, 7, "an empty window")):
        with T.case("?from=&to= %s: as worked out from the tickets and the log" % what):
            r = dave.get(STATS + "?from=%s&to=%s" % (date(lo), date(hi)))
            status(r, 200)
            compare(r.json, expected(tickets, events, staff, lo, hi), what)
            eq(r.json["window"], {"from": date(lo), "to": date(hi), "days": hi - lo + 1}, "window")
    with T.case("an empty window: zeros and nulls"):
        r = dave.get(STATS + "?from=%s&to=%s" % (date(5), date(7)))
        eq(r.json["total_tickets"], 0, "total")
        eq(r.json["avg_response_time"], None, "avg_response_time")
        eq(r.json["avg_resolution_time"], None, "avg_resolution_time")
        eq(r.json["median_response_time"], None, "median")
        eq(r.json["satisfaction"], {"good": 0, "bad": 0, "ratings": 0, "score": None}, "satisfaction")
    with T.case("?days=3 is the last three days to today (D+1)"):
        r = dave.get(STATS + "?days=3")
        status(r, 200)
        eq(r.json["window"], {"from": date(-1), "to": date(1), "days": 3}, "window")
        compare(r.json, expected(tickets, events, staff, -1, 1), "days=3")
    with T.case("no parameter: the last 30 days"):
        r = dave.get(STATS)
        status(r, 200)
        eq(r.json["window"], {"from": date(-28), "to": date(1), "days": 30}, "window")
        eq(r.json["total_tickets"], 5, "every ticket")
    with T.case("supportctl support_stats --days 3 --json: the API's object"):
        p = srv.ctl("support_stats", "--days", "3", "--json")
        eq(p.returncode, 0, "exit")
        eq(json.loads(p.stdout), dave.get(STATS + "?days=3").json, "the same object")
        p = srv.ctl("support_stats", "--days", "3")
        text = p.stdout.decode()
        check(p.returncode == 0 and "Tickets created:        5" in text and "carol" in text,
              "the text form: %s" % text[:400])
        p = srv.ctl("support_stats", "--days", "0")
        eq(p.returncode, 2, "--days 0 refused")
        check(b"--days" in p.stderr, "  saying why")
    with T.case("the dashboard: the numbers, each chart an SVG with its title and a table"):
        b = Browser(srv.port)
        b.login("carol", srv.users["carol"].password)
        r = b.get(PAGE + "?from=%s&to=%s" % (date(-1), date(1)))
        status(r, 200)
        html = r.text()
        check('id="stat-total">5<' in html, "5 tickets created shown")
        eq(len(re.findall(r'<svg role="img" aria-labelledby="(\w+)-title \1-desc"', html)), 3, "three charts")
        eq(html.count("<title id="), 3 + 0, "a title each")
        eq(html.count("<desc id="), 3, "a description each")
        for t in ("table-volume", "table-trend", "table-status", "table-agents"):
            check('id="%s"' % t in html, "table %s" % t)
        check('id="agent-%d"' % staff["carol"] in html, "carol's row")
        check('id="status-closed">1<' in html, "one closed ticket in the status table")
        r = b.get(PAGE + "?days=7")
        check('id="window-7" aria-current="page"' in r.text(), "the 7-day link marked current")
        r = b.get(PAGE + "?from=2026-13-01")
        status(r, 400)
        check('id="from-error"' in r.text() and 'value="2026-13-01"' in r.text(),
              "a bad date: the form says so and keeps it")
        check('id="nav-dashboard"' in b.get("/support/").text(), "the Dashboard link in the staff's header")


def test_ratings():
    alice, bob, carol = srv.client("alice"), srv.client("bob"), srv.client("carol")
    rate = lambda c, t, body: c.post(TICKETS + TK[t] + "/rating/", body)  # noqa: E731
    with T.case("the customer rates a resolved ticket once, with a comment"):
        r = rate(alice, "t1", {"rating": "good", "comment": "Quick, thanks — merci"})
        status(r, 201)
        eq(r.json["rating"], "good", "rating")
        eq(r.json["comment"], "Quick, thanks — merci", "comment")
        error(rate(alice, "t1", {"rating": "bad"}), 409, "already_rated")
        eq(alice.get(TICKETS + TK["t1"] + "/rating/").json["rating"], "good", "still good")
    with T.case("refused: not resolved, not one's own, staff, bad fields"):
        error(rate(alice, "t3", {"rating": "good"}), 409, "not_resolved")   # closed, never resolved
        error(rate(bob, "t2", {"rating": "good"}), 409, "not_resolved")     # re-opened
        error(rate(bob, "t5", {"rating": "good"}), 404, "not_found")        # alice's
        error(rate(carol, "t5", {"rating": "good"}), 403, "forbidden")
        error(rate(alice, "t5", {"rating": "meh"}), 400, "invalid", ["rating"])
        error(rate(alice, "t5", {"comment": "no rating"}), 400, "invalid", ["rating"])
        error(rate(alice, "t5", {"rating": "bad", "comment": "x" * 1001}), 400, "invalid", ["comment"])
        error(rate(alice, "t5", {"rating": "bad", "stars": 5}), 400, "unknown_field", ["stars"])
        status(alice.get(TICKETS + TK["t5"] + "/rating/"), 404)
    with T.case("a rating without a comment; staff read it"):
        r = rate(alice, "t5", {"rating": "bad"})
        status(r, 201)
        eq(r.json["comment"], None, "no comment")
        r = carol.get(TICKETS + TK["t5"] + "/rating/")
        status(r, 200)
        eq(r.json["rating"], "bad", "staff see it")
        status(bob.get(TICKETS + TK["t5"] + "/rating/"), 404)
    with T.case("the stats count the ratings of the day they were given, for the assignee"):
        r = srv.client("dave").get(STATS + "?from=%s&to=%s" % (date(1), date(1)))
        status(r, 200)
        eq(r.json["satisfaction"], {"good": 1, "bad": 1, "ratings": 2, "score": 50.0}, "satisfaction")
        eq(r.json["daily"][0]["ratings"], 2, "daily ratings")
        carol_row = [a for a in r.json["per_agent"] if a["username"] == "carol"][0]
        eq(carol_row["satisfaction"], {"good": 1, "bad": 0, "ratings": 1, "score": 100.0},
           "carol's: t1 is hers, t5 nobody's")
        r = srv.client("dave").get(STATS + "?from=%s&to=%s" % (date(0), date(0)))
        eq(r.json["satisfaction"]["ratings"], 0, "none on day D")
    with T.case("the ticket page: the rating form without JavaScript, then the rating shown"):
        b = Browser(srv.port)
        b.login("bob", srv.users["bob"].password)
        r = bob.post(TICKETS, {"subject": "Rate me", "initial_message": "Hi."})
        t = r.json["uuid"]
        check('id="rating-form"' not in b.get("/support/tickets/%s/" % t).text(), "no form before resolution")
        status(carol.patch(TICKETS + t + "/", {"status": "resolved"}), 200)
        page = b.get("/support/tickets/%s/" % t).text()
        check('id="rating-form"' in page and 'id="rating-good"' in page, "the form on a resolved ticket")
        r = b.post("/support/tickets/%s/rating/" % t, form={"rating": "bad", "comment": "Slow.",
                                                             "csrfmiddlewaretoken": b.csrf})
        status(r, 303)
        page = b.get("/support/tickets/%s/" % t).text()
        check('id="rating-value">Bad<' in page and "Slow." in page and 'id="rating-form"' not in page,
              "the rating shown, the form gone")
        s = Browser(srv.port)
        s.login("carol", srv.users["carol"].password)
        page = s.get("/support/tickets/%s/" % t).text()
        check("The customer rated this ticket" in page and 'id="rating-value">Bad<' in page, "staff see it")
        r = b.post("/support/tickets/%s/rating/" % t, form={"rating": "good", "csrfmiddlewaretoken": b.csrf})
        status(r, 409)


def test_refusals():
    dave = srv.client("dave")
    for query, field in (("days=0", "days"), ("days=367", "days"), ("days=abc", "days"),
                         ("from=2026-13-01", "from"), ("to=yesterday", "to"),
                         ("from=2026-12-10&to=2026-12-01", "from"),
                         ("from=2020-01-01&to=2026-01-01", "from"),
                         ("days=7&from=2026-12-01", "days"),
                         ("from=2026-12-01T10:00:00Z", "from")):
        with T.case("?%s: 400 naming %s" % (query, field)):
            error(dave.get(STATS + "?" + query), 400, "invalid", [field])
    with T.case("an unknown parameter: 400 naming it"):
        r = dave.get(STATS + "?weeks=2")
        status(r, 400)
        check("weeks" in r.text(), "named: %s" % r.text()[:200])
    with T.case("a customer: 403; nobody: 401"):
        error(srv.client("alice").get(STATS), 403, "forbidden")
        status(srv.client().get(STATS), 401)
        b = Browser(srv.port)
        b.login("alice", srv.users["alice"].password)
        status(b.get(PAGE), 403)
        check('id="nav-dashboard"' not in b.get("/support/").text(), "no Dashboard link for a customer")
    with T.case("only GET"):
        status(dave.post(STATS, {}), 405)


def main():
    global srv
    srv = standard_server(clock=True)
    test_refusals()
    test_numbers()
    test_ratings()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
