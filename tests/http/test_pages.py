#!/usr/bin/env python3
"""The HTML pages (docs/pages.md) through the real programs behind nginx, as
a browser without JavaScript uses them: forms posted, 303 redirects
followed, cookies kept.  Also: CSRF on every form, another user's cookie,
stored XSS coming back inert on every page, the security headers on every
response, internal notes, pagination, throttling, a broken template.

Run from the repo root of a built tree:  python3 tests/http/test_pages.py
"""

import html
import html.parser
import os
import re
import shutil
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, REPO, TICKETS, Fail, check, eq, status, standard_server,  # noqa: E402
                     check_no_leftovers, run_main, set_conf_key)
from test_session import Browser, set_cookies, attrs_of  # noqa: E402

HOME = "/support/"
LOGIN = "/support/login/"
LOGOUT = "/support/logout/"
NEW = "/support/tickets/new/"
REGISTER = "/support/register/"
PASSWORD = "/support/password/"
STATIC = "/support/static/"

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
XSS_MD = ("Hello **bold** and `code`\n\n- one\n- two\n\n"
          "[click](javascript:alert(1)) [ok](https://example.com/)\n\n"
          "<b onmouseover=alert(1)>raw</b>\n\n<script>alert(2)</script>\n\n"
          + XSS_IMG)

srv = None
PAGES = []      # every HTML page response seen: each must carry the headers


def page_url(uuid):
    return "/support/tickets/%s/" % uuid


class Page(Browser):
    """A browser without JavaScript: pages and their forms."""

    def request(self, method, path, **kw):
        r = super().request(method, path, **kw)
        if path.startswith("/support/") and not path.startswith(STATIC):
            PAGES.append(r)
        return r

    def token(self):
        """The CSRF token a page form would carry (the session's, or the
        csrftoken cookie's for a visitor)."""
        r = self.get(LOGIN if "sessionid" not in self.cookies else NEW)
        m = re.search(r'name="csrfmiddlewaretoken" value="([0-9a-f]{64})"', r.text())
        check(m, "no csrfmiddlewaretoken in %s" % r.path)
        return m.group(1)

    def submit(self, path, fields, csrf="page"):
        """POST a form; csrf "page" sends the page's token, None none."""
        f = dict(fields)
        if csrf == "page":
            f["csrfmiddlewaretoken"] = self.token()
        elif csrf is not None:
            f["csrfmiddlewaretoken"] = csrf
        return self.post(path, form=f)

    def login_form(self, name, password, next_path=None, expect=303):
        self.get(LOGIN)
        f = {"username": name, "password": password}
        if next_path is not None:
            f["next"] = next_path
        r = self.submit(LOGIN, f)
        status(r, expect, "log in as %s by the form" % name)
        return r


def browser_for(name):
    b = Page(srv.port)
    b.login_form(name, srv.users[name].password)
    return b


def location(r):
    loc = r.header("Location") or ""
    return urllib.parse.urlsplit(loc)


def is_page(r, code):
    status(r, code)
    ct = r.header("Content-Type") or ""
    check(ct.startswith("text/html") and "charset=utf-8" in ct, "Content-Type %r" % ct)
    check("<h1" in r.text(), "no heading in the page")


