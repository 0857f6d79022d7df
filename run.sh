#!/bin/sh
# run.sh - build and run the support desk on this machine behind nginx.
#
#   ./run.sh               install what is missing, build, serve in the foreground
#   ./run.sh --background  the same, returning once the server answers
#   ./run.sh stop          stop what a background run started
#   ./run.sh deps          only install the Debian packages
#
# SUPPORT_VAR (default ./var) holds the store, the config, sockets and logs;
# SUPPORT_PORT (default 8080) is the port on 127.0.0.1; SUPPORT_CHILDREN
# (default 2) the worker processes per program; SUPPORT_BUILD (default this
# tree) where the built programs are.
set -eu

ROOT=$(cd "$(dirname "$0")" && pwd)
VAR=${SUPPORT_VAR:-$ROOT/var}
case $VAR in /*) ;; *) VAR=$(pwd)/$VAR ;; esac
PORT=${SUPPORT_PORT:-8080}
# Where the built programs are: this tree, or another build of it (the
# tests run a sanitizer build this way).
BUILD=${SUPPORT_BUILD:-$ROOT}
CHILDREN=${SUPPORT_CHILDREN:-2}
PROGRAMS="tickets messages session users"

# Build and run-time packages, by their Debian names.
PACKAGES="build-essential autoconf automake pkg-config libdb5.3-dev db5.3-util
 libfcgi-dev libjson-c-dev libinih-dev libsodium-dev libcmark-dev nginx-light
 curl python3 procps"

say() { printf 'run.sh: %s\n' "$*" >&2; }

deps() {
	missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "missing packages; as root, run:"
		echo "apt-get install -y$missing"
		exit 1
	fi
	say "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

build() {
	[ "$BUILD" = "$ROOT" ] || return 0
	cd "$ROOT"
	[ -x configure ] || ./autogen.sh
	[ -f Makefile ] || ./configure -q
	make -s -j2
}

# Is process $1 still running?  (A zombie waiting to be reaped is not.)
running() {
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $state in Z*) return 1 ;; esac
}

# Stop the process in pid file $1 (ours: we wrote it) and wait for it.
stop_pid() {
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	if kill "$pid" 2>/dev/null; then
		i=0
		while running "$pid" && [ $i -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		running "$pid" && kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$1"
}

stop() {
	stop_pid "$VAR/run/nginx.pid"
	for p in $PROGRAMS; do
		stop_pid "$VAR/run/$p.pid"
	done
}

setup() {
	mkdir -p "$VAR/data" "$VAR/run" "$VAR/log" "$VAR/tmp"
	chmod 700 "$VAR/data"
	if [ ! -f "$VAR/support.conf" ]; then
		sed -e "s|@DATA@|$VAR/data|" \
		    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
		    "$ROOT/conf/support.conf.example" >"$VAR/support.conf"
	fi
	user=""
	[ "$(id -u)" -eq 0 ] && user="user root;"
	sed -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$PORT|g" \
	    -e "s|@HTDOCS@|$ROOT/htdocs|g" -e "s|@USER@|$user|" \
	    "$ROOT/conf/nginx.conf" >"$VAR/nginx.conf"
	sed -e "s|@RUN@|$VAR/run|g" -e "s|@CONF@|$ROOT/conf|g" \
	    -e "s|@HTDOCS@|$ROOT/htdocs|g" \
	    "$ROOT/conf/nginx-support.conf" >"$VAR/nginx-support.conf"
	export SUPPORT_CONF="$VAR/support.conf"
	if [ ! -f "$VAR/admin-password" ]; then
		pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
		(umask 077 && echo "$pw" >"$VAR/admin-password")
		echo "$pw" | "$BUILD/bin/supportctl" user add admin \
		    --email admin@localhost --role admin --password-stdin >/dev/null
	fi
}

start() {
	for p in $PROGRAMS; do
		"$BUILD/cgi-bin/$p" --conf "$VAR/support.conf" \
		    --listen "unix:$VAR/run/$p.sock" --children "$CHILDREN" \
		    </dev/null >>"$VAR/log/$p.log" 2>&1 &
		echo $! >"$VAR/run/$p.pid"
	done
	/usr/sbin/nginx -p "$VAR" -c "$VAR/nginx.conf" -e "$VAR/log/nginx-error.log" \
	    </dev/null >>"$VAR/log/nginx.log" 2>&1 &
	echo $! >"$VAR/run/nginx.pid"
	# Ready when the API answers (401: it is up and wants a login).
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$PORT/api/support/tickets/"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			say "the server did not come up; see $VAR/log/"
			stop
			exit 1
		fi
		sleep 0.1
	done
	cat <<MSG
Support desk on http://127.0.0.1:$PORT/api/support/tickets/
Log in as "admin", password in $VAR/admin-password, for example:
  curl -u admin:\$(cat $VAR/admin-password) http://127.0.0.1:$PORT/api/support/tickets/
Add users and API tokens with: SUPPORT_CONF=$VAR/support.conf bin/supportctl --help
MSG
}

case ${1:-} in
stop)
	stop
	exit 0
	;;
deps)
	deps
	exit 0
	;;
--background | "")
	;;
*)
	echo "usage: $0 [--background | stop | deps]" >&2
	exit 2
	;;
esac

deps
build
stop
setup
start
if [ "${1:-}" = "--background" ]; then
	exit 0
fi
trap 'stop; exit 0' INT TERM
say "serving in the foreground; Ctrl-C stops it"
while :; do
	sleep 1 &
	wait $! || true
	for p in $PROGRAMS; do
		running "$(cat "$VAR/run/$p.pid")" || {
			say "$p stopped; see $VAR/log/$p.log"
			stop
			exit 1
		}
	done
done
