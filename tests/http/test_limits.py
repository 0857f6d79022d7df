#!/usr/bin/env python3
"""Every declared field at its length limit and one past it, generated from
the programs' own field tables (`cgi-bin/PROGRAM --routes`), against a live
desk: API routes (JSON) and page routes (forms) alike.

Each text field is written in characters of 1, 2, 3 and 4 bytes of UTF-8.
A field whose limit counts characters ("string") gets max characters, then
max + 1; one whose limit counts bytes ("text") gets max bytes, then
max + 1.  At the limit the answer is anything but a server error, and never
a complaint about that field's length; one past it the answer is 400 naming
the field ("no more than ..."), in the JSON error envelope or on the page.
A signed route (the webhook in) gets its calls signed with the desk's
webhook_secret.  No worker may die on the way.  A field added to a table is covered here
without a line of this file changing.

Run from the repo root of a built tree:  python3 tests/http/test_limits.py
"""

import glob
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, BUILD, PROGRAMS, SESSION, TICKETS, Client, check, eq, status,  # noqa: E402
                     standard_server, run_main)

# One character of each UTF-8 width.
CHARS = {1: "a", 2: "\u00e9", 3: "\u20ac", 4: "\U0001F600"}

# The webhook in's secret (signed routes: docs/api.md "Webhook").
WEBHOOK_SECRET = "limits-webhook-secret"
srv = None


