#!/usr/bin/env python3
"""The desk's mail (docs/mail.md) against a real SMTP server on 127.0.0.1
(aiosmtpd, tests/http/smtpsink.py, started and stopped by pid here), the
mails read as a mail client reads them (Python's email package):

- support-worker as run.sh starts it: a ticket opened mails the team, a
  staff reply the customer, a change of status the customer; the headers
  (From, To with a non-ASCII name, an encoded-word Subject, Message-ID
  <delivery@domain>, In-Reply-To and References the ticket's root id,
  Auto-Submitted, Reply-To, Date, MIME-Version), both parts
  (multipart/alternative, UTF-8, the link to the ticket);
- an internal note never mails the customer; nobody is mailed their own
  action; a user who turned their mail off gets none (PATCH {notify});
- `kill -9` of the worker in the middle of a run: every delivery ends
  sent, each Message-ID received, a repeat only with the same Message-ID;
- then with `support-worker --once` passes: a server answering 451 then
  accepting (retried after the back-off, delivered once); one answering
  550 (dead at once, the error kept, `supportctl outbox list` shows it,
  `outbox retry` queues it again and it goes); one that is down (retried
  with back-off as the test clock moves, dead after outbox_retry_hours);
  STARTTLS with a self-signed certificate made here by openssl, trusted
  through smtp_ca_file (and refused without it), and smtps:// the same way;
  a status change mailed to the assignee too, never to whoever made it
  nor to a team address of theirs; each [notifications] switch turned off
  alone stops its own mail and no other.

Run alone from the repo root: python3 tests/http/test_mail.py
"""

import email
import email.policy
import email.utils
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (T, BUILD, TICKETS, USERS, Fail, check, eq, status, error, free_port,  # noqa: E402
                     standard_server, set_conf_key, run_main, check_no_leftovers, log)

