#!/usr/bin/env python3
"""HTTP tests of the ticket core API behind the real web server (see docs/api.md):
nginx, or Apache in the mode SUPPORT_SERVER names (docs/apache.md).

Run from the repo root of a built tree:  python3 tests/http/test_api.py
Output is TAP; exit status 1 if any test failed.
"""

import os
import re
import sys
import time
import urllib.parse
import uuid as uuidlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, API, SEEN, Fail, check, eq, status, error, is_time, is_uuid,  # noqa: E402
                     envelope_problem, raw_request, basic, standard_server, check_no_leftovers, set_conf_key,
                     run_main, short, log, PROGRAMS)

STATUSES = ("open", "waiting_for_admin", "waiting_for_user", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}
TICKET_KEYS = ("uuid", "number", "subject", "status", "priority", "user", "assignee", "created_at",
               "updated_at", "first_response_at", "resolved_at", "closed_at", "channel", "last_message",
               "message_count", "unanswered_messages_count", "awaiting_staff_count")
MESSAGE_KEYS = ("uuid", "ticket", "user", "sender", "content", "content_html", "is_from_user",
                "is_internal", "attachments", "created_at")
USER_KEYS = ("id", "username", "display_name", "is_staff")

srv = None
S = {}          # state shared between cases: tickets, ids, ...


def tk(u):
    return TICKETS + u + "/"


def msgs(u, query=""):
    return TICKETS + u + "/messages/" + (("?" + query) if query else "")


def q(**params):
    return TICKETS + "?" + urllib.parse.urlencode(params)


def path_of(url):
    """Location / next / previous may be absolute URLs or paths: return path+query."""
    p = urllib.parse.urlsplit(url)
    return p.path + (("?" + p.query) if p.query else "")


def C(name):
    return srv.client(name)


# ---------------------------------------------------------------- shapes


def check_user(u, viewer, what="user"):
    check(isinstance(u, dict), "%s is not an object: %s" % (what, short(u)))
    for k in USER_KEYS:
        check(k in u, "%s has no %r: %s" % (what, k, short(u)))
    check(isinstance(u["id"], int) and not isinstance(u["id"], bool), "%s.id is not an integer" % what)
    check(isinstance(u["username"], str) and u["username"], "%s.username empty" % what)
    check(isinstance(u["display_name"], str), "%s.display_name is not a string" % what)
    check(isinstance(u["is_staff"], bool), "%s.is_staff is not a boolean" % what)
    known = srv.users.get(u["username"])
    if known:
        eq(u["is_staff"], known.is_staff, "%s.is_staff of %s" % (what, known.name))
        if known.id is None:
            known.id = u["id"]
        else:
            eq(u["id"], known.id, "%s.id of %s" % (what, known.name))
    v = srv.users[viewer]
    if v.is_staff or u["username"] == viewer:
        check(u.get("email") == (known.email if known else u.get("email")) and u.get("email"),
              "%s: email should be shown to %s (staff or self): %s" % (what, viewer, short(u)))
    else:
        check(not u.get("email"), "%s: email of %s must not be shown to %s: %s"
              % (what, u["username"], viewer, short(u)))


def check_message(m, viewer, ticket_uuid=None, what="message"):
    check(isinstance(m, dict), "%s is not an object: %s" % (what, short(m)))
    for k in MESSAGE_KEYS:
        check(k in m, "%s has no %r: %s" % (what, k, short(m)))
    is_uuid(m["uuid"], what + ".uuid")
    if ticket_uuid:
        eq(str(m["ticket"]).lower(), ticket_uuid.lower(), what + ".ticket")
    check_user(m["sender"], viewer, what + ".sender")
    check_user(m["user"], viewer, what + ".user")
    eq(m["user"]["id"], m["sender"]["id"], what + ": user and sender are both the author")
    check(isinstance(m["content"], str), what + ".content is not a string")
    check(isinstance(m["content_html"], str), what + ".content_html is not a string")
    check(isinstance(m["is_from_user"], bool), what + ".is_from_user is not a boolean")
    check(isinstance(m["is_internal"], bool), what + ".is_internal is not a boolean")
    check(isinstance(m["attachments"], list), what + ".attachments is not a list")
    is_time(m["created_at"], what + ".created_at")
    check(not (m["is_internal"] and not srv.users[viewer].is_staff),
          "%s: internal note shown to non-staff %s" % (what, viewer))


def check_ticket(t, viewer, what="ticket", detail=False):
    check(isinstance(t, dict), "%s is not an object: %s" % (what, short(t)))
    for k in TICKET_KEYS:
        check(k in t, "%s has no %r: %s" % (what, k, short(t)))
    is_uuid(t["uuid"], what + ".uuid")
    check(isinstance(t["number"], int) and t["number"] > 0, what + ".number is not a positive integer")
    check(isinstance(t["subject"], str) and t["subject"].strip(), what + ".subject empty")
    check(t["status"] in STATUSES, "%s.status %r unknown" % (what, t["status"]))
    check(t["priority"] in PRIORITIES, "%s.priority %r unknown" % (what, t["priority"]))
    check(t["channel"] in ("web", "api", "email", "webhook", None),
          "%s.channel %r unknown" % (what, t["channel"]))
    check_user(t["user"], viewer, what + ".user")
    if t["assignee"] is not None:
        check_user(t["assignee"], viewer, what + ".assignee")
    is_time(t["created_at"], what + ".created_at")
    is_time(t["updated_at"], what + ".updated_at")
    check(t["updated_at"] >= t["created_at"], what + ": updated_at before created_at")
    for k in ("first_response_at", "resolved_at", "closed_at"):
        if t[k] is not None:
            is_time(t[k], "%s.%s" % (what, k))
    for k in ("message_count", "unanswered_messages_count", "awaiting_staff_count"):
        check(isinstance(t[k], int) and t[k] >= 0, "%s.%s is not a count: %r" % (what, k, t[k]))
    if t["last_message"] is not None:
        check_message(t["last_message"], viewer, t["uuid"], what + ".last_message")
    if detail:
        check(isinstance(t.get("messages"), list), what + ": detail has no messages array")
        for i, m in enumerate(t["messages"]):
            check_message(m, viewer, t["uuid"], "%s.messages[%d]" % (what, i))
        eq(t["message_count"], len(t["messages"]), what + ": message_count vs embedded messages")
        if t["messages"]:
            eq(t["last_message"] and t["last_message"]["uuid"], t["messages"][-1]["uuid"],
               what + ": last_message is the newest message")
        else:
            eq(t["last_message"], None, what + ".last_message with no messages")


# ---------------------------------------------------------------- helpers


def create(name, subject, message="Hello, I need help.", expect=201, **extra):
    body = {"subject": subject, "initial_message": message}
    body.update(extra)
    r = C(name).post(TICKETS, body)
    if expect is not None:
        status(r, expect, "create ticket as %s" % name)
    return r


def detail(name, u, expect=200):
    r = C(name).get(tk(u))
    status(r, expect, "GET ticket as %s" % name)
    return r.json


def post_msg(name, u, content, expect=201, **extra):
    body = {"content": content}
    body.update(extra)
    r = C(name).post(msgs(u), body)
    if expect is not None:
        status(r, expect, "POST message as %s" % name)
    return r


def patch(name, u, body, expect=200):
    r = C(name).patch(tk(u), body)
    if expect is not None:
        status(r, expect, "PATCH %s as %s" % (short(body, 80), name))
    return r


def total_count():
    r = C("dave").get(TICKETS + "?page_size=1")
    status(r, 200, "staff ticket count")
    return r.json["count"]


def snapshot(*uuids):
    return {"total": total_count(), "tickets": {u: C("dave").get(tk(u)).json for u in uuids}}


def unchanged(before, what="nothing changed"):
    after = snapshot(*before["tickets"].keys())
    eq(after["total"], before["total"], what + ": ticket count")
    for u, t in before["tickets"].items():
        a = after["tickets"][u]
        if a != t:
            diff = [k for k in set(t) | set(a) if t.get(k) != a.get(k)]
            raise Fail("%s: ticket %s changed in %s: before %s after %s" % (
                what, u, diff, short({k: t.get(k) for k in diff}, 300), short({k: a.get(k) for k in diff}, 300)))


def list_all(name, query=None):
    """All results of a list query (following next), plus the first page."""
    params = dict(query or {})
    params.setdefault("page_size", 100)
    path = TICKETS + "?" + urllib.parse.urlencode(params)
    out, first, pages = [], None, 0
    while path and pages < 50:
        r = C(name).get(path)
        status(r, 200, "list %s" % path)
        first = first or r.json
        out += r.json["results"]
        path = path_of(r.json["next"]) if r.json["next"] else None
        pages += 1
    return out, first


def uuids(items):
    return [t["uuid"] for t in items]


# ================================================================= tests


