//! Structural validation of a spec against the JSON Schema derived from its types.
//!
//! serde stops at the first problem; users want every problem at once, each with its field path, so
//! the input is first walked against the schema here. Only the schema keywords that schemars emits
//! for the spec types are understood.

use serde::Deserialize;
use serde_json::Value as Json;
use serde_norway::Value;

use super::path::{join, split, Segment};
use super::Problem;
use crate::krm::type_name;

/// The schema keywords [`check_node`] reads.
const KEYWORDS: &[&str] = &[
    "$defs",
    "$ref",
    "anyOf",
    "oneOf",
    "type",
    "enum",
    "minimum",
    "maximum",
    "properties",
    "additionalProperties",
    "items",
    "required",
];

/// `schema` with only the keywords [`check_node`] reads (no descriptions, titles, defaults or formats), at
/// every level: what validation needs of the derived schema.
pub fn validation_keywords(schema: &Json) -> Json {
    match schema {
        Json::Object(node) => Json::Object(
            node.iter()
                .filter(|(keyword, _)| KEYWORDS.contains(&keyword.as_str()))
                .map(|(keyword, value)| {
                    let value = match (keyword.as_str(), value) {
                        // Maps of names to schemas: every name stays.
                        ("$defs" | "properties", Json::Object(named)) => Json::Object(
                            named
                                .iter()
                                .map(|(name, schema)| (name.clone(), validation_keywords(schema)))
                                .collect(),
                        ),
                        ("anyOf" | "oneOf", Json::Array(schemas)) => {
                            Json::Array(schemas.iter().map(validation_keywords).collect())
                        }
                        ("items" | "additionalProperties", schema) => validation_keywords(schema),
                        // `type`, `enum`, `required`, `$ref`, `minimum`, `maximum`: values, not schemas.
                        (_, value) => value.clone(),
                    };
                    (keyword.clone(), value)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A schema node as validation reads it: the keywords of [`KEYWORDS`], with the names and words borrowed from
/// the stored text (no allocation per string, one `Vec` per list). `anyOf` and `oneOf` are read alike.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Node<'a> {
    #[serde(rename = "$ref", borrow)]
    reference: Option<&'a str>,
    #[serde(rename = "anyOf", alias = "oneOf", borrow)]
    alternatives: Option<Vec<Node<'a>>>,
    #[serde(rename = "type", borrow)]
    types: Option<Types<'a>>,
    #[serde(rename = "enum", borrow)]
    allowed: Option<Vec<&'a str>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    #[serde(borrow, deserialize_with = "sorted_map")]
    properties: Option<Named<'a>>,
    #[serde(rename = "additionalProperties", borrow)]
    additional: Option<Additional<'a>>,
    #[serde(borrow)]
    items: Option<Box<Node<'a>>>,
    #[serde(borrow)]
    required: Vec<&'a str>,
    #[serde(rename = "$defs", borrow, deserialize_with = "sorted_map")]
    definitions: Option<Named<'a>>,
}

#[derive(Debug, PartialEq)]
enum Types<'a> {
    One(&'a str),
    Any(Vec<&'a str>),
}

#[derive(Debug, PartialEq)]
enum Additional<'a> {
    Allowed(bool),
    Schema(Box<Node<'a>>),
}

// `type` is a name or a list of names, `additionalProperties` a boolean or a schema: read by what the JSON
// holds, without serde's `untagged` (which buffers the value and formats an error for every form that fails).
impl<'de: 'a, 'a> Deserialize<'de> for Types<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Types<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a type name or a list of type names")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(Types::One(name))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(Types::Any(names))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Additional<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Additional<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a boolean or a schema")
            }
            fn visit_bool<E: serde::de::Error>(self, allowed: bool) -> Result<Self::Value, E> {
                Ok(Additional::Allowed(allowed))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Node::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|node| Additional::Schema(Box::new(node)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A JSON object of names to schemas, as a list sorted by name (looked up by binary search).
type Named<'a> = Vec<(&'a str, Node<'a>)>;

/// Reads a [`Named`] list from a JSON object.
fn sorted_map<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Named<'de>>, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = Named<'de>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a map of names to schemas")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Self::Value = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Ok(entries)
        }
    }
    deserializer.deserialize_map(Entries).map(Some)
}

fn lookup<'n, 'a>(entries: Option<&'n [(&'a str, Node<'a>)]>, name: &str) -> Option<&'n Node<'a>> {
    let entries = entries?;
    entries
        .binary_search_by(|(key, _)| (*key).cmp(name))
        .ok()
        .map(|index| &entries[index].1)
}

/// Reads a stored validation schema (the text of [`validation_keywords`], as JSON).
pub fn parse(text: &str) -> Result<Node<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

/// Checks `value` against `root` (a schema with its definitions under `$defs`) and collects problems.
pub fn check(root: &Node, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    check_node(root, root, value, path, problems);
}

fn check_node(root: &Node, node: &Node, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    if let Some(reference) = node.reference {
        match resolve(root, reference) {
            Some(target) => check_node(root, target, value, path, problems),
            None => problems.push(Problem::new(
                path,
                format!("internal error: schema reference {reference} not found"),
            )),
        }
        return;
    }
    if let Some(alternatives) = &node.alternatives {
        check_alternatives(root, alternatives, value, path, problems);
        return;
    }
    if let Some(types) = &node.types {
        if !type_matches(types, value) {
            let mut message = format!("expected {}, found {}", describe_types(types), type_name(value));
            if matches!(types, Types::One("string")) && matches!(value, Value::Number(_) | Value::Bool(_)) {
                // YAML reads an unquoted 8.3 as a number and true as a boolean.
                let text = serde_norway::to_string(value).unwrap_or_default();
                message.push_str(&format!(" (write it in quotes: \"{}\")", text.trim()));
            }
            problems.push(Problem::new(path, message));
            return;
        }
    }
    if let Some(allowed) = &node.allowed {
        check_enum(allowed, value, path, problems);
    }
    if let Value::Number(number) = value {
        check_range(node, number, path, problems);
    }
    match value {
        Value::Mapping(mapping) => check_mapping(root, node, mapping, path, problems),
        Value::Sequence(sequence) => {
            if let Some(items) = &node.items {
                for (index, item) in sequence.iter().enumerate() {
                    check_node(root, items, item, &format!("{path}[{index}]"), problems);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'n, 'a>(root: &'n Node<'a>, reference: &str) -> Option<&'n Node<'a>> {
    let name = reference.strip_prefix("#/$defs/")?;
    lookup(root.definitions.as_deref(), name)
}

/// `Option<T>` becomes `anyOf: [T, null]`: the value must fit one alternative. When none fits, the
/// problems of the alternative closest to the value's own type are the ones worth reporting.
fn check_alternatives(root: &Node, alternatives: &[Node], value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let mut best: Option<Vec<Problem>> = None;
    for alternative in alternatives {
        let mut found = Vec::new();
        check_node(root, alternative, value, path, &mut found);
        if found.is_empty() {
            return;
        }
        let is_null_alternative = matches!(alternative.types, Some(Types::One("null")));
        if best.is_none() && !is_null_alternative {
            best = Some(found);
        }
    }
    problems.extend(best.unwrap_or_else(|| vec![Problem::new(path, "matches none of the allowed forms")]));
}

fn type_matches(types: &Types, value: &Value) -> bool {
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
        Types::One(name) => matches_one(name),
        Types::Any(names) => names.iter().any(|name| matches_one(name)),
    }
}

fn describe_types(types: &Types) -> String {
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
        Types::One(name) => describe(name).to_owned(),
        Types::Any(names) => names
            .iter()
            .filter(|name| **name != "null")
            .map(|name| describe(name))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn check_enum(names: &[&str], value: &Value, path: &str, problems: &mut Vec<Problem>) {
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

fn check_range(node: &Node, number: &serde_norway::Number, path: &str, problems: &mut Vec<Problem>) {
    let Some(value) = number.as_f64() else {
        return;
    };
    if let Some(minimum) = node.minimum {
        if value < minimum {
            problems.push(
                Problem::new(path, format!("must be at least {minimum}, found {number}")).current(number.to_string()),
            );
        }
    }
    if let Some(maximum) = node.maximum {
        if value > maximum {
            problems.push(
                Problem::new(path, format!("must be at most {maximum}, found {number}")).current(number.to_string()),
            );
        }
    }
}

fn check_mapping(root: &Node, node: &Node, mapping: &serde_norway::Mapping, path: &str, problems: &mut Vec<Problem>) {
    let properties = node.properties.as_deref();
    for (key, child) in mapping {
        let Some(key) = key.as_str() else {
            problems.push(Problem::new(
                path,
                format!("has a key that is {}: keys must be strings", type_name(key)),
            ));
            continue;
        };
        let child_path = join(path, key);
        if let Some(schema) = lookup(properties, key) {
            check_node(root, schema, child, &child_path, problems);
            continue;
        }
        match &node.additional {
            Some(Additional::Allowed(false)) => {
                let known: Vec<&str> = properties.unwrap_or_default().iter().map(|(name, _)| *name).collect();
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
            Some(Additional::Schema(schema)) => check_node(root, schema, child, &child_path, problems),
            _ => {}
        }
    }
    for required in &node.required {
        if !mapping.contains_key(*required) {
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
    fn the_stored_validation_schema_is_the_derived_one() {
        let derived = validation_keywords(crate::spec::check_schema());
        let text = serde_json::to_string(&derived).unwrap() + "\n";
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/src/spec/validation-schema.json");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(file, &text).unwrap();
        }
        assert!(
            std::fs::read_to_string(file).unwrap() == text,
            "src/spec/validation-schema.json is stale: rerun with UPDATE_GOLDEN=1 cargo test --lib"
        );
        // What the process reads is that file, and it has every definition and property of the derived schema.
        assert_eq!(
            serde_json::from_str::<Json>(include_str!("validation-schema.json")).unwrap(),
            derived
        );
        let node = parse(include_str!("validation-schema.json")).unwrap();
        assert_eq!(
            node.definitions.as_ref().map(Vec::len),
            derived["$defs"].as_object().map(serde_json::Map::len)
        );
        assert_eq!(
            node.properties.as_ref().map(Vec::len),
            derived["properties"].as_object().map(serde_json::Map::len)
        );
        assert_eq!(
            derived["$defs"].as_object().map(serde_json::Map::len),
            crate::spec::check_schema()["$defs"]
                .as_object()
                .map(serde_json::Map::len)
        );
    }

    #[test]
    fn validation_keeps_every_keyword_the_check_reads_and_drops_the_rest() {
        let schema: Json = serde_json::from_str(
            r##"{"description": "d", "type": "object", "properties": {"description": {"type": "string", "title": "t",
                "enum": ["a"]}, "n": {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}], "default": 1}},
                "additionalProperties": false, "required": ["n"], "$defs": {"X": {"type": "integer", "minimum": 0,
                "maximum": 9, "format": "uint"}}, "items": {"oneOf": [{"type": "string", "description": "s"}]}}"##,
        )
        .unwrap();
        let expected: Json = serde_json::from_str(
            r##"{"type": "object", "properties": {"description": {"type": "string", "enum": ["a"]}, "n": {"anyOf":
                [{"$ref": "#/$defs/X"}, {"type": "null"}]}}, "additionalProperties": false, "required": ["n"],
                "$defs": {"X": {"type": "integer", "minimum": 0, "maximum": 9}}, "items": {"oneOf": [{"type": "string"}]}}"##,
        )
        .unwrap();
        assert_eq!(validation_keywords(&schema), expected);
    }

    #[test]
    fn every_form_of_type_and_additional_properties_is_read_and_checked() {
        let schema = parse(
            r##"{"type": "object", "properties": {"a": {"type": ["string", "null"]}, "b": {"$ref": "#/$defs/B"}},
                "additionalProperties": {"type": "integer", "minimum": 1}, "$defs": {"B": {"type": "object",
                "additionalProperties": false, "properties": {"c": {"enum": ["x", "y"]}}, "required": ["c"]}}}"##,
        )
        .unwrap();
        let value: Value = serde_norway::from_str("{a: null, b: {c: z, d: 1}, e: 0, f: two, g: 3}").unwrap();
        let mut problems = Vec::new();
        check(&schema, &value, "", &mut problems);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "b.c: \"z\" is not one of: x, y; did you mean \"x\"?",
                "b.d: unknown field \"d\"; did you mean \"c\"?",
                "e: must be at least 1, found 0",
                "f: expected an integer, found a string",
            ]
        );
        let mut problems = Vec::new();
        check(&schema, &serde_norway::from_str("{a: 1}").unwrap(), "", &mut problems);
        assert_eq!(problems[0].to_string(), "a: expected a string, found an integer");
    }

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
