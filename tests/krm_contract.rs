//! The KRM function contract (shared/KRM.md, "The ResourceList"), one test per point.

mod common;

use common::*;
use serde_norway::Value;

const SCALEOUT: &str = "bases/scaleout/spec/ignition.yaml";
const FAILOVER: &str = "bases/failover/spec/ignition.yaml";

fn spec_json() -> String {
    let spec = parse(&read(FAILOVER));
    serde_json::to_string(&serde_json::to_value(&spec).unwrap()).unwrap()
}

fn ok_run(input: &str) -> (Value, String) {
    let output = run_function(input);
    assert!(output.status.success(), "the function failed:\n{}", stderr(&output));
    assert_eq!(stderr(&output), "", "nothing on stderr on success");
    (parse(&stdout(&output)), stdout(&output))
}

fn statefulsets(list: &Value) -> usize {
    generated(list)
        .iter()
        .filter(|object| object["kind"] == "StatefulSet")
        .count()
}

// 1. Input versions, JSON, a missing `items`.

#[test]
fn accepts_every_resource_list_version_and_kind_list() {
    let spec = read(FAILOVER).replace('\n', "\n  ");
    for header in [
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList",
        "apiVersion: config.kubernetes.io/v1beta1\nkind: ResourceList",
        "apiVersion: config.kubernetes.io/v1alpha1\nkind: ResourceList",
        "apiVersion: v1\nkind: List",
    ] {
        let (list, _) = ok_run(&format!("{header}\nitems: []\nfunctionConfig:\n  {spec}"));
        assert_eq!(statefulsets(&list), 1, "with {header:?}");
        assert_eq!(list["apiVersion"], "config.kubernetes.io/v1", "output is always v1");
    }
}

#[test]
fn accepts_json_input_and_a_missing_items_field() {
    let input = format!(
        r#"{{"apiVersion":"config.kubernetes.io/v1","kind":"ResourceList","functionConfig":{}}}"#,
        spec_json()
    );
    let (list, _) = ok_run(&input);
    assert_eq!(statefulsets(&list), 1);
}

#[test]
fn rejects_other_resource_list_versions() {
    let output = run_function("apiVersion: config.kubernetes.io/v2\nkind: ResourceList\nitems: []\n");
    assert_refused_krm(&output, &["config.kubernetes.io/v2"]);
}

// 2. Output shape.

#[test]
fn output_is_a_v1_resource_list_with_items_and_no_function_config() {
    let (list, text) = ok_run(&kustomize_input(SCALEOUT));
    assert!(
        text.starts_with("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"),
        "{text}"
    );
    assert!(list.get("functionConfig").is_none(), "functionConfig is input only");
    assert!(list.get("results").is_none(), "no results when there is nothing to say");
}

#[test]
fn items_is_present_even_when_empty() {
    let output = run_function("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n");
    assert_eq!(output.status.code(), Some(2), "no spec is an error");
    let list = parse(&stdout(&output));
    assert_eq!(list["items"], Value::Sequence(vec![]), "items: [] is written");
}

// 3. Results: explicit severity, field as an object with path, resourceRef, file.

#[test]
fn results_carry_severity_field_path_values_resource_and_file() {
    let input = kustomize_input(FAILOVER).replace("memory: 4Gi", "memory: 4GB").replace(
        "config.kubernetes.io/local-config: 'true'",
        "config.kubernetes.io/local-config: 'true'\n      internal.config.kubernetes.io/path: site/ignition.yaml",
    );
    let output = run_function(&input);
    assert_eq!(output.status.code(), Some(2));
    let list = parse(&stdout(&output));
    let results = list["results"].as_sequence().expect("results").clone();
    assert_eq!(
        results.len(),
        1,
        "the function config is the spec; its copy among the items passes through: {results:?}"
    );
    let result = &results[0];
    assert_eq!(result["severity"], "error", "severity is always written");
    assert_eq!(
        result["field"]["path"], "spec.gateway.resources.memory",
        "field is an object with a path"
    );
    assert_eq!(result["field"]["currentValue"], "4GB");
    assert_eq!(result["resourceRef"]["kind"], "IgnitionCluster");
    assert_eq!(result["resourceRef"]["name"], "plant-b");
    assert_eq!(result["resourceRef"]["namespace"], "scada");
    assert!(
        result["message"].as_str().unwrap().contains("unknown suffix"),
        "{result:?}"
    );
    assert_eq!(
        result["file"]["path"], "site/ignition.yaml",
        "the file of the spec's item is named"
    );
}

// 4. Errors: exit 2 (non-zero, README "Exit codes"), a valid ResourceList with the results on stdout, a message on stderr.

