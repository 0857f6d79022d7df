#!/usr/bin/env python3
"""Retention and erasure (docs/data.md), behind the real web server with the
test clock:

- `supportctl purge_old_tickets [--dry-run]`: closed tickets untouched for
  ticket_retention_days go with their messages; the lists and counts are
  right at once; `db verify` is clean after; the events about them are
  emptied; --dry-run changes nothing.
- `supportctl user export NAME`: everything the desk holds about a user.
- `supportctl user erase NAME`: the account and its personal data go; its
  messages stay, their author shown as a deleted user; the name and e-mail
  are in no record of any .db file of the store (`db5.3_dump`); the last
  admin cannot be erased.
- support-mailin's kept Message-IDs (mail_seen.db, docs/mailin.md): the
  entry of a purged ticket's mail and the entries of an erased user's
  mails go with them (their keys computed here as the desk does).

Run from the repo root of a built tree:  python3 tests/http/test_purge.py
"""

import glob
import hashlib
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, BUILD, TICKETS, SESSION, Client, check, eq, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_session import Browser  # noqa: E402

DAY = 86400
RETENTION = 30
SUPPORT = "help@example.com"
MAILIN = os.path.join(BUILD, "bin", "support-mailin")

srv = None
carol_id = None


def worker_once():
    """One pass of support-worker, as the store's owner: the event log's
    consumer (mail) reads what is there, so a purge or the dumps that
    follow do not race the worker run.sh keeps running."""
    owner = srv.store_owner()

    def become_owner():
        os.setgroups([])
        os.setgid(owner[1])
        os.setuid(owner[0])

    p = subprocess.run([os.path.join(BUILD, "bin", "support-worker"), "--once", "--conf", srv.conf],
                       env=srv.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       preexec_fn=become_owner if owner else None)
    check(p.returncode == 0, "support-worker --once: %s" % p.stderr.decode(errors="replace"))


def as_owner():
    owner = srv.store_owner()

    def become_owner():
        os.setgroups([])
        os.setgid(owner[1])
        os.setuid(owner[0])
    return become_owner if owner else None


def outbox():
    return [json.loads(l) for l in ctl_ok("outbox", "list").splitlines() if l.strip()]


def mail_in(sender, subject):
    """A new mail from sender to the desk through support-mailin: 0."""
    data = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n"
            "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nPlease help.\r\n" % (
                sender, SUPPORT, subject, subject.replace(" ", "."))).encode()
    e = srv.env()
    e["SUPPORT_CONF"] = srv.conf
    p = subprocess.run([MAILIN], input=data, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, preexec_fn=as_owner())
    eq(p.returncode, 0, "support-mailin: %s" % p.stderr.decode(errors="replace"))


