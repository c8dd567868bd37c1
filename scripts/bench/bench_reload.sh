#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reload under load: 20 Lua reloads while wrk runs against a Lua route. Target: zero non-2xx
# responses, zero socket errors, and at least 20 new Lua generations published.
# AgentLens serves a temporary copy of lua/ (--lua-dir); the reloads alternate SIGHUP and an
# edit of a module in the copy (a comment line appended; the inotify watcher picks it up).
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RELOADS=20
SPACING=0.4   # seconds between two reloads (the watcher debounces file changes for 150 ms)
START_DELAY=1 # seconds of load before the first reload
WRK_SECONDS=12
path=/api/v1/version
edited=agentlens/api/system.lua
bench_agentlens_bin >/dev/null || exit 1

bench_tmpdir
work=$BENCH_TMPDIR
cp -R "$BENCH_ROOT/lua" "$work/lua"
[[ -f $work/lua/$edited ]] || bench_die "$edited is missing from lua/"

# Generation numbers published so far, one per line.
generations() {
	sed -n 's/.*"msg":"lua generation published".*"generation":\([0-9][0-9]*\).*/\1/p' "$BENCH_AGENTLENS_LOG"
}
count() { grep -c -- "$1" "$BENCH_AGENTLENS_LOG" || true; }

# Log level info: the "lua generation published" lines are info.
bench_agentlens_start "$(bench_free_port)" info --lua-dir "$work/lua" --lua-watch
url=$BENCH_AGENTLENS_URL$path
curl -fsS -o /dev/null "$url" || bench_die "GET $path on AgentLens failed before the run"
gen0=$(generations | sort -n | tail -n 1)
[[ -n $gen0 ]] || bench_die "no \"lua generation published\" line in the AgentLens log"

echo "== reload: $RELOADS reloads (SIGHUP and edits of $edited, alternating, every ${SPACING} s) during wrk -t2 -c64 -d${WRK_SECONDS}s on GET $path"

wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "$url" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
BENCH_PIDS+=("$wrk_pid")

sleep "$START_DELAY"
sighups=0 edits=0
for ((i = 1; i <= RELOADS; i++)); do
	bench_alive "$BENCH_AGENTLENS_PID" || break
	if ((i % 2)); then
		kill -HUP "$BENCH_AGENTLENS_PID"
		sighups=$((sighups + 1))
	else
		printf -- '-- bench_reload edit %d\n' "$i" >>"$work/lua/$edited"
		edits=$((edits + 1))
	fi
	sleep "$SPACING"
done
if ! bench_alive "$wrk_pid"; then
	bench_log "bench: warning: wrk ended before the last reload was triggered (raise WRK_SECONDS)"
fi

wrk_rc=0
bench_wait "$wrk_pid" $(((WRK_SECONDS + 20) * 1000)) || wrk_rc=$?
((wrk_rc == 0)) || { cat "$work/wrk.out" >&2; bench_die "wrk failed (status $wrk_rc)"; }
[[ ${BENCH_VERBOSE:-0} == 1 ]] && bench_log "$(cat "$work/wrk.out")"
out=$(bench_wrk_parse <"$work/wrk.out")

# The last reload may still be running: wait (bounded) until the count settles.
new_gens() { generations | awk -v g="$gen0" '$1 > g { n++ } END { print n + 0 }'; }
enough_gens() { (($(new_gens) >= RELOADS)); }
bench_poll 3000 "$BENCH_AGENTLENS_PID" enough_gens || true
alive=yes
bench_alive "$BENCH_AGENTLENS_PID" || alive=no
published=$(new_gens)
last=$(generations | sort -n | tail -n 1)
failures=$(count '"msg":"lua reload failed')
handler_errors=$(count '"msg":"lua handler failed"')
vm_errors=$(count "\"msg\":\"cannot build the worker's Lua state\"")
status_ok=$(curl -fsS -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
bench_stop "$BENCH_AGENTLENS_PID"

non2xx=$(bench_get non2xx <<<"$out")
errors=$(bench_get socket_errors <<<"$out")
echo "wrk: requests=$(bench_get requests <<<"$out") rps=$(bench_get rps <<<"$out") p99_ms=$(bench_get p99_ms <<<"$out") non2xx=$non2xx socket_errors=$errors"
echo "reloads triggered: $((sighups + edits)) (SIGHUP $sighups, file edits $edits)"
echo "generations published: $published new (generation $gen0 -> $last); reload failures: $failures;" \
	"handler errors: $handler_errors; worker state errors: $vm_errors; server alive after the run: $alive"

problems=()
((sighups + edits == RELOADS)) || problems+=("only $((sighups + edits)) of $RELOADS reloads triggered")
((published >= RELOADS)) || problems+=("$published new generations, expected >= $RELOADS")
((non2xx == 0)) || problems+=("$non2xx non-2xx responses")
((errors == 0)) || problems+=("$errors socket errors")
((failures == 0)) || problems+=("$failures reload failures")
((handler_errors + vm_errors == 0)) || problems+=("$((handler_errors + vm_errors)) Lua errors in the log")
[[ $alive == yes && $status_ok == 200 ]] || problems+=("AgentLens did not answer $path after the run")

if ((${#problems[@]} == 0)); then
	echo "PASS: reload: $published generations published under load, 0 non-2xx, 0 socket errors"
else
	printf -v why '%s; ' "${problems[@]}"
	echo "FAIL: reload: ${why%; }"
	exit 1
fi
