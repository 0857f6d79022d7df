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

Run from the repo root of a built tree:  python3 tests/http/test_purge.py
"""

import glob
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)

DAY = 86400
RETENTION = 30

srv = None


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
    status(carol.post(TICKETS + old_a + "/messages/", {"content": "an answer"}), 201)
    status(carol.post(TICKETS + old_a + "/messages/", {"content": "a note", "is_internal": True}), 201)
    close(old_a)
    old_b = make(bob, "Old closed two")
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
        before, evs, dump = staff_view(), events(), dump_all()
        check("Old closed one" in dump and "an answer" in dump, "the dump holds the tickets' texts")
        out = ctl_ok("purge_old_tickets", "--dry-run")
        check("2 tickets (4 messages) would be purged" in out, "dry run says: %r" % out)
        eq(staff_view(), before, "the lists")
        eq(events(), evs, "the event log")
        eq(dump_all(), dump, "every record of the store")

    with T.case("purge_old_tickets: the old closed tickets go, the rest stay"):
        seqs = {e["seq"] for e in events() if e.get("ticket") in purged}
        check(seqs, "events about the purged tickets before")
        out = ctl_ok("purge_old_tickets")
        check(out.startswith("2 tickets (4 messages) purged; %d events emptied" % len(seqs)),
              "says: %r" % out)
        dave = srv.client("dave")
        for u in purged:
            eq(dave.get(TICKETS + u + "/").status, 404, "purged %s" % u)
            eq(dave.get(TICKETS + u + "/messages/").status, 404, "messages of %s" % u)
        for u in kept:
            status(dave.get(TICKETS + u + "/"), 200, "kept %s" % u)

    with T.case("lists and counts right after"):
        v = staff_view()
        eq(v[""], (4, sorted(kept)), "all")
        eq(v["status=closed"], (2, sorted([old_touched, new_closed])), "closed")
        eq(v["status=resolved"], (1, [old_resolved]), "resolved")
        eq(v["alice"], (3, sorted([old_resolved, old_open, new_closed])), "alice's")
        eq(v["bob"], (1, [old_touched]), "bob's")

    with T.case("db verify is clean after the purge"):
        verify_clean()

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

    with T.case("a second purge finds nothing more"):
        out = ctl_ok("purge_old_tickets")
        check(out.startswith("0 tickets (0 messages) purged; 0 events emptied"), "says: %r" % out)
        verify_clean()

    with T.case("purge_old_tickets refuses other arguments"):
        p = srv.ctl("purge_old_tickets", "--now")
        eq(p.returncode, 2, "exit")
        check(b"--now" in p.stderr, "names it: %r" % p.stderr)
        eq(staff_view()[""][0], 4, "nothing purged")


def main():
    global srv
    srv = standard_server(clock=True, conf={("support", "ticket_retention_days"): str(RETENTION)})
    test_purge()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
