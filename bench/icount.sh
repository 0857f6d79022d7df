#!/bin/bash
# bench/icount.sh - instructions per request, counted by valgrind's
# callgrind: a measure that does not depend on what else the machine is
# doing (wrk ratios do; see RESULTS.md).
#
#   bench/icount.sh [--tickets N] [--requests N] [--warmup N] [--keep]
#       [--mail] [--only "detail list queue triage search searchrare
#       searchpage chat listpage
#       queuepage poll304 poll304s post bulk render stats dashboard"]
#
# Builds the programs and bench/gen, generates a fresh store of N tickets (default 10000) with bench/gen under
# bench/out/icount-N/, then for each endpoint of the benchmark (ticket
# detail with 20 messages as its owner, a staff list page of 20, three
# filtered staff lists (the queue: status=open,waiting_for_admin; the
# unassigned queue: the same with assignee=none; the full-text search of a
# common word, q=button, of a word of one ticket, q=refN, and the queue page
# of the common word), the messages poll answered 304 as the owner and as staff (poll304s), posting a message with owner and
# agent in turn over the targets; and the HTML pages: the chat page of the
# same ticket as its owner and the staff's list page /support/; and two
# staff writes of the agent desk: a bulk change of 20 tickets' priority,
# high and low in turn, and the render of a canned response with every
# placeholder for the detail ticket, the response made by the agent through
# cgi-bin/canned as plain CGI before any program starts; and the
# statistics of the last 30 days as the API and as the dashboard page)
# starts the program with one worker
# (--listen unix:... --children 1) under
#   valgrind --tool=callgrind --toggle-collect=serve_one --dump-after=serve_one
# sends it --warmup requests (default 5; they fill the per-process caches)
# and then --requests (default 20) requests with cgi-fcgi, and prints the
# median, the mean and the least of the instructions counted inside
# serve_one for the measured requests (one callgrind dump each; the least
# is a request that found the per-process caches of tokens and users
# warm, as they are at real rates: under callgrind a request takes a
# tenth of a second, and posts go round 9 users), and the store's lock
# requests and cache page gets per measured request (gen --env-stat
# before and after them).  Process start, the
# environment's opening and the upkeep between requests are not counted;
# system calls count only their user-space side.  Stops, by pid, what it
# started.  --keep keeps the callgrind files (for callgrind_annotate);
# --only runs only the endpoints named; --mail runs the programs with mail
# configured and every notification on (docs/mail.md: a request does no
# more than append its event; no worker runs here, so nothing is sent).
#
# Needs valgrind and cgi-fcgi (Debian: valgrind, libfcgi-bin; installed
# when missing and run as root).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
TICKETS=10000
REQUESTS=20
WARMUP=5
KEEP=no
ONLY=""
MAIL=no

say() { printf 'icount: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--tickets) TICKETS=$2; shift 2 ;;
	--requests) REQUESTS=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--keep) KEEP=yes; shift ;;
	--only) ONLY=$2; shift 2 ;;
	--mail) MAIL=yes; shift ;;
	*) echo "usage: $0 [--tickets N] [--requests N] [--warmup N] [--keep] [--mail] [--only \"NAME...\"]" >&2
	   exit 2 ;;
	esac
done
for n in "$TICKETS" "$REQUESTS" "$WARMUP"; do
	case $n in *[!0-9]* | "") die "a count must be a number" ;; esac
done
# The tools, installed as bench/run.sh installs wrk: only when missing.
if ! command -v valgrind >/dev/null || ! command -v cgi-fcgi >/dev/null; then
	[ "$(id -u)" -eq 0 ] ||
	    die "valgrind or cgi-fcgi is missing: apt-get install -y valgrind libfcgi-bin"
	say "installing valgrind and libfcgi-bin"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind \
	    libfcgi-bin >/dev/null || die "apt-get install failed"
fi
say "building"
(cd "$ROOT" && make -s -j2 && make -s bench/gen) >&2 || die "the build failed"

