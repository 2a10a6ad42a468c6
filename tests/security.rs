//! The security properties of the output: checkov finds nothing it was not told about, every pod
//! meets the Pod Security Standard "restricted", and no secret value reaches anything we write.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use ignition_krm::krm;
use serde_norway::Value;

const SUCCESS_CASES: &[&str] = &[
    "failover-8.1",
    "failover-8.3",
    "failover-certificates-restore-8.3",
    "failover-gateway-resources-8.3",
    "failover-manual-trust-8.1",
    "scaleout-8.1",
    "scaleout-8.3",
    "scaleout-certificates-manual-rotation-8.3",
    "scaleout-traefik-secret-certificates-8.1",
    "scaleout-plant-options-8.3",
    "scaleout-projects-modules-8.3",
];
const KUSTOMIZATIONS: &[&str] = &["bases/failover", "bases/scaleout", "overlays/dev", "overlays/prod"];

/// Every skip the generators may write, by check; the README lists each with its reason.
const KNOWN_SKIPS: &[&str] = &[
    "CKV_K8S_15",
    "CKV_K8S_21",
    "CKV_K8S_22",
    "CKV_K8S_40",
    "CKV_K8S_43",
    "CKV_K8S_8",
    "CKV_K8S_9",
];

/// The generated objects of a golden success case, as `kubectl apply` would get them.
fn golden_objects(case: &str) -> Vec<Value> {
    let output = run_function(&read(format!("tests/testdata/{case}/input.yaml")));
    assert!(output.status.success(), "{case}: {}", stderr(&output));
    let mut objects = generated(&parse(&stdout(&output)));
    objects.iter_mut().for_each(krm::strip_orchestrator_annotations);
    objects
}

/// Every environment of the example GitOps tree (`render` output): `examples/rendered/<site>/overlays/<env>`.
fn example_environments() -> Vec<String> {
    let mut dirs = Vec::new();
    for site in std::fs::read_dir(repo_root().join("examples/rendered")).unwrap() {
        let overlays = site.unwrap().path().join("overlays");
        for environment in std::fs::read_dir(&overlays).into_iter().flatten() {
            let path = environment.unwrap().path();
            if path.join("kustomization.yaml").exists() {
                let relative = path.strip_prefix(repo_root()).unwrap();
                dirs.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 2, "no example environments found: {dirs:?}");
    dirs
}

/// What kustomize makes of every base and overlay here and every example environment.
fn kustomize_outputs() -> Vec<(String, String)> {
    KUSTOMIZATIONS
        .iter()
        .map(|dir| dir.to_string())
        .chain(example_environments())
        .map(|dir| {
            let output = kustomize_build(&dir);
            (dir, output)
        })
        .collect()
}

fn kustomize_build(dir: &str) -> String {
    let output = Command::new(tool("kustomize"))
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(repo_root().join(dir))
        .env("PATH", path_with_binary())
        .output()
        .expect("kustomize runs");
    assert!(output.status.success(), "kustomize build {dir}: {}", stderr(&output));
    stdout(&output)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ignition-krm-security-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every output the project can produce: the golden cases (both architectures, both version
/// lines), every base and overlay as kustomize builds it, and every example environment.
fn write_every_output(dir: &Path, keep_skips: bool) {
    let strip = |text: String| {
        if keep_skips {
            return text;
        }
        text.lines()
            .filter(|line| !line.trim_start().starts_with("checkov.io/skip"))
            .map(|line| format!("{line}\n"))
            .collect()
    };
    for case in SUCCESS_CASES {
        let text = krm::write_documents(&golden_objects(case));
        std::fs::write(dir.join(format!("{case}.yaml")), strip(text)).unwrap();
    }
    for (kustomization, output) in kustomize_outputs() {
        let file = format!("{}.yaml", kustomization.replace('/', "-"));
        std::fs::write(dir.join(file), strip(output)).unwrap();
    }
}

/// Runs checkov on a directory: (exit code, its compact report).
fn checkov(dir: &Path) -> (i32, String) {
    let output = Command::new(tool("checkov"))
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "--quiet",
            "--compact",
            "-d",
        ])
        .arg(dir)
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("checkov runs");
    (
        output.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&output), stderr(&output)),
    )
}

