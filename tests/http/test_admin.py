#!/usr/bin/env python3
"""The admin area behind the real web server (docs/api.md "Admin",
docs/pages.md): an admin creates accounts of any role, finds users by
role and status, changes a role, disables and enables an account (its
sessions and tokens fail at their very next request), sets another's
password (their sessions end), ends a user's sessions and revokes their
API tokens, and reads the settings in force; each change with its event.
Agents and customers get 403 (a 403 page), visitors 401 (the log-in page);
every bad input is 400/404/409 naming what is wrong and changes nothing;
the last active admin cannot disable or demote themself.

The standard users are never changed: each case makes its own.

Run from the repo root of a built tree:  python3 tests/http/test_admin.py
"""

import json
import os
import re
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, SESSION, USERS, Client, basic, check, eq, error,  # noqa: E402
                     status, standard_server, check_no_leftovers, run_main)
from test_session import Browser  # noqa: E402

SETTINGS = "/api/support/settings/"
ADMIN_USERS = "/support/admin/users/"
srv = None
made = [0]


def events():
    p = srv.ctl("events")
    eq(p.returncode, 0, "supportctl events: %s" % p.stderr.decode(errors="replace"))
    return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


def last_seq():
    evs = events()
    return evs[-1]["seq"] if evs else 0


def events_since(seq):
    return [e for e in events() if e["seq"] > seq]


def dave():
    return srv.client("dave")


def user_id(name):
    r = dave().get(USERS + "?" + urllib.parse.urlencode({"q": name}))
    status(r, 200, "find " + name)
    found = [u["id"] for u in r.json["results"] if u["username"] == name]
    eq(len(found), 1, "accounts named " + name)
    return found[0]


def new_user(role="user", prefix="adm"):
    """A fresh account made through the API by dave: (name, id, password)."""
    made[0] += 1
    name = "%s%d%s" % (prefix, made[0], role)
    pw = "pw-%s-Secret-1" % name
    r = dave().post(USERS, {"username": name, "email": name + "@example.org", "password": pw, "role": role})
    status(r, 201, "dave creates " + name)
    return name, r.json["id"], pw


def browser_of(name, pw):
    b = Browser(srv.port)
    b.login(name, pw)
    return b


def user_count():
    r = dave().get(USERS + "?page_size=1")
    status(r, 200, "count the users")
    return r.json["count"]


def token_for(name, label="t"):
    p = srv.ctl("token", "create", name, "--label", label)
    eq(p.returncode, 0, "token create: %s" % p.stderr.decode(errors="replace"))
    return p.stdout.decode().strip()


def test_who_may():
    uid = user_id("alice")
    calls = [
        ("GET", SETTINGS, None),
        ("DELETE", USERS + "%d/sessions/" % uid, None),
        ("GET", USERS + "%d/tokens/" % uid, None),
        ("DELETE", USERS + "%d/tokens/" % uid, None),
        ("PATCH", USERS + "%d/" % uid, {"role": "agent"}),
        ("PATCH", USERS + "%d/" % uid, {"is_active": False}),
        ("POST", USERS + "%d/password/" % uid, {"new_password": "Another-pw-1"}),
    ]
    with T.case("every admin endpoint: an agent 403, a customer 403 (404 for another's password), "
                "a visitor 401; nothing changes"):
        for who in ("carol", "bob"):
            for method, path, body in calls:
                r = srv.client(who).request(method, path, json_body=body)
                if method == "PATCH" and who == "carol":
                    # An agent's PATCH takes away only: role/is_active are not theirs to send.
                    check(r.status in (400, 403), "%s %s as %s: %d" % (method, path, who, r.status))
                elif path.endswith("/password/") and who == "bob":
                    error(r, 404, "not_found")   # a customer is not told another exists
                else:
                    error(r, 403, "forbidden")
        for method, path, body in calls:
            error(Client(srv.port).request(method, path, json_body=body), 401, "not_authenticated")
        r = dave().get(USERS + "%d/" % uid)
        eq((r.json["role"], r.json["is_active"]), ("user", True), "alice unchanged")
        status(srv.client("alice").get(TICKETS), 200, "alice's token still works")

    with T.case("an agent's PATCH of their own role or is_active is 400 unknown_field"):
        cid = user_id("carol")
        error(srv.client("carol").patch(USERS + "%d/" % cid, {"role": "admin"}), 400, "unknown_field", ["role"])
        error(srv.client("carol").patch(USERS + "%d/" % cid, {"is_active": False}), 400, "unknown_field",
              ["is_active"])
        eq(dave().get(USERS + "%d/" % cid).json["role"], "agent", "carol still an agent")

    with T.case("a role sent by a non-admin to POST /users/ is 403 and makes no account"):
        n = user_count()
        for c in (Client(srv.port), srv.client("carol"), srv.client("alice")):
            r = c.post(USERS, {"username": "wannabe", "email": "wannabe@example.org",
                               "password": "Wannabe-pw-1", "role": "admin"})
            error(r, 403, "forbidden")
        eq(user_count(), n, "no account made")

    with T.case("admin pages: an agent and a customer get the 403 page, a visitor the log-in page"):
        for name in ("carol", "alice"):
            b = browser_of(name, srv.users[name].password)
            for path in (ADMIN_USERS, ADMIN_USERS + "%d/" % uid, "/support/admin/settings/", "/support/admin/"):
                r = b.get(path)
                status(r, 403, "%s as %s" % (path, name))
                check('data-status="403"' in r.text(), "a readable 403 page for %s" % path)
                check('id="nav-admin"' not in r.text(), "no Admin link for " + name)
            r = b.post(ADMIN_USERS + "%d/" % uid, form={"role": "admin", "csrfmiddlewaretoken": b.csrf})
            status(r, 403, "the role form as " + name)
        r = Client(srv.port).get(ADMIN_USERS)
        status(r, 303, "a visitor")
        check("/support/login/?next=" in (r.header("Location") or ""), "to the log-in page: %s" % r.header("Location"))


