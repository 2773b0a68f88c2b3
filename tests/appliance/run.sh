#!/bin/bash
# The kiosk as an appliance: builds the .deb for ARCH (cargo-deb, as tests/deb does), boots a
# Debian bookworm system with systemd as PID 1 and Debian's stock kernel under qemu-system
# (TCG; vivid as the camera, the DRM fbdev as the screen, as tests/vm), and inside it
# installs the package offline, enables the service and puts it through its paces
# (tests/appliance/guest.sh): a. camera picture + overlay under the hardened unit;
# b. SIGKILL -> restarted; c. SIGSTOP -> the watchdog restarts it; d. the camera unplugged
# and its module reloaded -> "camera lost", then frames, same process; e. a reboot -> the
# kiosk is back by itself; f. the stand-in rpicam-vid with source = "rpicam"; g. apt purge
# leaves nothing. The host checks screendumps and the views log (tests/appliance/check.py).
# Usage: tests/appliance/run.sh x86_64|aarch64. Exit 0 when every scenario passes.
# Results stay in target/appliance/ARCH; the root file system is cached (rootfs.sh).
# To see the checks fail: BREAK=restart|watchdog|deviceallow (a drop-in that breaks the
# unit) with STOP_AFTER=a|b|c (power off after that scenario); results then go to
# target/appliance/ARCH-break-BREAK.
set -euo pipefail
ARCH=${1:-}
case $ARCH in
  x86_64) DARCH=amd64; TARGET=() ;;
  aarch64) DARCH=arm64; TARGET=(--target aarch64-unknown-linux-gnu) ;;
  *) echo "usage: tests/appliance/run.sh x86_64|aarch64" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RES=$REPO/target/appliance/$ARCH${BREAK:+-break-$BREAK}
PY=/usr/bin/python3
say() { printf 'appliance %s: %s (%s)\n' "$ARCH" "$*" "$(date -u +%H:%M:%S)" >&2; }
started=$(date +%s)

say "host packages"
need=()
for p in python3-pil gcc e2fsprogs; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [[ $ARCH == x86_64 ]]; then dpkg -s qemu-system-x86 >/dev/null 2>&1 || need+=(qemu-system-x86)
else
  for p in qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
fi
if ((${#need[@]})); then
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${need[@]}" >&2
fi

say "the .deb (cargo-deb)"
cd "$REPO"
version=3.8.0
if [[ "$(cargo deb --version 2>/dev/null)" != *"$version"* ]]; then
  cargo install --locked cargo-deb --version "$version"
fi
# APPLIANCE_DEB=path: test that package as it is (no build).
if [[ -n ${APPLIANCE_DEB:-} ]]; then
  DEB=$APPLIANCE_DEB
else
  cargo deb --quiet "${TARGET[@]}" --output "target/debian/" >&2
  DEB=$(ls -t target/debian/breedcam_*_"$DARCH".deb | head -n1)
fi

say "root file system"
ROOTFS=$(bash "$HERE/rootfs.sh" "$ARCH" | tail -n 1)  # its last line; the rest of its output goes to stderr

rm -rf "$RES" && mkdir -p "$RES/share/out"
SHARE=$RES/share
cp "$DEB" "$SHARE/breedcam.deb"
cp "$HERE/guest.sh" "$REPO/tests/rpicam/rpicam-vid" "$SHARE/"
echo install > "$SHARE/phase"
# The unit's WatchdogSec= plus room for systemd to stop and start it again.
WATCH=$(sed -n 's/^WatchdogSec=\([0-9]*\)$/\1/p' "$REPO/board/breedcam.service")
WAIT=300; [[ -n ${BREAK:-} ]] && WAIT=120
cat > "$SHARE/guest.conf" <<CONF
WATCH_S=$((WATCH + 60))
WAIT_S=$WAIT
BREAK=${BREAK:-}
STOP_AFTER=${STOP_AFTER:-}
CONF
if [[ $ARCH == x86_64 ]]; then CC=gcc; else CC=aarch64-linux-gnu-gcc; fi
"$CC" -O2 -static -Wall -o "$SHARE/vivctl" "$REPO/tests/vm/vivctl.c"
# The stand-in's frames: the test photo at 320x240, as I420 and as a JPEG.
"$PY" "$HERE/check.py" frames "$REPO/tests/data/husky.png" "$SHARE" 320 240

if [[ $ARCH == x86_64 ]]; then
  QEMU=(qemu-system-x86_64 -M q35 -cpu max -accel tcg -smp 2 -m 1024
        -append "root=/dev/vda rw console=ttyS0 quiet panic=-1 vt.global_cursor_default=0")
else
  QEMU=(qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -smp 2 -m 1024
        -device virtio-gpu-pci
        -append "root=/dev/vda rw console=ttyAMA0 quiet panic=-1 vt.global_cursor_default=0")
fi
# -snapshot: the cached image stays as built (writes live as long as qemu, reboots included).
QEMU+=(-kernel "$ROOTFS/vmlinuz" -initrd "$ROOTFS/initrd.img" -display none -nic none -snapshot
       -drive "file=$ROOTFS/root.ext4,format=raw,if=virtio"
       -fsdev "local,id=fs0,path=$SHARE,security_model=none"
       -device "virtio-9p-pci,fsdev=fs0,mount_tag=host0")

say "booting the guest"
guest=0
"$PY" "$REPO/tests/vm/boot.py" "$RES" "${VM_TIMEOUT:-2400}" -- "${QEMU[@]}" || guest=$?
say "guest finished in $(cat "$RES/wall.txt") s; checking"
ok=0
"$PY" "$HERE/check.py" check "$RES" "$ARCH" || ok=$?
say "wall time $(($(date +%s) - started)) s"
[[ $ok == 0 && $guest == 0 ]]
