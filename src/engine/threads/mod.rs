//! breedcam's inference threads: the pool ([`pool`]), where its threads run ([`affinity`]),
//! and the one way an op splits its output over them ([`split`]).

pub mod affinity;
pub mod pool;
pub mod split;

pub use pool::{current, inference, set_threads, with_pool, Pool};
pub use split::{for_chunks, for_runs};
