#!/usr/bin/env python3
"""The full-text search (docs/search.md) behind the real web server: q= on
the ticket list (GET /api/support/tickets/?q=) and on the queue page
(/support/?q=).  Words in subjects and messages, ANDed; accents and case;
prefixes (word*); phrases in quotes; the list's other filters with it;
last activity first; a customer never finding another's ticket nor a word
of an internal note (nor seeing one in a snippet), staff finding notes;
an edit, a deletion and a new subject found (or not) at once; the snippet
in the API and highlighted on the queue page, its text escaped; #123 still
the ticket's number.

Run from the repo root of a built tree:  python3 tests/http/test_search.py
"""

import html
import os
import re
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, check, eq, status,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_pages import Page, LOGIN  # noqa: E402

HOME = "/support/"
srv = None
TK = {}


def browser(name):
    b = Page(srv.port)
    b.get(LOGIN)
    status(b.submit(LOGIN, {"username": name, "password": srv.users[name].password}), 303,
           "log in as %s" % name)
    return b


def open_ticket(who, subject, message):
    r = srv.client(who).post(TICKETS, {"subject": subject, "initial_message": message})
    status(r, 201, "open %s" % subject)
    return r.json


def post(who, uuid, content, internal=False):
    r = srv.client(who).post(TICKETS + uuid + "/messages/", {"content": content, "is_internal": internal})
    status(r, 201, "post to %s" % uuid)
    return r.json


def search(who, q, **filters):
    """The list's answer for q (all on one page)."""
    params = dict(filters, q=q, page_size=100)
    r = srv.client(who).get(TICKETS + "?" + urllib.parse.urlencode(params))
    status(r, 200, "q=%s" % q)
    return r.json


def subjects(who, q, **filters):
    return [t["subject"] for t in search(who, q, **filters)["results"]]


def snippet_text(t):
    """A result's snippet as one string, the marks in [brackets]."""
    return "".join(p["text"] + ("[%s]" % p["mark"] if p["mark"] else "") for p in t["snippet"] or [])


def setup():
    TK["quokka"] = open_ticket("alice", "Quokka printer", "The photocopier leaks toner every morning.")
    TK["creme"] = open_ticket("bob", "Cr\u00e8me br\u00fbl\u00e9e recipe", "STRASSE caf\u00e9 and the toner.")
    TK["xss"] = open_ticket("alice", "Markup test", "<script>alert(1)</script> zanzibar & <b>bold</b>")
    post("carol", TK["quokka"]["uuid"], "Internal: the vendor Wombatco owes us toner.", internal=True)
    post("carol", TK["quokka"]["uuid"], "Please try the manual feed tray.")


def test_words():
    with T.case("a word of a subject, any case; of a first message; of a reply"):
        eq(subjects("carol", "QUOKKA"), ["Quokka printer"], "q=QUOKKA")
        eq(subjects("carol", "photocopier"), ["Quokka printer"], "q=photocopier")
        eq(subjects("carol", "feed"), ["Quokka printer"], "q=feed (a reply)")
    with T.case("several words are ANDed, from subject and messages alike"):
        eq(subjects("carol", "quokka tray"), ["Quokka printer"], "q=quokka tray")
        eq(subjects("carol", "quokka recipe"), [], "q=quokka recipe")
        eq(search("carol", "quokka recipe")["count"], 0, "count")
    with T.case("accents and case do not matter, either way"):
        eq(subjects("carol", "creme brulee"), ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "q=creme brulee")
        eq(subjects("carol", "CR\u00c8ME"), ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "q=CR\u00c8ME")
        eq(subjects("carol", "Stra\u00dfe CAFE"), ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "q=Stra\u00dfe CAFE")
    with T.case("a word is whole; word* is a prefix"):
        eq(subjects("carol", "photocop"), [], "q=photocop")
        eq(subjects("carol", "photocop*"), ["Quokka printer"], "q=photocop*")
        eq(subjects("carol", "quok* leak*"), ["Quokka printer"], "q=quok* leak*")
    with T.case("a phrase in quotes: its words in its order, in one message"):
        eq(subjects("carol", '"leaks toner"'), ["Quokka printer"], 'q="leaks toner"')
        eq(subjects("carol", '"toner leaks"'), [], 'q="toner leaks"')
        eq(subjects("carol", '"printer the"'), [], "never across the subject and a message")
    with T.case("a query without a word finds nothing; #number stays the ticket"):
        eq(search("carol", "%%")["count"], 0, "q=%%")
        n = TK["creme"]["number"]
        eq(subjects("carol", "#%d" % n), ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "q=#%d" % n)
        eq(subjects("carol", "%d" % n), ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "q=%d" % n)
    with T.case("the list's other filters apply with q"):
        # Staff replied to the quokka ticket: waiting for its customer.
        eq(subjects("carol", "toner", status="open"), ["Cr\u00e8me br\u00fbl\u00e9e recipe"],
           "q=toner&status=open")
        eq(subjects("carol", "toner", status="waiting_for_user"), ["Quokka printer"],
           "q=toner&status=waiting_for_user")
        got = subjects("carol", "toner", user=TK["creme"]["user"]["id"])
        eq(got, ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "q=toner&user=bob")
        eq(subjects("carol", "toner", status="resolved"), [], "q=toner&status=resolved")
        status(srv.client("carol").patch(TICKETS + TK["creme"]["uuid"] + "/", {"status": "resolved"}), 200)
        eq(subjects("carol", "toner", status="resolved"), ["Cr\u00e8me br\u00fbl\u00e9e recipe"],
           "after resolving it")
    with T.case("results by last activity, newest first"):
        post("carol", TK["quokka"]["uuid"], "More toner is on its way.")
        eq(subjects("carol", "toner"), ["Quokka printer", "Cr\u00e8me br\u00fbl\u00e9e recipe"], "quokka moved")
        post("bob", TK["creme"]["uuid"], "Still no toner here.")
        eq(subjects("carol", "toner"), ["Cr\u00e8me br\u00fbl\u00e9e recipe", "Quokka printer"], "creme moved")
        eq(search("carol", "toner")["search_truncated"], False, "search_truncated")


