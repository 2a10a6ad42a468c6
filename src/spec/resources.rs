//! `GatewayResource`: one piece of an 8.3 gateway's configuration (a database connection, a device,
//! a tag provider, ...) as a KRM item beside the `IgnitionCluster` that names its site.
//!
//! Ignition 8.3 keeps gateway configuration as files, `data/config/resources/<collection>/<module-id>/
//! <type>/<name>/{config.json,resource.json}` (IA docs 8.3, "Version and Source Control Guide" and
//! "Gateway Deployment Modes"). The `external` collection is read-only inside the gateway and is the
//! place for configuration deployed from source control ("Gateway Deployment Modes"); a deployment
//! mode is a user-defined collection selected with `-Dignition.config.mode` (same page). `core` and
//! `local` are the gateway's own (it writes them), and `system` is built in: none is ever managed here.
//!
//! Reading follows the `IgnitionCluster`: the structure against the schema derived from these types,
//! then serde, then the rules (names, types, secret fields), every problem with its field path.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_norway::Value;

use super::path::FieldPath;
use super::site::{Site, TierKind, VersionLine};
use super::{schema_check, schema_tables};
use super::{Problem, API_VERSION};

pub const RESOURCE_KIND: &str = "GatewayResource";

/// The collection used when none is given.
pub const EXTERNAL: &str = "external";
/// Collections the gateway owns or builds in: never replaced from a spec.
const GATEWAY_COLLECTIONS: [&str; 3] = ["system", "core", "local"];
/// The string a secret field holds in the ConfigMap: the init container puts the Secret's value in
/// its place, so no secret material is ever in a ConfigMap or in git.
pub const SECRET_MARKER: &str = "ignition-krm-secret:";
/// The data a tier's ConfigMap may hold, keys and metadata left a margin under the API server's 1 MiB.
const CONFIG_MAP_LIMIT: usize = 1_000_000;

/// One gateway resource, delivered as files into the gateways of a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayResource {
    /// Always `ignition.krm.dev/v1alpha1`.
    pub api_version: String,
    /// Always `GatewayResource`.
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub spec: GatewayResourceSpec,
}

/// The item's own metadata (kustomize and kpt keep their bookkeeping in the annotations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceMetadata {
    /// The item's name (a DNS subdomain); used in messages only.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// What to write into the gateways, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayResourceSpec {
    /// The `metadata.name` of the `IgnitionCluster` (an 8.3 site) whose gateways get this resource.
    pub site: String,
    /// The tiers that get it (`gateway`; `backend`, `frontend`); all tiers of the site when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<ResourceTier>>,
    /// `external` (the default: read-only inside the gateway), or the name of a deployment mode,
    /// which then becomes the site's `spec.deploymentMode`. Never `system`, `core` or `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// `<module-id>/<type>`, such as `ignition/database-connection` or `com.inductiveautomation.opcua/device`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource's name: the last directory of its path.
    pub name: String,
    /// The resource's `config.json`, as the gateway itself writes it.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Redundant pairs only: the backup node's own `config.json` (IA docs 8.3, "Setting Up
    /// Redundancy": Backup versions of a resource for the backup node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_config: Option<serde_json::Map<String, serde_json::Value>>,
    /// Secret fields: each is set from a key of a Kubernetes Secret when the pod starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretField>,
}

/// The tiers a resource can go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResourceTier {
    Gateway,
    Backend,
    Frontend,
}

/// One secret field of a resource's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretField {
    /// The field in `config` (and `backupConfig`), dot-separated for nested objects, such as `password`.
    pub field: String,
    /// The Secret in the site's namespace.
    pub secret_name: String,
    /// The key in that Secret. Its value is the field's JSON value as the gateway stores it (a
    /// secret config object such as `{"type": "Embedded", ...}` or `{"type": "Referenced", ...}`).
    pub key: String,
}

/// The JSON Schema of a `GatewayResource`, derived from the types once per process.
pub fn json_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(GatewayResource).to_value())
}

