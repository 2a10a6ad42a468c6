//! The command line: the only place that touches stdin, stdout, stderr and files.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand};
use serde::Deserialize;
use serde_norway::Value;

use crate::function::{self, Outcome};
use crate::krm::{self, KrmResult, ResourceList};
use crate::render::{self, SpecSource, Tree};
use crate::spec;

/// The Argo CD plugin's environment: a variable set on the Application (`plugin.env`), which Argo CD
/// passes with the `ARGOCD_ENV_` prefix...
const ARGOCD_ENVIRONMENT_VARIABLE: &str = "ARGOCD_ENV_IGNITION_ENVIRONMENT";
/// ...or a plugin parameter (`plugin.parameters`), which arrive as JSON in this variable.
const ARGOCD_PARAMETERS_VARIABLE: &str = "ARGOCD_APP_PARAMETERS";
const ARGOCD_ENVIRONMENT_PARAMETER: &str = "environment";
/// The spec file the Argo CD plugin reads from the application's directory by default.
const DEFAULT_SPEC_FILE: &str = "ignition.yaml";

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
        /// Expands this environment of every spec (`spec.environments.<name>`) instead of the base.
        #[arg(long)]
        environment: Option<String>,
    },
    /// Writes (or with --check, verifies) a kustomize tree per site: <site>/base and <site>/overlays/<env>.
    Render {
        /// Spec files, or directories searched for every YAML file holding an IgnitionCluster.
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        /// The directory the tree is written to (one subdirectory per site).
        #[arg(long)]
        out: PathBuf,
        /// Writes nothing: prints a diff of every drifted file and exits 1 on any drift.
        #[arg(long)]
        check: bool,
        /// Exits 1 when a file was written or removed (for pre-commit hooks).
        #[arg(long, conflicts_with = "check")]
        fail_on_change: bool,
    },
    /// Argo CD config management plugin: prints the manifests of the spec in the working directory
    /// for the environment in ARGOCD_ENV_IGNITION_ENVIRONMENT or the `environment` plugin parameter.
    ArgocdGenerate {
        /// Spec files, relative to the application's directory.
        #[arg(default_value = DEFAULT_SPEC_FILE)]
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
        Some(Command::Manifests { files, environment }) => manifests(&files, environment.as_deref()),
        Some(Command::Render {
            specs,
            out,
            check,
            fail_on_change,
        }) => render_command(&specs, &out, check, fail_on_change),
        Some(Command::ArgocdGenerate { files }) => match argocd_environment() {
            Ok(environment) => manifests(&files, environment.as_deref()),
            Err(message) => {
                eprintln!("ignition-krm: error: {message}");
                1
            }
        },
        Some(Command::Schema) => {
            let schema = serde_json::to_string_pretty(spec::json_schema()).unwrap_or_default();
            emit(&format!("{schema}\n"))
        }
        Some(Command::Passthrough) => passthrough(),
    }
}

/// The KRM function: stdin to stdout; exit 1 with the results on stdout and stderr on any error.
fn krm_function() -> u8 {
    let outcome = match read_stdin().and_then(|text| krm::read_text(text).map_err(|error| error.to_string())) {
        Ok(list) => function::process(list),
        Err(message) => Outcome {
            items: Vec::new(),
            results: vec![KrmResult::error(message)],
            generated: 0,
            source: Default::default(),
        },
    };
    report(&outcome.results);
    let written = emit_with(|out| krm::write_with_source_to(out, &outcome.items, &outcome.source, &outcome.results));
    let code = if outcome.has_errors() { 1 } else { written };
    // The process ends here: freeing every node of a large tree one by one would cost more than the
    // rest of the write, and the kernel takes the memory back at once.
    std::mem::forget(outcome);
    code
}

/// The function's own parse-and-write path with generation skipped: the floor it is measured against.
fn passthrough() -> u8 {
    match read_stdin().and_then(|text| krm::read_text(text).map_err(|error| error.to_string())) {
        Ok(list) => {
            let code = emit_with(|out| krm::write_with_source_to(out, &list.items, &list.source, &[]));
            // As in the function: the process ends here, the kernel frees the memory.
            std::mem::forget(list);
            code
        }
        Err(message) => {
            eprintln!("ignition-krm: error: {message}");
            1
        }
    }
}

/// The legacy exec plugin form that `kubectl kustomize --enable-alpha-plugins` runs: the only
/// argument is the path of a file holding the plugin config (the spec). Subcommand names and
/// options always win, so the form is unambiguous: it is taken only for exactly one argument that
/// is neither and names an existing file.
pub fn legacy_plugin_config(args: &[OsString]) -> Option<PathBuf> {
    let [_, argument] = args else {
        return None;
    };
    let text = argument.to_str()?;
    let command = Cli::command();
    let is_subcommand = text == "help" || command.get_subcommands().any(|sub| sub.get_name() == text);
    let path = PathBuf::from(argument);
    (!is_subcommand && !text.starts_with('-') && path.is_file()).then_some(path)
}