def test_auth():
    anon = srv.client()
    with T.case("no credentials: 401 not_authenticated with WWW-Authenticate: Basic realm"):
        r = anon.get(TICKETS)
        error(r, 401, "not_authenticated")
        wa = r.header("WWW-Authenticate") or ""
        check(wa.lower().startswith("basic") and "realm=" in wa.lower(),
              "WWW-Authenticate should be Basic with a realm, got %r" % wa)

    cases = [
        ("wrong password", basic("alice", "wrong-password")),
        ("right password of another user", basic("alice", srv.users["bob"].password)),
        ("unknown user", basic("nobody-here", "whatever")),
        ("empty Basic credentials", basic("", "")),
        ("bad bearer token", "Bearer sup_" + "0" * 43),
        ("bearer token that is not a token", "Bearer hello"),
        ("Basic with broken base64", "Basic %%%not-base64%%%"),
        ("unknown scheme", "Digest username=\"alice\""),
    ]
    for what, auth in cases:
        with T.case("%s: 401 not_authenticated with WWW-Authenticate" % what):
            r = anon.with_auth(auth).get(TICKETS)
            error(r, 401, "not_authenticated")
            check(r.header("WWW-Authenticate"), "no WWW-Authenticate header")

    with T.case("POST without credentials: 401 and no ticket created"):
        before = total_count()
        r = anon.post(TICKETS, {"subject": "anon", "initial_message": "anon"})
        error(r, 401, "not_authenticated")
        eq(total_count(), before, "ticket count")

    with T.case("REMOTE_USER-like client headers are not trusted (X-Remote-User, Remote-User)"):
        r = anon.get(TICKETS, headers={"Remote-User": "dave", "X-Remote-User": "dave", "X-Forwarded-User": "dave"})
        error(r, 401, "not_authenticated")

    for how, what in (("basic", "Basic auth by username"), ("email", "Basic auth by e-mail"),
                      ("bearer", "Bearer token")):
        with T.case("%s: 200 and a ticket list" % what):
            r = srv.client("alice", how).get(TICKETS)
            status(r, 200)
            for k in ("count", "next", "previous", "results"):
                check(k in r.json, "list has no %r" % k)

    with T.case("Basic auth of staff by e-mail gets the staff view (every ticket)"):
        mine = create("bob", "Only staff and bob see this", "m").json
        r = srv.client("carol", "email").get(TICKETS + "?page_size=100")
        status(r, 200)
        eq(r.json["count"], total_count(), "count seen by carol")
        check(mine["uuid"] in uuids(r.json["results"]), "bob's ticket not in carol's list")
        eq(C("alice").get(tk(mine["uuid"])).status, 404, "alice GET bob's ticket")


def test_create():
    with T.case("create ticket: 201, status open, priority normal, owner, counters, times"):
        r = create("alice", "Printer on fire", "It is on fire. Please help.")
        t = r.json
        check_ticket(t, "alice")
        eq(t["subject"], "Printer on fire", "subject")
        eq(t["status"], "open", "status")
        eq(t["priority"], "normal", "default priority")
        eq(t["user"]["username"], "alice", "user.username")
        eq(t["assignee"], None, "assignee")
        eq(t["first_response_at"], None, "first_response_at")
        eq(t["resolved_at"], None, "resolved_at")
        eq(t["closed_at"], None, "closed_at")
        eq(t["message_count"], 1, "message_count")
        eq(t["unanswered_messages_count"], 0, "unanswered_messages_count: no staff reply for the owner")
        eq(t["awaiting_staff_count"], 1, "awaiting_staff_count: her first message")
        eq(t["channel"], "api", "channel of a ticket opened through the API")
        eq(detail("alice", t["uuid"])["channel"], "api", "channel as its owner reads it")
        eq(detail("dave", t["uuid"])["channel"], "api", "channel as staff read it")
        S["A"] = t
        S["A_resp"] = r

    with T.case("create ticket: the first message is embedded in the 201 body"):
        t = S["A"]
        lm = t["last_message"]
        check(lm is not None, "last_message is null")
        eq(lm["content"], "It is on fire. Please help.", "last_message.content")
        eq(lm["is_from_user"], True, "last_message.is_from_user")
        eq(lm["is_internal"], False, "last_message.is_internal")
        eq(lm["sender"]["username"], "alice", "last_message.sender")
        if "messages" in t:
            eq([m["content"] for m in t["messages"]], ["It is on fire. Please help."], "messages")
        S["A_m1"] = lm["uuid"]

    with T.case("create ticket: Location header points at the new ticket and GET works"):
        r = S["A_resp"]
        loc = r.header("Location")
        check(loc, "no Location header")
        check(path_of(loc).endswith("/api/support/tickets/%s/" % S["A"]["uuid"]),
              "Location %r is not the ticket's path" % loc)
        r2 = C("alice").get(path_of(loc))
        status(r2, 200)
        eq(r2.json["uuid"], S["A"]["uuid"], "uuid at Location")

    with T.case("create ticket: JSON Content-Type and X-Content-Type-Options: nosniff"):
        r = S["A_resp"]
        check("application/json" in (r.header("Content-Type") or ""), "Content-Type %r" % r.header("Content-Type"))
        eq((r.header("X-Content-Type-Options") or "").lower(), "nosniff", "X-Content-Type-Options")

    with T.case("ticket numbers increase; priority given at creation is kept"):
        rb = create("alice", "Status machine ticket", "First words.")
        rc = create("alice", "Internal notes ticket", "Something is wrong.", priority="high")
        S["B"], S["C"] = rb.json, rc.json
        check(S["B"]["number"] > S["A"]["number"], "B.number %d not > A.number %d" % (S["B"]["number"], S["A"]["number"]))
        check(S["C"]["number"] > S["B"]["number"], "C.number not > B.number")
        eq(S["C"]["priority"], "high", "priority")
        check(len({S["A"]["uuid"], S["B"]["uuid"], S["C"]["uuid"]}) == 3, "uuids not unique")

    with T.case("create ticket by e-mail Basic auth works the same"):
        r = srv.client("bob", "email").post(TICKETS, {"subject": "Bob's problem", "initial_message": "Help bob"})
        status(r, 201)
        check_ticket(r.json, "bob")
        eq(r.json["user"]["username"], "bob", "owner")
        S["BOB"] = r.json

    with T.case("detail: ticket with the embedded messages array"):
        t = detail("alice", S["A"]["uuid"])
        check_ticket(t, "alice", detail=True)
        eq(len(t["messages"]), 1, "number of messages")
        m = t["messages"][0]
        eq(m["uuid"], S["A_m1"], "message uuid")
        eq(m["content"], "It is on fire. Please help.", "content")
        check("fire" in m["content_html"], "content_html does not render the content: %r" % m["content_html"])
        eq(m["sender"]["username"], "alice", "sender")
        for k in ("uuid", "number", "subject", "status", "priority", "created_at"):
            eq(t[k], S["A"][k], "detail %s vs 201 body" % k)

    with T.case("detail: uppercase UUID in the path finds the same ticket"):
        r = C("alice").get(tk(S["A"]["uuid"].upper()))
        status(r, 200)
        eq(r.json["uuid"].lower(), S["A"]["uuid"].lower(), "uuid")


def test_messages():
    A = S["A"]["uuid"]
    with T.case("post message as owner: 201 message, Location of the messages list"):
        r = post_msg("alice", A, "Now it smells of smoke too.")
        m = r.json
        check_message(m, "alice", A)
        eq(m["content"], "Now it smells of smoke too.", "content")
        eq(m["is_from_user"], True, "is_from_user")
        eq(m["is_internal"], False, "is_internal")
        eq(m["sender"]["username"], "alice", "sender")
        loc = r.header("Location")
        check(loc and path_of(loc).endswith("/api/support/tickets/%s/messages/" % A),
              "Location %r is not the messages list" % loc)
        S["A_m2"] = m["uuid"]

    with T.case("after the owner writes: waiting_for_admin, message_count 2, last_message"):
        t = detail("alice", A)
        check_ticket(t, "alice", detail=True)
        eq(t["status"], "waiting_for_admin", "status")
        eq(t["message_count"], 2, "message_count")
        eq(t["unanswered_messages_count"], 0, "unanswered_messages_count")
        eq(t["awaiting_staff_count"], 2, "awaiting_staff_count")
        eq(t["last_message"]["uuid"], S["A_m2"], "last_message")

    with T.case("post message with the `text` alias"):
        r = C("alice").post(msgs(A), {"text": "Sent as text."})
        status(r, 201)
        eq(r.json["content"], "Sent as text.", "content")
        S["A_m3"] = r.json["uuid"]

    with T.case("messages list: a plain JSON array, oldest first"):
        r = C("alice").get(msgs(A))
        status(r, 200)
        check(isinstance(r.json, list), "not a JSON array: %s" % short(r.text()))
        for i, m in enumerate(r.json):
            check_message(m, "alice", A, "messages[%d]" % i)
        eq(uuids(r.json), [S["A_m1"], S["A_m2"], S["A_m3"]], "message order")
        ts = [m["created_at"] for m in r.json]
        eq(ts, sorted(ts), "created_at order")

    with T.case("messages ?after=: only later messages; after the last one: []"):
        r = C("alice").get(msgs(A, "after=" + S["A_m1"]))
        status(r, 200)
        eq(uuids(r.json), [S["A_m2"], S["A_m3"]], "after first")
        r = C("alice").get(msgs(A, "after=" + S["A_m3"]))
        status(r, 200)
        eq(r.json, [], "after last")

    with T.case("messages ?after= an unknown message uuid: 404"):
        error(C("alice").get(msgs(A, "after=" + str(uuidlib.uuid4()))), 404, "not_found")

    with T.case("messages ?after= a message of another ticket: 404 or empty, never that ticket's messages"):
        other = S["B"]["last_message"]["uuid"]
        r = C("alice").get(msgs(A, "after=" + other))
        check(r.status == 404 or (r.status == 200 and r.json == []), "got %d %s" % (r.status, short(r.text())))

    with T.case("messages ?after=garbage: 4xx with error envelope"):
        r = C("alice").get(msgs(A, "after=not-a-uuid"))
        check(r.status in (400, 404), "status %d" % r.status)
        check(envelope_problem(r) is None, envelope_problem(r) or "")

    with T.case("ETag on messages; If-None-Match with it: 304 and no body"):
        r = C("alice").get(msgs(A))
        status(r, 200)
        etag = r.header("ETag")
        check(etag, "no ETag header")
        r2 = C("alice").get(msgs(A), headers={"If-None-Match": etag})
        status(r2, 304)
        eq(r2.body, b"", "304 body")
        S["etag"] = etag

    with T.case("ETag: the 304 carries the same ETag"):
        r = C("alice").get(msgs(A), headers={"If-None-Match": S["etag"]})
        status(r, 304)
        eq(r.header("ETag"), S["etag"], "ETag on the 304")

    with T.case("polling with ?after=<last> and If-None-Match: 304, then 200 with only the new message"):
        r = C("alice").get(msgs(A))
        last = r.json[-1]["uuid"]
        r = C("alice").get(msgs(A, "after=" + last))
        status(r, 200)
        eq(r.json, [], "nothing after the last message")
        et = r.header("ETag")
        check(et, "no ETag on the ?after= poll")
        status(C("alice").get(msgs(A, "after=" + last), headers={"If-None-Match": et}), 304)
        m = post_msg("carol", A, "new while polling").json
        r = C("alice").get(msgs(A, "after=" + last), headers={"If-None-Match": et})
        status(r, 200)
        eq(uuids(r.json), [m["uuid"]], "new messages")
        S["etag"] = C("alice").get(msgs(A)).header("ETag")

    with T.case("ETag: a wrong If-None-Match gives 200 with the thread"):
        r = C("alice").get(msgs(A), headers={"If-None-Match": '"not-the-etag"'})
        status(r, 200)
        eq(len(r.json), 4, "messages")

    with T.case("ETag: a new message gives a new ETag; the old one no longer matches"):
        old = S["etag"]
        post_msg("alice", A, "One more thing.")
        r = C("alice").get(msgs(A), headers={"If-None-Match": old})
        status(r, 200)
        eq(len(r.json), 5, "messages after a new one")
        new = r.header("ETag")
        check(new and new != old, "ETag did not change: %r" % new)
        status(C("alice").get(msgs(A), headers={"If-None-Match": new}), 304)
        S["etag"] = new

    with T.case("ETag: a ticket change (staff PATCH priority) gives a new ETag"):
        old = S["etag"]
        patch("carol", A, {"priority": "high"})
        r = C("alice").get(msgs(A), headers={"If-None-Match": old})
        status(r, 200)
        check(r.header("ETag") and r.header("ETag") != old, "ETag unchanged after PATCH")


