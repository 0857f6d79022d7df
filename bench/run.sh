#!/bin/bash
# bench/run.sh - the benchmark of DESIGN §10, in one run on this machine.
#
#   bench/run.sh [--tickets N] [--duration 10s] [--sweep "2 4 8"]
#                [--mem-requests 100000] [--no-mem] [--profile] [--no-build]
#                [--post-only]
#
# Builds bench/hello and bench/gen, generates a store of N tickets (default
# 10000) under bench/out/store-N/ unless one is there already, then starts
# nginx with the hello responder at /hello and the support programs as
# conf/nginx-support.conf serves them, all on 127.0.0.1 at a free port, and
# measures with wrk -t2 -c16 (DESIGN §10):
#   hello (before and after), ticket detail with 20 messages, a list page,
#   the messages poll answered 304, posting a message (durable commit),
#   the chat page (HTML, 20 messages), the staff's queue page (filtered
#   to the unassigned tickets, with its views' counts) and the log-in
#   form's POST;
#   two staff writes of the agent desk: a bulk change of 20 tickets'
#   priority (bulk.lua) and the render of a canned response with every
#   placeholder (postjson.lua; the response is made through the API on the
#   first run and found again on later ones);
# each as a ratio to hello.  Controls: hello with bodies as large as the
# detail's and the list's.  Beside posting, a floor: hello with one durable
# Berkeley DB commit a request (hello --commit), posted the same bodies.  --sweep measures posting again with the
# messages program at each of those worker counts (the log-flush question
# of DESIGN §5), each against hello run with as many workers.  Then
# memory: the tickets program with one worker serves --mem-requests
# requests, and Anonymous and Rss of that worker are read from
# /proc/PID/smaps_rollup at 0, half way and the end.  For each of our
# endpoints it also reports, from the store's statistics (gen --env-stat),
# the lock requests, cache page gets and misses per request, and while
# posting, commits per log flush.  --profile records perf profiles instead
# of trusting the timings (see profile() below); --no-build uses the
# binaries as they are.  --post-only measures hello and posting only (with
# the sweep, if asked; no memory run): a short before/after comparison of
# a change to posting, report in bench/out/results-post-N.md.
#
# Prints a Markdown report and writes it to bench/out/results-N.md.
# Stops, by pid, everything it started.  SUPPORT_CHILDREN (default 2, as
# run.sh) is the worker count of every program, hello included.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
OUT=$BENCH/out
TICKETS=10000
DURATION=10s
SWEEP=""
MEM_REQUESTS=100000
MEM=yes
PROFILE=no
BUILD=yes
POST_ONLY=no
CHILDREN=${SUPPORT_CHILDREN:-2}
THREADS=2
CONNS=16
LOGIN_USER=bench-login
LOGIN_PASSWORD=bench-login-password

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--tickets) TICKETS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--sweep) SWEEP=$2; shift 2 ;;
	--mem-requests) MEM_REQUESTS=$2; shift 2 ;;
	--no-mem) MEM=no; shift ;;
	--profile) PROFILE=yes; shift ;;
	--no-build) BUILD=no; shift ;;
	--post-only) POST_ONLY=yes; MEM=no; shift ;;
	*) echo "usage: $0 [--tickets N] [--duration 10s] [--sweep \"2 4 8\"]" \
	    "[--mem-requests N] [--no-mem] [--profile] [--no-build]" \
	    "[--post-only]" >&2; exit 2 ;;
	esac
done
case $TICKETS in *[!0-9]* | "") die "--tickets takes a number" ;; esac

STORE=$OUT/store-$TICKETS
RUN=$OUT/run-$TICKETS
RESULTS=$OUT/results-$TICKETS.md

# --- Tools ---------------------------------------------------------------

need_tools() {
	if ! command -v wrk >/dev/null; then
		[ "$(id -u)" -eq 0 ] || die "wrk is missing: apt-get install -y wrk"
		say "installing wrk"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk \
		    >/dev/null || die "apt-get install wrk failed"
	fi
	for t in curl python3 /usr/sbin/nginx; do
		command -v "$t" >/dev/null || die "$t is missing (see ./run.sh deps)"
	done
}

build() {
	say "building"
	(cd "$ROOT" && make -s -j2 && make -s bench/hello bench/gen) >&2 ||
	    die "the build failed"
}

# --- The store ------------------------------------------------------------

# Generate the store of $TICKETS tickets once; later runs reuse it.
generate() {
	if [ -f "$STORE/gen.done" ]; then
		say "reusing the store in $STORE"
		[ -f "$STORE/verify.out" ] || verify_store
		return
	fi
	say "generating $TICKETS tickets in $STORE"
	rm -rf "$STORE"
	mkdir -p "$STORE/data"
	chmod 700 "$STORE/data"
	# Generation only: commits need not reach the disk one by one (the
	# store is checkpointed at the end), customers have no ticket limit,
	# and a large cache keeps the growing B-trees in memory.
	cat >"$STORE/gen.conf" <<EOF
[support]
data_dir = $STORE/data
durability = nosync
cache_kb = 1048576
max_tickets_per_user = 0
EOF
	start=$(date +%s)
	"$BENCH/gen" --conf "$STORE/gen.conf" --tickets "$TICKETS" \
	    --out "$STORE" >"$STORE/gen.out" 2>"$STORE/gen.log" ||
	    { cat "$STORE/gen.log" >&2; die "gen failed"; }
	echo "gen_seconds=$(($(date +%s) - start))" >>"$STORE/gen.out"
	touch "$STORE/gen.done"
	verify_store
}

