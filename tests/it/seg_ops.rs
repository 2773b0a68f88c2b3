//! The segmenters' operators on small models we build (RESIZE_BILINEAR, CONCATENATION,
//! ARG_MAX): what each computes, and every bad attribute, shape, type or quantization an
//! error naming the operator and the cause, never a panic.

use breedcam::engine::import::build::{TinyModel, TinyOp, TinyOptions, TinyTensor};
use breedcam::engine::import::{import, ImportError};
use breedcam::locate::segmenter::Segmenter;
use breedcam::model::ModelSource;
use tract_tflite::tflite::{ActivationFunctionType, BuiltinOperator, TensorType};

use crate::common;

const U8: TensorType = TensorType::UINT8;

fn u8t(name: &str, shape: &[i32]) -> TinyTensor {
    TinyTensor::new(name, shape, U8).quant(0.5, 10)
}

fn ints(name: &str, v: &[i32]) -> TinyTensor {
    TinyTensor::new(name, &[v.len() as i32], TensorType::INT32)
        .data(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// One operator over `tensors`: tensor 0 is the graph input, the last the output, `inputs`
/// the operator's inputs.
fn one_op(
    code: BuiltinOperator,
    options: TinyOptions,
    tensors: Vec<TinyTensor>,
    inputs: &[i32],
) -> TinyModel {
    let out = tensors.len() as i32 - 1;
    TinyModel {
        tensors,
        ops: vec![TinyOp {
            code,
            inputs: inputs.to_vec(),
            outputs: vec![out],
            options,
        }],
        inputs: vec![0],
        outputs: vec![out],
    }
}

/// The import error of `m`, which must name operator 0 (`op`) and contain `cause`.
fn refused(m: &TinyModel, op: &str, cause: &str) {
    let e = match import(&m.to_bytes()) {
        Ok(_) => panic!("imported a bad {op}: expected '{cause}'"),
        Err(e) => e,
    };
    assert!(matches!(e, ImportError::Invalid(_)), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains(&format!("operator 0 ({op})")) && e.contains(cause),
        "{e}"
    );
}

fn resize(align_corners: bool, half_pixel_centers: bool) -> TinyModel {
    one_op(
        BuiltinOperator::RESIZE_BILINEAR,
        TinyOptions::ResizeBilinear {
            align_corners,
            half_pixel_centers,
        },
        vec![
            u8t("x", &[1, 2, 2, 1]),
            ints("size", &[3, 3]),
            u8t("y", &[1, 3, 3, 1]),
        ],
        &[0, 1],
    )
}

#[test]
fn resize_bilinear_interpolates_in_q11_fixed_point() {
    // Corners 0, 100 / 200, 255, aligned: the centre is (0+100+200+255)/4 = 138.75 -> 139.
    let y = common::run_tiny(&resize(true, false), &[0, 100, 200, 255]);
    assert_eq!(y.shape(), [1, 3, 3, 1]);
    assert_eq!(
        common::bytes(&y),
        [0, 50, 100, 100, 139, 178, 200, 228, 255]
    );
    // Not aligned: samples at 0, 2/3 (weight 1365 / 2048) and 4/3 (clamped to 1).
    let y = common::run_tiny(&resize(false, false), &[0, 100, 200, 255]);
    assert_eq!(
        common::bytes(&y),
        [0, 67, 100, 133, 180, 203, 200, 237, 255]
    );
}

#[test]
fn resize_bilinear_refuses_what_it_cannot_compute() {
    refused(&resize(true, true), "RESIZE_BILINEAR", "half_pixel_centers");
    let mut m = resize(true, false);
    m.tensors[1] = ints("size", &[0, 3]);
    refused(&m, "RESIZE_BILINEAR", "size [0, 3]");
    m.tensors[1] = ints("size", &[3, 3, 1]);
    refused(&m, "RESIZE_BILINEAR", "is not two lengths");
    m.tensors[1] = ints("size", &[3, 4]);
    refused(&m, "RESIZE_BILINEAR", "is declared [1, 3, 3, 1]");
    // The size must be a constant (here the input itself).
    let mut m = resize(true, false);
    m.ops[0].inputs = vec![0, 0];
    refused(&m, "RESIZE_BILINEAR", "must be a constant");
    let mut m = resize(true, false);
    m.tensors[2] = m.tensors[2].clone().quant(0.25, 10);
    refused(&m, "RESIZE_BILINEAR", "quantizations differ");
    let mut m = resize(true, false);
    m.tensors[0] = TinyTensor::new("x", &[1, 2, 2, 1], TensorType::FLOAT32);
    m.tensors[2] = TinyTensor::new("y", &[1, 3, 3, 1], TensorType::FLOAT32);
    refused(&m, "RESIZE_BILINEAR", "only quantized 8-bit");
    let mut m = resize(true, false);
    m.tensors[0] = u8t("x", &[2, 2, 1]);
    refused(&m, "RESIZE_BILINEAR", "is not NHWC");
}

fn concat(
    axis: i32,
    act: ActivationFunctionType,
    second: TinyTensor,
    out: TinyTensor,
) -> TinyModel {
    // The graph input x [1, 1, 2, 2] and a constant [1, 1, 2, 1] joined on the last axis.
    one_op(
        BuiltinOperator::CONCATENATION,
        TinyOptions::Concatenation { axis, act },
        vec![u8t("x", &[1, 1, 2, 2]), second, out],
        &[0, 1],
    )
}

#[test]
fn concatenation_joins_and_requantizes_other_scales() {
    let same = u8t("c", &[1, 1, 2, 1]).data(vec![7, 8]);
    let m = concat(
        -1,
        ActivationFunctionType::NONE,
        same,
        u8t("y", &[1, 1, 2, 3]),
    );
    assert_eq!(
        common::bytes(&common::run_tiny(&m, &[1, 2, 3, 4])),
        [1, 2, 7, 3, 4, 8]
    );
    // The constant in scale 1, zero point 0: real 7 and 8 -> 10 + 14 and 10 + 16 in the
    // output's scale 0.5, zero point 10; 200 -> 410, saturated to 255.
    let other = TinyTensor::new("c", &[1, 1, 2, 1], U8)
        .quant(1.0, 0)
        .data(vec![7, 200]);
    let m = concat(
        3,
        ActivationFunctionType::NONE,
        other,
        u8t("y", &[1, 1, 2, 3]),
    );
    assert_eq!(
        common::bytes(&common::run_tiny(&m, &[1, 2, 3, 4])),
        [1, 2, 24, 3, 4, 255]
    );
}

#[test]
fn concatenation_refuses_inconsistent_inputs() {
    let c = || u8t("c", &[1, 1, 2, 1]).data(vec![7, 8]);
    let y = || u8t("y", &[1, 1, 2, 3]);
    let op = "CONCATENATION";
    refused(
        &concat(4, ActivationFunctionType::NONE, c(), y()),
        op,
        "axis 4 out of range",
    );
    refused(
        &concat(-5, ActivationFunctionType::NONE, c(), y()),
        op,
        "axis -5 out of range",
    );
    refused(
        &concat(3, ActivationFunctionType::RELU, c(), y()),
        op,
        "fused activation RELU",
    );
    refused(
        &concat(
            3,
            ActivationFunctionType::NONE,
            c(),
            u8t("y", &[1, 1, 2, 4]),
        ),
        op,
        "add up to 3 on axis 3",
    );
    let tall = u8t("c", &[1, 2, 2, 1]).data(vec![0; 4]);
    refused(
        &concat(3, ActivationFunctionType::NONE, tall, y()),
        op,
        "does not fit",
    );
    let signed = TinyTensor::new("c", &[1, 1, 2, 1], TensorType::INT8)
        .quant(0.5, 10)
        .data(vec![7, 8]);
    refused(
        &concat(3, ActivationFunctionType::NONE, signed, y()),
        op,
        "input 1 is",
    );
    let mut m = concat(3, ActivationFunctionType::NONE, c(), y());
    m.ops[0].options = TinyOptions::None;
    refused(&m, op, "options missing");
}

fn arg_max(output_type: TensorType, out: TensorType, axis: &[i32]) -> TinyModel {
    one_op(
        BuiltinOperator::ARG_MAX,
        TinyOptions::ArgMax { output_type },
        vec![
            u8t("x", &[1, 2, 2, 3]),
            ints("axis", axis),
            TinyTensor::new("y", &[1, 2, 2], out),
        ],
        &[0, 1],
    )
}

#[test]
fn arg_max_takes_the_first_largest() {
    let m = arg_max(TensorType::INT64, TensorType::INT64, &[3]);
    let y = common::run_tiny(&m, &[1, 9, 9, 5, 4, 3, 0, 0, 0, 2, 7, 8]);
    let v = y
        .try_as_plain_ram()
        .unwrap()
        .as_slice::<i64>()
        .unwrap()
        .to_vec();
    assert_eq!(v, [1, 0, 0, 2]);
    let m = arg_max(TensorType::INT32, TensorType::INT32, &[-1]);
    let y = common::run_tiny(&m, &[1, 9, 9, 5, 4, 3, 0, 0, 0, 2, 7, 8]);
    let v = y
        .try_as_plain_ram()
        .unwrap()
        .as_slice::<i32>()
        .unwrap()
        .to_vec();
    assert_eq!(v, [1, 0, 0, 2]);
}

#[test]
fn arg_max_refuses_bad_axes_and_types() {
    let op = "ARG_MAX";
    refused(
        &arg_max(TensorType::INT64, TensorType::INT64, &[4]),
        op,
        "axis [4]",
    );
    refused(
        &arg_max(TensorType::INT64, TensorType::INT64, &[1, 2]),
        op,
        "axis [1, 2]",
    );
    refused(
        &arg_max(TensorType::FLOAT32, TensorType::INT64, &[3]),
        op,
        "output type FLOAT32",
    );
    refused(
        &arg_max(TensorType::INT64, TensorType::INT32, &[3]),
        op,
        "the options say",
    );
    refused(
        &arg_max(TensorType::INT32, TensorType::INT32, &[2]),
        op,
        "is declared",
    );
    let mut m = arg_max(TensorType::INT64, TensorType::INT64, &[3]);
    m.tensors[0] = TinyTensor::new("x", &[1, 2, 2, 3], TensorType::FLOAT32);
    refused(&m, op, "only 8-bit");
}

#[test]
fn a_classifier_is_not_a_segmenter_and_raw_input_must_fit() {
    let e = match Segmenter::open(&ModelSource::File(common::default_model())) {
        Ok(_) => panic!("a classifier opened as a segmenter"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        e.contains("efficientnet_lite2_int8io.tflite") && e.contains("not a segmenter"),
        "{e}"
    );
    let seg = Segmenter::open(&ModelSource::resolve("seg-small".as_ref()).unwrap()).unwrap();
    let e = seg.class_map_raw(&[0; 100]).unwrap_err().to_string();
    assert!(e.contains("100 input bytes") && e.contains("789507"), "{e}");
}