#[test]
fn an_error_exits_2_with_a_valid_resource_list_a_message_and_no_generated_objects() {
    let input = kustomize_input(SCALEOUT).replace("replicas: 3", "replicas: 0");
    let output = run_function(&input);
    let list = assert_refused_krm(
        &output,
        &["ignition-krm: error: IgnitionCluster scada/plant-a: spec.frontend.replicas: must be at least 1"],
    );
    assert_eq!(items(&list).len(), 1, "the items come back as they were");
}

#[test]
fn garbage_input_still_gives_a_resource_list_on_stdout() {
    for input in [
        "",
        "::: not yaml",
        "[1, 2]",
        "\u{0}\u{1}binary",
        "apiVersion: v1\nkind: ConfigMap\n",
    ] {
        let output = run_function(input);
        assert_eq!(output.status.code(), Some(2), "input {input:?}");
        let list = parse(&stdout(&output));
        assert_eq!(list["kind"], "ResourceList", "input {input:?}");
        assert_eq!(list["results"][0]["severity"], "error");
        assert_eq!(
            stderr(&output).lines().count(),
            1,
            "one line on stderr for {input:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn invalid_utf8_is_a_clear_error() {
    let output = ignition_krm()
        .write_stdin(vec![0x66, 0x6f, 0xff, 0xfe])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not UTF-8"), "{}", stderr(&output));
}

// 5. and 6. Items the function does not own pass through untouched, the function config included.

#[test]
fn foreign_items_and_the_config_item_pass_through_untouched() {
    let mut input = parse(&kustomize_input(SCALEOUT));
    let foreign = parse(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\n  annotations:\n    config.kubernetes.io/path: other.yaml\n    config.kubernetes.io/index: '2'\n    internal.config.kubernetes.io/path: other.yaml\n    internal.config.kubernetes.io/index: '2'\n    internal.config.kubernetes.io/id: '7'\n    config.k8s.io/id: '7'\n    kustomize.config.k8s.io/id: |\n      kind: Secret\n      name: other\nstringData:\n  enabled: 'yes'\n  weird: \"tab\\tand\\nnewline\"\n",
    );
    input["items"].as_sequence_mut().unwrap().push(foreign.clone());
    let input_items = items(&input);
    let (list, _) = ok_run(&serde_norway::to_string(&input).unwrap());
    let output_items = items(&list);
    assert_eq!(
        &output_items[..input_items.len()],
        &input_items[..],
        "input items come first, unchanged"
    );
    assert_eq!(
        output_items[0]["kind"], "IgnitionCluster",
        "the function config item is kept (kpt writes items back to files)"
    );
}

#[test]
fn generated_objects_do_not_copy_the_config_annotations() {
    let (list, _) = ok_run(&kustomize_input(SCALEOUT));
    for object in generated(&list) {
        let annotations = object["metadata"]["annotations"].as_mapping().unwrap();
        for key in annotations.keys().map(|key| key.as_str().unwrap()) {
            assert!(
                key.starts_with("ignition.krm.dev/")
                    || key.starts_with("internal.config.kubernetes.io/")
                    || key.starts_with("nginx.ingress.kubernetes.io/")
                    // Our own: turns off Flux's substitution on objects holding `${`.
                    || key == "kustomize.toolkit.fluxcd.io/substitute"
                    // Ours: the checks that cannot pass and why (README, security scanning).
                    || key.starts_with("checkov.io/skip")
                    // Stakater Reloader's convention: a renewed certificate rolls the StatefulSet.
                    || key == "secret.reloader.stakater.com/reload",
                "{key} on {:?}",
                kind_and_name(&object)
            );
        }
    }
}

// 7. Generated objects say which file kpt should write them to.

#[test]
fn generated_objects_have_a_unique_relative_path() {
    let (list, _) = ok_run(&kustomize_input(SCALEOUT));
    let mut paths = std::collections::BTreeSet::new();
    for object in generated(&list) {
        let path = object["metadata"]["annotations"]["internal.config.kubernetes.io/path"]
            .as_str()
            .expect("a path")
            .to_owned();
        assert!(
            path.starts_with("ignition/plant-a/") && path.ends_with(".yaml") && !path.contains('\\'),
            "{path}"
        );
        assert!(paths.insert(path.clone()), "{path} is used twice");
    }
    // 20 objects, and 5 of cert-manager for the default Gateway Network trust.
    assert_eq!(paths.len(), 25);
}

// 8. Idempotency: re-running on the output replaces the owned objects.

#[test]
fn running_on_its_own_output_changes_nothing() {
    for spec in [SCALEOUT, FAILOVER] {
        let (_, first) = ok_run(&kustomize_input(spec));
        let (list, second) = ok_run(&first);
        assert!(
            first == second,
            "f(f(x)) != f(x) for {spec}:\n{}",
            diff(&first, &second)
        );
        let mut identities = std::collections::BTreeSet::new();
        for item in items(&list) {
            let identity = (
                item["apiVersion"].clone(),
                item["kind"].clone(),
                item["metadata"]["namespace"].clone(),
                item["metadata"]["name"].clone(),
            );
            assert!(
                identities.insert(format!("{identity:?}")),
                "duplicate object {identity:?}"
            );
        }
    }
}

#[test]
fn owned_objects_no_longer_generated_are_dropped() {
    let (_, first) = ok_run(&kustomize_input(SCALEOUT));
    assert!(first.contains("kind: Ingress\n"));
    // The same output, but the function config no longer asks for an Ingress.
    let mut list = parse(&first);
    let mut config = parse(&read(SCALEOUT));
    config["spec"].as_mapping_mut().unwrap().remove("ingress");
    list.as_mapping_mut().unwrap().insert("functionConfig".into(), config);
    let (_, second) = ok_run(&serde_norway::to_string(&list).unwrap());
    assert!(
        !second.contains("kind: Ingress\n"),
        "the Ingress of the earlier run is removed"
    );
}

#[test]
fn objects_owned_by_another_site_are_kept() {
    let (_, plant_a) = ok_run(&kustomize_input(SCALEOUT));
    let mut list = parse(&plant_a);
    list.as_mapping_mut()
        .unwrap()
        .insert("functionConfig".into(), parse(&read(FAILOVER)));
    let (result, _) = ok_run(&serde_norway::to_string(&list).unwrap());
    let owners: std::collections::BTreeSet<String> = generated(&result)
        .iter()
        .map(|object| {
            object["metadata"]["annotations"]["ignition.krm.dev/owner"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(owners, ["scada/plant-a".to_owned(), "scada/plant-b".to_owned()].into());
}

#[test]
fn a_generated_object_clashing_with_a_foreign_item_is_an_error() {
    let mut input = parse(&kustomize_input(SCALEOUT));
    input["items"].as_sequence_mut().unwrap().push(parse(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: plant-a\n  namespace: scada\n",
    ));
    let output = run_function(&serde_norway::to_string(&input).unwrap());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("v1/ServiceAccount scada/plant-a"),
        "{}",
        stderr(&output)
    );
}

// 9. Determinism: same input, same bytes, whatever the environment.

#[test]
fn output_is_byte_identical_across_runs_and_environments() {
    let input = kustomize_input(SCALEOUT);
    let (_, reference) = ok_run(&input);
    for (key, value) in [
        ("TZ", "Asia/Tokyo"),
        ("ARGOCD_APP_REVISION", "abc123"),
        ("LANG", "de_DE.UTF-8"),
        ("HOME", "/nonexistent"),
    ] {
        let output = ignition_krm()
            .env(key, value)
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(stdout(&output) == reference, "output changed with {key}={value}");
    }
}

#[test]
fn every_ignition_cluster_item_is_expanded_without_a_function_config() {
    let specs = [read(SCALEOUT), read(FAILOVER)].map(|text| text.replace('\n', "\n  "));
    let input = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {}\n- {}\n",
        specs[0], specs[1]
    );
    let (list, _) = ok_run(&input);
    assert_eq!(statefulsets(&list), 3, "two scaleout tiers and one failover pair");
}

#[test]
fn two_specs_with_the_same_name_are_an_error() {
    let spec = read(FAILOVER).replace('\n', "\n  ");
    let input = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {spec}\n- {spec}\n");
    let output = run_function(&input);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("names must be unique"), "{}", stderr(&output));
}

#[test]
fn a_renamed_site_leaves_no_orphans() {
    // kpt: the spec is an item of the package; the user renames the site and runs the function again.
    let (first, _) = ok_run(&kustomize_input(FAILOVER));
    let mut list = first.clone();
    list.as_mapping_mut().unwrap().remove("functionConfig");
    let spec = list["items"]
        .as_sequence_mut()
        .unwrap()
        .iter_mut()
        .find(|item| item["kind"] == "IgnitionCluster")
        .unwrap();
    spec["metadata"]["name"] = "plant-z".into();
    let output = run_function(&serde_norway::to_string(&list).unwrap());
    assert!(output.status.success(), "{}", stderr(&output));
    let second = parse(&stdout(&output));
    // The rename recreates the StatefulSet under a new name: a warning says so, with the old name.
    assert!(
        stderr(&output).contains("ignition-krm: warning: StatefulSet scada/plant-b-gateway: StatefulSet plant-b-gateway is no longer generated (now: plant-z-gateway)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(second["results"][0]["severity"], "warning");
    let owners: std::collections::BTreeSet<String> = generated(&second)
        .iter()
        .map(|object| {
            object["metadata"]["annotations"]["ignition.krm.dev/owner"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        owners,
        ["scada/plant-z".to_owned()].into(),
        "the old site's objects are gone"
    );
    assert_eq!(generated(&second).len(), generated(&first).len());
}
