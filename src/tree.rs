//! The disk side of `render`: finding the specs, comparing the rendered tree with the output
//! directory, writing it, and reporting or pruning what no spec renders any more.
//!
//! `render` only ever removes files that start with [`render::HEADER`]: a file the user put in the
//! tree (an overlay's `extras/`) is never touched, and a directory is removed only once empty.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use crate::error::{located, Error, Status};
use crate::fleet::{self, FleetArgs};
use crate::io::{self, documents, read_file, yaml_files};
use crate::object_id::ObjectId;
use crate::render::{self, SpecSource, Tree, EXTRAS, HEADER};
use crate::spec;

/// How `render` was asked to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write { fail_on_change: bool, prune: bool },
    Check { json: bool },
}

/// `render`: builds the tree in memory, then writes it or compares it with the disk.
///
/// With `--fleet`, the tree is the fleet's ([`fleet::render`]), written and checked the same way.
pub fn render(inputs: &[PathBuf], out: &Path, mode: Mode, fleet: &FleetArgs) -> Result<Status, Error> {
    let specs = find_specs(inputs, out)?;
    let tree = if fleet.kinds.is_empty() {
        fleet::refuse_unused(fleet).map_err(Error::Invalid)?;
        let has_extras = |dir: &str| out.join(dir).join(EXTRAS).join("kustomization.yaml").is_file();
        render::render_with_extras(&specs, &has_extras)
    } else {
        fleet::render(&specs, fleet, &out.to_string_lossy())
    }
    .map_err(Error::Invalid)?;
    let drift = compare(&tree, out)?;
    let status = match mode {
        Mode::Check { json } => check(&tree, &drift, out, json),
        Mode::Write { fail_on_change, prune } => write(&tree, &drift, out, fail_on_change, prune),
    };
    // The process ends here: freeing tens of thousands of files and spec trees one by one took some 9% of a
    // 1,000-site check (BENCHMARKS.md), and the kernel takes the memory back at once.
    std::mem::forget((tree, drift, specs));
    status
}

fn check(tree: &Tree, drift: &Drift, out: &Path, json: bool) -> Result<Status, Error> {
    let clean = drift.is_clean();
    if json {
        let report = serde_json::json!({
            "out": out.display().to_string(),
            "clean": clean,
            "files": tree.len(),
            "changed": drift.changed.keys().map(|path| out.join(path).display().to_string()).collect::<Vec<_>>(),
            "missing": drift.missing.iter().map(|path| out.join(path).display().to_string()).collect::<Vec<_>>(),
            "stray": drift.stray.iter().map(|path| out.join(path).display().to_string()).collect::<Vec<_>>(),
            "orphanedSites": drift.orphans.keys().map(|site| out.join(site).display().to_string()).collect::<Vec<_>>(),
            "orphanedFiles": drift.orphans.values().flatten().map(|path| out.join(path).display().to_string()).collect::<Vec<_>>(),
        });
        let text =
            serde_json::to_string_pretty(&report).unwrap_or_else(|error| unreachable!("JSON of strings: {error}"));
        io::emit(&format!("{text}\n"))?;
    } else {
        let colour =
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
        let mut text = String::new();
        for (path, actual) in &drift.changed {
            let expected = String::from_utf8_lossy(&tree[path]);
            let actual = String::from_utf8_lossy(actual);
            let on_disk = out.join(path).display().to_string();
            let diff = similar::TextDiff::from_lines(actual.as_ref(), expected.as_ref())
                .unified_diff()
                .header(&on_disk, &format!("{on_disk} (rendered)"))
                .to_string();
            text.push_str(&if colour { coloured(&diff) } else { diff });
        }
        for path in &drift.missing {
            text.push_str(&format!("missing: {}\n", out.join(path).display()));
        }
        for path in &drift.stray {
            text.push_str(&format!("stray: {}\n", out.join(path).display()));
        }
        for (site, files) in &drift.orphans {
            text.push_str(&format!(
                "orphaned: {} ({} generated files; no spec renders site {site:?}: deleted, renamed, or its kind misspelt)\n",
                out.join(site).display(),
                files.len()
            ));
        }
        io::emit(&text)?;
    }
    if clean {
        eprintln!(
            "ignition-krm render --check: {} files up to date in {}",
            tree.len(),
            out.display()
        );
        Ok(Status::Ok)
    } else {
        let hint = if drift.orphans.is_empty() {
            "run ignition-krm render without --check"
        } else {
            "run ignition-krm render --prune"
        };
        eprintln!(
            "ignition-krm render --check: drift in {}: {} changed, {} missing, {} stray, {} orphaned site directories; {hint}",
            out.display(),
            drift.changed.len(),
            drift.missing.len(),
            drift.stray.len(),
            drift.orphans.len()
        );
        Ok(Status::Drift)
    }
}

