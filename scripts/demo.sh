#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo of examples/docker-compose.yaml without Docker: the mock A2A agent and MCP server of
# examples/mock-agents/ (Node.js) and AgentLens on SQLite, which finds both through `sources:`.
#
#   scripts/demo.sh [--port N] [--a2a-port N] [--mcp-port N] [--data-dir DIR] [--bind ADDR]
#   make demo                      (builds first; extra flags: make demo DEMO_ARGS='--port 8081')
#
# Prints the URL and where the admin password is, then runs until Ctrl-C (or SIGTERM), which
# stops every process it started. If one of them exits on its own, the others are stopped too
# and the script exits non-zero. The data directory (default data/demo) is kept between runs;
# delete it to start over with a new admin password.
#
# Environment: AGENTLENS_BIN (default build/agentlens), NODE (default node).
# AGENTLENS_ADMIN_PASSWORD, if set, is the admin password of a new data directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${AGENTLENS_BIN:-$ROOT/build/agentlens}
NODE=${NODE:-node}
PORT=8080
A2A_PORT=9001
MCP_PORT=9002
DATA_DIR=$ROOT/data/demo
BIND=127.0.0.1

usage() {
	sed -n '6,7s/^#   //p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

die() {
	echo "demo: $*" >&2
	exit 1
}

port_arg() { # NAME VALUE
	if [[ ! $2 =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
		die "$1 must be a port number (1-65535), got \"$2\""
	fi
	echo "$2"
}

while (($#)); do
	case $1 in
	--port | --a2a-port | --mcp-port | --data-dir | --bind)
		(($# >= 2)) || die "$1 needs a value"
		case $1 in
		--port) PORT=$(port_arg "$1" "$2") ;;
		--a2a-port) A2A_PORT=$(port_arg "$1" "$2") ;;
		--mcp-port) MCP_PORT=$(port_arg "$1" "$2") ;;
		--data-dir) DATA_DIR=$2 ;;
		--bind) BIND=$2 ;;
		esac
		shift 2
		;;
	-h | --help) usage ;;
	*) echo "demo: unknown argument \"$1\"" >&2 && usage ;;
	esac
done

[[ -x $BIN ]] || die "$BIN is not an executable (build it with make build, or set AGENTLENS_BIN)"
command -v "$NODE" >/dev/null || die "node is needed for the mock agents (scripts/deps.sh test)"
command -v curl >/dev/null || die "curl is needed (scripts/deps.sh test)"
[[ $PORT != "$A2A_PORT" && $PORT != "$MCP_PORT" && $A2A_PORT != "$MCP_PORT" ]] ||
	die "the three ports must differ ($PORT, $A2A_PORT, $MCP_PORT)"

mkdir -p "$DATA_DIR" || die "cannot create the data directory $DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
CONFIG=$DATA_DIR/agentlens.yaml
LOG=$DATA_DIR/agentlens.log
PASSWORD_FILE=$DATA_DIR/admin-password

# The same configuration as the compose demo, with the mock agents on this machine.
cat >"$CONFIG" <<EOF
# Written by scripts/demo.sh on each start.
sources:
  - name: demo-a2a-agent
    type: a2a
    url: http://127.0.0.1:$A2A_PORT
    team: demo
    tags: [demo, a2a]
  - name: demo-mcp-server
    type: mcp
    url: http://127.0.0.1:$MCP_PORT/mcp
    team: demo
    tags: [demo, mcp]
EOF

# Bad settings (for example from AGENTLENS_* variables) fail here, before anything starts.
if ! err=$("$BIN" check-config --config "$CONFIG" --data-dir "$DATA_DIR" 2>&1 >/dev/null); then
	die "the configuration is not valid: $err"
fi

PIDS=()
NAMES=()

