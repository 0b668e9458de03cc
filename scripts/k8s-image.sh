#!/usr/bin/env bash
# Build the server's container image with no registry, into the Docker engine at DOCKER_HOST.
#
#   scripts/k8s-image.sh [IMAGE]        (default porter-sandbox/server:dev)
#
# The image is what the kubernetes runtime's volume helpers run (--kube-helper-image) and what
# deploy/kubernetes runs as the server: a root filesystem made of this Debian host's own python3.11
# (the files `dpkg -L` lists for python3.11-minimal, libpython3.11-stdlib and the libraries they
# depend on), plus the project's wheel with its `server` and `kubernetes` extras installed by pip,
# imported with `docker import`. No shell, no package manager; processes run as uid 65532.
#
# Needs: Debian with python3.11 installed (apt-get install python3.11), docker, and .venv (make
# install) for pip. Prints the image's name on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${1:-porter-sandbox/server:dev}"
python="${PYTHON_FOR_IMAGE:-python3.11}"
pip=(.venv/bin/python -m pip)

command -v dpkg-query >/dev/null || { echo "k8s-image: needs Debian (dpkg)" >&2; exit 1; }
dpkg-query -W python3.11-minimal libpython3.11-stdlib >/dev/null 2>&1 || {
    echo "k8s-image: install Debian's python: apt-get install python3.11" >&2
    exit 1
}
command -v docker >/dev/null || { echo "k8s-image: docker not found; apt-get install docker.io" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{tmp,etc,volume,data,usr/bin} "$root/usr/lib/python3/dist-packages"
chmod 1777 "$root/tmp"

# Debian's python3.11 and the libraries it needs, as the packages install them (no dpkg, no perl).
packages=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances python3.11-minimal libpython3.11-stdlib 2>/dev/null |
    grep -v '^ ' | sort -u | grep -Ev '^(dpkg|install-info|tar|perl.*|libperl.*|mailcap|mime-support)$')
for package in $packages; do
    dpkg-query -W "$package" >/dev/null 2>&1 || continue
    dpkg -L "$package" | while read -r path; do
        [[ -f "$path" || -L "$path" ]] && printf '%s\n' "${path#/}"
    done
done | sort -u >"$work/files"
# Debian's usrmerge: /lib, /lib64, /bin and /sbin are links into /usr, in the image as on the host.
for link in lib lib64 bin sbin; do
    if [[ -L "/$link" ]]; then
        target="$(readlink "/$link")"
        mkdir -p "$root/${target#/}"
        ln -s "$target" "$root/$link"
    fi
done
tar -C / --no-recursion -cf - -T "$work/files" | tar -C "$root" -xf -
ln -sf python3.11 "$root/usr/bin/python3"

# The project and its dependencies, for this python (same minor version as the venv's).
"${pip[@]}" wheel --quiet --no-deps --wheel-dir "$work/wheel" . >/dev/null
wheel=$(ls "$work"/wheel/porter_sandbox-*.whl)
"${pip[@]}" install --quiet --no-compile --target "$root/usr/lib/python3/dist-packages" "${wheel}[server,kubernetes]"
# Compile once, here, so a read-only root filesystem never wants to write bytecode.
"$python" -m compileall -q -j 0 "$root/usr/lib/python3/dist-packages" >/dev/null 2>&1 || true
"$root/usr/bin/python3.11" --version >/dev/null 2>&1 || true

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
nonroot:x:65532:65532:nonroot:/tmp:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
chown 65532:65532 "$root/data" "$root/volume"

tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'USER 65532:65532' \
    --change 'WORKDIR /data' \
    --change 'ENTRYPOINT ["python3", "-m", "porter_sandbox_server"]' \
    --change 'CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]' \
    - "$image" >/dev/null
echo "$image"
