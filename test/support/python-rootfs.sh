#!/usr/bin/env bash
# Makes a local base image holding a Python and a virtualenv at /opt/venv (first on PATH), for
# tests that build shard images with podman where no registry can be pulled from: this machine's
# own Python (its executable, standard library and the shared libraries they load) is copied into
# a root file system at the same paths, and `podman import` turns that into an image. Prints the
# image's name. An image made from the same Python by the same script is reused.
#   PYTHON (default /usr/bin/python3, else python3 on PATH): the Python to copy.
set -euo pipefail

PYTHON="${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}"
script_hash=$(sha256sum "$0" | cut -c1-12)
exe=$("$PYTHON" -c 'import sys; print(sys.executable)')
version=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
image="localhost/constellation-test-python:${version}-$(printf '%s %s' "$exe" "$script_hash" | sha256sum | cut -c1-12)"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# Copies files (following links) to the same absolute paths under the root file system.
put() {
  for file in "$@"; do
    mkdir -p "$root$(dirname "$file")"
    cp -L "$file" "$root$file"
  done
}

# The executable under every name on its way to the real file (python3 → python3.11), so that the
# virtualenv's link to it resolves inside the image.
link="$exe"
while [ -L "$link" ]; do
  put "$link"
  target=$(readlink "$link")
  case "$target" in /*) link="$target" ;; *) link="$(dirname "$link")/$target" ;; esac
done
put "$link"

# The standard library, without what an image never runs (tests, GUI, installed packages).
stdlib=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
mkdir -p "$root$stdlib"
tar -C "$stdlib" --exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./turtledemo \
  --exclude=./site-packages --exclude=./dist-packages --exclude=__pycache__ -cf - . | tar -C "$root$stdlib" -xf -
dynload=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("platstdlib"))')/lib-dynload
if [ -d "$dynload" ] && [ ! -d "$root$dynload" ]; then mkdir -p "$root$dynload" && cp -a "$dynload/." "$root$dynload/"; fi

# The shared libraries the executable and the standard library's extension modules load, and the loader.
libs=$( { ldd "$link"; find "$root$dynload" -name '*.so' -exec ldd {} \; ; } 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | sort -u)
# shellcheck disable=SC2086
put $libs
# And those the manylinux policy lets wheels expect of every Linux (pydantic-core, grpcio, pyarrow
# link them), as any Python base image has them.
for name in libgcc_s.so.1 libstdc++.so.6 libm.so.6 libdl.so.2 librt.so.1 libpthread.so.0 libutil.so.1 libresolv.so.2 libz.so.1; do
  # (awk reads to the end: an early exit would fail ldconfig with SIGPIPE, and pipefail the script)
  path=$("$(command -v ldconfig || echo /sbin/ldconfig)" -p | awk -v n="$name" '$1 == n && /x86-64|AArch64|64bit/ && !found { print $NF; found = 1 }')
  if [ -n "$path" ]; then put "$path"; fi
done

# What pip needs to reach an index over HTTPS, and the folders every process expects.
for certs in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  if [ -f "$certs" ]; then put "$certs"; fi
done
mkdir -p "$root/tmp" "$root/root" "$root/etc"
chmod 1777 "$root/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"

# The virtualenv, made by the same Python at the path it has in the image: its python links to the
# executable's path (copied above) and pip is installed into it; its scripts' #! lines name the
# host folder, so the image runs pip as `python -m pip`.
"$exe" -m venv "$root/opt/venv"

tar -C "$root" -cf - . | podman import --quiet \
  --change 'ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  - "$image" >/dev/null
echo "$image"
