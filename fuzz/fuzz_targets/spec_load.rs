//! Arbitrary YAML as an IgnitionCluster: loading never panics, and a spec that loads generates
//! objects (for the base and every environment) that our emitter writes and reads back unchanged.
#![no_main]

#[path = "checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::spec_load(data));
