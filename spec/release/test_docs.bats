#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# docs/devops-guide.md and docs/troubleshooting.md say only what is true of this repository: the
# make targets exist, the agentlens commands, flags, AGENTLENS_* variables and option keys are
# the binary's, the paths exist, the links resolve, and the password-reset script of the
# troubleshooting guide really resets a password.
#
#   bats spec/release/test_docs.bats              (ctest -L release; AGENTLENS_BIN=the binary)

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

DOCS="docs/devops-guide.md docs/troubleshooting.md"

setup_file() {
	load common
	release_repo_and_binary
	release_python_yaml || return 1
	command -v curl >/dev/null && command -v jq >/dev/null || {
		echo "curl and jq are needed (scripts/deps.sh test)" >&2
		return 1
	}
	"$AGENTLENS_BIN" --help >"$BATS_FILE_TMPDIR/help.txt"
	(cd "$BATS_FILE_TMPDIR" && env -i PATH=/usr/bin:/bin "$AGENTLENS_BIN" config-reference) >"$BATS_FILE_TMPDIR/reference.md"
	export HELP=$BATS_FILE_TMPDIR/help.txt REFERENCE=$BATS_FILE_TMPDIR/reference.md
}

teardown() {
	[ -z "${SERVER_PID:-}" ] || kill "$SERVER_PID" 2>/dev/null || true
}

# check NAME: one named check over the two documents (the Python program below).
check() {
	"$PY" - "$@" <<'PY'
import os, re, sys

REPO = os.environ["REPO"]
HELP = open(os.environ["HELP"], encoding="utf-8").read()
REFERENCE = open(os.environ["REFERENCE"], encoding="utf-8").read()
DOCS = ["docs/devops-guide.md", "docs/troubleshooting.md"]
errors = []
# Settings of features that are still being built: accepted in the documents while the binary
# does not know them; checked like the others as soon as it does.
PENDING = set()


def need(cond, msg):
    if not cond:
        errors.append(msg)


def text(doc):
    return open(os.path.join(REPO, doc), encoding="utf-8").read()


def code_spans(t):
    """Inline `code` and the lines of fenced blocks."""
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", t, flags=re.S))
    for block in re.findall(r"```[a-z]*\n(.*?)```", t, flags=re.S):
        spans += block.splitlines()
    return spans


options = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", REFERENCE, re.M))
help_env = set(re.findall(r"AGENTLENS_[A-Z0-9_]+", HELP))
help_flags = set(re.findall(r"--(?:\[no-\])?([a-z0-9-]+)", HELP)) | {"help", "status", "no-" + "lua-watch"}
help_flags |= {"no-" + f for f in list(help_flags)}
commands = set(re.findall(r"^  ([a-z-]+) ", HELP.split("Flags:")[0], re.M))
makefile = open(os.path.join(REPO, "Makefile"), encoding="utf-8").read()
targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))

