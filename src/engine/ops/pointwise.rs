//! Pointwise (1x1, stride 1) 8-bit convolutions on tract-linalg's int8 matmul kernels, with
//! breedcam deciding the tiling and the threads.
//!
//! Through tract's `Conv` a pointwise convolution is three plan nodes: `OptMatMulPack` packs
//! the whole activation on one thread, `OptMatMul` runs the matmul (split over tract's pool
//! when it is big enough) into an i32 tensor, then breedcam's `Requant` makes a third pass.
//! On two threads that gave 0.7-0.8x of the one-thread time at best.
//!
//! [`QPointwise`] is one node. The weights are packed once, at import, in the kernel's own
//! format. Each inference splits the output pixels into a few runs of row blocks per
//! thread; a thread packs one block of pixels (the kernel's `mr` rows at a time, up to about 32 KiB of
//! accumulators), runs the kernel on it into a thread-local i32 tile and requantizes that tile
//! straight into the output while it is in cache. The kernels are tract's; packing, tiling,
//! threading and requantization are breedcam's. Nothing is allocated per inference but the
//! output tensor: the thread-local buffers grow once to the largest layer and are reused.
//!
//! The kernel is the one tract would pick for the shape (`MmmDispatch::pick`), except on
//! AVX-512 VNNI, where `avx512vnni_mmm_i32_16x16` is taken over the 8x8 one: the 8x8 kernel's
//! per-tile epilogue executes legacy-SSE `movd` with dirty upper vector state (16 SSE/AVX
//! transitions per tile), which `perf` put at about 70 % of its time on this project's Xeon
//! (docs/avx2-cliff.md); the 16x16 kernel has no legacy-SSE instruction.
//!
//! On the x86-64 CPUs where tract's AVX2 kernel faults (`kernels/steering.rs`), the accumulators come from
//! breedcam's own AVX2 kernel instead (kernels/x86_64/pw_avx2.rs); tiling, threads and requantization are the
//! same.
//!
//! Results are bit-identical to the tract path: the same integer matmul, the activation zero
//! point folded into the bias (`bias - x0 * sum(w)`, exact in i32), the same [`RequantSpec`].

use std::cell::RefCell;
use std::sync::Arc;

use tract_core::internal::*;
use tract_linalg::mmm::{
    AsInputValue, EagerPackedInput, FusedSpec, MMMInputFormat, MMMInputValue, MatMatMul,
    PackedExoticFact, Query, ScratchSpace,
};
use tract_linalg::pack::{PackedFormat, PackedI8K4};
use tract_linalg::BinOp;

use super::quant::{bytes_of, filled_u8, static_shape, Q8};
use super::requant::{KernelZeroPoint, RequantSpec};
use crate::engine::kernels::generic::pw_i16;
use crate::engine::kernels::{with_kernels, Job, Kernels};
use crate::engine::threads::for_runs;

/// Accumulator bytes one block of pixels may take (the i32 tile stays in L1/L2).
const TILE_ACC_BYTES: usize = 32 * 1024;

/// How the kernel wants its pixel operand laid out; breedcam packs it itself.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PixelPacking {
    /// `PackedI8K4`: four consecutive k of one row together, `r` rows per panel.
    K4 { r: usize, align: usize },
    /// `PackedFormat` of i8: k-major, `r` rows per panel, panels padded to `panel` bytes.
    KOuter {
        r: usize,
        align: usize,
        panel_extra_k: usize,
    },
}

impl PixelPacking {
    fn of(format: &dyn MMMInputFormat) -> Option<PixelPacking> {
        if let Some(f) = format.downcast_ref::<PackedI8K4>() {
            return Some(PixelPacking::K4 {
                r: f.r,
                align: f.alignment(),
            });
        }
        let f = format.downcast_ref::<PackedFormat>()?;
        (f.dt.unquantized() == DatumType::I8).then_some(PixelPacking::KOuter {
            r: f.r,
            align: f.alignment(),
            panel_extra_k: f.end_padding_record,
        })
    }

    fn r(&self) -> usize {
        match *self {
            PixelPacking::K4 { r, .. } | PixelPacking::KOuter { r, .. } => r,
        }
    }