# The programs' configuration: conf/support.conf.example on this store.
runtime_conf() {
	sed -e "s|@DATA@|$STORE/data|" \
	    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
	    "$ROOT/conf/support.conf.example" >"$1"
}

# Make the environment's regions afresh with conf $1 and this build (the
# store is ours: nothing else has it open).
reset_env() {
	"$BENCH/gen" --conf "$1" --reset-env || die "gen --reset-env"
}

# With the programs' configuration, so that the environment's regions
# (gen removed its own) are made with the cache size the programs use.
verify_store() {
	say "supportctl db verify"
	runtime_conf "$STORE/verify.conf"
	reset_env "$STORE/verify.conf"
	start=$(date +%s)
	"$ROOT/bin/supportctl" --conf "$STORE/verify.conf" db verify \
	    >"$STORE/verify.out" 2>&1 ||
	    { tail -20 "$STORE/verify.out" >&2; mv "$STORE/verify.out" "$STORE/verify.failed"
	      die "db verify failed"; }
	echo "verify_seconds=$(($(date +%s) - start))" >>"$STORE/verify.out"
}

# --- Processes ------------------------------------------------------------

PIDS=""

running() {
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $state in Z*) return 1 ;; esac
}

# Stop pid $1 (one we started) and wait for it, at most 5 s, then -9.
stop_pid() {
	pid=$1
	kill "$pid" 2>/dev/null || return 0
	i=0
	while running "$pid" && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	running "$pid" && kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

stop_all() {
	for pid in $PIDS; do
		stop_pid "$pid"
	done
	PIDS=""
}
trap 'stop_all' EXIT
trap 'exit 1' INT TERM

forget_pid() {
	new=""
	for p in $PIDS; do [ "$p" = "$1" ] || new="$new $p"; done
	PIDS=$new
}

# Start program $1 ($2: worker count) on $RUN/run/$1.sock; sets LAST_PID.
start_prog() {
	local name=$1 n=$2 bin
	case $name in
	hello) bin=$BENCH/hello; set -- ;;
	hellobig) bin=$BENCH/hello; set -- --size "$BIG" ;;
	hellolist) bin=$BENCH/hello; set -- --size "$BIG_LIST" ;;
	hellocommit) bin=$BENCH/hello; mkdir -p "$RUN/floor"
		set -- --commit "$RUN/floor" ;;
	*) bin=$ROOT/cgi-bin/$name; set -- --conf "$RUN/support.conf" ;;
	esac
	"$bin" "$@" --listen "unix:$RUN/run/$name.sock" --children "$n" \
	    </dev/null >>"$RUN/log/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
	eval "PID_$name=$LAST_PID"
	i=0
	until [ -S "$RUN/run/$name.sock" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "$name did not listen; see $RUN/log/$name.log"
		sleep 0.05
	done
}

restart_prog() {
	eval "old=\$PID_$1"
	stop_pid "$old"
	forget_pid "$old"
	rm -f "$RUN/run/$1.sock"
	start_prog "$1" "$2"
}

# The workers of supervisor $1 (its children), one pid a line.
workers_of() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

setup_run() {
	rm -rf "$RUN"
	mkdir -p "$RUN/run" "$RUN/log" "$RUN/tmp"
	PORT=$(free_port)
	BASE=http://127.0.0.1:$PORT
	runtime_conf "$RUN/support.conf"
	user=""
	[ "$(id -u)" -eq 0 ] && user="user root;"
	# conf/nginx.conf as run.sh fills it in, with /hello beside the desk.
	grep -q 'include @VAR@/nginx-support.conf;' "$ROOT/conf/nginx.conf" ||
	    die "conf/nginx.conf no longer includes nginx-support.conf"
	sed -e "s|include @VAR@/nginx-support.conf;|&\n\t\tinclude $RUN/nginx-hello.conf;|" \
	    -e "s|@VAR@|$RUN|g" -e "s|@PORT@|$PORT|g" \
	    -e "s|@HTDOCS@|$ROOT/htdocs|g" -e "s|@USER@|$user|" \
	    "$ROOT/conf/nginx.conf" >"$RUN/nginx.conf"
	max_body=$(sed -n 's/^[[:space:]]*max_body_bytes[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
	    "$RUN/support.conf" | tail -n 1)
	sed -e "s|@RUN@|$RUN/run|g" -e "s|@CONF@|$ROOT/conf|g" \
	    -e "s|@HTDOCS@|$ROOT/htdocs|g" -e "s|@MAX_BODY@|${max_body:-262144}|g" \
	    "$ROOT/conf/nginx-support.conf" >"$RUN/nginx-support.conf"
	cat >"$RUN/nginx-hello.conf" <<EOF
# The limit probe, passed exactly as the desk's locations are.
location = /hello {
	fastcgi_pass unix:$RUN/run/hello.sock;
	include $ROOT/conf/fastcgi-support.conf;
}
# A control: hello with a body as large as the ticket detail's.
location = /hello-big {
	fastcgi_pass unix:$RUN/run/hellobig.sock;
	include $ROOT/conf/fastcgi-support.conf;
}
# A control: hello with a body as large as the list page's.
location = /hello-list {
	fastcgi_pass unix:$RUN/run/hellolist.sock;
	include $ROOT/conf/fastcgi-support.conf;
}
# The floor under posting: hello that commits each request's body durably.
location = /hello-commit {
	fastcgi_pass unix:$RUN/run/hellocommit.sock;
	include $ROOT/conf/fastcgi-support.conf;
}
EOF
}

