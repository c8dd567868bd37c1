#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL server for tests (fsync off, trust authentication, never for real data).
#
#   pg.sh start DIR          initdb into DIR/data, start on a free port with a short unix-socket
#                            directory, create role and database "agentlens" (password
#                            "agentlens"), write DIR/env (source it: AGENTLENS_DB_*, PG*, PG_TEST_*)
#   pg.sh stop DIR           stop the server (fast shutdown) and remove DIR; fine if not running
#   pg.sh pause DIR          stop the server, keep DIR         (tests that take the server away)
#   pg.sh resume DIR         start it again on the same port and socket directory
#   pg.sh restart DIR        pause + resume
#   pg.sh createdb DIR NAME  create database NAME owned by agentlens; prints nothing
#   pg.sh run CMD [ARGS...]  start in a temporary directory, run CMD with DIR/env sourced, always
#                            stop; exits with CMD's status
#
# As root the server runs as the "postgres" user (initdb refuses root); DIR is chowned to it.
# PG_BIN overrides where the server binaries are found.
set -euo pipefail

PROG=${0##*/}
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/${0##*/}

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '3,16s/^# \{0,1\}//p' "$SELF" >&2
	exit 2
}

# The directory holding initdb, pg_ctl, postgres: PG_BIN, Debian's 15, pg_config's, the highest.
pg_bindir() {
	local d
	for d in "${PG_BIN:-}" /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
		[[ -n $d && -x $d/initdb && -x $d/pg_ctl ]] && {
			echo "$d"
			return 0
		}
	done
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d && -x $d/initdb ]] || die "PostgreSQL server binaries not found (apt-get install postgresql-15, or set PG_BIN)"
	echo "$d"
}

# Runs a server tool as the cluster owner: "postgres" when we are root, ourselves otherwise.
as_owner() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

port_in_use() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Htan "sport = :$port" 2>/dev/null) ]]
	else
		(: </dev/tcp/127.0.0.1/"$port") 2>/dev/null
	fi
}