    fn align(&self) -> usize {
        match *self {
            PixelPacking::K4 { align, .. } | PixelPacking::KOuter { align, .. } => align,
        }
    }

    /// Bytes of one panel of `r` rows over `k`.
    fn panel_bytes(&self, k: usize) -> usize {
        match *self {
            PixelPacking::K4 { r, .. } => k.div_ceil(4) * 4 * r,
            PixelPacking::KOuter {
                r,
                align,
                panel_extra_k,
            } => ((k + panel_extra_k) * r).div_ceil(align) * align,
        }
    }

    /// Packs `rows` pixels of `k` channels each (`x`, row-major) into `dst`, flipping the top
    /// bit of every byte by `flip` (0x80 turns uint8 into int8 minus 128). Pads with zeros.
    #[inline(always)]
    fn pack<K: Kernels>(
        &self,
        kernels: K,
        x: &[u8],
        rows: usize,
        k: usize,
        flip: u8,
        dst: &mut [u8],
    ) {
        let r = self.r();
        let pb = self.panel_bytes(k);
        for (p, panel) in dst.chunks_exact_mut(pb).take(rows.div_ceil(r)).enumerate() {
            let live = r.min(rows - p * r);
            if live == 8 && matches!(self, PixelPacking::KOuter { r: 8, .. }) {
                kernels.pack_kouter8(&x[p * r * k..][..r * k], k, flip, panel);
                continue;
            }
            if live < r || !k.is_multiple_of(4) || matches!(self, PixelPacking::KOuter { .. }) {
                panel.fill(0);
            }
            for lm in 0..live {
                let row = &x[(p * r + lm) * k..][..k];
                match self {
                    PixelPacking::K4 { .. } if k.is_multiple_of(4) => {
                        // Four bytes at a time: one 32-bit load, XOR and store each.
                        let f = u32::from_ne_bytes([flip; 4]);
                        for (kb, four) in row.chunks_exact(4).enumerate() {
                            let v = u32::from_ne_bytes(four.try_into().unwrap()) ^ f;
                            let at = kb * r * 4 + lm * 4;
                            panel[at..at + 4].copy_from_slice(&v.to_ne_bytes());
                        }
                    }
                    PixelPacking::K4 { .. } => {
                        // out[(k/4)*r*4 + m*4 + k%4] = x[m][k]
                        for (kb, four) in row.chunks(4).enumerate() {
                            let at = kb * r * 4 + lm * 4;
                            for (d, &s) in panel[at..at + four.len()].iter_mut().zip(four) {
                                *d = s ^ flip;
                            }
                        }
                    }
                    PixelPacking::KOuter { .. } => {
                        // out[k*r + m] = x[m][k]
                        for (kk, &s) in row.iter().enumerate() {
                            panel[kk * r + lm] = s ^ flip;
                        }
                    }
                }
            }
        }
    }

    fn format(&self) -> Box<dyn MMMInputFormat> {
        match *self {
            PixelPacking::K4 { r, align } => Box::new(PackedI8K4 { r, align }),
            PixelPacking::KOuter {
                r,
                align,
                panel_extra_k,
            } => Box::new(
                PackedFormat::new(DatumType::I8, r, align).with_end_padding_record(panel_extra_k),
            ),
        }
    }
}

