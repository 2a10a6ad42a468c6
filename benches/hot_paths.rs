//! In-process timings of the hot paths, run by `cargo bench --bench hot_paths` (scripts/bench.sh runs it).
//!
//! A small harness of our own rather than criterion: criterion would add some 60 crates to build on a 2-core
//! machine for statistics we do not use. Each path is run in batches of about 10 ms; the median batch gives the
//! time per call. For figures that do not move with the machine's load, see the instruction counts of
//! scripts/bench.sh.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use ignition_krm::{function, krm, spec, yaml};

struct Harness {
    samples: usize,
    batch_target: Duration,
}

impl Harness {
    /// Times `routine` and prints the median time per call.
    fn run<T>(&self, name: &str, mut routine: impl FnMut() -> T) {
        // Calibrate: how many calls fill one batch.
        let mut batch = 1u32;
        loop {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(routine());
            }
            if start.elapsed() >= self.batch_target / 4 || batch >= 1 << 20 {
                let per_call = start.elapsed() / batch;
                batch = (self.batch_target.as_nanos() / per_call.as_nanos().max(1)).clamp(1, 1 << 20) as u32;
                break;
            }
            batch *= 2;
        }
        let mut per_call: Vec<Duration> = (0..self.samples)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..batch {
                    black_box(routine());
                }
                start.elapsed() / batch
            })
            .collect();
        per_call.sort();
        let median = per_call[per_call.len() / 2];
        println!(
            "{name:<44} {:>10.1} µs median {:>10.1} µs min   ({} samples of {batch})",
            median.as_secs_f64() * 1e6,
            per_call[0].as_secs_f64() * 1e6,
            self.samples
        );
    }
}

fn read_input(path: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(path).ok()
}

fn main() {
    // `cargo bench` passes `--bench`; our own flag is `--quick`.
    let quick = std::env::args().any(|arg| arg == "--quick");
    let harness = Harness {
        samples: if quick { 5 } else { 31 },
        batch_target: Duration::from_millis(if quick { 2 } else { 10 }),
    };

    let mut cases = vec![
        ("failover", read_input("tests/testdata/failover-8.3/input.yaml")),
        ("scaleout", read_input("tests/testdata/scaleout-8.3/input.yaml")),
        ("1,000 items", read_input("target/bench-inputs/items-1000.yaml")),
    ];
    cases.retain(|(name, text)| {
        if text.is_none() {
            println!("{name}: input missing (scripts/bench.sh writes target/bench-inputs), skipped");
        }
        text.is_some()
    });

    harness.run("spec: JSON Schema built by schemars", || {
        schemars::schema_for!(spec::IgnitionCluster).to_value()
    });
    for (name, text) in &cases {
        let text = text.as_deref().unwrap_or_default();
        let list = krm::read(text).expect("the benchmark input is a ResourceList");
        let outcome = function::process(list.clone());
        assert!(!outcome.has_errors(), "the benchmark input {name} must be valid");

        harness.run(&format!("krm::read ({name})"), || krm::read(text));
        let config = list
            .function_config
            .clone()
            .or_else(|| list.items.iter().find(|item| spec::is_ignition_cluster(item)).cloned())
            .expect("a spec");
        harness.run(&format!("spec::load ({name})"), || spec::load(&config, None));
        harness.run(&format!("function::process ({name})"), || {
            function::process(list.clone())
        });
        harness.run(&format!("  of which cloning the input ({name})"), || list.clone());
        harness.run(&format!("krm::write ({name})"), || outcome.write());
        let values = outcome.generated_items();
        harness.run(&format!("yaml emitter, generated objects as values ({name})"), || {
            let mut out = String::new();
            for value in &values {
                yaml::write_document(&mut out, value);
            }
            out
        });
        harness.run(&format!("yaml serializer, generated objects ({name})"), || {
            let mut out = String::new();
            for object in &outcome.generated {
                object.write_document(&mut out);
            }
            out
        });
    }
}
