//! The command line: the only place that touches stdin, stdout, stderr and files.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde::Deserialize;
use serde_norway::Value;

use crate::function::{self, Outcome};
use crate::krm::{self, KrmResult, ResourceList};
use crate::spec;

/// The largest input read, on stdin or from a file. A kustomize build of a large site is a few MiB.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Expands IgnitionCluster specs into Kubernetes manifests for Ignition gateways.
///
/// With no subcommand it is a KRM function: it reads a ResourceList on stdin and writes one on
/// stdout, as kustomize (exec generators) and kpt run it.
#[derive(Debug, Parser)]
#[command(name = "ignition-krm", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prints the manifests of the IgnitionCluster specs in FILEs as plain multi-document YAML.
    Manifests {
        /// Files holding IgnitionCluster objects (other objects in them are ignored).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Prints the JSON Schema of the IgnitionCluster spec.
    Schema,
    /// Benchmark floor only: reads the ResourceList on stdin and writes its items back, with no spec
    /// read and nothing generated. scripts/bench.sh compares the function against this.
    #[command(hide = true)]
    Passthrough,
}

/// Runs the command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        None => krm_function(),
        Some(Command::Manifests { files }) => manifests(&files),
        Some(Command::Schema) => {
            let schema = serde_json::to_string_pretty(spec::json_schema()).unwrap_or_default();
            emit(&format!("{schema}\n"))
        }
        Some(Command::Passthrough) => passthrough(),
    }
}

/// The KRM function: stdin to stdout; exit 1 with the results on stdout and stderr on any error.
fn krm_function() -> u8 {
    let outcome = match read_stdin().and_then(|text| krm::read(&text).map_err(|error| error.to_string())) {
        Ok(list) => function::process(list),
        Err(message) => Outcome {
            items: Vec::new(),
            results: vec![KrmResult::error(message)],
            generated: 0,
        },
    };
    report(&outcome.results);
    let output = krm::write(&outcome.items, &outcome.results);
    let written = emit(&output);
    let code = if outcome.has_errors() { 1 } else { written };
    // The process ends here: freeing every node of a large tree one by one would cost more than the
    // rest of the write, and the kernel takes the memory back at once.
    std::mem::forget((outcome, output));
    code
}

/// The function's own parse-and-write path with generation skipped: the floor it is measured against.
fn passthrough() -> u8 {
    match read_stdin().and_then(|text| krm::read(&text).map_err(|error| error.to_string())) {
        Ok(list) => {
            let output = krm::write(&list.items, &[]);
            let code = emit(&output);
            // As in the function: the process ends here, the kernel frees the memory.
            std::mem::forget((list, output));
            code
        }
        Err(message) => {
            eprintln!("ignition-krm: error: {message}");
            1
        }
    }
}

/// Plain manifests of spec files: nothing at all on stdout when anything is wrong.
fn manifests(files: &[PathBuf]) -> u8 {
    let mut items = Vec::new();
    for file in files {
        match read_file(file).and_then(|text| documents(&text)) {
            Ok(documents) => items.extend(documents),
            Err(message) => {
                eprintln!("ignition-krm: {}: {message}", file.display());
                return 1;
            }
        }
    }
    let outcome = function::process(ResourceList {
        items,
        function_config: None,
    });
    if outcome.has_errors() {
        report(&outcome.results);
        return 1;
    }
    let mut objects = outcome.generated_items().to_vec();
    objects.iter_mut().for_each(krm::strip_orchestrator_annotations);
    emit(&krm::write_documents(&objects))
}

fn documents(text: &str) -> Result<Vec<Value>, String> {
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|error| format!("not valid YAML: {error}"))?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

fn report(results: &[KrmResult]) {
    let mut stderr = io::stderr().lock();
    for result in results.iter().filter(|result| result.is_error()) {
        // Nothing to do if stderr is gone too.
        let _ = writeln!(stderr, "ignition-krm: error: {}", function::describe(result));
    }
}

fn read_stdin() -> Result<String, String> {
    read_limited(io::stdin().lock(), "stdin")
}

fn read_file(path: &PathBuf) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|error| format!("cannot open: {error}"))?;
    read_limited(file, "the file")
}

fn read_limited(reader: impl Read, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read {what}: {error}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "{what} is larger than {} MiB, the most this function reads",
            MAX_INPUT_BYTES >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        format!(
            "{what} is not UTF-8 text: invalid byte at offset {}",
            error.utf8_error().valid_up_to()
        )
    })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> u8 {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("ignition-krm: error: cannot write the output: {error}");
            1
        }
    }
}
