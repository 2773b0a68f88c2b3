//! [`Segmenter`]: a DeepLabV3 PASCAL VOC segmenter (the committed `seg` / `seg-small`) run
//! through breedcam's own TFLite import, stopped at its class scores.
//!
//! The model ends in RESIZE_BILINEAR to the input size and ARG_MAX. breedcam imports it
//! only up to the tensor those start from, [`import::segmentation_logits`]: for DeepLabV3
//! at 513x513 the 33x33x21 uint8 logits (tensor 182), bit-identical to TFLite's (XNNPACK)
//! and what the locate stage needs for boxes. The upsampling and ARG_MAX to 513x513 cost
//! about a sixth of the run and add nothing a box needs; the full model still imports
//! (`Classifier::open`) and its ARG_MAX map is tested against TFLite too.
//!
//! [`Segmenter::class_map`] squashes the whole frame to the input size (no crop: the
//! `image` crate's triangle filter, as [`Crop::None`] does for classifiers) and feeds the
//! pixels as they are (input scale 1/128, zero point 128: byte = pixel).

use std::path::PathBuf;
use std::sync::Arc;

use image::RgbImage;
use tract_core::prelude::*;

use crate::engine::import::{self, Normalization, TensorSpec};
use crate::engine::kernels::steering;
use crate::engine::ops::quant::tensor_from_raw;
use crate::engine::threads;
use crate::model::{tensor_bytes, ModelSource};
use crate::preprocess::{Crop, Preprocessor};
use crate::Error;

/// The PASCAL VOC classes, in the segmenters' order.
pub const VOC_CLASSES: [&str; 21] = [
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "dining table",
    "dog",
    "horse",
    "motorbike",
    "person",
    "potted plant",
    "sheep",
    "sofa",
    "train",
    "tv/monitor",
];
/// PASCAL VOC class index of dog.
pub const DOG: usize = 12;

/// A segmenter's per-class scores on a coarse grid: `height` x `width` cells of `classes`
/// quantized logits each (HWC), real value `(q - zero_point) * scale`. An int8 model's
/// logits are stored shifted by 128 (and the zero point with them), so bytes always compare
/// as the real values do.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassMap {
    pub width: usize,
    pub height: usize,
    pub classes: usize,
    pub data: Vec<u8>,
    pub scale: f32,
    pub zero_point: i32,
}

impl ClassMap {
    /// The logits of cell (x, y).
    pub fn cell(&self, x: usize, y: usize) -> &[u8] {
        let at = (y * self.width + x) * self.classes;
        &self.data[at..at + self.classes]
    }

    /// The class with the largest score at (x, y); ties go to the lowest index, like
    /// TFLite's ARG_MAX.
    pub fn argmax(&self, x: usize, y: usize) -> usize {
        let cell = self.cell(x, y);
        let mut best = 0;
        for (k, &v) in cell.iter().enumerate() {
            if v > cell[best] {
                best = k;
            }
        }
        best
    }

    /// The real value of class `class`'s score at (x, y).
    pub fn logit(&self, x: usize, y: usize, class: usize) -> f32 {
        (self.cell(x, y)[class] as i32 - self.zero_point) as f32 * self.scale
    }
}

/// A segmenter, imported up to its class scores, optimised and planned.
pub struct Segmenter {
    /// The file, or the committed file an embedded model was built from.
    pub path: PathBuf,
    pub input: TensorSpec,
    /// The class-score tensor the run stops at.
    pub logits: TensorSpec,
    /// Time to import, and to optimise and plan (ms).
    pub import_ms: f64,
    pub optimise_ms: f64,
    pre: Preprocessor,
    plan: Arc<TypedSimplePlan>,
}

