//! The heap fits the memory limit: the real `java` here (Debian's default JRE) is run with the JVM
//! flags a generated gateway container passes, the image's fixed initial heap `-Xms1024m`, and
//! `-XX:MaxRAM=<limit>` standing in for the container's memory limit, and its `MaxHeapSize` must
//! stay under the limit for every memory size the spec accepts.
//!
//! The wrapper settings are checked from the arguments too: `wrapper.java.initmemory=0` and
//! `wrapper.java.maxmemory=0` make the Tanuki wrapper leave out `-Xms`/`-Xmx`, so in the real image
//! the `-Xms1024m` passed here does not even reach the JVM; passing it is the worst case.

mod common;

use std::process::Command;

use common::*;

/// A spec whose gateway pair gets `memory`.
fn spec(memory: &str) -> String {
    format!(
        "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {{name: heap, namespace: scada}}\n\
         spec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: heap-admin\n  \
         gateway: {{resources: {{memory: \"{memory}\"}}}}\n"
    )
}

/// The gateway container's arguments for a spec with `memory`, or the error the binary printed.
fn gateway_args(memory: &str) -> Result<Vec<String>, String> {
    let dir = std::env::temp_dir().join(format!("ignition-krm-heap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per call: the tests run in parallel and may ask for the same size at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = dir.join(format!("{memory}-{call}.yaml"));
    std::fs::write(&file, spec(memory)).unwrap();
    let output = ignition_krm()
        .arg("manifests")
        .arg(&file)
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_file(&file);
    if !output.status.success() {
        return Err(stderr(&output));
    }
    let text = stdout(&output);
    let statefulset = documents(&text)
        .into_iter()
        .find(|object| object["kind"] == "StatefulSet")
        .expect("a StatefulSet");
    let container = &statefulset["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["memory"].as_str(), Some(memory));
    Ok(container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap().to_owned())
        .collect())
}

/// `MaxHeapSize` of the real JVM with `flags` under a memory limit of `limit` bytes.
fn max_heap(limit: u64, flags: &[String]) -> u64 {
    let output = Command::new("java")
        .arg(format!("-XX:MaxRAM={limit}"))
        .args(flags)
        .args(["-XX:+PrintFlagsFinal", "-version"])
        .output()
        .unwrap_or_else(|error| panic!("java is needed for this test (Debian's default-jre-headless): {error}"));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "java {flags:?} under {limit}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.nth(1) == Some("MaxHeapSize")).then(|| line.split_whitespace().nth(3).unwrap().parse().unwrap())
        })
        .expect("PrintFlagsFinal lists MaxHeapSize")
}

/// The arguments the entrypoint hands to the JVM (those after `--` that are JVM flags), plus the
/// image's initial heap as the worst case.
fn jvm_flags(args: &[String]) -> Vec<String> {
    let after = args.iter().position(|arg| arg == "--").expect("a -- separator") + 1;
    let mut flags: Vec<String> = args[after..]
        .iter()
        .filter(|arg| arg.starts_with("-X"))
        .cloned()
        .collect();
    flags.push("-Xms1024m".to_owned());
    flags
}

const MI: u64 = 1 << 20;

#[test]
fn the_heap_stays_under_the_memory_limit_for_every_accepted_size() {
    // The smallest accepted size, sizes around the defaults, and the largest.
    let sizes = [
        ("1536Mi", 1536 * MI),
        ("1600Mi", 1600 * MI),
        ("2Gi", 2048 * MI),
        ("3Gi", 3072 * MI),
        ("4Gi", 4096 * MI),
        ("6Gi", 6144 * MI),
        ("8Gi", 8192 * MI),
        ("16Gi", 16384 * MI),
        ("64Gi", 65536 * MI),
        ("256Gi", 262144 * MI),
        ("1Ti", 1048576 * MI),
    ];
    for (memory, limit) in sizes {
        let args = gateway_args(memory).unwrap_or_else(|error| panic!("{memory} is accepted: {error}"));
        for setting in ["wrapper.java.initmemory=0", "wrapper.java.maxmemory=0"] {
            assert!(args.iter().any(|arg| arg == setting), "{memory}: {setting} in {args:?}");
        }
        let flags = jvm_flags(&args);
        assert!(
            flags.iter().any(|flag| flag.starts_with("-XX:MaxRAMPercentage=")),
            "{memory}: {flags:?}"
        );
        let heap = max_heap(limit, &flags);
        eprintln!("{memory}: MaxHeapSize {} MiB of {} MiB", heap / MI, limit / MI);
        assert!(heap < limit, "{memory}: heap {heap} is not under the limit {limit}");
        // Room for metaspace, threads and buffers: at most 80% of the limit.
        assert!(
            heap * 5 <= limit * 4,
            "{memory}: heap {heap} leaves too little of {limit}"
        );
    }
}

#[test]
fn memory_below_the_minimum_is_refused_because_the_heap_would_fill_it() {
    let error = gateway_args("1Gi").expect_err("1Gi is refused");
    assert!(
        error.contains("spec.gateway.resources.memory") && error.contains("at least 1536Mi"),
        "{error}"
    );
    assert_eq!(error.lines().count(), 1, "{error}");
    // Why: under 1Gi, the image's -Xms1024m lifts the maximum heap to the whole limit.
    let args = gateway_args("1536Mi").unwrap();
    assert!(max_heap(1024 * MI, &jvm_flags(&args)) >= 1024 * MI);
}
