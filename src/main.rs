#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ignition_krm::cli;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // kubectl kustomize runs old-style exec plugins as `plugin CONFIG_FILE`.
    let result = match cli::legacy_plugin_config(&args) {
        Some(config) => cli::legacy_plugin(&config),
        None => cli::run(cli::Cli::parse_from(args)),
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
