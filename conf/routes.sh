#!/bin/sh
# routes.sh - the web servers' routing, made from programs.tab.
#
#   routes.sh generate [CONFDIR]  write each configuration from its .in
#   routes.sh check [CONFDIR [PROGRAM...]]
#                                 TAP: each configuration is what the
#                                 table and its .in give, and the table
#                                 names these programs (cgi-bin/NAME or
#                                 NAME; make check gives Makefile.am's)
#   routes.sh programs [CONFDIR]  the programs, one a line, in the
#                                 table's order (run.sh, test.sh, tests)
#   routes.sh rows [CONFDIR]      the rows in order, tab-separated:
#                                 PROGRAM, PATH and the path's regular
#                                 expression (the tests)
#
# CONFDIR is the conf/ directory, by default this script's.  Only sh and a
# POSIX awk (mawk will do): it runs on any build host.  programs.tab says
# what a row is; docs/routes.md why the configurations are committed.
#
# A .in file is its configuration with these in place of what the table
# gives:
#   %%NOTICE%%      (a line) that the file is made, and from what
#   %%ROUTES%%      (a line) a rule a row, in the file's own form
#   %%PROGRAMS%%    the programs as a regular expression: a|b|c
#   %%DESK%%        every path of a row as one regular expression, without
#                   its leading "/": (api/support/|support/)
#   %%ERRORS%%      the program of the 413 row
#   %%ERRORS_URL%%  a path that reaches it: its first row without "*"
#   %%UPLOADS%%     the paths of the rows marked upload as one regular
#                   expression, without their leading "/"
set -u

# The configurations: FILE (under CONFDIR, made from FILE.in) and FORM,
# the form %%ROUTES%% takes in it.
CONFIGS="nginx-support.conf:nginx apache/fcgid.conf:fcgid
apache/proxy-fcgi.conf:proxy apache/cgi.htaccess:htaccess"

# Reads the table (the first file), then the .in (the second, when
# given); mode is expand, programs or rows.  Errors name the file and line
# and exit 1.
AWK_PROG='
function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg >"/dev/stderr"
	failed = 1
	exit 1
}

# An error of the table as a whole.
function tabfail(msg) {
	printf "%s: %s\n", TAB, msg >"/dev/stderr"
	failed = 1
	exit 1
}

# s with every ph replaced by val (gsub would read "&" and "\\" in val).
function put(s, ph, val,    i, out) {
	out = ""
	while ((i = index(s, ph)) > 0) {
		out = out substr(s, 1, i - 1) val
		s = substr(s, i + length(ph))
	}
	return out s
}

# The regular expression of a path: "." escaped, "*" one segment.
function ere(p,    out, i, c) {
	out = ""
	for (i = 1; i <= length(p); i++) {
		c = substr(p, i, 1)
		if (c == ".")
			out = out "\\."
		else if (c == "*")
			out = out "[^/]+"
		else
			out = out c
	}
	return out
}

# Does every path that row a takes begin with b, so that a row b before a
# leaves a nothing?  Segment by segment: "*" in b takes any segment.
function takes(b, a,    nb, na, sb, sa, i) {
	nb = split(b, sb, "/")
	na = split(a, sa, "/")
	if (na < nb)
		return 0
	for (i = 1; i < nb; i++)
		if (sb[i] != sa[i] && !(sb[i] == "*" && sa[i] != ""))
			return 0
	return 1
}

FILENAME == TAB {
	comment = ""
	line = $0
	if ((i = index(line, "#")) > 0) {
		comment = substr(line, i + 1)
		sub(/^[ \t]+/, "", comment)
		line = substr(line, 1, i - 1)
	}
	$0 = line
	if (NF == 0)
		next
	if (NF == 3 && $3 != "upload")
		fail("a row'"'"'s third word can only be upload, not \"" $3 "\"")
	if (NF != 2 && NF != 3)
		fail("a row is PROGRAM PATH [upload] (or PROGRAM 413), not \"" line "\"")
	if ($1 !~ /^[a-z][a-z0-9_]*$/)
		fail("\"" $1 "\" is not a program name (a-z, 0-9, _)")
	if (!($1 in seen)) {
		seen[$1] = 1
		progs[++nprogs] = $1
	}
	if ($2 == "413") {
		if (errors != "")
			fail("a second 413 row (the first names " errors ")")
		errors = $1
		next
	}
	if ($2 !~ /^\/(([A-Za-z0-9._~-]+|\*)\/)*$/)
		fail("\"" $2 "\" is not a path of segments (letters, digits, ._~- or *) each ending in /")
	for (i = 1; i <= nrows; i++) {
		if (path[i] == $2)
			fail($2 " is a row already")
		if (takes(path[i], $2))
			fail("the earlier row " path[i] " takes every path of " $2)
	}
	nrows++
	prog[nrows] = $1
	path[nrows] = $2
	note[nrows] = comment
	up[nrows] = NF == 3
	has_path[$1] = 1
	next
}

# The table is read: check it as a whole, and work out what the
# placeholders stand for.
function table_done(    i, j) {
	ready = 1
	if (nrows == 0)
		tabfail("the table has no rows")
	if (errors == "")
		tabfail("no row names the program that answers 413")
	for (i = 1; i <= nprogs; i++)
		if (!(progs[i] in has_path))
			tabfail(progs[i] " has no path")
	for (i = 1; i <= nprogs; i++)
		programs = programs (i > 1 ? "|" : "") progs[i]
	for (i = 1; i <= nrows && errors_url == ""; i++)
		if (prog[i] == errors && index(path[i], "*") == 0)
			errors_url = path[i]
	if (errors_url == "")
		tabfail(errors " answers 413 but has no row without \"*\" to reach it by")
	# The desk: every row but one that a row without "*" takes too.
	for (i = 1; i <= nrows; i++) {
		for (j = 1; j <= nrows; j++)
			if (j != i && index(path[j], "*") == 0 &&
			    takes(path[j], path[i]))
				break
		if (j <= nrows)
			continue
		desk = desk (desk == "" ? "" : "|") substr(ere(path[i]), 2)
	}
	desk = "(" desk ")"
	for (i = 1; i <= nrows; i++)
		if (up[i])
			uploads = uploads (uploads == "" ? "" : "|") \
			    substr(ere(path[i]), 2)
	uploads = "(" uploads ")"
}

