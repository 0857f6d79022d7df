#!/usr/bin/env python3
"""What only Apache does, with a real Apache 2.4 in each mode.

- Apache's own Basic and Digest authentication and trust_remote_user: with it on, the
  desk takes the user Apache authenticated (REMOTE_USER), an existing user
  only; with it off, REMOTE_USER is ignored; a client's Remote-User header
  is never taken for it.  In each mode: mod_fcgid, mod_proxy_fcgi, CGI.
- mod_fcgid runs several processes of several programs on one store:
  parallel writers through both programs, every write there once, more than
  one process of each program served, db verify clean.
- The same requests get the same answers (status, headers, body) from
  nginx and from Apache in each mode: errors of every kind, HEAD, 304, the
  413 of a body that never comes; and /support/static/ serves htdocs/.

(The whole API suite runs against each mode through test_api.py with
SUPPORT_SERVER set; test.sh does that.)

Run from the repo root of a built tree:  python3 tests/http/test_apache.py
"""

import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, API, TICKETS, BUILD, REPO, SERVER_MODES, Client, basic, check, check_no_leftovers, eq, error,  # noqa: E402
                     raw_request, status, set_conf_key, standard_server, run_main, short, log)

MODES = tuple(m for m in SERVER_MODES if m.startswith("apache-"))
APACHE_PASSWORD = "apache-side-pw-1"   # Apache's, not the desk's

# Basic authentication by Apache over the desk's paths (and cgi-bin/, where
# the CGI mode's .htaccess sends them, and Apache checks again).  Apache
# checks the password; the programs see only REMOTE_USER: the Authorization
# header is removed after Apache's last check (not before a rewrite hands
# the request on), so the desk does not check it against its own accounts.
AUTH_CONF = """<LocationMatch "^/(api/support|support|cgi-bin)/">
	AuthType Basic
	AuthName "support"
	AuthUserFile "%s"
	Require valid-user
	RequestHeader unset Authorization "expr=%%{HANDLER} != 'redirect-handler'"
</LocationMatch>
"""


# The same with Digest authentication: the password never crosses the wire.
DIGEST_CONF = """<LocationMatch "^/(api/support|support|cgi-bin)/">
	AuthType Digest
	AuthName "support"
	AuthDigestProvider file
	AuthUserFile "%s"
	Require valid-user
	RequestHeader unset Authorization "expr=%%{HANDLER} != 'redirect-handler'"
</LocationMatch>
"""


def digest_request(port, method, path, user, password, body=None):
    """One request with HTTP Digest authentication (urllib answers the
    challenge); returns (status, parsed JSON or None)."""
    url = "http://127.0.0.1:%d%s" % (port, path)
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, url, user, password)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(mgr))
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None


def htpasswd(path, user, password, create=False):
    args = ["htpasswd", "-b"] + (["-c"] if create else []) + ["-B", path, user, password]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("htpasswd failed: %s" % p.stderr.decode(errors="replace"))


def apache_auth(srv, how):
    """Put Apache's own authentication ("basic", "digest" or None: off) in
    front of the desk, and restart."""
    site = os.path.join(srv.var, "apache-site")
    conf = os.path.join(site, "auth.conf")
    srv.stop()
    if how == "basic":
        pw = os.path.join(srv.var, "htpasswd")
        htpasswd(pw, "alice", APACHE_PASSWORD, create=True)
        htpasswd(pw, "mallory", APACHE_PASSWORD)
        text = AUTH_CONF % pw
    elif how == "digest":
        # htdigest asks for the password on a terminal; the file's line is
        # user:realm:MD5(user:realm:password).
        pw = os.path.join(srv.var, "htdigest")
        with open(pw, "w") as f:
            for user in ("alice", "mallory"):
                ha1 = hashlib.md5(("%s:support:%s" % (user, APACHE_PASSWORD)).encode()).hexdigest()
                f.write("%s:support:%s\n" % (user, ha1))
        text = DIGEST_CONF % pw
    if how:
        os.chmod(pw, 0o644)
        os.makedirs(site, exist_ok=True)
        with open(conf, "w") as f:
            f.write(text)
    elif os.path.exists(conf):
        os.unlink(conf)
    srv.start()


