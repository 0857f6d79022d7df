#!/bin/sh
# run.sh - build and run the support desk on this machine behind nginx or
# Apache.
#
#   ./run.sh               install what is missing, build, serve in the foreground
#   ./run.sh --background  the same, returning once the server answers
#   ./run.sh stop          stop what a background run started
#   ./run.sh deps          only install the Debian packages
#
# SUPPORT_VAR (default ./var) holds the store, the config, sockets and logs;
# SUPPORT_PORT (default 8080) is the port on 127.0.0.1; SUPPORT_CHILDREN
# (default 2) the worker processes per program, but for the messages
# program, which writes, SUPPORT_MESSAGES_CHILDREN (default 8: its workers'
# commits share log flushes, docs/store.md); SUPPORT_BUILD (default this
# tree) where the built programs are.  SUPPORT_SERVER picks the web server:
#   nginx          (default) nginx, the programs on unix sockets (--listen)
#   apache-fcgid   Apache 2.4 + mod_fcgid, which starts the programs itself
#   apache-proxy   Apache 2.4 + mod_proxy_fcgi to the programs' sockets
#   apache-cgi     Apache 2.4, plain CGI: cgi-bin/ and an .htaccess
# Run as root, Apache will not run its children as root: the programs then
# run as www-data and the store under SUPPORT_VAR is given to www-data
# (docs/apache.md).
set -eu

