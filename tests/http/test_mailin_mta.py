#!/usr/bin/env python3
"""Mail in through a real MTA (docs/mailin.md): OpenSMTPD started by the
test on 127.0.0.1 (a free port, a test-only smtpd.conf) delivers the
desk's domain to `support-mailin --recipient %{rcpt} --sender %{sender}`
as the store's user (www-data), mails sent to it over SMTP with smtplib:

- a new mail becomes a ticket with channel email (its account made);
- a reply to help+TOKEN@ (supportctl reply-token) becomes a message on
  the ticket, with its message.posted event saying channel email;
- a forged reply address is refused: the MTA logs a permanent failure and
  nothing is posted;
- while the store cannot be opened, support-mailin exits 75 and the MTA
  keeps the mail (a temporary failure); once it can, `smtpctl schedule
  all` delivers it: nothing lost;
- the MTA's own bounce of the refused mail (null sender, multipart/report)
  is never taken as a ticket.

The results are read with `supportctl events` as the store's user (the
desk's web programs are not needed here). Needs root (smtpd) and the
opensmtpd package (test.sh installs it). OpenSMTPD has one spool and one
control socket per machine: two runs of this test at once would collide.

Run from the repo root of a built tree:  python3 tests/http/test_mailin_mta.py
"""

import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import BUILD, T, check, eq, free_port, run_main  # noqa: E402

MAILIN = os.path.join(BUILD, "bin", "support-mailin")
SUPPORTCTL = os.path.join(BUILD, "bin", "supportctl")
SMTPD = "/usr/sbin/smtpd"
SMTPCTL = "/usr/sbin/smtpctl"
RUN_USER = "www-data"


