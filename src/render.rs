//! The GitOps tree of a set of specs, in memory: for each site `<name>/base/` (one file per object)
//! and `<name>/overlays/<environment>/` (RFC 6902 patches from the base to the environment that
//! name every list item they change, the objects only that environment has, and deletions of those
//! it lacks). No I/O here: the caller writes the map or compares it with the disk.
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
                let operations = patch(object, changed);
                if operations.is_empty() {
                    continue;
                }
                let patch_file = format!("patch-{file}");
                tree.insert(format!("{dir}/{patch_file}"), document(&Value::Sequence(operations)));
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

/// The RFC 6902 patch from `base` to `target`, written for a reviewer: every operation inside a
/// list item that has a `name` (a container, an env variable, a volume, a port) is preceded by a
/// `test` of that name, so the patch says which item it changes, and applying it to anything but
/// the base fails instead of changing the wrong item. Lists whose items all carry a unique `name`
/// (or, like volumeMounts, a unique `mountPath`) are compared by that key: an item inserted in the
/// middle is one `add`, not a replacement of every item after it.
fn patch(base: &Value, target: &Value) -> Vec<Value> {
    let mut differ = Differ::default();
    differ.value(base, target, "");
    differ.operations
}

#[derive(Default)]
struct Differ {
    operations: Vec<Value>,
    /// For each list item on the way to the current path: the `test` operations that name it, and
    /// whether they are written yet (they are, once, before the first operation under the item).
    guards: Vec<(Vec<Value>, bool)>,
}

/// The fields that identify a list item, in order of preference (`metadata/name`: the claim
/// templates of a StatefulSet).
const ITEM_KEYS: [&str; 3] = ["name", "mountPath", "metadata/name"];

impl Differ {
    fn emit(&mut self, op: &str, path: &str, value: Option<&Value>) {
        for (tests, written) in &mut self.guards {
            if !*written {
                self.operations.extend(tests.iter().cloned());
                *written = true;
            }
        }
        self.operations.push(operation(op, path, value));
    }

    fn value(&mut self, base: &Value, target: &Value, path: &str) {
        if same_in_order(base, target) {
            return;
        }
        match (base, target) {
            (Value::Mapping(base), Value::Mapping(target))
                if base.keys().chain(target.keys()).all(|key| key.as_str().is_some()) =>
            {
                for (key, value) in base {
                    let child = child(path, key.as_str().unwrap_or_default());
                    match target.get(key) {
                        Some(changed) => self.value(value, changed, &child),
                        None => self.emit("remove", &child, None),
                    }
                }
                for (key, value) in target.iter().filter(|(key, _)| !base.contains_key(*key)) {
                    self.emit("add", &child(path, key.as_str().unwrap_or_default()), Some(value));
                }
            }
            (Value::Sequence(base), Value::Sequence(target)) => self.sequence(base, target, path),
            _ => self.emit("replace", path, Some(target)),
        }
    }

    fn sequence(&mut self, base: &[Value], target: &[Value], path: &str) {
        let key = ITEM_KEYS
            .into_iter()
            .find(|key| unique_keys(base, key).is_some() && unique_keys(target, key).is_some());
        if let Some(key) = key {
            let base_keys = unique_keys(base, key).unwrap_or_default();
            let target_keys = unique_keys(target, key).unwrap_or_default();
            let common_in_base: Vec<&str> = base_keys
                .iter()
                .copied()
                .filter(|name| target_keys.contains(name))
                .collect();
            let common_in_target: Vec<&str> = target_keys
                .iter()
                .copied()
                .filter(|name| base_keys.contains(name))
                .collect();
            // Reordered items have no readable patch by key: compared by position below.
            if common_in_base == common_in_target {
                self.keyed(base, target, path, key, &base_keys, &target_keys);
                return;
            }
        }
        let common = base.len().min(target.len());
        for (index, (old, new)) in base.iter().zip(target).enumerate() {
            self.item(old, None, &format!("{path}/{index}"), |differ, item_path| {
                differ.value(old, new, item_path)
            });
        }
        for (index, new) in target.iter().enumerate().skip(common) {
            self.emit("add", &format!("{path}/{index}"), Some(new));
        }
        for (index, old) in base.iter().enumerate().skip(common).rev() {
            self.item(old, None, &format!("{path}/{index}"), |differ, item_path| {
                differ.emit("remove", item_path, None)
            });
        }
    }

    /// Items removed first (each at the position it has then), then the target walked in order:
    /// an item the base has is compared with it, a new one is added where it belongs.
    fn keyed(
        &mut self,
        base: &[Value],
        target: &[Value],
        path: &str,
        key: &str,
        base_keys: &[&str],
        target_keys: &[&str],
    ) {
        let mut kept = Vec::new();
        for (old, name) in base.iter().zip(base_keys) {
            if target_keys.contains(name) {
                kept.push(old);
            } else {
                let item_path = format!("{path}/{}", kept.len());
                self.item(old, Some(key), &item_path, |differ, item_path| {
                    differ.emit("remove", item_path, None)
                });
            }
        }
        let mut kept = kept.into_iter().peekable();
        for (index, (new, name)) in target.iter().zip(target_keys).enumerate() {
            let item_path = format!("{path}/{index}");
            match kept.next_if(|old| item_key(old, key) == Some(name)) {
                Some(old) => self.item(old, Some(key), &item_path, |differ, item_path| {
                    differ.value(old, new, item_path)
                }),
                None => self.emit("add", &item_path, Some(new)),
            }
        }
    }

