//! Structural validation of a spec against the JSON Schema derived from its types.
//!
//! serde stops at the first problem; users want every problem at once, each with its field path, so
//! the input is first walked against the schema here. Only the schema keywords that schemars emits
//! for the spec types are understood.

use serde_json::Value as Json;
use serde_norway::Value;

use super::path::{join, split, Segment};
use super::schema_tables::{Additional, Named, Node, Nodes, Tables, Types, Word, Words, KEYWORDS};
use super::Problem;
use crate::krm::type_name;

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

/// The `IgnitionCluster` schema that validation reads: `validation-schema.json`, written as constants by
/// `build.rs` (see `schema_tables.rs`), so no process parses it.
pub static BUILT_IN: Schema<'static> = Schema {
    text: built_in::TEXT,
    words: &built_in::WORDS,
    nodes: &built_in::NODES,
};

mod built_in {
    use super::{Additional, Named, Node, Nodes, Types, Word, Words};

    /// What build.rs leaves out of a node.
    const EMPTY: Node = Node {
        reference: None,
        alternatives: None,
        types: None,
        allowed: None,
        minimum: None,
        maximum: None,
        properties: Named {
            names: Words { start: 0, end: 0 },
            nodes: Nodes { start: 0, end: 0 },
        },
        additional: None,
        items: None,
        required: Words { start: 0, end: 0 },
        definitions: Named {
            names: Words { start: 0, end: 0 },
            nodes: Nodes { start: 0, end: 0 },
        },
    };

    include!(concat!(env!("OUT_DIR"), "/validation_schema.rs"));
}

/// A schema as validation reads it: tables built into the binary ([`BUILT_IN`]), or read at run time (by
/// `schema_tables::read`, from [`validation_keywords`]), borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schema<'a> {
    text: &'a str,
    words: &'a [Word],
    nodes: &'a [Node],
}

impl Tables {
    pub fn schema(&self) -> Schema<'_> {
        Schema {
            text: &self.text,
            words: &self.words,
            nodes: &self.nodes,
        }
    }
}

// The tables come from `schema_tables::read`, whose indexes are always in range.
impl<'a> Schema<'a> {
    fn root(self) -> &'a Node {
        &self.nodes[0]
    }

    fn node(self, index: u32) -> &'a Node {
        &self.nodes[index as usize]
    }

    fn nodes(self, Nodes { start, end }: Nodes) -> &'a [Node] {
        &self.nodes[start as usize..end as usize]
    }

    fn word(self, Word { start, end }: Word) -> &'a str {
        &self.text[start as usize..end as usize]
    }

    fn words(self, Words { start, end }: Words) -> impl Iterator<Item = &'a str> + Clone {
        self.words[start as usize..end as usize]
            .iter()
            .map(move |word| self.word(*word))
    }

    /// The schema named `name` in `named` (by binary search: the names are sorted).
    fn lookup(self, named: Named, name: &str) -> Option<&'a Node> {
        let names = &self.words[named.names.start as usize..named.names.end as usize];
        let index = names.binary_search_by(|word| self.word(*word).cmp(name)).ok()?;
        self.nodes(named.nodes).get(index)
    }

    /// Whether `types` is the one name `name`.
    fn is_one(self, types: Option<Types>, name: &str) -> bool {
        matches!(types, Some(Types::One(word)) if self.word(word) == name)
    }
}

/// Checks `value` against `schema` (whose root holds its definitions under `$defs`) and collects problems.
pub fn check(schema: Schema, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    check_node(schema, schema.root(), value, path, problems);
}

