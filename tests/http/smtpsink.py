"""A real SMTP server for the mail tests (aiosmtpd), on 127.0.0.1.

    python3 smtpsink.py --port P --dir DIR [--tempfail N] [--reject]
                        [--cert C --key K [--smtps] [--auth USER:PASSWORD]] [--delay S]

Every message it accepts is written to DIR as NNNN.eml (the bytes as
received) and NNNN.json ({"from", "to", "tls"}), NNNN counting from 1.
--tempfail N answers the first N messages' DATA with 451, --reject
answers every RCPT with 550, --cert/--key offers STARTTLS and requires it
before MAIL (with --smtps: TLS from the first byte instead, as an
smtps:// server on port 465 does), --auth then requires AUTH (PLAIN or LOGIN, after STARTTLS)
with that name and password (535 otherwise), --delay waits S seconds
before each answer to DATA.  It
writes DIR/ready once it listens and runs until SIGTERM.  The test
starts it and stops it by its pid (test_mail.py).
"""

import argparse
import logging
import asyncio
import json
import os
import signal
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.args = args
        self.tempfails = args.tempfail
        self.n = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject:
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay:
            await asyncio.sleep(self.args.delay)
        with self.lock:
            if self.tempfails > 0:
                self.tempfails -= 1
                return "451 4.3.0 try again later"
            self.n += 1
            n = self.n
        base = os.path.join(self.args.dir, "%04d" % n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "tls": session.ssl is not None or
                       server.transport.get_extra_info("ssl_object") is not None,
                       "auth": session.authenticated}, f)
        os.replace(base + ".tmp", base + ".eml")
        return "250 OK: queued as %d" % n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tempfail", type=int, default=0)
    ap.add_argument("--reject", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--smtps", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kw = {}
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        kw = {"ssl_context": ctx} if args.smtps else {"tls_context": ctx, "require_starttls": True}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def check(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login.decode() == user
                  and data.password.decode() == password)
            # handled=False: aiosmtpd answers a failure itself (535).
            return AuthResult(success=ok, handled=False)

        kw.update(authenticator=check, auth_required=True)
    ctl = Controller(Handler(args), hostname="127.0.0.1", port=args.port, **kw)
    ctl.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    with open(os.path.join(args.dir, "ready"), "w") as f:
        f.write(str(os.getpid()))
    while not stop.is_set():
        stop.wait(0.2)
    ctl.stop()


if __name__ == "__main__":
    main()
