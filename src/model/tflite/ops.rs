//! breedcam's own tract ops for the TFLite semantics tract-core has no op for.
//!
//! Convolutions and fully-connected layers go to tract's quantized `Conv` (8-bit ones through
//! [`super::qconv`]: i32 accumulators from tract, one fused requantization pass, depthwise in
//! our own loop); what is left are
//! cheap element-wise / reduction ops whose TFLite meaning (every tensor carries its own
//! scale and zero point) we implement here, each computing in the *output* tensor's
//! quantization:
//!
//! - [`Lut8`]: any unary map from an 8-bit tensor to an 8-bit tensor as a 256-entry table:
//!   requantization (QUANTIZE int8<->uint8), fused-activation clamps, LOGISTIC, TANH,
//!   HARD_SWISH.
//! - [`Binary`]: ADD / SUB / MUL with numpy broadcasting; quantized inputs are dequantized
//!   with their own parameters, combined, requantized with the output's, clamped to the
//!   fused activation's range. Same-shape quantized ADD (residual connections) runs in
//!   XNNPACK's fixed-point form instead, so it rounds exactly as TFLite does.
//! - [`AvgPool`]: AVERAGE_POOL_2D with TFLite's rounding; [`Mean`]: MEAN over axes.
//! - [`Softmax`], [`Quantize`] (f32 -> 8-bit), [`Dequantize`] (8-bit -> f32), [`ClampF32`].

use tract_core::internal::*;
use tract_core::ndarray::{ArrayD, IxDyn, Zip};

/// Scale and zero point of an 8-bit tensor (per-tensor quantization).
#[derive(Clone, Copy, Debug)]
pub struct QParams8 {
    pub scale: f32,
    pub zero_point: i32,
}

impl PartialEq for QParams8 {
    fn eq(&self, other: &Self) -> bool {
        self.scale.to_bits() == other.scale.to_bits() && self.zero_point == other.zero_point
    }
}
impl Eq for QParams8 {}

impl QParams8 {
    pub fn dequantize(&self, q: i32) -> f32 {
        (q - self.zero_point) as f32 * self.scale
    }
    /// Nearest quantized value, not clamped. Like TFLite's QUANTIZE kernels (builtin and
    /// XNNPACK alike) this multiplies by the f32 inverse of the scale rather than dividing:
    /// inputs normalised as `(p - 127.5) / 127.5` sit exactly on rounding ties, and the two
    /// forms break those ties differently.
    pub fn quantize_unclamped(&self, x: f32) -> i32 {
        let v = (x * (1.0 / self.scale)).round();
        let v = v.clamp(i32::MIN as f32 / 2.0, i32::MAX as f32 / 2.0);
        v as i32 + self.zero_point
    }
}

/// The storage type of a quantized 8-bit tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Q8 {
    I8,
    U8,
}

impl Q8 {
    pub fn of(dt: DatumType) -> Option<Q8> {
        match dt.unquantized() {
            DatumType::I8 => Some(Q8::I8),
            DatumType::U8 => Some(Q8::U8),
            _ => None,
        }
    }
    pub fn min(self) -> i32 {
        match self {
            Q8::I8 => -128,
            Q8::U8 => 0,
        }
    }
    pub fn max(self) -> i32 {
        match self {
            Q8::I8 => 127,
            Q8::U8 => 255,
        }
    }
    /// The stored byte of real value `x` in quantization `p`, saturated to this type.
    pub fn quantize(self, p: QParams8, x: f32) -> u8 {
        self.to_byte(p.quantize_unclamped(x).clamp(self.min(), self.max()))
    }

    /// The byte that stores `v` (already clamped to this type's range).
    fn to_byte(self, v: i32) -> u8 {
        match self {
            Q8::I8 => (v as i8) as u8,
            Q8::U8 => v as u8,
        }
    }
    pub fn value(self, b: u8) -> i32 {
        match self {
            Q8::I8 => (b as i8) as i32,
            Q8::U8 => b as i32,
        }
    }
}

/// The bytes of an 8-bit tensor (int8 or uint8, quantized or not).
pub fn bytes_of(t: &Tensor) -> TractResult<&[u8]> {
    let view = t.try_as_plain_ram()?;
    match t.datum_type().unquantized() {
        DatumType::U8 => view.as_slice::<u8>(),
        DatumType::I8 => {
            let s = view.as_slice::<i8>()?;
            // SAFETY: i8 and u8 have the same size, alignment and validity.
            Ok(unsafe { std::slice::from_raw_parts(s.as_ptr() as *const u8, s.len()) })
        }
        dt => bail!("expected an 8-bit tensor, got {dt:?}"),
    }
}

