#!/usr/bin/env bash
# `cross build` and `cross test` for the Pi (aarch64-unknown-linux-gnu), as CI runs them.
#
# 1. installs podman + runc + mmdebstrap (apt) and cross 0.2.5 (under target/cross-tools,
#    not in the user's cargo home);
# 2. builds the container image from Debian packages (cross's own images live on a registry
#    this machine cannot reach), cached under target/cross-ci, keyed by a hash of its recipe;
# 3. writes podman's configuration under target/cross-ci (nothing in /etc): runc, no network
#    namespace setup (no bridge, no firewall rules), open-file and process limits no higher
#    than the host's hard limits, image storage under target/cross-ci/storage;
# 4. runs `cross build --release` and `cross test --release` for aarch64 on breedcam, with
#    the image given through CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE (Cross.toml keeps
#    cross's stock image for users) and the build in target/cross;
# 5. compares the cross-built binary with the plain-cargo one (.cargo/config.toml): the same
#    `classify --json` output under qemu, glibc symbol versions <= 2.36 (Raspberry Pi OS
#    Bookworm), and prints both sizes;
# 6. fails if the Rust toolchain (rustc -V, toolchain list, stable's targets and components)
#    differs from what it was before: cross 0.2.5 would otherwise run `rustup toolchain add`.
# Needs root (apt, rootful podman). Exit 0 when all holds, else 1 with a reason.
# With --prepare it stops after step 3 and the crate download (.ci/run does that beside a
# guest that leaves a core idle; the builds then start from a ready image).
set -euo pipefail
prepare_only=0
case "${1:-}" in
  "") ;;
  --prepare) prepare_only=1 ;;
  *) echo "usage: tests/cross/run.sh [--prepare]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../.."
