#!/usr/bin/env python3
"""The signed rating link of the "ticket resolved" mail (docs/reports.md
"Satisfaction", docs/security.md "The rating link"), against the real web
server, support-worker as run.sh starts it and a real SMTP server on
127.0.0.1 (aiosmtpd, tests/http/smtpsink.py, started and stopped by pid),
with the test clock:

- the resolved mail to the customer carries a Good and a Bad link, in
  both parts; the team's and others' mails carry none;
- opening a link (GET, HEAD, again and again, as a mail scanner would)
  records nothing: the page shows the choice preselected, a comment box
  and a button, with no login;
- its form, posted with no session and no CSRF token, rates once (the
  API and staff see it); a second post is the API's already_rated (409);
- a forged token, a ticket number changed inside it, a reply address's
  token (another key), garbage and an over-long one are refused (404 or
  400) and record nothing;
- a link past its 30 days (the test clock) is 400 rating_link_expired;
- a ticket opened again is not rated: its page says so, a post is 409
  not_resolved.

Run from the repo root of a built tree:  python3 tests/http/test_ratelink.py
"""

import base64
import os
import re
import shutil
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Client, check, eq, status, free_port,  # noqa: E402
                     standard_server, run_main, check_no_leftovers)
from test_mail import Sink  # noqa: E402

DAY = 86400
RATE = "/support/rate/"
srv = sink = None


def resolve(uuid):
    status(srv.client("carol").patch(TICKETS + uuid + "/", {"status": "resolved"}), 200, "resolve")


def resolved_mail(subject, to, seen):
    """The "Ticket resolved" mail about subject to address to, waiting for
    it; seen: how many mails the sink had before."""
    for n in range(seen + 1, seen + 8):
        mails = sink.wait(n, timeout=60)
        for env, m in mails[seen:]:
            if ("Ticket resolved" in str(m["Subject"]) and subject in str(m["Subject"])
                    and env["to"] == [to]):
                return m, len(mails)
    raise AssertionError("no resolved mail about %r to %s" % (subject, to))


def links(m):
    """{"good": path?query, "bad": ...} of the mail m (text part), checked
    against its HTML part."""
    text, html = [pt.get_content() for pt in m.iter_parts()]
    out = {}
    for choice in ("good", "bad"):
        found = re.findall(r"(http://desk\.example/support/rate/\?t=([a-z2-7]+)&r=%s)\b" % choice, text)
        check(len(found) == 1, "one %s link in the text part: %r" % (choice, text))
        url, _ = found[0]
        check(url.replace("&", "&amp;") in html, "the %s link in the HTML part: %r" % (choice, html))
        out[choice] = url[len("http://desk.example"):]
    eq(query(out["good"])["t"], query(out["bad"])["t"], "one token for both links")
    return out


def query(path):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))


def token_of(path):
    return query(path)["t"]


def anon():
    return Client(srv.port)


def post_rating(token, rating, comment=None):
    """The rating page's form, posted by a browser with no session, no
    cookie and no CSRF token."""
    fields = {"t": token, "rating": rating}
    if comment is not None:
        fields["comment"] = comment
    return anon().request("POST", RATE, body=urllib.parse.urlencode(fields),
                          content_type="application/x-www-form-urlencoded")


def rating(who, uuid):
    return srv.client(who).get(TICKETS + uuid + "/rating/")


def error_page(r, st, code):
    eq(r.status, st, "status")
    check("text/html" in (r.header("Content-Type") or ""), "a page")
    check('data-code="%s"' % code in r.text(), "the page says %s: %s" % (code, r.text()[:600]))


def forged(token):
    """token with its last character changed."""
    last = token[-1]
    return token[:-1] + ("a" if last != "a" else "b")


def renumbered(token, number):
    """token with the ticket number inside it changed, the MAC kept."""
    raw = bytearray(base64.b32decode(token.upper()))
    raw[0:4] = number.to_bytes(4, "big")
    return base64.b32encode(bytes(raw)).decode().lower()


