#!/usr/bin/env python3
"""`supportctl export_support_data`: every ticket created in the last N days
with its messages, as CSV (RFC 4180) or JSON (docs/data.md).  A history made
through the API with the test clock (subjects and contents with commas,
quotes, newlines, CRLF and non-ASCII text); both exports read back by
Python's csv and json and compared with what staff see through the API;
the window's edges; an empty window; --out; bad arguments (exit 2, the
problem named, nothing written).

Run from the repo root of a built tree:  python3 tests/http/test_export.py
"""

import csv
import io
import json
import os
import stat
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)

COLUMNS = ["ticket_uuid", "ticket_number", "subject", "status", "priority", "customer",
           "customer_email", "assignee", "ticket_created_at", "message_uuid", "author",
           "is_from_user", "is_internal", "message_created_at", "content"]
DAY = 86400

srv = None


def export(*args):
    p = srv.ctl("export_support_data", *args)
    check(p.returncode == 0, "export %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                          p.stderr.decode(errors="replace")))
    return p.stdout


def read_csv(raw):
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    eq(rows[0], COLUMNS, "the header row")
    check(text.endswith("\r\n"), "rows end with CRLF")
    return [dict(zip(COLUMNS, r)) for r in rows[1:]], rows


def api_ticket(uuid):
    r = srv.client("dave").get(TICKETS + uuid + "/")
    status(r, 200, "staff's view of the ticket")
    return r.json


def expected_rows(tickets):
    """The CSV rows the API's view of the tickets implies, in the export's order."""
    out = []
    for t in sorted(tickets, key=lambda t: t["number"]):
        for m in t["messages"]:
            out.append({
                "ticket_uuid": t["uuid"], "ticket_number": str(t["number"]),
                "subject": t["subject"], "status": t["status"], "priority": t["priority"],
                "customer": t["user"]["username"], "customer_email": t["user"].get("email", ""),
                "assignee": (t["assignee"] or {}).get("username", ""),
                "ticket_created_at": t["created_at"], "message_uuid": m["uuid"],
                "author": m["sender"]["username"],
                "is_from_user": "true" if m["is_from_user"] else "false",
                "is_internal": "true" if m["is_internal"] else "false",
                "message_created_at": m["created_at"], "content": m["content"]})
    return out


def make(client, subject, message):
    r = client.post(TICKETS, {"subject": subject, "initial_message": message})
    status(r, 201, "open %r" % subject)
    return r.json["uuid"]


def test_export():
    alice, bob, carol = srv.client("alice"), srv.client("bob"), srv.client("carol")
    # Day 0: an old ticket, outside the short windows.
    old = make(alice, "Old, \"quoted\" one", "first line\nsecond, with comma")
    srv.move_clock(10 * DAY)
    # Day 10: two tickets with the awkward texts, answered, noted, assigned.
    t1 = make(alice, "Caf\u00e9 \u201csmart\u201d, commas, \"quotes\" \u2603 \U0001F600",
              "Line one,\nline \"two\"\r\nline three: \u65e5\u672c\u8a9e")
    status(carol.post(TICKETS + t1 + "/messages/", {"content": "A reply, \"quoted\"\n\n- a list"}), 201)
    status(carol.post(TICKETS + t1 + "/messages/", {"content": "Internal note \u00fc,\"x\"",
                                                    "is_internal": True}), 201)
    r = carol.patch(TICKETS + t1 + "/", {"assignee": api_ticket(t1)["messages"][1]["sender"]["id"],
                                         "priority": "high"})
    status(r, 200, "assign")
    srv.move_clock(DAY)
    # Day 11: bob's ticket, plain.
    t2 = make(bob, "Plain subject", "=1+2 is not a formula here")
    srv.move_clock(3600)
    window = [t1, t2]

    with T.case("CSV of the last 5 days: the window's tickets, a row per message, as the API shows them"):
        rows, raw = read_csv(export("--format=csv", "--days=5"))
        want = expected_rows([api_ticket(u) for u in window])
        eq(len(rows), len(want), "rows")
        for got, exp in zip(rows, want):
            eq(got, exp, "row of message %s" % exp["message_uuid"])
        check(all(len(r) == len(COLUMNS) for r in raw), "every row has every column")
        check(old not in {r["ticket_uuid"] for r in rows}, "the old ticket is outside the window")

    with T.case("JSON of the last 5 days: an array of the API's tickets with their messages"):
        got = json.loads(export("--format=json", "--days=5").decode("utf-8"))
        check(isinstance(got, list), "an array")
        eq([t["uuid"] for t in got], window, "the tickets, in creation order")
        for t in got:
            eq(t, api_ticket(t["uuid"]), "ticket %s as the API shows it" % t["uuid"])

    with T.case("the window's edges: a ticket just over N days old is out, one just under is in"):
        # The old ticket is now 11 days and an hour old.
        rows, _ = read_csv(export("--format=csv", "--days=11"))
        check(old not in {r["ticket_uuid"] for r in rows}, "11 days: the old ticket is out")
        rows, _ = read_csv(export("--format=csv", "--days=12"))
        eq(sorted({r["ticket_uuid"] for r in rows}), sorted([old] + window), "12 days: every ticket")
        srv.move_clock(DAY - 3600 - 60)
        # Now t1 is 2 days less a minute old, t2 a day less a minute.
        got = json.loads(export("--format=json", "--days=2"))
        eq([t["uuid"] for t in got], window, "2 days: t1 (a minute inside) and t2")
        got = json.loads(export("--format=json", "--days=1"))
        eq([t["uuid"] for t in got], [t2], "1 day: t2 (a minute inside)")
        srv.move_clock(120)
        got = json.loads(export("--format=json", "--days=2"))
        eq([t["uuid"] for t in got], [t2], "2 days: t1 is a minute outside")
        got = json.loads(export("--format=json", "--days=1"))
        eq([t["uuid"] for t in got], [], "1 day: none")

    with T.case("an empty window: the CSV header alone, an empty JSON array"):
        rows, raw = read_csv(export("--format=csv", "--days=1"))
        eq(rows, [], "no rows")
        eq(json.loads(export("--format=json", "--days=1")), [], "[]")

    with T.case("--out FILE: the same text in a file only its owner can read"):
        path = os.path.join(srv.var, "data", "export-test.json")
        eq(export("--format=json", "--days=30", "--out", path), b"", "nothing on stdout")
        with open(path, "rb") as f:
            data = f.read()
        eq(data, export("--format=json", "--days=30"), "the file holds what stdout would")
        eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "mode")
        eq(len(json.loads(data)), 3, "every ticket")
        os.unlink(path)
        path = os.path.join(srv.var, "data", "export-test.csv")
        export("--format=csv", "--days=30", "--out=" + path)
        with open(path, "rb") as f:
            rows, _ = read_csv(f.read())
        eq(len(rows), 5, "rows of the three tickets (1 + 3 + 1 messages)")
        os.unlink(path)

    with T.case("bad arguments: exit 2, the problem named, nothing written"):
        path = os.path.join(srv.var, "data", "export-bad.csv")
        for args, word in [(["--format=xml", "--days=5"], "xml"),
                           (["--format=csv", "--days=0"], "--days"),
                           (["--format=csv", "--days=abc"], "abc"),
                           (["--format=csv", "--days=-3"], "--days"),
                           (["--format=csv", "--days=5x"], "5x"),
                           (["--days=5"], "--format"),
                           (["--format=csv"], "--days"),
                           (["--format=csv", "--days=5", "--bogus"], "--bogus"),
                           (["--format=csv", "--days=5", "extra"], "extra"),
                           (["--format=csv", "--days=5", "--out="], "--out"),
                           (["--format=csv", "--days"], "--days")]:
            p = srv.ctl("export_support_data", *(args + ["--out", path] if "--out=" not in args[-1] else args))
            err = p.stderr.decode(errors="replace")
            eq(p.returncode, 2, "exit of %s" % args)
            check(word in err, "%s: the message names %s: %r" % (args, word, err))
            eq(p.stdout, b"", "%s: nothing on stdout" % args)
            check(not os.path.exists(path), "%s: no file" % args)
        p = srv.ctl("export_support_data", "--format=csv", "--days=5", "--out",
                    os.path.join(srv.var, "data", "no-such-dir", "x.csv"))
        eq(p.returncode, 1, "an unwritable --out: exit 1")
        check(b"no-such-dir" in p.stderr, "names the file: %r" % p.stderr)


def main():
    global srv
    srv = standard_server(clock=True)
    test_export()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
