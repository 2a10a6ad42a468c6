//! Arbitrary YAML as an IgnitionCluster: loading never panics, and a spec that loads generates
//! objects that our emitter writes and reads back unchanged.
#![no_main]

use ignition_krm::{generate, spec, yaml};
use libfuzzer_sys::fuzz_target;
use serde_norway::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(object) = serde_norway::from_str::<Value>(text) else {
        return;
    };
    if let Ok(site) = spec::load(&object) {
        for generated in generate::generate(&site) {
            let written = yaml::to_string(&generated);
            let reread: Value = serde_norway::from_str(&written).unwrap();
            assert_eq!(reread, generated, "a generated object changed on the round trip:\n{written}");
        }
    }
});
