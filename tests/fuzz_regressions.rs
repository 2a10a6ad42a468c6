//! Inputs the fuzzers found (tests/fuzz-regressions/), kept as regressions of the `resource_list`
//! fuzz target's property: whatever the function writes reads back as the very same items. (How
//! each one must fail, if it fails, is a case of tests/hostile.rs.)

use std::fs;

use ignition_krm::{function, krm};

#[test]
fn every_fuzz_finding_reads_back_as_written() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut findings: Vec<_> = fs::read_dir(&dir)
        .expect("the regressions folder exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    findings.sort();
    assert!(!findings.is_empty(), "no findings under {}", dir.display());
    for path in findings {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        let Ok(list) = krm::read(&text) else { continue };
        let outcome = function::process(list);
        let written = krm::write(&outcome.items, &outcome.results);
        let reread = krm::read(&written)
            .unwrap_or_else(|error| panic!("{}: output does not read back: {error}", path.display()));
        assert!(
            reread.items == outcome.items,
            "{}: items changed on the round trip:\n{written}",
            path.display()
        );
    }
}
