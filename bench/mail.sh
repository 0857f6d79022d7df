#!/bin/bash
# bench/mail.sh - how fast support-worker sends the desk's mail
# (docs/mail.md) to an SMTP server on this machine.
#
#   bench/mail.sh [--tickets N] [--memory]
#
# Builds the programs and bench/gen, generates a store of N tickets
# (default 2000; one message each) under bench/out/mail-N/ with mail
# configured (support_email, one team address, smtp_url to the server
# below, smtp_starttls = no): each ticket.created event is one mail to
# the team, and the agent's replies and the resolutions gen makes mail
# the customers (about 1.2 deliveries a ticket).
# Starts tests/http/smtpsink.py (aiosmtpd) on a free 127.0.0.1 port, by
# pid, then times two passes of `support-worker --once`:
#
#  1. the queueing alone (the transport pointed at a closed port: every
#     delivery is built, queued and tried once): events turned into
#     messages per second;
#  2. the sending (the same store, the retry made due by `supportctl
#     outbox retry` of each, now to the server): deliveries per second,
#     each a whole SMTP transaction on a kept connection, and the
#     worker's largest resident size (/usr/bin/time).
#
# With --memory, instead of the two passes: one `support-worker --once`
# to the server that queues and sends everything, its VmRSS and VmHWM
# (/proc/PID/status) sampled about every 10 000 mails the server has
# received (bench/RESULTS.md: the worker's memory over 100k deliveries).
#
# The receiving server is Python (aiosmtpd writing each message to a
# file): at these rates it is the slower side, so the figure is a floor
# for the worker.  Stops, by pid, what it started.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
TICKETS=2000
MEMORY=""

say() { printf 'mail: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--tickets) TICKETS=$2; shift 2 ;;
	--memory) MEMORY=1; shift ;;
	*) echo "usage: $0 [--tickets N] [--memory]" >&2; exit 2 ;;
	esac
done
case $TICKETS in *[!0-9]* | "") die "--tickets takes a number" ;; esac
PY=python3
python3 -c "import aiosmtpd" 2>/dev/null || PY=/usr/bin/python3
$PY -c "import aiosmtpd" 2>/dev/null || die "no python3 with aiosmtpd (apt-get install python3-aiosmtpd)"

say "building"
(cd "$ROOT" && make -s -j2 && make -s bench/gen) >&2 || die "the build failed"

DIR=$BENCH/out/mail-$TICKETS
rm -rf "$DIR"
mkdir -p "$DIR/store/data" "$DIR/sink"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CLOSED=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf() {	# conf FILE SMTP_PORT
	sed -e "s|@DATA@|$DIR/store/data|" \
	    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
	    -e "s|^durability = .*|durability = nosync|" \
	    -e "s|^max_tickets_per_user = .*|max_tickets_per_user = 0|" \
	    -e "s|^support_email =.*|support_email = help@example.com|" \
	    -e "s|^support_team_emails =.*|support_team_emails = team@example.com|" \
	    -e "s|^smtp_url =.*|smtp_url = smtp://127.0.0.1:$2|" \
	    -e "s|^smtp_starttls =.*|smtp_starttls = no|" \
	    -e "s|^base_url =.*|base_url = https://help.example.com|" \
	    "$ROOT/conf/support.conf.example" >"$1"
}
conf "$DIR/queue.conf" "$CLOSED"
conf "$DIR/send.conf" "$PORT"

say "generating $TICKETS tickets"
"$BENCH/gen" --conf "$DIR/queue.conf" --tickets "$TICKETS" --out "$DIR/store" \
    --messages-per-ticket 1 --detail-tickets 0 >"$DIR/gen.out" 2>"$DIR/gen.log" ||
    { cat "$DIR/gen.log" >&2; die "gen"; }

SINK=""
cleanup() { [ -z "$SINK" ] || kill "$SINK" 2>/dev/null || true; }
trap cleanup EXIT
$PY "$ROOT/tests/http/smtpsink.py" --port "$PORT" --dir "$DIR/sink" \
    >"$DIR/sink.log" 2>&1 &
SINK=$!
for _ in $(seq 100); do [ -f "$DIR/sink/ready" ] && break; sleep 0.1; done
[ -f "$DIR/sink/ready" ] || die "the SMTP server did not start"

now() { date +%s.%N; }

if [ -n "$MEMORY" ]; then
	say "one pass to the server, the worker's memory sampled"
	t0=$(now)
	"$ROOT/bin/support-worker" --once --conf "$DIR/send.conf" 2>"$DIR/send.log" &
	WORKER=$!
	printf 'received\tVmRSS_kB\tVmHWM_kB\tseconds\n' >"$DIR/rss.tsv"
	next=0
	while kill -0 "$WORKER" 2>/dev/null; do
		n=$(ls -f "$DIR/sink" | grep -c '\.eml$' || true)
		if [ "$n" -ge "$next" ]; then
			st=$(cat "/proc/$WORKER/status" 2>/dev/null) || break
			printf '%d\t%s\t%s\t%.1f\n' "$n" \
			    "$(echo "$st" | awk '/^VmRSS/ {print $2}')" \
			    "$(echo "$st" | awk '/^VmHWM/ {print $2}')" \
			    "$(echo "$(now) - $t0" | bc)" >>"$DIR/rss.tsv"
			next=$(( (n / 10000 + 1) * 10000 ))
		fi
		sleep 0.5
	done
	wait "$WORKER" || die "the worker failed: $(tail -3 "$DIR/send.log")"
	t1=$(now)
	sent=$(ls -f "$DIR/sink" | grep -c '\.eml$' || true)
	left=$("$ROOT/bin/supportctl" --conf "$DIR/send.conf" outbox list | grep -vc '"state":"sent"' || true)
	printf 'sent %d in %.1f s (queueing included), %d not sent\n' "$sent" \
	    "$(echo "$t1 - $t0" | bc)" "$left"
	column -t "$DIR/rss.tsv"
	exit 0
fi

say "pass 1: queueing (the server closed)"
t0=$(now)
"$ROOT/bin/support-worker" --once --conf "$DIR/queue.conf" 2>"$DIR/queue.log" || true
t1=$(now)
queued=$("$ROOT/bin/supportctl" --conf "$DIR/send.conf" outbox list | wc -l)
[ "$queued" -gt 0 ] || die "nothing queued"

# Every delivery due again, now to the server.
"$ROOT/bin/supportctl" --conf "$DIR/send.conf" outbox list |
    sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p' | while read -r id; do
	"$ROOT/bin/supportctl" --conf "$DIR/send.conf" outbox retry "$id" >/dev/null
done

say "pass 2: sending $queued deliveries"
t2=$(now)
/usr/bin/time -f '%M' -o "$DIR/rss" "$ROOT/bin/support-worker" --once \
    --conf "$DIR/send.conf" 2>"$DIR/send.log" || die "the sending pass failed"
t3=$(now)
sent=$(ls "$DIR/sink" | grep -c '\.eml$' || true)
left=$("$ROOT/bin/supportctl" --conf "$DIR/send.conf" outbox list | grep -vc '"state":"sent"' || true)

awk -v q="$queued" -v s="$sent" -v l="$left" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
    -v rss="$(cat "$DIR/rss")" 'BEGIN {
	printf "queued %d mails in %.2f s: %.0f a second (built with GMime, one try each to a closed port)\n", q, b - a, q / (b - a)
	printf "sent %d of them in %.2f s: %.0f deliveries a second to aiosmtpd on 127.0.0.1; %d not sent\n", s, d - c, s / (d - c), l
	printf "support-worker largest resident size: %d kB\n", rss
}'
