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

/// An item whose alias points into another item is copied with each such alias replaced by the text of the node it
/// names (the latest anchor of a name, even where serde_norway 0.9.42 resolves a reused name to another node), so
/// that every reader reads it as it read the node: `0644` stays 420 to kubectl. Where the node is a block
/// collection, the item is written from its value, in a form YAML 1.1 (kubectl) and 1.2 read alike, with the
/// aliases resolved and merge keys applied.
#[test]
fn items_that_alias_into_other_items_are_written_resolved_and_unambiguous() {
    let input = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: a}}\n  data: &d {{mode: '0644', yes: 'y', big: 1.5e300, odd: \"\\uFFFE\", tab: \"\\tx\\ny\"}}\n  other: &d {{k: v}}\n  m: &m {{p: '1'}}\n  o: &o 0644 # octal\n  block: &b\n    x: 0644\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: b}}\n  data: *d\n  merged:\n    <<: *m\n    q: '2'\n  octal: *o\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: c}}\n  data: *d\n  merged:\n    <<: *m\n    q: '2'\n  block: *b\n{}",
        spec()
    );
    let output = run_ok(&input);
    let inlined =
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n  data: {k: v}\n  merged:\n    <<: {p: '1'}\n    \
                   q: '2'\n  octal: 0644\n";
    assert!(output.contains(inlined), "{output}");
    let third = &output[output
        .find("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n")
        .expect(&output)..];
    let third = &third[..third[1..].find("\n- ").unwrap() + 2];
    assert_eq!(
        third,
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n    k: v\n  merged:\n    p: \"1\"\n    \
         q: \"2\"\n  block:\n    x: \"0644\"\n"
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

/// Explicitly tagged scalars that kustomize 4.5.4 accepts (`kustomize build` of a file holding each: `!!int 0644`
/// is 420, `!!null` on an empty value null, `!!float 1_000.5` 1000.5) pass through: copied as they came in, and,
/// where their item must be written from its value, written as the number or null kustomize and kubectl read,
/// the same to YAML 1.1 and 1.2 readers. The function's own config reads them the same way.
#[test]
fn tagged_scalars_kustomize_accepts_pass_through_with_their_meaning() {
    let data = "    mode: !!int 0644\n    quoted: !!int \"0644\"\n    hex: !!int 0x1F\n    under: !!int 1_000\n    \
                float: !!float 0644\n    decimal: !!float 1_000.5\n    whole: !!float 1\n    empty: !!null\n    \
                tilde: !!null ~\n    string: !!str 0644\n    bool: !!bool True\n    verbatim: !<tag:yaml.org,2002:int> 0644\n";
    let item = format!("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: tagged\n  data:\n{data}");
    let plain = spec();
    let spec = plain.replace("version: \"8.3.3\"", "version: !!str 8.3.3");
    assert_ne!(spec, plain);
    let copied = run_ok(&format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{item}{spec}"
    ));
    assert!(copied.contains(&item), "not copied:\n{copied}");

    // Aliasing into a block mapping of an earlier item, the item is written from its value.
    let aliased = item.replace("  data:\n", "  data:\n    shared: *s\n");
    let output = run_ok(&format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: first\n  data:\n    s: &s\n      k: v\n{aliased}{spec}"
    ));
    let written = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: tagged\n  data:\n    shared:\n      k: v\n    \
                   mode: 420\n    quoted: 420\n    hex: 31\n    under: 1000\n    float: 420.0\n    decimal: 1000.5\n    \
                   whole: 1.0\n    empty: null\n    tilde: null\n    string: \"0644\"\n    bool: true\n    verbatim: 420\n";
    assert!(output.contains(written), "not written as kustomize reads it:\n{output}");

    // A tag inside a quoted scalar, a comment or a block scalar is text.
    let text = "    a: '!!int 0644'\n    b: x # !!int 0644\n    c: |\n      !!int 0644\n    d: !!int 1\n";
    let item = format!("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: text\n  data:\n{text}");
    let list = ignition_krm::krm::read(&format!(
        "kind: ResourceList\napiVersion: config.kubernetes.io/v1\nitems:\n{item}"
    ))
    .unwrap();
    let data = &list.items[0]["data"];
    assert_eq!(data["a"], Value::from("!!int 0644"));
    assert_eq!(data["b"], Value::from("x"));
    assert_eq!(data["c"], Value::from("!!int 0644\n"));
    assert_eq!(data["d"], Value::from(1));
}
