#!/bin/bash
# bench/cgi.sh - what one plain CGI request costs (the issue "Runs where
# the users are": process start + opening the environment + answering).
#
#   bench/cgi.sh [--tickets N] [--requests 200] [--duration 10s]
#                [--no-apache] [--no-build]
#
# Builds the programs and bench/gen, generates a fresh store of N tickets
# (default 10000) under bench/out/cgi-N/ with bench/gen and runs it with
# conf/support.conf.example's settings (durable commits, 16 MB cache).
# The request is the ticket detail with 20 messages, as its owner (bearer
# token), the benchmark's detail endpoint.  Then:
#
#  1. Wall time: --requests sequential runs of cgi-bin/tickets as plain
#     CGI straight from the environment (env -i, no web server, as
#     tests/http/test_cgi.py runs it): median, p90, mean; and the same for
#     `env -i /bin/true`, the floor of starting any process here.
#  2. Counts that do not move with the machine's load: the instructions
#     of one whole CGI process (valgrind --tool=callgrind, the dynamic
#     loader included; --trace-children=no) and its system calls
#     (strace -c -f): all of them, and the flushes (fdatasync), writes
#     (pwrite64), opens and mmaps among them.
#  3. No recovery on a normal open: the environment's transaction
#     statistics (db5.3_stat -t) before and after the requests of 1: the
#     count of transactions begun keeps growing and the last checkpoint
#     stays where it was (recovery remakes the regions and checkpoints).
#  4. Unless --no-apache: req/s of the same detail under
#     `wrk -t2 -c16 -d10s` through Apache in apache-cgi mode and then in
#     apache-fcgid mode, started by ./run.sh (SUPPORT_SERVER) on this store
#     at a free 127.0.0.1 port, one after the other in this run; and their
#     ratio.  Run as root, run.sh gives the store to www-data, so this
#     comes last.
#
# Prints a Markdown report and writes it to bench/out/cgi-N/results.md.
# Stops, by pid (through ./run.sh stop), what it started.  Needs valgrind,
# strace, db5.3_stat (db5.3-util), wrk, curl and python3; valgrind, strace
# and wrk are installed when missing and run as root.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
TICKETS=10000
REQUESTS=200
DURATION=10s
APACHE=yes
BUILD=yes

say() { printf 'cgi: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--tickets) TICKETS=$2; shift 2 ;;
	--requests) REQUESTS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--no-apache) APACHE=no; shift ;;
	--no-build) BUILD=no; shift ;;
	*) echo "usage: $0 [--tickets N] [--requests N] [--duration 10s]" \
	    "[--no-apache] [--no-build]" >&2; exit 2 ;;
	esac
done
for n in "$TICKETS" "$REQUESTS"; do
	case $n in *[!0-9]* | "") die "a count must be a number" ;; esac
done

# --- Tools ---------------------------------------------------------------

missing=""
for t in valgrind:valgrind strace:strace wrk:wrk db5.3_stat:db5.3-util \
    curl:curl python3:python3; do
	command -v "${t%%:*}" >/dev/null || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || die "missing: apt-get install -y$missing"
	say "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing \
	    >/dev/null || die "apt-get install failed"
fi
if [ "$BUILD" = yes ]; then
	say "building"
	(cd "$ROOT" && make -s -j2 && make -s bench/gen) >&2 ||
	    die "the build failed"
fi

# --- The store ------------------------------------------------------------

DIR=$BENCH/out/cgi-$TICKETS
VAR=$DIR/var
DATA=$VAR/data
STARTED=""
cleanup() {
	if [ -n "$STARTED" ]; then
		SUPPORT_VAR=$VAR SUPPORT_SERVER=$STARTED "$ROOT/run.sh" stop || true
	fi
}
trap cleanup EXIT

# Fresh each time: run.sh gives it to www-data when we are root.
say "generating $TICKETS tickets in $DIR"
rm -rf "$DIR"
mkdir -p "$DATA"
chmod 700 "$DATA"
cat >"$DIR/gen.conf" <<EOF
[support]
data_dir = $DATA
durability = nosync
cache_kb = 262144
max_tickets_per_user = 0
EOF
"$BENCH/gen" --conf "$DIR/gen.conf" --tickets "$TICKETS" --out "$DIR" \
    >"$DIR/gen.out" 2>"$DIR/gen.log" || { cat "$DIR/gen.log" >&2; die "gen"; }