DIR=$BENCH/out/icount-$TICKETS
VGPID=""
cleanup() {
	if [ -n "$VGPID" ]; then
		kill "$VGPID" 2>/dev/null || true
		wait "$VGPID" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# A fresh store each time: its layout is the one this build writes.
say "generating $TICKETS tickets in $DIR"
rm -rf "$DIR"
mkdir -p "$DIR/store/data" "$DIR/cg"
chmod 700 "$DIR/store/data"
cat >"$DIR/gen.conf" <<EOF
[support]
data_dir = $DIR/store/data
durability = nosync
cache_kb = 262144
max_tickets_per_user = 0
EOF
"$BENCH/gen" --conf "$DIR/gen.conf" --tickets "$TICKETS" --out "$DIR/store" \
    >"$DIR/gen.out" 2>"$DIR/gen.log" || { cat "$DIR/gen.log" >&2; die "gen"; }
# The programs run with the example's settings (durable commits), but
# unconfined: under valgrind the seccomp filter refuses the memory and the
# output files valgrind itself needs, and confinement costs nothing per
# request anyway (it is done once, at start).
sed -e "s|@DATA@|$DIR/store/data|" \
    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
    -e "s|^confine = .*|confine = no|" \
    "$ROOT/conf/support.conf.example" >"$DIR/run.conf"
if [ "$MAIL" = yes ]; then
	sed -i -e "s|^support_email =.*|support_email = help@example.com|" \
	    -e "s|^support_team_emails =.*|support_team_emails = team@example.com|" \
	    -e "s|^smtp_url =.*|smtp_url = smtp://127.0.0.1:9|" \
	    -e "s|^base_url =.*|base_url = https://help.example.com|" "$DIR/run.conf"
	grep -q "^support_email = help@" "$DIR/run.conf" || die "--mail: no mail keys in the example"
fi
"$BENCH/gen" --conf "$DIR/run.conf" --reset-env || die "gen --reset-env"
export SUPPORT_CONF=$DIR/run.conf

token() {
	"$ROOT/bin/supportctl" token create "$1" --label icount || die "token $1"
}
AGENT=$(token bench-agent)
read -r DETAIL DETAIL_OWNER <"$DIR/store/detail.txt"
OWNER=$(token "$DETAIL_OWNER")
# Posting: the targets with their owners' tokens.
: >"$DIR/post-targets"
declare -A TOK
while read -r t u; do
	[ -n "${TOK[$u]:-}" ] || TOK[$u]=$(token "$u")
	echo "$t ${TOK[$u]}" >>"$DIR/post-targets"
done <"$DIR/store/targets.txt"

# The bulk update: the first 20 targets, as a JSON array.
BULK=$(head -20 "$DIR/store/targets.txt" |
    awk '{ printf "%s\"%s\"", (NR > 1 ? "," : "["), $1 } END { print "]" }')
# The canned response rendered: every placeholder once, made by the agent
# through cgi-bin/canned run as plain CGI (no server yet).
CANNED_BODY='{"title":"Bench render","shortcut":"bench-render","body":"Hello {{customer.name}},\n\nthank you for writing about #{{ticket.number}}, \"{{ticket.subject}}\". We will write to {{customer.email}} again soon.\n\n{{agent.name}}"}'
CANNED=$(env -i REQUEST_METHOD=POST PATH_INFO=/api/support/canned-responses/ \
    REQUEST_URI=/api/support/canned-responses/ GATEWAY_INTERFACE=CGI/1.1 \
    SERVER_PROTOCOL=HTTP/1.1 SERVER_NAME=127.0.0.1 SERVER_PORT=80 \
    REMOTE_ADDR=127.0.0.1 HTTP_HOST=127.0.0.1 HTTP_AUTHORIZATION="Bearer $AGENT" \
    CONTENT_TYPE=application/json CONTENT_LENGTH=${#CANNED_BODY} \
    "$ROOT/cgi-bin/canned" --conf "$DIR/run.conf" <<<"$CANNED_BODY" |
    sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p' | head -1)
[ -n "$CANNED" ] || die "could not make the canned response"

# request SOCK METHOD PATH QUERY TOKEN [BODY [IF-NONE-MATCH]]: one request
# through cgi-fcgi; its whole answer (headers and body) on stdout.
request() {
	local sock=$1 method=$2 path=$3 query=$4 tok=$5 body=${6:-} inm=${7:-}
	local -a env=(REQUEST_METHOD="$method" PATH_INFO="$path"
	    REQUEST_URI="$path${query:+?$query}" QUERY_STRING="$query"
	    GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1
	    SERVER_NAME=127.0.0.1 SERVER_PORT=80 REMOTE_ADDR=127.0.0.1
	    HTTP_HOST=127.0.0.1 HTTP_AUTHORIZATION="Bearer $tok")
	[ -z "$inm" ] || env+=(HTTP_IF_NONE_MATCH="$inm")
	if [ -n "$body" ]; then
		env+=(CONTENT_TYPE=application/json CONTENT_LENGTH=${#body})
		printf '%s' "$body" | env -i "${env[@]}" cgi-fcgi -bind -connect "$sock"
	else
		env -i "${env[@]}" cgi-fcgi -bind -connect "$sock" </dev/null
	fi
}

# start PROGRAM NAME: the program with one worker under callgrind.
start() {
	local sock=$DIR/$2.sock
	rm -f "$sock" "$DIR"/cg/"$2".*
	valgrind --tool=callgrind --toggle-collect=serve_one \
	    --dump-after=serve_one --callgrind-out-file="$DIR/cg/$2.%p" \
	    "$ROOT/cgi-bin/$1" --conf "$DIR/run.conf" --listen "unix:$sock" \
	    --children 1 >"$DIR/$2.log" 2>&1 &
	VGPID=$!
	for _ in $(seq 300); do
		[ -S "$sock" ] && return 0
		sleep 0.1
	done
	die "$1 did not start; see $DIR/$2.log"
}

stop() {
	kill "$VGPID" 2>/dev/null || true
	wait "$VGPID" 2>/dev/null || true
	VGPID=""
}

# expect STATUS: stdin is an answer; its status must be STATUS.
expect() {
	local got
	got=$(head -1 | tr -d '\r')
	case $got in
	"Status: $1 "*) ;;
	*) die "expected $1, got: $got" ;;
	esac
}

# report NAME: median, mean and least of the dumps after the warm-up requests.
report() {
	local files
	# The worker's dumps, in request order (name.PID.N).
	files=$(ls "$DIR"/cg/"$1".*.* 2>/dev/null | sort -t. -k3,3n) || true
	printf '%s\n' "$files" | tail -n +$((WARMUP + 1)) | while read -r f; do
		awk '/^totals:/ { print $2 }' "$f"
	done | sort -n | awk -v name="$1" '{ v[NR] = $1; s += $1 }
	    END { if (NR == 0) { print name ": no dumps"; exit 1 }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "| %s | %d | %d | %d | %d |\n", name, m, s / NR, v[1], NR }'
}

# The environment's lock requests and cache page gets so far.
envstat() {
	"$BENCH/gen" --conf "$DIR/run.conf" --env-stat | awk '{ print $3, $6 }' ||
	    die "gen --env-stat"
}

run_endpoint() { # name program: runs requests from the function do_NAME
	local before after
	case " ${ONLY:-$1} " in *" $1 "*) ;; *) return 0 ;; esac
	start "$2" "$1"
	for i in $(seq "$WARMUP"); do
		"do_$1" "$i"
	done
	before=$(envstat)
	for i in $(seq $((WARMUP + 1)) $((WARMUP + REQUESTS))); do
		"do_$1" "$i"
	done
	after=$(envstat)
	stop
	report "$1" | tr -d '\n' >>"$DIR/table"
	echo "$before $after $REQUESTS" | awk '{
	    printf " %.1f | %.1f |\n", ($3 - $1) / $5, ($4 - $2) / $5 }' \
	    >>"$DIR/table"
}

