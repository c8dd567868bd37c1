#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Authentication costs. Two targets:
#   reads under a login storm: p99 of an authenticated read (GET /api/v1/auth/me with a Bearer
#     token; wrk -t1 -c$READ_CONNS, each connection pausing $READ_DELAY_MS ms between requests,
#     so the read measures responsiveness rather than saturating both cores) while 32 clients
#     log in continuously (a second wrk, -t1 -c32, POST /api/v1/auth/login: bcrypt cost 12 on
#     the hashing pool), as a ratio to the same read with no logins running: <= 2. Alone and
#     under the storm alternate $ROUNDS times; the ratio is of the summed p99s.
#   token verification: service time (1/rps at wrk -t1 -c1, median of $ROUNDS alternating
#     runs) of the authenticated GET /api/v1/auth/me minus that of the public
#     GET /api/v1/version: <= 50 us.
# Context lines without a target: GET /api/v1/version with a Bearer header (the same handler,
# so the difference is the token check alone) and GET /api/v1/permissions (authenticated).
#   BENCH_AUTH_READ_CONNS     connections of the read wrk (default 4)
#   BENCH_AUTH_READ_DELAY_MS  pause between two reads of one connection (default 10; 0 = none)
#   BENCH_AUTH_ROUNDS         alternating rounds per comparison (default 2 for the storm, the
#                             token comparison uses max(3, this))
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATIO_TARGET=2
VERIFY_TARGET_US=50
STORM_CONNS=32
READ_CONNS=${BENCH_AUTH_READ_CONNS:-4}
READ_DELAY_MS=${BENCH_AUTH_READ_DELAY_MS:-10}
ROUNDS=${BENCH_AUTH_ROUNDS:-2}
VERIFY_ROUNDS=$((ROUNDS > 3 ? ROUNDS : 3))
SECONDS_RUN=${BENCH_SECONDS:-10}
VERIFY_SECONDS=$(((SECONDS_RUN + 1) / 2)) # per run; VERIFY_ROUNDS runs per route
STORM_RAMP=2                              # seconds of logins before the read is measured
ADMIN_PASSWORD='Bench-Adm1n-Pass!'
STORM_USER=bench-storm
STORM_PASSWORD='Bench-St0rm-Pass!'
bench_agentlens_bin >/dev/null || exit 1

export AGENTLENS_ADMIN_PASSWORD=$ADMIN_PASSWORD
export AGENTLENS_JWT_SECRET=bench-secret-0123456789-abcdefghij-KLMNOP
bench_agentlens_start "$(bench_free_port)" warn --cookie-secure=false
url=$BENCH_AGENTLENS_URL

login_body() { printf '{"username":"%s","password":"%s"}' "$1" "$2"; }
# Prints the token of a successful login, or fails.
login_token() {
	local out
	out=$(curl -fsS -H 'Content-Type: application/json' -d "$(login_body "$1" "$2")" "$url/api/v1/auth/login") || return 1
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p' <<<"$out" | grep .
}
admin_login_ok() { login_token admin "$ADMIN_PASSWORD" >/dev/null 2>&1; }
# The first admin is created once the database is ready, shortly after /healthz answers.
bench_poll 20000 "$BENCH_AGENTLENS_PID" admin_login_ok ||
	bench_die "the admin never logged in; AgentLens log: $(tail -n 20 "$BENCH_AGENTLENS_LOG")"
token=$(login_token admin "$ADMIN_PASSWORD")

# The storm logs in as its own user (right password: no lockout, no failure counting).
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d "{\"username\":\"$STORM_USER\",\"password\":\"$STORM_PASSWORD\",\"role_id\":\"role-viewer\"}" "$url/api/v1/users")
[[ $code == 201 ]] || bench_die "creating the storm user answered $code"
login_token "$STORM_USER" "$STORM_PASSWORD" >/dev/null || bench_die "the storm user cannot log in"
for p in /api/v1/auth/me /api/v1/version; do
	curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$url$p" || bench_die "GET $p failed before the run"
done