/// A tensor of datum type `dt` (8-bit, possibly quantized) holding `bytes`.
pub fn tensor_from_bytes(dt: DatumType, shape: &[usize], bytes: &[u8]) -> TractResult<Tensor> {
    ensure!(Q8::of(dt).is_some(), "not an 8-bit type: {dt:?}");
    ensure!(
        shape.iter().product::<usize>() == bytes.len(),
        "shape {shape:?} vs {} bytes",
        bytes.len()
    );
    let mut t = unsafe { Tensor::from_raw::<u8>(shape, bytes)? };
    unsafe { t.set_datum_type(dt) };
    Ok(t)
}

/// A new tensor of 8-bit datum type `dt` whose bytes `fill` writes, every one of them: no
/// zeroing before and no copy after (`vec![0; n]` then [`tensor_from_bytes`] cost a memset
/// and a memcpy of each output on the inference thread while the pool's helpers waited).
pub fn filled_u8(
    dt: DatumType,
    shape: &[usize],
    fill: impl FnOnce(&mut [u8]) -> TractResult<()>,
) -> TractResult<Tensor> {
    ensure!(Q8::of(dt).is_some(), "not an 8-bit type: {dt:?}");
    // SAFETY: u8 has no invalid bit patterns; `fill` writes every byte before anything
    // reads the tensor, and on error the tensor is dropped unread.
    let mut t = unsafe { Tensor::uninitialized::<u8>(shape)? };
    fill(t.try_as_plain_ram_mut()?.as_slice_mut::<u8>()?)?;
    unsafe { t.set_datum_type(dt) };
    Ok(t)
}

/// The shape of a fact, which must be fully known (breedcam imports static shapes only).
pub fn static_shape(fact: &TypedFact) -> TractResult<&[usize]> {
    fact.shape.as_concrete().context("static shapes only")
}

/// Clamp bounds, in quantized units, of a fused activation on an 8-bit output.
/// Always `lo <= hi`, both within the type's range, however odd the quantization (a zero
/// point beyond the range once made `lo > hi`: the second fuzzer finding).
pub fn activation_range(q: Q8, p: QParams8, lo: Option<f32>, hi: Option<f32>) -> (i32, i32) {
    let lo = lo.map_or(q.min(), |l| p.quantize_unclamped(l).clamp(q.min(), q.max()));
    let hi = hi.map_or(q.max(), |h| p.quantize_unclamped(h).clamp(q.min(), q.max()));
    (lo, hi.max(lo))
}

// ---------------------------------------------------------------------------------------
// Lut8

/// 8-bit -> 8-bit element-wise map through a 256-entry table indexed by the input byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lut8 {
    pub what: String,
    pub table: Vec<u8>,
    pub input: Q8,
    pub out_dt: DatumType,
}

impl Lut8 {
    /// A table from a function on the quantized integer values (already clamped by the caller
    /// or clamped here to the output range).
    pub fn from_fn(
        what: impl Into<String>,
        input: Q8,
        out_dt: DatumType,
        f: impl Fn(i32) -> i32,
    ) -> TractResult<Lut8> {
        let out = Q8::of(out_dt).context("Lut8 output must be 8-bit")?;
        let table = (0..=255u8)
            .map(|b| out.to_byte(f(input.value(b)).clamp(out.min(), out.max())))
            .collect();
        Ok(Lut8 {
            what: what.into(),
            table,
            input,
            out_dt,
        })
    }

    /// Requantize `x` (in `pin`) through the real function `f` into `pout`.
    pub fn real_fn(
        what: impl Into<String>,
        input: Q8,
        pin: QParams8,
        out_dt: DatumType,
        pout: QParams8,
        f: impl Fn(f32) -> f32,
    ) -> TractResult<Lut8> {
        Lut8::from_fn(what, input, out_dt, |q| {
            pout.quantize_unclamped(f(pin.dequantize(q)))
        })
    }
}

impl Op for Lut8 {
    fn name(&self) -> StaticName {
        "breedcam.Lut8".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![self.what.clone()])
    }
    op_as_typed_op!();
}

impl EvalOp for Lut8 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let bytes = bytes_of(&x)?;
        let out: Vec<u8> = bytes.iter().map(|&b| self.table[b as usize]).collect();
        Ok(tvec!(
            tensor_from_bytes(self.out_dt, x.shape(), &out)?.into_tvalue()
        ))
    }
}

