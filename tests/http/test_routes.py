#!/usr/bin/env python3
"""Every route of every program reaches that program through the web
server's routing made from conf/programs.tab, and no route reaches another.

The routes are the programs' own (`cgi-bin/PROGRAM --routes`), with a real
ticket's UUID for {uuid} and a real user's id for {id}; the table's rows
come from conf/routes.sh, as the configurations were made from them.

- The table and the programs agree: the first row that takes a route's
  path is a row of the program that has the route (so no other row takes
  it first), and no two programs have a route with the same path.
- Through the web server (SUPPORT_SERVER: nginx or an Apache mode): each
  route's own method reaches a program that has the route (neither 404 nor
  405, and the desk's answer rather than the server's own), and PUT, a
  method no route has, answers 405 with an Allow header naming exactly the
  methods the route's program has for that path.  A path that reached
  another program would get that program's 404 (it has no such route:
  see the first point), and one the server kept would get the server's
  own answer.  The Allow header is one every program already sends.
- A path under each row that no program has a route for gets the desk's
  404 (JSON under /api/, the 404 page under /support/), not the server's;
  the static files are the server's and reach no program.

Run from the repo root of a built tree:  python3 tests/http/test_routes.py
"""

import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, BUILD, PROGRAMS, REPO, ROUTE_ROWS, SERVER_MODE, TICKETS, Client, check,  # noqa: E402
                     eq, envelope_problem, short, standard_server, run_main)

# What a placeholder of lib/web/route.h takes (as lib/web/route.c matches it).
SLOTS = {"{uuid}": "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
         "{id}": "[1-9][0-9]{0,9}"}
# Placeholder values for the checks that need no server (any valid value).
SAMPLE = {"{uuid}": "0b5c3e0e-7a43-4d4e-9d0c-6f1f6a2b9c11", "{id}": "7"}
# A method no program has a route for: the answer is the path's Allow.
NO_METHOD = "PUT"