def ticket(who, subject):
    r = srv.client(who).post(TICKETS, {"subject": subject, "initial_message": "Hello."})
    status(r, 201, "open %r" % subject)
    return r.json


def body():
    alice = srv.client("alice")
    seen = 0
    t1 = ticket("alice", "Rate me: printer")
    t_bob = ticket("bob", "Bob's own ticket")
    t2 = ticket("alice", "Rate me later: scanner")
    t3 = ticket("alice", "Rate me: reopened")

    with T.case("the resolved mail carries a Good and a Bad link to the rating page; none to others"):
        resolve(t1["uuid"])
        m, seen = resolved_mail("Rate me: printer", "alice@example.com", seen)
        l1 = links(m)
        eq(len(token_of(l1["good"])), 32, "a 32-character token")
        for env, other in sink.mails():
            if env["to"] != ["alice@example.com"] or "Ticket resolved" not in str(other["Subject"]):
                check("/support/rate/" not in other.get_body(("plain",)).get_content(),
                      "no rating link in %s to %s" % (other["Subject"], env["to"]))

    with T.case("opening the links (GET, HEAD, twice each) records nothing; the choice is preselected"):
        for choice in ("good", "bad"):
            for _ in range(2):
                r = anon().get(l1[choice])
                status(r, 200, "the %s link" % choice)
                page = r.text()
                check('id="rate-form"' in page and 'name="comment"' in page and 'id="rate-send"' in page,
                      "the form with a comment box and a button")
                check(re.search(r'id="rate-%s"[^>]*checked' % choice, page), "%s preselected" % choice)
                other = "bad" if choice == "good" else "good"
                check(not re.search(r'id="rate-%s"[^>]*checked' % other, page), "%s not checked" % other)
                check("Rate me: printer" in page and "#%d" % t1["number"] in page, "names the ticket")
                status(anon().request("HEAD", l1[choice]), 200, "HEAD")
        status(anon().get(RATE + "?t=" + token_of(l1["good"])), 200, "no choice given")
        eq(rating("alice", t1["uuid"]).status, 404, "no rating recorded by opening the links")

    tok1 = token_of(l1["good"])
    with T.case("bad tokens: forged, another ticket's number inside, a reply token, garbage: 404 or 400"):
        reply = srv.ctl("reply-token", str(t1["number"]), "alice")
        eq(reply.returncode, 0, "supportctl reply-token: %s" % reply.stderr.decode())
        reply_tok = re.search(r"\+([a-z2-7]{32})@", reply.stdout.decode()).group(1)
        for what, tok in (("forged", forged(tok1)),
                          ("bob's ticket number in alice's token", renumbered(tok1, t_bob["number"])),
                          ("a ticket number that does not exist", renumbered(tok1, 999999)),
                          ("a reply address's token", reply_tok),
                          ("upper case", tok1.upper()),
                          ("garbage", "not-a-token")):
            error_page(anon().get(RATE + "?t=" + urllib.parse.quote(tok) + "&r=good"), 404,
                       "rating_link_invalid")
            error_page(post_rating(tok, "good", "forged"), 404, "rating_link_invalid")
        r = anon().get(RATE + "?t=" + "a" * 33)
        eq(r.status, 400, "an over-long token")
        check('data-field="t"' in r.text(), "names the field")
        eq(anon().get(RATE).status, 400, "no token")
        eq(anon().get(RATE + "?t=" + tok1 + "&r=maybe").status, 400, "a choice not good or bad")
        eq(anon().get(RATE + "?t=" + tok1 + "&x=1").status, 400, "an unknown parameter")
        error_page(post_rating(tok1, "excellent"), 400, "invalid")
        eq(rating("alice", t1["uuid"]).status, 404, "nothing recorded")
        eq(rating("bob", t_bob["uuid"]).status, 404, "nothing recorded on bob's")

    with T.case("the form posted with no session and no CSRF token rates once; 303 to the link's page"):
        r = post_rating(tok1, "bad", "Took a week, ça alors")
        eq(r.status, 303, "status: %s" % r.text()[:300])
        loc = r.header("Location") or ""
        check(loc.endswith(RATE + "?t=" + tok1), "to the link's page: %r" % loc)
        r = rating("alice", t1["uuid"])
        status(r, 200, "the API has it")
        eq((r.json["rating"], r.json["comment"]), ("bad", "Took a week, ça alors"), "the rating")
        status(rating("carol", t1["uuid"]), 200, "staff see it")
        r = anon().get(l1["good"])
        status(r, 200, "the link again")
        check('id="rate-form"' not in r.text(), "no form any more")
        check('id="rate-value">Bad<' in r.text() and "ça alors" in r.text(), "the rating shown")

    with T.case("a second post gets the API's already_rated (409) and changes nothing"):
        error_page(post_rating(tok1, "good"), 409, "already_rated")
        r = alice.post(TICKETS + t1["uuid"] + "/rating/", {"rating": "good"})
        eq((r.status, r.json["error"]["code"]), (409, "already_rated"), "the API's answer")
        eq(rating("alice", t1["uuid"]).json["rating"], "bad", "still bad")

    with T.case("a ticket opened again cannot be rated: its page says so, a post is 409 not_resolved"):
        resolve(t3["uuid"])
        m, seen = resolved_mail("Rate me: reopened", "alice@example.com", seen)
        tok3 = token_of(links(m)["good"])
        status(srv.client("carol").patch(TICKETS + t3["uuid"] + "/", {"status": "open"}), 200, "reopen")
        r = anon().get(RATE + "?t=" + tok3 + "&r=good")
        status(r, 200, "the page")
        check('id="rate-not-resolved"' in r.text() and 'id="rate-form"' not in r.text(),
              "says it is not resolved, no form")
        error_page(post_rating(tok3, "good"), 409, "not_resolved")
        eq(rating("alice", t3["uuid"]).status, 404, "nothing recorded")

    with T.case("a link lasts 30 days: on day 29 it opens, after day 30 it is rating_link_expired"):
        resolve(t2["uuid"])
        m, seen = resolved_mail("Rate me later: scanner", "alice@example.com", seen)
        tok2 = token_of(links(m)["good"])
        srv.move_clock(29 * DAY)
        status(anon().get(RATE + "?t=" + tok2), 200, "day 29")
        srv.move_clock(2 * DAY + 1)
        error_page(anon().get(RATE + "?t=" + tok2 + "&r=good"), 400, "rating_link_expired")
        error_page(post_rating(tok2, "good"), 400, "rating_link_expired")
        eq(rating("alice", t2["uuid"]).status, 404, "nothing recorded")
        status(alice.post(TICKETS + t2["uuid"] + "/rating/", {"rating": "good"}), 201,
               "the ticket page's rating still works")


def main():
    global srv, sink
    base = os.environ.get("TMPDIR") or "/tmp"
    work = os.path.join(base, "support-ratelink-%d" % os.getpid())
    os.makedirs(work)
    sink = Sink(work, free_port())
    try:
        sink.start()
        srv = standard_server(clock=True, conf={
            ("support", "support_email"): "help@example.com",
            ("support", "support_team_emails"): "team@example.com",
            ("support", "smtp_url"): "smtp://127.0.0.1:%d" % sink.port,
            ("support", "smtp_starttls"): "no",
            ("support", "base_url"): "http://desk.example/",
            # The clock moves a month: no reminders, escalations or
            # closing among the mails and statuses looked at.
            ("support", "reminder_days"): "0",
            ("support", "escalation_hours"): "0",
        })
        body()
        check_no_leftovers(srv)
    finally:
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
