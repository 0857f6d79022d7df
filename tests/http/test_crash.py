#!/usr/bin/env python3
"""Reliability: kill -9 the programs in the middle of writes, restart, check.

A client thread posts messages to one ticket in a loop (at most MAX_POSTS posts,
at most MAX_SECONDS) and another opens tickets (at most MAX_TICKETS).  Meanwhile:
first only the FastCGI workers are killed with SIGKILL (their supervisors must
replace them and the service carry on by itself), then KILLS times every program
process (pids from <var>/run/*.pid that are not nginx, plus their children) is
killed and the server restarted with run.sh stop + run.sh --background; it must
answer within 15 s each time.  Afterwards: every message that got a 201 is in
the thread exactly once with its content intact, nothing is torn or duplicated,
message_count matches; every acknowledged ticket is listed once with its first
message; the store survives a clean restart; `supportctl db verify` exits 0.
Then several clients post to one ticket at once while a messages worker is
stopped (SIGSTOP) until another worker waits for a lock it holds (asleep on a
futex), then killed there with SIGKILL, WORKER_KILLS times: every request
must be answered within HANG_S (a wait on a killed worker's lock must not last
until the 30 s watchdog), posts go on, and every acknowledged post is in that
thread once.  A worker told to stop (SIGTERM) while it reads a request's body
finishes that request.  Last, `supportctl db backup` runs while a client posts, and the
backup is restored as docs/install.md says: the desk then serves every message
acknowledged before the backup began, none acknowledged after it ended, and
`supportctl db verify` passes.

Run from the repo root of a built tree:  python3 tests/http/test_crash.py
"""

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Client, Fail, check, check_no_leftovers, eq, status, standard_server,
                     run_main, short, log)  # noqa: E402

MAX_POSTS = 400
MAX_TICKETS = 150
MAX_SECONDS = 60.0
KILLS = 3
HANG_S = 10.0       # no request may take longer, workers killed or not
CONTENDERS = 4
WORKER_KILLS = 8


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
            time.sleep(0.01 if st == 201 else 0.05)


class TicketMaker(threading.Thread):
    """Opens tickets in a loop (the creation writes the ticket, its first
    message, the counters and the indexes in one transaction)."""

    def __init__(self, port, token):
        super().__init__(daemon=True)
        self.client = Client(port, "Bearer " + token)
        self.attempts = []      # (i, subject, message, status or None, uuid or None)
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        t_end = time.monotonic() + MAX_SECONDS
        for i in range(MAX_TICKETS):
            if self.stop_flag.is_set() or time.monotonic() > t_end:
                break
            subject = "crash ticket %04d" % i
            message = content_for(10000 + i)[:3000]
            st, u = None, None
            try:
                r = self.client.request("POST", TICKETS, json_body={"subject": subject, "initial_message": message},
                                        timeout=20, record=False)
                st = r.status
                if st == 201 and isinstance(r.json, dict):
                    u = r.json.get("uuid")
            except Exception:  # noqa: BLE001 -- expected while the programs are down
                pass
            with self.lock:
                self.attempts.append((i, subject, message, st, u))
            time.sleep(0.02 if st == 201 else 0.05)


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


