//! The fast block-YAML reader against serde_norway: whenever it reads a document, it must read
//! exactly what serde_norway reads (it must give up, not guess).
#![no_main]

#[path = "checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::block_yaml(data));
