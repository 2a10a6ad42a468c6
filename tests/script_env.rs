//! Every environment variable a script of the `<site>-scripts` ConfigMap reads is set on each container that
//! runs it (as its command or as a probe), in the manifests of every golden case: `env` entries and the keys of
//! the ConfigMaps of `envFrom`. The scripts carry no defaults: what a script needs it reads as `${NAME:?...}`,
//! and the value comes from Rust; `${NAME:-}` marks a variable that may be absent (absent means "none").

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_norway::Value;

/// Variables a script reads with a default value, and why that is not a setting Rust should give: locations
/// fixed by Kubernetes or by the image, which only the tests' fakes move.
const SEAMS: &[(&str, &str, &str)] = &[
    (
        "label-active.sh",
        "SERVICE_ACCOUNT_DIR",
        "the kubelet mounts the token there (Kubernetes docs, \"Configure Service Accounts for Pods\")",
    ),
    (
        "label-active.sh",
        "KUBE_API_URL",
        "the in-cluster API server address (Kubernetes docs, \"Accessing the Kubernetes API from a Pod\")",
    ),
    (
        "label-active.sh",
        "MAX_POLLS",
        "0 polls forever; the tests stop the loop with it",
    ),
    (
        "gan-trust.sh",
        "IGNITION_INSTALL_DIR",
        "the image's install directory (inductiveautomation/ignition image)",
    ),
    (
        "fetch-backup.sh",
        "RESTORE_PROTOCOLS",
        "https only; the tests' fake server speaks plain http",
    ),
    (
        "fetch-content.sh",
        "CONTENT_PROTOCOLS",
        "https only; the tests serve the archives and modules over file:// and plain http",
    ),
];

/// Variables a script reads only in one mode, with the variable and value that select it.
const CONDITIONAL: &[(&str, &[&str], (&str, &str))] = &[(
    "prepare-data.sh",
    &[
        "REDUNDANCY_MASTER_HOST",
        "REDUNDANCY_GAN_PORT",
        "REDUNDANCY_STANDBY_ACTIVITY_LEVEL",
        "REDUNDANCY_MASTER_RECOVERY_MODE",
    ],
    ("REDUNDANCY_MODE", "pair"),
)];

/// How a script reads one variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// `${NAME:?message}` or a bare `${NAME}`: the script stops without it.
    Required,
    /// `${NAME:-}`: absent means none.
    Optional,
    /// `${NAME:-value}` or another form with a value of its own.
    Defaulted,
}

/// The environment variables (upper-case names) a script reads, and how; comment lines are skipped.
fn variables(script: &str) -> BTreeMap<String, Read> {
    let mut found = BTreeMap::new();
    for line in script.lines().filter(|line| !line.trim_start().starts_with('#')) {
        let mut rest = line;
        while let Some(at) = rest.find("${") {
            rest = &rest[at + 2..];
            let length = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(length);
            if name.is_empty() || !after.starts_with([':', '}', '-', '?', '=', '+']) {
                continue;
            }
            let read = if after.starts_with('}') || after.starts_with(":?") || after.starts_with('?') {
                Read::Required
            } else if after.starts_with(":-}") || after.starts_with("-}") {
                Read::Optional
            } else {
                Read::Defaulted
            };
            // The strictest reading wins: a variable required anywhere is required.
            let entry = found.entry(name.to_owned()).or_insert(read);
            if read == Read::Required {
                *entry = Read::Required;
            }
        }
    }
    found
}

/// The scripts a container runs: its command and arguments, and its probes' commands.
fn scripts_run(container: &Value) -> Vec<String> {
    let mut words: Vec<&Value> = Vec::new();
    for key in ["command", "args"] {
        words.extend(container[key].as_sequence().into_iter().flatten());
    }
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        words.extend(container[probe]["exec"]["command"].as_sequence().into_iter().flatten());
    }
    words
        .into_iter()
        .filter_map(Value::as_str)
        .filter(|word| word.ends_with(".sh"))
        .map(|word| word.rsplit('/').next().unwrap_or(word).to_owned())
        .collect()
}