def test_status_machine():
    B = S["B"]["uuid"]
    with T.case("status machine: new ticket is open"):
        eq(detail("alice", B)["status"], "open", "status")

    with T.case("status machine: owner writes -> waiting_for_admin"):
        post_msg("alice", B, "Any news?")
        t = detail("alice", B)
        eq(t["status"], "waiting_for_admin", "status")
        eq(t["unanswered_messages_count"], 0, "unanswered_messages_count: no reply for the owner yet")
        eq(t["awaiting_staff_count"], 2, "awaiting_staff_count: the owner's two messages")
        eq(t["first_response_at"], None, "first_response_at")

    with T.case("status machine: staff public reply -> waiting_for_user, first_response_at set"):
        r = post_msg("carol", B, "We are looking into it.")
        m = r.json
        check_message(m, "carol", B)
        eq(m["is_from_user"], False, "is_from_user of a staff reply")
        eq(m["sender"]["username"], "carol", "sender")
        t = detail("alice", B)
        check_ticket(t, "alice", detail=True)
        eq(t["status"], "waiting_for_user", "status")
        is_time(t["first_response_at"], "first_response_at")
        check(t["first_response_at"] >= t["created_at"], "first_response_at before created_at")
        eq(t["unanswered_messages_count"], 1, "unanswered_messages_count: the staff reply for the owner")
        eq(t["awaiting_staff_count"], 0, "awaiting_staff_count after a staff reply")
        eq(detail("carol", B)["awaiting_staff_count"], 0, "the same count as staff read it")
        S["B_frt"] = t["first_response_at"]
        srv.users["carol"].id = m["sender"]["id"]

    with T.case("status machine: owner writes again -> waiting_for_admin, her count 0, staff's 1"):
        post_msg("alice", B, "Thanks, still broken.")
        t = detail("alice", B)
        eq(t["status"], "waiting_for_admin", "status")
        eq(t["unanswered_messages_count"], 0, "unanswered_messages_count")
        eq(t["awaiting_staff_count"], 1, "awaiting_staff_count")

    with T.case("status machine: a second staff reply does not move first_response_at"):
        time.sleep(0.01)
        post_msg("dave", B, "Admin here, replacing the part.")
        t = detail("alice", B)
        eq(t["status"], "waiting_for_user", "status")
        eq(t["first_response_at"], S["B_frt"], "first_response_at")
        eq(t["unanswered_messages_count"], 1, "unanswered_messages_count")
        eq(t["awaiting_staff_count"], 0, "awaiting_staff_count")
        post_msg("carol", B, "And a second part.")
        eq(detail("alice", B)["unanswered_messages_count"], 2, "two staff replies since her last")

    with T.case("status machine: a staff internal note changes nothing for the owner"):
        before = detail("alice", B)
        r = post_msg("carol", B, "internal: part ordered", is_internal=True)
        eq(r.json["is_internal"], True, "is_internal")
        after = detail("alice", B)
        for k in ("status", "first_response_at", "message_count", "unanswered_messages_count",
                  "awaiting_staff_count", "last_message", "messages"):
            eq(after[k], before[k], "owner's view of %s" % k)

    for target in ("open", "waiting_for_admin"):
        with T.case("status machine: owner PATCH waiting_for_user -> %s: 409 invalid_transition, nothing changes" % target):
            snap = snapshot(B)
            error(patch("alice", B, {"status": target}, expect=None), 409, "invalid_transition")
            unchanged(snap)

    with T.case("status machine: owner resolves: 200, resolved, resolved_at set"):
        r = patch("alice", B, {"status": "resolved"})
        check_ticket(r.json, "alice")
        eq(r.json["status"], "resolved", "status")
        is_time(r.json["resolved_at"], "resolved_at")
        eq(r.json["closed_at"], None, "closed_at")
        eq(detail("alice", B)["status"], "resolved", "status on GET")

    with T.case("status machine: PATCH to the same status: 200 and nothing changes"):
        snap = snapshot(B)
        r = patch("alice", B, {"status": "resolved"})
        eq(r.json["status"], "resolved", "status")
        unchanged(snap)

    with T.case("status machine: owner writes to a resolved ticket -> waiting_for_admin, resolved_at cleared"):
        post_msg("alice", B, "It broke again.")
        t = detail("alice", B)
        eq(t["status"], "waiting_for_admin", "status")
        eq(t["resolved_at"], None, "resolved_at")

    with T.case("status machine: owner PATCH waiting_for_admin -> waiting_for_user: 409 invalid_transition"):
        snap = snapshot(B)
        error(patch("alice", B, {"status": "waiting_for_user"}, expect=None), 409, "invalid_transition")
        unchanged(snap)

    with T.case("status machine: owner closes: 200, closed, closed_at set"):
        r = patch("alice", B, {"status": "closed"})
        eq(r.json["status"], "closed", "status")
        is_time(r.json["closed_at"], "closed_at")

    with T.case("status machine: owner writes to a closed ticket: 409 ticket_closed, nothing added"):
        snap = snapshot(B)
        error(post_msg("alice", B, "Hello?", expect=None), 409, "ticket_closed")
        unchanged(snap)

    for target in ("resolved", "open", "waiting_for_admin", "waiting_for_user"):
        with T.case("status machine: owner PATCH closed -> %s: 409 invalid_transition" % target):
            snap = snapshot(B)
            error(patch("alice", B, {"status": target}, expect=None), 409, "invalid_transition")
            unchanged(snap)

    with T.case("status machine: staff internal note on a closed ticket: 201, stays closed"):
        post_msg("carol", B, "note on closed ticket", is_internal=True)
        t = detail("carol", B)
        eq(t["status"], "closed", "status")
        is_time(t["closed_at"], "closed_at")

    with T.case("status machine: staff re-opens a closed ticket: open, closed_at cleared"):
        r = patch("carol", B, {"status": "open"})
        eq(r.json["status"], "open", "status")
        eq(r.json["closed_at"], None, "closed_at")
        eq(r.json["resolved_at"], None, "resolved_at")

    with T.case("status machine: owner can write again after staff re-opened"):
        post_msg("alice", B, "Thanks for reopening.")
        eq(detail("alice", B)["status"], "waiting_for_admin", "status")

    with T.case("status machine: staff public reply to a closed ticket re-opens it as waiting_for_user"):
        patch("carol", B, {"status": "closed"})
        post_msg("carol", B, "Reply on a closed ticket.")
        t = detail("alice", B)
        eq(t["status"], "waiting_for_user", "status")
        eq(t["closed_at"], None, "closed_at")

    seq = ["waiting_for_admin", "resolved", "waiting_for_user", "closed", "resolved", "closed", "open"]
    # docs/api.md: resolved sets resolved_at (and clears closed_at); closed sets
    # closed_at and keeps resolved_at; re-opening (open, waiting_*) clears both.
    before = detail("dave", B)
    for st in seq:
        with T.case("status machine: staff PATCH %s -> %s: 200, resolved_at/closed_at right"
                    % (before["status"], st)):
            r = patch("dave", B, {"status": st})
            t = r.json
            eq(t["status"], st, "status")
            if st == "resolved":
                check(t["resolved_at"] and t["resolved_at"] >= before["updated_at"], "resolved_at not set to now: %r"
                      % t["resolved_at"])
                eq(t["closed_at"], None, "closed_at")
            elif st == "closed":
                check(t["closed_at"] and t["closed_at"] >= before["updated_at"], "closed_at not set to now: %r"
                      % t["closed_at"])
                eq(t["resolved_at"], before["resolved_at"], "resolved_at kept from before closing")
            else:
                eq((t["resolved_at"], t["closed_at"]), (None, None), "resolved_at, closed_at after re-opening")
            o = detail("alice", B)
            eq((o["status"], o["resolved_at"], o["closed_at"]), (st, t["resolved_at"], t["closed_at"]),
               "owner's view")
        before = detail("dave", B)

    with T.case("status machine: unknown status value: 400 invalid, field named, nothing changes"):
        snap = snapshot(B)
        error(patch("carol", B, {"status": "bogus"}, expect=None), 400, "invalid", ["status"])
        error(patch("carol", B, {"status": 3}, expect=None), 400, "invalid", ["status"])
        error(patch("carol", B, {"status": None}, expect=None), 400, "invalid", ["status"])
        unchanged(snap)


