#!/usr/bin/env python3
"""Canned responses behind the real web server (cgi-bin/canned):
/api/support/canned-responses/ and {id}/ as an agent and an admin, the
sharing rules (an agent cannot make or change a shared one: 403; another
agent's personal one: 404), render for a ticket with every placeholder
filled, an unknown placeholder refused at save (400 naming body), a
customer (403), bad inputs (400 naming the field), a taken shortcut
(409), an unknown id (404), and the events of the changes.

Run from the repo root of a built tree:  python3 tests/http/test_canned.py
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, error, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)

CANNED = "/api/support/canned-responses/"
srv = None


def make(who, body):
    r = srv.client(who).post(CANNED, body)
    status(r, 201, "POST as %s: %s" % (who, json.dumps(body)))
    return r.json


def titles(who):
    r = srv.client(who).get(CANNED)
    status(r, 200, "GET list as " + who)
    eq(r.json["count"], len(r.json["results"]), "count")
    return [c["title"] for c in r.json["results"]]


def test_crud():
    with T.case("an agent makes, reads, changes and deletes a personal one"):
        c = make("carol", {"title": "Thanks", "body": "Thank you!", "shortcut": "thx"})
        eq((c["title"], c["body"], c["shortcut"], c["shared"]),
           ("Thanks", "Thank you!", "thx", False), "the new response")
        check(isinstance(c["id"], int) and c["owner"] > 0, "id and owner: %s" % c)
        r = srv.client("carol").get(CANNED + "%d/" % c["id"])
        status(r, 200, "GET it")
        eq(r.json, c, "as made")
        r = srv.client("carol").patch(CANNED + "%d/" % c["id"], {"title": "Many thanks"})
        status(r, 200, "PATCH title")
        eq((r.json["title"], r.json["body"], r.json["shortcut"]),
           ("Many thanks", "Thank you!", "thx"), "only the title changed")
        r = srv.client("carol").patch(CANNED + "%d/" % c["id"], {"shortcut": None})
        status(r, 200, "PATCH shortcut null")
        eq(r.json["shortcut"], None, "shortcut cleared")
        status(srv.client("carol").delete(CANNED + "%d/" % c["id"]), 204, "DELETE")
        error(srv.client("carol").get(CANNED + "%d/" % c["id"]), 404, "not_found")

    with T.case("shared ones: admins make and change them, agents see them"):
        s = make("dave", {"title": "Greeting", "body": "Hello {{customer.name}}", "shared": True})
        eq(s["shared"], True, "shared")
        p = make("carol", {"title": "Apology", "body": "Sorry."})
        make("erin", {"title": "Erin's", "body": "Mine."})
        eq(titles("carol"), ["Apology", "Greeting"], "carol sees hers and the shared, by title")
        eq(titles("erin"), ["Erin's", "Greeting"], "erin likewise")
        eq(titles("dave"), ["Greeting"], "dave sees the shared only")
        error(srv.client("carol").patch(CANNED + "%d/" % s["id"], {"title": "Mine"}), 403, "forbidden")
        error(srv.client("carol").delete(CANNED + "%d/" % s["id"]), 403, "forbidden")
        error(srv.client("carol").post(CANNED, {"title": "S", "body": "x", "shared": True}),
              403, "forbidden")
        error(srv.client("carol").patch(CANNED + "%d/" % p["id"], {"shared": True}), 403, "forbidden")
        r = srv.client("dave").patch(CANNED + "%d/" % s["id"], {"body": "Hi {{customer.name}}"})
        status(r, 200, "an admin changes the shared one")
        eq(r.json["body"], "Hi {{customer.name}}", "new body")

    with T.case("another agent's personal one does not exist for erin or dave (404)"):
        for who in ("erin", "dave"):
            path = CANNED + "%d/" % p["id"]
            error(srv.client(who).get(path), 404, "not_found")
            error(srv.client(who).patch(path, {"title": "x"}), 404, "not_found")
            error(srv.client(who).delete(path), 404, "not_found")
            error(srv.client(who).post(path + "render/", {"ticket": "0" * 8 + "-0000-0000-0000-" + "0" * 12}),
                  404, "not_found")

    with T.case("an unknown id: 404"):
        error(srv.client("carol").get(CANNED + "999999/"), 404, "not_found")
        error(srv.client("dave").patch(CANNED + "999999/", {"title": "x"}), 404, "not_found")
        error(srv.client("dave").delete(CANNED + "999999/"), 404, "not_found")

    with T.case("a customer: 403 everywhere"):
        c = srv.client("alice")
        error(c.get(CANNED), 403, "forbidden")
        error(c.post(CANNED, {"title": "x", "body": "y"}), 403, "forbidden")
        error(c.get(CANNED + "%d/" % s["id"]), 403, "forbidden")
        error(c.post(CANNED + "%d/render/" % s["id"], {"ticket": "x"}), 403, "forbidden")

    with T.case("the events of the changes"):
        p = srv.ctl("events")
        eq(p.returncode, 0, "supportctl events")
        types = [json.loads(l)["type"] for l in p.stdout.decode().splitlines()]
        eq([t for t in types if t.startswith("canned.")],
           ["canned.created", "canned.updated", "canned.updated", "canned.deleted",
            "canned.created", "canned.created", "canned.created", "canned.updated"],
           "canned events in order")


def test_bad_inputs():
    c = srv.client("carol")
    with T.case("bad inputs: 400 naming the field, nothing made"):
        before = titles("carol")
        for body, field in (({"body": "x"}, "title"),
                            ({"title": "x"}, "body"),
                            ({"title": "", "body": "x"}, "title"),
                            ({"title": "x" * 201, "body": "x"}, "title"),
                            ({"title": "x", "body": "x" * 10001}, "body"),
                            ({"title": "x", "body": "x", "shortcut": "Has Space"}, "shortcut"),
                            ({"title": "x", "body": "x", "shortcut": "a" * 51}, "shortcut"),
                            ({"title": "x", "body": "x", "shared": "maybe"}, "shared"),
                            ({"title": "x", "body": "Hi {{customer.phone}}"}, "body"),
                            ({"title": "x", "body": "Hi {{customer.name"}, "body"),
                            ({"title": "x", "body": "{{#ticket}}x{{/ticket}}"}, "body")):
            error(c.post(CANNED, body), 400, "invalid", [field])
        r = c.post(CANNED, {"title": "x", "body": "Hi {{customer.phone}}"})
        check("customer.phone" in r.json["error"]["fields"]["body"],
              "the unknown placeholder is named: %s" % r.json["error"])
        error(c.post(CANNED, {"title": "x", "body": "y", "colour": "red"}), 400, "unknown_field",
              ["colour"])
        eq(titles("carol"), before, "nothing made")

    with T.case("an unknown placeholder is refused on PATCH too, the response unchanged"):
        m = make("carol", {"title": "Zed", "body": "Z", "shortcut": "zed"})
        error(c.patch(CANNED + "%d/" % m["id"], {"body": "{{agent.phone}}"}), 400, "invalid", ["body"])
        eq(c.get(CANNED + "%d/" % m["id"]).json["body"], "Z", "unchanged")

    with T.case("a shortcut is unique per owner: 409 for the same owner, fine for another"):
        error(c.post(CANNED, {"title": "Other", "body": "x", "shortcut": "zed"}), 409,
              "already_exists", ["shortcut"])
        make("erin", {"title": "Erin's zed", "body": "x", "shortcut": "zed"})


def test_render():
    r = srv.client("alice").post(TICKETS, {"subject": "Printer <on> fire",
                                           "initial_message": "It broke."})
    status(r, 201, "alice opens a ticket")
    ticket = r.json["uuid"]
    number = r.json["number"]
    body = ("Dear {{customer.name}} ({{customer.email}}),\n"
            "ticket #{{ticket.number}}: {{ticket.subject}}\n-- {{agent.name}}")
    with T.case("render for a ticket: every placeholder filled, nothing escaped"):
        c = make("carol", {"title": "All", "body": body})
        r = srv.client("carol").post(CANNED + "%d/render/" % c["id"], {"ticket": ticket})
        status(r, 200, "render")
        alice, carol = srv.users["alice"], srv.users["carol"]
        r2 = srv.client("carol").get("/api/support/users/?q=alice")
        aname = r2.json["results"][0].get("display_name") or "alice"
        r3 = srv.client("carol").get("/api/support/users/?q=carol")
        cname = r3.json["results"][0].get("display_name") or "carol"
        eq(r.json, {"content": "Dear %s (%s),\nticket #%d: Printer <on> fire\n-- %s"
                    % (aname, alice.email, number, cname)}, "content")
        check(carol.name == "carol", "carol")

    with T.case("render: a bad or unknown ticket"):
        error(srv.client("carol").post(CANNED + "%d/render/" % c["id"], {"ticket": "nope"}),
              400, "invalid", ["ticket"])
        error(srv.client("carol").post(CANNED + "%d/render/" % c["id"], {}), 400, "invalid", ["ticket"])
        error(srv.client("carol").post(CANNED + "%d/render/" % c["id"],
                                       {"ticket": "01234567-89ab-cdef-0123-456789abcdef"}),
              404, "not_found")
        error(srv.client("carol").post(CANNED + "999999/render/", {"ticket": ticket}), 404, "not_found")


def main():
    global srv
    srv = standard_server(extra_users=(("erin", "agent"),))
    test_crud()
    test_bad_inputs()
    test_render()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