def ctl_ok(*args, input=None):
    p = srv.ctl(*args, input=input)
    check(p.returncode == 0, "supportctl %s: exit %d: %s %s" % (
        " ".join(args), p.returncode, p.stdout.decode(errors="replace"),
        p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def events():
    return [json.loads(l) for l in ctl_ok("events").splitlines()]


def verify_clean():
    out = ctl_ok("db", "verify")
    check("0 problems found" in out, "db verify: %s" % out)


def seen_key(sender, subject):
    """The hex of mail_seen's key of mail_in(sender, subject)'s new mail
    (mailin_seen_key: tag, ticket number 0 for a new mail, the address in
    lower case, the Message-ID, its domain in lower case)."""
    msgid = "%s@example.org" % subject.replace(" ", ".")
    return hashlib.sha256(b"support-mailin-seen-v1\0" + b"\0\0\0\0" + sender.lower().encode() +
                          b"\0" + msgid.encode()).hexdigest()


def seen_keys():
    """The keys of mail_seen.db's records, in hex (db5.3_dump)."""
    data = os.path.join(srv.var, "data")
    p = subprocess.run(["db5.3_dump", "-h", data, os.path.join(data, "mail_seen.db")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "db5.3_dump: %s" % p.stderr.decode(errors="replace"))
    lines = p.stdout.decode().split("HEADER=END\n", 1)[1].splitlines()
    return [l.strip() for l in lines if l.startswith(" ")][0::2]


def make(client, subject, message="Hello."):
    r = client.post(TICKETS, {"subject": subject, "initial_message": message})
    status(r, 201, "open %r" % subject)
    return r.json["uuid"]


def close(uuid):
    status(srv.client("carol").patch(TICKETS + uuid + "/", {"status": "closed"}), 200, "close")


def staff_view():
    """What staff see: every list's count and uuids, by status and by customer."""
    dave = srv.client("dave")
    out = {}
    for q in ("", "status=closed", "status=open", "status=resolved"):
        r = dave.get(TICKETS + "?page_size=100&" + q)
        status(r, 200, "list " + q)
        out[q] = (r.json["count"], sorted(t["uuid"] for t in r.json["results"]))
    for name in ("alice", "bob"):
        r = srv.client(name).get(TICKETS + "?page_size=100")
        out[name] = (r.json["count"], sorted(t["uuid"] for t in r.json["results"]))
    return out


def dump_one(name):
    data = os.path.join(srv.var, "data")
    p = subprocess.run(["db5.3_dump", "-p", "-h", data, os.path.join(data, name)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "db5.3_dump %s: %s" % (name, p.stderr.decode(errors="replace")))
    return p.stdout


def dump_all():
    """db5.3_dump -p of every .db file of the store, as one text."""
    data = os.path.join(srv.var, "data")
    out = []
    for f in sorted(glob.glob(os.path.join(data, "*.db"))):
        p = subprocess.run(["db5.3_dump", "-p", "-h", data, f], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        check(p.returncode == 0, "db5.3_dump %s: %s" % (f, p.stderr.decode(errors="replace")))
        out.append(p.stdout.decode("utf-8", errors="replace"))
    return "\n".join(out)


def test_purge():
    alice, bob, carol = srv.client("alice"), srv.client("bob"), srv.client("carol")
    old_a = make(alice, "Old closed one", "first")
    r = carol.post(TICKETS + old_a + "/messages/", {"content": "an answer"})
    status(r, 201)
    global carol_id
    carol_id = r.json["sender"]["id"]
    # The audit log keeps a subject change and a message's text before an
    # edit: the purge must take both from its rows.
    status(carol.patch(TICKETS + old_a + "/messages/" + r.json["uuid"] + "/",
                       {"content": "an edited answer"}), 200, "edit")
    status(carol.patch(TICKETS + old_a + "/", {"subject": "Old closed one (renamed)"}), 200, "rename")
    status(carol.post(TICKETS + old_a + "/messages/", {"content": "a note", "is_internal": True}), 201)
    close(old_a)
    # By mail: support-mailin keeps its Message-ID, which the purge removes.
    mail_in("bob@example.com", "Old closed two")
    old_b = [t["uuid"] for t in bob.get(TICKETS + "?page_size=100").json["results"]
             if t["subject"] == "Old closed two"][0]
    close(old_b)
    old_touched = make(bob, "Old closed, then changed")
    close(old_touched)
    old_resolved = make(alice, "Old resolved, not closed")
    status(carol.patch(TICKETS + old_resolved + "/", {"status": "resolved"}), 200)
    old_open = make(alice, "Old open one")
    srv.move_clock(RETENTION * DAY - 3600)
    # Changed an hour before the others pass their retention: kept.
    status(carol.patch(TICKETS + old_touched + "/", {"priority": "high"}), 200)
    srv.move_clock(3600 + 60)
    new_closed = make(alice, "New closed one")
    close(new_closed)
    purged = {old_a, old_b}
    kept = {old_touched, old_resolved, old_open, new_closed}

    with T.case("--dry-run counts what would go and changes nothing"):
        worker_once()
        mails = [d for d in outbox() if d.get("ticket") in purged]
        check(mails and all(d["state"] == "pending" for d in mails),
              "pending mails about the tickets to purge: %s" % mails)
        before, evs, dump = staff_view(), events(), dump_all()
        check("Old closed one" in dump and "an answer" in dump, "the dump holds the tickets' texts")
        rows = audit_rows(ticket=old_a)
        check(any(c["from"] == "an answer" for r in rows for c in r["changed"]), "the edit's row: %s" % rows)
        check(any(c["from"] == "Old closed one" for r in rows for c in r["changed"]), "the rename's row")
        audit_before = audit_rows()
        check(seen_key("bob@example.com", "Old closed two") in seen_keys(),
              "mail_seen.db keeps the Message-ID of the mail that made one: %s" % seen_keys())
        out = ctl_ok("purge_old_tickets", "--dry-run")
        check("2 tickets (4 messages) would be purged" in out, "dry run says: %r" % out)
        eq(staff_view(), before, "the lists")
        eq(events(), evs, "the event log")
        eq(dump_all(), dump, "every record of the store")

    stats_url = "/api/support/stats/?days=%d" % (RETENTION + 2)
    stats_before = srv.client("dave").get(stats_url).json
    with T.case("purge_old_tickets: the old closed tickets go, the rest stay"):
        seqs = {e["seq"] for e in events() if e.get("ticket") in purged}
        check(seqs, "events about the purged tickets before")
        out = ctl_ok("purge_old_tickets")
        check(out.startswith("2 tickets (4 messages) purged; %d events emptied" % len(seqs)),
              "says: %r" % out)
        check(out.splitlines()[0].endswith("; %d mails of the outbox dropped" % len(mails)), "says: %r" % out)
        left = outbox()
        eq([d for d in left if d.get("ticket") in purged], [], "mails about purged tickets")
        check(any(d.get("ticket") == old_touched for d in left), "a kept ticket's mails stay")
        dave = srv.client("dave")
        for u in purged:
            eq(dave.get(TICKETS + u + "/").status, 404, "purged %s" % u)
            eq(dave.get(TICKETS + u + "/messages/").status, 404, "messages of %s" % u)
        for u in kept:
            status(dave.get(TICKETS + u + "/"), 200, "kept %s" % u)

    with T.case("the statistics keep the purged tickets' numbers; only the count of closed ones now drops"):
        r = srv.client("dave").get(stats_url)
        status(r, 200)
        eq(stats_before["total_tickets"], 6, "every ticket in the window before")
        for k in stats_before:
            if k != "tickets_by_status":
                eq(r.json[k], stats_before[k], "%s after the purge" % k)
        closed = lambda st: [x["count"] for x in st["tickets_by_status"] if x["status"] == "closed"][0]  # noqa
        eq(closed(r.json), closed(stats_before) - 2, "closed tickets now: two fewer")

    with T.case("lists and counts right after"):
        v = staff_view()
        eq(v[""], (4, sorted(kept)), "all")
        eq(v["status=closed"], (2, sorted([old_touched, new_closed])), "closed")
        eq(v["status=resolved"], (1, [old_resolved]), "resolved")
        eq(v["alice"], (3, sorted([old_resolved, old_open, new_closed])), "alice's")
        eq(v["bob"], (1, [old_touched]), "bob's")

    with T.case("db verify is clean after the purge"):
        verify_clean()

    with T.case("the Message-ID of the purged ticket's mail is no longer kept"):
        check(seen_key("bob@example.com", "Old closed two") not in seen_keys(),
              "mail_seen.db: %s" % seen_keys())

    with T.case("the events about purged tickets are emptied, their numbers kept; others whole"):
        evs = events()
        eq([e["seq"] for e in evs], list(range(1, len(evs) + 1)), "no hole in the numbering")
        for e in evs:
            if e["seq"] in seqs:
                eq(sorted(e), sorted(["seq", "id", "at", "type", "actor", "purged"]), "event %d" % e["seq"])
            check(e.get("ticket") not in purged, "event %d names a purged ticket" % e["seq"])
        check(any(e.get("ticket") == old_touched for e in evs), "a kept ticket's events are there")
        text = json.dumps(evs)
        check("Old closed one" not in text and "Old closed two" not in text, "purged subjects in the log")
        dump = dump_all()
        for word in ("Old closed one", "Old closed two", "an answer", "a note"):
            check(word not in dump, "%r still in a record of the store" % word)
        check("Old open one" in dump, "a kept ticket's subject is")

    with T.case("the audit rows of purged tickets are emptied: who and when stay, no ticket, no text"):
        for u in purged:
            eq(audit_rows(ticket=u), [], "the rows found by the purged ticket %s" % u)
        rows = audit_rows()
        eq(len(rows), len(audit_before), "no row removed")
        emptied = [r for r in rows if r.get("purged")]
        check(emptied, "emptied rows")
        for r in rows:
            check(r.get("ticket") not in purged, "a row names a purged ticket: %s" % r)
        for r in emptied:
            check("ticket" not in r and "changes" not in r and "data" not in r and "addr" not in r
                  and "message" not in r, "an emptied row: %s" % r)
            eq(r["changed"], [], "no change listed")
        check(any(r["type"] == "message.edited" and r["actor"] == carol_id for r in emptied),
              "the edit's row keeps its type and actor")
        check(any(r["type"] == "ticket.updated" and r.get("ticket") == old_touched for r in rows),
              "a kept ticket's rows are whole")

    with T.case("a second purge finds nothing more"):
        out = ctl_ok("purge_old_tickets")
        check(out.startswith("0 tickets (0 messages) purged; 0 events emptied"), "says: %r" % out)
        check(out.splitlines()[0].endswith("; 0 mails of the outbox dropped"), "says: %r" % out)
        check(out.splitlines()[1] == "0 attachments purged; 0 files no message used any more removed",
              "says: %r" % out)
        verify_clean()

    with T.case("purge_old_tickets refuses other arguments"):
        p = srv.ctl("purge_old_tickets", "--now")
        eq(p.returncode, 2, "exit")
        check(b"--now" in p.stderr, "names it: %r" % p.stderr)
        eq(staff_view()[""][0], 4, "nothing purged")


ERIN, ERIN_EMAIL, ERIN_DISPLAY = "erin-erase", "Erin.Secret@example.org", "Erin Quux-Zed"
ERIN_PW = "pw-erin-Secret-1"


def add_erin():
    ctl_ok("user", "add", ERIN, "--email", ERIN_EMAIL, "--display-name", ERIN_DISPLAY,
           "--password-stdin", input=(ERIN_PW + "\n").encode())
    token = ctl_ok("token", "create", ERIN).strip()
    return Client(srv.port, "Bearer " + token, name=ERIN), token


def test_export_erase():
    erin, token = add_erin()
    carol = srv.client("carol")
    b = Browser(srv.port)
    b.login(ERIN, ERIN_PW)
    r = Browser(srv.port).post(SESSION, {"username": ERIN, "password": "wrong-password"})
    check(r.status >= 400, "a failed login: %d" % r.status)
    t = make(erin, "Erin's printer", "Ask %s at %s, says %s" % ("me", "my address", "I"))
    status(carol.post(TICKETS + t + "/messages/", {"content": "Carol here."}), 201)
    status(erin.post(TICKETS + t + "/messages/", {"content": "Thanks, Carol."}), 201)
    other = make(srv.client("alice"), "Alice's question")
    status(carol.post(TICKETS + other + "/messages/", {"content": "Carol answers Alice."}), 201)

    with T.case("user export: the account without its hash, tokens, sessions, tickets, events"):
        out = json.loads(ctl_ok("user", "export", ERIN))
        eq(sorted(out), sorted(["user", "tokens", "sessions", "saved_views", "canned_responses",
                                "tickets", "messages", "events"]), "members")
        eq(out["user"]["username"], ERIN, "username")
        eq(out["user"]["email"], ERIN_EMAIL, "e-mail")
        eq(out["user"]["display_name"], ERIN_DISPLAY, "display name")
        check("password" not in out["user"], "no password hash")
        eq(len(out["tokens"]), 1, "one token")
        check(token not in json.dumps(out), "the token's secret is not there")
        eq(len(out["sessions"]), 1, "one session")
        eq(sorted(out["sessions"][0]), ["addr", "agent", "created_at", "last_seen_at"], "session metadata only")
        eq([x["uuid"] for x in out["tickets"]], [t], "her ticket")
        eq(out["tickets"][0], api_ticket(t), "as staff see it")
        eq(out["messages"], [], "no message in others' tickets")
        types = [e["type"] for e in out["events"]]
        for ty in ("user.created", "token.created", "login.succeeded", "login.failed", "ticket.created",
                   "message.posted"):
            check(ty in types, "%s among her events: %s" % (ty, types))

    with T.case("user export of an agent: the messages written in customers' tickets"):
        out = json.loads(ctl_ok("user", "export", "carol"))
        eq(sorted(m["content"] for m in out["messages"]), ["Carol answers Alice.", "Carol here."],
           "carol's messages")
        eq(out["tickets"], [], "carol opened no ticket")

    with T.case("user export / erase: bad usage and unknown names"):
        for verb in ("export", "erase"):
            p = srv.ctl("user", verb)
            eq(p.returncode, 2, "%s without a name" % verb)
            p = srv.ctl("user", verb, "nobody-such")
            eq(p.returncode, 1, "%s of an unknown name" % verb)
            check(b"nobody-such" in p.stderr, "names it")

    with T.case("before the erasure: mails to her and about her ticket wait in the outbox, "
                "support-mailin counted her address"):
        mail_in(ERIN_EMAIL, "Erin by mail")
        worker_once()
        box = outbox()
        to_her = [d for d in box if d["to"].lower() == ERIN_EMAIL.lower()]
        check(to_her and all(d["state"] == "pending" for d in to_her), "pending mails to her: %s" % box)
        check(any(d.get("ticket") == t and d["to"] == "team@example.com" for d in box),
              "the team's mail about her ticket")
        others = [d["id"] for d in box if d["to"].lower() != ERIN_EMAIL.lower() and d.get("ticket") == other]
        check(others, "mails about alice's ticket")
        ticket_by_mail = [x for x in json.loads(ctl_ok("user", "export", ERIN))["tickets"]
                          if x["subject"] == "Erin by mail"]
        eq(len(ticket_by_mail), 1, "her mail made a ticket")
        check(ERIN_EMAIL.lower().encode() in dump_one("mail_senders.db").lower(),
              "mail_senders.db holds her address")
        check(seen_key(ERIN_EMAIL, "Erin by mail") in seen_keys(),
              "mail_seen.db holds her mail's key: %s" % seen_keys())

    dump = dump_all().lower()
    check(ERIN.lower() in dump and ERIN_EMAIL.lower() in dump, "the dump holds her name before")

    with T.case("user erase: the name and e-mail are in no record of the store"):
        out = ctl_ok("user", "erase", ERIN)
        check(out.startswith("erased user %s" % ERIN), "says: %r" % out)
        check(" 1 mail-in count, 1 mail-in Message-ID removed" in out, "says: %r" % out)
        check(seen_key(ERIN_EMAIL, "Erin by mail") not in seen_keys(), "her mail's key is gone")
        dump = dump_all().lower()
        for word in (ERIN, ERIN_EMAIL, ERIN_DISPLAY):
            check(word.lower() not in dump, "%r still in a db5.3_dump of the store" % word)

    with T.case("after the erasure: no mail to her or about her tickets in the outbox, others stay"):
        box = outbox()
        eq([d for d in box if d["to"].lower() == ERIN_EMAIL.lower() or d.get("ticket") == t], [],
           "her mails")
        left = {d["id"] for d in box}
        check(all(i in left for i in others), "the mails about alice's ticket stay")
        check(ERIN_EMAIL.lower().encode() not in dump_one("mail_senders.db").lower(),
              "mail_senders.db has forgotten her")

    with T.case("after the erasure: staff read the ticket, the author shown as a deleted user"):
        tk = api_ticket(t)
        eq([m["content"] for m in tk["messages"]],
           ["Ask me at my address, says I", "Carol here.", "Thanks, Carol."], "the thread is whole")
        for m in (tk["messages"][0], tk["messages"][2]):
            eq(m["sender"]["display_name"], "Deleted user", "the author's display name")
            check(m["sender"]["username"].startswith("Deleted user"), "username %r" % m["sender"]["username"])
        eq(tk["user"]["display_name"], "Deleted user", "the customer")
        eq(tk["user"].get("email"), "", "no e-mail")
        eq(erin.get(TICKETS).status, 401, "her token is gone")
        eq(b.get(TICKETS).status in (401, 403), True, "her session is gone")
        r = Browser(srv.port).post(SESSION, {"username": ERIN, "password": ERIN_PW})
        check(r.status >= 400, "she cannot log in: %d" % r.status)
        verify_clean()

    with T.case("the name is free again; erasing an erased account again changes nothing"):
        p = srv.ctl("user", "erase", "Deleted user %d" % tk["user"]["id"])
        eq(p.returncode, 0, "again: %s" % p.stderr)
        verify_clean()

    with T.case("the last active admin cannot be erased"):
        ctl_ok("user", "disable", "admin")
        p = srv.ctl("user", "erase", "dave")
        eq(p.returncode, 1, "refused")
        check(b"last active admin" in p.stderr, "says why: %r" % p.stderr)
        status(srv.client("dave").get(TICKETS), 200, "dave still works")
        out = json.loads(ctl_ok("user", "export", "dave"))
        eq(out["user"]["username"], "dave", "dave's account is whole")
        ctl_ok("user", "enable", "admin")


def audit_rows(**query):
    """Every row of the audit log (admins' API), newest first, filtered by query."""
    q = "&".join("%s=%s" % kv for kv in sorted(query.items()))
    r = srv.client("dave").get("/api/support/audit/?limit=200&" + q)
    status(r, 200, "the audit log " + q)
    check(r.json["next"] is None, "one page holds the log")
    return r.json["results"]


def api_ticket(uuid):
    r = srv.client("dave").get(TICKETS + uuid + "/")
    status(r, 200, "staff's view of the ticket")
    return r.json


def main():
    global srv
    # No reminders or escalations: the worker's scan would add events as
    # the clock moves past their times (tests/http/test_remind.py has them).
    # Mail is on but has no transport: the worker queues it and sends
    # nothing, so the outbox holds the mails about the tickets and to the
    # users, as while a mail server is down.
    srv = standard_server(clock=True, conf={("support", "ticket_retention_days"): str(RETENTION),
                                            ("support", "support_email"): SUPPORT,
                                            ("support", "support_team_emails"): "team@example.com",
                                            ("support", "mail_create_users"): "no",
                                            ("support", "reminder_days"): "0",
                                            ("support", "escalation_hours"): "0"})
    test_purge()
    test_export_erase()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