/// A diff line by line in the colours of `git diff`.
fn coloured(diff: &str) -> String {
    diff.lines()
        .map(|line| {
            let colour = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => "\x1b[32m",
                Some(b'-') if !line.starts_with("---") => "\x1b[31m",
                Some(b'@') => "\x1b[36m",
                Some(b'+' | b'-') => "\x1b[1m",
                _ => return format!("{line}\n"),
            };
            format!("{colour}{line}\x1b[0m\n")
        })
        .collect()
}

fn write(tree: &Tree, drift: &Drift, out: &Path, fail_on_change: bool, prune: bool) -> Result<Status, Error> {
    for path in drift.changed.keys().chain(drift.missing.iter()) {
        let file = out.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|error| Error::write(parent, "create", error))?;
        }
        std::fs::write(&file, &tree[path]).map_err(|error| Error::write(&file, "write", error))?;
    }
    let mut removed = drift.stray.clone();
    if prune {
        removed.extend(drift.orphans.values().flatten().cloned());
    }
    for path in &removed {
        let file = out.join(path);
        std::fs::remove_file(&file).map_err(|error| Error::write(&file, "remove", error))?;
        eprintln!("ignition-krm render: removed {}", file.display());
        remove_empty_parents(&file, out)?;
    }
    let written = drift.changed.len() + drift.missing.len();
    eprintln!(
        "ignition-krm render: {written} written, {} removed, {} unchanged in {}",
        removed.len(),
        tree.len() - written,
        out.display()
    );
    if !prune && !drift.orphans.is_empty() {
        for (site, files) in &drift.orphans {
            eprintln!(
                "ignition-krm render: {}: no spec renders site {site:?} (deleted, renamed, or its kind misspelt): {} generated files left; run ignition-krm render --prune to remove them",
                out.join(site).display(),
                files.len()
            );
        }
        return Ok(Status::Drift);
    }
    let changes = written + removed.len();
    Ok(if fail_on_change && changes > 0 {
        Status::Drift
    } else {
        Status::Ok
    })
}

/// Removes the directories above a removed file that are left empty, up to (not including) `out`.
fn remove_empty_parents(file: &Path, out: &Path) -> Result<(), Error> {
    let mut dir = file.parent();
    while let Some(current) = dir {
        if current == out || !current.starts_with(out) {
            break;
        }
        let empty = std::fs::read_dir(current)
            .map_err(|error| Error::read(current, error))?
            .next()
            .is_none();
        if !empty {
            break;
        }
        std::fs::remove_dir(current).map_err(|error| Error::write(current, "remove", error))?;
        dir = current.parent();
    }
    Ok(())
}

/// How the disk differs from a rendered tree.
#[derive(Default)]
struct Drift {
    /// Path to the content on disk.
    changed: BTreeMap<String, Vec<u8>>,
    missing: Vec<String>,
    /// Generated files under a rendered site's directory that the tree does not have.
    stray: Vec<String>,
    /// Site directories no spec renders, with the generated files in them.
    orphans: BTreeMap<String, Vec<String>>,
}

impl Drift {
    fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.stray.is_empty() && self.orphans.is_empty()
    }
}

/// What one file of the tree is on disk.
enum OnDisk {
    Same,
    Changed(Vec<u8>),
    Missing,
}

