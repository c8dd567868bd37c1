#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GET /healthz on AgentLens against nginx serving a file with the same body, one after the
# other on the same machine; the ratio is the result (absolute figures vary by machine).
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

body='{"status":"ok"}'
bench_agentlens_bin >/dev/null || exit 1 # fail before measuring anything

echo "== static: GET /healthz, body $body (${#body} bytes), wrk -t2 -c64 -d${BENCH_SECONDS:-10}s"

# nginx: the reference.
bench_tmpdir
www=$BENCH_TMPDIR
printf '%s' "$body" >"$www/healthz"
port=$(bench_free_port)
bench_start_nginx "$www" "$port"
url=http://127.0.0.1:$port/healthz
[[ $(curl -fsS "$url") == "$body" ]] || bench_die "nginx does not serve $body at $url"
bench_warmup "$url"
nginx_out=$(bench_wrk "$url")
bench_stop "$BENCH_NGINX_PID"
echo "nginx      ${nginx_out//$'\n'/ }"

# AgentLens.
bench_agentlens_start "$(bench_free_port)"
url=$BENCH_AGENTLENS_URL/healthz
got=$(curl -fsS "$url")
[[ $got == "$body" ]] || bench_log "bench: note: AgentLens /healthz body is $got, nginx serves $body"
bench_warmup "$url"
al_out=$(bench_wrk "$url")
bench_stop "$BENCH_AGENTLENS_PID"
echo "agentlens  ${al_out//$'\n'/ }"

for out in "$nginx_out" "$al_out"; do
	if [[ $(bench_get non2xx <<<"$out") != 0 || $(bench_get socket_errors <<<"$out") != 0 ]]; then
		bench_log "bench: warning: errors during a run (non2xx/socket_errors above): figures are suspect"
	fi
done

rps_ratio=$(bench_ratio "$(bench_get rps <<<"$al_out")" "$(bench_get rps <<<"$nginx_out")")
p99_ratio=$(bench_ratio "$(bench_get p99_ms <<<"$al_out")" "$(bench_get p99_ms <<<"$nginx_out")")
echo "ratio agentlens/nginx: rps=$rps_ratio p99=$p99_ratio"
