#!/usr/bin/env python3
"""Confinement of the workers (docs/security.md, "Confinement"), behind the
web server SUPPORT_SERVER names.

- Every long-lived process serving requests for this desk -- the --listen
  workers under nginx and mod_proxy_fcgi, the processes mod_fcgid starts --
  is in seccomp filter mode and cannot gain privileges (/proc/PID/status:
  "Seccomp: 2", "NoNewPrivs: 1"); the --listen supervisor, which forks the
  workers, is not.
- A plain CGI process is confined too: caught while it waits for its body
  (run directly, in every mode; and through Apache under apache-cgi).
- A worker on a TCP --listen address answers over TCP, confined (behind
  nginx only: it is the same in every mode).
- The confined desk still serves every kind of request: each program, JSON
  and pages, reads, durable writes, a sign-up (argon2id), log in and out.
- Nothing in the programs' logs says a worker could not be confined.
- confine = no in support.conf: the workers run unconfined.
- support-mailin (behind nginx only: it is no web server's) is confined
  before it reads the mail: caught while it waits for the rest of it,
  then it takes a Shift_JIS mail; with confine = no it is not.

Run from the repo root: python3 tests/http/test_confine.py
"""

import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, BUILD, CGI_TICKETS, PROGRAMS, SERVER_MODE, TICKETS, SESSION, USERS,  # noqa: E402
                     Fail, check, eq, status, standard_server, set_conf_key, check_no_leftovers,
                     free_port, run_main, log)
from test_session import Browser  # noqa: E402
from test_cgi import CGIResponse  # noqa: E402

srv = None


def unconfined_build():
    """Why the programs under test are built without confinement, or None
    (the reason is a string confine_unavailable() compiles in)."""
    with open(CGI_TICKETS, "rb") as f:
        exe = f.read()
    for why in (b"a sanitizer build", b"built without confinement"):
        if why in exe:
            return why.decode()
    return None


