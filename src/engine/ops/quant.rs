//! 8-bit quantization: a tensor's scale and zero point, its storage type, its bytes, and
//! fused-activation bounds.

use tract_core::internal::*;

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
    pub(crate) fn to_byte(self, v: i32) -> u8 {
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
            // SAFETY: i8 and u8 have the same size, alignment and validity, and the new slice
            // covers exactly the old one's memory for the same lifetime.
            Ok(unsafe { std::slice::from_raw_parts(s.as_ptr() as *const u8, s.len()) })
        }
        dt => bail!("expected an 8-bit tensor, got {dt:?}"),
    }
}

/// A tensor of datum type `dt` (8-bit, possibly quantized) holding `bytes`.
pub fn tensor_from_bytes(dt: DatumType, shape: &[usize], bytes: &[u8]) -> TractResult<Tensor> {
    ensure!(Q8::of(dt).is_some(), "not an 8-bit type: {dt:?}");
    tensor_from_raw(dt, shape, bytes)
}

/// A tensor of datum type `dt` (f32, i32, i64, i16 or 8-bit, possibly quantized) of `shape`
/// whose elements are `bytes` in the machine's byte order: the one place breedcam builds a
/// tensor from bytes.
pub fn tensor_from_raw(dt: DatumType, shape: &[usize], bytes: &[u8]) -> TractResult<Tensor> {
    let n: usize = shape.iter().product();
    ensure!(
        n * dt.size_of() == bytes.len(),
        "{} bytes do not make a {dt:?} tensor of shape {shape:?}",
        bytes.len()
    );
    // SAFETY: the length is checked above and `from_raw` copies the bytes into a new,
    // aligned buffer; every bit pattern is a valid value of these plain number types.
    let t = unsafe {
        match dt.unquantized() {
            DatumType::F32 => Tensor::from_raw::<f32>(shape, bytes),
            DatumType::I32 => Tensor::from_raw::<i32>(shape, bytes),
            DatumType::U8 => Tensor::from_raw::<u8>(shape, bytes),
            DatumType::I8 => Tensor::from_raw::<i8>(shape, bytes),
            DatumType::I64 => Tensor::from_raw::<i64>(shape, bytes),
            DatumType::I16 => Tensor::from_raw::<i16>(shape, bytes),
            other => bail!("no tensor of type {other:?} from bytes"),
        }
    }?;
    retyped(t, dt)
}

/// `t` with datum type `dt`, which must have `t`'s storage type (a quantized form of it, or
/// the plain one).
pub fn retyped(mut t: Tensor, dt: DatumType) -> TractResult<Tensor> {
    ensure!(
        t.datum_type().unquantized() == dt.unquantized(),
        "{:?} is not stored as {dt:?}",
        t.datum_type()
    );
    // SAFETY: the storage type is unchanged (checked above); only the quantization differs.
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
    // SAFETY: `dt` is an 8-bit type (checked at the top), stored like u8: same size,
    // alignment and validity.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