impl TypedOp for Lut8 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type) == Some(self.input));
        Ok(tvec!(self.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}

// ---------------------------------------------------------------------------------------
// Binary

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinKind {
    Add,
    Sub,
    Mul,
}

impl BinKind {
    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinKind::Add => a + b,
            BinKind::Sub => a - b,
            BinKind::Mul => a * b,
        }
    }
}

/// Element-wise binary op with numpy broadcasting. `quant` is `Some((a, b, out))` for
/// 8-bit tensors, `None` for f32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binary {
    pub kind: BinKind,
    pub quant: Option<(QParams8, QParams8, QParams8)>,
    pub out_dt: DatumType,
    /// Fused activation: quantized clamp bounds for 8-bit, real bounds (as bits) for f32.
    pub clamp: (i32, i32),
}

impl Binary {
    pub fn float(kind: BinKind, lo: Option<f32>, hi: Option<f32>) -> Binary {
        let lo = lo.unwrap_or(f32::NEG_INFINITY).to_bits() as i32;
        let hi = hi.unwrap_or(f32::INFINITY).to_bits() as i32;
        Binary {
            kind,
            quant: None,
            out_dt: f32::datum_type(),
            clamp: (lo, hi),
        }
    }
}

fn broadcast_shape(a: &[usize], b: &[usize]) -> TractResult<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() < rank {
            1
        } else {
            s[i + s.len() - rank]
        }
    };
    (0..rank)
        .map(|i| {
            let (x, y) = (dim(a, i), dim(b, i));
            if x == y || y == 1 {
                Ok(x)
            } else if x == 1 {
                Ok(y)
            } else {
                bail!("shapes {a:?} and {b:?} do not broadcast")
            }
        })
        .collect()
}

impl Op for Binary {
    fn name(&self) -> StaticName {
        format!("breedcam.{:?}", self.kind).into()
    }
    op_as_typed_op!();
}

