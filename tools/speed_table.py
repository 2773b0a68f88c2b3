#!/usr/bin/env python3
"""The speed table of docs/performance.md, measured in one session: tract (breedcam bench, 1 and 2 threads)
against TFLite XNNPACK and TFLite builtin kernels (one thread), same model, same input tensor.

Rounds alternate the three runners so a noisy machine hurts them alike; the table reports the
median over rounds of each runner's median inference time, and the ratios to XNNPACK.

  pip install ai-edge-litert==2.3.0 numpy
  cargo build --release && python3 tools/speed_table.py [--rounds 3] [--frames 60]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

MODELS = [
    # (name in the table, path, is it under ../shared)
    ("EfficientNet-Lite2 int8 (default, `lite2`)", "models/efficientnet_lite2_int8io.tflite", False),
    ("EfficientNet-Lite0 int8 (`lite0`)", "models/efficientnet_lite0_int8io.tflite", False),
    ("EfficientNet-Lite0 int8, seed file (`lite0-seed`)", "models/efficientnet_lite0_int8.tflite", False),
    ("MobileNetV2 1.0/224 uint8 (Coral, TF1 QAT)", "models/coral/mobilenet_v2_1.0_224_quant.tflite", True),
    ("MobileNetV2 1.0/224 int8 (TF2 PTQ)", "models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", True),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("BREEDCAM_SHARED", "../shared"))
    ap.add_argument("--breedcam", default="target/release/breedcam")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--photo", default="tests/data/husky.png")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel, in_shared in MODELS:
            model = os.path.join(a.shared, rel) if in_shared else rel
            if not os.path.exists(model):
                print(f"skipping {name}: {model} not found", file=sys.stderr)
                continue
            inp = os.path.join(tmp, "input.bin")
            subprocess.check_call([a.breedcam, "tensor", "-q", "--model", model, inp, a.photo])
            runs = {"tract 1 thread": [], "tract 2 threads": [], "xnnpack": [], "builtin": []}
            for _ in range(a.rounds):
                for threads in (1, 2):
                    out = subprocess.check_output([
                        a.breedcam, "bench", "--json", "-q", "--model", model,
                        "--frames", str(a.frames), "--warmup", "5", "--threads", str(threads),
                    ])
                    rep = json.loads(out)
                    p50 = next(s["p50"] for s in rep["stages"] if s["name"] == "inference")
                    runs[f"tract {threads} thread{'s' if threads > 1 else ''}"].append(p50)
                out = subprocess.check_output([
                    sys.executable, os.path.join(here, "tflite_time.py"), model, inp,
                    "--runs", str(a.frames), "--shared", a.shared,
                ])
                t = json.loads(out)
                runs["xnnpack"].append(t["xnnpack"]["p50_ms"])
                runs["builtin"].append(t["builtin"]["p50_ms"])
            med = {k: statistics.median(v) for k, v in runs.items()}
            rows.append({"model": name, "path": rel, **{k: round(v, 2) for k, v in med.items()}})
    if a.json:
        print(json.dumps(rows, indent=1))
        return
    print("| model | tract int8, 1 thread | tract, 2 threads | TFLite XNNPACK, 1 thread | TFLite builtin, 1 thread | tract / XNNPACK | tract / builtin |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        t1, x, b = r["tract 1 thread"], r["xnnpack"], r["builtin"]
        print(f"| {r['model']} | {t1:.1f} ms | {r['tract 2 threads']:.1f} ms | {x:.2f} ms | {b:.1f} ms "
              f"| {t1 / x:.1f}x | {t1 / b:.2f}x |")


if __name__ == "__main__":
    main()
