#!/usr/bin/env python3
"""Reliability: kill -9 the programs in the middle of writes, restart, check.

A client thread posts messages to one ticket in a loop (at most MAX_POSTS posts,
at most MAX_SECONDS).  Meanwhile the program processes (pids from <var>/run/*.pid
that are not nginx, plus their children) are killed with SIGKILL KILLS times and
the server is restarted with run.sh stop + run.sh --background.  Afterwards:
every message that got a 201 is in the thread exactly once with its content
intact, nothing in the thread is torn or duplicated, message_count matches, the
store survives a clean restart, and `supportctl db verify` exits 0.

Run from the repo root of a built tree:  python3 tests/http/test_crash.py
"""

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Client, check, eq, status, standard_server, run_main, short, log)  # noqa: E402

MAX_POSTS = 400
MAX_SECONDS = 60.0
KILLS = 3


def content_for(i):
    """Sizeable content with a checksum inside, so a torn write is obvious."""
    size = 2000 + (i * 7919) % 30000
    block = hashlib.sha256(str(i).encode()).hexdigest()
    payload = (block * (size // len(block) + 1))[:size]
    return "crash-msg-%04d sha=%s\n%s" % (i, hashlib.sha256(payload.encode()).hexdigest(), payload)


class Poster(threading.Thread):
    def __init__(self, port, token, ticket):
        super().__init__(daemon=True)
        self.client = Client(port, "Bearer " + token)
        self.ticket = ticket
        self.attempts = []      # (i, content, status or None, uuid or None, error)
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()

    def ok_count(self):
        with self.lock:
            return sum(1 for a in self.attempts if a[2] == 201)

    def run(self):
        t_end = time.monotonic() + MAX_SECONDS
        for i in range(MAX_POSTS):
            if self.stop_flag.is_set() or time.monotonic() > t_end:
                break
            c = content_for(i)
            st, u, err = None, None, None
            try:
                r = self.client.request("POST", TICKETS + self.ticket + "/messages/", json_body={"content": c},
                                        timeout=20, record=False)
                st = r.status
                if st == 201 and isinstance(r.json, dict):
                    u = r.json.get("uuid")
                elif st != 201:
                    err = short(r.text(), 120)
            except Exception as e:  # noqa: BLE001 -- expected while the programs are down
                err = repr(e)
            with self.lock:
                self.attempts.append((i, c, st, u, err))
            if st != 201:
                time.sleep(0.05)


def descendants(pid):
    out = []
    try:
        p = subprocess.run(["pgrep", "-P", str(pid)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        kids = [int(x) for x in p.stdout.split()]
    except (subprocess.SubprocessError, ValueError):
        kids = []
    for k in kids:
        out.append(k)
        out += descendants(k)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def program_pids(srv):
    """Pids of the FastCGI programs run.sh started (not nginx), with their children."""
    pids = []
    for f in srv.pid_files():
        if "nginx" in os.path.basename(f):
            continue
        try:
            with open(f) as fh:
                pid = int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        cmd = cmdline(pid)
        if not cmd or "nginx" in cmd:
            continue
        pids.append(pid)
        pids += descendants(pid)
    return sorted(set(pids))


def main():
    srv = standard_server()
    log("server on 127.0.0.1:%d, var %s" % (srv.port, srv.var))
    alice = srv.client("alice")

    with T.case("setup: alice opens the ticket"):
        r = alice.post(TICKETS, {"subject": "Crash target", "initial_message": "initial message"})
        status(r, 201)
        ticket = r.json["uuid"]

    poster = Poster(srv.port, srv.users["alice"].token, ticket)
    poster.start()

    for k in range(1, KILLS + 1):
        with T.case("kill -9 #%d of the program processes mid-write, restart, server answers again" % k):
            base = poster.ok_count()
            t0 = time.monotonic()
            while poster.ok_count() < base + 15 and poster.is_alive() and time.monotonic() - t0 < 15:
                time.sleep(0.02)
            pids = program_pids(srv)
            check(pids, "no program pids found in %s" % srv.pid_files())
            log("kill #%d after %d acknowledged posts: pids %s" % (k, poster.ok_count(), pids))
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)
            alive = [p for p in pids if os.path.exists("/proc/%d" % p) and cmdline(p)]
            check(not alive, "still alive after SIGKILL: %s" % alive)
            srv.stop()
            t1 = time.monotonic()
            srv.start()
            log("restart took %.1f s" % (time.monotonic() - t1))
            r = alice.get(TICKETS + ticket + "/")
            status(r, 200, "ticket after restart")
            base = poster.ok_count()
            t0 = time.monotonic()
            while poster.ok_count() <= base and poster.is_alive() and time.monotonic() - t0 < 20:
                time.sleep(0.05)
            check(poster.ok_count() > base, "no post succeeded within 20 s after restart #%d" % k)

    # let the poster finish a few more, then stop it
    time.sleep(1.0)
    poster.stop_flag.set()
    poster.join(timeout=60)
    attempts = list(poster.attempts)
    acked = {a[3]: a for a in attempts if a[2] == 201 and a[3]}
    log("%d attempts, %d acknowledged with 201, %d failed/unknown" % (
        len(attempts), len(acked), len(attempts) - len(acked)))

    with T.case("client stayed within its bounds and most posts succeeded"):
        check(not poster.is_alive(), "poster thread still running")
        check(len(attempts) <= MAX_POSTS, "too many attempts")
        check(len(acked) >= 20, "only %d posts acknowledged" % len(acked))
        others = [a for a in attempts if a[2] not in (201, None, 502, 503, 504)]
        check(not others, "unexpected statuses: %s" % [(a[0], a[2], a[4]) for a in others[:5]])

    def check_thread(label):
        r = alice.get(TICKETS + ticket + "/messages/")
        status(r, 200)
        thread = r.json
        check(isinstance(thread, list), "messages is not an array")
        ids = [m["uuid"] for m in thread]
        eq(len(ids), len(set(ids)), "%s: distinct uuids" % label)
        by = {m["uuid"]: m for m in thread}
        missing = [acked[u][0] for u in acked if u not in by]
        check(not missing, "%s: %d acknowledged messages lost: #%s" % (label, len(missing), missing[:10]))
        wrong = [acked[u][0] for u in acked if by[u]["content"] != acked[u][1]]
        check(not wrong, "%s: acknowledged messages with altered content: #%s" % (label, wrong[:10]))
        sent_contents = {a[1] for a in attempts} | {"initial message"}
        torn = [m["uuid"] for m in thread if m["content"] not in sent_contents]
        check(not torn, "%s: %d messages whose content was never sent (torn?): %s" % (label, len(torn), torn[:3]))
        contents = [m["content"] for m in thread]
        eq(len(contents), len(set(contents)), "%s: no content stored twice" % label)
        ts = [m["created_at"] for m in thread]
        eq(ts, sorted(ts), "%s: created_at order" % label)
        return thread

    thread = []
    with T.case("every acknowledged message is in the thread exactly once, intact; nothing torn"):
        thread = check_thread("after kills")
        unacked_present = len(thread) - 1 - len(acked)
        log("%d messages in the thread; %d from posts that got no 201" % (len(thread), unacked_present))

    with T.case("message_count and last_message match the thread"):
        t = alice.get(TICKETS + ticket + "/").json
        eq(t["message_count"], len(thread), "message_count")
        eq(t["last_message"]["uuid"], thread[-1]["uuid"], "last_message")
        eq(len(t["messages"]), len(thread), "embedded messages")
        eq(t["status"], "waiting_for_admin", "status (only the owner wrote)")
        eq(t["unanswered_messages_count"], len(thread), "unanswered_messages_count")

    with T.case("supportctl db verify exits 0 (server stopped)"):
        srv.stop()
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "exit %d: %s %s" % (p.returncode, short(p.stdout.decode(errors="replace")),
                                                     short(p.stderr.decode(errors="replace"))))

    with T.case("after a clean restart the thread is the same and new posts work"):
        srv.start()
        again = check_thread("after clean restart")
        eq([m["uuid"] for m in again], [m["uuid"] for m in thread], "thread after restart")
        r = alice.post(TICKETS + ticket + "/messages/", {"content": "after the storm"})
        status(r, 201)
        eq(alice.get(TICKETS + ticket + "/").json["message_count"], len(thread) + 1, "message_count")


if __name__ == "__main__":
    run_main(main)
