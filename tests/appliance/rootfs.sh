#!/bin/bash
# A small Debian bookworm root file system with systemd as PID 1, Debian's stock kernel and a
# 6 MB initrd, as an ext4 image for tests/appliance/run.sh. Cached under
# target/appliance/cache/ARCH-KEY, KEY = a hash of this file and appliance-test.service (the
# recipe): edit either and a new image is made. Usage: rootfs.sh x86_64|aarch64; prints the cache folder.
# Recipe measured in ../shared/notes/vm-testing.md ("A booted Debian system with systemd").
set -euo pipefail
ARCH=${1:?x86_64|aarch64}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
case $ARCH in
  x86_64) DARCH=amd64 ;;
  aarch64) DARCH=arm64 ;;
  *) echo "rootfs.sh: unknown architecture $ARCH" >&2; exit 2 ;;
esac
KEY=$(cat "$HERE/rootfs.sh" "$HERE/appliance-test.service" | sha256sum | cut -c1-12)
OUT=$REPO/target/appliance/cache/$DARCH-$KEY
mkdir -p "$(dirname "$OUT")"
# One build at a time per image: a second caller waits for the first, then uses its image.
exec 9>"$OUT.lock"
flock 9
if [[ -f $OUT/.done ]]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT" && mkdir -p "$OUT"
say() { printf 'appliance %s: %s (%s)\n' "$ARCH" "$*" "$(date -u +%H:%M:%S)" >&2; }

need=()
for p in mmdebstrap e2fsprogs; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
[[ $ARCH == aarch64 ]] && { dpkg -s arch-test >/dev/null 2>&1 || need+=(arch-test);
                            dpkg -s qemu-user-static >/dev/null 2>&1 || need+=(qemu-user-static); }
if ((${#need[@]})); then
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${need[@]}" >&2
fi
if [[ $ARCH == aarch64 && ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
  # mmdebstrap runs arm64 maintainer scripts through qemu-user: binfmt_misc must know it.
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
fi

DIR=$OUT/fs
say "mmdebstrap bookworm $DARCH"
# kmod: modprobe vivid; procps: pgrep/kill; the rest: systemd as PID 1 and what the
# breedcam .deb depends on (libc6, libgcc-s1, adduser), so the guest installs it offline.
# No login prompt on the serial console (serial-getty masked): nobody logs in to a kiosk, and
# its "appliance login: " would run into the test's @@ marks on the same line.
mmdebstrap --variant=apt --arch="$DARCH" --quiet \
  --include=systemd,systemd-sysv,udev,kmod,adduser,procps,libgcc-s1,linux-image-"$DARCH" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools"' \
  --setup-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/breedcam-test.conf"' \
  --setup-hook='printf "virtio_pci\nvirtio_mmio\nvirtio_blk\next4\n" > "$1/etc/initramfs-tools/modules"' \
  --customize-hook='echo appliance > "$1/etc/hostname"' \
  --customize-hook='ln -sf /dev/null "$1/etc/systemd/system/serial-getty@.service"' \
  --customize-hook='echo "root:x" | chroot "$1" chpasswd -e 2>/dev/null || true' \
  --customize-hook='mkdir -p "$1/host"' \
  --customize-hook='echo "host0 /host 9p trans=virtio,version=9p2000.L,nofail 0 0" >> "$1/etc/fstab"' \
  --customize-hook="cp '$HERE/appliance-test.service' \"\$1/etc/systemd/system/\"" \
  --customize-hook='ln -s /etc/systemd/system/appliance-test.service "$1/etc/systemd/system/multi-user.target.wants/appliance-test.service"' \
  --customize-hook='cp "$1"/boot/vmlinuz-* "$1"/boot/initrd.img-* "$1/.."/ 2>/dev/null || true' \
  bookworm "$DIR" >&2
mv "$OUT"/vmlinuz-* "$OUT/vmlinuz" 2>/dev/null || cp "$DIR"/boot/vmlinuz-* "$OUT/vmlinuz"
mv "$OUT"/initrd.img-* "$OUT/initrd.img" 2>/dev/null || cp "$DIR"/boot/initrd.img-* "$OUT/initrd.img"
say "ext4 image"
mkfs.ext4 -q -F -d "$DIR" "$OUT/root.ext4" 1G >&2  # stdout is the folder this prints
rm -rf "$DIR"
touch "$OUT/.done"
say "root file system ready: $(du -sh "$OUT" | cut -f1)"
echo "$OUT"