/// The legacy exec plugin: plain manifests of the spec in the config file, for its environment
/// annotation.
pub fn legacy_plugin(config: &Path) -> u8 {
    manifests(&[config.to_path_buf()], None)
}

/// The environment Argo CD asks for: the `ARGOCD_ENV_` variable or the plugin parameter; both given
/// and different is an error.
fn argocd_environment() -> Result<Option<String>, String> {
    let variable = std::env::var(ARGOCD_ENVIRONMENT_VARIABLE)
        .ok()
        .filter(|value| !value.is_empty());
    let parameter = match std::env::var(ARGOCD_PARAMETERS_VARIABLE) {
        Ok(json) if !json.trim().is_empty() => argocd_parameter(&json)?,
        _ => None,
    };
    match (variable, parameter) {
        (Some(variable), Some(parameter)) if variable != parameter => Err(format!(
            "{ARGOCD_ENVIRONMENT_VARIABLE} is {variable:?} but the plugin parameter {ARGOCD_ENVIRONMENT_PARAMETER:?} is {parameter:?}: give one"
        )),
        (variable, parameter) => Ok(variable.or(parameter)),
    }
}

/// The `environment` parameter from `ARGOCD_APP_PARAMETERS`: `[{"name": "environment", "string": "prod"}]`.
fn argocd_parameter(json: &str) -> Result<Option<String>, String> {
    #[derive(Deserialize)]
    struct Parameter {
        name: String,
        #[serde(default)]
        string: Option<String>,
    }
    let parameters: Vec<Parameter> = serde_json::from_str(json)
        .map_err(|error| format!("{ARGOCD_PARAMETERS_VARIABLE} is not the JSON list Argo CD sends: {error}"))?;
    Ok(parameters
        .into_iter()
        .find(|parameter| parameter.name == ARGOCD_ENVIRONMENT_PARAMETER)
        .and_then(|parameter| parameter.string)
        .filter(|value| !value.is_empty()))
}

/// Plain manifests of spec files: nothing at all on stdout when anything is wrong.
fn manifests(files: &[PathBuf], environment: Option<&str>) -> u8 {
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
    if let Some(environment) = environment {
        for item in items.iter_mut().filter(|item| spec::is_ignition_cluster(item)) {
            set_annotation(item, spec::ENVIRONMENT_ANNOTATION, environment);
        }
    }
    let outcome = function::process(ResourceList {
        items,
        ..Default::default()
    });
    if outcome.has_errors() {
        report(&outcome.results);
        return 1;
    }
    let mut objects = outcome.generated_items().to_vec();
    objects.iter_mut().for_each(krm::strip_orchestrator_annotations);
    emit(&krm::write_documents(&objects))
}

fn set_annotation(object: &mut Value, key: &str, value: &str) {
    let Some(object) = object.as_mapping_mut() else {
        return;
    };
    let metadata = object
        .entry("metadata".into())
        .or_insert(Value::Mapping(Default::default()));
    let Some(metadata) = metadata.as_mapping_mut() else {
        return;
    };
    let annotations = metadata
        .entry("annotations".into())
        .or_insert(Value::Mapping(Default::default()));
    if let Some(annotations) = annotations.as_mapping_mut() {
        annotations.insert(key.into(), value.into());
    }
}

/// `render`: builds the tree in memory, then writes it or compares it with the disk.
fn render_command(inputs: &[PathBuf], out: &Path, check: bool, fail_on_change: bool) -> u8 {
    let tree = match find_specs(inputs, out).and_then(|specs| render::render(&specs)) {
        Ok(tree) => tree,
        Err(errors) => {
            for error in errors {
                eprintln!("ignition-krm: error: {error}");
            }
            return 1;
        }
    };
    let drift = match compare(&tree, out) {
        Ok(drift) => drift,
        Err(message) => {
            eprintln!("ignition-krm: error: {message}");
            return 1;
        }
    };
    if check {
        let mut text = String::new();
        for (path, expected) in &tree {
            if let Some(actual) = drift.changed.get(path) {
                let expected = String::from_utf8_lossy(expected);
                let actual = String::from_utf8_lossy(actual);
                let diff = similar::TextDiff::from_lines(actual.as_ref(), expected.as_ref());
                let on_disk = out.join(path);
                text.push_str(
                    &diff
                        .unified_diff()
                        .header(
                            &on_disk.display().to_string(),
                            &format!("{} (rendered)", on_disk.display()),
                        )
                        .to_string(),
                );
            }
        }
        for path in &drift.missing {
            text.push_str(&format!("missing: {}\n", out.join(path).display()));
        }
        for path in &drift.stray {
            text.push_str(&format!("stray: {}\n", out.join(path).display()));
        }
        let clean = drift.is_clean();
        text.push_str(&if clean {
            format!("ignition-krm render --check: {} files up to date in {}\n", tree.len(), out.display())
        } else {
            format!(
                "ignition-krm render --check: drift in {}: {} changed, {} missing, {} stray; run ignition-krm render without --check\n",
                out.display(),
                drift.changed.len(),
                drift.missing.len(),
                drift.stray.len()
            )
        });
        let written = emit(&text);
        return if clean { written } else { 1 };
    }
    if let Err(message) = write_tree(&tree, &drift, out) {
        eprintln!("ignition-krm: error: {message}");
        return 1;
    }
    let changes = drift.changed.len() + drift.missing.len() + drift.stray.len();
    eprintln!(
        "ignition-krm render: {} written, {} removed, {} unchanged in {}",
        drift.changed.len() + drift.missing.len(),
        drift.stray.len(),
        tree.len() - drift.changed.len() - drift.missing.len(),
        out.display()
    );
    u8::from(fail_on_change && changes > 0)
}

