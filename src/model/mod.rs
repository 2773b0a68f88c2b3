//! The classifier: a TFLite model imported by [`crate::engine::import`], optimised by tract,
//! with the committed models, labels and input normalisation that go with it.

mod committed;
pub mod info;
pub mod labels;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use tract_core::prelude::*;

use crate::engine::kernels::steering;
use crate::engine::ops::quant::{retyped, tensor_from_raw};
use crate::engine::{import, report, threads};
use crate::preprocess::{Crop, Preprocessor};
use crate::Error;
pub use import::{Normalization, Survey, TensorSpec};
use labels::Labels;

pub use committed::{Committed, MODELS, SEGMENTERS};

/// Where a model comes from: a committed model embedded in the binary, or a TFLite file.
#[derive(Clone, Debug)]
pub enum ModelSource {
    Embedded(&'static Committed),
    File(PathBuf),
}

impl ModelSource {
    /// The default: `$BREEDCAM_MODEL` if set, else the embedded default (`lite2`).
    pub fn default_model() -> ModelSource {
        match std::env::var_os("BREEDCAM_MODEL") {
            Some(p) => ModelSource::File(PathBuf::from(p)),
            None => ModelSource::Embedded(&MODELS[0]),
        }
    }

    /// What `--model` names: an existing file is that file; a name of [`MODELS`] or [`SEGMENTERS`] is that
    /// embedded model; anything with a path separator or a file extension is a path (a
    /// missing one fails later, when it is read, naming the file); any other word is an
    /// unknown name, an error that lists the names.
    pub fn resolve(arg: &Path) -> Result<ModelSource, Error> {
        if arg.is_file() {
            return Ok(ModelSource::File(arg.into()));
        }
        if let Some(m) = committed::by_name(&arg.to_string_lossy()) {
            return Ok(ModelSource::Embedded(m));
        }
        if arg.components().count() > 1 || arg.extension().is_some() {
            return Ok(ModelSource::File(arg.into()));
        }
        let names: Vec<String> = committed::all()
            .map(|m| format!("{} ({})", m.name, m.file))
            .collect();
        Err(Error::BadInput {
            path: arg.into(),
            msg: format!(
                "no such model file, and not a model name; the names are: {}",
                names.join(", ")
            ),
        })
    }

    /// The file, or for an embedded model its committed name (`lite2`): the name reports
    /// and errors use (an installed breedcam has no `models/` folder).
    pub fn path(&self) -> PathBuf {
        match self {
            ModelSource::Embedded(m) => PathBuf::from(m.name),
            ModelSource::File(p) => p.clone(),
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, ModelSource::Embedded(_))
    }

    /// The model's bytes (read from the file, or the embedded copy).
    pub fn bytes(&self) -> Result<std::borrow::Cow<'static, [u8]>, Error> {
        match self {
            ModelSource::Embedded(m) => Ok(m.bytes.into()),
            ModelSource::File(p) => Ok(crate::input::read(p, crate::input::Kind::Model)?.into()),
        }
    }
}

/// Test-time augmentation: which views of the fitted picture are averaged.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tta {
    /// The picture as fitted (one inference).
    #[default]
    None,
    /// The fitted picture and its mirror image: their probabilities averaged (two inferences).
    Flip,
}

/// Where the normalisation in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NormSource {
    Flags,
    Metadata,
    Sidecar,
    /// No statement anywhere: raw pixels for 8-bit inputs (`q = p` for uint8, `q = p - 128`
    /// for int8), [-1, 1] for float inputs.
    Default,
}

/// Optional `<model>.json` beside a model: `{"mean": [..], "std": [..], "labels": "file"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    pub mean: Option<Vec<f32>>,
    pub std: Option<Vec<f32>>,
    pub labels: Option<PathBuf>,
}

/// How to load a model.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub labels: Option<PathBuf>,
    /// Overrides of the normalisation (both must be given).
    pub mean: Option<Vec<f32>>,
    pub std: Option<Vec<f32>>,
}

