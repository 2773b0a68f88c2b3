//! Minimal reproduction for upstream tract: one per-channel-quantized 1x1 convolution and one
//! 3x3 depthwise convolution (MobileNetV2 / EfficientNet-Lite shapes), built as tract's own
//! quantized `Conv` (what tract-tflite and ONNX QLinearConv produce) and timed, next to the
//! same convolutions as `Conv` -> i32 plus breedcam's fused requantization / depthwise op.
//! Prints the optimised graph's op counts and ms per run; outputs are checked equal.
//!
//! `cargo run --release --example tract_qconv_gap [-- RUNS]`
use std::time::Instant;

use breedcam::engine::ops::{QDepthwise, Requant, RequantSpec, Window, Q8};
use tract_core::internal::*;
use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_core::ops::nn::DataFormat;

const H: usize = 56;
const CIN: usize = 24;
const C: usize = 144;

fn pseudo_random(n: usize, mut seed: u32) -> Vec<i8> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8 as i8
        })
        .collect()
}

fn qi8(zero_point: i32, scale: f32) -> DatumType {
    DatumType::QI8(QParams::ZpScale { zero_point, scale })
}

struct Net {
    pw_kernel: Tensor,
    dw_kernel: Tensor, // [1, 3, 3, C]
    pw_scales: Vec<f32>,
    dw_scales: Vec<f32>,
}

/// `tract`: both convolutions as tract's quantized Conv, int8 out.
fn tract_model(n: &Net) -> TractResult<TypedModel> {
    let mut m = TypedModel::default();
    let x = m.add_source("x", qi8(-7, 0.25).fact([1, H, H, CIN]))?;
    let conv = |m: &mut TypedModel, name: &str, x, k: &Tensor, scales: &[f32], group, kh| {
        let pool_spec = PoolSpec {
            data_format: DataFormat::NHWC,
            kernel_shape: tvec!(kh, kh),
            padding: PaddingSpec::SameUpper,
            strides: None,
            dilations: None,
            input_channels: if group > 1 { C } else { CIN },
            output_channels: C,
        };
        let op = Conv {
            pool_spec,
            kernel_fmt: KernelFormat::OHWI,
            group,
            q_params: Some(qi8(-128, 0.0235).unquantized()),
        };
        let xs = if group > 1 { 0.0235f32 } else { 0.25 };
        let x0 = if group > 1 { -128i32 } else { -7 };
        let ins = [
            m.add_const(format!("{name}.k"), k.clone())?,
            m.add_const(format!("{name}.b"), Tensor::zero::<i32>(&[C])?)?,
            m.add_const(format!("{name}.x0"), tensor0(x0))?,
            m.add_const(format!("{name}.xs"), tensor0(xs))?,
            m.add_const(format!("{name}.k0"), tensor0(0i32))?,
            m.add_const(format!("{name}.ks"), tensor1(scales))?,
            m.add_const(format!("{name}.y0"), tensor0(-128i32))?,
            m.add_const(format!("{name}.ys"), tensor0(0.0235f32))?,
        ];
        let mut inputs = vec![x];
        inputs.extend(ins);
        let y = m.wire_node(name, op, &inputs)?[0];
        m.wire_node(
            format!("{name}.q"),
            tract_core::ops::cast::cast(qi8(-128, 0.0235)),
            &[y],
        )
        .map(|v| v[0])
    };
    let y = conv(&mut m, "pw", x, &n.pw_kernel, &n.pw_scales, 1, 1)?;
    // tract's grouped OHWI kernel for depthwise: [1, 3, 3, C] -> [M=1, 3, 3, C].
    let y = conv(&mut m, "dw", y, &n.dw_kernel, &n.dw_scales, C, 3)?;
    m.select_output_outlets(&[y])?;
    Ok(m)
}