def remote_user_cases(mode):
    srv = standard_server(mode=mode)
    log("%s on 127.0.0.1:%d, var %s" % (mode, srv.port, srv.var))
    port = srv.port
    alice_apache = Client(port, basic("alice", APACHE_PASSWORD))

    with T.case("%s: with trust_remote_user = yes, the user Apache authenticated (REMOTE_USER) "
                "opens a ticket as herself" % mode):
        srv.stop()
        set_conf_key(srv.conf, "support", "trust_remote_user", "yes")
        apache_auth(srv, "basic")
        r = alice_apache.post(TICKETS, {"subject": "Via Apache login", "initial_message": "REMOTE_USER"})
        status(r, 201)
        eq(r.json["user"]["username"], "alice", "ticket owner")
        r = alice_apache.get(TICKETS)
        status(r, 200)
        eq([t["subject"] for t in r.json["results"]], ["Via Apache login"], "alice's list")

    with T.case("%s: a client's Remote-User / X-Remote-User header does not change who that is" % mode):
        r = alice_apache.get(TICKETS, headers={"Remote-User": "carol", "X-Remote-User": "carol"})
        status(r, 200)
        eq(r.json["count"], 1, "tickets seen (carol, staff, would see every ticket)")
        r = alice_apache.post(TICKETS, {"subject": "Header spoof", "initial_message": "x"},
                              headers={"Remote-User": "carol"})
        status(r, 201)
        eq(r.json["user"]["username"], "alice", "ticket owner")

    with T.case("%s: REMOTE_USER without an account in the desk: a customer account is made "
                "on first sight, seeing only its own tickets" % mode):
        r = Client(port, basic("mallory", APACHE_PASSWORD)).get(TICKETS)
        status(r, 200)
        eq(r.json["count"], 0, "tickets mallory sees (alice's are not hers)")
        r = Client(port, basic("mallory", APACHE_PASSWORD)).get(API + "/session/")
        status(r, 200)
        eq(r.json["user"]["username"], "mallory", "who the session says")
        eq(r.json["user"]["is_staff"], False, "a new account is a customer's")

    with T.case("%s: without Apache's login, Apache answers 401 and the desk is not reached" % mode):
        r = Client(port).get(TICKETS, headers={"Remote-User": "alice"})
        eq(r.status, 401, "status")
        check("Basic" in (r.header("WWW-Authenticate") or ""), "no Basic challenge: %r" % r.headers)

    with T.case("%s: Apache's Digest login, trust_remote_user = yes: the desk takes its user" % mode):
        apache_auth(srv, "digest")
        st, j = digest_request(port, "POST", TICKETS, "alice", APACHE_PASSWORD,
                               {"subject": "Via Digest", "initial_message": "m"})
        eq(st, 201, "status")
        eq(j["user"]["username"], "alice", "ticket owner")
        st, j = digest_request(port, "GET", TICKETS, "mallory", APACHE_PASSWORD)
        eq(st, 200, "status of a Digest user (her account was made by the Basic case)")
        eq((j or {}).get("count"), 0, "tickets mallory sees")
        st, j = digest_request(port, "GET", TICKETS, "alice", "wrong")
        eq(st, 401, "status with a wrong Digest password")
        apache_auth(srv, "basic")

    with T.case("%s: with trust_remote_user = no, REMOTE_USER is ignored: 401" % mode):
        srv.stop()
        set_conf_key(srv.conf, "support", "trust_remote_user", "no")
        srv.start()
        error(alice_apache.get(TICKETS), 401, "not_authenticated")
        error(alice_apache.post(TICKETS, {"subject": "s", "initial_message": "m"}), 401, "not_authenticated")

    with T.case("%s: trust on, no Apache login in front: a client's Remote-User header is not a login" % mode):
        srv.stop()
        set_conf_key(srv.conf, "support", "trust_remote_user", "yes")
        apache_auth(srv, None)
        for h in ({"Remote-User": "alice"}, {"X-Remote-User": "alice"}, {"REMOTE_USER": "alice"}):
            error(Client(port).get(TICKETS, headers=h), 401, "not_authenticated")
        # the desk's own logins still work beside it
        status(srv.client("alice").get(TICKETS), 200, "bearer token")

    check_no_leftovers(srv)
    srv.cleanup()


