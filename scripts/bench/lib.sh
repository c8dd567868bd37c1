# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers for scripts/bench/bench_*.sh. Source it; it installs an EXIT/INT/TERM trap that stops
# every process these helpers started and removes every temporary directory they made.
#
#   bench_free_port                  print a free TCP port on 127.0.0.1
#   bench_tmpdir                     make a temporary directory (removed on exit); sets BENCH_TMPDIR
#   bench_start_nginx DIR PORT [LOG] serve DIR on 127.0.0.1:PORT; LOG is "off" (default) or "file":
#                                    an access_log in the default format, unbuffered, to
#                                    BENCH_NGINX_ACCESS_LOG; sets BENCH_NGINX_PID
#   bench_agentlens_bin              print the binary to measure, or fail with a clear message
#   bench_agentlens_spawn PORT [LEVEL [ARGS...]]
#                                    start AgentLens (${AGENTLENS_BIN:-build/agentlens}) on
#                                    127.0.0.1:PORT at log level LEVEL (default warn), stdout and
#                                    stderr to BENCH_AGENTLENS_LOG, without waiting for it; sets
#                                    BENCH_AGENTLENS_PID, BENCH_AGENTLENS_PORT, BENCH_AGENTLENS_URL
#   bench_agentlens_start [PORT [LEVEL [ARGS...]]]
#                                    the same, then wait until /healthz answers
#   bench_stop PID                   stop one started process now
#   bench_wait PID TIMEOUT_MS        wait for a started process to exit by itself and return its
#                                    status; after TIMEOUT_MS stop it and return 124
#   bench_wait_http URL TIMEOUT_MS   wait until URL answers 2xx
#   bench_warmup URL                 short discarded wrk run (JIT, caches, connections)
#   bench_wrk URL [SECONDS]          wrk -t2 -c64 -d<SECONDS, default BENCH_SECONDS>s --latency; prints
#                                    rps=, p99_ms=, requests=, non2xx=, socket_errors= lines
#   bench_wrk_parse                  the same lines from wrk's output on stdin
#   bench_get KEY                    read KEY=value from bench_wrk output on stdin
#   bench_ratio A B                  print A/B with 2 decimals ("n/a" when B is 0)
#   bench_ge A B                     true when the number A >= B
#   bench_poll MS PID CMD...         retry CMD until it succeeds, MS elapse, or PID exits
#
# Environment: BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (default 2),
# BENCH_VERBOSE=1 shows wrk's own output on stderr, AGENTLENS_BIN.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_PIDS=()
BENCH_DIRS=()

bench_log() { printf '%s\n' "$*" >&2; }
bench_die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

bench_cleanup() {
	local pid dir i
	for pid in "${BENCH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BENCH_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	BENCH_PIDS=()
	for dir in "${BENCH_DIRS[@]}"; do
		rm -rf -- "$dir"
	done
	BENCH_DIRS=()
}
trap bench_cleanup EXIT
trap 'bench_cleanup; trap - INT; kill -INT $$' INT
trap 'bench_cleanup; trap - TERM; kill -TERM $$' TERM

for _bench_tool in wrk curl; do
	command -v "$_bench_tool" >/dev/null 2>&1 ||
		bench_die "$_bench_tool is not installed (run: scripts/deps.sh bench)"
done
unset _bench_tool

# Stop one process started by these helpers, and forget it.
bench_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	bench_forget "$pid"
}

# Drop PID from the processes the EXIT trap stops (it has been waited for).
bench_forget() {
	local pid=$1 keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		[[ $p == "$pid" ]] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

bench_wait() {
	local pid=$1 timeout_ms=$2 i rc=0
	for ((i = 0; i < timeout_ms / 50; i++)); do
		bench_alive "$pid" || break
		sleep 0.05
	done
	if bench_alive "$pid"; then
		bench_log "bench: process $pid still runs after ${timeout_ms} ms: stopping it"
		bench_stop "$pid"
		return 124
	fi
	wait "$pid" || rc=$?
	bench_forget "$pid"
	return "$rc"
}

# Not in a subshell: the directory must be registered for cleanup in this shell.
bench_tmpdir() {
	BENCH_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/agentlens-bench.XXXXXX")
	BENCH_DIRS+=("$BENCH_TMPDIR")
}

# A port below the kernel's ephemeral range (wrk's client ports linger there in TIME_WAIT and
# would make a later bind() fail) that no socket uses. Racy by nature, good enough here.
bench_free_port() {
	local port i low=32768 span
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	((low > 11024)) || low=32768
	span=$((low - 10000))
	for ((i = 0; i < 100; i++)); do
		port=$((10000 + (RANDOM * 32768 + RANDOM) % span))
		bench_port_open "$port" && continue
		if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htan "sport = :$port" 2>/dev/null) ]]; then
			continue
		fi
		echo "$port"
		return 0
	done
	bench_die "no free port found"
}

bench_now_ms() { date +%s%3N; }

