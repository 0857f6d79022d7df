#!/bin/bash
# test.sh - build from this checkout and run every test tier.
# The last line is "N passed, N failed", counting every test of every tier.
#
# Tiers: unit (C, TAP, through `make check`), http (the real programs behind
# a real nginx, Python's standard library as the client), crash and
# concurrency (the same servers under kill -9 and parallel writers).
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

for t in tests/http/test_*.py; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .py)
	note "http: $name"
	TEST_OUT="$OUT" timeout 900 python3 "$t" >"$OUT/$name.log" 2>&1
	rc=$?
	count_tap "$OUT/$name.log"
	grep -A6 '^not ok' "$OUT/$name.log" | head -80
	# A script that died without reporting a failure still failed.
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$OUT/$name.log"; then
		echo "$name exited with $rc"
		tail -20 "$OUT/$name.log"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
