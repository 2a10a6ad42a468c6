use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ExitCode::from(ignition_krm::cli::run(ignition_krm::cli::Cli::parse()))
}
