#!/bin/bash
# test.sh - build from this checkout and run every test tier.
# The last line is "N passed, N failed", counting every test of every tier.
#
# Tiers: unit (C, TAP, through `make check`), http (the real programs behind
# a real nginx, and the API, session, page, limits, throttling, slow-client
# and confinement suites again behind Apache in each mode: mod_fcgid,
# mod_proxy_fcgi, plain CGI; Python's standard library as the client),
# crash and concurrency (the same servers under kill -9 and parallel
# writers), browser (headless Chromium through playwright-core: the pages
# as a person uses them), install (make install into a staging directory,
# the installed programs, make uninstall, make distcheck).
set -u
cd "$(dirname "$0")"
ROOT=$(pwd)
OUT=${TEST_OUT:-$ROOT/test-out}
rm -rf "$OUT"
mkdir -p "$OUT"

passed=0
failed=0
# The programs (conf/programs.tab says which, and which paths each serves).
PROGRAMS=$(sh conf/routes.sh programs conf) || {
	echo "conf/programs.tab cannot be read"
	echo "0 passed, 1 failed"
	exit 1
}

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
# fuzzing build; groff to check the man pages; aiosmtpd (a real SMTP
# server on loopback) and openssl (its test certificate) for the mail tests;
# opensmtpd (a real MTA piping mail into support-mailin: test_mailin_mta.py);
# systemd (systemd-analyze reads the worker's unit in the install tier);
# chromium for the browser
# tier, and node 20 or later with npm (Debian's nodejs and npm when there is
# no node at all; a node from elsewhere, e.g. NodeSource's, is kept).
missing=""
for p in clang libclang-rt-14-dev groff-base chromium python3-aiosmtpd openssl \
    opensmtpd systemd; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
command -v node >/dev/null || missing="$missing nodejs"
command -v npm >/dev/null || missing="$missing npm"
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

# The protections configure adds by default, read off the built programs.
note "hardening"
sh tests/hardening.sh . >"$OUT/hardening.log" 2>&1
count_tap "$OUT/hardening.log"
grep '^not ok' "$OUT/hardening.log"