/// Compares the tree with `out`: its files are read and the site directories walked on all the cores, the
/// results put together in path order, so the report is the same however the work was split.
fn compare(tree: &Tree, out: &Path) -> Result<Drift, Error> {
    let mut drift = Drift::default();
    let files: Vec<(&String, &Vec<u8>)> = tree.iter().collect();
    let found = render::each_in_parallel(&files, |(path, content)| {
        let file = out.join(path);
        match differs(&file, content) {
            Ok(None) => Ok(OnDisk::Same),
            Ok(Some(bytes)) => Ok(OnDisk::Changed(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(OnDisk::Missing),
            Err(error) => Err(Error::read(&file, error)),
        }
    });
    for ((path, _), on_disk) in files.iter().zip(found) {
        match on_disk? {
            OnDisk::Same => {}
            OnDisk::Changed(bytes) => {
                drift.changed.insert((*path).clone(), bytes);
            }
            OnDisk::Missing => drift.missing.push((*path).clone()),
        }
    }
    let sites: BTreeSet<&str> = tree
        .keys()
        .filter_map(|path| path.split_once('/'))
        .map(|(site, _)| site)
        .collect();
    if !out.is_dir() {
        return Ok(drift);
    }
    let mut entries: Vec<_> = std::fs::read_dir(out)
        .map_err(|error| Error::read(out, error))?
        .collect::<Result<_, _>>()
        .map_err(|error| Error::read(out, error))?;
    entries.sort_by_key(|entry| entry.file_name());
    // The type read with the directory costs no system call; only a link is followed to see what it is.
    let is_dir = |entry: &std::fs::DirEntry| match entry.file_type() {
        Ok(kind) if kind.is_symlink() => entry.path().is_dir(),
        Ok(kind) => kind.is_dir(),
        Err(_) => entry.path().is_dir(),
    };
    let dirs: Vec<(String, PathBuf)> = entries
        .iter()
        .map(|entry| (entry.file_name().to_string_lossy().into_owned(), entry))
        .filter(|(name, entry)| !name.starts_with('.') && is_dir(entry))
        .map(|(name, entry)| (name, entry.path()))
        .collect();
    let walked = render::each_in_parallel(&dirs, |(_, dir)| generated_files(out, dir, tree));
    for ((name, _), generated) in dirs.into_iter().zip(walked) {
        let generated = generated?;
        if sites.contains(name.as_str()) {
            drift
                .stray
                .extend(generated.into_iter().filter(|path| !tree.contains_key(path)));
        } else if !generated.is_empty() {
            drift.orphans.insert(name, generated);
        }
    }
    Ok(drift)
}

thread_local! {
    /// The buffer each thread reads the tree's files into: one allocation per thread, not one per file.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The content of `path` if it is not `expected`; `None` if it is. The file is read into a buffer one byte
/// larger than `expected`, so a file of the expected size takes an open, two reads (the second finds the end)
/// and a close: no `stat` for its size, as `fs::read` makes, and no allocation.
fn differs(path: &Path, expected: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    READ_BUFFER.with_borrow_mut(|buffer| {
        buffer.resize(buffer.len().max(expected.len() + 1), 0);
        let room = &mut buffer[..=expected.len()];
        let mut filled = 0;
        while filled < room.len() {
            match file.read(&mut room[filled..]) {
                Ok(0) => break,
                Ok(count) => filled += count,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        if filled == expected.len() && room[..filled] == *expected {
            return Ok(None);
        }
        let mut bytes = room[..filled].to_vec();
        if filled == room.len() {
            // Longer than expected: the rest too, for the diff.
            file.read_to_end(&mut bytes)?;
        }
        Ok(Some(bytes))
    })
}

/// The files below `dir` that `render` wrote (they start with its header), relative to `out`. A file
/// of the tree is taken as written by it without opening it: it is compared byte for byte anyway.
fn generated_files(out: &Path, dir: &Path, tree: &Tree) -> Result<Vec<String>, Error> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|error| Error::read(dir, error.into()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(out).unwrap_or(entry.path());
        let relative = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if tree.contains_key(&relative) || starts_with_header(entry.path())? {
            files.push(relative);
        }
    }
    Ok(files)
}

fn starts_with_header(path: &Path) -> Result<bool, Error> {
    use std::io::Read;
    let mut start = vec![0; HEADER.len()];
    let mut file = std::fs::File::open(path).map_err(|error| Error::read(path, error))?;
    let mut filled = 0;
    while filled < start.len() {
        match file.read(&mut start[filled..]) {
            Ok(0) => return Ok(false),
            Ok(count) => filled += count,
            Err(error) => return Err(Error::read(path, error)),
        }
    }
    Ok(start == HEADER.as_bytes())
}

/// The specs in the given files, and in every YAML file below the given directories (the output
/// directory and hidden directories excluded), in path order. A document that looks like a spec
/// with its kind misspelt is an error, not skipped: its site would silently stop being rendered.
pub fn find_specs(inputs: &[PathBuf], out: &Path) -> Result<Vec<SpecSource>, Error> {
    // Every file to read, named or found, in order; then they are read and parsed on all the cores, and what
    // they hold put together in that order.
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(yaml_files(input, Some(out))?.into_iter().map(|file| (file, false)));
        } else {
            files.push((input.clone(), true));
        }
    }
    let mut specs = Vec::new();
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    for found in render::each_in_parallel(&files, |(file, named)| read_specs(file, *named)) {
        specs.extend(found.specs);
        resources.extend(found.resources);
        errors.extend(found.errors);
    }
    // Each GatewayResource goes with the spec its spec.site names.
    for resource in resources {
        let site = resource.object["spec"]["site"].as_str().unwrap_or_default().to_owned();
        match specs
            .iter_mut()
            .find(|spec| spec.object["metadata"]["name"].as_str() == Some(site.as_str()))
        {
            Some(spec) => spec.resources.push(resource),
            None => errors.push(located(
                &resource.file,
                format!(
                    "{} {}: spec.site: no {} is named {site:?} in the given files and directories",
                    spec::RESOURCE_KIND,
                    resource.object["metadata"]["name"].as_str().unwrap_or_default(),
                    spec::KIND
                ),
            )),
        }
    }
    if errors.is_empty() && specs.is_empty() {
        errors.push(format!("no {} found in the given files and directories", spec::KIND));
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// What one input file holds.
#[derive(Default)]
struct FoundSpecs {
    specs: Vec<SpecSource>,
    resources: Vec<SpecSource>,
    errors: Vec<String>,
}

/// The specs of one file. A YAML file found in a directory that does not parse is skipped
/// unless it mentions the spec's kind (then it is a broken spec, and an error).
fn read_specs(path: &Path, named: bool) -> FoundSpecs {
    let mut found = FoundSpecs::default();
    let FoundSpecs {
        specs,
        resources,
        errors,
    } = &mut found;
    let file = path.display().to_string();
    let text = match read_file(path) {
        Ok(text) => text,
        Err(error) => {
            errors.extend(error.lines());
            return found;
        }
    };
    match documents(&text) {
        Ok(documents) => {
            let holds_a_spec = documents.iter().any(spec::is_ignition_cluster);
            for (index, object) in documents.into_iter().enumerate() {
                if spec::is_ignition_cluster(&object) {
                    specs.push(SpecSource {
                        file: file.clone(),
                        object,
                        resources: Vec::new(),
                    });
                } else if spec::is_gateway_resource(&object) {
                    resources.push(SpecSource {
                        file: file.clone(),
                        object,
                        resources: Vec::new(),
                    });
                } else if let Some(message) = misspelt_kind(&object) {
                    errors.push(located(&file, format!("document {}: kind: {message}", index + 1)));
                } else if holds_a_spec {
                    // Next to a spec, an object would be lost from the tree without a word.
                    let id = ObjectId::of(&object);
                    errors.push(located(
                        &file,
                        format!(
                            "document {} ({} {}) is not rendered: render writes only what the specs generate; put your own objects in <out>/<site>/overlays/<env>/{EXTRAS}/",
                            index + 1,
                            if id.kind.is_empty() { "an object without a kind" } else { &id.kind },
                            id.name
                        ),
                    ));
                }
            }
        }
        Err(error) if named || text.contains(spec::KIND) => {
            errors.push(located(&file, format!("not valid YAML: {error}")))
        }
        Err(_) => {}
    }
    found
}

/// Why an object that is not an `IgnitionCluster` looks like one with its kind misspelt: our
/// apiVersion group, or a kind a typo away from ours.
pub fn misspelt_kind(object: &Value) -> Option<String> {
    let ObjectId { kind, api_version, .. } = ObjectId::of(object);
    let group = spec::API_VERSION.split('/').next().unwrap_or_default();
    let our_group = api_version.split('/').next() == Some(group);
    let near = spec::nearest_name(&kind, [spec::KIND].into_iter()).is_some();
    (kind != spec::KIND && kind != spec::RESOURCE_KIND && (our_group || near)).then(|| {
        format!(
            "{kind:?} is not {:?}: this looks like a spec with its kind misspelt, and it would not be rendered",
            spec::KIND
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_are_coloured_line_by_line_and_headers_in_bold() {
        let diff = "--- a\n+++ a (rendered)\n@@ -1 +1 @@\n-old\n+new\n same\n";
        assert_eq!(
            coloured(diff),
            "\x1b[1m--- a\x1b[0m\n\x1b[1m+++ a (rendered)\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m-old\x1b[0m\n\x1b[32m+new\x1b[0m\n same\n"
        );
    }

    #[test]
    fn a_kind_a_typo_away_or_in_our_group_is_a_misspelt_spec() {
        let object = |text: &str| serde_norway::from_str::<Value>(text).unwrap();
        assert!(misspelt_kind(&object("{apiVersion: v1, kind: IgnitionClustr}")).is_some());
        assert!(misspelt_kind(&object("{apiVersion: v1, kind: ignitioncluster}")).is_some());
        assert!(misspelt_kind(&object("{apiVersion: ignition.krm.dev/v1alpha1, kind: Site}")).is_some());
        assert!(misspelt_kind(&object("{apiVersion: v1, kind: ConfigMap}")).is_none());
        assert!(misspelt_kind(&object(
            "{apiVersion: ignition.krm.dev/v1alpha1, kind: IgnitionCluster}"
        ))
        .is_none());
    }
}