root=$PWD
export BREEDCAM_SHARED="${BREEDCAM_SHARED:-$(cd .. && pwd)/shared}"
export CARGO_TERM_COLOR=never
target=aarch64-unknown-linux-gnu
cross_version=0.2.5
glibc_max=2.36
ci="$root/target/cross-ci"
mkdir -p "$ci"
fail() { echo "cross check FAILED: $*" >&2; exit 1; }
step() { printf -- '--- %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "host packages"
need=()
for p in podman runc mmdebstrap qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
fi

# The toolchain as it is now; compared at the end (and on any exit).
toolchain_state() {
  rustc -V
  rustup toolchain list
  ls -l "${RUSTUP_HOME:-$HOME/.rustup}/toolchains" | sed 1d | awk '{print $9, $10, $11}'
  echo "stable targets:"; rustup +stable target list --installed
  echo "stable components:"; rustup +stable component list --installed
}
toolchain_state >"$ci/toolchain.before"
check_toolchain() {
  toolchain_state >"$ci/toolchain.after"
  if ! diff -u "$ci/toolchain.before" "$ci/toolchain.after"; then
    echo "cross check FAILED: the Rust toolchain changed (diff above)" >&2
    exit 1
  fi
}
trap 'check_toolchain' EXIT

# cross 0.2.5 reads `rustup toolchain list` expecting "NAME (default)"; current rustup says
# "NAME (active, default)", so cross thinks the default toolchain is missing and runs
# `rustup toolchain add stable`, which upgrades the machine's stable toolchain. It does that
# on ANY invocation inside a cargo project, `cross --version` included, so nothing here runs
# cross before these guards are in place:
# - the toolchain named by its exact version (`cross +1.95.0`), which rustup lists without a
#   suffix, so cross finds it;
# - CROSS_CUSTOM_TOOLCHAIN=1: no `rustup target add` / `component add rust-src`;
# - RUSTUP_DIST_SERVER at a dead local port: any download fails;
# - a `rustup` first on PATH that refuses every command that would change a toolchain.
version=$(rustc -V | awk '{print $2}')
host=$(rustc -vV | sed -n 's/^host: //p')
if ! rustup toolchain list | grep -qx "$version-$host"; then
  fail "cross $cross_version needs the toolchain listed as exactly '$version-$host' (see docs/cross.md);
\`rustup toolchain list\` shows:
$(rustup toolchain list)"
fi
if (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; then fail "port 9 is in use; pick another dead port"; fi
export RUSTUP_DIST_SERVER=http://127.0.0.1:9 RUSTUP_UPDATE_ROOT=http://127.0.0.1:9/rustup
export RUSTUP_AUTO_INSTALL=0 CROSS_CUSTOM_TOOLCHAIN=1
export XARGO_HOME="$ci/xargo"
mkdir -p "$ci/shim"
cat >"$ci/shim/rustup" <<EOF
#!/bin/sh
# Written by tests/cross/run.sh: cross may list toolchains, targets and components, no more.
case " \$* " in
  *" list "*) ;;
  *) echo "tests/cross/run.sh: refused 'rustup \$*' (it could change the toolchain)" >&2
     exit 1 ;;
esac
exec $(command -v rustup) "\$@"
EOF
chmod +x "$ci/shim/rustup"
export PATH="$ci/shim:$PATH"

step "cross $cross_version (target/cross-tools)"
cross="$root/target/cross-tools/bin/cross"
# (not `cross --version`: see above)
if ! cargo install --list --root "$root/target/cross-tools" | grep -qx "cross v$cross_version:"; then
  cargo install --locked --root "$root/target/cross-tools" cross --version "$cross_version"
fi

step "podman configuration (target/cross-ci)"
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] && nproc=4096
[ "$nproc" -gt 4096 ] && nproc=4096
# runroot holds sockets and locks: short path, one per checkout
runroot="/run/breedcam-cross-$(printf %s "$root" | sha256sum | cut -c1-12)"
cat >"$ci/containers.conf" <<EOF
# Written by tests/cross/run.sh. These VMs lack CAP_SYS_RESOURCE: podman's default
# nofile=1048576 fails ("setrlimit ... Operation not permitted"), so ask for the hard limits.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
# no network namespace: no bridge, no firewall rules on the host (the build is offline)
netns = "none"

[network]
network_config_dir = "$ci/network"

[engine]
# crun fails here ("cgroups in hybrid mode not supported")
runtime = "runc"
tmp_dir = "$runroot/libpod"
EOF
cat >"$ci/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$ci/storage"
runroot = "$runroot"
EOF
mkdir -p "$ci/network"
export CONTAINERS_CONF="$ci/containers.conf" CONTAINERS_STORAGE_CONF="$ci/storage.conf"
export CROSS_CONTAINER_ENGINE=podman

step "image from Debian packages"
# The recipe: everything that goes into the image. Its hash is the image's tag. No spaces in
# the ENV values (podman import --change splits on them): qemu reads its CPU (a Pi 4 core) and
# the aarch64 library folder from QEMU_CPU and QEMU_LD_PREFIX.
packages=gcc,libc6-dev,gcc-aarch64-linux-gnu,libc6-dev-arm64-cross,qemu-user-static
mirror=http://deb.debian.org/debian
image_env=(
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc"
  "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static"
  "QEMU_CPU=cortex-a72"
  "QEMU_LD_PREFIX=/usr/aarch64-linux-gnu"
  "CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc"
  "AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar"
  "BREEDCAM_TEST_RUNNER=qemu-aarch64-static"
)
recipe="mmdebstrap --variant=minbase --include=$packages bookworm $mirror
$(printf 'ENV %s\n' "${image_env[@]}")"
tag=$(printf %s "$recipe" | sha256sum | cut -c1-16)
image="localhost/breedcam-cross:$tag"
if podman image exists "$image"; then
  echo "cached: $image"
else
  tarball="$ci/rootfs-$tag.tar"
  if [ ! -s "$tarball" ]; then
    rm -f "$ci"/rootfs-*.tar
    mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" bookworm "$tarball.part" "$mirror"
    mv "$tarball.part" "$tarball"
  fi
  changes=()
  for e in "${image_env[@]}"; do changes+=(--change "ENV $e"); done
  podman import "${changes[@]}" "$tarball" "$image" >/dev/null
  rm -f "$tarball"
  # older recipes' images are no longer needed
  podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/breedcam-cross:' \
    | grep -vx "$image" | xargs -r podman rmi >/dev/null || true
  echo "built: $image"
fi
podman run --rm "$image" sh -c 'aarch64-linux-gnu-gcc --version | head -1;
  ldd --version | head -1; qemu-aarch64-static --version | head -1'
export CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE="$image"

# The test suite reads ../shared (Cross.toml passes BREEDCAM_SHARED through): mount it at
# the same path, read-only.
shared=$(realpath "$BREEDCAM_SHARED")
[ -d "$shared/data" ] || fail "BREEDCAM_SHARED=$BREEDCAM_SHARED has no data/; the tests need it"
export BREEDCAM_SHARED="$shared"
export CROSS_CONTAINER_OPTS="-v $shared:$shared:ro"

step "cargo fetch (the container builds offline)"
cargo fetch --locked
export CARGO_NET_OFFLINE=true
if [ "$prepare_only" = 1 ]; then
  echo "prepared: cross $cross_version, $image, the crates"
  exit 0
fi
# Host settings for the plain build must not reach the container (cross passes CARGO_*).
unset CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER
unset BREEDCAM_TEST_RUNNER

# Its own target dir: the container sees other paths, so sharing target/ with the plain
# build would make each rebuild the other's aarch64 crates.
tdir="$root/target/cross"
step "cross build --release --target $target"
"$cross" "+$version" build --locked --release --target "$target" --target-dir "$tdir"
step "cross test --release --target $target"
"$cross" "+$version" test --locked --release --target "$target" --target-dir "$tdir"

step "the plain-cargo build to compare with"
cargo build --locked --release --target "$target"

step "compare"
crossbin="$tdir/$target/release/breedcam"
plainbin="$root/target/$target/release/breedcam"
qemu=(qemu-aarch64-static -cpu cortex-a72 -L /usr/aarch64-linux-gnu)
"${qemu[@]}" "$crossbin" classify --json tests/data/husky.png >"$ci/classify.cross.json" \
  || fail "$crossbin classify failed"
"${qemu[@]}" "$plainbin" classify --json tests/data/husky.png >"$ci/classify.plain.json" \
  || fail "$plainbin classify failed"
cat "$ci/classify.cross.json"
[ -s "$ci/classify.cross.json" ] || fail "$crossbin classify printed nothing"
cmp "$ci/classify.plain.json" "$ci/classify.cross.json" \
  || fail "classify --json differs between the plain and the cross build"
glibc_needed() {
  aarch64-linux-gnu-objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' \
    | sort -u -V | tail -1
}
for bin in "$plainbin" "$crossbin"; do
  g=$(glibc_needed "$bin")
  [ -n "$g" ] || fail "$bin: no GLIBC symbol versions found"
  printf '%s: needs GLIBC_%s, %s bytes\n' "$bin" "$g" "$(stat -c %s "$bin")"
  [ "$(printf '%s\n%s\n' "$g" "$glibc_max" | sort -V | tail -1)" = "$glibc_max" ] \
    || fail "$bin needs GLIBC_$g, newer than Raspberry Pi OS Bookworm's $glibc_max"
done
echo "cross check passed"
