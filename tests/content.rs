//! Projects and third-party modules seen from the manifests: which tier fetches what, that a new
//! pin rolls exactly the tiers that use it, and that the gateway sees each checked module file in
//! the image's module folder while keeping the image's own modules.

mod common;

use common::*;
use serde_norway::Value;

const CASE: &str = "tests/testdata/scaleout-projects-modules-8.3/input.yaml";
const BACKEND: &str = "plant-c-backend";
const FRONTEND: &str = "plant-c-frontend";
const PROJECT_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const MODULE_SHA: &str = "2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE";

fn expand(input: &str) -> Vec<Value> {
    let output = run_function(input);
    assert!(output.status.success(), "{}", stderr(&output));
    generated(&parse(&stdout(&output)))
}

fn template<'a>(objects: &'a [Value], statefulset: &str) -> &'a Value {
    &find(objects, "StatefulSet", statefulset)["spec"]["template"]
}

fn init_container<'a>(template: &'a Value, name: &str) -> Option<&'a Value> {
    template["spec"]["initContainers"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|container| container["name"] == name)
}

fn env(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|variable| {
            (
                variable["name"].as_str().unwrap().to_owned(),
                variable["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

#[test]
fn each_tier_fetches_only_what_the_spec_gives_it() {
    let objects = expand(&read(CASE));
    let backend = env(init_container(template(&objects, BACKEND), "fetch-content").unwrap());
    assert_eq!(value(&backend, "PROJECT_COUNT"), Some("1"));
    assert_eq!(value(&backend, "PROJECT_0_NAME"), Some("global"));
    assert_eq!(value(&backend, "MODULE_COUNT"), Some("1"));
    assert_eq!(value(&backend, "MODULE_0_ID"), Some("com.example.historian-bridge"));
    assert_eq!(value(&backend, "MODULE_0_URL"), None);
    assert_eq!(
        value(&backend, "MODULE_0_FILE"),
        Some("/module-files/historian-bridge/HistorianBridge-1.0.3.modl")
    );
    let frontend = env(init_container(template(&objects, FRONTEND), "fetch-content").unwrap());
    assert_eq!(value(&frontend, "PROJECT_COUNT"), Some("2"));
    assert_eq!(value(&frontend, "PROJECT_1_NAME"), Some("hmi"));
    assert_eq!(value(&frontend, "MODULE_0_ID"), Some("com.example.reporting"));
    assert_eq!(
        value(&frontend, "MODULE_0_SHA256"),
        Some(MODULE_SHA.to_ascii_lowercase().as_str()),
        "sha256sum prints lowercase"
    );

    // Each tier accepts what the spec accepts for its own modules, nothing else.
    let frontend_env = &find(&objects, "ConfigMap", "plant-c-frontend-env")["data"];
    assert_eq!(frontend_env["ACCEPT_MODULE_LICENSES"], "com.example.reporting");
    assert_eq!(frontend_env["ACCEPT_MODULE_CERTS"], "com.example.reporting");
    let backend_env = &find(&objects, "ConfigMap", "plant-c-backend-env")["data"];
    assert_eq!(backend_env["ACCEPT_MODULE_LICENSES"], "com.example.historian-bridge");
    assert!(
        backend_env["ACCEPT_MODULE_CERTS"].is_null(),
        "acceptCertificate is not given"
    );
}

#[test]
fn the_gateway_mounts_each_checked_module_file_and_nothing_over_the_image_s_modules() {
    let objects = expand(&read(CASE));
    let frontend = template(&objects, FRONTEND);
    let gateway = frontend["spec"]["containers"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|container| container["name"] == "gateway")
        .unwrap();
    let module_mounts: Vec<&Value> = gateway["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|mount| mount["mountPath"].as_str().unwrap().contains("user-lib/modules"))
        .collect();
    assert_eq!(module_mounts.len(), 1, "{module_mounts:?}");
    let mount = module_mounts[0];
    // One file, not the folder: the image's own modules stay visible beside it.
    assert_eq!(
        mount["mountPath"],
        "/usr/local/bin/ignition/user-lib/modules/com.example.reporting.modl"
    );
    assert_eq!(mount["subPath"], "com.example.reporting.modl");
    assert_eq!(mount["readOnly"], true);
    // The fetch step writes the same volume where the script's MODULES_DIR says.
    let fetch = init_container(frontend, "fetch-content").unwrap();
    let modules_dir = value(&env(fetch), "MODULES_DIR").unwrap().to_owned();
    assert!(fetch["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|fetch_mount| fetch_mount["name"] == mount["name"] && fetch_mount["mountPath"] == modules_dir.as_str()));
    // Only the tier with a module from the volume mounts the claim, and only into fetch-content.
    let frontend_text = serde_json::to_string(frontend).unwrap();
    assert!(!frontend_text.contains("module-files"));
    let backend = template(&objects, BACKEND);
    let claim = backend["spec"]["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|volume| volume["name"] == "module-files")
        .unwrap();
    assert_eq!(claim["persistentVolumeClaim"]["readOnly"], true);
    for container in backend["spec"]["containers"].as_sequence().unwrap() {
        assert!(!serde_json::to_string(container).unwrap().contains("module-files"));
    }
}

#[test]
fn a_new_pin_rolls_exactly_the_tiers_that_use_it() {
    let base = expand(&read(CASE));
    // The URL module is the frontends' only: a new pin of it leaves the backend's pods alone.
    let new_module = expand(&read(CASE).replace(MODULE_SHA, &"e".repeat(64)));
    assert_eq!(template(&base, BACKEND), template(&new_module, BACKEND));
    assert_ne!(template(&base, FRONTEND), template(&new_module, FRONTEND));
    // The project archive is every tier's: both roll.
    let new_project = expand(&read(CASE).replace(PROJECT_SHA, &"f".repeat(64)));
    assert_ne!(template(&base, BACKEND), template(&new_project, BACKEND));
    assert_ne!(template(&base, FRONTEND), template(&new_project, FRONTEND));
}

#[test]
fn the_projects_go_in_after_the_data_volume_is_ready_and_before_a_restore() {
    let input = read(CASE).replace(
        "    projects:\n",
        "    restore:\n      volumeClaim: backups\n      path: plant-c.gwbk\n    projects:\n",
    );
    let objects = expand(&input);
    let names: Vec<&str> = template(&objects, BACKEND)["spec"]["initContainers"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|container| container["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prepare-data", "gan-trust", "fetch-content", "prepare-backup"]);
}

#[test]
fn a_tier_with_no_content_gets_no_fetch_step() {
    let objects = expand(&read("tests/testdata/scaleout-8.3/input.yaml"));
    for statefulset in ["plant-a-backend", "plant-a-frontend"] {
        assert!(init_container(template(&objects, statefulset), "fetch-content").is_none());
    }
}
