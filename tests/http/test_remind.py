#!/usr/bin/env python3
"""Reminders and escalation (docs/mail.md, "Reminders and escalation")
against a real SMTP server on 127.0.0.1 (aiosmtpd, tests/http/smtpsink.py,
started and stopped by pid), with the test clock:

- nothing before the time: `supportctl send_ticket_reminders` queues no
  reminder and no escalation for tickets younger than reminder_days and
  escalation_hours, and support-worker --once sends none;
- a ticket waiting for staff past escalation_hours alerts the team and
  its assignee, once: a second run and further passes send nothing;
- a ticket waiting for the customer past reminder_days reminds the
  customer once (the mail: To, the signed Reply-To, the thread, both
  parts with the link and the reply address); not again;
- a customer's reply, then a staff reply and another wait: reminded again;
- escalation_alerts = no: no alert at all (and none marked: turned on, the
  wait alerts once);
- a resolved ticket is neither reminded nor escalated;
- the reminders run in support-worker --once too, without supportctl.

Run alone from the repo root: python3 tests/http/test_remind.py
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (T, BUILD, TICKETS, USERS, check, eq, status, free_port,  # noqa: E402
                     standard_server, set_conf_key, run_main, log)
from test_mail import Sink  # noqa: E402

WORKER = os.path.join(BUILD, "bin", "support-worker")
HOUR = 3600
DAY = 86400


def main():
    base = os.environ.get("TMPDIR") or "/tmp"
    work = os.path.join(base, "support-remind-%d" % os.getpid())
    os.makedirs(work)
    sink = Sink(work, free_port())
    try:
        body(sink, work)
    finally:
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)


def body(sink, work):
    sink.start()
    srv = standard_server(clock=True, conf={
        ("support", "support_email"): "help@example.com",
        ("support", "support_team_emails"): "team@example.com, lead@example.com",
        ("support", "smtp_url"): "smtp://127.0.0.1:%d" % sink.port,
        ("support", "smtp_starttls"): "no",
        ("support", "base_url"): "http://desk.example/",
        ("support", "max_tickets_per_user"): "0",
        ("support", "reminder_days"): "3",
        ("support", "escalation_hours"): "24",
    })
    alice, carol, dave = srv.client("alice"), srv.client("carol"), srv.client("dave")

    # The test drives the passes itself: the worker run.sh started goes.
    pidfile = os.path.join(srv.var, "run", "support-worker.pid")
    with open(pidfile) as f:
        pid = int(f.read().split()[0])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)

    r = dave.get(USERS + "?" + urllib.parse.urlencode({"q": "carol"}))
    status(r, 200, "find carol")
    carol_id = [u["id"] for u in r.json["results"] if u["username"] == "carol"][0]

    def once(conf=None):
        r = subprocess.run([WORKER, "--once", "--conf", conf or srv.conf], env=srv.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        check(r.returncode == 0, "support-worker --once: %d %s" % (r.returncode, r.stderr.decode()))

    def remind(conf=None):
        """supportctl send_ticket_reminders: (reminders, escalations) queued."""
        if conf is None:
            r = srv.ctl("send_ticket_reminders")
        else:
            owner = srv.store_owner()

            def become_owner():
                os.setgroups([])
                os.setgid(owner[1])
                os.setuid(owner[0])
            r = subprocess.run([os.path.join(BUILD, "bin", "supportctl"), "--conf", conf,
                                "send_ticket_reminders"], env=srv.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60,
                               preexec_fn=become_owner if owner else None)
        check(r.returncode == 0, "send_ticket_reminders: %s" % r.stderr.decode())
        m = re.fullmatch(r"(\d+) reminders?, (\d+) escalations? queued\n", r.stdout.decode())
        check(m is not None, "its output: %r" % r.stdout.decode())
        return int(m.group(1)), int(m.group(2))

    def events(kind):
        r = srv.ctl("events")
        check(r.returncode == 0, "supportctl events: %s" % r.stderr.decode())
        return [e for e in (json.loads(x) for x in r.stdout.decode().splitlines() if x.strip())
                if e["type"] == kind]

    seen = set()

    def new_mails(label):
        """The mails received since the last call whose subject has label."""
        out = []
        for env, m in sink.mails():
            mid = m["Message-ID"]
            if mid in seen:
                continue
            seen.add(mid)
            if label in str(m["Subject"]):
                out.append((env["to"][0], m))
        return sorted(out, key=lambda x: x[0])

    def post(client, t, text):
        status(client.post(TICKETS + t + "/messages/", {"content": text}), 201)

    def ticket(subject):
        r = alice.post(TICKETS, {"subject": subject, "initial_message": "Bitte helfen."})
        status(r, 201)
        return r.json["uuid"], r.json["number"]

    # A: waiting for alice (carol answered); B: open, assigned to carol;
    # C: resolved.
    a, a_num = ticket("Waiting for Alice")
    post(carol, a, "Which printer is it?")
    b, b_num = ticket("Nobody looked")
    status(dave.patch(TICKETS + b + "/", {"assignee": carol_id}), 200)
    c, _ = ticket("Already done")
    post(carol, c, "Done.")
    status(carol.patch(TICKETS + c + "/", {"status": "resolved"}), 200)
    once()
    new_mails("")

    with T.case("nothing before the time: no reminder, no escalation"):
        srv.move_clock(23 * HOUR)
        eq(remind(), (0, 0), "queued at 23 h")
        once()
        eq(new_mails(""), [], "no mail")

    with T.case("waiting for staff past escalation_hours: the team and the assignee, once"):
        srv.move_clock(2 * HOUR)
        eq(remind(), (0, 1), "queued at 25 h (only the open ticket)")
        once()
        got = new_mails("Escalation")
        eq([to for to, _ in got], ["carol@example.com", "lead@example.com", "team@example.com"],
           "the team and the assignee")
        for to, m in got:
            check(str(m["Subject"]).startswith("[#%d] Escalation: Nobody looked" % b_num),
                  "Subject %r" % str(m["Subject"]))
            eq(m["References"], "<%s@example.com>" % b, "threaded on the ticket")
            eq(m["Auto-Submitted"], "auto-generated", "Auto-Submitted")
            text, html = [pt.get_content() for pt in m.iter_parts()]
            url = "http://desk.example/support/tickets/%s/" % b
            check(url in text and url in html, "both parts link to the ticket")
            check("24 hours" in text and "24 hours" in html, "both parts say how long")
        ev = events("ticket.escalated")
        eq(len(ev), 1, "one ticket.escalated event")
        eq((ev[0]["ticket"], ev[0]["actor"] in (None, 0), ev[0]["data"]["status"], ev[0]["data"]["hours"]),
           (b, True, "open", 24), "its ticket, no actor (the desk), status, hours")

    with T.case("idempotent: a second run and further passes send nothing"):
        eq(remind(), (0, 0), "the second run queues nothing")
        once()
        srv.move_clock(HOUR)
        eq(remind(), (0, 0), "an hour on, still nothing")
        once()
        eq(new_mails(""), [], "no mail")
        eq(len(events("ticket.escalated")), 1, "still one event")

    with T.case("waiting for the customer past reminder_days: one reminder to her"):
        srv.move_clock(2 * DAY)  # 3 days and 2 hours since carol's answer
        eq(remind(), (1, 0), "queued")
        once()
        got = new_mails("Waiting for your reply")
        eq([to for to, _ in got], ["alice@example.com"], "to the customer only")
        m = got[0][1]
        check(str(m["Subject"]).startswith("[#%d] Waiting for your reply: Waiting for Alice" % a_num),
              "Subject %r" % str(m["Subject"]))
        reply_to = m["Reply-To"].addresses[0].addr_spec
        check(re.fullmatch(r"help\+[a-z2-7]{32}@example\.com", reply_to),
              "Reply-To is the signed address: %r" % reply_to)
        eq(m["In-Reply-To"], "<%s@example.com>" % a, "threaded on the ticket")
        eq(m.get_content_type(), "multipart/alternative", "multipart/alternative")
        text, html = [pt.get_content() for pt in m.iter_parts()]
        url = "http://desk.example/support/tickets/%s/" % a
        for part in (text, html):
            check(url in part, "links to the ticket: %r" % part)
            check(reply_to in part, "names the reply address: %r" % part)
            check("3 days" in part, "says how long: %r" % part)
        ev = events("ticket.reminder_due")
        eq([(e["ticket"], e["data"]["days"], e["data"]["status"]) for e in ev],
           [(a, 3, "waiting_for_user")], "one ticket.reminder_due event")

    with T.case("not twice: the same wait is not reminded again"):
        eq(remind(), (0, 0), "nothing queued")
        srv.move_clock(DAY)
        eq(remind(), (0, 0), "a day on, nothing queued")
        once()
        eq(new_mails(""), [], "no mail")

    with T.case("a customer reply, a staff answer and another wait: reminded again"):
        post(alice, a, "It is the one on floor 2.")
        post(carol, a, "Is it switched on?")
        once()
        new_mails("")
        srv.move_clock(2 * DAY)
        eq(remind(), (0, 0), "2 days into the new wait: nothing")
        srv.move_clock(DAY + HOUR)
        eq(remind(), (1, 0), "3 days into the new wait: queued")
        once()
        eq([to for to, _ in new_mails("Waiting for your reply")], ["alice@example.com"],
           "the second reminder")
        eq(len(events("ticket.reminder_due")), 2, "two reminder events in all")
        eq(len(events("ticket.escalated")), 1, "the open ticket was not escalated again")

    with T.case("a reminder whose ticket changed before its mail is not sent"):
        srv.move_clock(3 * DAY + HOUR)
        eq(remind(), (0, 0), "nothing new: A and B are unchanged since their marks")
        d, _ = ticket("Changed in time")
        post(carol, d, "Try again?")
        srv.move_clock(3 * DAY + HOUR)
        eq(remind(), (1, 0), "the reminder queued")
        post(alice, d, "Works now, thanks.")   # before the worker's pass
        once()
        eq([to for to, _ in new_mails("Waiting for your reply")], [], "no reminder mailed")

    with T.case("escalation_alerts = no: no alert, none marked; turned on, once"):
        noesc = os.path.join(work, "noesc.conf")
        shutil.copy(srv.conf, noesc)
        set_conf_key(noesc, "notifications", "escalation_alerts", "no")
        e, _ = ticket("Switch off")
        once()
        new_mails("")
        srv.move_clock(25 * HOUR)
        # D waits for staff again too (alice's reply above).
        eq(remind(noesc), (0, 0), "no escalation queued with the switch off")
        once(noesc)
        eq(new_mails("Escalation"), [], "no alert")
        eq(remind(), (0, 2), "the switch on: the waits alert (this ticket and D)")
        once()
        got = new_mails("Escalation")
        check(all(str(m["Subject"]).endswith(("Switch off", "Changed in time")) for _, m in got),
              "the alerts are those two tickets'")
        eq(sorted({to for to, _ in got}), ["lead@example.com", "team@example.com"],
           "to the team (no assignee)")

    with T.case("support-worker --once runs the reminders itself"):
        f, _ = ticket("Worker alone")
        post(carol, f, "Anything else?")
        once()
        new_mails("")
        srv.move_clock(3 * DAY + HOUR)
        once()
        got = new_mails("Waiting for your reply")
        check(any(str(m["Subject"]).endswith("Worker alone") for _, m in got),
              "the worker's pass reminded: %r" % [str(m["Subject"]) for _, m in got])
        once()
        eq([m for _, m in new_mails("Waiting for your reply")], [], "and not again")
        log("reminders: %d events, escalations: %d events" % (
            len(events("ticket.reminder_due")), len(events("ticket.escalated"))))


if __name__ == "__main__":
    run_main(main)
