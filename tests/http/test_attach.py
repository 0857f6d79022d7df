#!/usr/bin/env python3
"""HTTP tests of files on messages (docs/attachments.md) behind the real web
server: nginx, or Apache in the mode SUPPORT_SERVER names.

Uploads through the API (multipart) and the reply form without JavaScript;
every limit (size, count, type by content, empty file, uploads off); names
with ../, quotes, newlines and non-ASCII; the download's headers, Range,
ETag and who may have it (another customer: 404); kill -9 during uploads,
then `supportctl db verify`; a hot backup with its files, restored and
verified; a purge removing the files nothing uses.  The web server sending
the bytes (attachment_sendfile): nginx's X-Accel-Redirect; Apache's
X-Sendfile (mod_xsendfile) in each mode, with the program's headers, Range
and If-Range, and a path outside XSendFilePath refused; run.sh refusing
the other web server's setting.

Run from the repo root of a built tree:  python3 tests/http/test_attach.py
Output is TAP; exit status 1 if any test failed.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid as uuidlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import (T, TICKETS, Fail, check, eq, status, error, set_conf_key,  # noqa: E402
                     standard_server, check_no_leftovers, run_main, short, CGI_MESSAGES)
from test_session import Browser  # noqa: E402

ATT = "/api/support/attachments/"
MAX_BYTES = 65536
MAX_FILES = 3

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
SVG = (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'>"
       b"<script>alert(1)</script></svg>")

srv = None


def multipart(fields=(), files=(), boundary=None):
    """(body, content type) of a multipart/form-data body: fields are
    (name, value) pairs, files (field, filename, bytes) triples.  The file
    name is written as browsers do (WHATWG): '"' as %22, CR LF as %0D %0A."""
    b = boundary or "----attachtest" + uuidlib.uuid4().hex
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (b, name)).encode())
        out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    for field, fname, data in files:
        esc = fname.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n" % (b, field, esc)).encode("utf-8"))
        out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return b"".join(out), "multipart/form-data; boundary=" + b


def post_files(client, ticket, content="Here it is.", files=(), fields=()):
    body, ct = multipart([("content", content)] + list(fields), files)
    return client.request("POST", TICKETS + ticket + "/messages/", body=body, content_type=ct)


def new_ticket(client, subject="Files"):
    r = client.post(TICKETS, {"subject": subject, "initial_message": "See the attachment."})
    status(r, 201, "ticket created")
    return r.json["uuid"]


def thread(client, ticket):
    r = client.get(TICKETS + ticket + "/messages/")
    status(r, 200, "thread")
    return r.json


def file_count():
    n = 0
    for root, dirs, files in os.walk(os.path.join(srv.var, "data", "files")):
        if os.path.basename(root) == "tmp":
            continue
        n += len(files)
    return n


def spool_count():
    d = os.path.join(srv.var, "data", "files", "tmp")
    return len(os.listdir(d)) if os.path.isdir(d) else 0


def messages_workers():
    """The processes of the messages program that serve requests: all of
    them but a supervisor (the --listen process under nginx and
    mod_proxy_fcgi, which forks the workers and starts new ones when they
    die); under mod_fcgid and plain CGI, Apache starts each one."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        # Ours only: this server's var dir, or this tree's program.
        if "cgi-bin/messages" in cmd and (srv.var in cmd or CGI_MESSAGES in cmd):
            procs[int(d)] = ppid
    if srv.mode not in ("nginx", "apache-proxy"):
        return list(procs)
    return [p for p, pp in procs.items() if pp in procs]


def verify():
    p = srv.ctl("db", "verify")
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def apache_log_since(at):
    """What Apache's error log got since byte at."""
    with open(os.path.join(srv.var, "log", "apache-error.log"), "rb") as f:
        f.seek(at)
        return f.read().decode(errors="replace")


