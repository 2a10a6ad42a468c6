//! JSON merge patch (RFC 7386) on YAML values, and the field paths a patch writes.

use serde_norway::Value;

use super::path::FieldPath;

/// Applies `patch` to `target`: a mapping merges key by key, `null` removes a key, anything else
/// (lists included) replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Mapping(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_mapping() {
        *target = Value::Mapping(Default::default());
    }
    let Value::Mapping(target) = target else {
        unreachable!("made a mapping above")
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Every field path a patch writes, below `prefix` (`spec.frontend`, `spec.frontend.replicas`, ...).
pub fn paths(patch: &Value, prefix: &FieldPath) -> Vec<FieldPath> {
    let mut found = Vec::new();
    collect(patch, prefix, &mut found);
    found
}

fn collect(value: &Value, path: &FieldPath, found: &mut Vec<FieldPath>) {
    match value {
        Value::Mapping(mapping) => {
            for (key, child) in mapping {
                let Some(key) = key.as_str() else {
                    continue;
                };
                let child_path = path.field(key);
                found.push(child_path.clone());
                collect(child, &child_path, found);
            }
        }
        Value::Sequence(sequence) => {
            for (index, item) in sequence.iter().enumerate() {
                let item_path = path.index(index);
                found.push(item_path.clone());
                collect(item, &item_path, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn merges_mappings_replaces_lists_and_removes_nulls() {
        let mut target = yaml("{a: 1, b: {c: 2, d: 3}, l: [1, 2]}");
        merge_patch(&mut target, &yaml("{b: {c: 5, d: null}, l: [9], e: x}"));
        assert_eq!(target, yaml("{a: 1, b: {c: 5}, l: [9], e: x}"));
    }

    #[test]
    fn lists_the_paths_a_patch_writes() {
        let found: Vec<String> = paths(&yaml("{frontend: {replicas: 3}, modules: [a]}"), &FieldPath::spec())
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            found,
            [
                "spec.frontend",
                "spec.frontend.replicas",
                "spec.modules",
                "spec.modules[0]"
            ]
        );
    }
}
