//! The `IgnitionCluster` spec: its types, how it is read, defaulted and validated.
//!
//! Reading goes in three steps, each reporting every problem it finds with its field path:
//! the structure against the schema derived from the types, then serde into the types, then the
//! rules no schema can say (names, versions, quantities, which tiers fit which architecture).

mod content;
mod environment;
mod features;
mod merge;
mod options;
mod path;
mod quantity;
mod resources;
mod schema_check;
mod schema_tables;
mod site;
mod types;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize as _;
use serde_norway::Value;

pub use content::{ContentSettings, ModuleSettings, ModuleSource, ProjectSettings};
pub use options::{
    is_generated_env, is_owned_pod_key, mount_collides, LicenseSecrets, LicenseSettings, TierOptions,
    GENERATED_VOLUMES, MINIMUM_8_1_PATCH,
};
pub use path::FieldPath;
pub use quantity::Quantity;
pub use resources::{
    attach as attach_resources, is_gateway_resource, json_schema as resource_json_schema, load as load_resource,
    ResourceItem, SecretSource, RESOURCE_KIND, SECRET_MARKER,
};
pub use schema_check::nearest as nearest_name;
pub use site::{is_dns_label, is_dns_subdomain};
pub use site::{
    AutoscalingSettings, GanCertificateSettings, GatewayNetworkSettings, HttpRouteSettings, IngressSettings,
    RedundancySettings, RestoreSettings, RestoreSource, Site, Tier, TierKind, VersionLine,
};
pub use types::*;

/// One thing wrong with a spec: where, what, and what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field path, such as `spec.frontend.replicas`.
    pub path: String,
    pub message: String,
    pub current: Option<String>,
    pub proposed: Option<String>,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
            current: None,
            proposed: None,
        }
    }

    pub fn current(mut self, value: impl Into<String>) -> Self {
        self.current = Some(value.into());
        self
    }

    pub fn proposed(mut self, value: impl Into<String>) -> Self {
        self.proposed = Some(value.into());
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The JSON Schema of an `IgnitionCluster` (`ignition-krm schema`), derived from the types once per
/// process, an environment's from `Spec`'s.
pub fn json_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = check_schema().clone();
        environment::derive_schema(&mut schema);
        schema
    })
}

/// What a spec is checked against: [`json_schema`] before an environment's fields are derived. They
/// are not needed here (an environment is checked merged over the base, as a whole spec), so a run
/// does not pay for deriving them.
pub(crate) fn check_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(IgnitionCluster).to_value())
}

/// Whether an object is meant to be an `IgnitionCluster` (of any version), judged by its kind.
pub fn is_ignition_cluster(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some(KIND)
}

/// The annotation on the spec (the function config) that names the environment to expand.
pub const ENVIRONMENT_ANNOTATION: &str = "ignition.krm.dev/environment";

/// The environment name that selects the base spec explicitly; no `spec.environments` key may use it.
pub const BASE_ENVIRONMENT: &str = "base";

/// Whether a name can be a site or namespace name (a DNS label); the problem is at `path`.
pub fn check_name(path: &str, name: &str) -> Result<(), Problem> {
    site::dns_label_rule(name).map_err(|message| Problem::new(path, format!("{name:?} {message}")).current(name))
}

/// A spec resolved for its base and for each of its environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub base: Site,
    /// By environment name, in name order.
    pub environments: BTreeMap<String, Site>,
}

impl Loaded {
    /// The site of one environment, or of the base with `None`.
    /// `Some("base")` ([`BASE_ENVIRONMENT`]) is the base too.
    pub fn select(self, environment: Option<&str>) -> Result<Site, Problem> {
        let name = match environment {
            None | Some(BASE_ENVIRONMENT) => return Ok(self.base),
            Some(name) => name,
        };
        let known: Vec<String> = self.environments.keys().cloned().collect();
        let mut environments = self.environments;
        environments.remove(name).ok_or_else(|| {
            let known = if known.is_empty() {
                "the spec has no spec.environments".to_owned()
            } else {
                format!("known: {}", known.join(", "))
            };
            Problem::new(
                FieldPath::metadata().field("annotations").field(ENVIRONMENT_ANNOTATION),
                format!("environment {name:?} is not in spec.environments ({known})"),
            )
            .current(name)
        })
    }
}