def test_create():
    with T.case("an admin creates an agent: 201, the role, Location, no session of theirs; registration closed"):
        seq = last_seq()
        r = dave().post(USERS, {"username": "newagent", "email": "NewAgent@example.org",
                                "password": "Newagent-pw-1", "display_name": "New Agent", "role": "agent"})
        status(r, 201, "create")
        eq((r.json["username"], r.json["role"], r.json["is_active"], r.json["is_staff"]),
           ("newagent", "agent", True, True), "the User")
        check(r.header("Location", ) and r.header("Location").endswith("/api/support/users/%d/" % r.json["id"]),
              "Location: %s" % r.header("Location"))
        check("sessionid" not in (r.header("Set-Cookie") or ""), "no session cookie for the admin")
        ev = [e for e in events_since(seq) if e["type"] == "user.created"]
        eq(len(ev), 1, "one user.created")
        eq((ev[0]["actor"], ev[0]["user"], ev[0]["data"]["role"]), (user_id("dave"), r.json["id"], "agent"),
           "the event names dave and the role")
        status(Client(srv.port, basic("newagent", "Newagent-pw-1")).get(TICKETS), 200, "the agent logs in")
        r = Client(srv.port, basic("newagent", "Newagent-pw-1")).get(USERS)
        status(r, 200, "an agent may search users")

    with T.case("a new account's role defaults to user; admin may make an admin"):
        r = dave().post(USERS, {"username": "plaincust", "email": "plaincust@example.org",
                                "password": "Plaincust-pw-1"})
        status(r, 201, "create without role")
        eq(r.json["role"], "user", "role")

    with T.case("bad creations are 400/409 naming the field, and make nothing"):
        n = user_count()
        good = {"username": "fresh1", "email": "fresh1@example.org", "password": "Fresh1-pw-xx", "role": "agent"}
        cases = [
            ({"username": "newagent"}, 409, "already_exists", "username"),
            ({"email": "NEWAGENT@example.org"}, 409, "already_exists", "email"),
            ({"email": "not-an-address"}, 400, "invalid", "email"),
            ({"password": "short"}, 400, "invalid", "password"),
            ({"password": "fresh1"}, 400, "invalid", "password"),
            ({"role": "boss"}, 400, "invalid", "role"),
            ({"role": 2}, 400, "invalid", "role"),
            ({"role": None}, 400, "invalid", "role"),
            ({"username": "bad name"}, 400, "invalid", "username"),
            ({"username": 17}, 400, "invalid", "username"),
            ({"is_admin": True}, 400, "unknown_field", "is_admin"),
        ]
        for change, code, err, field in cases:
            body = dict(good)
            body.update(change)
            error(dave().post(USERS, body), code, err, [field])
        body = dict(good)
        del body["password"]
        error(dave().post(USERS, body), 400, "invalid", ["password"])
        eq(user_count(), n, "no account made")