what = sys.argv[1]
for doc in DOCS:
    t = text(doc)
    spans = code_spans(t)
    if what == "make":
        for target in re.findall(r"\bmake ([a-z][a-z0-9-]*)", "\n".join(spans)):
            need(target in targets, f"{doc}: `make {target}`: no such target in the Makefile")
    elif what == "cli":
        for line in spans:
            words = line.split()
            for i, w in enumerate(words[:-1]):
                if not re.fullmatch(r"(\.?/?build/|/)?agentlens", w) or not re.match(r"[a-z]", words[i + 1]):
                    continue
                # in command position: first, after VAR=value assignments, or after `--`
                if i > 0 and not (words[i - 1] == "--" or all(re.match(r"[A-Z_][A-Z0-9_]*=", x) for x in words[:i])):
                    continue
                cmd = words[i + 1]
                need(cmd in commands, f"{doc}: `{line.strip()}`: `{cmd}` is not an agentlens command")
                if cmd == "run":
                    continue  # the rest are the script's arguments
                for arg in words[i + 2:]:
                    if arg in ("|", "&&", ";", "||", ">", "2>&1"):
                        break
                    m = re.match(r"--([a-z][a-z0-9-]*)", arg)
                    if m:
                        need(m.group(1) in help_flags, f"{doc}: `{line.strip()}`: --{m.group(1)} is not a flag of agentlens --help")
        for var in set(re.findall(r"\bAGENTLENS_[A-Z0-9_]*[A-Z0-9]\b", t)):
            need(var in help_env or var in PENDING, f"{doc}: {var} is not a variable of agentlens --help")
        for key in set(re.findall(r"`((?:http|database|auth|jobs|import|lua|discovery|kubernetes)\.[a-z_.]+)`", t)):
            need(key in options or key in PENDING, f"{doc}: `{key}` is not an option of config-reference")
        for key in set(re.findall(r"`(log_level|log_format|data_dir|scripts_dir|lua_dir)`", t)):
            need(key in options, f"{doc}: `{key}` is not an option")
    elif what == "paths":
        for span in spans:
            for p in re.findall(r"(?<![\w./-])((?:examples|scripts|deploy|docs|lua|src|spec|migrations|\.github)/[\w./-]*)", span):
                p = p.rstrip(".")
                if "<" in p or "*" in p or p.endswith("/NAME.lua") or \
                        (p.startswith("deploy/") and not p.startswith("deploy/helm")):  # kubectl deploy/NAME
                    continue
                need(os.path.exists(os.path.join(REPO, p)), f"{doc}: `{p}` does not exist")
        for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", t):
            if "://" in link:
                continue
            need(os.path.exists(os.path.join(REPO, "docs", link)), f"{doc}: link {link} does not resolve")
    else:
        errors.append(f"unknown check {what}")

for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
}

@test "README and the docs link the DevOps guide and the troubleshooting guide" {
	grep -q '](docs/devops-guide.md)\|`docs/devops-guide.md`' "$REPO/README.md"
	grep -q '](docs/troubleshooting.md)\|`docs/troubleshooting.md`' "$REPO/README.md"
	grep -q '](troubleshooting.md)' "$REPO/docs/devops-guide.md"
	grep -q '](devops-guide.md)' "$REPO/docs/troubleshooting.md"
}

@test "every make target the guides name exists" {
	check make
}

@test "every agentlens command, flag, AGENTLENS_* variable and option key the guides name is the binary's" {
	check cli
}

@test "every path and relative link in the guides exists" {
	check paths
}

@test "the troubleshooting guide's password reset gives the admin a new password that logs in" {
	dir=$BATS_TEST_TMPDIR
	"$PY" - "$REPO/docs/troubleshooting.md" >"$dir/reset-password.lua" <<'PY'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
blocks = [b for b in re.findall(r"```lua\n(.*?)```", t, re.S) if "reset-password.lua" in b]
assert len(blocks) == 1, "one lua block with reset-password.lua"
print(re.sub(r"^  ", "", blocks[0], flags=re.M), end="")
PY
	port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$dir/data"
	serve() {
		env -i PATH=/usr/bin:/bin AGENTLENS_DATA_DIR="$dir/data" "$@" "$AGENTLENS_BIN" serve \
			--bind 127.0.0.1 --port "$port" --http-shutdown-timeout 1s >>"$dir/server.log" 2>&1 3>&- &
		SERVER_PID=$!
		for ((i = 0; i < 100; i++)); do
			curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return 0
			sleep 0.1
		done
		cat "$dir/server.log"
		return 1
	}
	login() {
		curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			-d "$(jq -nc --arg p "$1" '{username: "admin", password: $p}')" "http://127.0.0.1:$port/api/v1/auth/login"
	}
	serve AGENTLENS_ADMIN_PASSWORD='Initial-Passw0rd!'
	assert_equal "$(login 'Initial-Passw0rd!')" 200

	# while the server runs, as the guide says it may
	run env -i PATH=/usr/bin:/bin AGENTLENS_DATA_DIR="$dir/data" "$AGENTLENS_BIN" run "$dir/reset-password.lua" admin
	assert_success
	assert_output --regexp '^new password for admin: .{20}$'
	password=${output#new password for admin: }
	assert_equal "$(login 'Initial-Passw0rd!')" 401
	assert_equal "$(login "$password")" 200

	run env -i PATH=/usr/bin:/bin AGENTLENS_DATA_DIR="$dir/data" "$AGENTLENS_BIN" run "$dir/reset-password.lua" nobody
	assert_failure
	assert_output --partial 'no user nobody'
}