impl EvalOp for Binary {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (a, b) = args_2!(inputs);
        let shape = broadcast_shape(a.shape(), b.shape())?;
        let out = match self.quant {
            None => {
                let (lo, hi) = (
                    f32::from_bits(self.clamp.0 as u32),
                    f32::from_bits(self.clamp.1 as u32),
                );
                let av = a.to_plain_array_view::<f32>()?;
                let bv = b.to_plain_array_view::<f32>()?;
                let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
                Zip::from(&mut out)
                    .and_broadcast(&av)
                    .and_broadcast(&bv)
                    .for_each(|o, &x, &y| *o = self.kind.apply(x, y).max(lo).min(hi));
                out.into_tensor()
            }
            Some((pa, pb, po)) => {
                let qa = Q8::of(a.datum_type()).context("8-bit input expected")?;
                let qb = Q8::of(b.datum_type()).context("8-bit input expected")?;
                let qo = Q8::of(self.out_dt).context("8-bit output expected")?;
                if let Some(fixed) = (self.kind == BinKind::Add && a.shape() == b.shape())
                    .then(|| FixedAdd::new(pa, pb, po))
                    .flatten()
                {
                    let (x, y) = (bytes_of(&a)?, bytes_of(&b)?);
                    let (lo, hi) = self.clamp;
                    let out = filled_u8(self.out_dt, &shape, |out| {
                        // 16 KiB per item: a residual add is one pass over memory.
                        let per = 16 * 1024;
                        super::par::for_chunks(out, per, |i, o| {
                            let (x, y) = (&x[i * per..][..o.len()], &y[i * per..][..o.len()]);
                            for ((o, &x), &y) in o.iter_mut().zip(x).zip(y) {
                                let v = fixed.apply(qa.value(x), qb.value(y));
                                *o = qo.to_byte(v.clamp(lo, hi));
                            }
                        });
                        Ok(())
                    })?;
                    return Ok(tvec!(out.into_tvalue()));
                }
                let av =
                    tract_core::ndarray::ArrayViewD::from_shape(IxDyn(a.shape()), bytes_of(&a)?)?;
                let bv =
                    tract_core::ndarray::ArrayViewD::from_shape(IxDyn(b.shape()), bytes_of(&b)?)?;
                let mut out = ArrayD::<u8>::zeros(IxDyn(&shape));
                let (lo, hi) = self.clamp;
                Zip::from(&mut out)
                    .and_broadcast(&av)
                    .and_broadcast(&bv)
                    .for_each(|o, &x, &y| {
                        let v = self
                            .kind
                            .apply(pa.dequantize(qa.value(x)), pb.dequantize(qb.value(y)));
                        *o = qo.to_byte(po.quantize_unclamped(v).clamp(lo, hi));
                    });
                let bytes = out.into_raw_vec_and_offset().0;
                tensor_from_bytes(self.out_dt, &shape, &bytes)?
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

/// Quantized addition in fixed point, as XNNPACK (TFLite's default CPU delegate) computes it:
/// both input-to-output scale ratios become integer multipliers sharing one shift chosen so
/// the larger has 21 bits, and the sum rounds half up.
#[derive(Clone, Copy, Debug)]
struct FixedAdd {
    a_mul: i64,
    b_mul: i64,
    bias: i64,
    shift: u32,
    zero_point: i32,
}

impl FixedAdd {
    /// `None` when a scale ratio is outside what XNNPACK accepts ([2^-10, 2^8)).
    fn new(pa: QParams8, pb: QParams8, po: QParams8) -> Option<FixedAdd> {
        let (ra, rb) = (pa.scale / po.scale, pb.scale / po.scale);
        let ok = |r: f32| r.is_finite() && (2f32.powi(-10)..2f32.powi(8)).contains(&r);
        if !ok(ra) || !ok(rb) {
            return None;
        }
        let max = ra.max(rb);
        let exponent = ((max.to_bits() >> 23) & 0xff) as i32 - 127;
        let shift = (20 - exponent) as u32;
        let a_mul = (ra * 2f32.powi(shift as i32)).round_ties_even() as i64;
        let b_mul = (rb * 2f32.powi(shift as i32)).round_ties_even() as i64;
        let bias =
            (1i64 << (shift - 1)) - a_mul * pa.zero_point as i64 - b_mul * pb.zero_point as i64;
        Some(FixedAdd {
            a_mul,
            b_mul,
            bias,
            shift,
            zero_point: po.zero_point,
        })
    }

    #[inline]
    fn apply(&self, a: i32, b: i32) -> i32 {
        let acc = self.bias + a as i64 * self.a_mul + b as i64 * self.b_mul;
        (acc >> self.shift).clamp(-(1 << 20), 1 << 20) as i32 + self.zero_point
    }
}

impl TypedOp for Binary {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let (a, b) = (static_shape(inputs[0])?, static_shape(inputs[1])?);
        Ok(tvec!(self.out_dt.fact(broadcast_shape(a, b)?)))
    }
    as_op!();
}

// ---------------------------------------------------------------------------------------
// Pools and reductions

/// Geometry of a 2-D NHWC window op with TFLite's SAME / VALID padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub input: [usize; 4],
    pub kernel: (usize, usize),
    pub strides: (usize, usize),
    pub dilations: (usize, usize),
    /// Padding before the first row / column (TFLite puts the odd one after).
    pub pad: (usize, usize),
    pub output: (usize, usize),
}

impl Window {
    pub fn new(
        input: [usize; 4],
        kernel: (usize, usize),
        strides: (usize, usize),
        dilations: (usize, usize),
        same: bool,
    ) -> TractResult<Window> {
        let axis = |i: usize, k: usize, s: usize, d: usize| -> TractResult<(usize, usize)> {
            ensure!(k > 0 && s > 0 && d > 0, "zero kernel, stride or dilation");
            let reach = (k - 1)
                .checked_mul(d)
                .and_then(|r| r.checked_add(1))
                .context("kernel reach overflows")?;
            if same {
                let out = i.div_ceil(s);
                let needed = (out.saturating_sub(1)) * s + reach;
                Ok((out, needed.saturating_sub(i) / 2))
            } else {
                ensure!(i >= reach, "kernel reach {reach} exceeds input {i}");
                Ok(((i - reach) / s + 1, 0))
            }
        };
        let (oh, pt) = axis(input[1], kernel.0, strides.0, dilations.0)?;
        let (ow, pl) = axis(input[2], kernel.1, strides.1, dilations.1)?;
        Ok(Window {
            input,
            kernel,
            strides,
            dilations,
            pad: (pt, pl),
            output: (oh, ow),
        })
    }
}

impl Window {
    /// The input row that output row `oy`'s kernel row `ky` reads, `None` in the padding.
    #[inline]
    pub fn input_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.strides.0 + ky * self.dilations.0)
            .checked_sub(self.pad.0)
            .filter(|&y| y < self.input[1])
    }

    /// The input column that output column `ox`'s kernel column `kx` reads, `None` in the
    /// padding.
    #[inline]
    pub fn input_col(&self, ox: usize, kx: usize) -> Option<usize> {
        (ox * self.strides.1 + kx * self.dilations.1)
            .checked_sub(self.pad.1)
            .filter(|&x| x < self.input[2])
    }
}

