//! The pass-through oracle (tests/lossless/oracle.py): several thousand adversarial but valid items, generated
//! deterministically, through the function, each checked by two YAML implementations that share no code with
//! libyaml (which serde_norway, the function's parser, is a port of): PyYAML's pure-Python loader read as kubectl's
//! YAML 1.1, and ruamel.yaml (pure) as YAML 1.2 and as YAML 1.1. Meaning kept, order kept, copied items copied as
//! they came in, f(f(x)) == f(x). The readers live in the tools venv that scripts/install-tools.sh makes.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    let python = common::repo_root().join(".tools/venv/bin/python");
    let imports = Command::new(&python)
        .args(["-c", "import yaml, ruamel.yaml"])
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        imports,
        "{} with PyYAML and ruamel.yaml is missing: run scripts/install-tools.sh",
        python.display()
    );
    python
}

fn oracle(function: &[&str], items: usize, seed: u64) -> (bool, String) {
    let output = Command::new(python())
        .arg(common::repo_root().join("tests/lossless/oracle.py"))
        .args(function)
        .args(["--items", &items.to_string(), "--seed", &seed.to_string()])
        .output()
        .expect("the oracle runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn pass_through_items_keep_their_meaning_for_yaml_1_1_and_1_2_readers() {
    let binary = assert_cmd::cargo::cargo_bin!("ignition-krm");
    let (passed, report) = oracle(&[binary.to_str().unwrap()], 3000, 11);
    assert!(passed, "the oracle found items the function changed:\n{report}");
    eprintln!("{report}");
    assert!(report.contains("copied as they came in"), "{report}");
}

#[test]
fn the_oracle_finds_what_a_re_serializing_function_loses() {
    let python = python();
    let lossy = common::repo_root().join("tests/lossless/lossy_function.py");
    let command = format!("{} {}", python.display(), lossy.display());
    let (passed, report) = oracle(&["--command", &command], 300, 3);
    assert!(
        !passed,
        "the oracle passed a function that re-writes every item:\n{report}"
    );
    // PyYAML writes `y` plain (a boolean to kubectl), floats as `1e+300` (a string to YAML 1.1), ...
    assert!(
        report.contains("reads it differently after the function"),
        "no change of meaning found in:\n{report}"
    );
}
