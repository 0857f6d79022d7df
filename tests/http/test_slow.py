#!/usr/bin/env python3
"""Slow clients cannot lock anyone out (docs/security.md, "Slow clients").

Behind the server of SUPPORT_SERVER (nginx, apache-fcgid, apache-proxy,
apache-cgi): 50 connections announce a body (Content-Length: 1000), send a
few bytes of it and stall, spread over the four programs' POST routes.
While they stall, a login, the API (each program) and a page answer within
a few seconds; the server closes the stalled connections itself after its
body timeout; a body announced over max_body_bytes is still refused with
413 before it is sent.  Where the programs listen on their own sockets
(nginx, apache-proxy), a body stalled on the FastCGI connection itself is
given up by the worker after body_timeout_s with a 408.

Run from the repo root of a built tree:  python3 tests/http/test_slow.py
"""

import json
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, SESSION, USERS, SERVER_MODE, check, eq, error,  # noqa: E402
                     raw_request, short, status, standard_server, check_no_leftovers, run_main, log)

STALLED = 50
# What "promptly" means here: a functional bound (the desk is not locked
# out), far above a normal answer and far below the 30 s of a held worker.
PROMPT_S = 5.0
# The web servers' body timeout (conf/: nginx client_body_timeout,
# Apache's RequestReadTimeout body=) and the slack allowed on top of it.
SERVER_BODY_TIMEOUT_S = 10
CLOSE_SLACK_S = 10
# body_timeout_s of support.conf, by default.
WORKER_BODY_TIMEOUT_S = 5

srv = None


def stall(port, path, token=None):
    """A connection that announces 1000 bytes of body, sends 6, and stalls.
    Returns (socket, time opened)."""
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n" % path)
    if token:
        head += "Authorization: Bearer %s\r\n" % token
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    s.sendall(head.encode() + b"\r\n" + b'{"a": ')
    return s, t0


def ended_within(s, deadline):
    """Wait until the server closes s, or answers on it, or deadline
    (monotonic) passes.  Returns (ended, bytes the server sent)."""
    got = b""
    while True:
        if b"\r\n\r\n" in got:
            return True, got
        # Past the deadline, still one look at what has come meanwhile.
        s.settimeout(max(deadline - time.monotonic(), 0.05))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return False, got
        except ConnectionResetError:
            return True, got
        if not chunk:
            return True, got
        got += chunk


# --- a minimal FastCGI client, to stall a body on a worker's own socket ---

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6


def fcgi_record(kind, content, req_id=1):
    return struct.pack(">BBHHBx", 1, kind, req_id, len(content), 0) + content


def fcgi_pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for x in (k, v):
            out += struct.pack(">B", len(x)) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
        out += k + v
    return out


def fcgi_stall(sock_path, uri, body_part, length=1000):
    """Begin a FastCGI request whose body announces `length` bytes and send
    `body_part` of it.  Returns (socket, time opened)."""
    params = {
        "REQUEST_METHOD": "POST", "REQUEST_URI": uri, "SCRIPT_NAME": uri, "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(length),
        "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1", "REQUEST_SCHEME": "http",
    }
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    t0 = time.monotonic()
    s.sendall(fcgi_record(FCGI_BEGIN, struct.pack(">HB5x", 1, 0))
              + fcgi_record(FCGI_PARAMS, fcgi_pairs(params)) + fcgi_record(FCGI_PARAMS, b"")
              + fcgi_record(FCGI_STDIN, body_part))
    return s, t0


def fcgi_answer(s, deadline):
    """The stdout of a FastCGI answer, once its end record came (else None)."""
    buf, out = b"", b""
    while True:
        while len(buf) >= 8:
            _, kind, _, clen, plen = struct.unpack(">BBHHB", buf[:7])
            if len(buf) < 8 + clen + plen:
                break
            if kind == FCGI_STDOUT:
                out += buf[8:8 + clen]
            elif kind == FCGI_END:
                return out
            buf = buf[8 + clen + plen:]
        s.settimeout(max(deadline - time.monotonic(), 0.05))
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk


def prompt(what, r):
    check(r.elapsed < PROMPT_S, "%s took %.1f s (the bound is %.0f s)" % (what, r.elapsed, PROMPT_S))