def programs():
    """{name: routes} for every program of the build that answers --routes."""
    out = {}
    for path in sorted(glob.glob(os.path.join(BUILD, "cgi-bin", "*"))):
        if not os.access(path, os.X_OK) or not os.path.isfile(path) or "." in os.path.basename(path):
            continue
        p = subprocess.run([path, "--routes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30, stdin=subprocess.DEVNULL)
        if p.returncode == 0:
            out[os.path.basename(path)] = json.loads(p.stdout)
    return out


def sized(field, width, over):
    """A value of field at its limit (or one past it) in width-byte chars."""
    c, limit = CHARS[width], field["max"] + (1 if over else 0)
    if field["type"] == "string":
        return c * limit
    # "text": the limit counts bytes; one-byte characters fill the rest.
    return c * (limit // width) + "a" * (limit % width)


class Caller:
    """Who sends a route's requests, and how: an admin (the one who gets
    furthest into every handler) by bearer token or by session cookie, or
    an anonymous visitor with the csrftoken cookie the forms need."""

    def __init__(self):
        self.admin = srv.users["dave"]
        r = Client(srv.port).post(SESSION, {"username": "dave", "password": self.admin.password})
        status(r, 200, "log in as dave")
        self.session = self._cookies(r)
        r = Client(srv.port).get(SESSION)
        self.visitor = self._cookies(r)

    @staticmethod
    def _cookies(r):
        jar = {}
        for h in r.header_all("Set-Cookie"):
            name, _, rest = h.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        return jar

    def send(self, route, path, fields):
        """Send fields (name: value) the way route takes them."""
        flags = route["flags"]
        headers, body, ctype = {}, None, None
        login = "login" in flags or "staff" in flags or "admin" in flags
        page = "page" in flags
        auth = "Bearer " + self.admin.token if login and not page else None
        if page:
            jar = self.session if login else self.visitor
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
            token = jar.get("csrftoken") if not login else None
            if login:
                # The session's token is the one the session's page forms carry.
                r = Client(srv.port).get(SESSION, headers={"Cookie": headers["Cookie"]})
                token = r.json["csrf_token"]
            headers["X-CSRFToken"] = token
        if "query" in flags:
            path += "?" + urllib.parse.urlencode(fields)
        elif page:
            body, ctype = urllib.parse.urlencode(fields), "application/x-www-form-urlencoded"
        else:
            body, ctype = json.dumps(fields, ensure_ascii=False).encode("utf-8"), "application/json"
        if "signed" in flags:
            # A signed page route (the rating link's form) posts a form:
            # its signature is the token among the fields, this one unused.
            raw = body.encode("utf-8") if isinstance(body, str) else body
            ts = str(int(time.time()))
            mac = hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256)
            headers.update({"X-Support-Timestamp": ts, "X-Support-Signature": "sha256=" + mac.hexdigest()})
        return Client(srv.port, auth).request(route["method"], path, body=body, headers=headers,
                                              content_type=ctype)


# Plausible values for the other required fields, so that a request gets
# past them into the handler; a field not named here gets a generic value.
def samples(n):
    return {
        "username": "limits%d" % n, "email": "limits%d@example.com" % n,
        "password": "Limits-pw-%d-x" % n, "old_password": srv.users["dave"].password,
        "new_password": "Limits-pw-%d-y" % n, "subject": "Limits", "initial_message": "hello",
        "content": "hello",
    }


def generic(field):
    if field["type"] == "enum":
        return field["choices"][0]
    if field["type"] == "int":
        return str(max(field["min"], 1))
    if field["type"] == "bool":
        return "true"
    if field["type"] == "time":
        return "2026-01-01"
    return "x" * max(field["min"], 1)


def field_complaint(r, name):
    """What the answer says about field name: the message, or None."""
    if "html" in (r.header("Content-Type") or ""):
        m = re.search(r'data-field="%s"><strong>[^<]*</strong>: ([^<]*)<' % re.escape(name), r.text())
        if m:
            return m.group(1)
        # A form shown again: the control's aria-describedby names its error
        # (a page may have several controls of that name: a message's edit
        # form and the reply box both take "content").
        text = r.text()
        said = []
        for m in re.finditer(r'<(?:input|textarea|select)[^>]*name="%s"[^>]*>' % re.escape(name), text):
            ids = re.search(r'aria-describedby="([^"]*)"', m.group(0))
            for i in (ids.group(1).split() if ids else []):
                e = re.search(r'id="%s"[^>]*>([^<]*)<' % re.escape(i), text)
                if e:
                    said.append(e.group(1))
        return " ".join(said) or None
    try:
        return (r.json["error"].get("fields") or {}).get(name)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def path_of(pattern, ticket, uid):
    return pattern.replace("{uuid}", ticket).replace("{id}", str(uid))


def check_route(prog, route, caller, ticket, uid, counter):
    body_fields = [f for f in route["fields"] if f["type"] in ("string", "text") and f["max"] > 0]
    for f in body_fields:
        for width in (1, 2, 3, 4):
            for over in (False, True):
                counter[0] += 1
                vals = {}
                for other in route["fields"]:
                    if other["required"] and other["name"] != f["name"]:
                        vals[other["name"]] = samples(counter[0]).get(other["name"], generic(other))
                vals[f["name"]] = sized(f, width, over)
                what = "%s %s %s: %s %s of %d-byte characters" % (
                    prog, route["method"], route["pattern"], f["name"],
                    "one past its limit" if over else "at its limit", width)
                with T.case(what):
                    r = caller.send(route, path_of(route["pattern"], ticket, uid), vals)
                    said = field_complaint(r, f["name"])
                    if over:
                        status(r, 400, "one past the limit")
                        check(said and "no more than %d" % f["max"] in said,
                              "the answer does not name %s's limit: %r" % (f["name"], said))
                    else:
                        check(r.status < 500, "server error %d: %s" % (r.status, r.summary()))
                        check(not said or ("no more than" not in said and "Unknown" not in said),
                              "%s at its limit refused: %r" % (f["name"], said))


def no_worker_died():
    with T.case("no worker died while the fields were sent (no signal in the logs)"):
        died = []
        for log in glob.glob(os.path.join(srv.var, "log", "*")):
            with open(log, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if re.search(r"ended by signal|Segmentation|exit\(|signal 11|SIGSEGV|AddressSanitizer",
                                 line):
                        died.append("%s: %s" % (os.path.basename(log), line.strip()[:200]))
        check(not died, "\n".join(died[:10]))
        r = srv.client("alice").get(TICKETS)
        status(r, 200, "the desk still answers")


def main():
    global srv
    progs = programs()
    with T.case("every program describes its routes (--routes)"):
        check(set(progs) >= set(PROGRAMS), "programs: %s, programs.tab: %s" % (sorted(progs), sorted(PROGRAMS)))
        eq(sum(1 for routes in progs.values() for r in routes for f in r["fields"]) > 0, True,
           "some route declares fields")
    srv = standard_server(conf={("support", "allow_registration"): "yes",
                                ("support", "webhook_secret"): WEBHOOK_SECRET})
    r = srv.client("alice").post(TICKETS, {"subject": "Limits", "initial_message": "hello"})
    status(r, 201, "alice opens a ticket")
    ticket = r.json["uuid"]
    r = srv.client("dave").get("/api/support/session/")
    uid = r.json["user"]["id"]
    caller = Caller()
    counter = [0]
    for prog, routes in sorted(progs.items()):
        for route in routes:
            check_route(prog, route, caller, ticket, uid, counter)
    no_worker_died()


if __name__ == "__main__":
    run_main(main)
