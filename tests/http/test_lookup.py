#!/usr/bin/env python3
"""Customer lookup behind the real web server (docs/api.md, docs/pages.md):
GET /api/support/users/?q= finds users by a part of their username,
display name or e-mail, in any case, a page at a time, each with
ticket_count and open_ticket_count from the counters; GET
/api/support/users/{id}/ gives staff the user's first page of tickets; the
staff pages /support/customers/ and /support/customers/{id}/.  A customer
gets 403 from the list and 404 pages; bad query values are 400 naming the
field.

Run from the repo root of a built tree:  python3 tests/http/test_lookup.py
"""

import os
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, USERS, check, eq, error, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)

CUSTOMERS = "/support/customers/"
srv = None


def find(q, caller="dave", **params):
    params["q"] = q
    return srv.client(caller).get(USERS + "?" + urllib.parse.urlencode(params))


def names(r):
    return sorted(u["username"] for u in r.json["results"])


def user_id(name):
    r = find(name)
    status(r, 200, "find " + name)
    found = [u["id"] for u in r.json["results"] if u["username"] == name]
    eq(len(found), 1, "accounts named " + name)
    return found[0]


def counts(name):
    """(ticket_count, open_ticket_count) of name in the list and the detail."""
    r = find(name)
    status(r, 200, "find " + name)
    u = [u for u in r.json["results"] if u["username"] == name][0]
    d = srv.client("dave").get(USERS + "%d/" % u["id"])
    status(d, 200, "detail of " + name)
    eq((d.json["ticket_count"], d.json["open_ticket_count"]),
       (u["ticket_count"], u["open_ticket_count"]), "list and detail agree")
    return u["ticket_count"], u["open_ticket_count"]


def open_ticket(who, subject):
    r = srv.client(who).post(TICKETS, {"subject": subject, "initial_message": "It broke."})
    status(r, 201, "open a ticket as " + who)
    return r.json["uuid"]


def test_search():
    with T.case("sign up a customer with a display name"):
        r = srv.client().post(USERS, {"username": "zq77", "email": "Zelda.Quarry@Mail.Example",
                                      "password": "pw-zq77-Secret-1", "display_name": "Zelda Quarry"})
        status(r, 201, "register")

    with T.case("search by part of a display name, any case"):
        for q in ("zelda", "ELDA QU", "Quarry"):
            r = find(q)
            status(r, 200, "q=" + q)
            eq(names(r), ["zq77"], "q=%r" % q)
            eq(r.json["count"], 1, "count")

    with T.case("search by part of an e-mail, any case, and of a username"):
        eq(names(find("mail.example")), ["zq77"], "q=mail.example")
        eq(names(find("@EXAMPLE.COM")), ["alice", "bob", "carol", "dave"], "q=@EXAMPLE.COM")
        eq(names(find("ALI")), ["alice"], "q=ALI")
        eq(find("nobody-here").json, {"count": 0, "next": None, "previous": None, "results": []},
           "no match")

    with T.case("no q: everybody, in id order, each with counts and created_at"):
        r = srv.client("carol").get(USERS)
        status(r, 200, "an agent lists")
        ids = [u["id"] for u in r.json["results"]]
        eq(ids, sorted(ids), "id order")
        eq(r.json["count"], 6, "count (with run.sh's admin)")
        for u in r.json["results"]:
            for k in ("ticket_count", "open_ticket_count", "email", "created_at", "away"):
                check(k in u, "%s in %s" % (k, u))

    with T.case("paging: page_size 2 gives 3 pages of the 6 linked by next and previous"):
        c = srv.client("dave")
        r = c.get(USERS + "?page_size=2")
        status(r, 200, "page 1")
        eq(len(r.json["results"]), 2, "two on page 1")
        eq(r.json["previous"], None, "no previous")
        seen = [u["id"] for u in r.json["results"]]
        r2 = c.get(urllib.parse.urlsplit(r.json["next"]).path + "?" + urllib.parse.urlsplit(r.json["next"]).query)
        status(r2, 200, "page 2 by next")
        check(r2.json["previous"] is not None, "page 2 has previous")
        seen += [u["id"] for u in r2.json["results"]]
        r3 = c.get(USERS + "?page_size=2&page=3")
        status(r3, 200, "page 3")
        eq(r3.json["next"], None, "no next after the last")
        seen += [u["id"] for u in r3.json["results"]]
        eq(len(seen), 6, "all six once")
        eq(len(set(seen)), 6, "no repeats")
        error(c.get(USERS + "?page_size=2&page=4"), 404, "not_found")
        r = c.get(USERS + "?q=e&page_size=1&page=2")
        status(r, 200, "q and page together")
        check("q=e" in r.json["next"] and "q=e" in r.json["previous"], "the links keep q: %s" % r.json)

    with T.case("bad query values: 400 naming the field, unknown ones too"):
        c = srv.client("dave")
        for query, field in (("page=0", "page"), ("page=x", "page"), ("page_size=101", "page_size"),
                             ("page_size=0", "page_size"), ("q=" + "a" * 300, "q")):
            r = c.get(USERS + "?" + query)
            status(r, 400, query)
            check(field in (r.json["error"].get("fields") or {}), "%s names %s: %s" % (query, field, r.json))
        r = c.get(USERS + "?sort=name")
        status(r, 400, "unknown parameter")
        check("sort" in (r.json["error"].get("fields") or {}), "names sort: %s" % r.json)

    with T.case("an empty q (the form sent blank) is no q: everybody"):
        r = find("")
        status(r, 200, "q=")
        eq(r.json["count"], 6, "count")

    with T.case("a customer: the list 403, another's detail 404, their own 200 without tickets"):
        error(find("a", caller="alice"), 403, "forbidden")
        error(srv.client("alice").get(USERS + "%d/" % user_id("bob")), 404, "not_found")
        r = srv.client("alice").get(USERS + "%d/" % user_id("alice"))
        status(r, 200, "own")
        check("tickets" not in r.json, "a customer gets no ticket list: %s" % r.json)