pub struct Classifier {
    /// The file, or an embedded model's committed name (`lite2`).
    pub path: PathBuf,
    /// Whether the model is one embedded in the binary (else it was read from `path`).
    pub embedded: bool,
    pub input: TensorSpec,
    pub output: TensorSpec,
    pub survey: Survey,
    pub normalization: Normalization,
    pub norm_source: NormSource,
    /// `None` when neither a labels file nor the built-in ImageNet table fits the model.
    pub labels: Option<Labels>,
    pub file_size: usize,
    /// Whether the model ends in a softmax (else `run` applies one to its logits).
    pub output_is_probability: bool,
    /// Time to verify and import the file, and to optimise and plan the graph (ms).
    pub import_ms: f64,
    pub optimise_ms: f64,
    /// sha256 of the model file, hex.
    pub sha256: String,
    /// tract-linalg's matmul kernels in the optimised plan (see [`kernels`]).
    pub matmul_kernels: Vec<report::KernelUse>,
    plan: Arc<TypedSimplePlan>,
}

/// The model's sidecar (`<model>.json` beside a file; embedded with an embedded model) and
/// the name it goes by.
fn sidecar_for(source: &ModelSource) -> Result<Option<(PathBuf, Sidecar)>, Error> {
    let side = source.path().with_extension("json");
    let text = match source {
        ModelSource::Embedded(m) => match m.sidecar {
            Some(t) => t.to_string(),
            None => return Ok(None),
        },
        ModelSource::File(_) => {
            if !side.exists() {
                return Ok(None);
            }
            crate::input::read_text(&side, crate::input::Kind::Sidecar)?
        }
    };
    let s: Sidecar = serde_json::from_str(&text).map_err(|e| Error::BadInput {
        path: side.clone(),
        msg: e.to_string(),
    })?;
    Ok(Some((side, s)))
}

/// The labels file a sidecar names: beside the sidecar, or embedded with the model.
fn sidecar_labels(source: &ModelSource, side: &Path, name: &Path) -> Result<Labels, Error> {
    match source {
        ModelSource::File(_) => Labels::load(&side.parent().unwrap_or(Path::new(".")).join(name)),
        ModelSource::Embedded(m) => m
            .labels
            .iter()
            .find(|(file, _)| Path::new(file) == name)
            .map(|(_, text)| Labels::parse(text))
            .ok_or_else(|| Error::BadInput {
                path: side.into(),
                msg: format!("names labels {}, which is not embedded", name.display()),
            }),
    }
}

fn check_norm(path: &Path, mean: &[f32], std: &[f32]) -> Result<(), Error> {
    let ok_len = |v: &[f32]| v.len() == 1 || v.len() == 3;
    if !ok_len(mean)
        || !ok_len(std)
        || std.iter().any(|s| *s == 0.0 || !s.is_finite())
        || mean.iter().any(|m| !m.is_finite())
    {
        return Err(Error::BadInput {
            path: path.into(),
            msg: "mean/std need 1 or 3 finite values, std non-zero".into(),
        });
    }
    Ok(())
}

impl Classifier {
    /// Reads, verifies, imports and optimises a TFLite file.
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Classifier, Error> {
        Classifier::open(&ModelSource::File(path.into()), opts)
    }

