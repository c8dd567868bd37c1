#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Lua route returning a small JSON object (GET /api/v1/version): requests/s as a ratio to
# nginx serving the same bytes as a static file, same wrk settings, one run after the other.
# Target: ratio >= 0.5 in both pairs:
#   logging on:  AgentLens at log level info (one JSON line per request, stderr to a file)
#                against nginx with access_log to a file (default format, unbuffered);
#   logging off: AgentLens at log level warn against nginx with access_log off.
# A /healthz line (answered in C, no Lua) is printed as context; it has no target.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=0.5
path=/api/v1/version
bench_agentlens_bin >/dev/null || exit 1 # fail before measuring anything

# The exact bytes AgentLens answers, served by nginx under the same path.
bench_agentlens_start "$(bench_free_port)" warn
bench_tmpdir
www=$BENCH_TMPDIR
mkdir -p "$www${path%/*}"
ctype=$(curl -fsS -o "$www$path" -w '%{content_type}' "$BENCH_AGENTLENS_URL$path") ||
	bench_die "GET $path on AgentLens failed"
bench_stop "$BENCH_AGENTLENS_PID"
[[ $ctype == application/json* ]] || bench_die "AgentLens answers $path with Content-Type $ctype, expected application/json"
body=$(<"$www$path")
size=$(wc -c <"$www$path")
((size > 0)) || bench_die "AgentLens answered $path with an empty body"

echo "== lua_route: GET $path, body $body ($size bytes), wrk -t2 -c64 -d${BENCH_SECONDS:-10}s; target rps ratio >= $TARGET"

# Prints one result line; sets RUN_OUT to bench_wrk's key=value lines.
measure() {
	local label=$1 url=$2
	bench_warmup "$url"
	RUN_OUT=$(bench_wrk "$url")
	printf '%-36s rps=%-10s p99_ms=%-8s non2xx=%s socket_errors=%s\n' "$label" \
		"$(bench_get rps <<<"$RUN_OUT")" "$(bench_get p99_ms <<<"$RUN_OUT")" \
		"$(bench_get non2xx <<<"$RUN_OUT")" "$(bench_get socket_errors <<<"$RUN_OUT")"
}

# nginx, serving the file; the body must match byte for byte.
nginx_run() {
	local log=$1 label=$2 port url
	port=$(bench_free_port)
	bench_start_nginx "$www" "$port" "$log"
	url=http://127.0.0.1:$port$path
	cmp -s <(curl -fsS "$url") "$www$path" || bench_die "nginx does not serve the same bytes at $url"
	measure "$label" "$url"
	if [[ $log == file && ! -s $BENCH_NGINX_ACCESS_LOG ]]; then
		bench_die "nginx wrote no access log to $BENCH_NGINX_ACCESS_LOG"
	fi
	bench_stop "$BENCH_NGINX_PID"
}

# AgentLens at a log level; with info, also /healthz for context.
agentlens_run() {
	local level=$1 label=$2 lines
	bench_agentlens_start "$(bench_free_port)" "$level"
	cmp -s <(curl -fsS "$BENCH_AGENTLENS_URL$path") "$www$path" || bench_die "AgentLens changed its answer to $path"
	measure "$label" "$BENCH_AGENTLENS_URL$path"
	AL_OUT=$RUN_OUT
	if [[ $level == info ]]; then
		lines=$(grep -c '"msg":"request"' "$BENCH_AGENTLENS_LOG" || true)
		((lines > 0)) || bench_die "AgentLens at log level info wrote no request log lines"
		echo "  (request log: $lines lines, $(du -h "$BENCH_AGENTLENS_LOG" | cut -f1) written to a file)"
		measure "agentlens /healthz (C, no Lua) info" "$BENCH_AGENTLENS_URL/healthz"
		HZ_OUT=$RUN_OUT
	fi
	bench_stop "$BENCH_AGENTLENS_PID"
}

nginx_run file "nginx static, access_log file"
NG_LOG_OUT=$RUN_OUT
agentlens_run info "agentlens lua route, log info"
AL_INFO_OUT=$AL_OUT
nginx_run off "nginx static, access_log off"
NG_OFF_OUT=$RUN_OUT
agentlens_run warn "agentlens lua route, log warn"
AL_WARN_OUT=$AL_OUT

clean=1
for out in "$NG_LOG_OUT" "$AL_INFO_OUT" "$NG_OFF_OUT" "$AL_WARN_OUT" "$HZ_OUT"; do
	if [[ $(bench_get non2xx <<<"$out") != 0 || $(bench_get socket_errors <<<"$out") != 0 ]]; then
		clean=0
	fi
done

ratio() { bench_ratio "$(bench_get "$1" <<<"$2")" "$(bench_get "$1" <<<"$3")"; }
on_rps=$(ratio rps "$AL_INFO_OUT" "$NG_LOG_OUT")
off_rps=$(ratio rps "$AL_WARN_OUT" "$NG_OFF_OUT")
echo "ratio agentlens/nginx, logging on  (info / access_log file): rps=$on_rps p99=$(ratio p99_ms "$AL_INFO_OUT" "$NG_LOG_OUT")"
echo "ratio agentlens/nginx, logging off (warn / access_log off):  rps=$off_rps p99=$(ratio p99_ms "$AL_WARN_OUT" "$NG_OFF_OUT")"
echo "context: /healthz (no Lua) / nginx access_log file: rps=$(ratio rps "$HZ_OUT" "$NG_LOG_OUT");" \
	"lua route / healthz, both at info: rps=$(ratio rps "$AL_INFO_OUT" "$HZ_OUT")"

if ((clean == 0)); then
	echo "FAIL: lua_route: non-2xx responses or socket errors during a run (see above)"
	exit 1
fi
if bench_ge "$on_rps" "$TARGET" && bench_ge "$off_rps" "$TARGET"; then
	echo "PASS: lua_route: rps ratio $on_rps (logging on) and $off_rps (logging off), target >= $TARGET"
else
	echo "FAIL: lua_route: rps ratio $on_rps (logging on) and $off_rps (logging off), target >= $TARGET"
	exit 1
fi
