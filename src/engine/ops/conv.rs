//! The 8-bit convolution: the one place that decides how a quantized convolution is computed.
//!
//! - depthwise with a depth multiplier of one: [`QDepthwise`], accumulating and requantizing
//!   in one loop;
//! - group-1 convolutions, when this build has a matmul kernel whose pixel packing breedcam
//!   writes: [`QPointwise`] for 1x1 stride-1 ones, [`QIm2col`] (patches gathered, then the
//!   same matmul) for the rest;
//! - anything else: tract's quantized `Conv` asked for the i32 accumulators only (scales of
//!   one), then one [`Requant`] pass.
//!
//! All of them round exactly as TFLite's XNNPACK does, so the choice never changes a result.

use tract_core::internal::*;
use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_core::ops::nn::DataFormat;

use super::depthwise::QDepthwise;
use super::im2col::QIm2col;
use super::pointwise::QPointwise;
use super::quant::{bytes_of, Q8};
use super::requant::{KernelZeroPoint, Requant, RequantSpec};
use super::window::Window;

/// A quantized convolution as the model states it, before an implementation is chosen.
pub struct QConv<'a> {
    /// NHWC input shape.
    pub input: [usize; 4],
    pub x: Q8,
    pub x0: i32,
    /// OHWI kernel `[O / group, kh, kw, I]`, 8-bit, outputs group-major.
    pub kernel: &'a Tensor,
    pub k: Q8,
    pub k0: i32,
    /// The i32 accumulator bias, one per output channel.
    pub bias: Vec<i32>,
    pub strides: (usize, usize),
    pub dilations: (usize, usize),
    /// TFLite SAME padding (else VALID).
    pub same: bool,
    pub group: usize,
    pub requant: RequantSpec,
}

impl QConv<'_> {
    /// Wires the convolution into `model` on input `x`, its nodes named after `name` and its
    /// constants after `consts`; returns the 8-bit output.
    pub fn wire(
        self,
        model: &mut TypedModel,
        name: &str,
        consts: &str,
        x: OutletId,
    ) -> TractResult<OutletId> {
        let ks = self.kernel.shape().to_vec();
        let (o, kh, kw, c) = (ks[0] * self.group, ks[1], ks[2], ks[3]);
        let input = self.input;
        let node =
            |model: &mut TypedModel, suffix: &str, op: Box<dyn TypedOp>, ins: &[OutletId]| {
                let n = model.unique_name(format!("{name}{suffix}"));
                Ok::<_, TractError>(model.wire_node(n, op, ins)?[0])
            };
        if self.group > 1 && ks[0] == 1 && self.group == c {
            let window = Window::new(input, (kh, kw), self.strides, self.dilations, self.same)?;
            let kvals = bytes_of(self.kernel)?;
            // [1, kh, kw, c] bytes are already tap-major.
            let kernel: Vec<i16> = kvals
                .iter()
                .map(|&b| (self.k.value(b) - self.k0) as i16)
                .collect();
            let op = QDepthwise::new(window, kernel, self.bias, self.x, self.x0, self.requant);
            return node(model, "", Box::new(op), &[x]);
        }
        // uint8 kernels become int8 here (k - 128, zero point k0 - 128), so the matmul sees
        // an int8 kernel whose zero point can be folded in later.
        let (kernel, k0) = match self.k {
            Q8::U8 => {
                let k: Vec<i8> = bytes_of(self.kernel)?
                    .iter()
                    .map(|&b| (b ^ 0x80) as i8)
                    .collect();
                (Tensor::from_shape(self.kernel.shape(), &k)?, self.k0 - 128)
            }
            Q8::I8 => (self.kernel.clone(), self.k0),
        };
        // A pointwise convolution's kernel zero point is cheaper in Requant (see
        // KernelZeroPoint) than in tract; so is a gathered one's (QIm2col).
        let pointwise = (kh, kw) == (1, 1) && self.strides == (1, 1);
        let fold = (self.group == 1 && k0 != 0).then_some(KernelZeroPoint {
            k0,
            x0: self.x0,
            input: self.x,
        });
        // On tract-linalg's kernels, tiled by breedcam, when this build has a kernel whose
        // pixel packing breedcam writes (other group-1 convolutions gather their patches
        // first); else tract's Conv and one Requant pass.
        let on_kernels = if self.group == 1 {
            let kvals: Vec<i8> = bytes_of(&kernel)?.iter().map(|&b| b as i8).collect();
            // OHWI: each output channel's [kh][kw][c] is one patch-ordered row.
            QPointwise::new(
                kh * kw * c,
                o,
                &kvals,
                &self.bias,
                self.x,
                self.x0,
                self.requant.clone(),
                fold.clone(),
            )?
        } else {
            None
        };
        if let Some(op) = on_kernels {
            if pointwise {
                return node(model, "", Box::new(op), &[x]);
            }
            let window = Window::new(input, (kh, kw), self.strides, self.dilations, self.same)?;
            let op = QIm2col::new(window, self.x0, op)?;
            return node(model, "", Box::new(op), &[x]);
        }
        let conv = Conv {
            pool_spec: nhwc_pool_spec(
                (kh, kw),
                self.strides,
                self.dilations,
                self.same,
                input[3],
                o,
            ),
            kernel_fmt: KernelFormat::OHWI,
            group: self.group,
            // Scales of one make tract's own requantization vanish: it returns the i32
            // accumulators with bias and zero points applied.
            q_params: Some(i32::datum_type()),
        };
        // Requant's fold needs the pixels of the accumulators: pointwise only.
        let fold = fold.filter(|_| pointwise);
        let k0 = if fold.is_some() { 0 } else { k0 };
        let mut konst = |suffix: &str, t: Tensor| {
            let n = model.unique_name(format!("{consts}.{suffix}"));
            model.add_const(n, t)
        };
        let inputs = vec![
            x,
            konst("kernel", kernel)?,
            konst("bias", tensor1(&self.bias))?,
            konst("x0", tensor0(self.x0))?,
            konst("xscale", tensor0(1f32))?,
            konst("k0", tensor0(k0))?,
            konst("kscale", tensor0(1f32))?,
            konst("y0", tensor0(0i32))?,
            konst("yscale", tensor0(1f32))?,
        ];
        let acc = node(model, ".acc", Box::new(conv), &inputs)?;
        let ins = if fold.is_some() {
            vec![acc, x]
        } else {
            vec![acc]
        };
        node(model, "", Box::new(Requant(self.requant, fold)), &ins)
    }
}

/// tract's pooling geometry for an NHWC convolution with TFLite's SAME (extra padding after)
/// or VALID padding.
pub fn nhwc_pool_spec(
    (kh, kw): (usize, usize),
    strides: (usize, usize),
    dilations: (usize, usize),
    same: bool,
    input_channels: usize,
    output_channels: usize,
) -> PoolSpec {
    PoolSpec {
        data_format: DataFormat::NHWC,
        kernel_shape: tvec!(kh, kw),
        padding: if same {
            PaddingSpec::SameUpper
        } else {
            PaddingSpec::Valid
        },
        strides: Some(tvec!(strides.0, strides.1)),
        dilations: Some(tvec!(dilations.0, dilations.1)),
        input_channels,
        output_channels,
    }
}
