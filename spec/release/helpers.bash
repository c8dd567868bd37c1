# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers for the release specs: each test gets its own git repository in BATS_TEST_TMPDIR,
# isolated from the user's git configuration and from the CI environment running the specs.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

CALCULATE_VERSIONS="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/scripts/calculate-versions.sh"

# new_repo: an empty repository on branch main, made the working directory as $REPO.
new_repo() {
	# The specs may themselves run under GitHub Actions; the script reads these.
	unset GITHUB_ACTIONS GITHUB_REF_NAME GITHUB_HEAD_REF GITHUB_OUTPUT
	# Specs run from a git hook inherit these, which would point git at the real repository.
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
		GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_NAMESPACE GIT_CEILING_DIRECTORIES
	export HOME="$BATS_TEST_TMPDIR/home" GIT_CONFIG_NOSYSTEM=1
	mkdir -p "$HOME"
	# Fixed identity and dates: commit ids are reproducible (see the short-sha spec).
	export GIT_AUTHOR_NAME=Spec GIT_AUTHOR_EMAIL=spec@example.invalid
	export GIT_COMMITTER_NAME=Spec GIT_COMMITTER_EMAIL=spec@example.invalid
	export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
	REPO="$BATS_TEST_TMPDIR/repo"
	git init -q -b main "$REPO"
	cd "$REPO" || return 1
	CHANGE=0
}

# commit PATH MESSAGE...: change PATH and commit it; each MESSAGE is one paragraph (git -m).
commit() {
	local path=$1 paragraph
	local args=()
	shift
	for paragraph in "$@"; do args+=(-m "$paragraph"); done
	mkdir -p "$(dirname "$path")"
	CHANGE=$((CHANGE + 1))
	printf 'change %d\n' "$CHANGE" >>"$path"
	git add -- "$path"
	git commit -q "${args[@]}"
}

# calc ARG...: run the script; $output is stdout only, $stderr holds the diagnostics.
# shellcheck disable=SC2120 # the specs pass arguments
calc() {
	run --separate-stderr "$CALCULATE_VERSIONS" "$@"
}

# assert_versions APP_VERSION HELM_VERSION RELEASE_APP RELEASE_HELM: the whole stdout.
assert_versions() {
	assert_success
	assert_output "app_version=$1
helm_version=$2
release_app=$3
release_helm=$4"
}

# assert_app VERSION RELEASE / assert_helm VERSION RELEASE: one track's lines.
assert_app() {
	assert_success
	assert_line "app_version=$1"
	assert_line "release_app=$2"
}

assert_helm() {
	assert_success
	assert_line "helm_version=$1"
	assert_line "release_helm=$2"
}

# assert_stderr_has TEXT: the script's diagnostics mention TEXT.
assert_stderr_has() {
	# shellcheck disable=SC2154 # set by run --separate-stderr
	[[ $stderr == *"$1"* ]] || fail "stderr does not contain: $1"$'\n'"stderr: $stderr"
}

# released_app BASE_TAG MESSAGE...: tag BASE_TAG, commit MESSAGE to src/, run the script.
released_app() {
	local tag=$1
	shift
	commit src/main.c "chore: base"
	git tag "$tag"
	commit src/main.c "$@"
	calc
}
