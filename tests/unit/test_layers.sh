#!/bin/sh
# test_layers.sh - the layers of lib/ (docs/architecture.md) are what the
# build enforces: for every layer and every header of lib/, a file of that
# layer that includes the header compiles exactly when the header's layer
# is the same or lower (base < text < web, store < desk < mail; web and
# store know nothing of each other, and the desk nothing of mail, whose
# GMime and libcurl stay out of the FastCGI programs); a web file that
# includes <db.h> does not
# compile; each layer's library is built from its own folder, and every
# file of a folder is in its library.  make check runs it, with the
# layers' flags and sources from Makefile.am.  Prints TAP.
set -u
if [ -z "${srcdir:-}" ] || [ -z "${LAYER_DESK:-}" ]; then
	echo "Bail out! run by make check (srcdir and LAYER_* unset)"
	exit 1
fi
n=0
bad=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/support-layers-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

t() {	# t WHAT COMMAND...: one TAP line
	what=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - $what"
	else
		bad=$((bad + 1))
		echo "not ok $n - $what"
		sed 's/^/# /' "$tmp/out" | head -5
	fi
}

# May a file of layer $1 include a header of layer $2?
allowed() {
	case "$1:$2" in
	base:base | text:base | text:text) return 0 ;;
	web:base | web:text | web:web) return 0 ;;
	store:base | store:text | store:store) return 0 ;;
	desk:mail) return 1 ;;
	desk:* | mail:*) return 0 ;;
	esac
	return 1
}

flags() {
	case $1 in
	base) echo "$LAYER_BASE" ;;
	text) echo "$LAYER_TEXT" ;;
	web) echo "$LAYER_WEB" ;;
	store) echo "$LAYER_STORE" ;;
	desk) echo "$LAYER_DESK" ;;
	mail) echo "$LAYER_MAIL" ;;
	esac
}

# Does "#include $2" compile in a file of layer $1?
compiles() {
	printf '#include %s\nint layer_probe;\n' "$2" >"$tmp/probe.c"
	# shellcheck disable=SC2046,SC2086
	${CC:-cc} -fsyntax-only $(flags "$1") $SUP_CFLAGS "$tmp/probe.c"
}

not_compiles() {
	! compiles "$@"
}

layers="base text web store desk mail"
for l in $layers; do
	for h in "$srcdir"/lib/*/*.h; do
		hl=$(basename "$(dirname "$h")")
		name=$(basename "$h")
		if allowed "$l" "$hl"; then
			t "$l may include $hl/$name" compiles "$l" "\"$name\""
		else
			t "$l may not include $hl/$name: it does not compile" \
			    not_compiles "$l" "\"$name\""
		fi
	done
done
t "web may not include <db.h>: it does not compile" not_compiles web "<db.h>"
t "store may include <db.h>" compiles store "<db.h>"

# Each library from its own folder, and each folder's files in it.
sources() {
	case $1 in
	base) echo "$SOURCES_BASE" ;;
	text) echo "$SOURCES_TEXT" ;;
	web) echo "$SOURCES_WEB" ;;
	store) echo "$SOURCES_STORE" ;;
	desk) echo "$SOURCES_DESK" ;;
	mail) echo "$SOURCES_MAIL" ;;
	esac
}

own_folder() {	# own_folder LAYER: every source is under lib/LAYER/
	for f in $(sources "$1"); do
		case $f in
		lib/"$1"/*) ;;
		*) echo "$f is in lib$1.a"; return 1 ;;
		esac
	done
}

all_listed() {	# all_listed LAYER: every file of lib/LAYER/ is a source
	for f in "$srcdir"/lib/"$1"/*.[ch] "$srcdir"/lib/"$1"/*/*.[ch]; do
		[ -e "$f" ] || continue
		rel=lib/${f#"$srcdir"/lib/}
		case " $(sources "$1") " in
		*" $rel "*) ;;
		*) echo "$rel is not in lib$1.a"; return 1 ;;
		esac
	done
}

for l in $layers; do
	t "lib$l.a is built from lib/$l/ only" own_folder "$l"
	t "every file of lib/$l/ is in lib$l.a" all_listed "$l"
done

echo "1..$n"
[ "$bad" -eq 0 ]