def test_search():
    with T.case("users filtered by role and by status, with role and is_active in each"):
        name, uid, _ = new_user("user", prefix="srch")
        status(dave().patch(USERS + "%d/" % uid, {"is_active": False}), 200, "disable " + name)
        r = dave().get(USERS + "?role=agent&page_size=100")
        status(r, 200, "role=agent")
        check(r.json["count"] >= 1 and all(u["role"] == "agent" for u in r.json["results"]), "agents only")
        check("carol" in [u["username"] for u in r.json["results"]], "carol is there")
        r = dave().get(USERS + "?is_active=false&page_size=100")
        eq([u["username"] for u in r.json["results"] if u["username"] == name], [name], "the disabled one")
        check(all(u["is_active"] is False for u in r.json["results"]), "disabled only")
        r = dave().get(USERS + "?" + urllib.parse.urlencode({"q": name[:6].upper(), "role": "user",
                                                               "is_active": "false"}))
        eq([u["username"] for u in r.json["results"]], [name], "q, role and status together")
        r = dave().get(USERS + "?role=admin&is_active=true")
        eq([u["username"] for u in r.json["results"]], ["dave"], "the one active admin")
        r = dave().get(USERS + "?role=&is_active=&q=dave")
        eq([u["username"] for u in r.json["results"]], ["dave"], "blank filters are none")

    with T.case("bad filters are 400 naming them"):
        error(dave().get(USERS + "?role=boss"), 400, "invalid", ["role"])
        error(dave().get(USERS + "?is_active=maybe"), 400, "invalid", ["is_active"])
        error(dave().get(USERS + "?role=user&role=agent"), 400, "invalid", ["role"])
        error(dave().get(USERS + "?state=x"), 400, "unknown_field", ["state"])


def test_change():
    with T.case("PATCH role: a customer made an agent, with its event; the same role again changes nothing"):
        name, uid, pw = new_user("user", prefix="role")
        seq = last_seq()
        r = dave().patch(USERS + "%d/" % uid, {"role": "agent"})
        status(r, 200, "make an agent")
        eq((r.json["role"], r.json["is_staff"]), ("agent", True), "the User")
        status(Client(srv.port, basic(name, pw)).get(USERS), 200, "now staff: may search users")
        ev = [e for e in events_since(seq) if e["type"] == "user.changed"]
        eq(len(ev), 1, "one user.changed")
        eq((ev[0]["actor"], ev[0]["user"], ev[0]["changes"]["role"]), (user_id("dave"), uid, ["user", "agent"]),
           "its actor and change")
        seq = last_seq()
        status(dave().patch(USERS + "%d/" % uid, {"role": "agent"}), 200, "again")
        eq(events_since(seq), [], "no event for no change")
        r = dave().patch(USERS + "%d/" % uid, {"role": "user"})
        eq(r.json["role"], "user", "back to a customer")
        error(Client(srv.port, basic(name, pw)).get(USERS), 403, "forbidden")

    with T.case("PATCH bad bodies: 400 naming the field, nothing changes; unknown id 404"):
        name, uid, _ = new_user("user", prefix="bad")
        path = USERS + "%d/" % uid
        for body, code, field in (({"role": "boss"}, "invalid", "role"), ({"role": 1}, "invalid", "role"),
                                  ({"role": None}, "invalid", "role"), ({"is_active": "no"}, "invalid", "is_active"),
                                  ({"is_active": 0}, "invalid", "is_active"),
                                  ({"is_active": None}, "invalid", "is_active"),
                                  ({"email": "x@example.org"}, "unknown_field", "email"),
                                  ({}, "invalid", "role")):
            error(dave().patch(path, body), 400, code, [field])
        r = dave().request("PATCH", path, body=b'{"role": "agen', content_type="application/json")
        error(r, 400, "invalid_json")
        r = dave().get(path)
        eq((r.json["role"], r.json["is_active"]), ("user", True), "unchanged")
        for bad in ("999999/", "0/", "abc/"):
            error(dave().patch(USERS + bad, {"role": "agent"}), 404, "not_found")


