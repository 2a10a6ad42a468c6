//! Arbitrary bytes as a ResourceList: read, process, write, and the written text must read back
//! as the very same items and results (our own YAML emitter is the part most likely to drift).
#![no_main]

use ignition_krm::{function, krm};
use libfuzzer_sys::fuzz_target;
use serde_norway::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(list) = krm::read(text) else {
        return;
    };
    let outcome = function::process(list);
    let written = krm::write(&outcome.items, &outcome.results);
    let reread = krm::read(&written).unwrap_or_else(|error| panic!("our output does not read back: {error}\n{written}"));
    assert_eq!(reread.items, outcome.items, "items changed on the round trip:\n{written}");
    let results: Value = serde_norway::from_str::<Value>(&written).unwrap()["results"].clone();
    let expected = if outcome.results.is_empty() {
        Value::Null
    } else {
        serde_norway::to_value(&outcome.results).unwrap()
    };
    assert_eq!(results, expected, "results changed on the round trip:\n{written}");
});
