#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The container image (Dockerfile). No Docker engine runs on these machines, so instead of
# building the image this checks the Dockerfile's structure, runs the Dockerfile's own runtime
# staging script (the STAGE_RUNTIME heredoc) on the locally built binary, and checks that every
# library the binary links is either staged or one of glibc's (which the distroless base image
# has), and that the staged files plus glibc alone run the binary (chroot, as root).
#
#   bats spec/release/test_dockerfile.bats        (ctest -L release; AGENTLENS_BIN=the binary)

# The files of Debian's libc6 package the binary may link. gcr.io/distroless/base-debian12 is
# built from that same package of Debian 12 (the release of the build stage), so the image keeps
# the base image's copy: ld.so and libc must come from one glibc build, and the loader, libc, libm
# and friends are ABI-compatible within a Debian release. Everything else ldd lists is staged.
# (linux-vdso.so.1 is provided by the kernel and has no file.)
GLIBC_FROM_BASE=(
	ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libresolv.so.2
	libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1 libanl.so.1
	libnss_files.so.2 libnss_dns.so.2
)

setup_file() {
	load common
	release_repo_and_binary
	PY=$(command -v python3) || {
		echo "python3 is needed" >&2
		return 1
	}
	export PY

	# The Dockerfile's staging script, run as the build stage runs it, on the local binary.
	sed -n "/^COPY .*<<'STAGE_RUNTIME' /,/^STAGE_RUNTIME\$/p" "$REPO/Dockerfile" |
		sed '1d;$d' >"$BATS_FILE_TMPDIR/stage.sh"
	[ -s "$BATS_FILE_TMPDIR/stage.sh" ] || {
		echo "Dockerfile: no COPY <<'STAGE_RUNTIME' heredoc" >&2
		return 1
	}
	export STAGE_OUT=$BATS_FILE_TMPDIR/stage
	STAGE_BIN=$AGENTLENS_BIN STAGE_DIR=$STAGE_OUT bash "$BATS_FILE_TMPDIR/stage.sh" \
		>"$BATS_FILE_TMPDIR/stage.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/stage.log" >&2
		return 1
	}
}

