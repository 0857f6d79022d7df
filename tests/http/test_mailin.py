#!/usr/bin/env python3
"""Mail in (docs/mailin.md): the corpus of tests/mail/ piped into
bin/support-mailin with the SUPPORT_CONF of a desk started by the harness,
the results read back through the API:

- a new mail to the desk's address is a ticket of its sender, channel
  email, its text trimmed of quote and signature and made literal for
  Markdown; multipart/alternative takes the plain part; an HTML-only mail
  becomes safe text (no tag, no script); ISO-8859-1 and Shift_JIS bodies
  and encoded subjects arrive as UTF-8;
- attachments (docs/mailin.md "Attachments") are kept on the message as
  uploads are: a PNG, a PDF with an RFC 2231 UTF-8 name, an inline GIF in
  quoted-printable, downloadable by the customer and staff; an .exe, an
  HTML page, a file over max_attachment_bytes, the files past
  max_attachments_per_message, and every file with enable_file_uploads =
  no are not kept, each named in a note appended to the text (the mail
  is taken, nobody is mailed); a mail or a reply of files only is taken;
- a reply to a signed reply address (supportctl reply-token) is a message
  on that ticket from the token's user (status moved, as from the web),
  from the envelope recipient (--recipient, $ORIGINAL_RECIPIENT) or the
  headers; from a staff address it is taken as the token's user; from
  anyone else, forged, expired, malformed or upper-cased, or to a closed
  ticket, it is refused (65) and nothing changes;
- a mail delivered again (its Message-ID, from the same sender, to the
  same ticket or as a new mail) is answered 0, logged "duplicate of
  <message>", and posts nothing: a new mail piped twice is one ticket, a
  reply replayed is one message (its token still takes a new reply with
  a new Message-ID); the same Message-ID from another sender is another
  mail; a mail without Message-ID is taken each time; a reply taken
  before and delivered again after its ticket was closed is still 0;
  after 30 days (the test clock) the Message-ID is forgotten, and the
  expired entries trimmed;
- another process holding a write lock on the ticket (tests/holdlock):
  75 when the lock waits time out (lock_timeout_ms) and 75 when
  request_timeout_s passes first, nothing posted either way, and the next
  delivery of the same mail is taken once;
- auto-replies, bulk and list mail, a DSN bounce, a null sender, the
  desk's own mail are dropped (0) and logged, and make nothing;
- an unknown sender is refused (65) unless mail_create_users = yes, which
  makes the account; more than mail_max_per_sender_hour from one sender
  are dropped;
- a mail over mail_max_bytes is refused (65) without waiting for the rest
  of its input; no headers at all: 65; a bad support.conf: 78; bad
  arguments: 64.

Run from the repo root of a built tree:  python3 tests/http/test_mailin.py
"""

import base64
import hashlib
import os
import quopri
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (BUILD, REPO, T, TICKETS, check, eq, status,  # noqa: E402
                     set_conf_key, standard_server, check_no_leftovers, run_main)

MAILIN = os.path.join(BUILD, "bin", "support-mailin")
HOLDLOCK = os.path.join(BUILD, "tests", "holdlock")
CORPUS = os.path.join(REPO, "tests", "mail")
SUPPORT = "help@example.com"
srv = None


def corpus(name, **subst):
    with open(os.path.join(CORPUS, name), "rb") as f:
        data = f.read()
    for k, v in subst.items():
        data = data.replace(("{{%s}}" % k).encode(), v.encode() if isinstance(v, str) else v)
    return data


def mailin(data, *args, conf=None, env=None, timeout=60):
    """Pipe data into support-mailin as the store's owner: (rc, stderr)."""
    owner = srv.store_owner()

    def become_owner():
        os.setgroups([])
        os.setgid(owner[1])
        os.setuid(owner[0])

    e = srv.env()
    for k in ("ORIGINAL_RECIPIENT", "RECIPIENT", "SENDER"):
        e.pop(k, None)
    e["SUPPORT_CONF"] = conf or srv.conf
    e.update(env or {})
    p = subprocess.run([MAILIN] + list(args), input=data, env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout,
                       preexec_fn=become_owner if owner else None)
    return p.returncode, p.stderr.decode(errors="replace")


def with_id(data, msgid):
    """The mail data with its Message-ID made msgid (None: without one)."""
    line = b"" if msgid is None else b"Message-ID: <" + msgid.encode() + b">"
    out, n = re.subn(rb"(?mi)^Message-ID: .*\n", line + (b"\n" if line else b""), data, count=1)
    check(n == 1, "the mail has a Message-ID to change")
    return out