/// AVERAGE_POOL_2D on NHWC; padded positions are not counted (TFLite semantics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvgPool {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// TFLite SAME padding (before = total / 2) when true, VALID otherwise.
    pub same: bool,
    /// 8-bit: quantized clamp bounds of the fused activation; f32: bits of real bounds.
    pub clamp: (i32, i32),
    pub out_dt: DatumType,
}

impl AvgPool {
    /// Output size and padding: the same TFLite SAME / VALID rule as convolutions.
    fn window(&self, shape: &[usize]) -> TractResult<Window> {
        let input: [usize; 4] = shape
            .try_into()
            .map_err(|_| format_err!("AVERAGE_POOL_2D wants NHWC input, got {shape:?}"))?;
        Window::new(input, self.kernel, self.stride, (1, 1), self.same)
    }

    fn out_shape(&self, shape: &[usize]) -> TractResult<[usize; 4]> {
        let w = self.window(shape)?;
        Ok([shape[0], w.output.0, w.output.1, shape[3]])
    }
}

/// For each pooling window (batch, rows ya..yb, columns xa..xb) of an NHWC tensor of
/// `shape`, the per-channel sums of `value(flat index)` and the number of positions summed.
fn window_sums<A: Copy + Default + std::ops::AddAssign>(
    windows: &[(usize, usize, usize, usize, usize)],
    shape: &[usize],
    value: impl Fn(usize) -> A,
    mut emit: impl FnMut(&[A], usize),
) {
    let c = shape[3];
    let mut acc = vec![A::default(); c];
    for &(n, ya, yb, xa, xb) in windows {
        acc.iter_mut().for_each(|a| *a = A::default());
        for y in ya..yb {
            for x in xa..xb {
                let base = ((n * shape[1] + y) * shape[2] + x) * c;
                for (k, a) in acc.iter_mut().enumerate() {
                    *a += value(base + k);
                }
            }
        }
        emit(&acc, ((yb - ya) * (xb - xa)).max(1));
    }
}

impl Op for AvgPool {
    fn name(&self) -> StaticName {
        "breedcam.AvgPool".into()
    }
    op_as_typed_op!();
}

impl EvalOp for AvgPool {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let s = x.shape();
        let w = self.window(s)?;
        let o = [s[0], w.output.0, w.output.1, s[3]];
        let (ph, pw) = w.pad;
        let c = s[3];
        // Visit every output position with its clipped window; `sum` accumulates one channel row.
        let mut windows = Vec::with_capacity(o[0] * o[1] * o[2]);
        for n in 0..o[0] {
            for oy in 0..o[1] {
                let y0 = (oy * self.stride.0) as isize - ph as isize;
                let (ya, yb) = (
                    y0.max(0) as usize,
                    ((y0 + self.kernel.0 as isize) as usize).min(s[1]),
                );
                for ox in 0..o[2] {
                    let x0 = (ox * self.stride.1) as isize - pw as isize;
                    let (xa, xb) = (
                        x0.max(0) as usize,
                        ((x0 + self.kernel.1 as isize) as usize).min(s[2]),
                    );
                    windows.push((n, ya, yb, xa, xb));
                }
            }
        }
        let out = if let Some(q) = Q8::of(x.datum_type()) {
            let data = bytes_of(&x)?;
            let mut out = Vec::with_capacity(windows.len() * c);
            window_sums(
                &windows,
                s,
                |i| q.value(data[i]),
                |sums, count| {
                    let count = count as i32;
                    for &a in sums {
                        // TFLite: round half away from zero with integer division.
                        let avg = if a > 0 {
                            (a + count / 2) / count
                        } else {
                            (a - count / 2) / count
                        };
                        out.push(q.to_byte(avg.clamp(self.clamp.0, self.clamp.1)));
                    }
                },
            );
            tensor_from_bytes(self.out_dt, &o, &out)?
        } else {
            let data = x.try_as_plain_ram()?.as_slice::<f32>()?;
            let (lo, hi) = (
                f32::from_bits(self.clamp.0 as u32),
                f32::from_bits(self.clamp.1 as u32),
            );
            let mut out = Vec::with_capacity(windows.len() * c);
            window_sums(
                &windows,
                s,
                |i| data[i],
                |sums, count| {
                    out.extend(sums.iter().map(|a| (a / count as f32).max(lo).min(hi)));
                },
            );
            Tensor::from_shape(&o, &out)?
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for AvgPool {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self
            .out_dt
            .fact(self.out_shape(static_shape(inputs[0])?)?)))
    }
    as_op!();
}

