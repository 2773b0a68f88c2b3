//! Writes the fuzzers' seed corpora: fuzz/seeds/import/, small TFLite files made by
//! breedcam's own builder, one per op family the importer handles, plus a few broken ones;
//! fuzz/seeds/image/, tiny JPEG, PNG and BMP files (grey, RGB, 16-bit RGBA, an EXIF-turned
//! JPEG, a truncated one, a PNG whose header claims 23000x23000). The config and
//! ground-truth seeds (fuzz/seeds/config/, fuzz/seeds/truth/) are written by hand.
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
    image_seeds()
}

fn image_seeds() -> std::io::Result<()> {
    use breedcam::input::testing::{encode as encoded, with_orientation};
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/image");
    std::fs::create_dir_all(&dir)?;
    let rgb = DynamicImage::ImageRgb8(RgbImage::from_fn(24, 16, |x, y| {
        Rgb([x as u8 * 10, y as u8 * 15, 128])
    }));
    let jpeg = encoded(&rgb, ImageFormat::Jpeg);
    let mut header = encoded(&DynamicImage::new_rgb8(1, 1), ImageFormat::Png);
    // IHDR's width and height (bytes 16..24) to 23000; its CRC is then wrong, which the
    // fuzzer soon learns to fix.
    header[16..24].copy_from_slice(&[0, 0, 0x59, 0xD8, 0, 0, 0x59, 0xD8]);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("rgb.jpg", jpeg.clone()),
        ("grey.jpg", encoded(&rgb.grayscale(), ImageFormat::Jpeg)),
        ("exif_turned.jpg", with_orientation(&jpeg, 6)),
        ("truncated.jpg", jpeg[..jpeg.len() / 2].to_vec()),
        ("rgb.png", encoded(&rgb, ImageFormat::Png)),
        ("grey.png", encoded(&rgb.grayscale(), ImageFormat::Png)),
        (
            "rgba16.png",
            encoded(
                &DynamicImage::ImageRgba16(rgb.to_rgba16()),
                ImageFormat::Png,
            ),
        ),
        ("claims_23000.png", header),
        ("rgb.bmp", encoded(&rgb, ImageFormat::Bmp)),
    ];
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(name), bytes)?;
    }
    println!("wrote {} seeds to {}", seeds.len(), dir.display());
    Ok(())
}
