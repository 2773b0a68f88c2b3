#!/bin/bash
# The kiosk against real kernel drivers: boots Debian's stock kernel under qemu-system (TCG)
# with vivid as the camera and a DRM framebuffer as the screen, runs the real breedcam
# release binary inside, and checks from the host what the guest's screen showed and what
# breedcam said (tests/vm/check.py). Usage: tests/vm/run.sh x86_64|aarch64
# Exit 0 when every scenario passes; otherwise one line per failed scenario and exit 1.
# Results (serial log, breedcam output, views logs, screendumps) stay in target/vm/ARCH.
set -euo pipefail
ARCH=${1:-}
case $ARCH in
  x86_64 | aarch64) ;;
  *) echo "usage: tests/vm/run.sh x86_64|aarch64" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RES=$REPO/target/vm/$ARCH
CACHE=$REPO/target/vm/cache
SHARED=${BREEDCAM_SHARED:-$REPO/../shared}
# Debian's python3 (python3-pil is a Debian package; a pyenv python3 on PATH lacks it).
PY=/usr/bin/python3
export ARCH CACHE
say() { printf 'vm %s: %s (%s)\n' "$ARCH" "$*" "$(date -u +%H:%M:%S)" >&2; }

say "packages and kernel"
. "$HERE/prepare.sh"

say "building breedcam (release)"
cd "$REPO"
cargo build --release --quiet
HOSTBIN=$REPO/target/release/breedcam
if [[ $ARCH == x86_64 ]]; then
  BIN=$HOSTBIN; CC=gcc; SYSROOT=/; KROOT=$CACHE/amd64/fs
  BUSYBOX=/bin/busybox
else
  cargo build --release --quiet --target aarch64-unknown-linux-gnu
  BIN=$REPO/target/aarch64-unknown-linux-gnu/release/breedcam
  CC=aarch64-linux-gnu-gcc; SYSROOT=/usr/aarch64-linux-gnu; KROOT=$CACHE/arm64/fs
  BUSYBOX=$KROOT/bin/busybox
fi
KVER=$(ls "$KROOT/lib/modules")

rm -rf "$RES" && mkdir -p "$RES"
ROOT=$RES/initramfs
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,tmp,models,photos,lib}
"$CC" -O2 -static -Wall -o "$ROOT/bin/vivctl" "$HERE/vivctl.c"

say "initramfs"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list 2>/dev/null || qemu-aarch64-static "$BUSYBOX" --list); do
  [[ $applet == busybox ]] || ln -sf busybox "$ROOT/bin/$applet"
done
cp "$BIN" "$ROOT/bin/breedcam"
# The shared libraries breedcam links, from the host or the aarch64 sysroot.
if [[ $ARCH == x86_64 ]]; then
  libs=$(ldd "$BIN" | awk '/=>/ {print $3} /ld-linux/ {print $1}')
else
  libs=$(aarch64-linux-gnu-readelf -d "$BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' \
         | sed "s|^|$SYSROOT/lib/|"; echo "$SYSROOT/lib/ld-linux-aarch64.so.1")
fi
for l in $libs; do
  [[ -e $l ]] || continue
  dest=$ROOT$(dirname "$l"); [[ $ARCH == aarch64 ]] && dest=$ROOT/lib
  mkdir -p "$dest"; cp -L "$l" "$dest/"
done
[[ $ARCH == x86_64 ]] && mkdir -p "$ROOT/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/"
cp models/efficientnet_lite0_int8io.tflite models/efficientnet_lite0_int8io.json \
  models/imagenet_labels.tsv "$ROOT/models/"

# Modules: the modules.dep closure of what init.sh loads.
if [[ $ARCH == x86_64 ]]; then
  FB_MODULES="bochs"; RGB565_MODULES="cirrus"
  QEMU=(qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -kernel "$KROOT/boot/vmlinuz-$KVER"
        -append "console=ttyS0 panic=-1 quiet loglevel=3" -display none -no-reboot -net none
        -device bochs-display -device cirrus-vga,id=fb565)
else
  FB_MODULES="virtio_pci virtio-gpu"; RGB565_MODULES=""
  QEMU=(qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -smp 2 -m 1024
        -kernel "$KROOT/boot/vmlinuz-$KVER"
        -append "console=ttyAMA0 panic=-1 quiet loglevel=3" -display none -no-reboot -net none
        -device virtio-gpu-pci)
fi
MODDIR=$KROOT/lib/modules/$KVER
closure() {
  local want=$1 path
  path=$(awk -F: -v m="/${want//[-_]/[-_]}.ko" '$1 ~ m"$" {print $0}' "$MODDIR/modules.dep" | head -n1)
  [[ -n $path ]] || { echo "vm: no module $want in $MODDIR" >&2; exit 1; }
  for p in ${path%%:*} ${path#*:}; do echo "$p"; done
}
for m in vivid $FB_MODULES $RGB565_MODULES; do closure "$m"; done | sort -u | while read -r p; do
  mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$p")"
  cp "$MODDIR/$p" "$ROOT/lib/modules/$KVER/$p"
done
cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/"
depmod -b "$ROOT" "$KVER"

# Photos for the loopback scenario: each letterboxed to vivid's 1280x720 HDMI input, as the
# PPM the guest feeds and the PNG the host classifies (breedcam classify, same model).
PHOTOS=("$REPO/tests/data/husky.png")
for p in dog_test_0.bmp cat.bmp; do [[ -f $SHARED/data/photos/$p ]] && PHOTOS+=("$SHARED/data/photos/$p"); done
"$PY" "$HERE/check.py" photos "$ROOT/photos" "$RES/photos" "${PHOTOS[@]}"
"$HOSTBIN" classify --model models/efficientnet_lite0_int8io.tflite --locate off --json "$RES"/photos/*.png \
  > "$RES/classify.jsonl"

# Few frames: the aarch64 guest runs ~25x slower than a native core.
if [[ $ARCH == x86_64 ]]; then FRAMES=3; else FRAMES=2; fi
cat > "$ROOT/etc/vm.conf" <<EOF
ARCH=$ARCH
FB_MODULES="$FB_MODULES"
RGB565_MODULES="$RGB565_MODULES"
FRAMES=$FRAMES
FORMATS="YU12 NV12 YUYV RGB3 BGR3"
EOF
install -m 755 "$HERE/init.sh" "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$RES/initrd.gz"

say "booting ($(du -h "$RES/initrd.gz" | cut -f1) initramfs)"
guest=0
"$PY" "$HERE/boot.py" "$RES" "${VM_TIMEOUT:-900}" -- "${QEMU[@]}" -initrd "$RES/initrd.gz" || guest=$?
say "guest finished in $(cat "$RES/wall.txt") s; checking"
"$PY" "$HERE/check.py" check "$RES" "$ARCH" && [[ $guest == 0 ]]
