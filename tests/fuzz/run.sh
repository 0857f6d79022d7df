#!/bin/sh
# Run the fuzz targets, one at a time, each for a number of executions or
# a time, and merge what they find back into the saved corpus.
#
#   tests/fuzz/run.sh [-n RUNS] [-t SECONDS] [-l BYTES] [-b BUILD] [-m]
#       [TARGET...]
#
#   -n RUNS      stop a target after RUNS executions (default 10000000)
#   -t SECONDS   ... or after SECONDS, whichever comes first (default 3600)
#   -l BYTES     the longest input libFuzzer makes (-max_len; default
#                16384): longer saved inputs (the 64 KB field-limit seeds)
#                are cut there while fuzzing, which keeps the rate up;
#                make check replays them whole
#   -b BUILD     the clang fuzz build (default ../<checkout>-fuzz-build):
#                the tree's files are copied there (as test.sh's sanitizer
#                tier does) and built with ./configure CC=clang
#                --enable-fuzzing, configured once, then rebuilt as needed
#   -f           fast: a build with libFuzzer and UBSan but without
#                AddressSanitizer (default ../<checkout>-fuzz-fast-build),
#                about 20 times the executions a second; a memory error
#                that does not crash goes unseen there, so its corpus is
#                replayed under ASan afterwards (test.sh's sanitizer tier
#                replays every saved input)
#   -m           do not merge new inputs into tests/fuzz/corpus/
#   -z           fuzz nothing: make each corpus small again, keeping its
#                seeds (seeds.py writes them anew for the prog_ targets),
#                its crash-* inputs, and of the rest only what reaches
#                code (edges, not hit counts) those do not (-merge=1)
#   TARGET       corpus names (prog_tickets, request, ...); default: the
#                four whole-program targets
#
# Each target runs as one process (libFuzzer's -jobs/-workers 1), under
# nice -n 10.  New inputs go to a scratch directory; afterwards
# `-merge=1` adds to tests/fuzz/corpus/TARGET/ only those that reach code
# the saved corpus does not, so the corpus stays small (also after a
# crash: the crashing input is not among them).  A crash stops the
# target; its input is kept in $OUT/artifacts/ (OUT defaults to
# test-out/fuzz) and named in the summary: fix the bug, then copy the
# input into the corpus so that make check and ./test.sh replay it.
# The summary (also in $OUT/summary.txt): executions, seconds, exec/s,
# inputs added, crashes, per target.
set -eu

runs=10000000
secs=3600
maxlen=16384
merge=yes
minimize=no
fast=no
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$here/../$(basename "$here")-fuzz-build
while getopts n:t:l:b:fmz opt; do
	case $opt in
	f) fast=yes
	   build=$here/../$(basename "$here")-fuzz-fast-build ;;
	z) minimize=yes ;;
	l) maxlen=$OPTARG ;;
	n) runs=$OPTARG ;;
	t) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	m) merge=no ;;
	*) sed -n '2,47s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- prog_tickets prog_messages prog_session prog_users \
    prog_canned prog_webhook
OUT=${OUT:-$here/test-out/fuzz}
mkdir -p "$OUT/artifacts" "$build"

# The build: the checkout's files copied over the previous copy (times
# kept, so make rebuilds only what changed).
(cd "$here" && git ls-files -co --exclude-standard | tar -cf - -T -) |
    (cd "$build" && tar -xf -)
if [ ! -f "$build/Makefile" ]; then
	(cd "$build" && ./autogen.sh && ./configure -q CC=clang \
	    --enable-fuzzing) >"$OUT/build.log" 2>&1 ||
	    { tail -20 "$OUT/build.log"; exit 1; }
fi
progs=""
for t in "$@"; do progs="$progs tests/fuzz/fuzz_$t"; done
if [ "$fast" = yes ]; then
	(cd "$build" && nice -n 10 make -s -j2 SAN_CFLAGS="-fsanitize=fuzzer-no-link,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" $progs) \
	    >>"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
else
	(cd "$build" && nice -n 10 make -s -j2 $progs) >>"$OUT/build.log" 2>&1 ||
	    { tail -20 "$OUT/build.log"; exit 1; }
fi

if [ "$minimize" = yes ]; then
	for t in "$@"; do
		corpus=$here/tests/fuzz/corpus/$t
		fresh=$(mktemp -d)
		mkdir "$fresh/$t"
		case $t in
		prog_*) python3 "$here/tests/fuzz/seeds.py" --out "$fresh" \
		    >/dev/null ;;
		esac
		for f in "$corpus"/crash-*; do
			[ ! -f "$f" ] || cp "$f" "$fresh/$t/"
		done
		before=$(ls "$corpus" | wc -l)
		nice -n 10 "$build/tests/fuzz/fuzz_$t" -merge=1 \
		    -use_counters=0 "$fresh/$t" "$corpus" >"$OUT/$t-minimize.log" 2>&1 ||
		    { tail -20 "$OUT/$t-minimize.log"; exit 1; }
		find "$corpus" -type f -delete
		cp "$fresh/$t"/* "$corpus/"
		rm -rf "$fresh"
		echo "$t: $before inputs, $(ls "$corpus" | wc -l) kept"
	done
	exit 0
fi

# UBSan reports stop a target as ASan's do (the sanitizer tier of
# test.sh counts every report as a failure).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

summary=$OUT/summary.txt
: >"$summary"
status=0
for t in "$@"; do
	bin=$build/tests/fuzz/fuzz_$t
	corpus=$here/tests/fuzz/corpus/$t
	new=$(mktemp -d)
	log=$OUT/$t.log
	mkdir -p "$corpus"
	before=$(ls "$corpus" | wc -l)
	start=$(date +%s)
	rc=0
	nice -n 10 "$bin" "$new" "$corpus" -runs="$runs" \
	    -max_total_time="$secs" -max_len="$maxlen" -timeout=25 -rss_limit_mb=2560 \
	    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" \
	    >"$log" 2>&1 || rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	crash=none
	if [ "$rc" -ne 0 ]; then
		crash=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" |
		    tail -1)
		status=1
	fi
	added=0
	if [ "$merge" = yes ]; then
		nice -n 10 "$bin" -merge=1 "$corpus" "$new" \
		    >"$OUT/$t-merge.log" 2>&1 || status=1
		added=$(($(ls "$corpus" | wc -l) - before))
	fi
	rm -rf "$new"
	printf '%s: %s executions in %s s (%s exec/s), %s inputs added, crash: %s\n' \
	    "$t" "${execs:-?}" "$took" "${rate:-?}" "$added" "${crash:-?}" |
	    tee -a "$summary"
done
exit $status