def test_stalled():
    alice = srv.users["alice"]
    a = srv.client("alice")
    r = a.post(TICKETS, {"subject": "slow clients", "initial_message": "first"})
    status(r, 201, "a ticket to write to")
    msgs = TICKETS + r.json["uuid"] + "/messages/"
    paths = [SESSION, TICKETS, msgs, USERS]

    stalled = []
    fcgi = None
    with T.case("%d connections that announce a body and stall are accepted" % STALLED):
        for i in range(STALLED):
            # Authenticated, so that the programs would go on to read the
            # body (an anonymous ticket post is refused before it).
            stalled.append(stall(srv.port, paths[i % len(paths)], alice.token))
    sock = os.path.join(srv.var, "run", "session.sock")
    if SERVER_MODE in ("nginx", "apache-proxy"):
        fcgi = fcgi_stall(sock, SESSION, b'{"username": ')
    # Long enough for every stalled request to reach a worker, if the
    # server passed them on before their bodies.
    time.sleep(1.5)

    with T.case("while %d stall: a login (POST session, right password) answers 200 within %.0f s"
                % (STALLED, PROMPT_S)):
        r = srv.client().post(SESSION, {"username": "bob", "password": srv.users["bob"].password},
                              timeout=30)
        status(r, 200)
        prompt("the login", r)
    with T.case("while they stall: the ticket list (GET, token) answers 200 promptly"):
        r = a.get(TICKETS, timeout=30)
        status(r, 200)
        prompt("the ticket list", r)
    with T.case("while they stall: the thread (GET messages) answers 200 promptly"):
        r = a.get(msgs, timeout=30)
        status(r, 200)
        prompt("the thread", r)
    with T.case("while they stall: a message is posted (POST messages, a body) with 201 promptly"):
        r = a.post(msgs, {"content": "written while others stall"}, timeout=30)
        status(r, 201)
        prompt("the post", r)
    with T.case("while they stall: the users program answers (GET users/?q=, staff) promptly"):
        r = srv.client("carol").get(USERS + "?q=alice", timeout=30)
        status(r, 200)
        prompt("the user lookup", r)
    with T.case("while they stall: the login page (GET /support/login/) answers 200 promptly"):
        r = srv.client().get("/support/login/", timeout=30)
        status(r, 200)
        check("<form" in r.text(), "no form on the login page: %s" % short(r.text(), 200))
        prompt("the login page", r)

    if fcgi is not None:
        with T.case("a body stalled on a worker's own socket: the worker answers 408 request_timeout "
                    "after body_timeout_s (%d s), not later" % WORKER_BODY_TIMEOUT_S):
            s, t0 = fcgi
            out = fcgi_answer(s, t0 + WORKER_BODY_TIMEOUT_S + 5)
            secs = time.monotonic() - t0
            s.close()
            check(out is not None, "no answer within %.0f s" % (WORKER_BODY_TIMEOUT_S + 5))
            head, _, body = out.partition(b"\r\n\r\n")
            check(head.startswith(b"Status: 408"), "answer: %s" % short(out.decode("utf-8", "replace"), 300))
            eq(json.loads(body)["error"]["code"], "request_timeout", "error.code")
            check(secs >= WORKER_BODY_TIMEOUT_S - 1, "answered after %.1f s, before the timeout" % secs)
        with T.case("the worker serves the next request after giving up on a stalled body"):
            r = srv.client().post(SESSION, {"username": "alice", "password": alice.password}, timeout=30)
            status(r, 200)
            prompt("the login", r)

    with T.case("the server ends every stalled connection itself (closes it or answers), within "
                "its body timeout (%d s) and %d s" % (SERVER_BODY_TIMEOUT_S, CLOSE_SLACK_S)):
        late, answers = [], {}
        for s, t0 in stalled:
            ended, got = ended_within(s, t0 + SERVER_BODY_TIMEOUT_S + CLOSE_SLACK_S)
            s.close()
            if not ended:
                late.append(got)
                line = "(still open)"
            else:
                line = got.split(b"\r\n", 1)[0].decode("latin-1") or "(closed, no answer)"
            answers[line] = answers.get(line, 0) + 1
        log("stalled connections ended with: %s" % answers)
        check(not late, "%d of %d stalled connections still open and unanswered after %d s"
              % (len(late), STALLED, SERVER_BODY_TIMEOUT_S + CLOSE_SLACK_S))
        # mod_fcgid answers a body it could not read in time with 500
        # (mod_fcgid's "can't get data from http client"; docs/apache.md).
        bad = [k for k in answers if k.startswith("HTTP/1.1 5")
               and not (SERVER_MODE == "apache-fcgid" and k.startswith("HTTP/1.1 500"))]
        check(not bad, "a stalled connection got a server error: %s" % bad)

def test_after():
    with T.case("after the stalled connections ended, a login still answers 200 promptly"):
        r = srv.client().post(SESSION, {"username": "alice", "password": srv.users["alice"].password},
                              timeout=30)
        status(r, 200)
        prompt("the login", r)
    with T.case("no program was ended by its watchdog, nor the store recovered, meanwhile (logs)"):
        logdir = os.path.join(srv.var, "log")
        found = []
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), encoding="utf-8", errors="replace") as f:
                for line in f:
                    if any(w in line for w in ("ended by signal", "PANIC", "recovered by another process")):
                        found.append("%s: %s" % (name, line.strip()))
        check(not found, "%d such lines, e.g.: %s" % (len(found), "; ".join(found[:3])))


def test_too_large():
    alice = srv.users["alice"]
    for path in (SESSION, TICKETS, USERS):
        with T.case("POST %s announcing 1 GB, nothing sent: 413 payload_too_large within %.0f s"
                    % (path, PROMPT_S)):
            req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
                   % (path, alice.token)).encode()
            st, raw, secs = raw_request(srv.port, req, timeout=PROMPT_S + 3)
            check(st == 413, "status %r after %.1f s: %s" % (st, secs, short(raw.decode("utf-8", "replace"), 300)))
            check(secs < PROMPT_S, "the 413 took %.1f s" % secs)
            check(b"payload_too_large" in raw, "not the desk's JSON 413: %s" % short(raw, 300))
    with T.case("a page form announcing 1 GB: 413 as a page"):
        req = ("POST /support/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000\r\n\r\n").encode()
        st, raw, secs = raw_request(srv.port, req, timeout=PROMPT_S + 3)
        check(st == 413, "status %r after %.1f s: %s" % (st, secs, short(raw.decode("utf-8", "replace"), 300)))
        check(b"text/html" in raw.partition(b"\r\n\r\n")[0].lower(), "not a page: %s" % short(raw, 300))
    with T.case("a body just over max_body_bytes, sent whole: 413 payload_too_large"):
        error(srv.client("alice").post(TICKETS, body=b"{" + b" " * 262144 + b"}"), 413, "payload_too_large")


def main():
    global srv
    srv = standard_server()
    log("server: %s" % SERVER_MODE)
    test_too_large()
    test_stalled()
    test_after()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
