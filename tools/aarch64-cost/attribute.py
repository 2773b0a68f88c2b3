#!/usr/bin/env python3
"""Instructions per inference by op family, from insn.c's per-block counts.

attribute.py BINARY BIAS_1 TBS_1RUN BIAS_3 TBS_3RUNS
BIAS_n: that run's load bias (runtime address of profile_ops::main minus its `nm` address).
Per inference = (3 runs - 1 run) / 2, as in run.sh. Families are read off symbol names."""
import bisect
import re
import subprocess
import sys

FAMILIES = [
    # the kernels are assembly: their inner labels (".packed_packed_loop_1_i8i8"...) are symbols
    ("tract int8 matmul kernel", r"^\.|mmm_i32|arm64simd_mmm|arm64fp16_mmm"),
    ("breedcam pointwise (packing, tiling)", r"qpointwise|pack_neon"),
    ("breedcam depthwise", r"QDepthwise|dw_neon|LocalKey<T>::with$"),
    ("breedcam requantization", r"RequantSpec|qconv::Requant"),
    ("breedcam add / binary", r"ops::Binary|FixedAdd|BinKind"),
    ("tract packing, im2col", r"pack|im2col|Im2col|Patcher"),
    ("tract matmul frame (tiles, stores)", r"tract_linalg::frame::mmm|OptMatMul|ScratchSpace"),
    ("memcpy / memset / malloc (libc)", r"^\[libc\]$"),
]


def symbols(binary):
    out = subprocess.run(
        ["aarch64-linux-gnu-nm", "-C", "--defined-only", "-n", binary],
        capture_output=True, text=True, check=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    return addrs, names


def per_symbol(tbs, bias, addrs, names):
    top = addrs[-1] + (1 << 20)
    counts = {}
    for line in open(tbs):
        a, n = line.split()
        a = int(a, 16) - bias
        if a < addrs[0] or a > top:
            name = "[libc]"
        else:
            name = names[bisect.bisect_right(addrs, a) - 1]
        counts[name] = counts.get(name, 0) + int(n)
    return counts


def family(name):
    for fam, pat in FAMILIES:
        if re.search(pat, name):
            return fam
    return "everything else"


def main():
    binary, b1, one, b3, three = sys.argv[1:6]
    addrs, names = symbols(binary)
    c1 = per_symbol(one, int(b1, 0), addrs, names)
    c3 = per_symbol(three, int(b3, 0), addrs, names)
    fams = {}
    for name in set(c1) | set(c3):
        d = (c3.get(name, 0) - c1.get(name, 0)) / 2
        fams[family(name)] = fams.get(family(name), 0) + d
    total = sum(fams.values())
    for fam, _ in FAMILIES + [("everything else", "")]:
        print(f"| {fam} | {fams.get(fam, 0) / 1e6:.1f} |")
    print(f"| **total** | **{total / 1e6:.1f}** |")


main()