!ready {
	table_done()
}

function routes(    i, re) {
	for (i = 1; i <= nrows; i++) {
		re = "^" ere(path[i])
		if (FORM == "nginx") {
			if (i > 1)
				print ""
			if (note[i] != "")
				print "# " note[i]
			print "location ~ " re " {"
			print "\tfastcgi_pass unix:@RUN@/" prog[i] ".sock;"
			if (up[i])
				print "\tclient_max_body_size @MAX_UPLOAD@;"
			print "\tinclude @CONF@/fastcgi-support.conf;"
			print "}"
			continue
		}
		if (note[i] != "")
			print "# " note[i]
		if (FORM == "fcgid")
			print "AliasMatch \"" re "\" \"@CGIBIN@/" prog[i] "\""
		else if (FORM == "proxy")
			print "ProxyPassMatch \"" re "\" \"unix:@RUN@/" prog[i] \
			    ".sock|fcgi://" prog[i] "/\""
		else if (FORM == "htaccess")
			print "RewriteRule \"^" substr(re, 3) "\" \"/cgi-bin/" \
			    prog[i] "\" [END]"
		else
			fail("no form " FORM)
	}
}

MODE == "expand" && $0 == "%%NOTICE%%" {
	print "# Made by conf/routes.sh from conf/programs.tab and " NAME ".in"
	print "# (make routes): edit those, not this file."
	next
}

MODE == "expand" && $0 == "%%ROUTES%%" {
	routes()
	next
}

MODE == "expand" {
	line = put($0, "%%PROGRAMS%%", programs)
	line = put(line, "%%DESK%%", desk)
	line = put(line, "%%ERRORS_URL%%", errors_url)
	line = put(line, "%%ERRORS%%", errors)
	line = put(line, "%%UPLOADS%%", uploads)
	if (line ~ /%%[A-Z_]*%%/)
		fail("unknown placeholder in \"" $0 "\"")
	print line
}

END {
	if (failed)
		exit 1
	if (!ready)
		table_done()
	if (MODE == "programs")
		for (i = 1; i <= nprogs; i++)
			print progs[i]
	else if (MODE == "rows")
		for (i = 1; i <= nrows; i++)
			print prog[i] "\t" path[i] "\t^" ere(path[i])
}
'

# table MODE [TEMPLATE FORM NAME]: run the awk program.
table() {
	mode=$1
	shift
	if [ $# -gt 0 ]; then
		awk -v MODE="$mode" -v TAB="$TAB" -v FORM="$2" -v NAME="$3" \
		    "$AWK_PROG" "$TAB" "$1"
	else
		# (an empty second file: the table's checks run to the end)
		awk -v MODE="$mode" -v TAB="$TAB" "$AWK_PROG" "$TAB" /dev/null
	fi
}

case ${1:-} in
generate | check | programs | rows) ;;
*)
	echo "usage: $0 generate|check|programs|rows [CONFDIR [PROGRAM...]]" >&2
	exit 2
	;;
esac
MODE=$1
CONFDIR=${2:-$(dirname "$0")}
shift
[ $# -eq 0 ] || shift
TAB=$CONFDIR/programs.tab
[ -r "$TAB" ] || {
	echo "$0: $TAB cannot be read" >&2
	exit 1
}

case $MODE in
programs | rows)
	table "$MODE"
	exit
	;;
esac

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
n=0
bad=0
for c in $CONFIGS; do
	file=${c%%:*}
	form=${c#*:}
	n=$((n + 1))
	if ! table expand "$CONFDIR/$file.in" "$form" "$file" >"$tmp"; then
		bad=$((bad + 1))
		[ "$MODE" = generate ] || echo "not ok $n - $file: cannot be made"
		continue
	fi
	if [ "$MODE" = generate ]; then
		if ! cmp -s "$tmp" "$CONFDIR/$file"; then
			cat "$tmp" >"$CONFDIR/$file" || exit 1
			echo "routes.sh: wrote $CONFDIR/$file"
		fi
	elif cmp -s "$tmp" "$CONFDIR/$file"; then
		echo "ok $n - $file is what programs.tab and $file.in give"
	else
		echo "not ok $n - $file is what programs.tab and $file.in give"
		echo "# it differs (run make routes and commit the result):"
		diff "$CONFDIR/$file" "$tmp" | sed 's/^/#   /' | head -40
		bad=$((bad + 1))
	fi
done
if [ "$MODE" = generate ]; then
	[ "$bad" -eq 0 ]
	exit
fi
# The programs the build makes, if given: the table's, no more, no fewer.
if [ $# -gt 0 ]; then
	n=$((n + 1))
	built=$(for p in "$@"; do echo "${p##*/}"; done | LC_ALL=C sort)
	listed=$(table programs | LC_ALL=C sort)
	if [ "$built" = "$listed" ]; then
		echo "ok $n - programs.tab names the programs the build makes:" $built
	else
		echo "not ok $n - programs.tab names the programs the build makes"
		echo "# built:" $built
		echo "# programs.tab:" $listed
		bad=$((bad + 1))
	fi
fi
echo "1..$n"
[ "$bad" -eq 0 ]