    /// Runs `body` for the list item `item` at `item_path` with the tests that name it pending.
    fn item(&mut self, item: &Value, key: Option<&str>, item_path: &str, body: impl FnOnce(&mut Self, &str)) {
        let mut fields: Vec<&str> = key.into_iter().collect();
        fields.extend(["name", "metadata/name"].into_iter().filter(|field| key != Some(field)));
        let tests: Vec<Value> = fields
            .into_iter()
            .filter_map(|field| {
                let value = item_key(item, field)?;
                let path = field
                    .split('/')
                    .fold(item_path.to_owned(), |path, segment| child(&path, segment));
                Some(operation("test", &path, Some(&value.into())))
            })
            .collect();
        self.guards.push((tests, false));
        body(self, item_path);
        self.guards.pop();
    }
}

/// The values of `key` in every item, if every item is a mapping with a distinct string there.
fn unique_keys<'a>(items: &'a [Value], key: &str) -> Option<Vec<&'a str>> {
    let keys = items
        .iter()
        .map(|item| item_key(item, key))
        .collect::<Option<Vec<_>>>()?;
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == keys.len()).then_some(keys)
}

/// The string at `key` (slash-separated fields) of a list item.
fn item_key<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    key.split('/')
        .try_fold(item, |value, field| value.as_mapping()?.get(field))?
        .as_str()
}

/// `path/key` as a JSON pointer (RFC 6901: `~` and `/` escaped).
fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn operation(op: &str, path: &str, value: Option<&Value>) -> Value {
    let mut operation = Mapping::from_iter([("op".into(), op.into()), ("path".into(), path.into())]);
    if let Some(value) = value {
        operation.insert("value".into(), value.clone());
    }
    Value::Mapping(operation)
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

fn kustomization(resources: &[String], patches: &[Value]) -> Vec<u8> {
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

fn document(value: &Value) -> Vec<u8> {
    // `---` after the comment: yamllint's default rules want every document started explicitly.
    let mut out =
        "# Generated by ignition-krm render: do not edit; change the spec and render again.\n---\n".to_owned();
    out.push_str(&yaml::to_string(value));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    /// The patch, as `op path [value]` lines, after checking that the independent json-patch crate
    /// turns the base into the target with it.
    fn patch_lines(base: &str, target: &str) -> Vec<String> {
        let (base, target) = (yaml(base), yaml(target));
        let operations = patch(&base, &target);
        let json = serde_json::to_value(&operations).unwrap();
        let parsed: json_patch::Patch = serde_json::from_value(json).unwrap();
        let mut applied = serde_json::to_value(&base).unwrap();
        json_patch::patch(&mut applied, &parsed).unwrap();
        assert_eq!(applied, serde_json::to_value(&target).unwrap());
        operations
            .iter()
            .map(|operation| {
                let value = operation
                    .get("value")
                    .map(|value| format!(" {}", serde_json::to_string(value).unwrap()));
                format!(
                    "{} {}{}",
                    text(operation, &["op"]),
                    text(operation, &["path"]),
                    value.unwrap_or_default()
                )
            })
            .collect()
    }

    const BASE: &str = "containers:
- name: gateway
  env: [{name: A, value: '1'}, {name: B, value: '2'}, {name: C, value: '3'}]
  volumeMounts: [{name: data, mountPath: /a}, {name: data, mountPath: /b}]
- name: sidecar
  image: x
";

    #[test]
    fn an_item_inserted_in_the_middle_is_one_add_under_the_named_container() {
        let target = BASE.replace("{name: B, value: '2'}", "{name: A2, value: new}, {name: B, value: '2'}");
        assert_eq!(
            patch_lines(BASE, &target),
            [
                r#"test /containers/0/name "gateway""#,
                r#"add /containers/0/env/1 {"name":"A2","value":"new"}"#,
            ]
        );
    }

    #[test]
    fn removed_and_changed_items_are_named_before_the_operation() {
        let target = BASE
            .replace("{name: A, value: '1'}, ", "")
            .replace("{name: C, value: '3'}", "{name: C, value: '4'}")
            .replace("- name: sidecar\n  image: x\n", "");
        assert_eq!(
            patch_lines(BASE, &target),
            [
                r#"test /containers/1/name "sidecar""#,
                "remove /containers/1",
                r#"test /containers/0/name "gateway""#,
                r#"test /containers/0/env/0/name "A""#,
                "remove /containers/0/env/0",
                r#"test /containers/0/env/1/name "C""#,
                r#"replace /containers/0/env/1/value "4""#,
            ]
        );
    }

    #[test]
    fn mounts_sharing_a_volume_are_keyed_by_mount_path() {
        let target = BASE.replace("{name: data, mountPath: /a}, ", "");
        assert_eq!(
            patch_lines(BASE, &target),
            [
                r#"test /containers/0/name "gateway""#,
                r#"test /containers/0/volumeMounts/0/mountPath "/a""#,
                r#"test /containers/0/volumeMounts/0/name "data""#,
                "remove /containers/0/volumeMounts/0",
            ]
        );
    }

    #[test]
    fn reordered_and_unnamed_lists_are_compared_by_position_and_still_named() {
        let target = BASE.replace(
            "{name: A, value: '1'}, {name: B, value: '2'}",
            "{name: B, value: '2'}, {name: A, value: '1'}",
        );
        let lines = patch_lines(BASE, &target);
        assert!(
            lines.contains(&r#"test /containers/0/env/0/name "A""#.to_owned()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&r#"replace /containers/0/env/0/name "B""#.to_owned()),
            "{lines:?}"
        );
        assert_eq!(
            patch_lines("args: [a, b, c]", "args: [a, c]"),
            [r#"replace /args/1 "c""#, "remove /args/2"]
        );
        assert_eq!(patch_lines("a: {x~/y: 1}", "a: {x~/y: 2}"), ["replace /a/x~0~1y 2"]);
        assert!(patch_lines(BASE, BASE).is_empty());
    }
}