// ---------------------------------------------------------------------------------------
// Softmax, Quantize, Dequantize, ClampF32

/// SOFTMAX over the last axis: `exp(beta * x)` normalised. 8-bit tensors are dequantized
/// with their own parameters and the result requantized with the output's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Softmax {
    pub beta_bits: u32,
    pub quant: Option<(QParams8, QParams8)>,
    pub out_dt: DatumType,
}

impl Op for Softmax {
    fn name(&self) -> StaticName {
        "breedcam.Softmax".into()
    }
    op_as_typed_op!();
}

fn softmax_rows(x: &[f32], row: usize, beta: f32, out: &mut Vec<f32>) {
    for r in x.chunks(row.max(1)) {
        let max = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = out.len();
        out.extend(r.iter().map(|v| ((v - max) * beta).exp()));
        let sum: f32 = out[start..].iter().sum();
        out[start..].iter_mut().for_each(|v| *v /= sum);
    }
}

impl EvalOp for Softmax {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let row = *x.shape().last().context("SOFTMAX on a scalar")?;
        let beta = f32::from_bits(self.beta_bits);
        let mut out = Vec::with_capacity(x.len());
        let out = match self.quant {
            None => {
                softmax_rows(
                    x.try_as_plain_ram()?.as_slice::<f32>()?,
                    row,
                    beta,
                    &mut out,
                );
                Tensor::from_shape(x.shape(), &out)?
            }
            Some((pin, pout)) => {
                let qi = Q8::of(x.datum_type()).context("8-bit input expected")?;
                let qo = Q8::of(self.out_dt).context("8-bit output expected")?;
                let real: Vec<f32> = bytes_of(&x)?
                    .iter()
                    .map(|&b| pin.dequantize(qi.value(b)))
                    .collect();
                softmax_rows(&real, row, beta, &mut out);
                let bytes: Vec<u8> = out.iter().map(|&p| qo.quantize(pout, p)).collect();
                tensor_from_bytes(self.out_dt, x.shape(), &bytes)?
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Softmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}

/// QUANTIZE from f32 to an 8-bit type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantize {
    pub out: QParams8,
    pub out_dt: DatumType,
}

impl Op for Quantize {
    fn name(&self) -> StaticName {
        "breedcam.Quantize".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Quantize {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let q = Q8::of(self.out_dt).context("8-bit output expected")?;
        let bytes: Vec<u8> = x
            .try_as_plain_ram()?
            .as_slice::<f32>()?
            .iter()
            .map(|&v| q.quantize(self.out, v))
            .collect();
        Ok(tvec!(
            tensor_from_bytes(self.out_dt, x.shape(), &bytes)?.into_tvalue()
        ))
    }
}

impl TypedOp for Quantize {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}

/// DEQUANTIZE from an 8-bit type to f32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dequantize {
    pub input: QParams8,
}

impl Op for Dequantize {
    fn name(&self) -> StaticName {
        "breedcam.Dequantize".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Dequantize {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let q = Q8::of(x.datum_type()).context("8-bit input expected")?;
        let v: Vec<f32> = bytes_of(&x)?
            .iter()
            .map(|&b| self.input.dequantize(q.value(b)))
            .collect();
        Ok(tvec!(Tensor::from_shape(x.shape(), &v)?.into_tvalue()))
    }
}

impl TypedOp for Dequantize {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::datum_type().fact(inputs[0].shape.clone())))
    }
    as_op!();
}

/// Clamp an f32 tensor (fused activations on float graphs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClampF32 {
    pub lo_bits: u32,
    pub hi_bits: u32,
}

impl ClampF32 {
    pub fn new(lo: Option<f32>, hi: Option<f32>) -> ClampF32 {
        ClampF32 {
            lo_bits: lo.unwrap_or(f32::NEG_INFINITY).to_bits(),
            hi_bits: hi.unwrap_or(f32::INFINITY).to_bits(),
        }
    }
}

impl Op for ClampF32 {
    fn name(&self) -> StaticName {
        "breedcam.ClampF32".into()
    }
    op_as_typed_op!();
}

impl EvalOp for ClampF32 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let (lo, hi) = (f32::from_bits(self.lo_bits), f32::from_bits(self.hi_bits));
        let mut t = x.into_tensor();
        t.try_as_plain_ram_mut()?
            .as_slice_mut::<f32>()?
            .iter_mut()
            .for_each(|v| *v = v.max(lo).min(hi));
        Ok(tvec!(t.into_tvalue()))
    }
}

impl TypedOp for ClampF32 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].clone().without_value()))
    }
    as_op!();
}

