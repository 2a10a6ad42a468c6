//! Per-tier settings seen from the pods: which licence file each pod reads, where device traffic
//! goes, what a single-node cluster changes, and that the spec's lists of names the function owns
//! cover everything it generates.
//!
//! The licence check reads the manifests the way the kubelet would (a projected volume's item paths,
//! a mount's `subPathExpr` expanded with the pod's name), so it needs no cluster.

mod common;

use common::*;
use ignition_krm::spec::{is_generated_env, is_owned_pod_key, mount_collides, GENERATED_VOLUMES};
use serde_norway::Value;

const OPTIONS_CASE: &str = "scaleout-plant-options-8.3";
const SUCCESS_CASES: &[&str] = &[
    "failover-8.1",
    "failover-8.3",
    "failover-certificates-restore-8.3",
    "scaleout-8.1",
    "scaleout-8.3",
    "scaleout-traefik-secret-certificates-8.1",
    OPTIONS_CASE,
    "scaleout-projects-modules-8.3",
];

fn expand(case: &str) -> Vec<Value> {
    let output = run_function(&read(format!("tests/testdata/{case}/input.yaml")));
    assert!(output.status.success(), "{case}: {}", stderr(&output));
    generated(&parse(&stdout(&output)))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The `(Secret, key)` whose file a pod sees at `path` in its gateway container, as the kubelet
/// lays out Secret and projected volumes and expands `subPathExpr`.
fn secret_file_at(template: &Value, pod_name: &str, path: &str) -> Option<(String, String)> {
    let spec = &template["spec"];
    let gateway = spec["containers"]
        .as_sequence()?
        .iter()
        .find(|container| container["name"] == "gateway")?;
    let mount = gateway["volumeMounts"]
        .as_sequence()?
        .iter()
        .filter(|mount| path.starts_with(&format!("{}/", text(&mount["mountPath"]))))
        .max_by_key(|mount| text(&mount["mountPath"]).len())?;
    let mut inside = path[text(&mount["mountPath"]).len() + 1..].to_owned();
    if let Some(expression) = mount["subPathExpr"].as_str() {
        inside = format!("{}/{inside}", expression.replace("$(POD_NAME)", pod_name));
    } else if let Some(sub_path) = mount["subPath"].as_str() {
        inside = format!("{sub_path}/{inside}");
    }
    let volume = spec["volumes"]
        .as_sequence()?
        .iter()
        .find(|volume| volume["name"] == mount["name"])?;
    let mut sources: Vec<&Value> = Vec::new();
    if !volume["secret"].is_null() {
        sources.push(&volume["secret"]);
    }
    for source in volume["projected"]["sources"].as_sequence().into_iter().flatten() {
        sources.push(&source["secret"]);
    }
    sources.into_iter().find_map(|source| {
        let name = source["secretName"].as_str().or(source["name"].as_str())?;
        source["items"]
            .as_sequence()?
            .iter()
            .find(|item| text(&item["path"]) == inside)
            .map(|item| (name.to_owned(), text(&item["key"]).to_owned()))
    })
}

fn template<'a>(objects: &'a [Value], statefulset: &str) -> &'a Value {
    &find(objects, "StatefulSet", statefulset)["spec"]["template"]
}

