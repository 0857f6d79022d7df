#!/bin/bash
# bench/attach.sh - how fast files go up and come down (docs/attachments.md),
# against nginx serving the same file statically.
#
#   bench/attach.sh [--size MB] [--count N]
#
# Starts the desk with run.sh (nginx, its own SUPPORT_VAR under
# bench/out/attach/, a free 127.0.0.1 port; durability = sync as shipped,
# max_attachment_bytes raised to the file's size), makes a customer with
# an API token and a ticket, then:
#
#  1. upload: N messages (default 10) each carrying one file of SIZE MB
#     (default 8; random bytes in a ZIP's clothing, so that the type check
#     reads only its head), one at a time with curl: MB/s of file data,
#     each upload parsed, spooled, hashed, flushed, linked and committed;
#  2. download: `wrk -t2 -c4 -d10s` of one file through the program
#     (streamed in 256 KB pieces, checked for the owner first): MB/s;
#  3. the same file served by a second nginx as a static file, the same
#     wrk: MB/s, with sendfile on and off;
#  4. with mod_xsendfile installed, the desk again behind Apache, the same
#     store and the same wrk: through X-Sendfile (attachment_sendfile =
#     x-sendfile) under mod_fcgid and under mod_proxy_fcgi, and streamed by
#     the program under mod_fcgid (attachment_sendfile = no): MB/s.
#
# Stops, by pid, what it started (run.sh stop; the static nginx).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE=8
COUNT=10

say() { printf 'attach: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--size) SIZE=$2; shift 2 ;;
	--count) COUNT=$2; shift 2 ;;
	*) echo "usage: $0 [--size MB] [--count N]" >&2; exit 2 ;;
	esac
done
case $SIZE$COUNT in *[!0-9]* | "") die "--size and --count take numbers" ;; esac
for t in curl wrk nginx python3; do
	command -v $t >/dev/null || die "$t is missing"
done

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

DIR=$ROOT/bench/out/attach
rm -rf "$DIR"
mkdir -p "$DIR/static"
export SUPPORT_VAR=$DIR/var SUPPORT_PORT=$(free_port) SUPPORT_SERVER=nginx
export SUPPORT_CONF=$SUPPORT_VAR/support.conf
STATIC_PORT=$(free_port)
STATIC_PID=""
cleanup() {
	[ -z "$STATIC_PID" ] || kill "$STATIC_PID" 2>/dev/null || true
	"$ROOT/run.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "building"
(cd "$ROOT" && make -s -j2) >&2 || die "the build failed"

# run.sh writes support.conf at its first start: start, set, start again.
"$ROOT/run.sh" --background >"$DIR/run.log" 2>&1 || die "run.sh (see $DIR/run.log)"
"$ROOT/run.sh" stop >/dev/null 2>&1
BYTES=$((SIZE * 1024 * 1024))
sed -i -e "s|^max_attachment_bytes = .*|max_attachment_bytes = $BYTES|" \
    -e "s|^max_attachments_per_message = .*|max_attachments_per_message = 1|" \
    "$SUPPORT_CONF"
"$ROOT/run.sh" --background >>"$DIR/run.log" 2>&1 || die "run.sh (see $DIR/run.log)"
CTL="$ROOT/bin/supportctl --conf $SUPPORT_CONF"
echo "bench-Secret-pass-1" | $CTL user add benchatt --email benchatt@example.com \
    --role user --password-stdin >/dev/null || die "user add"
TOKEN=$($CTL token create benchatt) || die "token create"
BASE=http://127.0.0.1:$SUPPORT_PORT
T=$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"subject": "Bench files", "initial_message": "Files follow."}' \
    "$BASE/api/support/tickets/" | python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])') ||
    die "ticket"

# The file: a ZIP local header, then random bytes.
python3 - "$DIR/file.zip" "$BYTES" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"PK\x03\x04" + os.urandom(int(sys.argv[2]) - 4))
PY
cp "$DIR/file.zip" "$DIR/static/file.zip"

say "uploading $COUNT files of $SIZE MB"
t0=$(date +%s.%N)
for i in $(seq "$COUNT"); do
	code=$(curl -s -o "$DIR/up.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	    -F "content=file $i" -F "files=@$DIR/file.zip;filename=file$i.zip" \
	    "$BASE/api/support/tickets/$T/messages/")
	[ "$code" = 201 ] || die "upload $i: $code $(cat "$DIR/up.json")"
done
t1=$(date +%s.%N)
URL=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["attachments"][0]["url"])' \
    "$DIR/up.json")
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE$URL" | cmp - "$DIR/file.zip" ||
    die "the download differs from the upload"

