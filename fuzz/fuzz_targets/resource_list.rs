//! Arbitrary bytes as a ResourceList: read, process, write, and the written text must read back
//! as the very same items and results (our own YAML emitter is the part most likely to drift).
#![no_main]

#[path = "checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::resource_list(data));