def program_processes(apache_pid):
    """{program name: number of its processes} among apache_pid's descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    counts, todo = {}, [apache_pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            todo.append(c)
            try:
                exe = os.readlink("/proc/%d/exe" % c)
            except OSError:
                continue
            if os.path.dirname(exe) == os.path.join(os.path.realpath(BUILD), "cgi-bin"):
                name = os.path.basename(exe)
                counts[name] = counts.get(name, 0) + 1
    return counts


def fcgid_parallel_cases():
    srv = standard_server(mode="apache-fcgid", conf={("support", "max_tickets_per_user"): "0"})
    log("apache-fcgid on 127.0.0.1:%d, var %s" % (srv.port, srv.var))
    users = ["alice", "bob"]
    workers, per_worker = 8, 10

    with open(os.path.join(srv.var, "run", "apache.pid")) as f:
        apache_pid = int(f.read())
    seen = {}

    def job(w, subject="parallel"):
        name = users[w % 2]
        c = srv.client(name)
        out = []
        t = c.post(TICKETS, {"subject": "%s %d" % (subject, w), "initial_message": "first of %d" % w},
                   record=False)
        out.append(("ticket", t.status, short(t.text(), 200)))
        if t.status != 201:
            return out
        u = t.json["uuid"]
        for i in range(per_worker):
            r = c.post(TICKETS + u + "/messages/", {"content": "w%d m%d" % (w, i)}, record=False)
            out.append(("message", r.status, short(r.text(), 200)))
            for k, v in program_processes(apache_pid).items():
                seen[k] = max(seen.get(k, 0), v)
        return out

    with T.case("mod_fcgid: %d parallel clients open tickets and post %d messages each: every write 201"
                % (workers, per_worker)):
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            results = list(ex.map(job, range(workers)))
        log("parallel phase %.1f s; most processes seen: %r" % (time.monotonic() - t0, seen))
        bad = [x for res in results for x in res if x[1] != 201]
        check(not bad, "%d writes failed, e.g. %r" % (len(bad), bad[:3]))
        eq(sum(len(res) for res in results), workers * (1 + per_worker), "writes made")

    with T.case("mod_fcgid: every ticket and message is there once, with its message count"):
        for name in users:
            r = srv.client(name).get(TICKETS + "?page_size=100")
            status(r, 200)
            mine = [t for t in r.json["results"] if t["subject"].startswith("parallel ")]
            eq(len(mine), workers // 2, "%s's parallel tickets" % name)
            for t in mine:
                eq(t["message_count"], 1 + per_worker, "message_count of %s" % t["subject"])
                m = srv.client(name).get(TICKETS + t["uuid"] + "/messages/")
                w = int(t["subject"].split()[1])
                eq([x["content"] for x in m.json][1:], ["w%d m%d" % (w, i) for i in range(per_worker)],
                   "messages of %s" % t["subject"])

    # The posts are what load the server (one ticket per client, many
    # messages), so mod_fcgid spawns more messages processes; it may serve
    # the few ticket creations with one.  When the posts above were quick
    # enough for one process, mod_fcgid has had no reason to start another:
    # the same load again on other tickets (not counted above), at most 5
    # rounds, until it does.
    with T.case("mod_fcgid ran several processes of the messages program beside the tickets "
                "program, on the one store"):
        rounds = 0
        while seen.get("messages", 0) < 2 and rounds < 5:
            rounds += 1
            with concurrent.futures.ThreadPoolExecutor(workers) as ex:
                more = list(ex.map(lambda w: job(w, "spawn load"), range(workers)))
            bad = [x for res in more for x in res if x[1] != 201]
            check(not bad, "round %d: %d writes failed, e.g. %r" % (rounds, len(bad), bad[:3]))
        log("more load: %d rounds; most processes seen: %r" % (rounds, seen))
        check(seen.get("tickets", 0) >= 1 and seen.get("messages", 0) >= 2,
              "processes seen at most: %r" % seen)

    with T.case("supportctl db verify exits 0 after the parallel writes (server stopped)"):
        srv.stop()
        p = srv.ctl("db", "verify", timeout=300)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, short(p.stderr.decode(errors="replace"))))

    check_no_leftovers(srv)
    srv.cleanup()


# Headers that are the server's own or differ by nature from run to run.
OWN_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}
# Headers whose value differs between two stores (uuids, times); compared
# by presence only.
PRESENCE_HEADERS = {"etag", "location"}


def answers(srv):
    """The same requests to srv; a list of (what, status, headers, body)."""
    port = srv.port
    tok = srv.users["alice"].token
    alice = srv.client("alice")
    anon = Client(port)
    t = alice.post(TICKETS, {"subject": "Parity", "initial_message": "same answers"})
    uuid = t.json["uuid"] if t.status == 201 else "none"
    msgs = TICKETS + uuid + "/messages/"
    etag = alice.get(msgs).header("ETag") or ""
    out = []

    def add(what, r, body=True):
        hdrs = {}
        for k, v in r.headers:
            k = k.lower()
            if k in OWN_HEADERS or (k == "content-length" and r.method == "HEAD"):
                continue
            hdrs[k] = "(present)" if k in PRESENCE_HEADERS else v
        out.append((what, r.status, hdrs, r.body.replace(uuid.encode(), b"{uuid}") if body else None))

    add("anonymous list: 401", anon.get(TICKETS))
    add("unknown API path: 404", anon.get("/api/support/nope/"))
    add("unknown API path, POST: 404", anon.post("/api/support/nope/x/", {"a": 1}))
    add("malformed ticket uuid: 404", alice.get(TICKETS + "not-a-uuid/"))
    add("DELETE on the list: 405 with Allow", alice.delete(TICKETS))
    add("malformed JSON: 400", alice.request("POST", TICKETS, body=b"{"))
    add("unknown query parameter: 400", alice.get(TICKETS + "?bogus=1"))
    add("text/plain body: 415", alice.request("POST", TICKETS, body=b"{}", content_type="text/plain"))
    add("unknown field: 400", alice.post(msgs, {"content": "x", "extra": 1}))
    add("body over max_body_bytes: 413", alice.request("POST", msgs, body=b"{" + b" " * 300000 + b"}"))
    add("HEAD on the list: 200", alice.request("HEAD", TICKETS))
    add("ticket detail: 200", alice.get(TICKETS + uuid + "/"), body=False)
    add("messages with If-None-Match: 304", alice.get(msgs, headers={"If-None-Match": etag}))
    add("messages posted: 201", alice.post(msgs, {"content": "parity"}), body=False)
    for what, size, whole in (("chunked body: 201", 40, False), ("chunked body over the cap: 413", 300000, True)):
        content = b'{"content": "' + b"c" * size + b'"}'
        st, raw, secs = raw_request(port, ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                           "Connection: close\r\n\r\n" % (msgs, tok)).encode()
                                    + b"%x\r\n%s\r\n0\r\n\r\n" % (len(content), content), timeout=15)
        out.append((what, st, {}, raw.partition(b"\r\n\r\n")[2] if whole else None))
    st, raw, secs = raw_request(port, ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                                       "Content-Type: application/json\r\nContent-Length: 1000000000\r\n"
                                       "Connection: close\r\n\r\n" % (msgs, tok)).encode(), timeout=8)
    out.append(("1 GB announced, nothing sent: 413 at once", st, {}, raw.partition(b"\r\n\r\n")[2]
                if secs < 5 else b"(took %.1f s)" % secs))
    return out


def parity_cases():
    ref = None
    for mode in ("nginx",) + MODES:
        srv = standard_server(mode=mode)
        log("%s on 127.0.0.1:%d, var %s" % (mode, srv.port, srv.var))
        got = answers(srv)
        if mode == "nginx":
            ref = got
            with T.case("nginx gives the status each of the %d requests names" % len(ref)):
                bad = ["%s: %s" % (what, st) for what, st, h, b in ref
                       if st != int(re.findall(r"\d{3}", what)[-1])]
                check(not bad, "; ".join(bad))
        else:
            with T.case("%s answers %d requests as nginx does (status, headers, body)" % (mode, len(ref))):
                diffs = []
                for (what, st, h, b), (_, nst, nh, nb) in zip(got, ref):
                    if st != nst:
                        diffs.append("%s: status %s, nginx %s" % (what, st, nst))
                    for k in sorted(set(h) | set(nh)):
                        if h.get(k) != nh.get(k):
                            diffs.append("%s: header %s %r, nginx %r" % (what, k, h.get(k), nh.get(k)))
                    if b != nb:
                        diffs.append("%s: body %s, nginx %s" % (what, short(b, 120), short(nb, 120)))
                check(not diffs, "%d differences:\n%s" % (len(diffs), "\n".join(diffs[:12])))
            with T.case("%s: /support/static/ serves the files of htdocs/" % mode):
                r = Client(srv.port).get("/support/static/index.html")
                status(r, 200)
                with open(os.path.join(REPO, "htdocs", "index.html"), "rb") as f:
                    eq(r.body, f.read(), "index.html")
                check("text/html" in (r.header("Content-Type") or ""), "Content-Type %r" % r.header("Content-Type"))
        srv.cleanup()


def main():
    try:
        parity_cases()
    except Exception as e:  # noqa: BLE001
        T.ok(False, "parity cases ran to the end", "exception: %r" % (e,))
    for mode in MODES:
        log(mode)
        try:
            remote_user_cases(mode)
        except Exception as e:  # noqa: BLE001 -- a mode that fails to start fails its case
            T.ok(False, "%s: REMOTE_USER cases ran to the end" % mode, "exception: %r" % (e,))
    try:
        fcgid_parallel_cases()
    except Exception as e:  # noqa: BLE001
        T.ok(False, "mod_fcgid parallel cases ran to the end", "exception: %r" % (e,))


if __name__ == "__main__":
    run_main(main)
