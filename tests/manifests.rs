//! Properties every generated manifest must have: the Ignition details, the security profile, and
//! the output shape that keeps Argo CD and Flux in sync (shared/IGNITION.md, shared/KRM.md).

mod common;

use common::*;
use ignition_krm::spec::Quantity;
use serde_norway::Value;

/// Every successful golden input, expanded.
fn sites() -> Vec<(String, Vec<Value>)> {
    [
        "failover-8.1",
        "failover-8.3",
        "scaleout-8.1",
        "scaleout-8.3",
        "failover-certificates-restore-8.3",
        "scaleout-traefik-secret-certificates-8.1",
        "scaleout-plant-options-8.3",
        "scaleout-projects-modules-8.3",
    ]
    .into_iter()
    .map(|case| {
        let output = run_function(&read(format!("tests/testdata/{case}/input.yaml")));
        assert!(output.status.success(), "{case}: {}", stderr(&output));
        (case.to_owned(), generated(&parse(&stdout(&output))))
    })
    .collect()
}

fn pod_templates(objects: &[Value]) -> Vec<(&Value, &Value)> {
    objects
        .iter()
        .filter(|object| object["kind"] == "StatefulSet")
        .map(|sts| (sts, &sts["spec"]["template"]))
        .collect()
}

fn containers(template: &Value) -> Vec<&Value> {
    let spec = &template["spec"];
    spec["initContainers"]
        .as_sequence()
        .into_iter()
        .flatten()
        .chain(spec["containers"].as_sequence().into_iter().flatten())
        .collect()
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"].as_sequence()?.iter().find(|env| env["name"] == name)?["value"].as_str()
}

fn config_map<'a>(objects: &'a [Value], name: &str) -> &'a Value {
    &find(objects, "ConfigMap", name)["data"]
}

