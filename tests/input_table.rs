//! The README's table of inputs ("Input, line by line"), line by line, against the real kustomize 4.5.4 and the
//! function: each line's input, as an item's `data:` entries, is refused by both or accepted by both. A refusal is
//! one line on stderr that names the item and the problem, with nothing on stdout. An accepted item is copied as it
//! came in; where it aliases into another item, so that it is written from its value, kustomize reads the written
//! item as it read the input (and as the table says).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{read, repo_root, stderr, stdout, tool};
use serde_norway::Value;

struct Line {
    /// The `data:` entries, one per line, unescaped.
    input: String,
    /// `refused`, or what kustomize prints for the first entry's value (`the ...` when the table only describes it).
    kustomize: String,
    /// `accepted`, or `refused: ` and a part of the error line in backticks.
    function: String,
}

/// `\n`, `\t`, `\|` and `\u{..}` in a table cell.
fn unescape(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('|') => out.push('|'),
            Some('u') => {
                let code: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&code, 16).unwrap()).unwrap());
            }
            other => panic!("unknown escape \\{other:?} in {cell}"),
        }
    }
    out
}

fn table() -> Vec<Line> {
    let readme = read("README.md");
    let start = readme
        .find("<!-- input-table: start -->")
        .expect("the README has the input table");
    let end = readme.find("<!-- input-table: end -->").expect("the input table ends");
    readme[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            // Cells are split at `|` not escaped as `\|`.
            let mut cells = Vec::new();
            let mut cell = String::new();
            let mut previous = ' ';
            for c in line.trim().trim_matches('|').chars() {
                if c == '|' && previous != '\\' {
                    cells.push(cell.trim().to_owned());
                    cell.clear();
                } else {
                    cell.push(c);
                }
                previous = c;
            }
            cells.push(cell.trim().to_owned());
            assert_eq!(cells.len(), 3, "README input table line: {line}");
            Line {
                input: unescape(cells[0].trim_matches('`')),
                kustomize: cells[1].clone(),
                function: cells[2].clone(),
            }
        })
        .collect()
}

fn indent(text: &str, by: usize) -> String {
    text.lines().map(|line| format!("{}{line}\n", " ".repeat(by))).collect()
}

/// Three items: one with an anchor, the line's entries in an item of their own (copied), and again in an item that
/// aliases into the first (written from its value).
fn items(input: &str) -> String {
    let item = |name: &str, data: &str| {
        format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: {name}\n  data:\n{}",
            indent(data, 4)
        )
    };
    format!(
        "{}{}{}",
        item("anchor", "s: &s x"),
        item("copied", input),
        item("aliased", &format!("shared: *s\n{input}"))
    )
}

fn kustomize_build(dir: &Path, list: &str) -> Output {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), "resources:\n- list.yaml\n").unwrap();
    std::fs::write(dir.join("list.yaml"), list).unwrap();
    Command::new(tool("kustomize"))
        .arg("build")
        .arg(dir)
        .output()
        .expect("kustomize runs")
}

/// The ConfigMaps `name` of kustomize's output, by name.
fn config_map(output: &str, name: &str) -> Option<Value> {
    use serde::Deserialize;
    serde_norway::Deserializer::from_str(output)
        .map(|document| Value::deserialize(document).expect("kustomize prints YAML"))
        .find(|object| object["kind"] == "ConfigMap" && object["metadata"]["name"] == name)
}

fn spec() -> String {
    let input = read("tests/testdata/failover-8.3/input.yaml");
    input[input.find("functionConfig:").unwrap()..].to_owned()
}