def test_who():
    with T.case("a customer finds only their own tickets"):
        eq(subjects("alice", "toner"), ["Quokka printer"], "alice: toner")
        eq(subjects("bob", "toner"), ["Cr\u00e8me br\u00fbl\u00e9e recipe"], "bob: toner")
        eq(subjects("bob", "quokka"), [], "bob: quokka")
        eq(subjects("alice", "creme"), [], "alice: creme")
        r = srv.client("bob").get(TICKETS + "?q=quokka&user=%d" % TK["quokka"]["user"]["id"])
        status(r, 403, "bob asking for alice's tickets")
    with T.case("staff find a word of an internal note; its customer never does"):
        eq(subjects("carol", "wombatco"), ["Quokka printer"], "carol: wombatco")
        eq(subjects("dave", "wombat*"), ["Quokka printer"], "dave: wombat*")
        eq(subjects("alice", "wombatco"), [], "alice: wombatco")
        eq(subjects("alice", "wombat*"), [], "alice: wombat*")
        eq(subjects("alice", "wombatco quokka"), [], "alice: wombatco quokka")
        eq(subjects("alice", '"vendor wombatco"'), [], "alice: a phrase of the note")
    with T.case("a customer's snippet never comes from an internal note"):
        r = search("alice", "toner")
        check("Wombatco" not in str(r) and "vendor" not in str(r), "note text in: %s" % r)
        eq(snippet_text(r["results"][0]), "The photocopier leaks [toner] every morning.", "alice's snippet")
        r = search("carol", "owes")
        eq(snippet_text(r["results"][0]), "Internal: the vendor Wombatco [owes] us toner.", "carol's snippet")


def test_changes():
    q = TK["quokka"]["uuid"]
    with T.case("an edit: the old words gone and the new found at once"):
        m = post("carol", q, "Replace the fuser unit.")
        eq(subjects("carol", "fuser"), ["Quokka printer"], "before")
        r = srv.client("carol").patch(TICKETS + q + "/messages/%s/" % m["uuid"], {"content": "Replace the drum."})
        status(r, 200, "edit")
        eq(subjects("carol", "fuser"), [], "the old word")
        eq(subjects("carol", "drum"), ["Quokka printer"], "the new word")
        eq(subjects("alice", "drum"), ["Quokka printer"], "the customer too")
    with T.case("a deletion: its words gone at once"):
        status(srv.client("carol").delete(TICKETS + q + "/messages/%s/" % m["uuid"]), 204, "delete")
        eq(subjects("carol", "drum"), [], "q=drum")
    with T.case("a new subject: found by its words at once, the old ones gone"):
        status(srv.client("carol").patch(TICKETS + q + "/", {"subject": "Kangaroo scanner"}), 200)
        eq(subjects("carol", "kangaroo"), ["Kangaroo scanner"], "new")
        eq(subjects("carol", "quokka"), [], "old")


def test_page():
    carol, alice = browser("carol"), browser("alice")
    with T.case("the queue page: the results with a highlighted snippet"):
        r = carol.get(HOME + "?q=manual+feed")
        status(r, 200)
        row = re.search(r'<tr data-uuid="%s">(.*?)</tr>' % TK["quokka"]["uuid"], r.text(), re.S)
        check(row, "the ticket's row")
        snip = re.search(r'<div class="snippet">(.*?)</div>', row.group(1), re.S)
        check(snip, "a snippet: %s" % row.group(1))
        eq(snip.group(1), "Please try the <mark>manual</mark> <mark>feed</mark> tray.", "the snippet")
        check('value="manual feed"' in r.text(), "the words kept in the box")
    with T.case("the snippet's text is escaped; only the marks are markup"):
        r = carol.get(HOME + "?q=zanzibar")
        snip = re.search(r'<div class="snippet">(.*?)</div>', r.text(), re.S)
        check(snip, "a snippet")
        eq(snip.group(1), html.escape("<script>alert(1)</script> ", quote=True).replace("&#x27;", "&#39;")
           + "<mark>zanzibar</mark> &amp; &lt;b&gt;bold&lt;/b&gt;", "escaped")
        check("<script>alert" not in r.text(), "no raw markup from the message")
    with T.case("without q, no snippet is shown"):
        r = carol.get(HOME)
        check(re.search(r'<div class="snippet">[^<]', r.text()) is None, "no snippet text")
    with T.case("a customer's page: their tickets only, never a note's words"):
        r = alice.get(HOME + "?q=toner")
        status(r, 200)
        check("Kangaroo scanner" in r.text(), "her ticket")
        check("Cr\u00e8me" not in r.text() and "Cr&#232;me" not in r.text(), "not bob's")
        check("<mark>toner</mark>" in r.text(), "a highlighted snippet")
        check("Wombatco" not in alice.get(HOME + "?q=wombatco").text(), "no note")
        check('id="no-tickets"' in alice.get(HOME + "?q=wombatco").text(), "nothing found")


def main():
    global srv
    srv = standard_server()
    setup()
    test_words()
    test_who()
    test_changes()
    test_page()
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
