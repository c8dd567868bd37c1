#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Coverage reports of a build made with --coverage, after its tests ran (make coverage, CI):
#
#   scripts/coverage.sh BUILD_DIR [OUT_DIR]        (OUT_DIR default: BUILD_DIR/coverage)
#
# C: gcovr over the .gcda files of BUILD_DIR, the product's sources (src/) only: OUT_DIR/c.txt
# (per file), c.xml (Cobertura), c.html (annotated sources) and the summary on stdout and in
# c-summary.txt.
# Lua: the Lua specs once more under luacov (busted --coverage), the product's modules (lua/)
# only: OUT_DIR/lua.txt and lua-summary.txt. luacov is not packaged in Debian 12; CI installs it
# with LuaRocks (.github/workflows/ci.yml). Where `require "luacov"` fails, spec/support/linecov.lua
# (a line hook over LuaJIT's line tables) measures the same instead, or, with
# LUA_COVERAGE=required, the script fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $# -ge 1 && $# -le 2 ]] || {
	echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
	exit 2
}
BUILD=$(cd "$1" && pwd) || exit 1
OUT=${2:-$BUILD/coverage}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$BUILD/agentlens

command -v gcovr >/dev/null || {
	echo "coverage: gcovr is needed (scripts/deps.sh test)" >&2
	exit 1
}
if [[ -z $(find "$BUILD" -name '*.gcda' -print -quit) ]]; then
	echo "coverage: no .gcda files under $BUILD: build with --coverage and run the tests first" >&2
	exit 1
fi

cd "$ROOT"
echo "== C coverage (gcovr, src/)"
# The compiler-identification objects of CMake have no sources in the tree: left out.
gcovr --root "$ROOT" --object-directory "$BUILD" --filter "$ROOT/src/" \
	--exclude-directories "$BUILD/CMakeFiles/[0-9]" \
	--txt "$OUT/c.txt" --xml "$OUT/c.xml" --html-details "$OUT/c.html" \
	--print-summary | tee "$OUT/c-summary.txt"

echo "== Lua coverage (luacov, lua/)"
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
printf 'local ok = pcall(require, "luacov.runner")\nos.exit(ok and 0 or 1)\n' >"$probe"
if ! "$BIN" run "$probe" >/dev/null 2>&1; then
	msg="luacov is not installed (not packaged in Debian 12; luarocks --lua-version=5.1 install luacov)"
	if [[ ${LUA_COVERAGE:-} == required ]]; then
		echo "coverage: $msg" >&2
		exit 1
	fi
	# The built-in line hook instead (spec/support/linecov.lua): the same files and specs.
	echo "note: $msg: line coverage by spec/support/linecov.lua instead"
	work=$(mktemp -d)
	trap 'rm -f "$probe"; rm -rf "$work"' EXIT
	AGENTLENS_DATA_DIR=$work/data "$BIN" run spec/support/linecov.lua "$OUT/lua.txt" \
		spec/support/busted.lua --helper=spec/support/spec_helper.lua -o TAP spec/lua \
		>"$work/busted.out" 2>&1 || {
		grep '^not ok' "$work/busted.out" >&2 || tail -n 20 "$work/busted.out" >&2
		echo "coverage: the Lua specs failed (the report counts the lines run until then)" >&2
		lua_failed=1
	}
	sed -n '/^Summary/,$p' "$OUT/lua.txt" | tee "$OUT/lua-summary.txt"
	exit "${lua_failed:-0}"
fi

work=$(mktemp -d)
trap 'rm -f "$probe"; rm -rf "$work"' EXIT
# Only the product's modules, by their chunk names relative to the checkout (lua/agentlens/...).
cat >"$work/luacov.cfg" <<EOF
return {
  include = { "^lua/" },
  statsfile = "$work/luacov.stats.out",
  reportfile = "$OUT/lua.txt",
}
EOF
AGENTLENS_DATA_DIR=$work/data "$BIN" run spec/support/busted.lua \
	--helper=spec/support/spec_helper.lua --coverage --coverage-config-file="$work/luacov.cfg" \
	-o TAP spec/lua >"$work/busted.out" ||
	{
		tail -n 30 "$work/busted.out" >&2
		echo "coverage: the Lua specs failed under luacov" >&2
		exit 1
	}
printf 'require("luacov.runner").load_config(arg[1])\nrequire("luacov.reporter").report()\n' >"$probe"
"$BIN" run "$probe" "$work/luacov.cfg"
sed -n '/^Summary/,$p' "$OUT/lua.txt" | tee "$OUT/lua-summary.txt"
