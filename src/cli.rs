//! The command line's parsing helpers: booleans as environments spell them, and the
//! cockpit flags a subcommand refuses when given before it.

use crate::{Cli, Command};
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

/// A boolean as environments spell it: 1/0, true/false, yes/no, on/off (any case); empty
/// is false, as if unset.
pub fn env_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Ok(true),
        "" | "0" | "false" | "no" | "off" | "n" | "f" => Ok(false),
        _ => Err(format!(
            "{text:?} is not a boolean: use 1/0, true/false, yes/no or on/off"
        )),
    }
}

/// The cockpit's flags given before a subcommand that also takes them (by clap id); any
/// other one given there is refused rather than silently ignored.
fn allowed_before(command: &Command) -> &'static [&'static str] {
    match command {
        Command::Wallboard { .. } | Command::Demo { .. } => &[
            "theme",
            "keymap",
            "refresh",
            "low_bandwidth",
            "log_file",
            "readonly",
            "keys",
            "exit_after_keys",
        ],
        Command::Controller { .. } => &["refresh", "log_file"],
        Command::Agent(_) => &["log_file"],
        Command::Ctl { .. } => &["readonly"],
        Command::Check { .. } | Command::ExportAnsi { .. } => &["theme", "keymap"],
        Command::Lab { .. } | Command::Completions { .. } | Command::Man { .. } => &[],
    }
}

/// The command line, refusing a cockpit flag put before a subcommand that has no use for it.
pub fn parse() -> Cli {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let (Some(command), Some(name)) = (&cli.command, matches.subcommand_name()) else {
        return cli;
    };
    let allowed = allowed_before(command);
    let misplaced = Cli::command()
        .get_arguments()
        .filter(|arg| !arg.is_global_set() && !allowed.contains(&arg.get_id().as_str()))
        .find(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine))
        .and_then(|arg| arg.get_long().map(str::to_owned));
    if let Some(flag) = misplaced {
        Cli::command()
            .error(
                ErrorKind::ArgumentConflict,
                format!("--{flag} is a cockpit flag: `wheelhouse {name}` does not take it"),
            )
            .exit();
    }
    cli
}
