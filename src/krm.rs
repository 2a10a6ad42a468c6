//! The KRM function wire format: reading a ResourceList and writing one back.
//!
//! This is the only module that knows what a ResourceList looks like on the wire
//! (the KRM Functions Specification, `config.kubernetes.io/v1`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_norway::{Mapping, Value};

use crate::{block_yaml, yaml};

/// The apiVersion written on every output ResourceList.
pub const OUTPUT_API_VERSION: &str = "config.kubernetes.io/v1";

/// apiVersions accepted on input: the current one and those older orchestrators still send.
pub const ACCEPTED_API_VERSIONS: &[&str] = &[
    "config.kubernetes.io/v1",
    "config.kubernetes.io/v1beta1",
    "config.kubernetes.io/v1alpha1",
];

/// Annotations kyaml and kpt use to know where an item lives on disk.
pub const PATH_ANNOTATION: &str = "internal.config.kubernetes.io/path";
pub const INDEX_ANNOTATION: &str = "internal.config.kubernetes.io/index";
pub const LEGACY_PATH_ANNOTATION: &str = "config.kubernetes.io/path";
pub const LEGACY_INDEX_ANNOTATION: &str = "config.kubernetes.io/index";
/// Prefix of the annotations that belong to the orchestrator alone.
pub const INTERNAL_ANNOTATION_PREFIX: &str = "internal.config.kubernetes.io/";

/// A parsed input ResourceList.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceList {
    pub items: Vec<Value>,
    pub function_config: Option<Value>,
}

/// Why an input could not be read as a ResourceList.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("input is not valid YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
    #[error("input is empty: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1)")]
    Empty,
    #[error("input is not a YAML mapping: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1)")]
    NotAMapping,
    #[error("input has kind {found:?}: expected kind ResourceList (or List)")]
    WrongKind { found: String },
    #[error("input has apiVersion {found:?}: expected one of config.kubernetes.io/v1, v1beta1, v1alpha1")]
    WrongApiVersion { found: String },
    #[error("input field items is {found}: expected a list of objects")]
    ItemsNotAList { found: &'static str },
    #[error("input item {index} is {found}: expected an object")]
    ItemNotAMapping { index: usize, found: &'static str },
    #[error("input item {index} has a mapping key that is a list or a mapping: Kubernetes objects have string keys")]
    ComplexKey { index: usize },
}

/// Reads a ResourceList (YAML or JSON) from text.
pub fn read(input: &str) -> Result<ResourceList, ReadError> {
    if input.trim().is_empty() {
        return Err(ReadError::Empty);
    }
    // The block-style YAML that kustomize and kpt send is read fast; anything else by serde_norway.
    let document: Value = match block_yaml::parse(input) {
        Some(document) => document,
        None => serde_norway::from_str(input).map_err(ReadError::Yaml)?,
    };
    let Value::Mapping(mut root) = document else {
        return Err(if document.is_null() {
            ReadError::Empty
        } else {
            ReadError::NotAMapping
        });
    };
    let kind = root.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = root.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "ResourceList" if ACCEPTED_API_VERSIONS.contains(&api_version) => {}
        "ResourceList" => {
            return Err(ReadError::WrongApiVersion {
                found: api_version.to_owned(),
            })
        }
        // kyaml also reads a plain `kind: List` (apiVersion v1) as a ResourceList.
        "List" if api_version == "v1" => {}
        _ => {
            return Err(ReadError::WrongKind {
                found: describe_scalar(root.get("kind")),
            })
        }
    }
    let items = match root.remove("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items,
        Some(other) => {
            return Err(ReadError::ItemsNotAList {
                found: type_name(&other),
            })
        }
    };
    if let Some((index, item)) = items.iter().enumerate().find(|(_, item)| !item.is_mapping()) {
        return Err(ReadError::ItemNotAMapping {
            index,
            found: type_name(item),
        });
    }
    if let Some(index) = items.iter().position(has_complex_key) {
        return Err(ReadError::ComplexKey { index });
    }
    let function_config = root.remove("functionConfig").filter(|config| !config.is_null());
    Ok(ResourceList { items, function_config })
}