# True while PID runs (an exited child stays a zombie until waited for: that counts as dead).
bench_alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[[ ${st%% *} != Z ]]
}

# Run "$@" until it succeeds, for at most TIMEOUT_MS; give up early when PID (if not empty) exits.
bench_poll() {
	local timeout_ms=$1 pid=$2 deadline
	shift 2
	deadline=$(($(bench_now_ms) + timeout_ms))
	while (($(bench_now_ms) < deadline)); do
		"$@" && return 0
		if [[ -n $pid ]] && ! bench_alive "$pid"; then
			return 1
		fi
		sleep 0.05
	done
	return 1
}

bench_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bench_http_ok() { curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; }

bench_wait_http() {
	local url=$1 timeout_ms=${2:-10000}
	bench_poll "$timeout_ms" "" bench_http_ok "$url" && return 0
	bench_log "bench: $url did not answer 2xx within ${timeout_ms} ms"
	return 1
}

# nginx as the current user (root or not), everything under a temporary directory.
bench_start_nginx() {
	local root=$1 port=$2 log=${3:-off} dir nginx workers user_line="" access_log
	[[ -d $root ]] || bench_die "bench_start_nginx: $root is not a directory"
	root=$(cd "$root" && pwd)
	nginx=$(command -v nginx || true)
	[[ -n $nginx ]] || { [[ -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx; }
	[[ -n $nginx ]] || bench_die "nginx is not installed (run: scripts/deps.sh bench)"
	! bench_port_open "$port" || bench_die "bench_start_nginx: port $port is already in use"
	workers=$(nproc)
	# As root, nginx would run its workers as nobody, who cannot read a private temp dir.
	((EUID == 0)) && user_line="user root;"
	bench_tmpdir
	dir=$BENCH_TMPDIR
	# "file": the default (combined) format, no buffer= and no flush=: one write(2) per request.
	case $log in
	off) access_log=off ;;
	file) access_log=$dir/access.log ;;
	*) bench_die "bench_start_nginx: access log must be off or file, not $log" ;;
	esac
	# shellcheck disable=SC2034 # for the calling script
	BENCH_NGINX_ACCESS_LOG=${access_log#off}
	cat >"$dir/nginx.conf" <<-EOF
		$user_line
		daemon off;
		master_process on;
		worker_processes $workers;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events {
			worker_connections 4096;
		}
		http {
			access_log $access_log;
			client_body_temp_path $dir/client_body;
			proxy_temp_path $dir/proxy;
			fastcgi_temp_path $dir/fastcgi;
			uwsgi_temp_path $dir/uwsgi;
			scgi_temp_path $dir/scgi;
			keepalive_requests 100000;
			keepalive_timeout 65;
			default_type application/json;
			server {
				listen 127.0.0.1:$port;
				server_name localhost;
				root $root;
			}
		}
	EOF
	"$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
	BENCH_NGINX_PID=$!
	BENCH_PIDS+=("$BENCH_NGINX_PID")
	if ! bench_poll 5000 "$BENCH_NGINX_PID" bench_port_open "$port"; then
		bench_log "bench: nginx did not start on port $port; its log:"
		cat "$dir/error.log" "$dir/stdout.log" >&2 2>/dev/null || true
		return 1
	fi
}