def as_owner():
    owner = srv.store_owner()
    if not owner:
        return None

    def become_owner():
        os.setgroups([])
        os.setgid(owner[1])
        os.setuid(owner[0])
    return become_owner


def seen_records():
    """The records of mail_seen.db (db5.3_dump: one key and one data
    line each after HEADER=END)."""
    data = os.path.join(srv.var, "data")
    p = subprocess.run(["db5.3_dump", "-h", data, os.path.join(data, "mail_seen.db")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "db5.3_dump: %s" % p.stderr.decode(errors="replace"))
    lines = p.stdout.decode().split("HEADER=END\n", 1)[1].splitlines()
    return [l.strip() for l in lines if l.startswith(" ")][0::2]


def conf_copy(name, **keys):
    """A copy of the desk's support.conf with keys set (same store)."""
    path = os.path.join(srv.var, name)
    with open(srv.conf) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text)
    for k, v in keys.items():
        set_conf_key(path, "support", k, v)
    os.chmod(path, 0o644)
    return path


def tickets(who):
    r = srv.client(who).get(TICKETS + "?page_size=100")
    status(r, 200, "ticket list as %s" % who)
    return r.json["results"]


def ticket_by_subject(who, subject):
    found = [t for t in tickets(who) if t["subject"] == subject]
    check(len(found) == 1, "one ticket %r for %s, got %d: %r" % (
        subject, who, len(found), [t["subject"] for t in tickets(who)]))
    return found[0]


def messages(who, uuid):
    r = srv.client(who).get(TICKETS + uuid + "/messages/")
    status(r, 200, "messages")
    return r.json


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4


def b64(data):
    return base64.encodebytes(data)


def mixed_mail(subject, files, text="See the files.", sender="bob@example.com", to=SUPPORT):
    """A multipart/mixed mail: text (None: no text part), then files, each
    (filename, content type, bytes) sent as a base64 attachment."""
    out = ["Return-Path: <%s>" % sender, "From: %s" % sender, "To: %s" % to,
           "Subject: %s" % subject, "Message-ID: <%s@example.com>" % hashlib.sha1(
               subject.encode()).hexdigest(), "MIME-Version: 1.0",
           'Content-Type: multipart/mixed; boundary="MIX"', ""]
    if text is not None:
        out += ["--MIX", "Content-Type: text/plain; charset=utf-8", "", text, ""]
    for name, ctype, data in files:
        out += ["--MIX", "Content-Type: %s" % ctype,
                'Content-Disposition: attachment; filename="%s"' % name,
                "Content-Transfer-Encoding: base64", "", b64(data).decode()]
    out += ["--MIX--", ""]
    return "\n".join(out).encode()


def download(who, att):
    r = srv.client(who).get(att["url"])
    status(r, 200, "download %s as %s" % (att["name"], who))
    return r.body


def spool_files():
    d = os.path.join(srv.var, "data", "files", "tmp")
    return os.listdir(d) if os.path.isdir(d) else []


def count_all():
    return len(tickets("dave"))


def reply_address(number, user, days=None):
    args = ["reply-token", str(number), user] + (["--days", str(days)] if days is not None else [])
    p = srv.ctl(*args)
    check(p.returncode == 0, "supportctl reply-token: %s" % p.stderr.decode(errors="replace"))
    addr = p.stdout.decode().strip()
    check(re.match(r"^help\+[a-z2-7]{32}@example\.com$", addr), "address %r" % addr)
    return addr


