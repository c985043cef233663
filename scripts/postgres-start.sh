#!/usr/bin/env bash
# postgres-start.sh makes a throwaway PostgreSQL server available on a
# loopback port, for the tests of internal/storage/pgstore.
#
# Usage: scripts/postgres-start.sh [start|stop|restart|status]
#
#   start    (default) initialise the data directory if needed, start the
#            server if it is not running, create the role and database, and
#            print the DSN as the last line of stdout.
#   stop     stop the server (fast shutdown). The data directory is kept.
#   restart  restart the server (used by the pgstore restart test) and print
#            the DSN.
#   status   exit 0 and print the DSN if the server answers, else exit 1.
#
# Every command is idempotent. Progress goes to stderr; stdout carries only
# the DSN, so CI can run:
#
#   export OPENKMS_TEST_POSTGRES_DSN=$(scripts/postgres-start.sh)
#   export OPENKMS_PG_CTL_RESTART="$PWD/scripts/postgres-start.sh restart"
#   go test -race ./internal/storage/pgstore/
#
# Environment:
#   OPENKMS_PG_DIR   where the data directory and log live (/tmp/openkms-pg)
#   OPENKMS_PG_PORT  TCP port on 127.0.0.1 (55432)
#
# The server listens on 127.0.0.1 only; its unix socket is inside the data
# directory. PostgreSQL refuses to run as root, so when run as root the
# server runs as the "postgres" system user (created if missing). When the
# server binaries are missing and apt-get is available (Debian), the
# "postgresql" package is installed.
set -euo pipefail

PGDIR=${OPENKMS_PG_DIR:-/tmp/openkms-pg}
PORT=${OPENKMS_PG_PORT:-55432}
DATA=$PGDIR/data
LOG=$PGDIR/postgres.log
DB=openkms_test
ROLE=openkms
PASSWORD=openkms
DSN="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB?sslmode=disable"

log() { echo "postgres-start: $*" >&2; }
die() {
	echo "postgres-start: error: $*" >&2
	exit 1
}

# find_bindir prints a directory holding initdb, pg_ctl and postgres:
# /usr/lib/postgresql/<newest>/bin first, then the directory of pg_ctl on
# PATH (symlinks resolved).
find_bindir() {
	local d p
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	done
	if p=$(command -v pg_ctl); then
		d=$(dirname "$(readlink -f "$p")")
		if [[ -x $d/initdb && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	fi
	return 1
}

install_server() {
	[[ $(id -u) == 0 ]] || die "PostgreSQL server binaries not found; install the 'postgresql' package"
	command -v apt-get >/dev/null || die "PostgreSQL server binaries not found and apt-get is unavailable"
	log "installing the postgresql package"
	# Do not let the package create and start its own cluster on port 5432.
	if [[ -d /etc/postgresql-common ]] || mkdir -p /etc/postgresql-common; then
		if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
			echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
		fi
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
}

BIN=$(find_bindir) || {
	install_server
	BIN=$(find_bindir) || die "PostgreSQL server binaries still not found after installing"
}
PSQL=$BIN/psql
[[ -x $PSQL ]] || PSQL=$(command -v psql) || die "psql not found"
PG_ISREADY=$BIN/pg_isready
[[ -x $PG_ISREADY ]] || PG_ISREADY=$(command -v pg_isready) || die "pg_isready not found"

# The server runs as the invoking user, or as "postgres" when invoked as root.
if [[ $(id -u) == 0 ]]; then
	PGUSER_OS=postgres
	if ! id -u "$PGUSER_OS" >/dev/null 2>&1; then
		log "creating system user $PGUSER_OS"
		useradd --system --user-group --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin "$PGUSER_OS"
	fi
	as_pg() { (cd / && runuser -u "$PGUSER_OS" -- "$@"); }
else
	PGUSER_OS=$(id -un)
	as_pg() { (cd / && "$@"); }
fi

# superuser_psql runs psql as the bootstrap superuser over the unix socket in
# the data directory (trust authentication, reachable only by the owner).
superuser_psql() {
	as_pg "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$DATA" -p "$PORT" -U "$PGUSER_OS" -d postgres "$@"
}

tcp_ready() { "$PG_ISREADY" -q -h 127.0.0.1 -p "$PORT" -t 1 >/dev/null 2>&1; }

# ours_running reports whether the server of this data directory is running.
ours_running() {
	[[ -f $DATA/postmaster.pid ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

init_datadir() {
	mkdir -p "$PGDIR"
	chown "$PGUSER_OS" "$PGDIR"
	chmod 0700 "$PGDIR"
	as_pg test -w "$PGDIR" || die "$PGDIR is not writable by $PGUSER_OS (is a parent directory private?); set OPENKMS_PG_DIR"
	if [[ ! -f $DATA/PG_VERSION ]]; then
		log "initialising $DATA with $BIN/initdb"
		rm -rf "$DATA"
		as_pg "$BIN/initdb" -D "$DATA" -U "$PGUSER_OS" --encoding=UTF8 --no-locale \
			--auth-local=trust --auth-host=scram-sha-256 >&2
		cat >>"$DATA/postgresql.conf" <<-EOF

			# Added by scripts/postgres-start.sh (test server).
			listen_addresses = '127.0.0.1'
			max_connections = 200
			fsync = on
			synchronous_commit = on
		EOF
	fi
}

start_server() {
	log "starting PostgreSQL ($BIN) on 127.0.0.1:$PORT, log $LOG"
	as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
		-o "-p $PORT -c listen_addresses=127.0.0.1 -k $DATA" start >&2 ||
		die "pg_ctl start failed; see $LOG"
}

wait_ready() {
	local i
	for i in $(seq 1 60); do
		tcp_ready && return 0
		sleep 0.5
	done
	die "server on 127.0.0.1:$PORT did not become ready; see $LOG"
}

# setup_db creates (or fixes) the test role and database.
setup_db() {
	superuser_psql <<-EOF
		SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$ROLE', '$PASSWORD')
		WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') \gexec
		ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
		SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L TEMPLATE template0',
		              '$DB', '$ROLE', 'UTF8', 'C', 'C')
		WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB') \gexec
	EOF
}

dsn_works() { "$PSQL" -X -q -At "$DSN" -c 'SELECT 1' >/dev/null 2>&1; }

cmd_start() {
	if ours_running; then
		log "reusing the running server of $DATA"
	elif tcp_ready; then
		# Someone else's server (a CI service, another data directory).
		dsn_works || die "another server answers on 127.0.0.1:$PORT but not to $DSN; stop it or set OPENKMS_PG_PORT"
		log "reusing the server already listening on 127.0.0.1:$PORT"
		echo "$DSN"
		return 0
	else
		init_datadir
		start_server
	fi
	wait_ready
	setup_db
	dsn_works || die "cannot connect with $DSN; see $LOG"
	echo "$DSN"
}

cmd_stop() {
	if ours_running; then
		log "stopping the server of $DATA"
		as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2
	else
		log "no server of $DATA is running"
	fi
}

cmd_restart() {
	if ! ours_running; then
		cmd_start
		return
	fi
	log "restarting the server of $DATA"
	as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -m fast -w -t 60 restart >&2 ||
		die "pg_ctl restart failed; see $LOG"
	wait_ready
	echo "$DSN"
}

cmd_status() {
	if tcp_ready && dsn_works; then
		echo "$DSN"
		return 0
	fi
	log "no usable server on 127.0.0.1:$PORT"
	return 1
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
restart) cmd_restart ;;
status) cmd_status ;;
*) die "unknown command '$1'; usage: postgres-start.sh [start|stop|restart|status]" ;;
esac
