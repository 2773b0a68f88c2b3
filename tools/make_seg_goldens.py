#!/usr/bin/env python3
"""Make the segmenters' golden fixtures (tests/it/segmenter.rs): TFLite's class scores and
class map on breedcam's own input tensors.

For each (segmenter, photo): `breedcam tensor --crop none` writes the exact input bytes
breedcam's Segmenter feeds the model (the whole photo squashed to 513x513); TFLite runs
them (../shared/tools/tflite_ref.py, one thread) twice: on a copy of the model whose
subgraph output is the class-score tensor (the 33x33x21 logits breedcam's Segmenter stops
at), with XNNPACK and with the builtin kernels, and on the model as it is (XNNPACK; the
513x513 ARG_MAX map). The fixture keeps the numbers, never the model or the photo: the
input's sha256, the XNNPACK logits (hex), their largest difference from the builtin
kernels', and the sha256 of the int64 class map.

  pip install ai-edge-litert==2.3.0 numpy
  cargo build --release && python3 tools/make_seg_goldens.py [--shared ../shared]
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

CASES = {
    # fixture name: (committed model, its class-score tensor)
    "segmenter_deeplabv3_mnv2": ("models/deeplabv3_mnv2_pascal_quant.tflite", 182),
    "segmenter_deeplabv3_mnv2_dm05": ("models/deeplabv3_mnv2_dm05_pascal_quant.tflite", 182),
}
PHOTOS = ["shared:pets.jpg", "shared:dog_segmentation.bmp", "shared:cat.bmp", "repo:tests/data/husky.png"]


def table(buf, pos):
    """A flatbuffer table at `pos`: a function giving the absolute position of field i, or None."""
    vt = pos - struct.unpack_from("<i", buf, pos)[0]
    vt_len = struct.unpack_from("<H", buf, vt)[0]

    def field(i):
        at = 4 + 2 * i
        if at >= vt_len:
            return None
        off = struct.unpack_from("<H", buf, vt + at)[0]
        return pos + off if off else None
    return field


def with_output(model_bytes, tensor):
    """The model with its first subgraph's (single) output replaced by `tensor`."""
    buf = bytearray(model_bytes)
    root = struct.unpack_from("<I", buf, 0)[0]
    subgraphs = table(buf, root)(2)          # Model.subgraphs
    vec = subgraphs + struct.unpack_from("<I", buf, subgraphs)[0]
    first = vec + 4 + struct.unpack_from("<I", buf, vec + 4)[0]
    outputs = table(buf, first)(2)           # SubGraph.outputs
    out_vec = outputs + struct.unpack_from("<I", buf, outputs)[0]
    assert struct.unpack_from("<I", buf, out_vec)[0] == 1, "one output expected"
    struct.pack_into("<i", buf, out_vec + 4, tensor)
    return bytes(buf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("BREEDCAM_SHARED", "../shared"))
    ap.add_argument("--breedcam", default="target/release/breedcam")
    ap.add_argument("--out", default="tests/fixtures/golden")
    a = ap.parse_args()
    ref = os.path.join(a.shared, "tools", "tflite_ref.py")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, logits) in CASES.items():
            cut = os.path.join(tmp, "cut.tflite")
            with open(cut, "wb") as f:
                f.write(with_output(open(model, "rb").read(), logits))
            desc = json.loads(subprocess.check_output([sys.executable, ref, "describe", cut]))["outputs"][0]
            cases = []
            for photo in PHOTOS:
                where, rel = photo.split(":", 1)
                photo_path = os.path.join(a.shared, "data", "photos", rel) if where == "shared" else rel
                inp, out = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
                subprocess.check_call([a.breedcam, "tensor", "--model", model, "--crop", "none", inp, photo_path],
                                      stderr=subprocess.DEVNULL)
                outs = {}
                for kernels in ("xnnpack", "builtin"):
                    subprocess.check_call([sys.executable, ref, "run", cut, inp, out, "--kernels", kernels],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    outs[kernels] = np.fromfile(out, dtype=np.uint8)
                subprocess.check_call([sys.executable, ref, "run", model, inp, out],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                full = open(out, "rb").read()
                spread = int(np.abs(outs["xnnpack"].astype(int) - outs["builtin"].astype(int)).max())
                classes = np.bincount(np.frombuffer(full, dtype="<i8"), minlength=21)
                print(f"{name} {photo}: xnnpack vs builtin logits {spread}; class map pixels "
                      f"{ {i: int(n) for i, n in enumerate(classes) if n} }")
                cases.append({
                    "photo": photo,
                    "input_sha256": hashlib.sha256(open(inp, "rb").read()).hexdigest(),
                    "tflite_spread": spread,
                    "logits_xnnpack": outs["xnnpack"].tobytes().hex(),
                    "class_map_sha256": hashlib.sha256(full).hexdigest(),
                })
            fixture = {
                "model": model,
                "logits_tensor": logits,
                "logits_name": desc["name"],
                "logits_shape": desc["shape"],
                "made_with": "ai-edge-litert 2.3.0 via shared/tools/tflite_ref.py (1 thread); tools/make_seg_goldens.py",
                "cases": cases,
            }
            with open(os.path.join(a.out, name + ".json"), "w") as f:
                json.dump(fixture, f, separators=(",", ":"))
                f.write("\n")


if __name__ == "__main__":
    main()
