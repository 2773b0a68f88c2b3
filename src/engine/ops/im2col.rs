//! Other 8-bit convolutions (group 1, any kernel size, stride and dilation: the 3x3 stride-2
//! stem of the EfficientNet-Lite and MobileNet models) as a gather of input patches followed
//! by [`QPointwise`]'s matmul.
//!
//! Through tract's `Conv` the stem was three nodes (`Im2col` on one thread, `OptMatMul` on
//! tract's executor, breedcam's `Requant` pass), 12-17 % of an inference on one thread, and on
//! two threads the `Im2col` stayed serial and the matmul ran on rayon's threads beside
//! breedcam's pool. Here each run of output pixels (cut as QPointwise cuts its runs, on
//! breedcam's pool) gathers its own patches, `kh * kw * cin` bytes per pixel in the kernel's
//! OHWI order, into a thread-local buffer, padding with the input zero point as TFLite does,
//! and hands them to [`QPointwise::run_rows`] as if they were the pixels of a pointwise layer
//! with `kh * kw * cin` input channels. A padded tap then contributes `(x0 - x0) * w = 0`, so
//! the zero-point folds of QPointwise hold unchanged.

use std::cell::RefCell;

use tract_core::internal::*;

use super::pointwise::QPointwise;
use super::quant::{bytes_of, filled_u8, Q8};
use super::window::Window;