def proc_status(pid):
    """/proc/PID/status as {field: value}, or None when pid is gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        return None
    return out


def confined(pid):
    s = proc_status(pid)
    return s is not None and s.get("Seccomp") == "2" and s.get("NoNewPrivs") == "1"


def program_processes():
    """{pid: program} of the live processes of the desk's programs that
    serve srv: their executable is a program of this build (or the copy
    run.sh made for plain CGI), and they were given srv's support.conf
    (--conf or SUPPORT_CONF)."""
    conf = srv.conf.encode()
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % d)
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        name = os.path.basename(exe)
        if name not in PROGRAMS or not (exe.startswith(BUILD) or exe.startswith(srv.var)):
            continue
        if conf in cmd or b"SUPPORT_CONF=" + conf in env:
            s = proc_status(int(d))
            if s is not None and not s.get("State", "").startswith("Z"):
                out[int(d)] = name
    return out


def supervisors():
    """The pids run.sh wrote for the programs (--listen supervisors)."""
    return {p for p, name in program_processes().items() if p in srv.pids()}


def workers(timeout=10.0):
    """{pid: program} of the workers, once each has had time to finish
    starting (to open the store and confine itself)."""
    deadline = time.monotonic() + timeout
    while True:
        sup = supervisors()
        w = {p: n for p, n in program_processes().items() if p not in sup}
        if (w and all(confined(p) for p in w)) or time.monotonic() > deadline:
            return w
        time.sleep(0.2)


# --------------------------------------------------------------------------


def exercise():
    """Every kind of request, as a browser and as scripts send them; returns
    the ticket made."""
    alice, carol = srv.client("alice"), srv.client("carol")
    with T.case("confined: the API opens a ticket, shows and lists it (tickets)"):
        r = alice.post(TICKETS, {"subject": "Confined", "initial_message": "Hello from a sandbox"})
        status(r, 201, "open a ticket")
        ticket = r.json["uuid"]
        status(alice.get(TICKETS + ticket + "/"), 200, "ticket detail")
        r = carol.get(TICKETS + "?q=confined&status=open")
        status(r, 200, "staff list with a search")
        check(any(t["uuid"] == ticket for t in r.json["results"]), "the new ticket is listed")
        status(carol.patch(TICKETS + ticket + "/", {"priority": "high"}), 200, "staff PATCH")
    with T.case("confined: messages are posted (durable commits) and polled with an ETag (messages)"):
        path = TICKETS + ticket + "/messages/"
        status(carol.post(path, {"content": "A **reply**"}), 201, "staff reply")
        status(alice.post(path, {"content": "Thanks"}), 201, "customer reply")
        r = alice.get(path)
        status(r, 200, "the thread")
        eq(len(r.json), 3, "messages in the thread")
        etag = r.header("ETag")
        check(etag, "an ETag")
        status(alice.get(path, headers={"If-None-Match": etag}), 304, "poll answered 304")
    with T.case("confined: sign up (argon2id), staff user lookup (users)"):
        r = srv.client().post(USERS, {"username": "sandboxed", "email": "sandboxed@example.com",
                                      "password": "a long sandbox password"})
        status(r, 201, "sign-up")
        status(carol.get(USERS + "?q=alice"), 200, "staff lookup")
    with T.case("confined: log in, who am I, pages by cookie, a page form, log out (session, pages)"):
        b = Browser(srv.port)
        b.login("alice", srv.users["alice"].password)
        r = b.get(SESSION)
        eq(r.json["user"]["username"], "alice", "who am I")
        for page, want in (("/support/", 200), ("/support/tickets/%s/" % ticket, 200),
                           ("/support/tickets/new/", 200), ("/support/password/", 200),
                           ("/support/nothing/here/", 404)):
            r = b.get(page)
            status(r, want, page)
            check((r.header("Content-Type") or "").startswith("text/html"), "%s is a page" % page)
        r = b.post("/support/tickets/%s/messages/" % ticket,
                   form={"content": "Sent from the page", "csrfmiddlewaretoken": b.csrf})
        status(r, 303, "a reply by the page's form")
        status(Browser(srv.port).get("/support/login/"), 200, "the log-in page, anonymous")
        status(b.request("DELETE", SESSION, csrf=b.csrf), 204, "log out")
    with T.case("confined: an unknown path is a JSON 404, a bad body a 400"):
        status(alice.get("/api/support/nothing/"), 404, "unknown path")
        status(alice.post(TICKETS, body="{not json", content_type="application/json"), 400, "bad JSON")
    return ticket


def check_workers():
    with T.case("every worker serving the desk is confined: Seccomp: 2 (filter), NoNewPrivs: 1"):
        w = workers()
        check(w, "no worker process of the programs found")
        names = set(w.values())
        eq(sorted(names), sorted(PROGRAMS), "programs with a worker")
        bad = ["%d (%s): Seccomp %s, NoNewPrivs %s" % (p, n, (proc_status(p) or {}).get("Seccomp"),
                                                      (proc_status(p) or {}).get("NoNewPrivs"))
               for p, n in sorted(w.items()) if not confined(p)]
        check(not bad, "not confined: " + "; ".join(bad))
        log("%d workers confined: %s" % (len(w), ", ".join("%s %d" % (n, p) for p, n in sorted(w.items()))))
    if SERVER_MODE in ("nginx", "apache-proxy"):
        with T.case("the --listen supervisors are not confined (they fork the workers)"):
            sup = supervisors()
            eq(len(sup), len(PROGRAMS), "supervisors found")
            for p in sup:
                eq((proc_status(p) or {}).get("Seccomp"), "0", "Seccomp of supervisor %d" % p)


def run_as_store_owner():
    owner = srv.store_owner()
    if not owner:
        return None

    def become():
        os.setgroups([])
        os.setgid(owner[1])
        os.setuid(owner[0])
    return become


def check_cgi_direct():
    """The tickets program as plain CGI, with its body held back: confined
    while it waits, then it answers."""
    with T.case("plain CGI: the process is confined before it reads the request, then answers 201"):
        body = b'{"subject": "By CGI", "initial_message": "From a confined CGI process"}'
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": "POST",
            "REQUEST_URI": TICKETS,
            "PATH_INFO": TICKETS,
            "QUERY_STRING": "",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": "Bearer " + srv.users["alice"].token,
            "SUPPORT_CONF": srv.conf,
        }
        p = subprocess.Popen([CGI_TICKETS], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=run_as_store_owner())
        try:
            deadline = time.monotonic() + 10
            while not confined(p.pid) and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            was = confined(p.pid)
            out, err = p.communicate(body, timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = CGIResponse(p.returncode, out, err, 0)
        T.last_response = r
        check(was, "the CGI process was not confined while it waited for its body (stderr: %r)" % err[-300:])
        status(r, 201, "the CGI answer")


def check_cgi_apache():
    """Under apache-cgi: a request whose body is still coming holds its CGI
    process, started by Apache, which must be confined."""
    with T.case("apache-cgi: the CGI process Apache started is confined while it waits for the body"):
        body = b'{"subject": "Slow", "initial_message": "A body sent in two parts"}'
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (TICKETS, srv.users["alice"].token, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        try:
            s.sendall(head + body[:10])
            deadline = time.monotonic() + 10
            procs = {}
            while not procs and time.monotonic() < deadline:
                procs = program_processes()
                time.sleep(0.05)
            check(procs, "no CGI process of the desk while its request's body was coming")
            time.sleep(0.3)    # past its start-up: the store opened, confined
            bad = [p for p in procs if proc_status(p) is not None and not confined(p)]
            s.sendall(body[10:])
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        finally:
            s.close()
        check(not bad, "CGI processes not confined: %s" % bad)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
        eq(int(m.group(1)) if m else None, 201, "the answer to the slow request")


def fcgi_record(kind, body):
    pad = (8 - len(body) % 8) % 8
    return struct.pack(">BBHHBB", 1, kind, 1, len(body), pad, 0) + body + b"\0" * pad


def fcgi_params(env):
    out = b""
    for k, v in env.items():
        k, v = k.encode(), v.encode()
        for x in (k, v):
            out += bytes([len(x)]) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
        out += k + v
    return out


def check_tcp_listen():
    """A worker on a TCP --listen address answers, confined.  (libfcgi sets
    TCP_NODELAY on each connection it accepts and goes on if refused:
    tests/unit/test_confine.c checks that the filter allows it.)"""
    with T.case("--listen on 127.0.0.1: the confined worker answers a FastCGI request over TCP"):
        port = free_port()
        p = subprocess.Popen([CGI_TICKETS, "--conf", srv.conf, "--listen", "127.0.0.1:%d" % port,
                              "--children", "1"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, preexec_fn=run_as_store_owner())
        try:
            got, deadline = b"", time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise Fail("nothing listens on 127.0.0.1:%d" % port)
            with s:
                s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)) +
                          fcgi_record(4, fcgi_params({"REQUEST_METHOD": "GET", "REQUEST_URI": TICKETS,
                                                      "CONTENT_LENGTH": "0"})) +
                          fcgi_record(4, b"") + fcgi_record(5, b""))
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                kids = [int(k) for k in f.read().split()]
            check(kids and all(confined(k) for k in kids), "worker %s not confined" % kids)
        finally:
            p.terminate()
            _, err = p.communicate(timeout=30)
        check(b"Status: 401" in got, "no 401 over TCP: %r (stderr %r)" % (got[:80], err[-300:]))


def check_logs():
    with T.case("no program says it could not be confined (their logs, Apache's error log)"):
        text = ""
        logdir = os.path.join(srv.var, "log")
        for name in os.listdir(logdir):
            if name.endswith(".log") and "access" not in name:
                with open(os.path.join(logdir, name), encoding="utf-8", errors="replace") as f:
                    text += f.read()
        # (A kernel without Landlock is said once per worker: not a failure.)
        bad = [l for l in text.splitlines()
               if "cannot confine" in l or ("confine:" in l and "no Landlock" not in l)]
        check(not bad, "log lines: %s" % bad[:5])
        notes = [l for l in text.splitlines() if "confine:" in l]
        if notes:
            log("notes: %s" % notes[0])


MAILIN = os.path.join(BUILD, "bin", "support-mailin")


def mailin_held(conf, subject):
    """support-mailin given the first half of a mail on a pipe held open:
    its /proc status while it waits for the rest, then its exit status
    and stderr once the rest came."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mail",
                           "shift-jis.eml"), "rb") as f:
        data = f.read().replace(b"{{support}}", b"help@example.com")
    data = re.sub(rb"(?m)^Subject: .*$", b"Subject: " + subject.encode(), data, count=1)
    data = re.sub(rb"(?m)^Message-ID: .*$", b"Message-ID: <" + subject.replace(" ", ".").encode() +
                  b"@example.com>", data, count=1)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SUPPORT_CONF": conf}
    env.update({k: v for k, v in srv.env().items() if k.startswith("SUPPORT_TEST")})
    p = subprocess.Popen([MAILIN], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=run_as_store_owner())
    try:
        p.stdin.write(data[:len(data) // 2])
        p.stdin.flush()
        # Blocked in its read of standard input from here on: once its
        # set-up is done, its status is what it parses the mail under.
        deadline = time.monotonic() + 10
        st = proc_status(p.pid)
        while time.monotonic() < deadline and p.poll() is None:
            st = proc_status(p.pid)
            if st and st.get("Seccomp") == "2":
                break
            time.sleep(0.02)
        time.sleep(0.2)
        st = proc_status(p.pid) or st
        out, err = p.communicate(data[len(data) // 2:], timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return st, p.returncode, err.decode(errors="replace")


def check_mailin():
    """support-mailin confines itself before it reads the mail: the GMime
    parse of outside bytes (a Shift_JIS mail: iconv modules loaded before
    confining) runs confined, and the mail is taken; confine = no leaves
    it unconfined."""
    bob = srv.client("bob")

    def subjects():
        r = bob.get(TICKETS + "?page_size=100")
        status(r, 200, "bob's tickets")
        return [t["subject"] for t in r.json["results"]]

    with T.case("support-mailin: confined (seccomp, no_new_privs) while it reads the mail; "
                "then takes it, its Shift_JIS text converted"):
        st, rc, err = mailin_held(srv.conf, "Confined mail in")
        check(st is not None, "no status read")
        eq(st.get("Seccomp"), "2", "Seccomp while it reads (stderr: %s)" % err[-300:])
        eq(st.get("NoNewPrivs"), "1", "NoNewPrivs while it reads")
        eq(rc, 0, "exit status (stderr: %s)" % err[-300:])
        check("Confined mail in" in subjects(), "the mail is bob's ticket")
        r = bob.get(TICKETS + "?page_size=100")
        t = [t for t in r.json["results"] if t["subject"] == "Confined mail in"][0]
        msgs = bob.get(TICKETS + t["uuid"] + "/messages/").json
        text = msgs[0]["content"] if isinstance(msgs, list) else msgs["results"][0]["content"]
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mail",
                               "shift-jis.eml"), "rb") as f:
            want = f.read().split(b"\n\n", 1)[1].decode("shift_jis").strip()
        check(want and want in text, "the Shift_JIS text arrived as %r: %r" % (want, text[:120]))

    with T.case("support-mailin with confine = no: unconfined, and takes the mail"):
        conf = os.path.join(srv.var, "support-noconfine.conf")
        with open(srv.conf) as f, open(conf, "w") as g:
            g.write(f.read())
        set_conf_key(conf, "support", "confine", "no")
        os.chmod(conf, 0o644)
        st, rc, err = mailin_held(conf, "Unconfined mail in")
        check(st is not None, "no status read")
        eq(st.get("Seccomp"), "0", "Seccomp while it reads")
        eq(rc, 0, "exit status (stderr: %s)" % err[-300:])
        check("Unconfined mail in" in subjects(), "the mail is bob's ticket")


def check_off():
    with T.case("confine = no: the workers run unconfined and serve"):
        srv.stop()
        set_conf_key(srv.conf, "support", "confine", "no")
        srv.start()
        status(srv.client("alice").get(TICKETS), 200, "list")
        w = workers(timeout=2)
        check(w, "no worker process found")
        on = [p for p in w if (proc_status(p) or {}).get("Seccomp") != "0"]
        check(not on, "workers in seccomp mode with confine = no: %s" % on)


def main():
    global srv
    why = unconfined_build()
    if why is not None:
        print("1..0 # SKIP the programs are %s: they run unconfined" % why)
        sys.exit(0)
    srv = standard_server(extra_users=[("erin", "user")],
                          conf={("support", "allow_registration"): "yes"})
    exercise()
    if SERVER_MODE != "apache-cgi":
        check_workers()
    else:
        check_cgi_apache()
    check_cgi_direct()
    if SERVER_MODE == "nginx":
        check_tcp_listen()
    check_logs()
    if SERVER_MODE == "nginx":
        check_mailin()
    if SERVER_MODE != "apache-cgi":
        check_off()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