ROOT=$(cd "$(dirname "$0")" && pwd)
VAR=${SUPPORT_VAR:-$ROOT/var}
case $VAR in /*) ;; *) VAR=$(pwd)/$VAR ;; esac
PORT=${SUPPORT_PORT:-8080}
# Where the built programs are: this tree, or another build of it (the
# tests run a sanitizer build this way).
BUILD=${SUPPORT_BUILD:-$ROOT}
CHILDREN=${SUPPORT_CHILDREN:-2}
MESSAGES_CHILDREN=${SUPPORT_MESSAGES_CHILDREN:-8}
# The programs, and the paths each answers, are conf/programs.tab's.
PROGRAMS=$(sh "$ROOT/conf/routes.sh" programs "$ROOT/conf") || {
	echo "run.sh: conf/programs.tab cannot be read" >&2
	exit 1
}
SERVER=${SUPPORT_SERVER:-nginx}
case $SERVER in
nginx | apache-fcgid | apache-proxy | apache-cgi) ;;
*)
	echo "run.sh: SUPPORT_SERVER is nginx, apache-fcgid, apache-proxy or" \
	    "apache-cgi, not \"$SERVER\"" >&2
	exit 2
	;;
esac
# The user the programs run as, when it is not the caller: Apache refuses
# to run its children as root (Debian builds it so).
RUN_AS=""
case $SERVER in apache-*) [ "$(id -u)" -ne 0 ] || RUN_AS=www-data ;; esac

# Build and run-time packages, by their Debian names.
PACKAGES="build-essential autoconf automake pkg-config libdb5.3-dev db5.3-util
 libfcgi-dev libjson-c-dev libinih-dev libsodium-dev libcmark-dev libseccomp-dev
 libgmime-3.0-dev libcurl4-openssl-dev libutf8proc-dev
 nginx-light apache2 apache2-utils libapache2-mod-fcgid
 libapache2-mod-xsendfile curl python3 procps
 util-linux"

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
	stop_pid "$VAR/run/apache.pid"
	for p in $PROGRAMS; do
		stop_pid "$VAR/run/$p.pid"
	done
	stop_pid "$VAR/run/support-worker.pid"
}

setup() {
	mkdir -p "$VAR/data" "$VAR/run" "$VAR/log" "$VAR/tmp"
	chmod 700 "$VAR/data"
	if [ ! -f "$VAR/support.conf" ]; then
		sed -e "s|@DATA@|$VAR/data|" \
		    -e "s|^;templates_dir = .*|templates_dir = $ROOT/templates|" \
		    -e "s|^;worker_path = .*|worker_path = $BUILD/bin/support-worker|" \
		    "$ROOT/conf/support.conf.example" >"$VAR/support.conf"
	fi
	user=""
	[ "$(id -u)" -eq 0 ] && user="user root;"
	sed -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$PORT|g" \
	    -e "s|@HTDOCS@|$ROOT/htdocs|g" -e "s|@USER@|$user|" \
	    "$ROOT/conf/nginx.conf" >"$VAR/nginx.conf"
	# max_body_bytes of support.conf: the web server refuses larger
	# bodies itself, before it reads them.
	max_body=$(sed -n 's/^[[:space:]]*max_body_bytes[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
	    "$VAR/support.conf" | tail -n 1)
	[ -n "$max_body" ] || max_body=262144
	# With file uploads on, a message may carry max_attachments_per_message
	# files of max_attachment_bytes each (and 4 KB of part headers each)
	# beside its fields: the paths that take files (programs.tab's upload
	# rows) may send that much (docs/attachments.md).
	conf_key() {
		sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([0-9A-Za-z][0-9A-Za-z]*\).*/\1/p" \
		    "$VAR/support.conf" | tail -n 1
	}
	max_upload=$max_body
	files_dir=$(sed -n 's/^[[:space:]]*data_dir[[:space:]]*=[[:space:]]*\(\/[^[:space:]]*\).*/\1/p' \
	    "$VAR/support.conf" | tail -n 1)/files
	# attachment_sendfile names the web server that sends a download's
	# bytes (docs/attachments.md): another one would hand the client the
	# program's internal header and an empty body.
	sendfile=$(sed -n 's/^[[:space:]]*attachment_sendfile[[:space:]]*=[[:space:]]*\([a-z-]*\).*/\1/p' \
	    "$VAR/support.conf" | tail -n 1)
	case $SERVER:$sendfile in
	nginx:x-sendfile)
		say "attachment_sendfile = x-sendfile is Apache's (mod_xsendfile);" \
		    "nginx takes x-accel-redirect"
		exit 1
		;;
	apache-*:x-accel-redirect)
		say "attachment_sendfile = x-accel-redirect is nginx's; Apache" \
		    "takes x-sendfile (with mod_xsendfile) or no"
		exit 1
		;;
	apache-*:x-sendfile)
		[ -f /usr/lib/apache2/modules/mod_xsendfile.so ] || {
			say "attachment_sendfile = x-sendfile needs mod_xsendfile" \
			    "(apt-get install libapache2-mod-xsendfile)"
			exit 1
		}
		;;
	esac
	uploads=$(conf_key enable_file_uploads)
	case $uploads in no|false|off|0) ;; *)
		att=$(conf_key max_attachment_bytes)
		natt=$(conf_key max_attachments_per_message)
		max_upload=$((max_body + ${natt:-5} * (${att:-10485760} + 4096)))
	esac
	sed -e "s|@RUN@|$VAR/run|g" -e "s|@CONF@|$ROOT/conf|g" \
	    -e "s|@HTDOCS@|$ROOT/htdocs|g" -e "s|@MAX_BODY@|$max_body|g" -e "s|@MAX_UPLOAD@|$max_upload|g" \
	    -e "s|@FILES@|$files_dir|g" \
	    "$ROOT/conf/nginx-support.conf" >"$VAR/nginx-support.conf"
	case $SERVER in apache-*) setup_apache ;; esac
	# The desk's secret (secret_file: the reply addresses of its mail),
	# 32 random bytes only the desk's user reads, made once.
	if [ ! -f "$VAR/secret" ]; then
		(umask 077 && head -c 32 /dev/urandom >"$VAR/secret")
		[ -z "$RUN_AS" ] || chown "$RUN_AS:" "$VAR/secret"
	fi
	if ! grep -q '^[[:space:]]*secret_file[[:space:]]*=' "$VAR/support.conf"; then
		sed -i "/^\[support\]/a secret_file = $VAR/secret" "$VAR/support.conf"
	fi
	export SUPPORT_CONF="$VAR/support.conf"
	if [ ! -f "$VAR/admin-password" ]; then
		pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
		(umask 077 && echo "$pw" >"$VAR/admin-password")
		echo "$pw" | (as_run_user "$BUILD/bin/supportctl" user add \
		    admin --email admin@localhost --role admin \
		    --password-stdin >/dev/null)
	fi
}

# Run a command as the user the programs run as.  setpriv execs the
# command: a pid taken with $! is the program's own.
as_run_user() {
	if [ -n "$RUN_AS" ]; then
		exec setpriv --reuid="$RUN_AS" --regid="$RUN_AS" --init-groups "$@"
	else
		exec "$@"
	fi
}