class Desk:
    """A store owned by RUN_USER and an smtpd delivering into it."""

    def __init__(self):
        self.pw = pwd.getpwnam(RUN_USER)
        self.dir = tempfile.mkdtemp(prefix="support-mta-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "support.conf")
        self.port = free_port()
        self.smtpd = None
        os.mkdir(os.path.join(self.dir, "db"), 0o700)
        secret = os.path.join(self.dir, "secret")
        with open(secret, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(secret, 0o600)
        with open(self.conf, "w") as f:
            f.write("[support]\ndata_dir = %s/db\ndurability = nosync\n"
                    "support_email = help@example.com\nsecret_file = %s\n"
                    "mail_create_users = yes\n" % (self.dir, secret))
        os.chmod(self.conf, 0o644)
        for p in (os.path.join(self.dir, "db"), secret):
            os.chown(p, self.pw.pw_uid, self.pw.pw_gid)
        # The mda command runs under /bin/sh: the sender is quoted, so a
        # null sender is an empty argument, not a missing one.
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('table desk { "@example.com" = "%s" }\n'
                    'listen on 127.0.0.1 port %d\n'
                    'action "desk" mda "%s --conf %s --recipient %%{rcpt} --sender \'%%{sender}\'" '
                    'virtual <desk>\n'
                    'match from any for domain "example.com" action "desk"\n'
                    % (RUN_USER, self.port, MAILIN, self.conf))
        self.log = os.path.join(self.dir, "smtpd.log")

    def as_user(self):
        os.setgroups([])
        os.setgid(self.pw.pw_gid)
        os.setuid(self.pw.pw_uid)

    def ctl(self, *args):
        p = subprocess.run([SUPPORTCTL, "--conf", self.conf] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=self.as_user, timeout=60)
        return p

    def add_user(self, name, email):
        p = subprocess.run([SUPPORTCTL, "--conf", self.conf, "user", "add", name, "--email", email,
                            "--password-stdin"], input=b"pw-%s-Secret-1\n" % name.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=self.as_user,
                           timeout=60)
        check(p.returncode == 0, "user add: %s" % p.stderr.decode(errors="replace"))

    def events(self):
        p = self.ctl("events")
        check(p.returncode == 0, "events: %s" % p.stderr.decode(errors="replace"))
        return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]

    def start(self):
        p = subprocess.run([SMTPD, "-n", "-f", os.path.join(self.dir, "smtpd.conf")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        check(p.returncode == 0, "smtpd -n: %s" % p.stdout.decode(errors="replace"))
        logf = open(self.log, "ab")
        self.smtpd = subprocess.Popen([SMTPD, "-d", "-f", os.path.join(self.dir, "smtpd.conf")],
                                      stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=2).quit()
                return
            except OSError:
                check(self.smtpd.poll() is None, "smtpd exited: %s" % self.log_text()[-800:])
                time.sleep(0.2)
        raise AssertionError("smtpd did not listen on port %d" % self.port)

    def stop(self):
        if self.smtpd is not None and self.smtpd.poll() is None:
            self.smtpd.send_signal(signal.SIGTERM)
            try:
                self.smtpd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.smtpd.kill()
                self.smtpd.wait()
        self.smtpd = None

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def send(self, frm, to, data):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        try:
            s.sendmail(frm, [to], data)
        finally:
            s.quit()

    def wait_log(self, pattern, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.log_text())
            if m:
                return m
            time.sleep(0.2)
        raise AssertionError("no %r in the smtpd log: %s" % (pattern, self.log_text()[-1500:]))

    def remove_ours(self):
        """Remove from the machine's one spool the envelopes of this test's
        addresses (the test's own mail: alice@example.org, bounces@example.com
        and the MTA's bounces to it). A run stopped while the MTA held its
        mail leaves it queued, and the next run's smtpd would deliver it
        into that run's desk. Mail of any other address is left alone."""
        p = subprocess.run([SMTPCTL, "show", "queue"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        gone = []
        for line in p.stdout.decode(errors="replace").splitlines():
            evpid = line.split("|")[0].strip()
            if re.fullmatch(r"[0-9a-f]{16}", evpid) and (
                    "alice@example.org" in line or "bounces@example.com" in line):
                subprocess.run([SMTPCTL, "remove", evpid], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
                gone.append(evpid)
        if gone:
            print("# removed from the spool: %s" % " ".join(gone))

    def cleanup(self):
        if self.smtpd is not None and self.smtpd.poll() is None:
            self.remove_ours()
        self.stop()
        if T.failed:
            print("# smtpd log kept: %s" % self.log)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def mail(frm, to, subject, text, msgid):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n" % (frm, to, subject, msgid, text)).encode()


def body():
    for path in (SMTPD, SMTPCTL, MAILIN, SUPPORTCTL):
        T.ok(os.access(path, os.X_OK), "%s is there (opensmtpd installed, the tree built)" % path)
    T.ok(os.geteuid() == 0, "run as root (smtpd needs it)")
    if T.failed:
        return
    d = Desk()
    try:
        run(d)
    finally:
        d.cleanup()
        with T.case("smtpd stopped: no process of it left"):
            out = subprocess.run(["pgrep", "-f", d.dir], stdout=subprocess.PIPE).stdout.decode()
            eq(out.strip(), "", "processes naming the test's directory")


def run(d):
    with T.case("smtpd starts with the test-only configuration"):
        d.add_user("alice", "alice@example.org")
        d.start()
        d.remove_ours()

    ticket = {}
    with T.case("a new mail through the MTA is a ticket, channel email"):
        d.send("alice@example.org", "help@example.com",
               mail("Alice <alice@example.org>", "help@example.com", "Through the MTA",
                    "Hello through a real MTA.", "mta-1@example.org"))
        d.wait_log(r"mda delivery .*to=<help@example\.com>.*result=Ok")
        ev = [e for e in d.events() if e["type"] == "ticket.created"]
        eq(len(ev), 1, "one ticket.created")
        eq(ev[0]["data"]["channel"], "email", "channel")
        eq(ev[0]["data"]["subject"], "Through the MTA", "subject")
        ticket["uuid"] = ev[0]["ticket"]

    with T.case("a reply to help+TOKEN@ through the MTA is a message on the ticket"):
        p = d.ctl("reply-token", "1", "alice")
        check(p.returncode == 0, "reply-token: %s" % p.stderr.decode(errors="replace"))
        addr = p.stdout.decode().strip()
        ticket["addr"] = addr
        d.send("alice@example.org", addr, mail("alice@example.org", addr, "Re: Through the MTA",
                                               "Thanks!\r\n\r\nOn Mon, Desk wrote:\r\n> hi",
                                               "mta-2@example.org"))
        d.wait_log(r"mda delivery .*to=<%s>.*result=Ok" % re.escape(addr))
        ev = [e for e in d.events() if e["type"] == "message.posted"]
        eq(len(ev), 1, "one message.posted")
        eq(ev[0]["ticket"], ticket["uuid"], "on the ticket")
        eq(ev[0]["data"].get("channel"), "email", "channel")

    with T.case("a forged reply address: a permanent failure, nothing posted, the bounce not taken"):
        addr = ticket["addr"]
        tok = addr.split("+")[1].split("@")[0]
        forged = addr.replace(tok, tok[:-1] + ("a" if tok[-1] != "a" else "b"))
        before = len(d.events())
        # The envelope sender is in the desk's domain: the MTA's bounce
        # (null sender, multipart/report) comes back through support-mailin.
        d.send("bounces@example.com", forged, mail("alice@example.org", forged, "Re: forged",
                                                   "Let me in.", "mta-3@example.org"))
        d.wait_log(r"mda delivery .*to=<%s>.*result=PermFail" % re.escape(forged))
        d.wait_log(r"mda delivery .*from=<> to=<bounces@example\.com>.*result=Ok")
        time.sleep(1)
        eq(len(d.events()), before, "no event")

    with T.case("the store unusable: 75, the MTA keeps the mail; then delivered, nothing lost"):
        db = os.path.join(d.dir, "db")
        os.chmod(db, 0o000)
        try:
            d.send("alice@example.org", "help@example.com",
                   mail("alice@example.org", "help@example.com", "Held by the MTA",
                        "Delivered later.", "mta-4@example.org"))
            d.wait_log(r"mda delivery .*result=TempFail")
        finally:
            os.chmod(db, 0o700)
        p = subprocess.run([SMTPCTL, "schedule", "all"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        check(p.returncode == 0, "smtpctl schedule all: %s" % p.stdout.decode(errors="replace"))
        deadline = time.time() + 30
        subjects = []
        while time.time() < deadline:
            subjects = [e["data"]["subject"] for e in d.events() if e["type"] == "ticket.created"]
            if "Held by the MTA" in subjects:
                break
            time.sleep(0.5)
        check("Held by the MTA" in subjects, "delivered after the retry: %r" % subjects)
        eq(subjects.count("Held by the MTA"), 1, "once")

    with T.case("no ticket from the MTA's bounce: only the two mails taken"):
        subjects = [e["data"]["subject"] for e in d.events() if e["type"] == "ticket.created"]
        eq(sorted(subjects), ["Held by the MTA", "Through the MTA"], "the tickets")

    with T.case("the store's check passes"):
        d.stop()
        p = d.ctl("db", "verify")
        check(p.returncode == 0, "db verify: %s %s" % (p.stdout.decode(errors="replace")[-400:],
                                                       p.stderr.decode(errors="replace")[-400:]))


if __name__ == "__main__":
    run_main(body)