/// A container's environment: `env` names (with their literal value, if any) and the keys of its `envFrom`
/// ConfigMaps, looked up among `objects`.
fn environment(container: &Value, objects: &[Value]) -> BTreeMap<String, Option<String>> {
    let mut env = BTreeMap::new();
    for entry in container["env"].as_sequence().into_iter().flatten() {
        if let Some(name) = entry["name"].as_str() {
            env.insert(name.to_owned(), entry["value"].as_str().map(str::to_owned));
        }
    }
    for source in container["envFrom"].as_sequence().into_iter().flatten() {
        let Some(name) = source["configMapRef"]["name"].as_str() else {
            continue;
        };
        let config_map = find(objects, "ConfigMap", name);
        for (key, value) in config_map["data"].as_mapping().into_iter().flatten() {
            if let Some(key) = key.as_str() {
                env.insert(key.to_owned(), value.as_str().map(str::to_owned));
            }
        }
    }
    env
}

/// One line per variable a script needs that its container does not set, and the `(script, container)` pairs
/// checked.
fn missing_variables(objects: &[Value]) -> (Vec<String>, Vec<(String, String)>) {
    let scripts: BTreeMap<String, String> = objects
        .iter()
        .filter(|object| object["kind"] == "ConfigMap")
        .filter(|object| {
            object["metadata"]["name"]
                .as_str()
                .is_some_and(|name| name.ends_with("-scripts"))
        })
        .flat_map(|config_map| config_map["data"].as_mapping().into_iter().flatten())
        .filter_map(|(key, value)| Some((key.as_str()?.to_owned(), value.as_str()?.to_owned())))
        .collect();
    let mut missing = Vec::new();
    let mut checked = Vec::new();
    for statefulset in objects.iter().filter(|object| object["kind"] == "StatefulSet") {
        let pod = &statefulset["spec"]["template"]["spec"];
        let containers = ["initContainers", "containers"]
            .into_iter()
            .flat_map(|list| pod[list].as_sequence().into_iter().flatten());
        for container in containers {
            let env = environment(container, objects);
            let where_ = format!(
                "StatefulSet {} container {}",
                statefulset["metadata"]["name"].as_str().unwrap_or_default(),
                container["name"].as_str().unwrap_or_default()
            );
            for script in scripts_run(container) {
                let text = scripts
                    .get(&script)
                    .unwrap_or_else(|| panic!("{where_} runs {script}, which is not in the scripts ConfigMap"));
                for (name, read) in variables(text) {
                    let condition = CONDITIONAL
                        .iter()
                        .find(|(file, names, _)| *file == script && names.contains(&name.as_str()))
                        .map(|(_, _, condition)| *condition);
                    let applies = condition
                        .is_none_or(|(variable, value)| env.get(variable).and_then(Option::as_deref) == Some(value));
                    if read == Read::Required && applies && !env.contains_key(&name) {
                        missing.push(format!("{where_} runs {script}, which needs {name}: not set"));
                    }
                }
                checked.push((script, where_.clone()));
            }
        }
    }
    (missing, checked)
}

