//! The command line: clap definitions and dispatch. The work is in [`crate::commands`] (what each
//! subcommand does), [`crate::tree`] (the disk side of `render`), [`crate::argocd`] (the Argo CD
//! plugin's environment) and [`crate::io`] (stdin, stdout, input files); errors are printed once, in
//! `main`, from [`crate::error::Error`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::commands::{self, Choice};
use crate::error::{Error, Status};
use crate::fleet::FleetArgs;
use crate::tree::{self, Mode};
use crate::{io, spec};

/// Expands IgnitionCluster specs into Kubernetes manifests for Ignition gateways.
///
/// With no subcommand it is a KRM function: it reads a ResourceList on stdin and writes one on
/// stdout, as kustomize (exec generators) and kpt run it.
///
/// Exit codes: 0 ok, 1 drift (render --check, --fail-on-change, a site directory whose spec is
/// gone), 2 invalid input (any error).
#[derive(Debug, Parser)]
#[command(name = "ignition-krm", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prints the manifests of the IgnitionCluster specs in the inputs as plain multi-document YAML;
    /// other objects in them are printed unchanged.
    Manifests {
        /// Spec files, directories (every *.yaml/*.yml below them) or - for stdin.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The environment to expand (`spec.environments.<name>`), or `base` for the base spec.
        /// Required when a spec has environments.
        #[arg(long)]
        environment: Option<String>,
    },
    /// Checks the specs in the inputs and prints every problem; generates nothing.
    Validate {
        /// Spec files, directories (every *.yaml/*.yml below them) or - for stdin.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
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
        /// With --check: the report as JSON on stdout (for CI).
        #[arg(long, value_enum, default_value_t = Output::Text, requires = "check")]
        output: Output,
        /// Exits 1 when a file was written or removed (for pre-commit hooks).
        #[arg(long, conflicts_with = "check")]
        fail_on_change: bool,
        /// Also removes the generated files of site directories that no spec renders any more.
        #[arg(long, conflicts_with = "check")]
        prune: bool,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Argo CD config management plugin: prints the manifests of the app directory (every YAML file
    /// in it) for the environment in ARGOCD_ENV_IGNITION_ENVIRONMENT or the `environment` parameter.
    ArgocdGenerate {
        /// Files or directories, relative to the application's directory.
        #[arg(default_value = ".")]
        inputs: Vec<PathBuf>,
    },
    /// Writes DIR/ignition.yaml: a new site's spec that validates and renders as it is.
    Init {
        /// The directory of the new site.
        dir: PathBuf,
        /// The site's name (metadata.name); by default the directory's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "scada")]
        namespace: String,
        #[arg(long, value_enum, default_value_t = Architecture::Scaleout)]
        architecture: Architecture,
    },
    /// Prints the JSON Schema of the IgnitionCluster spec (or, with --kind GatewayResource, of a gateway resource).
    Schema {
        #[arg(long, value_enum, default_value_t = SchemaKind::IgnitionCluster)]
        kind: SchemaKind,
    },
    /// Prints a completion script for SHELL (bash, elvish, fish, powershell, zsh).
    Completions { shell: clap_complete::Shell },
    /// Benchmark floor only: reads the ResourceList on stdin and writes its items back, with no spec
    /// read and nothing generated. scripts/bench.sh compares the function against this.
    #[command(hide = true)]
    Passthrough,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Architecture {
    Scaleout,
    Failover,
}

/// The kinds `schema` prints, named as in `kind:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    #[value(name = "IgnitionCluster")]
    IgnitionCluster,
    #[value(name = "GatewayResource")]
    GatewayResource,
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<Status, Error> {
    match cli.command {
        None => commands::krm_function(),
        Some(Command::Manifests { inputs, environment }) => commands::manifests(
            &inputs,
            Choice::Given {
                name: environment.as_deref(),
                given_as: "--environment",
                how: "set --environment",
            },
        ),
        Some(Command::Validate { inputs }) => commands::validate(&inputs),
        Some(Command::Render {
            specs,
            out,
            check,
            output,
            fail_on_change,
            prune,
            fleet,
        }) => {
            let mode = if check {
                Mode::Check {
                    json: output == Output::Json,
                }
            } else {
                Mode::Write { fail_on_change, prune }
            };
            tree::render(&specs, &out, mode, &fleet)
        }
        Some(Command::ArgocdGenerate { inputs }) => commands::argocd_generate(&inputs),
        Some(Command::Init {
            dir,
            name,
            namespace,
            architecture,
        }) => {
            let name = name.unwrap_or_else(|| dir_name(&dir));
            commands::init(&dir, &name, &namespace, architecture == Architecture::Failover)
        }
        Some(Command::Schema { kind }) => {
            let schema = match kind {
                SchemaKind::IgnitionCluster => spec::json_schema(),
                SchemaKind::GatewayResource => spec::resource_json_schema(),
            };
            let schema = serde_json::to_string_pretty(schema).unwrap_or_default();
            io::emit(&format!("{schema}\n")).map(|()| Status::Ok)
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ignition-krm", &mut script);
            io::emit(&String::from_utf8_lossy(&script)).map(|()| Status::Ok)
        }
        Some(Command::Passthrough) => commands::passthrough(),
    }
}

fn dir_name(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
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
/// annotation (none: the base, as for the KRM function).
pub fn legacy_plugin(config: &Path) -> Result<Status, Error> {
    commands::manifests(&[config.to_path_buf()], Choice::Annotation)
}
