#!/bin/bash
# bench/export.sh - supportctl export_support_data on a large store: rows
# (messages) a second and peak memory (/usr/bin/time -v's maximum resident
# set size), for CSV and JSON, and the same for a small window (the cost of
# finding it must not grow with the store).
#
#   bench/export.sh [--tickets N] [--days D]
#
# Uses the store bench/run.sh (or bench/gen) made under
# bench/out/store-N/ (default N 1000000: make it with
# `bench/run.sh --tickets 1000000`, or bench/gen alone, see README.md),
# with conf/support.conf.example's settings (16 MB cache) as the programs
# run; the output goes to /dev/null (the export itself, not the disk) and
# once to a file under bench/out/ to check it reads back (line count).
# The generated tickets were all made when the store was, so --days
# (default 36500) takes them all; the third run moves supportctl's clock
# two days on (SUPPORT_TEST_CLOCK) and asks for one day: an empty window,
# found by bisection of the creation-order index, whatever the store's
# size.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TICKETS=1000000
DAYS=36500

say() { printf 'export: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--tickets) TICKETS=$2; shift 2 ;;
	--days) DAYS=$2; shift 2 ;;
	*) echo "usage: $0 [--tickets N] [--days D]" >&2; exit 2 ;;
	esac
done

STORE=$ROOT/bench/out/store-$TICKETS
[ -f "$STORE/gen.out" ] || die "no store in $STORE: run bench/run.sh --tickets $TICKETS first"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian: time)"
(cd "$ROOT" && make -s -j2 && make -s bench/gen) >&2 || die "build failed"

CONF=$STORE/export.conf
sed -e "s|@DATA@|$STORE/data|" \
    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
    "$ROOT/conf/support.conf.example" >"$CONF"
# The environment's regions with the programs' cache size (the store is
# ours: nothing else has it open).
"$ROOT/bench/gen" --conf "$CONF" --reset-env || die "gen --reset-env"

# run FORMAT DAYS: one export to /dev/null; prints its line of the report.
run() {
	local log=$STORE/export-$1-$2${SUPPORT_TEST_CLOCK:+-clock}.time
	/usr/bin/time -v "$ROOT/bin/supportctl" --conf "$CONF" \
	    export_support_data --format="$1" --days="$2" \
	    >/dev/null 2>"$log" || { cat "$log" >&2; die "export $1 failed"; }
	local line rss wall
	line=$(grep '^exported' "$log")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$log")
	printf '| %s | %s | %s | %s kB |\n' "$1" "$2" "${line#exported }" "$rss"
	say "$1 --days=$2: $line; wall $wall; max RSS $rss kB"
}

echo "Store: $(grep '^generated' "$STORE/gen.out")"
echo
echo "| format | --days | exported | max RSS |"
echo "|---|---|---|---|"
run csv "$DAYS"
run json "$DAYS"
echo 172800 >"$STORE/export-clock"
SUPPORT_TEST_CLOCK=$STORE/export-clock run csv 1
rm -f "$STORE/export-clock"
# The CSV into a file, read back: as many records as messages.
out=$STORE/export.csv
"$ROOT/bin/supportctl" --conf "$CONF" export_support_data --format=csv \
    --days="$DAYS" --out "$out" 2>/dev/null || die "export --out failed"
python3 - "$out" <<'PY' || die "the CSV does not read back"
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    n = sum(1 for _ in csv.reader(f)) - 1
print("CSV read back by Python's csv: %d rows" % n)
PY
rm -f "$out"
