//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses its own part of these helpers

pub mod scripts;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_norway::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test.
pub fn ignition_krm() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("ignition-krm"))
}

/// Runs the KRM function on `input`.
pub fn run_function(input: &str) -> Output {
    ignition_krm()
        .write_stdin(input.as_bytes().to_vec())
        .output()
        .expect("the binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

pub fn parse(text: &str) -> Value {
    serde_norway::from_str(text).unwrap_or_else(|error| panic!("not YAML ({error}):\n{text}"))
}

/// The non-empty documents of a multi-document YAML text, read by the library's own reader (the one the binary
/// uses for its input files).
pub fn documents(text: &str) -> Vec<Value> {
    ignition_krm::io::documents(text).unwrap_or_else(|error| panic!("not YAML ({error}):\n{text}"))
}

pub fn read(path: impl AsRef<Path>) -> String {
    let path = repo_root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// A ResourceList as kustomize sends it for a generator: the spec as functionConfig and as an item.
pub fn kustomize_input(spec_path: &str) -> String {
    let spec = parse(&read(spec_path));
    let mut item = spec.clone();
    let annotations = item["metadata"]["annotations"]
        .as_mapping_mut()
        .expect("the spec has annotations");
    annotations.insert("config.kubernetes.io/local-config".into(), "true".into());
    annotations.insert("config.kubernetes.io/index".into(), "0".into());
    annotations.insert("internal.config.kubernetes.io/index".into(), "0".into());
    annotations.insert("internal.config.kubernetes.io/id".into(), "1".into());
    annotations.insert("config.k8s.io/id".into(), "1".into());
    let list = serde_norway::to_value(serde_norway::Mapping::from_iter([
        ("apiVersion".into(), "config.kubernetes.io/v1".into()),
        ("kind".into(), "ResourceList".into()),
        ("items".into(), Value::Sequence(vec![item])),
        ("functionConfig".into(), spec),
    ]))
    .unwrap();
    serde_norway::to_string(&list).unwrap()
}

/// The items of an output ResourceList.
pub fn items(list: &Value) -> Vec<Value> {
    list["items"].as_sequence().cloned().unwrap_or_default()
}

/// The generated objects (those with the owner annotation) of an output ResourceList.
pub fn generated(list: &Value) -> Vec<Value> {
    items(list)
        .into_iter()
        .filter(|item| !item["metadata"]["annotations"]["ignition.krm.dev/owner"].is_null())
        .collect()
}

pub fn kind_and_name(object: &Value) -> (String, String) {
    (
        object["kind"].as_str().unwrap_or_default().to_owned(),
        object["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
    )
}

pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|object| kind_and_name(object) == (kind.to_owned(), name.to_owned()))
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {name} among {:?}",
                objects.iter().map(kind_and_name).collect::<Vec<_>>()
            )
        })
}

/// Asserts a refusal of a command that prints plain output (`manifests`, `validate`, `render`, `init`,
/// `argocd-generate`): exit 2, nothing on stdout, and on stderr exactly one `ignition-krm: error: ` line per entry
/// of `wanted`, line by line containing it (a field path, a message). Returns stderr for further checks.
#[track_caller]
pub fn assert_refused(output: &Output, wanted: &[&str]) -> String {
    let errors = stderr(output);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr:\n{errors}");
    assert!(
        output.stdout.is_empty(),
        "stdout must stay empty on a refusal, found:\n{}",
        stdout(output)
    );
    assert_error_lines(&errors, wanted);
    errors
}

/// Asserts a refusal of the KRM function: exit 2; on stdout a `config.kubernetes.io/v1` ResourceList with no
/// generated object and one error result per line of stderr; on stderr exactly one `ignition-krm: error: ` line
/// per entry of `wanted`, line by line containing it. Returns the ResourceList.
#[track_caller]
pub fn assert_refused_krm(output: &Output, wanted: &[&str]) -> Value {
    let errors = stderr(output);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr:\n{errors}");
    let list = parse(&stdout(output));
    assert_eq!(
        list["apiVersion"], "config.kubernetes.io/v1",
        "stdout is a v1 ResourceList"
    );
    assert_eq!(list["kind"], "ResourceList", "stdout is a ResourceList");
    assert!(generated(&list).is_empty(), "nothing is generated on a refusal");
    let results = list["results"].as_sequence().cloned().unwrap_or_default();
    assert_eq!(results.len(), wanted.len(), "one result per problem: {results:?}");
    assert!(
        results.iter().all(|result| result["severity"] == "error"),
        "every result is an error: {results:?}"
    );
    assert_error_lines(&errors, wanted);
    list
}

#[track_caller]
fn assert_error_lines(errors: &str, wanted: &[&str]) {
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), wanted.len(), "one stderr line per problem:\n{errors}");
    for (line, wanted) in lines.iter().zip(wanted) {
        assert!(
            line.starts_with("ignition-krm: error: ") && line.contains(wanted),
            "stderr line {line:?} does not say {wanted:?}"
        );
    }
}

/// A readable diff for assertion messages.
pub fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("expected", "actual")
        .to_string()
}

/// A real tool installed by `scripts/install-tools.sh` into `.tools/bin`. Missing tools fail the
/// test: CI must not pass by skipping them.
pub fn tool(name: &str) -> PathBuf {
    let path = repo_root().join(".tools/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test.sh (it installs the real tools into .tools/)",
        path.display()
    );
    path
}

/// A directory with the binary under test as `ignition-krm`, to put first on PATH.
pub fn bin_dir() -> PathBuf {
    let binary = PathBuf::from(assert_cmd::cargo::cargo_bin!("ignition-krm"));
    binary.parent().expect("the binary has a directory").to_path_buf()
}

pub fn path_with_binary() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{}:{path}", bin_dir().display())
}