/// One thread's reusable buffers: a packed pixel block per packing in use, the i32 tile,
/// tract's scratch space.
#[derive(Default)]
struct Scratch {
    packed: Vec<(PixelPacking, EagerPackedInput)>,
    /// breedcam's AVX2 kernel: the pixel block as i16.
    wide: Vec<i16>,
    /// The block's i32 accumulators (either engine).
    acc: Option<Tensor>,
    mmm: Option<Box<dyn ScratchSpace>>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// A pointwise convolution of an NHWC 8-bit tensor: `[n, h, w, cin] -> [n, h, w, cout]`.
#[derive(Clone, Debug)]
pub struct QPointwise {
    pub cin: usize,
    pub cout: usize,
    /// The int8 kernel, `[cout][cin]` (kept for equality and reports).
    kernel: Vec<i8>,
    engine: Engine,
    flip: u8,
    input: Q8,
    requant: RequantSpec,
    fold: Option<KernelZeroPoint>,
}

/// What computes the i32 accumulators of a block of pixels.
#[derive(Clone, Debug)]
enum Engine {
    /// One of tract-linalg's int8 kernels.
    Tract(TractMatmul),
    /// breedcam's i16 kernel (AVX2 where the CPU has it), on the CPUs where tract's AVX2
    /// kernel faults (kernels/steering.rs).
    Avx2(pw_i16::Weights),
}

#[derive(Clone, Debug)]
struct TractMatmul {
    mmm: Box<dyn MatMatMul>,
    packing: usize,
    pixels: PixelPacking,
    /// The kernel packed as the matmul's second operand (k = cin, n = cout).
    weights: Box<dyn MMMInputValue>,
    /// `bias - x0' * sum_k w`, per output channel (x0' the zero point after the flip).
    bias: Arc<Tensor>,
}

/// Name of breedcam's AVX2 kernel in reports.
const AVX2_KERNEL: &str = "breedcam_avx2_i16madd_6x16";

impl Engine {
    fn name(&self) -> &str {
        match self {
            Engine::Tract(t) => t.mmm.name(),
            Engine::Avx2(_) => AVX2_KERNEL,
        }
    }

    /// Pixels per panel: runs and blocks are cut at multiples of it.
    fn r(&self) -> usize {
        match self {
            Engine::Tract(t) => t.pixels.r(),
            Engine::Avx2(_) => pw_i16::MR,
        }
    }
}

impl PartialEq for Engine {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (Engine::Tract(a), Engine::Tract(b)) => {
                (a.mmm.name(), a.packing, &a.bias) == (b.mmm.name(), b.packing, &b.bias)
            }
            (Engine::Avx2(a), Engine::Avx2(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for QPointwise {
    fn eq(&self, o: &Self) -> bool {
        (self.cin, self.cout, &self.kernel, &self.engine) == (o.cin, o.cout, &o.kernel, &o.engine)
            && (self.flip, self.input, &self.requant, &self.fold)
                == (o.flip, o.input, &o.requant, &o.fold)
    }
}
impl Eq for QPointwise {}

impl QPointwise {
    /// `kernel` is int8 `[cout][cin]` (a uint8 kernel already shifted by 128, its zero point
    /// in `fold`), `bias` the i32 bias. `None` when no kernel of this build takes a pixel
    /// packing breedcam can write (the caller then keeps tract's `Conv`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cin: usize,
        cout: usize,
        kernel: &[i8],
        bias: &[i32],
        input: Q8,
        input_zero_point: i32,
        requant: RequantSpec,
        fold: Option<KernelZeroPoint>,
    ) -> TractResult<Option<QPointwise>> {
        crate::engine::kernels::steering::prepare();
        let own = crate::engine::kernels::steering::own_avx2_pointwise();
        Self::on(
            cin,
            cout,
            kernel,
            bias,
            input,
            input_zero_point,
            requant,
            fold,
            own,
        )
    }

    /// [`QPointwise::new`] on breedcam's AVX2 kernel (`own_avx2`) or on tract's.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on(
        cin: usize,
        cout: usize,
        kernel: &[i8],
        bias: &[i32],
        input: Q8,
        input_zero_point: i32,
        requant: RequantSpec,
        fold: Option<KernelZeroPoint>,
        own_avx2: bool,
    ) -> TractResult<Option<QPointwise>> {
        ensure!(cin > 0 && cout > 0, "empty pointwise convolution");
        ensure!(kernel.len() == cin * cout && bias.len() == cout);
        ensure!(requant.scale.len() == cout);
        let flip = match input {
            Q8::I8 => 0,
            Q8::U8 => 0x80,
        };
        let x0 = input_zero_point - flip as i32;
        let bias: Vec<i32> = kernel
            .chunks_exact(cin)
            .zip(bias)
            .map(|(w, &b)| {
                let sum: i32 = w.iter().map(|&v| v as i32).sum();
                b.wrapping_sub(x0.wrapping_mul(sum))
            })
            .collect();
        let engine = if own_avx2 {
            Engine::Avx2(pw_i16::Weights::new(cin, cout, kernel, &bias))
        } else {
            let Some((mmm, packing, pixels)) = pick_kernel(cin, cout) else {
                return Ok(None);
            };
            let kt = Tensor::from_shape(&[cout, cin], kernel)?;
            let weights = mmm.packings()[packing].1.prepare_one(&kt, 1, 0)?;
            Engine::Tract(TractMatmul {
                mmm,
                packing,
                pixels,
                weights,
                bias: Arc::new(tensor1(&bias)),
            })
        };
        Ok(Some(QPointwise {
            cin,
            cout,
            kernel: kernel.to_vec(),
            engine,
            flip,
            input,
            requant,
            fold,
        }))
    }

    /// The input's 8-bit type.
    pub fn input(&self) -> Q8 {
        self.input
    }

    /// The output's datum type.
    pub fn out_dt(&self) -> DatumType {
        self.requant.out_dt
    }

    /// The matmul kernel this node runs on.
    pub fn kernel_name(&self) -> &str {
        self.engine.name()
    }

    /// Pixels per block: whole panels, about [`TILE_ACC_BYTES`] of accumulators.
    fn block(&self) -> usize {
        let r = self.engine.r();
        (TILE_ACC_BYTES / (4 * self.cout) / r).max(1) * r
    }

    /// Convolves `x` (`pixels * cin` bytes) into `out` (`pixels * cout` bytes) on this
    /// thread, one block at a time.
    pub(super) fn run_rows(&self, x: &[u8], out: &mut [u8]) -> TractResult<()> {
        use tract_linalg::multithread::{multithread_tract_scope, Executor};
        // The kernel call must not fan out over tract's own pool from inside a run.
        multithread_tract_scope(Executor::SingleThread, || self.run_rows_here(x, out))
    }

    fn run_rows_here(&self, x: &[u8], out: &mut [u8]) -> TractResult<()> {
        struct Rows<'a> {
            op: &'a QPointwise,
            x: &'a [u8],
            out: &'a mut [u8],
        }
        impl Job for Rows<'_> {
            type Out = TractResult<()>;
            #[inline(always)]
            fn run<K: Kernels>(self, k: K) -> TractResult<()> {
                match &self.op.engine {
                    Engine::Tract(t) => self.op.run_tract(k, t, self.x, self.out),
                    Engine::Avx2(w) => self.op.run_avx2(k, w, self.x, self.out),
                }
            }
        }
        with_kernels(Rows { op: self, x, out })
    }