def xsendfile_cases(srv, alice, bob, S):
    """attachment_sendfile = x-sendfile behind Apache (mod_xsendfile):
    Apache sends the bytes, with the program's headers, from files/ only."""
    files = os.path.join(srv.var, "data", "files")
    png_path = os.path.join(files, *(lambda h: (h[:2], h[2:4], h))(hashlib.sha256(PNG).hexdigest()))
    etag = '"%s"' % hashlib.sha256(PNG).hexdigest()
    mode_conf = os.path.join(srv.var, "apache-mode.conf")

    with T.case("attachment_sendfile = x-sendfile: Apache sends the bytes, the program's headers kept"):
        srv.stop()
        set_conf_key(srv.conf, "support", "attachment_sendfile", "x-sendfile")
        srv.start()
        conf = ""
        for name in ("apache.conf", "apache-mode.conf"):
            with open(os.path.join(srv.var, name)) as f:
                conf += f.read()
        check(re.search(r"^\s*LoadModule xsendfile_module ", conf, re.M), "mod_xsendfile is loaded")
        eq(re.findall(r"^\s*XSendFilePath\s+(.*)$", conf, re.M), ['"%s"' % files],
           "Apache may send files/ and nothing else")
        r = alice.get(S["png"]["url"])
        status(r, 200, "download through Apache")
        # The program writes no byte of it: without mod_xsendfile the body
        # would be empty and X-Sendfile would reach the client.
        eq(r.body, PNG, "the bytes")
        eq(r.header("Content-Length"), str(len(PNG)), "Content-Length")
        eq(r.header("Content-Type"), "image/png", "the checked type kept")
        eq(r.header("Content-Disposition"), 'attachment; filename="pixel.png"', "the name kept")
        eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff")
        check("sandbox" in (r.header("Content-Security-Policy") or ""), "CSP sandbox")
        eq(r.header("ETag"), etag, "the program's ETag (the SHA-256), not Apache's own")
        eq(r.header_all("Cache-Control"), ["private, no-cache"], "Cache-Control kept, once")
        check(r.header("X-Sendfile") is None, "the file's path is not shown: %r" % r.header("X-Sendfile"))
        r = alice.request("HEAD", S["png"]["url"])
        status(r, 200, "HEAD")
        eq(r.body, b"", "HEAD: no body")
        check(r.header("X-Sendfile") is None, "HEAD: the path is not shown")
        r = alice.get(S["pdf"]["url"])
        eq((r.status, r.body, r.header("Content-Type")), (200, PDF, "application/pdf"), "another file")

    with T.case("x-sendfile: Range 206 and If-Range answered by Apache, If-None-Match 304"):
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=0-7"})
        status(r, 206, "Range 0-7")
        eq(r.body, PNG[:8], "the first 8 bytes")
        eq(r.header("Content-Range"), "bytes 0-7/%d" % len(PNG), "Content-Range")
        check(r.header("X-Sendfile") is None, "206: the path is not shown")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=-4"})
        status(r, 206, "suffix range")
        eq(r.body, PNG[-4:], "the last 4 bytes")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=10-"})
        status(r, 206, "open range")
        eq(r.body, PNG[10:], "from byte 10 on")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=2-5", "If-Range": etag})
        status(r, 206, "If-Range with the file's ETag")
        eq(r.body, PNG[2:6], "bytes 2-5")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=0-3", "If-Range": '"other"'})
        status(r, 200, "If-Range not matching: the whole file")
        eq(r.body, PNG, "whole")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=%d-" % len(PNG)})
        status(r, 416, "a range past the end")
        r = alice.get(S["png"]["url"], headers={"If-None-Match": etag})
        status(r, 304, "If-None-Match")
        eq(r.body, b"", "no body")
        error(bob.get(S["png"]["url"]), 404, "not_found")

    with T.case("x-sendfile: Apache refuses a file outside XSendFilePath (the program names one in files/)"):
        # Misconfigured on purpose: XSendFilePath names data/file, a prefix
        # of data/files as a string but not its parent; Apache re-reads it
        # (graceful restart).
        with open(mode_conf) as f:
            text = f.read()
        wrong = os.path.join(srv.var, "data", "file")
        check(text.count('XSendFilePath "%s"' % files) == 1, "the snippet names files/")
        with open(mode_conf, "w") as f:
            f.write(text.replace('XSendFilePath "%s"' % files, 'XSendFilePath "%s"' % wrong))
        at = os.path.getsize(os.path.join(srv.var, "log", "apache-error.log"))
        with open(os.path.join(srv.var, "run", "apache-self.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGUSR1)
        deadline = time.monotonic() + 20
        while True:
            try:
                r = alice.get(S["png"]["url"])
            except OSError:
                r = None
            if (r is not None and r.status != 200) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        check(r is not None, "Apache answers after its restart")
        status(r, 404, "refused by Apache")
        check(PNG not in r.body, "none of the file's bytes")
        check(r.header("X-Sendfile") is None, "the path is not shown")
        log = apache_log_since(at)
        m = re.search(r"xsendfile: unable to find file: (\S+)", log)
        check(m, "Apache says why: %s" % short(log, 800))
        if m:
            eq(m.group(1), png_path, "the path the program sent is the file in files/")
        # Back to the right configuration (run.sh writes it again).
        srv.stop()
        srv.start()
        r = alice.get(S["png"]["url"])
        eq((r.status, r.body), (200, PNG), "downloads again")
        srv.stop()
        set_conf_key(srv.conf, "support", "attachment_sendfile", "no")
        srv.start()


def cases():
    global srv
    srv = standard_server(conf={("support", "max_attachment_bytes"): str(MAX_BYTES),
                                ("support", "max_attachments_per_message"): str(MAX_FILES)})
    alice, bob, carol = srv.client("alice"), srv.client("bob"), srv.client("carol")
    anon = srv.client()
    S = {}

    with T.case("API: a message with a PNG and a PDF: 201, its attachments listed"):
        t = S["t"] = new_ticket(alice)
        r = post_files(alice, t, files=[("files", "pixel.png", PNG), ("files", "doc.pdf", PDF)])
        status(r, 201, "post with files")
        m = r.json
        atts = m["attachments"]
        eq(len(atts), 2, "two attachments")
        eq([a["name"] for a in atts], ["pixel.png", "doc.pdf"], "names")
        eq([a["size"] for a in atts], [len(PNG), len(PDF)], "sizes")
        eq([a["content_type"] for a in atts], ["image/png", "application/pdf"], "types from the bytes")
        for a in atts:
            check(re.fullmatch(r"[0-9a-f-]{36}", a["id"]), "id is a uuid: %r" % a["id"])
            eq(a["url"], ATT + a["id"], "url")
        S["png"], S["pdf"] = atts
        got = [x for x in thread(alice, t) if x["uuid"] == m["uuid"]]
        eq(got[0]["attachments"], atts, "the thread lists them too")
        eq(file_count(), 2, "two files on disk")
        eq(spool_count(), 0, "no spool file left")

    with T.case("API: a ticket opened with files on its first message; a refused file opens nothing"):
        body, ct = multipart([("subject", "With a scan"), ("initial_message", "Scan attached.")],
                             [("files", "scan.pdf", PDF)])
        r = alice.request("POST", TICKETS, body=body, content_type=ct)
        status(r, 201, "ticket with a file")
        first = r.json["messages"][0]
        eq([a["name"] for a in first["attachments"]], ["scan.pdf"], "the first message's files")
        status(alice.get(first["attachments"][0]["url"]), 200, "it downloads")
        n = alice.get(TICKETS).json["count"]
        body, ct = multipart([("subject", "Bad"), ("initial_message", "x")], [("files", "a.svg", SVG)])
        error(alice.request("POST", TICKETS, body=body, content_type=ct), 415, "file_type_not_allowed")
        eq(alice.get(TICKETS).json["count"], n, "no ticket opened")

    with T.case("API: a JSON post still works, attachments []"):
        r = alice.post(TICKETS + S["t"] + "/messages/", {"content": "No file."})
        status(r, 201, "JSON post")
        eq(r.json["attachments"], [], "no attachments")

    with T.case("download by the owner: the bytes, as an attachment, fixed type, nosniff, sandbox, ETag"):
        r = alice.get(S["png"]["url"])
        status(r, 200, "download")
        eq(r.body, PNG, "the bytes")
        eq(r.header("Content-Type"), "image/png", "Content-Type from the checked type")
        eq(r.header("Content-Disposition"), 'attachment; filename="pixel.png"', "Content-Disposition")
        eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff")
        check("sandbox" in (r.header("Content-Security-Policy") or ""), "CSP sandbox: %r"
              % r.header("Content-Security-Policy"))
        eq(r.header("ETag"), '"%s"' % hashlib.sha256(PNG).hexdigest(), "ETag is the SHA-256")
        eq(r.header("Accept-Ranges"), "bytes", "Accept-Ranges")
        eq(r.header("Content-Length"), str(len(PNG)), "Content-Length")
        eq(r.header_all("Cache-Control"), ["private, no-cache"], "Cache-Control, once")
        S["etag"] = r.header("ETag")

    with T.case("download: If-None-Match 304; Range 206; a range past the end 416"):
        r = alice.get(S["png"]["url"], headers={"If-None-Match": S["etag"]})
        status(r, 304, "If-None-Match")
        eq(r.body, b"", "no body")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=0-7"})
        status(r, 206, "Range 0-7")
        eq(r.body, PNG[:8], "the first 8 bytes")
        eq(r.header("Content-Range"), "bytes 0-7/%d" % len(PNG), "Content-Range")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=-4"})
        status(r, 206, "suffix range")
        eq(r.body, PNG[-4:], "the last 4 bytes")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=10-"})
        status(r, 206, "open range")
        eq(r.body, PNG[10:], "from byte 10 on")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=%d-" % len(PNG)})
        status(r, 416, "past the end")
        eq(r.header("Content-Range"), "bytes */%d" % len(PNG), "416 says the size")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=0-1,4-5"})
        # The program sends the whole file; Apache's byterange filter may
        # answer the ranges from it itself (multipart/byteranges).
        if r.status == 206:
            ct = r.header("Content-Type") or ""
            check(ct.startswith("multipart/byteranges"), "several ranges as 206: %r" % ct)
            check(PNG[0:2] in r.body and PNG[4:6] in r.body, "both ranges in it")
        else:
            status(r, 200, "several ranges: the whole file")
            eq(r.body, PNG, "whole")
        r = alice.get(S["png"]["url"], headers={"Range": "bytes=0-3", "If-Range": '"other"'})
        status(r, 200, "If-Range not matching: the whole file")

    with T.case("download: another customer 404, anonymous 401, staff 200, unknown uuid 404"):
        r = bob.get(S["png"]["url"])
        error(r, 404, "not_found")
        r = anon.get(S["png"]["url"])
        status(r, 401, "anonymous")
        r = carol.get(S["pdf"]["url"])
        status(r, 200, "staff")
        eq(r.body, PDF, "staff get the bytes")
        eq(r.header("Content-Type"), "application/pdf", "pdf type")
        r = alice.get(ATT + str(uuidlib.uuid4()))
        error(r, 404, "not_found")
        r = alice.get(ATT + "not-a-uuid")
        check(r.status in (400, 404), "a malformed uuid: %d" % r.status)

    with T.case("an internal note's file: staff only"):
        r = post_files(carol, S["t"], content="Internal scan.", files=[("f", "scan.pdf", PDF)],
                       fields=[("is_internal", "true")])
        status(r, 201, "note with a file")
        url = r.json["attachments"][0]["url"]
        error(alice.get(url), 404, "not_found")
        status(carol.get(url), 200, "staff")
        eq(file_count(), 2, "the same bytes are one file (content-addressed)")

    n_before = len(thread(alice, S["t"]))

    def refused(r, code, st, name_part, what):
        error(r, st, code)
        env = r.json["error"]
        check(name_part in env["message"], "%s: the message names the file: %r" % (what, env["message"]))
        eq(len(thread(alice, S["t"])), n_before, "%s: nothing posted" % what)
        eq(spool_count(), 0, "%s: no spool file left" % what)

    with T.case("a file named .png holding HTML: 415 naming it, nothing stored"):
        refused(post_files(alice, S["t"], files=[("f", "cute-cat.png", HTML)]), "file_type_not_allowed",
                415, "cute-cat.png", "HTML as .png")

    with T.case("an SVG with script: 415, nothing stored"):
        refused(post_files(alice, S["t"], files=[("f", "logo.svg", SVG)]), "file_type_not_allowed", 415,
                "logo.svg", "SVG")

    with T.case("an unknown binary (an ELF program): 415"):
        refused(post_files(alice, S["t"], files=[("f", "tool", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64)]),
                "file_type_not_allowed", 415, "tool", "binary")

    with T.case("a 0-byte file: 400 naming it, nothing stored"):
        refused(post_files(alice, S["t"], files=[("f", "empty.txt", b"")]), "file_empty", 400, "empty.txt",
                "empty")

    with T.case("a file over max_attachment_bytes: 413 naming it, nothing stored"):
        big = b"a" * (MAX_BYTES + 1)
        refused(post_files(alice, S["t"], files=[("f", "ok.txt", b"fine"), ("f", "big.txt", big)]),
                "payload_too_large", 413, "big.txt", "too large")
        eq(file_count(), 2, "no new file on disk")

    with T.case("a file of exactly max_attachment_bytes is taken"):
        r = post_files(alice, S["t"], files=[("f", "exact.txt", b"b" * MAX_BYTES)])
        status(r, 201, "exactly the limit")
        n_before = len(thread(alice, S["t"]))

    with T.case("more than max_attachments_per_message files: 400 naming the first over"):
        files = [("f", "f%d.txt" % i, ("file %d\n" % i).encode()) for i in range(MAX_FILES + 1)]
        refused(post_files(alice, S["t"], files=files), "invalid", 400, "f%d.txt" % MAX_FILES, "too many")

    with T.case("a body over the upload cap itself: 413 before anything is read"):
        cap = 262144 + MAX_FILES * (MAX_BYTES + 4096)
        body, ct = multipart([("content", "x")], [("f", "huge.txt", b"c" * (cap + 10))])
        r = alice.request("POST", TICKETS + S["t"] + "/messages/", body=body, content_type=ct)
        status(r, 413, "over the cap")

    with T.case("names: ../, quotes, newlines, non-ASCII, an extension not the type's"):
        r = post_files(alice, S["t"], files=[
            ("f", "../../etc/passwd", b"root:x:0:0\n"),
            ("f", 'a "quoted"\r\nname.txt', b"quoted\n"),
            ("f", "r\u00e9sum\u00e9 \u65e5\u672c.pdf", PDF)])
        status(r, 201, "posted")
        names = [a["name"] for a in r.json["attachments"]]
        eq(names, ["passwd.txt", "a _quoted_name.txt", "r\u00e9sum\u00e9 \u65e5\u672c.pdf"], "safe names")
        urls = [a["url"] for a in r.json["attachments"]]
        d = alice.get(urls[1]).header("Content-Disposition")
        eq(d, 'attachment; filename="a _quoted_name.txt"', "quotes never reach the header")
        d = alice.get(urls[2]).header("Content-Disposition")
        eq(d, "attachment; filename=\"r_sum_ __.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%97%A5%E6"
              "%9C%AC.pdf", "RFC 6266: an ASCII fallback and filename*")
        r = post_files(alice, S["t"], files=[("f", "page.html", b"just text, no markup\n")])
        status(r, 201, "text named .html")
        a = r.json["attachments"][0]
        eq(a["name"], "page.html.txt", "text never keeps an HTML name")
        eq(a["content_type"], "text/plain; charset=utf-8", "served as text")

    with T.case("the reply form without JavaScript: multipart with the CSRF token"):
        b = Browser(srv.port)
        b.login("alice", srv.users["alice"].password)
        page = b.get("/support/tickets/%s/" % S["t"])
        status(page, 200, "chat page")
        tok = b.csrf
        body, ct = multipart([("csrfmiddlewaretoken", tok), ("content", "From the form.")],
                             [("files", "form.png", PNG), ("files", "", b"")])
        r = b.request("POST", "/support/tickets/%s/messages/" % S["t"], body=body, content_type=ct)
        status(r, 303, "the form's post redirects")
        last = thread(alice, S["t"])[-1]
        eq(last["content"], "From the form.", "posted")
        eq([a["name"] for a in last["attachments"]], ["form.png"], "its file, the empty field dropped")
        body, ct = multipart([("content", "No token.")], [("files", "x.png", PNG)])
        r = b.request("POST", "/support/tickets/%s/messages/" % S["t"], body=body, content_type=ct)
        status(r, 403, "a multipart form without the token: CSRF")
        body, ct = multipart([("csrfmiddlewaretoken", tok), ("content", "Bad file.")],
                             [("files", "x.png", HTML)])
        r = b.request("POST", "/support/tickets/%s/messages/" % S["t"], body=body, content_type=ct)
        status(r, 415, "a refused file: the page again")
        check(b"x.png" in r.body, "the page names the file: %s" % short(r.text(), 3000))
        check(b"Bad file." in r.body, "the page keeps the draft")
        check(b'id="files-error"' in r.body, "the file field is marked")

    with T.case("a message deleted by staff takes its files: 404, the file removed when no other uses it"):
        unique = b"only in this message\n" + uuidlib.uuid4().hex.encode()
        r = post_files(alice, S["t"], content="To be deleted.", files=[("f", "gone.txt", unique),
                                                                       ("f", "shared.png", PNG)])
        status(r, 201, "posted")
        m = r.json
        before = file_count()
        r = carol.delete(TICKETS + S["t"] + "/messages/" + m["uuid"] + "/")
        check(r.status in (200, 204), "deleted: %d" % r.status)
        for a in m["attachments"]:
            error(alice.get(a["url"]), 404, "not_found")
            error(carol.get(a["url"]), 404, "not_found")
        eq(file_count(), before - 1, "its own file removed, the shared one kept")
        status(alice.get(S["png"]["url"]), 200, "the other message's copy of the PNG still downloads")

    with T.case("the new-ticket form without JavaScript: multipart, the file on the first message"):
        b = Browser(srv.port)
        b.login("alice", srv.users["alice"].password)
        page = b.get("/support/tickets/new/")
        status(page, 200, "new-ticket page")
        check(b'enctype="multipart/form-data"' in page.body and b'id="files"' in page.body,
              "the form takes files")
        body, ct = multipart([("csrfmiddlewaretoken", b.csrf), ("subject", "From the form"),
                              ("initial_message", "See the picture.")], [("files", "shot.png", PNG)])
        r = b.request("POST", "/support/tickets/new/", body=body, content_type=ct)
        status(r, 303, "opened, redirected to its page")
        t = r.header("Location").rstrip("/").rsplit("/", 1)[-1]
        page = b.get("/support/tickets/%s/" % t)
        check(b"shot.png" in page.body and b'class="thumb"' in page.body,
              "its page lists the file with a thumbnail")

    with T.case("kill -9 the messages workers during uploads, then verify: nothing points at a missing file"):
        t2 = new_ticket(alice, "Crash")
        stop = threading.Event()
        results = []

        def uploader(k):
            i = 0
            while not stop.is_set():
                data = ("crash %d %d %s\n" % (k, i, "z" * 20000)).encode()
                try:
                    r = post_files(alice, t2, files=[("f", "c%d-%d.txt" % (k, i), data)])
                    results.append(r.status)
                except OSError:
                    results.append(None)
                i += 1
        threads = [threading.Thread(target=uploader, args=(k,)) for k in range(3)]
        for th in threads:
            th.start()
        kills = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            # Under plain CGI a process lives for one request: look
            # often, and after a kill let some uploads through.
            time.sleep(0.7 if srv.mode in ("nginx", "apache-proxy") else 0.02)
            killed = False
            for p in messages_workers():
                try:
                    os.kill(p, signal.SIGKILL)
                    kills += 1
                    killed = True
                except ProcessLookupError:
                    pass
            if killed and srv.mode not in ("nginx", "apache-proxy"):
                time.sleep(0.5)
        stop.set()
        for th in threads:
            th.join(60)
        check(kills > 0, "no worker was killed")
        check(results.count(201) > 0, "some uploads went through: %s" % short(results))
        time.sleep(1)
        for m in thread(alice, t2):
            for a in m["attachments"]:
                r = alice.get(a["url"])
                status(r, 200, "every listed file downloads")
        srv.stop()
        rc, out = verify()
        bad = [l for l in out.splitlines() if "files/" in l and "is missing" in l or "wrong size" in l
               or "does not match" in l or "not counted" in l or "counted" in l and "used by" in l]
        check(not bad, "verify found records without their files: %s" % short(out, 2000))
        others = [l for l in out.splitlines() if l.strip() and "problem" not in l
                  and "no attachment uses" not in l and "spool file" not in l]
        check(not others, "verify found other problems: %s" % short(out, 2000))
        # What a crash left (files no record uses) is safe to remove, as
        # verify says: removed, so that the store verifies clean again.
        for line in out.splitlines():
            m = re.search(r"(files/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}): a file no attachment uses", line)
            if m:
                os.unlink(os.path.join(srv.var, "data", m.group(1)))
        rc, out = verify()
        eq(rc, 0, "clean once the leftovers are removed: %s" % short(out, 1500))
        srv.start()

    with T.case("hot backup with files; restored, it verifies and serves them"):
        dest = os.path.join(srv.var, "backup")
        os.mkdir(dest)
        if srv.store_owner():
            os.chown(dest, *srv.store_owner())
        p = srv.ctl("db", "backup", dest)
        check(p.returncode == 0, "backup: %s" % p.stderr.decode(errors="replace"))
        out = p.stdout.decode()
        m = re.search(r"and (\d+) attached files", out)
        check(m and int(m.group(1)) >= 4, "files counted: %s" % short(out.splitlines()[-1:]))
        for a in (S["png"], S["pdf"]):
            h = hashlib.sha256(PNG if a is S["png"] else PDF).hexdigest()
            check(os.path.exists(os.path.join(dest, "files", h[:2], h[2:4], h)), "%s copied" % a["name"])
        check(not os.path.exists(os.path.join(dest, "files", "tmp")), "no spool directory copied")
        srv.stop()
        data = os.path.join(srv.var, "data")
        shutil.move(data, data + ".broken")
        os.mkdir(data)
        for name in os.listdir(dest):
            if name.endswith(".db") or name.startswith("log."):
                shutil.copy2(os.path.join(dest, name), data)
        shutil.copytree(os.path.join(dest, "files"), os.path.join(data, "files"))
        owner = srv.store_owner() or None
        st = os.stat(data + ".broken")
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(data):
                for x in [root] + [os.path.join(root, f) for f in files]:
                    os.chown(x, st.st_uid, st.st_gid)
        del owner
        rc, vout = verify()
        eq(rc, 0, "the restored store verifies: %s" % short(vout, 1500))
        srv.start()
        r = alice.get(S["png"]["url"])
        status(r, 200, "restored: the file downloads")
        eq(r.body, PNG, "the same bytes")

    with T.case("verify reports a damaged file and a file nobody uses"):
        srv.stop()
        h = hashlib.sha256(PDF).hexdigest()
        path = os.path.join(srv.var, "data", "files", h[:2], h[2:4], h)
        with open(path, "ab") as f:
            f.write(b"tampered")
        orphan = hashlib.sha256(b"nobody").hexdigest()
        od = os.path.join(srv.var, "data", "files", orphan[:2], orphan[2:4])
        os.makedirs(od, exist_ok=True)
        with open(os.path.join(od, orphan), "wb") as f:
            f.write(b"nobody")
        rc, out = verify()
        check(rc != 0, "verify fails")
        check("has the wrong size" in out, "the damaged file is reported: %s" % short(out, 1500))
        check(orphan in out and "no attachment uses" in out, "the orphan is reported")
        with open(path, "wb") as f:
            f.write(PDF)
        os.unlink(os.path.join(od, orphan))
        srv.start()

    if srv.mode == "nginx":
        with T.case("attachment_sendfile = x-accel-redirect: nginx sends the bytes, the program's headers kept"):
            srv.stop()
            set_conf_key(srv.conf, "support", "attachment_sendfile", "x-accel-redirect")
            srv.start()
            r = alice.get(S["png"]["url"])
            status(r, 200, "download through nginx")
            eq(r.body, PNG, "the bytes")
            eq(r.header("Content-Type"), "image/png", "the checked type kept")
            eq(r.header("Content-Disposition"), 'attachment; filename="pixel.png"', "the name kept")
            eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff")
            check("sandbox" in (r.header("Content-Security-Policy") or ""), "CSP sandbox")
            check(r.header("X-Accel-Redirect") is None, "the internal path is not shown")
            r = alice.get(S["png"]["url"], headers={"Range": "bytes=0-7"})
            status(r, 206, "nginx answers the range")
            eq(r.body, PNG[:8], "the first 8 bytes")
            error(bob.get(S["png"]["url"]), 404, "not_found")
            r = alice.get("/support-files/" + hashlib.sha256(PNG).hexdigest()[:2] + "/")
            check(r.status == 404, "the internal location is not reachable from outside: %d" % r.status)
            srv.stop()
            set_conf_key(srv.conf, "support", "attachment_sendfile", "no")
            srv.start()

    if srv.mode.startswith("apache-"):
        xsendfile_cases(srv, alice, bob, S)

    with T.case("attachment_sendfile of the other web server: run.sh refuses to start, saying why"):
        srv.stop()
        other = "x-sendfile" if srv.mode == "nginx" else "x-accel-redirect"
        set_conf_key(srv.conf, "support", "attachment_sendfile", other)
        try:
            srv.start()
            started = True
        except RuntimeError as e:
            started = False
            why = str(e)
        check(not started, "%s behind %s does not start" % (other, srv.mode))
        if not started:
            check(("attachment_sendfile = %s" % other) in why, "run.sh names the setting: %s" % short(why, 600))
        srv.stop()
        set_conf_key(srv.conf, "support", "attachment_sendfile", "no")
        srv.start()

    with T.case("enable_file_uploads = no: files refused with 403 uploads_disabled; downloads still work"):
        srv.stop()
        set_conf_key(srv.conf, "support", "enable_file_uploads", "no")
        srv.start()
        r = post_files(alice, S["t"], files=[("f", "a.png", PNG)])
        error(r, 403, "uploads_disabled")
        r = alice.post(TICKETS + S["t"] + "/messages/", {"content": "Text still works."})
        status(r, 201, "a JSON message")
        status(alice.get(S["png"]["url"]), 200, "an old file downloads")
        srv.stop()
        set_conf_key(srv.conf, "support", "enable_file_uploads", "yes")
        srv.start()

    check_no_leftovers(srv)


if __name__ == "__main__":
    run_main(cases)