# Tokens: the agent, and each customer that owns a ticket we use.
make_tokens() {
	export SUPPORT_CONF=$RUN/support.conf
	reset_env "$RUN/support.conf"
	say "creating API tokens"
	AGENT_TOKEN=$("$ROOT/bin/supportctl" token create bench-agent --label bench) ||
	    die "token create bench-agent"
	: >"$RUN/tokens"
	for u in $(cut -d' ' -f2 "$STORE/detail.txt" "$STORE/targets.txt" | sort -u); do
		t=$("$ROOT/bin/supportctl" token create "$u" --label bench) ||
		    die "token create $u"
		echo "$u $t" >>"$RUN/tokens"
	done
	# A customer with a known password for the log-in POST (the store
	# is reused between runs: the account may be there already).
	echo "$LOGIN_PASSWORD" | "$ROOT/bin/supportctl" user add "$LOGIN_USER" \
	    --email "$LOGIN_USER@localhost" --role user --password-stdin \
	    >/dev/null 2>&1 || true
	read -r DETAIL DETAIL_OWNER <"$STORE/detail.txt"
	OWNER_TOKEN=$(awk -v u="$DETAIL_OWNER" '$1 == u { print $2 }' "$RUN/tokens")
	# post.lua's list: ticket and its owner's token.
	awk 'NR == FNR { tok[$1] = $2; next } { print $1, tok[$2] }' \
	    "$RUN/tokens" "$STORE/targets.txt" >"$RUN/post-targets"
}

start_servers() {
	start_prog hello "$CHILDREN"
	start_prog hellocommit "$CHILDREN"
	start_prog tickets "$CHILDREN"
	start_prog messages "$CHILDREN"
	start_prog session "$CHILDREN"
	start_prog canned "$CHILDREN"
	/usr/sbin/nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/log/nginx-error.log" \
	    </dev/null >>"$RUN/log/nginx.log" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/hello")" = 200 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "nginx did not answer /hello; see $RUN/log/"
		sleep 0.1
	done
}

# --- Checks before measuring ------------------------------------------------

# expect STATUS FILE curl-args...: the status must be STATUS.
expect() {
	want=$1 file=$2
	shift 2
	got=$(curl -s -o "$file" -D "$file.headers" -w '%{http_code}' "$@") ||
	    die "curl $*"
	[ "$got" = "$want" ] || { head -c 400 "$file" >&2; echo >&2
		die "$* answered $got, not $want"; }
}

json_check() {
	python3 - "$@" <<'EOF' || die "unexpected body: $1 ($2)"
import json, sys
body = json.load(open(sys.argv[1]))
what = sys.argv[2]
if what == "detail":
    n = len(body["messages"])
    assert n == 20, "%d messages" % n
elif what == "list":
    assert len(body["results"]) == 20 and body["count"] > 0, body.get("count")
EOF
}