# The programs' settings: the example's, as run.sh writes them.
sed "s|@DATA@|$DATA|" "$ROOT/conf/support.conf.example" >"$VAR/support.conf"
"$BENCH/gen" --conf "$VAR/support.conf" --reset-env || die "gen --reset-env"
export SUPPORT_CONF=$VAR/support.conf
read -r DETAIL OWNER <"$DIR/detail.txt"
TOKEN=$("$ROOT/bin/supportctl" token create "$OWNER" --label cgi) ||
    die "token create"
URL_PATH=/api/support/tickets/$DETAIL/

# The request's environment, as a web server would pass it.
REQ_ENV=(SUPPORT_CONF="$VAR/support.conf" GATEWAY_INTERFACE=CGI/1.1
    SERVER_PROTOCOL=HTTP/1.1 SERVER_NAME=127.0.0.1 SERVER_PORT=80
    REMOTE_ADDR=127.0.0.1 HTTP_HOST=127.0.0.1 REQUEST_METHOD=GET
    REQUEST_URI="$URL_PATH" QUERY_STRING= "HTTP_AUTHORIZATION=Bearer $TOKEN")

# One request: its answer on stdout.  Any arguments are a command to run
# the program under (valgrind, strace).
request() {
	env -i "${REQ_ENV[@]}" "$@" "$ROOT/cgi-bin/tickets" </dev/null
}

status=$(request | head -1 | tr -d '\r')
[ "$status" = "Status: 200 OK" ] || die "the detail answers \"$status\""
request | sed '1,/^\r$/d' | python3 -c '
import json, sys
n = len(json.load(sys.stdin)["messages"])
sys.exit(0 if n == 20 else "the detail has %d messages, not 20" % n)' ||
    die "not the detail ticket"

# "checkpoint-LSN begun": the transaction statistics of the environment.
txn_stat() {
	db5.3_stat -h "$DATA" -t | awk -F'\t' '
	    $2 ~ /checkpoint LSN$/ { c = $1 }
	    $2 == "Number of transactions begun" { b = $1 }
	    END { print c, b }'
}

# --- 1 and 3: wall time, and no recovery ---------------------------------

say "$REQUESTS plain CGI requests, then as many env -i /bin/true"
read -r CKP0 BEGUN0 <<<"$(txn_stat)"
TIMES=$(python3 - "$REQUESTS" "$ROOT/cgi-bin/tickets" "${REQ_ENV[@]}" <<'EOF'
import subprocess, sys, time
n, prog, env = int(sys.argv[1]), sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])

