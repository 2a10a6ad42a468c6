//! The fuzz targets' properties (fuzz/fuzz_targets/checks.rs), replayed by `cargo test` on every file of the fuzz
//! corpora (fuzz/corpus/<target>/) and on the inputs the fuzzers found (tests/fuzz-regressions/, through the
//! `resource_list` property: whatever the function writes reads back as the very same items, in order). How each
//! finding must fail, if it fails, is a case of tests/hostile.rs.

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

use std::fs;
use std::path::Path;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files under {}", dir.display());
    files
}

fn replay(dir: &str, check: fn(&[u8])) {
    for path in files(dir) {
        let data = fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{} fails its fuzz target's property", path.display());
        }
    }
}

#[test]
fn every_fuzz_finding_reads_back_as_written() {
    replay("tests/fuzz-regressions", checks::resource_list);
}

#[test]
fn the_resource_list_corpus_holds_its_property() {
    replay("fuzz/corpus/resource_list", checks::resource_list);
}

#[test]
fn the_block_yaml_corpus_holds_its_property() {
    replay("fuzz/corpus/block_yaml", checks::block_yaml);
}

#[test]
fn the_spec_load_corpus_holds_its_property() {
    replay("fuzz/corpus/spec_load", checks::spec_load);
}