check_endpoints() {
	say "checking each endpoint answers as expected"
	c=$RUN/check
	expect 200 "$c.hello" "$BASE/hello"
	[ "$(cat "$c.hello")" = "Hello, world" ] || die "/hello body"
	expect 200 "$c.hellocommit" -d '{"content":"check"}' "$BASE/hello-commit"
	DETAIL_URL=$BASE/api/support/tickets/$DETAIL/
	expect 200 "$c.detail" -H "Authorization: Bearer $OWNER_TOKEN" "$DETAIL_URL"
	json_check "$c.detail" detail
	BIG=$(wc -c <"$c.detail")
	start_prog hellobig "$CHILDREN"
	expect 200 "$c.hellobig" "$BASE/hello-big"
	[ "$(wc -c <"$c.hellobig")" = "$BIG" ] || die "/hello-big body size"
	LIST_URL="$BASE/api/support/tickets/?page_size=20"
	expect 200 "$c.list" -H "Authorization: Bearer $AGENT_TOKEN" "$LIST_URL"
	json_check "$c.list" list
	BIG_LIST=$(wc -c <"$c.list")
	start_prog hellolist "$CHILDREN"
	expect 200 "$c.hellolist" "$BASE/hello-list"
	[ "$(wc -c <"$c.hellolist")" = "$BIG_LIST" ] || die "/hello-list body size"
	POLL_URL=$BASE/api/support/tickets/$DETAIL/messages/
	expect 200 "$c.poll" -H "Authorization: Bearer $OWNER_TOKEN" "$POLL_URL"
	ETAG=$(awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }' "$c.poll.headers")
	[ -n "$ETAG" ] || die "no ETag on $POLL_URL"
	expect 304 "$c.poll304" -H "Authorization: Bearer $OWNER_TOKEN" \
	    -H "If-None-Match: $ETAG" "$POLL_URL"
	PAGE_URL=$BASE/support/tickets/$DETAIL/
	expect 200 "$c.page" -H "Authorization: Bearer $OWNER_TOKEN" "$PAGE_URL"
	[ "$(grep -c '<li id="m-' "$c.page")" = 20 ] ||
	    die "the chat page does not show 20 messages"
	QUEUE_URL="$BASE/support/?status=open,waiting_for_admin&assignee=none"
	expect 200 "$c.queuepage" -H "Authorization: Bearer $AGENT_TOKEN" "$QUEUE_URL"
	grep -q 'aria-current="page"><span class="view-name">Unassigned<' "$c.queuepage" ||
	    die "the queue page does not show the Unassigned view"
	LOGIN_URL=$BASE/support/login/
	expect 200 "$c.loginform" "$LOGIN_URL"
	LOGIN_TOKEN=$(awk 'tolower($1) == "set-cookie:" && $2 ~ /^csrftoken=/ {
	    sub(/^csrftoken=/, "", $2); sub(/;.*/, "", $2); print $2 }' \
	    "$c.loginform.headers")
	[ -n "$LOGIN_TOKEN" ] || die "no csrftoken cookie from $LOGIN_URL"
	expect 303 "$c.login" -H "Cookie: csrftoken=$LOGIN_TOKEN" \
	    --data-urlencode "username=$LOGIN_USER" \
	    --data-urlencode "password=$LOGIN_PASSWORD" \
	    --data-urlencode "csrfmiddlewaretoken=$LOGIN_TOKEN" "$LOGIN_URL"
	grep -qi '^set-cookie: sessionid=' "$c.login.headers" ||
	    die "the log-in POST set no session cookie"
	read -r t _ <"$RUN/post-targets"
	expect 201 "$c.post" -H "Authorization: Bearer $AGENT_TOKEN" \
	    -H 'Content-Type: application/json' \
	    -d '{"content":"Benchmark check."}' \
	    "$BASE/api/support/tickets/$t/messages/"
	check_desk_writes
}

# The bulk change and the canned render: the canned response (the store
# is reused, so it may be there from an earlier run: found by its
# shortcut), a bulk change of the first 20 targets answered with all 20,
# and a render with every placeholder filled.
CANNED_SHORTCUT=bench-render
CANNED_BODY='Hello {{customer.name}},\n\nthank you for writing about #{{ticket.number}}, \"{{ticket.subject}}\". We will write to {{customer.email}} again soon.\n\n{{agent.name}}'
check_desk_writes() {
	local c=$RUN/check p bulk
	expect 200 "$c.canned" -H "Authorization: Bearer $AGENT_TOKEN" \
	    "$BASE/api/support/canned-responses/"
	CANNED_ID=$(python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["shortcut"] == sys.argv[2]:
        print(r["id"]); break' "$c.canned" "$CANNED_SHORTCUT") ||
	    die "the canned responses' list"
	if [ -z "$CANNED_ID" ]; then
		expect 201 "$c.cannednew" -H "Authorization: Bearer $AGENT_TOKEN" \
		    -H 'Content-Type: application/json' \
		    -d "{\"title\":\"Bench render\",\"shortcut\":\"$CANNED_SHORTCUT\",\"body\":\"$CANNED_BODY\"}" \
		    "$BASE/api/support/canned-responses/"
		CANNED_ID=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["id"])' "$c.cannednew") ||
		    die "the new canned response"
	fi
	RENDER_URL=$BASE/api/support/canned-responses/$CANNED_ID/render/
	RENDER_BODY="{\"ticket\":\"$DETAIL\"}"
	expect 200 "$c.render" -H "Authorization: Bearer $AGENT_TOKEN" \
	    -H 'Content-Type: application/json' -d "$RENDER_BODY" "$RENDER_URL"
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["content"]
assert "{{" not in c and c.startswith("Hello ") and "#" in c, c' \
	    "$c.render" || die "the render left a placeholder"
	BULK_URL=$BASE/api/support/tickets/bulk/
	bulk=$(head -20 "$RUN/post-targets" | awk '{ printf "%s\"%s\"",
	    (NR > 1 ? "," : "["), $1 } END { print "]" }')
	for p in urgent low; do
		expect 200 "$c.bulk" -H "Authorization: Bearer $AGENT_TOKEN" \
		    -H 'Content-Type: application/json' \
		    -d "{\"uuids\":$bulk,\"priority\":\"$p\"}" "$BULK_URL"
	done
	# The second of the two changed every ticket.
	python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
assert b["updated"] == 20 and len(b["results"]) == 20, b["updated"]' \
	    "$c.bulk" || die "the bulk change did not change 20 tickets"
}

# --- Measuring -----------------------------------------------------------

# wrk_run NAME wrk-args...: one measurement; NAME.wrk holds the output.
# Sets RPS, BAD (non-2xx/3xx), ERRS (socket errors), LAT (average latency).
wrk_run() {
	name=$1
	shift
	say "wrk $name"
	wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" >"$RUN/$name.wrk" 2>&1 &
	wpid=$!
	PIDS="$PIDS $wpid"
	[ "$PROFILE" = no ] || profile "$name"
	wait "$wpid" || { cat "$RUN/$name.wrk" >&2; die "wrk $name"; }
	forget_pid "$wpid"
	RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$RUN/$name.wrk")
	[ -n "$RPS" ] || { cat "$RUN/$name.wrk" >&2; die "wrk $name: no result"; }
	BAD=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$RUN/$name.wrk")
	BAD=${BAD:-0}
	ERRS=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' \
	    "$RUN/$name.wrk")
	ERRS=${ERRS:-none}
	LAT=$(awk '$1 == "Latency" { print $2; exit }' "$RUN/$name.wrk")
}

# --profile: where the CPU goes while wrk runs (the whole machine, 4 s from
# the 2nd second), by process and library, and our programs' hottest
# functions, in $RUN/NAME.perf.txt.  perf slows everything: a profiled
# run's req/s are not the benchmark's.
profile() {
	sleep 2
	perf record -q -F 999 -e cpu-clock -g -a -o "$RUN/$1.perf" -- sleep 4 \
	    >/dev/null 2>&1 || { say "perf record failed"; return 0; }
	{
	echo "== CPU by process and library =="
	perf report -i "$RUN/$1.perf" --no-children -g none --sort comm,dso \
	    --stdio 2>/dev/null | grep -v '^#' | grep . | head -25
	for comm in tickets messages hello; do
		echo "== $comm: hottest functions =="
		perf report -i "$RUN/$1.perf" --no-children -g none --comms "$comm" \
		    --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep . | head -30
	done
	} >"$RUN/$1.perf.txt"
}

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
meets() { python3 -c "print('yes' if $1 >= $2 else 'NO')"; }

# The environment's totals so far: commits, log flushes, lock requests,
# lock waits, deadlocks, cache page gets, cache misses (gen --env-stat).
dbstat() {
	"$BENCH/gen" --conf "$RUN/support.conf" --env-stat || die "gen --env-stat"
}

# stat_run NAME wrk-args...: wrk_run, and what the store did meanwhile.
# PER: lock requests, cache page gets and misses per request;
# STATS: commits per log flush, lock waits per commit, deadlocks.
stat_run() {
	before=$(dbstat)
	wrk_run "$@"
	after=$(dbstat)
	nreq=$(awk '/requests in/ { print $1; exit }' "$RUN/$1.wrk")
	PER=$(echo "$before $after $nreq" | awk '{ n = $15 ? $15 : 1
	    printf "%.1f | %.1f | %.2f", ($10 - $3) / n, ($13 - $6) / n, ($14 - $7) / n }')
	STATS=$(echo "$before $after" | awk '{ c = $8 - $1; f = $9 - $2;
	    printf "%.2f | %.2f | %d", f ? c / f : 0, c ? ($11 - $4) / c : 0, $12 - $5 }')
}

# CPU time (user and system, in clock ticks) the messages workers have
# used so far: "user sys", summed over the supervisor's children.
messages_cpu() {
	for w in $(workers_of "$PID_messages"); do
		awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$w/stat" \
		    2>/dev/null || true
	done | awk '{ u += $1; s += $2 } END { print u + 0, s + 0 }'
}

# post_run NAME: posting, with stat_run's figures; CPU: the messages
# workers' CPU time per post in µs, "user | system" (a measure that moves
# less with the machine's load than req/s: what a post costs, kernel
# included, not how long it waits).
post_run() {
	cpu0=$(messages_cpu)
	stat_run "$1" -s "$BENCH/post.lua" "$BASE/" -- "$RUN/post-targets" "$AGENT_TOKEN"
	cpu1=$(messages_cpu)
	CPU=$(echo "$cpu0 $cpu1 $nreq $(getconf CLK_TCK)" | awk '{ n = $5 ? $5 : 1
	    printf "%.0f | %.0f", ($3 - $1) * 1e6 / $6 / n, ($4 - $2) * 1e6 / $6 / n }')
}

# floor_run NAME: the same posts to hello --commit (post.lua's third
# argument sends them all to /hello-commit).
floor_run() {
	wrk_run "$1" -s "$BENCH/post.lua" "$BASE/" -- "$RUN/post-targets" \
	    "$AGENT_TOKEN" /hello-commit
}

measure() {
	# Warm up nginx, the workers and the client; not recorded.
	wrk -t"$THREADS" -c"$CONNS" -d2s "$BASE/hello" >/dev/null 2>&1 ||
	    die "wrk warm-up"
	wrk_run hello1 "$BASE/hello"
	HELLO1=$RPS HELLO1_BAD=$BAD HELLO1_ERRS=$ERRS HELLO1_LAT=$LAT
	wrk_run hellobig "$BASE/hello-big"
	BIG_RPS=$RPS BIG_BAD=$BAD BIG_ERRS=$ERRS BIG_LAT=$LAT
	wrk_run hellolist "$BASE/hello-list"
	BIGL_RPS=$RPS BIGL_BAD=$BAD BIGL_ERRS=$ERRS BIGL_LAT=$LAT
	stat_run detail -H "Authorization: Bearer $OWNER_TOKEN" "$DETAIL_URL"
	DETAIL_PER=$PER DETAIL_RPS=$RPS DETAIL_BAD=$BAD DETAIL_ERRS=$ERRS DETAIL_LAT=$LAT
	stat_run list -H "Authorization: Bearer $AGENT_TOKEN" "$LIST_URL"
	LIST_PER=$PER LIST_RPS=$RPS LIST_BAD=$BAD LIST_ERRS=$ERRS LIST_LAT=$LAT
	stat_run poll304 -H "Authorization: Bearer $OWNER_TOKEN" \
	    -H "If-None-Match: $ETAG" "$POLL_URL"
	POLL_PER=$PER POLL_RPS=$RPS POLL_BAD=$BAD POLL_ERRS=$ERRS POLL_LAT=$LAT
	# Every answer must still be 304: wrk counts 3xx as good, so a 200
	# (the tag moved on) would hide; check again after.
	expect 304 "$RUN/check.poll304b" -H "Authorization: Bearer $OWNER_TOKEN" \
	    -H "If-None-Match: $ETAG" "$POLL_URL"
	stat_run page -H "Authorization: Bearer $OWNER_TOKEN" "$PAGE_URL"
	PAGE_PER=$PER PAGE_RPS=$RPS PAGE_BAD=$BAD PAGE_ERRS=$ERRS PAGE_LAT=$LAT
	stat_run queuepage -H "Authorization: Bearer $AGENT_TOKEN" "$QUEUE_URL"
	QUEUE_PER=$PER QUEUE_RPS=$RPS QUEUE_BAD=$BAD QUEUE_ERRS=$ERRS QUEUE_LAT=$LAT
	stat_run login -s "$BENCH/login.lua" "$LOGIN_URL" -- "$LOGIN_USER" \
	    "$LOGIN_PASSWORD" "$LOGIN_TOKEN"
	LOGIN_PER=$PER LOGIN_RPS=$RPS LOGIN_BAD=$BAD LOGIN_ERRS=$ERRS LOGIN_LAT=$LAT
	post_run post
	POST_STATS=$STATS POST_PER=$PER
	POST_RPS=$RPS POST_BAD=$BAD POST_ERRS=$ERRS POST_LAT=$LAT
	floor_run floor
	FLOOR_RPS=$RPS FLOOR_BAD=$BAD FLOOR_ERRS=$ERRS FLOOR_LAT=$LAT
	stat_run bulk -s "$BENCH/bulk.lua" "$BULK_URL" -- "$RUN/post-targets" \
	    "$AGENT_TOKEN"
	BULK_STATS=$STATS BULK_PER=$PER
	BULK_RPS=$RPS BULK_BAD=$BAD BULK_ERRS=$ERRS BULK_LAT=$LAT
	stat_run render -s "$BENCH/postjson.lua" "$RENDER_URL" -- \
	    "$AGENT_TOKEN" "$RENDER_BODY"
	RENDER_PER=$PER RENDER_RPS=$RPS RENDER_BAD=$BAD RENDER_ERRS=$ERRS
	RENDER_LAT=$LAT
	wrk_run hello2 "$BASE/hello"
	HELLO2=$RPS HELLO2_BAD=$BAD HELLO2_ERRS=$ERRS HELLO2_LAT=$LAT
	HELLO=$(python3 -c "print('%.2f' % (($HELLO1 + $HELLO2) / 2))")
}

# --post-only: hello before and after, and posting between them.
measure_post() {
	wrk -t"$THREADS" -c"$CONNS" -d2s "$BASE/hello" >/dev/null 2>&1 ||
	    die "wrk warm-up"
	wrk_run hello1 "$BASE/hello"
	HELLO1=$RPS
	post_run post
	POST_STATS=$STATS POST_PER=$PER POST_CPU=$CPU
	POST_RPS=$RPS POST_BAD=$BAD POST_ERRS=$ERRS POST_LAT=$LAT
	floor_run floor
	FLOOR_RPS=$RPS FLOOR_BAD=$BAD FLOOR_ERRS=$ERRS FLOOR_LAT=$LAT
	wrk_run hello2 "$BASE/hello"
	HELLO2=$RPS
	HELLO=$(python3 -c "print('%.2f' % (($HELLO1 + $HELLO2) / 2))")
}

# Posting with the messages program at other worker counts.  The probe
# keeps the same process count: hello is measured again with as many
# workers, just before, and the row's ratio is to that.
sweep() {
	SWEEP_ROWS=""
	for n in $SWEEP; do
		restart_prog hello "$n"
		wrk_run "hello-children-$n" "$BASE/hello"
		hello_n=$RPS
		restart_prog hellocommit "$n"
		floor_run "floor-children-$n"
		floor_n=$RPS
		restart_prog messages "$n"
		post_run "post-children-$n"
		SWEEP_ROWS="$SWEEP_ROWS| $n | $hello_n | $floor_n ($(ratio "$floor_n" "$hello_n")) | $RPS | $(ratio "$RPS" "$hello_n") | $LAT | $STATS | $CPU | $BAD | $ERRS |
"
	done
	[ -z "$SWEEP" ] || { restart_prog messages "$CHILDREN"
		restart_prog hellocommit "$CHILDREN"
		restart_prog hello "$CHILDREN"; }
}

# "Anonymous Rss" of pid $1, in kB.
mem_of() {
	awk '/^Anonymous:/ { a = $2 } /^Rss:/ { r = $2 } END { print a, r }' \
	    "/proc/$1/smaps_rollup"
}

# The tickets program with one worker: detail and list pages in turn.
memory() {
	restart_prog tickets 1
	i=0
	while [ -z "$(workers_of "$PID_tickets")" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "no tickets worker"
		sleep 0.05
	done
	WORKER=$(workers_of "$PID_tickets" | head -1)
	half=$((MEM_REQUESTS / 2))
	MEM_ROWS="| 0 | $(mem_of "$WORKER" | awk '{ print $1 " | " $2 }') |
"
	done_reqs=0
	for step in 1 2; do
		say "memory: $half requests to the tickets worker $WORKER"
		# -d is only the bound: count.lua stops after $half answers and
		# says so in a file; then SIGINT makes wrk report at once.
		rm -f "$RUN/mem-$step.done"
		wrk -t1 -c4 -d600s -H "Authorization: Bearer $AGENT_TOKEN" \
		    -s "$BENCH/count.lua" "$BASE/" -- "$RUN/mem-$step.done" "$half" \
		    "/api/support/tickets/$DETAIL/" "/api/support/tickets/?page_size=20" \
		    >"$RUN/mem-$step.wrk" 2>&1 &
		wrk_pid=$!
		PIDS="$PIDS $wrk_pid"
		while [ ! -f "$RUN/mem-$step.done" ] && running "$wrk_pid"; do
			sleep 0.2
		done
		kill -INT "$wrk_pid" 2>/dev/null || true
		wait "$wrk_pid" || die "wrk memory: $(cat "$RUN/mem-$step.wrk")"
		forget_pid "$wrk_pid"
		n=$(awk '/requests in/ { print $1 }' "$RUN/mem-$step.wrk")
		bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$RUN/mem-$step.wrk")
		[ -z "$bad" ] || die "memory run: $bad non-2xx/3xx answers"
		done_reqs=$((done_reqs + n))
		[ "$(workers_of "$PID_tickets" | head -1)" = "$WORKER" ] ||
		    die "the tickets worker was replaced during the memory run"
		MEM_ROWS="$MEM_ROWS| $done_reqs | $(mem_of "$WORKER" | awk '{ print $1 " | " $2 }') |
"
	done
	CACHE_KB=$(awk -F= '/^cache_kb/ { gsub(/ /, "", $2); print $2 }' "$RUN/support.conf")
	CACHE_STAT=$(db5.3_stat -m -h "$STORE/data" 2>/dev/null |
	    awk '/Total cache size/ { print $1; exit }' || true)
	restart_prog tickets "$CHILDREN"
}

# --- Report --------------------------------------------------------------

# The report of --post-only, in bench/out/results-post-N.md.
report_post() {
	{
	echo "## Posting, $TICKETS tickets — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Code: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?');" \
	    "$CHILDREN workers per program; wrk -t$THREADS -c$CONNS -d$DURATION."
	echo
	echo "| | req/s | ratio to hello | avg latency | non-2xx/3xx | socket errors | BDB locks / req | cache page gets / req | cache misses / req |"
	echo "|---|---|---|---|---|---|---|---|---|"
	echo "| hello (before / after) | $HELLO1 / $HELLO2 | | | | | | | |"
	echo "| POST message, durable | $POST_RPS | $(ratio "$POST_RPS" "$HELLO") | $POST_LAT | $POST_BAD | $POST_ERRS | $POST_PER |"
	echo "| floor: hello --commit, the same posts | $FLOOR_RPS | $(ratio "$FLOOR_RPS" "$HELLO") | $FLOOR_LAT | $FLOOR_BAD | $FLOOR_ERRS | | | |"
	echo
	echo "While posting: $(echo "$POST_STATS" |
	    awk -F' [|] ' '{ print $1 " commits per log flush, " $2 " lock waits per commit, " $3 " deadlocks" }');"
	echo "CPU of the messages workers per post: $(echo "$POST_CPU" |
	    awk -F' [|] ' '{ print $1 " µs user, " $2 " µs system" }')."
	if [ -n "$SWEEP" ]; then
		echo
		echo "| workers (messages and hello) | hello req/s | floor: hello --commit req/s (ratio) | post req/s | ratio to hello | avg latency | commits per log flush | lock waits per commit | deadlocks | CPU µs / post, user | CPU µs / post, system | non-2xx/3xx | socket errors |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		printf '%s' "$SWEEP_ROWS"
	fi
	} >"$OUT/results-post-$TICKETS.md"
	cat "$OUT/results-post-$TICKETS.md"
}