/// Reads, defaults and validates one `IgnitionCluster` object for the base spec (`None`) or one
/// of its environments. Every environment is validated either way.
pub fn load(object: &Value, environment: Option<&str>) -> Result<Site, Vec<Problem>> {
    load_all(object)?.select(environment).map_err(|problem| vec![problem])
}

/// Reads, defaults and validates one `IgnitionCluster` object and every environment merged over it.
pub fn load_all(object: &Value) -> Result<Loaded, Vec<Problem>> {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind != KIND || api_version != API_VERSION {
        return Err(vec![Problem::new(
            "",
            format!("the function config is {api_version}/{kind}: expected apiVersion {API_VERSION}, kind {KIND}"),
        )
        .current(format!("{api_version}/{kind}"))
        .proposed(format!("{API_VERSION}/{KIND}"))]);
    }
    let overrides = object.get("spec").and_then(|spec| spec.get("environments"));
    // Only a spec with environments is copied to take them out: most have none, and a copy is a second tree.
    let without_environments;
    let base_object = if overrides.is_some() {
        let mut copy = object.clone();
        if let Some(spec) = copy.get_mut("spec").and_then(Value::as_mapping_mut) {
            spec.remove("environments");
        }
        without_environments = copy;
        &without_environments
    } else {
        object
    };
    let base = load_base(base_object);
    let base_problems = base.as_ref().err().cloned().unwrap_or_default();
    let mut problems = base_problems.clone();
    let mut environments = BTreeMap::new();
    match overrides {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(overrides)) => {
            for (key, patch) in overrides {
                let Some(name) = key.as_str() else {
                    problems.push(Problem::new(environments_path(), "environment names must be strings"));
                    continue;
                };
                match load_environment(base_object, name, patch, &base_problems) {
                    Ok(site) => {
                        environments.insert(name.to_owned(), site);
                    }
                    Err(found) => problems.extend(found),
                }
            }
        }
        Some(other) => problems.push(Problem::new(
            environments_path(),
            format!(
                "expected a mapping of environment names to partial specs, found {}",
                crate::krm::type_name(other)
            ),
        )),
    }
    match base {
        Ok(base) if problems.is_empty() => Ok(Loaded { base, environments }),
        _ => Err(problems),
    }
}

/// The base spec (without `environments`): structure, then serde, then the rules. A structural
/// problem does not hide the rules: the fields it names are taken out and the rest is still read and
/// checked, so every problem is reported in one pass (unless what is left cannot be read at all, such
/// as a required field with the wrong type).
fn load_base(object: &Value) -> Result<Site, Vec<Problem>> {
    let mut problems = Vec::new();
    // What validation reads of [`check_schema`], stored in `validation-schema.json` and built into the binary:
    // deriving the schema with schemars cost more instructions than the rest of a one-spec run, and parsing the
    // stored JSON still 8% of it. A unit test holds the file equal to what the types derive
    // (`UPDATE_GOLDEN=1 cargo test --lib the_stored_validation_schema` rewrites it).
    schema_check::check(schema_check::BUILT_IN, object, "", &mut problems);
    check_tiers_fit_architecture(object, &mut problems);
    if problems.is_empty() {
        // Read from the borrowed value: a copy to read from would be another tree of the whole spec.
        let cluster = IgnitionCluster::deserialize(object)
            .map_err(|error| vec![Problem::new("spec", format!("cannot be read: {error}"))])?;
        return site::resolve(&cluster);
    }
    let mut rest = object.clone();
    for problem in &problems {
        schema_check::remove_path(&mut rest, &problem.path);
    }
    if let Ok(cluster) = serde_norway::from_value::<IgnitionCluster>(rest) {
        if let Err(found) = site::resolve(&cluster) {
            let reported: Vec<String> = problems.iter().map(|problem| problem.path.clone()).collect();
            problems.extend(found.into_iter().filter(|problem| !reported.contains(&problem.path)));
        }
    }
    Err(problems)
}