    /// Verifies, imports and optimises a model, embedded or from a file.
    pub fn open(source: &ModelSource, opts: &LoadOptions) -> Result<Classifier, Error> {
        let path = &source.path();
        let bytes = source.bytes()?;
        let model_err = |cause| Error::Model {
            path: path.into(),
            cause,
        };
        steering::prepare();
        let started = std::time::Instant::now();
        let imported = import::import(&bytes).map_err(model_err)?;
        let import_ms = started.elapsed().as_secs_f64() * 1e3;
        let output_is_probability = imported.output_is_probability;
        let sidecar = sidecar_for(source)?;

        let (normalization, norm_source) = match (
            &opts.mean,
            &opts.std,
            &imported.survey.normalization,
            &sidecar,
        ) {
            (Some(m), Some(s), _, _) => (
                Normalization {
                    mean: m.clone(),
                    std: s.clone(),
                },
                NormSource::Flags,
            ),
            (None, None, Some(n), _) => (n.clone(), NormSource::Metadata),
            (
                None,
                None,
                None,
                Some((
                    _,
                    Sidecar {
                        mean: Some(m),
                        std: Some(s),
                        ..
                    },
                )),
            ) => (
                Normalization {
                    mean: m.clone(),
                    std: s.clone(),
                },
                NormSource::Sidecar,
            ),
            (None, None, _, _) => {
                let n = match imported.input.quant {
                    // Raw pixels onto the calibrated input range: q = p for uint8, q = p - 128
                    // for int8, i.e. x = (p + qmin - zp) * scale.
                    Some((scale, zp)) => {
                        let qmin = if imported.input.dtype == "i8" {
                            -128.0
                        } else {
                            0.0
                        };
                        Normalization {
                            mean: vec![zp as f32 - qmin],
                            std: vec![1.0 / scale],
                        }
                    }
                    None => Normalization {
                        mean: vec![127.5],
                        std: vec![127.5],
                    },
                };
                log::warn!(
                    "{}: no normalisation in metadata or sidecar; assuming {:?}",
                    path.display(),
                    n
                );
                (n, NormSource::Default)
            }
            _ => {
                return Err(Error::BadInput {
                    path: path.into(),
                    msg: "give both --mean and --std, or neither".into(),
                })
            }
        };
        check_norm(path, &normalization.mean, &normalization.std)?;

        let classes = imported.output.shape.last().copied().unwrap_or(0);
        let labels = match (&opts.labels, &sidecar) {
            (Some(p), _) => Some(Labels::load(p)?),
            (
                None,
                Some((
                    side,
                    Sidecar {
                        labels: Some(name), ..
                    },
                )),
            ) => Some(sidecar_labels(source, side, name)?),
            (None, _) => Labels::builtin_for(classes),
        };
        if let Some(l) = &labels {
            if l.len() != classes {
                return Err(Error::BadInput {
                    path: path.into(),
                    msg: format!(
                        "the model has {classes} classes but its labels have {}",
                        l.len()
                    ),
                });
            }
        }

        let optimised = imported
            .model
            .into_optimized()
            .map_err(|e| model_err(import::ImportError::Invalid(format!("{e:#}"))))?;
        let matmul_kernels = report::matmul_kernels(&optimised);
        let plan = optimised.into_runnable()?;
        let optimise_ms = started.elapsed().as_secs_f64() * 1e3 - import_ms;
        Ok(Classifier {
            path: path.into(),
            embedded: source.is_embedded(),
            input: imported.input,
            output: imported.output,
            survey: imported.survey,
            normalization,
            norm_source,
            labels,
            file_size: bytes.len(),
            output_is_probability,
            import_ms,
            optimise_ms,
            sha256: format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            matmul_kernels,
            plan,
        })
    }

    /// The labels, or an error naming the model and saying why they were needed.
    pub fn labels_or(&self, why: &str) -> Result<&Labels, Error> {
        self.labels.as_ref().ok_or_else(|| Error::BadInput {
            path: self.path.clone(),
            msg: why.into(),
        })
    }

    pub fn preprocessor(&self, crop: Crop) -> Result<Preprocessor, Error> {
        Preprocessor::new(&self.input, &self.normalization, crop).map_err(|msg| Error::BadInput {
            path: self.path.clone(),
            msg,
        })
    }

    /// The model's input tensor from raw bytes (the model's dtype and shape, little-endian).
    pub fn tensor_from_bytes(&self, bytes: &[u8]) -> Result<Tensor, String> {
        let shape = &self.input.shape;
        let n: usize = shape.iter().product();
        match self.input.datum_type.unquantized() {
            DatumType::U8 | DatumType::I8 if bytes.len() == n => {}
            DatumType::F32 if bytes.len() == 4 * n => {}
            dt => {
                return Err(format!(
                    "{} bytes do not make a {dt:?} tensor of shape {shape:?}",
                    bytes.len()
                ))
            }
        }
        tensor_from_raw(self.input.datum_type, shape, bytes).map_err(|e| e.to_string())
    }

    /// Runs the model on an input tensor; returns its raw first output.
    pub fn run_raw(&self, input: Tensor) -> Result<Tensor, Error> {
        if input.shape() != self.input.shape.as_slice()
            || input.datum_type().unquantized() != self.input.datum_type.unquantized()
        {
            return Err(Error::Runtime(format!(
                "input {:?} {:?} does not match the model's {:?} {:?}",
                input.shape(),
                input.datum_type(),
                self.input.shape,
                self.input.datum_type
            )));
        }
        let input = retyped(input, self.input.datum_type)?;
        let inputs = tvec!(input.into_tvalue());
        // With several threads, the pool's helpers stay awake for the whole inference.
        let out = threads::inference(|| self.plan.run(inputs))?;
        Ok(out
            .into_iter()
            .next()
            .ok_or_else(|| Error::Runtime("model produced no output".into()))?
            .into_tensor())
    }