/// How the disk differs from a rendered tree.
#[derive(Default)]
struct Drift {
    /// Path to the content on disk.
    changed: std::collections::BTreeMap<String, Vec<u8>>,
    missing: Vec<String>,
    /// Files under a rendered site's directory that the tree does not have.
    stray: Vec<String>,
}

impl Drift {
    fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.stray.is_empty()
    }
}

fn compare(tree: &Tree, out: &Path) -> Result<Drift, String> {
    let mut drift = Drift::default();
    for (path, content) in tree {
        let file = out.join(path);
        match std::fs::read(&file) {
            Ok(bytes) if bytes == *content => {}
            Ok(bytes) => {
                drift.changed.insert(path.clone(), bytes);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => drift.missing.push(path.clone()),
            Err(error) => return Err(format!("cannot read {}: {error}", file.display())),
        }
    }
    let sites: BTreeSet<&str> = tree
        .keys()
        .filter_map(|path| path.split_once('/'))
        .map(|(site, _)| site)
        .collect();
    for site in sites {
        let dir = out.join(site);
        if !dir.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let entry = entry.map_err(|error| format!("cannot list {}: {error}", dir.display()))?;
            if entry.file_type().is_dir() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(out)
                .map_err(|error| format!("cannot list {}: {error}", dir.display()))?;
            let relative = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if !tree.contains_key(&relative) {
                drift.stray.push(relative);
            }
        }
    }
    Ok(drift)
}

fn write_tree(tree: &Tree, drift: &Drift, out: &Path) -> Result<(), String> {
    for path in drift.changed.keys().chain(drift.missing.iter()) {
        let file = out.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
        }
        std::fs::write(&file, &tree[path]).map_err(|error| format!("cannot write {}: {error}", file.display()))?;
    }
    for path in &drift.stray {
        let file = out.join(path);
        std::fs::remove_file(&file).map_err(|error| format!("cannot remove {}: {error}", file.display()))?;
    }
    Ok(())
}

/// The specs in the given files, and in every YAML file below the given directories (the output
/// directory and hidden directories excluded), in path order.
fn find_specs(inputs: &[PathBuf], out: &Path) -> Result<Vec<SpecSource>, Vec<String>> {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let walker = walkdir::WalkDir::new(input)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|entry| {
                    let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
                    !hidden && !same_path(entry.path(), out)
                });
            for entry in walker {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        errors.push(format!("cannot list {}: {error}", input.display()));
                        continue;
                    }
                };
                let name = entry.file_name().to_string_lossy();
                if entry.file_type().is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
                    read_specs(entry.path(), false, &mut specs, &mut errors);
                }
            }
        } else {
            read_specs(input, true, &mut specs, &mut errors);
        }
    }
    if errors.is_empty() && specs.is_empty() {
        errors.push(format!("no {} found in the given files and directories", spec::KIND));
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Adds the specs of one file. A YAML file found in a directory that does not parse is skipped
/// unless it mentions the spec's kind (then it is a broken spec, and an error).
fn read_specs(path: &Path, named: bool, specs: &mut Vec<SpecSource>, errors: &mut Vec<String>) {
    let file = path.display().to_string();
    let text = match read_file(&path.to_path_buf()) {
        Ok(text) => text,
        Err(message) => {
            errors.push(format!("{file}: {message}"));
            return;
        }
    };
    match documents(&text) {
        Ok(documents) => {
            specs.extend(
                documents
                    .into_iter()
                    .filter(spec::is_ignition_cluster)
                    .map(|object| SpecSource {
                        file: file.clone(),
                        object,
                    }),
            )
        }
        Err(message) if named || text.contains(spec::KIND) => errors.push(format!("{file}: {message}")),
        Err(_) => {}
    }
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
    emit_with(|out| out.write_all(text.as_bytes()))
}

/// Writes to stdout piece by piece; a closed pipe (`| head`) is not an error.
fn emit_with(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) -> u8 {
    let mut stdout = io::stdout().lock();
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("ignition-krm: error: cannot write the output: {error}");
            1
        }
    }
}
