#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# scripts/calculate-versions.sh against temporary git repositories; one test per row of the
# tables in docs/releasing.md.

load helpers

setup() {
	new_repo
}

# --- first release ------------------------------------------------------------------------

@test "first release: app without a tag is 0.1.0, whatever the bump" {
	commit src/main.c "feat!: first cut"
	commit src/main.c "fix: typo"
	calc
	assert_versions 0.1.0 0.1.0 true false
}

@test "first release: helm without a tag is 0.1.0" {
	commit deploy/helm/agentlens/Chart.yaml "feat(helm): chart"
	calc
	assert_versions 0.1.0 0.1.0 false true
}

@test "first release: only non-releasing commits in a track release nothing" {
	commit CMakeLists.txt "build: cmake skeleton"
	commit deploy/helm/agentlens/.helmignore "ci: helm lint"
	calc
	assert_versions 0.1.0 0.1.0 false false
}

@test "first release: an empty track releases nothing" {
	commit README.md "docs: readme"
	calc
	assert_versions 0.1.0 0.1.0 false false
}

# --- commit types (subject) ---------------------------------------------------------------

@test "type fix: patch" {
	released_app v1.2.3 "fix: off-by-one"
	assert_app 1.2.4 true
}

@test "type feat: minor" {
	released_app v1.2.3 "feat: catalog search"
	assert_app 1.3.0 true
}

@test "type feat with a scope: minor" {
	released_app v1.2.3 "feat(catalog): search"
	assert_app 1.3.0 true
}

@test "type is case-insensitive: Feat: is minor" {
	released_app v1.2.3 "Feat: search"
	assert_app 1.3.0 true
}

@test "type perf: patch" {
	released_app v1.2.3 "perf(db): batch inserts"
	assert_app 1.2.4 true
}

@test "type refactor: patch" {
	released_app v1.2.3 "refactor: split router"
	assert_app 1.2.4 true
}

@test "type docs: patch" {
	released_app v1.2.3 "docs: comment the router"
	assert_app 1.2.4 true
}

@test "type chore: patch" {
	released_app v1.2.3 "chore(deps): bump luajit"
	assert_app 1.2.4 true
}

@test "type revert: patch" {
	released_app v1.2.3 "revert: feat: catalog search"
	assert_app 1.2.4 true
}

@test "type build: no release" {
	released_app v1.2.3 "build: warnings as errors"
	assert_app 1.2.3 false
}

@test "type ci: no release" {
	released_app v1.2.3 "ci: cache the build"
	assert_app 1.2.3 false
}

@test "type test: no release" {
	released_app v1.2.3 "test(db): more cases"
	assert_app 1.2.3 false
}

@test "type style: no release" {
	released_app v1.2.3 "style: clang-format"
	assert_app 1.2.3 false
}

@test "unknown type: patch, with a warning" {
	released_app v1.2.3 "feature: search"
	assert_app 1.2.4 true
	assert_stderr_has "unknown commit type 'feature'"
}

@test "subject that is not a Conventional Commit: patch, with a warning" {
	released_app v1.2.3 "Update router.c"
	assert_app 1.2.4 true
	assert_stderr_has "'Update router.c' is not a Conventional Commit subject"
}

# --- breaking changes ---------------------------------------------------------------------

@test "breaking: feat! is major" {
	released_app v1.2.3 "feat!: new API"
	assert_app 2.0.0 true
}

@test "breaking: fix(scope)! is major" {
	released_app v1.2.3 "fix(api)!: reject unknown fields"
	assert_app 2.0.0 true
}

@test "breaking: ! on a non-releasing type is still major" {
	released_app v1.2.3 "build!: require CMake 3.25"
	assert_app 2.0.0 true
}

@test "breaking: BREAKING CHANGE: footer is major" {
	released_app v1.2.3 "fix: stricter parsing" "BREAKING CHANGE: unknown fields are rejected"
	assert_app 2.0.0 true
}

@test "breaking: BREAKING-CHANGE: footer is major" {
	released_app v1.2.3 "refactor: config" "Reworded." "BREAKING-CHANGE: AGENTLENS_PORT is gone"
	assert_app 2.0.0 true
}

@test "breaking: the footer on a non-releasing type is still major" {
	released_app v1.2.3 "ci: new image" "BREAKING CHANGE: needs glibc 2.36"
	assert_app 2.0.0 true
}