/// Whether a mapping anywhere in `value` has a list or a mapping as a key (YAML allows it; no
/// Kubernetes object has one, and the output could not keep it).
fn has_complex_key(value: &Value) -> bool {
    match value {
        Value::Mapping(mapping) => mapping.iter().any(|(key, child)| {
            matches!(key, Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_)) || has_complex_key(child)
        }),
        Value::Sequence(sequence) => sequence.iter().any(has_complex_key),
        Value::Tagged(tagged) => has_complex_key(&tagged.value),
        _ => false,
    }
}

/// How bad a result is. Always written out: a missing severity means error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// The object a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The field a result is about: an object, not a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_value: Option<String>,
}

/// The file a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct File {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// One entry of `results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KrmResult {
    pub message: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_ref: Option<ResourceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl KrmResult {
    pub fn error(message: impl Into<String>) -> Self {
        KrmResult {
            message: abbreviate(&message.into()),
            severity: Severity::Error,
            resource_ref: None,
            field: None,
            file: None,
            tags: BTreeMap::new(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Writes an output ResourceList: `items` always present, `results` when there are any.
pub fn write(items: &[Value], results: &[KrmResult]) -> String {
    let mut out = format!("apiVersion: {OUTPUT_API_VERSION}\nkind: ResourceList\n");
    if items.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
        yaml::write_sequence(&mut out, items, 0, false);
    }
    if !results.is_empty() {
        let results = serde_norway::to_value(results)
            .unwrap_or_else(|error| unreachable!("results are strings and maps: {error}"));
        out.push_str("results:\n");
        if let Value::Sequence(results) = results {
            yaml::write_sequence(&mut out, &results, 0, false);
        }
    }
    out
}

/// Writes objects as a plain multi-document YAML stream, the form `kubectl apply` and Argo CD read.
pub fn write_documents(items: &[Value]) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str("---\n");
        yaml::write_document(&mut out, item);
    }
    out
}

/// Returns an item's annotations, if it has any.
pub fn annotations(item: &Value) -> Option<&Mapping> {
    item.get("metadata")?.get("annotations")?.as_mapping()
}

/// Returns one annotation of an item.
pub fn annotation<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    annotations(item)?.get(key)?.as_str()
}

/// Removes the orchestrator's bookkeeping annotations, for output that leaves the KRM pipeline.
pub fn strip_orchestrator_annotations(item: &mut Value) {
    let Some(metadata) = item.get_mut("metadata").and_then(Value::as_mapping_mut) else {
        return;
    };
    let Some(Value::Mapping(annotations)) = metadata.get_mut("annotations") else {
        return;
    };
    annotations.retain(|key, _| {
        let key = key.as_str().unwrap_or_default();
        !(key.starts_with(INTERNAL_ANNOTATION_PREFIX)
            || key == LEGACY_PATH_ANNOTATION
            || key == LEGACY_INDEX_ANNOTATION)
    });
    if annotations.is_empty() {
        metadata.remove("annotations");
    }
}

/// The longest text a message carries from the input; a 10 MB name must not become a 10 MB line.
pub const MAX_ECHO_CHARS: usize = 300;

/// Shortens text longer than [`MAX_ECHO_CHARS`] to its start and end, saying how much was left out.
pub fn abbreviate(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_ECHO_CHARS {
        return text.to_owned();
    }
    let (head, tail) = (MAX_ECHO_CHARS * 2 / 3, MAX_ECHO_CHARS / 3);
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start} [... {} characters left out ...] {end}", count - head - tail)
}

/// A short name for the type of a YAML value, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn describe_scalar(value: Option<&Value>) -> String {
    match value {
        None => "<missing>".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => type_name(other).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_echoes_are_abbreviated_and_short_ones_kept() {
        assert_eq!(abbreviate("plant-a"), "plant-a");
        let long = format!("{}{}", "a".repeat(10_000), "é-end");
        let short = abbreviate(&long);
        assert!(short.chars().count() < MAX_ECHO_CHARS + 60, "{short}");
        assert!(short.starts_with("aaaa") && short.ends_with("é-end"), "{short}");
        assert!(short.contains("[... 9705 characters left out ...]"), "{short}");
    }
}
