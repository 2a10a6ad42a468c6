//! `apply-resources.sh`, the init container that writes 8.3 gateway resources, run with real bash
//! against a fake data volume and a fake projected volume built from the generated objects
//! themselves: the StatefulSet's volume items, the ConfigMap's data and a Secret's data, laid out as
//! the kubelet lays out a projected volume (Kubernetes docs, "Volumes", projected: every item at its
//! `path`; the atomic writer's `..data` link to a timestamped directory, with a link per top-level
//! entry).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_norway::Value;

const CASE: &str = "tests/testdata/failover-gateway-resources-8.3/input.yaml";
const DB_DIR: &str = "config/resources/external/ignition/database-connection/Historian DB";
const PLC_DIR: &str = "config/resources/external/com.inductiveautomation.opcua/server-connection/PLC Link";
const DEVICE_DIR: &str = "config/resources/prod/com.inductiveautomation.opcua/device/Line 1";
/// The secret config the Secret holds: the field's JSON value (IA docs 8.3, "Secrets Management";
/// the shape of `system.secrets.createReferencedSecretConfig`'s result), with characters bash's
/// pattern substitution would otherwise treat specially.
const SECRET_VALUE: &str = r#"{"type": "Referenced", "data": {"providerName": "vault & co", "secretName": "db\\pw"}}"#;

struct Generated {
    objects: Vec<Value>,
}

impl Generated {
    fn new() -> Self {
        let output = run_function(&read(CASE));
        assert!(output.status.success(), "{}", stderr(&output));
        let list = parse(&stdout(&output));
        Generated {
            objects: generated(&list),
        }
    }

    fn script(&self) -> String {
        find(&self.objects, "ConfigMap", "plant-r-scripts")["data"]["apply-resources.sh"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn pod_spec(&self) -> &Value {
        &find(&self.objects, "StatefulSet", "plant-r-gateway")["spec"]["template"]["spec"]
    }

    /// The init container's environment, as generated.
    fn env(&self) -> BTreeMap<String, String> {
        let container = self.pod_spec()["initContainers"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|container| container["name"] == "apply-resources")
            .expect("an apply-resources init container");
        container["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|env| Some((env["name"].as_str()?.to_owned(), env["value"].as_str()?.to_owned())))
            .collect()
    }

    /// Writes the projected volume as the kubelet would, with `secret_data` as the Secret's data.
    fn project(&self, root: &Path, secret_data: &BTreeMap<&str, &str>) {
        let volume = self.pod_spec()["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|volume| volume["name"] == "gateway-resources")
            .expect("the gateway-resources volume");
        let config_map = find(&self.objects, "ConfigMap", "plant-r-gateway-resources");
        let data_dir = root.join("..2026_11_26_06_00_00.000000001");
        let mut top = Vec::new();
        for source in volume["projected"]["sources"].as_sequence().unwrap() {
            let from_config_map = source["configMap"].is_mapping();
            let items = if from_config_map {
                &source["configMap"]["items"]
            } else {
                &source["secret"]["items"]
            };
            let value_of = |key: &str| {
                if from_config_map {
                    config_map["data"][key].as_str().map(str::to_owned)
                } else {
                    secret_data.get(key).map(|value| (*value).to_owned())
                }
            };
            for item in items.as_sequence().unwrap() {
                let path = item["path"].as_str().unwrap();
                let Some(value) = value_of(item["key"].as_str().unwrap()) else {
                    continue;
                };
                let file = data_dir.join(path);
                fs::create_dir_all(file.parent().unwrap()).unwrap();
                fs::write(&file, value).unwrap();
                top.push(path.split('/').next().unwrap().to_owned());
            }
        }
        symlink(data_dir.file_name().unwrap(), root.join("..data")).unwrap();
        top.sort();
        top.dedup();
        for entry in top {
            symlink(format!("..data/{entry}"), root.join(entry)).unwrap();
        }
    }
}

struct Pod {
    dir: PathBuf,
}

impl Pod {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir()
            .join(format!("ignition-krm-resource-scripts-{}", std::process::id()))
            .join(test);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("source")).unwrap();
        fs::create_dir_all(dir.join("volume")).unwrap();
        Pod { dir }
    }

    fn volume(&self, relative: &str) -> PathBuf {
        self.dir.join("volume").join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.volume(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.volume(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"))
    }

    /// Runs the shipped script as pod `pod`, with the generated environment and the sandbox paths.
    fn run(&self, generated: &Generated, pod: &str, overrides: &[(&str, &str)]) -> Output {
        let script = self.dir.join("apply-resources.sh");
        fs::write(&script, generated.script()).unwrap();
        let mut env = generated.env();
        env.insert("POD_NAME".to_owned(), pod.to_owned());
        env.insert("DATA_VOLUME".to_owned(), self.dir.join("volume").display().to_string());
        env.insert(
            "RESOURCES_SOURCE".to_owned(),
            self.dir.join("source").display().to_string(),
        );
        for (key, value) in overrides {
            env.insert((*key).to_owned(), (*value).to_owned());
        }
        Command::new("bash")
            .arg(&script)
            .env_clear()
            .env(
                "PATH",
                std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned()),
            )
            .envs(&env)
            .output()
            .unwrap()
    }

    /// Every file under a directory of the volume, relative to it.
    fn files(&self, relative: &str) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let base = self.volume(relative);
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        out.sort();
        out
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        // Kept for inspection when the test fails.
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
            let _ = fs::remove_dir(self.dir.parent().unwrap());
        }
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}):\n{text}"))
}

