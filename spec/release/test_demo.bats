#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# scripts/demo.sh (make demo): run headless on free ports for a few seconds; the mock agents and
# AgentLens answer, the admin password is where the script says, the catalog holds the two demo
# entries (found through `sources:`), and Ctrl-C (SIGINT) or SIGTERM stops every child.
#
#   bats spec/release/test_demo.bats              (ctest -L release; AGENTLENS_BIN=the binary)

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	load common
	release_repo_and_binary
	release_python_yaml || return 1
	local p
	for p in node curl jq shellcheck; do
		command -v "$p" >/dev/null || {
			echo "$p is needed (scripts/deps.sh test)" >&2
			return 1
		}
	done
}

teardown() {
	# Never leave a demo behind, whatever failed.
	if [ -n "${DEMO_PID:-}" ]; then
		local c
		for c in $(pgrep -P "$DEMO_PID" 2>/dev/null); do kill -KILL "$c" 2>/dev/null || true; done
		kill -KILL "$DEMO_PID" 2>/dev/null || true
	fi
}

# free_ports: three free TCP ports on 127.0.0.1 as PORT A2A MCP.
free_ports() {
	read -r PORT A2A MCP < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
')
}

# start_demo ARG...: the script in the background with SIGINT at its default disposition (as in a
# terminal; a shell starts background jobs with SIGINT ignored), its output in $OUT.
start_demo() {
	DIR=$BATS_TEST_TMPDIR/demo
	OUT=$BATS_TEST_TMPDIR/demo.out
	free_ports
	env -u AGENTLENS_ADMIN_PASSWORD "$PY" -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])
' "$REPO/scripts/demo.sh" --port "$PORT" --a2a-port "$A2A" --mcp-port "$MCP" --data-dir "$DIR" "$@" \
		>"$OUT" 2>&1 3>&- &
	DEMO_PID=$!
}

# demo_children: the pids of the three processes the demo started (not its own `sleep`).
demo_children() {
	pgrep -P "$DEMO_PID" -f 'mock-agents/|agentlens serve' | tr '\n' ' '
}

# wait_output TEXT [SECONDS]: until the demo printed TEXT (fails when it exits first).
wait_output() {
	local i
	for ((i = 0; i < ${2:-60} * 10; i++)); do
		grep -qF -- "$1" "$OUT" && return 0
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -qF -- "$1" "$OUT" || fail "the demo did not print \"$1\":"$'\n'"$(cat "$OUT")"
}

# wait_exit SECONDS: until the demo exited; its status in $DEMO_STATUS.
wait_exit() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DEMO_PID" 2>/dev/null && fail "the demo still runs after $1 s"
	DEMO_STATUS=0
	wait "$DEMO_PID" || DEMO_STATUS=$?
	DEMO_PID=
}

# assert_all_stopped PID...: none of them runs and nothing answers on the three ports.
assert_all_stopped() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && fail "child $p still runs"
	done
	for p in "$PORT" "$A2A" "$MCP"; do
		run curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$p/"
		assert_failure
	done
}

@test "demo.sh is shellcheck clean; make demo runs it" {
	run shellcheck "$REPO/scripts/demo.sh"
	assert_success
	grep -q '^demo: build$' "$REPO/Makefile"
	grep -q 'scripts/demo.sh \$(DEMO_ARGS)' "$REPO/Makefile"
}

@test "demo.sh rejects bad arguments with a clear message" {
	run "$REPO/scripts/demo.sh" --port 99999
	assert_failure
	assert_output --partial '--port must be a port number (1-65535), got "99999"'
	run "$REPO/scripts/demo.sh" --frobnicate
	assert_failure
	assert_output --partial 'unknown argument "--frobnicate"'
	run "$REPO/scripts/demo.sh" --port 9001
	assert_failure
	assert_output --partial 'the three ports must differ'
	AGENTLENS_BIN=/nonexistent run "$REPO/scripts/demo.sh"
	assert_failure
	assert_output --partial '/nonexistent is not an executable'
}