bench_tmpdir
work=$BENCH_TMPDIR
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/auth.lua"
cp "$work/auth.lua" "$work/read.lua"
((READ_DELAY_MS == 0)) || printf 'function delay() return %d end\n' "$READ_DELAY_MS" >>"$work/read.lua"
cat >"$work/login.lua" <<-EOF
	wrk.method = "POST"
	wrk.body = '$(login_body "$STORM_USER" "$STORM_PASSWORD")'
	wrk.headers["Content-Type"] = "application/json"
EOF

# wrk's time units to microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : (u == "m") ? 60000000 : -1
		if (f < 0) { print "nan"; exit 1 }
		printf "%.1f\n", n * f
	}'
}
# Runs wrk --latency with the given arguments; prints bench_wrk_parse's lines plus p99_us=.
run_wrk() {
	local out
	if ! out=$(wrk --latency "$@" 2>&1); then
		bench_log "bench: wrk $* failed:"
		bench_log "$out"
		return 1
	fi
	[[ ${BENCH_VERBOSE:-0} == 1 ]] && bench_log "$out"
	bench_wrk_parse <<<"$out"
	echo "p99_us=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
}
clean() { [[ $(bench_get non2xx <<<"$1") == 0 && $(bench_get socket_errors <<<"$1") == 0 ]]; }
sum() { awk '{ s += $1 } END { printf "%.1f\n", s }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.1f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
line() {
	printf '%-40s rps=%-10s p99_us=%-9s non2xx=%s socket_errors=%s\n' "$1" "$(bench_get rps <<<"$2")" \
		"$(bench_get p99_us <<<"$2")" "$(bench_get non2xx <<<"$2")" "$(bench_get socket_errors <<<"$2")"
}

verdicts=()
failed=0
dirty=0        # reads under logins: a non-2xx response or a socket error
verify_dirty=0 # the same for the token comparison

# ---- reads under a login storm -------------------------------------------------------------
echo "== auth: p99 of GET /api/v1/auth/me (wrk -t1 -c$READ_CONNS -d${SECONDS_RUN}s, ${READ_DELAY_MS} ms between reads" \
	"per connection) alone and during a login storm (wrk -t1 -c$STORM_CONNS POST /api/v1/auth/login), $ROUNDS rounds;" \
	"target ratio <= $RATIO_TARGET"
read_args=(-t1 -c"$READ_CONNS" -d"${SECONDS_RUN}s" -s "$work/read.lua" "$url/api/v1/auth/me")
wrk -t1 -c"$READ_CONNS" -d"${BENCH_WARMUP_SECONDS:-2}s" -s "$work/read.lua" "$url/api/v1/auth/me" >/dev/null 2>&1 || true
base_p99s=() storm_p99s=() logins=0
for ((round = 1; round <= ROUNDS; round++)); do
	out=$(run_wrk "${read_args[@]}")
	line "round $round: read alone" "$out"
	clean "$out" || dirty=1
	base_p99s+=("$(bench_get p99_us <<<"$out")")

	wrk -t1 -c"$STORM_CONNS" -d"$((SECONDS_RUN + STORM_RAMP + 1))s" --timeout 30s --latency -s "$work/login.lua" \
		"$url/api/v1/auth/login" >"$work/storm.out" 2>&1 &
	storm_pid=$!
	BENCH_PIDS+=("$storm_pid")
	sleep "$STORM_RAMP"
	out=$(run_wrk "${read_args[@]}")
	storm_rc=0
	bench_wait "$storm_pid" 30000 || storm_rc=$?
	((storm_rc == 0)) || bench_die "the login storm's wrk failed ($storm_rc): $(cat "$work/storm.out")"
	storm=$(bench_wrk_parse <"$work/storm.out")
	line "round $round: read during the login storm" "$out"
	printf '%-40s logins=%s logins/s=%s p99_ms=%s non2xx=%s socket_errors=%s\n' "round $round: the login storm" \
		"$(bench_get requests <<<"$storm")" "$(bench_get rps <<<"$storm")" "$(bench_get p99_ms <<<"$storm")" \
		"$(bench_get non2xx <<<"$storm")" "$(bench_get socket_errors <<<"$storm")"
	clean "$out" && clean "$storm" || dirty=1
	storm_p99s+=("$(bench_get p99_us <<<"$out")")
	logins=$((logins + $(bench_get requests <<<"$storm")))
done
ratio=$(bench_ratio "$(printf '%s\n' "${storm_p99s[@]}" | sum)" "$(printf '%s\n' "${base_p99s[@]}" | sum)")
echo "p99 during logins / alone: $ratio (alone ${base_p99s[*]} us; during logins ${storm_p99s[*]} us; $logins logins)"
if ((dirty)) || ((logins == 0)); then
	verdicts+=("FAIL: auth reads under logins: non-2xx responses, socket errors or no logins (see above)")
	failed=1
elif bench_ge "$RATIO_TARGET" "$ratio"; then
	verdicts+=("PASS: auth reads under logins: p99 ratio $ratio, target <= $RATIO_TARGET")
else
	verdicts+=("FAIL: auth reads under logins: p99 ratio $ratio, target <= $RATIO_TARGET")
	failed=1
fi
echo "${verdicts[-1]}"

# ---- token verification --------------------------------------------------------------------
echo "== auth: token verification: service time (1/rps at wrk -t1 -c1 -d${VERIFY_SECONDS}s, median of $VERIFY_ROUNDS" \
	"alternating runs) of GET /api/v1/auth/me (Bearer) minus GET /api/v1/version (public); target <= ${VERIFY_TARGET_US} us"
service_us() { awk -v r="$(bench_get rps <<<"$1")" 'BEGIN { if (r + 0 == 0) print "nan"; else printf "%.1f\n", 1000000 / r }'; }
# label|wrk arguments before the URL|path
cases=(
	"GET /api/v1/version (public)||/api/v1/version"
	"GET /api/v1/auth/me (Bearer)|-s $work/auth.lua|/api/v1/auth/me"
	"context: GET /api/v1/version (Bearer)|-s $work/auth.lua|/api/v1/version"
	"context: GET /api/v1/permissions|-s $work/auth.lua|/api/v1/permissions"
)
declare -A samples=()
for c in "${cases[@]}"; do
	IFS='|' read -r _ extra p <<<"$c"
	# shellcheck disable=SC2086 # extra is empty or "-s FILE"
	wrk -t1 -c1 -d"${BENCH_WARMUP_SECONDS:-2}s" $extra "$url$p" >/dev/null 2>&1 || true
done
for ((round = 1; round <= VERIFY_ROUNDS; round++)); do
	for i in "${!cases[@]}"; do
		IFS='|' read -r _ extra p <<<"${cases[$i]}"
		# shellcheck disable=SC2086
		out=$(run_wrk -t1 -c1 -d"${VERIFY_SECONDS}s" $extra "$url$p")
		clean "$out" || verify_dirty=1
		samples[$i]+="$(service_us "$out") "
	done
done
declare -A med=()
for i in "${!cases[@]}"; do
	IFS='|' read -r label _ _ <<<"${cases[$i]}"
	med[$i]=$(tr ' ' '\n' <<<"${samples[$i]}" | grep . | median)
	printf '%-40s service_us=%-8s (runs: %s)\n' "$label" "${med[$i]}" "${samples[$i]% }"
done
diff_us=$(awk -v a="${med[1]}" -v b="${med[0]}" 'BEGIN { printf "%.1f\n", a - b }')
echo "context: the token check alone (/version with Bearer - without): $(awk -v a="${med[2]}" -v b="${med[0]}" 'BEGIN { printf "%.1f\n", a - b }') us"
echo "token verification overhead (/auth/me - /version): $diff_us us"
if ((verify_dirty)); then
	verdicts+=("FAIL: auth token verification: non-2xx responses or socket errors")
	failed=1
elif bench_ge "$VERIFY_TARGET_US" "$diff_us"; then
	verdicts+=("PASS: auth token verification: +$diff_us us per request, target <= $VERIFY_TARGET_US us")
else
	verdicts+=("FAIL: auth token verification: +$diff_us us per request, target <= $VERIFY_TARGET_US us")
	failed=1
fi
echo "${verdicts[-1]}"

# run.sh reports the last PASS:/FAIL: line: one verdict for both targets.
summary="reads under logins p99 ratio $ratio (<= $RATIO_TARGET); token verification +$diff_us us (<= $VERIFY_TARGET_US us)"
if ((failed)); then
	echo "FAIL: auth: $summary"
	exit 1
fi
echo "PASS: auth: $summary"