// ---------------------------------------------------------------------------------------
// Mean, float unary functions

/// MEAN over `axes` (sorted, distinct). 8-bit: dequantize, average, requantize with the
/// output's parameters (TFLite's int8 semantics); f32: a plain average.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mean {
    pub axes: Vec<usize>,
    pub keep_dims: bool,
    pub quant: Option<(QParams8, QParams8)>,
    pub out_dt: DatumType,
}

impl Mean {
    fn out_shape(&self, shape: &[usize]) -> TractResult<Vec<usize>> {
        ensure!(
            self.axes.iter().all(|&a| a < shape.len()),
            "MEAN axes {:?} on rank {}",
            self.axes,
            shape.len()
        );
        Ok(shape
            .iter()
            .enumerate()
            .filter_map(|(i, &d)| match (self.axes.contains(&i), self.keep_dims) {
                (false, _) => Some(d),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect())
    }
}

impl Op for Mean {
    fn name(&self) -> StaticName {
        "breedcam.Mean".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("axes {:?}", self.axes)])
    }
    op_as_typed_op!();
}

impl EvalOp for Mean {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let shape = x.shape().to_vec();
        let real: ArrayD<f32> = match self.quant {
            Some((pin, _)) => {
                let q = Q8::of(x.datum_type()).context("8-bit input expected")?;
                let v: Vec<f32> = bytes_of(&x)?
                    .iter()
                    .map(|&b| pin.dequantize(q.value(b)))
                    .collect();
                ArrayD::from_shape_vec(IxDyn(&shape), v)?
            }
            None => x.to_plain_array_view::<f32>()?.to_owned(),
        };
        let mut acc = real;
        for &axis in self.axes.iter().rev() {
            let n = acc.shape()[axis].max(1) as f32;
            acc = acc
                .sum_axis(tract_core::ndarray::Axis(axis))
                .mapv(|v| v / n);
        }
        let out_shape = self.out_shape(&shape)?;
        let values = acc.into_raw_vec_and_offset().0;
        let out = match self.quant {
            Some((_, pout)) => {
                let q = Q8::of(self.out_dt).context("8-bit output expected")?;
                let bytes: Vec<u8> = values.iter().map(|&v| q.quantize(pout, v)).collect();
                tensor_from_bytes(self.out_dt, &out_shape, &bytes)?
            }
            None => Tensor::from_shape(&out_shape, &values)?,
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Mean {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self
            .out_dt
            .fact(self.out_shape(static_shape(inputs[0])?)?)))
    }
    as_op!();
}

/// Element-wise functions on f32 tensors (the float forms of LOGISTIC, TANH, HARD_SWISH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryF32 {
    Logistic,
    Tanh,
    HardSwish,
}

impl UnaryF32 {
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnaryF32::Logistic => 1.0 / (1.0 + (-x).exp()),
            UnaryF32::Tanh => x.tanh(),
            UnaryF32::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
        }
    }
}

impl Op for UnaryF32 {
    fn name(&self) -> StaticName {
        format!("breedcam.{self:?}").into()
    }
    op_as_typed_op!();
}

impl EvalOp for UnaryF32 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let mut t = x.into_tensor();
        t.try_as_plain_ram_mut()?
            .as_slice_mut::<f32>()?
            .iter_mut()
            .for_each(|v| *v = self.apply(*v));
        Ok(tvec!(t.into_tvalue()))
    }
}

