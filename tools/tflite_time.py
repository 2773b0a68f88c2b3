#!/usr/bin/env python3
"""TFLite's inference time on breedcam's own input tensor, for the same-session ratio in
docs/performance.md: median of N invokes after a warm-up, one thread, XNNPACK and builtin kernels.

  python3 tools/tflite_time.py MODEL INPUT.bin [--runs 50]
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--shared", default=os.environ.get("BREEDCAM_SHARED", "../shared"))
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.shared, "tools"))
    import tflite_ref
    out = {}
    for kernels in ("xnnpack", "builtin"):
        it = tflite_ref.load(a.model, kernels, 1)
        inp = it.get_input_details()[0]
        x = np.fromfile(a.input, dtype=inp["dtype"]).reshape(inp["shape"])
        it.set_tensor(inp["index"], x)
        for _ in range(5):
            it.invoke()
        times = []
        for _ in range(a.runs):
            t = time.perf_counter()
            it.invoke()
            times.append((time.perf_counter() - t) * 1e3)
        out[kernels] = {"p50_ms": float(np.median(times)), "runs": a.runs}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