# Fill in conf/apache/ for $VAR: httpd.conf and the snippet of the mode.
setup_apache() {
	a="$ROOT/conf/apache"
	mkdir -p "$VAR/run/fcgid" "$VAR/apache-site"
	docroot=$ROOT/htdocs
	case $SERVER in
	apache-fcgid) snippet=fcgid.conf ;;
	apache-proxy) snippet=proxy-fcgi.conf ;;
	apache-cgi)
		# A web root as a shared host has it: cgi-bin/ with the
		# programs, the static files, and the desk's .htaccess.
		docroot=$VAR/www
		mkdir -p "$docroot/cgi-bin" "$docroot/support/static"
		for p in $PROGRAMS; do
			cp -f "$BUILD/cgi-bin/$p" "$docroot/cgi-bin/$p"
		done
		cp -f "$ROOT"/htdocs/* "$docroot/support/static/"
		sed -e "s|@CONF@|$VAR/support.conf|g" \
		    -e "s|@MAX_BODY@|$max_body|g" -e "s|@MAX_UPLOAD@|$max_upload|g" \
		    "$a/cgi.htaccess" >"$docroot/.htaccess"
		snippet=cgi-host.conf
		;;
	esac
	sed -e "s|@CGIBIN@|$BUILD/cgi-bin|g" -e "s|@HTDOCS@|$ROOT/htdocs|g" \
	    -e "s|@CONF@|$VAR/support.conf|g" -e "s|@RUN@|$VAR/run|g" \
	    -e "s|@MAX_BODY@|$max_body|g" -e "s|@MAX_UPLOAD@|$max_upload|g" -e "s|@DOCROOT@|$docroot|g" \
	    -e "s|@FILES@|$files_dir|g" \
	    "$a/$snippet" >"$VAR/apache-mode.conf"
	user=""
	[ -n "$RUN_AS" ] && user="User $RUN_AS\\
Group $RUN_AS"
	# A test's clock (docs/testing.md) reaches the programs of every
	# mode: run.sh starts them itself in proxy mode; mod_fcgid starts
	# them with FcgidInitialEnv's variables only; a CGI gets PassEnv's.
	if [ -n "${SUPPORT_TEST_CLOCK:-}" ]; then
		case $SERVER in
		apache-fcgid) echo "FcgidInitialEnv SUPPORT_TEST_CLOCK \"$SUPPORT_TEST_CLOCK\"" ;;
		apache-cgi) echo "PassEnv SUPPORT_TEST_CLOCK" ;;
		esac >>"$VAR/apache-mode.conf"
	fi
	sed -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$PORT|g" -e "s|@USER@|$user|" \
	    -e "s|@DOCROOT@|$docroot|g" -e "s|@MODE@|$VAR/apache-mode.conf|g" \
	    "$a/httpd.conf" >"$VAR/apache.conf"
	if [ -n "$RUN_AS" ]; then
		# The programs, as $RUN_AS, write the store, their sockets and
		# mod_fcgid's; they read support.conf and pass through $VAR.
		chown -R "$RUN_AS:" "$VAR/data" "$VAR/run"
		chgrp "$RUN_AS" "$VAR" "$VAR/support.conf"
		chmod g+x "$VAR"
		chmod g+r "$VAR/support.conf"
	fi
}

# The processes run.sh itself starts (named by their pid files): the web
# server, the programs when they listen on their own sockets, and
# support-worker (docs/mail.md) but under plain CGI, where no daemon may
# run and a request that queues mail starts a worker's pass itself.
started() {
	case $SERVER in
	nginx) echo "$PROGRAMS nginx support-worker" ;;
	apache-proxy) echo "$PROGRAMS apache support-worker" ;;
	apache-fcgid) echo "apache support-worker" ;;
	*) echo apache ;;
	esac
}

# Does this mode run support-worker as a daemon?
with_worker() {
	case " $(started) " in *" support-worker "*) return 0 ;; esac
	return 1
}

# The size of log $1 now (0 when there is none): where this run's lines
# begin.
log_size() {
	if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo 0; fi
}

# Say what log $1 got since byte $2 (its last lines), on stderr.
log_since() {
	[ -f "$1" ] || return 0
	tail -c +"$(($2 + 1))" "$1" | tail -n 20 | sed 's/^/  /' >&2
}

# The log a program's errors go to: its own when run.sh starts it, else
# the web server's (mod_fcgid and CGI pass a program's stderr there).
program_log() {
	case $SERVER in
	nginx | apache-proxy) echo "$VAR/log/$1.log" ;;
	*) echo "$VAR/log/apache-error.log" ;;
	esac
}

# A path program $1 answers: its first row in conf/programs.tab, "*" a
# made-up segment.
program_path() {
	sh "$ROOT/conf/routes.sh" rows "$ROOT/conf" |
	    awk -F '\t' -v p="$1" '$1 == p && $2 ~ /^\// { print $2; exit }' |
	    sed 's|\*|x|g'
}

# Fail the start: say why, show program $1's log lines of this run (or
# the server's, for $1 empty), stop everything, exit 1.
start_failed() {
	say "$2"
	if [ -n "$1" ]; then
		log_since "$(program_log "$1")" "$(eval echo "\${logat_$1:-0}")"
	else
		log_since "$VAR/log/nginx-error.log" "$logat_server"
		log_since "$VAR/log/apache-error.log" "$logat_apache"
	fi
	say "the logs are in $VAR/log/"
	stop
	exit 1
}

# Wait until every program answers through the server (a status below
# 500 at a path of its own: a program that refused its configuration and
# exited leaves the server answering 502, or 500 for a CGI); fail with the
# program's own error otherwise.
wait_ready() {
	paths=""
	for p in $PROGRAMS; do
		paths="$paths $p=$(program_path "$p")"
	done
	case $SERVER in nginx) srv=nginx ;; *) srv=apache ;; esac
	i=0
	while :; do
		running "$(cat "$VAR/run/$srv.pid")" ||
		    start_failed "" "$srv exited at start"
		ready=true
		for pp in $paths; do
			p=${pp%%=*}
			case $SERVER in nginx | apache-proxy)
				running "$(cat "$VAR/run/$p.pid")" ||
				    start_failed "$p" "$p exited at start"
				;;
			esac
			code=$(curl -s -o /dev/null -w '%{http_code}' \
			    "http://127.0.0.1:$PORT${pp#*=}") || code=000
			case $code in
			000) ready=false; failing=""; why="the server does not answer" ;;
			5??) ready=false; failing=$p
			    why="$p does not answer (HTTP $code at ${pp#*=})" ;;
			esac
			$ready || break
		done
		$ready && return 0
		i=$((i + 1))
		[ $i -le 100 ] || start_failed "$failing" "$why"
		sleep 0.1
	done
}

start() {
	logat_server=$(log_size "$VAR/log/nginx-error.log")
	logat_apache=$(log_size "$VAR/log/apache-error.log")
	for p in $PROGRAMS; do
		eval "logat_$p=$(log_size "$(program_log "$p")")"
	done
	logat_worker=$(log_size "$VAR/log/support-worker.log")
	if with_worker; then
		(as_run_user "$BUILD/bin/support-worker" --conf "$VAR/support.conf") \
		    </dev/null >>"$VAR/log/support-worker.log" 2>&1 &
		echo $! >"$VAR/run/support-worker.pid"
	fi
	case $SERVER in nginx | apache-proxy)
		for p in $PROGRAMS; do
			kids=$CHILDREN
			[ "$p" != messages ] || kids=$MESSAGES_CHILDREN
			(as_run_user "$BUILD/cgi-bin/$p" --conf "$VAR/support.conf" \
			    --listen "unix:$VAR/run/$p.sock" --children "$kids") \
			    </dev/null >>"$VAR/log/$p.log" 2>&1 &
			echo $! >"$VAR/run/$p.pid"
		done
		;;
	esac
	case $SERVER in
	nginx)
		/usr/sbin/nginx -p "$VAR" -c "$VAR/nginx.conf" -e "$VAR/log/nginx-error.log" \
		    </dev/null >>"$VAR/log/nginx.log" 2>&1 &
		echo $! >"$VAR/run/nginx.pid"
		;;
	*)
		# Its own session: on stop, Apache's prefork signals its whole
		# process group, which would otherwise be ours.
		setsid /usr/sbin/apache2 -d "$VAR" -f "$VAR/apache.conf" -D FOREGROUND \
		    </dev/null >>"$VAR/log/apache.log" 2>&1 &
		echo $! >"$VAR/run/apache.pid"
		;;
	esac
	# Ready when every program answers (the API: 401, it wants a login).
	wait_ready
	if with_worker && ! running "$(cat "$VAR/run/support-worker.pid")"; then
		say "support-worker exited at start"
		log_since "$VAR/log/support-worker.log" "$logat_worker"
		stop
		exit 1
	fi
	cat <<MSG
Support desk on http://127.0.0.1:$PORT/support/ (the pages)
API on http://127.0.0.1:$PORT/api/support/tickets/
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
	for p in $(started); do
		running "$(cat "$VAR/run/$p.pid")" || {
			say "$p stopped; see $VAR/log/$p.log"
			stop
			exit 1
		}
	done
done
