#!/usr/bin/env python3
"""HTTP tests of messages of files only and of the spool's upkeep
(docs/attachments.md), behind the real web server:

- POST .../messages/ with files and no text (no content field, or an empty
  one, as the reply form sends it) is a message of files only; with
  neither, 400 naming content (JSON and multipart alike);
- the reply form without JavaScript takes files only (303), and its
  textarea is required only when uploads are off;
- POST /api/support/tickets/{uuid}/attachments/: multipart, files only,
  201 the message; is_internal for staff (the customer never sees it),
  403 for a customer; no file, a JSON body, a content field: 400; a type
  not taken: 415; another customer's ticket: 404;
- the mail of a staff reply of files only names the files (support-worker
  and an SMTP sink);
- search still finds the ticket, and db verify is clean after all of it;
- support-worker's upkeep removes the spool files older than an hour in
  files/tmp/ (verify reports them before), and keeps the newer ones.

Run from the repo root of a built tree:  python3 tests/http/test_attach2.py
Output is TAP; exit status 1 if any test failed.
"""

import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, BUILD, TICKETS, check, eq, status, error, free_port,  # noqa: E402
                     standard_server, check_no_leftovers, run_main)
from test_attach import PNG, PDF, HTML, multipart  # noqa: E402
from test_mail import Sink  # noqa: E402
from test_session import Browser  # noqa: E402

WORKER = os.path.join(BUILD, "bin", "support-worker")
srv = None


def thread(client, ticket):
    r = client.get(TICKETS + ticket + "/messages/")
    status(r, 200, "thread")
    return r.json


def new_ticket(client, subject):
    r = client.post(TICKETS, {"subject": subject, "initial_message": "Files follow."})
    status(r, 201, "ticket created")
    return r.json["uuid"]


def post_multipart(client, path, fields=(), files=()):
    body, ct = multipart(list(fields), list(files))
    return client.request("POST", path, body=body, content_type=ct)


def verify():
    p = srv.ctl("db", "verify")
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def spool_dir():
    return os.path.join(srv.var, "data", "files", "tmp")


def main():
    base = os.environ.get("TMPDIR") or "/tmp"
    work = os.path.join(base, "support-attach2-%d" % os.getpid())
    os.makedirs(work)
    sink = Sink(work, free_port())
    try:
        body(sink)
    finally:
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)


