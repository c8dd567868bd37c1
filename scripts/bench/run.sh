#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every scripts/bench/bench_*.sh in turn (never in parallel: they share two cores), print
# their results, then a summary: each benchmark's PASS:/FAIL: verdict line (benchmarks without a
# target print none and are listed by exit status). Exit status: non-zero when any benchmark failed.
#   BENCH_SECONDS=10   length of each measured wrk run
#   AGENTLENS_BIN      binary to measure (default build/agentlens)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

shopt -s nullglob
benches=(scripts/bench/bench_*.sh)
((${#benches[@]} > 0)) || {
	echo "run.sh: no scripts/bench/bench_*.sh" >&2
	exit 1
}

out=$(mktemp "${TMPDIR:-/tmp}/agentlens-bench-run.XXXXXX")
trap 'rm -f -- "$out"' EXIT

failed=()
summary=()
for b in "${benches[@]}"; do
	name=$(basename "$b" .sh)
	name=${name#bench_}
	echo "### $name"
	set +e
	bash "$b" | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	verdict=$(grep -E '^(PASS|FAIL):' "$out" | tail -n 1 || true)
	if ((rc != 0)); then
		failed+=("$name")
		echo "### $name: FAILED (exit status $rc)"
		[[ $verdict == FAIL:* ]] || verdict="FAIL: $name: exit status $rc${verdict:+ ($verdict)}"
	elif [[ -z $verdict ]]; then
		verdict="ok:   $name: no target (see its ratio lines above)"
	fi
	summary+=("$verdict")
	echo
done

echo "### summary"
printf '%s\n' "${summary[@]}"
echo "benchmarks: $((${#benches[@]} - ${#failed[@]})) passed, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
((${#failed[@]} == 0))