fn secret() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("password-config", SECRET_VALUE)])
}

/// A data volume as the gateway left it: its own collections, and an external resource no longer declared.
fn lived_in(pod: &Pod) {
    pod.write(
        "config/resources/core/ignition/database-connection/Local/config.json",
        "{\"core\": true}\n",
    );
    pod.write(
        "config/resources/local/ignition/gateway-settings/config.json",
        "{\"local\": true}\n",
    );
    pod.write(
        "config/resources/external/ignition/database-connection/Removed/config.json",
        "{}\n",
    );
    pod.write(
        "config/resources/external/ignition/database-connection/Removed/resource.json",
        "{}\n",
    );
}

#[test]
fn the_master_gets_exactly_the_declared_set_with_its_secret_and_the_gateways_own_files_stay() {
    let generated = Generated::new();
    let pod = Pod::new("master");
    generated.project(&pod.dir.join("source"), &secret());
    lived_in(&pod);
    let output = pod.run(&generated, "plant-r-gateway-0", &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    assert_eq!(
        pod.files("config/resources/external"),
        [
            "com.inductiveautomation.opcua/server-connection/PLC Link/config.json",
            "com.inductiveautomation.opcua/server-connection/PLC Link/resource.json",
            "ignition/database-connection/Historian DB/config.json",
            "ignition/database-connection/Historian DB/resource.json",
        ]
    );
    assert_eq!(
        pod.files("config/resources/prod"),
        [
            "com.inductiveautomation.opcua/device/Line 1/config.json",
            "com.inductiveautomation.opcua/device/Line 1/resource.json",
        ]
    );
    let database = json(&pod.read(&format!("{DB_DIR}/config.json")));
    assert_eq!(database["password"], json(SECRET_VALUE));
    assert_eq!(database["username"], "ignition");
    assert_eq!(
        json(&pod.read(&format!("{PLC_DIR}/config.json")))["endpointUrl"],
        "opc.tcp://plc-a.plant.example:4840"
    );
    assert_eq!(
        json(&pod.read(&format!("{DEVICE_DIR}/config.json")))["settings"]["port"],
        502
    );
    let descriptor = json(&pod.read(&format!("{DB_DIR}/resource.json")));
    assert_eq!(descriptor["files"], serde_json::json!(["config.json"]));
    assert_eq!(
        pod.read("config/resources/core/ignition/database-connection/Local/config.json"),
        "{\"core\": true}\n"
    );
    assert_eq!(
        pod.read("config/resources/local/ignition/gateway-settings/config.json"),
        "{\"local\": true}\n"
    );
    // Nothing of the staging is left beside the collections.
    let mut left: Vec<String> = fs::read_dir(pod.volume("config/resources"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["core", "external", "local", "prod"]);

    // The next start gives the same files.
    let again = pod.run(&generated, "plant-r-gateway-0", &[]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(
        json(&pod.read(&format!("{DB_DIR}/config.json")))["password"],
        json(SECRET_VALUE)
    );
}

#[test]
fn the_backup_node_takes_the_backup_version() {
    let generated = Generated::new();
    let pod = Pod::new("backup");
    generated.project(&pod.dir.join("source"), &secret());
    let output = pod.run(&generated, "plant-r-gateway-1", &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        json(&pod.read(&format!("{PLC_DIR}/config.json")))["endpointUrl"],
        "opc.tcp://plc-b.plant.example:4840"
    );
    assert!(!pod.volume(&format!("{PLC_DIR}/backup-config.json")).exists());
    assert!(String::from_utf8_lossy(&output.stdout).contains("(backup node)"));
}

#[test]
fn a_bare_secret_value_is_refused_and_the_collection_stays_as_it_was() {
    let generated = Generated::new();
    let pod = Pod::new("bare-secret");
    generated.project(
        &pod.dir.join("source"),
        &BTreeMap::from([("password-config", "hunter2")]),
    );
    lived_in(&pod);
    let output = pod.run(&generated, "plant-r-gateway-0", &[]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("must hold a JSON object"), "{said}");
    assert!(!said.contains("hunter2"), "the secret is not printed: {said}");
    assert!(pod
        .volume("config/resources/external/ignition/database-connection/Removed/config.json")
        .exists());
}

#[test]
fn a_secret_field_without_its_key_is_refused() {
    let generated = Generated::new();
    let pod = Pod::new("missing-secret");
    generated.project(&pod.dir.join("source"), &BTreeMap::new());
    let output = pod.run(&generated, "plant-r-gateway-0", &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("a secret field has no Secret key projected"));
}

#[test]
fn the_gateways_own_collections_are_never_replaced() {
    let generated = Generated::new();
    for collection in ["core", "local", "system", "../x"] {
        let pod = Pod::new(&format!("own-{}", collection.replace('/', "_")));
        generated.project(&pod.dir.join("source"), &secret());
        lived_in(&pod);
        let output = pod.run(&generated, "plant-r-gateway-0", &[("RESOURCE_COLLECTIONS", collection)]);
        assert!(!output.status.success(), "{collection}");
        assert_eq!(
            pod.read("config/resources/core/ignition/database-connection/Local/config.json"),
            "{\"core\": true}\n"
        );
    }
}
