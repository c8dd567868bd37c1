# SPDX-License-Identifier: Apache-2.0
# Shared set-up for the release tests (load it from setup_file with `load common`).

# release_repo_and_binary: exports REPO (the checkout) and AGENTLENS_BIN (given, or build/agentlens,
# built when missing).
release_repo_and_binary() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export REPO
	if [ -z "${AGENTLENS_BIN:-}" ]; then
		AGENTLENS_BIN=$REPO/build/agentlens
		if [ ! -x "$AGENTLENS_BIN" ]; then
			[ -f "$REPO/build/CMakeCache.txt" ] || cmake -S "$REPO" -B "$REPO/build" >&3
			cmake --build "$REPO/build" -j"$(nproc)" >&3
		fi
	fi
	export AGENTLENS_BIN
}

# release_python_yaml: exports PY, a python3 that has PyYAML (Debian's python3-yaml, a dependency
# of yamllint in scripts/deps.sh test); fails with a message otherwise.
release_python_yaml() {
	PY=
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then
			PY=$(command -v "$p")
			break
		fi
	done
	[ -n "$PY" ] || {
		echo "python3 with the yaml module is needed (Debian: python3-yaml)" >&2
		return 1
	}
	export PY
}
