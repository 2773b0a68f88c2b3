//! Writes the fuzzer's seed corpus (fuzz/seeds/import/): small TFLite files made by
//! breedcam's own builder, one per op family the importer handles, plus a few broken ones.
//!
//!   cargo run --example make_fuzz_seeds

use breedcam::engine::import::build::{TinyModel, TinyOp, TinyOptions, TinyTensor};
use tract_tflite::tflite::{ActivationFunctionType, BuiltinOperator, TensorType};

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/import");
    std::fs::create_dir_all(&dir)?;
    let mut seeds: Vec<(&str, TinyModel)> = vec![];
    for (name, code) in [
        ("relu", BuiltinOperator::RELU),
        ("relu6", BuiltinOperator::RELU6),
        ("logistic", BuiltinOperator::LOGISTIC),
        ("hard_swish", BuiltinOperator::HARD_SWISH),
        ("quantize", BuiltinOperator::QUANTIZE),
        ("reshape", BuiltinOperator::RESHAPE),
    ] {
        seeds.push((name, TinyModel::unary(code, TinyOptions::None)));
    }
    seeds.push((
        "softmax",
        TinyModel::unary(BuiltinOperator::SOFTMAX, TinyOptions::Softmax { beta: 1.0 }),
    ));
    let mut add = TinyModel::unary(
        BuiltinOperator::ADD,
        TinyOptions::Binary(ActivationFunctionType::RELU6),
    );
    add.tensors.push(
        TinyTensor::new("k", &[3], TensorType::UINT8)
            .quant(0.25, 3)
            .data(vec![1, 2, 3]),
    );
    add.ops[0].inputs = vec![0, 2];
    seeds.push(("add_const", add.clone()));
    let mut mul = add.clone();
    mul.ops[0].code = BuiltinOperator::MUL;
    seeds.push(("mul_const", mul));
    let mut chain = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    chain
        .tensors
        .push(TinyTensor::new("y", &[1, 2, 2, 3], TensorType::UINT8).quant(1.0 / 256.0, 0));
    chain.ops.push(TinyOp {
        code: BuiltinOperator::SOFTMAX,
        inputs: vec![1],
        outputs: vec![2],
        options: TinyOptions::Softmax { beta: 1.0 },
    });
    chain.outputs = vec![2];
    seeds.push(("relu_softmax", chain.clone()));
    let mut unsupported = chain;
    unsupported.ops[1].code = BuiltinOperator::CUMSUM;
    seeds.push(("unsupported_cumsum", unsupported));
    let mut bad_index = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    bad_index.ops[0].inputs = vec![9];
    seeds.push(("bad_tensor_index", bad_index));
    let mut float = TinyModel::unary(BuiltinOperator::DEQUANTIZE, TinyOptions::None);
    float.tensors[1] = TinyTensor::new("f", &[1, 2, 2, 3], TensorType::FLOAT32);
    seeds.push(("dequantize", float));
    for (name, model) in &seeds {
        std::fs::write(dir.join(format!("{name}.tflite")), model.to_bytes())?;
    }
    println!("wrote {} seeds to {}", seeds.len(), dir.display());
    Ok(())
}
