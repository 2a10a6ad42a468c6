//! Writes `src/spec/validation-schema.json` as Rust constants (`$OUT_DIR/validation_schema.rs`), which
//! `spec/schema_check.rs` includes: validation then starts from ready-made tables in the binary instead of parsing
//! the JSON in every process (issue 15). The tables and their reader are `src/spec/schema_tables.rs`, shared with
//! the crate; the output depends on the JSON alone.
//!
//! In a release build it also hands the linker the order of the functions that generating a site runs
//! (`scripts/symbol-order/`), when the linker takes it: see `lay_out_code`.

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
    lay_out_code();
}

/// Puts the functions that generating a site runs side by side at the start of the code (issue 15).
///
/// The kernel maps a binary's code 64 KiB at a time around each page a process touches, one page fault each;
/// spread over the 4 MB of code, the 1.2 MB that one run uses touched some 54 such windows, side by side about 20.
/// A run then takes 25 to 30 fewer page faults and 1.5 to 2 MiB less resident memory. `scripts/hot-functions.sh`
/// writes the lists (mangled names, one per line, first run first); the option is lld's, the toolchain's default
/// linker on x86_64 Linux since Rust 1.90. A name the binary lacks is skipped, so a stale list
/// costs speed, never correctness. A linker that refuses the option (GNU ld) gets nothing: a small link with
/// the same compiler, flags and linker tries it first.
fn lay_out_code() {
    if env("PROFILE") != "release" {
        return;
    }
    // The two builds name their functions apart (the hashes differ), so each has its own list.
    let build = if env("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|feature| feature == "crt-static")
    {
        "static"
    } else {
        "release"
    };
    let list = format!("scripts/symbol-order/{build}.txt");
    println!("cargo:rerun-if-changed={list}");
    let list = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join(list);
    if !list.is_file() {
        return;
    }
    let args = [
        format!("-Wl,--symbol-ordering-file={}", list.display()),
        "-Wl,--no-warn-symbol-ordering".to_owned(),
    ];
    if links_with(&args) {
        for arg in args {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}

/// A variable Cargo sets for build scripts, or "" where it sets none.
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Whether an empty program links for the target with `link_args` added, by the compiler, flags and linker that
/// Cargo gives this build.
fn links_with(link_args: &[String]) -> bool {
    let out = std::path::PathBuf::from(env("OUT_DIR"));
    let source = out.join("link_probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let mut rustc = std::process::Command::new(env("RUSTC"));
    rustc
        .args([
            "--crate-type=bin",
            "--crate-name=link_probe",
            "--target",
            &env("TARGET"),
            "-o",
        ])
        .arg(out.join("link_probe"))
        .arg(&source);
    rustc.args(
        env("CARGO_ENCODED_RUSTFLAGS")
            .split('\x1f')
            .filter(|flag| !flag.is_empty()),
    );
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        rustc.arg(format!("-Clinker={linker}"));
    }
    rustc.args(link_args.iter().map(|arg| format!("-Clink-arg={arg}")));
    rustc
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
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
