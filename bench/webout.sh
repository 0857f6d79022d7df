#!/bin/bash
# bench/webout.sh - support-worker's memory and speed over many webhook
# deliveries (docs/webhooks.md): the memory must stay flat.
#
#   bench/webout.sh [--tickets N] [--subscriptions K] [--every D] [--valgrind]
#
# Builds the programs and bench/gen, generates a store of N tickets
# (default 20000) under bench/out/webout-N/ with K subscriptions (default
# 5), each [webhook.sK] choosing ticket.created, all to one receiver
# (bench/hookrecv.py, Python's http.server on a free 127.0.0.1 port,
# started and stopped by pid here): N x K deliveries (100k by default).
# Then one `support-worker --once` queues them all (the webhooks consumer
# of the event log: each body built with the ticket as staff see it) and
# sends them, one keep-alive connection, and this script samples the
# worker's VmRSS and VmHWM (/proc/PID/status) as the receiver counts the
# calls: a row at the start of sending and every D deliveries (default
# 10000), into bench/out/webout-N/rss.tsv.  Prints the rates and the
# curve.  The receiver is single-threaded Python: the rate is a floor.
# --valgrind runs the worker under `valgrind --leak-check=full` (use a
# small N): its report is bench/out/webout-N/valgrind.log.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
TICKETS=20000
SUBS=5
EVERY=10000
WRAP=""

say() { printf 'webout: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--tickets) TICKETS=$2; shift 2 ;;
	--subscriptions) SUBS=$2; shift 2 ;;
	--every) EVERY=$2; shift 2 ;;
	--valgrind) WRAP=valgrind; shift ;;
	*) echo "usage: $0 [--tickets N] [--subscriptions K] [--every D]" \
	       "[--valgrind]" >&2
	   exit 2 ;;
	esac
done
for v in "$TICKETS" "$SUBS" "$EVERY"; do
	case $v in *[!0-9]* | "") die "numbers only" ;; esac
done

say "building"
(cd "$ROOT" && make -s -j2 && make -s bench/gen) >&2 || die "the build failed"

DIR=$BENCH/out/webout-$TICKETS
rm -rf "$DIR"
mkdir -p "$DIR/store/data"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SECRET=bench-secret-0123456789abcdef
sed -e "s|@DATA@|$DIR/store/data|" \
    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
    -e "s|^durability = .*|durability = nosync|" \
    -e "s|^max_tickets_per_user = .*|max_tickets_per_user = 0|" \
    -e "s|^reminder_days = .*|reminder_days = 0|" \
    -e "s|^escalation_hours = .*|escalation_hours = 0|" \
    "$ROOT/conf/support.conf.example" >"$DIR/support.conf"
for i in $(seq "$SUBS"); do
	printf '\n[webhook.s%d]\nurl = http://127.0.0.1:%d/s%d\nevents = ticket.created\nsecret = %s\n' \
	    "$i" "$PORT" "$i" "$SECRET" >>"$DIR/support.conf"
done

say "generating $TICKETS tickets"
"$BENCH/gen" --conf "$DIR/support.conf" --tickets "$TICKETS" --out "$DIR/store" \
    --messages-per-ticket 1 --detail-tickets 0 >"$DIR/gen.out" 2>"$DIR/gen.log" ||
    { cat "$DIR/gen.log" >&2; die "gen"; }

RECV="" WORKER=""
cleanup() {
	[ -z "$WORKER" ] || kill "$WORKER" 2>/dev/null || true
	[ -z "$RECV" ] || kill "$RECV" 2>/dev/null || true
}
trap cleanup EXIT
python3 "$BENCH/hookrecv.py" --port "$PORT" --secret "$SECRET" \
    --count "$DIR/count" >"$DIR/recv.log" 2>&1 &
RECV=$!
for _ in $(seq 100); do [ -f "$DIR/count" ] && break; sleep 0.1; done
[ -f "$DIR/count" ] || die "the receiver did not start"

now() { date +%s.%N; }
kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$WORKER/status" 2>/dev/null; }

want=$((TICKETS * SUBS))
say "one pass: queueing and sending $want deliveries"
t0=$(now)
if [ -n "$WRAP" ]; then
	valgrind --leak-check=full --show-leak-kinds=definite,indirect \
	    --log-file="$DIR/valgrind.log" \
	    "$ROOT/bin/support-worker" --once --conf "$DIR/support.conf" \
	    2>"$DIR/worker.log" &
else
	"$ROOT/bin/support-worker" --once --conf "$DIR/support.conf" \
	    2>"$DIR/worker.log" &
fi
WORKER=$!
printf 'delivered\tVmRSS_kB\tVmHWM_kB\tseconds\n' >"$DIR/rss.tsv"
next=0
while kill -0 "$WORKER" 2>/dev/null; do
	n=$(cut -d' ' -f1 "$DIR/count")
	if [ "$n" -ge "$next" ]; then
		rss=$(kb VmRSS) hwm=$(kb VmHWM)
		if [ -n "$rss" ]; then
			printf '%d\t%s\t%s\t%.1f\n' "$n" "$rss" "$hwm" \
			    "$(echo "$(now) - $t0" | bc)" >>"$DIR/rss.tsv"
			next=$(( (n / EVERY + 1) * EVERY ))
		fi
	fi
	sleep 0.05
done
wait "$WORKER" || die "the worker failed: $(tail -3 "$DIR/worker.log")"
WORKER=""
t1=$(now)
kill "$RECV"; wait "$RECV" 2>/dev/null || true; RECV=""
read -r got bad dups <"$DIR/count"
awk -v w="$want" -v g="$got" -v b="$bad" -v d="$dups" -v a="$t0" -v z="$t1" 'BEGIN {
	printf "%d deliveries of %d received in %.1f s (%.0f a second, queueing included); %d bad signatures among those checked, %d repeated\n", g, w, z - a, g / (z - a), b, d
}'
column -t "$DIR/rss.tsv"
[ -z "$WRAP" ] || grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$DIR/valgrind.log"