def test_disable():
    with T.case("disabling a customer: their session, poll and token fail at the next request; login refused"):
        name, uid, pw = new_user("user", prefix="dis")
        b = browser_of(name, pw)
        tok = token_for(name)
        bearer = Client(srv.port, "Bearer " + tok)
        r = bearer.post(TICKETS, {"subject": "Still here?", "initial_message": "Hello."})
        status(r, 201, "open a ticket with the token")
        msgs = TICKETS + r.json["uuid"] + "/messages/"
        status(b.get(msgs), 200, "the page's poll works")
        status(bearer.get(TICKETS), 200, "the token works")
        seq = last_seq()
        r = dave().patch(USERS + "%d/" % uid, {"is_active": False})
        status(r, 200, "disable")
        eq(r.json["is_active"], False, "the User says disabled")
        r = b.get(msgs)
        error(r, 401, "not_authenticated")
        eq(r.header("WWW-Authenticate"), None, "no Basic challenge to a page whose session is gone")
        eq(b.who(), None, "the browser is nobody now")
        r = bearer.get(TICKETS)
        error(r, 401, "not_authenticated")
        check(r.header("WWW-Authenticate"), "a script's refused token is challenged")
        r = b.get("/support/tickets/" + msgs.split("/")[4] + "/")
        status(r, 303, "the ticket page sends to the log-in page")
        r = Browser(srv.port).post(SESSION, {"username": name, "password": pw})
        error(r, 401, "invalid_credentials")
        ev = [e["type"] for e in events_since(seq)]
        eq(ev, ["user.disabled", "login.failed"], "its event (and the refused log-in's)")

    with T.case("enabling again: the token works, the old session does not come back"):
        seq = last_seq()
        r = dave().patch(USERS + "%d/" % uid, {"is_active": True})
        status(r, 200, "enable")
        eq(r.json["is_active"], True, "the User says active")
        status(bearer.get(TICKETS), 200, "the token works again")
        eq(b.who(), None, "the old session stays ended")
        browser_of(name, pw)
        eq([e["type"] for e in events_since(seq) if e["type"].startswith("user.")], ["user.enabled"], "its event")

    with T.case("an agent disabled: their token fails, and they get no new ticket"):
        name, uid, pw = new_user("agent", prefix="dis")
        c = Client(srv.port, basic(name, pw))
        status(c.get(TICKETS), 200, "before")
        status(dave().patch(USERS + "%d/" % uid, {"is_active": False}), 200, "disable")
        error(c.get(TICKETS), 401, "not_authenticated")


def test_last_admin():
    # run.sh made an admin of its own ("admin"): switched off here, with
    # supportctl (the desk itself, not held to the rule), dave is the one
    # active admin.
    with T.case("with run.sh's admin switched off by supportctl, dave is the one active admin"):
        p = srv.ctl("user", "disable", "admin")
        eq(p.returncode, 0, "supportctl user disable admin: %s" % p.stderr.decode(errors="replace"))
        r = dave().get(USERS + "?role=admin&is_active=true")
        eq([u["username"] for u in r.json["results"]], ["dave"], "active admins")

    with T.case("the last active admin cannot demote or disable themself: 409 last_admin, nothing changes"):
        did = user_id("dave")
        seq = last_seq()
        for body in ({"role": "agent"}, {"role": "user"}, {"is_active": False}, {"role": "user", "is_active": False}):
            error(dave().patch(USERS + "%d/" % did, body), 409, "last_admin")
        r = dave().get(USERS + "%d/" % did)
        eq((r.json["role"], r.json["is_active"]), ("admin", True), "dave unchanged")
        eq(events_since(seq), [], "no event")
        b = browser_of("dave", srv.users["dave"].password)
        r = b.post(ADMIN_USERS + "%d/" % did, form={"is_active": "false", "csrfmiddlewaretoken": b.csrf})
        status(r, 409, "the disable form on oneself")
        check('id="form-error"' in r.text() and "last active admin" in r.text(), "the page says why")

    with T.case("with another active admin, an admin may disable themself (the guard is only for the last)"):
        name, uid, pw = new_user("admin", prefix="adm")
        c = Client(srv.port, basic(name, pw))
        r = c.patch(USERS + "%d/" % uid, {"is_active": False})
        status(r, 200, "the second admin disables themself")
        status(dave().patch(USERS + "%d/" % uid, {"is_active": True}), 200, "dave enables them")
        status(c.patch(USERS + "%d/" % uid, {"role": "agent"}), 200, "and they demote themself")
        r = dave().get(USERS + "?role=admin&is_active=true")
        eq([u["username"] for u in r.json["results"]], ["dave"], "dave the one admin again")