T=$DIR/tickets.sock
M=$DIR/messages.sock
do_detail() {
	request "$DIR/detail.sock" GET "/api/support/tickets/$DETAIL/" "" \
	    "$OWNER" | expect 200
}
do_list() {
	request "$DIR/list.sock" GET /api/support/tickets/ page_size=20 \
	    "$AGENT" | expect 200
}
# Filtered lists, as staff: the queue of tickets waiting for them (two
# statuses: no index has them, the status counters have the count), the
# same queue of unassigned ones (no counter has that count: every ticket
# is read) and a search of the subjects (every ticket is read).
do_queue() {
	request "$DIR/queue.sock" GET /api/support/tickets/ \
	    "status=open,waiting_for_admin&page_size=20" "$AGENT" | expect 200
}
do_triage() {
	request "$DIR/triage.sock" GET /api/support/tickets/ \
	    "assignee=none&status=open,waiting_for_admin&page_size=20" "$AGENT" |
	    expect 200
}
# The full-text search (docs/search.md): a common word (button: in most
# tickets; the search looks at SEARCH_SCAN_MAX postings and says it
# stopped), a word of one ticket (gen writes refN into ticket N's first
# message), and the queue page of the common word, with its snippets.
do_search() {
	request "$DIR/search.sock" GET /api/support/tickets/ \
	    "q=button&page_size=20" "$AGENT" | expect 200
}
do_searchrare() {
	request "$DIR/searchrare.sock" GET /api/support/tickets/ \
	    "q=ref$((TICKETS / 2))&page_size=20" "$AGENT" | expect 200
}
do_searchpage() {
	request "$DIR/searchpage.sock" GET /support/ "q=button" "$AGENT" |
	    expect 200
}
# The HTML rows: the chat page of the detail ticket (20 messages, as its
# owner) and the staff's list page (20 tickets), through the templates.
do_chat() {
	request "$DIR/chat.sock" GET "/support/tickets/$DETAIL/" "" \
	    "$OWNER" | expect 200
}
do_listpage() {
	request "$DIR/listpage.sock" GET /support/ "" "$AGENT" | expect 200
}
# The staff's queue page filtered to the unassigned tickets waiting for
# them, with its sidebar (every view's count from the counters) and the
# filter form: what it costs must not grow with the store.
do_queuepage() {
	request "$DIR/queuepage.sock" GET /support/ \
	    "status=open,waiting_for_admin&assignee=none" "$AGENT" | expect 200
}
do_poll304() {
	if [ -z "${ETAG:-}" ]; then
		ETAG=$(request "$DIR/poll304.sock" GET \
		    "/api/support/tickets/$DETAIL/messages/" "" "$OWNER" |
		    awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }')
		[ -n "$ETAG" ] || die "no ETag"
		return
	fi
	request "$DIR/poll304.sock" GET "/api/support/tickets/$DETAIL/messages/" \
	    "" "$OWNER" "" "$ETAG" | expect 304
}
# The same poll as staff (the agent's token): the one that reads, and
# now and then writes, the agents' presence on the ticket.
do_poll304s() {
	if [ -z "${ETAGS:-}" ]; then
		ETAGS=$(request "$DIR/poll304s.sock" GET \
		    "/api/support/tickets/$DETAIL/messages/" "" "$AGENT" |
		    awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }')
		[ -n "$ETAGS" ] || die "no ETag"
		return
	fi
	request "$DIR/poll304s.sock" GET "/api/support/tickets/$DETAIL/messages/" \
	    "" "$AGENT" "" "$ETAGS" | expect 304
}
do_post() {
	local t tok
	# Over the targets, owner and agent in turn, as post.lua does.
	read -r t tok < <(sed -n "$(( ($1 - 1) / 2 % $(wc -l <"$DIR/post-targets") + 1 ))p" \
	    "$DIR/post-targets")
	[ $(($1 % 2)) -eq 1 ] || tok=$AGENT
	request "$DIR/post.sock" POST "/api/support/tickets/$t/messages/" "" \
	    "$tok" '{"content":"Instruction count check."}' | expect 201
}
# A bulk change of 20 tickets' priority, as staff: high and low in turn,
# so that after the first every request changes all 20 (20 writes, 20
# ticket.updated events, one commit).
do_bulk() {
	local p=low out
	[ $(($1 % 2)) -eq 0 ] || p=high
	out=$(request "$DIR/bulk.sock" POST /api/support/tickets/bulk/ "" \
	    "$AGENT" "{\"uuids\":$BULK,\"priority\":\"$p\"}")
	printf '%s\n' "$out" | expect 200
	[ "$1" -eq 1 ] || printf '%s' "$out" | grep -Eq '"updated": ?20[,}]' ||
	    die "bulk: not every ticket changed"
}
# The canned response (every placeholder) rendered for the detail ticket.
do_render() {
	request "$DIR/render.sock" POST \
	    "/api/support/canned-responses/$CANNED/render/" "" "$AGENT" \
	    "{\"ticket\":\"$DETAIL\"}" | expect 200
}
# The statistics of the last 30 days, as the API and as the staff's
# dashboard: read from the aggregates (lib/desk/stats.c), a number of
# records set by the days and the agents, never by the tickets.
do_stats() {
	request "$DIR/stats.sock" GET /api/support/stats/ days=30 "$AGENT" |
	    expect 200
}
do_dashboard() {
	request "$DIR/dashboard.sock" GET /support/stats/ days=30 "$AGENT" |
	    expect 200
}

