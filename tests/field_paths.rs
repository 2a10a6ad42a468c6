//! Every field path an expected error names is a field of the JSON Schema (`ignition-krm schema`), so a
//! path spelled by hand in the code cannot drift from the serde names the schema is derived from.
//!
//! The paths come from the golden cases' error results and stderr, and from the hostile cases'
//! expected messages. The walk over the schema is this file's own (properties, additionalProperties,
//! items, `$ref`, `anyOf`), not the function's.

mod common;

use std::fs;

use serde_json::Value as Json;

use common::repo_root;

/// One step of a field path: a field name (`a.b`, `a["b/c"]`) or a list index (`a[0]`).
#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index,
}

fn steps(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix("[\"") {
            let end = tail
                .find("\"]")
                .unwrap_or_else(|| panic!("unclosed quoted key in {path}"));
            steps.push(Step::Field(tail[..end].to_owned()));
            rest = &tail[end + 2..];
        } else if let Some(tail) = rest.strip_prefix('[') {
            let end = tail.find(']').unwrap_or_else(|| panic!("unclosed index in {path}"));
            assert!(tail[..end].parse::<usize>().is_ok(), "bad index in {path}");
            steps.push(Step::Index);
            rest = &tail[end + 1..];
        } else {
            let rest_of_name = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest_of_name.find(['.', '[']).unwrap_or(rest_of_name.len());
            steps.push(Step::Field(rest_of_name[..end].to_owned()));
            rest = &rest_of_name[end..];
        }
    }
    steps
}

fn follow<'a>(root: &'a Json, mut node: &'a Json) -> &'a Json {
    while let Some(reference) = node.get("$ref").and_then(Json::as_str) {
        let name = reference.strip_prefix("#/$defs/").expect("local references only");
        node = &root["$defs"][name];
        assert!(!node.is_null(), "dangling reference {reference}");
    }
    node
}

/// Whether `steps` lead from `node` to a schema.
fn resolves(root: &Json, node: &Json, steps: &[Step]) -> bool {
    let node = follow(root, node);
    let Some((step, rest)) = steps.split_first() else {
        return true;
    };
    if let Some(alternatives) = node.get("anyOf").and_then(Json::as_array) {
        return alternatives
            .iter()
            .any(|alternative| resolves(root, alternative, steps));
    }
    match step {
        Step::Index => node.get("items").is_some_and(|items| resolves(root, items, rest)),
        Step::Field(name) => {
            if let Some(property) = node.get("properties").and_then(|properties| properties.get(name)) {
                return resolves(root, property, rest);
            }
            match node.get("additionalProperties") {
                Some(additional @ Json::Object(_)) => resolves(root, additional, rest),
                // A free-form object (a GatewayResource's `config`): any field below it is one.
                Some(Json::Bool(true)) => true,
                _ => false,
            }
        }
    }
}

/// Whether the path names a field the schema has, or a field that is wrong because the schema has
/// no such field (as its message says).
fn acceptable(schema: &Json, path: &str, message: &str) -> Result<(), String> {
    let all = steps(path);
    if resolves(schema, schema, &all) {
        return Ok(());
    }
    let parent = &all[..all.len() - 1];
    if message.contains("unknown field") && resolves(schema, schema, parent) {
        return Ok(());
    }
    // A field an environment may not change is one of the base spec's.
    if message.contains("cannot be changed by an environment") {
        let mut base = vec![Step::Field("spec".to_owned())];
        base.extend(all.into_iter().skip(3));
        if resolves(schema, schema, &base) {
            return Ok(());
        }
    }
    Err(format!("{path}: {message}"))
}

/// (path, message) of every error result and stderr line of the golden cases.
fn golden_paths() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let stderr_line = regex::Regex::new(r"^ignition-krm: error: [^:]+: ((?:spec|metadata)[^ :]*): (.*)$").unwrap();
    for case in fs::read_dir(repo_root().join("tests/testdata")).unwrap().flatten() {
        let expected = fs::read_to_string(case.path().join("expected.yaml")).unwrap_or_default();
        let list: serde_norway::Value = serde_norway::from_str(&expected).unwrap_or(serde_norway::Value::Null);
        for result in list["results"].as_sequence().into_iter().flatten() {
            if let Some(path) = result["field"]["path"].as_str() {
                let message = result["message"].as_str().unwrap_or_default();
                found.push((path.to_owned(), message.to_owned()));
            }
        }
        let stderr = fs::read_to_string(case.path().join("expected.stderr")).unwrap_or_default();
        for line in stderr.lines() {
            if let Some(captures) = stderr_line.captures(line) {
                found.push((captures[1].to_owned(), captures[2].to_owned()));
            }
        }
    }
    found
}

/// (path, message) of every expected message of the hostile cases that starts with a field path.
fn hostile_paths() -> Vec<(String, String)> {
    let source = fs::read_to_string(repo_root().join("tests/hostile.rs")).unwrap();
    let literal = regex::Regex::new(r#""((?:spec|metadata)\.(?:[A-Za-z0-9_-]|\.|\[[0-9]+\])+):( [^"]*)?""#).unwrap();
    literal
        .captures_iter(&source)
        .map(|captures| {
            let message = captures.get(2).map_or("", |message| message.as_str()).trim();
            (captures[1].to_owned(), message.to_owned())
        })
        .collect()
}

#[test]
fn every_path_in_an_expected_error_is_a_field_of_the_schema() {
    // A path names a field of an `IgnitionCluster` or of a `GatewayResource`: the hostile cases do
    // not say which kind a message is about, so either schema may hold it.
    let schemas = [
        ignition_krm::spec::json_schema(),
        ignition_krm::spec::resource_json_schema(),
    ];
    let golden = golden_paths();
    let hostile = hostile_paths();
    // The harvest itself must find something, or this test proves nothing.
    assert!(golden.len() >= 30, "only {} paths in the golden cases", golden.len());
    assert!(hostile.len() >= 50, "only {} paths in the hostile cases", hostile.len());
    assert!(golden
        .iter()
        .any(|(path, _)| path == "spec.gatewayNetwork.certificates.duration"));
    assert!(hostile
        .iter()
        .any(|(path, _)| path == "spec.environments.prod.gateway.replicas"));
    let wrong: Vec<String> = golden
        .iter()
        .chain(&hostile)
        .filter_map(|(path, message)| {
            schemas
                .iter()
                .map(|schema| acceptable(schema, path, message))
                .find(Result::is_ok)
                .unwrap_or_else(|| acceptable(schemas[0], path, message))
                .err()
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "paths that are not fields of the schema:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_walk_tells_fields_from_typos() {
    let schema = ignition_krm::spec::json_schema();
    for path in [
        "metadata.name",
        "spec.frontend.autoscaling.maxReplicas",
        "spec.gateway.pod.env[0].name",
        "spec.environments.prod.ingress.host",
        "spec.ingress.annotations[\"cert-manager.io/cluster-issuer\"]",
    ] {
        assert!(resolves(schema, schema, &steps(path)), "{path}");
    }
    for path in [
        "spec.frontend.replica",
        "spec.environments.prod.architecture",
        "spec.gateway.pod.env.name",
        "spec.version.major",
    ] {
        assert!(!resolves(schema, schema, &steps(path)), "{path}");
    }
}
