//! `breedcam run --config FILE`: the TOML file's keys are `run`'s flags (`camera_size` is
//! `--camera-size`). The file is turned into arguments (`--camera-size=640x480`) added to
//! the command line for each setting the command line does not give, so every value goes
//! through the same parsing and checks as a flag.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use toml::Spanned;

use super::args::Cli;
use crate::Error;

/// The keys a config file may set, in the order the "unknown key" message lists them.
const KEYS: &[&str] = &[
    "camera",
    "camera_size",
    "camera_format",
    "source",
    "display",
    "views",
    "keep",
    "dwell",
    "frames",
    "crop",
    "locate",
    "smoothing",
    "screen",
    "threads",
    "workers",
    "rpicam_args",
    "model",
    "labels",
];

/// Keys whose flag may be given many times: in the file, a list of strings.
const LISTS: &[&str] = &["rpicam_args"];

/// Keys that are one setting together: where frames come from is `camera` or `source`, so
/// either on the command line sets aside both of the file's.
const TOGETHER: &[&[&str]] = &[&["camera", "source"]];

/// Whether the command line gives the setting `key` belongs to (any of its keys).
fn on_command_line(key: &str, given: impl Fn(&str) -> bool) -> bool {
    match TOGETHER.iter().find(|keys| keys.contains(&key)) {
        Some(keys) => keys.iter().any(|k| given(k)),
        None => given(key),
    }
}

/// `argv` with the arguments `run --config FILE` stands for added; unchanged for any other
/// command. `matches` is `argv` parsed.
pub fn with_file_arguments(
    mut argv: Vec<OsString>,
    matches: &ArgMatches,
) -> Result<Vec<OsString>, Error> {
    let Some(("run", run)) = matches.subcommand() else {
        return Ok(argv);
    };
    let Some(path) = run.get_one::<std::path::PathBuf>("config") else {
        return Ok(argv);
    };
    let text = crate::input::read_text(path, crate::input::Kind::Config)?;
    let given = |key: &str| run.value_source(key) == Some(ValueSource::CommandLine);
    for arg in arguments(path, &text)? {
        if !on_command_line(&arg.key, given) {
            argv.push(arg.flag.into());
        }
    }
    Ok(argv)
}

/// The file's keys as `run`'s arguments (`--camera-size=640x480`), each checked as the
/// command line would check it; errors name `path`. What `run --config FILE` adds to the
/// command line (less what the command line gives), for [`crate::fuzzing::config`].
pub fn file_arguments(path: &Path, text: &str) -> Result<Vec<String>, Error> {
    Ok(arguments(path, text)?.into_iter().map(|a| a.flag).collect())
}

/// One key of the file as the flag it stands for.
struct FileArgument {
    key: String,
    /// `--camera-size=640x480`
    flag: String,
}

/// The line (from 1) of the byte at `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The file's keys as flags of `run`, each checked as the command line would check it;
/// errors name the file, the line and the key.
fn arguments(path: &Path, text: &str) -> Result<Vec<FileArgument>, Error> {
    let at = |offset: usize, msg: String| Error::BadInput {
        path: path.into(),
        msg: format!("line {}: {msg}", line_of(text, offset)),
    };
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e: toml::de::Error| {
            // toml's message may span lines ("invalid string\nexpected ..."): one line here.
            let msg: Vec<&str> = e.message().lines().map(str::trim).collect();
            let msg = msg.join("; ");
            match e.span() {
                Some(span) => at(span.start, msg),
                None => Error::BadInput {
                    path: path.into(),
                    msg,
                },
            }
        })?;
    let mut out = vec![];
    for (key, value) in table {
        let offset = key.span().start;
        let bad = |msg: String| at(offset, msg);
        let (key, value) = (key.into_inner(), value.into_inner());
        if !KEYS.contains(&key.as_str()) {
            let expected: Vec<String> = KEYS.iter().map(|k| format!("`{k}`")).collect();
            return Err(bad(format!(
                "unknown field `{key}`, expected one of {}",
                expected.join(", ")
            )));
        }
        let values = match value {
            toml::Value::String(s) => vec![s],
            toml::Value::Integer(i) => vec![i.to_string()],
            toml::Value::Float(f) => vec![f.to_string()],
            toml::Value::Array(items) if LISTS.contains(&key.as_str()) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s),
                    other => Err(bad(format!(
                        "{key}: a list of strings, not of {}",
                        other.type_str()
                    ))),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(bad(format!(
                    "{key}: must be a string or a number, not {}",
                    other.type_str()
                )))
            }
        };
        for value in values {
            out.push(file_argument(&key, &value).map_err(|msg| bad(format!("{key}: {msg}")))?);
        }
    }
    Ok(out)
}

