#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# .github/workflows: yamllint, then the structure the project relies on (triggers, jobs, minimal
# permissions, pinned actions, the release's version and tag logic), shellcheck of every `run:`
# script, and the release's image-tag step run for a stable and a pre-release version.
#
#   bats spec/release/test_workflows.bats         (ctest -L release; AGENTLENS_BIN=the binary)

setup_file() {
	load common
	release_repo_and_binary
	release_python_yaml || return 1
	KNOWN_ENV=$("$AGENTLENS_BIN" --help | grep -o 'AGENTLENS_[A-Z0-9_]*' | sort -u | tr '\n' ' ')
	export KNOWN_ENV
}

WORKFLOWS=(ci code-scanning e2e release)
YAMLLINT_CONFIG='{extends: default, rules: {document-start: disable, line-length: {max: 100},
  truthy: {check-keys: false}}}'

# check NAME [ARGS]: one named check (the Python program below).
check() {
	"$PY" - "$@" <<'PY'
import os, re, sys
import yaml

REPO = os.environ["REPO"]
WF = os.path.join(REPO, ".github", "workflows")
NAMES = ["ci", "code-scanning", "e2e", "release"]
errors = []


def need(cond, msg):
    if not cond:
        errors.append(msg)


def load(name):
    with open(os.path.join(WF, name + ".yml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    # YAML 1.1 reads the key `on` as true
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def steps(job):
    return job.get("steps", [])


def runs(job):
    return "\n".join(s.get("run", "") for s in steps(job))


def uses(job):
    return [s.get("uses", "") for s in steps(job) if "uses" in s]


def triggers(doc):
    on = doc.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {k: None for k in on}
    return on or {}


def branches(doc, event):
    t = triggers(doc).get(event) or {}
    return t.get("branches")


what = sys.argv[1]
docs = {n: load(n) for n in NAMES}

if what == "common":
    pinned = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+(\.\d+){0,2}|\d+\.\d+\.\d+|[0-9a-f]{40})$")
    known = set(os.environ.get("KNOWN_ENV", "").split())
    for name, doc in docs.items():
        need(doc.get("permissions") == {"contents": "read"},
             f"{name}.yml: top-level permissions exactly {{contents: read}}, not {doc.get('permissions')}")
        need(isinstance(doc.get("jobs"), dict) and doc["jobs"], f"{name}.yml: jobs")
        for jid, job in (doc.get("jobs") or {}).items():
            where = f"{name}.yml jobs.{jid}"
            need("timeout-minutes" in job, f"{where}: timeout-minutes")
            perms = job.get("permissions", {})
            need(isinstance(perms, dict), f"{where}: permissions as a map (no read-all/write-all)")
            for scope, level in (perms or {}).items():
                need(level in ("read", "write", "none"), f"{where}: permissions.{scope}: {level}")
                if level == "write":
                    allowed = {"security-events"} if name == "code-scanning" else set()
                    if name == "release":
                        allowed = {"contents", "packages"}
                    need(scope in allowed, f"{where}: {scope}: write is not allowed in {name}.yml")
            if name == "release" and jid != "prepare":
                need(perms.get("packages") == "write" and perms.get("contents") == "write",
                     f"{where}: publishing needs packages: write and contents: write")
            for u in uses(job):
                need(u.startswith("./") or pinned.match(u) is not None,
                     f"{where}: `{u}` is not pinned to a major version, a release or a commit")
            for s in steps(job):
                r = s.get("run", "")
                for bad in re.findall(r"\$\{\{\s*(?:inputs|github\.event)\.[^}]*\}\}", r):
                    errors.append(f"{where}: `{bad}` inside a run script (pass it through env:)")
        text = open(os.path.join(WF, name + ".yml"), encoding="utf-8").read()
        for var in sorted(set(re.findall(r"\bAGENTLENS_[A-Z0-9_]+\b", text)) - {"AGENTLENS_IMAGE"}):
            need(var in known, f"{name}.yml: {var} is not a variable of agentlens --help")

elif what == "ci":
    doc = docs["ci"]
    need(branches(doc, "pull_request") == ["main"] and branches(doc, "push") == ["main"],
         "ci.yml: on pull_request and push to main")
    jobs = doc.get("jobs", {})
    need({"lint", "test", "build"} <= set(jobs), f"ci.yml: jobs lint, test, build (found {sorted(jobs)})")
    need(set(jobs.get("build", {}).get("needs", [])) == {"lint", "test"}, "ci.yml: build needs lint and test")
    lint = runs(jobs.get("lint", {}))
    for frag in ("-DAGENTLENS_WERROR=ON", "cppcheck", "--error-exitcode=1", "clang-tidy",
                 "--warnings-as-errors", "make lint", "tsc --noEmit"):
        need(frag in lint, f"ci.yml lint: `{frag}`")
    test = runs(jobs.get("test", {}))
    for frag in ("make test", "--coverage", "-fprofile-update=atomic", "scripts/coverage.sh", "luacov",
                 "GITHUB_STEP_SUMMARY"):
        need(frag in test, f"ci.yml test: `{frag}`")
    # the report itself: scripts/coverage.sh, shared with `make coverage`
    cov = open(os.path.join(REPO, "scripts", "coverage.sh"), encoding="utf-8").read()
    for frag in ("gcovr", "--print-summary", "--coverage", "luacov.reporter"):
        need(frag in cov, f"scripts/coverage.sh: `{frag}`")
    mk = open(os.path.join(REPO, "Makefile"), encoding="utf-8").read()
    need(re.search(r"^coverage:", mk, re.M) is not None and "scripts/coverage.sh" in mk,
         "Makefile: a coverage target running scripts/coverage.sh")
    need(any(u.startswith("actions/upload-artifact@") for u in uses(jobs.get("test", {}))),
         "ci.yml test: uploads the coverage report")
    need("cmake --build" in runs(jobs.get("build", {})), "ci.yml build: builds the binary")

elif what == "code-scanning":
    doc = docs["code-scanning"]
    t = triggers(doc)
    need("pull_request" in t and branches(doc, "push") == ["main"] and "schedule" in t,
         "code-scanning.yml: on pull requests, pushes to main and a weekly schedule")
    crons = [s.get("cron", "") for s in (t.get("schedule") or [])]
    need(len(crons) == 1 and re.fullmatch(r"\S+ \S+ \* \* [0-6]", crons[0]) is not None,
         f"code-scanning.yml: one weekly cron, not {crons}")
    jobs = doc.get("jobs", {})
    allsteps = [(jid, s) for jid, j in jobs.items() for s in steps(j)]
    codeql = [jid for jid, j in jobs.items() if any(u.startswith("github/codeql-action/init@") for u in uses(j))]
    need(len(codeql) == 1, "code-scanning.yml: a CodeQL job")
    if codeql:
        j = jobs[codeql[0]]
        langs = {m.get("language") for m in j.get("strategy", {}).get("matrix", {}).get("include", [])}
        need({"c-cpp", "javascript-typescript"} <= langs, f"code-scanning.yml: CodeQL for C and JS/TS, not {langs}")
        need(any(u.startswith("github/codeql-action/analyze@") for u in uses(j)), "code-scanning.yml: CodeQL analyze")
        need("cmake --build" in runs(j), "code-scanning.yml: CodeQL builds the C code")
    trivy = [(jid, s.get("with", {})) for jid, s in allsteps if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    image = [w for _, w in trivy if w.get("scan-type") == "image" and str(w.get("exit-code")) == "1"]
    need(image and image[0].get("severity") == "CRITICAL,HIGH" and image[0].get("image-ref"),
         "code-scanning.yml: Trivy image scan, CRITICAL,HIGH, failing the job")
    need(image and "os" in str(image[0].get("vuln-type", "os")), "code-scanning.yml: the image scan covers the OS (Debian) packages")
    fs = [w for _, w in trivy if w.get("scan-type") == "fs" and str(w.get("exit-code")) == "1"]
    need(fs and fs[0].get("severity") == "CRITICAL,HIGH", "code-scanning.yml: dependency (lock file) scan, CRITICAL,HIGH")
    need(any("helm lint" in s.get("run", "") for _, s in allsteps), "code-scanning.yml: helm lint")
    for jid, j in jobs.items():
        uploads = any(u.startswith(("github/codeql-action/upload-sarif@", "github/codeql-action/init@")) for u in uses(j))
        need(uploads == (j.get("permissions", {}).get("security-events") == "write"),
             f"code-scanning.yml jobs.{jid}: security-events: write exactly when it uploads results")
    built = [s for _, s in allsteps if s.get("uses", "").startswith("docker/build-push-action@")]
    need(built and built[0].get("with", {}).get("push") is False, "code-scanning.yml: builds the image without pushing it")

elif what == "e2e":
    doc = docs["e2e"]
    need(branches(doc, "pull_request") == ["main"] and branches(doc, "push") == ["main"],
         "e2e.yml: on pull_request and push to main")
    jobs = doc.get("jobs", {})
    need(len(jobs) == 1, "e2e.yml: one job")
    j = next(iter(jobs.values()), {})
    need(j.get("timeout-minutes", 99) <= 20, "e2e.yml: at most 20 minutes")
    r = runs(j)
    for frag in ("docker compose up", "examples/docker-compose.yaml", "playwright test",
                 "playwright install", "::add-mask::", "/readyz", "docker compose down"):
        need(frag in r or frag in str(j.get("env", {})), f"e2e.yml: `{frag}`")
    up = [s for s in steps(j) if s.get("uses", "").startswith("actions/upload-artifact@")]
    need(up and "failure()" in str(up[0].get("if", "")), "e2e.yml: uploads the report on failure")
    stop = [s for s in steps(j) if "docker compose down" in s.get("run", "")]
    need(stop and "always()" in str(stop[0].get("if", "")), "e2e.yml: always stops the stack")

elif what == "release":
    doc = docs["release"]
    t = triggers(doc)
    need(branches(doc, "push") == ["main"], "release.yml: on push to main")
    inputs = ((t.get("workflow_dispatch") or {}).get("inputs") or {})
    need({"app_version", "helm_version"} <= set(inputs), "release.yml: workflow_dispatch inputs app_version, helm_version")
    for k in ("app_version", "helm_version"):
        need(inputs.get(k, {}).get("required") is False, f"release.yml: input {k} is optional")
    conc = doc.get("concurrency", {})
    need(isinstance(conc, dict) and "github.ref" in str(conc.get("group")) and conc.get("cancel-in-progress") is False,
         "release.yml: one concurrency group per ref, cancel-in-progress: false")
    jobs = doc.get("jobs", {})
    need({"prepare", "image", "chart"} <= set(jobs), f"release.yml: jobs prepare, image, chart (found {sorted(jobs)})")
    prep = jobs.get("prepare", {})
    co = [s for s in steps(prep) if s.get("uses", "").startswith("actions/checkout@")]
    need(co and co[0].get("with", {}).get("fetch-depth") == 0, "release.yml prepare: full history (fetch-depth: 0)")
    vs = [s for s in steps(prep) if "scripts/calculate-versions.sh" in s.get("run", "")]
    need(len(vs) == 1, "release.yml prepare: runs scripts/calculate-versions.sh")
    if vs:
        s = vs[0]
        need("--app-override" in s["run"] and "--helm-override" in s["run"], "release.yml prepare: passes the overrides")
        envs = " ".join(str(v) for v in s.get("env", {}).values())
        need("inputs.app_version" in envs and "inputs.helm_version" in envs, "release.yml prepare: inputs through env")
        sid = s.get("id")
        if os.environ.get("BATS_TMP"):
            with open(os.path.join(os.environ["BATS_TMP"], "versions.sh"), "w", encoding="utf-8") as f:
                f.write(s["run"])
        for k in ("app_version", "helm_version", "release_app", "release_helm"):
            need(re.fullmatch(rf"\$\{{\{{\s*steps\.{sid}\.outputs\.{k}\s*\}}\}}", str(prep.get("outputs", {}).get(k, ""))) is not None,
                 f"release.yml prepare: outputs.{k} from the script's step")
    img, chart = jobs.get("image", {}), jobs.get("chart", {})
    need("needs.prepare.outputs.release_app == 'true'" in str(img.get("if")), "release.yml image: only when release_app")
    need("needs.prepare.outputs.release_helm == 'true'" in str(chart.get("if")), "release.yml chart: only when release_helm")
    need("needs.prepare.outputs.app_version" in str(img.get("env", {})), "release.yml image: the version from prepare")
    need("needs.prepare.outputs.helm_version" in str(chart.get("env", {})), "release.yml chart: the version from prepare")
    bp = [s for s in steps(img) if s.get("uses", "").startswith("docker/build-push-action@")]
    need(bp, "release.yml image: docker/build-push-action")
    if bp:
        w = bp[0].get("with", {})
        need(w.get("push") is True and "steps.tags.outputs.tags" in str(w.get("tags")), "release.yml image: pushes the computed tags")
        need("VERSION=" in str(w.get("build-args")), "release.yml image: VERSION build argument")
        need("org.opencontainers.image.version" in str(w.get("labels")), "release.yml image: OCI labels")
    need(any(s.get("uses", "").startswith("docker/login-action@") and s.get("with", {}).get("registry") == "ghcr.io"
             for s in steps(img)), "release.yml image: logs in to ghcr.io")
    ri = runs(img)
    need('gh release create "$tag"' in ri and 'tag="v$VERSION"' in ri and "--prerelease" in ri,
         "release.yml image: GitHub release and tag v<version>, pre-release for a suffixed version")
    rc = runs(chart)
    for frag in ("helm package", "helm push", "oci://ghcr.io/", 'tag="helm/v$HELM_VERSION"', "gh release create",
                 "appVersion", "--latest=false"):
        need(frag in rc, f"release.yml chart: `{frag}`")
    tags = [s for s in steps(img) if s.get("id") == "tags"]
    need(tags and "latest" in tags[0].get("run", ""), "release.yml image: a step with id tags computes the tags")
    if tags:
        with open(os.path.join(os.environ["BATS_TMP"], "tags.sh"), "w", encoding="utf-8") as f:
            f.write(tags[0]["run"])

elif what == "scripts":
    # every run: script as a file for shellcheck, with ${{ }} expressions replaced
    out = os.environ["BATS_TMP"]
    n = 0
    for name, doc in docs.items():
        for jid, job in doc.get("jobs", {}).items():
            shell = (doc.get("defaults", {}).get("run", {}) or {}).get("shell", "bash")
            for k, s in enumerate(steps(job)):
                if "run" not in s:
                    continue
                need(s.get("shell", shell) == "bash", f"{name}.yml jobs.{jid} step {k}: bash")
                body = re.sub(r"\$\{\{[^}]*\}\}", "GHA_EXPRESSION", s["run"])
                n += 1
                with open(os.path.join(out, f"{name}.{jid}.{k}.sh"), "w", encoding="utf-8") as f:
                    f.write("#!/bin/bash\nset -eo pipefail\n" + body)
    need(n > 10, f"found only {n} run scripts")

else:
    errors.append(f"unknown check {what}")

for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
}

@test "workflows: the four exist and pass yamllint (strict)" {
	local files=()
	for w in "${WORKFLOWS[@]}"; do
		[ -f "$REPO/.github/workflows/$w.yml" ]
		files+=("$REPO/.github/workflows/$w.yml")
	done
	run yamllint -s -d "$YAMLLINT_CONFIG" "${files[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "workflows: contents: read by default, write only where needed, actions pinned, no injection" {
	check common
}

@test "ci.yml: lint (warnings as errors, cppcheck, clang-tidy, luacheck, tsc), test with coverage, build" {
	check ci
}

@test "code-scanning.yml: CodeQL C and JS/TS, Trivy image and lock files, chart lint; weekly + PRs + main" {
	check code-scanning
}

@test "e2e.yml: Playwright against the image and the mock agents, masked password, report on failure" {
	check e2e
}

@test "release.yml: versions from calculate-versions.sh, image to GHCR, chart as OCI, releases and tags" {
	BATS_TMP=$BATS_TEST_TMPDIR check release
}

@test "release.yml: :latest only for a stable version, never for a pre-release" {
	BATS_TMP=$BATS_TEST_TMPDIR check release
	local v out
	for v in 1.2.3 0.1.0 10.20.30 2.0.0-abc1234 1.2.3-rc.1; do
		out=$BATS_TEST_TMPDIR/out-$v
		: >"$out"
		VERSION=$v GITHUB_REPOSITORY_OWNER=ExampleOrg GITHUB_OUTPUT=$out bash -eo pipefail "$BATS_TEST_TMPDIR/tags.sh"
		cat "$out"
		grep -qx "ghcr.io/exampleorg/agentlens:$v" "$out"
		grep -qx "image=ghcr.io/exampleorg/agentlens" "$out"
		if [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
			grep -qx "ghcr.io/exampleorg/agentlens:latest" "$out"
			grep -qx "stable=true" "$out"
		else
			if grep -q ':latest' "$out"; then
				echo "pre-release $v is tagged latest" >&2
				return 1
			fi
			grep -qx "stable=false" "$out"
		fi
	done
}

@test "release.yml: the versions step runs scripts/calculate-versions.sh and gets its four outputs" {
	[ -x "$REPO/scripts/calculate-versions.sh" ] || skip "scripts/calculate-versions.sh does not exist yet"
	command -v git >/dev/null || skip "git is not installed"
	BATS_TMP=$BATS_TEST_TMPDIR check release
	local repo=$BATS_TEST_TMPDIR/repo out=$BATS_TEST_TMPDIR/github-output
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t \
		GIT_COMMITTER_EMAIL=t@example.invalid GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
	git init -q -b main "$repo"
	mkdir -p "$repo/scripts" "$repo/src"
	cp "$REPO/scripts/calculate-versions.sh" "$repo/scripts/"
	echo 'int main(void) { return 0; }' >"$repo/src/main.c"
	git -C "$repo" add -A
	git -C "$repo" commit -q -m 'feat: first'
	# as on a push to main, then as a manual run with overrides
	: >"$out"
	(cd "$repo" && env -u GITHUB_HEAD_REF GITHUB_REF_NAME=main GITHUB_OUTPUT="$out" \
		APP_VERSION_INPUT= HELM_VERSION_INPUT= bash -eo pipefail "$BATS_TEST_TMPDIR/versions.sh")
	cat "$out"
	grep -qx 'app_version=0.1.0' "$out"
	grep -qx 'release_app=true' "$out"
	grep -q '^helm_version=' "$out"
	grep -q '^release_helm=' "$out"
	: >"$out"
	(cd "$repo" && env -u GITHUB_HEAD_REF GITHUB_REF_NAME=main GITHUB_OUTPUT="$out" \
		APP_VERSION_INPUT=2.3.4 HELM_VERSION_INPUT=1.0.0 bash -eo pipefail "$BATS_TEST_TMPDIR/versions.sh")
	cat "$out"
	grep -qx 'app_version=2.3.4' "$out"
	grep -qx 'helm_version=1.0.0' "$out"
	grep -qx 'release_helm=true' "$out"
}

@test "workflows: every run script passes shellcheck" {
	BATS_TMP=$BATS_TEST_TMPDIR check scripts
	run shellcheck -s bash "$BATS_TEST_TMPDIR"/*.sh
	echo "$output"
	[ "$status" -eq 0 ]
}