impl TypedOp for UnaryF32 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].datum_type == f32::datum_type());
        Ok(tvec!(inputs[0].clone().without_value()))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint8_to_int8_requantize_is_a_shift_by_128() {
        let p_in = QParams8 {
            scale: 0.0125,
            zero_point: 131,
        };
        let p_out = QParams8 {
            scale: 0.0125,
            zero_point: 3,
        };
        let dt = i8::datum_type().quantize(QParams::ZpScale {
            zero_point: 3,
            scale: 0.0125,
        });
        let lut = Lut8::real_fn("q", Q8::U8, p_in, dt, p_out, |x| x).unwrap();
        for b in 0..=255u8 {
            assert_eq!(lut.table[b as usize] as i8 as i32, b as i32 - 128);
        }
    }

    #[test]
    fn quantized_add_uses_each_tensors_own_scale() {
        let (pa, pb, po) = (
            QParams8 {
                scale: 0.5,
                zero_point: -9,
            },
            QParams8 {
                scale: 0.25,
                zero_point: 0,
            },
            QParams8 {
                scale: 1.0,
                zero_point: -11,
            },
        );
        let dt = |p: QParams8| {
            i8::datum_type().quantize(QParams::ZpScale {
                zero_point: p.zero_point,
                scale: p.scale,
            })
        };
        let op = Binary {
            kind: BinKind::Add,
            quant: Some((pa, pb, po)),
            out_dt: dt(po),
            clamp: (-128, 127),
        };
        let a = tensor_from_bytes(dt(pa), &[3], &[(-9i8) as u8, 1u8, 127u8]).unwrap();
        let b = tensor_from_bytes(dt(pb), &[1], &[8u8]).unwrap(); // broadcast, real 2.0
        let out = op
            .eval(
                &EvalContext::out_of_plan(),
                tvec!(a.into_tvalue(), b.into_tvalue()),
            )
            .unwrap();
        let got: Vec<i8> = bytes_of(&out[0])
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect();
        // reals: 0+2=2 -> -9; 5+2=7 -> -4; 68+2=70 -> 59
        assert_eq!(got, vec![-9, -4, 59]);
    }

    #[test]
    fn quantized_mean_requantizes_to_the_output() {
        let pin = QParams8 {
            scale: 0.5,
            zero_point: 10,
        };
        let pout = QParams8 {
            scale: 0.25,
            zero_point: -3,
        };
        let dt = |p: QParams8| {
            i8::datum_type().quantize(QParams::ZpScale {
                zero_point: p.zero_point,
                scale: p.scale,
            })
        };
        let op = Mean {
            axes: vec![1, 2],
            keep_dims: true,
            quant: Some((pin, pout)),
            out_dt: dt(pout),
        };
        // 2x2 spatial, 2 channels: channel 0 reals 0, 1, 2, 3.5 -> mean 1.625 -> 6.5 -> 7 - 3 = 4
        let vals: [i8; 8] = [10, 0, 12, 0, 14, 0, 17, 0];
        let x = tensor_from_bytes(dt(pin), &[1, 2, 2, 2], &vals.map(|v| v as u8)).unwrap();
        let out = op
            .eval(&EvalContext::out_of_plan(), tvec!(x.into_tvalue()))
            .unwrap();
        assert_eq!(out[0].shape(), &[1, 1, 1, 2]);
        let got: Vec<i8> = bytes_of(&out[0])
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect();
        // channel 1: reals (0-10)*0.5 = -5 each -> -20 - 3 = -23
        assert_eq!(got, vec![4, -23]);
    }

    #[test]
    fn activation_range_is_never_inverted() {
        // uint8 with zero point 255 and a tiny scale: real 0 is the top of the range and
        // real 6 far beyond it.
        let p = QParams8 {
            scale: 1e-3,
            zero_point: 255,
        };
        assert_eq!(
            activation_range(Q8::U8, p, Some(0.0), Some(6.0)),
            (255, 255)
        );
        // int8 zero point -128 with RELU_N1_TO_1: real -1 is below the range.
        let p = QParams8 {
            scale: 0.01,
            zero_point: -128,
        };
        assert_eq!(
            activation_range(Q8::I8, p, Some(-1.0), Some(1.0)),
            (-128, -28)
        );
        let p = QParams8 {
            scale: 0.5,
            zero_point: 200,
        };
        let (lo, hi) = activation_range(Q8::I8, p, Some(0.0), Some(6.0));
        assert!(lo <= hi && hi <= 127, "{lo} {hi}");
    }

    #[test]
    fn hard_swish_matches_its_definition() {
        assert_eq!(UnaryF32::HardSwish.apply(-4.0), 0.0);
        assert_eq!(UnaryF32::HardSwish.apply(1.0), 1.0 * 4.0 / 6.0);
        assert_eq!(UnaryF32::HardSwish.apply(5.0), 5.0);
    }

    #[test]
    fn quantized_average_rounds_half_away_from_zero() {
        let dt = i8::datum_type().quantize(QParams::ZpScale {
            zero_point: 0,
            scale: 1.0,
        });
        let op = AvgPool {
            kernel: (2, 1),
            stride: (2, 1),
            same: false,
            clamp: (-128, 127),
            out_dt: dt,
        };
        let x =
            tensor_from_bytes(dt, &[1, 2, 1, 2], &[1u8, (-1i8) as u8, 2u8, (-2i8) as u8]).unwrap();
        let out = op
            .eval(&EvalContext::out_of_plan(), tvec!(x.into_tvalue()))
            .unwrap();
        let got: Vec<i8> = bytes_of(&out[0])
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect();
        assert_eq!(got, vec![2, -2]); // 1.5 -> 2, -1.5 -> -2
    }
}