def test_counts():
    with T.case("counts follow tickets opened and resolved"):
        eq(counts("bob"), (0, 0), "bob before")
        uuids = [open_ticket("bob", "Printer %d" % i) for i in range(3)]
        eq(counts("bob"), (3, 3), "bob with three open")
        r = srv.client("dave").patch(TICKETS + uuids[0] + "/", {"status": "resolved"})
        status(r, 200, "resolve one")
        eq(counts("bob"), (3, 2), "bob with one resolved")
        r = srv.client("dave").patch(TICKETS + uuids[1] + "/", {"status": "closed"})
        status(r, 200, "close one")
        eq(counts("bob"), (3, 1), "bob with one closed")
        r = srv.client("dave").patch(TICKETS + uuids[0] + "/", {"status": "open"})
        status(r, 200, "reopen")
        eq(counts("bob"), (3, 2), "bob with one reopened")
        eq(counts("alice"), (0, 0), "alice untouched")

    with T.case("staff detail: the first page of the user's tickets, newest activity first"):
        bob = user_id("bob")
        r = srv.client("carol").get(USERS + "%d/" % bob)
        status(r, 200, "detail")
        t = r.json["tickets"]
        eq(t["count"], 3, "tickets.count")
        eq(t["next"], None, "one page")
        lst = srv.client("carol").get(TICKETS + "?user=%d" % bob)
        eq([x["uuid"] for x in t["results"]], [x["uuid"] for x in lst.json["results"]],
           "as the ticket list gives them")
        check(r.json["tickets_url"].endswith(TICKETS + "?user=%d" % bob), "tickets_url %s" % r.json["tickets_url"])

    with T.case("staff detail: more than a page of tickets links to the second"):
        for i in range(19):
            open_ticket("bob", "More %d" % i)
        r = srv.client("carol").get(USERS + "%d/" % user_id("bob"))
        t = r.json["tickets"]
        eq((t["count"], len(t["results"])), (22, 20), "count and page")
        check(t["next"].endswith(TICKETS + "?user=%d&page=2" % user_id("bob")), "next %s" % t["next"])
        eq(t["results"][0]["subject"], "More 18", "newest first")


