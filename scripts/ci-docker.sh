#!/usr/bin/env bash
# Start a private Docker engine for the tests and build the tiny test image.
#
# Used by .ci/run before the tests (needs root, `docker.io` and `busybox-static`
# from Debian). No registry is reachable in CI, so the test image
# `porter-test/busybox:latest` is made locally by `docker import` of a busybox
# rootfs. The engine runs without a bridge or iptables rules: tests use the
# network `none` and talk to the engine only over its unix socket.
#
# Idempotent: an engine already answering on the socket is reused, and the
# image is built only when absent. The last line printed on stdout is
#     DOCKER_HOST=unix:///tmp/porter-ci-docker/docker.sock
# for the caller to export, e.g.
#     export "$(scripts/ci-docker.sh | tail -n 1)"
#
# Environment: PORTER_CI_DOCKER_DIR (default /tmp/porter-ci-docker) holds the
# socket, data-root, exec-root, pidfile and the engine's log (dockerd.log).
set -euo pipefail

dir="${PORTER_CI_DOCKER_DIR:-/tmp/porter-ci-docker}"
sock="$dir/docker.sock"
host="unix://$sock"
image="porter-test/busybox:latest"

mkdir -p "$dir"

engine_answers() {
    docker --host "$host" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if engine_answers; then
    echo "ci-docker: reusing the engine already answering on $host" >&2
else
    for tool in dockerd docker; do
        command -v "$tool" >/dev/null || {
            echo "ci-docker: $tool not found; install it with: apt-get install docker.io" >&2
            exit 1
        }
    done
    # A stale pidfile of a dead engine makes dockerd refuse to start.
    if [[ -f "$dir/docker.pid" ]] && ! kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then
        rm -f "$dir/docker.pid"
    fi
    rm -f "$sock"
    echo "ci-docker: starting dockerd on $host (log: $dir/dockerd.log)" >&2
    setsid nohup dockerd \
        --bridge=none --iptables=false --ip-masq=false \
        --host "$host" \
        --data-root "$dir/data" \
        --exec-root "$dir/exec" \
        --pidfile "$dir/docker.pid" \
        >"$dir/dockerd.log" 2>&1 </dev/null &
    # Bounded wait: 60 s in steps of 0.5 s.
    for _ in $(seq 1 120); do
        engine_answers && break
        sleep 0.5
    done
    if ! engine_answers; then
        echo "ci-docker: dockerd did not answer on $host within 60 s; its log:" >&2
        tail -n 40 "$dir/dockerd.log" >&2 || true
        exit 1
    fi
fi

if docker --host "$host" image inspect "$image" >/dev/null 2>&1; then
    echo "ci-docker: image $image already present" >&2
else
    busybox="$(command -v busybox || true)"
    [[ -n "$busybox" ]] || {
        echo "ci-docker: busybox not found; install it with: apt-get install busybox-static" >&2
        exit 1
    }
    rootfs="$(mktemp -d)"
    trap 'rm -rf "$rootfs"' EXIT
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/workspace" "$rootfs/root" "$rootfs/etc"
    chmod 1777 "$rootfs/tmp"
    cp "$busybox" "$rootfs/bin/busybox"
    # One symlink per applet, so `sh`, `sleep`, `cat`... resolve on PATH.
    for applet in $("$rootfs/bin/busybox" --list); do
        [[ -e "$rootfs/bin/$applet" ]] || ln -s busybox "$rootfs/bin/$applet"
    done
    echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
    echo "root:x:0:" >"$rootfs/etc/group"
    echo "ci-docker: importing $image from $busybox" >&2
    tar -C "$rootfs" -c . | docker --host "$host" import \
        --change 'ENV PATH=/bin' \
        --change 'CMD ["sh"]' \
        - "$image" >/dev/null
fi

echo "DOCKER_HOST=$host"
