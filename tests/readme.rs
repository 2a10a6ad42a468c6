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