#[test]
fn pods_meet_the_restricted_pod_security_standard() {
    for (case, objects) in sites() {
        for (sts, template) in pod_templates(&objects) {
            let pod = &template["spec"]["securityContext"];
            assert_eq!(pod["runAsNonRoot"], true, "{case} {:?}", kind_and_name(sts));
            assert_eq!(pod["runAsUser"], 2003);
            assert_eq!(pod["fsGroup"], 2003);
            assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault");
            assert_eq!(
                template["spec"]["automountServiceAccountToken"], false,
                "no token: nothing calls the API"
            );
            assert!(template["spec"]["hostNetwork"].is_null() && template["spec"]["hostPID"].is_null());
            for volume in template["spec"]["volumes"].as_sequence().unwrap() {
                assert!(volume["hostPath"].is_null(), "no hostPath volumes");
            }
            for container in containers(template) {
                let context = &container["securityContext"];
                assert_eq!(
                    context["allowPrivilegeEscalation"],
                    false,
                    "{case} {}",
                    container["name"].as_str().unwrap()
                );
                assert_eq!(context["capabilities"]["drop"], Value::Sequence(vec!["ALL".into()]));
                assert!(context["capabilities"]["add"].is_null());
                assert_eq!(context["runAsNonRoot"], true);
                assert!(context["privileged"].is_null());
                for kind in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        assert!(
                            container["resources"][kind][resource].is_string(),
                            "{case}: {kind}.{resource} is set"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn quantities_are_in_the_api_servers_canonical_form() {
    fn visit(value: &Value, key: &str, case: &str) {
        match value {
            Value::Mapping(mapping) => mapping
                .iter()
                .for_each(|(k, v)| visit(v, k.as_str().unwrap_or_default(), case)),
            Value::Sequence(sequence) => sequence.iter().for_each(|v| visit(v, key, case)),
            Value::String(text) if ["cpu", "memory", "storage"].contains(&key) => {
                assert_eq!(Quantity::parse(text).unwrap().canonical(), *text, "{case}: {key}");
            }
            _ => {}
        }
    }
    for (case, objects) in sites() {
        objects.iter().for_each(|object| visit(object, "", &case));
    }
    // The failover-8.3 case writes 1500m and 3072Mi.
    let objects = &sites()[1].1;
    let container = &pod_templates(objects)[0].1["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["memory"], "3Gi");
    assert_eq!(container["resources"]["limits"]["cpu"], "1500m");
}

#[test]
fn no_status_timestamps_or_empty_collections() {
    fn visit(value: &Value, path: &str, case: &str) {
        match value {
            Value::Mapping(mapping) => {
                // `podSelector: {}` in a NetworkPolicy peer (every pod of the namespace), `namespaceSelector: {}`
                // (every namespace), `emptyDir: {}` and
                // cert-manager's `selfSigned: {}` mean something, and the API server keeps them.
                let meaningful = path.ends_with(".podSelector")
                    || path.ends_with(".namespaceSelector")
                    || path.ends_with(".emptyDir")
                    || path.ends_with(".selfSigned");
                assert!(!mapping.is_empty() || meaningful, "{case}: empty map at {path}");
                for (key, child) in mapping {
                    let key = key.as_str().unwrap();
                    assert!(key != "status" && key != "creationTimestamp", "{case}: {path}.{key}");
                    visit(child, &format!("{path}.{key}"), case);
                }
            }
            Value::Sequence(sequence) => {
                assert!(!sequence.is_empty(), "{case}: empty list at {path}");
                sequence.iter().for_each(|child| visit(child, path, case));
            }
            Value::Null => panic!("{case}: null at {path}"),
            _ => {}
        }
    }
    for (case, objects) in sites() {
        objects.iter().for_each(|object| visit(object, "", &case));
    }
}

#[test]
fn volume_claim_templates_carry_api_version_and_kind() {
    for (case, objects) in sites() {
        for (sts, _) in pod_templates(&objects) {
            for template in sts["spec"]["volumeClaimTemplates"].as_sequence().into_iter().flatten() {
                assert_eq!(template["apiVersion"], "v1", "{case}");
                assert_eq!(template["kind"], "PersistentVolumeClaim", "{case}");
                assert_eq!(
                    template["metadata"]["name"], "data",
                    "the name of a claim template never changes"
                );
                assert!(
                    template["metadata"]["labels"].is_null(),
                    "claim templates are immutable: no labels"
                );
            }
        }
    }
}

#[test]
fn selectors_use_one_tier_and_never_the_instance_label() {
    for (case, objects) in sites() {
        for object in &objects {
            let spec = &object["spec"];
            let selectors = [
                &spec["selector"]["matchLabels"],
                &spec["selector"],
                &spec["podSelector"]["matchLabels"],
            ];
            for selector in selectors.into_iter().filter(|selector| selector.is_mapping()) {
                let selector = selector.as_mapping().unwrap();
                if selector.is_empty() {
                    continue;
                }
                assert!(
                    !selector.contains_key("app.kubernetes.io/instance"),
                    "{case} {:?}",
                    kind_and_name(object)
                );
                assert!(
                    !selector.contains_key("app.kubernetes.io/version"),
                    "{case} {:?}",
                    kind_and_name(object)
                );
                if object["kind"] != "Ingress" && selector.contains_key("ignition.krm.dev/cluster") {
                    assert!(
                        selector.contains_key("app.kubernetes.io/component"),
                        "{case}: {:?} selects one tier",
                        kind_and_name(object)
                    );
                }
            }
        }
    }
}

#[test]
fn failover_is_one_statefulset_of_two_with_per_role_services() {
    let objects = &sites()[0].1;
    let statefulsets = pod_templates(objects);
    assert_eq!(statefulsets.len(), 1);
    let sts = statefulsets[0].0;
    assert_eq!(sts["spec"]["replicas"], 2);
    assert_eq!(sts["spec"]["serviceName"], "plant-b-gateway-headless");
    let headless = find(objects, "Service", "plant-b-gateway-headless");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    for (name, pod) in [
        ("plant-b-gateway-primary", "plant-b-gateway-0"),
        ("plant-b-gateway-backup", "plant-b-gateway-1"),
    ] {
        assert_eq!(
            find(objects, "Service", name)["spec"]["selector"]["statefulset.kubernetes.io/pod-name"],
            pod
        );
    }
    assert_eq!(
        find(objects, "PodDisruptionBudget", "plant-b-gateway")["spec"]["minAvailable"],
        1
    );
    assert_eq!(
        find(objects, "ServiceAccount", "plant-b-gateway")["automountServiceAccountToken"],
        false
    );
    let ingress = find(objects, "Ingress", "plant-b");
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "plant-b-gateway"
    );
    let anti_affinity = &sts["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    let required = &anti_affinity["requiredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(
        required["topologyKey"], "kubernetes.io/hostname",
        "master and backup never share a node"
    );
}

#[test]
fn the_init_container_writes_the_role_from_the_master_address() {
    for (case, objects) in sites() {
        for (sts, template) in pod_templates(&objects) {
            let init = &template["spec"]["initContainers"][0];
            assert_eq!(init["command"][0], "/config/scripts/prepare-data.sh");
            let name = sts["metadata"]["name"].as_str().unwrap();
            let line = if case.ends_with("8.1") { "8.1" } else { "8.3" };
            assert_eq!(env_value(init, "IGNITION_VERSION_LINE"), Some(line), "{case}");
            match sts["spec"]["replicas"].as_u64() {
                Some(2) if !name.ends_with("-frontend") => {
                    assert_eq!(env_value(init, "REDUNDANCY_MODE"), Some("pair"), "{case} {name}");
                    assert_eq!(
                        env_value(init, "REDUNDANCY_MASTER_HOST"),
                        Some(format!("{name}-0.{name}-headless").as_str())
                    );
                }
                _ => assert_eq!(env_value(init, "REDUNDANCY_MODE"), Some("independent"), "{case} {name}"),
            }
            let mounts = init["volumeMounts"].as_sequence().unwrap();
            assert!(mounts
                .iter()
                .any(|mount| mount["name"] == "data" && mount["mountPath"] == "/data"));
        }
    }
}

#[test]
fn gateways_get_their_ignition_settings() {
    for (case, objects) in sites() {
        for (sts, template) in pod_templates(&objects) {
            let gateway = &template["spec"]["containers"][0];
            let args: Vec<&str> = gateway["args"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(&args[..2], ["-n", "$(POD_NAME)"], "{case}: per-pod system name");
            assert_eq!(
                gateway["env"][0]["name"], "POD_NAME",
                "$(POD_NAME) expands only from the container's env"
            );
            assert!(args.contains(&"wrapper.logfile=/dev/stdout"), "{case}");
            let behind_ingress = !sts["metadata"]["name"].as_str().unwrap().ends_with("-backend")
                && objects.iter().any(|object| object["kind"] == "Ingress");
            assert_eq!(
                args.contains(&"gateway.useProxyForwardedHeader=true"),
                behind_ingress,
                "{case}"
            );
            assert_eq!(
                gateway["readinessProbe"]["exec"]["command"][0],
                "/config/scripts/ready.sh"
            );
            assert_eq!(
                gateway["livenessProbe"]["exec"]["command"][0], "/config/scripts/alive.sh",
                "liveness never fails while commissioning"
            );
            let mounts = gateway["volumeMounts"].as_sequence().unwrap();
            assert!(mounts
                .iter()
                .any(|mount| mount["name"] == "data" && mount["mountPath"] == "/usr/local/bin/ignition/data"));
            assert_eq!(template["spec"]["enableServiceLinks"], false);
            assert!(template["metadata"]["annotations"]["ignition.krm.dev/config-hash"].is_string());
        }
        let site = objects[0]["metadata"]["labels"]["ignition.krm.dev/cluster"]
            .as_str()
            .unwrap();
        let scripts = config_map(&objects, &format!("{site}-scripts"));
        assert!(
            scripts["ready.sh"].as_str().unwrap().contains("COMMISSIONING"),
            "{case}"
        );
    }
}

#[test]
fn secrets_are_read_from_files_and_no_secret_value_is_written() {
    for (case, objects) in sites() {
        for object in objects.iter().filter(|object| {
            object["kind"] == "ConfigMap" && object["metadata"]["name"].as_str().unwrap().ends_with("-env")
        }) {
            let data = object["data"].as_mapping().unwrap();
            assert_eq!(
                data.get("GATEWAY_ADMIN_PASSWORD_FILE").and_then(Value::as_str),
                Some("/run/secrets/ignition/admin/password")
            );
            for key in [
                "GATEWAY_ADMIN_PASSWORD",
                "IGNITION_LICENSE_KEY",
                "IGNITION_ACTIVATION_TOKEN",
            ] {
                assert!(
                    !data.contains_key(key),
                    "{case}: {key} would be a secret in a ConfigMap"
                );
            }
            assert_eq!(data.get("ACCEPT_IGNITION_EULA").and_then(Value::as_str), Some("Y"));
        }
        assert!(
            !objects.iter().any(|object| object["kind"] == "Secret"),
            "{case}: secrets are the user's, never generated"
        );
    }
}

#[test]
fn scaleout_keeps_users_off_the_backend() {
    let objects = &sites()[3].1;
    let backend_policy = &find(objects, "NetworkPolicy", "plant-a-backend")["spec"];
    assert_eq!(
        backend_policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"],
        "backend"
    );
    let rules = backend_policy["ingress"].as_sequence().unwrap();
    let web = &rules[0];
    assert_eq!(
        web["from"][0]["podSelector"],
        Value::Mapping(Default::default()),
        "web ports: the namespace's pods only"
    );
    let gan = &rules[1];
    assert_eq!(gan["ports"][0]["port"], 8060);
    let components: Vec<&str> = gan["from"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|peer| {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        components,
        ["backend", "frontend"],
        "the Gateway Network from the peer and the frontends only"
    );
    let frontend_policy = &find(objects, "NetworkPolicy", "plant-a-frontend")["spec"];
    assert!(
        frontend_policy["ingress"][0]["from"].is_null(),
        "users reach the frontends from anywhere"
    );

    let ingress = find(objects, "Ingress", "plant-a");
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "plant-a-frontend"
    );
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"], "cookie",
        "Perspective sessions stick"
    );
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "scada-plant-a-tls");

    let frontend_env = config_map(objects, "plant-a-frontend-env");
    assert_eq!(
        frontend_env["GATEWAY_NETWORK_0_HOST"],
        "plant-a-backend-0.plant-a-backend-headless"
    );
    assert_eq!(
        frontend_env["GATEWAY_NETWORK_1_HOST"],
        "plant-a-backend-1.plant-a-backend-headless"
    );
    assert_eq!(frontend_env["GATEWAY_NETWORK_0_ENABLESSL"], "true");
    assert_eq!(frontend_env["GATEWAY_NETWORK_ALLOWINCOMING"], "false");
    assert_eq!(find(objects, "StatefulSet", "plant-a-frontend")["spec"]["replicas"], 3);
    assert_eq!(
        find(objects, "PodDisruptionBudget", "plant-a-frontend")["spec"]["maxUnavailable"],
        1
    );
    assert!(
        find(objects, "StatefulSet", "plant-a-frontend")["spec"]["volumeClaimTemplates"].is_null(),
        "frontends are stateless"
    );
}

#[test]
fn a_single_backend_is_independent_and_has_no_disruption_budget() {
    let objects = &sites()[2].1;
    assert_eq!(find(objects, "StatefulSet", "plant-d-backend")["spec"]["replicas"], 1);
    assert!(!objects
        .iter()
        .any(|object| kind_and_name(object) == ("PodDisruptionBudget".into(), "plant-d-backend".into())));
    assert!(!objects
        .iter()
        .any(|object| object["kind"] == "Service" && object["metadata"]["name"] == "plant-d-backend-backup"));
    let frontend_env = config_map(objects, "plant-d-frontend-env");
    assert!(
        frontend_env.get("GATEWAY_NETWORK_1_HOST").is_none(),
        "one backend, one connection"
    );
}

#[test]
fn plain_manifests_carry_no_krm_bookkeeping() {
    let output = ignition_krm()
        .args(["manifests", "bases/scaleout/spec/ignition.yaml"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.matches("\n---\n").count() + 1, 25, "25 documents");
    assert!(
        !text.contains("config.kubernetes.io/"),
        "no internal annotations in plain output"
    );
    assert!(
        !text.contains("kind: IgnitionCluster"),
        "the spec itself is not a manifest"
    );
}

#[test]
fn plain_manifests_of_a_bad_spec_print_nothing() {
    let dir = std::env::temp_dir().join(format!("ignition-krm-bad-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("ignition.yaml");
    std::fs::write(
        &spec,
        read("bases/failover/spec/ignition.yaml").replace("8.1.48", "latest"),
    )
    .unwrap();
    let output = ignition_krm().arg("manifests").arg(&spec).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stdout(&output),
        "",
        "nothing on stdout: blank output with auto-prune is better than partial"
    );
    assert!(stderr(&output).contains("spec.version"), "{}", stderr(&output));
    std::fs::remove_dir_all(dir).unwrap();
}