/// One environment: its name and patch checked, merged over the base, validated as a whole, and each
/// problem reported at the environment's own field when the environment wrote that field.
fn load_environment(base: &Value, name: &str, patch: &Value, base_problems: &[Problem]) -> Result<Site, Vec<Problem>> {
    let path = environments_path().field(name);
    let mut problems = Vec::new();
    if let Err(message) = site::dns_label_rule(name) {
        problems.push(Problem::new(&path, format!("environment name {name:?} {message}")).current(name));
    } else if name == BASE_ENVIRONMENT {
        problems.push(
            Problem::new(
                &path,
                format!(
                    "environment name {BASE_ENVIRONMENT:?} is reserved: it selects the base spec (--environment base)"
                ),
            )
            .current(name),
        );
    }
    let patch = match patch {
        Value::Null => Value::Mapping(Default::default()),
        Value::Mapping(mapping) => {
            for field in environment::FIXED_IN_ENVIRONMENTS {
                if mapping.contains_key(*field) {
                    problems.push(Problem::new(
                        path.field(field),
                        "cannot be changed by an environment: it is fixed by the base spec",
                    ));
                }
            }
            patch.clone()
        }
        other => {
            problems.push(Problem::new(
                &path,
                format!(
                    "expected a mapping (a partial spec), found {}",
                    crate::krm::type_name(other)
                ),
            ));
            return Err(problems);
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut merged = base.clone();
    merge::merge_patch(&mut merged["spec"], &patch);
    let spec = FieldPath::spec();
    let written = merge::paths(&patch, &spec);
    load_base(&merged).map_err(|found| {
        found
            .into_iter()
            .filter_map(|problem| {
                let in_patch = written
                    .iter()
                    .any(|field| path::is_within(&problem.path, field.as_str()));
                // A base problem under a mapping the environment also writes (a typo in the base's
                // `ingress` when the environment sets `ingress.host`) is the base's, reported once.
                let base_only =
                    base_problems.contains(&problem) && !written.iter().any(|field| field.as_str() == problem.path);
                if base_only {
                    None
                } else if let Some(moved) = path::rebase(&problem.path, &spec, &path).filter(|_| in_patch) {
                    Some(Problem {
                        path: moved.into(),
                        ..problem
                    })
                } else {
                    Some(Problem {
                        message: format!("merged over the base, {}: {}", problem.path, problem.message),
                        path: (&path).into(),
                        ..problem
                    })
                }
            })
            .collect()
    })
}

/// `spec.environments`.
fn environments_path() -> FieldPath {
    FieldPath::spec().field("environments")
}

/// Which tiers a spec may give depends on its architecture. Checked on the raw object, next to the
/// schema, so that a tier under the wrong architecture is reported with every other problem.
fn check_tiers_fit_architecture(object: &Value, problems: &mut Vec<Problem>) {
    let spec = &object["spec"];
    let (misplaced, message): (&[&str], &str) = match spec["architecture"].as_str() {
        Some("failover") => (
            &["backend", "frontend"],
            "is for architecture scaleout: a failover spec gives its master/backup pair under spec.gateway",
        ),
        Some("scaleout") => (
            &["gateway"],
            "is for architecture failover: a scaleout spec gives spec.backend and spec.frontend",
        ),
        _ => return,
    };
    for field in misplaced {
        if spec.get(field).is_some() {
            problems.push(Problem::new(FieldPath::spec().field(field), message));
        }
    }
}
