#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# make coverage / scripts/coverage.sh: the Lua line counter used where luacov is not installed
# (spec/support/linecov.lua) counts what ran and what did not, and the report script refuses a
# build without coverage data.
#
#   bats spec/release/test_coverage.bats          (ctest -L release; AGENTLENS_BIN=the binary)

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	load common
	release_repo_and_binary
}

@test "linecov: lines that ran, lines that did not, files never loaded, the script's exit status" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p lua/sub
	cat >lua/m.lua <<'LUA'
local M = {}
function M.used(x)
  return x + 1
end
function M.unused(x)
  local y = x * 2
  return y
end
return M
LUA
	printf 'return 1\n' >lua/sub/never.lua
	printf 'local m = dofile("lua/m.lua")\nassert(m.used(1) == 2)\nprint("args", arg[0], arg[1], arg[2])\n' >main.lua
	run env -i PATH=/usr/bin:/bin AGENTLENS_DATA_DIR="$BATS_TEST_TMPDIR/data" \
		"$AGENTLENS_BIN" run "$REPO/spec/support/linecov.lua" report.txt main.lua a b
	assert_success
	assert_output "args	main.lua	a	b"
	cat report.txt
	# m.lua: the chunk (1, 2, 4, 5, 8, 9: M, both function statements, return) and used (3) ran;
	# unused's lines (6, 7) did not
	run grep -E '^lua/m.lua +[0-9]+ +2 ' report.txt
	assert_success
	run grep -E '^lua/sub/never.lua +0 +[1-9][0-9]* +0.00%' report.txt
	assert_success
	grep -qE '^Total ' report.txt

	printf 'dofile("lua/m.lua")\nos.exit(3)\n' >exit.lua
	run env -i PATH=/usr/bin:/bin AGENTLENS_DATA_DIR="$BATS_TEST_TMPDIR/data" \
		"$AGENTLENS_BIN" run "$REPO/spec/support/linecov.lua" report2.txt exit.lua
	assert_equal "$status" 3
	grep -qE '^lua/m.lua ' report2.txt

	run env -i PATH=/usr/bin:/bin "$AGENTLENS_BIN" run "$REPO/spec/support/linecov.lua"
	assert_failure
	assert_output --partial usage
}

@test "coverage.sh: a build without .gcda files is refused with a clear message" {
	mkdir -p "$BATS_TEST_TMPDIR/build"
	run "$REPO/scripts/coverage.sh" "$BATS_TEST_TMPDIR/build"
	assert_failure
	assert_output --partial "no .gcda files under"
	run "$REPO/scripts/coverage.sh"
	assert_equal "$status" 2
	assert_output --partial usage
}