class Markup(html.parser.HTMLParser):
    """What a page would execute: tags, attributes, script bodies."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.in_script = False
        self.ids = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for k, v in attrs:
            if k.startswith("on"):
                self.problems.append("<%s %s=...>" % (tag, k))
            if k in ("href", "src", "action", "formaction") and v and \
                    v.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append("<%s %s=%r>" % (tag, k, v))
        if tag == "script":
            if not (a.get("src", "").endswith("/support/static/support.js") and len(a) == 2):
                self.problems.append("<script %r>" % (a,))
            self.in_script = True
        if tag in ("img", "iframe", "object", "embed", "svg", "base", "meta") and \
                not (tag == "meta" and set(a) <= {"charset", "name", "content"}):
            self.problems.append("<%s>" % tag)
        if "style" in a:
            self.problems.append("<%s style=...>" % tag)

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append("inline script: %r" % data[:60])


def inert(r, escaped=()):
    """No executable markup in the page; the escaped texts are there."""
    p = Markup()
    p.feed(r.text())
    p.close()
    check(not p.problems, "executable markup in %s: %s" % (r.path, p.problems[:5]))
    for e in escaped:
        check(e in r.text(), "escaped text %r not in %s" % (e, r.path))
    return p


def list_item(text, subject):
    """The <li> of a customer's list, or the <tr> of the staff's queue,
    that shows subject ("" when none)."""
    for item in re.findall(r"<li>(.*?)</li>|<tr data-uuid[^>]*>(.*?)</tr>", text, re.S):
        item = item[0] or item[1]
        if subject in item:
            return item
    return ""


def api_count(name):
    r = srv.client(name).get(TICKETS)
    status(r, 200)
    return r.json["count"]


def api_ticket(name, uuid):
    r = srv.client(name).get(TICKETS + uuid + "/")
    status(r, 200)
    return r.json


def test_login_flow():
    alice = srv.users["alice"]
    with T.case("not logged in: /support/ is a 303 to the log-in page with next"):
        r = Page(srv.port).get(HOME)
        status(r, 303)
        loc = location(r)
        eq(loc.path, LOGIN, "Location path")
        eq(urllib.parse.parse_qs(loc.query).get("next"), [HOME], "next")
    with T.case("not logged in: a chat page keeps its path and query in next"):
        r = Page(srv.port).get(page_url("0" * 8 + "-0000-4000-8000-" + "0" * 12) + "?x=1")
        status(r, 303)
        eq(urllib.parse.parse_qs(location(r).query).get("next"),
           [page_url("0" * 8 + "-0000-4000-8000-" + "0" * 12) + "?x=1"], "next")
    with T.case("log-in form: 200, labelled fields, a csrftoken cookie and the same token in the form"):
        b = Page(srv.port)
        r = b.get(LOGIN + "?next=" + urllib.parse.quote(NEW))
        is_page(r, 200)
        for ident in ("username", "password"):
            check('<label for="%s">' % ident in r.text(), "no label for " + ident)
        check('name="next" value="%s"' % NEW in r.text(), "next not kept in the form")
        check(b.cookies.get("csrftoken") and b.cookies["csrftoken"] in r.text(), "csrftoken cookie / form token")
    with T.case("log-in form with next=//evil.example/ drops it"):
        r = Page(srv.port).get(LOGIN + "?next=//evil.example/")
        is_page(r, 200)
        check("evil.example" not in r.text(), "a foreign next is kept")
    with T.case("log in without the CSRF token: 403 page, no session"):
        b = Page(srv.port)
        b.get(LOGIN)
        r = b.submit(LOGIN, {"username": "alice", "password": alice.password}, csrf=None)
        is_page(r, 403)
        check("expired" in r.text(), "the 403 page does not say the form expired")
        check("sessionid" not in b.cookies, "a session was made")
    with T.case("log in with a wrong token: 403 page, no session"):
        b = Page(srv.port)
        b.get(LOGIN)
        r = b.submit(LOGIN, {"username": "alice", "password": alice.password}, csrf="0" * 64)
        is_page(r, 403)
        check("sessionid" not in b.cookies, "a session was made")
    with T.case("wrong password: the form again, 401, the message and the name typed, no session"):
        b = Page(srv.port)
        b.get(LOGIN)
        r = b.submit(LOGIN, {"username": "alice", "password": "not-her-password"})
        is_page(r, 401)
        check("Wrong username, e-mail or password." in r.text(), "no message")
        check('value="alice"' in r.text(), "the name typed is not kept")
        check(r.header("WWW-Authenticate") is None, "a Basic challenge on the form")
        check("sessionid" not in b.cookies, "a session was made")
    with T.case("log in: 303 to next, HttpOnly session cookie; the page then opens"):
        b = Page(srv.port)
        r = b.login_form("alice", alice.password, next_path=NEW)
        eq(r.header("Location"), NEW, "Location")
        c = set_cookies(r)
        check("sessionid" in c and "httponly" in attrs_of(c["sessionid"][1]), "session cookie")
        is_page(b.get(NEW), 200)
    with T.case("log in with next=//evil.example/x or https://evil.example/: 303 to /support/"):
        for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
            r = Page(srv.port).login_form("alice", alice.password, next_path=bad)
            eq(r.header("Location"), HOME, "Location for next=%r" % bad)
    with T.case("log out: 303 to the log-in page; the cookie goes and /support/ wants a login again"):
        b = browser_for("alice")
        r = b.submit(LOGOUT, {})
        status(r, 303)
        eq(r.header("Location"), LOGIN, "Location")
        check("sessionid" not in b.cookies, "session cookie kept")
        status(b.get(HOME), 303)
    with T.case("log out without the token: 403 page, still logged in"):
        b = browser_for("alice")
        r = b.submit(LOGOUT, {}, csrf=None)
        is_page(r, 403)
        is_page(b.get(HOME), 200)


def test_tickets_flow():
    alice = browser_for("alice")
    before = api_count("alice")
    with T.case("my tickets: 200, heading, a New ticket link"):
        r = alice.get(HOME)
        is_page(r, 200)
        check("<h1>My tickets</h1>" in r.text(), "heading")
        check('href="%s"' % NEW in r.text(), "no link to the new-ticket form")
    with T.case("new ticket form: labelled subject and message"):
        r = alice.get(NEW)
        is_page(r, 200)
        check('<label for="subject">' in r.text() and '<label for="initial_message">' in r.text(), "labels")
    with T.case("new ticket with an empty subject: 400, the API's field message, what was typed kept"):
        api = srv.client("alice").post(TICKETS, {"subject": "  ", "initial_message": "typed text"})
        status(api, 400)
        why = api.json["error"]["fields"]["subject"]
        r = alice.submit(NEW, {"subject": "", "initial_message": "typed <text> & more"})
        is_page(r, 400)
        check(html.escape(why, quote=True) in r.text(), "the API's message %r not in the page" % why)
        check('id="subject-error"' in r.text(), "the message is not next to the field")
        check("typed &lt;text&gt; &amp; more</textarea>" in r.text(), "the message typed is not kept")
        eq(api_count("alice"), before, "tickets")
    with T.case("new ticket without / with a wrong CSRF token: 403 page, nothing created"):
        r = alice.submit(NEW, {"subject": "no token", "initial_message": "x"}, csrf=None)
        is_page(r, 403)
        r = alice.submit(NEW, {"subject": "bad token", "initial_message": "x"}, csrf="f" * 64)
        is_page(r, 403)
        eq(api_count("alice"), before, "tickets")
    with T.case("new ticket: 303 to its chat page, which shows the message as Markdown"):
        r = alice.submit(NEW, {"subject": "Printer on fire", "initial_message": "It **smokes**.\n\n- a\n- b"})
        status(r, 303)
        m = re.match(r"^/support/tickets/([0-9a-f-]{36})/$", r.header("Location") or "")
        check(m, "Location %r" % r.header("Location"))
        uuid = m.group(1)
        eq(api_count("alice"), before + 1, "tickets")
        r = alice.get(r.header("Location"))
        is_page(r, 200)
        check("Printer on fire" in r.text(), "subject")
        check("<strong>smokes</strong>" in r.text() and "<li>a</li>" in r.text(), "Markdown not rendered")
        check('id="ticket-channel"' not in r.text(), "the customer is shown the channel")
        eq(api_ticket("alice", uuid)["channel"], "web", "channel of a ticket opened with the form")
        check(re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>',
                        r.text()), "no UTC time for readers without JavaScript")
        check('<label for="content">' in r.text(), "no labelled reply box")
    with T.case("the list shows it with its status badge, and no count: nothing is waiting for her"):
        r = alice.get(HOME)
        item = list_item(r.text(), "Printer on fire")
        check(item, "not listed")
        check('class="badge status-open"' in item, "no status badge")
        check('class="unanswered"' not in item, "a count on her own message: %s" % item)
        check("awaiting reply" not in r.text(), "the customer's list words a count for staff")
    with T.case("reply form: 303 to the chat page, the reply on it"):
        r = alice.submit(page_url(uuid) + "messages/", {"content": "Now it *beeps*."})
        status(r, 303)
        eq(r.header("Location"), page_url(uuid), "Location")
        r = alice.get(page_url(uuid))
        check("<em>beeps</em>" in r.text(), "reply not on the page")
    with T.case("empty reply: the chat page again with 400 and the field's message"):
        n = len(api_ticket("alice", uuid)["messages"])
        r = alice.submit(page_url(uuid) + "messages/", {"content": "   "})
        is_page(r, 400)
        check('id="content-error"' in r.text(), "no message next to the reply box")
        eq(len(api_ticket("alice", uuid)["messages"]), n, "messages")
    with T.case("reply without / with a wrong token: 403 page, no message"):
        n = len(api_ticket("alice", uuid)["messages"])
        is_page(alice.submit(page_url(uuid) + "messages/", {"content": "x"}, csrf=None), 403)
        is_page(alice.submit(page_url(uuid) + "messages/", {"content": "x"}, csrf="a" * 64), 403)
        eq(len(api_ticket("alice", uuid)["messages"]), n, "messages")
    with T.case("status buttons without a token: 403 page, status unchanged"):
        is_page(alice.submit(page_url(uuid), {"status": "closed"}, csrf=None), 403)
        eq(api_ticket("alice", uuid)["status"], "waiting_for_admin", "status")
    with T.case("Mark resolved: 303, the page shows Resolved and a notice says so"):
        r = alice.get(page_url(uuid))
        check('id="resolve"' in r.text() and 'id="close"' in r.text(), "no resolve/close buttons")
        check('id="status-changed"' not in r.text(), "a notice before any change")
        r = alice.submit(page_url(uuid), {"status": "resolved"})
        status(r, 303)
        eq(r.header("Location"), page_url(uuid) + "?changed=resolved", "Location")
        eq(api_ticket("alice", uuid)["status"], "resolved", "status")
        r = alice.get(r.header("Location"))
        is_page(r, 200)
        check('id="status-changed">Status changed to Resolved.</p>' in r.text(), "no notice of the change")
        r = alice.get(page_url(uuid))
        check(re.search(r'id="ticket-status" data-status="resolved"[^>]*>Resolved<', r.text()),
              "status on the page")
        check('id="resolve"' not in r.text(), "resolve button still there")
        check('id="status-changed"' not in r.text(), "the notice without the query")
    with T.case("the notice shows only the desk's own words: any other ?changed= is a 400 page naming the field"):
        r = alice.get(page_url(uuid) + "?changed=")
        is_page(r, 200)
        check("Status changed" not in r.text(), "a notice for an empty changed= (as if absent)")
        for bad in ("<script>alert(1)</script>", "Hacked", "RESOLVED"):
            r = alice.get(page_url(uuid) + "?changed=" + urllib.parse.quote(bad))
            is_page(r, 400)
            check('id="status-changed"' not in r.text() and "Status changed" not in r.text(),
                  "a notice for %r" % bad)
            check('data-field="changed"' in r.text(), "the field is not named")
            inert(r)
    with T.case("Close ticket: closed, no reply box, no buttons"):
        status(alice.submit(page_url(uuid), {"status": "closed"}), 303)
        eq(api_ticket("alice", uuid)["status"], "closed", "status")
        r = alice.get(page_url(uuid))
        check('id="reply"' not in r.text(), "a reply box on a closed ticket")
        check('id="close"' not in r.text() and 'id="closed-note"' in r.text(), "closed page")
    with T.case("a reply POST to the closed ticket: readable 409 page, nothing added"):
        n = len(api_ticket("alice", uuid)["messages"])
        r = alice.submit(page_url(uuid) + "messages/", {"content": "hello?"})
        is_page(r, 409)
        check("This ticket is closed" in r.text(), "409 page words")
        eq(len(api_ticket("alice", uuid)["messages"]), n, "messages")
    with T.case("customer re-opening by the form: 409 page"):
        is_page(alice.submit(page_url(uuid), {"status": "open"}), 409)
    with T.case("bob's cookie on alice's ticket: 404 page, and his reply and status POSTs are 404"):
        bob = browser_for("bob")
        is_page(bob.get(page_url(uuid)), 404)
        is_page(bob.submit(page_url(uuid) + "messages/", {"content": "mine now"}), 404)
        is_page(bob.submit(page_url(uuid), {"status": "resolved"}), 404)
        check("Printer on fire" not in bob.get(HOME).text(), "alice's ticket in bob's list")
    return uuid


def test_staff():
    alice = browser_for("alice")
    r = alice.submit(NEW, {"subject": "VPN drops", "initial_message": "Every hour."})
    uuid = location(r).path.split("/")[3]
    carol = browser_for("carol")
    with T.case("staff's ticket page: the channel the ticket came in by (the form: web)"):
        r = carol.get(page_url(uuid))
        is_page(r, 200)
        check('<span class="label" id="ticket-channel">web</span>' in r.text(), "no channel label for staff")
        check('id="ticket-channel"' not in alice.get(page_url(uuid)).text(), "the customer is shown the channel")
    with T.case("staff list: all tickets, with a labelled status filter"):
        r = carol.get(HOME)
        is_page(r, 200)
        check("VPN drops" in r.text(), "alice's ticket not in the staff list")
        item = list_item(r.text(), "VPN drops")
        check('<td class="customer">alice</td>' in item, "the staff list does not name the customer: %s" % item)
        check("alice (alice)" not in r.text(), "a name without a display name of its own shown twice")
        check('class="customer"' not in alice.get(HOME).text(), "the customer's list names the customer")
        check('<fieldset class="statuses" id="status-filter">' in r.text() and
              '<legend>Status</legend>' in r.text(), "no status filter")
        check('class="unanswered">1 awaiting reply</span>' in item,
              "the staff list does not count the customer's message for staff: %s" % item)
        check("new from support" not in r.text(), "the staff list words a count for the customer")
        check(re.search(r'class="badge status-open">New<', item), "a new ticket is not New to staff")
        check('id="new-ticket-link"' not in r.text() and 'id="new-ticket-link"' in alice.get(HOME).text(),
              "the New ticket button is the customer's, not the queue's")
        check('id="nav-new"' in r.text() and 'id="nav-new"' in alice.get(HOME).text(),
              "the header's New ticket link is everyone's (staff open tickets for a customer)")
        r = carol.get(HOME + "?status=closed")
        is_page(r, 200)
        check("VPN drops" not in r.text() and "Printer on fire" in r.text(), "status filter")
    with T.case("staff internal note and reply: marked on the staff page, the note never on the customer's"):
        r = carol.submit(page_url(uuid) + "messages/", {"content": "secret-note-text", "is_internal": "true"})
        status(r, 303)
        r = carol.submit(page_url(uuid) + "messages/", {"content": "public-answer-text"})
        status(r, 303)
        r = carol.get(page_url(uuid))
        check('id="is_internal"' in r.text() and '<label class="check" for="is_internal">' in r.text(),
              "no labelled internal-note checkbox for staff")
        m = re.search(r'<li[^>]*class="message from-staff internal"[^>]*>(.*?)</li>', r.text(), re.S)
        check(m and "secret-note-text" in m.group(1) and "Internal note" in m.group(1), "note not marked")
        check(re.search(r'class="message from-customer"', r.text()), "customer message not marked")
        r = alice.get(page_url(uuid))
        check("secret-note-text" not in r.text() and "Internal note" not in r.text(), "customer sees the note")
        check("public-answer-text" in r.text(), "customer does not see the reply")
        check("<dt>Customer</dt><dd>alice</dd>" in carol.get(page_url(uuid)).text(),
              "the customer's name not shown once")
        item = list_item(alice.get(HOME).text(), "VPN drops")
        check('class="unanswered">1 new from support</span>' in item,
              "the customer's list does not count the staff reply for her: %s" % item)
        item = list_item(carol.get(HOME).text(), "VPN drops")
        check('class="unanswered"' not in item, "staff still see a count after their reply: %s" % item)
        check('id="is_internal"' not in r.text(), "customer has the internal-note checkbox")
        check(re.search(r'data-status="waiting_for_user"[^>]*>Waiting for your reply<', r.text()),
              "customer's status label")
        check('data-label-waiting_for_admin="Waiting for support"' in r.text(),
              "the badge's labels for the script")
    with T.case("a customer's is_internal note by the form: 403 page, nothing added"):
        n = len(api_ticket("alice", uuid)["messages"])
        is_page(alice.submit(page_url(uuid) + "messages/", {"content": "x", "is_internal": "true"}), 403)
        eq(len(api_ticket("alice", uuid)["messages"]), n, "messages")
    with T.case("staff re-open of a closed ticket by the form"):
        status(carol.submit(page_url(uuid), {"status": "closed"}), 303)
        r = carol.get(page_url(uuid))
        check('id="reopen"' in r.text() and 'id="reply"' in r.text(), "staff re-open button / reply box")
        r = carol.submit(page_url(uuid), {"status": "open"})
        status(r, 303)
        eq(api_ticket("carol", uuid)["status"], "open", "status")
        check('Status changed to Open.' in carol.get(r.header("Location")).text(), "no notice of the re-open")
    with T.case("a re-opened ticket (it had a staff reply) is Open to staff, not New"):
        r = carol.get(page_url(uuid))
        check(re.search(r'id="ticket-status" data-status="open"[^>]*>Open<', r.text()),
              "the re-opened ticket's label on the staff page")
        item = list_item(carol.get(HOME).text(), "VPN drops")
        check(re.search(r'class="badge status-open">Open<', item), "in the staff list: %s" % item)
        check(re.search(r'data-status="open"[^>]*>Open<', alice.get(page_url(uuid)).text()),
              "the customer's label")


def test_xss():
    # A user whose display name is a payload.
    b = Page(srv.port)
    b.get(REGISTER)
    r = b.submit(REGISTER, {"username": "mallory", "email": "mallory@example.com",
                            "password": "mallory-Secret-1", "display_name": XSS_IMG})
    status(r, 303, "register mallory")
    mallory = b
    esc_img = html.escape(XSS_IMG, quote=True)
    esc_script = html.escape(XSS_SCRIPT, quote=True)
    r = mallory.submit(NEW, {"subject": XSS_SCRIPT, "initial_message": XSS_MD})
    status(r, 303)
    uuid = location(r).path.split("/")[3]
    carol = browser_for("carol")
    with T.case("XSS: list page (customer): inert, subject escaped"):
        inert(mallory.get(HOME), [esc_script])
    with T.case("XSS: list page (staff): inert, subject escaped"):
        inert(carol.get(HOME), [esc_script])
    with T.case("XSS: chat page (customer): inert; javascript: link and raw HTML dropped, safe Markdown kept"):
        r = mallory.get(page_url(uuid))
        inert(r, [esc_script, "<strong>bold</strong>", "<code>code</code>", "<li>one</li>",
                  'href="https://example.com/"'])
        check("onmouseover" not in r.text(), "raw HTML passed through")
        check("alert(2)" not in r.text(), "raw script passed through")
        check(esc_img in r.text(), "display name not shown escaped")
    with T.case("XSS: chat page (staff): inert, display name escaped"):
        r = carol.get(page_url(uuid))
        inert(r, [esc_script, esc_img])
    with T.case("XSS: a reply with payloads comes back inert"):
        status(carol.submit(page_url(uuid) + "messages/", {"content": XSS_MD}), 303)
        inert(mallory.get(page_url(uuid)), [esc_script])
    with T.case("XSS: new-ticket error page echoes the typed payloads inert"):
        r = mallory.submit(NEW, {"subject": XSS_IMG, "initial_message": ""})
        is_page(r, 400)
        inert(r, ['value="%s"' % esc_img])
        r = mallory.submit(NEW, {"subject": "", "initial_message": XSS_SCRIPT + XSS_IMG})
        is_page(r, 400)
        inert(r, [esc_script])
    with T.case("XSS: log-in and register error pages echo payloads inert"):
        b = Page(srv.port)
        b.get(LOGIN)
        r = b.submit(LOGIN, {"username": XSS_IMG, "password": "x", "next": XSS_IMG})
        inert(r, [esc_img])
        r = b.submit(REGISTER, {"username": XSS_SCRIPT, "email": XSS_IMG, "password": "short"})
        is_page(r, 400)
        inert(r, [esc_script])
    with T.case("XSS: a next= that is markup never reaches the page unescaped"):
        r = Page(srv.port).get(LOGIN + "?next=" + urllib.parse.quote('/"><script>alert(1)</script>'))
        inert(r)


def test_pagination():
    dave = srv.users["dave"]
    ids = []
    client = srv.client("bob")
    for i in range(22):
        r = client.post(TICKETS, {"subject": "bulk %02d" % i, "initial_message": "n"})
        status(r, 201)
        ids.append(r.json["uuid"])
    bob = browser_for("bob")
    with T.case("pagination: 20 on page one, newest first, a working Older link, then a Newer one"):
        r = bob.get(HOME)
        items = re.findall(r'<a class="subject" href="[^"]+">#\d+ (bulk \d\d)</a>', r.text())
        eq(len(items), 20, "items on page one")
        eq(items[0], "bulk 21", "newest first")
        m = re.search(r'id="page-next" href="([^"]+)"', r.text())
        check(m, "no Older link")
        r = bob.get(html.unescape(m.group(1)))
        is_page(r, 200)
        items2 = re.findall(r'<a class="subject" href="[^"]+">#\d+ (bulk \d\d)</a>', r.text())
        check(len(items2) >= 2 and "bulk 00" in items2 and not set(items) & set(items2), "page two: %r" % items2)
        m = re.search(r'id="page-prev" href="([^"]+)"', r.text())
        check(m, "no Newer link on page two")
        r = bob.get(html.unescape(m.group(1)))
        eq(re.findall(r'<a class="subject" href="[^"]+">#\d+ (bulk \d\d)</a>', r.text()), items, "back to one")
    with T.case("a page past the end: 404 page"):
        is_page(bob.get(HOME + "?page=99"), 404)
    del dave


def test_other_pages():
    with T.case("unknown page: 404 page; GET on a POST-only page: 405 page with Allow"):
        b = browser_for("alice")
        r = b.get("/support/nothing/here/")
        is_page(r, 404)
        check('id="signed-in-as"' in r.text() and 'id="logout"' in r.text() and 'id="nav-login"' not in r.text(),
              "the 404 page shows the logged-out header to a logged-in user")
        r = Page(srv.port).get("/support/nothing/here/")
        is_page(r, 404)
        check('id="nav-login"' in r.text() and 'id="signed-in-as"' not in r.text(), "a visitor's 404 header")
        r = b.get(LOGOUT)
        is_page(r, 405)
        check("POST" in (r.header("Allow") or ""), "Allow %r" % r.header("Allow"))
    with T.case("register: field errors 400 next to the fields; success 303 logged in"):
        b = Page(srv.port)
        r = b.get(REGISTER)
        is_page(r, 200)
        r = b.submit(REGISTER, {"username": "bad name!", "email": "nope", "password": "x"})
        is_page(r, 400)
        for f in ("username", "email", "password"):
            check('id="%s-error"' % f in r.text(), "no message for " + f)
        check('value="bad name!"' in r.text(), "typed name not kept")
        check("value=\"x\"" not in r.text(), "the password is echoed")
        r = b.submit(REGISTER, {"username": "newbie", "email": "newbie@example.com",
                                "password": "newbie-Secret-1", "display_name": ""})
        status(r, 303)
        r = b.get(HOME)
        is_page(r, 200)
        check("Signed in as newbie" in r.text(), "not logged in after registering")
    with T.case("register without the token: 403 page, no account"):
        b = Page(srv.port)
        b.get(REGISTER)
        is_page(b.submit(REGISTER, {"username": "sneaky", "email": "s@example.com",
                                    "password": "sneaky-Secret-1"}, csrf=None), 403)
        r = srv.ctl("user", "list")
        check(b"sneaky" not in r.stdout, "the account was made")
    with T.case("password page: wrong old password 400; a good change 303 to a confirmation"):
        b = Page(srv.port)
        b.login_form("newbie", "newbie-Secret-1")
        r = b.submit(PASSWORD, {"old_password": "wrong-one-1", "new_password": "newbie-Secret-2"})
        is_page(r, 400)
        check('id="old_password-error"' in r.text(), "no message for the old password")
        r = b.submit(PASSWORD, {"old_password": "newbie-Secret-1", "new_password": "newbie-Secret-2"})
        status(r, 303)
        r = b.get(r.header("Location"))
        check('id="password-changed"' in r.text(), "no confirmation")
        Page(srv.port).login_form("newbie", "newbie-Secret-2")
    with T.case("password change without the token: 403 page, password unchanged"):
        b = Page(srv.port)
        b.login_form("newbie", "newbie-Secret-2")
        is_page(b.submit(PASSWORD, {"old_password": "newbie-Secret-2", "new_password": "newbie-Secret-3"},
                         csrf=None), 403)
        Page(srv.port).login_form("newbie", "newbie-Secret-2")
    with T.case("throttled log-in: the form with 429, the message and Retry-After"):
        srv.add_user("erin")
        b = Page(srv.port)
        for _ in range(5):
            b.get(LOGIN)
            b.submit(LOGIN, {"username": "erin", "password": "wrong-password"})
        r = b.submit(LOGIN, {"username": "erin", "password": srv.users["erin"].password})
        is_page(r, 429)
        check("Too many failed logins" in r.text(), "no message")
        check('id="username"' in r.text(), "not the log-in form")
        check(int(r.header("Retry-After") or 0) > 0, "Retry-After")
    with T.case("static files: CSS and JS served from htdocs/ with the security headers"):
        b = Page(srv.port)
        for name, ctype in (("support.css", "text/css"), ("support.js", "javascript")):
            r = b.get(STATIC + name)
            status(r, 200)
            check(ctype in (r.header("Content-Type") or ""), "%s Content-Type" % name)
            eq(r.header("X-Content-Type-Options"), "nosniff", name + " nosniff")
            check(r.header("Content-Security-Policy"), name + " CSP")
    with T.case("CSS: a thread's bubbles are its own items, not a message's Markdown list items; calm statuses"):
        css = Page(srv.port).get(STATIC + "support.css").text()
        check(re.search(r"ol\.thread > li \{", css), "no rule for the thread's own items")
        check(not re.search(r"ol\.thread li\b", css), "a rule that also takes the list items inside a message")
        m = re.search(r"\.status-waiting_for_user \{ color: (#[0-9a-f]{6})", css)
        check(m and m.group(1) != "#b42318", "waiting for the customer is drawn as an alarm (the danger red)")
    with T.case("no inline script or style attribute in any template"):
        tdir = os.path.join(REPO, "templates")
        for f in sorted(os.listdir(tdir)):
            # templates/mail/ holds mails, not pages: no CSP reads them.
            if os.path.isdir(os.path.join(tdir, f)):
                continue
            with open(os.path.join(tdir, f), encoding="utf-8") as fh:
                text = fh.read()
            check(not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script> in " + f)
            check(not re.search(r"\s(style|on[a-z]+)=", text), "style/on* attribute in " + f)


def test_headers():
    with T.case("every page response (%d seen) carries the security headers and a CSP without "
                "'unsafe-inline'" % len(PAGES)):
        check(len(PAGES) > 50, "too few pages seen: %d" % len(PAGES))
        for r in PAGES:
            where = "%s %s -> %d" % (r.method, r.path, r.status)
            eq(r.header("X-Content-Type-Options"), "nosniff", where + " nosniff")
            eq(r.header("X-Frame-Options"), "DENY", where + " X-Frame-Options")
            check(r.header("Referrer-Policy"), where + " Referrer-Policy")
            csp = r.header("Content-Security-Policy") or ""
            check("script-src 'self'" in csp and "unsafe-inline" not in csp and
                  "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, where + " CSP %r" % csp)
            if r.status != 303:
                check((r.header("Content-Type") or "").startswith("text/html"), where + " Content-Type")
    with T.case("every page with a body comes whole: Content-Length is its length, not chunked"):
        for r in PAGES:
            if r.status == 303 or r.method == "HEAD":
                continue
            where = "%s %s -> %d" % (r.method, r.path, r.status)
            eq(r.header("Content-Length"), str(len(r.body)), where + " Content-Length")
            check("chunked" not in (r.header("Transfer-Encoding") or ""), where + " chunked")


def test_broken_template():
    with T.case("a broken template: 500 page in plain words, file:line on stderr, the server lives on"):
        tdir = os.path.join(srv.var, "templates-broken")
        shutil.copytree(os.path.join(REPO, "templates"), tdir)
        with open(os.path.join(tdir, "tickets.html"), "a", encoding="utf-8") as f:
            f.write("{{#unclosed}}\n")
        srv.stop()
        set_conf_key(srv.conf, "support", "templates_dir", tdir)
        srv.start()
        b = browser_for("alice")
        r = b.get(HOME)
        is_page(r, 500)
        check("Something went wrong" in r.text(), "500 page words")
        is_page(b.get(NEW), 200)
        # Behind nginx the programs' stderr is their own log; behind Apache
        # it is Apache's error log (mod_fcgid, mod_cgi), or the log of the
        # --listen programs' (mod_proxy_fcgi).
        logs = [os.path.join(srv.var, "log", n)
                for n in ("tickets.log", "apache-error.log")]
        deadline = time.monotonic() + 5
        text = ""
        while time.monotonic() < deadline:
            text = ""
            for log in logs:
                if os.path.exists(log):
                    with open(log, encoding="utf-8", errors="replace") as f:
                        text += f.read()
            if "tickets.html:" in text:
                break
            time.sleep(0.1)
        check(re.search(r"tickets\.html:\d+: \{\{#unclosed\}\} is not closed", text),
              "no file:line in the log: %r" % text[-300:])


def main():
    global srv
    srv = standard_server(conf={("support", "allow_registration"): "yes",
                                ("support", "max_tickets_per_user"): "0"})
    test_login_flow()
    test_tickets_flow()
    test_staff()
    test_xss()
    test_pagination()
    test_other_pages()
    test_headers()
    test_broken_template()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