def test_internal_notes():
    Cu = S["C"]["uuid"]
    with T.case("internal notes: staff posts a public reply and an internal note"):
        post_msg("carol", Cu, "Public reply for alice.")
        r = post_msg("carol", Cu, "SECRET-NOTE-7f3a do not tell the customer", is_internal=True)
        check_message(r.json, "carol", Cu)
        eq(r.json["is_internal"], True, "is_internal")
        S["C_note"] = r.json["uuid"]

    with T.case("internal notes: not in the owner's detail, counts or last_message"):
        r = C("alice").get(tk(Cu))
        status(r, 200)
        check(b"SECRET-NOTE" not in r.body, "internal note content in the owner's detail")
        check(S["C_note"].encode() not in r.body, "internal note uuid in the owner's detail")
        t = r.json
        check_ticket(t, "alice", detail=True)
        eq(t["message_count"], 2, "message_count")
        eq(t["last_message"]["content"], "Public reply for alice.", "last_message")
        eq(t["status"], "waiting_for_user", "status")

    with T.case("internal notes: not in the owner's messages list"):
        r = C("alice").get(msgs(Cu))
        status(r, 200)
        check(b"SECRET-NOTE" not in r.body, "internal note in the owner's messages list")
        eq(len(r.json), 2, "messages")

    with T.case("internal notes: not in the owner's ticket list (counts, last_message)"):
        r = C("alice").get(TICKETS + "?page_size=100")
        status(r, 200)
        check(b"SECRET-NOTE" not in r.body, "internal note in the owner's ticket list")
        item = [t for t in r.json["results"] if t["uuid"] == Cu]
        eq(len(item), 1, "ticket C in alice's list")
        eq(item[0]["message_count"], 2, "message_count in list")
        eq(item[0]["last_message"]["content"], "Public reply for alice.", "last_message in list")

    with T.case("internal notes: staff see them in detail, list and counts"):
        t = detail("carol", Cu)
        check_ticket(t, "carol", detail=True)
        eq(t["message_count"], 3, "staff message_count")
        eq(t["last_message"]["uuid"], S["C_note"], "staff last_message")
        r = C("dave").get(msgs(Cu))
        eq([m["is_internal"] for m in r.json], [False, False, True], "is_internal flags for staff")

    with T.case("internal notes: a note after the owner writes keeps the counts"):
        eq(detail("alice", Cu)["unanswered_messages_count"], 1, "the public reply, not the note, for the owner")
        post_msg("alice", Cu, "Is anyone there?")
        post_msg("carol", Cu, "SECRET-NOTE second", is_internal=True)
        t = detail("alice", Cu)
        eq(t["status"], "waiting_for_admin", "status")
        eq(t["unanswered_messages_count"], 0, "unanswered_messages_count")
        eq(t["awaiting_staff_count"], 1, "awaiting_staff_count")
        eq(t["message_count"], 3, "owner message_count")
        r = C("alice").get(msgs(Cu, "after=" + t["messages"][0]["uuid"]))
        check(b"SECRET-NOTE" not in r.body, "internal note in ?after= list")
        eq(len(r.json), 2, "messages after the first")

    with T.case("internal notes: ?after=<a note's uuid> is 404 for the owner, 200 for staff"):
        error(C("alice").get(msgs(Cu, "after=" + S["C_note"])), 404, "not_found")
        r = C("carol").get(msgs(Cu, "after=" + S["C_note"]))
        status(r, 200)
        check(S["C_note"] not in uuids(r.json), "the note itself is not after itself")

    with T.case("internal notes: a staff poll with If-None-Match sees a new note (200, not 304)"):
        r = C("carol").get(msgs(Cu))
        etag = r.header("ETag")
        n = post_msg("dave", Cu, "SECRET-NOTE for the staff poll", is_internal=True).json
        r2 = C("carol").get(msgs(Cu), headers={"If-None-Match": etag})
        status(r2, 200)
        eq(r2.json[-1]["uuid"], n["uuid"], "newest message for staff")

    with T.case("internal notes: owner's ETag poll does not reveal a note as new content"):
        r = C("alice").get(msgs(Cu))
        etag = r.header("ETag")
        post_msg("carol", Cu, "SECRET-NOTE third", is_internal=True)
        r2 = C("alice").get(msgs(Cu), headers={"If-None-Match": etag})
        check(r2.status in (200, 304), "status %d" % r2.status)
        if r2.status == 200:
            eq(uuids(r2.json), uuids(r.json), "owner's thread after a note")


def test_patch_and_users():
    A = S["A"]["uuid"]
    carol = srv.users["carol"]
    with T.case("staff PATCH subject and priority: 200 and kept"):
        before = detail("carol", A)
        time.sleep(0.01)
        r = patch("carol", A, {"subject": "Printer on fire (floor 3)", "priority": "urgent"})
        check_ticket(r.json, "carol")
        eq(r.json["subject"], "Printer on fire (floor 3)", "subject")
        eq(r.json["priority"], "urgent", "priority")
        check(r.json["updated_at"] > before["updated_at"], "updated_at did not advance")
        t = detail("alice", A)
        eq((t["subject"], t["priority"]), ("Printer on fire (floor 3)", "urgent"), "owner's view")

    with T.case("staff PATCH assignee to an agent: 200, assignee is that User"):
        check(carol.id is not None, "carol's id not known yet")
        r = patch("carol", A, {"assignee": carol.id})
        eq(r.json["assignee"] and r.json["assignee"]["username"], "carol", "assignee")
        check_user(r.json["assignee"], "carol")
        eq(detail("alice", A)["assignee"]["username"], "carol", "assignee seen by owner")

    with T.case("e-mail: hidden from the owner in the assignee and staff senders, shown for self"):
        post_msg("carol", A, "Assigned to me.")
        r = C("alice").get(tk(A))
        t = r.json
        check_ticket(t, "alice", detail=True)   # check_user asserts email visibility per viewer
        eq(t["user"].get("email"), "alice@example.com", "own email")
        check(not t["assignee"].get("email"), "assignee email shown to a customer")
        check(b"carol@example.com" not in r.body, "carol's e-mail appears in alice's view")

    with T.case("e-mail: staff see the owner's e-mail"):
        r = C("carol").get(tk(A))
        eq(r.json["user"].get("email"), "alice@example.com", "owner email for staff")
        check_ticket(r.json, "carol", detail=True)

    with T.case("admin can PATCH assignee to null"):
        r = patch("dave", A, {"assignee": None})
        eq(r.json["assignee"], None, "assignee")

    bad = [({"assignee": srv.users["alice"].id}, "a non-staff user's id"),
           ({"assignee": 999999}, "an unknown id"),
           ({"assignee": "carol"}, "a string"),
           ({"assignee": True}, "a boolean"),
           ({"subject": ""}, "empty subject"),
           ({"subject": "   "}, "blank subject"),
           ({"subject": "x" * 256}, "256-char subject"),
           ({"subject": 5}, "numeric subject"),
           ({"priority": "bogus"}, "unknown priority"),
           ({"priority": 2}, "numeric priority")]
    for body, what in bad:
        with T.case("staff PATCH with %s: 400 invalid naming the field, nothing changes" % what):
            snap = snapshot(A)
            error(patch("carol", A, body, expect=None), 400, "invalid", list(body))
            unchanged(snap)

    with T.case("owner PATCH assignee: 403 forbidden, nothing changes"):
        snap = snapshot(A)
        error(patch("alice", A, {"assignee": carol.id}, expect=None), 403, "forbidden")
        error(patch("alice", A, {"assignee": None}, expect=None), 403, "forbidden")
        unchanged(snap)

    with T.case("staff PATCH several fields at once"):
        r = patch("carol", A, {"status": "waiting_for_user", "priority": "low", "assignee": carol.id})
        eq((r.json["status"], r.json["priority"], r.json["assignee"]["username"]),
           ("waiting_for_user", "low", "carol"), "status, priority, assignee")


def test_isolation():
    A = S["A"]["uuid"]
    with T.case("isolation: bob gets 404 on alice's ticket, its messages, and poll"):
        error(C("bob").get(tk(A)), 404, "not_found")
        error(C("bob").get(msgs(A)), 404, "not_found")
        error(C("bob").get(msgs(A, "after=" + S["A_m1"])), 404, "not_found")

    with T.case("isolation: bob cannot post to or PATCH alice's ticket (404), nothing changes"):
        snap = snapshot(A)
        error(post_msg("bob", A, "I am not alice", expect=None), 404, "not_found")
        error(patch("bob", A, {"status": "resolved"}, expect=None), 404, "not_found")
        error(patch("bob", A, {"status": "closed"}, expect=None), 404, "not_found")
        unchanged(snap)

    with T.case("isolation: bob's list shows only bob's tickets"):
        items, first = list_all("bob")
        check(items, "bob sees no tickets")
        eq(first["count"], len(items), "count")
        eq({t["user"]["username"] for t in items}, {"bob"}, "owners in bob's list")
        check(S["BOB"]["uuid"] in uuids(items), "bob's own ticket missing")
        for t in items:
            check_ticket(t, "bob")

    with T.case("isolation: alice's list has her tickets and not bob's"):
        items, first = list_all("alice")
        eq({t["user"]["username"] for t in items}, {"alice"}, "owners in alice's list")
        for k in ("A", "B", "C"):
            check(S[k]["uuid"] in uuids(items), "ticket %s missing from alice's list" % k)
        check(S["BOB"]["uuid"] not in uuids(items), "bob's ticket in alice's list")

    with T.case("isolation: a user filtering by another user's id: 403 forbidden; by their own id: own tickets"):
        error(C("alice").get(q(user=srv.users["bob"].id)), 403, "forbidden")
        items, first = list_all("alice", {"user": srv.users["alice"].id})
        eq({t["user"]["username"] for t in items}, {"alice"}, "owners")
        eq(first["count"], C("alice").get(TICKETS).json["count"], "count with user=own id")

    with T.case("staff see every ticket (agent and admin)"):
        total = total_count()
        for who in ("carol", "dave"):
            items, first = list_all(who)
            eq(first["count"], total, "%s count" % who)
            got = set(uuids(items))
            for k in ("A", "B", "C", "BOB"):
                check(S[k]["uuid"] in got, "%s does not see ticket %s" % (who, k))
            check({"alice", "bob"} <= {t["user"]["username"] for t in items}, "owners")
        eq(detail("dave", S["BOB"]["uuid"])["uuid"], S["BOB"]["uuid"], "admin detail of bob's ticket")