note "unit"
make -s -j2 check >"$OUT/unit.log" 2>&1
cat tests/unit/*.log tests/fuzz/*.log >"$OUT/unit-tap.log" 2>/dev/null
count_tap "$OUT/unit-tap.log"
# A unit program (or corpus replay) that crashed or printed no plan is a
# failure of its own.
for trs in tests/unit/*.trs tests/fuzz/*.trs; do
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
# The same API, session and page suites behind Apache in each mode (a mode
# that does not start fails), the concurrent writers: many processes of
# the programs on the one store (mod_fcgid starts several of each, CGI one
# per request), the slow clients each mode must keep from the programs,
# the confinement of the processes each mode runs, and each mode's routing
# (made from conf/programs.tab).
for mode in apache-fcgid apache-proxy apache-cgi; do
	for t in test_api test_session test_pages test_concurrency \
	    test_limits test_throttle test_slow test_confine test_routes \
	    test_attach; do
		run_http tests/http/$t.py "$mode"
	done
done

# Browser: Debian's chromium driven by playwright-core from npm (pinned in
# tests/browser/package-lock.json; it downloads no browser).  run.py starts
# the desk like the http tests do and runs node's test runner, whose TAP we
# count; screenshots go to $OUT/browser/.
note "browser"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
	echo "the browser tier needs node 20 or later (playwright-core); found: $(node --version 2>&1)"
	failed=$((failed + 1))
elif ! (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) \
    >"$OUT/browser-npm.log" 2>&1; then
	echo "npm ci failed in tests/browser"
	tail -20 "$OUT/browser-npm.log"
	failed=$((failed + 1))
else
	TEST_OUT="$OUT" timeout 600 python3 tests/browser/run.py >"$OUT/browser.log" 2>&1
	rc=$?
	count_tap "$OUT/browser.log"
	grep -A12 '^not ok' "$OUT/browser.log" | head -80
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$OUT/browser.log"; then
		echo "browser tier exited with $rc"
		tail -20 "$OUT/browser.log"
		failed=$((failed + 1))
	fi
fi

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
	cat "$SAN"/tests/unit/*.log "$SAN"/tests/fuzz/*.log \
	    >"$OUT/sanitize-unit-tap.log" 2>/dev/null
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

	# LeakSanitizer watches the http tier too: a worker told to stop
	# leaves its loop and frees what the process holds, so what is still
	# unreachable at its exit was lost on the way.  Suppressions name only
	# leaks inside libraries that are not ours (tests/lsan.supp).
	export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
	for name in test_api test_session test_pages test_concurrency \
	    test_limits test_throttle test_mailin test_attach; do
		note "sanitizers: http $name"
		SUPPORT_BUILD="$SAN" TEST_OUT="$OUT" timeout 900 python3 \
		    "tests/http/$name.py" >"$OUT/sanitize-$name.log" 2>&1
		count_tap "$OUT/sanitize-$name.log"
		grep -A6 '^not ok' "$OUT/sanitize-$name.log" | head -40
	done
	unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi
for report in "$REPORTS"/*; do
	[ -f "$report" ] || continue
	echo "sanitizer report: $report"
	head -30 "$report"
	failed=$((failed + 1))
done

# make install into a staging directory: what a user (or a packager) gets.
# Prints TAP; every check is one test.
install_tier() {
	local stage=$OUT/install-stage prefix=/usr/local n=0 scratch
	scratch=$(mktemp -d)
	t() {	# t DESCRIPTION COMMAND...: one test
		local what=$1
		shift
		n=$((n + 1))
		if "$@" >>"$OUT/install-detail.log" 2>&1; then
			echo "ok $n - $what"
		else
			echo "not ok $n - $what"
		fi
	}
	rm -rf "$stage"
	t "make install DESTDIR= stages the desk" make -s install DESTDIR="$stage"
	local root=$stage$prefix
	for f in sbin/supportctl sbin/support-worker sbin/support-mailin $(for p in $PROGRAMS; do
	    echo libexec/support/cgi-bin/$p; done); do
		t "$f is installed and executable" test -x "$root/$f" -a -f "$root/$f"
	done
	local ex=share/doc/support/examples
	for f in share/man/man8/supportctl.8 share/man/man8/support-programs.8 \
	    share/man/man5/support.conf.5 etc/support/support.conf.example \
	    $ex/nginx-support.conf $ex/fastcgi-support.conf $ex/programs.tab \
	    $ex/apache/fcgid.conf $ex/apache/proxy-fcgi.conf \
	    $ex/apache/cgi.htaccess $ex/support-worker.service \
	    share/doc/support/install.md share/doc/support/README.md \
	    share/support/htdocs/index.html; do
		t "$f is installed" test -f "$root/$f" -a -r "$root/$f"
	done
	# The routing's sources are not examples; what is made from them is
	# whole.
	t "no .in file or routes.sh among the examples" sh -c \
	    "! find '$root/$ex' -name '*.in' -o -name routes.sh | grep ."
	t "no placeholder of routes.sh left in the examples" sh -c \
	    "! grep -r '%%[A-Z_]*%%' '$root/$ex'"
	t "no test or benchmark program is installed" sh -c \
	    "! find '$stage' \\( -name 'test_*' -o -name 'fuzz_*' -o -name hello -o -name gen \\) | grep ."
	t "nothing is installed outside the prefix" sh -c \
	    "! find '$stage' -mindepth 1 -maxdepth 2 ! -path '$stage/usr' ! -path '$stage/usr/local' | grep ."
	# The worker's systemd unit, pointed at the staged worker, as systemd
	# reads it: no error, no unknown key (systemd-analyze only warns).
	sed "s|^ExecStart=$prefix/sbin/|ExecStart=$root/sbin/|" \
	    "$root/$ex/support-worker.service" >"$scratch/support-worker.service"
	t "the systemd unit support-worker.service verifies (systemd-analyze)" sh -c \
	    "grep -q '^ExecStart=$root/sbin/support-worker\$' '$scratch/support-worker.service' &&
	    systemd-analyze verify '$scratch/support-worker.service' 2>&1 | (! grep .)"
	t "the man pages format without a warning" sh -c \
	    "groff -mandoc -ww -z '$root'/share/man/man*/* 2>&1 | (! grep .)"
	t "the installed support.conf.example names the installed store" \
	    grep -qx "data_dir = $prefix/var/lib/support" \
	    "$root/etc/support/support.conf.example"
	# The installed supportctl: the compiled-in config path, then one
	# named by SUPPORT_CONF (the installed example, pointed at a scratch
	# store), used for real.
	t "installed supportctl looks for $prefix/etc/support/support.conf" sh -c \
	    "env -u SUPPORT_CONF '$root/sbin/supportctl' user list 2>&1 | grep -F '$prefix/etc/support/support.conf: cannot be read'"
	mkdir -p "$scratch/db"
	sed "s|^data_dir = .*|data_dir = $scratch/db|" \
	    "$root/etc/support/support.conf.example" >"$scratch/support.conf"
	export SUPPORT_CONF=$scratch/support.conf
	t "installed supportctl adds a user to the store SUPPORT_CONF names" sh -c \
	    "echo 'pass word 1' | '$root/sbin/supportctl' user add ann --email ann@example.com --role agent --password-stdin | grep -q 'created user ann'"
	t "  the user is listed, the store is in data_dir" sh -c \
	    "'$root/sbin/supportctl' user list | grep -q 'ann .*agent' && test -f '$scratch/db/users.db'"
	t "  db verify finds no problem" sh -c \
	    "'$root/sbin/supportctl' db verify | grep -qx '0 problems found'"
	t "the installed tickets program answers a CGI request (401)" sh -c \
	    "REQUEST_METHOD=GET REQUEST_URI=/api/support/tickets/ '$root/libexec/support/cgi-bin/tickets' </dev/null | grep -q '^Status: 401'"
	unset SUPPORT_CONF
	t "make uninstall DESTDIR= removes every file" sh -c \
	    "make -s uninstall DESTDIR='$stage' && test -z \"\$(find '$stage' -type f)\""
	rm -rf "$stage"
	# The distribution: a VPATH build from the tarball, make check in it,
	# install, uninstall, a clean tree afterwards.
	t "make distcheck passes" make -j2 distcheck
	# docs/install.md section 6, from that tarball: a shared host without
	# root, everything in the home directory, the programs in its cgi-bin.
	local home=$scratch/home tarball
	tarball=$(ls support-*.tar.gz 2>/dev/null | head -1)
	mkdir -p "$home"
	t "the tarball builds and installs into a home directory" sh -c "
	    tar -xzf '$tarball' -C '$scratch' && cd '$scratch'/support-*/ &&
	    ./configure -q --prefix='$home/support' \
	        --with-cgibindir='$home/public_html/cgi-bin' \
	        --with-htdocsdir='$home/public_html/support/static' &&
	    make -s -j2 && make -s install"
	t "  the programs are in ~/public_html/cgi-bin: $(echo $PROGRAMS)" sh -c \
	    "for p in $(echo $PROGRAMS); do test -x '$home/public_html/cgi-bin/'\$p || exit 1; done"
	t "  static files under ~/public_html/support/static" \
	    test -f "$home/public_html/support/static/index.html"
	t "  supportctl, config, man pages under ~/support" test -x \
	    "$home/support/sbin/supportctl" -a -f \
	    "$home/support/etc/support/support.conf.example" -a -f \
	    "$home/support/share/man/man8/supportctl.8"
	t "  the installed man pages name this layout's paths" sh -c \
	    "grep -q '$home/support/etc/support/support.conf' '$home/support/share/man/man8/supportctl.8' &&
	    grep -q '$home/public_html/cgi-bin' '$home/support/share/man/man8/support-programs.8' &&
	    ! grep -q /usr/local '$home/support/share/man/man5/support.conf.5'"
	# Only the programs of conf/programs.tab and the files of htdocs/.
	local extra
	extra=$(cd "$home/public_html" && find . -type f | sed 's|^\./||' |
	    while read -r f; do
		case $f in
		cgi-bin/*) echo " $PROGRAMS " | tr '\n' ' ' |
		    grep -qF " ${f#cgi-bin/} " || echo "$f" ;;
		support/static/*) test -f "$ROOT/htdocs/${f#support/static/}" ||
		    echo "$f" ;;
		*) echo "$f" ;;
		esac
	    done)
	t "  nothing else in public_html${extra:+: }$(echo $extra)" test -z "$extra"
	mkdir -p "$home/support/var/lib/support"
	cp "$home/support/etc/support/support.conf.example" \
	    "$home/support/etc/support/support.conf"
	t "  with no SUPPORT_CONF the CGI program finds its config and store (401)" sh -c \
	    "env -u SUPPORT_CONF REQUEST_METHOD=GET REQUEST_URI=/api/support/tickets/ '$home/public_html/cgi-bin/tickets' </dev/null | grep -q '^Status: 401' &&
	    test -f '$home/support/var/lib/support/tickets.db'"
	mv "$home/support/etc/support/support.conf" "$home/moved.conf"
	t "  a moved config is found through SUPPORT_CONF (SetEnv)" sh -c \
	    "SUPPORT_CONF='$home/moved.conf' REQUEST_METHOD=GET REQUEST_URI=/api/support/tickets/ '$home/public_html/cgi-bin/tickets' </dev/null | grep -q '^Status: 401'"
	t "  and without it the program says it is misconfigured (500)" sh -c \
	    "env -u SUPPORT_CONF REQUEST_METHOD=GET REQUEST_URI=/api/support/tickets/ '$home/public_html/cgi-bin/tickets' </dev/null 2>/dev/null | grep -q '^Status: 500'"
	rm -f support-*.tar.gz
	rm -rf "$scratch"
	echo "1..$n"
}
note "install"
install_tier >"$OUT/install.log" 2>&1
count_tap "$OUT/install.log"
grep '^not ok' "$OUT/install.log" && tail -40 "$OUT/install-detail.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
