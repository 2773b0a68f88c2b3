//! The `breedcam` command line: parse, set up logging, run the command, map errors to exit
//! codes (0 ok, 1 a failure while running, 2 bad usage or input). The commands are in the
//! library's `cli` module.

use std::process::ExitCode;

use breedcam::cli::{self, signals};

fn main() -> ExitCode {
    signals::end_on_broken_pipe();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => return fail(&e.into()),
    };
    init_logging(cli.verbose, cli.quiet);
    match cli::dispatch(&cli.command) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

/// `-q`: errors only (also no summaries, see `cli::quiet`); default warnings; `-v` info,
/// `-vv` debug: breedcam's own lines; `-vvv` trace, and other crates' (tract's) at every
/// level, which run to hundreds of lines a frame.
fn init_logging(verbose: u8, quiet: bool) {
    use log::LevelFilter::{Debug, Error, Info, Trace, Warn};
    let (own, others) = match (quiet, verbose) {
        (true, _) => (Error, Error),
        (_, 0) => (Warn, Warn),
        (_, 1) => (Info, Warn),
        (_, 2) => (Debug, Warn),
        _ => (Trace, Trace),
    };
    // tract_linalg warns when /proc/cpuinfo lacks CPU feature lines, which is the case under
    // qemu-user but not on a Pi: keep that to -vvv so one-line errors stay one line.
    let linalg = if verbose > 2 { others } else { Error };
    simple_logger::SimpleLogger::new()
        .with_level(others)
        .with_module_level("breedcam", own)
        .with_module_level("tract_linalg", linalg)
        .init()
        .ok();
}

/// Prints the error and its causes on one line; the exit code says whose fault it was.
fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("breedcam: {e:#}");
    ExitCode::from(exit_code(e))
}

/// 2 when the user gave something unusable (a library error that says so anywhere in the
/// chain), 1 for failures while running.
fn exit_code(e: &anyhow::Error) -> u8 {
    let bad_input = e.chain().any(|c| {
        c.downcast_ref::<breedcam::Error>()
            .is_some_and(breedcam::Error::is_bad_input)
    });
    if bad_input {
        2
    } else {
        1
    }
}
