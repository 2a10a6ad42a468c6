//! The properties the fuzz targets check, shared with `cargo test` (tests/fuzz_regressions.rs replays every corpus
//! file and every finding through them). Mappings are compared in order (`yaml::same`): `==` on a
//! serde_norway mapping ignores the order of its keys.
#![allow(dead_code)] // each fuzz target uses one of the checks

use ignition_krm::{block_yaml, function, generate, krm, spec, yaml};
use serde_norway::Value;

/// Arbitrary bytes as a ResourceList: read, process, write (copying the items it can), and the written text must
/// read back as the very same items, in the same order, and the same results.
pub fn resource_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(list) = krm::read(text) else {
        return;
    };
    let outcome = function::process(list);
    // The items passed through, then the generated objects, as the output holds them.
    let items: Vec<Value> = outcome.items.iter().cloned().chain(outcome.generated_items()).collect();
    let mut copied = Vec::new();
    krm::write_with_source_to(
        &mut copied,
        &outcome.items,
        &outcome.generated,
        &outcome.source,
        &outcome.results,
    )
    .unwrap();
    for written in [String::from_utf8(copied).unwrap(), outcome.write()] {
        let reread =
            krm::read(&written).unwrap_or_else(|error| panic!("our output does not read back: {error}\n{written}"));
        assert_eq!(
            reread.items.len(),
            items.len(),
            "items lost on the round trip:\n{written}"
        );
        for (read, item) in reread.items.iter().zip(&items) {
            assert!(yaml::same(read, item), "an item changed on the round trip:\n{written}");
        }
        let results: Value = serde_norway::from_str::<Value>(&written).unwrap()["results"].clone();
        let expected = if outcome.results.is_empty() {
            Value::Null
        } else {
            serde_norway::to_value(&outcome.results).unwrap()
        };
        assert!(
            yaml::same(&results, &expected),
            "results changed on the round trip:\n{written}"
        );
    }
}

/// The fast block-YAML reader against serde_norway: whenever it reads a document, it must read exactly what
/// serde_norway reads, in the same order (it must give up, not guess).
pub fn block_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(fast) = block_yaml::parse(text) else {
        return;
    };
    match serde_norway::from_str::<Value>(text) {
        Ok(reference) => assert!(
            yaml::same(&fast, &reference),
            "the fast reader disagrees with serde_norway on:\n{text}"
        ),
        Err(error) => panic!("the fast reader accepted what serde_norway refuses ({error}):\n{text}"),
    }
}

/// Arbitrary YAML as an IgnitionCluster: loading never panics, and a spec that loads generates objects (for the
/// base and every environment) that the serializer writes as the emitter writes their values, and that read back
/// unchanged, in order.
pub fn spec_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(object) = serde_norway::from_str::<Value>(text) else {
        return;
    };
    if let Ok(loaded) = spec::load_all(&object) {
        let sites = std::iter::once(loaded.base).chain(loaded.environments.into_values());
        for generated in sites.flat_map(|site| generate::generate(&site)) {
            let mut written = String::new();
            generated.write_document(&mut written);
            let value = generated.to_value();
            assert_eq!(
                written,
                yaml::to_string(&value),
                "the serializer and the emitter disagree"
            );
            let reread: Value = serde_norway::from_str(&written).unwrap();
            assert!(
                yaml::same(&reread, &value),
                "a generated object changed on the round trip:\n{written}"
            );
        }
    }
}