/// `key = value` as the flag it stands for, checked as the command line would check it;
/// the error is clap's message on one line.
fn file_argument(key: &str, value: &str) -> Result<FileArgument, String> {
    let flag = format!("--{}={value}", flag_name(key));
    // The value alone, as the command line would take it.
    Cli::command()
        .try_get_matches_from(["breedcam", "run", flag.as_str()])
        .map_err(|e| {
            // clap's message up to its usage hint, on one line.
            let rendered = e.render().to_string();
            let lines: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let msg = lines.join(" ");
            msg.trim_start_matches("error: ").to_string()
        })?;
    Ok(FileArgument {
        key: key.to_string(),
        flag,
    })
}

/// The flag of a key: `camera_size` is `--camera-size`, `rpicam_args` `--rpicam-arg`.
fn flag_name(key: &str) -> String {
    match key {
        "rpicam_args" => "rpicam-arg".into(),
        _ => key.replace('_', "-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(argv: &[&str], file: &str) -> Result<Cli, Error> {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("breedcam.toml");
        std::fs::write(&cfg, file).unwrap();
        let mut argv: Vec<OsString> = argv.iter().map(Into::into).collect();
        argv.extend(["--config".into(), cfg.clone().into()]);
        let matches = Cli::command().get_matches_from(&argv);
        let argv = with_file_arguments(argv, &matches)?;
        Ok(Cli::parse_from(argv))
    }

    fn kiosk(cli: &Cli) -> &super::super::run::Args {
        match &cli.command {
            super::super::args::Command::Run(r) => r,
            _ => panic!("not run"),
        }
    }

    #[test]
    fn every_key_is_a_flag_of_run() {
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap();
        for key in KEYS {
            let arg = run.get_arguments().find(|a| a.get_id() == *key);
            assert_eq!(
                arg.and_then(|a| a.get_long()),
                Some(flag_name(key).as_str()),
                "{key}"
            );
        }
    }

    #[test]
    fn the_file_fills_in_what_the_command_line_leaves_out() {
        let file = "frames = 5\nsmoothing = 1\ncamera = \"/dev/video3\"\nmodel = \"lite0\"\n\
                    screen = \"320x240\"\ncrop = \"center\"\n";
        let cli = parse(&["breedcam", "run", "--frames", "2"], file).unwrap();
        let r = kiosk(&cli);
        assert_eq!(r.kiosk.frames, Some(2));
        assert_eq!(r.kiosk.smoothing, Some(1.0));
        assert_eq!(r.kiosk.camera.as_deref(), Some("/dev/video3"));
        assert_eq!(r.kiosk.screen.as_deref(), Some("320x240"));
        assert_eq!(r.kiosk.crop, Some(crate::preprocess::Crop::Centre));
        assert_eq!(r.model.model.as_deref(), Some(Path::new("lite0")));
        // `--source` on the command line sets aside the file's camera as well as its source.
        let cli = parse(&["breedcam", "run", "--source", "synthetic"], file).unwrap();
        let r = kiosk(&cli);
        assert_eq!(
            (r.kiosk.camera.as_deref(), r.kiosk.source.as_deref()),
            (None, Some("synthetic"))
        );
        assert_eq!(r.kiosk.frames, Some(5));
    }

    #[test]
    fn a_list_key_is_its_flag_once_per_item() {
        let file = "source = \"rpicam\"\nrpicam_args = [\"--rotation\", \"180\", \"--hflip\"]\n";
        let cli = parse(&["breedcam", "run"], file).unwrap();
        assert_eq!(
            kiosk(&cli).kiosk.rpicam_args.as_deref(),
            Some(&["--rotation".to_string(), "180".into(), "--hflip".into()][..])
        );
        let e = parse(&["breedcam", "run"], "rpicam_args = [1]\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("rpicam_args: a list of strings, not of integer"),
            "{e}"
        );
        let e = parse(&["breedcam", "run"], "frames = [1]\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("frames: must be a string or a number, not array"),
            "{e}"
        );
    }

    #[test]
    fn bad_keys_and_values_name_the_file_and_the_key() {
        let msg = |file: &str| parse(&["breedcam", "run"], file).err().unwrap().to_string();
        let e = msg("fps = 3\n");
        assert!(
            e.contains("breedcam.toml: line 1: unknown field `fps`, expected one of `camera`"),
            "{e}"
        );
        let e = msg("frames = \"many\"\n");
        assert!(
            e.contains("breedcam.toml: line 1: frames: invalid value 'many'"),
            "{e}"
        );
        // The line of the key at fault, also past others and blank lines.
        let e = msg("# kiosk\nsmoothing = 0.5\n\nthreads = \"three\"\n");
        assert!(
            e.contains("breedcam.toml: line 4: threads: invalid value 'three' for '--threads"),
            "{e}"
        );
        let e = msg("crop = \"left\"\n");
        assert!(
            e.contains(
                "crop: invalid value 'left' for '--crop <CROP>' [possible values: centre, none]"
            ),
            "{e}"
        );
        let e = msg("threads = [1, 2]\n");
        assert!(
            e.contains("threads: must be a string or a number, not array"),
            "{e}"
        );
        // A syntax error: the file and the line, on one line.
        let e = msg("frames = 2\nscreen = \n");
        assert!(e.contains("breedcam.toml: line 2: "), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}
