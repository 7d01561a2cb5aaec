#!/usr/bin/env bash
# Builds the Coral container image from the binaries in build/ (scripts/build.sh).
# Stages a small context in build/image/ (bin/, install-cni.sh, Containerfile), checks that
# every shared library the binaries load comes from a package the Containerfile installs,
# then runs podman or docker. Without either, it stops after staging and says so.
#
# Usage: scripts/build-image.sh [IMAGE]   (default localhost/coral:0.1.0, the manifests' name)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
image=${1:-localhost/coral:0.1.0}
build=${CORAL_BUILD_DIR:-$root/build}
context="$build/image"

binaries=(agent/corald cni/coral-cni ipam/coral-ipam ctl/coralctl bgp/coral-bgpd
  controller/coral-controller)
rm -rf "$context"
mkdir -p "$context/bin"
missing=()
for b in "${binaries[@]}"; do
  if [ -x "$build/$b" ]; then
    cp "$build/$b" "$context/bin/"
  else
    missing+=("$b")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-image: not built in $build: ${missing[*]}" >&2
  echo "build-image: run scripts/build.sh first (coral-controller needs controller/)" >&2
  exit 1
fi
# RelWithDebInfo binaries carry their debug info (~470 MB for the six): the image does not.
strip --strip-debug "$context"/bin/*
cp "$root/manifests/install-cni.sh" "$context/"
cp "$root/Containerfile" "$context/"

# Each library the binaries load must come from a package the Containerfile installs.
# shellcheck disable=SC1003  # tr deletes the line-continuation backslashes
packages=$(sed -n '/apt-get install/,/rm -rf/p' "$root/Containerfile" | tr ' ' '\n' | tr -d '\\' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
unlisted=()
for lib in $(ldd "$context"/bin/* | awk '/=>/ {print $3}' | sort -u); do
  pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true)
  pkg=${pkg%%:*}
  case "$pkg" in libc6 | libgcc-s1 | libstdc++6 | "") continue ;; esac  # in the base image
  grep -qx "$pkg" <<<"$packages" || unlisted+=("$pkg ($lib)")
done
if [ ${#unlisted[@]} -gt 0 ]; then
  echo "build-image: add to the Containerfile's apt-get install: ${unlisted[*]}" >&2
  exit 1
fi

if command -v podman >/dev/null && podman info >/dev/null 2>&1; then
  podman build -t "$image" -f "$context/Containerfile" "$context"
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  docker build -t "$image" -f "$context/Containerfile" "$context"
else
  echo "build-image: no working podman or docker here; the context is staged in $context"
  echo "build-image: build it elsewhere with: podman build -t $image $context"
  exit 0
fi
echo "build-image: built $image"