/// `breedcam`: Conv -> i32 + Requant, then QDepthwise.
fn breedcam_model(n: &Net) -> TractResult<TypedModel> {
    let mut m = TypedModel::default();
    let x = m.add_source("x", qi8(-7, 0.25).fact([1, H, H, CIN]))?;
    let pool_spec = PoolSpec {
        data_format: DataFormat::NHWC,
        kernel_shape: tvec!(1, 1),
        padding: PaddingSpec::Valid,
        strides: None,
        dilations: None,
        input_channels: CIN,
        output_channels: C,
    };
    let conv = Conv {
        pool_spec,
        kernel_fmt: KernelFormat::OHWI,
        group: 1,
        q_params: Some(i32::datum_type()),
    };
    let mut ins = vec![x];
    for (name, t) in [
        ("k", n.pw_kernel.clone()),
        ("b", Tensor::zero::<i32>(&[C])?),
        ("x0", tensor0(-7i32)),
        ("xs", tensor0(1f32)),
        ("k0", tensor0(0i32)),
        ("ks", tensor0(1f32)),
        ("y0", tensor0(0i32)),
        ("ys", tensor0(1f32)),
    ] {
        ins.push(m.add_const(name, t)?);
    }
    let acc = m.wire_node("pw.acc", conv, &ins)?[0];
    let out = qi8(-128, 0.0235);
    let spec = RequantSpec::new(&n.pw_scales, 0.25, 0.0235, C, -128, (-128, 127), out)?;
    let y = m.wire_node("pw", Requant(spec, None), &[acc])?[0];
    let kernel: Vec<i16> = n
        .dw_kernel
        .try_as_plain_ram()?
        .as_slice::<i8>()?
        .iter()
        .map(|&v| v as i16)
        .collect();
    let dw = QDepthwise::new(
        Window::new([1, H, H, C], (3, 3), (1, 1), (1, 1), true)?,
        kernel,
        vec![0; C],
        Q8::I8,
        -128,
        RequantSpec::new(&n.dw_scales, 0.0235, 0.0235, C, -128, (-128, 127), out)?,
    );
    let y = m.wire_node("dw", dw, &[y])?[0];
    m.select_output_outlets(&[y])?;
    Ok(m)
}

fn time(name: &str, m: TypedModel, x: &Tensor, runs: usize) -> TractResult<Tensor> {
    let m = m.into_optimized()?;
    let mut ops: std::collections::BTreeMap<String, usize> = Default::default();
    for n in m.eval_order()? {
        let op = m.node(n).op.name().to_string();
        if op != "Const" && op != "Source" {
            *ops.entry(op).or_default() += 1;
        }
    }
    let plan = m.into_runnable()?;
    let mut out = plan.run(tvec!(x.clone().into_tvalue()))?;
    let t = Instant::now();
    for _ in 0..runs {
        out = plan.run(tvec!(x.clone().into_tvalue()))?;
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!("{name:>9}: {ms:7.3} ms/run  ops after optimisation: {ops:?}");
    Ok(out.remove(0).into_tensor())
}

fn main() -> TractResult<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(50);
    let scales = |seed: u32| -> Vec<f32> {
        pseudo_random(C, seed)
            .iter()
            .map(|&v| 0.002 + (v as f32 + 128.0) * 1e-5)
            .collect()
    };
    let net = Net {
        pw_kernel: Tensor::from_shape(&[C, 1, 1, CIN], &pseudo_random(C * CIN, 1))?,
        dw_kernel: Tensor::from_shape(&[1, 3, 3, C], &pseudo_random(9 * C, 2))?,
        pw_scales: scales(3),
        dw_scales: scales(4).iter().map(|s| s * 4.0).collect(),
    };
    let mut x = Tensor::from_shape(&[1, H, H, CIN], &pseudo_random(H * H * CIN, 5))?;
    unsafe { x.set_datum_type(qi8(-7, 0.25)) };
    println!("1x1 conv {CIN}->{C} then 3x3 depthwise {C}, on {H}x{H}, int8, per-channel scales, {runs} runs");
    let a = time("tract", tract_model(&net)?, &x, runs)?;
    let b = time("breedcam", breedcam_model(&net)?, &x, runs)?;
    let (a, b) = (
        a.try_as_plain_ram()?.as_slice::<i8>()?.to_vec(),
        b.try_as_plain_ram()?.as_slice::<i8>()?.to_vec(),
    );
    let max = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (*x as i32 - *y as i32).abs())
        .max()
        .unwrap_or(0);
    println!("outputs: {} values, max difference {max} (scale rounding: tract divides by the output scale as a multiply by its reciprocal)", a.len());
    Ok(())
}
