//! End-to-end runs of the real tools (installed by scripts/install-tools.sh into .tools/bin):
//! kustomize 4.5.4 with exec functions, kpt, and kubernetes-validate against Kubernetes 1.30 and 1.35.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// Object counts include the default Gateway Network trust: 4 cert-manager objects for failover
/// (root Issuer, CA Certificate, CA Issuer, one tier Certificate), 5 for scaleout (two tiers).
const KUSTOMIZATIONS: &[(&str, &str, usize)] = &[
    ("bases/failover", "plant-b", 17),
    ("bases/scaleout", "plant-a", 25),
    ("overlays/dev", "plant-b-dev", 17),
    ("overlays/prod", "plant-a", 25),
];

/// `dir` is relative to the repository, or absolute (a scratch directory).
fn kustomize_build(dir: impl AsRef<Path>, extra_flags: &[&str]) -> Output {
    Command::new(tool("kustomize"))
        .arg("build")
        .args(extra_flags)
        .arg(repo_root().join(dir))
        .env("PATH", path_with_binary())
        .output()
        .expect("kustomize runs")
}

/// A scratch directory for one test, removed first if a run before left it.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ignition-krm-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn kustomize_builds_every_base_and_overlay() {
    for (dir, site, count) in KUSTOMIZATIONS {
        let output = kustomize_build(dir, &["--enable-alpha-plugins", "--enable-exec"]);
        assert!(output.status.success(), "kustomize build {dir}: {}", stderr(&output));
        let objects = documents(&stdout(&output));
        // kustomize exits 0 with no objects when it skips a function: count them.
        assert_eq!(
            objects.len(),
            *count,
            "{dir}: {:?}",
            objects.iter().map(kind_and_name).collect::<Vec<_>>()
        );
        find(
            &objects,
            "StatefulSet",
            &format!("{site}-{}", if *count == 17 { "gateway" } else { "backend" }),
        );
        assert!(
            !objects.iter().any(|object| object["kind"] == "IgnitionCluster"),
            "{dir}: the local-config spec is dropped"
        );
        let text = stdout(&output);
        assert!(
            !text.contains("internal.config.kubernetes.io"),
            "{dir}: kustomize strips the bookkeeping"
        );
    }
}

