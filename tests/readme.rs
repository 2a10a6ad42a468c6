//! Every `sh` block of README.md runs, in order, with bash (`-euo pipefail`) in a scratch copy of
//! `examples/`, `bases/`, `overlays/` and `deploy/`, with the binary under test and the real tools of
//! `.tools/bin` first on PATH. A block that cannot run here is marked on the line before its fence:
//! `<!-- readme-test: skip: REASON -->`. The test prints how many it ran and which it skipped, and
//! fails if a block fails or if the README has no block left to run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SKIP_MARKER: &str = "<!-- readme-test: skip:";

struct Block {
    /// The heading it is under and its line, for messages.
    name: String,
    script: String,
    skip: Option<String>,
}

fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut heading = String::from("(top)");
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        if line.starts_with('#') && !line.starts_with("#!") {
            heading = line.trim_start_matches('#').trim().to_owned();
        }
        let fence = line.trim_start();
        if let Some(info) = fence.strip_prefix("```") {
            let start = index;
            let end = (index + 1..lines.len())
                .find(|&i| lines[i].trim_start().starts_with("```"))
                .unwrap_or_else(|| panic!("README line {}: unclosed fence", start + 1));
            if info.trim() == "sh" || info.trim() == "bash" {
                let skip = start
                    .checked_sub(1)
                    .map(|before| lines[before].trim())
                    .and_then(|before| before.strip_prefix(SKIP_MARKER))
                    .map(|reason| reason.trim_end_matches("-->").trim().to_owned());
                blocks.push(Block {
                    name: format!("{heading} (line {})", start + 1),
                    script: lines[start + 1..end].join("\n"),
                    skip,
                });
            }
            index = end + 1;
            continue;
        }
        index += 1;
    }
    blocks
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "cp -r {}", from.display());
}

fn workspace() -> PathBuf {
    let dir = repo_root().join("target/tmp/readme");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).unwrap();
    for part in ["examples", "bases", "overlays", "deploy"] {
        copy_dir(&repo_root().join(part), &dir.join(part));
    }
    dir
}

#[test]
fn the_readme_parser_sees_fences_and_skip_markers() {
    let text =
        "# A\n```sh\necho a\n```\n<!-- readme-test: skip: no cluster -->\n```sh\nkubectl x\n```\n```yaml\nk: v\n```\n";
    let found = blocks(text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].script, "echo a");
    assert_eq!(found[0].skip, None);
    assert_eq!(found[1].skip.as_deref(), Some("no cluster"));
    assert_eq!(found[1].name, "A (line 6)");
}

#[test]
fn every_shell_block_of_the_readme_runs() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let dir = workspace();
    // The real tools the blocks call (kustomize, kubectl, kpt), as the other end-to-end tests use them.
    for name in ["kustomize", "kubectl", "kpt"] {
        tool(name);
    }
    let path = format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        bin_dir().display(),
        repo_root().join(".tools/bin").display()
    );
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for block in blocks(&readme) {
        if let Some(reason) = &block.skip {
            skipped.push(format!("{}: {reason}", block.name));
            continue;
        }
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block.script])
            .current_dir(&dir)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", dir.join("home"))
            .output()
            .unwrap();
        if output.status.success() {
            ran.push(block.name);
        } else {
            failures.push(format!(
                "{} failed ({}):\n{}\n--- stdout:\n{}--- stderr:\n{}",
                block.name,
                output.status,
                block.script,
                stdout(&output),
                stderr(&output)
            ));
        }
    }
    println!("README: ran {} shell blocks: {}", ran.len(), ran.join("; "));
    println!("README: skipped {}:", skipped.len());
    for skip in &skipped {
        println!("  {skip}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran.len() >= 9, "only {} blocks ran", ran.len());
}

/// Every source file under `dir` (relative to the repository root) with one of `extensions`, recursively.
fn files_under(dir: &str, extensions: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![repo_root().join(dir)];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if extensions
                .iter()
                .any(|extension| path.extension().is_some_and(|e| e == *extension))
            {
                let relative = path.strip_prefix(repo_root()).unwrap();
                found.push(relative.display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// The README's layout block (under "The layout:") and ARCHITECTURE.md's module table name every source file,
/// and nothing that is not in the tree.
#[test]
fn the_layout_and_the_module_table_match_the_tree() {
    let readme = read("README.md");
    let layout = readme
        .split_once("The layout:\n\n```\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("the README's layout block");
    let mut listed: Vec<String> = Vec::new();
    for line in layout.lines().filter(|line| !line.starts_with(' ')) {
        // The first word is a path; `bases/, overlays/` names two.
        for word in line.split_whitespace() {
            listed.push(word.trim_end_matches(',').to_owned());
            if !word.ends_with(',') {
                break;
            }
        }
    }
    for path in &listed {
        assert!(
            repo_root().join(path).exists(),
            "README layout lists {path}, which is not in the tree"
        );
    }
    let covered = |file: &str| {
        listed
            .iter()
            .any(|path| path == file || (path.ends_with('/') && file.starts_with(path.as_str())))
    };
    let mut files = files_under("src", &["rs", "sh"]);
    files.extend(files_under("tests", &["rs"]));
    for file in &files {
        assert!(covered(file), "README layout does not list {file}");
    }

    // ARCHITECTURE.md: one row per module, named relative to src/ (`generate/service.rs`, `policy.rs`, ...: the
    // later names of a row share the first one's directory).
    let architecture = read("ARCHITECTURE.md");
    let mut modules: Vec<String> = Vec::new();
    for row in architecture.lines().filter(|line| line.starts_with("| `")) {
        let cell = row.split('|').nth(1).unwrap_or_default();
        let mut directory = String::new();
        for name in cell.split('`').skip(1).step_by(2) {
            if let Some((dir, _)) = name.rsplit_once('/') {
                directory = format!("{dir}/");
                modules.push(format!("src/{name}"));
            } else {
                modules.push(format!("src/{directory}{name}"));
            }
        }
    }
    for module in &modules {
        let path = module.trim_end_matches("*.sh");
        assert!(
            repo_root().join(path).exists(),
            "ARCHITECTURE.md lists {module}, which is not in the tree"
        );
    }
    for file in files.iter().filter(|file| file.starts_with("src/")) {
        let listed = modules.iter().any(|module| {
            module == file
                || module
                    .strip_suffix("*.sh")
                    .is_some_and(|dir| file.starts_with(dir) && file.ends_with(".sh"))
        });
        assert!(listed, "ARCHITECTURE.md's module table has no row for {file}");
    }
}