: >"$DIR/table"
say "detail"
run_endpoint detail tickets
say "list"
run_endpoint list tickets
say "queue"
run_endpoint queue tickets
say "triage"
run_endpoint triage tickets
say "search (a common word)"
run_endpoint search tickets
say "search (a word of one ticket)"
run_endpoint searchrare tickets
say "search page (a common word, with snippets)"
run_endpoint searchpage tickets
say "chat page"
run_endpoint chat tickets
say "list page"
run_endpoint listpage tickets
say "queue page (filtered, with its sidebar)"
run_endpoint queuepage tickets
say "poll 304 (the first request fetches the ETag: one more warm-up)"
WARMUP=$((WARMUP + 1)) run_endpoint poll304 messages
say "poll 304 as staff"
WARMUP=$((WARMUP + 1)) run_endpoint poll304s messages
say "post"
run_endpoint post messages
say "bulk"
run_endpoint bulk tickets
say "render"
run_endpoint render canned
say "stats"
run_endpoint stats tickets
say "dashboard"
run_endpoint dashboard tickets

echo "Instructions per request (callgrind, inside serve_one), $TICKETS tickets,"
echo "code $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" &&
    git status --short lib cgi-bin | grep -q . && echo ' with uncommitted changes' || true):"
echo
echo "| endpoint | median Ir | mean Ir | min Ir | requests | lock requests / req | cache page gets / req |"
echo "|---|---|---|---|---|---|---|"
cat "$DIR/table"
[ "$KEEP" = yes ] || rm -rf "$DIR/cg"
