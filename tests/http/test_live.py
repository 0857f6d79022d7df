#!/usr/bin/env python3
"""The live chat behind the real web server (docs/api.md, Messages):

- a held reply: a post whose "last_seen" is not the newest message its
  writer may see is 409 stale_thread with the newer messages under the
  envelope's top-level "messages", and writes nothing; an internal note
  newer than last_seen does not hold a customer's post (they cannot see
  it), but does hold staff's; the current last_seen posts (201); an
  unknown last_seen, one of another ticket and a note's for a customer
  are 400 naming it; the reply form without JavaScript carries last_seen
  and a stale form post shows the page again (409) with the new messages
  and the draft kept;
- the poll: GET .../messages/?after= with If-None-Match is 304 while
  nothing changes, and its ETag changes after someone else's PATCH of
  status, priority or assignee (the page then reads the ticket's head);
- enable_chat = no: the chat page has no polling hook (data-messages-url)
  but still its reply form, and the API is unchanged.

Run from the repo root of a built tree:  python3 tests/http/test_live.py
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, USERS, check, eq, error, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page, page_url  # noqa: E402

srv = None


def open_ticket(who="alice"):
    r = srv.client(who).post(TICKETS, {"subject": "Live", "initial_message": "Hello."})
    status(r, 201, "open a ticket")
    return r.json["uuid"], r.json["messages"][-1]["uuid"]


def post(who, uuid, content, last_seen=None, internal=False):
    body = {"content": content}
    if last_seen is not None:
        body["last_seen"] = last_seen
    if internal:
        body["is_internal"] = True
    return srv.client(who).post(TICKETS + uuid + "/messages/", body)


def count(who, uuid):
    r = srv.client(who).get(TICKETS + uuid + "/messages/")
    status(r, 200, "the thread")
    return len(r.json)


def browser_for(name):
    b = Page(srv.port)
    b.login_form(name, srv.users[name].password)
    return b


def test_held_reply():
    uuid, first = open_ticket()
    with T.case("a post with the current last_seen is 201"):
        r = post("alice", uuid, "More details.", last_seen=first)
        status(r, 201)
        mine = r.json["uuid"]
    with T.case("a stale post is 409 stale_thread with the newer messages, nothing written"):
        r = post("carol", uuid, "Looking.", last_seen=mine)
        status(r, 201, "staff reply")
        reply = r.json["uuid"]
        n = count("alice", uuid)
        r = post("alice", uuid, "Anyone?", last_seen=mine)
        error(r, 409, "stale_thread")
        msgs = r.json.get("messages")
        check(isinstance(msgs, list), "no top-level messages: %r" % r.json)
        eq([m["uuid"] for m in msgs], [reply], "the newer messages")
        eq(msgs[0]["content"], "Looking.", "their content")
        eq(count("alice", uuid), n, "messages after the held post")
    with T.case("a post without last_seen is never held"):
        status(post("alice", uuid, "Hello again."), 201)
    with T.case("an internal note newer than last_seen does not hold a customer's post"):
        last = srv.client("alice").get(TICKETS + uuid + "/messages/").json[-1]["uuid"]
        status(post("carol", uuid, "Customer is impatient.", internal=True), 201, "note")
        r = post("alice", uuid, "Still here.", last_seen=last)
        status(r, 201, "customer's post over a newer note")
        last = r.json["uuid"]
    with T.case("... but a note holds staff's post, and the note is in the messages"):
        r = post("carol", uuid, "Internal again.", internal=True)
        status(r, 201)
        note = r.json["uuid"]
        r = post("dave", uuid, "Reply.", last_seen=last)
        error(r, 409, "stale_thread")
        eq([m["uuid"] for m in r.json["messages"]], [note], "newer messages for staff")
        eq(r.json["messages"][0]["is_internal"], True, "the note")
        status(post("dave", uuid, "Reply.", last_seen=note), 201, "with the note seen")
    with T.case("an unknown last_seen is 400 naming it"):
        n = count("carol", uuid)
        r = post("alice", uuid, "x", last_seen="01234567-89ab-cdef-0123-456789abcdef")
        error(r, 400, "invalid", ["last_seen"])
        check("01234567-89ab-cdef-0123-456789abcdef" in r.json["error"]["fields"]["last_seen"],
              "the uuid named: %r" % r.json["error"])
        error(post("alice", uuid, "x", last_seen="not-a-uuid"), 400, "invalid", ["last_seen"])
        other, other_first = open_ticket()
        error(post("alice", uuid, "x", last_seen=other_first), 400, "invalid", ["last_seen"])
        error(post("alice", uuid, "x", last_seen=note), 400, "invalid", ["last_seen"])
        eq(count("carol", uuid), n, "messages after the refusals")


def test_form():
    uuid, first = open_ticket()
    alice = browser_for("alice")
    with T.case("the reply form carries last_seen, the newest message shown"):
        r = alice.get(page_url(uuid))
        status(r, 200)
        m = re.search(r'name="last_seen" value="([0-9a-f-]{36})"', r.text())
        check(m, "no last_seen hidden field")
        eq(m.group(1), first, "last_seen")
    with T.case("a stale form post: the page again (409), new messages shown, draft kept"):
        r = post("carol", uuid, "Answer from support.")
        status(r, 201)
        reply = r.json["uuid"]
        n = count("alice", uuid)
        r = alice.submit(page_url(uuid) + "messages/",
                         {"content": "My unsent draft", "last_seen": first})
        status(r, 409)
        text = r.text()
        check('id="m-%s"' % reply in text, "the new message not on the page")
        check("My unsent draft</textarea>" in text, "the draft not kept")
        check('id="form-error"' in text, "no notice")
        m = re.search(r'name="last_seen" value="([0-9a-f-]{36})"', text)
        check(m and m.group(1) == reply, "last_seen not moved to the new message")
        eq(count("alice", uuid), n, "messages after the held form post")
    with T.case("a form post with an unknown last_seen: 400 page naming it, nothing written"):
        n = count("alice", uuid)
        r = alice.submit(page_url(uuid) + "messages/",
                         {"content": "Draft", "last_seen": "01234567-89ab-cdef-0123-456789abcdef"})
        status(r, 400)
        check('id="last-seen-error"' in r.text(), "no message for last_seen")
        check("Draft</textarea>" in r.text(), "the draft not kept")
        eq(count("alice", uuid), n, "messages")
    with T.case("sent again with the new last_seen: 303"):
        r = alice.submit(page_url(uuid) + "messages/",
                         {"content": "My unsent draft", "last_seen": reply})
        status(r, 303)


def test_poll():
    uuid, first = open_ticket()
    url = TICKETS + uuid + "/messages/?after=" + first
    alice = srv.client("alice")
    with T.case("the poll is 304 while nothing changes"):
        r = alice.get(url)
        status(r, 200)
        eq(r.json, [], "nothing after the first message")
        tag = r.header("ETag")
        check(tag, "no ETag")
        status(alice.get(url, headers={"If-None-Match": tag}), 304, "the same tag")
        status(alice.get(url, headers={"If-None-Match": tag}), 304, "again")
    for field, value in (("status", "resolved"), ("priority", "urgent"),
                         ("assignee", None)):
        with T.case("someone else's PATCH of %s changes the poll's ETag" % field):
            if field == "assignee":
                found = srv.client("dave").get(USERS + "?q=carol").json["results"]
                value = [u["id"] for u in found if u["username"] == "carol"][0]
            r = srv.client("carol").patch(TICKETS + uuid + "/", {field: value})
            status(r, 200, "PATCH " + field)
            r = alice.get(url, headers={"If-None-Match": tag})
            status(r, 200, "the poll after the PATCH")
            eq(r.json, [], "still no new message")
            check(r.header("ETag") and r.header("ETag") != tag, "ETag unchanged: %r" % tag)
            tag = r.header("ETag")
            status(alice.get(url, headers={"If-None-Match": tag}), 304, "304 after")
            t = alice.get(TICKETS + uuid + "/").json
            got = t[field]["id"] if field == "assignee" else t[field]
            eq(got, value, "the ticket's head")


def test_chat_off():
    global srv
    uuid, _ = open_ticket()
    with T.case("enable_chat = yes (the default): the page has the polling hook"):
        r = browser_for("alice").get(page_url(uuid))
        status(r, 200)
        check("data-messages-url=" in r.text(), "no data-messages-url")
    srv.stop()
    srv = standard_server(conf={("support", "enable_chat"): "no"})
    uuid, first = open_ticket()
    with T.case("enable_chat = no: no polling hook, the reply form still there"):
        alice = browser_for("alice")
        r = alice.get(page_url(uuid))
        status(r, 200)
        check("data-messages-url" not in r.text(), "polling hook present")
        check('id="reply"' in r.text(), "no reply form")
        check('name="last_seen"' in r.text(), "no last_seen field")
        r = alice.submit(page_url(uuid) + "messages/", {"content": "Plain reply", "last_seen": first})
        status(r, 303, "the form reply")
    with T.case("enable_chat = no: the API is unchanged"):
        r = srv.client("alice").get(TICKETS + uuid + "/messages/")
        status(r, 200)
        eq(len(r.json), 2, "messages")
        status(post("alice", uuid, "API reply", last_seen=r.json[-1]["uuid"]), 201)


def main():
    global srv
    srv = standard_server()
    test_held_reply()
    test_form()
    test_poll()
    test_chat_off()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
