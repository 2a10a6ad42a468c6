//! GitOps surfaces: environments, `render` and `render --check`, the committed example tree, the real
//! kustomize building the overlays, kubectl's legacy exec plugin, the Argo CD plugin command as the
//! sidecar runs it, the schema kept in step with the types, and the pre-commit hooks.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_norway::Value;

const EXAMPLE_SITES: &str = "examples/sites";
const EXAMPLE_TREE: &str = "examples/rendered";

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gitops-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Objects by `apiVersion/kind namespace/name`, as JSON (so key order does not count), without
/// the annotations kustomize and kpt manage.
fn by_identity(objects: Vec<Value>) -> BTreeMap<String, serde_json::Value> {
    objects
        .into_iter()
        .map(|mut object| {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_mapping_mut) {
                if let Some(Value::Mapping(annotations)) = metadata.get_mut("annotations") {
                    annotations.retain(|key, _| {
                        let key = key.as_str().unwrap_or_default();
                        !key.starts_with("internal.config.kubernetes.io/")
                            && !key.starts_with("config.kubernetes.io/")
                            && !key.starts_with("kustomize.config.k8s.io/")
                    });
                    if annotations.is_empty() {
                        metadata.remove("annotations");
                    }
                }
            }
            let text = |path: &[&str]| {
                path.iter()
                    .try_fold(&object, |value, key| value.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let identity = format!(
                "{}/{} {}/{}",
                text(&["apiVersion"]),
                text(&["kind"]),
                text(&["metadata", "namespace"]),
                text(&["metadata", "name"])
            );
            (identity, serde_json::to_value(&object).unwrap())
        })
        .collect()
}

fn example_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(repo_root().join(EXAMPLE_SITES))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("ignition.yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 2, "the examples are missing");
    specs
}

fn environments(spec: &Path) -> Vec<String> {
    let spec = parse(&std::fs::read_to_string(spec).unwrap());
    spec["spec"]["environments"]
        .as_mapping()
        .map(|environments| {
            environments
                .keys()
                .map(|key| key.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn render(args: &[&str]) -> Output {
    ignition_krm().arg("render").args(args).output().unwrap()
}

fn manifests(spec: &Path, environment: Option<&str>) -> Output {
    let mut command = ignition_krm();
    command.arg("manifests").arg(spec);
    // The site's GatewayResource items, which render reads from the same directory.
    let resources = spec.with_file_name("gateway-resources.yaml");
    if resources.is_file() {
        command.arg(resources);
    }
    command.args(["--environment", environment.unwrap_or("base")]);
    command.output().unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|path| (path.clone(), std::fs::read(&path).unwrap()))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

// ------------------------------------------------------------------------------------------ environments

const SPEC_WITH_ENVIRONMENTS: &str = r#"
apiVersion: ignition.krm.dev/v1alpha1
kind: IgnitionCluster
metadata: {name: plant-e, namespace: scada}
spec:
  architecture: scaleout
  version: "8.3.3"
  adminPasswordSecret: plant-e-admin
  frontend: {replicas: 2}
  environments:
    prod:
      frontend: {replicas: 0}
      ingress: {className: nginx}
    Bad_Name: {}
    dev:
      architecture: failover
"#;

#[test]
fn environment_problems_are_reported_at_the_environment_paths() {
    let dir = scratch("environment-problems");
    let spec = dir.join("ignition.yaml");
    std::fs::write(&spec, SPEC_WITH_ENVIRONMENTS).unwrap();
    let output = manifests(&spec, None);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{errors}");
    assert!(output.stdout.is_empty());
    for expected in [
        "spec.environments.prod.frontend.replicas: must be at least 1",
        "spec.environments.prod.ingress.host: is required",
        "spec.environments.Bad_Name: environment name \"Bad_Name\" is not a DNS label",
        "spec.environments.dev.architecture: cannot be changed by an environment",
    ] {
        assert!(errors.contains(expected), "missing {expected:?} in:\n{errors}");
    }
}

#[test]
fn the_function_expands_the_environment_named_in_its_config_annotation() {
    let spec = repo_root().join(EXAMPLE_SITES).join("plant-c/ignition.yaml");
    let mut config = parse(&std::fs::read_to_string(&spec).unwrap());
    config["metadata"]["annotations"] = parse("{ignition.krm.dev/environment: prod}");
    // The site's GatewayResource items come among the items, as manifests reads them beside the spec.
    let resources = parse(&std::fs::read_to_string(spec.with_file_name("gateway-resources.yaml")).unwrap());
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}functionConfig:\n{}",
        serde_norway::to_string(&resources)
            .unwrap()
            .lines()
            .enumerate()
            .map(|(index, line)| format!("{}{line}\n", if index == 0 { "- " } else { "  " }))
            .collect::<String>(),
        serde_norway::to_string(&config)
            .unwrap()
            .lines()
            .map(|line| format!("  {line}\n"))
            .collect::<String>()
    );
    let output = run_function(&list);
    assert!(output.status.success(), "{}", stderr(&output));
    let from_function = by_identity(generated(&parse(&stdout(&output))));
    let from_manifests = by_identity(documents(&stdout(&manifests(&spec, Some("prod")))));
    assert_eq!(from_function, from_manifests);
    let autoscaler = &from_function["autoscaling/v2/HorizontalPodAutoscaler scada/plant-c-frontend"];
    assert_eq!(autoscaler["spec"]["maxReplicas"], 10);
    assert_eq!(autoscaler["spec"]["minReplicas"], 3);
    assert_eq!(
        autoscaler["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        60
    );
    let frontend = &from_function["apps/v1/StatefulSet scada/plant-c-frontend"];
    assert!(
        frontend["spec"].get("replicas").is_none(),
        "an autoscaled StatefulSet must not set replicas"
    );

    config["metadata"]["annotations"] = parse("{ignition.krm.dev/environment: qa}");
    let list = list.replace("ignition.krm.dev/environment: prod", "ignition.krm.dev/environment: qa");
    let output = run_function(&list);
    assert_refused_krm(
        &output,
        &["environment \"qa\" is not in spec.environments (known: dev, prod, staging)"],
    );
}

#[test]
fn replicas_and_autoscaling_together_are_refused() {
    let dir = scratch("replicas-and-autoscaling");
    let spec = dir.join("ignition.yaml");
    std::fs::write(
        &spec,
        SPEC_WITH_ENVIRONMENTS.split("  environments:").next().unwrap().replace(
            "frontend: {replicas: 2}",
            "frontend: {replicas: 2, autoscaling: {maxReplicas: 5}}",
        ),
    )
    .unwrap();
    let output = manifests(&spec, None);
    assert_refused(
        &output,
        &["spec.frontend.replicas: cannot be given with spec.frontend.autoscaling"],
    );
}

// ------------------------------------------------------------------------------------------------ render

#[test]
fn render_twice_changes_no_byte_and_check_finds_every_kind_of_drift() {
    let out = scratch("render-check");
    let out_arg = out.to_str().unwrap();
    let first = render(&[EXAMPLE_SITES, "--out", out_arg]);
    assert!(first.status.success(), "{}", stderr(&first));
    let rendered = snapshot(&out);
    let second = render(&[EXAMPLE_SITES, "--out", out_arg, "--fail-on-change"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(snapshot(&out), rendered, "a second render changed files");

    let clean = render(&[EXAMPLE_SITES, "--out", out_arg, "--check"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(stderr(&clean).contains("files up to date"), "summaries go to stderr");

    let changed = out.join("plant-c/base/statefulset-plant-c-frontend.yaml");
    std::fs::write(
        &changed,
        std::fs::read_to_string(&changed)
            .unwrap()
            .replace("replicas: 2", "replicas: 7"),
    )
    .unwrap();
    let missing = out.join("plant-d/overlays/dev/delete-ingress-plant-d.yaml");
    std::fs::remove_file(&missing).unwrap();
    // A file render wrote (its header) that no spec renders any more is stray; a file of the user's is not.
    let stray = out.join("plant-c/overlays/prod/leftover.yaml");
    std::fs::write(&stray, format!("{}kind: ConfigMap\n", ignition_krm::render::HEADER)).unwrap();
    let users = out.join("plant-c/overlays/prod/extras/sealedsecret.yaml");
    std::fs::create_dir_all(users.parent().unwrap()).unwrap();
    std::fs::write(&users, "kind: SealedSecret\n").unwrap();
    let drifted = snapshot(&out);

    let check = render(&[EXAMPLE_SITES, "--out", out_arg, "--check"]);
    let report = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{report}");
    assert!(report.contains("-  replicas: 7\n+  replicas: 2\n"), "{report}");
    assert!(report.contains(&format!("missing: {}", missing.display())), "{report}");
    assert!(report.contains(&format!("stray: {}", stray.display())), "{report}");
    assert!(!report.contains("sealedsecret"), "{report}");
    assert!(
        stderr(&check).contains("1 changed, 1 missing, 1 stray"),
        "{}",
        stderr(&check)
    );
    assert_eq!(snapshot(&out), drifted, "--check wrote to the tree");

    let fix = render(&[EXAMPLE_SITES, "--out", out_arg, "--fail-on-change"]);
    assert_eq!(
        fix.status.code(),
        Some(1),
        "--fail-on-change must fail after changing files"
    );
    assert!(users.is_file(), "render removed a file it did not write");
    std::fs::remove_dir_all(users.parent().unwrap()).unwrap();
    assert_eq!(snapshot(&out), rendered, "render did not restore the tree");
}

#[test]
fn the_committed_example_tree_is_current() {
    let output = ignition_krm()
        .current_dir(repo_root())
        .args(["render", EXAMPLE_SITES, "--out", EXAMPLE_TREE, "--check"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "examples/rendered is stale: run `cargo run -- render {EXAMPLE_SITES} --out {EXAMPLE_TREE}`\n{}{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn the_rendered_tree_is_flux_safe() {
    let root = repo_root().join(EXAMPLE_TREE);
    let mut directories = vec![root.clone()];
    directories.extend(
        walk(&root)
            .iter()
            .filter_map(|file| file.parent().map(Path::to_path_buf)),
    );
    directories.sort();
    directories.dedup();
    for directory in directories.iter().filter(|directory| **directory != root) {
        assert!(
            directory.join("kustomization.yaml").is_file(),
            "{} has no kustomization.yaml",
            directory.display()
        );
    }
    let mut marked = 0;
    for file in walk(&root) {
        for object in documents(&std::fs::read_to_string(&file).unwrap()) {
            if object.get("metadata").is_none() {
                continue;
            }
            if serde_norway::to_string(&object).unwrap().contains("${") {
                assert_eq!(
                    object["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"].as_str(),
                    Some("disabled"),
                    "{} holds ${{ without turning off Flux's substitution",
                    file.display()
                );
                marked += 1;
            }
        }
    }
    assert!(
        marked > 0,
        "the scripts ConfigMap holds ${{...}}: the check found nothing to check"
    );
}

#[test]
fn render_refuses_bad_specs_and_writes_nothing() {
    let dir = scratch("render-errors");
    std::fs::write(dir.join("ignition.yaml"), SPEC_WITH_ENVIRONMENTS).unwrap();
    let out = dir.join("out");
    let output = render(&[dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("spec.environments.prod.frontend.replicas"));
    assert!(!out.exists());

    let empty = scratch("render-nothing");
    let output = render(&[empty.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_refused(&output, &["no IgnitionCluster found"]);
}

/// The invariant: kustomize building an overlay gives, object for object, what the function gives for
/// that environment; and building the base gives the base.
#[test]
fn kustomize_builds_every_overlay_into_the_functions_output_for_its_environment() {
    let kustomize = tool("kustomize");
    let out = scratch("invariant");
    let rendered = render(&[EXAMPLE_SITES, "bases", "--out", out.to_str().unwrap()]);
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let mut specs = example_specs();
    specs.push(repo_root().join("bases/scaleout/spec/ignition.yaml"));
    specs.push(repo_root().join("bases/failover/spec/ignition.yaml"));
    let mut checked = 0;
    for spec in &specs {
        let site = parse(&std::fs::read_to_string(spec).unwrap())["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut cases = vec![(format!("{site}/base"), None)];
        cases.extend(
            environments(spec)
                .into_iter()
                .map(|environment| (format!("{site}/overlays/{environment}"), Some(environment))),
        );
        for (dir, environment) in cases {
            let built = Command::new(&kustomize)
                .arg("build")
                .arg(out.join(&dir))
                .output()
                .unwrap();
            assert!(built.status.success(), "kustomize build {dir}: {}", stderr(&built));
            let expected = manifests(spec, environment.as_deref());
            assert!(expected.status.success(), "{}", stderr(&expected));
            let built = by_identity(documents(&stdout(&built)));
            let expected = by_identity(documents(&stdout(&expected)));
            assert_eq!(
                built.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "objects of {dir}"
            );
            for (identity, object) in &expected {
                assert_eq!(
                    &built[identity], object,
                    "{dir}: {identity} differs from the function's output"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} builds checked");
}

/// The problems of one overlay patch (applied to its base object, `ops` in order): every operation
/// that goes through a list item with a `name` (or a `metadata.name`) must follow a `test` of that
/// name at that index, so a reviewer reads which item changes; and every `test` must hold.
fn unnamed_list_operations(file: &str, base: &serde_json::Value, ops: &[serde_json::Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut document = base.clone();
    let mut tested: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for op in ops {
        let path = op["path"].as_str().unwrap();
        if op["op"] == "test" {
            tested.insert(path.to_owned(), op["value"].clone());
        } else {
            let segments: Vec<&str> = path.split('/').skip(1).collect();
            // An `add` names a position, not an item: its last index is not checked (the value holds the name).
            let through = if op["op"] == "add" {
                segments.len() - 1
            } else {
                segments.len()
            };
            for end in 1..=through {
                let prefix = format!("/{}", segments[..end].join("/"));
                let parent = format!("/{}", segments[..end - 1].join("/"));
                let parent = if end == 1 {
                    &document
                } else {
                    &document.pointer(&parent).cloned().unwrap_or_default()
                };
                if !parent.is_array() {
                    continue;
                }
                let item = document
                    .pointer(&prefix)
                    .unwrap_or_else(|| panic!("{file}: {path} does not exist"));
                for field in ["/name", "/metadata/name"] {
                    if let Some(name) = item.pointer(field).filter(|name| name.is_string()) {
                        if tested.get(&format!("{prefix}{field}")) != Some(name) {
                            problems.push(format!(
                                "{file}: {} {path} addresses {prefix} ({name}) by index alone",
                                op["op"]
                            ));
                        }
                    }
                }
            }
        }
        let op: json_patch::PatchOperation = serde_json::from_value(op.clone()).unwrap();
        if let Err(error) = json_patch::patch(&mut document, &[op]) {
            problems.push(format!("{file}: {path}: {error}"));
            break;
        }
    }
    problems
}

#[test]
fn no_rendered_patch_addresses_a_named_list_item_by_index_alone() {
    let out = scratch("named-items");
    let rendered = render(&[EXAMPLE_SITES, "bases", "--out", out.to_str().unwrap()]);
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let mut patches = 0;
    let mut list_operations = 0;
    let mut problems = Vec::new();
    let mut first_named = None;
    for file in walk(&out) {
        let name = file.file_name().unwrap().to_str().unwrap();
        let Some(object_file) = name.strip_prefix("patch-") else {
            continue;
        };
        let overlays = file.parent().unwrap().parent().unwrap();
        let base_file = overlays.parent().unwrap().join("base").join(object_file);
        let base = documents(&std::fs::read_to_string(&base_file).unwrap()).remove(0);
        let base = serde_json::to_value(&base).unwrap();
        let ops = serde_json::to_value(documents(&std::fs::read_to_string(&file).unwrap()).remove(0)).unwrap();
        let ops = ops.as_array().unwrap().clone();
        let label = file.strip_prefix(&out).unwrap().display().to_string();
        if ops.iter().any(|op| op["op"] == "test") && first_named.is_none() {
            first_named = Some((label.clone(), base.clone(), ops.clone()));
        }
        list_operations += ops
            .iter()
            .filter(|op| {
                op["op"] != "test"
                    && op["path"]
                        .as_str()
                        .unwrap()
                        .split('/')
                        .any(|s| s.parse::<usize>().is_ok())
            })
            .count();
        problems.extend(unnamed_list_operations(&label, &base, &ops));
        patches += 1;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        patches >= 20 && list_operations >= 20,
        "only {patches} patches, {list_operations} list operations checked"
    );
    // The check can fail: the same patch without its tests addresses items by index alone.
    let (label, base, ops) = first_named.expect("no patch names a list item");
    let bare: Vec<_> = ops.into_iter().filter(|op| op["op"] != "test").collect();
    assert!(
        !unnamed_list_operations(&label, &base, &bare).is_empty(),
        "{label} without tests passed"
    );
}

/// yamllint's default rules, but for two that the tree cannot meet without changing what it says:
/// `line-length`, because scripts and annotation reasons are written verbatim (a literal block cannot be
/// wrapped), and `indentation`'s `indent-sequences: true`, because the emitter writes the compact
/// sequences kubectl and kustomize print (`consistent` still requires one style per file).
const YAMLLINT_CONFIG: &str =
    "{extends: default, rules: {indentation: {indent-sequences: consistent}, line-length: disable}}";

#[test]
fn the_rendered_tree_passes_yamllint() {
    let out = scratch("yamllint");
    let rendered = render(&[EXAMPLE_SITES, "bases", "--out", out.to_str().unwrap()]);
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    for tree in [repo_root().join(EXAMPLE_TREE), out] {
        let output = Command::new(tool("yamllint"))
            .args(["--strict", "-f", "parsable", "-d", YAMLLINT_CONFIG])
            .arg(&tree)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "yamllint {}:\n{}{}",
            tree.display(),
            stdout(&output),
            stderr(&output)
        );
    }
    // It does find problems in a rendered file written without the document start.
    let broken = scratch("yamllint-broken").join("kustomization.yaml");
    let text = std::fs::read_to_string(repo_root().join(EXAMPLE_TREE).join("plant-d/kustomization.yaml")).unwrap();
    std::fs::write(&broken, text.replace("---\n", "")).unwrap();
    let output = Command::new(tool("yamllint"))
        .args(["--strict", "-f", "parsable", "-d", YAMLLINT_CONFIG])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(stdout(&output).contains("document-start"), "{}", stdout(&output));
}

// ---------------------------------------------------------------------------------- kubectl legacy plugin

#[test]
fn kubectl_kustomize_runs_the_binary_as_a_legacy_exec_plugin() {
    let kubectl = tool("kubectl");
    let plugins = scratch("kubectl-plugins");
    let plugin_dir = plugins.join("ignition.krm.dev/v1alpha1/ignitioncluster");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::copy(bin_dir().join("ignition-krm"), plugin_dir.join("IgnitionCluster")).unwrap();
    let output = Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(repo_root().join("examples/kubectl"))
        .env("KUSTOMIZE_PLUGIN_HOME", &plugins)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let built = by_identity(documents(&stdout(&output)));
    let expected = by_identity(documents(&stdout(&manifests(
        &repo_root().join("examples/kubectl/ignition.yaml"),
        Some("prod"),
    ))));
    assert_eq!(built.len(), expected.len());
    assert_eq!(built, expected);
    assert_eq!(
        built["apps/v1/StatefulSet scada/plant-k-frontend"]["spec"]["replicas"],
        4
    );
}

#[test]
fn the_legacy_form_never_shadows_subcommands() {
    let dir = scratch("legacy-shadow");
    std::fs::write(dir.join("schema"), "not a spec").unwrap();
    let output = ignition_krm().current_dir(&dir).arg("schema").output().unwrap();
    assert!(output.status.success());
    assert!(stdout(&output).contains("\"$schema\""));

    let output = ignition_krm().arg(dir.join("schema")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

// ------------------------------------------------------------------------------------------- Argo CD plugin

/// Runs `ignition-krm argocd-generate` as the repo-server sidecar does: in the application's
/// directory, with only the variables Argo CD sets, no HOME, as UID 999 when the test runs as root.
fn argocd_generate(app: &Path, variables: &[(&str, &str)]) -> Output {
    let binary_dir = scratch(&format!("argocd-bin-{}", app.file_name().unwrap().to_string_lossy()));
    let binary = binary_dir.join("ignition-krm");
    std::fs::copy(bin_dir().join("ignition-krm"), &binary).unwrap();
    let mut command = if is_root() && Path::new("/usr/bin/setpriv").exists() {
        let mut command = Command::new("/usr/bin/setpriv");
        command
            .args(["--reuid=999", "--regid=999", "--clear-groups"])
            .arg(&binary);
        command
    } else {
        Command::new(&binary)
    };
    command
        .arg("argocd-generate")
        .current_dir(app)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", binary_dir.display()))
        .env("ARGOCD_APP_NAME", "plant-c")
        .env("ARGOCD_APP_NAMESPACE", "argocd")
        .env("ARGOCD_APP_REVISION", "0123456789abcdef");
    for (key, value) in variables {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| stdout(&output).trim() == "0")
        .unwrap_or(false)
}

/// A copy of an example site that UID 999 can read.
fn app_dir(name: &str, spec: &str) -> PathBuf {
    let dir = scratch(&format!("argocd-app-{name}"));
    std::fs::write(dir.join("ignition.yaml"), spec).unwrap();
    dir
}

#[test]
fn the_argocd_plugin_prints_plain_manifests_for_the_requested_environment() {
    let spec = read("examples/sites/plant-c/ignition.yaml");
    let app = app_dir("plant-c", &spec);
    let expected = stdout(&manifests(&app.join("ignition.yaml"), Some("prod")));

    let by_variable = argocd_generate(&app, &[("ARGOCD_ENV_IGNITION_ENVIRONMENT", "prod")]);
    assert!(by_variable.status.success(), "{}", stderr(&by_variable));
    assert_eq!(stdout(&by_variable), expected);
    let objects = documents(&expected);
    assert!(objects.iter().all(|object| object["kind"] != "ResourceList"
        && object["kind"] != "IgnitionCluster"
        && object["metadata"]["annotations"]["config.kubernetes.io/local-config"].is_null()));
    assert!(objects.iter().any(|object| object["kind"] == "HorizontalPodAutoscaler"));

    let by_parameter = argocd_generate(
        &app,
        &[("ARGOCD_APP_PARAMETERS", r#"[{"name":"environment","string":"prod"}]"#)],
    );
    assert!(by_parameter.status.success(), "{}", stderr(&by_parameter));
    assert_eq!(stdout(&by_parameter), expected);

    let base = argocd_generate(
        &app,
        &[("ARGOCD_APP_PARAMETERS", r#"[{"name":"environment","string":"base"}]"#)],
    );
    assert!(base.status.success(), "{}", stderr(&base));
    assert_eq!(
        stdout(&base),
        stdout(&manifests(&app.join("ignition.yaml"), Some("base")))
    );
}

#[test]
fn the_argocd_plugin_fails_loudly_and_prints_nothing() {
    let spec = read("examples/sites/plant-c/ignition.yaml");
    let app = app_dir("plant-c-errors", &spec);
    let broken = app_dir("broken", &spec.replace("version: \"8.3.3\"", "version: latest"));
    type Case<'a> = (&'a Path, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            &app,
            vec![("ARGOCD_ENV_IGNITION_ENVIRONMENT", "qa")],
            "environment \"qa\" is not in spec.environments",
        ),
        (
            &app,
            vec![("ARGOCD_APP_PARAMETERS", "{not json")],
            "ARGOCD_APP_PARAMETERS: is not the JSON list",
        ),
        (
            &app,
            vec![
                ("ARGOCD_ENV_IGNITION_ENVIRONMENT", "dev"),
                ("ARGOCD_APP_PARAMETERS", r#"[{"name":"environment","string":"prod"}]"#),
            ],
            "give one",
        ),
        (&broken, vec![], "\"latest\" is not allowed"),
        // No silent fallback to the base spec.
        (
            &app,
            vec![],
            "has environments (dev, prod, staging) and none was chosen",
        ),
        (
            &app,
            vec![("ARGOCD_APP_PARAMETERS", r#"[{"name":"enviroment","string":"prod"}]"#)],
            "unknown plugin parameter \"enviroment\" (did you mean \"environment\"?)",
        ),
        (
            &app,
            vec![("ARGOCD_APP_PARAMETERS", r#"[{"name":"environment","string":""}]"#)],
            "plugin parameter \"environment\" is empty",
        ),
        (
            &app,
            vec![("ARGOCD_APP_PARAMETERS", r#"[{"name":"environment","array":["prod"]}]"#)],
            "must be a string",
        ),
    ];
    for (dir, variables, message) in cases {
        eprintln!("argocd-generate with {variables:?}");
        assert_refused(&argocd_generate(dir, &variables), &[message]);
    }
    let empty = scratch("argocd-no-spec");
    assert_refused(&argocd_generate(&empty, &[]), &["no IgnitionCluster in"]);
}

// -------------------------------------------------------------------------------------------------- schema

/// What `ignition-krm schema ARGS` prints, which must be the committed `file` (rewritten with UPDATE_GOLDEN=1).
fn committed_schema(file: &str, args: &[&str]) -> serde_json::Value {
    let path = repo_root().join(file);
    let output = ignition_krm().arg("schema").args(args).output().unwrap();
    assert!(output.status.success());
    let current = stdout(&output);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == current,
        "{file} is stale: rerun with UPDATE_GOLDEN=1\n{}",
        diff(&committed, &current)
    );
    serde_json::from_str(&current).unwrap()
}

#[test]
fn the_committed_schema_matches_the_types() {
    let schema = committed_schema("examples/ignition.schema.json", &[]);
    let environment = &schema["$defs"]["Environment"];
    assert_eq!(environment["additionalProperties"], false);
    assert!(environment["properties"].get("frontend").is_some());
    assert!(environment["properties"].get("architecture").is_none());
    assert!(environment.get("required").is_none());
    assert!(schema["$defs"]["Autoscaling"]["properties"]
        .get("targetCPUUtilizationPercentage")
        .is_some());
}

#[test]
fn the_committed_gateway_resource_schema_matches_the_types() {
    let schema = committed_schema("examples/gateway-resource.schema.json", &["--kind", "GatewayResource"]);
    let spec = &schema["$defs"]["GatewayResourceSpec"];
    assert_eq!(spec["additionalProperties"], false);
    for field in [
        "site",
        "tiers",
        "collection",
        "type",
        "name",
        "config",
        "backupConfig",
        "secrets",
    ] {
        assert!(spec["properties"].get(field).is_some(), "{field}");
    }
}

// ---------------------------------------------------------------------------------------------- pre-commit

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
}

/// `pre-commit try-repo <this repository> HOOK --all-files` in a scratch repository. pre-commit
/// builds the hook with `cargo install`; a fast profile and a shared target directory keep that short.
fn try_hook(site_repo: &Path, hook: &str) -> Output {
    let cache = repo_root().join("target/pre-commit");
    Command::new(tool("pre-commit"))
        .args(["try-repo"])
        .arg(repo_root())
        .args([hook, "--all-files", "--color=never"])
        .current_dir(site_repo)
        .env("PRE_COMMIT_HOME", cache.join("home"))
        .env("CARGO_TARGET_DIR", cache.join("build"))
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .output()
        .unwrap()
}

#[test]
fn the_pre_commit_hooks_fix_and_check_a_stale_tree() {
    let site_repo = scratch("pre-commit-sites");
    git(&site_repo, &["init", "-q"]);
    std::fs::create_dir_all(site_repo.join("sites/plant-d")).unwrap();
    std::fs::copy(
        repo_root().join(EXAMPLE_SITES).join("plant-d/ignition.yaml"),
        site_repo.join("sites/plant-d/ignition.yaml"),
    )
    .unwrap();
    git(&site_repo, &["add", "-A"]);
    git(&site_repo, &["commit", "-qm", "a site"]);

    let report = |output: &Output| format!("{}{}", stdout(output), stderr(output));
    // No tree yet: the render hook writes it and fails, the next run passes.
    let first = try_hook(&site_repo, "ignition-render");
    assert!(!first.status.success(), "{}", report(&first));
    let rendered = site_repo.join("rendered/plant-d/overlays/prod/kustomization.yaml");
    assert!(rendered.is_file(), "{}", report(&first));
    git(&site_repo, &["add", "-A"]);
    git(&site_repo, &["commit", "-qm", "rendered"]);
    let current = try_hook(&site_repo, "ignition-render");
    assert!(current.status.success(), "{}", report(&current));
    let check = try_hook(&site_repo, "ignition-render-check");
    assert!(check.status.success(), "{}", report(&check));

    // The spec changes and the tree is not re-rendered: the check fails and writes nothing; the
    // render hook fails and fixes it.
    let spec = site_repo.join("sites/plant-d/ignition.yaml");
    std::fs::write(
        &spec,
        std::fs::read_to_string(&spec)
            .unwrap()
            .replace("size: 50Gi", "size: 80Gi"),
    )
    .unwrap();
    git(&site_repo, &["commit", "-qam", "bigger prod volume"]);
    let stale = snapshot(&site_repo.join("rendered"));
    let check = try_hook(&site_repo, "ignition-render-check");
    assert!(!check.status.success(), "{}", report(&check));
    assert!(
        report(&check).contains("1 changed, 0 missing, 0 stray"),
        "{}",
        report(&check)
    );
    assert_eq!(snapshot(&site_repo.join("rendered")), stale);
    let fix = try_hook(&site_repo, "ignition-render");
    assert!(!fix.status.success(), "{}", report(&fix));
    let patch = site_repo.join("rendered/plant-d/overlays/prod/patch-statefulset-plant-d-gateway.yaml");
    assert!(std::fs::read_to_string(patch).unwrap().contains("80Gi"));
    let after = try_hook(&site_repo, "ignition-render");
    assert!(after.status.success(), "{}", report(&after));
}
