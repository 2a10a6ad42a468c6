//! Writes `src/spec/validation-schema.json` as Rust constants (`$OUT_DIR/validation_schema.rs`), which
//! `spec/schema_check.rs` includes: validation then starts from ready-made tables in the binary instead of parsing
//! the JSON in every process (issue 15). The tables and their reader are `src/spec/schema_tables.rs`, shared with
//! the crate; the output depends on the JSON alone.

use std::fmt::Write as _;

#[path = "src/spec/schema_tables.rs"]
mod schema_tables;

use schema_tables::{Additional, Named, Node, Nodes, Types, Word, Words};

const SCHEMA: &str = "src/spec/validation-schema.json";

fn main() {
    println!("cargo:rerun-if-changed={SCHEMA}");
    println!("cargo:rerun-if-changed=src/spec/schema_tables.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(SCHEMA).unwrap_or_else(|error| panic!("{SCHEMA}: {error}"));
    let json = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{SCHEMA}: {error}"));
    let tables = schema_tables::read(&json).unwrap_or_else(|error| panic!("{SCHEMA}: {error}"));

    let mut out = format!("// Written by build.rs from {SCHEMA}.\n\n");
    writeln!(out, "pub static TEXT: &str = {:?};", tables.text).unwrap();
    writeln!(out, "pub static WORDS: [Word; {}] = [", tables.words.len()).unwrap();
    for word in &tables.words {
        writeln!(out, "    {},", word_literal(*word)).unwrap();
    }
    writeln!(out, "];\npub static NODES: [Node; {}] = [", tables.nodes.len()).unwrap();
    for node in &tables.nodes {
        writeln!(out, "    {},", node_literal(node)).unwrap();
    }
    out.push_str("];\n");
    let file =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("validation_schema.rs");
    std::fs::write(&file, out).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
}

/// `node` as a Rust expression: its keywords that are present, then `..EMPTY` (`schema_check` defines it).
fn node_literal(node: &Node) -> String {
    let mut fields = Vec::new();
    if let Some(word) = node.reference {
        fields.push(format!("reference: Some({})", word_literal(word)));
    }
    if let Some(nodes) = node.alternatives {
        fields.push(format!("alternatives: Some({})", nodes_literal(nodes)));
    }
    match node.types {
        Some(Types::One(word)) => fields.push(format!("types: Some(Types::One({}))", word_literal(word))),
        Some(Types::Any(words)) => fields.push(format!("types: Some(Types::Any({}))", words_literal(words))),
        None => {}
    }
    if let Some(words) = node.allowed {
        fields.push(format!("allowed: Some({})", words_literal(words)));
    }
    // `{:?}` writes an f64 with a decimal point or an exponent, and exactly: a float literal of the same value.
    if let Some(minimum) = node.minimum {
        fields.push(format!("minimum: Some({minimum:?})"));
    }
    if let Some(maximum) = node.maximum {
        fields.push(format!("maximum: Some({maximum:?})"));
    }
    if node.properties != Named::default() {
        fields.push(format!("properties: {}", named_literal(node.properties)));
    }
    match node.additional {
        Some(Additional::Allowed(allowed)) => fields.push(format!("additional: Some(Additional::Allowed({allowed}))")),
        Some(Additional::Schema(index)) => fields.push(format!("additional: Some(Additional::Schema({index}))")),
        None => {}
    }
    if let Some(index) = node.items {
        fields.push(format!("items: Some({index})"));
    }
    if node.required != Words::default() {
        fields.push(format!("required: {}", words_literal(node.required)));
    }
    if node.definitions != Named::default() {
        fields.push(format!("definitions: {}", named_literal(node.definitions)));
    }
    fields.push("..EMPTY".to_owned());
    format!("Node {{ {} }}", fields.join(", "))
}

fn word_literal(Word { start, end }: Word) -> String {
    format!("Word {{ start: {start}, end: {end} }}")
}

fn words_literal(Words { start, end }: Words) -> String {
    format!("Words {{ start: {start}, end: {end} }}")
}

fn nodes_literal(Nodes { start, end }: Nodes) -> String {
    format!("Nodes {{ start: {start}, end: {end} }}")
}

fn named_literal(Named { names, nodes }: Named) -> String {
    format!(
        "Named {{ names: {}, nodes: {} }}",
        words_literal(names),
        nodes_literal(nodes)
    )
}
