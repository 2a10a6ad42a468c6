#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ignition_krm::{cli, commands};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let result = match args.as_slice() {
        // No arguments: the KRM function, as kustomize and kpt run it on every build. It needs no parser, and
        // building clap's definitions of every subcommand cost 56,000 instructions and 6 page faults (issue 15).
        [_] => commands::krm_function(),
        // kubectl kustomize runs old-style exec plugins as `plugin CONFIG_FILE`.
        _ => match cli::legacy_plugin_config(&args) {
            Some(config) => cli::legacy_plugin(&config),
            None => cli::run(cli::Cli::parse_from(args)),
        },
    };
    match result {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(error) => {
            // The one place errors are printed.
            for line in error.lines() {
                eprintln!("ignition-krm: error: {line}");
            }
            ExitCode::from(error.exit_code())
        }
    }
}
