//! Golden cases: `testdata/<case>/input.yaml` through the KRM function must give exactly
//! `expected.yaml` on stdout and `expected.stderr` on stderr (empty when the file is missing), with
//! exit code 1 when there is anything on stderr and 0 otherwise.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the expected files; review the diff.

mod common;

use std::fs;
use std::path::Path;

use common::{diff, repo_root, run_function, stderr, stdout};

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let root = repo_root().join("tests/testdata");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .expect("tests/testdata exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the golden cases under {}, found {}",
        root.display(),
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(failure) = check_case(case, update) {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn check_case(case: &Path, update: bool) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let input = fs::read_to_string(case.join("input.yaml")).map_err(|e| format!("{name}: input.yaml: {e}"))?;
    let output = run_function(&input);
    let (actual_stdout, actual_stderr) = (stdout(&output), stderr(&output));
    // Exit codes: 0 ok, 2 invalid input (README, "Exit codes").
    let expected_code = if actual_stderr.is_empty() { 0 } else { 2 };
    if update {
        fs::write(case.join("expected.yaml"), &actual_stdout).unwrap();
        let stderr_file = case.join("expected.stderr");
        if actual_stderr.is_empty() {
            let _ = fs::remove_file(stderr_file);
        } else {
            fs::write(stderr_file, &actual_stderr).unwrap();
        }
    }
    let expected_stdout = fs::read_to_string(case.join("expected.yaml")).unwrap_or_default();
    let expected_stderr = fs::read_to_string(case.join("expected.stderr")).unwrap_or_default();
    let mut problems = Vec::new();
    if actual_stdout != expected_stdout {
        problems.push(format!("stdout differs:\n{}", diff(&expected_stdout, &actual_stdout)));
    }
    if actual_stderr != expected_stderr {
        problems.push(format!("stderr differs:\n{}", diff(&expected_stderr, &actual_stderr)));
    }
    if output.status.code() != Some(expected_code) {
        problems.push(format!(
            "exit code {:?}, expected {expected_code}",
            output.status.code()
        ));
    }
    if name.starts_with("error-") && expected_stderr.is_empty() {
        problems.push("an error case must fail with a message on stderr".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("--- case {name}:\n{}", problems.join("\n")))
    }
}
