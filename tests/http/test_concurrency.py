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
import queue
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Client, check, check_no_leftovers, eq, status, standard_server, run_main, short, log)  # noqa: E402

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


def creator(args):
    port, token, wid, count, start_at, deadline = args
    c = Client(port, "Bearer " + token)
    out = []
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(count):
        if time.time() > deadline:
            out.append((i, None, None, "phase deadline passed"))
            break
        try:
            r = c.request("POST", TICKETS, json_body={"subject": "parallel %d/%d" % (wid, i),
                                                      "initial_message": "created in parallel"},
                          timeout=60, record=False)
            j = r.json if r.status == 201 else None
            out.append((i, r.status, (j.get("uuid"), j.get("number")) if isinstance(j, dict) else None,
                        None if r.status == 201 else short(r.text(), 200)))
        except Exception as e:  # noqa: BLE001
            out.append((i, None, None, repr(e)))
    return ("create", wid, out)


def poll_loop(port, token, ticket, deadline, done, out_q):
    """Poll like the chat client: ?after=<last seen> with If-None-Match,
    appending what comes.  Reports the accumulated uuids and any errors."""
    c = Client(port, "Bearer " + token)
    path = TICKETS + ticket + "/messages/"
    seen, errors, etag, polls = [], [], None, 0
    try:
        r = c.request("GET", path, timeout=60, record=False)
        seen = [m["uuid"] for m in r.json]
        final_round = False
        while time.time() < deadline:
            if done.is_set():
                final_round = True
            hdrs = {"If-None-Match": etag} if etag else {}
            r = c.request("GET", path + "?after=" + seen[-1], headers=hdrs, timeout=60, record=False)
            polls += 1
            if r.status == 200:
                new = [m["uuid"] for m in r.json]
                dup = [u for u in new if u in seen]
                if dup:
                    errors.append("poll %d returned already seen messages %s" % (polls, dup[:3]))
                seen += [u for u in new if u not in seen]
                etag = r.header("ETag")
            elif r.status != 304:
                errors.append("poll %d: HTTP %d %s" % (polls, r.status, short(r.text(), 100)))
            if final_round:
                break
            time.sleep(0.02)
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))
    out_q.put((seen, errors, polls))


def _child(fn, arg, q):
    try:
        q.put(fn(arg))
    except BaseException as e:  # noqa: BLE001
        q.put(("error", -2, [repr(e)]))


def run_all(ctx, jobs, timeout):
    """Run fn(arg) for each job in its own process; collect what they return.
    Plain processes and a queue rather than multiprocessing.Pool, whose
    terminate() can hang; stragglers are killed (they are ours, by pid)."""
    q = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(fn, arg, q), daemon=True) for fn, arg in jobs]
    for p in procs:
        p.start()
    results, deadline = [], time.time() + timeout
    while len(results) < len(procs) and time.time() < deadline:
        try:
            results.append(q.get(timeout=1))
        except queue.Empty:
            if not any(p.is_alive() for p in procs) and q.empty():
                break
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join(timeout=5)
    check(len(results) == len(procs), "%d of %d client processes reported in %d s"
          % (len(results), len(procs), timeout))
    errs = [r for r in results if r[0] == "error"]
    check(not errs, "client processes failed: %s" % errs[:3])
    return results


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
    ctx = multiprocessing.get_context("fork")
    done, out_q = ctx.Event(), ctx.Queue()
    poller = ctx.Process(target=poll_loop, args=(srv.port, srv.users["alice"].token, ticket,
                                                 deadline + 30, done, out_q), daemon=True)
    poller.start()
    with T.case("concurrent phase finished within its time bound"):
        t0 = time.time()
        results = run_all(ctx, jobs, PHASE_LIMIT + 90)
        log("concurrent phase took %.1f s" % (time.time() - t0))
    done.set()
    polled = None
    with T.case("a chat poller (?after=<last> + If-None-Match) ran through the writes without errors"):
        try:
            polled = out_q.get(timeout=PHASE_LIMIT + 60)
        finally:
            poller.join(timeout=10)
            if poller.is_alive():
                poller.kill()
        seen, errors, polls = polled
        log("poller made %d polls, saw %d messages" % (polls, len(seen)))
        check(not errors, "poller errors: %s" % errors[:5])

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

    with T.case("the poller saw every message, in thread order: none was committed behind its ?after= cursor"):
        check(polled is not None, "poller reported nothing")
        final = [m["uuid"] for m in thread]
        missed = [u for u in final if u not in set(polled[0])]
        check(not missed, "%d messages never reached the polling client (committed before a message it had "
              "already seen), e.g. %s" % (len(missed), missed[:3]))
        eq(polled[0], final, "order seen by the poller vs the thread")

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
        eq(t["awaiting_staff_count"], n, "awaiting_staff_count: alice's since carol's last")
        n = 0
        for m in reversed(thread):
            if m["sender"]["username"] != "carol":
                break
            n += 1
        eq(t["unanswered_messages_count"], n, "unanswered_messages_count: carol's since alice's last")
        check(t["first_response_at"] is not None, "first_response_at not set")

    # second phase: N customers open tickets at the same moment
    creators = ["maker%d" % w for w in range(N)]
    per = 5
    with T.case("parallel ticket creation by %d users: every POST 201, numbers unique and increasing" % N):
        for name in creators:
            srv.add_user(name, "user")
        before = carol.get(TICKETS + "?page_size=1").json["count"]
        start_at = time.time() + 1.0
        deadline = start_at + PHASE_LIMIT
        jobs = [(creator, (srv.port, srv.users[n].token, w, per, start_at, deadline)) for w, n in enumerate(creators)]
        res = run_all(ctx, jobs, PHASE_LIMIT + 90)
        bad = [(wid, o) for kind, wid, out in res for o in out if o[1] != 201]
        check(not bad, "%d failed creations, e.g. %s" % (len(bad), bad[:5]))
        made = {o[2][0]: o[2][1] for kind, wid, out in res for o in out if o[1] == 201}
        eq(len(made), N * per, "tickets created")
        nums = list(made.values())
        eq(len(set(nums)), len(nums), "distinct ticket numbers")
        for kind, wid, out in res:
            seq = [o[2][1] for o in out if o[1] == 201]
            eq(seq, sorted(seq), "numbers of worker %d increase in creation order" % wid)
        eq(carol.get(TICKETS + "?page_size=1").json["count"], before + N * per, "staff ticket count")
        items = carol.get(TICKETS + "?page_size=100&ordering=number").json["results"]
        listed = {t["uuid"]: t["number"] for t in items}
        for u, n in made.items():
            eq(listed.get(u), n, "ticket %s in the list with its number" % u)

    with T.case("supportctl db verify exits 0 after the run (server stopped)"):
        srv.stop()
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, short(p.stderr.decode(errors="replace"))))

    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
