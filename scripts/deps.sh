#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages AgentLens needs, and nothing when they are all present.
#
#   scripts/deps.sh [build|test|bench|all]     (default: all)
#
#   build  what `make run` needs (compiler, CMake, libraries, Node.js + npm for the web UI)
#   test   build + test tools (cmocka, busted, luacheck, PostgreSQL, bats, sanitizers, Chromium, ...)
#   bench  build + load generator, reference servers and their clients (wrk, nginx, pgbench, sqlite3),
#          Chromium for the web UI benchmark
#   all    everything above
#
# Idempotent: one dpkg-query call decides; `apt-get update` runs only when something is
# missing. Runs as root, or through sudo otherwise. Never prompts (CI has no stdin).
set -euo pipefail

BUILD_PKGS=(
	build-essential pkg-config cmake
	libluajit-5.1-dev luajit
	libmicrohttpd-dev libsqlite3-dev libpq-dev libjwt-dev
	libcurl4-openssl-dev libyaml-dev libcrypt-dev
	nodejs npm
)
TEST_PKGS=(
	libcmocka-dev lua-busted lua-check
	postgresql-15 sqlite3 curl jq openssl
	chromium
	bats bats-assert bats-support bats-file
	shellcheck yamllint gcovr
	clang libclang-rt-14-dev
	golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev
)
BENCH_PKGS=(wrk nginx curl python3 postgresql-15 sqlite3 chromium)

usage() {
	echo "usage: $0 [build|test|bench|all]" >&2
	exit 2
}

[[ $# -le 1 ]] || usage
group=${1:-all}
case $group in
build) wanted=("${BUILD_PKGS[@]}") ;;
test) wanted=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
bench) wanted=("${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
all) wanted=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
*) usage ;;
esac

# A Node.js >= 18 already on the PATH (for example from another vendor) is kept: Debian's
# nodejs/npm would conflict with it or downgrade it.
node_ok() {
	local v
	command -v node >/dev/null 2>&1 || return 1
	v=$(node --version 2>/dev/null) || return 1 # "v20.11.1"
	v=${v#v}
	[[ ${v%%.*} =~ ^[0-9]+$ ]] && ((${v%%.*} >= 18))
}
skip_node=0
if node_ok; then
	skip_node=1
fi

# One dpkg-query for all packages. Unknown packages make it print to stderr and exit 1:
# they simply do not appear as installed.
declare -A installed=()
while read -r name status; do
	[[ $status == "install ok installed" ]] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for p in "${wanted[@]}"; do
	if ((skip_node)) && [[ $p == nodejs || $p == npm ]]; then
		continue
	fi
	[[ -n ${installed[$p]:-} ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps.sh ($group): all dependencies present"
	if ((skip_node)) && ! command -v npm >/dev/null 2>&1 && [[ $group != bench ]]; then
		echo "deps.sh: warning: node $(node --version) has no npm next to it" >&2
	fi
	exit 0
fi

sudo=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps.sh: missing packages (${missing[*]}) and not root, and sudo is not installed" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "deps.sh ($group): installing ${missing[*]}" >&2
apt_opts=(-y -q -o DPkg::Lock::Timeout=300
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install "${missing[@]}" </dev/null

echo "deps.sh ($group): installed ${#missing[@]} package(s): ${missing[*]}"
