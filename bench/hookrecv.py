#!/usr/bin/env python3
"""bench/hookrecv.py - a webhook receiver for bench/webout.sh: answers
every POST 200 on 127.0.0.1:PORT (keep-alive), checks the signature of
one call in every --check (HMAC-SHA256 of "<ts>.<body>" under --secret),
and writes the count of calls received (and of bad signatures) to
--count every 500 calls and at SIGTERM.

  hookrecv.py --port PORT --secret SECRET --count FILE [--check N]
"""
import argparse
import hashlib
import hmac
import http.server
import os
import signal
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--count", required=True)
    ap.add_argument("--check", type=int, default=100)
    a = ap.parse_args()
    state = {"n": 0, "bad": 0, "ids": set(), "dups": 0}
    lock = threading.Lock()

    def flush():
        tmp = a.count + ".new"
        with open(tmp, "w") as f:
            f.write("%d %d %d\n" % (state["n"], state["bad"], state["dups"]))
        os.replace(tmp, a.count)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *x):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state["n"] += 1
                n = state["n"]
                d = self.headers.get("X-Support-Delivery")
                if d in state["ids"]:
                    state["dups"] += 1
                state["ids"].add(d)
                if n % a.check == 1:
                    ts = self.headers.get("X-Support-Timestamp", "")
                    want = "sha256=" + hmac.new(a.secret.encode(), ts.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                    if not hmac.compare_digest(want, self.headers.get("X-Support-Signature", "")):
                        state["bad"] += 1
                if n % 500 == 0:
                    flush()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.HTTPServer(("127.0.0.1", a.port), H)

    def stop(*_):
        with lock:
            flush()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    flush()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