fn check_node(schema: Schema, node: &Node, value: &Value, path: &str, problems: &mut Vec<Problem>) {
    if let Some(reference) = node.reference {
        let reference = schema.word(reference);
        match resolve(schema, reference) {
            Some(target) => check_node(schema, target, value, path, problems),
            None => problems.push(Problem::new(
                path,
                format!("internal error: schema reference {reference} not found"),
            )),
        }
        return;
    }
    if let Some(alternatives) = node.alternatives {
        check_alternatives(schema, schema.nodes(alternatives), value, path, problems);
        return;
    }
    if let Some(types) = node.types {
        if !type_matches(schema, types, value) {
            let mut message = format!("expected {}, found {}", describe_types(schema, types), type_name(value));
            if schema.is_one(node.types, "string") && matches!(value, Value::Number(_) | Value::Bool(_)) {
                // YAML reads an unquoted 8.3 as a number and true as a boolean.
                let text = serde_norway::to_string(value).unwrap_or_default();
                message.push_str(&format!(" (write it in quotes: \"{}\")", text.trim()));
            }
            problems.push(Problem::new(path, message));
            return;
        }
    }
    if let Some(allowed) = node.allowed {
        check_enum(schema.words(allowed), value, path, problems);
    }
    if let Value::Number(number) = value {
        check_range(node, number, path, problems);
    }
    match value {
        Value::Mapping(mapping) => check_mapping(schema, node, mapping, path, problems),
        Value::Sequence(sequence) => {
            if let Some(items) = node.items {
                for (index, item) in sequence.iter().enumerate() {
                    check_node(schema, schema.node(items), item, &format!("{path}[{index}]"), problems);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(schema: Schema<'a>, reference: &str) -> Option<&'a Node> {
    let name = reference.strip_prefix("#/$defs/")?;
    schema.lookup(schema.root().definitions, name)
}

/// `Option<T>` becomes `anyOf: [T, null]`: the value must fit one alternative. When none fits, the
/// problems of the alternative closest to the value's own type are the ones worth reporting.
fn check_alternatives(schema: Schema, alternatives: &[Node], value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let mut best: Option<Vec<Problem>> = None;
    for alternative in alternatives {
        let mut found = Vec::new();
        check_node(schema, alternative, value, path, &mut found);
        if found.is_empty() {
            return;
        }
        let is_null_alternative = schema.is_one(alternative.types, "null");
        if best.is_none() && !is_null_alternative {
            best = Some(found);
        }
    }
    problems.extend(best.unwrap_or_else(|| vec![Problem::new(path, "matches none of the allowed forms")]));
}

fn type_matches(schema: Schema, types: Types, value: &Value) -> bool {
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
        Types::One(name) => matches_one(schema.word(name)),
        Types::Any(names) => schema.words(names).any(matches_one),
    }
}

fn describe_types(schema: Schema, types: Types) -> String {
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
        Types::One(name) => describe(schema.word(name)).to_owned(),
        Types::Any(names) => schema
            .words(names)
            .filter(|name| *name != "null")
            .map(describe)
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn check_enum<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    value: &Value,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(text) = value.as_str() else {
        return;
    };
    if names.clone().any(|name| name == text) {
        return;
    }
    let listed = names.clone().collect::<Vec<_>>().join(", ");
    let mut problem = Problem::new(path, format!("{text:?} is not one of: {listed}")).current(text);
    if let Some(nearest) = nearest(text, names) {
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

fn check_mapping(
    schema: Schema,
    node: &Node,
    mapping: &serde_norway::Mapping,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    for (key, child) in mapping {
        let Some(key) = key.as_str() else {
            problems.push(Problem::new(
                path,
                format!("has a key that is {}: keys must be strings", type_name(key)),
            ));
            continue;
        };
        let child_path = join(path, key);
        if let Some(property) = schema.lookup(node.properties, key) {
            check_node(schema, property, child, &child_path, problems);
            continue;
        }
        match node.additional {
            Some(Additional::Allowed(false)) => {
                let known: Vec<&str> = schema.words(node.properties.names).collect();
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
            Some(Additional::Schema(index)) => check_node(schema, schema.node(index), child, &child_path, problems),
            _ => {}
        }
    }
    for required in schema.words(node.required) {
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
    use super::super::schema_tables::read;
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
        // What the process reads is that file, built into the binary as the tables that the derived schema reads
        // into (build.rs writes them with `{:?}` for strings and numbers: this also holds that to be exact).
        assert_eq!(
            serde_json::from_str::<Json>(include_str!("validation-schema.json")).unwrap(),
            derived
        );
        let tables = read(&derived).unwrap();
        assert!(
            BUILT_IN == tables.schema(),
            "the schema built into the binary differs from the derived one read at run time"
        );
        let root = BUILT_IN.root();
        assert_eq!(
            BUILT_IN.words(root.definitions.names).count(),
            crate::spec::check_schema()["$defs"].as_object().unwrap().len()
        );
        assert_eq!(
            BUILT_IN.words(root.properties.names).count(),
            derived["properties"].as_object().unwrap().len()
        );
        assert!(BUILT_IN.nodes.len() > 100 && resolve(BUILT_IN, "#/$defs/Spec").is_some());
    }

    /// The tables `read` builds, whether by build.rs or at run time, answer with the schema's own words.
    #[test]
    fn a_schema_reads_into_tables_that_give_back_its_words() {
        let tables = read(
            &serde_json::from_str(
                r##"{"type": "object", "properties": {"b": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]},
                    "a": {"type": ["string", "null"], "enum": ["y", "x"]}}, "required": ["b", "a"],
                    "items": {"type": "string"}, "$defs": {"B": {"type": "string"}}}"##,
            )
            .unwrap(),
        )
        .unwrap();
        let schema = tables.schema();
        let root = schema.root();
        // Names are sorted for lookup; lists (required, enum, type) keep their order; words are stored once.
        assert_eq!(schema.words(root.properties.names).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(schema.words(root.required).collect::<Vec<_>>(), ["b", "a"]);
        let a = schema.lookup(root.properties, "a").unwrap();
        assert_eq!(schema.words(a.allowed.unwrap()).collect::<Vec<_>>(), ["y", "x"]);
        assert!(matches!(a.types, Some(Types::Any(names)) if schema.words(names).eq(["string", "null"])));
        let b = schema.lookup(root.properties, "b").unwrap();
        let alternatives = schema.nodes(b.alternatives.unwrap());
        assert_eq!(schema.word(alternatives[0].reference.unwrap()), "#/$defs/B");
        assert!(schema.is_one(alternatives[1].types, "null"));
        assert!(schema.is_one(resolve(schema, "#/$defs/B").unwrap().types, "string"));
        assert!(schema.is_one(schema.node(root.items.unwrap()).types, "string"));
        assert_eq!(schema.lookup(root.properties, "c"), None);
        assert_eq!(schema.text.matches("string").count(), 1);
        // What validation would not read is refused, as the serde reader it replaces refused unknown fields.
        for refused in [
            r#"{"format": "uint"}"#,
            r#"{"anyOf": [], "oneOf": []}"#,
            r#"{"type": 1}"#,
            r#"{"items": true}"#,
            r#"{"properties": {"a": 1}}"#,
            r#"{"enum": [1]}"#,
        ] {
            assert!(read(&serde_json::from_str(refused).unwrap()).is_err(), "{refused}");
        }
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
        let tables = read(
            &serde_json::from_str(
                r##"{"type": "object", "properties": {"a": {"type": ["string", "null"]}, "b": {"$ref": "#/$defs/B"}},
                "additionalProperties": {"type": "integer", "minimum": 1}, "$defs": {"B": {"type": "object",
                "additionalProperties": false, "properties": {"c": {"enum": ["x", "y"]}}, "required": ["c"]}}}"##,
            )
            .unwrap(),
        )
        .unwrap();
        let schema = tables.schema();
        let value: Value = serde_norway::from_str("{a: null, b: {c: z, d: 1}, e: 0, f: two, g: 3}").unwrap();
        let mut problems = Vec::new();
        check(schema, &value, "", &mut problems);
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
        check(schema, &serde_norway::from_str("{a: 1}").unwrap(), "", &mut problems);
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