@test "breaking: 0.x goes to 1.0.0" {
	released_app v0.4.2 "feat!: stable API"
	assert_app 1.0.0 true
}

@test "breaking: the words inside a body line are not a footer" {
	released_app v1.2.3 "fix: parsing" "This is not a BREAKING CHANGE: old input still parses."
	assert_app 1.2.4 true
}

@test "breaking: a lower-case footer is not a footer" {
	released_app v1.2.3 "fix: parsing" "breaking change: none"
	assert_app 1.2.4 true
}

# --- body lines are not subjects (defect 53) ----------------------------------------------

@test "feat: on a body line only is not a minor" {
	released_app v1.2.3 "fix: router" "feat: this line only quotes an older subject"
	assert_app 1.2.4 true
}

@test "feat! on a body line only is not a major" {
	released_app v1.2.3 "ci: pipeline" "* feat!: squashed commit list"
	assert_app 1.2.3 false
}

# --- several commits ----------------------------------------------------------------------

@test "several commits: the highest bump wins (minor over patch)" {
	commit src/main.c "chore: base"
	git tag v1.2.3
	commit src/main.c "fix: one"
	commit lua/agentlens/app.lua "feat: two"
	commit src/main.c "docs: three"
	commit src/main.c "ci: four"
	calc
	assert_app 1.3.0 true
}

@test "several commits: the highest bump wins (major over minor)" {
	commit src/main.c "chore: base"
	git tag v1.2.3
	commit src/main.c "feat: one"
	commit src/main.c "fix!: two"
	commit src/main.c "feat: three"
	calc
	assert_app 2.0.0 true
}

@test "several commits: only non-releasing types release nothing" {
	commit src/main.c "chore: base"
	git tag v1.2.3
	commit src/main.c "ci: one"
	commit src/main.c "test: two"
	calc
	assert_app 1.2.3 false
}

@test "no commits since the last tag: no release, the tag's version" {
	commit src/main.c "feat: base"
	git tag v1.2.3
	calc
	assert_versions 1.2.3 0.1.0 false false
}

@test "merge commits are not counted, the merged commits are" {
	commit src/main.c "chore: base"
	git tag v1.2.3
	git checkout -q -b topic
	commit src/main.c "ci: only a pipeline change"
	git checkout -q main
	# Both sides touch src/, so the merge itself is in the path-limited history.
	commit src/other.c "test: a fixture"
	git merge -q --no-ff -m "Merge branch 'topic'" topic
	[[ $(git log --format=%s v1.2.3..HEAD -- src/) == *"Merge branch 'topic'"* ]] ||
		fail "the merge commit is not in the path-limited history"
	calc
	assert_app 1.2.3 false
}

@test "a feat merged from a branch counts" {
	commit src/main.c "chore: base"
	git tag v1.2.3
	git checkout -q -b topic
	commit src/feature.c "feat: from the branch"
	git checkout -q main
	commit src/main.c "fix: on main"
	git merge -q --no-ff -m "Merge branch 'topic'" topic
	calc
	assert_app 1.3.0 true
}

# --- tracks and paths ---------------------------------------------------------------------

@test "app paths: each of src/ lua/ web/ migrations/ CMakeLists.txt Dockerfile counts" {
	local path
	commit src/main.c "chore: base"
	git tag v1.0.0
	for path in src/x.c lua/x.lua web/src/x.ts migrations/sqlite/0001_x.sql CMakeLists.txt Dockerfile; do
		commit "$path" "fix: $path"
		calc
		assert_app 1.0.1 true
		git tag -f v1.0.0 >/dev/null # the next path starts from a clean slate
	done
}

@test "app paths: commits outside the app paths do not bump it" {
	commit src/main.c "chore: base"
	git tag v1.0.0
	commit docs/releasing.md "feat: docs only"
	commit spec/CMakeLists.txt "feat: spec registration"
	commit src.md "feat: not the src/ directory"
	commit deploy/helm/agentlens/values.yaml "fix: chart values"
	calc
	assert_app 1.0.0 false
	assert_helm 0.1.0 true
}

@test "a commit touching app and other paths counts with its full message" {
	commit src/main.c "chore: base"
	git tag v1.0.0
	mkdir -p docs
	printf 'x\n' >docs/a.md
	printf 'x\n' >>src/main.c
	git add docs/a.md src/main.c
	git commit -q -m "feat: feature with docs"
	calc
	assert_app 1.1.0 true
}