    /// Block by block on breedcam's AVX2 kernel: pack the pixels as i16, accumulate from the
    /// bias, requantize.
    #[inline(always)]
    fn run_avx2<K: Kernels>(
        &self,
        k: K,
        w: &pw_i16::Weights,
        x: &[u8],
        out: &mut [u8],
    ) -> TractResult<()> {
        let pixels = x.len() / self.cin;
        let block = self.block();
        SCRATCH.with_borrow_mut(|s| {
            let need = block * w.pixel_len();
            if s.wide.len() < need {
                s.wide.resize(need, 0);
            }
            let mut tile = acc_tile(&mut s.acc, block * self.cout)?.try_as_plain_ram_mut()?;
            let tile = tile.as_slice_mut::<i32>()?;
            for start in (0..pixels).step_by(block) {
                let rows = block.min(pixels - start);
                let xs = &x[start * self.cin..][..rows * self.cin];
                k.pw_pack(xs, rows, self.cin, self.flip, &mut s.wide);
                let accs = &mut tile[..rows * self.cout];
                k.pw_matmul(w, &s.wide, rows, accs);
                let o = &mut out[start * self.cout..][..rows * self.cout];
                let fold = self.fold.as_ref().map(|kz| (kz, xs));
                self.requant.rows(accs, o, fold);
            }
            Ok(())
        })
    }

