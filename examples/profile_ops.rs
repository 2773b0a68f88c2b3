//! Where inference time goes: per-op time of a model's optimised tract plan.
//!
//! `cargo run --release --example profile_ops -- [MODEL] [RUNS]`
//!
//! Environment: `INPUT=file` feeds raw input bytes (`breedcam tensor` writes them; zeros
//! otherwise); `DUMP=1` prints the optimised graph; `DUMP_NODE=name` writes that node's
//! output bytes to /tmp/node_$TAG.bin on the first run (for comparing two import paths);
//! `THREADS=n` runs on tract's n-thread executor; `PER_NODE=1` times each node apart; `THRASH=1` evicts the caches
//! between runs; `LOAD_PROBE=1` prints where `main` was loaded (tools/aarch64-cost);
//! `LOGITS=1` stops a segmenter at its class scores, as `locate::segmenter` does.
use std::collections::HashMap;
use std::time::Instant;
use tract_core::internal::*;

fn main() -> anyhow::Result<()> {
    if std::env::var_os("LOAD_PROBE").is_some() {
        // tools/aarch64-cost attributes instructions to symbols: it needs the load bias.
        let f: fn() -> anyhow::Result<()> = main;
        eprintln!("load probe: profile_ops::main at {:#x}", f as usize);
    }
    if let Some(n) = std::env::var("THREADS").ok().and_then(|v| v.parse().ok()) {
        breedcam::model::set_threads(n)?;
    }
    // As breedcam runs a plan: with the inference threads awake.
    breedcam::engine::threads::inference(profile)
}

fn profile() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("models/efficientnet_lite0_int8.tflite");
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let bytes = std::fs::read(path)?;
    let imported = match std::env::var_os("LOGITS") {
        // A segmenter as the locate stage runs it: stopped at its class scores.
        Some(_) => {
            let logits = breedcam::engine::import::segmentation_logits(&bytes)?
                .ok_or_else(|| anyhow::anyhow!("{path}: no class scores before an ARG_MAX"))?;
            breedcam::engine::import::import_to(&bytes, Some(&[logits]))?
        }
        None => breedcam::engine::import::import(&bytes)?,
    };
    let fact = imported.model.input_fact(0)?.clone();
    let model = imported.model.into_optimized()?;
    if std::env::var("DUMP").is_ok() {
        for n in model.eval_order()? {
            let node = model.node(n);
            println!(
                "{} {} {:?} <- {:?} :: {:?}",
                node.id, node.name, node.op, node.inputs, node.outputs[0].fact
            );
        }
    }
    let plan = model.into_runnable()?;
    let shape = fact.shape.as_concrete().unwrap().to_vec();
    let mut input = Tensor::zero_dt(fact.datum_type, &shape)?;
    if let Ok(f) = std::env::var("INPUT") {
        let b = std::fs::read(f)?;
        input = breedcam::engine::ops::tensor_from_bytes(fact.datum_type, &shape, &b)?;
    }
    let input = breedcam::engine::ops::quant::retyped(input, fact.datum_type)?;
    let dump = std::env::var("DUMP_NODE").ok();
    let per_node = std::env::var("PER_NODE").is_ok();
    let mut per_op: HashMap<String, (f64, usize)> = HashMap::new();
    let mut total = 0.0;
    let mut thrash = std::env::var("THRASH").is_ok().then(|| vec![0u8; 32 << 20]);
    for run in 0..=runs {
        if let Some(t) = thrash.as_mut() {
            // Evict the caches between runs, as decoding and drawing a frame do in `bench`.
            t.iter_mut().for_each(|b| *b = b.wrapping_add(run as u8));
            std::hint::black_box(&t);
        }
        let mut state = SimpleState::new(&plan)?;
        let t0 = Instant::now();
        let input = tvec!(input.clone().into_tvalue());
        state.run_plan_with_eval(input, |session, op_state, node, inputs| {
            let t = Instant::now();
            let r = tract_core::plan::eval(session, op_state, node, inputs);
            if run > 0 {
                let key = if per_node {
                    format!("{} {}", node.op.name(), node.name)
                } else {
                    node.op.name().to_string()
                };
                let e = per_op.entry(key).or_default();
                e.0 += t.elapsed().as_secs_f64() * 1e3;
                e.1 += 1;
            } else if let (Some(want), Ok(out)) = (&dump, &r) {
                if &node.name == want {
                    write_node(&out[0].clone().into_tensor());
                }
            }
            r
        })?;
        if run > 0 {
            total += t0.elapsed().as_secs_f64() * 1e3;
        }
    }
    let mut v: Vec<_> = per_op.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    println!("total {:.1} ms/run over {runs} runs", total / runs as f64);
    for (name, (ms, n)) in v {
        // Per node, the small ones need microseconds.
        let prec = if per_node { 3 } else { 2 };
        println!(
            "{:>8.prec$} ms {:>5} nodes  {name}",
            ms / runs as f64,
            n / runs
        );
    }
    Ok(())
}

fn write_node(t: &Tensor) {
    let bytes: Vec<u8> = if t.datum_type() == i32::datum_type() {
        let v = t.try_as_plain_ram().unwrap();
        v.as_slice::<i32>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    } else {
        breedcam::model::tensor_bytes(t).unwrap()
    };
    let tag = std::env::var("TAG").unwrap_or_default();
    std::fs::write(format!("/tmp/node_{tag}.bin"), bytes).unwrap();
    eprintln!("dumped {:?} {:?}", t.shape(), t.datum_type());
}