def store_diagnostics(srv):
    """Lock waits, write locks held, and BDB thread states: why requests hang."""
    out = []
    for args in (["-Co"], ["-e"]):
        try:
            p = subprocess.run(["db5.3_stat", "-h", os.path.join(srv.var, "data")] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        except (OSError, subprocess.SubprocessError) as e:
            return ["db5.3_stat not usable: %r" % (e,)]
        for line in p.stdout.decode(errors="replace").splitlines():
            if "WAIT" in line or ("WRITE" in line and "HELD" in line) or "process/thread" in line \
                    or "Creation time" in line:
                out.append(line.strip())
    for pid in program_pids(srv):
        try:
            with open("/proc/%d/wchan" % pid) as f:
                out.append("pid %d %s waits in %s" % (pid, cmdline(pid)[:50], f.read()))
        except OSError:
            pass
    return out[:60]


def probe_after_restart(srv, alice, ticket, what):
    """The restarted server must answer within 15 s.  If it hangs, show why,
    restart once more so the remaining checks can run, and fail."""
    try:
        r = alice.request("GET", TICKETS + ticket + "/messages/?after=" + str(uuid.uuid4()), timeout=15)
        check(r.status == 404, "messages poll after %s: %d %s" % (what, r.status, short(r.text(), 200)))
        return
    except OSError as e:
        err = e
    diag = store_diagnostics(srv)
    srv.stop()
    srv.start()
    try:
        r = alice.request("GET", TICKETS + ticket + "/", timeout=15)
        again = "after one more restart: HTTP %d" % r.status
    except OSError as e:
        again = "after one more restart: still no answer (%r)" % (e,)
    raise Fail("no answer within 15 s after %s (%r): requests hang; %s\n%s"
               % (what, err, again, "\n".join(diag)))


def kill_programs(srv, pids):
    """SIGKILL the programs: the supervisors first, then every program process
    of this var dir (a supervisor may have forked a worker meanwhile)."""
    killed = set()
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
            killed.add(p)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        rest = [p for p, cmd in srv.processes() if "nginx" not in cmd]
        if not rest:
            break
        for p in rest:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
                killed.add(p)
        time.sleep(0.1)
    return sorted(killed)


def blocked(pids):
    """The processes of pids asleep on a futex: a program has one thread, so
    that is a Berkeley DB lock or mutex wait.  (Not db5.3_stat: it would
    block on a mutex the stopped worker holds, and killing it inside the
    library would itself call for recovery.)"""
    out = []
    for p in pids:
        try:
            with open("/proc/%d/wchan" % p) as f:
                if "futex" in f.read():
                    out.append(p)
        except OSError:
            pass
    return out


def contended_kills(srv, alice):
    """Clients post to one ticket at once while messages workers are killed
    one at a time; returns (results, kill times, the ticket).  Each result is
    (status or the exception's repr, seconds, content, monotonic start)."""
    r = alice.post(TICKETS, {"subject": "Contended", "initial_message": "contended"})
    status(r, 201)
    target = r.json["uuid"]
    sup = []
    for f in srv.pid_files():
        if os.path.basename(f).startswith("messages"):
            with open(f) as fh:
                sup.append(int(fh.read().split()[0]))
    check(sup, "no messages supervisor in %s" % srv.pid_files())
    results, lock, stop = [], threading.Lock(), threading.Event()

    def contend(k):
        c = Client(srv.port, "Bearer " + srv.users["alice"].token)
        i = 0
        while not stop.is_set():
            content = "contended %d-%d" % (k, i)
            i += 1
            t0 = time.monotonic()
            try:
                st = c.request("POST", TICKETS + target + "/messages/", json_body={"content": content},
                               timeout=HANG_S, record=False).status
            except Exception as e:  # noqa: BLE001 -- a timeout is what this case looks for
                st = repr(e)
            with lock:
                results.append((st, time.monotonic() - t0, content, t0))
            time.sleep(0.02)

    threads = [threading.Thread(target=contend, args=(k,), daemon=True) for k in range(CONTENDERS)]
    for t in threads:
        t.start()
    kills = []      # (monotonic time, whether a request was seen waiting for the victim's lock)
    deadline = time.monotonic() + 60
    n = 0
    while len(kills) < WORKER_KILLS and time.monotonic() < deadline:
        time.sleep(0.5)
        workers = descendants(sup[0])
        if not workers:
            continue    # the supervisor is between two spawns
        victim = workers[n % len(workers)]
        n += 1
        # Stop the victim until it is caught holding a lock another request
        # waits for, then kill it there: the case that used to hang.  It is
        # stopped only while it is not waiting for its next request.
        waited = False
        t_end = time.monotonic() + 8
        while not waited and time.monotonic() < t_end:
            try:
                with open("/proc/%d/wchan" % victim) as f:
                    wchan = f.read()
            except OSError:
                break
            if "skb" in wchan or "accept" in wchan:
                time.sleep(0.002)
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGSTOP)
            time.sleep(0.05)
            waited = bool(blocked([w for w in descendants(sup[0]) if w != victim]))
            if not waited:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGCONT)
                time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
            kills.append((time.monotonic(), waited))
    time.sleep(4.0)     # posts after the last kill
    stop.set()
    for t in threads:
        t.join(timeout=HANG_S + 5)
    check(not any(t.is_alive() for t in threads), "a client thread is still waiting")
    return results, kills, target