    /// Block by block on a tract kernel.
    #[inline(always)]
    fn run_tract<K: Kernels>(
        &self,
        k: K,
        t: &TractMatmul,
        x: &[u8],
        out: &mut [u8],
    ) -> TractResult<()> {
        let pixels = x.len() / self.cin;
        let block = self.block();
        SCRATCH.with_borrow_mut(|s| {
            let s = &mut *s;
            let slot = match s.packed.iter().position(|(p, _)| *p == t.pixels) {
                Some(i) => i,
                None => {
                    s.packed.push((t.pixels.clone(), t.empty_packed(self.cin)));
                    s.packed.len() - 1
                }
            };
            let a = &mut s.packed[slot].1;
            let need = block.div_ceil(t.pixels.r()) * t.pixels.panel_bytes(self.cin);
            if a.packed.len() < need {
                // SAFETY: the blob is written by `pack` before the kernel reads it.
                a.packed = Arc::new(unsafe {
                    Blob::new_for_size_and_align(need.max(a.packed.len()), t.pixels.align())
                });
            }
            a.fact.k = self.cin;
            a.panel_bytes = t.pixels.panel_bytes(self.cin);
            let acc = acc_tile(&mut s.acc, block * self.cout)?;
            if s.mmm.as_ref().is_none_or(|sc| {
                // SAFETY: only asks whether `sc` was made by this kernel; nothing is run.
                !unsafe { t.mmm.can_use_scratch_space(&**sc) }
            }) {
                // SAFETY: the scratch space is used only with this kernel (checked above on
                // each later call) and on this thread (it is thread-local).
                s.mmm = Some(unsafe { t.mmm.allocate_scratch_space() });
            }
            let scratch = s.mmm.as_mut().unwrap();
            for start in (0..pixels).step_by(block) {
                let rows = block.min(pixels - start);
                let xs = &x[start * self.cin..][..rows * self.cin];
                let blob = Arc::get_mut(&mut a.packed).context("packed pixels shared")?;
                t.pixels
                    .pack(k, xs, rows, self.cin, self.flip, blob.as_bytes_mut());
                a.mn = rows;
                a.fact.mn = rows.to_dim();
                // SAFETY: `acc` holds `block * cout >= rows * cout` i32 (acc_tile), so the
                // store's rows of `cout` values 4 bytes apart stay inside it; it outlives
                // the run below, the only user of `store`.
                let store = unsafe {
                    t.mmm
                        .c_from_data_and_strides(4, self.cout as isize, 1)
                        .wrap(&acc.view())
                };
                let specs = [
                    FusedSpec::AddMatMul {
                        a: AsInputValue::Borrowed(&*a),
                        b: AsInputValue::Borrowed(&*t.weights),
                        packing: t.packing,
                    },
                    FusedSpec::BinPerCol(t.bias.view(), BinOp::Add),
                    FusedSpec::Store(store),
                ];
                // SAFETY: `a` holds `rows` packed pixels of k = cin in the kernel's own
                // format (packed above, blob sized for a whole block), `weights` was packed
                // for this kernel and packing at import, `store` is valid for rows x cout,
                // and `scratch` belongs to this kernel (checked above).
                unsafe {
                    t.mmm
                        .run_with_scratch_space(rows, self.cout, &mut **scratch, &specs)?
                };
                let accs = &acc.try_as_plain_ram()?.as_slice::<i32>()?[..rows * self.cout];
                let o = &mut out[start * self.cout..][..rows * self.cout];
                let fold = self.fold.as_ref().map(|kz| (kz, xs));
                self.requant.rows(accs, o, fold);
            }
            Ok(())
        })
    }
}

/// The thread's i32 accumulator tile, grown to at least `len` values.
fn acc_tile(acc: &mut Option<Tensor>, len: usize) -> TractResult<&mut Tensor> {
    if acc.as_ref().is_none_or(|t| t.len() < len) {
        *acc = Some(Tensor::zero::<i32>(&[len])?);
    }
    Ok(acc.as_mut().unwrap())
}

impl TractMatmul {
    fn empty_packed(&self, cin: usize) -> EagerPackedInput {
        EagerPackedInput {
            fact: PackedExoticFact {
                format: self.pixels.format(),
                mn: 0.to_dim(),
                k: cin,
            },
            // SAFETY: empty; sized before first use.
            packed: Arc::new(unsafe { Blob::new_for_size_and_align(0, self.pixels.align()) }),
            panel_bytes: self.pixels.panel_bytes(cin),
            mn: 0,
        }
    }
}