def test_password():
    with T.case("an admin sets a customer's password: their sessions end, the new one logs in, its event"):
        name, uid, pw = new_user("user", prefix="pw")
        b1, b2 = browser_of(name, pw), browser_of(name, pw)
        seq = last_seq()
        r = dave().post(USERS + "%d/password/" % uid, {"new_password": "Brand-new-pw-1"})
        status(r, 200, "set")
        eq(r.json["username"], name, "the User")
        eq((b1.who(), b2.who()), (None, None), "both sessions ended")
        error(Browser(srv.port).post(SESSION, {"username": name, "password": pw}), 401, "invalid_credentials")
        browser_of(name, "Brand-new-pw-1")
        ev = [e for e in events_since(seq) if e["type"] == "user.changed"]
        eq(len(ev), 1, "one user.changed")
        eq((ev[0]["actor"], ev[0]["data"]), (user_id("dave"), {"password": True}), "no hash in it")

    with T.case("bad passwords and bodies are 400 naming the field; nothing changes"):
        path = USERS + "%d/password/" % uid
        for body, code, field in (({"new_password": "short"}, "invalid", "new_password"),
                                  ({"new_password": name}, "invalid", "new_password"),
                                  ({"new_password": 12345678}, "invalid", "new_password"),
                                  ({}, "invalid", "new_password"),
                                  ({"new_password": "Brand-new-pw-2", "old_password": "x"}, "unknown_field",
                                   "old_password")):
            error(dave().post(path, body), 400, code, [field])
        browser_of(name, "Brand-new-pw-1")
        error(dave().post(USERS + "999999/password/", {"new_password": "Brand-new-pw-2"}), 404, "not_found")
        error(srv.client("carol").post(path, {"new_password": "Brand-new-pw-2"}), 403, "forbidden")


def test_sessions_tokens():
    with T.case("DELETE sessions: every session of the user ends, counted, with its event"):
        name, uid, pw = new_user("user", prefix="ses")
        b1, b2 = browser_of(name, pw), browser_of(name, pw)
        seq = last_seq()
        r = dave().delete(USERS + "%d/sessions/" % uid)
        status(r, 200, "end")
        eq(r.json, {"sessions_ended": 2}, "the count")
        eq((b1.who(), b2.who()), (None, None), "both ended")
        ev = [e for e in events_since(seq)]
        eq([(e["type"], e["actor"], e["user"], e["data"]) for e in ev],
           [("sessions.revoked", user_id("dave"), uid, {"count": 2})], "one sessions.revoked")
        seq = last_seq()
        eq(dave().delete(USERS + "%d/sessions/" % uid).json, {"sessions_ended": 0}, "none left")
        eq(events_since(seq), [], "nothing ended, no event")
        error(dave().delete(USERS + "999999/sessions/"), 404, "not_found")

    with T.case("an admin ending their own sessions keeps the one they use"):
        b = browser_of("dave", srv.users["dave"].password)
        other = browser_of("dave", srv.users["dave"].password)
        r = b.request("DELETE", USERS + "%d/sessions/" % user_id("dave"), csrf=b.csrf)
        status(r, 200, "end own")
        check(r.json["sessions_ended"] >= 1, "some ended: %s" % r.json)
        eq((b.who(), other.who()), ("dave", None), "this one stays, the other ended")

    with T.case("GET and DELETE tokens: listed without secrets, all revoked at once, each with its event"):
        name, uid, pw = new_user("user", prefix="tok")
        toks = [token_for(name, "one"), token_for(name, "two")]
        r = dave().get(USERS + "%d/tokens/" % uid)
        status(r, 200, "list")
        eq(r.json["count"], 2, "two")
        eq(sorted(t["name"] for t in r.json["results"]), ["one", "two"], "names")
        check(all(re.match(r"^[0-9a-f]{12}$", t["id"]) for t in r.json["results"]), "ids")
        check(not any(tok in r.text() for tok in toks), "no secret in the list")
        for tok in toks:
            status(Client(srv.port, "Bearer " + tok).get(TICKETS), 200, "works before")
        seq = last_seq()
        r = dave().delete(USERS + "%d/tokens/" % uid)
        status(r, 200, "revoke")
        eq(r.json, {"tokens_revoked": 2}, "the count")
        for tok in toks:
            error(Client(srv.port, "Bearer " + tok).get(TICKETS), 401, "not_authenticated")
        ev = events_since(seq)
        eq(sorted((e["type"], e["actor"], e["user"]) for e in ev),
           [("token.revoked", user_id("dave"), uid)] * 2, "two token.revoked by dave")
        eq(dave().get(USERS + "%d/tokens/" % uid).json, {"count": 0, "results": []}, "none left")
        status(srv.client("alice").get(TICKETS), 200, "others' tokens untouched")
        error(dave().get(USERS + "999999/tokens/"), 404, "not_found")
        error(dave().delete(USERS + "999999/tokens/"), 404, "not_found")

    with T.case("the admin endpoints take no query and no unknown method"):
        error(dave().get(SETTINGS + "?x=1"), 400, "unknown_field", ["x"])
        error(dave().post(SETTINGS, {}), 405, "method_not_allowed")
        error(dave().post(USERS + "%d/tokens/" % uid, {}), 405, "method_not_allowed")