def contended_case(srv, alice):
    """The last case (see the module's docstring)."""
    with T.case("kill -9 of a messages worker while other requests wait for its locks, %d times: every request "
                "answered within %d s, posts go on, each acknowledged post in the thread once"
                % (WORKER_KILLS, HANG_S)):
        results, kills, target = contended_kills(srv, alice)
        slow = sorted(results, key=lambda x: -x[1])[:3]
        log("%d contended posts, %d kills, %d acknowledged; slowest %s" % (
            len(results), len(kills), sum(1 for x in results if x[0] == 201),
            ["%.1f s: %s" % (x[1], x[0]) for x in slow]))
        check(len(kills) == WORKER_KILLS, "only %d workers killed" % len(kills))
        caught = sum(1 for k in kills if k[1])
        log("%d of the kills hit a worker whose lock another request waited for" % caught)
        check(caught >= WORKER_KILLS // 2, "only %d kills caught a worker holding a lock another request waited for" % caught)
        hung = [x for x in results if not isinstance(x[0], int)]
        check(not hung, "%d of %d requests not answered within %d s (requests hang): %s\n%s" % (
            len(hung), len(results), HANG_S, [x[0][:60] for x in hung[:3]], "\n".join(store_diagnostics(srv))))
        odd = [x for x in results if x[0] not in (201, 502, 503)]
        check(not odd, "unexpected statuses: %s" % [(x[0], x[2]) for x in odd[:5]])
        after = [x for x in results if x[0] == 201 and x[3] > kills[-1][0]]
        check(len(after) >= 5, "only %d posts acknowledged after the last kill" % len(after))
        acked = [x[2] for x in results if x[0] == 201]
        thread = alice.get(TICKETS + target + "/messages/").json
        contents = [m["content"] for m in thread]
        eq(len(contents), len(set(contents)), "no content stored twice")
        missing = [c for c in acked if c not in contents]
        check(not missing, "%d acknowledged posts lost: %s" % (len(missing), missing[:5]))


def fcgi_record(kind, body):
    return struct.pack(">BBHHBB", 1, kind, 1, len(body), 0, 0) + body


def fcgi_params(env):
    out = b""
    for k, v in env.items():
        k, v = k.encode(), v.encode()
        for x in (k, v):
            out += bytes([len(x)]) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
        out += k + v
    return out


def fcgi_stdout(data):
    """The STDOUT records' content of a FastCGI answer."""
    out, i = b"", 0
    while i + 8 <= len(data):
        _, kind, _, n, pad = struct.unpack(">BBHHB", data[i:i + 7])
        if kind == 6:
            out += data[i + 8:i + 8 + n]
        i += 8 + n + pad
    return out


def graceful_case(srv, alice):
    """SIGTERM reaches a worker between its request's header and the end of its body (a
    supervisor stopping, or dying: its workers get SIGTERM).  The request must still be
    answered as if nothing had happened, and the worker stop after it."""
    with T.case("a worker told to stop while it reads a request's body finishes the request (201), then stops"):
        r = alice.post(TICKETS, {"subject": "Graceful stop", "initial_message": "first"})
        status(r, 201)
        ticket = r.json["uuid"]
        path = TICKETS + ticket + "/messages/"
        body = json.dumps({"content": "sent while the workers were told to stop"}).encode()
        env = {"REQUEST_METHOD": "POST", "REQUEST_URI": path, "SCRIPT_NAME": path, "QUERY_STRING": "",
               "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
               "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(srv.port),
               "REMOTE_ADDR": "127.0.0.1", "REQUEST_SCHEME": "http",
               "HTTP_HOST": "127.0.0.1:%d" % srv.port,
               "HTTP_AUTHORIZATION": "Bearer " + srv.users["alice"].token}
        with open(os.path.join(srv.var, "run", "messages.pid")) as f:
            supervisor = int(f.read().split()[0])
        workers = descendants(supervisor)
        check(workers, "no messages workers")
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(os.path.join(srv.var, "run", "messages.sock"))
        s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, fcgi_params(env)) +
                  fcgi_record(4, b"") + fcgi_record(5, body[:10]))
        time.sleep(0.5)     # a worker has taken it and waits for the rest of the body
        for w in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(w, signal.SIGTERM)
        time.sleep(0.5)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(fcgi_record(5, body[10:]) + fcgi_record(5, b""))
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while True:
                d = s.recv(65536)
                if not d:
                    break
                answer += d
        s.close()
        head = fcgi_stdout(answer).split(b"\r\n", 1)[0]
        eq(head, b"Status: 201 Created", "the answer's status line")
        thread = alice.get(path).json
        check(any(m["content"] == "sent while the workers were told to stop" for m in thread),
              "the message is not in the thread")
        def running(pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                return False

        t0 = time.monotonic()
        while any(running(w) for w in workers) and time.monotonic() - t0 < 10:
            time.sleep(0.1)
        left = [w for w in workers if running(w)]
        check(not left, "workers still running 10 s after SIGTERM: %s" % left)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            r = alice.post(path, {"content": "after the workers stopped"})
            if r.status == 201:
                break
            time.sleep(0.2)
        status(r, 201, "a post once the supervisor has started new workers")


def backup_case(srv, alice):
    with T.case("supportctl db backup while a client posts, then restored: every message acknowledged "
                "before it began is served, none acknowledged after it ended, db verify passes"):
        r = alice.post(TICKETS, {"subject": "Backup target", "initial_message": "before the backup"})
        status(r, 201)
        ticket = r.json["uuid"]
        poster = Poster(srv.port, srv.users["alice"].token, ticket)
        poster.start()

        def acked():
            with poster.lock:
                return {a[3]: a for a in poster.attempts if a[2] == 201 and a[3]}

        def wait_for(n):
            t0 = time.monotonic()
            while poster.ok_count() < n and poster.is_alive() and time.monotonic() - t0 < 15:
                time.sleep(0.01)
            check(poster.ok_count() >= n, "only %d posts acknowledged" % poster.ok_count())

        wait_for(20)
        before = acked()
        dest = os.path.join(srv.var, "backup")
        os.mkdir(dest, 0o750)
        owner = srv.store_owner()
        if owner:
            os.chown(dest, owner[0], owner[1])
        p = srv.ctl("db", "backup", dest, timeout=300)
        out = p.stdout.decode(errors="replace")
        check(p.returncode == 0, "exit %d: %s %s" % (p.returncode, short(out),
                                                     short(p.stderr.decode(errors="replace"))))
        check("backup of " in out, "no summary line: %s" % short(out))
        # The post under way now is number len(attempts): later ones began after the backup ended.
        with poster.lock:
            ended = len(poster.attempts)
        wait_for(len(acked()) + 10)
        poster.stop_flag.set()
        poster.join(timeout=60)
        after = {u: a for u, a in acked().items() if a[0] > ended}
        check(after, "no post acknowledged after the backup")
        log("backup: %d posts acknowledged before it, %d attempted by its end, %d acknowledged in all" % (
            len(before), ended, len(acked())))

        # Restore (docs/install.md, "Backup and restore").
        srv.stop()
        data = os.path.join(srv.var, "data")
        mode = os.stat(data)
        os.rename(data, data + ".before-restore")
        os.mkdir(data, mode.st_mode & 0o7777)
        os.chown(data, mode.st_uid, mode.st_gid)
        copied = 0
        for name in sorted(os.listdir(dest)):
            if name.endswith(".db") or name.startswith("log."):
                shutil.copy2(os.path.join(dest, name), os.path.join(data, name))
                os.chown(os.path.join(data, name), mode.st_uid, mode.st_gid)
                copied += 1
        check(copied >= 18, "only %d files in the backup" % copied)
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "db verify of the restored backup: exit %d: %s" % (
            p.returncode, short(p.stdout.decode(errors="replace"))))
        srv.start()
        r = alice.get(TICKETS + ticket + "/messages/")
        status(r, 200)
        by = {m["uuid"]: m for m in r.json}
        missing = [a[0] for u, a in before.items() if u not in by]
        check(not missing, "acknowledged before the backup, missing from it: #%s" % missing[:10])
        wrong = [a[0] for u, a in before.items() if by[u]["content"] != a[1]]
        check(not wrong, "altered in the backup: #%s" % wrong[:10])
        late = [a[0] for u, a in after.items() if u in by]
        check(not late, "posts acknowledged after the backup ended are in it: #%s" % late)
        t = alice.get(TICKETS + ticket + "/").json
        eq(t["message_count"], len(r.json), "message_count of the restored ticket")