/// The kernel, its packing index and breedcam's pixel packing for a `k = cin, n = cout`
/// matmul over a block of pixels.
fn pick_kernel(cin: usize, cout: usize) -> Option<(Box<dyn MatMatMul>, usize, PixelPacking)> {
    let dispatch = tract_linalg::MmmDispatch::native();
    let query = Query {
        weight: DatumType::I8.into(),
        activation: DatumType::I8,
        accumulators: tvec!(DatumType::I32),
        store: None,
        allow_extractor: false,
        m: Some(256),
        k: Some(cin),
        n: Some(cout),
    };
    let suitable = dispatch.suitable(&query);
    let usable = |(mmm, p, ext): &(Box<dyn MatMatMul>, usize, Option<_>)| {
        if ext.is_some() || mmm.nr() == 1 || !mmm.built() || !mmm.runnable() {
            return None;
        }
        let pixels = PixelPacking::of(&*mmm.packings()[*p].0)?;
        Some((mmm.clone(), *p, pixels))
    };
    // See the module comment: the 16x16 VNNI kernel is VEX/EVEX-encoded throughout.
    if let Some(k) = suitable
        .iter()
        .filter(|s| s.0.name() == "avx512vnni_mmm_i32_16x16")
        .find_map(usable)
    {
        return Some(k);
    }
    let picked = dispatch.pick(&query)?;
    usable(&picked)
}

impl Op for QPointwise {
    fn name(&self) -> StaticName {
        "breedcam.QPointwise".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "{} -> {} channels on {}",
            self.cin,
            self.cout,
            self.engine.name()
        )])
    }
    op_as_typed_op!();
}