def test_lists():
    names = ["alpha", "bravo", "charlie", "delta", "Zebra crossing", "foxtrot", "golf"]
    prios = ["low", "normal", "high", "urgent", "normal", "low", "high"]
    G = []
    with T.case("lists: gina creates 7 tickets"):
        for n, p in zip(names, prios):
            G.append(create("gina", "Pager ticket " + n, "Message for " + n, priority=p).json)
            time.sleep(0.002)
        srv.users["gina"].id = G[0]["user"]["id"]
        S["G"] = G

    gid = srv.users["gina"].id
    allg = set(uuids(G))

    with T.case("lists: blank filters (?q=&status=&page_size=) are no filters, as in Django"):
        r = C("gina").get(TICKETS + "?q=&status=&priority=&page_size=")
        status(r, 200)
        eq(r.json["count"], 7, "count with blank filters")

    with T.case("lists: envelope count/next/previous/results, no messages in items"):
        r = C("gina").get(TICKETS)
        status(r, 200)
        j = r.json
        eq(sorted(j), sorted(["count", "next", "previous", "results"]), "keys")
        eq(j["count"], 7, "count")
        eq(set(uuids(j["results"])), allg, "results")
        eq((j["next"], j["previous"]), (None, None), "next/previous on the only page")
        for t in j["results"]:
            check("messages" not in t, "list item has messages")
            check_ticket(t, "gina")

    with T.case("lists: default ordering is newest activity first (-updated_at)"):
        post_msg("gina", G[0]["uuid"], "bump the oldest")
        r = C("gina").get(TICKETS)
        res = r.json["results"]
        eq(res[0]["uuid"], G[0]["uuid"], "first result after bumping the oldest ticket")
        ups = [t["updated_at"] for t in res]
        eq(ups, sorted(ups, reverse=True), "updated_at descending")

    with T.case("lists: page_size=3 pages through all 7 with next/previous"):
        r = C("gina").get(q(page_size=3))
        status(r, 200)
        p1 = r.json
        eq((p1["count"], len(p1["results"]), p1["previous"]), (7, 3, None), "page 1 count/len/previous")
        check(p1["next"], "page 1 has no next")
        nq = urllib.parse.parse_qs(urllib.parse.urlsplit(p1["next"]).query)
        eq((nq.get("page"), nq.get("page_size")), (["2"], ["3"]), "next keeps page_size and goes to page 2")
        check(urllib.parse.urlsplit(p1["next"]).path.endswith("/api/support/tickets/"), "next path %r" % p1["next"])
        r2 = C("gina").get(path_of(p1["next"]))
        status(r2, 200)
        p2 = r2.json
        eq(len(p2["results"]), 3, "page 2 length")
        check(p2["previous"] and p2["next"], "page 2 lacks previous or next")
        p3 = C("gina").get(path_of(p2["next"])).json
        eq((len(p3["results"]), p3["next"]), (1, None), "page 3 length / next")
        back = C("gina").get(path_of(p3["previous"])).json
        eq(uuids(back["results"]), uuids(p2["results"]), "previous of page 3 is page 2")
        seen = uuids(p1["results"]) + uuids(p2["results"]) + uuids(p3["results"])
        eq(len(seen), len(set(seen)), "no ticket on two pages")
        eq(set(seen), allg, "pages cover all tickets")

    with T.case("lists: a page past the end is 404 not_found"):
        error(C("gina").get(q(page_size=3, page=4)), 404, "not_found")

    with T.case("lists: page_size 100 accepted; 0, 101, abc rejected with 400"):
        status(C("gina").get(q(page_size=100)), 200)
        for bad in ("0", "101", "abc", "-1"):
            error(C("gina").get(q(page_size=bad)), 400, "invalid", ["page_size"])

    with T.case("lists: page=0 and page=abc are rejected with 4xx"):
        for bad in ("0", "abc"):
            r = C("gina").get(q(page=bad))
            check(r.status in (400, 404), "page=%s gave %d" % (bad, r.status))
            check(envelope_problem(r) is None, envelope_problem(r) or "")

    def order_of(ordering):
        r = C("gina").get(q(ordering=ordering, page_size=100))
        status(r, 200, "ordering=" + ordering)
        return r.json["results"]

    with T.case("lists: ordering by number, -number, created_at, -created_at, updated_at"):
        res = order_of("number")
        nums = [t["number"] for t in res]
        eq(nums, sorted(nums), "ordering=number")
        eq(set(uuids(res)), allg, "all tickets")
        nums = [t["number"] for t in order_of("-number")]
        eq(nums, sorted(nums, reverse=True), "ordering=-number")
        cr = [t["created_at"] for t in order_of("created_at")]
        eq(cr, sorted(cr), "ordering=created_at")
        cr = [t["created_at"] for t in order_of("-created_at")]
        eq(cr, sorted(cr, reverse=True), "ordering=-created_at")
        up = [t["updated_at"] for t in order_of("updated_at")]
        eq(up, sorted(up), "ordering=updated_at")

    with T.case("lists: ordering by priority ranks low < normal < high < urgent"):
        ranks = [PRIORITY_RANK[t["priority"]] for t in order_of("priority")]
        eq(ranks, sorted(ranks), "ordering=priority")
        res = order_of("-priority")
        ranks = [PRIORITY_RANK[t["priority"]] for t in res]
        eq(ranks, sorted(ranks, reverse=True), "ordering=-priority")
        for p in PRIORITIES:
            nums = [t["number"] for t in res if t["priority"] == p]
            eq(nums, sorted(nums, reverse=True), "-priority: newest ticket first within %s" % p)

    with T.case("lists: unknown ordering: 400"):
        error(C("gina").get(q(ordering="bogus")), 400, "invalid", ["ordering"])
        error(C("gina").get(q(ordering="-subject; drop")), 400, "invalid", ["ordering"])

    with T.case("lists: status filter (one value, comma list), unknown status 400"):
        patch("carol", G[1]["uuid"], {"status": "resolved"})
        patch("carol", G[2]["uuid"], {"status": "waiting_for_user"})
        patch("gina", G[3]["uuid"], {"status": "closed"})
        items, _ = list_all("gina")
        by = {}
        for t in items:
            by.setdefault(t["status"], set()).add(t["uuid"])
        check(len(by) >= 4, "expected at least 4 statuses among gina's tickets: %s" % sorted(by))
        for st in STATUSES:
            got, first = list_all("gina", {"status": st})
            eq(set(uuids(got)), by.get(st, set()), "status=" + st)
            eq(first["count"], len(by.get(st, ())), "count for status=" + st)
        got, _ = list_all("gina", {"status": "resolved,closed"})
        eq(set(uuids(got)), by.get("resolved", set()) | by.get("closed", set()), "status=resolved,closed")
        error(C("gina").get(q(status="nope")), 400, "invalid", ["status"])

    with T.case("lists: priority filter; unknown priority 400"):
        for p in PRIORITIES:
            got, _ = list_all("gina", {"priority": p})
            eq(set(uuids(got)), {t["uuid"] for t in G if t["priority"] == p}, "priority=" + p)
        error(C("gina").get(q(priority="nope")), 400, "invalid", ["priority"])

    with T.case("lists: status and priority filters combine"):
        got, _ = list_all("gina", {"status": "open", "priority": "high"})
        items, _ = list_all("gina")
        exp = {t["uuid"] for t in items if t["status"] == "open" and t["priority"] == "high"}
        eq(set(uuids(got)), exp, "status=open&priority=high")

    with T.case("lists: q is a case-insensitive subject substring"):
        got, _ = list_all("gina", {"q": "zEBRA"})
        eq(uuids(got), [G[4]["uuid"]], "q=zEBRA")
        got, _ = list_all("gina", {"q": "pager TICKET"})
        eq(set(uuids(got)), allg, "q=pager TICKET")
        got, first = list_all("gina", {"q": "no-such-words-here"})
        eq((got, first["count"]), ([], 0), "q with no match")

    with T.case("lists: q=#number and q=number find the ticket by number"):
        n = G[5]["number"]
        got, _ = list_all("gina", {"q": "#%d" % n})
        eq(uuids(got), [G[5]["uuid"]], "q=#%d" % n)
        got, _ = list_all("gina", {"q": "%d" % n})
        eq(uuids(got), [G[5]["uuid"]], "q=%d" % n)

    with T.case("lists: created_after / created_before with dates and date-times"):
        got, _ = list_all("gina", {"created_after": "2000-01-01"})
        eq(set(uuids(got)), allg, "created_after=2000-01-01")
        got, _ = list_all("gina", {"created_before": "2000-01-01"})
        eq(got, [], "created_before=2000-01-01")
        got, _ = list_all("gina", {"created_after": "2999-12-31"})
        eq(got, [], "created_after=2999-12-31")
        got, _ = list_all("gina", {"created_before": "2999-12-31T00:00:00Z"})
        eq(set(uuids(got)), allg, "created_before=2999-12-31T00:00:00Z")
        mid = G[3]["created_at"]
        after, _ = list_all("gina", {"created_after": mid})
        before, _ = list_all("gina", {"created_before": mid})
        a, b = set(uuids(after)), set(uuids(before))
        for t in G:
            if t["created_at"] > mid:
                check(t["uuid"] in a and t["uuid"] not in b, "%s (later) misplaced" % t["subject"])
            if t["created_at"] < mid:
                check(t["uuid"] in b and t["uuid"] not in a, "%s (earlier) misplaced" % t["subject"])
        eq(a | b | {G[3]["uuid"]}, allg, "after + before + boundary")
        check(G[3]["uuid"] in a, "created_after is inclusive: the ticket created at that instant is missing")
        check(G[3]["uuid"] not in b, "created_before is exclusive: the ticket created at that instant is listed")

    with T.case("lists: malformed created_after / created_before: 400"):
        error(C("gina").get(q(created_after="yesterday")), 400, "invalid", ["created_after"])
        error(C("gina").get(q(created_before="2026-13-45")), 400, "invalid", ["created_before"])

    with T.case("lists: assignee filter by id and none; user filter for staff"):
        carol = srv.users["carol"].id
        patch("carol", G[5]["uuid"], {"assignee": carol})
        got, _ = list_all("carol", {"user": gid, "assignee": carol})
        eq(uuids(got), [G[5]["uuid"]], "user=gina&assignee=carol")
        got, _ = list_all("carol", {"user": gid, "assignee": "none"})
        eq(set(uuids(got)), allg - {G[5]["uuid"]}, "user=gina&assignee=none")
        got, first = list_all("dave", {"user": gid})
        eq((set(uuids(got)), first["count"]), (allg, 7), "user=gina for staff")
        got, _ = list_all("gina", {"assignee": carol})
        eq(uuids(got), [G[5]["uuid"]], "gina's own tickets assigned to carol")

    with T.case("lists: malformed assignee / user filter: 400"):
        error(C("carol").get(q(assignee="carol")), 400, "invalid", ["assignee"])
        error(C("carol").get(q(user="x")), 400, "invalid", ["user"])

    with T.case("lists: next/previous keep the filters and ordering"):
        r = C("gina").get(q(priority="low", ordering="number", page_size=1))
        status(r, 200)
        eq(r.json["count"], 2, "low-priority tickets")
        nq = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json["next"] or "").query)
        eq((nq.get("priority"), nq.get("ordering"), nq.get("page_size"), nq.get("page")),
           (["low"], ["number"], ["1"], ["2"]), "query of next")
        r2 = C("gina").get(path_of(r.json["next"]))
        eq([t["priority"] for t in r2.json["results"]], ["low"], "page 2 still filtered")
        check(r2.json["results"][0]["number"] > r.json["results"][0]["number"], "page 2 still ordered by number")

    with T.case("lists: odd q values (%, _, quotes, non-ASCII, '#') give 200, no match"):
        for odd in ("%", "_", "'\"", "é日本", "#", "#abc", "-1", "a" * 150):
            r = C("gina").get(q(q=odd))
            status(r, 200, "q=%s" % short(odd, 20))
            eq(r.json["count"], 0, "matches for q=%s" % short(odd, 20))

    with T.case("lists: a 5000-char q is answered 200 or 400 naming q, never 5xx"):
        r = C("gina").get(q(q="a" * 5000))
        if r.status != 200:
            error(r, 400, "invalid", ["q"])

    with T.case("lists: a malformed %-escape in the query string: 400"):
        r = C("gina").get(TICKETS + "?q=%zz")
        status(r, 400)
        check(envelope_problem(r) is None, envelope_problem(r) or "")

    with T.case("lists: repeated ticket filters or a very long path never give 5xx"):
        for path in (TICKETS + "?status=open&status=closed", TICKETS + "?page_size=2&page_size=3",
                     TICKETS + "x" * 4000 + "/", TICKETS + "?" + "&".join("f%d=1" % i for i in range(300))):
            r = C("gina").get(path)
            check(r.status < 500, "%s -> %d" % (short(path, 60), r.status))
            if r.status >= 400:
                check(r.status == 414 or envelope_problem(r) is None,
                      "%s: %s" % (short(path, 60), envelope_problem(r)))

    with T.case("lists: unknown query parameter: 400 unknown_field naming it"):
        error(C("gina").get(q(foo="1")), 400, "unknown_field", ["foo"])
        error(C("gina").get(TICKETS + "?status=open&colour=red"), 400, "unknown_field", ["colour"])


