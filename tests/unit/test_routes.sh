#!/bin/sh
# test_routes.sh - the web servers' routing in conf/ is what
# conf/programs.tab and the .in files give (conf/routes.sh check), and the
# table names the programs Makefile.am builds.  make check runs it, with
# srcdir and SUPPORT_PROGRAMS (cgibin_PROGRAMS) from Makefile.am.  Prints
# TAP.
set -u
if [ -z "${srcdir:-}" ] || [ -z "${SUPPORT_PROGRAMS:-}" ]; then
	echo "Bail out! run by make check (srcdir and SUPPORT_PROGRAMS unset)"
	exit 1
fi
exec "${SHELL:-/bin/sh}" "$srcdir/conf/routes.sh" check "$srcdir/conf" \
    $SUPPORT_PROGRAMS
