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