/// What validation reads of [`json_schema`], derived when the first `GatewayResource` is read: a site
/// without any does not pay for it (unlike the `IgnitionCluster`'s, it is not stored in a file).
fn validation_schema() -> schema_check::Schema<'static> {
    static TABLES: OnceLock<schema_tables::Tables> = OnceLock::new();
    TABLES
        .get_or_init(|| schema_tables::read(&schema_check::validation_keywords(json_schema())).unwrap_or_default())
        .schema()
}

/// Whether an object is meant to be a `GatewayResource`, judged by its kind.
pub fn is_gateway_resource(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some(RESOURCE_KIND)
}

/// A resource read and checked on its own: everything but its site is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceItem {
    /// The item's `metadata.name`, for messages.
    pub item: String,
    pub site: String,
    pub tiers: Vec<TierKind>,
    pub collection: String,
    pub module: String,
    pub resource_type: String,
    pub name: String,
    /// `config.json` as written (keys in order, secret fields holding their marker).
    pub config: String,
    pub backup_config: Option<String>,
    /// `resource.json` as written.
    pub resource_json: String,
    /// In marker order: the marker `ignition-krm-secret:<index>` is replaced by this Secret's key.
    pub secrets: Vec<SecretSource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSource {
    pub secret_name: String,
    pub key: String,
}

impl ResourceItem {
    /// `<collection>/<module-id>/<type>/<name>`, the resource's directory under `config/resources`.
    pub fn path(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.collection, self.module, self.resource_type, self.name
        )
    }

    fn identity(&self) -> (String, String, String, String) {
        (
            self.collection.clone(),
            self.module.clone(),
            self.resource_type.clone(),
            self.name.clone(),
        )
    }
}

