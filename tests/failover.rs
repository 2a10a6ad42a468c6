//! The manifests of failover that really fails over: active-only routing with the minimum RBAC,
//! Gateway Network trust, certificate rotation, backup restore and the routing alternatives.

mod common;

use common::*;
use serde_norway::Value;

fn expand(case: &str) -> Vec<Value> {
    let output = run_function(&read(format!("tests/testdata/{case}/input.yaml")));
    assert!(output.status.success(), "{case}: {}", stderr(&output));
    generated(&parse(&stdout(&output)))
}

fn pod_spec<'a>(objects: &'a [Value], statefulset: &str) -> &'a Value {
    &find(objects, "StatefulSet", statefulset)["spec"]["template"]["spec"]
}

fn container<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    pod[list]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {list} {name}"))
}

fn names(sequence: &Value) -> Vec<&str> {
    sequence
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

fn args(pod: &Value) -> Vec<&str> {
    container(pod, "containers", "gateway")["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

#[test]
fn the_labeling_role_allows_only_patch_on_the_two_pods() {
    for (case, tier) in [("failover-8.1", "plant-b-gateway"), ("scaleout-8.3", "plant-a-backend")] {
        let objects = expand(case);
        let role = find(&objects, "Role", &format!("{tier}-labeler"));
        let expected: Value = parse(&format!(
            "- apiGroups: ['']\n  resources: [pods]\n  resourceNames: [{tier}-0, {tier}-1]\n  verbs: [patch]\n"
        ));
        assert_eq!(role["rules"], expected, "{case}: exactly these rules");
        let binding = find(&objects, "RoleBinding", &format!("{tier}-labeler"));
        assert_eq!(binding["roleRef"]["kind"], "Role");
        assert_eq!(binding["roleRef"]["name"], format!("{tier}-labeler"));
        assert_eq!(
            binding["subjects"],
            parse(&format!("- kind: ServiceAccount\n  name: {tier}\n  namespace: scada\n"))
        );
        assert_eq!(
            find(&objects, "ServiceAccount", tier)["automountServiceAccountToken"],
            false
        );
        assert!(
            !objects
                .iter()
                .any(|object| ["ClusterRole", "ClusterRoleBinding"].contains(&object["kind"].as_str().unwrap())),
            "{case}: nothing cluster-wide"
        );
        // The sidecar only ever sends PATCH: it needs no get.
        let script = find(
            &objects,
            "ConfigMap",
            &format!("{}-scripts", tier.rsplit_once('-').unwrap().0),
        )["data"]["label-active.sh"]
            .as_str()
            .unwrap();
        assert!(script.contains("-X PATCH") && !script.contains("-X GET"));
        let roles = objects.iter().filter(|object| object["kind"] == "Role").count();
        assert_eq!(roles, 1, "{case}: one Role, for the pair only");
    }
}

#[test]
fn the_token_is_mounted_into_the_labeling_sidecar_only() {
    for (case, tier) in [("failover-8.1", "plant-b-gateway"), ("scaleout-8.3", "plant-a-backend")] {
        let objects = expand(case);
        let pod = pod_spec(&objects, tier);
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["serviceAccountName"], tier);
        assert_eq!(names(&pod["containers"]), ["gateway", "role-labeler"], "{case}");
        let projected = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "kube-api-access")
            .unwrap();
        assert_eq!(
            projected["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3600
        );
        for list in ["initContainers", "containers"] {
            for c in pod[list].as_sequence().unwrap() {
                let mounts_token = c["volumeMounts"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == "kube-api-access");
                assert_eq!(
                    mounts_token,
                    c["name"] == "role-labeler",
                    "{case}: {} and the token",
                    c["name"].as_str().unwrap()
                );
            }
        }
        let sidecar = container(pod, "containers", "role-labeler");
        assert_eq!(sidecar["command"][0], "/config/scripts/label-active.sh");
        assert_eq!(sidecar["securityContext"]["allowPrivilegeEscalation"], false);
    }
    let scaleout = expand("scaleout-8.3");
    let frontend = pod_spec(&scaleout, "plant-a-frontend");
    assert_eq!(names(&frontend["containers"]), ["gateway"], "frontends need no sidecar");
    assert_eq!(
        frontend["serviceAccountName"], "plant-a",
        "frontends use the site's account, without rights"
    );
}

#[test]
fn users_and_admins_reach_the_active_node_only() {
    let failover = expand("failover-8.1");
    let service = find(&failover, "Service", "plant-b-gateway");
    assert_eq!(
        service["spec"]["selector"]["ignition.krm.dev/active"], "true",
        "the user-facing Service"
    );
    for name in [
        "plant-b-gateway-primary",
        "plant-b-gateway-backup",
        "plant-b-gateway-headless",
    ] {
        assert!(
            find(&failover, "Service", name)["spec"]["selector"]["ignition.krm.dev/active"].is_null(),
            "{name}"
        );
    }
    assert_eq!(
        find(&failover, "StatefulSet", "plant-b-gateway")["spec"]["template"]["spec"]["containers"][0]["env"][1],
        parse("name: REDUNDANCY_MODE\nvalue: pair\n"),
        "the readiness probe knows it is a pair node"
    );
    let scaleout = expand("scaleout-8.3");
    let admin = find(&scaleout, "Service", "plant-a-backend");
    assert_eq!(
        admin["spec"]["selector"]["ignition.krm.dev/active"], "true",
        "the backend's admin Service"
    );
    assert!(find(&scaleout, "Service", "plant-a-frontend")["spec"]["selector"]["ignition.krm.dev/active"].is_null());
}

#[test]
fn active_only_routing_can_be_switched_off() {
    let objects = expand("scaleout-traefik-secret-certificates-8.1");
    assert!(!objects
        .iter()
        .any(|object| object["kind"] == "Role" || object["kind"] == "RoleBinding"));
    assert!(find(&objects, "Service", "plant-f-backend")["spec"]["selector"]["ignition.krm.dev/active"].is_null());
    assert_eq!(names(&pod_spec(&objects, "plant-f-backend")["containers"]), ["gateway"]);
}

#[test]
fn cert_manager_issues_a_ca_and_a_keystore_per_tier() {
    let objects = expand("failover-certificates-restore-8.3");
    let root = find(&objects, "Issuer", "plant-e-gan-selfsigned");
    assert_eq!(root["apiVersion"], "cert-manager.io/v1");
    assert_eq!(root["spec"]["selfSigned"], Value::Mapping(Default::default()));
    let ca = find(&objects, "Certificate", "plant-e-gan-ca");
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(ca["spec"]["issuerRef"]["name"], "plant-e-gan-selfsigned");
    assert_eq!(
        find(&objects, "Issuer", "plant-e-gan-ca")["spec"]["ca"]["secretName"],
        "plant-e-gan-ca"
    );
    let leaf = find(&objects, "Certificate", "plant-e-gateway-gan");
    assert_eq!(leaf["spec"]["issuerRef"]["name"], "plant-e-gan-ca");
    assert_eq!(leaf["spec"]["secretName"], "plant-e-gateway-gan-tls");
    assert_eq!(
        leaf["spec"]["keystores"]["pkcs12"],
        parse("create: true\npasswordSecretRef:\n  name: plant-e-gan-keystore\n  key: password\n")
    );
    let usages: Vec<&str> = leaf["spec"]["usages"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert!(
        usages.contains(&"server auth") && usages.contains(&"client auth"),
        "both ends of a connection"
    );
    assert!(leaf["spec"]["dnsNames"]
        .as_sequence()
        .unwrap()
        .contains(&"*.plant-e-gateway-headless".into()));
}

#[test]
fn the_gateway_network_trusts_the_ca_without_approval() {
    for (case, tier) in [
        ("failover-certificates-restore-8.3", "plant-e-gateway"),
        ("scaleout-traefik-secret-certificates-8.1", "plant-f-frontend"),
    ] {
        let objects = expand(case);
        let env = &find(&objects, "ConfigMap", &format!("{tier}-env"))["data"];
        assert_eq!(env["GATEWAY_NETWORK_SECURITYPOLICY"], "Unrestricted", "{case}");
        assert_eq!(env["GATEWAY_NETWORK_REQUIRETWOWAYAUTH"], "true", "{case}");
        assert_eq!(env["GATEWAY_NETWORK_REQUIRESSL"], "true", "{case}");
        let pod = pod_spec(&objects, tier);
        assert_eq!(
            names(&pod["initContainers"])[..2],
            ["prepare-data", "gan-trust"],
            "{case}"
        );
        let trust = container(pod, "initContainers", "gan-trust");
        let line = if case.ends_with("8.1") { "8.1" } else { "8.3" };
        assert!(trust["env"]
            .as_sequence()
            .unwrap()
            .contains(&parse(&format!("name: IGNITION_VERSION_LINE\nvalue: '{line}'\n"))));
        let tls = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "gan-tls")
            .unwrap();
        assert_eq!(tls["secret"]["secretName"], format!("{tier}-gan-tls"));
    }
    let from_secrets = expand("scaleout-traefik-secret-certificates-8.1");
    assert!(
        !from_secrets
            .iter()
            .any(|object| object["apiVersion"] == "cert-manager.io/v1"),
        "source secret: the user's Secrets, no cert-manager objects"
    );
}

#[test]
fn a_renewed_certificate_rolls_the_statefulset_through_reloader() {
    let objects = expand("failover-certificates-restore-8.3");
    let statefulset = find(&objects, "StatefulSet", "plant-e-gateway");
    assert_eq!(
        statefulset["metadata"]["annotations"]["secret.reloader.stakater.com/reload"],
        "plant-e-gateway-gan-tls"
    );
    assert!(
        statefulset["spec"]["updateStrategy"].is_null(),
        "the default RollingUpdate: highest ordinal, the backup, first"
    );
    let without = expand("scaleout-traefik-secret-certificates-8.1");
    assert!(
        find(&without, "StatefulSet", "plant-f-backend")["metadata"]["annotations"]
            ["secret.reloader.stakater.com/reload"]
            .is_null(),
        "rotation: manual"
    );
    let manual = expand("scaleout-certificates-manual-rotation-8.3");
    for tier in ["plant-h-backend", "plant-h-frontend"] {
        assert!(
            find(&manual, "StatefulSet", tier)["metadata"]["annotations"]["secret.reloader.stakater.com/reload"]
                .is_null(),
            "{tier}: rotation: manual"
        );
    }
}

#[test]
fn a_site_trusts_a_cert_manager_ca_unless_it_says_manual() {
    // No gatewayNetwork in the spec: a CA from cert-manager, certificates for a year, the literal
    // metro keystore password, Unrestricted with two-way authentication.
    let objects = expand("failover-8.1");
    let ca = find(&objects, "Certificate", "plant-b-gan-ca");
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(ca["spec"]["duration"], "87600h");
    let leaf = find(&objects, "Certificate", "plant-b-gateway-gan");
    assert_eq!(leaf["spec"]["duration"], "8760h");
    assert_eq!(leaf["spec"]["renewBefore"], "720h");
    assert_eq!(
        leaf["spec"]["keystores"]["pkcs12"],
        parse("create: true\npassword: metro\n")
    );
    let env = &find(&objects, "ConfigMap", "plant-b-gateway-env")["data"];
    assert_eq!(env["GATEWAY_NETWORK_SECURITYPOLICY"], "Unrestricted");
    assert_eq!(env["GATEWAY_NETWORK_REQUIRETWOWAYAUTH"], "true");
    let pod = pod_spec(&objects, "plant-b-gateway");
    assert_eq!(names(&pod["initContainers"]), ["prepare-data", "gan-trust"]);
    assert!(
        !pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "gan-keystore-password"),
        "no password Secret to mount"
    );

    // Chosen lifetimes reach cert-manager.
    let chosen = expand("scaleout-certificates-manual-rotation-8.3");
    assert_eq!(
        find(&chosen, "Certificate", "plant-h-gan-ca")["spec"]["duration"],
        "43800h"
    );
    assert_eq!(
        find(&chosen, "Certificate", "plant-h-frontend-gan")["spec"]["duration"],
        "4380h"
    );
    assert_eq!(
        find(&chosen, "Certificate", "plant-h-frontend-gan")["spec"]["renewBefore"],
        "336h"
    );

    // trust: manual: no CA, no trust step, connections approved by hand.
    let manual = expand("failover-manual-trust-8.1");
    assert!(!manual.iter().any(|object| object["apiVersion"] == "cert-manager.io/v1"));
    let env = &find(&manual, "ConfigMap", "plant-g-gateway-env")["data"];
    assert_eq!(env["GATEWAY_NETWORK_SECURITYPOLICY"], "ApprovedOnly");
    assert_eq!(env["GATEWAY_NETWORK_REQUIRETWOWAYAUTH"], "false");
    assert_eq!(
        names(&pod_spec(&manual, "plant-g-gateway")["initContainers"]),
        ["prepare-data"]
    );
}

#[test]
fn a_backup_is_restored_on_first_start() {
    let objects = expand("failover-certificates-restore-8.3");
    let pod = pod_spec(&objects, "plant-e-gateway");
    assert_eq!(
        names(&pod["initContainers"]),
        ["prepare-data", "gan-trust", "fetch-backup", "prepare-backup"],
        "the backup is prepared after the role and the trust are written"
    );
    let fetch = container(pod, "initContainers", "fetch-backup");
    let env: Vec<(&str, &str)> = fetch["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        env[0],
        ("RESTORE_URL", "https://backups.example.com/plant-e/2026-11-01.gwbk")
    );
    assert_eq!(env[2], ("RESTORE_FILE", "/data/restore.gwbk"));
    let gateway_args = args(pod);
    assert_eq!(
        &gateway_args[2..4],
        ["-r", "/usr/local/bin/ignition/data/restore-prepared.gwbk"]
    );
    let prepare = container(pod, "initContainers", "prepare-backup");
    assert!(prepare["env"]
        .as_sequence()
        .unwrap()
        .contains(&parse("name: BACKUP_SOURCE\nvalue: /data/restore.gwbk\n")));

    let from_volume = expand("scaleout-traefik-secret-certificates-8.1");
    let backend = pod_spec(&from_volume, "plant-f-backend");
    assert_eq!(
        &args(backend)[2..4],
        ["-r", "/usr/local/bin/ignition/data/restore-prepared.gwbk"]
    );
    let prepare = container(backend, "initContainers", "prepare-backup");
    assert!(prepare["env"]
        .as_sequence()
        .unwrap()
        .contains(&parse("name: BACKUP_SOURCE\nvalue: /restore/plant-f/latest.gwbk\n")));
    assert!(prepare["volumeMounts"]
        .as_sequence()
        .unwrap()
        .contains(&parse("name: restore\nmountPath: /restore\nreadOnly: true\n")));
    assert!(
        !container(backend, "containers", "gateway")["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|mount| mount["name"] == "restore"),
        "the gateway reads the prepared copy on its own volume"
    );
    let volume = backend["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "restore")
        .unwrap();
    assert_eq!(
        volume["persistentVolumeClaim"],
        parse("claimName: plant-backups\nreadOnly: true\n")
    );
    let frontend = pod_spec(&from_volume, "plant-f-frontend");
    assert!(!args(frontend).contains(&"-r"), "frontends: false");
    let both = expand("scaleout-certificates-manual-rotation-8.3");
    assert!(
        args(pod_spec(&both, "plant-h-frontend")).contains(&"-r"),
        "frontends: true"
    );
}

#[test]
fn routing_alternatives_keep_perspective_sessions_sticky() {
    let objects = expand("failover-certificates-restore-8.3");
    let route = find(&objects, "HTTPRoute", "plant-e");
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(
        route["spec"]["parentRefs"][0],
        parse("name: plant-gateway\nnamespace: gateway-system\nsectionName: https\n")
    );
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"][0],
        parse("name: plant-e-gateway\nport: 8088\n")
    );
    assert_eq!(route["spec"]["rules"][0]["sessionPersistence"]["type"], "Cookie");
    // Session persistence only when asked: the standard channel's HTTPRoute CRD rejects the field.
    let standard = find(
        &expand("scaleout-traefik-secret-certificates-8.1"),
        "HTTPRoute",
        "plant-f",
    )
    .clone();
    assert!(standard["spec"]["rules"][0]["sessionPersistence"].is_null());
    assert_eq!(
        standard["spec"]["rules"][0]["backendRefs"][0],
        parse("name: plant-f-frontend\nport: 8088\n")
    );
    assert!(
        find(&objects, "Ingress", "plant-e")["metadata"]["annotations"]
            .as_mapping()
            .unwrap()
            .keys()
            .all(|key| { !key.as_str().unwrap().starts_with("nginx.ingress.kubernetes.io/") }),
        "stickySessions: none"
    );

    let traefik = expand("scaleout-traefik-secret-certificates-8.1");
    let service = find(&traefik, "Service", "plant-f-frontend");
    assert_eq!(
        service["metadata"]["annotations"]["traefik.ingress.kubernetes.io/service.sticky.cookie"],
        "true"
    );
    assert_eq!(
        service["metadata"]["annotations"]["traefik.ingress.kubernetes.io/service.sticky.cookie.secure"],
        "true"
    );
    let ingress = find(&traefik, "Ingress", "plant-f");
    assert_eq!(ingress["spec"]["ingressClassName"], "traefik");
    assert!(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"].is_null());
}

#[test]
fn frontends_do_not_restore_unless_asked() {
    let expand_spec = |restore: &str| {
        let input = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  \
             apiVersion: ignition.krm.dev/v1alpha1\n  kind: IgnitionCluster\n  metadata: {{name: plant-r, namespace: scada}}\n  \
             spec:\n    architecture: scaleout\n    version: \"8.3.3\"\n    adminPasswordSecret: s\n{restore}"
        );
        let output = run_function(&input);
        assert!(output.status.success(), "{}", stderr(&output));
        generated(&parse(&stdout(&output)))
    };
    let source = |objects: &[Value], statefulset: &str| {
        let pod = pod_spec(objects, statefulset);
        names(&pod["initContainers"]).contains(&"prepare-backup").then(|| {
            container(pod, "initContainers", "prepare-backup")["env"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|env| env["name"] == "BACKUP_SOURCE")
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    };
    let backend_only = expand_spec("    restore: {volumeClaim: backups, path: backend.gwbk}\n");
    assert_eq!(
        source(&backend_only, "plant-r-backend").as_deref(),
        Some("/restore/backend.gwbk")
    );
    assert_eq!(
        source(&backend_only, "plant-r-frontend"),
        None,
        "a backend's backup stays off the frontends"
    );
    assert!(!args(pod_spec(&backend_only, "plant-r-frontend")).contains(&"-r"));

    let same = expand_spec("    restore: {volumeClaim: backups, path: site.gwbk, frontends: true}\n");
    assert_eq!(source(&same, "plant-r-frontend").as_deref(), Some("/restore/site.gwbk"));

    let own = expand_spec(
        "    restore: {volumeClaim: backups, path: backend.gwbk}\n    \
         frontend: {restore: {volumeClaim: backups, path: frontend.gwbk}}\n",
    );
    assert_eq!(
        source(&own, "plant-r-backend").as_deref(),
        Some("/restore/backend.gwbk")
    );
    assert_eq!(
        source(&own, "plant-r-frontend").as_deref(),
        Some("/restore/frontend.gwbk")
    );
    assert!(args(pod_spec(&own, "plant-r-frontend")).contains(&"-r"));
}