@test "helm track: tags helm/vX.Y.Z, path deploy/helm/, independent of the app" {
	commit src/main.c "chore: base"
	commit deploy/helm/agentlens/Chart.yaml "chore: chart"
	git tag v2.0.0
	git tag helm/v0.3.0
	commit src/main.c "feat: app feature"
	commit deploy/helm/agentlens/templates/deployment.yaml "fix(helm): probe path"
	calc
	assert_versions 2.1.0 0.3.1 true true
}

@test "helm track: an app breaking change does not touch the chart version" {
	commit deploy/helm/agentlens/Chart.yaml "chore: chart"
	git tag helm/v1.4.0
	git tag v3.0.0
	commit deploy/helm/agentlens/values.yaml "feat(helm): ingress class"
	commit src/main.c "feat!: new API"
	calc
	assert_versions 4.0.0 1.5.0 true true
}

# --- tags ---------------------------------------------------------------------------------

@test "tags: the highest version wins, not the lexically last" {
	commit src/main.c "chore: base"
	git tag v0.9.0
	git tag v0.10.0
	commit src/main.c "fix: x"
	calc
	assert_app 0.10.1 true
}

@test "tags: pre-release and malformed tags are ignored" {
	commit src/main.c "chore: base"
	git tag v1.0.0
	commit src/main.c "fix: x"
	git tag v2.0.0-rc.1
	git tag v1.5
	git tag vnext
	git tag v01.2.3
	calc
	assert_app 1.0.1 true
}

@test "tags: a tag not reachable from HEAD is ignored" {
	commit src/main.c "chore: base"
	git tag v1.0.0
	git checkout -q -b hotfix
	commit src/main.c "fix: hotfix"
	git tag v5.0.0
	git checkout -q main
	commit src/main.c "feat: x"
	calc
	assert_app 1.1.0 true
}

@test "tags: the next version already tagged elsewhere is an error" {
	commit src/main.c "chore: base"
	git tag v1.0.0
	git checkout -q -b hotfix
	commit src/main.c "fix: hotfix"
	git tag v1.0.1
	git checkout -q main
	commit src/main.c "fix: the same fix"
	calc
	assert_failure 1
	assert_stderr_has "tag v1.0.1 already exists"
}

# --- overrides ----------------------------------------------------------------------------

@test "override: --app-override X.Y.Z releases that version even without changes" {
	commit src/main.c "feat: base"
	git tag v1.0.0
	calc --app-override 1.4.0
	assert_versions 1.4.0 0.1.0 true false
}

@test "override: --helm-override with a pre-release, --app-override=VALUE form" {
	commit src/main.c "feat: base"
	calc --helm-override 2.0.0-rc.1 --app-override=0.2.0
	assert_versions 0.2.0 2.0.0-rc.1 true true
}

@test "override: an empty value means no override" {
	commit src/main.c "feat: base"
	git tag v1.0.0
	commit src/main.c "fix: x"
	calc --app-override "" --helm-override=
	assert_versions 1.0.1 0.1.0 true false
}

@test "override: invalid versions exit 2 with a message" {
	local bad
	commit src/main.c "feat: base"
	for bad in v1.2.3 1.2 1.2.3.4 01.2.3 1.02.3 1.2.3+build.1 1.2.3- 1.2.3-01 1.2.3-rc..1 abc " 1.2.3"; do
		calc --app-override "$bad"
		assert_failure 2
		assert_output ""
		assert_stderr_has "--app-override: '$bad' is not a version"
		calc --helm-override="$bad"
		assert_failure 2
		assert_stderr_has "--helm-override: '$bad' is not a version"
	done
}

@test "override: a missing value exits 2" {
	calc --app-override
	assert_failure 2
	assert_stderr_has "--app-override needs a value"
}

@test "usage: an unknown argument exits 2" {
	calc --bump major
	assert_failure 2
	assert_stderr_has "unknown argument '--bump'"
}

@test "usage: --help and -h print the usage and exit 0" {
	calc --help
	assert_success
	assert_line --index 0 --partial "Usage: scripts/calculate-versions.sh"
	calc -h
	assert_success
	assert_line --partial "--app-override VERSION"
}

# --- branch and pre-release suffix --------------------------------------------------------

@test "suffix: none on main" {
	commit src/main.c "feat: x"
	calc
	assert_versions 0.1.0 0.1.0 true false
}

