#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-up time and idle memory.
#   start-up: wall time from spawning `agentlens serve` to the first 200 from /healthz, polled
#             every 1 ms with a monotonic clock (python3); 10 runs, each with a fresh data dir.
#             Target: median <= 100 ms (the max is reported).
#   idle RSS: VmRSS of a server that answered one /healthz, one Lua route (/api/v1/version: a
#             worker's Lua state exists) and one / (embedded asset), 1 s after the last request.
#             Target: <= 20 MiB. The RSS with zero requests (before any connection) is reported.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=10
TARGET_START_MS=100
TARGET_RSS_MIB=20
bin=$(bench_agentlens_bin) || exit 1
command -v python3 >/dev/null 2>&1 || bench_die "python3 is not installed (apt-get install python3)"

bench_tmpdir
work=$BENCH_TMPDIR
ports=()
for ((i = 0; i < RUNS; i++)); do
	ports+=("$(bench_free_port)")
done

echo "== startup: spawn to first 200 from /healthz, $RUNS runs; idle RSS; targets: median <= ${TARGET_START_MS} ms, RSS <= ${TARGET_RSS_MIB} MiB"

# The poller: prints runs_ms=, median_ms=, max_ms=. It stops every server it started, also on
# SIGTERM/SIGINT (the EXIT trap of lib.sh sends SIGTERM to it).
python3 - "$bin" "$work" "${ports[@]}" >"$work/startup.out" <<'PY' &
import os, signal, socket, statistics, subprocess, sys, time

def on_signal(signum, _frame):
    raise SystemExit(128 + signum)

signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)

binary, work, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
TIMEOUT_NS = 5_000_000_000


def healthz_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(REQUEST)
            head = b""
            while b"\r\n" not in head and len(head) < 1024:
                chunk = s.recv(1024)
                if not chunk:
                    break
                head += chunk
            return head.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 "))
    except OSError:
        return False


times = []
for i, port in enumerate(ports):
    run = os.path.join(work, "run%d" % i)
    os.mkdir(run)
    with open(os.path.join(run, "agentlens.log"), "wb") as log:
        cmd = [binary, "serve", "--bind", "127.0.0.1", "--port", port, "--data-dir",
               os.path.join(run, "data"), "--log-level", "info", "--http-shutdown-timeout", "2s"]
        t0 = time.monotonic_ns()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        ok = False
        try:
            while time.monotonic_ns() - t0 < TIMEOUT_NS:
                if healthz_ok(int(port)):
                    ok = True
                    break
                if proc.poll() is not None:
                    break
                time.sleep(0.001)
            t1 = time.monotonic_ns()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if not ok:
        sys.stderr.write("bench: run %d: no 200 from /healthz within 5 s; log in %s:\n" % (i, run))
        with open(os.path.join(run, "agentlens.log"), "r", errors="replace") as f:
            sys.stderr.write(f.read()[-3000:])
        sys.exit(1)
    times.append((t1 - t0) / 1e6)

print("runs_ms=" + ",".join("%.1f" % t for t in times))
print("median_ms=%.1f" % statistics.median(times))
print("max_ms=%.1f" % max(times))
PY
py_pid=$!
BENCH_PIDS+=("$py_pid")
bench_wait "$py_pid" $((RUNS * 15 * 1000)) || bench_die "the start-up poller failed"
startup=$(<"$work/startup.out")
median=$(bench_get median_ms <<<"$startup")
max=$(bench_get max_ms <<<"$startup")
echo "startup to /healthz 200: median_ms=$median max_ms=$max (runs: $(bench_get runs_ms <<<"$startup"))"

# Idle RSS: wait for the "listening" log line (no connection at all), then measure, then make
# the three requests and measure again.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f\n", kb / 1024 }'; }
listening() { grep -q '"msg":"listening"' "$BENCH_AGENTLENS_LOG"; }

bench_agentlens_spawn "$(bench_free_port)" info
bench_poll 15000 "$BENCH_AGENTLENS_PID" listening || {
	tail -n 30 "$BENCH_AGENTLENS_LOG" >&2
	bench_die "AgentLens did not log \"listening\""
}
sleep 1
rss0=$(status_kb "$BENCH_AGENTLENS_PID" VmRSS)
for p in /healthz /api/v1/version /; do
	curl -fsS -o /dev/null --max-time 5 "$BENCH_AGENTLENS_URL$p" || bench_die "GET $p failed"
done
sleep 1
rss1=$(status_kb "$BENCH_AGENTLENS_PID" VmRSS)
hwm=$(status_kb "$BENCH_AGENTLENS_PID" VmHWM)
anon=$(status_kb "$BENCH_AGENTLENS_PID" RssAnon)
threads=$(status_kb "$BENCH_AGENTLENS_PID" Threads)
bench_stop "$BENCH_AGENTLENS_PID"
[[ -n $rss0 && -n $rss1 ]] || bench_die "could not read VmRSS"
echo "idle RSS, zero requests:                          $(mib "$rss0") MiB (VmRSS $rss0 kB)"
echo "idle RSS, after /healthz, /api/v1/version and /:  $(mib "$rss1") MiB (VmRSS $rss1 kB: RssAnon $anon kB; VmHWM $hwm kB; $threads threads)"

problems=()
bench_ge "$TARGET_START_MS" "$median" || problems+=("start-up median $median ms > $TARGET_START_MS ms")
((rss1 <= TARGET_RSS_MIB * 1024)) || problems+=("idle RSS $(mib "$rss1") MiB > $TARGET_RSS_MIB MiB")
if ((${#problems[@]} == 0)); then
	echo "PASS: startup: median $median ms <= $TARGET_START_MS ms, idle RSS $(mib "$rss1") MiB <= $TARGET_RSS_MIB MiB"
else
	printf -v why '%s; ' "${problems[@]}"
	echo "FAIL: startup: ${why%; }"
	exit 1
fi
