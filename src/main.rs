#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ignition_krm::cli;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // kubectl kustomize runs old-style exec plugins as `plugin CONFIG_FILE`.
    if let Some(config) = cli::legacy_plugin_config(&args) {
        return ExitCode::from(cli::legacy_plugin(&config));
    }
    ExitCode::from(cli::run(cli::Cli::parse_from(args)))
}