# Print the AgentLens binary to measure (a relative AGENTLENS_BIN is tried from the current
# directory, then from the repository root), or explain what is missing and fail.
bench_agentlens_bin() {
	local bin=${AGENTLENS_BIN:-build/agentlens}
	[[ $bin == /* || -e $bin ]] || bin=$BENCH_ROOT/$bin
	if [[ ! -x $bin ]]; then
		bench_log "bench: AgentLens binary not found at $bin: run 'make build' first (or set AGENTLENS_BIN)"
		return 1
	fi
	echo "$bin"
}

bench_agentlens_spawn() {
	local port=$1 level=${2:-warn} bin dir
	shift
	(($# == 0)) || shift
	bin=$(bench_agentlens_bin) || return 1
	! bench_port_open "$port" || bench_die "bench_agentlens_spawn: port $port is already in use"
	bench_tmpdir
	dir=$BENCH_TMPDIR
	BENCH_AGENTLENS_LOG=$dir/agentlens.log
	"$bin" serve --bind 127.0.0.1 --port "$port" --data-dir "$dir/data" --log-level "$level" \
		--http-shutdown-timeout 2s "$@" >"$BENCH_AGENTLENS_LOG" 2>&1 &
	BENCH_AGENTLENS_PID=$!
	BENCH_PIDS+=("$BENCH_AGENTLENS_PID")
	# shellcheck disable=SC2034 # for the calling script
	BENCH_AGENTLENS_PORT=$port
	BENCH_AGENTLENS_URL=http://127.0.0.1:$port
}

bench_agentlens_start() {
	local port=${1:-}
	shift || true
	[[ -n $port ]] || port=$(bench_free_port)
	bench_agentlens_spawn "$port" "$@" || return 1
	if ! bench_poll 15000 "$BENCH_AGENTLENS_PID" bench_http_ok "$BENCH_AGENTLENS_URL/healthz"; then
		if bench_alive "$BENCH_AGENTLENS_PID"; then
			bench_log "bench: AgentLens did not answer $BENCH_AGENTLENS_URL/healthz within 15 s; its log:"
		else
			bench_log "bench: AgentLens exited before answering $BENCH_AGENTLENS_URL/healthz; its log:"
		fi
		tail -n 30 "$BENCH_AGENTLENS_LOG" >&2 || true
		return 1
	fi
}

# bench_admin_token: logs in as admin with the calling script's $ADMIN_PASSWORD at
# $BENCH_AGENTLENS_URL and prints the session token; fails while the admin does not exist yet
# (it is created shortly after /healthz answers).
bench_admin_token() {
	local out
	# shellcheck disable=SC2154 # ADMIN_PASSWORD is set by the calling script
	out=$(curl -fsS -H 'Content-Type: application/json' \
		-d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$BENCH_AGENTLENS_URL/api/v1/auth/login") || return 1
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p' <<<"$out" | grep .
}
bench_admin_ready() { bench_admin_token >/dev/null 2>&1; }

# bench_catalog_total QUERY: X-Total-Count of GET /api/v1/catalog?QUERY with the calling
# script's $TOKEN.
bench_catalog_total() {
	# shellcheck disable=SC2154 # TOKEN is set by the calling script
	curl -fsS -o /dev/null -D - -H "Authorization: Bearer $TOKEN" \
		"$BENCH_AGENTLENS_URL/api/v1/catalog?$1" 2>/dev/null |
		tr -d '\r' | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }'
}

# wrk's time units (us, ms, s, m, h) to milliseconds.
bench_to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
		if (f < 0) { print "nan"; exit 1 }
		printf "%.2f\n", n * f
	}'
}

bench_warmup() {
	wrk -t2 -c64 -d"${BENCH_WARMUP_SECONDS:-2}s" "$1" >/dev/null 2>&1 || true
}

bench_wrk() {
	local url=$1 seconds=${2:-${BENCH_SECONDS:-10}} out
	if ! out=$(wrk -t2 -c64 -d"${seconds}s" --latency "$url" 2>&1); then
		bench_log "bench: wrk failed against $url:"
		bench_log "$out"
		return 1
	fi
	[[ ${BENCH_VERBOSE:-0} == 1 ]] && bench_log "$out"
	bench_wrk_parse <<<"$out"
}

bench_wrk_parse() {
	local out rps p99 requests non2xx errors
	out=$(cat)
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	# "  123456 requests in 10.00s, 20.00MB read"
	requests=$(awk '$2 == "requests" && $3 == "in" { print $1; exit }' <<<"$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
	# "Socket errors: connect 0, read 0, write 0, timeout 0"
	errors=$(awk -F'[ ,]+' '/Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s + 0 }' <<<"$out")
	if [[ -z $rps || -z $p99 ]]; then
		bench_log "bench: could not parse wrk output:"
		bench_log "$out"
		return 1
	fi
	echo "rps=$rps"
	echo "p99_ms=$(bench_to_ms "$p99")"
	echo "requests=${requests:-0}"
	echo "non2xx=${non2xx:-0}"
	echo "socket_errors=${errors:-0}"
}

bench_get() {
	awk -F= -v k="$1" '$1 == k { print $2; exit }'
}

bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b + 0 == 0) { print "n/a"; exit }
		printf "%.2f\n", a / b
	}'
}

bench_ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a != "n/a" && a + 0 >= b + 0) }'
}

# ---- helpers for benchmarks with a time budget and a throwaway PostgreSQL server ------------

# A PostgreSQL server a benchmark started with spec/support/pg.sh lives in PG_DIR; bench_pg_stop
# stops it (and removes the directory) and is safe to call on every exit path.
BENCH_PG_SH=$BENCH_ROOT/spec/support/pg.sh
PG_DIR=
bench_pg_stop() {
	if [[ -n $PG_DIR ]]; then
		"$BENCH_PG_SH" stop "$PG_DIR" >/dev/null 2>&1 || bench_log "bench: could not stop the PostgreSQL server in $PG_DIR"
		PG_DIR=
	fi
}

# bench_step CMD...: runs CMD within what is left of DEADLINE (seconds since start), stderr to
# $LOG; BUDGET (seconds) and BUDGET_SETTING (its variable's name) explain a spent budget.
bench_step() {
	local left=$((${DEADLINE:?set DEADLINE before bench_step} - SECONDS))
	((left > 0)) || bench_die "the time budget of ${BUDGET} s is used up (${BUDGET_SETTING})"
	timeout --foreground -k 5 "$left" "$@" 2>"$LOG"
}

# bench_step_fail WHAT: explains a failed step (with the end of its stderr) and exits.
bench_step_fail() {
	bench_log "bench: $1 failed; its stderr:"
	tail -n 20 "$LOG" >&2 || true
	exit 1
}