report() {
	gen_s=$(awk -F= '/^gen_seconds=/ { print $2 }' "$STORE/gen.out")
	gen_line=$(grep '^generated' "$STORE/gen.out" || true)
	ver=$(grep 'problem' "$STORE/verify.out" | tail -1)
	row() { # name rps lat bad errs target per-request-stats
		r=$(ratio "$2" "$HELLO")
		if [ -n "$6" ]; then
			printf '| %s | %s | %s | %s | ≥ %s | %s | %s | %s | %s |\n' \
			    "$1" "$2" "$r" "$3" "$6" "$(meets "$r" "$6")" "$4" "$5" "$7"
		else
			printf '| %s | %s | %s | %s | | | %s | %s | %s |\n' \
			    "$1" "$2" "$r" "$3" "$4" "$5" "${7:- | | }"
		fi
	}
	{
	echo "## $TICKETS tickets — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Store: $gen_line (gen ${gen_s} s, durability=nosync); db verify: $ver."
	echo "Code: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" &&
	    git status --short lib cgi-bin 2>/dev/null | awk '{ f = f " " $2 } END { if (f != "") print ", with uncommitted changes in" f }');" \
	    "binaries $(cat "$ROOT/cgi-bin/tickets" "$ROOT/cgi-bin/messages" | md5sum | cut -c1-8) (md5 of cgi-bin/tickets + messages)."
	echo "nginx worker_processes 1; $CHILDREN workers per program (hello too);"
	echo "wrk -t$THREADS -c$CONNS -d$DURATION on 127.0.0.1. Ratio: to the mean of hello before and after."
	echo
	echo "| endpoint | req/s | ratio to hello | avg latency | target | met | non-2xx/3xx | socket errors | BDB locks / req | cache page gets / req | cache misses / req |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	row "hello (before)" "$HELLO1" "$HELLO1_LAT" "$HELLO1_BAD" "$HELLO1_ERRS" ""
	row "hello (after)" "$HELLO2" "$HELLO2_LAT" "$HELLO2_BAD" "$HELLO2_ERRS" ""
	row "control: hello with a $BIG-byte body (the detail's size)" "$BIG_RPS" "$BIG_LAT" "$BIG_BAD" "$BIG_ERRS" ""
	row "control: hello with a $BIG_LIST-byte body (the list's size)" "$BIGL_RPS" "$BIGL_LAT" "$BIGL_BAD" "$BIGL_ERRS" ""
	row "GET ticket detail, 20 messages (owner)" "$DETAIL_RPS" "$DETAIL_LAT" "$DETAIL_BAD" "$DETAIL_ERRS" 0.6 "$DETAIL_PER"
	row "GET list page, staff, page_size 20, -updated_at" "$LIST_RPS" "$LIST_LAT" "$LIST_BAD" "$LIST_ERRS" 0.6 "$LIST_PER"
	row "GET messages, If-None-Match → 304 (owner)" "$POLL_RPS" "$POLL_LAT" "$POLL_BAD" "$POLL_ERRS" 0.8 "$POLL_PER"
	row "GET chat page, HTML, 20 messages (owner)" "$PAGE_RPS" "$PAGE_LAT" "$PAGE_BAD" "$PAGE_ERRS" "" "$PAGE_PER"
	row "GET queue page, HTML, staff: unassigned, with its views' counts" "$QUEUE_RPS" "$QUEUE_LAT" "$QUEUE_BAD" "$QUEUE_ERRS" "" "$QUEUE_PER"
	row "POST log-in form → 303 (argon2id, new session)" "$LOGIN_RPS" "$LOGIN_LAT" "$LOGIN_BAD" "$LOGIN_ERRS" "" "$LOGIN_PER"
	row "POST message, durable (owner/agent in turn, $(wc -l <"$RUN/post-targets") tickets)" \
	    "$POST_RPS" "$POST_LAT" "$POST_BAD" "$POST_ERRS" 0.4 "$POST_PER"
	row "floor: hello --commit, one durable commit a post (same bodies)" \
	    "$FLOOR_RPS" "$FLOOR_LAT" "$FLOOR_BAD" "$FLOOR_ERRS" ""
	row "POST bulk change of 20 tickets' priority, staff (bulk.lua)" \
	    "$BULK_RPS" "$BULK_LAT" "$BULK_BAD" "$BULK_ERRS" "" "$BULK_PER"
	row "POST canned-response render, every placeholder, staff" \
	    "$RENDER_RPS" "$RENDER_LAT" "$RENDER_BAD" "$RENDER_ERRS" "" "$RENDER_PER"
	echo
	echo "While posting ($CHILDREN messages workers): $(echo "$POST_STATS" |
	    awk -F' [|] ' '{ print $1 " commits per log flush, " $2 " lock waits per commit, " $3 " deadlocks" }')."
	echo "While changing in bulk: $(echo "$BULK_STATS" |
	    awk -F' [|] ' '{ print $1 " commits per log flush, " $2 " lock waits per commit, " $3 " deadlocks" }')."
	if [ -n "$SWEEP" ]; then
		echo
		echo "Posting by workers of the messages program (durable commits; DESIGN §5):"
		echo
		echo "| workers (messages and hello) | hello req/s | floor: hello --commit req/s (ratio) | post req/s | ratio to hello | avg latency | commits per log flush | lock waits per commit | deadlocks | CPU µs / post, user | CPU µs / post, system | non-2xx/3xx | socket errors |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		printf '%s' "$SWEEP_ROWS"
	fi
	if [ "$MEM" = yes ]; then
		echo
		echo "Memory of one tickets worker (--children 1; detail and list pages in turn,"
		echo "from /proc/PID/smaps_rollup; target: Anonymous under 16 MB and flat):"
		echo
		echo "| requests served | Anonymous kB | Rss kB |"
		echo "|---|---|---|"
		printf '%s' "$MEM_ROWS"
		echo
		echo "Berkeley DB cache (file-backed regions shared by all processes, not in the"
		echo "figures above): cache_kb = $CACHE_KB${CACHE_STAT:+ (db_stat: total cache size $CACHE_STAT)}."
	fi
	} >"$RESULTS"
	cat "$RESULTS"
}

need_tools
[ "$BUILD" = no ] || build
mkdir -p "$OUT"
generate
setup_run
make_tokens
start_servers
check_endpoints
if [ "$POST_ONLY" = yes ]; then
	measure_post
	sweep
	report_post
	exit 0
fi
measure
sweep
[ "$MEM" = no ] || memory
report
