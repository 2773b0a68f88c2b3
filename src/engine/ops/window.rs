//! [`Window`]: the geometry of a 2-D NHWC window op (convolution, pooling) with TFLite's
//! SAME / VALID padding, and where each kernel tap lands in the input.

use tract_core::internal::*;

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

    /// The input rows inside the image that output row `oy`'s window spans (a pooling
    /// window: dilation one), empty if none.
    pub fn input_rows(&self, oy: usize) -> std::ops::Range<usize> {
        span(
            oy * self.strides.0,
            self.kernel.0,
            self.pad.0,
            self.input[1],
        )
    }

    /// The input columns inside the image that output column `ox`'s window spans (dilation
    /// one), empty if none.
    pub fn input_cols(&self, ox: usize) -> std::ops::Range<usize> {
        span(
            ox * self.strides.1,
            self.kernel.1,
            self.pad.1,
            self.input[2],
        )
    }
}

/// Positions `start..start + k` of the padded axis, as a range of the `size` unpadded ones.
fn span(start: usize, k: usize, pad: usize, size: usize) -> std::ops::Range<usize> {
    let end = (start + k).saturating_sub(pad).min(size);
    start.saturating_sub(pad).min(end)..end
}
