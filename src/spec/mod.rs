//! The `IgnitionCluster` spec: its types, how it is read, defaulted and validated.
//!
//! Reading goes in three steps, each reporting every problem it finds with its field path:
//! the structure against the schema derived from the types, then serde into the types, then the
//! rules no schema can say (names, versions, quantities, which tiers fit which architecture).

mod features;
mod quantity;
mod schema_check;
mod site;
mod types;

use std::sync::OnceLock;

use serde_norway::Value;

pub use quantity::Quantity;
pub use site::{
    GanCertificateSettings, GatewayNetworkSettings, HttpRouteSettings, IngressSettings, RedundancySettings,
    RestoreSettings, RestoreSource, Site, Tier, TierKind, VersionLine,
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
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The JSON Schema of an `IgnitionCluster`, derived from the types once per process.
pub fn json_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(IgnitionCluster).to_value())
}

/// Whether an object is meant to be an `IgnitionCluster` (of any version), judged by its kind.
pub fn is_ignition_cluster(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some(KIND)
}

/// Reads, defaults and validates one `IgnitionCluster` object.
pub fn load(object: &Value) -> Result<Site, Vec<Problem>> {
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
    let mut problems = Vec::new();
    schema_check::check(json_schema(), object, "", &mut problems);
    check_tiers_fit_architecture(object, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let cluster: IgnitionCluster = serde_norway::from_value(object.clone())
        .map_err(|error| vec![Problem::new("spec", format!("cannot be read: {error}"))])?;
    site::resolve(&cluster)
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
            problems.push(Problem::new(format!("spec.{field}"), message));
        }
    }
}
