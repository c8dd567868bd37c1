#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Compute the next app and Helm chart versions from Conventional Commits (docs/releasing.md).
#
#   scripts/calculate-versions.sh [--app-override X.Y.Z[-pre]] [--helm-override X.Y.Z[-pre]]
#
# Tracks: app (tags vX.Y.Z; src/ lua/ web/ migrations/ CMakeLists.txt Dockerfile) and helm
# (tags helm/vX.Y.Z; deploy/helm/). Each track bumps from the subjects and BREAKING CHANGE
# footers of the non-merge commits since its last tag that touch its paths.
#
# Prints app_version=, helm_version=, release_app=, release_helm= (also appended to
# $GITHUB_OUTPUT when set). Versions released off main get a -<short sha> suffix; the branch
# comes from GITHUB_HEAD_REF / GITHUB_REF_NAME, else `git rev-parse --abbrev-ref HEAD`.
#
# Exit status: 0 success, 1 repository problem, 2 usage error (bad argument or override).
set -euo pipefail

readonly PROG=calculate-versions
readonly RELEASE_BRANCH=main
readonly FIRST_VERSION=0.1.0
readonly APP_PATHS=(src/ lua/ web/ migrations/ CMakeLists.txt Dockerfile)
readonly HELM_PATHS=(deploy/helm/)
# Semantic Versioning 2.0.0 core, optional pre-release; no build metadata (not a valid
# container tag character).
readonly NUM='(0|[1-9][0-9]*)'
readonly PRE_ID='(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)'
readonly CORE_RE="^${NUM}\\.${NUM}\\.${NUM}\$"
readonly SEMVER_RE="^${NUM}\\.${NUM}\\.${NUM}(-${PRE_ID}(\\.${PRE_ID})*)?\$"
# type(scope)!: description
readonly SUBJECT_RE='^([A-Za-z]+)(\([^()]*\))?(!)?:[[:space:]]*[^[:space:]]'
readonly LEVELS=(none patch minor major)

usage() {
	cat <<'EOF'
Usage: scripts/calculate-versions.sh [--app-override VERSION] [--helm-override VERSION]

Compute the next app (tags vX.Y.Z) and Helm chart (tags helm/vX.Y.Z) versions from the
Conventional Commits since each track's last tag. Run it inside the repository, with full
history and tags.

Options:
  --app-override VERSION    release the app as VERSION (X.Y.Z or X.Y.Z-prerelease)
  --helm-override VERSION   release the chart as VERSION (same format)
                            (an empty VERSION means no override)
  -h, --help                print this help

Output (stdout, and appended to $GITHUB_OUTPUT when set):
  app_version=...  helm_version=...  release_app=true|false  release_helm=true|false

Rules: docs/releasing.md.
EOF
}

# note/warn MESSAGE: diagnostics go to stderr, as annotations under GitHub Actions.
note() {
	if [[ ${GITHUB_ACTIONS:-} == true ]]; then
		printf '::notice::%s\n' "$1" >&2
	else
		printf '%s: %s\n' "$PROG" "$1" >&2
	fi
}

warn() {
	if [[ ${GITHUB_ACTIONS:-} == true ]]; then
		printf '::warning::%s\n' "$1" >&2
	else
		printf '%s: warning: %s\n' "$PROG" "$1" >&2
	fi
}

die() {
	local status=$1
	shift
	if [[ ${GITHUB_ACTIONS:-} == true ]]; then
		printf '::error::%s\n' "$*" >&2
	else
		printf '%s: %s\n' "$PROG" "$*" >&2
	fi
	exit "$status"
}

usage_error() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	printf 'Try: scripts/calculate-versions.sh --help\n' >&2
	exit 2
}

# check_override OPTION VALUE: exit 2 unless VALUE is empty or a valid X.Y.Z[-pre].
check_override() {
	if [[ -n $2 && ! $2 =~ $SEMVER_RE ]]; then
		usage_error "$1: '$2' is not a version X.Y.Z or X.Y.Z-prerelease (no leading v, no leading zeros)"
	fi
}

# last_tag PREFIX: the highest PREFIX<X.Y.Z> tag reachable from HEAD, or nothing.
last_tag() {
	local prefix=$1 tag
	git tag --list --merged HEAD "${prefix}*" | while IFS= read -r tag; do
		if [[ ${tag#"$prefix"} =~ $CORE_RE ]]; then
			printf '%s\n' "${tag#"$prefix"}"
		fi
	done | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1
}

# commit_level MESSAGE: prints 0 (no release), 1 (patch), 2 (minor) or 3 (major).
commit_level() {
	local message=$1 subject type bang
	subject=${message%%$'\n'*}
	# Footers only: a body line that starts with the token (upper case, as the spec requires).
	if [[ $message == *$'\n''BREAKING CHANGE: '* || $message == *$'\n''BREAKING-CHANGE: '* ]]; then
		echo 3
		return
	fi
	if [[ ! $subject =~ $SUBJECT_RE ]]; then
		warn "'${subject}' is not a Conventional Commit subject; counted as a patch"
		echo 1
		return
	fi
	type=$(printf '%s' "${BASH_REMATCH[1]}" | tr '[:upper:]' '[:lower:]')
	bang=${BASH_REMATCH[3]}
	if [[ -n $bang ]]; then
		echo 3
		return
	fi
	case $type in
	feat) echo 2 ;;
	fix | perf | refactor | docs | chore | revert) echo 1 ;;
	build | ci | test | style) echo 0 ;;
	*)
		warn "'${subject}': unknown commit type '${type}'; counted as a patch"
		echo 1
		;;
	esac
}