stop_all() {
	local i
	trap - INT TERM EXIT
	for i in "${!PIDS[@]}"; do
		kill -TERM "${PIDS[$i]}" 2>/dev/null || true
	done
	for i in "${!PIDS[@]}"; do
		wait "${PIDS[$i]}" 2>/dev/null || true
	done
}

on_signal() {
	echo >&2
	echo "demo: stopping" >&2
	stop_all
	exit 0
}
trap on_signal INT TERM
trap stop_all EXIT

# start NAME LOGFILE CMD...: a child in the background, its output in LOGFILE.
start() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	PIDS+=("$!")
	NAMES+=("$name")
}

# wait_for NAME PID WHAT CHECK...: until CHECK succeeds (30 s), or the child exits.
wait_for() {
	local name=$1 pid=$2 what=$3 i
	shift 3
	for ((i = 0; i < 300; i++)); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || die "$name exited before $what (log: $DATA_DIR/$name.log)"
		sleep 0.1
	done
	die "$name: no $what after 30 s (log: $DATA_DIR/$name.log)"
}

listening() { grep -q '"event":"listening"' "$1" 2>/dev/null; }
ready() { curl -fsS -o /dev/null --max-time 2 "http://$1:$PORT/readyz" 2>/dev/null; }

MOCKS=$ROOT/examples/mock-agents
start a2a-agent "$DATA_DIR/a2a-agent.log" "$NODE" "$MOCKS/a2a-agent.mjs" \
	--host 127.0.0.1 --port "$A2A_PORT" --name demo-a2a-agent
start mcp-server "$DATA_DIR/mcp-server.log" "$NODE" "$MOCKS/mcp-server.mjs" \
	--host 127.0.0.1 --port "$MCP_PORT" --name demo-mcp-server
wait_for a2a-agent "${PIDS[0]}" "its listening line" listening "$DATA_DIR/a2a-agent.log"
wait_for mcp-server "${PIDS[1]}" "its listening line" listening "$DATA_DIR/mcp-server.log"

# Plain HTTP on this machine: the session cookie cannot be Secure. JSON log lines in the file.
start agentlens "$LOG" "$BIN" serve --config "$CONFIG" --data-dir "$DATA_DIR" \
	--bind "$BIND" --port "$PORT" --cookie-secure=false --log-format json \
	--http-shutdown-timeout 2s
probe_host=$BIND
[[ $probe_host == 0.0.0.0 ]] && probe_host=127.0.0.1
[[ $probe_host == *:* ]] && probe_host="[$probe_host]"
wait_for agentlens "${PIDS[2]}" "answer on /readyz" ready "$probe_host"

# The generated password is printed once, on the first start of a data directory: keep it.
if grep -q '^INITIAL ADMIN CREDENTIALS' "$LOG"; then
	(
		umask 077
		sed -n 's/^Password: //p' "$LOG" | head -n 1 >"$PASSWORD_FILE"
	)
fi
if [[ -s $PASSWORD_FILE ]]; then
	where="in $PASSWORD_FILE"
elif [[ -n ${AGENTLENS_ADMIN_PASSWORD:-} ]]; then
	where="the one in AGENTLENS_ADMIN_PASSWORD"
else
	where="the one set when $DATA_DIR was created (delete the directory to start over)"
fi

cat <<EOF

AgentLens demo: http://$probe_host:$PORT
  user admin, password $where
  mock A2A agent  http://127.0.0.1:$A2A_PORT/.well-known/agent-card.json
  mock MCP server http://127.0.0.1:$MCP_PORT/mcp
  configuration $CONFIG, logs $DATA_DIR/*.log
Ctrl-C stops everything.
EOF

# Run until a signal, or until one child exits (then stop the others and fail).
while :; do
	for i in "${!PIDS[@]}"; do
		if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
			rc=0
			wait "${PIDS[$i]}" || rc=$?
			echo "demo: ${NAMES[$i]} exited (status $rc); see $DATA_DIR/${NAMES[$i]}.log" >&2
			exit 1
		fi
	done
	sleep 1
done