    /// Runs the model; returns one probability per class (dequantized; a softmax is applied
    /// when the model outputs logits).
    pub fn run(&self, input: Tensor) -> Result<Vec<f32>, Error> {
        let raw = self.run_raw(input)?;
        let mut v = dequantize(&raw, self.output.quant)?;
        if !self.output_is_probability {
            let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            v.iter_mut().for_each(|x| *x = (*x - max).exp());
            let sum: f32 = v.iter().sum();
            v.iter_mut().for_each(|x| *x /= sum);
        }
        Ok(v)
    }
}

impl Classifier {
    /// The input tensor mirrored left to right (NHWC; any element type).
    pub fn mirrored(&self, input: &Tensor) -> Result<Tensor, Error> {
        let bytes = tensor_bytes(input)?;
        let shape = &self.input.shape;
        let (w, c) = match shape[..] {
            [_, _, w, c] => (w, c),
            _ => {
                return Err(Error::Runtime(format!(
                    "cannot mirror an input of shape {shape:?} (NHWC expected)"
                )))
            }
        };
        let px = bytes.len() / shape.iter().product::<usize>().max(1) * c;
        let mut out = Vec::with_capacity(bytes.len());
        for row in bytes.chunks_exact(w * px) {
            for x in (0..w).rev() {
                out.extend_from_slice(&row[x * px..(x + 1) * px]);
            }
        }
        self.tensor_from_bytes(&out).map_err(Error::Runtime)
    }

    /// [`Classifier::run`] with test-time augmentation: with [`Tta::Flip`], the mean of the
    /// probabilities of the input and of its mirror image.
    pub fn run_tta(&self, input: Tensor, tta: Tta) -> Result<Vec<f32>, Error> {
        match tta {
            Tta::None => self.run(input),
            Tta::Flip => {
                let flipped = self.mirrored(&input)?;
                let a = self.run(input)?;
                let b = self.run(flipped)?;
                Ok(a.iter().zip(&b).map(|(x, y)| (x + y) / 2.0).collect())
            }
        }
    }
}

/// The raw little-endian bytes of a tensor (what TFLite's reference tool reads and writes).
pub fn tensor_bytes(t: &Tensor) -> Result<Vec<u8>, Error> {
    let view = t.try_as_plain_ram()?;
    Ok(match t.datum_type().unquantized() {
        DatumType::U8 => view.as_slice::<u8>()?.to_vec(),
        DatumType::I8 => view.as_slice::<i8>()?.iter().map(|&v| v as u8).collect(),
        DatumType::F32 => view
            .as_slice::<f32>()?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        dt => {
            return Err(Error::Runtime(format!(
                "tensor type {dt:?} has no raw form here"
            )))
        }
    })
}

/// Use `n` inference threads from now on (1 = single-threaded): breedcam's pool for its own
/// ops, tract's executor for tract's.
/// A thread that cannot be started is an error (never a panic); the caller checks `n`
/// against [`threads::max_threads`] first.
pub fn set_threads(n: usize) -> Result<(), Error> {
    steering::prepare();
    let failed = |e: &dyn std::fmt::Display| {
        Error::Runtime(format!("cannot start {n} inference threads: {e}"))
    };
    threads::set_threads(n).map_err(|e| failed(&e))?;
    use tract_linalg::multithread::{set_default_executor, Executor};
    // tract-linalg's own Executor::multithread panics when a thread cannot be started: the
    // same pool, built here so that it is an error.
    set_default_executor(if n > 1 {
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("tract-default-{i}"))
            .num_threads(n)
            .build()
            .map_err(|e| failed(&e))?;
        Executor::MultiThread(Arc::new(pool))
    } else {
        Executor::SingleThread
    });
    Ok(())
}

/// An output tensor as f32 values.
pub fn dequantize(t: &Tensor, quant: Option<(f32, i32)>) -> Result<Vec<f32>, Error> {
    let (scale, zp) = quant.unwrap_or((1.0, 0));
    let deq = |q: i32| (q - zp) as f32 * scale;
    Ok(match t.datum_type().unquantized() {
        DatumType::F32 => t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec(),
        DatumType::U8 => t
            .try_as_plain_ram()?
            .as_slice::<u8>()?
            .iter()
            .map(|&q| deq(q as i32))
            .collect(),
        DatumType::I8 => t
            .try_as_plain_ram()?
            .as_slice::<i8>()?
            .iter()
            .map(|&q| deq(q as i32))
            .collect(),
        dt => {
            return Err(Error::Runtime(format!(
                "output type {dt:?} is not supported"
            )))
        }
    })
}