fn check(line: &Line, dir: &Path, spec: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let items = items(&line.input);
    let built = kustomize_build(dir, &format!("apiVersion: v1\nkind: List\nitems:\n{items}"));
    let refused = line.kustomize == "refused";
    if built.status.success() == refused {
        problems.push(format!(
            "kustomize {} it: {}",
            if refused { "accepts" } else { "refuses" },
            stderr(&built).trim()
        ));
    }
    let input = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}{spec}");
    let run = common::run_function(&input);
    let (out, err) = (stdout(&run), stderr(&run));
    if let Some(part) = line.function.strip_prefix("refused: ") {
        let part = part.trim_matches('`');
        let lines: Vec<&str> = err.lines().collect();
        // On stdout nothing but a ResourceList with no item and that error as its one result.
        let list: Value = serde_norway::from_str(&out).unwrap_or(Value::Null);
        let results = list["results"].as_sequence().map_or(0, Vec::len);
        let answer = out.is_empty()
            || (list["items"].as_sequence().is_some_and(Vec::is_empty)
                && results == 1
                && list["results"][0]["severity"] == "error");
        if run.status.code() != Some(2) || !answer || lines.len() != 1 {
            problems.push(format!(
                "not one refusal (exit {:?}, stdout {out:?}): {err}",
                run.status.code()
            ));
        } else if !lines[0].starts_with("ignition-krm: error: ")
            || !lines[0].contains(part)
            || !lines[0].contains("item 1 (ConfigMap copied)")
        {
            problems.push(format!(
                "the refusal does not say {part:?} in item 1 (ConfigMap copied): {}",
                lines[0]
            ));
        }
        return problems;
    }
    assert_eq!(line.function, "accepted", "README input table: the function column");
    if !run.status.success() {
        problems.push(format!("refused: {}", err.trim()));
        return problems;
    }
    let copied = &items[items
        .find("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: copied\n")
        .unwrap()
        ..items
            .find("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: aliased\n")
            .unwrap()];
    if !out.contains(copied) {
        problems.push(format!("not copied as it came in:\n{out}"));
    }
    if refused || !built.status.success() {
        return problems;
    }
    // kustomize's reading of the items the function wrote, against its reading of the input.
    let written = out.replacen(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n",
        "apiVersion: v1\nkind: List\n",
        1,
    );
    let rebuilt = kustomize_build(dir, &written);
    if !rebuilt.status.success() {
        problems.push(format!("kustomize refuses the output: {}", stderr(&rebuilt).trim()));
        return problems;
    }
    let (before, after) = (stdout(&built), stdout(&rebuilt));
    for name in ["copied", "aliased"] {
        let (want, got) = (config_map(&before, name), config_map(&after, name));
        if want.is_none() || want != got {
            problems.push(format!(
                "kustomize reads {name} as {got:?} after the function, {want:?} before"
            ));
        }
    }
    // What kustomize reads the value as, as the table says.
    if !line.kustomize.starts_with("the ") {
        let key = line.input.split(':').next().unwrap().trim();
        let want: Value = serde_norway::from_str(&line.kustomize).unwrap();
        let got = config_map(&before, "copied").map(|object| object["data"][key].clone());
        if got.as_ref() != Some(&want) {
            problems.push(format!("kustomize reads {key} as {got:?}, the table says {want:?}"));
        }
    }
    problems
}

#[test]
fn every_line_of_the_readme_input_table_holds_for_kustomize_and_the_function() {
    let lines = table();
    assert!(lines.len() >= 30, "the README input table has {} lines", lines.len());
    let spec = spec();
    let dir = repo_root().join("target/tmp/input-table");
    let mut failures = Vec::new();
    for line in &lines {
        let problems = check(line, &dir, &spec);
        if !problems.is_empty() {
            failures.push(format!("{:?}:\n  {}", line.input, problems.join("\n  ")));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        failures.is_empty(),
        "{} of {} lines fail:\n{}",
        failures.len(),
        lines.len(),
        failures.join("\n")
    );
}

/// The harness can fail: a line whose outcome is written the other way round is found.
#[test]
fn a_wrong_line_is_found() {
    let dir = repo_root().join("target/tmp/input-table-wrong");
    let spec = spec();
    let wrong = [
        Line {
            input: "a: !!int 1.5".into(),
            kustomize: "1.5".into(),
            function: "accepted".into(),
        },
        Line {
            input: "a: !!int 0644".into(),
            kustomize: "644".into(),
            function: "accepted".into(),
        },
        Line {
            input: "a: 1".into(),
            kustomize: "refused".into(),
            function: "refused: `x`".into(),
        },
    ];
    for line in &wrong {
        assert!(!check(line, &dir, &spec).is_empty(), "{:?} passed", line.input);
    }
    std::fs::remove_dir_all(&dir).ok();
}