def body():
    global srv
    # bob sends more new mails than max_tickets_per_user's default (10).
    srv = standard_server(conf={("support", "support_email"): SUPPORT,
                                ("support", "max_tickets_per_user"): "50"}, clock=True)
    state = {}

    with T.case("a new plain mail is a ticket of its sender, channel email, quote and "
                "signature trimmed, <error 42> and & kept literal"):
        rc, err = mailin(corpus("new-plain.eml"))
        eq(rc, 0, "exit status (%s)" % err)
        check("taken: new mail from alice@example.com" in err, "logged: %r" % err)
        t = ticket_by_subject("alice", "The printer on floor 3 is jammed")
        eq(t["channel"], "email", "channel")
        m = messages("alice", t["uuid"])
        eq(len(m), 1, "one message")
        c = m[0]["content"]
        check("Alice Example\nACME" not in c and "-- " not in c, "signature trimmed: %r" % c)
        check("<error 42>" in m[0]["content_html"].replace("&lt;", "<").replace("&gt;", ">")
              and "&amp;" in m[0]["content_html"], "shown literally: %r" % m[0]["content_html"])
        check("<error" not in m[0]["content_html"], "no raw tag in the HTML: %r" % m[0]["content_html"])
        state["t1"] = t

    with T.case("the same mail piped again (the MTA's retry): 0, one ticket, one message, "
                "logged as a duplicate of its message"):
        before = count_all()
        rc, err = mailin(corpus("new-plain.eml"))
        eq(rc, 0, "exit status (%s)" % err)
        first = messages("alice", state["t1"]["uuid"])[0]["uuid"]
        check("taken: duplicate of %s" % first in err, "logged: %r" % err)
        eq(count_all(), before, "no second ticket")
        eq(len(messages("alice", state["t1"]["uuid"])), 1, "one message")
        eq(len([t for t in tickets("alice") if t["subject"] == state["t1"]["subject"]]), 1,
           "one ticket of that subject")

    with T.case("the same Message-ID from another sender (bob) is another mail: his own ticket"):
        data = corpus("new-plain.eml").replace(b"Alice Example <alice@example.com>",
                                               b"Bob <bob@example.com>")
        rc, err = mailin(data)
        eq(rc, 0, "exit status (%s)" % err)
        check("duplicate" not in err, "not a duplicate: %r" % err)
        ticket_by_subject("bob", state["t1"]["subject"])

    with T.case("a mail without Message-ID, piped twice: taken twice (nothing to know it by)"):
        data = with_id(corpus("new-plain.eml"), None).replace(b"jammed", b"jammed (no id)")
        for i in range(2):
            rc, err = mailin(data)
            eq(rc, 0, "exit status %d (%s)" % (i, err))
            check("no Message-ID" in err, "logged: %r" % err)
        found = [t for t in tickets("alice") if t["subject"].endswith("(no id)")]
        eq(len(found), 2, "two tickets")

    with T.case("the event log has ticket.created with channel email by alice"):
        p = srv.ctl("events")
        ev = [l for l in p.stdout.decode().splitlines() if '"ticket.created"' in l]
        check(ev and '"channel":"email"' in ev[-1], "event: %r" % ev[-1:])

    with T.case("multipart/alternative: the plain part, an encoded-word subject"):
        rc, err = mailin(corpus("multipart-alternative.eml"))
        eq(rc, 0, "exit status (%s)" % err)
        t = ticket_by_subject("bob", "VPN kaputt \u2717")
        c = messages("bob", t["uuid"])[0]["content"]
        eq(c, "The VPN drops every 5 minutes \u2014 since Friday.", "content")

    with T.case("HTML only: safe text, no tag or script, entities decoded, quote trimmed"):
        rc, err = mailin(corpus("html-only.eml"))
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("bob", ticket_by_subject("bob", "HTML only")["uuid"])[0]
        c, h = m["content"], m["content_html"]
        check("alert" not in c and "<script" not in h and "onerror" not in h and "<img" not in h,
              "no script: %r / %r" % (c, h))
        check("Hi team," in c and "since the update \u2014 help!" in c, "text: %r" % c)
        check("&lt;b&gt;garbage&lt;/b&gt;" in h, "the literal <b> escaped: %r" % h)
        check("old answer" not in c, "quote trimmed: %r" % c)

    with T.case("ISO-8859-1 from an unknown sender: refused (65) with mail_create_users = no"):
        before = count_all()
        rc, err = mailin(corpus("unknown-sender.eml"))
        eq(rc, 65, "exit status (%s)" % err)
        check("no account has that address" in err, "logged: %r" % err)
        eq(count_all(), before, "no ticket")

    with T.case("mail_create_users = yes: the account is made, the Latin-1 text in UTF-8"):
        conf = conf_copy("create.conf", mail_create_users="yes")
        rc, err = mailin(corpus("unknown-sender.eml"), conf=conf)
        eq(rc, 0, "exit status (%s)" % err)
        p = srv.ctl("user", "list")
        line = [l for l in p.stdout.decode().splitlines() if "stranger@example.org" in l]
        check(line and " user " in line[0], "a customer account: %r" % line)
        found = [t for t in tickets("dave") if t["subject"] == "Caf\u00e9 machine"]
        eq(len(found), 1, "the ticket")
        c = messages("dave", found[0]["uuid"])[0]["content"]
        eq(c, "La machine \u00e0 caf\u00e9 est en panne. Gr\u00fc\u00dfe!", "content")

    with T.case("Shift_JIS body and an ISO-2022-JP subject arrive as UTF-8"):
        rc, err = mailin(corpus("shift-jis.eml"))
        eq(rc, 0, "exit status (%s)" % err)
        t = ticket_by_subject("bob", "\u30d7\u30ea\u30f3\u30bf\u30fc")
        eq(messages("bob", t["uuid"])[0]["content"], "\u30d7\u30ea\u30f3\u30bf\u30fc\u304c"
           "\u52d5\u304d\u307e\u305b\u3093\u3002", "content")

    with T.case("a 3 MB attachment of no known type: the text taken, the file not, a note says so"):
        att = base64.encodebytes(os.urandom(3 * 1024 * 1024))
        rc, err = mailin(corpus("large-attachment.eml", ATTACHMENT=att))
        eq(rc, 0, "exit status (%s)" % err)
        t = ticket_by_subject("bob", "Logs attached")
        m = messages("bob", t["uuid"])[0]
        eq(m["content"], "The logs of last night are attached.\n\n"
           "[attachment logs.tar.gz was not kept: type not allowed]", "content")
        eq(m["attachments"], [], "no attachment")
        check("1 files kept" not in err and "0 files kept, 1 not" in err, "logged: %r" % err)

    with T.case("attachments kept: a PNG, a PDF with an RFC 2231 UTF-8 name, an inline GIF "
                "(quoted-printable); the HTML alternative is not a file"):
        gif_qp = quopri.encodestring(GIF).rstrip(b"\n")
        rc, err = mailin(corpus("attachments.eml", SUBJECT="Files by mail", PNG=b64(PNG), PDF=b64(PDF),
                                GIF_QP=gif_qp))
        eq(rc, 0, "exit status (%s)" % err)
        check("3 files kept, 0 not" in err, "logged: %r" % err)
        t = ticket_by_subject("bob", "Files by mail")
        m = messages("bob", t["uuid"])[0]
        eq(m["content"], "The screenshot and the invoice are attached.", "content: the plain part, no note")
        atts = m["attachments"]
        eq([(a["name"], a["content_type"], a["size"]) for a in atts],
           [("file.gif", "image/gif", len(GIF)), ("screen shot.png", "image/png", len(PNG)),
            ("R\u00e9sum\u00e9 \u2014 M\u00e4rz.pdf", "application/pdf", len(PDF))],
           "names, types, sizes, in the mail's order")
        for a, data in zip(atts, (GIF, PNG, PDF)):
            eq(download("bob", a), data, "the bytes of %s, by the customer" % a["name"])
            eq(download("carol", a), data, "the bytes of %s, by staff" % a["name"])
        r = srv.client("alice").get(atts[0]["url"])
        status(r, 404, "another customer")
        eq(spool_files(), [], "no spool file left")
        state["files_ticket"] = t

    with T.case("a forwarded mail (message/rfc822) attached is not kept; the message says so by its subject"):
        inner = ("From: Carl <carl@example.org>\nTo: bob@example.com\nSubject: Invoice 4711\n"
                 "Message-ID: <inner-4711@example.org>\n\nThe invoice text.\n")
        data = mixed_mail("Forwarded invoice", [], text="See the mail below.").replace(
            b"--MIX--", ("--MIX\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n%s\n--MIX--"
                         % inner).encode())
        rc, err = mailin(data)
        eq(rc, 0, "exit status: the mail is taken (%s)" % err)
        check("0 files kept, 1 not" in err, "logged: %r" % err)
        m = messages("bob", ticket_by_subject("bob", "Forwarded invoice")["uuid"])[0]
        eq(m["content"], "See the mail below.\n\n[attachment Invoice 4711 was not kept: "
           "a forwarded mail is not kept; forward its text instead]", "content")
        eq(m["attachments"], [], "no file")
        eq(spool_files(), [], "no spool file left")

    with T.case("an .exe and an HTML attachment are refused with a note each; the PNG is kept"):
        rc, err = mailin(corpus("attachments-refused.eml", PNG=b64(PNG), EXE=b64(EXE)))
        eq(rc, 0, "exit status: the mail is taken (%s)" % err)
        check("1 files kept, 2 not" in err, "logged: %r" % err)
        m = messages("bob", ticket_by_subject("bob", "Refused files")["uuid"])[0]
        eq(m["content"], "A program, a page and a picture.\n\n"
           "[attachment report.exe was not kept: type not allowed]\n\n"
           "[attachment page.html was not kept: HTML, SVG and XML files are not taken]", "content")
        eq([a["name"] for a in m["attachments"]], ["ok.png"], "the PNG only")
        check("<script" not in m["content_html"], "no markup: %r" % m["content_html"])
        eq(spool_files(), [], "no spool file left")

    with T.case("a file over max_attachment_bytes is not kept (a note), the rest is"):
        conf = conf_copy("smallfiles.conf", max_attachment_bytes="100000")
        big = PNG + os.urandom(200000)
        rc, err = mailin(mixed_mail("Big and small", [("huge.png", "image/png", big),
                                                      ("small.png", "image/png", PNG)]), conf=conf)
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("bob", ticket_by_subject("bob", "Big and small")["uuid"])[0]
        eq(m["content"], "See the files.\n\n[attachment huge.png was not kept: larger than 100000 bytes]",
           "content")
        eq([a["name"] for a in m["attachments"]], ["small.png"], "the small one")
        eq(spool_files(), [], "no spool file left")

    with T.case("more than max_attachments_per_message: the first kept, the others named"):
        conf = conf_copy("fewfiles.conf", max_attachments_per_message="2")
        rc, err = mailin(mixed_mail("Three files", [("a.png", "image/png", PNG),
                                                    ("b.pdf", "application/pdf", PDF),
                                                    ("c [1].png", "image/png", PNG)]), conf=conf)
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("bob", ticket_by_subject("bob", "Three files")["uuid"])[0]
        eq([a["name"] for a in m["attachments"]], ["a.png", "b.pdf"], "the first two")
        eq(m["content"], "See the files.\n\n"
           "[attachment c \\[1\\].png was not kept: more than 2 files in one message]", "content")
        check("[attachment c [1].png was not kept" in m["content_html"], "shown as written: %r"
              % m["content_html"])

    with T.case("enable_file_uploads = no: no file kept, each named; a mail of files only still taken"):
        conf = conf_copy("nofiles.conf", enable_file_uploads="no")
        rc, err = mailin(mixed_mail("Uploads off", [("a.png", "image/png", PNG)], text=None), conf=conf)
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("bob", ticket_by_subject("bob", "Uploads off")["uuid"])[0]
        eq(m["attachments"], [], "no file")
        eq(m["content"], "[attachment a.png was not kept: file uploads are turned off]", "content")

    with T.case("a new mail of files only (no text part): a ticket whose message has the file"):
        rc, err = mailin(mixed_mail("Only a file", [("scan.pdf", "application/pdf", PDF)], text=None))
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("bob", ticket_by_subject("bob", "Only a file")["uuid"])[0]
        eq(m["content"], "", "no text")
        eq([a["name"] for a in m["attachments"]], ["scan.pdf"], "the file")
        eq(download("bob", m["attachments"][0]), PDF, "its bytes")

    with T.case("a mail over mail_max_bytes is refused (65) without waiting for the rest"):
        conf = conf_copy("small.conf", mail_max_bytes="4096")
        owner = srv.store_owner()
        e = srv.env()
        e["SUPPORT_CONF"] = conf
        p = subprocess.Popen([MAILIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=e,
                             preexec_fn=(lambda: (os.setgroups([]), os.setgid(owner[1]),
                                                  os.setuid(owner[0]))) if owner else None)
        p.stdin.write(corpus("new-plain.eml") + b"x" * 8192)
        p.stdin.flush()
        # The pipe stays open: the program must not wait for its end.
        try:
            rc = p.wait(timeout=20)
        finally:
            p.stdin.close()
            if p.poll() is None:
                p.kill()
                p.wait()
        err = p.stderr.read().decode(errors="replace")
        p.stdout.close()
        p.stderr.close()
        eq(rc, 65, "exit status (%s)" % err)
        check("larger than mail_max_bytes" in err, "logged: %r" % err)

    for name, why in (("auto-reply.eml", "Auto-Submitted"), ("bulk-precedence.eml", "Precedence"),
                      ("list-mail.eml", "List-Id"), ("dsn-bounce.eml", "multipart/report"),
                      ("from-desk.eml", "own address")):
        with T.case("%s is dropped (0), logged (%s), and makes nothing" % (name, why)):
            before = count_all()
            rc, err = mailin(corpus(name))
            eq(rc, 0, "exit status (%s)" % err)
            check("dropped" in err and why in err, "logged: %r" % err)
            eq(count_all(), before, "no ticket")

    with T.case("a null envelope sender (--sender '') is dropped as a bounce"):
        data = corpus("new-plain.eml").replace(b"jammed", b"jammed again")
        rc, err = mailin(data, "--sender", "")
        eq(rc, 0, "exit status")
        check("null return path" in err, "logged: %r" % err)
        check(not [t for t in tickets("alice") if t["subject"].endswith("again")], "no ticket")

    t1 = state.get("t1")
    with T.case("a reply to alice's reply address is a message on her ticket, from her"):
        check(t1 is not None, "the first ticket")
        addr = reply_address(t1["number"], "alice")
        state["addr"] = addr
        rc, err = mailin(corpus("reply.eml", REPLY=addr))
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("alice", t1["uuid"])
        eq(len(m), 2, "two messages")
        eq(m[-1]["content"], "It works again, thank you!", "quote trimmed")
        eq(m[-1]["sender"]["username"], "alice", "from alice")
        check(m[-1]["is_from_user"] is True, "from the customer")
        p = srv.ctl("events")
        ev = [l for l in p.stdout.decode().splitlines() if '"message.posted"' in l]
        check(ev and t1["uuid"] in ev[-1] and '"channel":"email"' in ev[-1],
              "message.posted event with channel email: %r" % ev[-1:])

    with T.case("replayed, the same reply is a duplicate: 0, nothing posted"):
        before = messages("alice", t1["uuid"])
        rc, err = mailin(corpus("reply.eml", REPLY=state["addr"]))
        eq(rc, 0, "exit status (%s)" % err)
        check("taken: duplicate of %s" % before[-1]["uuid"] in err, "logged: %r" % err)
        eq(len(messages("alice", t1["uuid"])), 2, "still two messages")

    with T.case("the token still takes a new reply (a new Message-ID) until its day"):
        data = with_id(corpus("reply.eml", REPLY=state["addr"]), "reply-1b@example.com")
        rc, err = mailin(data.replace(b"It works again", b"Works again, second note"))
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("alice", t1["uuid"])
        eq(len(m), 3, "three messages")
        check(m[-1]["content"].startswith("Works again, second note"), "the new one: %r" % m[-1]["content"])

    with T.case("the envelope recipient counts: $ORIGINAL_RECIPIENT, an Outlook quote trimmed"):
        data = corpus("outlook-reply.eml", REPLY=SUPPORT)
        rc, err = mailin(data, env={"ORIGINAL_RECIPIENT": state["addr"]})
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("alice", t1["uuid"])
        eq(m[-1]["content"], "Still jammed on Tuesdays.", "content")

    with T.case("--recipient wins over the headers"):
        data = corpus("outlook-reply.eml", REPLY=state["addr"]).replace(b"Tuesdays", b"Wednesdays")
        n = len(messages("alice", t1["uuid"]))
        rc, err = mailin(data, "--recipient", SUPPORT)
        eq(rc, 0, "exit status (%s)" % err)
        eq(len(messages("alice", t1["uuid"])), n, "not a reply")
        t = ticket_by_subject("alice", "RE: [#1] The printer")
        eq(t["channel"], "email", "a new ticket instead")

    with T.case("a staff sender (carol) on alice's reply address, alice's Message-ID: "
                "not a duplicate (another sender), taken as alice"):
        data = corpus("reply.eml", REPLY=state["addr"]).replace(
            b"From: Alice Example <alice@example.com>", b"From: carol@example.com")
        data = data.replace(b"It works", b"Carol: it works")
        rc, err = mailin(data)
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("alice", t1["uuid"])
        eq(m[-1]["sender"]["username"], "alice", "posted as the token's user")

    def held(conf, mail, want_in_err):
        """Pipe mail with conf while holdlock holds t1's record: (rc, err, secs)."""
        e = srv.env()
        e["SUPPORT_CONF"] = srv.conf
        h = subprocess.Popen([HOLDLOCK, "tickets.db", t1["uuid"]], env=e, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=as_owner())
        try:
            eq(h.stdout.readline(), b"held\n", "the lock is held")
            t0 = time.time()
            rc, err = mailin(mail, conf=conf)
            secs = time.time() - t0
        finally:
            h.stdin.close()
            hrc = h.wait(timeout=30)
            h.stdout.close()
            herr = h.stderr.read().decode(errors="replace")
            h.stderr.close()
        eq(hrc, 0, "holdlock let go (%s)" % herr)
        check(want_in_err in err, "logged %r: %r" % (want_in_err, err))
        return rc, err, secs

    for desc, keys, why, msgid in (
            ("its lock waits time out (lock_timeout_ms = 100)", {"lock_timeout_ms": "100"},
             "deferred", "busy-1@example.com"),
            ("request_timeout_s (2) passes first", {"request_timeout_s": "2"},
             "request_timeout_s", "busy-2@example.com")):
        with T.case("another process holds a write lock on the ticket, %s: 75, nothing posted; "
                    "the next delivery is taken, once" % desc):
            data = with_id(corpus("reply.eml", REPLY=state["addr"]), msgid).replace(
                b"It works again", b"Busy " + msgid.encode())
            n = len(messages("alice", t1["uuid"]))
            rc, err, secs = held(conf_copy("busy.conf", **keys), data, why)
            eq(rc, 75, "exit status (%s)" % err)
            check(secs < 20, "within its deadline: %.1f s" % secs)
            eq(len(messages("alice", t1["uuid"])), n, "nothing posted")
            rc, err = mailin(data)
            eq(rc, 0, "the MTA's retry (%s)" % err)
            check("duplicate" not in err, "not a duplicate: %r" % err)
            eq(len(messages("alice", t1["uuid"])), n + 1, "posted")
            rc, err = mailin(data)
            eq(rc, 0, "once more (%s)" % err)
            check("duplicate" in err, "a duplicate: %r" % err)
            eq(len(messages("alice", t1["uuid"])), n + 1, "posted once")
    with T.case("a reply of a file only: a message on alice's ticket with the file, from her"):
        n = len(messages("alice", t1["uuid"]))
        rc, err = mailin(corpus("reply-file-only.eml", REPLY=state["addr"], PDF=b64(PDF)))
        eq(rc, 0, "exit status (%s)" % err)
        m = messages("alice", t1["uuid"])
        eq(len(m), n + 1, "one more message")
        eq(m[-1]["sender"]["username"], "alice", "from alice")
        eq(m[-1]["content"], "", "no text")
        eq([a["name"] for a in m[-1]["attachments"]], ["jam.pdf"], "the file")
        eq(download("alice", m[-1]["attachments"][0]), PDF, "its bytes, by alice")

    def refused(desc, data, why, **kw):
        with T.case(desc):
            n = len(messages("alice", t1["uuid"]))
            rc, err = mailin(data, **kw)
            eq(rc, 65, "exit status (%s)" % err)
            check(why in err, "logged %r: %r" % (why, err))
            eq(len(messages("alice", t1["uuid"])), n, "nothing posted")

    addr = state["addr"]
    tok = addr.split("+")[1].split("@")[0]
    forged = addr.replace(tok, tok[:-1] + ("a" if tok[-1] != "a" else "b"))
    refused("bob on alice's reply address is refused (65)",
            corpus("reply.eml", REPLY=addr).replace(b"From: Alice Example <alice@example.com>",
                                                    b"From: bob@example.com"),
            "neither that user nor staff")
    refused("a forged token is refused (65)", corpus("reply.eml", REPLY=forged), "forged")
    refused("another ticket's number in the token is refused (65)",
            corpus("reply.eml", REPLY=addr.replace(tok, ("aaaaaaqa" if tok[:8] != "aaaaaaqa" else
                                                         "aaaaaaya") + tok[8:])), "forged")
    refused("an expired token (supportctl reply-token --days -1) is refused (65)",
            corpus("reply.eml", REPLY=reply_address(t1["number"], "alice", days=-1)), "expired")
    refused("an upper-case token is refused (65)",
            corpus("reply.eml", REPLY=addr.replace(tok, tok.upper())), "malformed")
    refused("a token with characters outside base32 is refused (65)",
            corpus("reply.eml", REPLY=addr.replace(tok, tok[:10] + "01890189" + tok[18:])), "malformed")

    with T.case("help+billing@ (not a token's length) is the desk's address: a new ticket"):
        data = with_id(corpus("new-plain.eml"), "billing@example.com").replace(b"jammed", b"jammed (billing)")
        rc, err = mailin(data, "--recipient", "help+billing@example.com")
        eq(rc, 0, "exit status (%s)" % err)
        ticket_by_subject("alice", "The printer on floor 3 is jammed (billing)")

    with T.case("a reply to a closed ticket is refused (65)"):
        r = srv.client("dave").patch(TICKETS + t1["uuid"] + "/", {"status": "closed"})
        status(r, 200, "close")
        n = len(messages("alice", t1["uuid"]))
        rc, err = mailin(with_id(corpus("reply.eml", REPLY=addr), "after-close@example.com"))
        eq(rc, 65, "exit status (%s)" % err)
        eq(len(messages("alice", t1["uuid"])), n, "nothing posted")

    with T.case("a reply taken before its ticket was closed, delivered again: 0 (it was taken), "
                "not a bounce"):
        n = len(messages("alice", t1["uuid"]))
        rc, err = mailin(corpus("reply.eml", REPLY=addr))
        eq(rc, 0, "exit status (%s)" % err)
        check("duplicate" in err, "logged: %r" % err)
        eq(len(messages("alice", t1["uuid"])), n, "nothing posted")

    with T.case("more than mail_max_per_sender_hour from one sender: dropped (0)"):
        conf = conf_copy("rate.conf", mail_create_users="yes", mail_max_per_sender_hour="2")
        rcs = []
        for i in range(3):
            data = with_id(corpus("new-plain.eml"), "rate-%d@example.net" % i).replace(
                b"alice@example.com", b"rate@example.net").replace(b"jammed", b"jammed %d" % i)
            rc, err = mailin(data, conf=conf)
            rcs.append(rc)
        eq(rcs, [0, 0, 0], "exit statuses")
        check("mail_max_per_sender_hour" in err, "logged: %r" % err)
        subjects = [t["subject"] for t in tickets("dave") if t["subject"].startswith("The printer on floor 3 is jammed ")
                    and t["subject"][-1].isdigit()]
        eq(sorted(subjects), ["The printer on floor 3 is jammed 0", "The printer on floor 3 is jammed 1"],
           "two tickets")

    with T.case("input that never ends: 75 after request_timeout_s (the MTA retries)"):
        conf = conf_copy("slow.conf", request_timeout_s="2")
        owner = srv.store_owner()
        e = srv.env()
        e["SUPPORT_CONF"] = conf
        t0 = time.time()
        p = subprocess.Popen([MAILIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=e,
                             preexec_fn=(lambda: (os.setgroups([]), os.setgid(owner[1]),
                                                  os.setuid(owner[0]))) if owner else None)
        p.stdin.write(b"From: alice@example.com\n")
        p.stdin.flush()
        try:
            rc = p.wait(timeout=20)
        finally:
            p.stdin.close()
            if p.poll() is None:
                p.kill()
                p.wait()
        err = p.stderr.read().decode(errors="replace")
        p.stdout.close()
        p.stderr.close()
        eq(rc, 75, "exit status (%s)" % err)
        check(time.time() - t0 < 10, "within the limit")
        check("request_timeout_s" in err, "said: %r" % err)

    with T.case("not a mail: 65; no From: 65; a bad support.conf: 78; a bad argument: 64"):
        rc, err = mailin(corpus("not-a-mail.eml"))
        eq(rc, 65, "not a mail (%s)" % err)
        rc, err = mailin(b"Subject: hello\n\nno sender\n")
        eq(rc, 65, "no From (%s)" % err)
        bad = conf_copy("bad.conf", no_such_key="1")
        rc, err = mailin(corpus("new-plain.eml"), conf=bad)
        eq(rc, 78, "bad conf (%s)" % err)
        rc, err = mailin(corpus("new-plain.eml"), "--bogus")
        eq(rc, 64, "bad argument (%s)" % err)

    with T.case("no secret_file: a reply is left to the MTA to retry (78), a new mail still taken"):
        conf = conf_copy("nosecret.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(re.sub(r"(?m)^secret_file\s*=.*$", "", text))
        rc, err = mailin(corpus("reply.eml", REPLY=addr), conf=conf)
        eq(rc, 78, "reply (%s)" % err)
        data = with_id(corpus("new-plain.eml"), "no-secret@example.com").replace(
            b"jammed", b"jammed (no secret)")
        rc, err = mailin(data, conf=conf)
        eq(rc, 0, "new mail (%s)" % err)

    with T.case("30 days on (the test clock): the Message-ID is forgotten, the mail taken again, "
                "the expired entries trimmed"):
        data = with_id(corpus("new-plain.eml"), "expiry@example.com").replace(
            b"alice@example.com", b"carol@example.com").replace(b"jammed", b"jammed (expiry)")
        rc, err = mailin(data)
        eq(rc, 0, "first (%s)" % err)
        srv.move_clock(29 * 86400)
        rc, err = mailin(data)
        check(rc == 0 and "duplicate" in err, "29 days on: a duplicate (%d, %s)" % (rc, err))
        old = seen_records()
        srv.move_clock(2 * 86400)
        rc, err = mailin(data)
        eq(rc, 0, "31 days on (%s)" % err)
        check("duplicate" not in err, "taken again: %r" % err)
        eq(len([t for t in tickets("carol") if t["subject"].endswith("(expiry)")]), 2, "two tickets")
        now = seen_records()
        check(len(now) < len(old), "trimmed: %d records, %d before" % (len(now), len(old)))
        # Its own expired record is written over when the trim did not reach it.
        check(len(old) > 16 and len(now) == len(old) - 16 or len(old) <= 16 and len(now) == 1,
              "16 at most removed a mail, the new one kept: %d, %d before" % (len(now), len(old)))
    with T.case("no spool file is left in files/tmp/"):
        eq(spool_files(), [], "files/tmp/")

    with T.case("the store's check passes after all of it"):
        srv.stop()
        p = srv.ctl("db", "verify")
        check(p.returncode == 0, "db verify: %s %s" % (p.stdout.decode(errors="replace")[-500:],
                                                       p.stderr.decode(errors="replace")[-500:]))
        srv.start()

    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(body)