free_port() {
	local port i
	for ((i = 0; i < 100; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		port_in_use "$port" || {
			echo "$port"
			return 0
		}
	done
	die "no free port found"
}

# Reads the state of a started DIR (its env file) into the variables below.
load_state() {
	local dir=$1
	[[ -r $dir/env ]] || return 1
	# shellcheck source=/dev/null
	. "$dir/env"
	BIN=$PG_TEST_BIN
	SOCKDIR=$PGHOST
	PORT=$PGPORT
	DATA=$dir/data
}

# pg_ctl start with the test settings; returns pg_ctl's status.
pg_start() {
	local dir=$1 port=$2 sockdir=$3 bin=$4
	as_owner "$bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" -o "-p $port -k $sockdir \
-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
-c max_connections=200 -c shared_buffers=32MB" >/dev/null 2>&1
}

wait_ready() {
	local bin=$1 sockdir=$2 port=$3 i
	for ((i = 0; i < 100; i++)); do
		"$bin/pg_isready" -q -h "$sockdir" -p "$port" -U postgres -d postgres && return 0
		sleep 0.1
	done
	return 1
}

cmd_start() {
	local dir=${1:?usage: $PROG start DIR} bin sockdir port tries
	[[ -e $dir/env ]] && cmd_stop "$dir" # a leftover from an aborted run
	mkdir -p "$dir"
	bin=$(pg_bindir)
	if ((EUID == 0)); then
		chown postgres: "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "the postgres user cannot write $dir (a parent directory not searchable by it?)"
	fi
	as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
		--no-instructions >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	}
	sockdir=$(mktemp -d /tmp/pgs.XXXXXX) # the socket path must stay under ~107 bytes
	chmod 755 "$sockdir"
	((EUID == 0)) && chown postgres: "$sockdir"
	for ((tries = 0; ; tries++)); do
		port=$(free_port)
		pg_start "$dir" "$port" "$sockdir" "$bin" && break
		if ((tries < 10)) && grep -qE 'could not (bind|create listen)|already in use' "$dir/server.log"; then
			continue # someone took the port in between: pick another
		fi
		cat "$dir/server.log" >&2
		rm -rf "$sockdir"
		die "the server did not start"
	done
	wait_ready "$bin" "$sockdir" "$port" || die "the server does not answer on port $port"
	"$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres -d postgres \
		-c "CREATE ROLE agentlens LOGIN CREATEDB PASSWORD 'agentlens'" \
		-c "CREATE DATABASE agentlens OWNER agentlens" >/dev/null
	cat >"$dir/env" <<EOF
# Written by $PROG start: the test PostgreSQL server in $dir.
export AGENTLENS_DB_DIALECT=postgres
export AGENTLENS_DB_POSTGRES_HOST=$sockdir
export AGENTLENS_DB_POSTGRES_PORT=$port
export AGENTLENS_DB_POSTGRES_USER=agentlens
export AGENTLENS_DB_POSTGRES_PASSWORD=agentlens
export AGENTLENS_DB_POSTGRES_DBNAME=agentlens
export AGENTLENS_DB_POSTGRES_SSLMODE=disable
export PGHOST=$sockdir
export PGPORT=$port
export PGUSER=postgres
export PG_TEST_DIR=$dir
export PG_TEST_BIN=$bin
export PG_TEST_SH=$SELF
EOF
}

cmd_pause() {
	local dir=${1:?usage: $PROG pause DIR} BIN SOCKDIR PORT DATA
	load_state "$dir" || die "$dir has no server (no $dir/env)"
	[[ -f $DATA/postmaster.pid ]] || return 0
	as_owner "$BIN/pg_ctl" stop -w -t 60 -m fast -D "$DATA" >/dev/null 2>&1 || [[ ! -f $DATA/postmaster.pid ]]
}

cmd_resume() {
	local dir=${1:?usage: $PROG resume DIR} BIN SOCKDIR PORT DATA
	load_state "$dir" || die "$dir has no server (no $dir/env)"
	[[ -f $DATA/postmaster.pid ]] && return 0
	mkdir -p "$SOCKDIR"
	((EUID == 0)) && chown postgres: "$SOCKDIR"
	pg_start "$dir" "$PORT" "$SOCKDIR" "$BIN" || {
		tail -n 20 "$dir/server.log" >&2
		die "the server did not start again on port $PORT"
	}
	wait_ready "$BIN" "$SOCKDIR" "$PORT" || die "the server does not answer on port $PORT"
}

cmd_stop() {
	local dir=${1:?usage: $PROG stop DIR} BIN SOCKDIR PORT DATA
	[[ -d $dir ]] || return 0
	if load_state "$dir"; then
		if ! cmd_pause "$dir"; then
			as_owner "$BIN/pg_ctl" stop -w -m immediate -D "$DATA" >/dev/null 2>&1 ||
				[[ ! -f $DATA/postmaster.pid ]] || die "cannot stop the server in $DATA; $dir left in place"
		fi
		[[ $SOCKDIR == /tmp/pgs.* ]] && rm -rf "$SOCKDIR"
	elif [[ -f $dir/data/postmaster.pid ]]; then # started but env not written yet
		as_owner "$(pg_bindir)/pg_ctl" stop -m immediate -D "$dir/data" >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

cmd_createdb() {
	local dir=${1:?usage: $PROG createdb DIR NAME} name=${2:?usage: $PROG createdb DIR NAME} BIN SOCKDIR PORT DATA
	[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] || die "bad database name: $name"
	load_state "$dir" || die "$dir has no server (no $dir/env)"
	"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres \
		-c "CREATE DATABASE \"$name\" OWNER agentlens" >/dev/null
}

cmd_run() {
	(($# > 0)) || usage
	local dir rc=0 child
	dir=$(mktemp -d /tmp/pgrun.XXXXXX)
	# shellcheck disable=SC2064 # expand dir now
	trap "cmd_stop '$dir'" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cmd_start "$dir"
	# In the background so that a signal to this script reaches CMD at once (through the traps).
	(
		# shellcheck source=/dev/null
		. "$dir/env"
		exec "$@"
	) <&0 &
	child=$!
	trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT
	trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
	wait "$child" || rc=$?
	exit "$rc"
}

(($# > 0)) || usage
cmd=$1
shift
# DIR as an absolute path: the server tools run from / (see as_owner).
[[ $cmd != run && $# -gt 0 ]] && set -- "$(realpath -m -- "$1")" "${@:2}"
case $cmd in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
pause) cmd_pause "$@" ;;
resume) cmd_resume "$@" ;;
restart)
	cmd_pause "$@"
	cmd_resume "$@"
	;;
createdb) cmd_createdb "$@" ;;
run) cmd_run "$@" ;;
*) usage ;;
esac