impl EvalOp for QPointwise {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        ensure!(Q8::of(x.datum_type()) == Some(self.input));
        let shape = x.shape();
        ensure!(shape.last() == Some(&self.cin), "input shape {shape:?}");
        let bytes = bytes_of(&x)?;
        let pixels = bytes.len() / self.cin;
        let mut out_shape: TVec<usize> = shape.into();
        *out_shape.last_mut().unwrap() = self.cout;
        let out = filled_u8(self.requant.out_dt, &out_shape, |o| {
            self.run(bytes, pixels, o)
        })?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl QPointwise {
    /// Splits the pixels over breedcam's inference threads: [`RUNS_PER_THREAD`](crate::engine::threads::split::RUNS_PER_THREAD) runs of
    /// whole panels per thread, each taken by whichever thread is free.
    fn run(&self, x: &[u8], pixels: usize, out: &mut [u8]) -> TractResult<()> {
        let cin = self.cin;
        self.run_split(pixels, out, |p0, p1, o| {
            self.run_rows(&x[p0 * cin..p1 * cin], o)
        })
    }

    /// Cuts `pixels` output pixels into runs of whole panels (one run on one thread, else
    /// [`RUNS_PER_THREAD`](crate::engine::threads::split::RUNS_PER_THREAD) per inference thread) and calls `rows(p0, p1, out)` for each,
    /// `out` being that run's `(p1 - p0) * cout` output bytes. `rows` computes the run with
    /// [`QPointwise::run_rows`] from wherever its input comes from.
    pub(super) fn run_split(
        &self,
        pixels: usize,
        out: &mut [u8],
        rows: impl Fn(usize, usize, &mut [u8]) -> TractResult<()> + Sync,
    ) -> TractResult<()> {
        let r = self.engine.r();
        let cout = self.cout;
        debug_assert_eq!(out.len(), pixels * cout);
        for_runs(out, r * cout, |panel, o| {
            let p0 = panel * r;
            rows(p0, p0 + o.len() / cout, o)
        })
    }
}

impl TypedOp for QPointwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type) == Some(self.input));
        let shape = static_shape(inputs[0])?;
        ensure!(shape.last() == Some(&self.cin), "input shape {shape:?}");
        let mut out: TVec<usize> = shape.into();
        *out.last_mut().unwrap() = self.cout;
        Ok(tvec!(self.requant.out_dt.fact(out)))
    }
    as_op!();
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::engine::testing::bytes;
    use crate::engine::threads::{with_pool, Pool};

    /// tract's kernel, and breedcam's i16 kernel (on this CPU's kernel set).
    fn engines() -> Vec<bool> {
        vec![false, true]
    }

    /// Against the obvious loop: odd channel counts (k not a multiple of 4, partial panels),
    /// uint8 inputs (the flip), a kernel zero point (the fold), one pixel, many pixels, and
    /// the same bytes on three threads.
    #[test]
    fn pointwise_matches_the_obvious_loop_on_every_thread_count() {
        let cases = [
            (1, 8, 16, Q8::I8, 0),
            (37, 13, 29, Q8::U8, 120),
            (81, 208, 1248, Q8::I8, 0),
            (300, 24, 144, Q8::I8, 0),
            (17, 3, 5, Q8::U8, 0),
            (130, 96, 24, Q8::I8, -7),
        ];
        for (i, &(pixels, cin, cout, q, k0)) in cases.iter().enumerate() {
            let xb = bytes(pixels * cin, 3 + i as u32);
            let kernel: Vec<i8> = bytes(cin * cout, 50 + i as u32)
                .iter()
                .map(|&b| b as i8)
                .collect();
            let bias: Vec<i32> = (0..cout as i32).map(|v| v * 53 - 900).collect();
            let x0 = if q == Q8::I8 { -5 } else { 131 };
            let val = |b: u8| match q {
                Q8::I8 => b as i8 as i32,
                Q8::U8 => b as i32,
            };
            let mut acc = vec![0i32; pixels * cout];
            for p in 0..pixels {
                for o in 0..cout {
                    acc[p * cout + o] = bias[o]
                        + (0..cin)
                            .map(|k| {
                                (kernel[o * cin + k] as i32 - k0) * (val(xb[p * cin + k]) - x0)
                            })
                            .sum::<i32>();
                }
            }
            for_each_engine(
                (cin, cout, &kernel, &bias),
                (q, x0, k0),
                &acc,
                |op, want, name| {
                    let mut got = vec![0u8; want.len()];
                    op.run(&xb, pixels, &mut got).unwrap();
                    assert_eq!(
                        got, want,
                        "case {i} ({pixels} px, {cin} -> {cout}) on {name}, one thread"
                    );
                    let mut threaded = vec![0u8; want.len()];
                    with_pool(Arc::new(Pool::new(3)), || {
                        op.run(&xb, pixels, &mut threaded).unwrap()
                    });
                    assert_eq!(threaded, want, "case {i} on {name}, three threads");
                },
            );
        }
    }

    /// Builds the matmul of `kernel` (`[cout][k]`) on each engine and calls
    /// `check(op, want, kernel name)`, `want` being `acc` (the obvious loop's accumulators)
    /// requantized at about +-50 steps: fine enough that a wrong accumulator shows, rarely
    /// saturated.
    pub(in crate::engine) fn for_each_engine(
        (k, cout, kernel, bias): (usize, usize, &[i8], &[i32]),
        (q, x0, k0): (Q8, i32, i32),
        acc: &[i32],
        check: impl Fn(QPointwise, &[u8], &str),
    ) {
        let out_dt = match q {
            Q8::I8 => i8::datum_type(),
            Q8::U8 => u8::datum_type(),
        };
        let zp = if q == Q8::I8 { 3 } else { 128 };
        let spec = RequantSpec::new(
            &[1.0 / (8.0 * k as f32)],
            1.0,
            1.0,
            cout,
            zp,
            (q.min(), q.max()),
            out_dt,
        )
        .unwrap();
        let mut want = vec![0u8; acc.len()];
        spec.rows(acc, &mut want, None);
        let fold = (k0 != 0).then_some(KernelZeroPoint { k0, x0, input: q });
        for own in engines() {
            let (spec, fold) = (spec.clone(), fold.clone());
            let op = QPointwise::on(k, cout, kernel, bias, q, x0, spec, fold, own)
                .unwrap()
                .expect("a kernel for this build");
            let name = op.kernel_name().to_string();
            check(op, &want, &name);
        }
    }
}
