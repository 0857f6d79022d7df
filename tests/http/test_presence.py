#!/usr/bin/env python3
"""Collision detection behind the real web server (docs/api.md, Presence):

- a staff poll of GET .../messages/ marks its agent as viewing; another
  agent's GET .../presence/ shows them (public User, typing, seen_at),
  never themself; the staff poll's ETag covers the others present: it
  moves when one comes, starts or stops typing, leaves or expires, and is
  304 while none of that changes;
- POST .../presence/ {"typing": true} shows "typing" for 8 s (the test
  clock moves past it), {"typing": false} stops it, {"viewing": false}
  removes the mark at once; a viewer expires after 90 s;
- a customer's poll neither shows nor records presence: their tag has no
  presence part, is 304 while agents come and type, they are never listed,
  and GET/POST .../presence/ are 403 for them;
- bad input: an empty body, a non-boolean field, an unknown field, typing
  without viewing, a body that is not JSON are 400 naming the field; an
  unknown ticket 404; a cookie POST without the CSRF token 403;
- the staff ticket page has the #presence element, the customer's has not.

Run from the repo root of a built tree:  python3 tests/http/test_presence.py
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, envelope_problem, eq, error, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page, page_url  # noqa: E402

srv = None


def presence_url(uuid):
    return TICKETS + uuid + "/presence/"


class Poller:
    """One page's poll of a ticket's messages, keeping its ETag."""

    def __init__(self, who, uuid):
        self.client = srv.client(who)
        self.url = TICKETS + uuid + "/messages/"
        self.etag = None

    def poll(self):
        h = {"If-None-Match": self.etag} if self.etag else {}
        r = self.client.get(self.url, headers=h)
        check(r.status in (200, 304), "poll: %s" % r.summary())
        self.etag = r.header("ETag") or self.etag
        return r.status


def viewers(who, uuid):
    """{username: typing} of GET .../presence/ as who."""
    r = srv.client(who).get(presence_url(uuid))
    status(r, 200, "presence as %s" % who)
    check(isinstance(r.json.get("viewers"), list), "no viewers list: %r" % r.json)
    return {v["user"]["username"]: v["typing"] for v in r.json["viewers"]}


def say(who, uuid, body):
    return srv.client(who).post(presence_url(uuid), body)


def bad(r, field):
    """A 400 in the error envelope naming field."""
    status(r, 400)
    p = envelope_problem(r)
    check(not p, "error envelope: %s" % p)
    check(field in (r.json["error"].get("fields") or {}),
          "error.fields should name %r: %r" % (field, r.json))


def open_ticket():
    r = srv.client("alice").post(TICKETS, {"subject": "Presence", "initial_message": "Hello."})
    status(r, 201, "open a ticket")
    return r.json["uuid"]


def test_viewing_and_typing():
    uuid = open_ticket()
    carol, erin, alice = Poller("carol", uuid), Poller("erin", uuid), Poller("alice", uuid)
    with T.case("nobody is shown on a new ticket"):
        eq(viewers("erin", uuid), {}, "viewers")
    with T.case("an agent's poll marks them: another agent sees them viewing"):
        eq(carol.poll(), 200, "carol's first poll")
        check("-p" not in carol.etag, "alone, the tag has no presence: %s" % carol.etag)
        r = srv.client("erin").get(presence_url(uuid))
        status(r, 200)
        v = r.json["viewers"]
        eq(len(v), 1, "viewers")
        eq(v[0]["user"]["username"], "carol", "who")
        eq(v[0]["user"]["is_staff"], True, "is_staff")
        eq(v[0]["typing"], False, "typing")
        check("email" not in v[0]["user"], "the e-mail is not shown: %r" % v[0])
        check(isinstance(v[0]["seen_at"], str) and v[0]["seen_at"].endswith("Z"), "seen_at")
        eq(viewers("carol", uuid), {}, "carol does not see herself")
    with T.case("the staff poll's tag covers the others: 304 while they stay, 200 when one comes"):
        eq(erin.poll(), 200, "erin's first poll")
        check("-p" in erin.etag, "erin's tag names others: %s" % erin.etag)
        eq(erin.poll(), 304, "erin again")
        eq(carol.poll(), 200, "carol's tag moved: erin came")
        eq(carol.poll(), 304, "carol again")
    with T.case("the customer's poll: no presence in the tag, never recorded"):
        eq(alice.poll(), 200, "alice's first poll")
        check("-p" not in alice.etag, "alice's tag: %s" % alice.etag)
        eq(viewers("carol", uuid), {"erin": False}, "carol sees erin only")
    with T.case("typing: shown to the other agent, the poll's tag moves, then 304"):
        r = say("carol", uuid, {"typing": True})
        status(r, 200, "carol types")
        eq([v["user"]["username"] for v in r.json["viewers"]], ["erin"], "the answer: the others")
        eq(erin.poll(), 200, "erin's poll after carol typed")
        eq(viewers("erin", uuid), {"carol": True}, "erin sees carol typing")
        eq(erin.poll(), 304, "erin's poll again")
        eq(alice.poll(), 304, "the customer's poll is still 304")
    with T.case("typing expires after 8 s (test clock)"):
        srv.move_clock(9)
        eq(erin.poll(), 200, "erin's poll after the typing expired")
        eq(viewers("erin", uuid), {"carol": False}, "carol viewing, not typing")
        eq(erin.poll(), 304, "then 304")
    with T.case("typing false stops it at once"):
        status(say("carol", uuid, {"typing": True}), 200)
        eq(viewers("erin", uuid), {"carol": True}, "typing")
        status(say("carol", uuid, {"typing": False}), 200)
        eq(viewers("erin", uuid), {"carol": False}, "stopped")
    with T.case("the customer sees nothing and is refused the presence API"):
        eq(alice.poll(), 304, "alice's poll: 304 through all that")
        error(srv.client("alice").get(presence_url(uuid)), 403, "forbidden")
        error(say("alice", uuid, {"typing": True}), 403, "forbidden")
        error(srv.client("bob").get(presence_url(uuid)), 403, "forbidden")
        eq(viewers("carol", uuid), {"erin": False}, "no customer listed")
    with T.case("leaving removes the mark at once; the others' tags move"):
        status(say("dave", uuid, {"typing": False}), 200, "the admin is here")
        eq(viewers("erin", uuid), {"carol": False, "dave": False}, "both, in id order")
        r = say("dave", uuid, {"viewing": False})
        status(r, 200, "the admin leaves")
        eq(viewers("erin", uuid), {"carol": False}, "the admin is gone")
    with T.case("a viewer expires after 90 s without a poll"):
        srv.move_clock(45)
        # Her own mark is due and written again; her tag covers the others
        # only, and they did not change.
        eq(carol.poll(), 304, "carol's poll")
        srv.move_clock(46)
        eq(viewers("carol", uuid), {}, "erin, who stopped polling, expired")
        eq(viewers("erin", uuid), {"carol": False}, "carol, who polled, did not")
        eq(carol.poll(), 200, "carol's tag moved: erin gone")
        check("-p" not in carol.etag, "alone again: %s" % carol.etag)
        eq(carol.poll(), 304, "then 304")


def test_bad_input():
    uuid = open_ticket()
    missing = "00000000-0000-4000-8000-000000000000"
    for body, field in (({}, "typing"), ({"typing": "yes"}, "typing"), ({"typing": 1}, "typing"),
                        ({"viewing": "no"}, "viewing"), ({"typing": None}, "typing"),
                        ({"typing": True, "viewing": False}, "typing"),
                        ({"typing": True, "mood": "busy"}, "mood")):
        with T.case("POST presence %r: 400 naming %s" % (body, field)):
            bad(say("carol", uuid, body), field)
    with T.case("a body that is not a JSON object: 400"):
        r = srv.client("carol").post(presence_url(uuid), body="typing=true")
        check(r.status == 400, "got %s" % r.summary())
        r = srv.client("carol").post(presence_url(uuid), body="[true]")
        check(r.status == 400, "got %s" % r.summary())
    with T.case("an unknown ticket: 404 for GET and POST, nothing recorded"):
        error(srv.client("carol").get(presence_url(missing)), 404, "not_found")
        error(say("carol", missing, {"typing": True}), 404, "not_found")
    with T.case("the refused posts recorded nothing"):
        eq(viewers("erin", uuid), {}, "viewers")
    with T.case("GET with no login: 401"):
        r = srv.client().get(presence_url(uuid))
        eq(r.status, 401, "status")
    with T.case("a cookie POST without the CSRF token: 403; with it: 200"):
        b = Page(srv.port)
        b.login_form("carol", srv.users["carol"].password)
        r = b.post(presence_url(uuid), json_body={"typing": True})
        error(r, 403, "csrf_failed")
        eq(viewers("erin", uuid), {}, "nothing recorded")
        r = b.post(presence_url(uuid), json_body={"typing": True}, csrf=b.token())
        status(r, 200)
        eq(viewers("erin", uuid), {"carol": True}, "recorded")


def test_page():
    uuid = open_ticket()
    with T.case("the staff ticket page has the presence element, the customer's has not"):
        b = Page(srv.port)
        b.login_form("carol", srv.users["carol"].password)
        r = b.get(page_url(uuid))
        status(r, 200)
        check('id="presence"' in r.text() and 'aria-live="polite"' in r.text(),
              "no #presence on the staff page")
        b = Page(srv.port)
        b.login_form("alice", srv.users["alice"].password)
        r = b.get(page_url(uuid))
        status(r, 200)
        check('id="presence"' not in r.text(), "#presence on the customer's page")


def main():
    global srv
    srv = standard_server(extra_users=[("erin", "agent")], clock=True)
    test_viewing_and_typing()
    test_bad_input()
    test_page()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