def program_routes():
    """{program: [route, ...]} from each program's --routes."""
    out = {}
    for name in PROGRAMS:
        p = subprocess.run([os.path.join(BUILD, "cgi-bin", name), "--routes"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("%s --routes exited %d: %s" % (name, p.returncode, p.stderr.decode(errors="replace")))
        out[name] = json.loads(p.stdout)
    return out


def pattern_re(pattern):
    """The compiled regular expression of a route pattern (a whole path)."""
    parts = re.split(r"(\{uuid\}|\{id\})", pattern)
    return re.compile("".join(SLOTS[p] if p in SLOTS else re.escape(p) for p in parts) + r"\Z")


def concrete(pattern, values):
    """The pattern with its placeholders filled in from values."""
    for slot, v in values.items():
        pattern = pattern.replace(slot, v)
    check("{" not in pattern, "a placeholder this test does not know in %r" % pattern)
    return pattern


def first_row(path):
    """The row (program, path, regex) the web servers send path to, or None."""
    for row in ROUTE_ROWS:
        if re.match(row[2], path):
            return row
    return None


def allowed(routes, path):
    """The methods of routes whose pattern takes path, as Allow names them
    (HEAD with GET)."""
    m = {r["method"] for r in routes if pattern_re(r["pattern"]).match(path)}
    if "GET" in m:
        m.add("HEAD")
    return m


def check_table(progs):
    """The table and the programs' routes agree (no server needed)."""
    with T.case("programs.tab has rows and names programs that answer --routes: %s" % " ".join(PROGRAMS)):
        check(ROUTE_ROWS, "no rows")
        check(all(progs[p] for p in PROGRAMS), "a program has no routes")
    for name in PROGRAMS:
        for route in progs[name]:
            path = concrete(route["pattern"], SAMPLE)
            with T.case("table: %s %s is %s's, by the first row that takes it" %
                        (route["method"], route["pattern"], name)):
                row = first_row(path)
                check(row is not None, "no row of programs.tab takes %s" % path)
                eq(row[0], name, "program of the first row that takes %s (row %s)" % (path, row[1]))
    with T.case("no two programs have a route with the same path"):
        clash = []
        for name in PROGRAMS:
            for route in progs[name]:
                path = concrete(route["pattern"], SAMPLE)
                others = [o for o in PROGRAMS if o != name and allowed(progs[o], path)]
                if others:
                    clash.append("%s (%s) is also %s's" % (route["pattern"], name, ", ".join(others)))
        check(not clash, "; ".join(sorted(set(clash))))


def from_desk(r, what):
    """Fail unless r is an answer of a program rather than the web server's:
    the programs' Content-Security-Policy, and JSON (an error in the
    envelope), an HTML page, or no body (204, a redirect)."""
    csp = r.header("Content-Security-Policy") or ""
    check("frame-ancestors 'none'" in csp, "%s: no Content-Security-Policy of the desk (the web server's own "
          "answer?): %d %s" % (what, r.status, short(r.text(), 200)))
    ctype = r.header("Content-Type") or ""
    if r.status in (204, 301, 302, 303, 304):
        return
    if "application/json" in ctype:
        if r.status >= 400:
            p = envelope_problem(r)
            check(p is None, "%s: %s" % (what, p))
        return
    check(ctype.startswith("text/html"), "%s: neither JSON nor a page: %r" % (what, ctype))


def check_server(progs):
    srv = standard_server()
    alice = srv.client("alice")
    r = alice.post(TICKETS, {"subject": "Routes", "initial_message": "a ticket for the routes"})
    eq(r.status, 201, "alice opens a ticket")
    ticket = r.json["uuid"]
    r = srv.client("dave").get("/api/support/session/")
    eq(r.status, 200, "dave's session")
    values = {"{uuid}": ticket, "{id}": str(r.json["user"]["id"])}
    anon = Client(srv.port)
    for name in PROGRAMS:
        for route in progs[name]:
            path = concrete(route["pattern"], values)
            what = "%s %s" % (route["method"], path)
            with T.case("%s: %s %s reaches a route of %s" % (SERVER_MODE, route["method"], route["pattern"], name)):
                r = anon.request(route["method"], path)
                check(r.status not in (404, 405), "%s: %d, the route was not reached: %s"
                      % (what, r.status, short(r.text(), 200)))
                check(r.status < 500, "%s: %d %s" % (what, r.status, short(r.text(), 200)))
                from_desk(r, what)
        for pattern in sorted({route["pattern"] for route in progs[name]}):
            path = concrete(pattern, values)
            want = allowed(progs[name], path)
            with T.case("%s: %s %s answers %s's Allow: %s" % (SERVER_MODE, NO_METHOD, pattern, name,
                                                              ", ".join(sorted(want)))):
                r = anon.request(NO_METHOD, path)
                eq(r.status, 405, "%s %s status (404: another program, or the server)" % (NO_METHOD, path))
                from_desk(r, "%s %s" % (NO_METHOD, path))
                got = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
                eq(sorted(got), sorted(want), "Allow of %s" % path)
    # The desk's own 404 under every row, for a path no route has.
    for prog, row_path, _ in ROUTE_ROWS:
        path = concrete(row_path.replace("*", "{uuid}"), values) + "no-such-route/"
        with T.case("%s: %s (row %s, %s) is the desk's 404" % (SERVER_MODE, path, row_path, prog)):
            check(not any(allowed(progs[n], path) for n in PROGRAMS), "a program has %s" % path)
            r = anon.get(path)
            eq(r.status, 404, "status of GET %s" % path)
            from_desk(r, path)
            if path.startswith("/api/"):
                eq(r.json["error"]["code"], "not_found", "error.code")
            else:
                check((r.header("Content-Type") or "").startswith("text/html"), "not a page")
    with T.case("%s: the static files are the web server's, before every row" % SERVER_MODE):
        name = sorted(f for f in os.listdir(os.path.join(REPO, "htdocs")) if f.endswith(".css"))[0]
        with open(os.path.join(REPO, "htdocs", name), "rb") as f:
            want = f.read()
        r = anon.get("/support/static/" + name)
        eq(r.status, 200, "status of /support/static/%s" % name)
        eq(r.body, want, "the file of htdocs/")
        check(r.header("Set-Cookie") is None, "a program's cookie on a static file")


def main():
    progs = program_routes()
    check_table(progs)
    check_server(progs)


if __name__ == "__main__":
    run_main(main)
