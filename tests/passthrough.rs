//! The hidden `passthrough` subcommand, the benchmark floor: it must read and write exactly what the function
//! reads and writes for items it does not own, and generate nothing.

mod common;

use common::{ignition_krm, parse, read, stdout};
use serde_norway::Value;

#[test]
fn passthrough_writes_the_items_back_and_generates_nothing() {
    let input = read("tests/testdata/failover-8.3/input.yaml");
    let output = ignition_krm()
        .arg("passthrough")
        .write_stdin(input.as_bytes().to_vec())
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let written = parse(&stdout(&output));
    let given = parse(&input);
    assert_eq!(written["kind"], Value::from("ResourceList"));
    assert_eq!(written["items"], given["items"]);
    assert!(written.get("functionConfig").is_none() && written.get("results").is_none());

    // The function writes the same pass-through item, byte for byte, before its generated objects.
    let function = stdout(&common::run_function(&input));
    let passthrough = stdout(&output);
    let items = passthrough
        .strip_prefix("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n")
        .unwrap();
    assert!(function.contains(items), "passthrough output:\n{passthrough}");
}

#[test]
fn passthrough_refuses_what_the_function_refuses() {
    let output = ignition_krm()
        .arg("passthrough")
        .write_stdin(b"kind: Deployment\n".to_vec())
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(common::stderr(&output).contains("expected kind ResourceList"));
}

/// The spec of tests/testdata/failover-8.3, as the function config after the items.
fn spec() -> String {
    let input = read("tests/testdata/failover-8.3/input.yaml");
    input[input.find("functionConfig:").unwrap()..].to_owned()
}

fn run_ok(input: &str) -> String {
    let output = common::run_function(input);
    assert!(output.status.success(), "{}", common::stderr(&output));
    stdout(&output)
}

/// Items the function does not own leave as the bytes they came in with: comments, quoting, styles, and the
/// scalars YAML 1.1 and 1.2 read differently (`0644` is 420 to kubectl, a string to serde_norway).
#[test]
fn block_items_are_copied_byte_for_byte() {
    let items = [
        // kyaml's compact style, with everything a re-write would lose.
        "- apiVersion: v1   # a comment\n  kind: Pod\n  metadata: {name: p, annotations: {config.kubernetes.io/index: '0'}}\n  spec:\n    volumes:\n    - name: v\n      secret: {secretName: s, defaultMode: 0644}\n    x-big: 123456789012345678901234567890\n    x-under: 1_000\n    x-float: 1e3\n    x-yn: [y, n, 'y', \"n\"]\n    x-tags: [!!binary aGVsbG8=, ! 12, !<tag:example.com,2000:x> v, !foo x]\n    x-empty-tag: !foo\n    x-anchor: &a {k: v}\n    x-alias: *a\n    x-reused: &a 2\n    x-alias2: *a\n    x-merge: {<<: *a, z: 1}\n    x-folded: >\n      one\n      two\n\n    x-kept: |+\n      kept\n\n",
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: \"quoted\"\n  data: {escaped: \"\\uFFFE \\t\", plain: 2001-12-14}\n",
    ];
    for indent in ["", "  "] {
        let body: String = items
            .iter()
            .map(|item| item.lines().map(|line| format!("{indent}{line}\n")).collect::<String>())
            .collect();
        let input = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{body}{}",
            spec()
        );
        let output = run_ok(&input);
        assert!(
            output.starts_with(&format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{body}"
            )),
            "items at indent {indent:?} were not copied:\n{output}"
        );
        // The generated objects follow at the items' own indentation, and a second run changes nothing.
        assert!(
            output.contains(&format!("\n{indent}- apiVersion: apps/v1\n")),
            "{output}"
        );
        assert_eq!(run_ok(&format!("{output}{}", spec())), output);
    }
}

/// A byte-order mark may start a YAML stream, directly before the first key too.
#[test]
fn a_byte_order_mark_before_the_first_key_is_read() {
    let input = format!(
        "\u{feff}apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: a}}\n{}",
        spec()
    );
    let output = run_ok(&input);
    assert!(output.starts_with("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"), "{output}");
}

/// An item whose alias points into another item cannot be copied: it is written from its value, in a form that
/// YAML 1.1 (kubectl) and 1.2 read alike, with the aliases resolved as YAML says (the latest anchor of a name, even
/// where serde_norway 0.9.42 resolves a reused name to another node) and merge keys applied.
#[test]
fn items_that_alias_into_other_items_are_written_resolved_and_unambiguous() {
    let input = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: a}}\n  data: &d {{mode: '0644', yes: 'y', big: 1.5e300, odd: \"\\uFFFE\", tab: \"\\tx\\ny\"}}\n  other: &d {{k: v}}\n  m: &m {{p: '1'}}\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: b}}\n  data: *d\n  merged:\n    <<: *m\n    q: '2'\n{}",
        spec()
    );
    let output = run_ok(&input);
    let second = &output[output
        .find("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n")
        .expect(&output)..];
    let second = &second[..second[1..].find("\n- ").unwrap() + 2];
    assert_eq!(
        second,
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n  data:\n    k: v\n  merged:\n    p: \"1\"\n    q: \"2\"\n"
    );
    // The first item is copied; its value, had it to be written, would be unambiguous too.
    let list = ignition_krm::krm::read(&input).unwrap();
    let written = ignition_krm::yaml::to_string(&list.items[0]);
    for part in [
        "mode: \"0644\"",
        "\"yes\": \"y\"",
        "big: 1.5e+300",
        "odd: \"\\ufffe\"",
        "tab: \"\\tx\\ny\"",
    ] {
        assert!(written.contains(part), "{part} not in\n{written}");
    }
}

/// Integers beyond 64 bits, which kustomize accepts, pass through: copied from YAML, written as digits from JSON.
#[test]
fn integers_beyond_64_bits_pass_through() {
    let json = r#"{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"big": 123456789012345678901234567890, "negative": -99999999999999999999}}]}"#;
    let list = ignition_krm::krm::read(json).unwrap();
    let output = ignition_krm::krm::write_with_source(&list.items, &list.source, &[]);
    assert!(
        output.contains("    big: 123456789012345678901234567890\n    negative: -99999999999999999999\n"),
        "{output}"
    );
}
