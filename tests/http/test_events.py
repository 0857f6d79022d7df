#!/usr/bin/env python3
"""The change-event log as an administrator sees it: what people do through
the desk (behind the real web server) appears in `supportctl events`, one
event per change, in order, with who did it and what changed from what to
what, and never a secret; `--from N` starts at N; `--follow` prints each
new event as it is committed, and stops cleanly when told to.

Run from the repo root of a built tree:  python3 tests/http/test_events.py
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, SUPPORTCTL, REPO, check, eq, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_session import Browser  # noqa: E402

srv = None


def events(*args):
    p = srv.ctl("events", *args)
    check(p.returncode == 0, "supportctl events %s: exit %d: %s" % (
        " ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def last_seq():
    evs = events()
    return evs[-1]["seq"] if evs else 0


def test_changes():
    alice, carol = srv.client("alice"), srv.client("carol")
    ids = {}
    with T.case("setup's accounts and tokens are in the log, numbered from 1, without secrets"):
        evs = events()
        eq([e["seq"] for e in evs], list(range(1, len(evs) + 1)), "numbering")
        ids = {e["data"]["username"]: e["user"] for e in evs if e["type"] == "user.created"}
        eq(sorted(ids), sorted(["admin"] + list(srv.users)), "a user.created for each account (run.sh makes admin)")
        eq(len([e for e in evs if e["type"] == "token.created"]), len(srv.users), "a token.created for each token")
        text = "\n".join(json.dumps(e) for e in evs)
        for u in srv.users.values():
            check(u.token not in text and u.password not in text, "%s's token or password in the log" % u.name)

    start = last_seq() + 1
    with T.case("a ticket opened, answered, noted and resolved: one event each, as it happened"):
        r = alice.post(TICKETS, {"subject": "Printer on fire", "initial_message": "It smokes."})
        status(r, 201)
        t = r.json["uuid"]
        status(carol.post(TICKETS + t + "/messages/", {"content": "On my way."}), 201)
        status(carol.post(TICKETS + t + "/messages/", {"content": "Bring the extinguisher.",
                                                       "is_internal": True}), 201)
        status(carol.patch(TICKETS + t + "/", {"status": "resolved", "priority": "urgent"}), 200)
        evs = events("--from", str(start))
        eq([e["type"] for e in evs], ["ticket.created", "message.posted", "note.added", "ticket.updated"],
           "the types")
        eq({e["ticket"] for e in evs}, {t}, "all about the ticket")
        created, posted, note, updated = evs
        eq(created["actor"], ids["alice"], "alice opened it")
        eq(created["data"]["subject"], "Printer on fire", "its subject")
        eq(posted["actor"], ids["carol"], "carol answered")
        eq(posted["changes"], {"status": ["open", "waiting_for_user"]}, "the status the answer moved")
        eq(posted["data"].get("first_response"), True, "the first response")
        check("changes" not in note, "a note changes no status")
        eq(updated["changes"], {"status": ["waiting_for_user", "resolved"], "priority": ["normal", "urgent"]},
           "what the PATCH changed, from what to what")
        msgs = [m["uuid"] for m in alice.get(TICKETS + t + "/messages/").json]
        eq(created["message"], msgs[0], "ticket.created names the first message")
        eq(posted["message"], msgs[1], "message.posted names the answer")

    with T.case("a refused change appends nothing"):
        before = last_seq()
        r = alice.patch(TICKETS + t + "/", {"status": "open"})
        status(r, 409)
        eq(last_seq(), before, "no event")

    with T.case("logins: a refused password and a session begun; an API request is no login"):
        before = last_seq()
        b = Browser(srv.port)
        b.login("bob", "not his password", expect=401)
        b.login("bob", srv.users["bob"].password)
        status(alice.get(TICKETS), 200)
        evs = events("--from", str(before + 1))
        eq([e["type"] for e in evs], ["login.failed", "login.succeeded"], "the types")
        eq([e["user"] for e in evs], [ids["bob"]] * 2, "both about bob")
        check("not his password" not in json.dumps(evs), "the password typed is not kept")
        eq(evs[1]["actor"], evs[1]["user"], "bob logged himself in")

    with T.case("supportctl's own changes are events, by the desk itself"):
        before = last_seq()
        eq(srv.ctl("user", "disable", "dave").returncode, 0, "disable")
        eq(srv.ctl("user", "enable", "dave").returncode, 0, "enable")
        eq(srv.ctl("user", "set-role", "dave", "agent").returncode, 0, "set-role")
        evs = events("--from", str(before + 1))
        eq([e["type"] for e in evs], ["user.disabled", "user.enabled", "user.changed"], "the types")
        eq({e["actor"] for e in evs}, {None}, "no actor")
        eq(evs[2]["changes"], {"role": ["admin", "agent"]}, "the role, from what to what")
        eq({e["user"] for e in evs}, {ids["dave"]}, "all about dave")


def test_from_and_usage():
    with T.case("--from past the end prints nothing; bad arguments are 2"):
        eq(events("--from", str(last_seq() + 100)), [], "nothing")
        for bad in (["--from"], ["--from", "0"], ["--from", "x"], ["--since", "1"]):
            eq(srv.ctl("events", *bad).returncode, 2, "events %s" % " ".join(bad))


def test_follow():
    with T.case("--follow prints each new event as it is committed, and stops on SIGTERM with 0"):
        start = last_seq() + 1
        env = srv.env()
        p = subprocess.Popen([SUPPORTCTL, "--conf", srv.conf, "events", "--from", str(start), "--follow"],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            os.set_blocking(p.stdout.fileno(), False)
            r = srv.client("bob").post(TICKETS, {"subject": "Followed", "initial_message": "Hi."})
            status(r, 201)
            got, deadline = b"", time.monotonic() + 10
            while b"\n" not in got and time.monotonic() < deadline:
                chunk = p.stdout.read()
                if chunk:
                    got += chunk
                else:
                    time.sleep(0.05)
            check(b"\n" in got, "no event printed within 10 s")
            e = json.loads(got.split(b"\n")[0])
            eq((e["seq"], e["type"], e["ticket"]), (start, "ticket.created", r.json["uuid"]), "the new ticket")
            check(p.poll() is None, "it stopped by itself")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = None
        eq(rc, 0, "exit status after SIGTERM")


def test_verify():
    with T.case("supportctl db verify (server stopped) checks the log: no problem"):
        srv.stop()
        p = srv.ctl("db", "verify")
        eq(p.returncode, 0, "exit status: %s" % p.stdout.decode(errors="replace")[-300:])


def main():
    global srv
    srv = standard_server()
    test_changes()
    test_from_and_usage()
    test_follow()
    check_no_leftovers(srv)
    test_verify()


if __name__ == "__main__":
    run_main(main)
