#!/usr/bin/env python3
"""run.sh itself: `--background` returns 0 only once every program answers
through the web server, and says where the desk and the API are; a program
that refuses its configuration makes it fail with that program's own error
and leaves nothing running.

Run from the repo root of a built tree:  python3 tests/http/test_runsh.py
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, PROGRAMS, Client, Server, check, eq, require_built, run_main)  # noqa: E402


def log_of_run(srv):
    with open(os.path.join(srv.var, "run-sh.log"), encoding="utf-8", errors="replace") as f:
        return f.read().rsplit("=== run.sh", 1)[-1]


def main():
    require_built()
    srv = Server(prefix="support-runsh-")
    with T.case("run.sh --background: 0, every program answers, both URLs said"):
        eq(srv._run_sh("--background"), 0, "exit status")
        srv.running = True
        out = log_of_run(srv)
        check("http://127.0.0.1:%d/support/" % srv.port in out, "the desk's URL not said: %s" % out)
        check("http://127.0.0.1:%d/api/support/tickets/" % srv.port in out, "the API's URL not said")
        for path in ("/api/support/tickets/", "/api/support/session/", "/api/support/users/",
                     "/support/login/"):
            r = Client(srv.port).get(path)
            check(r.status < 500, "%s: HTTP %d" % (path, r.status))
    with T.case("the site root: a styled page linking to the desk"):
        r = Client(srv.port).get("/")
        eq(r.status, 200, "status")
        check('href="/support/"' in r.text(), "no link to /support/")
        check('href="/support/static/support.css"' in r.text(), "not styled with the desk's CSS")
    srv.stop()
    srv.running = False
    with open(srv.conf, "a", encoding="utf-8") as f:
        f.write("no_such_key = 1\n")
    with T.case("a support.conf the programs refuse: run.sh --background fails with their error"):
        t0 = time.monotonic()
        rc = srv._run_sh("--background")
        check(rc != 0, "run.sh --background exited 0 with a refused configuration")
        out = log_of_run(srv)
        check("unknown key no_such_key" in out, "the program's own error not shown: %s" % out)
        check(any(("%s exited" % p) in out or ("%s does not answer" % p) in out for p in PROGRAMS),
              "no program named: %s" % out)
        check("Support desk on" not in out, "it still says the desk is up")
        check(time.monotonic() - t0 < 60, "it took %.0f s" % (time.monotonic() - t0))
    with T.case("  and nothing of it is left running"):
        deadline = time.monotonic() + 5
        while srv.processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        eq(srv.processes(), [], "processes left")
    srv.cleanup()


if __name__ == "__main__":
    run_main(main)