def body(sink):
    global srv
    sink.start()
    srv = standard_server(conf={
        ("support", "support_email"): "help@example.com",
        ("support", "smtp_url"): "smtp://127.0.0.1:%d" % sink.port,
        ("support", "smtp_starttls"): "no",
        ("support", "base_url"): "http://desk.example/",
        ("support", "max_attachment_bytes"): "65536",
        ("support", "max_attachments_per_message"): "3",
    })
    alice, bob, carol = srv.client("alice"), srv.client("bob"), srv.client("carol")
    S = {}

    with T.case("messages: files and no content field: 201, a message of files only"):
        t = S["t"] = new_ticket(alice, "Files only please")
        r = post_multipart(alice, TICKETS + t + "/messages/", files=[("files", "a.png", PNG)])
        status(r, 201, "files only")
        eq(r.json["content"], "", "no text")
        eq([a["name"] for a in r.json["attachments"]], ["a.png"], "the file")
        r = post_multipart(alice, TICKETS + t + "/messages/", fields=[("content", "  ")],
                           files=[("files", "b.pdf", PDF)])
        status(r, 201, "an empty content field (the form's) and a file")
        eq(r.json["content"], "", "no text")

    with T.case("messages: neither text nor a file: 400 naming content"):
        t = S["t"]
        n = len(thread(alice, t))
        r = alice.post(TICKETS + t + "/messages/", {})
        error(r, 400, r.json["error"]["code"], ["content"])
        eq(r.json["error"]["fields"]["content"], "This field is required.", "said")
        r = alice.post(TICKETS + t + "/messages/", {"content": " "})
        error(r, 400, r.json["error"]["code"], ["content"])
        eq(r.json["error"]["fields"]["content"], "This field may not be blank.", "said")
        r = post_multipart(alice, TICKETS + t + "/messages/", fields=[("content", "")],
                           files=[("files", "", b"")])
        error(r, 400, r.json["error"]["code"], ["content"])
        eq(len(thread(alice, t)), n, "nothing posted")

    with T.case("the reply form without JavaScript takes files only (303); its text is not required"):
        b = Browser(srv.port)
        b.login("alice", srv.users["alice"].password)
        page = b.get("/support/tickets/%s/" % S["t"])
        status(page, 200, "chat page")
        check(b'name="content" required' not in page.body, "the textarea is not required with uploads on")
        body_, ct = multipart([("csrfmiddlewaretoken", b.csrf), ("content", "")],
                              [("files", "form.png", PNG)])
        r = b.request("POST", "/support/tickets/%s/messages/" % S["t"], body=body_, content_type=ct)
        status(r, 303, "posted")
        last = thread(alice, S["t"])[-1]
        eq((last["content"], [a["name"] for a in last["attachments"]]), ("", ["form.png"]), "files only")
        body_, ct = multipart([("csrfmiddlewaretoken", b.csrf), ("content", "")], [])
        r = b.request("POST", "/support/tickets/%s/messages/" % S["t"], body=body_, content_type=ct)
        status(r, 400, "neither: the page again")
        check(b'id="content-error"' in r.body, "the text field is marked")

    with T.case("POST .../attachments/: multipart files only, 201 the message, downloadable"):
        t = S["t"]
        r = post_multipart(alice, TICKETS + t + "/attachments/",
                           files=[("files", "shot.png", PNG), ("files", "doc.pdf", PDF)])
        status(r, 201, "posted")
        m = r.json
        eq(m["content"], "", "no text")
        eq(m["is_internal"], False, "public")
        eq([a["name"] for a in m["attachments"]], ["shot.png", "doc.pdf"], "its files")
        check((r.header("Location") or "").endswith("/api/support/tickets/%s/messages/" % t),
              "Location: %r" % r.header("Location"))
        eq(thread(alice, t)[-1]["uuid"], m["uuid"], "in the thread")
        got = alice.get(m["attachments"][1]["url"])
        status(got, 200, "download")
        eq(got.body, PDF, "the bytes")

    with T.case("POST .../attachments/ is_internal: staff's note of files; 403 for a customer"):
        t = S["t"]
        r = post_multipart(carol, TICKETS + t + "/attachments/", fields=[("is_internal", "true")],
                           files=[("files", "note.png", PNG)])
        status(r, 201, "staff's note")
        eq(r.json["is_internal"], True, "internal")
        note = r.json
        check(note["uuid"] not in [x["uuid"] for x in thread(alice, t)], "the customer does not see it")
        error(alice.get(note["attachments"][0]["url"]), 404, "not_found")
        r = post_multipart(alice, TICKETS + t + "/attachments/", fields=[("is_internal", "true")],
                           files=[("files", "x.png", PNG)])
        status(r, 403, "a customer's note")

    with T.case("POST .../attachments/: no file, JSON, a content field: 400; HTML 415; not yours 404"):
        t = S["t"]
        n = len(thread(carol, t))
        r = post_multipart(alice, TICKETS + t + "/attachments/", files=[("files", "", b"")])
        error(r, 400, r.json["error"]["code"], ["files"])
        r = alice.post(TICKETS + t + "/attachments/", {"is_internal": False})
        error(r, 400, r.json["error"]["code"], ["files"])
        r = post_multipart(alice, TICKETS + t + "/attachments/", fields=[("content", "hi")],
                           files=[("files", "a.png", PNG)])
        check(r.status == 400, "a content field: %d" % r.status)
        error(post_multipart(alice, TICKETS + t + "/attachments/", files=[("files", "p.html", HTML)]),
              415, "file_type_not_allowed")
        error(post_multipart(bob, TICKETS + t + "/attachments/", files=[("files", "a.png", PNG)]),
              404, "not_found")
        eq(len(thread(carol, t)), n, "nothing posted")

    with T.case("a staff reply of files only: the customer's mail names the files"):
        before = len(sink.mails())
        r = post_multipart(carol, TICKETS + S["t"] + "/attachments/",
                           files=[("files", "fix.pdf", PDF), ("files", "after.png", PNG)])
        status(r, 201, "staff's files")
        mails = sink.wait(before + 1)
        mine = [m for env, m in mails[before:] if "alice@example.com" in str(m["To"])]
        check(mine, "a mail to alice: %r" % [str(m["To"]) for e, m in mails[before:]])
        text = mine[-1].get_body(preferencelist=("plain",)).get_content()
        check("fix.pdf" in text and "after.png" in text, "the files named: %r" % text)
        html = mine[-1].get_body(preferencelist=("html",)).get_content()
        check("<li>fix.pdf</li>" in html, "in the HTML too: %r" % html[-600:])

    with T.case("search still finds the ticket of files-only messages"):
        r = carol.get(TICKETS + "?q=files+only")
        status(r, 200, "search")
        eq([x["uuid"] for x in r.json["results"]], [S["t"]], "found")

    with T.case("support-worker's upkeep removes spool files older than an hour, keeps newer ones"):
        srv.stop()
        d = spool_dir()
        os.makedirs(d, exist_ok=True)
        old, new = os.path.join(d, "up-stale"), os.path.join(d, "mail-fresh")
        for p in (old, new):
            with open(p, "wb") as f:
                f.write(b"left by a crash")
        owner = srv.store_owner()
        if owner:
            for p in (old, new):
                os.chown(p, owner[0], owner[1])
        t0 = time.time()
        os.utime(old, (t0 - 7200, t0 - 7200))
        rc, out = verify()
        check("files/tmp/up-stale" in out and "mail-fresh" not in out,
              "verify reports the old one only: %s" % out[-600:])
        r = subprocess.run([WORKER, "--once", "--conf", srv.conf], env=srv.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        check(r.returncode == 0, "support-worker --once: %d %s" % (r.returncode, r.stderr.decode()))
        check("removed 1 spool files" in r.stderr.decode(), "said: %r" % r.stderr.decode())
        check(not os.path.exists(old), "the old one removed")
        check(os.path.exists(new), "the new one kept")
        os.unlink(new)

    with T.case("db verify is clean after all of it"):
        rc, out = verify()
        eq(rc, 0, "verify: %s" % out[-800:])
        srv.start()

    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(main)
