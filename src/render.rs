//! The GitOps tree of a set of specs, in memory: for each site `<name>/base/` (one file per object)
//! and `<name>/overlays/<environment>/` (RFC 6902 patches from the base to the environment, the
//! objects only that environment has, and deletions of those it lacks). No I/O here: the caller
//! writes the map or compares it with the disk.
//!
//! The invariant, tested with the real kustomize: `kustomize build <name>/overlays/<env>` gives the
//! same objects as the KRM function for that environment.

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

use crate::generate;
use crate::krm;
use crate::spec::{self, Site};
use crate::yaml;

/// Relative, slash-separated path to file content.
pub type Tree = BTreeMap<String, Vec<u8>>;

const KUSTOMIZATION: &str = "kustomization.yaml";

/// One spec to render: where it came from (for messages) and the object.
pub struct SpecSource {
    pub file: String,
    pub object: Value,
}

/// Renders every spec into one tree; any problem in any spec fails the whole render, with one
/// line per problem.
pub fn render(specs: &[SpecSource]) -> Result<Tree, Vec<String>> {
    let mut tree = Tree::new();
    let mut errors = Vec::new();
    let mut sites: BTreeMap<String, &str> = BTreeMap::new();
    for source in specs {
        let loaded = match spec::load_all(&source.object) {
            Ok(loaded) => loaded,
            Err(problems) => {
                errors.extend(problems.iter().map(|problem| format!("{}: {problem}", source.file)));
                continue;
            }
        };
        if let Some(other) = sites.insert(loaded.base.name.clone(), &source.file) {
            errors.push(format!(
                "{}: metadata.name: site {:?} is also in {other}: each site renders to its own directory, so names must be unique",
                source.file, loaded.base.name
            ));
            continue;
        }
        render_site(&loaded, &mut tree);
    }
    if errors.is_empty() {
        Ok(tree)
    } else {
        Err(errors)
    }
}

/// The objects of a site as they leave the KRM pipeline (no orchestrator annotations).
pub fn objects(site: &Site) -> Vec<Value> {
    let mut objects = generate::generate(site);
    objects.iter_mut().for_each(krm::strip_orchestrator_annotations);
    objects
}

fn render_site(loaded: &spec::Loaded, tree: &mut Tree) {
    let root = &loaded.base.name;
    let base = objects(&loaded.base);
    let mut base_files = Vec::new();
    for object in &base {
        let file = object_file(object);
        tree.insert(format!("{root}/base/{file}"), document(object));
        base_files.push(file);
    }
    tree.insert(format!("{root}/base/{KUSTOMIZATION}"), kustomization(&base_files, &[]));
    // Flux builds every directory it is pointed at: each gets a kustomization.yaml, so none is
    // ever built from a generated one that would sweep up base and overlays together.
    tree.insert(
        format!("{root}/{KUSTOMIZATION}"),
        kustomization(&["base".to_owned()], &[]),
    );
    tree.insert(format!("{root}/overlays/{KUSTOMIZATION}"), kustomization(&[], &[]));
    for (name, site) in &loaded.environments {
        render_overlay(&format!("{root}/overlays/{name}"), &base, &objects(site), tree);
    }
}

fn render_overlay(dir: &str, base: &[Value], environment: &[Value], tree: &mut Tree) {
    let mut resources = vec!["../../base".to_owned()];
    let mut patches = Vec::new();
    let by_identity: BTreeMap<String, &Value> = environment.iter().map(|object| (identity(object), object)).collect();
    for object in base {
        let file = object_file(object);
        match by_identity.get(&identity(object)) {
            // Most objects are the same in every environment: comparing them is far cheaper than
            // converting both to JSON to find an empty diff.
            Some(changed) if same_in_order(object, changed) => continue,
            Some(changed) => {
                let operations = json_patch::diff(&to_json(object), &to_json(changed));
                if operations.0.is_empty() {
                    continue;
                }
                let operations = serde_norway::to_value(&operations)
                    .unwrap_or_else(|error| unreachable!("a JSON patch always serializes: {error}"));
                let patch_file = format!("patch-{file}");
                tree.insert(format!("{dir}/{patch_file}"), document(&operations));
                patches.push(patch_entry(&patch_file, Some(target(object))));
            }
            None => {
                let patch_file = format!("delete-{file}");
                tree.insert(format!("{dir}/{patch_file}"), document(&delete_patch(object)));
                patches.push(patch_entry(&patch_file, None));
            }
        }
    }
    let in_base: Vec<String> = base.iter().map(identity).collect();
    for object in environment.iter().filter(|object| !in_base.contains(&identity(object))) {
        let file = object_file(object);
        tree.insert(format!("{dir}/{file}"), document(object));
        resources.push(file);
    }
    tree.insert(format!("{dir}/{KUSTOMIZATION}"), kustomization(&resources, &patches));
}