def test_limit():
    with T.case("max_tickets_per_user (default 10): 11th ticket is 403 ticket_limit_reached"):
        E = [create("erin", "Erin ticket %d" % i, "m").json for i in range(10)]
        S["E"] = E
        snap = snapshot(E[0]["uuid"])
        r = create("erin", "One too many", "m", expect=None)
        error(r, 403, "ticket_limit_reached")
        unchanged(snap)
        eq(C("erin").get(TICKETS).json["count"], 10, "erin's tickets")

    with T.case("max_tickets_per_user: resolving one frees a slot, closing one too"):
        patch("erin", S["E"][0]["uuid"], {"status": "resolved"})
        create("erin", "Fits after resolving", "m")
        error(create("erin", "Too many again", "m", expect=None), 403, "ticket_limit_reached")
        patch("erin", S["E"][1]["uuid"], {"status": "closed"})
        create("erin", "Fits after closing", "m")
        error(create("erin", "Too many again", "m", expect=None), 403, "ticket_limit_reached")
        eq(C("erin").get(TICKETS).json["count"], 12, "erin's tickets")

    with T.case("max_tickets_per_user: the limit is per user (alice still creates)"):
        r = create("alice", "Alice is not limited by erin", "m")
        S["A2"] = r.json


def body_cases_create():
    """(description, raw body, status, code, fields) for POST /tickets/."""
    import json as _j

    def J(d):
        return _j.dumps(d, ensure_ascii=False).encode()
    ok_msg = "hello"
    return [
        ("malformed JSON", b'{"subject": "x", ', 400, "invalid_json", []),
        ("JSON array", b'[{"subject": "x", "initial_message": "y"}]', 400, "invalid_json", []),
        ("JSON string", b'"subject"', 400, "invalid_json", []),
        ("JSON number", b"42", 400, "invalid_json", []),
        ("JSON null", b"null", 400, "invalid_json", []),
        ("empty body", b"", 400, "invalid_json", []),
        ("trailing garbage after the object", b'{"subject": "x", "initial_message": "y"} xyz', 400, "invalid_json", []),
        ("subject a number", J({"subject": 123, "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("subject null", J({"subject": None, "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("subject an object", J({"subject": {"a": 1}, "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("initial_message a number", J({"subject": "s", "initial_message": 5}), 400, "invalid", ["initial_message"]),
        ("initial_message a list", J({"subject": "s", "initial_message": ["x"]}), 400, "invalid", ["initial_message"]),
        ("missing subject", J({"initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("missing initial_message", J({"subject": "s"}), 400, "invalid", ["initial_message"]),
        ("empty object", b"{}", 400, "invalid", ["subject", "initial_message"]),
        ("empty subject", J({"subject": "", "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("whitespace-only subject", J({"subject": " \t\n  ", "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("256-char ASCII subject", J({"subject": "a" * 256, "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("256-char non-ASCII subject (é)", J({"subject": "é" * 256, "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("256-char emoji subject", J({"subject": "\U0001F600" * 256, "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("subject with NUL", J({"subject": "a\u0000b", "initial_message": ok_msg}), 400, "invalid", ["subject"]),
        ("empty initial_message", J({"subject": "s", "initial_message": ""}), 400, "invalid", ["initial_message"]),
        ("whitespace-only initial_message", J({"subject": "s", "initial_message": "  \n\t "}), 400, "invalid", ["initial_message"]),
        ("initial_message of 65537 bytes", J({"subject": "s", "initial_message": "a" * 65537}), 400, "invalid", ["initial_message"]),
        ("initial_message of 65538 bytes (é x 32769)", J({"subject": "s", "initial_message": "é" * 32769}), 400, "invalid", ["initial_message"]),
        ("a deeply nested value", ('{"subject": "s", "initial_message": "m", "x": %s1%s}' % ("[" * 5000, "]" * 5000)).encode(),
         400, None, []),
        ("unknown priority", J({"subject": "s", "initial_message": ok_msg, "priority": "asap"}), 400, "invalid", ["priority"]),
        ("numeric priority", J({"subject": "s", "initial_message": ok_msg, "priority": 1}), 400, "invalid", ["priority"]),
        ("unknown field", J({"subject": "s", "initial_message": ok_msg, "foo": 1}), 400, "unknown_field", ["foo"]),
        ("a second unknown field", J({"subject": "s", "initial_message": ok_msg, "colour": "red"}), 400, "unknown_field", ["colour"]),
        ("is_internal on create", J({"subject": "s", "initial_message": ok_msg, "is_internal": True}), 400, "unknown_field", ["is_internal"]),
    ]


def test_bad_input():
    A = S["A"]["uuid"]
    alice = C("alice")
    snap = snapshot(A)

    for what, body, st, code, fields in body_cases_create():
        with T.case("create ticket with %s: %d %s, nothing created" % (what, st, code or "error")):
            r = alice.request("POST", TICKETS, body=body)
            if code:
                error(r, st, code, fields)
            else:
                status(r, st)
                check(envelope_problem(r) is None, envelope_problem(r) or "")
            unchanged(snap)

    with T.case("create ticket with invalid UTF-8 in a string: 400, nothing created"):
        r = alice.request("POST", TICKETS, body=b'{"subject": "caf\xe9\xff", "initial_message": "x"}')
        status(r, 400)
        check(envelope_problem(r) is None, envelope_problem(r) or "")
        check(r.json["error"]["code"] in ("invalid", "invalid_json"), "code %r" % r.json["error"]["code"])
        unchanged(snap)

    with T.case("create ticket with Content-Type text/plain: 415 unsupported_media_type, nothing created"):
        r = alice.request("POST", TICKETS, body=b'{"subject": "s", "initial_message": "m"}', content_type="text/plain")
        error(r, 415, "unsupported_media_type")
        unchanged(snap)

    with T.case("create ticket with a body over the cap (Content-Length 300000): 413, nothing created"):
        body = ('{"subject": "big", "initial_message": "%s"}' % ("x" * (300000 - 41))).encode()
        eq(len(body), 300000, "test body size")
        r = alice.request("POST", TICKETS, body=body)
        error(r, 413, "payload_too_large")
        unchanged(snap)

    with T.case("huge Content-Length header without a body: 413 within 5 s"):
        req = ("POST /api/support/tickets/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n"
               % (srv.port, srv.users["alice"].token)).encode()
        st, raw, secs = raw_request(srv.port, req, timeout=8)
        check(st == 413, "status %r after %.1fs: %s" % (st, secs, short(raw.decode("utf-8", "replace"), 300)))
        check(secs < 5, "413 took %.1f s" % secs)
        check(b"payload_too_large" in raw, "no payload_too_large error code in the body: %s" % short(raw, 300))
        unchanged(snap)

    # A message POST may carry files (docs/attachments.md): the web server
    # lets its path send up to the upload cap (max_body_bytes and
    # max_attachments_per_message files of max_attachment_bytes), and the
    # program holds a JSON body to max_body_bytes once it has it; an
    # announced length over the upload cap is refused at once.
    with T.case("huge Content-Length on a message POST without body: 413 within 5 s"):
        req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n{\"content\""
               % (msgs(A), srv.users["alice"].token)).encode()
        st, raw, secs = raw_request(srv.port, req, timeout=8)
        check(st == 413 and secs < 5, "status %r after %.1fs" % (st, secs))
        unchanged(snap)

    msg_cases = [
        ("malformed JSON", b'{"content": ', 400, "invalid_json", []),
        ("JSON array", b'["x"]', 400, "invalid_json", []),
        ("missing content", b"{}", 400, "invalid", ["content"]),
        ("empty content", b'{"content": ""}', 400, "invalid", ["content"]),
        ("whitespace-only content", b'{"content": " \\n\\t "}', 400, "invalid", ["content"]),
        ("numeric content", b'{"content": 5}', 400, "invalid", ["content"]),
        ("null content", b'{"content": null}', 400, "invalid", ["content"]),
        ("content of 65537 bytes", ('{"content": "%s"}' % ("a" * 65537)).encode(), 400, "invalid", ["content"]),
        ("content of 65538 bytes (é x 32769)", ('{"content": "%s"}' % ("é" * 32769)).encode(), 400, "invalid", ["content"]),
        ("content with NUL", b'{"content": "a\\u0000b"}', 400, "invalid", ["content"]),
        ("unknown field", b'{"content": "x", "extra": 1}', 400, "unknown_field", ["extra"]),
        ("is_internal of the wrong type", b'{"content": "x", "is_internal": "yes"}', 400, "invalid", ["is_internal"]),
    ]
    for what, body, st, code, fields in msg_cases:
        with T.case("post message with %s: %d %s, nothing added" % (what, st, code)):
            error(alice.request("POST", msgs(A), body=body), st, code, fields)
            unchanged(snap)

    with T.case("post message with a body over the cap: 413 payload_too_large, nothing added"):
        error(alice.request("POST", msgs(A), body=('{"content": "%s"}' % ("y" * 300000)).encode()),
              413, "payload_too_large")
        unchanged(snap)

    with T.case("user posts with is_internal true: 403 forbidden, nothing added"):
        error(post_msg("alice", A, "let me hide this", expect=None, is_internal=True), 403, "forbidden")
        unchanged(snap)

    with T.case("staff is_internal of the wrong type: 400 invalid"):
        error(C("carol").request("POST", msgs(A), body=b'{"content": "x", "is_internal": "true"}'),
              400, "invalid", ["is_internal"])
        unchanged(snap)

    patch_cases = [
        ("malformed JSON", b'{"status": ', 400, "invalid_json", []),
        ("JSON array", b'[]', 400, "invalid_json", []),
        ("unknown field", b'{"bogus": 1}', 400, "unknown_field", ["bogus"]),
        ("unknown field next to a valid one", b'{"status": "resolved", "bogus": 1}', 400, "unknown_field", ["bogus"]),
        ("read-only field number", b'{"number": 1}', 400, None, ["number"]),
        ("unknown status", b'{"status": "done"}', 400, "invalid", ["status"]),
    ]
    for what, body, st, code, fields in patch_cases:
        with T.case("PATCH ticket with %s: %d, nothing changes" % (what, st)):
            r = C("carol").request("PATCH", tk(A), body=body)
            if code:
                error(r, st, code, fields)
            else:
                status(r, st)
                check(envelope_problem(r) is None, envelope_problem(r) or "")
                check(r.json["error"]["code"] in ("invalid", "unknown_field"), "code %r" % r.json["error"]["code"])
                check("number" in (r.json["error"].get("fields") or {}), "fields does not name number")
            unchanged(snap)

    with T.case("PATCH with Content-Type text/plain: 415, nothing changes"):
        error(C("carol").request("PATCH", tk(A), body=b'{"priority": "low"}', content_type="text/plain"),
              415, "unsupported_media_type")
        unchanged(snap)

    with T.case("unknown query parameter on ticket detail: 400 unknown_field"):
        error(alice.get(tk(A) + "?x=1"), 400, "unknown_field", ["x"])

    with T.case("unknown query parameter on messages list: 400 unknown_field"):
        error(alice.get(msgs(A, "bar=1")), 400, "unknown_field", ["bar"])

    rand = str(uuidlib.uuid4())
    bad_paths = [
        ("not a uuid", TICKETS + "not-a-uuid/"),
        ("a number", TICKETS + "12345/"),
        ("uuid with an extra char", tk(A + "0")),
        ("uuid without dashes", tk(A.replace("-", ""))),
        ("uuid with a non-hex char", tk("g" + A[1:])),
        ("uuid in braces", tk("{" + A + "}")),
        ("unknown well-formed uuid", tk(rand)),
        ("messages of a malformed uuid", TICKETS + "xyz/messages/"),
        ("messages of an unknown uuid", msgs(rand)),
        ("ticket path without trailing slash", TICKETS + A),
        ("list path without trailing slash", TICKETS[:-1]),
        ("unknown route", API + "/nope/"),
        ("unknown sub-route of a ticket", tk(A) + "frobnicate/"),
    ]
    for what, path in bad_paths:
        with T.case("GET %s: 404 not_found" % what):
            error(alice.get(path), 404, "not_found")

    with T.case("POST to a malformed / unknown ticket uuid: 404, nothing added"):
        error(alice.post(TICKETS + "not-a-uuid/messages/", {"content": "x"}), 404, "not_found")
        error(alice.post(msgs(rand), {"content": "x"}), 404, "not_found")
        error(alice.patch(tk(rand), {"status": "resolved"}), 404, "not_found")
        unchanged(snap)

    methods = [
        ("DELETE", TICKETS, {"GET", "POST"}),
        ("PUT", TICKETS, {"GET", "POST"}),
        ("PUT", tk(A), {"GET", "PATCH"}),
        ("DELETE", tk(A), {"GET", "PATCH"}),
        ("POST", tk(A), {"GET", "PATCH"}),
        ("DELETE", msgs(A), {"GET", "POST"}),
        ("PATCH", msgs(A), {"GET", "POST"}),
    ]
    for m, path, allow in methods:
        with T.case("%s %s: 405 method_not_allowed with Allow" % (m, path.replace(A, "{uuid}"))):
            r = alice.request(m, path, body=b"{}")
            error(r, 405, "method_not_allowed")
            got = {x.strip().upper() for x in (r.header("Allow") or "").split(",") if x.strip()}
            check(allow <= got, "Allow %r lacks %s" % (r.header("Allow"), sorted(allow - got)))
            unchanged(snap)

    with T.case("order of checks: wrong method without credentials is 405, unknown route is 404"):
        anon = srv.client()
        error(anon.request("DELETE", TICKETS), 405, "method_not_allowed")
        error(anon.get(API + "/nope/"), 404, "not_found")

    with T.case("order of checks: oversized body without credentials is 413"):
        error(srv.client().request("POST", TICKETS, body=b"x" * 300000), 413, "payload_too_large")
        unchanged(snap)


def test_boundaries():
    cases = [
        ("255-char ASCII subject", "a" * 255, "m"),
        ("255-char non-ASCII subject (é)", "é" * 255, "m"),
        ("255-char emoji subject", "\U0001F600" * 255, "m"),
        ("255 chars plus surrounding whitespace", "   " + "b" * 255 + "\t ", "m"),
        ("initial_message of 65536 bytes", "big one", "c" * 65536),
        ("initial_message of 65536 bytes non-ASCII (é x 32768)", "big é", "é" * 32768),
    ]
    for what, subject, message in cases:
        with T.case("create ticket with %s: 201 and stored as sent" % what):
            r = create("ivan", subject, message)
            t = detail("ivan", r.json["uuid"])
            eq(t["subject"].strip(), subject.strip(), "subject")
            eq(t["messages"][0]["content"], message, "first message")

    A = S["A"]["uuid"]
    with T.case("post a message of exactly 65536 bytes (é x 32768): 201, content intact"):
        r = post_msg("alice", A, "é" * 32768)
        rr = C("alice").get(msgs(A, "after=" + S["A_m1"]))
        got = [m for m in rr.json if m["uuid"] == r.json["uuid"]]
        eq(len(got), 1, "message in thread")
        eq(got[0]["content"], "é" * 32768, "content")

    with T.case("non-ASCII, quotes, markup in content round-trip; content_html is escaped"):
        s = 'Ünïcödé «quotes» "dq" \\ back <script>alert(1)</script> & 日本語 \U0001F600'
        r = post_msg("alice", A, s)
        eq(r.json["content"], s, "content")
        check("<script>" not in r.json["content_html"], "content_html contains raw <script>: %r" % r.json["content_html"])

    with T.case("content is stored trimmed of surrounding whitespace"):
        r = post_msg("alice", A, "  \n  padded message \t\n ")
        eq(r.json["content"], "padded message", "content")
        eq(C("alice").get(msgs(A)).json[-1]["content"], "padded message", "stored content")

    with T.case("content_html: Markdown rendered, raw HTML and javascript: links dropped"):
        r = post_msg("alice", A, "**bold** and [link](javascript:alert(1)) and <img src=x onerror=alert(1)>")
        h = r.json["content_html"]
        check("<strong>bold</strong>" in h, "Markdown not rendered: %r" % h)
        check("javascript:" not in h.lower(), "javascript: link kept: %r" % h)
        check("<img" not in h.lower() and "onerror" not in h.lower(), "raw HTML kept: %r" % h)

    with T.case("user may send is_internal false"):
        r = post_msg("alice", A, "explicitly public", is_internal=False)
        eq(r.json["is_internal"], False, "is_internal")


def test_http_details():
    A = S["A"]["uuid"]
    tok = srv.users["alice"].token

    with T.case("HEAD on the list and on a ticket: 200, no body"):
        for path in (TICKETS, tk(A)):
            r = C("alice").request("HEAD", path)
            status(r, 200, "HEAD " + path)
            eq(r.body, b"", "HEAD body")

    with T.case("after a new message the ticket's updated_at is not older than the message"):
        m = post_msg("alice", A, "timestamps check").json
        t = detail("alice", A)
        check(t["updated_at"] >= m["created_at"], "updated_at %s < message created_at %s"
              % (t["updated_at"], m["created_at"]))
        check(m["created_at"] >= t["created_at"], "message older than its ticket")
        eq(t["last_message"]["uuid"], m["uuid"], "last_message")

    with T.case("keep-alive: many requests on one connection, errors included, all answered right"):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
        seq = [("GET", TICKETS, None, 200), ("POST", msgs(A), b'{"content": "ka 1"}', 201),
               ("POST", msgs(A), b'{"content": ', 400), ("GET", TICKETS + "nope/", None, 404),
               ("DELETE", TICKETS, None, 405), ("POST", msgs(A), b'{"content": "x", "bogus": 1}', 400),
               ("GET", msgs(A), None, 200), ("POST", msgs(A), b'{"content": "ka 2"}', 201),
               ("PATCH", tk(A), b'{"status": "bogus"}', 400), ("GET", tk(A), None, 200)]
        try:
            for i, (m, path, body, want) in enumerate(seq * 2):
                conn.request(m, path, body=body, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                check(resp.status == want, "request %d %s %s: %d, wanted %d: %s" % (
                    i, m, path, resp.status, want, short(data.decode("utf-8", "replace"))))
        finally:
            conn.close()
        r = C("alice").get(msgs(A))
        eq(sum(1 for x in r.json if x["content"] in ("ka 1", "ka 2")), 4, "keep-alive messages stored")

    with T.case("a body sent slowly in pieces is read whole: 201"):
        body = b'{"content": "slowly sent message"}'
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (msgs(A), tok, len(body))).encode()
        import socket as _s
        sk = _s.create_connection(("127.0.0.1", srv.port), timeout=15)
        try:
            sk.sendall(head)
            for i in range(0, len(body), 12):
                time.sleep(0.3)
                sk.sendall(body[i:i + 12])
            got = b""
            while True:
                chunk = sk.recv(65536)
                if not chunk:
                    break
                got += chunk
        finally:
            sk.close()
        check(got.startswith(b"HTTP/1.1 201"), "response: %s" % short(got.decode("utf-8", "replace"), 300))
        check(b"slowly sent message" in got, "message not echoed")

    with T.case("a chunked request body (no Content-Length): 201 or 411, never a wrong write"):
        snap = snapshot(A)
        body = b'{"content": "chunked body message"}'
        req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               % (msgs(A), tok)).encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        st, raw, secs = raw_request(srv.port, req, timeout=10)
        check(st in (201, 411), "status %r: %s" % (st, short(raw.decode("utf-8", "replace"), 300)))
        if st == 201:
            r = C("alice").get(msgs(A))
            eq(r.json[-1]["content"], "chunked body message", "stored content")
        else:
            unchanged(snap)

    with T.case("Authorization scheme names are case-insensitive (bearer, BASIC)"):
        status(srv.client().with_auth("bearer " + tok).get(TICKETS), 200, "lowercase bearer")
        u = srv.users["alice"]
        status(srv.client().with_auth(basic(u.name, u.password).replace("Basic", "BASIC")).get(TICKETS), 200,
               "uppercase BASIC")


def test_final_checks():
    with T.case("every error response in this run had the error envelope"):
        bad = [(m, p, s, why) for (m, p, s, why) in SEEN if s >= 400 and why]
        check(not bad, "%d error responses without the envelope, e.g.: %s" % (
            len(bad), "; ".join("%s %s -> %d: %s" % (m, short(p, 60), s, why) for m, p, s, why in bad[:5])))

    with T.case("no 5xx response in the whole run"):
        bad = [(m, p, s) for (m, p, s, why) in SEEN if s >= 500]
        check(not bad, "%d 5xx responses: %s" % (len(bad), bad[:5]))

    with T.case("security headers on API responses (nosniff, X-Frame-Options)"):
        for r in (C("alice").get(TICKETS), C("alice").get(API + "/nope/")):
            eq((r.header("X-Content-Type-Options") or "").lower(), "nosniff", "X-Content-Type-Options on %d" % r.status)
            eq((r.header("X-Frame-Options") or "").upper(), "DENY", "X-Frame-Options on %d" % r.status)

    if srv.mode == "nginx":
        with T.case("the programs' FastCGI sockets are mode 0660: no other local user can speak to them"):
            socks = [os.path.join(srv.var, "run", p + ".sock") for p in PROGRAMS]
            modes = {os.path.basename(p): oct(os.stat(p).st_mode & 0o777) for p in socks}
            check(all(m == "0o660" for m in modes.values()), "socket modes: %s" % modes)

    with T.case("max_tickets_per_user from support.conf (3) after a restart; data survives the restart"):
        srv.stop()
        set_conf_key(srv.conf, "support", "max_tickets_per_user", "3")
        srv.start()
        t = detail("alice", S["A"]["uuid"])
        eq(t["subject"], "Printer on fire (floor 3)", "ticket A after restart")
        for i in range(3):
            create("frank", "Frank %d" % i, "m")
        error(create("frank", "Frank 4", "m", expect=None), 403, "ticket_limit_reached")
        error(create("erin", "Erin over 3", "m", expect=None), 403, "ticket_limit_reached")
        f = C("frank").get(TICKETS).json["results"]
        patch("frank", f[0]["uuid"], {"status": "resolved"})
        create("frank", "Frank fits again", "m")

    with T.case("max_tickets_per_user does not apply to staff"):
        for i in range(5):
            create("carol", "Agent-opened ticket %d" % i, "m")

    with T.case("supportctl close_old_tickets --days N closes what was resolved N days ago or more, nothing else"):
        old = create("judy", "Judy: resolved, then closed by the desk").json["uuid"]
        patch("judy", old, {"status": "resolved"})
        kept = create("judy", "Judy: still open").json["uuid"]
        p = srv.ctl("close_old_tickets", "--days", "1")
        eq(p.returncode, 0, "exit status (--days 1)")
        eq(C("judy").get(tk(old)).json["status"], "resolved", "resolved a moment ago: not a day old, not closed")
        p = srv.ctl("close_old_tickets", "--days", "0")
        out = p.stdout.decode(errors="replace")
        eq(p.returncode, 0, "exit status (--days 0): %s" % short(p.stderr.decode(errors="replace")))
        check(re.search(r"^[1-9][0-9]* tickets? closed$", out.strip()), "summary: %r" % out)
        t = C("judy").get(tk(old)).json
        eq(t["status"], "closed", "the resolved ticket is closed")
        check(t["closed_at"] and t["resolved_at"], "closed_at set, resolved_at kept: %s" % short(t))
        error(post_msg("judy", old, "one more thing", expect=None), 409, "ticket_closed")
        eq(C("judy").get(tk(kept)).json["status"], "open", "an open ticket is left alone")
        eq(C("dave").get(q(status="resolved", page_size=1)).json["count"], 0, "no resolved ticket left")
        for bad in (["--days"], ["--days", "-1"], ["--days", "x"], ["--weeks", "1"]):
            p = srv.ctl("close_old_tickets", *bad)
            eq(p.returncode, 2, "close_old_tickets %s: usage error" % " ".join(bad))

    with T.case("supportctl db verify exits 0 after the run (server stopped)"):
        srv.stop()
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "exit %d: %s %s" % (p.returncode, short(p.stdout.decode(errors="replace")),
                                                     short(p.stderr.decode(errors="replace"))))

    check_no_leftovers(srv)


def main():
    global srv
    srv = standard_server(extra_users=[("erin", "user"), ("frank", "user"), ("gina", "user"), ("ivan", "user"),
                                      ("judy", "user")])
    log("%s on 127.0.0.1:%d, var %s" % (srv.mode, srv.port, srv.var))
    for fn in (test_auth, test_create, test_messages, test_status_machine, test_internal_notes,
               test_patch_and_users, test_isolation, test_lists, test_limit, test_bad_input,
               test_boundaries, test_http_details, test_final_checks):
        log(fn.__name__)
        try:
            fn()
        except Exception as e:  # noqa: BLE001 -- a broken section must not stop the others
            T.ok(False, "%s ran to the end" % fn.__name__, "exception: %r" % (e,))


if __name__ == "__main__":
    run_main(main)