/// Reads and checks one `GatewayResource` object.
pub fn load(object: &Value) -> Result<ResourceItem, Vec<Problem>> {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if api_version != API_VERSION {
        return Err(vec![Problem::new(
            "apiVersion",
            format!("expected {API_VERSION} for a {RESOURCE_KIND}"),
        )
        .current(api_version)
        .proposed(API_VERSION)]);
    }
    let mut problems = Vec::new();
    schema_check::check(validation_schema(), object, "", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let resource: GatewayResource = serde_norway::from_value(object.clone())
        .map_err(|error| vec![Problem::new("spec", format!("cannot be read: {error}"))])?;
    resolve(&resource)
}

fn resolve(resource: &GatewayResource) -> Result<ResourceItem, Vec<Problem>> {
    let spec = &resource.spec;
    let mut problems = Vec::new();
    if let Err(message) = super::site::dns_label_rule(&spec.site) {
        problems.push(
            Problem::new(FieldPath::spec().field("site"), format!("{:?} {message}", spec.site)).current(&spec.site),
        );
    }
    let collection = spec.collection.clone().unwrap_or_else(|| EXTERNAL.to_owned());
    if GATEWAY_COLLECTIONS.contains(&collection.as_str()) {
        problems.push(
            Problem::new(
                FieldPath::spec().field("collection"),
                format!(
                    "{collection:?} belongs to the gateway (system is built in, core and local are written by the gateway): use external or a deployment mode"
                ),
            )
            .current(&collection)
            .proposed(EXTERNAL),
        );
    } else if !is_mode_name(&collection) {
        // The same rule as spec.deploymentMode of the IgnitionCluster.
        problems.push(
            Problem::new(
                FieldPath::spec().field("collection"),
                "must be 1 to 63 letters, digits, '_' or '-'",
            )
            .current(&collection),
        );
    }
    let (module, resource_type) = match spec.resource_type.split_once('/') {
        Some((module, kind)) if is_path_segment(module) && is_path_segment(kind) && !kind.contains('/') => {
            (module.to_owned(), kind.to_owned())
        }
        _ => {
            problems.push(
                Problem::new(
                    FieldPath::spec().field("type"),
                    "must be <module-id>/<type>, each 1 to 128 letters, digits, '.', '_' or '-' and not starting with '.', such as ignition/database-connection",
                )
                .current(&spec.resource_type),
            );
            (String::new(), String::new())
        }
    };
    if let Err(message) = name_rule(&spec.name) {
        problems.push(Problem::new(FieldPath::spec().field("name"), message).current(&spec.name));
    }
    let mut tiers: Vec<TierKind> = spec
        .tiers
        .iter()
        .flatten()
        .map(|tier| match tier {
            ResourceTier::Gateway => TierKind::Gateway,
            ResourceTier::Backend => TierKind::Backend,
            ResourceTier::Frontend => TierKind::Frontend,
        })
        .collect();
    tiers.sort_by_key(|tier| tier.component());
    tiers.dedup();
    if spec.tiers.as_ref().is_some_and(Vec::is_empty) {
        problems.push(Problem::new(
            FieldPath::spec().field("tiers"),
            "must name at least one tier, or be left out for all",
        ));
    }

    let mut config = serde_json::Value::Object(spec.config.clone());
    let mut backup_config = spec.backup_config.clone().map(serde_json::Value::Object);
    check_no_marker(&config, FieldPath::spec().field("config").as_str(), &mut problems);
    if let Some(backup) = &backup_config {
        check_no_marker(backup, FieldPath::spec().field("backupConfig").as_str(), &mut problems);
    }
    let mut secrets = Vec::new();
    let mut fields = Vec::new();
    for (index, secret) in spec.secrets.iter().enumerate() {
        let path = FieldPath::spec().field("secrets").index(index);
        let segments: Vec<&str> = secret.field.split('.').collect();
        if segments.iter().any(|segment| segment.is_empty()) {
            problems.push(
                Problem::new(
                    path.field("field"),
                    "must be a dot-separated path of non-empty keys, such as password",
                )
                .current(&secret.field),
            );
            continue;
        }
        if fields.contains(&secret.field) {
            problems.push(Problem::new(path.field("field"), "is named twice").current(&secret.field));
            continue;
        }
        if !super::is_dns_subdomain(&secret.secret_name) {
            problems.push(
                Problem::new(path.field("secretName"), "must be a DNS subdomain (a Secret's name)")
                    .current(&secret.secret_name),
            );
        }
        if !is_secret_key(&secret.key) {
            problems.push(
                Problem::new(
                    path.field("key"),
                    "must be 1 to 253 letters, digits, '-', '_' or '.' (a Secret key)",
                )
                .current(&secret.key),
            );
        }
        let marker = serde_json::Value::String(format!("{SECRET_MARKER}{}", secrets.len()));
        for (target, at) in [
            (Some(&mut config), FieldPath::spec().field("config")),
            (backup_config.as_mut(), FieldPath::spec().field("backupConfig")),
        ] {
            if let Some(target) = target {
                if let Err(message) = set_field(target, &segments, marker.clone()) {
                    problems
                        .push(Problem::new(path.field("field"), format!("{message} in {at}")).current(&secret.field));
                }
            }
        }
        fields.push(secret.field.clone());
        secrets.push(SecretSource {
            secret_name: secret.secret_name.clone(),
            key: secret.key.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // The backup node's file replaces config.json there: the gateway sees config.json only.
    let files = ["config.json"];
    Ok(ResourceItem {
        item: resource.metadata.name.clone(),
        site: spec.site.clone(),
        tiers,
        collection,
        module,
        resource_type,
        name: spec.name.clone(),
        config: json_text(&config),
        backup_config: backup_config.as_ref().map(json_text),
        resource_json: resource_json(&files),
        secrets,
    })
}

/// `resource.json`: the fields IA's "resource.json File" reference (8.3 appendix) lists, with fixed
/// values so the same spec always gives the same bytes. The gateway's own `lastModification` and its
/// signature attributes are left out: they record a time and a signature this tool cannot make, and
/// whether the gateway accepts a resource without them is listed in the README as not verified here.
fn resource_json(files: &[&str]) -> String {
    let value = serde_json::json!({
        "scope": "A",
        "version": 1,
        "restricted": false,
        "overridable": true,
        "files": files,
        "attributes": {},
    });
    json_text(&value)
}

/// Pretty JSON with a final newline; keys in name order (serde_json's map is ordered by key).
fn json_text(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn set_field(target: &mut serde_json::Value, segments: &[&str], value: serde_json::Value) -> Result<(), String> {
    let mut node = target;
    for (depth, segment) in segments.iter().enumerate() {
        let Some(object) = node.as_object_mut() else {
            return Err(format!(
                "{} is not an object",
                if depth == 0 {
                    "the config".to_owned()
                } else {
                    segments[..depth].join(".")
                }
            ));
        };
        if depth + 1 == segments.len() {
            object.insert((*segment).to_owned(), value);
            return Ok(());
        }
        node = object
            .entry((*segment).to_owned())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    Ok(())
}

fn check_no_marker(value: &serde_json::Value, path: &str, problems: &mut Vec<Problem>) {
    let found = match value {
        serde_json::Value::String(text) => text.contains(SECRET_MARKER),
        serde_json::Value::Array(items) => {
            for item in items {
                check_no_marker(item, path, problems);
            }
            false
        }
        serde_json::Value::Object(object) => {
            for (key, item) in object {
                if key.contains(SECRET_MARKER) {
                    problems.push(Problem::new(
                        path,
                        format!("a key holds {SECRET_MARKER:?}, which marks secret fields"),
                    ));
                }
                check_no_marker(item, &super::path::join(path, key), problems);
            }
            false
        }
        _ => false,
    };
    if found {
        problems.push(Problem::new(
            path,
            format!("holds {SECRET_MARKER:?}, which marks secret fields: list the field under spec.secrets instead"),
        ));
    }
}

/// A deployment mode name (as `spec.deploymentMode`).
pub fn is_mode_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// One directory name of a module id or type.
fn is_path_segment(segment: &str) -> bool {
    (1..=128).contains(&segment.len())
        && !segment.starts_with('.')
        && segment
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

fn is_secret_key(key: &str) -> bool {
    (1..=253).contains(&key.len())
        && key
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// A resource name becomes one directory under its type: no separator, no `.`/`..`, no characters
/// IA's "Gateway Folder Structure" page (8.3 appendix) disallows in gateway file names, and no
/// leading dot (the file is written beside the init container's hidden staging directories).
fn name_rule(name: &str) -> Result<(), String> {
    const FORBIDDEN: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];
    if name.is_empty() || name.len() > 200 {
        return Err("must be 1 to 200 bytes".to_owned());
    }
    if name.starts_with('.') {
        return Err("must not start with '.' (no '.', '..' or hidden names)".to_owned());
    }
    if name.trim() != name {
        return Err("must not start or end with a space".to_owned());
    }
    if let Some(bad) = name.chars().find(|c| FORBIDDEN.contains(c) || c.is_control()) {
        return Err(format!(
            "must not hold {bad:?}: it is one directory, and / \\ : * ? \" < > | and control characters are not allowed in gateway file names"
        ));
    }
    Ok(())
}

/// Gives each site the resources that name it, checking what needs the site: it exists, runs 8.3,
/// has the tiers named, one deployment mode at most (and the site's own, if it sets one), a redundant
/// tier for `backupConfig`, and no resource twice. Problems are keyed by the index of the resource
/// in `items`.
pub fn attach(site: &mut Site, items: &[(usize, &ResourceItem)]) -> Vec<(usize, Problem)> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<(String, String, String, String), &str> = BTreeMap::new();
    let mut modes: BTreeMap<String, usize> = BTreeMap::new();
    for (index, item) in items {
        if site.version_line == VersionLine::V8_1 {
            problems.push((
                *index,
                Problem::new(
                    FieldPath::spec().field("site"),
                    format!(
                        "site {:?} runs Ignition {} (spec.version): gateway resources are files from Ignition 8.3 on; use 8.3 or remove this {RESOURCE_KIND}",
                        site.name, site.version
                    ),
                )
                .current(&site.name),
            ));
            continue;
        }
        for tier in &item.tiers {
            if site.tier(*tier).is_none() {
                let known: Vec<&str> = site.tiers.iter().map(|tier| tier.kind.component()).collect();
                problems.push((
                    *index,
                    Problem::new(
                        FieldPath::spec().field("tiers"),
                        format!(
                            "site {:?} has no {} tier (it has {})",
                            site.name,
                            tier.component(),
                            known.join(", ")
                        ),
                    )
                    .current(tier.component()),
                ));
            }
        }
        let targets: Vec<TierKind> = if item.tiers.is_empty() {
            site.tiers.iter().map(|tier| tier.kind).collect()
        } else {
            item.tiers.clone()
        };
        if item.backup_config.is_some()
            && !targets
                .iter()
                .any(|kind| site.tier(*kind).is_some_and(super::site::Tier::is_redundant))
        {
            problems.push((
                *index,
                Problem::new(
                    FieldPath::spec().field("backupConfig"),
                    "is for the backup node of a redundant pair, and none of the tiers it goes to is one",
                ),
            ));
        }
        if let Some(other) = seen.insert(item.identity(), &item.item) {
            problems.push((
                *index,
                Problem::new(
                    FieldPath::spec().field("name"),
                    format!(
                        "{} is also declared by {RESOURCE_KIND} {other:?} for site {:?}",
                        item.path(),
                        site.name
                    ),
                ),
            ));
        }
        if item.collection != EXTERNAL {
            modes.entry(item.collection.clone()).or_insert(*index);
        }
    }
    match (modes.len(), &site.deployment_mode) {
        (0, _) => {}
        (1, None) => site.deployment_mode = modes.keys().next().cloned(),
        (1, Some(mode)) if modes.contains_key(mode) => {}
        _ => {
            let mut wanted: Vec<String> = modes.keys().cloned().collect();
            if let Some(mode) = &site.deployment_mode {
                wanted.retain(|name| name != mode);
            }
            for name in wanted {
                let index = modes[&name];
                let message = match &site.deployment_mode {
                    Some(mode) => format!(
                        "deployment mode {name:?} is not the site's spec.deploymentMode {mode:?}: a gateway runs one mode"
                    ),
                    None => format!(
                        "site {:?} would need more than one deployment mode ({}): a gateway runs one mode",
                        site.name,
                        modes.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                problems.push((
                    index,
                    Problem::new(FieldPath::spec().field("collection"), message).current(&name),
                ));
            }
        }
    }
    // A tier's resources share one ConfigMap, which the API server caps at 1 MiB of data.
    for tier in &site.tiers {
        let mut total = 0;
        for (index, item) in items {
            if item.tiers.is_empty() || item.tiers.contains(&tier.kind) {
                total +=
                    item.config.len() + item.resource_json.len() + item.backup_config.as_ref().map_or(0, String::len);
                if total > CONFIG_MAP_LIMIT {
                    problems.push((
                        *index,
                        Problem::new(
                            FieldPath::spec().field("config"),
                            format!(
                                "the {} tier's resources come to more than {CONFIG_MAP_LIMIT} bytes with this one: a ConfigMap holds at most 1 MiB",
                                tier.kind.component()
                            ),
                        ),
                    ));
                    break;
                }
            }
        }
    }
    if problems.is_empty() {
        let mut resources: Vec<ResourceItem> = items.iter().map(|(_, item)| (*item).clone()).collect();
        resources.sort_by_key(ResourceItem::identity);
        site.gateway_resources = resources;
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_leave_their_directory_are_refused() {
        for name in ["..", ".", "a/b", "a\\b", ".hidden", "", " padded", "nul\u{0}"] {
            assert!(name_rule(name).is_err(), "{name:?}");
        }
        assert!(name_rule("Plant DB (main)").is_ok());
    }

    #[test]
    fn secret_fields_nest_and_refuse_non_objects() {
        let mut config = serde_json::json!({"a": {"b": 1}, "s": "x"});
        set_field(&mut config, &["a", "c"], serde_json::json!("m")).unwrap();
        set_field(&mut config, &["n", "m"], serde_json::json!("m")).unwrap();
        assert_eq!(config["a"]["c"], "m");
        assert_eq!(config["n"]["m"], "m");
        assert!(set_field(&mut config, &["s", "t"], serde_json::json!("m")).is_err());
    }
}