fn golden_cases() -> Vec<(String, Vec<Value>)> {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("tests/testdata")).unwrap() {
        let dir = entry.unwrap().path();
        let expected = dir.join("expected.yaml");
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("error-") || !expected.exists() {
            continue;
        }
        let list = parse(&read(&expected));
        cases.push((name, items(&list)));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

#[test]
fn every_variable_a_script_needs_is_set_on_the_container_that_runs_it() {
    let cases = golden_cases();
    assert!(cases.len() >= 5, "too few golden cases: {}", cases.len());
    let mut scripts_checked = std::collections::BTreeSet::new();
    for (name, objects) in &cases {
        let (missing, checked) = missing_variables(objects);
        assert!(missing.is_empty(), "{name}:\n{}", missing.join("\n"));
        scripts_checked.extend(checked.into_iter().map(|(script, _)| script));
    }
    // Every script the binary ships runs somewhere in the golden cases: none escapes the check.
    let shipped: std::collections::BTreeSet<String> = std::fs::read_dir(repo_root().join("src/generate/scripts"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.ends_with(".sh"))
        .collect();
    assert_eq!(scripts_checked, shipped);
}

#[test]
fn scripts_keep_no_defaults_but_the_listed_seams() {
    let dir = repo_root().join("src/generate/scripts");
    let mut seams_seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !file.ends_with(".sh") {
            continue;
        }
        for (name, read) in variables(&read(dir.join(&file))) {
            if read == Read::Defaulted {
                assert!(
                    SEAMS.iter().any(|(script, seam, _)| *script == file && *seam == name),
                    "{file} reads {name} with a default of its own: read it as ${{{name}:?}} and set it in Rust"
                );
                seams_seen.push((file.clone(), name));
            }
        }
    }
    for (script, name, _) in SEAMS {
        assert!(
            seams_seen.iter().any(|(file, seen)| file == script && seen == name),
            "{script} no longer reads {name} with a default: remove it from SEAMS"
        );
    }
}

#[test]
fn the_reader_sees_each_form() {
    let script = "#!/bin/bash\n# ${COMMENTED:-x}\na=${NEEDED:?set it}\nb=${MAYBE:-}\nc=${PORT:-8088} ${BARE}\nd=${local##*-} ${1//./x}\n";
    let found: Vec<(String, Read)> = variables(script).into_iter().collect();
    assert_eq!(
        found,
        [
            ("BARE".to_owned(), Read::Required),
            ("MAYBE".to_owned(), Read::Optional),
            ("NEEDED".to_owned(), Read::Required),
            ("PORT".to_owned(), Read::Defaulted),
        ]
    );
}

/// The check fails when a container loses a variable: one from `env`, one from its `envFrom` ConfigMap, and one
/// that only a pair needs.
#[test]
fn a_container_without_a_variable_its_script_needs_is_caught() {
    let cases = golden_cases();
    let (_, objects) = cases
        .iter()
        .find(|(name, _)| name == "failover-8.3")
        .expect("the failover-8.3 case");
    let remove_env = |container: &str, variable: &str| {
        let mut objects = objects.clone();
        let statefulset = objects
            .iter_mut()
            .find(|object| object["kind"] == "StatefulSet")
            .unwrap();
        let pod = statefulset["spec"]["template"]["spec"].as_mapping_mut().unwrap();
        let mut containers = Vec::new();
        for (key, list) in pod.iter_mut() {
            if key == "initContainers" || key == "containers" {
                containers.extend(list.as_sequence_mut().unwrap().iter_mut());
            }
        }
        let found = containers
            .into_iter()
            .find(|candidate| candidate["name"] == container)
            .unwrap_or_else(|| panic!("no container {container}"));
        let env = found["env"].as_sequence_mut().unwrap();
        let before = env.len();
        env.retain(|entry| entry["name"] != variable);
        assert_eq!(env.len() + 1, before, "{container} had {variable}");
        objects
    };
    for (container, variable, script) in [
        ("role-labeler", "POD_NAMESPACE", "label-active.sh"),
        ("role-labeler", "ACTIVE_LABEL", "label-active.sh"),
        ("prepare-data", "DATA_VOLUME", "prepare-data.sh"),
        ("prepare-data", "REDUNDANCY_GAN_PORT", "prepare-data.sh"),
        ("gan-trust", "GAN_CA_NAME", "gan-trust.sh"),
    ] {
        let (missing, _) = missing_variables(&remove_env(container, variable));
        assert!(
            missing
                .iter()
                .any(|line| line.contains(&format!("container {container} runs {script}, which needs {variable}"))),
            "removing {variable} from {container} went unnoticed: {missing:?}"
        );
    }
    // From the gateway's envFrom ConfigMap: both probes' scripts need the port.
    let mut objects = objects.clone();
    let config_map = objects
        .iter_mut()
        .find(|object| object["kind"] == "ConfigMap" && object["data"]["GATEWAY_HTTP_PORT"].is_string())
        .expect("an env ConfigMap with GATEWAY_HTTP_PORT");
    config_map["data"].as_mapping_mut().unwrap().remove("GATEWAY_HTTP_PORT");
    let (missing, _) = missing_variables(&objects);
    for script in ["ready.sh", "alive.sh"] {
        assert!(
            missing.iter().any(|line| line.contains(&format!(
                "container gateway runs {script}, which needs GATEWAY_HTTP_PORT"
            ))),
            "removing GATEWAY_HTTP_PORT from the env ConfigMap went unnoticed for {script}: {missing:?}"
        );
    }
}