#[test]
fn every_frontend_the_autoscaler_may_start_reads_its_own_leased_licence() {
    let objects = expand(OPTIONS_CASE);
    let max_replicas = find(&objects, "HorizontalPodAutoscaler", "plant-e-frontend")["spec"]["maxReplicas"]
        .as_u64()
        .unwrap();
    let environment = &find(&objects, "ConfigMap", "plant-e-frontend-env")["data"];
    let key_file = text(&environment["IGNITION_LICENSE_KEY_FILE"]);
    let token_file = text(&environment["IGNITION_ACTIVATION_TOKEN_FILE"]);
    let template = template(&objects, "plant-e-frontend");
    let mut seen = std::collections::BTreeSet::new();
    for ordinal in 0..max_replicas {
        let pod = format!("plant-e-frontend-{ordinal}");
        let secret = format!("plant-e-fe-{ordinal}");
        assert_eq!(
            secret_file_at(template, &pod, key_file),
            Some((secret.clone(), "licenseKey".to_owned())),
            "{pod} reads {key_file}"
        );
        assert_eq!(
            secret_file_at(template, &pod, token_file),
            Some((secret.clone(), "activationToken".to_owned())),
            "{pod} reads {token_file}"
        );
        seen.insert(secret);
    }
    assert_eq!(seen.len() as u64, max_replicas, "no two frontends share a licence");
    // A pod beyond the list has no licence file at all (the spec refuses such a list).
    assert_eq!(
        secret_file_at(template, &format!("plant-e-frontend-{max_replicas}"), key_file),
        None
    );
}

#[test]
fn master_and_backup_read_their_own_certificate_activation() {
    let objects = expand(OPTIONS_CASE);
    let template = template(&objects, "plant-e-backend");
    // The official chart's layout: data/certificate-activation/{license.crt,license.key,config.json}.
    let directory = "/usr/local/bin/ignition/data/certificate-activation";
    for (pod, secret) in [
        ("plant-e-backend-0", "plant-e-master-license"),
        ("plant-e-backend-1", "plant-e-backup-license"),
    ] {
        for file in ["license.crt", "license.key", "config.json"] {
            assert_eq!(
                secret_file_at(template, pod, &format!("{directory}/{file}")),
                Some((secret.to_owned(), file.to_owned())),
                "{pod}: {file}"
            );
        }
    }
    let environment = &find(&objects, "ConfigMap", "plant-e-backend-env")["data"];
    assert!(
        environment["IGNITION_LICENSE_KEY_FILE"].is_null(),
        "certificate activation sets no leased-activation variables"
    );
}

#[test]
fn a_shared_licence_is_the_same_file_on_both_nodes_of_a_pair() {
    let objects = expand("failover-8.1");
    let environment = &find(&objects, "ConfigMap", "plant-b-gateway-env")["data"];
    let key_file = text(&environment["IGNITION_LICENSE_KEY_FILE"]);
    let template = template(&objects, "plant-b-gateway");
    for pod in ["plant-b-gateway-0", "plant-b-gateway-1"] {
        assert_eq!(
            secret_file_at(template, pod, key_file),
            Some(("plant-b-license".to_owned(), "licenseKey".to_owned()))
        );
    }
}

