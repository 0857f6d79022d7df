"""Browser tier: start the desk, run the Chromium tests against it, stop it.

The server is started exactly as the http tier starts it (tests/http/support.py:
run.sh --background with a temp SUPPORT_VAR and a free 127.0.0.1 port), with
allow_registration = yes, the standard users made by supportctl (alice and
bob customers, carol an agent, dave an admin).  Then node's own test runner
runs every *.test.mjs here (desk.test.mjs and one file per part of the
desk), which drive /usr/bin/chromium through playwright-core;
its TAP goes to our stdout, where test.sh counts the "ok" / "not ok" lines.
The server is stopped in every case (finally, atexit and the signal handler
of support.py).

Run from the repository root after `npm ci` in tests/browser:
    python3 tests/browser/run.py [TEST_FILE.mjs ...]
Screenshots go to $TEST_OUT/browser/ (default test-out/browser/).
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

import support  # noqa: E402  (the http tier's harness)

NODE_TIMEOUT = 480      # seconds for the whole node run


def tap_fail(desc, details=()):
    """Report one failure as TAP (test.sh counts it) and the plan."""
    print("not ok 1 - %s" % desc, flush=True)
    for d in details:
        for line in str(d).splitlines():
            print("#   " + line, flush=True)
    print("1..1", flush=True)


def main():
    out = os.path.join(os.environ.get("TEST_OUT") or os.path.join(support.REPO, "test-out"),
                       "browser")
    os.makedirs(out, exist_ok=True)
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        tap_fail("playwright-core is installed", ["run `npm ci` in tests/browser first"])
        return 1
    if not os.access("/usr/bin/chromium", os.X_OK):
        tap_fail("/usr/bin/chromium is installed", ["apt-get install chromium"])
        return 1
    missing = [p for p in (support.RUN_SH, support.SUPPORTCTL, support.CGI_TICKETS,
                           support.CGI_MESSAGES, support.CGI_SESSION, support.CGI_USERS)
               if not os.access(p, os.X_OK)]
    if missing:
        tap_fail("the tree is built", ["missing: " + m for m in missing])
        return 1

    files = ([os.path.abspath(f) for f in sys.argv[1:]] or
             sorted(glob.glob(os.path.join(HERE, "*.test.mjs"))))
    rc = 0
    for (conf, extra_users), group in server_groups(files):
        rc |= run_group(out, conf, extra_users, group)
    return rc


def server_groups(files):
    """The files grouped by the server they ask for, in first-seen order.

    A test file may ask, in its leading // comment lines, for a desk of its
    own:
        // server: auto_assign = round_robin     (a [support] key of support.conf)
        // users: erin=agent frank=agent        (users beyond the standard ones)
    Files that ask for nothing share the standard desk (allow_registration
    = yes).  Each group gets its own server, one after the other."""
    groups = {}
    for f in files:
        conf = {("support", "allow_registration"): "yes"}
        users = []
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("//"):
                    break
                m = re.match(r"//\s*server:\s*([a-z_]+)\s*=\s*(\S+)\s*$", line)
                if m:
                    conf[("support", m.group(1))] = m.group(2)
                m = re.match(r"//\s*users:\s*(.+)$", line)
                if m:
                    users += [tuple(u.split("=", 1)) for u in m.group(1).split()]
        key = (tuple(sorted(conf.items())), tuple(users))
        groups.setdefault(key, []).append(f)
    return [((dict(k[0]), list(k[1])), v) for k, v in groups.items()]


def run_group(out, conf, extra_users, files):
    """Start one desk with conf and extra_users, run node's tests of files
    against it, stop it; 0 when every test passed."""
    srv = None
    node = None
    scratch = tempfile.mkdtemp(prefix="support-browser-")
    try:
        try:
            srv = support.standard_server(extra_users=extra_users, conf=conf)
        except Exception as e:  # noqa: BLE001 -- reported as a failed test
            tap_fail("the desk starts for the browser tests (%s)" %
                     " ".join(os.path.basename(f) for f in files), [repr(e)])
            return 1
        users = {name: {"password": u.password, "token": u.token, "role": u.role}
                 for name, u in srv.users.items()}
        env = dict(os.environ)
        env.update({
            "SUPPORT_URL": "http://127.0.0.1:%d" % srv.port,
            "SUPPORT_USERS": json.dumps(users),
            "SHOT_DIR": out,
            # The desk's support.conf: a11y.test.mjs makes rating links
            # with its secret_file, as the resolved mail does.
            "SUPPORT_CONF": srv.conf,
            # playwright-core gives every browser a fresh --user-data-dir
            # under the temp directory (it refuses one in the launch
            # arguments): keep those profiles in our own scratch directory.
            "TMPDIR": scratch,
        })
        cmd = ["node", "--test", "--test-reporter=tap"] + files
        # node and the browsers it starts get a process group of their own,
        # so that all of them (and nothing else) can be stopped at once.
        node = subprocess.Popen(cmd, cwd=HERE, env=env, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc = node.wait(timeout=NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            print("not ok 99 - the browser tests finish within %d s" % NODE_TIMEOUT, flush=True)
            rc = 1
        if rc != 0:
            srv.report_logs()
        return 1 if rc else 0
    finally:
        if node is not None and node.poll() is None:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait()
        if srv is not None:
            srv.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