#[test]
fn overlays_vary_the_spec_before_it_is_expanded() {
    let dev = documents(&stdout(&kustomize_build(
        "overlays/dev",
        &["--enable-alpha-plugins", "--enable-exec"],
    )));
    let pair = find(&dev, "StatefulSet", "plant-b-dev-gateway");
    assert_eq!(pair["metadata"]["namespace"], "scada-dev");
    assert_eq!(pair["metadata"]["labels"]["environment"], "dev");
    assert!(
        pair["spec"]["selector"]["matchLabels"]["environment"].is_null(),
        "selectors stay as generated"
    );
    assert_eq!(
        pair["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "2Gi"
    );
    let init = &pair["spec"]["template"]["spec"]["initContainers"][0];
    let master = init["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|env| env["name"] == "REDUNDANCY_MASTER_HOST")
        .unwrap();
    assert_eq!(
        master["value"], "plant-b-dev-gateway-0.plant-b-dev-gateway-headless",
        "derived names follow the spec"
    );

    let prod = documents(&stdout(&kustomize_build(
        "overlays/prod",
        &["--enable-alpha-plugins", "--enable-exec"],
    )));
    assert_eq!(find(&prod, "StatefulSet", "plant-a-frontend")["spec"]["replicas"], 6);
}

#[test]
fn kustomize_without_enable_exec_silently_generates_nothing() {
    // The behaviour the README warns about: exit 0 and no objects.
    let output = kustomize_build("bases/failover", &["--enable-alpha-plugins"]);
    assert!(output.status.success());
    assert!(documents(&stdout(&output))
        .iter()
        .all(|object| object["kind"] != "StatefulSet"));
}

#[test]
fn kustomize_fails_loudly_on_a_bad_spec() {
    let dir = scratch("kustomize-bad-spec");
    std::fs::write(dir.join("kustomization.yaml"), "generators:\n- ignition.yaml\n").unwrap();
    let spec = read("bases/scaleout/spec/ignition.yaml").replace("replicas: 3", "replicas: 300");
    std::fs::write(dir.join("ignition.yaml"), spec).unwrap();
    let output = kustomize_build(&dir, &["--enable-alpha-plugins", "--enable-exec"]);
    assert!(!output.status.success(), "kustomize must fail");
    assert_eq!(stdout(&output), "", "no partial manifests");
    assert!(
        stderr(&output).contains("spec.frontend.replicas: must be at most 100"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn validate(file: &Path, version: &str) {
    let output = Command::new(tool("kubernetes-validate"))
        .args(["--strict", "--quiet", "-k", version])
        .arg(file)
        .output()
        .expect("kubernetes-validate runs");
    assert!(
        output.status.success(),
        "{} against Kubernetes {version}:\n{}{}",
        file.display(),
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn every_manifest_passes_strict_validation_for_kubernetes_1_30_and_1_35() {
    let dir = scratch("validate");
    let mut files = Vec::new();
    for (kustomization, _, count) in KUSTOMIZATIONS {
        let output = kustomize_build(kustomization, &["--enable-alpha-plugins", "--enable-exec"]);
        let text = stdout(&output);
        assert_eq!(documents(&text).len(), *count, "{kustomization} rendered");
        let file = dir.join(format!("{}.yaml", kustomization.replace('/', "-")));
        std::fs::write(&file, text).unwrap();
        files.push(file);
    }
    for case in [
        "failover-8.3",
        "scaleout-8.1",
        "failover-certificates-restore-8.3",
        "scaleout-traefik-secret-certificates-8.1",
        "scaleout-plant-options-8.3",
        "scaleout-projects-modules-8.3",
    ] {
        let output = run_function(&read(format!("tests/testdata/{case}/input.yaml")));
        let objects = generated(&parse(&stdout(&output)));
        assert!(objects.len() >= 10, "{case} rendered");
        let file = dir.join(format!("{case}.yaml"));
        std::fs::write(&file, ignition_krm::krm::write_documents(&objects)).unwrap();
        files.push(file);
    }
    for file in &files {
        for version in ["1.30.0", "1.35.0"] {
            validate(file, version);
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn strict_validation_does_catch_a_broken_manifest() {
    // Guards the test above: the validator really rejects what it should.
    let dir = scratch("validate-negative");
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: x\nspec:\n  strategy: {}\n",
    )
    .unwrap();
    let output = Command::new(tool("kubernetes-validate"))
        .args(["--strict", "-k", "1.30.0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success(), "an unknown field must fail strict validation");
    std::fs::remove_dir_all(dir).unwrap();
}

/// kpt is on these machines already; where it is not, there is nothing to run.
fn kpt() -> Option<PathBuf> {
    let path = repo_root().join(".tools/bin/kpt");
    if path.exists() {
        Some(path)
    } else {
        assert!(std::env::var_os("CI").is_none(), "kpt is missing on CI");
        eprintln!("kpt not found: the kpt test does nothing here");
        None
    }
}

fn kpt_eval(kpt: &Path, package: &Path) -> Output {
    Command::new(kpt)
        .args(["fn", "eval"])
        .arg(package)
        .arg("--exec")
        .arg(bin_dir().join("ignition-krm"))
        .arg("--fn-config")
        .arg(package.join("ignition.yaml"))
        .env("PATH", path_with_binary())
        .output()
        .expect("kpt runs")
}

#[test]
fn kpt_fn_eval_writes_the_manifests_into_the_package_and_is_idempotent() {
    let Some(kpt) = kpt() else { return };
    let package = scratch("kpt");
    let spec = read("bases/failover/spec/ignition.yaml");
    std::fs::write(package.join("ignition.yaml"), &spec).unwrap();
    std::fs::write(
        package.join("Kptfile"),
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: site\n",
    )
    .unwrap();

    let output = kpt_eval(&kpt, &package);
    assert!(output.status.success(), "kpt fn eval: {}", stderr(&output));
    let statefulset = package.join("ignition/plant-b/statefulset-plant-b-gateway.yaml");
    let written =
        std::fs::read_to_string(&statefulset).expect("kpt wrote the StatefulSet where the path annotation says");
    assert!(written.contains("replicas: 2"), "{written}");
    let files = std::fs::read_dir(package.join("ignition/plant-b")).unwrap().count();
    assert_eq!(files, 17, "one file per object");
    assert!(package.join("ignition.yaml").exists(), "the spec file is kept");

    let snapshot = |dir: &Path| -> Vec<(PathBuf, String)> {
        let mut files: Vec<_> = walk(dir)
            .into_iter()
            .map(|path| (path.clone(), std::fs::read_to_string(&path).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = snapshot(&package);
    let output = kpt_eval(&kpt, &package);
    assert!(output.status.success(), "second kpt fn eval: {}", stderr(&output));
    assert!(before == snapshot(&package), "a second run changes no file");
    std::fs::remove_dir_all(package).unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A resource kustomize passes through the function keeps its meaning: `defaultMode: 0644` is octal 420 to
/// kustomize (go-yaml), and must still be 420 after the function, not the string "0644" the API server refuses.
#[test]
fn kustomize_reads_a_passed_through_octal_mode_as_the_number_it_was() {
    let dir = scratch("kustomize-octal");
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n- pod.yaml\ngenerators:\n- ignition.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: octal\nspec:\n  volumes:\n  - name: v\n    secret:\n      secretName: s\n      defaultMode: 0644\n  containers:\n  - name: c\n    image: x\n    env:\n    - {name: A, value: \"y\"}\n",
    )
    .unwrap();
    std::fs::write(dir.join("ignition.yaml"), read("bases/scaleout/spec/ignition.yaml")).unwrap();
    let output = kustomize_build(&dir, &["--enable-alpha-plugins", "--enable-exec"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let pod = documents(&stdout(&output))
        .into_iter()
        .find(|object| object["metadata"]["name"] == "octal")
        .expect("the pod passes through");
    assert_eq!(
        pod["spec"]["volumes"][0]["secret"]["defaultMode"],
        serde_norway::Value::from(420)
    );
    assert_eq!(
        pod["spec"]["containers"][0]["env"][0]["value"],
        serde_norway::Value::from("y")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Gateway resources with the real kustomize: listed as `resources:` and patched per environment
/// with `patches:` (which kustomize applies before the `transformers:`), then expanded by the function
/// as a transformer, which gets the items (a generator gets none). The patched value is what lands in
/// the resources ConfigMap, and the local-config items are dropped.
#[test]
fn kustomize_patches_gateway_resources_before_the_function_expands_them() {
    let dir = scratch("gateway-resources");
    std::fs::create_dir_all(dir.join("spec")).unwrap();
    std::fs::write(
        dir.join("spec/ignition.yaml"),
        "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata:\n  name: plant-c\n  namespace: scada\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ignition-krm\nspec:\n  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: plant-c-admin\n",
    )
    .unwrap();
    std::fs::write(dir.join("spec/kustomization.yaml"), "resources:\n- ignition.yaml\n").unwrap();
    std::fs::copy(
        repo_root().join("examples/sites/plant-c/gateway-resources.yaml"),
        dir.join("gateway-resources.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n- gateway-resources.yaml\ntransformers:\n- spec\npatches:\n- target: {kind: GatewayResource, name: plant-c-historian-db}\n  patch: |\n    - op: replace\n      path: /spec/config/connectURL\n      value: jdbc:postgresql://historian.prod:5432/history\n",
    )
    .unwrap();
    let output = kustomize_build(&dir, &["--enable-alpha-plugins", "--enable-exec"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let objects = documents(&stdout(&output));
    assert!(!objects.iter().any(|object| object["kind"] == "GatewayResource"));
    assert!(!objects.iter().any(|object| object["kind"] == "IgnitionCluster"));
    let config = find(&objects, "ConfigMap", "plant-c-backend-resources")["data"]["0.config.json"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        config.contains("jdbc:postgresql://historian.prod:5432/history"),
        "{config}"
    );
    assert!(config.contains("\"password\": \"ignition-krm-secret:0\""), "{config}");
    let backend = find(&objects, "StatefulSet", "plant-c-backend");
    let init: Vec<&str> = backend["spec"]["template"]["spec"]["initContainers"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|container| container["name"].as_str())
        .collect();
    assert_eq!(init.last(), Some(&"apply-resources"));
    // The frontends get nothing: the item names the backend tier only.
    let frontend = find(&objects, "StatefulSet", "plant-c-frontend");
    assert!(!serde_norway::to_string(frontend).unwrap().contains("apply-resources"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// kpt hands a package's files to the function as they are, explicit tags included (kustomize resolves them before a
/// function sees them: its exec function gets `420`). A ConfigMap with `!!int 0644`, `!!null` on an empty value and
/// `!!float 1_000.5`, which kustomize 4.5.4 accepts, passes through kpt and the function unchanged.
#[test]
fn kpt_passes_explicitly_tagged_scalars_through_the_function_unchanged() {
    let Some(kpt) = kpt() else { return };
    let package = scratch("kpt-tags");
    std::fs::write(package.join("ignition.yaml"), read("bases/failover/spec/ignition.yaml")).unwrap();
    let config_map =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tags\ndata:\n  a: !!int 0644\n  e: !!null\n  f: !!float 1_000.5\n";
    std::fs::write(package.join("tags.yaml"), config_map).unwrap();
    let output = kpt_eval(&kpt, &package);
    assert!(output.status.success(), "kpt fn eval: {}", stderr(&output));
    assert_eq!(std::fs::read_to_string(package.join("tags.yaml")).unwrap(), config_map);
    assert!(package.join("ignition/plant-b").is_dir(), "the function ran");
    std::fs::remove_dir_all(package).unwrap();
}