def test_settings():
    with T.case("GET settings: every key with its value in force and its default; nothing secret"):
        r = dave().get(SETTINGS)
        status(r, 200, "settings")
        got = {s["name"]: s for s in r.json["results"]}
        eq(r.json["count"], len(r.json["results"]), "count")
        for key in ("data_dir", "durability", "auto_assign", "allow_registration", "session_idle_s",
                    "url_prefix", "templates_dir", "max_body_bytes", "support_email", "confine"):
            check(key in got, "%s listed" % key)
        eq((got["allow_registration"]["value"], got["allow_registration"]["default"]), (True, False),
           "allow_registration set here")
        eq(got["durability"]["value"] in ("sync", "nosync"), True, "durability")
        check(isinstance(got["session_idle_s"]["value"], int), "numbers are numbers")
        eq(got["data_dir"]["value"], os.path.join(srv.var, "data"), "data_dir as loaded")
        check(all(set(s) == {"name", "value", "default"} for s in r.json["results"]), "three members each")

    with T.case("the settings page: a row per key, changed ones marked"):
        b = browser_of("dave", srv.users["dave"].password)
        r = b.get("/support/admin/settings/")
        status(r, 200, "page")
        check('id="setting-allow_registration" class="changed"' in r.text(), "allow_registration marked changed")
        check('id="setting-cache_kb">' in r.text(), "cache_kb row, at its default")


