#!/bin/bash
# test.sh - build from this checkout and run every test tier.
# The last line is "N passed, N failed", counting every test of every tier.
#
# Tiers: unit (C, TAP, through `make check`), http (the real programs behind
# a real nginx, and the API suite again behind Apache in each mode: mod_fcgid,
# mod_proxy_fcgi, plain CGI; Python's standard library as the client), crash
# and concurrency (the same servers under kill -9 and parallel writers).
set -u
cd "$(dirname "$0")"
ROOT=$(pwd)
OUT=${TEST_OUT:-$ROOT/test-out}
rm -rf "$OUT"
mkdir -p "$OUT"

passed=0
failed=0

note() { printf '== %s\n' "$*"; }

# Count a TAP stream's results: "ok" and "not ok" lines.
count_tap() {
	local log=$1 ok bad
	ok=$(grep -cE '^ok ' "$log")
	bad=$(grep -cE '^not ok ' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	echo "$ok passed, $bad failed"
}

note "dependencies"
./run.sh deps || { echo "0 passed, 1 failed"; exit 1; }
# What only the tests need: clang and its runtimes for the sanitizer and
# fuzzing build.
missing=""
for p in clang libclang-rt-14-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	else
		echo "missing packages: apt-get install -y$missing"
	fi
fi

note "build"
if ! { ./autogen.sh && ./configure -q && make -s -j2; } >"$OUT/build.log" 2>&1; then
	tail -40 "$OUT/build.log"
	echo "0 passed, 1 failed"
	exit 1
fi
grep -E 'warning:' "$OUT/build.log" && {
	echo "build has warnings"
	failed=$((failed + 1))
}

note "unit"
make -s -j2 check >"$OUT/unit.log" 2>&1
cat tests/unit/*.log >"$OUT/unit-tap.log" 2>/dev/null
count_tap "$OUT/unit-tap.log"
# A unit program that crashed or printed no plan is a failure of its own.
for trs in tests/unit/*.trs; do
	if grep -q ':test-result: ERROR' "$trs"; then
		echo "error in ${trs%.trs}"
		failed=$((failed + 1))
	fi
done
grep -B2 -A8 '^not ok\|^ERROR\|Bail out' "$OUT/unit-tap.log" | head -60

# Run one http test script ($1) behind the web server $2 (SUPPORT_SERVER).
run_http() {
	local t=$1 mode=$2 name rc
	name=$(basename "$t" .py)
	[ "$mode" = nginx ] || name="$name-$mode"
	note "http: $name"
	SUPPORT_SERVER=$mode TEST_OUT="$OUT" timeout 900 python3 "$t" >"$OUT/$name.log" 2>&1
	rc=$?
	count_tap "$OUT/$name.log"
	grep -A6 '^not ok' "$OUT/$name.log" | head -80
	# A script that died without reporting a failure still failed.
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$OUT/$name.log"; then
		echo "$name exited with $rc"
		tail -20 "$OUT/$name.log"
		failed=$((failed + 1))
	fi
}

for t in tests/http/test_*.py; do
	[ -f "$t" ] || continue
	run_http "$t" nginx
done
# The same API suite behind Apache in each mode (a mode that does not start
# fails), and the concurrent writers: many processes of the programs on the
# one store (mod_fcgid starts several of each, CGI one per request).
for mode in apache-fcgid apache-proxy apache-cgi; do
	run_http tests/http/test_api.py "$mode"
	run_http tests/http/test_concurrency.py "$mode"
done

# Sanitizers and fuzz corpus: the same sources built again, by clang with
# AddressSanitizer, UBSan and libFuzzer's coverage, in a copy of the tree
# (automake will not build out of a configured source directory).
note "sanitizers: build"
SAN="$OUT/sanitize"
REPORTS="$OUT/sanitizer-reports"
mkdir -p "$SAN" "$REPORTS"
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$SAN"
if ! (cd "$SAN" && ./autogen.sh && ./configure -q CC=clang --enable-fuzzing &&
    make -s -j2) >"$OUT/sanitize-build.log" 2>&1; then
	tail -30 "$OUT/sanitize-build.log"
	failed=$((failed + 1))
else
	export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1"
	note "sanitizers: unit"
	(cd "$SAN" && make -s -j2 check) >"$OUT/sanitize-unit.log" 2>&1
	cat "$SAN"/tests/unit/*.log >"$OUT/sanitize-unit-tap.log" 2>/dev/null
	count_tap "$OUT/sanitize-unit-tap.log"

	for dir in tests/fuzz/corpus/*/; do
		target=fuzz_$(basename "$dir")
		note "fuzz corpus: $target"
		if "$SAN/tests/fuzz/$target" "$dir"* >"$OUT/$target.log" 2>&1; then
			echo "ok - $target replays $(ls "$dir" | wc -l) inputs"
			passed=$((passed + 1))
		else
			echo "not ok - $target"
			tail -30 "$OUT/$target.log"
			failed=$((failed + 1))
		fi
	done

	# Programs in a FastCGI loop keep per-process state on purpose; leaks
	# per request are what the unit tier and bench/ memory figure catch.
	export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=0"
	note "sanitizers: http test_api"
	SUPPORT_BUILD="$SAN" TEST_OUT="$OUT" timeout 900 python3 tests/http/test_api.py \
	    >"$OUT/sanitize-http.log" 2>&1
	count_tap "$OUT/sanitize-http.log"
	grep -A6 '^not ok' "$OUT/sanitize-http.log" | head -40
	unset ASAN_OPTIONS UBSAN_OPTIONS
fi
for report in "$REPORTS"/*; do
	[ -f "$report" ] || continue
	echo "sanitizer report: $report"
	head -30 "$report"
	failed=$((failed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