@test "suffix: -<sha7> off main, only on the tracks being released" {
	commit src/main.c "feat: x"
	git tag v1.0.0
	git checkout -q -b topic
	commit src/main.c "fix: y"
	local sha
	sha=$(git rev-parse --short=7 HEAD)
	calc
	assert_versions "1.0.1-$sha" 0.1.0 true false
	[[ $sha =~ ^[0-9a-f]{7}$ ]] || fail "unexpected short sha '$sha'"
}

@test "suffix: an override is used as given off main" {
	commit src/main.c "feat: x"
	git checkout -q -b topic
	calc --app-override 3.0.0
	assert_app 3.0.0 true
}

@test "suffix: detached HEAD without a CI ref gets the suffix" {
	commit src/main.c "feat: x"
	git checkout -q --detach
	calc
	assert_app "0.1.0-$(git rev-parse --short=7 HEAD)" true
}

@test "suffix: detached HEAD with GITHUB_REF_NAME=main gets none" {
	commit src/main.c "feat: x"
	git checkout -q --detach
	GITHUB_REF_NAME=main calc
	assert_versions 0.1.0 0.1.0 true false
}

@test "suffix: GITHUB_REF_NAME wins over the checked-out branch" {
	commit src/main.c "feat: x"
	GITHUB_REF_NAME=topic calc
	assert_app "0.1.0-$(git rev-parse --short=7 HEAD)" true
}

@test "suffix: a pull request (GITHUB_HEAD_REF set) always gets it" {
	commit src/main.c "feat: x"
	GITHUB_HEAD_REF=main GITHUB_REF_NAME=main calc
	assert_app "0.1.0-$(git rev-parse --short=7 HEAD)" true
}

@test "suffix: an all-digit short sha with a leading zero is lengthened (valid semver)" {
	# Identity and dates are fixed by new_repo, so this message yields a commit whose
	# 7-character abbreviation is all digits with a leading zero.
	commit src/main.c "fix: nonce 32"
	local short
	short=$(git rev-parse --short=7 HEAD)
	[[ $short =~ ^0[0-9]{6}$ ]] || fail "commit id not reproduced ($short): recompute the nonce"
	GITHUB_REF_NAME=topic calc
	assert_success
	local version=${lines[0]#app_version=0.1.0-}
	[[ ${#version} -gt 7 && $version == "$short"* && ! $version =~ ^[0-9]+$ ]] ||
		fail "suffix '$version' is not a lengthened, non-numeric abbreviation of $short"
}

# --- output -------------------------------------------------------------------------------

@test "GITHUB_OUTPUT receives the same lines, appended" {
	commit src/main.c "feat: x"
	export GITHUB_OUTPUT="$BATS_TEST_TMPDIR/github_output"
	printf 'earlier=1\n' >"$GITHUB_OUTPUT"
	calc
	assert_success
	assert_equal "$(cat "$GITHUB_OUTPUT")" "earlier=1"$'\n'"$output"
}

@test "GITHUB_ACTIONS: annotations on stderr, stdout holds only the four lines" {
	commit src/main.c "Update things"
	GITHUB_ACTIONS=true GITHUB_REF_NAME=main calc
	assert_versions 0.1.0 0.1.0 true false
	assert_stderr_has "::warning::'Update things' is not a Conventional Commit subject"
	assert_stderr_has "::notice::app: "
}

@test "runs from a subdirectory of the repository" {
	commit src/main.c "chore: base"
	git tag v1.0.0
	commit src/main.c "feat: x"
	cd src
	calc
	assert_app 1.1.0 true
}

# --- repository problems ------------------------------------------------------------------

@test "outside a git repository: exit 1" {
	cd "$BATS_TEST_TMPDIR"
	mkdir plain && cd plain
	GIT_CEILING_DIRECTORIES="$BATS_TEST_TMPDIR" calc
	assert_failure 1
	assert_stderr_has "not inside a git work tree"
}

@test "repository without commits: exit 1" {
	calc
	assert_failure 1
	assert_stderr_has "no commits"
}

@test "shallow clone: exit 1 (tags and history are needed)" {
	commit src/main.c "feat: x"
	commit src/main.c "fix: y"
	git clone -q --depth 1 "file://$REPO" "$BATS_TEST_TMPDIR/shallow"
	cd "$BATS_TEST_TMPDIR/shallow"
	calc
	assert_failure 1
	assert_stderr_has "shallow clone"
}
