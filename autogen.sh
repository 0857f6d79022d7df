#!/bin/sh
# autogen.sh - make ./configure from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake ships a TAP driver but installs it only on request.
cp "$(automake --print-libdir)/tap-driver.sh" build-aux/
