# SPDX-License-Identifier: Apache-2.0
# Thin wrapper around CMake. On a fresh Debian 12 machine `make run` and `make test` install
# what is missing (scripts/deps.sh), build, then run.

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
FUZZ_BUILD_DIR ?= build-fuzz
JOBS           ?= $(shell nproc)
FUZZ_SECONDS   ?= 60
ARGS           ?=
DEMO_ARGS      ?=
COV_BUILD_DIR  ?= build-coverage

CMAKE_BUILD_TYPE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo
# The sanitizer run checks C code: the fallback page serves through the same code as the web UI.
ASAN_FLAGS := -DAGENTLENS_ASAN=ON -DCMAKE_BUILD_TYPE=Debug -DAGENTLENS_WERROR=ON -DAGENTLENS_WEB=OFF
FUZZ_FLAGS := -DCMAKE_C_COMPILER=clang -DAGENTLENS_FUZZ=ON -DBUILD_TESTING=OFF

SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/spec/support/lsan.supp

SHELL_SCRIPTS = $(wildcard scripts/*.sh) .ci/run $(wildcard scripts/bench/*.sh)

.DEFAULT_GOAL := build
.PHONY: deps deps-test deps-bench build run lint test test-fast e2e bench fuzz docs clean demo coverage

deps:
	scripts/deps.sh build

deps-test:
	scripts/deps.sh test

deps-bench:
	scripts/deps.sh bench

# Configure only once; later builds reuse the cache (cmake re-runs itself when needed).
build: deps
	@test -f $(BUILD_DIR)/CMakeCache.txt || cmake -S . -B $(BUILD_DIR) $(CMAKE_BUILD_TYPE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	mkdir -p data
	exec $(BUILD_DIR)/agentlens serve --data-dir data --port 8080 $(ARGS)

lint: deps-test
	@dirs=; for d in lua spec/lua; do \
		if [ -n "$$(find $$d -name '*.lua' -print -quit 2>/dev/null)" ]; then dirs="$$dirs $$d"; fi; \
	done; \
	if [ -n "$$dirs" ]; then echo "luacheck$$dirs"; luacheck $$dirs; \
	else echo "luacheck: no Lua files yet"; fi
	shellcheck $(SHELL_SCRIPTS)

# The first ctest run has every label (unit, lua, api, e2e, release); the web UI is built in.
test: deps-test lint
	cmake -S . -B $(BUILD_DIR) $(CMAKE_BUILD_TYPE_FLAGS) -DAGENTLENS_WERROR=ON -DAGENTLENS_WEB=ON
	cmake --build $(BUILD_DIR) -j$(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2
	cmake -S . -B $(ASAN_BUILD_DIR) $(ASAN_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j2 -L 'unit|api'

# The compose demo natively: mock A2A agent and MCP server (Node) + AgentLens on SQLite.
demo: build
	AGENTLENS_BIN=$(abspath $(BUILD_DIR))/agentlens scripts/demo.sh $(DEMO_ARGS)

# C coverage (gcovr) of the unit, Lua and API suites in a --coverage build (atomic counters: the
# server is multi-threaded), then the Lua specs under luacov, or spec/support/linecov.lua where
# luacov is not installed (scripts/coverage.sh); reports in $(COV_BUILD_DIR)/coverage/.
coverage: deps-test
	cmake -S . -B $(COV_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DAGENTLENS_WERROR=ON \
		-DCMAKE_C_FLAGS='--coverage -fprofile-update=atomic' -DCMAKE_EXE_LINKER_FLAGS=--coverage
	cmake --build $(COV_BUILD_DIR) -j$(JOBS)
	find $(COV_BUILD_DIR) -name '*.gcda' -delete
	@# the report also when a test fails (then the target fails after it)
	@rc=0; ctest --test-dir $(COV_BUILD_DIR) --output-on-failure -j2 -L 'unit|lua|api' || rc=$$?; \
		scripts/coverage.sh $(COV_BUILD_DIR) && exit $$rc

test-fast: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

# The web UI in Chromium against the real binary (spec/e2e/); screenshots in $(BUILD_DIR)/e2e-artifacts/.
e2e: deps-test build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L e2e

bench: deps-bench build
	AGENTLENS_BIN=$(abspath $(BUILD_DIR))/agentlens scripts/bench/run.sh

fuzz: deps-test
	cmake -S . -B $(FUZZ_BUILD_DIR) $(FUZZ_FLAGS)
	cmake --build $(FUZZ_BUILD_DIR) -j$(JOBS)
	@set -e; found=0; \
	for t in $(FUZZ_BUILD_DIR)/spec/fuzz/*; do \
		[ -f "$$t" ] && [ -x "$$t" ] || continue; \
		found=1; name=$$(basename "$$t"); corpus=$(FUZZ_BUILD_DIR)/corpus/$$name; \
		mkdir -p "$$corpus"; \
		seeds=; [ -d spec/fuzz/corpus/$$name ] && seeds=spec/fuzz/corpus/$$name; \
		echo "== fuzz $$name for $(FUZZ_SECONDS)s"; \
		"$$t" -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 "$$corpus" $$seeds; \
	done; \
	[ $$found = 1 ] || { echo "no fuzz targets in $(FUZZ_BUILD_DIR)/spec/fuzz/" >&2; exit 1; }

docs: build
	$(BUILD_DIR)/agentlens config-reference > docs/configuration.md.tmp || \
		{ rm -f docs/configuration.md.tmp; exit 1; }
	mv docs/configuration.md.tmp docs/configuration.md

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(FUZZ_BUILD_DIR) $(COV_BUILD_DIR) spec/artifacts web/dist

# Container image: needs a Docker engine (none on the development machines; CI builds it).
.PHONY: docker-build docker-scan
docker-build:
	@command -v docker >/dev/null 2>&1 || { echo "docker-build: docker is not installed" >&2; exit 1; }
	docker build -t agentlens:local .

# Vulnerability scan of that image, as CI runs it (.github/workflows/code-scanning.yml).
docker-scan:
	@command -v trivy >/dev/null 2>&1 || { \
		echo "docker-scan: trivy is not installed; install Trivy, or read the scan of" \
			".github/workflows/code-scanning.yml in CI" >&2; exit 1; }
	trivy image --severity CRITICAL,HIGH --ignore-unfixed --exit-code 1 agentlens:local