# track_level TAG PATH...: the highest commit level in TAG..HEAD (all history when TAG is
# empty) over non-merge commits that touch PATH.
track_level() {
	local tag=$1 level=0 commit_lvl message
	shift
	local range=HEAD
	if [[ -n $tag ]]; then
		range="${tag}..HEAD"
	fi
	git log -z --no-merges --format=%B "$range" -- "$@" >"$TMP"
	while IFS= read -r -d '' message; do
		commit_lvl=$(commit_level "$message")
		if ((commit_lvl > level)); then
			level=$commit_lvl
		fi
	done <"$TMP"
	echo "$level"
}

# bump VERSION LEVEL: VERSION raised by LEVEL (1 patch, 2 minor, 3 major).
bump() {
	local major minor patch
	IFS=. read -r major minor patch <<<"$1"
	case $2 in
	3) echo "$((major + 1)).0.0" ;;
	2) echo "${major}.$((minor + 1)).0" ;;
	1) echo "${major}.${minor}.$((patch + 1))" ;;
	*) echo "$1" ;;
	esac
}

# current_branch: the branch being built; empty for a pull request (never the release branch).
current_branch() {
	if [[ -n ${GITHUB_HEAD_REF:-} ]]; then
		return
	fi
	if [[ -n ${GITHUB_REF_NAME:-} ]]; then
		printf '%s\n' "$GITHUB_REF_NAME"
		return
	fi
	git rev-parse --abbrev-ref HEAD
}

# short_sha: HEAD abbreviated to at least 7 characters, lengthened when the abbreviation is
# all digits with a leading zero (not a valid semver pre-release identifier).
short_sha() {
	local len=7 sha
	sha=$(git rev-parse --short=$len HEAD)
	while [[ $sha =~ ^0[0-9]*$ && $len -lt 40 ]]; do
		len=$((len + 1))
		sha=$(git rev-parse --short=$len HEAD)
	done
	printf '%s\n' "$sha"
}

# plan TRACK TAG_PREFIX OVERRIDE PATH...: sets VERSION and RELEASE for one track.
plan() {
	local track=$1 prefix=$2 override=$3 tag level
	shift 3
	if [[ -n $override ]]; then
		VERSION=$override
		RELEASE=true
		note "${track}: override ${VERSION}"
		return
	fi
	tag=$(last_tag "$prefix")
	if [[ -n $tag ]]; then
		level=$(track_level "${prefix}${tag}" "$@")
	else
		level=$(track_level "" "$@")
	fi
	if [[ -z $tag ]]; then
		VERSION=$FIRST_VERSION
		RELEASE=$([[ $level -gt 0 ]] && echo true || echo false)
		note "${track}: no ${prefix}X.Y.Z tag; first release ${VERSION} (release ${RELEASE})"
	else
		VERSION=$(bump "$tag" "$level")
		RELEASE=$([[ $level -gt 0 ]] && echo true || echo false)
		note "${track}: last tag ${prefix}${tag}, ${LEVELS[level]} bump -> ${VERSION}"
	fi
	if [[ $RELEASE == true ]] && git rev-parse -q --verify "refs/tags/${prefix}${VERSION}" >/dev/null; then
		die 1 "${track}: tag ${prefix}${VERSION} already exists but is not reachable from HEAD"
	fi
}

main() {
	local app_override="" helm_override=""
	while (($# > 0)); do
		case $1 in
		-h | --help)
			usage
			exit 0
			;;
		--app-override | --helm-override)
			(($# >= 2)) || usage_error "$1 needs a value"
			check_override "$1" "$2"
			if [[ $1 == --app-override ]]; then app_override=$2; else helm_override=$2; fi
			shift 2
			;;
		--app-override=*)
			app_override=${1#*=}
			check_override --app-override "$app_override"
			shift
			;;
		--helm-override=*)
			helm_override=${1#*=}
			check_override --helm-override "$helm_override"
			shift
			;;
		*) usage_error "unknown argument '$1'" ;;
		esac
	done

	local top
	top=$(git rev-parse --show-toplevel 2>/dev/null) || die 1 "not inside a git work tree"
	cd "$top"
	git rev-parse -q --verify HEAD >/dev/null || die 1 "the repository has no commits"
	if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
		die 1 "shallow clone: versions need the full history and tags (actions/checkout fetch-depth: 0)"
	fi

	TMP=$(mktemp)
	trap 'rm -f "$TMP"' EXIT

	local app_version release_app helm_version release_helm
	plan app v "$app_override" "${APP_PATHS[@]}"
	app_version=$VERSION release_app=$RELEASE
	plan helm helm/v "$helm_override" "${HELM_PATHS[@]}"
	helm_version=$VERSION release_helm=$RELEASE

	local branch sha
	branch=$(current_branch)
	if [[ $branch != "$RELEASE_BRANCH" ]]; then
		sha=$(short_sha)
		# Only computed versions that would be released; an override is used as given.
		if [[ $release_app == true && -z $app_override ]]; then app_version+="-${sha}"; fi
		if [[ $release_helm == true && -z $helm_override ]]; then helm_version+="-${sha}"; fi
		local where="branch '${branch}'"
		if [[ -z $branch ]]; then where="pull request from '${GITHUB_HEAD_REF}'"; fi
		note "${where} is not ${RELEASE_BRANCH}: pre-release suffix -${sha}"
	fi

	local out
	out=$(printf 'app_version=%s\nhelm_version=%s\nrelease_app=%s\nrelease_helm=%s\n' \
		"$app_version" "$helm_version" "$release_app" "$release_helm")
	printf '%s\n' "$out"
	if [[ -n ${GITHUB_OUTPUT:-} ]]; then
		printf '%s\n' "$out" >>"$GITHUB_OUTPUT"
	fi
}

main "$@"
