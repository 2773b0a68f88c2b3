//! Fork-join cost of breedcam's inference pool: `cargo run --release --example pool_overhead`.
use std::sync::Arc;
use std::time::Instant;

fn work(n: u64) -> u64 {
    let mut x = n;
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    x
}

fn main() {
    let pool = Arc::new(breedcam::engine::threads::Pool::new(2));
    for &units in &[1_000u64, 10_000, 100_000] {
        let reps = 2000;
        let t = Instant::now();
        for _ in 0..reps {
            for i in 0..8 {
                std::hint::black_box(work(units + i));
            }
        }
        let serial = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
        let t = Instant::now();
        pool.hot(|| {
            for _ in 0..reps {
                pool.for_each(8, &|i| {
                    std::hint::black_box(work(units + i as u64));
                });
            }
        });
        let par = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
        println!(
            "8 tasks of {units} steps: serial {serial:.1} us, 2 threads {par:.1} us ({:.2}x)",
            par / serial
        );
    }
}
