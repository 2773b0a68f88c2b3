#!/bin/bash
# Host packages and the guest kernel for one architecture, idempotent: what is there is
# skipped. Sourced by run.sh (needs $ARCH, $CACHE); usable alone: prepare.sh x86_64|aarch64.
set -euo pipefail
ARCH=${ARCH:-${1:?x86_64|aarch64}}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CACHE:-$HERE/../../target/vm/cache}
KVER=6.1.0-57
mkdir -p "$CACHE"

need=()
for p in cpio kmod python3 python3-pil gcc busybox-static; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
case $ARCH in
  x86_64) dpkg -s qemu-system-x86 >/dev/null 2>&1 || need+=(qemu-system-x86) ;;
  aarch64)
    dpkg -s qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
    dpkg -s gcc-aarch64-linux-gnu >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu)
    dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1 || need+=(libc6-dev-arm64-cross) ;;
  *) echo "prepare.sh: unknown architecture $ARCH (x86_64 or aarch64)" >&2; exit 2 ;;
esac
if ((${#need[@]})); then
  echo "vm: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${need[@]}" >&2; }
fi

# The guest kernel (and for aarch64 the guest busybox): one exact package each.
if [[ $ARCH == x86_64 ]]; then
  DARCH=amd64; PKGS=("linux-image-$KVER-amd64")
else
  DARCH=arm64; PKGS=("linux-image-$KVER-arm64:arm64" "busybox-static:arm64")
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get update -qq >&2
  fi
fi
ROOT=$CACHE/$DARCH
if [[ ! -f $ROOT/.done ]]; then
  rm -rf "$ROOT" && mkdir -p "$ROOT/debs"
  (cd "$ROOT/debs" && apt-get download -qq "${PKGS[@]}" >&2) \
    || { apt-get update -qq >&2 && (cd "$ROOT/debs" && apt-get download -qq "${PKGS[@]}" >&2); }
  for d in "$ROOT"/debs/*.deb; do dpkg -x "$d" "$ROOT/fs"; done
  KFULL=$(ls "$ROOT/fs/lib/modules")
  depmod -b "$ROOT/fs" "$KFULL"
  touch "$ROOT/.done"
fi