from test_pages import Page, LOGIN  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD_PAGE = "/support/password/"
NOTIFY_PAGE = "/support/notify/"
WORKER = os.path.join(BUILD, "bin", "support-worker")
MAILIN = os.path.join(BUILD, "bin", "support-mailin")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def sink_python():
    """A Python with aiosmtpd (the test's own, else Debian's)."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and subprocess.run([exe, "-c", "import aiosmtpd"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode == 0:
            return exe
    raise RuntimeError("no python3 with aiosmtpd (apt-get install python3-aiosmtpd)")


class Sink:
    """One smtpsink.py process on a port; its messages in a directory."""

    def __init__(self, base, port):
        self.base = base
        self.port = port
        self.proc = None
        self.dir = None
        self.runs = 0

    def start(self, *opts):
        self.stop()
        self.runs += 1
        self.dir = os.path.join(self.base, "sink%d" % self.runs)
        os.makedirs(self.dir)
        self.proc = subprocess.Popen([sink_python(), os.path.join(HERE, "smtpsink.py"), "--port",
                                      str(self.port), "--dir", self.dir] + list(opts),
                                     stdin=subprocess.DEVNULL, stdout=open(self.dir + ".log", "wb"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(self.dir, "ready")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.dir + ".log", errors="replace") as f:
                    raise RuntimeError("smtpsink did not start: " + f.read()[-800:])
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def mails(self):
        """[(envelope, message)] received by this run, in order."""
        out = []
        for f in sorted(glob.glob(os.path.join(self.dir, "*.eml"))):
            with open(f, "rb") as fh:
                msg = email.message_from_bytes(fh.read(), policy=email.policy.default)
            with open(f[:-4] + ".json") as fh:
                out.append((json.load(fh), msg))
        return out

    def wait(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.mails()
            if len(m) >= n:
                return m
            time.sleep(0.1)
        raise Fail("%d mails after %ds, waited for %d" % (len(self.mails()), timeout, n))


def main():
    base = os.environ.get("TMPDIR") or "/tmp"
    work = os.path.join(base, "support-mail-%d" % os.getpid())
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
        # The clock moves days ahead here: no reminders or escalations
        # among the mails counted (test_remind.py tests those).
        ("support", "reminder_days"): "0",
        ("support", "escalation_hours"): "0",
    })
    p = srv.ctl("user", "add", "zoe", "--email", "zoe@example.com", "--role", "user",
                "--display-name", "Zoë Ångström", "--password-stdin", input=b"pw-zoe-Secret-1\n")
    if p.returncode != 0:
        raise RuntimeError("user add zoe: " + p.stderr.decode())
    tok = srv.ctl("token", "create", "zoe").stdout.decode().strip()
    from support import Client
    zoe = Client(srv.port, "Bearer " + tok, name="zoe")
    carol = srv.client("carol")
    alice = srv.client("alice")

    def outbox():
        r = srv.ctl("outbox", "list")
        check(r.returncode == 0, "supportctl outbox list: %s" % r.stderr.decode())
        return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]

    def by_state(state):
        return [d for d in outbox() if d["state"] == state]

    def once(conf=None, check_rc=True):
        r = subprocess.run([WORKER, "--once", "--conf", conf or srv.conf], env=srv.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if check_rc:
            check(r.returncode == 0, "support-worker --once: %d %s" % (r.returncode, r.stderr.decode()))
        return r

    ticket = {}

    with T.case("a ticket opened: its mail to each of the team, as a mail client reads it"):
        subject = "Drucker kaputt ☃ — Ünïcödé"
        r = zoe.post(TICKETS, {"subject": subject, "initial_message": "Er druckt nicht."})
        status(r, 201)
        t = ticket["id"] = r.json["uuid"]
        ticket["number"] = r.json.get("number")
        mails = sink.wait(2)
        eq(sorted(env["to"][0] for env, _ in mails), ["lead@example.com", "team@example.com"],
           "the envelope recipients")
        for env, m in mails:
            eq(env["from"], "help@example.com", "the envelope sender")
            eq(m["From"].addresses[0].addr_spec, "help@example.com", "From")
            eq(str(m["Subject"]).endswith(subject), True, "Subject %r" % str(m["Subject"]))
            raw_subject = m.get_all("Subject")[0]
            check(isinstance(raw_subject, str), "a subject")
            mid = m["Message-ID"]
            check(re.fullmatch(r"<%s@example\.com>" % UUID, mid), "Message-ID %r" % mid)
            eq(m["In-Reply-To"], "<%s@example.com>" % t, "In-Reply-To: the ticket's root id")
            eq(m["References"], "<%s@example.com>" % t, "References: the ticket's root id")
            eq(m["Auto-Submitted"], "auto-generated", "Auto-Submitted")
            eq(m["Reply-To"].addresses[0].addr_spec, "help@example.com", "Reply-To")
            eq(m["MIME-Version"], "1.0", "MIME-Version")
            check(email.utils.parsedate_to_datetime(m["Date"]) is not None, "Date")
            eq(m.get_content_type(), "multipart/alternative", "multipart/alternative")
            parts = [(pt.get_content_type(), pt.get_content_charset(), pt.get_content())
                     for pt in m.iter_parts()]
            eq([x[0] for x in parts], ["text/plain", "text/html"], "the parts, text first")
            eq([x[1] for x in parts], ["utf-8", "utf-8"], "both UTF-8")
            url = "http://desk.example/support/tickets/%s/" % t
            for ctype, _, content in parts:
                check(url in content, "%s links to the ticket" % ctype)
                check(subject in content, "%s names the ticket" % ctype)
                check("Zoë Ångström" in content, "%s names who opened it" % ctype)
        # The raw bytes: the subject went out as encoded words, 7-bit headers.
        with open(sorted(glob.glob(os.path.join(sink.dir, "*.eml")))[0], "rb") as f:
            head = f.read().split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        check(all(b < 0x80 for b in head), "the headers are 7-bit")
        check(b"=?utf-8?" in head.lower() or b"=?UTF-8?" in head, "encoded words in the headers")
        eq(len({m["Message-ID"] for _, m in mails}), 2, "each delivery its own Message-ID")

    with T.case("a staff reply mails the customer (To with her non-ASCII name), threaded on the ticket"):
        t = ticket["id"]
        reply = "Ich schaue nach. <b>Jetzt</b> & gleich"
        status(carol.post(TICKETS + t + "/messages/", {"content": reply}), 201)
        m = sink.wait(3)[2][1]
        text, html = [pt.get_content() for pt in m.iter_parts()]
        check(reply in text, "the reply's text in the text part, as written: %r" % text)
        check("Ich schaue nach. &lt;b&gt;Jetzt&lt;/b&gt; &amp; gleich" in html and "<b>Jetzt" not in html,
              "the reply's text in the HTML part, escaped: %r" % html)
        eq(m["To"].addresses[0].display_name, "Zoë Ångström", "the name, decoded")
        eq(m["To"].addresses[0].addr_spec, "zoe@example.com", "the address")
        check("New reply" in str(m["Subject"]), "the reply's subject: %s" % m["Subject"])
        eq(m["References"], "<%s@example.com>" % t, "the same thread")

    with T.case("the customer's mail carries a signed reply address; her reply by mail joins the ticket"):
        t = ticket["id"]
        m = sink.wait(3)[2][1]
        reply_to = m["Reply-To"].addresses[0].addr_spec
        check(re.fullmatch(r"help\+[a-z2-7]{32}@example\.com", reply_to),
              "Reply-To is help+<token>@example.com: %r" % reply_to)
        answer = ("From: Zoe <zoe@example.com>\r\nTo: %s\r\nSubject: Re: %s\r\n"
                  "Message-ID: <zoe-answer-1@example.com>\r\nIn-Reply-To: %s\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                  "Danke, es geht wieder.\r\n\r\nOn Monday Support wrote:\r\n> Ich schaue nach.\r\n"
                  % (reply_to, m["Subject"], m["Message-ID"])).encode()
        owner = srv.store_owner()
        e = srv.env()
        e["SUPPORT_CONF"] = srv.conf
        p = subprocess.run([MAILIN, "--recipient", reply_to], input=answer, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           preexec_fn=(lambda: (os.setgroups([]), os.setgid(owner[1]),
                                                os.setuid(owner[0]))) if owner else None)
        eq(p.returncode, 0, "support-mailin took the reply: %s" % p.stderr.decode(errors="replace"))
        r = zoe.get(TICKETS + t + "/messages/")
        status(r, 200)
        last = r.json[-1]
        eq(last["content"].strip(), "Danke, es geht wieder.", "the reply, its quote trimmed")
        eq(last["is_from_user"], True, "from the customer")
        # A token is for its recipient: another sender on Zoe's token is refused.
        forged = answer.replace(b"From: Zoe <zoe@example.com>", b"From: Mallory <mallory@example.net>")
        p = subprocess.run([MAILIN, "--recipient", reply_to], input=forged, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           preexec_fn=(lambda: (os.setgroups([]), os.setgid(owner[1]),
                                                os.setuid(owner[0]))) if owner else None)
        eq(p.returncode, 65, "another sender on her token: refused (EX_DATAERR)")
        eq(len(zoe.get(TICKETS + t + "/messages/").json), len(r.json), "and nothing posted")

    with T.case("an internal note is never mailed to the customer; nobody is mailed their own action"):
        t = ticket["id"]
        status(carol.post(TICKETS + t + "/messages/", {"content": "Secret: toner is empty.",
                                                       "is_internal": True}), 201)
        status(zoe.post(TICKETS + t + "/messages/", {"content": "Danke!"}), 201)
        once()      # every event so far consumed: nothing more is queued
        time.sleep(1)
        mails = sink.mails()
        eq(len(mails), 3, "no mail for the note nor for her own reply")
        for _, m in mails:
            for pt in m.walk():
                if pt.get_content_maintype() == "text":
                    check("toner" not in pt.get_content(), "the note's text in a mail")
        eq(len(outbox()), 3, "three deliveries in the outbox")

    with T.case("a change of status mails the customer; a user who turned her mail off gets none"):
        t = ticket["id"]
        status(carol.patch(TICKETS + t + "/", {"status": "resolved"}), 200)
        m = sink.wait(4)[3][1]
        check("resolved" in str(m["Subject"]), "the resolved mail: %s" % m["Subject"])
        eq(m["To"].addresses[0].addr_spec, "zoe@example.com", "to the customer")
        uid = zoe.get(TICKETS + t + "/").json["user"]["id"]
        error(alice.patch(USERS + "%d/" % uid, {"notify": False}), 403, "forbidden")
        r = zoe.patch(USERS + "%d/" % uid, {"notify": False})
        status(r, 200)
        eq(r.json.get("notify"), False, "the User says notify false")
        error(zoe.patch(USERS + "%d/" % uid, {"away": True}), 403, "forbidden")
        status(carol.patch(TICKETS + t + "/", {"status": "open"}), 200)
        once()
        time.sleep(1)
        eq(len(sink.mails()), 4, "no mail once she turned it off")
        status(zoe.patch(USERS + "%d/" % uid, {"notify": True}), 200)

    with T.case("the password page's Mail notifications switch, without JavaScript, for a customer"):
        b = Page(srv.port)
        b.get(LOGIN)
        status(b.submit(LOGIN, {"username": "zoe", "password": "pw-zoe-Secret-1"}), 303, "log in")

        def state():
            text = b.get(PASSWORD_PAGE).text()
            s = re.search(r'id="notify-state">The desk <strong>([a-z ]+)</strong>', text)
            tok = re.search(r'name="csrfmiddlewaretoken" value="([0-9a-f]{64})"', text)
            v = re.search(r'name="notify" value="(true|false)"', text)
            return (s.group(1) if s else None, tok.group(1) if tok else None, v.group(1) if v else None)

        s, tok, v = state()
        eq((s, v), ("mails you", "false"), "on, the switch offers off")
        r = b.submit(NOTIFY_PAGE, {"csrfmiddlewaretoken": tok, "notify": v})
        status(r, 303, "POST the switch")
        check((r.header("Location") or "").endswith(PASSWORD_PAGE), "back to the password page")
        s, tok, v = state()
        eq((s, v), ("does not mail you", "true"), "off, the switch offers on")
        status(b.submit(NOTIFY_PAGE, {"csrfmiddlewaretoken": tok, "notify": "perhaps"}), 400, "a bad value")
        status(b.submit(NOTIFY_PAGE, {"notify": "true"}, csrf=None), 403, "no CSRF token")
        before = len(sink.mails())
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Stumm?"}), 201)
        once()
        time.sleep(1)
        eq(len(sink.mails()), before, "no mail while it is off")
        status(b.submit(NOTIFY_PAGE, {"csrfmiddlewaretoken": tok, "notify": "true"}), 303, "on again")
        eq(state()[0], "mails you", "on again")

    with T.case("kill -9 of the worker mid-run: every delivery sent, each Message-ID received"):
        sink.start("--delay", "0.15")
        n = 12
        for i in range(n):
            status(alice.post(TICKETS, {"subject": "Batch %d" % i, "initial_message": "x"}), 201)
        sink.wait(3, timeout=60)
        pidfile = os.path.join(srv.var, "run", "support-worker.pid")
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
        os.kill(pid, signal.SIGKILL)
        log("killed support-worker %d after %d mails" % (pid, len(sink.mails())))
        # Its claims hold the deliveries it had taken for the lease (5 min).
        srv.move_clock(6 * 60)
        for _ in range(5):
            once()
            if not by_state("pending"):
                break
        got = [m["Message-ID"] for _, m in sink.mails()]
        eq(by_state("pending"), [], "nothing left pending")
        eq(by_state("dead"), [], "nothing dead")
        ids = {re.match(r"<(%s)@" % UUID, x).group(1) for x in got}
        batch = [d for d in outbox() if d["id"] in ids]
        eq(len(batch), 2 * n, "every delivery of the batch received (%d)" % (2 * n))
        dups = len(got) - len(set(got))
        check(dups <= 1, "%d sent twice (a repeat only for the one in flight)" % dups)
        log("%d received, %d repeated with the same Message-ID" % (len(got), dups))

    # From here on the test drives the passes itself (the daemon is gone).
    with T.case("a 451 then an acceptance: retried after the back-off, delivered once"):
        sink.start("--tempfail", "1")
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Noch was."}), 201)
        once()
        eq(len(sink.mails()), 0, "nothing accepted yet")
        d = by_state("pending")
        eq(len(d), 1, "one delivery pending")
        check(d and d[0]["last_error"].startswith("451"), "its error: %r" % (d and d[0].get("last_error")))
        eq(d[0]["attempts"], 1, "one attempt")
        once()
        eq(len(sink.mails()), 0, "not before its time (1 min)")
        srv.move_clock(61)
        once()
        eq(len(sink.wait(1)), 1, "delivered")
        eq(by_state("pending"), [], "nothing pending")
        time.sleep(0.5)
        eq(len(sink.mails()), 1, "exactly once")

    with T.case("a 550: dead at once with its error; outbox list shows it; retry sends it"):
        sink.start("--reject")
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Und noch was."}), 201)
        once()
        dead = by_state("dead")
        eq(len(dead), 1, "one dead delivery")
        check("550" in dead[0]["last_error"], "the 550 kept: %r" % dead[0]["last_error"])
        eq(dead[0]["to"], "zoe@example.com", "to her")
        sink.start()
        r = srv.ctl("outbox", "retry", dead[0]["id"])
        check(r.returncode == 0, "outbox retry: %s" % r.stderr.decode())
        once()
        eq(len(sink.wait(1)), 1, "sent after the retry")
        eq(by_state("dead"), [], "none dead")
        r = srv.ctl("outbox", "retry", dead[0]["id"])
        eq(r.returncode, 1, "a sent one is no retry")
        r = srv.ctl("outbox", "drop", "not-an-id")
        eq(r.returncode, 2, "a bad id is bad usage")

    with T.case("a server that is down: retried with back-off as time passes, dead after 48 h"):
        sink.stop()
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Hallo?"}), 201)
        once()
        d = by_state("pending")
        eq(len(d), 1, "pending after a refused connection")
        first = d[0]
        check(first["last_error"], "its error: %r" % first.get("last_error"))
        waits = []
        for _ in range(8):
            before = [x for x in outbox() if x["id"] == first["id"]][0]
            srv.move_clock(3600)
            once()
            after = [x for x in outbox() if x["id"] == first["id"]][0]
            waits.append(after["attempts"] - before["attempts"])
        eq(waits, [1] * 8, "one attempt each hour once the back-off reached its hour")
        srv.move_clock(48 * 3600)
        once()
        d = [x for x in outbox() if x["id"] == first["id"]][0]
        eq(d["state"], "dead", "dead after outbox_retry_hours")

    with T.case("STARTTLS with a self-signed certificate: refused untrusted, sent through smtp_ca_file"):
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", cert], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(r.returncode == 0, "openssl: %s" % r.stderr.decode()[-300:])
        sink.start("--cert", cert, "--key", key)
        tls_conf = os.path.join(work, "tls.conf")
        shutil.copy(srv.conf, tls_conf)
        set_conf_key(tls_conf, "support", "smtp_starttls", "yes")
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Verschlüsselt."}), 201)
        once(tls_conf)
        eq(len(sink.mails()), 0, "not sent to an untrusted certificate")
        d = by_state("pending")
        eq(len(d), 1, "kept pending")
        set_conf_key(tls_conf, "support", "smtp_ca_file", cert)
        srv.move_clock(120)
        once(tls_conf)
        env, m = sink.wait(1)[0]
        eq(env["tls"], True, "over TLS")
        eq(m["To"].addresses[0].addr_spec, "zoe@example.com", "to her")

    with T.case("AUTH after STARTTLS: a wrong password is a 535 (dead, kept), the right one sends it"):
        sink.start("--cert", cert, "--key", key, "--auth", "desk:s3cret-pw")
        pwfile = os.path.join(work, "smtp.password")
        with open(pwfile, "w") as f:
            f.write("wrong\n")
        os.chmod(pwfile, 0o600)
        set_conf_key(tls_conf, "support", "smtp_user", "desk")
        set_conf_key(tls_conf, "support", "smtp_password_file", pwfile)
        known = {d["id"] for d in outbox()}
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Mit Passwort."}), 201)
        once(tls_conf)
        dead = [d for d in by_state("dead") if d["id"] not in known]
        eq(len(dead), 1, "dead on the refused AUTH: %s" % [d for d in outbox() if d["id"] not in known])
        check(dead and "535" in dead[0]["last_error"], "the 535 kept: %r" % (dead and dead[0]["last_error"]))
        with open(pwfile, "w") as f:
            f.write("s3cret-pw\n")
        r = srv.ctl("outbox", "retry", dead[0]["id"])
        check(r.returncode == 0, "outbox retry: %s" % r.stderr.decode())
        once(tls_conf)
        env, m = sink.wait(1)[0]
        eq((env["tls"], env["auth"]), (True, True), "over TLS, authenticated")
        eq([d["state"] for d in outbox() if d["id"] not in known], ["sent"], "sent, nothing left")

    with T.case("smtps:// (TLS from the first byte): refused untrusted, sent through smtp_ca_file"):
        sink.start("--cert", cert, "--key", key, "--smtps")
        smtps_conf = os.path.join(work, "smtps.conf")
        shutil.copy(srv.conf, smtps_conf)
        set_conf_key(smtps_conf, "support", "smtp_url", "smtps://127.0.0.1:%d" % sink.port)
        known = {d["id"] for d in outbox()}
        status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Implizit."}), 201)
        once(smtps_conf)
        eq(len(sink.mails()), 0, "not sent to an untrusted certificate")
        eq([d["state"] for d in outbox() if d["id"] not in known], ["pending"], "kept pending")
        set_conf_key(smtps_conf, "support", "smtp_ca_file", cert)
        srv.move_clock(120)
        once(smtps_conf)
        env, m = sink.wait(1)[0]
        eq(env["tls"], True, "over TLS")
        eq(m["To"].addresses[0].addr_spec, "zoe@example.com", "to her")
        eq([d["state"] for d in outbox() if d["id"] not in known], ["sent"], "sent")

    with T.case("a sendmail pipe: -oi -f FROM -- RCPT, the message on stdin; 75 retried, 1 dead"):
        sm_dir = os.path.join(work, "sendmail")
        os.makedirs(sm_dir)
        exit_file = os.path.join(work, "sendmail-exit")
        script = os.path.join(work, "fake-sendmail")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nn=$(ls '%s' | wc -l)\nprintf '%%s\\n' \"$@\" >'%s'/$n.args\n"
                    "cat >'%s'/$n.eml\nexit $(cat '%s')\n" % (sm_dir, sm_dir, sm_dir, exit_file))
        os.chmod(script, 0o755)
        sm_conf = os.path.join(work, "sendmail.conf")
        shutil.copy(srv.conf, sm_conf)
        set_conf_key(sm_conf, "support", "smtp_url", "")
        set_conf_key(sm_conf, "support", "sendmail_path", script)

        def post_and_pass(code):
            with open(exit_file, "w") as f:
                f.write("%d\n" % code)
            known = {d["id"] for d in outbox()}
            status(carol.post(TICKETS + ticket["id"] + "/messages/", {"content": "Per sendmail %d" % code}),
                   201)
            once(sm_conf)
            return [d for d in outbox() if d["id"] not in known]

        new = post_and_pass(0)
        eq([d["state"] for d in new], ["sent"], "sent through the program")
        with open(os.path.join(sm_dir, "0.args")) as f:
            eq(f.read().split("\n")[:5], ["-oi", "-f", "help@example.com", "--", "zoe@example.com"],
               "its arguments")
        with open(os.path.join(sm_dir, "0.eml"), "rb") as f:
            m = email.message_from_bytes(f.read(), policy=email.policy.default)
        eq(m["Message-ID"], "<%s@example.com>" % new[0]["id"], "the message on its stdin")
        new = post_and_pass(75)
        eq([d["state"] for d in new], ["pending"], "EX_TEMPFAIL: retried")
        check("75" in new[0]["last_error"], "its error: %r" % new[0]["last_error"])
        r = srv.ctl("outbox", "drop", new[0]["id"])
        check(r.returncode == 0, "outbox drop: %s" % r.stderr.decode())
        check(all(d["id"] != new[0]["id"] for d in outbox()), "dropped")
        new = post_and_pass(1)
        eq([d["state"] for d in new], ["dead"], "another failure: dead")

    def kinds_to():
        """The mails this sink run received: (recipient, the subject's label), sorted."""
        return sorted((env["to"][0], re.match(r"\[#\d+\] ([^:]+):", str(m["Subject"])).group(1))
                      for env, m in sink.mails())

    with T.case("a status change mails the assignee too; whoever made it gets none, nor their team address"):
        sink.start()
        dave = srv.client("dave")
        r = dave.get(USERS + "?q=carol")
        carol_id = [u["id"] for u in r.json["results"] if u["username"] == "carol"][0]
        r = zoe.post(TICKETS, {"subject": "Assigned one", "initial_message": "x"})
        status(r, 201)
        t2 = r.json["uuid"]
        status(dave.patch(TICKETS + t2 + "/", {"assignee": carol_id}), 200)
        status(dave.patch(TICKETS + t2 + "/", {"status": "waiting_for_admin"}), 200)
        once()
        eq(kinds_to(), [("carol@example.com", "Ticket updated"), ("lead@example.com", "New ticket"),
                        ("team@example.com", "New ticket"), ("zoe@example.com", "Ticket updated")],
           "the team's, then the customer's and the assignee's (the assignment alone mails nobody)")
        sink.start()
        status(carol.patch(TICKETS + t2 + "/", {"status": "waiting_for_user"}), 200)
        status(dave.patch(TICKETS + t2 + "/", {"status": "resolved"}), 200)
        once()
        eq(kinds_to(), [("carol@example.com", "Ticket updated"), ("zoe@example.com", "Ticket resolved"),
                        ("zoe@example.com", "Ticket updated")],
           "carol's own change to zoe only; the resolution: resolved to zoe, updated to carol")
        sink.start()
        p = srv.ctl("user", "add", "leah", "--email", "lead@example.com", "--role", "agent",
                    "--password-stdin", input=b"pw-leah-Secret-1\n")
        check(p.returncode == 0, "user add leah: %s" % p.stderr.decode())
        leah = Client(srv.port, "Bearer " + srv.ctl("token", "create", "leah").stdout.decode().strip(),
                      name="leah")
        status(leah.post(TICKETS, {"subject": "Leah's own", "initial_message": "x"}), 201)
        once()
        eq(kinds_to(), [("team@example.com", "New ticket")], "not to lead@, the address of who opened it")

    all_on = [("lead@example.com", "New ticket"), ("team@example.com", "New ticket"),
              ("zoe@example.com", "New reply"), ("zoe@example.com", "Ticket resolved"),
              ("zoe@example.com", "Ticket updated")]
    for switch, want in ((None, all_on),
                         ("ticket_created", all_on[2:]),
                         ("admin_response", all_on[:2] + all_on[3:]),
                         ("ticket_updated", all_on[:4]),
                         ("ticket_resolved", all_on[:3] + [all_on[4]] * 2)):
        with T.case("[notifications] %s = no: its mail alone is not queued" % switch
                    if switch else "[notifications] every switch on: each kind of mail"):
            sink.start()
            sw_conf = os.path.join(work, "switch.conf")
            shutil.copy(srv.conf, sw_conf)
            if switch:
                set_conf_key(sw_conf, "notifications", switch, "no")
            r = zoe.post(TICKETS, {"subject": "Switch %s" % switch, "initial_message": "x"})
            status(r, 201)
            t3 = r.json["uuid"]
            status(carol.post(TICKETS + t3 + "/messages/", {"content": "Answer."}), 201)
            # (the reply set waiting_for_user: that change is the reply's mail)
            status(dave.patch(TICKETS + t3 + "/", {"status": "waiting_for_admin"}), 200)
            status(dave.patch(TICKETS + t3 + "/", {"status": "resolved"}), 200)
            once(sw_conf)
            eq(kinds_to(), want, "the mails")

    with T.case("supportctl db verify: the outbox is whole"):
        r = srv.ctl("db", "verify")
        eq(r.returncode, 0, "db verify: %s %s" % (r.stdout.decode(), r.stderr.decode()))

    check_no_leftovers(srv)
    cgi(sink)


def cgi(sink):
    """Plain CGI (Apache's mod_cgi), where no daemon runs: the request that
    queued mail starts one pass of the worker after its answer."""
    sink.start()
    srv = standard_server(mode="apache-cgi", conf={
        ("support", "support_email"): "help@example.com",
        ("support", "support_team_emails"): "team@example.com",
        ("support", "smtp_url"): "smtp://127.0.0.1:%d" % sink.port,
        ("support", "smtp_starttls"): "no",
    })
    with T.case("plain CGI: no worker runs, yet a new ticket's mail goes out after the answer"):
        check(not os.path.exists(os.path.join(srv.var, "run", "support-worker.pid")),
              "run.sh started no worker under plain CGI")
        r = srv.client("alice").post(TICKETS, {"subject": "Sent from CGI", "initial_message": "x"})
        status(r, 201)
        env, m = sink.wait(1, timeout=30)[0]
        eq(env["to"], ["team@example.com"], "to the team")
        check("Sent from CGI" in str(m["Subject"]), "its subject: %s" % m["Subject"])
    with T.case("plain CGI: the answer does not wait for the mail server (a slow one: 3 s)"):
        sink.start("--delay", "3")
        t0 = time.monotonic()
        r = srv.client("alice").post(TICKETS, {"subject": "Slow server", "initial_message": "x"})
        took = time.monotonic() - t0
        status(r, 201)
        check(took < 2.5, "the request took %.1f s" % took)
        env, m = sink.wait(1, timeout=30)[0]
        check("Slow server" in str(m["Subject"]), "sent afterwards: %s" % m["Subject"])
    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
