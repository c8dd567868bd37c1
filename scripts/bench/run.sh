#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every scripts/bench/bench_*.sh in turn (never in parallel: they share two cores) and print
# their results. Exit status: non-zero when any benchmark failed.
#   BENCH_SECONDS=10   length of each measured wrk run
#   AGENTLENS_BIN      binary to measure (default build/agentlens)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

shopt -s nullglob
benches=(scripts/bench/bench_*.sh)
((${#benches[@]} > 0)) || { echo "run.sh: no scripts/bench/bench_*.sh" >&2; exit 1; }

failed=()
for b in "${benches[@]}"; do
	name=$(basename "$b" .sh)
	echo "### ${name#bench_}"
	if ! bash "$b"; then
		failed+=("$name")
		echo "### ${name#bench_}: FAILED"
	fi
	echo
done

echo "benchmarks: $((${#benches[@]} - ${#failed[@]})) passed, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
((${#failed[@]} == 0))