fn count(report: &str, label: &str) -> usize {
    report
        .split(label)
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).find(|part| !part.is_empty()))
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in the checkov report:\n{report}"))
}

#[test]
fn checkov_finds_nothing_but_the_documented_skips() {
    let with_skips = scratch("checkov");
    let without_skips = scratch("checkov-unskipped");
    write_every_output(&with_skips, true);
    write_every_output(&without_skips, false);
    let control = std::thread::spawn(move || checkov(&without_skips));
    let (code, report) = checkov(&with_skips);
    assert_eq!(count(&report, "Failed checks:"), 0, "{report}");
    assert_eq!(code, 0, "{report}");
    assert!(count(&report, "Passed checks:") > 100, "{report}");
    assert!(count(&report, "Skipped checks:") > 0, "{report}");

    // The skips are what make the difference: without them, checkov fails exactly those checks.
    let (code, report) = control.join().unwrap();
    assert_eq!(code, 1, "{report}");
    let failed: std::collections::BTreeSet<&str> = report
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Check: "))
        .filter_map(|check| check.split(':').next())
        .collect();
    assert_eq!(failed.into_iter().collect::<Vec<_>>(), KNOWN_SKIPS, "{report}");
}

#[test]
fn every_skip_is_documented_in_the_readme() {
    let readme = read("README.md");
    let mut written = std::collections::BTreeSet::new();
    for case in SUCCESS_CASES {
        for object in golden_objects(case) {
            let Some(annotations) = object["metadata"]["annotations"].as_mapping() else {
                continue;
            };
            for (key, value) in annotations {
                if key.as_str().unwrap().starts_with("checkov.io/skip") {
                    let value = value.as_str().unwrap();
                    let (check, reason) = value.split_once('=').expect("CKV_K8S_XX=reason");
                    assert!(reason.len() > 20, "{value}: a skip says why");
                    written.insert(check.to_owned());
                }
            }
        }
    }
    assert_eq!(written.iter().map(String::as_str).collect::<Vec<_>>(), KNOWN_SKIPS);
    for check in KNOWN_SKIPS {
        assert!(
            readme.contains(&format!("| {check} |")),
            "README.md lists {check} in its skips table"
        );
    }
}