def test_pages():
    b = browser_of("dave", srv.users["dave"].password)
    with T.case("the header has an Admin link for admins only; /support/admin/ goes to the users"):
        r = b.get("/support/")
        check('id="nav-admin"' in r.text(), "Admin link for dave")
        r = b.get("/support/admin/")
        status(r, 303, "admin home")
        check((r.header("Location") or "").endswith(ADMIN_USERS), "to the users")

    with T.case("the users page: search by name, role and status"):
        name, uid, _ = new_user("agent", prefix="pg")
        r = b.get(ADMIN_USERS + "?" + urllib.parse.urlencode({"q": name, "role": "agent", "is_active": "true"}))
        status(r, 200, "search")
        check('href="/support/admin/users/%d/"' % uid in r.text(), "the user's link")
        check('<option value="agent" selected>' in r.text(), "the role filter kept")
        r = b.get(ADMIN_USERS + "?q=nobody-at-all")
        check('id="admin-no-users"' in r.text(), "nobody")
        r = b.get(ADMIN_USERS + "?role=boss")
        status(r, 400, "a bad filter is a 400 page")

    with T.case("the create form: 303 to the new user's page; a taken name is the form again with 409"):
        form = {"username": "formagent", "display_name": "Form Agent", "email": "formagent@example.org",
                "role": "agent", "password": "Formagent-pw-1", "csrfmiddlewaretoken": b.csrf}
        r = b.post(ADMIN_USERS, form=form)
        status(r, 303, "create")
        loc = r.header("Location") or ""
        m = re.search(r"/support/admin/users/(\d+)/\?done=created$", loc)
        check(m, "Location: %s" % loc)
        fid = int(m.group(1))
        r = b.get(loc)
        status(r, 200, "the user's page")
        check('id="admin-notice"' in r.text() and 'data-role="agent"' in r.text(), "notice and role")
        r = b.post(ADMIN_USERS, form=form)
        status(r, 409, "again")
        check('id="username-error"' in r.text() and 'value="formagent"' in r.text(), "the field named, kept")
        check("Formagent-pw-1" not in r.text(), "never the password")
        r = b.post(ADMIN_USERS, form=dict(form, username="formagent2", email="fa2@example.org", role="boss"))
        status(r, 400, "an unknown role")
        check('id="role-error"' in r.text(), "the role named")
        r = b.post(ADMIN_USERS, form=dict(form, username="formagent3", email="fa3@example.org",
                                          csrfmiddlewaretoken="x" * 64))
        status(r, 403, "a wrong CSRF token")
        eq(dave().get(USERS + "?q=formagent").json["count"], 1, "only the one made")

    with T.case("the user's forms: role, disable, enable, password, sessions, tokens, each 303 with its notice"):
        path = ADMIN_USERS + "%d/" % fid
        steps = [
            (path, {"role": "user"}, "role"),
            (path, {"is_active": "false"}, "disabled"),
            (path, {"is_active": "true"}, "enabled"),
            (path + "password/", {"new_password": "Formagent-pw-2"}, "password"),
            (path + "sessions/", {}, "sessions"),
            (path + "tokens/", {}, "tokens"),
        ]
        for url, fields, done in steps:
            r = b.post(url, form=dict(fields, csrfmiddlewaretoken=b.csrf))
            status(r, 303, "POST %s %s" % (url, fields))
            check((r.header("Location") or "").endswith("%s?done=%s" % (path, done)), "Location %s" %
                  r.header("Location"))
        r = dave().get(USERS + "%d/" % fid)
        eq((r.json["role"], r.json["is_active"]), ("user", True), "as the forms left it")
        status(Client(srv.port, basic("formagent", "Formagent-pw-2")).get(TICKETS), 200, "the new password")
        r = b.get(path + "?done=disabled")
        check("was disabled" in r.text(), "the notice's words")
        status(b.get(path + "?done=hacked"), 400, "an unknown notice is a 400 page")

    with T.case("the user's forms refuse bad input: the page again with the field named"):
        r = b.post(path + "password/", form={"new_password": "short", "csrfmiddlewaretoken": b.csrf})
        status(r, 400, "short password")
        check('id="new_password-error"' in r.text(), "named")
        r = b.post(path, form={"role": "boss", "csrfmiddlewaretoken": b.csrf})
        status(r, 400, "unknown role")
        check('id="role-error"' in r.text(), "named")
        r = b.post(path + "sessions/", form={"extra": "1", "csrfmiddlewaretoken": b.csrf})
        status(r, 400, "an unknown field")
        did = user_id("dave")
        r = b.get(ADMIN_USERS + "%d/" % did)
        check('id="admin-own-password"' in r.text() and 'id="admin-password-form"' not in r.text(),
              "one's own page links to the password page instead of the form")
        r = b.post(ADMIN_USERS + "%d/password/" % did, form={"new_password": "Dave-new-pw-1",
                                                            "csrfmiddlewaretoken": b.csrf})
        status(r, 400, "one's own password without the old one")
        check('data-field="old_password"' in r.text(), "the 400 page names old_password")
        browser_of("dave", srv.users["dave"].password)
        r = b.post(path, form={"role": "admin"})
        status(r, 403, "no CSRF token")
        eq(dave().get(USERS + "%d/" % fid).json["role"], "user", "unchanged")
        status(b.get(ADMIN_USERS + "999999/"), 404, "no such user: 404 page")
        status(b.post(ADMIN_USERS + "999999/", form={"role": "agent", "csrfmiddlewaretoken": b.csrf}), 404,
               "no such user: POST")

    with T.case("names are escaped on the admin pages"):
        r = dave().post(USERS, {"username": "xss1", "email": "xss1@example.org", "password": "Xss1-pw-xxxx",
                                "display_name": "<script>alert(1)</script>"})
        status(r, 201, "create")
        for url in (ADMIN_USERS + "?q=xss1", ADMIN_USERS + "%d/" % r.json["id"]):
            t = b.get(url).text()
            check("<script>alert(1)" not in t and "&lt;script&gt;alert(1)" in t, "escaped on " + url)


def main():
    global srv
    srv = standard_server(conf={("support", "allow_registration"): "yes"})
    test_last_admin()   # first: dave is still the one admin of the desk
    test_who_may()
    test_create()
    test_search()
    test_change()
    test_disable()
    test_password()
    test_sessions_tokens()
    test_settings()
    test_pages()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