teardown() {
	if [ -n "${SERVER_PID:-}" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
}

# check NAME: one named structural check of the Dockerfile (the Python program below).
check() {
	"$PY" - "$@" <<'PY'
import json, os, re, shlex, sys

REPO = os.environ["REPO"]
errors = []


def need(cond, msg):
    if not cond:
        errors.append(msg)


def parse(path):
    """Instructions of a Dockerfile: continuations joined, heredoc bodies attached."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        line, start = lines[i], i + 1
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        text = line
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            if lines[i].lstrip().startswith("#"):
                continue
            text = text.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        kw, _, rest = text.strip().partition(" ")
        heredocs = {}
        for m in re.finditer(r"<<-?(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1", rest):
            body = []
            while i < len(lines) and lines[i] != m.group(2):
                body.append(lines[i])
                i += 1
            i += 1
            heredocs[m.group(2)] = "\n".join(body)
        out.append({"line": start, "kw": kw.upper(), "args": rest.strip(), "heredocs": heredocs})
    return out


def flags_and_rest(args):
    """--flag=value options first, then the rest (shell words)."""
    words = shlex.split(args, posix=True)
    flags = {}
    while words and words[0].startswith("--"):
        k, _, v = words.pop(0)[2:].partition("=")
        flags[k] = v
    return flags, words


instrs = parse(os.path.join(REPO, "Dockerfile"))
global_args, stages = {}, []
for ins in instrs:
    if ins["kw"] == "FROM":
        flags, words = flags_and_rest(ins["args"])
        image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: global_args.get(m.group(1) or m.group(2), m.group(0)), words[0])
        name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
        stages.append({"name": name, "image": image, "raw_image": words[0], "platform": flags.get("platform"), "instrs": []})
    elif not stages:
        if ins["kw"] == "ARG":
            k, _, v = ins["args"].partition("=")
            global_args[k] = v
    else:
        stages[-1]["instrs"].append(ins)
by_name = {s["name"]: s for s in stages}


def of(stage, kw):
    return [i for i in by_name.get(stage, {"instrs": []})["instrs"] if i["kw"] == kw]


def stage_args(stage):
    res = {}
    for i in of(stage, "ARG"):
        k, _, v = i["args"].partition("=")
        res[k] = v
    return res


def workdir(stage):
    w = of(stage, "WORKDIR")
    return w[-1]["args"] if w else "/"


what = sys.argv[1]

if what == "stages":
    need([s["name"] for s in stages] == ["web", "build", "runtime"],
         f"three stages web, build, runtime in that order; found {[s['name'] for s in stages]}")
    if len(stages) == 3:
        need(by_name["web"]["image"].startswith("node:"), f"web stage: a node image, not {by_name['web']['image']}")
        need(by_name["web"]["platform"] == "$BUILDPLATFORM", "web stage: --platform=$BUILDPLATFORM (its output is architecture-independent)")
        need(re.fullmatch(r"debian:(12|bookworm)(-slim)?", by_name["build"]["image"]) is not None,
             f"build stage: Debian 12, not {by_name['build']['image']}")
        need(by_name["runtime"]["raw_image"] == "gcr.io/distroless/base-debian12:nonroot",
             f"runtime stage: literally gcr.io/distroless/base-debian12:nonroot, not {by_name['runtime']['raw_image']}")

elif what == "web":
    need(workdir("web") == "/src/web", "web stage: WORKDIR /src/web")
    need(any(flags_and_rest(c["args"])[1][:1] == ["web/"] for c in of("web", "COPY")), "web stage: COPY web/")
    runs = " ".join(r["args"] for r in of("web", "RUN"))
    for frag in ("[ -f package.json ]", "npm ci", "npm run build", "mkdir -p dist"):
        need(frag in runs, f"web stage: RUN has `{frag}` (build only when web/package.json exists, dist always)")

elif what == "build":
    deps = open(os.path.join(REPO, "scripts/deps.sh"), encoding="utf-8").read()
    m = re.search(r"^BUILD_PKGS=\(\n(.*?)^\)", deps, re.S | re.M)
    need(m is not None, "scripts/deps.sh: BUILD_PKGS=( ... ) not found")
    build_pkgs = set(m.group(1).split()) if m else set()
    installs = [r["args"] for r in of("build", "RUN") if "apt-get install" in r["args"]]
    need(len(installs) == 1, "build stage: one RUN with apt-get install")
    if installs:
        words = set(installs[0].split())
        # build-essential is gcc + libc6-dev + make (+ g++, dpkg-dev); luajit is the CLI, unused;
        # Node.js and npm build the web UI, which the web stage does (the C build embeds its dist).
        wanted = (build_pkgs - {"build-essential", "luajit", "nodejs", "npm"}) | {"gcc", "libc6-dev", "make"}
        need(not wanted - words, f"build stage: apt-get install lacks {sorted(wanted - words)} (scripts/deps.sh BUILD_PKGS)")
        need("--no-install-recommends" in words, "build stage: apt-get install --no-install-recommends")
        need("rm -rf /var/lib/apt/lists/*" in installs[0], "build stage: rm -rf /var/lib/apt/lists/* in the same RUN")
    need(workdir("build") == "/src", "build stage: WORKDIR /src")
    instrs_b = by_name["build"]["instrs"]
    cm = [k for k, i in enumerate(instrs_b) if i["kw"] == "RUN" and "cmake -S . -B build" in i["args"]]
    need(len(cm) == 1, "build stage: one RUN configuring with `cmake -S . -B build`")
    if cm:
        run = instrs_b[cm[0]]["args"]
        for frag in ("-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF", "cmake --build build",
                     "dpkg-buildflags", "strip build/agentlens", "build/agentlens check-config"):
            need(frag in run, f"build stage: the build RUN has `{frag}`")
        web_copy = [k for k, i in enumerate(instrs_b) if i["kw"] == "COPY"
                    and flags_and_rest(i["args"])[0].get("from") == "web"]
        need(len(web_copy) == 1 and web_copy[0] < cm[0], "build stage: COPY --from=web (web/dist) before CMake runs")
        if web_copy:
            f, w = flags_and_rest(instrs_b[web_copy[0]]["args"])
            need(w == ["/src/web/dist/", "web/dist/"], f"build stage: COPY --from=web /src/web/dist/ web/dist/, not {w}")
    # Everything the top-level CMakeLists.txt reads is copied (spec/ only with BUILD_TESTING).
    cml = open(os.path.join(REPO, "CMakeLists.txt"), encoding="utf-8").read()
    used = set(re.findall(r"\$\{CMAKE_SOURCE_DIR\}/([A-Za-z0-9_.\-/]+)", cml))
    used |= set(re.findall(r"^\s+(src/[A-Za-z0-9_./\-]+\.c)\s*$", cml, re.M))
    used |= set(re.findall(r"add_subdirectory\(([^)\s]+)\)", cml))
    copied = {"web/dist"}
    for c in of("build", "COPY"):
        f, w = flags_and_rest(c["args"])
        if "from" not in f:
            copied.update(x.rstrip("/") for x in w[:-1] if not x.startswith("<<"))
    for p in sorted({u.rstrip("/") for u in used}):
        if p == "spec" or p.startswith("spec/"):
            continue
        need(any(p == c or p.startswith(c + "/") for c in copied),
             f"build stage: CMakeLists.txt uses {p}, which no COPY brings in ({sorted(copied)})")

elif what == "staging":
    a = stage_args("build")
    binary = workdir("build").rstrip("/") + "/build/agentlens"
    need(a.get("STAGE_BIN") == binary, f"build stage: ARG STAGE_BIN={binary} (the binary CMake builds), not {a.get('STAGE_BIN')}")
    need(a.get("STAGE_DIR", "").startswith("/"), "build stage: ARG STAGE_DIR=<absolute path>")
    instrs_b = by_name["build"]["instrs"]
    pos = {k: i for k, i in enumerate(instrs_b) if i["kw"] == "COPY" and "STAGE_RUNTIME" in i["heredocs"]}
    need(len(pos) == 1, "build stage: one COPY <<'STAGE_RUNTIME' <script> heredoc")
    cm = [k for k, i in enumerate(instrs_b) if i["kw"] == "RUN" and "cmake --build build" in i["args"]]
    if pos and cm:
        k = next(iter(pos))
        body = pos[k]["heredocs"]["STAGE_RUNTIME"]
        need(body.startswith("#!/bin/bash\n"), "staging script: a bash script")
        script = pos[k]["args"].split()[-1]
        runs_it = [j for j, i in enumerate(instrs_b) if i["kw"] == "RUN" and i["args"].split()[-1:] == [script]]
        need(len(runs_it) == 1 and runs_it[0] > cm[0] and runs_it[0] > k,
             f"build stage: RUN {script} after the build")
        need(all(j < runs_it[0] for j, i in enumerate(instrs_b) if i["kw"] == "ARG" and i["args"].startswith("STAGE_"))
             if runs_it else True, "build stage: ARG STAGE_* before the staging RUN")
        for frag in ('bin=${STAGE_BIN:?}', 'out=${STAGE_DIR:?}', 'ldd "$bin"', 'cp -L',
                     '"$out/volume/data"', "status.d", "libc6"):
            need(frag in body, f"staging script: has `{frag}`")
    d = a.get("STAGE_DIR", "/stage")
    copies = [flags_and_rest(c["args"]) for c in of("runtime", "COPY")]
    need(len(copies) == 2, f"runtime stage: two COPY (rootfs, volume), found {len(copies)}")
    need(any(f.get("from") == "build" and w == [d + "/rootfs/", "/"] and "chown" not in f for f, w in copies),
         f"runtime stage: COPY --from=build {d}/rootfs/ / (root-owned)")
    need(any(f.get("from") == "build" and w == [d + "/volume/", "/"] and f.get("chown") == "65532:65532" for f, w in copies),
         f"runtime stage: COPY --from=build --chown=65532:65532 {d}/volume/ /")

elif what == "runtime":
    kws = [i["kw"] for i in by_name["runtime"]["instrs"]]
    for bad in ("RUN", "ADD", "SHELL", "HEALTHCHECK", "ONBUILD"):
        need(bad not in kws, f"runtime stage: no {bad} (distroless has no shell)")
    for c in of("runtime", "COPY"):
        need(flags_and_rest(c["args"])[0].get("from") == "build", f"runtime stage line {c['line']}: COPY only --from=build")
    users = of("runtime", "USER")
    need(users and users[-1]["args"] in ("65532", "65532:65532"),
         "runtime stage: USER 65532 (numeric, so Kubernetes runAsNonRoot can verify it)")
    need(any("8080" in e["args"].split() for e in of("runtime", "EXPOSE")), "runtime stage: EXPOSE 8080")
    vols = []
    for v in of("runtime", "VOLUME"):
        vols += json.loads(v["args"]) if v["args"].startswith("[") else v["args"].split()
    need("/data" in vols, "runtime stage: VOLUME /data")
    env = {}
    for e in of("runtime", "ENV"):
        for w in shlex.split(e["args"]):
            k, _, v = w.partition("=")
            env[k] = v
    need(env.get("AGENTLENS_DATA_DIR") == "/data", "runtime stage: ENV AGENTLENS_DATA_DIR=/data")
    known = set(os.environ.get("KNOWN_ENV", "").split())
    for k in env:
        need(not k.startswith("AGENTLENS_") or k in known, f"runtime stage: ENV {k} is not an option of agentlens --help")
    ep = of("runtime", "ENTRYPOINT")
    need(ep and ep[-1]["args"].startswith("[") and json.loads(ep[-1]["args"]) == ["/agentlens"],
         'runtime stage: ENTRYPOINT ["/agentlens"] (exec form: there is no shell)')
    for c in of("runtime", "CMD"):
        need(c["args"].startswith("["), "runtime stage: CMD in exec form (there is no shell)")
    text = open(os.path.join(REPO, "Dockerfile"), encoding="utf-8").read()
    need("Kubernetes probes" in text and "HEALTHCHECK" in text,
         "Dockerfile: a comment says why there is no HEALTHCHECK (Kubernetes probes instead)")

elif what == "context":
    ign = [l.strip() for l in open(os.path.join(REPO, ".dockerignore"), encoding="utf-8")
           if l.strip() and not l.lstrip().startswith("#")]
    need(ign[:1] == ["*"], ".dockerignore: starts with * (an allowlist)")
    allowed = {l[1:].rstrip("/") for l in ign if l.startswith("!")}
    for s in stages:
        for c in of(s["name"], "COPY"):
            f, w = flags_and_rest(c["args"])
            if "from" in f:
                continue
            for src in w[:-1]:
                if src.startswith("<<"):
                    continue  # a heredoc, not a file of the context
                top = src.rstrip("/").split("/")[0]
                need(top in allowed, f".dockerignore: {s['name']} stage copies {src}, but !{top} is missing")
    for sub in ("web/node_modules/", "web/dist/"):
        need(sub in ign and "!web/" in ign and ign.index(sub) > ign.index("!web/"),
             f".dockerignore: {sub} excluded after !web/")

else:
    errors.append(f"unknown check {what}")

for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
}

@test "Dockerfile: three stages, web (node) -> build (Debian 12) -> runtime (distroless nonroot)" {
	check stages
}

@test "Dockerfile: the web stage runs npm ci and the Vite build only when web/package.json exists" {
	check web
}

@test "Dockerfile: the build stage installs the -dev packages, copies web/dist, builds for release" {
	check build
}

@test "Dockerfile: runtime stage has no shell use, runs as 65532, exposes 8080, keeps data in /data" {
	KNOWN_ENV=$("$AGENTLENS_BIN" --help | grep -o 'AGENTLENS_[A-Z0-9_]*' | sort -u | tr '\n' ' ') \
		check runtime
}

@test "Dockerfile: the runtime stage copies what the staging script writes for the built binary" {
	check staging
}

@test ".dockerignore: an allowlist that lets in everything the Dockerfile copies and no local state" {
	check context
}

@test "staging: every library the binary links is copied, or is glibc from the base image" {
	local ldd_paths lib base n=0
	cat "$BATS_FILE_TMPDIR/stage.log"
	shellcheck "$BATS_FILE_TMPDIR/stage.sh"
	if ldd "$AGENTLENS_BIN" | grep 'not found'; then
		return 1
	fi
	ldd_paths=$(ldd "$AGENTLENS_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
	[ -n "$ldd_paths" ]
	for lib in $ldd_paths; do
		n=$((n + 1))
		if grep -qx "$lib" "$STAGE_OUT/from-base.txt"; then
			base=$(basename "$lib")
			[[ " ${GLIBC_FROM_BASE[*]} " == *" $base "* ]] || {
				echo "$lib is left to the base image but is not in GLIBC_FROM_BASE" >&2
				return 1
			}
			continue
		fi
		read -r _ dest pkg < <(grep "^$lib " "$STAGE_OUT/copied.txt") || {
			echo "$lib (from ldd) is not staged" >&2
			return 1
		}
		[ -f "$STAGE_OUT/rootfs$dest" ] && [ ! -L "$STAGE_OUT/rootfs$dest" ] && [ -s "$STAGE_OUT/rootfs$dest" ] || {
			echo "$lib: staged file $dest is missing, empty or a symlink" >&2
			return 1
		}
		# the file is found under the name the loader asks for
		[ "$(basename "$dest")" = "$(basename "$lib")" ]
		soname=$(readelf -d "$STAGE_OUT/rootfs$dest" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
		[ -z "$soname" ] || [ "$soname" = "$(basename "$lib")" ] || {
			echo "$lib: SONAME $soname differs from the file name" >&2
			return 1
		}
		grep -q '^Status: install ok installed' "$STAGE_OUT/rootfs/var/lib/dpkg/status.d/$pkg" || {
			echo "$lib: no dpkg record for $pkg in status.d" >&2
			return 1
		}
	done
	# and nothing else: the staged set is exactly ldd's closure
	[ "$(($(wc -l <"$STAGE_OUT/copied.txt") + $(wc -l <"$STAGE_OUT/from-base.txt")))" -eq "$n" ]
	# the libraries named in CMakeLists.txt's pkg-config list are among the staged ones
	for so in libluajit-5.1 libmicrohttpd libyaml-0 libcurl libsqlite3 libpq libjwt libcrypt; do
		grep -q "/$so\.so\." "$STAGE_OUT/copied.txt" || {
			echo "$so is not staged" >&2
			return 1
		}
	done
	[ -x "$STAGE_OUT/rootfs/agentlens" ]
	[ -d "$STAGE_OUT/volume/data" ]
}

@test "binary: no runtime file dependencies beyond the shared libraries (Lua and assets embedded)" {
	# no library search path baked in, the standard loader
	if readelf -d "$AGENTLENS_BIN" | grep -E '\((RPATH|RUNPATH)\)'; then
		return 1
	fi
	interp=$(readelf -l "$AGENTLENS_BIN" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
	grep -qx "$interp" "$STAGE_OUT/from-base.txt"
	# strings of the loaded sections (debug info stripped): no path into a file system tree the
	# image does not have, nor into this checkout or its build tree, nor a Lua search path
	strip -o "$BATS_TEST_TMPDIR/agentlens" "$AGENTLENS_BIN"
	strings -n 4 "$BATS_TEST_TMPDIR/agentlens" >"$BATS_TEST_TMPDIR/strings"
	local bad
	# (a --coverage build, as in CI, names its .gcda files: written at exit, never read)
	# (the service account directory is mounted by Kubernetes into every pod, not the image's)
	grep -v -e '\.gcda$' -e '/var/run/secrets/kubernetes\.io/serviceaccount' "$BATS_TEST_TMPDIR/strings" \
		>"$BATS_TEST_TMPDIR/strings.runtime" || true
	bad=$(grep -E '(^|[^A-Za-z0-9_.])/(usr|etc|opt|home|root|srv|var|lib|lib64|share|work|build)/' \
		"$BATS_TEST_TMPDIR/strings.runtime" | grep -vxF "$interp" || true)
	bad+=$(grep -F -e "$REPO" -e '?.lua' -e '?.so' "$BATS_TEST_TMPDIR/strings.runtime" || true)
	[ -z "$bad" ] || {
		echo "file paths in the binary:" >&2
		echo "$bad" >&2
		return 1
	}
}

@test "staged root file system (+ glibc only) runs the binary as uid 65532: check-config, /healthz" {
	[ "$(id -u)" -eq 0 ] || skip "chroot needs root"
	command -v chroot >/dev/null || [ -x /usr/sbin/chroot ] || skip "no chroot"
	local root=$BATS_TEST_TMPDIR/root chroot_bin
	chroot_bin=$(command -v chroot || echo /usr/sbin/chroot)
	cp -a "$STAGE_OUT/rootfs" "$root"
	cp -a "$STAGE_OUT/volume/data" "$root/data"
	chown 65532:65532 "$root/data"
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done <"$STAGE_OUT/from-base.txt"
	mkdir -m 1777 "$root/tmp"
	# No /etc, /usr/share/lua, /proc or /dev in there: only what the image would hold (and less).
	run env -i AGENTLENS_DATA_DIR=/data AGENTLENS_LOG_FORMAT=json \
		"$chroot_bin" --userspec=65532:65532 "$root" /agentlens check-config
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'"origin":"embedded"'* ]]

	env -i AGENTLENS_DATA_DIR=/data AGENTLENS_LOG_FORMAT=json \
		"$chroot_bin" --userspec=65532:65532 "$root" /agentlens serve --port 0 \
		>"$BATS_TEST_TMPDIR/serve.log" 2>&1 &
	SERVER_PID=$!
	local port=''
	for _ in $(seq 100); do
		port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$BATS_TEST_TMPDIR/serve.log" | grep -o '[0-9]*$' || true)
		[ -n "$port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/serve.log"
	[ -n "$port" ]
	run curl -fsS -m 5 "http://127.0.0.1:$port/healthz"
	echo "$output"
	[ "$status" -eq 0 ]
	# the SQLite database went into the volume, as the unprivileged user
	[ "$(stat -c %u "$root/data/agentlens.db")" -eq 65532 ]
}

@test "Makefile: docker-build and docker-scan targets" {
	run make -s -n -C "$REPO" docker-build
	[ "$status" -eq 0 ]
	[[ $output == *"docker build -t agentlens:local ."* ]]
	run make -s -n -C "$REPO" docker-scan
	[ "$status" -eq 0 ]
	[[ $output == *"trivy image"*"agentlens:local"* ]]
	if ! command -v trivy >/dev/null; then
		run make -s -C "$REPO" docker-scan
		[ "$status" -ne 0 ]
		[[ $output == *"trivy is not installed"* ]]
	fi
}