def is_page(r, code):
    status(r, code)
    check((r.header("Content-Type") or "").startswith("text/html"), "an HTML page")


def test_pages():
    with T.case("the customers page: the form, and a table with the counts"):
        r = srv.client("dave").get(CUSTOMERS)
        is_page(r, 200)
        text = r.text()
        check('id="customer-search"' in text and 'name="q"' in text, "the search form")
        for s in ("Zelda Quarry", "zq77", "Zelda.Quarry@Mail.Example", "bob@example.com", "UTC"):
            check(s in text, "%r in the page" % s)
        check('href="/support/customers/%d/"' % user_id("bob") in text, "a link to bob's page")
        check('id="nav-customers"' in text, "the staff header links to it")

    with T.case("the customers page searches, keeps q, and pages"):
        r = srv.client("carol").get(CUSTOMERS + "?q=QUARRY")
        is_page(r, 200)
        text = r.text()
        check("zq77" in text and "bob@example.com" not in text, "only zelda")
        check('value="QUARRY"' in text, "q shown again")
        r = srv.client("carol").get(CUSTOMERS + "?q=nobody-at-all")
        is_page(r, 200)
        check('id="no-customers"' in r.text(), "says nobody matches")
        r = srv.client("carol").get(CUSTOMERS + "?page_size=2")
        check('id="page-next"' in r.text(), "a next link")
        is_page(srv.client("carol").get(CUSTOMERS + "?page=0"), 400)
        is_page(srv.client("carol").get(CUSTOMERS + "?page=9"), 404)

    with T.case("a customer's page: details, counts, tickets linking to their pages"):
        bob = user_id("bob")
        r = srv.client("dave").get(CUSTOMERS + "%d/" % bob)
        is_page(r, 200)
        text = r.text()
        check('id="customer-ticket-count">22<' in text, "ticket count")
        check('id="customer-open-count">21<' in text, "open count")
        lst = srv.client("dave").get(TICKETS + "?user=%d" % bob)
        first = lst.json["results"][0]["uuid"]
        check('href="/support/tickets/%s/"' % first in text, "links to the newest ticket")
        check('href="/support/?user=%d"' % bob in text, "links to all of them")
        r = srv.client("dave").get("/support/?user=%d" % bob)
        is_page(r, 200)
        check(first in r.text(), "the list page of bob's tickets")
        r = srv.client("dave").get(CUSTOMERS + "%d/" % user_id("alice"))
        is_page(r, 200)
        check('id="no-tickets"' in r.text(), "alice has none")
        is_page(srv.client("dave").get(CUSTOMERS + "999999/"), 404)

    with T.case("a display name is shown escaped on both pages"):
        r = srv.client().post(USERS, {"username": "xss1", "email": "xss1@example.org",
                                      "password": "pw-xss1-Secret-1", "display_name": "<b>Bold</b>"})
        status(r, 201, "register")
        xid = r.json["id"]
        for path in (CUSTOMERS + "?q=xss1", CUSTOMERS + "%d/" % xid):
            r = srv.client("dave").get(path)
            is_page(r, 200)
            check("<b>Bold" not in r.text() and "&lt;b&gt;Bold" in r.text(), "escaped on " + path)

    with T.case("a customer gets 404 pages, even for their own, and no Customers link"):
        c = srv.client("alice")
        is_page(c.get(CUSTOMERS), 404)
        is_page(c.get(CUSTOMERS + "?q=bob"), 404)
        is_page(c.get(CUSTOMERS + "%d/" % user_id("alice")), 404)
        r = c.get("/support/")
        is_page(r, 200)
        check('id="nav-customers"' not in r.text(), "no link for a customer")

    with T.case("not logged in: the pages send to the log-in page"):
        r = srv.client().get(CUSTOMERS)
        status(r, 303, "anonymous")
        check("/support/login/" in (r.header("Location") or ""), "to the log-in page")


def main():
    global srv
    srv = standard_server(conf={("support", "allow_registration"): "yes",
                                ("support", "max_tickets_per_user"): "0"})
    test_search()
    test_counts()
    test_pages()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
