//! Arbitrary YAML as an IgnitionCluster: loading never panics, and a spec that loads generates
//! objects (for the base and every environment) that our emitter writes and reads back unchanged.
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
    // Every environment is validated and resolved along with the base.
    if let Ok(loaded) = spec::load_all(&object) {
        let sites = std::iter::once(loaded.base).chain(loaded.environments.into_values());
        for generated in sites.flat_map(|site| generate::generate(&site)) {
            let written = yaml::to_string(&generated);
            let reread: Value = serde_norway::from_str(&written).unwrap();
            assert_eq!(reread, generated, "a generated object changed on the round trip:\n{written}");
        }
    }
});
