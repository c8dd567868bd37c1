# syntax=docker/dockerfile:1
# SPDX-License-Identifier: Apache-2.0
# AgentLens container image, three stages:
#   web      Node: npm ci and the Vite build of web/ into web/dist (skipped without web/package.json)
#   build    Debian 12: CMake release build of the binary (web/dist embedded: no Node.js here), then
#            the runtime staging: the binary plus every shared library ldd resolves for it
#   runtime  gcr.io/distroless/base-debian12:nonroot: no shell, no package manager, uid 65532
#
#   docker build -t agentlens:local .            (make docker-build)
#   docker build --build-arg VERSION=1.2.3 .     (the version compiled into the binary)
# BuildKit is required (the default builder since Docker 23): heredocs, --platform=$BUILDPLATFORM.
#
# spec/release/test_dockerfile.bats checks this file's structure and runs the staging script
# below (STAGE_RUNTIME) against a locally built binary.

ARG DEBIAN_IMAGE=debian:12-slim
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- 1. web ------------------------------------------------------------------------------
# The output (JavaScript, CSS, HTML) does not depend on the target architecture: build it once,
# natively, even for a multi-platform image.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/ ./
RUN if [ -f package.json ]; then \
		npm ci --no-audit --no-fund && npm run build; \
	else \
		echo "web/package.json not found: the binary embeds the fallback page (cmake/web-fallback)"; \
	fi; \
	mkdir -p dist

# ---- 2. build ----------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS build
# The -dev packages of scripts/deps.sh (BUILD_PKGS); dpkg-dev for dpkg-buildflags.
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		gcc libc6-dev make cmake pkg-config dpkg-dev \
		libluajit-5.1-dev libmicrohttpd-dev libsqlite3-dev libpq-dev libjwt-dev \
		libcurl4-openssl-dev libyaml-dev libcrypt-dev \
	&& rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
COPY lua/ lua/
COPY migrations/ migrations/
COPY --from=web /src/web/dist/ web/dist/

# Release build with Debian's hardening flags (stack protector, FORTIFY_SOURCE, full RELRO,
# bind-now; PIE is gcc's default), without the tests; stripped (ENABLE_EXPORTS keeps the
# dynamic symbols). An empty VERSION keeps the version of CMakeLists.txt.
ARG VERSION=
RUN export DEB_BUILD_MAINT_OPTIONS=hardening=+all \
	&& export CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
		LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
	&& cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
		${VERSION:+-DAGENTLENS_VERSION=$VERSION} \
	&& cmake --build build -j"$(nproc)" \
	&& strip build/agentlens \
	&& build/agentlens version \
	&& build/agentlens check-config >/dev/null

# Runtime staging. The binary needs no other file at run time: its Lua modules, migrations and
# web assets are embedded. What it does need is every shared library the dynamic loader resolves
# for it, which is exactly what ldd lists (the whole closure, not only DT_NEEDED). Each one is
# copied, under its SONAME, to the path its Debian package ships it at, except the files of
# Debian's libc6 (ld.so, libc, libm, libresolv, ...): the runtime base image is built from that
# same libc6 of Debian 12, and two glibc builds must not be mixed. For Trivy, each copied
# package also gets its dpkg record in /var/lib/dpkg/status.d/ (the distroless package
# database), so the scan of the image sees libcurl, libpq, ... and not only the base image.
# The script is a file (not a RUN heredoc on stdin, which a command reading stdin could eat);
# spec/release/test_dockerfile.bats runs the same text on the locally built binary.
#   STAGE_BIN  the binary built above
#   STAGE_DIR  output: rootfs/ (root-owned, copied to /), volume/data/ (owned by 65532)
ARG STAGE_BIN=/src/build/agentlens
ARG STAGE_DIR=/stage
COPY --chmod=0755 <<'STAGE_RUNTIME' /usr/local/bin/stage-runtime
#!/bin/bash
set -euo pipefail
bin=${STAGE_BIN:?} out=${STAGE_DIR:?}
rootfs=$out/rootfs
mkdir -p "$rootfs/var/lib/dpkg/status.d" "$out/volume/data"
chmod 0700 "$out/volume/data"
install -m 0755 "$bin" "$rootfs/agentlens"
: >"$out/copied.txt"
: >"$out/from-base.txt"

ldd_out=$(ldd "$bin")
if grep -q 'not found' <<<"$ldd_out"; then
	echo "stage: unresolved libraries:" >&2
	grep 'not found' <<<"$ldd_out" >&2
	exit 1
fi
# "name => /path (addr)" and "/path (addr)" (the loader); linux-vdso has no file.
libs=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out" | sort -u)
[ -n "$libs" ] || { echo "stage: ldd listed no libraries for $bin" >&2; exit 1; }

for lib in $libs; do
	# The package that ships the file, and the path it ships it under: with merged /usr, ldd
	# may print /lib/... for a file dpkg knows as /usr/lib/... (or the reverse). The copy goes
	# to the package's own path, as installing the package would put it (distroless is not
	# /usr-merged; both multiarch directories are in the loader's default search path).
	pkg='' path=''
	for p in "$lib" "/usr$lib" "${lib#/usr}"; do
		if r=$(dpkg-query -S "$p" 2>/dev/null); then
			r=${r%%$'\n'*}
			pkg=${r%%: *} pkg=${pkg%%,*} path=$p
			break
		fi
	done
	[ -n "$pkg" ] || { echo "stage: no Debian package ships $lib" >&2; exit 1; }
	name=${pkg%%:*}
	if [ "$name" = libc6 ]; then
		echo "$lib" >>"$out/from-base.txt"
		continue
	fi
	mkdir -p "$rootfs$(dirname "$path")"
	cp -L "$lib" "$rootfs$path"
	echo "$lib $path $name" >>"$out/copied.txt"
	dpkg-query -s "$pkg" >"$rootfs/var/lib/dpkg/status.d/$name"
done
echo "stage: copied $(wc -l <"$out/copied.txt") libraries; $(wc -l <"$out/from-base.txt") come with the base image"
STAGE_RUNTIME
RUN /usr/local/bin/stage-runtime

# ---- 3. runtime --------------------------------------------------------------------------
# distroless base: glibc (libc6), libssl3, CA certificates, tzdata, /etc/passwd with nonroot
# (65532). No shell, hence no RUN below and no HEALTHCHECK (it would need a shell or curl):
# Kubernetes probes GET /healthz (liveness, startup) and /readyz (readiness) instead.
FROM gcr.io/distroless/base-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="AgentLens" \
	org.opencontainers.image.description="A live catalog of AI agents: A2A agents and MCP servers" \
	org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /stage/rootfs/ /
COPY --from=build --chown=65532:65532 /stage/volume/ /
ENV AGENTLENS_DATA_DIR=/data
USER 65532:65532
WORKDIR /data
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/agentlens"]
CMD ["serve"]
