#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes the ConfigMap of examples/k8s/mock-agents-code.yaml from examples/mock-agents/*.mjs (its
# header and metadata are kept). Run it after changing the mock agents;
# spec/release/test_k8s.bats fails while the two differ.
#
#   scripts/k8s-example-code.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/examples/k8s/mock-agents-code.yaml
MOCKS=$ROOT/examples/mock-agents

for f in common.mjs a2a-agent.mjs mcp-server.mjs; do
	# a YAML block scalar cannot keep trailing blanks
	if grep -nE '[[:space:]]$' "$MOCKS/$f"; then
		echo "k8s-example-code: $MOCKS/$f has trailing whitespace on the lines above" >&2
		exit 1
	fi
done
grep -q '^data:$' "$OUT" || {
	echo "k8s-example-code: no \"data:\" line in $OUT" >&2
	exit 1
}
tmp=$(mktemp "$OUT.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
	sed -n '1,/^data:$/p' "$OUT"
	for f in common.mjs a2a-agent.mjs mcp-server.mjs; do
		printf '  %s: |\n' "$f"
		sed -e 's/^./    &/' "$MOCKS/$f"
	done
} >"$tmp"
mv "$tmp" "$OUT"
trap - EXIT
echo "wrote $OUT"
