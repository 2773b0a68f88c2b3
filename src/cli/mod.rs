//! The command line, for `main.rs` to run: the flags ([`args`], each command's own in its
//! file), the config file turned into flags ([`config`]), and one file per command that
//! checks its flags into settings, runs the library and prints the result.
//!
//! | module | |
//! |---|---|
//! | [`args`] | `Cli`, the commands, the model flags they share |
//! | [`config`] | `run --config FILE`: the TOML keys as `run`'s flags |
//! | [`model`] | the model the flags name, resolved and loaded |
//! | [`source`] | where frames come from (`--source`, `--camera`...), `WxH` sizes |
//! | [`signals`] | SIGPIPE ends quietly; SIGINT / SIGTERM stop the kiosk |
//! | [`classify`], [`eval`], [`bench`], [`run`], [`info`], [`cameras`] | the commands |
//! | [`raw`] | the hidden `tensor` / `run-raw` commands of the golden tests |

pub mod args;
pub mod bench;
pub mod cameras;
pub mod classify;
pub mod config;
pub mod eval;
pub mod info;
pub mod model;
pub mod raw;
pub mod run;
pub mod signals;
pub mod source;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command};

/// Parses the command line, with `run --config FILE`'s keys added as flags. Bad flags end
/// the process as clap does (usage on stderr, exit code 2); an unusable config file is an
/// error.
pub fn parse() -> Result<Cli, crate::Error> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let matches = Cli::command().get_matches_from(&argv);
    let matches = match config::with_file_arguments(argv.clone(), &matches)? {
        more if more.len() > argv.len() => Cli::command().get_matches_from(more),
        _ => matches,
    };
    Ok(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}

/// Whether `-q` asked for errors only: then commands print no summaries or progress on
/// stderr either (their results on stdout stay).
pub fn quiet() -> bool {
    log::max_level() < log::LevelFilter::Warn
}

/// Runs a command; its exit code, or the error that stopped it.
pub fn dispatch(command: &Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Classify(a) => classify::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Run(a) => run::run(a),
        Command::Cameras => cameras::run(),
        Command::Bench(a) => bench::run(a),
        Command::Tensor(a) => raw::tensor(a),
        Command::RunRaw(a) => raw::run_raw(a),
        Command::Info(a) => info::run(a),
    }
}