@test "headless: the mocks and AgentLens answer, the password works, the catalog has both demo entries; Ctrl-C stops all" {
	start_demo
	wait_output 'Ctrl-C stops everything.'
	assert_output_has() { grep -qF -- "$1" "$OUT" || fail "no \"$1\" in:"$'\n'"$(cat "$OUT")"; }
	assert_output_has "AgentLens demo: http://127.0.0.1:$PORT"
	assert_output_has "password in $DIR/admin-password"
	children=$(demo_children)
	[ "$(wc -w <<<"$children")" -eq 3 ] || fail "expected 3 children, found: $children"

	run curl -fsS "http://127.0.0.1:$PORT/readyz"
	assert_success
	run curl -fsS "http://127.0.0.1:$A2A/.well-known/agent-card.json"
	assert_success
	assert_equal "$(jq -r .name <<<"$output")" demo-a2a-agent
	run curl -fsS "http://127.0.0.1:$MCP/.well-known/mcp/server.json"
	assert_success

	# The generated password, kept readable by the owner only, logs in.
	[ "$(stat -c %a "$DIR/admin-password")" = 600 ]
	password=$(cat "$DIR/admin-password")
	[ ${#password} -ge 10 ]
	body=$(jq -nc --arg p "$password" '{username: "admin", password: $p}')
	run curl -fsS -X POST -H 'Content-Type: application/json' -d "$body" \
		"http://127.0.0.1:$PORT/api/v1/auth/login"
	assert_success
	token=$(jq -r .token <<<"$output")
	[ -n "$token" ] && [ "$token" != null ]

	# Discovery of the two sources runs in the background at start-up: wait for both entries.
	for ((i = 0; i < 600; i++)); do
		catalog=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/v1/catalog") || true
		[ "$(jq '[.[]? | select(.source == "config")] | length' <<<"${catalog:-[]}")" -ge 2 ] && break
		sleep 0.1
	done
	echo "catalog: $catalog"
	assert_equal "$(jq -r '[.[] | select(.source == "config") | .protocol] | sort | join(" ")' <<<"$catalog")" "a2a mcp"
	assert_equal "$(jq -r '.[] | select(.protocol == "a2a") | .display_name' <<<"$catalog")" demo-a2a-agent
	assert_equal "$(jq -r '.[] | select(.protocol == "mcp") | .metadata.mcp_server_name' <<<"$catalog")" demo-mcp-server
	assert_equal "$(jq -r '.[] | select(.protocol == "mcp") | .endpoint' <<<"$catalog")" "http://127.0.0.1:$MCP/mcp"
	# both reachable: not offline
	assert_equal "$(jq -r '[.[] | select(.source == "config") | .status] | map(select(. == "offline")) | length' <<<"$catalog")" 0

	# Ctrl-C
	kill -INT "$DEMO_PID"
	wait_exit 20
	assert_equal "$DEMO_STATUS" 0
	grep -q '^demo: stopping' "$OUT"
	# shellcheck disable=SC2086 # one word per pid
	assert_all_stopped $children

	# A second start keeps the data directory and its password; SIGTERM stops it too.
	start_demo
	wait_output 'Ctrl-C stops everything.'
	assert_equal "$(cat "$DIR/admin-password")" "$password"
	children=$(demo_children)
	kill -TERM "$DEMO_PID"
	wait_exit 20
	assert_equal "$DEMO_STATUS" 0
	# shellcheck disable=SC2086
	assert_all_stopped $children
}

@test "a child that dies takes the demo down with it, non-zero" {
	start_demo
	wait_output 'Ctrl-C stops everything.'
	children=$(demo_children)
	a2a=$(pgrep -P "$DEMO_PID" -f a2a-agent.mjs)
	kill -KILL "$a2a"
	wait_exit 20
	assert_equal "$DEMO_STATUS" 1
	grep -q 'demo: a2a-agent exited' "$OUT"
	# shellcheck disable=SC2086
	assert_all_stopped $children
}

@test "a port in use: a clear failure pointing at the log, nothing left running" {
	free_ports
	"$PY" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
time.sleep(60)
' "$PORT" 3>&- &
	blocker=$!
	sleep 0.5
	DIR=$BATS_TEST_TMPDIR/demo
	run "$REPO/scripts/demo.sh" --port "$PORT" --a2a-port "$A2A" --mcp-port "$MCP" --data-dir "$DIR"
	kill "$blocker"
	assert_failure
	assert_output --partial "agentlens exited before answer on /readyz (log: $DIR/agentlens.log)"
	run pgrep -f -- "--port $A2A"
	assert_failure
}