impl Segmenter {
    /// Imports a segmenter (embedded or a file) up to its class scores. Threads are the
    /// process's inference threads ([`crate::model::set_threads`]), as for the classifier.
    pub fn open(source: &ModelSource) -> Result<Segmenter, Error> {
        let path = source.path();
        let bytes = source.bytes()?;
        let model_err = |cause| Error::Model {
            path: path.clone(),
            cause,
        };
        let bad = |msg: String| Error::BadInput {
            path: path.clone(),
            msg,
        };
        steering::prepare();
        let started = std::time::Instant::now();
        let logits = import::segmentation_logits(&bytes).map_err(model_err)?;
        let imported = match logits {
            Some(t) => import::import_to(&bytes, Some(&[t])),
            None => import::import(&bytes),
        }
        .map_err(model_err)?;
        let import_ms = started.elapsed().as_secs_f64() * 1e3;
        let out = &imported.output;
        let eight_bit =
            |s: &TensorSpec| matches!(s.dtype.as_str(), "u8" | "i8") && s.quant.is_some();
        if out.shape.len() != 4 || out.shape[0] != 1 || !eight_bit(out) {
            return Err(bad(format!(
                "not a segmenter: its class scores '{}' are {} {:?}, not quantized 8-bit [1, H, W, classes]",
                out.name, out.dtype, out.shape
            )));
        }
        let input = imported.input.clone();
        let norm = match (&imported.survey.normalization, input.quant) {
            (Some(n), _) => n.clone(),
            (None, Some((scale, zp))) => Normalization {
                mean: vec![zp as f32 - if input.dtype == "i8" { -128.0 } else { 0.0 }],
                std: vec![1.0 / scale],
            },
            (None, None) => Normalization {
                mean: vec![127.5],
                std: vec![127.5],
            },
        };
        let pre = Preprocessor::new(&input, &norm, Crop::None).map_err(bad)?;
        let optimised = imported
            .model
            .into_optimized()
            .map_err(|e| model_err(import::ImportError::Invalid(format!("{e:#}"))))?;
        let plan = optimised.into_runnable()?;
        let optimise_ms = started.elapsed().as_secs_f64() * 1e3 - import_ms;
        Ok(Segmenter {
            path,
            logits: imported.output,
            input,
            import_ms,
            optimise_ms,
            pre,
            plan,
        })
    }

    /// The input picture's (width, height): 513x513 for the committed segmenters.
    pub fn input_size(&self) -> (u32, u32) {
        (self.pre.width as u32, self.pre.height as u32)
    }

    /// The input bytes for a frame: squashed to the input size, pixels as the model takes
    /// them. [`Segmenter::class_map`] is `class_map_raw(&input_bytes(frame))`.
    pub fn input_bytes(&self, frame: &RgbImage) -> Result<Vec<u8>, Error> {
        tensor_bytes(&self.pre.prepare(frame)?)
    }

    /// The class map of a frame (any size).
    pub fn class_map(&self, frame: &RgbImage) -> Result<ClassMap, Error> {
        self.run(self.pre.prepare(frame)?)
    }

    /// The class map of an input already at the input size (the model's raw input bytes,
    /// HWC, e.g. 513x513x3 uint8).
    pub fn class_map_raw(&self, input: &[u8]) -> Result<ClassMap, Error> {
        let n: usize = self.input.shape.iter().product();
        if input.len() != n {
            return Err(Error::Runtime(format!(
                "{} input bytes, {} takes {n} ({:?})",
                input.len(),
                self.path.display(),
                self.input.shape
            )));
        }
        self.run(tensor_from_raw(
            self.input.datum_type,
            &self.input.shape,
            input,
        )?)
    }

    fn run(&self, input: Tensor) -> Result<ClassMap, Error> {
        let inputs = tvec!(input.into_tvalue());
        let out = threads::inference(|| self.plan.run(inputs))?;
        let t = out
            .into_iter()
            .next()
            .ok_or_else(|| Error::Runtime("segmenter produced no output".into()))?;
        let mut data = tensor_bytes(&t)?;
        let (scale, mut zero_point) = self.logits.quant.unwrap_or((1.0, 0));
        if self.logits.dtype == "i8" {
            data.iter_mut().for_each(|b| *b ^= 0x80);
            zero_point += 128;
        }
        let s = &self.logits.shape;
        Ok(ClassMap {
            width: s[2],
            height: s[1],
            classes: s[3],
            data,
            scale,
            zero_point,
        })
    }
}
