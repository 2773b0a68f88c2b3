#!/usr/bin/env bash
# The Debian packages, as CI checks them: builds the amd64 and arm64 .deb with cargo-deb,
# shows the arm64 one's contents, installs the amd64 one with dpkg, runs the installed
# breedcam from another folder, verifies its systemd unit, purges it and checks that
# nothing is left behind. Needs root (dpkg -i). Exit 0 when all holds, else 1 with a reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "deb check FAILED: $*" >&2; exit 1; }

version=3.8.0
if [[ "$(cargo deb --version 2>/dev/null)" != *"$version"* ]]; then
  cargo install --locked cargo-deb --version "$version"
fi

out=target/debian
rm -rf "$out"
cargo deb --output "$out/"
cargo deb --target aarch64-unknown-linux-gnu --output "$out/"
amd64=$(ls "$out"/breedcam_*_amd64.deb)
arm64=$(ls "$out"/breedcam_*_arm64.deb)
ls -l "$amd64" "$arm64"

echo "--- $arm64"
dpkg-deb --info "$arm64" | sed -n '/Package:/,$p'
dpkg-deb -c "$arm64"
[ "$(dpkg-deb -f "$arm64" Architecture)" = arm64 ] || fail "$arm64: not arm64"
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$arm64" "$unpacked"
# ELF header: e_machine (offset 18, little-endian) 0x00b7 = aarch64
[ "$(od -An -tx1 -j18 -N2 "$unpacked/usr/bin/breedcam" | tr -d ' \n')" = b700 ] \
  || fail "$arm64: /usr/bin/breedcam is not an aarch64 binary"

# (listings into files: grep -q on a pipe would stop dpkg-deb early, a failure under pipefail)
dpkg-deb -c "$amd64" > "$unpacked/contents"
for f in ./usr/bin/breedcam ./etc/breedcam/breedcam.toml ./usr/lib/systemd/system/breedcam.service; do
  grep -q " $f\$" "$unpacked/contents" || fail "$amd64: no $f"
done
# The installed README's links to docs/*.md resolve: the package ships docs/ beside it.
for f in $(grep -o '](docs/[^)#]*\.md' README.md | sed 's/^](//' | sort -u); do
  grep -q " ./usr/share/doc/breedcam/$f\$" "$unpacked/contents" || fail "$amd64: no /usr/share/doc/breedcam/$f (README.md links it)"
done
dpkg-deb -e "$amd64" "$unpacked/control"
grep -qx /etc/breedcam/breedcam.toml "$unpacked/control/conffiles" \
  || fail "$amd64: /etc/breedcam/breedcam.toml is not a conffile"

echo "--- install $amd64"
dpkg -i "$amd64" 2>&1 | tee "$unpacked/install.log"
# A maintainer script that stumbles (a command not found, say) does not always fail dpkg.
if grep -E 'not found|rror' "$unpacked/install.log"; then fail "dpkg -i $amd64 printed errors"; fi
work=$(mktemp -d)
trap 'rm -rf "$work" "$unpacked"' EXIT
cp tests/data/husky.png "$work/dog.png"
(
  cd "$work"
  [ "$(command -v breedcam)" = /usr/bin/breedcam ] || fail "breedcam is not /usr/bin/breedcam"
  breedcam info | tee info.txt
  grep -q '^model     lite2 (embedded, ' info.txt \
    || fail "installed breedcam info: the default model is not the embedded lite2"
  breedcam classify dog.png | tee classify.txt
  grep -q '1. Eskimo dog' classify.txt || fail "installed breedcam classify: no Eskimo dog"
)
[[ "$(id breedcam)" == *"(video)"* ]] || fail "user breedcam is not in the video group"
[[ "$(getent passwd breedcam)" == *":/nonexistent:"* ]] || fail "user breedcam has a home"
unit=/lib/systemd/system/breedcam.service
[ -f "$unit" ] || fail "$unit: missing"
systemd-analyze verify "$unit" 2>&1 | tee "$work/verify.txt"
# verify prints problems and exits 0 for some of them: any line naming the unit is one.
if grep -q 'breedcam.service' "$work/verify.txt"; then fail "systemd-analyze verify $unit"; fi
[[ "$(dpkg -s breedcam)" == *"Status: install ok installed"* ]] || fail "dpkg -s breedcam"

echo "--- purge"
dpkg --purge breedcam 2>&1 | tee "$work/purge.log"
if grep -E 'not found|rror' "$work/purge.log"; then fail "dpkg --purge breedcam printed errors"; fi
left=""
for p in /usr/bin/breedcam /etc/breedcam /usr/lib/systemd/system/breedcam.service \
         /usr/share/doc/breedcam /etc/systemd/system/multi-user.target.wants/breedcam.service \
         /var/lib/systemd/deb-systemd-helper-enabled/breedcam.service; do
  [ -e "$p" ] && left="$left $p"
done
getent passwd breedcam >/dev/null && left="$left user:breedcam"
getent group breedcam >/dev/null && left="$left group:breedcam"
dpkg -s breedcam >/dev/null 2>&1 && left="$left dpkg-status"
[ -z "$left" ] || fail "left behind after purge:$left"
echo "deb check passed: $(basename "$amd64") installed, ran, purged clean; $(basename "$arm64") built"
