//! RESIZE_BILINEAR (8-bit, `half_pixel_centers = false`, as XNNPACK computes it).

use super::importer::{const_ints, Call, Importer};
use super::{invalid, Result};
use crate::engine::ops::{ResizeBilinear8, Q8};

/// Largest output side accepted (the tensor limit bounds the total too).
const MAX_SIDE: i64 = 1 << 14;

pub(super) fn resize_bilinear(im: &mut Importer, call: &Call) -> Result<()> {
    // Absent options are TFLite's defaults: neither flag set.
    let (align_corners, half_pixel) = call
        .op
        .builtin_options_as_resize_bilinear_options()
        .map_or((false, false), |o| {
            (o.align_corners(), o.half_pixel_centers())
        });
    if half_pixel {
        return invalid("half_pixel_centers is not supported");
    }
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    if xi.shape.len() != 4 {
        return invalid(format!("input shape {:?} is not NHWC", xi.shape));
    }
    let (Some(_), Some(pin), Some(pout)) = (Q8::of(xi.dt), xi.q, yi.q) else {
        return invalid(format!(
            "only quantized 8-bit tensors are supported, not {:?} -> {:?}",
            xi.dt, yi.dt
        ));
    };
    if xi.dt.unquantized() != yi.dt.unquantized() || pin != pout {
        return invalid(format!(
            "input and output quantizations differ ({:?} {pin:?} -> {:?} {pout:?})",
            xi.dt, yi.dt
        ));
    }
    let size = const_ints(im, call.input(1)?)?;
    if size.len() != 2 || size.iter().any(|s| !(1..=MAX_SIDE).contains(s)) {
        return invalid(format!(
            "size {size:?} is not two lengths in 1..={MAX_SIDE}"
        ));
    }
    let op = ResizeBilinear8 {
        size: (size[0] as usize, size[1] as usize),
        align_corners,
    };
    let x = im.wire(call.input(0)?)?;
    let y = im.node(call, "", op, &[x])?;
    im.produce(call, y)
}