#[test]
fn device_traffic_reaches_the_active_backend_node_on_its_own_ports() {
    let objects = expand(OPTIONS_CASE);
    let service = find(&objects, "Service", "plant-e-backend-devices");
    assert_eq!(service["spec"]["type"], "LoadBalancer");
    let selector = service["spec"]["selector"].as_mapping().unwrap();
    assert_eq!(selector.get("ignition.krm.dev/active"), Some(&Value::from("true")));
    assert_eq!(
        selector.get("app.kubernetes.io/component"),
        Some(&Value::from("backend"))
    );
    let gateway = &template(&objects, "plant-e-backend")["spec"]["containers"][0];
    let container_ports: Vec<(&str, u64)> = gateway["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|port| (text(&port["name"]), port["containerPort"].as_u64().unwrap()))
        .collect();
    let policy = find(&objects, "NetworkPolicy", "plant-e-backend");
    let admitted: Vec<u64> = policy["spec"]["ingress"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_sequence().unwrap().iter())
        .map(|port| port["port"].as_u64().unwrap())
        .collect();
    for port in service["spec"]["ports"].as_sequence().unwrap() {
        let target = text(&port["targetPort"]);
        let number = container_ports
            .iter()
            .find(|(name, _)| *name == target)
            .unwrap_or_else(|| panic!("no container port named {target}"))
            .1;
        assert_eq!(port["port"].as_u64(), Some(number));
        assert!(admitted.contains(&number), "the NetworkPolicy admits {number}");
    }
    // The backend's web ports also admit the extra peers (monitoring, the plant network).
    let web_rule = &policy["spec"]["ingress"][0];
    assert_eq!(web_rule["ports"][0]["port"], 8088);
    let peers = web_rule["from"].as_sequence().unwrap();
    assert!(peers.iter().any(|peer| peer["ipBlock"]["cidr"] == "10.20.0.0/16"));
    // Frontends have no device Service.
    assert!(!objects
        .iter()
        .any(|object| kind_and_name(object) == ("Service".to_owned(), "plant-e-frontend-devices".to_owned())));
}

#[test]
fn a_single_node_cluster_prefers_rather_than_requires_the_pair_apart() {
    let anti_affinity = |case: &str, statefulset: &str| {
        let objects = expand(case);
        template(&objects, statefulset)["spec"]["affinity"]["podAntiAffinity"].clone()
    };
    let single = anti_affinity(OPTIONS_CASE, "plant-e-backend");
    assert!(single["requiredDuringSchedulingIgnoredDuringExecution"].is_null());
    assert!(single["preferredDuringSchedulingIgnoredDuringExecution"].is_sequence());
    let default = anti_affinity("scaleout-8.3", "plant-a-backend");
    assert!(default["requiredDuringSchedulingIgnoredDuringExecution"].is_sequence());
}

#[test]
fn the_backup_is_cold_unless_the_spec_says_otherwise() {
    let level = |case: &str, statefulset: &str| {
        let objects = expand(case);
        let init = &template(&objects, statefulset)["spec"]["initContainers"][0];
        init["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|env| env["name"] == "REDUNDANCY_STANDBY_ACTIVITY_LEVEL")
            .map(|env| text(&env["value"]).to_owned())
    };
    assert_eq!(level("failover-8.1", "plant-b-gateway").as_deref(), Some("Cold"));
    // failover-8.3 asks for Hot.
    assert_eq!(level("failover-8.3", "plant-c-gateway").as_deref(), Some("Hot"));
}

#[test]
fn pod_labels_and_annotations_are_added_but_never_select() {
    let objects = expand(OPTIONS_CASE);
    let statefulset = find(&objects, "StatefulSet", "plant-e-backend");
    let metadata = &statefulset["spec"]["template"]["metadata"];
    assert_eq!(metadata["labels"]["plant.example.com/area"], "packaging");
    assert_eq!(metadata["annotations"]["prometheus.io/scrape"], "true");
    assert!(metadata["annotations"]["ignition.krm.dev/config-hash"].is_string());
    for object in &objects {
        let text = serde_norway::to_string(&object["spec"]["selector"]).unwrap();
        assert!(!text.contains("plant.example.com/area"), "{:?}", kind_and_name(object));
    }
}

/// The spec refuses extra env names, volume names, mount paths and pod keys the function uses; these
/// lists must cover everything it actually generates, in every case.
#[test]
fn the_spec_refuses_every_name_the_function_generates() {
    for case in SUCCESS_CASES {
        let input = parse(&read(format!("tests/testdata/{case}/input.yaml")));
        let spec = if input["functionConfig"]["spec"].is_null() {
            input["items"][0]["spec"].clone()
        } else {
            input["functionConfig"]["spec"].clone()
        };
        let objects = expand(case);
        for object in &objects {
            if object["kind"] == "ConfigMap" && text(&object["metadata"]["name"]).ends_with("-env") {
                for (key, _) in object["data"].as_mapping().unwrap() {
                    assert!(is_generated_env(text(key)), "{case}: ConfigMap key {key:?}");
                }
            }
            if object["kind"] != "StatefulSet" {
                continue;
            }
            let tier = text(&object["metadata"]["labels"]["app.kubernetes.io/component"]);
            let pod = &spec[tier]["pod"];
            let user_volumes: Vec<&str> = pod["volumes"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|volume| text(&volume["name"]))
                .collect();
            let template = &object["spec"]["template"];
            for volume in template["spec"]["volumes"].as_sequence().unwrap() {
                let name = text(&volume["name"]);
                assert!(
                    user_volumes.contains(&name) || GENERATED_VOLUMES.contains(&name),
                    "{case}: volume {name}"
                );
            }
            for field in ["initContainers", "containers"] {
                for container in template["spec"][field].as_sequence().into_iter().flatten() {
                    // Extra variables go to the gateway container only.
                    let gateway = container["name"] == "gateway";
                    for env in container["env"].as_sequence().into_iter().flatten().filter(|_| gateway) {
                        let name = text(&env["name"]);
                        let from_user = pod["env"]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                            .any(|extra| text(&extra["name"]) == name);
                        assert!(from_user || is_generated_env(name), "{case}: env {name}");
                    }
                    for mount in container["volumeMounts"].as_sequence().into_iter().flatten() {
                        let volume = text(&mount["name"]);
                        if !user_volumes.contains(&volume) {
                            let path = text(&mount["mountPath"]);
                            assert!(mount_collides(path).is_some(), "{case}: mount {path}");
                        }
                    }
                }
            }
            for field in ["labels", "annotations"] {
                for (key, _) in template["metadata"][field].as_mapping().into_iter().flatten() {
                    let key = text(key);
                    let from_user = pod[field].as_mapping().is_some_and(|map| map.contains_key(key));
                    assert!(from_user || is_owned_pod_key(key), "{case}: pod {field} key {key}");
                }
            }
        }
    }
}

/// Empty lists and maps in the spec leave nothing empty in the output: the API server drops them and
/// Argo CD would show the site OutOfSync forever. Empty selectors stay: they select everything.
#[test]
fn empty_settings_write_no_empty_collections() {
    let spec = concat!(
        "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: plant-x, namespace: scada}\n",
        "spec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n",
        "  gateway:\n",
        "    pod: {nodeSelector: {}, tolerations: [], labels: {}, annotations: {}, env: [], volumes: [], volumeMounts: []}\n",
        "    ports: [{name: opcua, port: 62541}]\n",
        "    deviceService: {loadBalancerSourceRanges: [], annotations: {}}\n",
        "    networkPolicy: {ingressFrom: [{namespaceSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8, except: []}}]}\n",
    );
    let input = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n{}",
        spec.lines().map(|line| format!("  {line}\n")).collect::<String>()
    );
    let output = run_function(&input);
    assert!(output.status.success(), "{}", stderr(&output));
    fn visit(value: &Value, path: &str) {
        match value {
            Value::Mapping(mapping) => {
                let selects_all = path.ends_with(".podSelector") || path.ends_with(".namespaceSelector");
                // cert-manager's self-signed Issuer is declared by an empty map (kept by the API server:
                // tests/apiserver.rs).
                let declares_self_signed = path == "Issuer.spec.selfSigned";
                assert!(
                    !mapping.is_empty() || selects_all || declares_self_signed,
                    "empty map at {path}"
                );
                for (key, child) in mapping {
                    visit(child, &format!("{path}.{}", text(key)));
                }
            }
            Value::Sequence(sequence) => {
                assert!(!sequence.is_empty(), "empty list at {path}");
                sequence.iter().for_each(|child| visit(child, path));
            }
            _ => {}
        }
    }
    let objects = generated(&parse(&stdout(&output)));
    for object in &objects {
        visit(object, text(&object["kind"]));
    }
    let policy = find(&objects, "NetworkPolicy", "plant-x-gateway");
    let peers = &policy["spec"]["ingress"][1]["from"];
    assert!(peers[0]["namespaceSelector"]
        .as_mapping()
        .is_some_and(|selector| selector.is_empty()));
}
