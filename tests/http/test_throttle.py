#!/usr/bin/env python3
"""Login throttling under concurrency, through the real web server: 40
wrong logins sent at once, by the JSON API, the log-in form and HTTP Basic
(three paths, two programs, several workers each), check at most the
limit's number of passwords; every other answer is 429 with Retry-After.
A refused password answers 401 only after its argon2id verification, and a
throttled login answers 429 without one, so the 401s count verifications.

The account limit is tried from 127.0.0.2 and the address limit from
127.0.0.3 (the client binds its side of the connection to them; the
server listens on 127.0.0.1), so the two counts do not meet.

Run from the repo root of a built tree:  python3 tests/http/test_throttle.py
"""

import base64
import http.client
import json
import os
import re
import sys
import threading
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, SESSION, TICKETS, check, eq, standard_server,  # noqa: E402
                     check_no_leftovers, run_main)

LOGIN = "/support/login/"
ACCOUNT_LIMIT = 5       # the defaults of login_fails_account
ADDRESS_LIMIT = 20      # and login_fails_address
N = 40

srv = None


def send(source, method, path, body=None, headers=None):
    """One request from the address source; (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def json_login(source, name):
    return send(source, "POST", SESSION, json.dumps({"username": name, "password": "wrong"}),
                {"Content-Type": "application/json"})


def form_login(source, name, token):
    body = urllib.parse.urlencode({"username": name, "password": "wrong",
                                   "csrfmiddlewaretoken": token})
    return send(source, "POST", LOGIN, body, {"Content-Type": "application/x-www-form-urlencoded",
                                              "Cookie": "csrftoken=" + token})


def basic_login(source, name):
    cred = base64.b64encode(("%s:wrong" % name).encode()).decode()
    return send(source, "GET", TICKETS, headers={"Authorization": "Basic " + cred})


def at_once(calls):
    """Run the calls (functions) all at once; their results in order."""
    results = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i):
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as e:  # noqa: BLE001
            results[i] = (None, {}, repr(e).encode())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def tally(results):
    statuses = [r[0] for r in results]
    return statuses.count(401), statuses.count(429), [r for r in results if r[0] not in (401, 429)]


def visitor_token(source):
    status, headers, _ = send(source, "GET", LOGIN)
    m = re.search(r"csrftoken=([0-9a-f]{64})", headers.get("set-cookie", ""))
    check(status == 200 and m, "the log-in form gives a csrftoken cookie")
    return m.group(1)


def test_account():
    with T.case("%d parallel wrong passwords for one account (JSON, form, Basic): "
                "%d checked, the rest 429" % (N, ACCOUNT_LIMIT)):
        src = "127.0.0.2"
        token = visitor_token(src)
        paths = [lambda: json_login(src, "alice"), lambda: form_login(src, "alice", token),
                 lambda: basic_login(src, "alice")]
        results = at_once([paths[i % 3] for i in range(N)])
        refused, throttled, other = tally(results)
        eq(refused, ACCOUNT_LIMIT, "answers after a password check (401)")
        eq(throttled, N - ACCOUNT_LIMIT, "throttled answers (429)")
        check(not other, "other answers: %s" % [(r[0], r[2][:80]) for r in other[:5]])
        check(all(r[1].get("retry-after", "").isdigit() for r in results if r[0] == 429),
              "every 429 says Retry-After")
    with T.case("  the right password is throttled too until the window ends"):
        status, _, _ = send("127.0.0.2", "POST", SESSION,
                            json.dumps({"username": "alice", "password": srv.users["alice"].password}),
                            {"Content-Type": "application/json"})
        eq(status, 429, "alice's right password")
    with T.case("  another account from the same address logs in"):
        status, _, _ = send("127.0.0.2", "POST", SESSION,
                            json.dumps({"username": "bob", "password": srv.users["bob"].password}),
                            {"Content-Type": "application/json"})
        eq(status, 200, "bob's login")


def test_address():
    with T.case("%d parallel logins for %d unknown names from one address: %d checked, "
                "the rest 429" % (N, N, ADDRESS_LIMIT)):
        src = "127.0.0.3"
        token = visitor_token(src)
        calls = []
        for i in range(N):
            name = "nobody%d" % i
            calls.append([lambda n=name: json_login(src, n), lambda n=name: form_login(src, n, token),
                          lambda n=name: basic_login(src, n)][i % 3])
        refused, throttled, other = tally(at_once(calls))
        eq(refused, ADDRESS_LIMIT, "answers after a password check (401)")
        eq(throttled, N - ADDRESS_LIMIT, "throttled answers (429)")
        check(not other, "other answers: %s" % [(r[0], r[2][:80]) for r in other[:5]])
    with T.case("  a good login from that address is throttled; from another it is not"):
        body = json.dumps({"username": "carol", "password": srv.users["carol"].password})
        status, _, _ = send("127.0.0.3", "POST", SESSION, body, {"Content-Type": "application/json"})
        eq(status, 429, "carol from the throttled address")
        status, _, _ = send("127.0.0.4", "POST", SESSION, body, {"Content-Type": "application/json"})
        eq(status, 200, "carol from another address")


def main():
    global srv
    srv = standard_server()
    test_account()
    test_address()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
