#!/usr/bin/env python3
"""Concurrent writers on one ticket behind the real nginx.

N client processes post M messages each to the same ticket at the same moment,
while another process PATCHes the ticket a few times.  Afterwards: no request
failed (no 5xx, no 503 busy), every message is there once and intact,
message_count matches, created_at strictly increases, each client's messages
keep their order, counters and status agree with the thread, db verify is 0.

Run from the repo root of a built tree:  python3 tests/http/test_concurrency.py
Env: CONC_CLIENTS (default 6), CONC_MESSAGES (default 30).
"""

import multiprocessing
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Client, check, eq, status, standard_server, run_main, short, log)  # noqa: E402

N = int(os.environ.get("CONC_CLIENTS", "6"))
M = int(os.environ.get("CONC_MESSAGES", "30"))
PHASE_LIMIT = 120.0          # seconds for the whole concurrent phase
PATCH_PRIOS = ["high", "low", "urgent", "normal", "high"]


def content_for(wid, i):
    # distinct, recognisable, a little bulk so writes are not trivially small
    return ("worker %d message %03d | " % (wid, i) + ("w%d-%d " % (wid, i)) * (20 + (i * 7) % 60)).strip()


def poster(args):
    port, token, wid, ticket, start_at, deadline = args
    c = Client(port, "Bearer " + token)
    out = []
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(M):
        if time.time() > deadline:
            out.append((i, None, None, "phase deadline passed before this post"))
            break
        body = content_for(wid, i)
        try:
            r = c.request("POST", TICKETS + ticket + "/messages/", json_body={"content": body}, timeout=60,
                          record=False)
            j = r.json if r.status == 201 else None
            out.append((i, r.status, j.get("uuid") if isinstance(j, dict) else None,
                        None if r.status == 201 else short(r.text(), 200)))
        except Exception as e:  # noqa: BLE001
            out.append((i, None, None, repr(e)))
    return ("post", wid, out)


def patcher(args):
    port, token, ticket, start_at, deadline = args
    c = Client(port, "Bearer " + token)
    out = []
    while time.time() < start_at:
        time.sleep(0.001)
    for i, p in enumerate(PATCH_PRIOS):
        time.sleep(0.3)
        if time.time() > deadline:
            out.append((i, None, p, "phase deadline passed"))
            break
        try:
            r = c.request("PATCH", TICKETS + ticket + "/", json_body={"priority": p}, timeout=60, record=False)
            out.append((i, r.status, p, None if r.status == 200 else short(r.text(), 200)))
        except Exception as e:  # noqa: BLE001
            out.append((i, None, p, repr(e)))
    return ("patch", -1, out)


def run(job):
    return job[0](job[1])


def main():
    srv = standard_server()
    alice = srv.client("alice")
    log("server on 127.0.0.1:%d, %d clients x %d messages" % (srv.port, N, M))

    with T.case("setup: alice opens the ticket"):
        r = alice.post(TICKETS, {"subject": "Concurrency target", "initial_message": "initial message"})
        status(r, 201)
        ticket = r.json["uuid"]

    # odd workers are the owner, even workers the agent, so the status flips back and forth
    tokens = {w: srv.users["alice" if w % 2 else "carol"].token for w in range(N)}
    start_at = time.time() + 1.5
    deadline = start_at + PHASE_LIMIT
    jobs = [(poster, (srv.port, tokens[w], w, ticket, start_at, deadline)) for w in range(N)]
    jobs.append((patcher, (srv.port, srv.users["carol"].token, ticket, start_at, deadline)))

    results = []
    with T.case("concurrent phase finished within its time bound"):
        t0 = time.time()
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(len(jobs)) as pool:
            async_res = pool.map_async(run, jobs)
            results = async_res.get(timeout=PHASE_LIMIT + 90)
        log("concurrent phase took %.1f s" % (time.time() - t0))

    posts = {wid: out for kind, wid, out in results if kind == "post"}
    patches = [o for kind, wid, out in results if kind == "patch" for o in out]
    sent = {}   # uuid -> (wid, i, content)
    with T.case("every message POST answered 201 (no 5xx, no 503 busy, no connection error)"):
        bad = []
        for wid, out in posts.items():
            eq(len(out), M, "posts made by worker %d" % wid)
            for i, st, u, err in out:
                if st != 201 or not u:
                    bad.append("worker %d #%d: %s %s" % (wid, i, st, err))
                else:
                    sent[u] = (wid, i, content_for(wid, i))
        eq(len(posts), N, "workers that reported")
        check(not bad, "%d failed posts, e.g. %s" % (len(bad), bad[:5]))

    with T.case("every PATCH answered 200"):
        eq(len(patches), len(PATCH_PRIOS), "PATCHes made")
        bad = [p for p in patches if p[1] != 200]
        check(not bad, "failed PATCHes: %s" % bad)

    carol = srv.client("carol")
    thread = []
    with T.case("the thread holds every posted message exactly once, content intact"):
        r = carol.get(TICKETS + ticket + "/messages/")
        status(r, 200)
        thread = r.json
        ids = [m["uuid"] for m in thread]
        eq(len(ids), len(set(ids)), "distinct message uuids in the thread")
        by = {m["uuid"]: m for m in thread}
        missing = [u for u in sent if u not in by]
        check(not missing, "%d acknowledged messages missing, e.g. %s" % (len(missing), missing[:3]))
        wrong = [u for u, (w, i, c) in sent.items() if by[u]["content"] != c]
        check(not wrong, "%d messages with altered content, e.g. %s" % (len(wrong), wrong[:3]))
        contents = [m["content"] for m in thread]
        eq(len(contents), len(set(contents)), "distinct contents (no duplicated write)")
        eq(len(thread), N * M + 1, "messages in the thread (initial + all posts)")

    with T.case("message_count equals the number of messages"):
        t = carol.get(TICKETS + ticket + "/").json
        eq(t["message_count"], N * M + 1, "message_count")
        eq(len(t["messages"]), N * M + 1, "embedded messages")
        eq(t["last_message"]["uuid"], thread[-1]["uuid"], "last_message is the last of the thread")

    with T.case("created_at strictly increases along the thread"):
        ts = [m["created_at"] for m in thread]
        bad = [(a, b) for a, b in zip(ts, ts[1:]) if not a < b]
        check(not bad, "%d non-increasing neighbours, e.g. %s" % (len(bad), bad[:3]))

    with T.case("each client's messages appear in the order it sent them"):
        for wid in range(N):
            seq = [sent[m["uuid"]][1] for m in thread if m["uuid"] in sent and sent[m["uuid"]][0] == wid]
            eq(seq, sorted(seq), "order of worker %d" % wid)

    with T.case("status, priority and unanswered count agree with the final thread"):
        t = alice.get(TICKETS + ticket + "/").json
        last = thread[-1]
        eq(t["status"], "waiting_for_user" if last["sender"]["username"] == "carol" else "waiting_for_admin",
           "status after last message from %s" % last["sender"]["username"])
        eq(t["priority"], PATCH_PRIOS[-1], "priority after the last PATCH")
        n = 0
        for m in reversed(thread):
            if m["sender"]["username"] == "carol":
                break
            n += 1
        eq(t["unanswered_messages_count"], n, "unanswered_messages_count")
        check(t["first_response_at"] is not None, "first_response_at not set")

    with T.case("supportctl db verify exits 0 after the run (server stopped)"):
        srv.stop()
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, short(p.stderr.decode(errors="replace"))))


if __name__ == "__main__":
    run_main(main)