cat >"$DIR/static.conf" <<EOF2
daemon off;
worker_processes 1;
pid $DIR/static.pid;
error_log $DIR/static-error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $DIR/static-tmp;
	proxy_temp_path $DIR/static-tmp;
	fastcgi_temp_path $DIR/static-tmp;
	uwsgi_temp_path $DIR/static-tmp;
	scgi_temp_path $DIR/static-tmp;
	server { listen 127.0.0.1:$STATIC_PORT; root $DIR/static; }
}
EOF2
mkdir -p "$DIR/static-tmp"
nginx -c "$DIR/static.conf" -p "$DIR" >/dev/null 2>&1 &
STATIC_PID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$STATIC_PORT/file.zip" && break; sleep 0.1; done

say "downloading through the program"
wrk -t2 -c4 -d10s -H "Authorization: Bearer $TOKEN" "$BASE$URL" >"$DIR/wrk-desk.txt"
say "downloading from nginx, static (sendfile on)"
wrk -t2 -c4 -d10s "http://127.0.0.1:$STATIC_PORT/file.zip" >"$DIR/wrk-static.txt"
# The same nginx with sendfile off, as the desk's own nginx.conf has it.
kill "$STATIC_PID"
wait "$STATIC_PID" 2>/dev/null || true
sed -i 's/sendfile on;/sendfile off;/' "$DIR/static.conf"
nginx -c "$DIR/static.conf" -p "$DIR" >/dev/null 2>&1 &
STATIC_PID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$STATIC_PORT/file.zip" && break; sleep 0.1; done
say "downloading from nginx, static (sendfile off)"
wrk -t2 -c4 -d10s "http://127.0.0.1:$STATIC_PORT/file.zip" >"$DIR/wrk-static-off.txt"

# 4. Apache, when it has mod_xsendfile.
APACHE=""
if [ -f /usr/lib/apache2/modules/mod_xsendfile.so ]; then
	kill "$STATIC_PID"
	wait "$STATIC_PID" 2>/dev/null || true
	STATIC_PID=""
	for run in apache-fcgid:x-sendfile apache-fcgid:no apache-proxy:x-sendfile; do
		"$ROOT/run.sh" stop >/dev/null 2>&1
		export SUPPORT_SERVER=${run%%:*}
		sed -i "s|^attachment_sendfile = .*|attachment_sendfile = ${run#*:}|" "$SUPPORT_CONF"
		"$ROOT/run.sh" --background >>"$DIR/run.log" 2>&1 ||
		    die "run.sh $SUPPORT_SERVER (see $DIR/run.log)"
		curl -sf -H "Authorization: Bearer $TOKEN" "$BASE$URL" | cmp - "$DIR/file.zip" ||
		    die "$run: the download differs from the upload"
		say "downloading through Apache ($run)"
		wrk -t2 -c4 -d10s -H "Authorization: Bearer $TOKEN" "$BASE$URL" \
		    >"$DIR/wrk-$SUPPORT_SERVER-${run#*:}.txt"
	done
	APACHE=yes
fi

mbs() {	# the Transfer/sec line of a wrk report, in MB/s
	awk '/Transfer\/sec/ { v = $2; u = substr(v, length(v) - 1); v += 0;
		if (u == "GB") v *= 1024; else if (u == "KB") v /= 1024;
		printf "%.0f", v }' "$1"
}
awk -v n="$COUNT" -v mb="$SIZE" -v a="$t0" -v b="$t1" -v d="$(mbs "$DIR/wrk-desk.txt")" \
    -v s="$(mbs "$DIR/wrk-static.txt")" -v o="$(mbs "$DIR/wrk-static-off.txt")" 'BEGIN {
	printf "upload: %d files of %d MB in %.2f s: %.0f MB/s (one at a time, curl, durable commits)\n", n, mb, b - a, n * mb / (b - a)
	printf "download through the program: %d MB/s (wrk -t2 -c4, streamed in 256 KB pieces)\n", d
	printf "download from nginx, static: %d MB/s with sendfile, %d MB/s without (the same file, the same wrk)\n", s, o
}'
if [ -n "$APACHE" ]; then
	printf 'download through Apache, X-Sendfile: %d MB/s under mod_fcgid, %d MB/s under mod_proxy_fcgi; streamed by the program under mod_fcgid: %d MB/s\n' \
	    "$(mbs "$DIR/wrk-apache-fcgid-x-sendfile.txt")" "$(mbs "$DIR/wrk-apache-proxy-x-sendfile.txt")" \
	    "$(mbs "$DIR/wrk-apache-fcgid-no.txt")"
else
	echo "download through Apache: not measured (mod_xsendfile is not installed: apt-get install libapache2-mod-xsendfile)"
fi