/// Equal with keys in the same order: a walk without the hashing of `Value`'s own (order-blind) equality.
/// `false` only means the JSON diff has to decide.
fn same_in_order(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|((key_a, value_a), (key_b, value_b))| key_a == key_b && same_in_order(value_a, value_b))
        }
        (Value::Sequence(a), Value::Sequence(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_in_order(a, b))
        }
        _ => a == b,
    }
}

/// `<kind>-<name>.yaml`: unique within a site, whose objects share one namespace.
fn object_file(object: &Value) -> String {
    format!(
        "{}-{}.yaml",
        text(object, &["kind"]).to_ascii_lowercase(),
        text(object, &["metadata", "name"])
    )
}

fn identity(object: &Value) -> String {
    format!(
        "{}/{} {}/{}",
        text(object, &["apiVersion"]),
        text(object, &["kind"]),
        text(object, &["metadata", "namespace"]),
        text(object, &["metadata", "name"])
    )
}

fn text<'a>(object: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(object, |value, key| value.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn to_json(object: &Value) -> serde_json::Value {
    serde_json::to_value(object).unwrap_or_else(|error| unreachable!("a generated object is JSON: {error}"))
}

/// The kustomize patch target of an object: exactly that object.
fn target(object: &Value) -> Value {
    let api_version = text(object, &["apiVersion"]);
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let mut target = Mapping::new();
    if !group.is_empty() {
        target.insert("group".into(), group.into());
    }
    target.insert("version".into(), version.into());
    target.insert("kind".into(), text(object, &["kind"]).into());
    target.insert("name".into(), text(object, &["metadata", "name"]).into());
    let namespace = text(object, &["metadata", "namespace"]);
    if !namespace.is_empty() {
        target.insert("namespace".into(), namespace.into());
    }
    Value::Mapping(target)
}

/// A strategic-merge patch that removes the object from the base.
fn delete_patch(object: &Value) -> Value {
    let mut metadata = Mapping::new();
    metadata.insert("name".into(), text(object, &["metadata", "name"]).into());
    let namespace = text(object, &["metadata", "namespace"]);
    if !namespace.is_empty() {
        metadata.insert("namespace".into(), namespace.into());
    }
    Value::Mapping(Mapping::from_iter([
        ("apiVersion".into(), text(object, &["apiVersion"]).into()),
        ("kind".into(), text(object, &["kind"]).into()),
        ("metadata".into(), Value::Mapping(metadata)),
        ("$patch".into(), "delete".into()),
    ]))
}

fn patch_entry(path: &str, target: Option<Value>) -> Value {
    let mut entry = Mapping::from_iter([("path".into(), path.into())]);
    if let Some(target) = target {
        entry.insert("target".into(), target);
    }
    Value::Mapping(entry)
}

pub(crate) fn kustomization(resources: &[String], patches: &[Value]) -> Vec<u8> {
    let mut kustomization = Mapping::from_iter([
        ("apiVersion".into(), "kustomize.config.k8s.io/v1beta1".into()),
        ("kind".into(), "Kustomization".into()),
        (
            "resources".into(),
            Value::Sequence(resources.iter().map(|resource| resource.as_str().into()).collect()),
        ),
    ]);
    if !patches.is_empty() {
        kustomization.insert("patches".into(), Value::Sequence(patches.to_vec()));
    }
    document(&Value::Mapping(kustomization))
}

pub(crate) fn document(value: &Value) -> Vec<u8> {
    let mut out = "# Generated by ignition-krm render: do not edit; change the spec and render again.\n".to_owned();
    out.push_str(&yaml::to_string(value));
    out.into_bytes()
}
