//! Structural validation of a spec against the JSON Schema derived from its types.
//!
//! serde stops at the first problem; users want every problem at once, each with its field path, so
//! the input is first walked against the schema here. Only the schema keywords that schemars emits
//! for the spec types are understood.

use serde_json::Value as Json;
use serde_norway::Value;

use super::path::{join, split, Segment};
use super::Problem;
use crate::krm::type_name;

/// Checks `value` against `root` (a schema with its definitions under `$defs`) and collects problems.
pub fn check(root: &Json, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    check_node(root, root, value, path, problems);
}

fn check_node(root: &Json, node: &Json, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    if let Some(reference) = node.get("$ref").and_then(Json::as_str) {
        match resolve(root, reference) {
            Some(target) => check_node(root, target, value, path, problems),
            None => problems.push(Problem::new(
                path,
                format!("internal error: schema reference {reference} not found"),
            )),
        }
        return;
    }
    if let Some(alternatives) = node.get("anyOf").or_else(|| node.get("oneOf")).and_then(Json::as_array) {
        check_alternatives(root, alternatives, value, path, problems);
        return;
    }
    if let Some(types) = node.get("type") {
        if !type_matches(types, value) {
            let mut message = format!("expected {}, found {}", describe_types(types), type_name(value));
            if types.as_str() == Some("string") && matches!(value, Value::Number(_) | Value::Bool(_)) {
                // YAML reads an unquoted 8.3 as a number and true as a boolean.
                let text = serde_norway::to_string(value).unwrap_or_default();
                message.push_str(&format!(" (write it in quotes: \"{}\")", text.trim()));
            }
            problems.push(Problem::new(path, message));
            return;
        }
    }
    if let Some(allowed) = node.get("enum").and_then(Json::as_array) {
        check_enum(allowed, value, path, problems);
    }
    if let Value::Number(number) = value {
        check_range(node, number, path, problems);
    }
    match value {
        Value::Mapping(mapping) => check_mapping(root, node, mapping, path, problems),
        Value::Sequence(sequence) => {
            if let Some(items) = node.get("items") {
                for (index, item) in sequence.iter().enumerate() {
                    check_node(root, items, item, &format!("{path}[{index}]"), problems);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(root: &'a Json, reference: &str) -> Option<&'a Json> {
    let name = reference.strip_prefix("#/$defs/")?;
    root.get("$defs")?.get(name)
}

/// `Option<T>` becomes `anyOf: [T, null]`: the value must fit one alternative. When none fits, the
/// problems of the alternative closest to the value's own type are the ones worth reporting.
fn check_alternatives(root: &Json, alternatives: &[Json], value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let mut best: Option<Vec<Problem>> = None;
    for alternative in alternatives {
        let mut found = Vec::new();
        check_node(root, alternative, value, path, &mut found);
        if found.is_empty() {
            return;
        }
        let is_null_alternative = alternative.get("type").and_then(Json::as_str) == Some("null");
        if best.is_none() && !is_null_alternative {
            best = Some(found);
        }
    }
    problems.extend(best.unwrap_or_else(|| vec![Problem::new(path, "matches none of the allowed forms")]));
}

fn type_matches(types: &Json, value: &Value) -> bool {
    let matches_one = |name: &str| match (name, value) {
        ("null", Value::Null) => true,
        ("boolean", Value::Bool(_)) => true,
        ("string", Value::String(_)) => true,
        ("integer", Value::Number(number)) => number.is_i64() || number.is_u64(),
        ("number", Value::Number(_)) => true,
        ("object", Value::Mapping(_)) => true,
        ("array", Value::Sequence(_)) => true,
        _ => false,
    };
    match types {
        Json::String(name) => matches_one(name),
        Json::Array(names) => names.iter().filter_map(Json::as_str).any(matches_one),
        _ => true,
    }
}

fn describe_types(types: &Json) -> String {
    let describe = |name: &str| match name {
        "null" => "null",
        "boolean" => "a boolean (true or false)",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "object" => "a mapping",
        "array" => "a list",
        _ => "a value of another type",
    };
    match types {
        Json::String(name) => describe(name).to_owned(),
        Json::Array(names) => names
            .iter()
            .filter_map(Json::as_str)
            .filter(|name| *name != "null")
            .map(describe)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".to_owned(),
    }
}

fn check_enum(allowed: &[Json], value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let names: Vec<&str> = allowed.iter().filter_map(Json::as_str).collect();
    let Some(text) = value.as_str() else {
        return;
    };
    if names.contains(&text) {
        return;
    }
    let mut problem = Problem::new(path, format!("{text:?} is not one of: {}", names.join(", "))).current(text);
    if let Some(nearest) = nearest(text, names.iter().copied()) {
        problem = problem.proposed(nearest);
        problem.message.push_str(&format!("; did you mean {nearest:?}?"));
    }
    problems.push(problem);
}

fn check_range(node: &Json, number: &serde_norway::Number, path: &str, problems: &mut Vec<Problem>) {
    let Some(value) = number.as_f64() else {
        return;
    };
    if let Some(minimum) = node.get("minimum").and_then(Json::as_f64) {
        if value < minimum {
            problems.push(
                Problem::new(path, format!("must be at least {minimum}, found {number}")).current(number.to_string()),
            );
        }
    }
    if let Some(maximum) = node.get("maximum").and_then(Json::as_f64) {
        if value > maximum {
            problems.push(
                Problem::new(path, format!("must be at most {maximum}, found {number}")).current(number.to_string()),
            );
        }
    }
}

fn check_mapping(root: &Json, node: &Json, mapping: &serde_norway::Mapping, path: &str, problems: &mut Vec<Problem>) {
    let properties = node.get("properties").and_then(Json::as_object);
    let additional = node.get("additionalProperties");
    for (key, child) in mapping {
        let Some(key) = key.as_str() else {
            problems.push(Problem::new(
                path,
                format!("has a key that is {}: keys must be strings", type_name(key)),
            ));
            continue;
        };
        let child_path = join(path, key);
        if let Some(schema) = properties.and_then(|properties| properties.get(key)) {
            check_node(root, schema, child, &child_path, problems);
            continue;
        }
        match additional {
            Some(Json::Bool(false)) => {
                let known = properties
                    .map(|properties| properties.keys().map(String::as_str).collect::<Vec<_>>())
                    .unwrap_or_default();
                let mut message = format!("unknown field {key:?}");
                let mut problem = Problem::new(&child_path, String::new());
                match nearest(key, known.iter().copied()) {
                    Some(nearest) => {
                        message.push_str(&format!("; did you mean {nearest:?}?"));
                        problem = problem.proposed(nearest);
                    }
                    None => message.push_str(&format!("; known fields: {}", known.join(", "))),
                }
                problem.message = message;
                problems.push(problem);
            }
            Some(schema @ Json::Object(_)) => check_node(root, schema, child, &child_path, problems),
            _ => {}
        }
    }
    for required in node
        .get("required")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
    {
        if !mapping.contains_key(required) {
            problems.push(Problem::new(join(path, required), "is required"));
        }
    }
}

/// The known name closest to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    candidates
        .map(|candidate| (edit_distance(&word_lower, &candidate.to_ascii_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Removes the field a problem path names (`spec.a.b`, `spec.list[2]`, `spec.map["k.x"]`), if present.
/// Paths are the ones [`join`] builds.
pub fn remove_path(value: &mut Value, path: &str) {
    let segments = split(path);
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = value;
    for segment in parents {
        let next = match (segment, node) {
            (Segment::Key(key), Value::Mapping(mapping)) => mapping.get_mut(key.as_str()),
            (Segment::Index(index), Value::Sequence(sequence)) => sequence.get_mut(*index),
            _ => None,
        };
        let Some(next) = next else {
            return;
        };
        node = next;
    }
    match (last, node) {
        (Segment::Key(key), Value::Mapping(mapping)) => {
            mapping.remove(key.as_str());
        }
        // An item cannot be taken out without renumbering the rest: it becomes null.
        (Segment::Index(index), Value::Sequence(sequence)) => {
            if let Some(item) = sequence.get_mut(*index) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_and_ignores_strangers() {
        let known = ["replicas", "resources", "storage"];
        assert_eq!(nearest("replica", known.iter().copied()), Some("replicas"));
        assert_eq!(nearest("Resources", known.iter().copied()), Some("resources"));
        assert_eq!(nearest("colour", known.iter().copied()), None);
    }

    #[test]
    fn paths_quote_keys_that_are_not_words() {
        assert_eq!(join("", "spec"), "spec");
        assert_eq!(join("spec", "frontend"), "spec.frontend");
        assert_eq!(
            join("spec.ingress.annotations", "a.b/c"),
            "spec.ingress.annotations[\"a.b/c\"]"
        );
    }

    #[test]
    fn remove_path_takes_out_the_named_field_only() {
        let mut value: Value =
            serde_norway::from_str("spec: {a: {b: 1, c: 2}, list: [x, y], ann: {\"a.b/c\": 1, d: 2}}").unwrap();
        remove_path(&mut value, "spec.a.b");
        remove_path(&mut value, "spec.list[1]");
        remove_path(&mut value, &join("spec.ann", "a.b/c"));
        remove_path(&mut value, "spec.missing.deeper");
        let expected: Value = serde_norway::from_str("spec: {a: {c: 2}, list: [x, null], ann: {d: 2}}").unwrap();
        assert_eq!(value, expected);
    }
}