#[test]
fn a_given_digest_and_namespace_need_no_skip() {
    // failover-8.3 gives a digest and pullPolicy Always but no namespace; failover-8.1 a namespace only.
    let skips = |case: &str, kind: &str| -> Vec<String> {
        let objects = golden_objects(case);
        let object = objects.iter().find(|object| object["kind"] == kind).unwrap();
        object["metadata"]["annotations"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(key, _)| key.as_str().unwrap().starts_with("checkov.io/skip"))
            .map(|(_, value)| value.as_str().unwrap().split('=').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        skips("failover-8.3", "StatefulSet"),
        ["CKV_K8S_22", "CKV_K8S_40", "CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_21"]
    );
    assert_eq!(
        skips("failover-8.1", "StatefulSet"),
        [
            "CKV_K8S_22",
            "CKV_K8S_40",
            "CKV_K8S_8",
            "CKV_K8S_9",
            "CKV_K8S_43",
            "CKV_K8S_15"
        ]
    );
    // A single independent backend has no role-labeler sidecar to excuse.
    assert!(!skips("scaleout-8.1", "StatefulSet").contains(&"CKV_K8S_8".to_owned()));
    assert!(skips("failover-8.1", "ConfigMap").is_empty());
    assert_eq!(skips("failover-8.3", "ConfigMap"), ["CKV_K8S_21"]);
}

// ----------------------------------------------------------------------------------------------
// Pod Security Standard "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// baseline controls included, field by field.

const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Every way a pod template breaks the restricted profile; empty when it meets it.
fn restricted_violations(template: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let mut fail = |message: String| violations.push(message);
    let spec = &template["spec"];
    let pod = &spec["securityContext"];
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == true {
            fail(format!("spec.{field} is true"));
        }
    }
    if pod["windowsOptions"]["hostProcess"] == true {
        fail("pod hostProcess".to_owned());
    }
    for volume in spec["volumes"].as_sequence().into_iter().flatten() {
        let types: Vec<&str> = volume
            .as_mapping()
            .unwrap()
            .keys()
            .filter_map(Value::as_str)
            .filter(|key| *key != "name")
            .collect();
        if types.len() != 1 || !RESTRICTED_VOLUME_TYPES.contains(&types[0]) {
            fail(format!(
                "volume {} has type {types:?}",
                volume["name"].as_str().unwrap_or("?")
            ));
        }
    }
    for sysctl in pod["sysctls"].as_sequence().into_iter().flatten() {
        let name = sysctl["name"].as_str().unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name) {
            fail(format!("unsafe sysctl {name}"));
        }
    }
    let check_selinux = |context: &Value, whose: &str, fail: &mut dyn FnMut(String)| {
        let selinux = &context["seLinuxOptions"];
        if let Some(kind) = selinux["type"].as_str() {
            if !SELINUX_TYPES.contains(&kind) {
                fail(format!("{whose} SELinux type {kind}"));
            }
        }
        if !selinux["user"].is_null() || !selinux["role"].is_null() {
            fail(format!("{whose} sets an SELinux user or role"));
        }
    };
    let check_apparmor = |context: &Value, whose: &str, fail: &mut dyn FnMut(String)| {
        if let Some(kind) = context["appArmorProfile"]["type"].as_str() {
            if !["RuntimeDefault", "Localhost"].contains(&kind) {
                fail(format!("{whose} AppArmor profile {kind}"));
            }
        }
    };
    let seccomp_ok = |context: &Value| {
        matches!(
            context["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault") | Some("Localhost")
        )
    };
    check_selinux(pod, "pod", &mut fail);
    check_apparmor(pod, "pod", &mut fail);
    if pod["runAsUser"] == 0 {
        fail("pod runAsUser 0".to_owned());
    }
    for (key, value) in template["metadata"]["annotations"].as_mapping().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        let value = value.as_str().unwrap_or_default();
        if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
            && !(value == "runtime/default" || value.starts_with("localhost/"))
        {
            fail(format!("AppArmor annotation {key}: {value}"));
        }
    }
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|field| spec[field].as_sequence().into_iter().flatten());
    for container in containers {
        let name = container["name"].as_str().unwrap_or("?");
        let context = &container["securityContext"];
        if context["privileged"] == true {
            fail(format!("{name} is privileged"));
        }
        if context["allowPrivilegeEscalation"] != false {
            fail(format!("{name} does not set allowPrivilegeEscalation: false"));
        }
        if !(context["runAsNonRoot"] == true || pod["runAsNonRoot"] == true && context["runAsNonRoot"] != false) {
            fail(format!("{name} may run as root"));
        }
        if context["runAsUser"] == 0 {
            fail(format!("{name} runAsUser 0"));
        }
        if !(seccomp_ok(context) || seccomp_ok(pod) && context["seccompProfile"].is_null()) {
            fail(format!("{name} has no RuntimeDefault or Localhost seccomp profile"));
        }
        let capabilities = &context["capabilities"];
        let drops_all = capabilities["drop"]
            .as_sequence()
            .is_some_and(|drop| drop.iter().any(|capability| capability == "ALL"));
        if !drops_all {
            fail(format!("{name} does not drop ALL capabilities"));
        }
        for added in capabilities["add"].as_sequence().into_iter().flatten() {
            if added != "NET_BIND_SERVICE" {
                fail(format!("{name} adds capability {added:?}"));
            }
        }
        if context["windowsOptions"]["hostProcess"] == true {
            fail(format!("{name} hostProcess"));
        }
        if let Some(mount) = context["procMount"].as_str() {
            if mount != "Default" {
                fail(format!("{name} procMount {mount}"));
            }
        }
        check_selinux(context, name, &mut fail);
        check_apparmor(context, name, &mut fail);
        for port in container["ports"].as_sequence().into_iter().flatten() {
            if port["hostPort"].as_i64().unwrap_or(0) != 0 {
                fail(format!("{name} uses hostPort {:?}", port["hostPort"]));
            }
        }
    }
    violations
}