def run(argv, env):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        t.append((time.perf_counter() - t0) * 1000)
        if p.returncode != 0 or (argv[0] == prog and not p.stdout.startswith(b"Status: 200")):
            sys.exit("a request failed: %r" % p.stdout[:200])
    t.sort()
    return "%.2f %.2f %.2f" % (t[len(t) // 2], t[int(len(t) * 0.9)], sum(t) / len(t))

print(run([prog], env), run(["/bin/true"], {}))
EOF
) || die "the timed requests"
read -r MED P90 MEAN TMED TP90 TMEAN <<<"$TIMES"
read -r CKP1 BEGUN1 <<<"$(txn_stat)"
if [ "$CKP1" = "$CKP0" ] && [ "$BEGUN1" -ge $((BEGUN0 + REQUESTS)) ]; then
	RECOVERY="none: transactions begun $BEGUN0 -> $BEGUN1 (the regions were kept), last checkpoint $CKP0 unchanged"
else
	RECOVERY="**recovery ran**: transactions begun $BEGUN0 -> $BEGUN1, last checkpoint $CKP0 -> $CKP1"
fi

# --- 2: instructions and system calls ------------------------------------

say "callgrind and strace of one request"
request valgrind --tool=callgrind --trace-children=no \
    --callgrind-out-file="$DIR/callgrind.out" >/dev/null 2>"$DIR/callgrind.log"
INSTR=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$DIR/callgrind.log")
[ -n "$INSTR" ] || die "no callgrind count; see $DIR/callgrind.log"
# Where they go: the loader, the store's opening and closing, the request.
part() {
	callgrind_annotate --inclusive=yes "$DIR/callgrind.out" 2>/dev/null |
	    awk -v f="$1" '$0 ~ f { gsub(",", "", $1); print $1; exit }'
}
LOADER=$(part '_dl_start ')
OPEN=$(part 'lib/store/store.c:store_open ')
CLOSE=$(part 'lib/store/store.c:store_close ')
SERVE=$(part 'cgi-bin/app.c:serve_one ')
request strace -c -f -o "$DIR/strace.txt" >/dev/null
# The calls column of strace -c's line for system call $1 ("total": all).
sc() {
	awk -v s="$1" '$NF == s { print $4; f = 1 } END { if (!f) print 0 }' \
	    "$DIR/strace.txt"
}
SYSCALLS=$(sc total)

# --- 4: Apache, plain CGI and mod_fcgid -----------------------------------

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wrk_mode MODE: req/s of the detail through Apache in MODE, into RPS.
wrk_mode() {
	local mode=$1 port out
	port=$(free_port)
	say "Apache $mode on port $port"
	STARTED=$mode
	SUPPORT_VAR=$VAR SUPPORT_PORT=$port SUPPORT_SERVER=$mode \
	    "$ROOT/run.sh" --background >"$DIR/run-$mode.log" 2>&1 ||
	    { tail "$DIR/run-$mode.log" >&2; die "run.sh $mode"; }
	out=$(curl -s -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$URL_PATH")
	[ "$out" = 200 ] || die "$mode: the detail answers $out"
	wrk -t2 -c16 -d"$DURATION" -H "Authorization: Bearer $TOKEN" \
	    "http://127.0.0.1:$port$URL_PATH" >"$DIR/wrk-$mode.txt" 2>&1 ||
	    die "wrk $mode"
	SUPPORT_VAR=$VAR SUPPORT_SERVER=$mode "$ROOT/run.sh" stop >&2
	STARTED=""
	if grep -q "Non-2xx" "$DIR/wrk-$mode.txt"; then
		say "WARNING: $mode had non-2xx answers (see $DIR/wrk-$mode.txt)"
	fi
	RPS=$(awk '/^Requests\/sec/ { print $2 }' "$DIR/wrk-$mode.txt")
	[ -n "$RPS" ] || die "wrk $mode printed no rate"
}

APACHE_ROWS=""
if [ "$APACHE" = yes ]; then
	wrk_mode apache-cgi
	CGI_RPS=$RPS
	wrk_mode apache-fcgid
	FCGID_RPS=$RPS
	RATIO=$(python3 -c "print('%.3f' % ($CGI_RPS / $FCGID_RPS))")
	APACHE_ROWS="
Through Apache, \`wrk -t2 -c16 -d$DURATION\` on the same detail, one mode after the other:

| mode | req/s |
|---|---|
| apache-cgi (one process a request) | $CGI_RPS |
| apache-fcgid (conf/apache/fcgid.conf) | $FCGID_RPS |
| plain CGI / mod_fcgid | $RATIO |
"
fi

# --- Report -----------------------------------------------------------------

REPORT=$DIR/results.md
cat >"$REPORT" <<EOF
### Plain CGI, $(date -u '+%Y-%m-%d %H:%M UTC'), $TICKETS tickets, commit $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git status --short lib cgi-bin | awk '{ f = f " " $2 } END { if (f != "") print ", uncommitted:" f }')

Machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.
The ticket detail with 20 messages as its owner, \`cgi-bin/tickets\` run
from \`env -i\` with a CGI environment, $REQUESTS times in a row:

| | median ms | p90 ms | mean ms |
|---|---|---|---|
| detail, plain CGI | $MED | $P90 | $MEAN |
| \`env -i /bin/true\` | $TMED | $TP90 | $TMEAN |

One detail request as a whole process:

| measure | count |
|---|---|
| instructions (callgrind) | $INSTR |
| of which the dynamic loader (\`_dl_start\`) | $LOADER |
| of which \`store_open\` / \`store_close\` | $OPEN / $CLOSE |
| of which the request (\`serve_one\`) | $SERVE |
| system calls (strace -c -f) | $SYSCALLS |
| fdatasync / pwrite64 | $(sc fdatasync) / $(sc pwrite64) |
| openat / mmap / fcntl | $(sc openat) / $(sc mmap) / $(sc fcntl) |

Recovery on a normal open: $RECOVERY.
$APACHE_ROWS
EOF
cat "$REPORT"
say "report in $REPORT"