def main():
    # no per-user ticket limit: bob opens many tickets while the programs are killed
    srv = standard_server(conf={("support", "max_tickets_per_user"): "0"})
    log("server on 127.0.0.1:%d, var %s" % (srv.port, srv.var))
    alice = srv.client("alice")

    with T.case("setup: alice opens the ticket"):
        r = alice.post(TICKETS, {"subject": "Crash target", "initial_message": "initial message"})
        status(r, 201)
        ticket = r.json["uuid"]

    poster = Poster(srv.port, srv.users["alice"].token, ticket)
    poster.start()
    maker = TicketMaker(srv.port, srv.users["bob"].token)
    maker.start()

    def wait_for_acks(n, what):
        t0 = time.monotonic()
        while poster.ok_count() < n and poster.is_alive() and time.monotonic() - t0 < 15:
            time.sleep(0.01)
        check(poster.is_alive(), "the poster stopped before " + what)

    # First only the workers: their supervisor must start new ones, and the
    # service must carry on by itself (recovering the environment if needed).
    with T.case("kill -9 of the worker processes only: the supervisors replace them, posts succeed again within 15 s"):
        wait_for_acks(40, "the worker kill")
        parents = [p for p in srv.pids() if "nginx" not in cmdline(p)]
        workers = sorted({c for p in parents for c in descendants(p)})
        check(workers, "no worker processes under %s" % parents)
        log("killing workers %s after %d acknowledged posts" % (workers, poster.ok_count()))
        for p in workers:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        base = poster.ok_count()
        t0 = time.monotonic()
        while poster.ok_count() < base + 5 and poster.is_alive() and time.monotonic() - t0 < 15:
            time.sleep(0.05)
        if poster.ok_count() < base + 5:
            raise Fail("only %d posts succeeded in 15 s after killing the workers (requests hang)\n%s"
                       % (poster.ok_count() - base, "\n".join(store_diagnostics(srv))))
        log("service back %.1f s after the worker kill" % (time.monotonic() - t0))
        check(all(os.path.exists("/proc/%d" % p) for p in parents), "a supervisor died with its workers")

    for k in range(1, KILLS + 1):
        with T.case("kill -9 #%d of the program processes mid-write, restart, server answers again" % k):
            # kills after about 110, 180 and 250 acknowledged posts: room is left
            # within MAX_POSTS for posts after the last restart
            wait_for_acks(40 + 70 * k, "kill #%d" % k)
            pids = program_pids(srv)
            check(pids, "no program pids found in %s" % srv.pid_files())
            log("kill #%d after %d acknowledged posts: pids %s" % (k, poster.ok_count(), pids))
            killed = kill_programs(srv, pids)
            alive = [p for p, cmd in srv.processes() if "nginx" not in cmd]
            check(not alive, "still alive after SIGKILL: %s (killed %s)" % (alive, killed))
            base = poster.ok_count()    # the programs are dead: no 201 can come until the restart
            srv.stop()
            t1 = time.monotonic()
            srv.start()
            log("restart took %.1f s" % (time.monotonic() - t1))
            probe_after_restart(srv, alice, ticket, "restart #%d" % k)
            t0 = time.monotonic()
            while poster.ok_count() <= base and poster.is_alive() and time.monotonic() - t0 < 20:
                time.sleep(0.05)
            check(poster.ok_count() > base, "no post succeeded within 20 s after restart #%d" % k)

    # let the poster finish a few more, then stop it
    time.sleep(1.0)
    poster.stop_flag.set()
    maker.stop_flag.set()
    poster.join(timeout=60)
    maker.join(timeout=60)
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
        eq(t["awaiting_staff_count"], len(thread), "awaiting_staff_count")
        eq(t["unanswered_messages_count"], 0, "unanswered_messages_count (no staff reply)")

    made = list(maker.attempts)
    t_acked = {a[4]: a for a in made if a[3] == 201 and a[4]}
    log("%d ticket creations tried, %d acknowledged" % (len(made), len(t_acked)))

    def check_tickets(label):
        bob = srv.client("bob")
        items, path, pages = [], TICKETS + "?page_size=100&ordering=number", 0
        first = None
        while path and pages < 10:
            r = bob.get(path)
            status(r, 200, "bob's list")
            first = first or r.json
            items += r.json["results"]
            nxt = r.json["next"]
            path = (nxt[nxt.index("/api/"):] if nxt else None)
            pages += 1
        ids = [t["uuid"] for t in items]
        eq(len(ids), len(set(ids)), "%s: no ticket listed twice" % label)
        eq(first["count"], len(items), "%s: count vs listed tickets" % label)
        missing = [t_acked[u][0] for u in t_acked if u not in ids]
        check(not missing, "%s: acknowledged tickets missing from the list: #%s" % (label, missing[:10]))
        nums = [t["number"] for t in items]
        eq(len(nums), len(set(nums)), "%s: distinct ticket numbers" % label)
        sent = {a[1]: a[2] for a in made}
        for t in items:
            check(t["subject"] in sent, "%s: listed ticket with a subject never sent: %r" % (label, t["subject"]))
            d = bob.get(TICKETS + t["uuid"] + "/")
            status(d, 200, "%s: detail of listed ticket %s" % (label, t["uuid"]))
            eq(d.json["message_count"], 1, "%s: message_count of %s" % (label, t["subject"]))
            eq([m["content"] for m in d.json["messages"]], [sent[t["subject"]]],
               "%s: first message of %s" % (label, t["subject"]))
        staff = srv.client("carol").get(TICKETS + "?page_size=1").json["count"]
        eq(staff, len(items) + 1, "%s: staff count (bob's tickets + alice's)" % label)
        return ids

    with T.case("tickets opened during the kills: every acknowledged one listed once, with its first message"):
        check(len(t_acked) >= 10, "only %d tickets acknowledged" % len(t_acked))
        bob_tickets = check_tickets("after kills")

    with T.case("supportctl db verify exits 0 (server stopped)"):
        srv.stop()
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "exit %d: %s %s" % (p.returncode, short(p.stdout.decode(errors="replace")),
                                                     short(p.stderr.decode(errors="replace"))))

    with T.case("the event log: every committed change has exactly one event, and no event lacks its change"):
        p = srv.ctl("events", timeout=120)
        check(p.returncode == 0, "supportctl events: exit %d: %s" % (p.returncode,
                                                                     short(p.stderr.decode(errors="replace"))))
        events = [json.loads(line) for line in p.stdout.decode().splitlines()]
        seqs = [e["seq"] for e in events]
        eq(seqs, list(range(1, len(events) + 1)), "events numbered 1.. without a hole or a repeat")
        posted = [e["message"] for e in events if e["type"] == "message.posted" and e.get("ticket") == ticket]
        eq(len(posted), len(set(posted)), "no message has two events")
        in_thread = {m["uuid"] for m in thread}
        created = [e for e in events if e["type"] == "ticket.created"]
        first = [e["message"] for e in created if e["ticket"] == ticket]
        eq(len(first), 1, "one ticket.created for alice's ticket")
        eq(set(posted) | set(first), in_thread, "the thread's messages and the events of its posts")
        made_ids = [e["ticket"] for e in created]
        eq(len(made_ids), len(set(made_ids)), "no ticket has two ticket.created events")
        eq(set(made_ids), set(bob_tickets) | {ticket}, "the tickets and their ticket.created events")
        log("%d events, %d of them posts to the crash ticket" % (len(events), len(posted)))

    with T.case("after a clean restart the thread is the same and new posts work"):
        srv.start()
        again = check_thread("after clean restart")
        eq([m["uuid"] for m in again], [m["uuid"] for m in thread], "thread after restart")
        eq(check_tickets("after clean restart"), bob_tickets, "bob's tickets after restart")
        r = alice.post(TICKETS + ticket + "/messages/", {"content": "after the storm"})
        status(r, 201)
        eq(alice.get(TICKETS + ticket + "/").json["message_count"], len(thread) + 1, "message_count")

    contended_case(srv, alice)
    graceful_case(srv, alice)
    backup_case(srv, alice)

    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