thread_local! {
    /// One run's patches; grows once to the largest run.
    static PATCHES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An NHWC 8-bit convolution `[n, h, w, cin] -> [n, oh, ow, cout]` on gathered patches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QIm2col {
    pub window: Window,
    /// The byte TFLite pads with: the input zero point.
    pub pad: u8,
    /// The matmul over `kh * kw * cin` "channels", kernel `[cout][kh][kw][cin]`.
    pub matmul: QPointwise,
}

impl QIm2col {
    /// `pad` is the input zero point's stored byte; `matmul.cin` must be `kh * kw * cin`.
    pub fn new(window: Window, input_zero_point: i32, matmul: QPointwise) -> TractResult<Self> {
        let (kh, kw) = window.kernel;
        ensure!(
            matmul.cin == kh * kw * window.input[3],
            "patch of {kh}x{kw}x{} against a matmul over {}",
            window.input[3],
            matmul.cin
        );
        let pad = match matmul.input() {
            Q8::I8 => input_zero_point.clamp(-128, 127) as i8 as u8,
            Q8::U8 => input_zero_point.clamp(0, 255) as u8,
        };
        Ok(QIm2col {
            window,
            pad,
            matmul,
        })
    }

    fn output_shape(&self) -> [usize; 4] {
        let [n, _, _, _] = self.window.input;
        let (oh, ow) = self.window.output;
        [n, oh, ow, self.matmul.cout]
    }

    /// Writes the patches of output pixels `p0..p1` (flattened over `n, oh, ow`) into `dst`,
    /// `kh * kw * cin` bytes each.
    fn gather(&self, x: &[u8], p0: usize, p1: usize, dst: &mut [u8]) {
        let w = &self.window;
        let [_, h, iw, c] = w.input;
        let (oh, ow) = w.output;
        let (kh, kw) = w.kernel;
        let row = kw * c;
        for (p, patch) in (p0..p1).zip(dst.chunks_exact_mut(kh * row)) {
            let (b, oy, ox) = (p / (oh * ow), p / ow % oh, p % ow);
            let image = &x[b * h * iw * c..][..h * iw * c];
            // The whole row of taps inside the image and contiguous: one copy per row.
            let inside = (w.dilations.1 == 1)
                .then(|| w.input_col(ox, 0).zip(w.input_col(ox, kw - 1)))
                .flatten()
                .map(|(first, _)| first);
            for (ky, taps) in patch.chunks_exact_mut(row).enumerate() {
                let Some(iy) = w.input_row(oy, ky) else {
                    taps.fill(self.pad);
                    continue;
                };
                let line = &image[iy * iw * c..][..iw * c];
                if let Some(first) = inside {
                    taps.copy_from_slice(&line[first * c..][..row]);
                    continue;
                }
                for (kx, tap) in taps.chunks_exact_mut(c).enumerate() {
                    match w.input_col(ox, kx) {
                        Some(ix) => tap.copy_from_slice(&line[ix * c..][..c]),
                        None => tap.fill(self.pad),
                    }
                }
            }
        }
    }

    /// Convolves `x` (the whole input) into `out` (the whole output).
    fn run(&self, x: &[u8], out: &mut [u8]) -> TractResult<()> {
        let [n, oh, ow, _] = self.output_shape();
        let k = self.matmul.cin;
        self.matmul.run_split(n * oh * ow, out, |p0, p1, o| {
            PATCHES.with_borrow_mut(|buf| {
                let need = (p1 - p0) * k;
                if buf.len() < need {
                    buf.resize(need, 0);
                }
                let patches = &mut buf[..need];
                self.gather(x, p0, p1, patches);
                self.matmul.run_rows(patches, o)
            })
        })
    }
}

impl Op for QIm2col {
    fn name(&self) -> StaticName {
        "breedcam.QIm2col".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        let w = &self.window;
        Ok(vec![format!(
            "{}x{} stride {:?} dilation {:?}, {} -> {} channels on {}",
            w.kernel.0,
            w.kernel.1,
            w.strides,
            w.dilations,
            w.input[3],
            self.matmul.cout,
            self.matmul.kernel_name()
        )])
    }
    op_as_typed_op!();
}

impl EvalOp for QIm2col {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        ensure!(Q8::of(x.datum_type()) == Some(self.matmul.input()));
        ensure!(
            x.shape() == self.window.input,
            "input shape {:?}",
            x.shape()
        );
        let out = filled_u8(self.matmul.out_dt(), &self.output_shape(), |o| {
            self.run(bytes_of(&x)?, o)
        })?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for QIm2col {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type) == Some(self.matmul.input()));
        ensure!(inputs[0].shape.as_concrete() == Some(&self.window.input[..]));
        Ok(tvec!(self.matmul.out_dt().fact(self.output_shape())))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::super::pointwise::tests::for_each_engine;
    use super::*;
    use crate::engine::testing::bytes;
    use crate::engine::threads::{with_pool, Pool};
    use std::sync::Arc;

    /// Against the direct convolution that skips the taps outside the image: the stem's
    /// 3x3 stride 2 SAME on 3 channels (27 "channels", not a multiple of 4), 5x5 SAME on
    /// uint8 with a kernel zero point, a dilated VALID kernel, a non-square kernel and stride,
    /// a batch of two; one and three threads, both engines.
    #[test]
    fn gathered_convolution_matches_the_direct_loop() {
        // (input [n, h, w, c], kernel, strides, dilations, same, cout, type, k0)
        let cases = [
            ([1, 17, 16, 3], (3, 3), (2, 2), (1, 1), true, 32, Q8::I8, 0),
            ([1, 9, 11, 5], (5, 5), (1, 1), (1, 1), true, 7, Q8::U8, 119),
            ([1, 12, 10, 4], (3, 3), (1, 1), (2, 2), false, 9, Q8::I8, 0),
            ([2, 8, 13, 6], (2, 3), (1, 2), (1, 1), true, 18, Q8::I8, -3),
            ([1, 6, 6, 2], (3, 3), (3, 3), (1, 1), false, 5, Q8::U8, 0),
        ];
        for (i, &(input, kernel, strides, dilations, same, cout, q, k0)) in cases.iter().enumerate()
        {
            let window = Window::new(input, kernel, strides, dilations, same).unwrap();
            let [n, h, w, c] = input;
            let (kh, kw) = kernel;
            let (oh, ow) = window.output;
            let k = kh * kw * c;
            let xb = bytes(n * h * w * c, 7 + i as u32);
            let weights: Vec<i8> = bytes(cout * k, 70 + i as u32)
                .iter()
                .map(|&b| b as i8)
                .collect();
            let bias: Vec<i32> = (0..cout as i32).map(|v| v * 41 - 300).collect();
            let x0 = if q == Q8::I8 { -6 } else { 133 };
            let val = |b: u8| match q {
                Q8::I8 => b as i8 as i32,
                Q8::U8 => b as i32,
            };
            let mut acc = vec![0i32; n * oh * ow * cout];
            for b in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        for o in 0..cout {
                            let mut a = bias[o];
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * strides.0 + ky * dilations.0) as isize
                                        - window.pad.0 as isize;
                                    let ix = (ox * strides.1 + kx * dilations.1) as isize
                                        - window.pad.1 as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                        continue;
                                    }
                                    for ci in 0..c {
                                        let xv =
                                            xb[((b * h + iy as usize) * w + ix as usize) * c + ci];
                                        let wv = weights[o * k + (ky * kw + kx) * c + ci];
                                        a += (wv as i32 - k0) * (val(xv) - x0);
                                    }
                                }
                            }
                            acc[((b * oh + oy) * ow + ox) * cout + o] = a;
                        }
                    }
                }
            }
            for_each_engine(
                (k, cout, &weights, &bias),
                (q, x0, k0),
                &acc,
                |matmul, want, name| {
                    let op = QIm2col::new(window.clone(), x0, matmul).unwrap();
                    let mut got = vec![0u8; want.len()];
                    op.run(&xb, &mut got).unwrap();
                    assert_eq!(
                        got, want,
                        "case {i} {input:?} {kernel:?} on {name}, one thread"
                    );
                    let mut threaded = vec![0u8; want.len()];
                    with_pool(Arc::new(Pool::new(3)), || {
                        op.run(&xb, &mut threaded).unwrap()
                    });
                    assert_eq!(threaded, want, "case {i} on {name}, three threads");
                },
            );
        }
    }
}
