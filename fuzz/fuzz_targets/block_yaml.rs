//! The fast block-YAML reader against serde_norway: whenever it reads a document, it must read
//! exactly what serde_norway reads (it must give up, not guess).
#![no_main]

use ignition_krm::block_yaml;
use libfuzzer_sys::fuzz_target;
use serde_norway::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(fast) = block_yaml::parse(text) else {
        return;
    };
    match serde_norway::from_str::<Value>(text) {
        Ok(reference) => assert_eq!(fast, reference, "the fast reader disagrees with serde_norway on:\n{text}"),
        Err(error) => panic!("the fast reader accepted what serde_norway refuses ({error}):\n{text}"),
    }
});
