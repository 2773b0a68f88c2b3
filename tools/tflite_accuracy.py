#!/usr/bin/env python3
"""TFLite's reference accuracy on a labelled folder, on exactly the input tensors breedcam
makes (`breedcam tensor`), so it compares with `breedcam eval` photo for photo.

  python3 tools/tflite_accuracy.py MODEL DIR [--labels FILE] [--kernels xnnpack|builtin]

Labels: a file of `nXXXXXXXX-Name` / `wnid<TAB>name` lines, or (default) the 1000 ImageNet
classes of models/imagenet_labels.tsv (1001 with background when the model has 1001).
Top-k is over the dog classes, like breedcam eval.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def labels_of(path, classes):
    if path is None:
        rows = [l.rstrip("\n").split("\t") for l in open("models/imagenet_labels.tsv") if not l.startswith("#")]
        ids = [r[0] for r in rows]
        dogs = [len(r) > 2 and r[2] == "dog" for r in rows]
        if classes == 1001:
            ids, dogs = ["background"] + ids, [False] + dogs
        return ids, dogs
    ids = [l.strip()[:9] for l in open(path) if l.strip()]
    return ids, [True] * len(ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("dir")
    ap.add_argument("--labels")
    ap.add_argument("--kernels", default="xnnpack")
    ap.add_argument("--shared", default=os.environ.get("BREEDCAM_SHARED", "../shared"))
    ap.add_argument("--breedcam", default="target/release/breedcam")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.shared, "tools"))
    import tflite_ref
    it = tflite_ref.load(a.model, a.kernels)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    ids, dogs = labels_of(a.labels, int(out["shape"][-1]))
    photos = sorted(os.path.join(a.dir, f) for f in os.listdir(a.dir))
    photos = [p for p in photos if os.path.basename(p)[:9] in ids]
    hits = np.zeros(3)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [a.breedcam, "-q", "tensor", "--model", a.model, tmp] + photos
        if a.labels:
            cmd[3:3] = ["--labels", a.labels]
        subprocess.check_call(cmd)
        for p in photos:
            x = np.fromfile(os.path.join(tmp, os.path.basename(p) + ".bin"), dtype=inp["dtype"])
            it.set_tensor(inp["index"], x.reshape(inp["shape"]))
            it.invoke()
            y = it.get_tensor(out["index"]).reshape(-1).astype(np.float64)
            order = [i for i in np.argsort(-y, kind="stable") if dogs[i]][:5]
            rank = [ids[i] for i in order].index(os.path.basename(p)[:9]) if os.path.basename(p)[:9] in [ids[i] for i in order] else 9
            hits += [rank < 1, rank < 3, rank < 5]
    n = len(photos)
    print(f"{a.model} ({a.kernels}): top-1 {100*hits[0]/n:.1f}% top-3 {100*hits[1]/n:.1f}% top-5 {100*hits[2]/n:.1f}% (n={n})")


if __name__ == "__main__":
    main()