fn pod_templates(objects: &[Value]) -> Vec<&Value> {
    let templates: Vec<&Value> = objects
        .iter()
        .filter(|object| {
            ["StatefulSet", "Deployment", "DaemonSet", "Job"].contains(&object["kind"].as_str().unwrap_or(""))
        })
        .map(|object| &object["spec"]["template"])
        .collect();
    assert!(!templates.is_empty(), "no pod template found");
    templates
}

#[test]
fn every_pod_meets_the_restricted_pod_security_standard() {
    for case in SUCCESS_CASES {
        for template in pod_templates(&golden_objects(case)) {
            assert_eq!(restricted_violations(template), Vec::<String>::new(), "{case}");
        }
    }
    for (kustomization, output) in kustomize_outputs() {
        let objects: Vec<Value> = documents(&output);
        for template in pod_templates(&objects) {
            assert_eq!(restricted_violations(template), Vec::<String>::new(), "{kustomization}");
        }
    }
}

#[test]
fn the_restricted_check_catches_each_kind_of_violation() {
    let objects = golden_objects("failover-8.3");
    let template = pod_templates(&objects)[0].clone();
    type Breaker = (&'static str, fn(&mut Value));
    let breakers: &[Breaker] = &[
        ("hostNetwork", |t| t["spec"]["hostNetwork"] = true.into()),
        ("hostPath", |t| {
            t["spec"]["volumes"]
                .as_sequence_mut()
                .unwrap()
                .push(parse("{name: h, hostPath: {path: /}}"))
        }),
        ("privileged", |t| {
            t["spec"]["containers"][0]["securityContext"]["privileged"] = true.into()
        }),
        ("escalation", |t| {
            t["spec"]["initContainers"][0]["securityContext"]["allowPrivilegeEscalation"] = true.into()
        }),
        ("root", |t| {
            t["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0.into()
        }),
        ("capability", |t| {
            t["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = parse("[SYS_ADMIN]")
        }),
        ("seccomp", |t| {
            t["spec"]["containers"][0]["securityContext"]["seccompProfile"]["type"] = "Unconfined".into()
        }),
        ("hostPort", |t| {
            t["spec"]["containers"][0]["ports"][0]["hostPort"] = 80.into()
        }),
        ("sysctl", |t| {
            t["spec"]["securityContext"]["sysctls"] = parse("[{name: kernel.msgmax, value: '1'}]")
        }),
        ("selinux", |t| {
            t["spec"]["securityContext"]["seLinuxOptions"] = parse("{type: spc_t}")
        }),
        ("procMount", |t| {
            t["spec"]["containers"][0]["securityContext"]["procMount"] = "Unmasked".into()
        }),
        ("apparmor", |t| {
            t["spec"]["containers"][0]["securityContext"]["appArmorProfile"] = parse("{type: Unconfined}")
        }),
    ];
    for (name, breaker) in breakers {
        let mut broken = template.clone();
        breaker(&mut broken);
        assert!(!restricted_violations(&broken).is_empty(), "{name} went unnoticed");
    }
}

// ----------------------------------------------------------------------------------------------
// Secret values.

const PASSWORD: &str = "Pa55w0rd-hostile-7f3a9c";
const TOKEN: &str = "tok-activation-91b2e6d4";

/// A Secret among the items: its data comes back unchanged (the KRM contract), and nowhere else.
fn secret_item() -> String {
    use std::fmt::Write;
    let mut text = String::new();
    let encoded = "UGE1NXcwcmQtaG9zdGlsZS03ZjNhOWM="; // base64 of PASSWORD
    writeln!(
        text,
        "- apiVersion: v1\n  kind: Secret\n  metadata: {{name: plant-c-admin, namespace: scada}}"
    )
    .unwrap();
    writeln!(
        text,
        "  data: {{password: {encoded}}}\n  stringData: {{activationToken: {TOKEN}, password: {PASSWORD}}}"
    )
    .unwrap();
    text
}

fn with_secret(spec: &str) -> String {
    let mut input = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}",
        secret_item()
    );
    input.push_str("functionConfig:\n");
    for line in spec.lines() {
        input.push_str(&format!("  {line}\n"));
    }
    input
}

fn spec_of(case: &str) -> String {
    let list = parse(&read(format!("tests/testdata/{case}/input.yaml")));
    serde_norway::to_string(&list["functionConfig"]).unwrap()
}

fn assert_no_secret_in(what: &str, text: &str) {
    for value in [PASSWORD, TOKEN, "UGE1NXcwcmQtaG9zdGlsZS03ZjNhOWM="] {
        assert!(!text.contains(value), "{what} contains a secret value:\n{text}");
    }
}

#[test]
fn secret_values_never_leave_their_secret() {
    let good = spec_of("failover-8.3");
    let inputs = [
        ("valid spec", with_secret(&good)),
        ("invalid spec", with_secret(&good.replace("8.3.3", "latest"))),
        ("no spec", with_secret("null")),
        (
            "wrong config",
            with_secret(
                "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {password: Pa55w0rd-hostile-7f3a9c}",
            ),
        ),
    ];
    for (name, input) in inputs {
        let output = run_function(&input);
        assert_no_secret_in(&format!("{name}: stderr"), &stderr(&output));
        let list = parse(&stdout(&output));
        assert_no_secret_in(
            &format!("{name}: results"),
            &serde_norway::to_string(&list["results"]).unwrap(),
        );
        for object in generated(&list) {
            assert_no_secret_in(
                &format!("{name}: {:?}", kind_and_name(&object)),
                &serde_norway::to_string(&object).unwrap(),
            );
        }
        let secret = items(&list).into_iter().find(|item| item["kind"] == "Secret");
        if name == "valid spec" {
            assert!(output.status.success(), "{}", stderr(&output));
            assert!(!generated(&list).is_empty());
            assert_eq!(
                secret.unwrap()["stringData"]["password"],
                PASSWORD,
                "the Secret item passes through"
            );
        } else {
            assert!(!output.status.success(), "{name}");
        }
    }
}

#[test]
fn no_env_value_config_map_or_annotation_carries_a_credential() {
    for case in SUCCESS_CASES {
        for object in golden_objects(case) {
            if object["kind"] == "StatefulSet" {
                let template = &object["spec"]["template"];
                for field in ["initContainers", "containers"] {
                    for container in template["spec"][field].as_sequence().into_iter().flatten() {
                        for env in container["env"].as_sequence().into_iter().flatten() {
                            let name = env["name"].as_str().unwrap();
                            assert!(
                                env["valueFrom"]["secretKeyRef"].is_null(),
                                "{case}: {name} reads a Secret into the environment (files only)"
                            );
                            let sensitive = ["PASSWORD", "TOKEN", "SECRET", "LICENSE_KEY", "ACTIVATION"]
                                .iter()
                                .any(|word| name.contains(word));
                            // Only the path of a mounted file may name a credential.
                            let literal = env["value"].as_str();
                            assert!(
                                !sensitive
                                    || literal.is_none_or(|value| name.ends_with("_FILE") && value.starts_with('/')),
                                "{case}: {name} has a literal value"
                            );
                        }
                    }
                }
            }
            if object["kind"] == "ConfigMap" {
                for (key, value) in object["data"].as_mapping().into_iter().flatten() {
                    let key = key.as_str().unwrap().to_ascii_uppercase();
                    let value = value.as_str().unwrap_or_default();
                    // A credential is named only by the path of the file that holds it.
                    let credential = ["PASSWORD", "TOKEN", "SECRET", "LICENSE_KEY"]
                        .iter()
                        .any(|word| key.contains(word));
                    assert!(
                        !credential || key.ends_with("_FILE") && value.starts_with('/'),
                        "{case}: ConfigMap {:?} has {key}: {value}",
                        object["metadata"]["name"]
                    );
                }
            }
            assert!(object["kind"] != "Secret", "{case}: the function never writes a Secret");
        }
    }
}
