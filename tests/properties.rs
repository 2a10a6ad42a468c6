//! Properties over generated valid specs: any spec within the valid ranges expands, the output
//! reads back as written and passes our structural checks, is the same on every run, and running
//! the function on its own output changes nothing, byte for byte.

mod common;

use std::collections::BTreeSet;

use common::*;
use ignition_krm::{function, krm};
use proptest::prelude::*;
use serde_norway::Value;

/// A valid spec as the YAML a user would write, from choices within the valid ranges.
#[derive(Debug, Clone)]
struct SpecChoice {
    name: String,
    namespace: Option<String>,
    scaleout: bool,
    version: String,
    edition: &'static str,
    timezone: &'static str,
    backend_replicas: Option<u32>,
    frontend_replicas: Option<u32>,
    cpu: Option<&'static str>,
    memory: Option<&'static str>,
    storage: Option<&'static str>,
    ingress: Option<(String, bool)>,
    digest: bool,
    pull_policy: Option<&'static str>,
    license: bool,
    modules: Vec<&'static str>,
    deployment_mode: bool,
    security_policy: &'static str,
    redundancy: Option<(&'static str, &'static str)>,
}

impl SpecChoice {
    fn to_yaml(&self) -> String {
        let mut spec = String::new();
        let mut line = |text: String| {
            spec.push_str("  ");
            spec.push_str(&text);
            spec.push('\n');
        };
        line(format!(
            "architecture: {}",
            if self.scaleout { "scaleout" } else { "failover" }
        ));
        line(format!("version: \"{}\"", self.version));
        line(format!("edition: {}", self.edition));
        line(format!("timezone: {}", self.timezone));
        line("adminPasswordSecret: site-admin".to_owned());
        let mut tier = String::new();
        if let Some(replicas) = self.backend_replicas.filter(|_| self.scaleout) {
            tier.push_str(&format!("replicas: {replicas}, "));
        }
        let resources: Vec<String> = [("cpu", self.cpu), ("memory", self.memory)]
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| format!("{key}: {value}")))
            .collect();
        if !resources.is_empty() {
            tier.push_str(&format!("resources: {{{}}}, ", resources.join(", ")));
        }
        if let Some(size) = self.storage {
            tier.push_str(&format!("storage: {{size: {size}}}, "));
        }
        let tier_key = if self.scaleout { "backend" } else { "gateway" };
        line(format!("{tier_key}: {{{}}}", tier.trim_end_matches(", ")));
        if self.scaleout {
            // Each frontend needs its own licence: with a licence, one Secret per frontend.
            let count = self.frontend_replicas.unwrap_or(2);
            let license = if self.license {
                let secrets: Vec<String> = (0..count).map(|ordinal| format!("site-frontend-{ordinal}")).collect();
                format!("license: {{podSecrets: [{}]}}", secrets.join(", "))
            } else {
                String::new()
            };
            match self.frontend_replicas {
                Some(replicas) => line(format!("frontend: {{replicas: {replicas}, {license}}}")),
                None => line(format!("frontend: {{{license}}}")),
            }
        }
        if let Some((host, tls)) = &self.ingress {
            let tls = if *tls { ", tlsSecret: site-tls" } else { "" };
            line(format!("ingress: {{host: {host}, className: nginx{tls}}}"));
        }
        let mut image = Vec::new();
        if self.digest {
            image.push(format!("digest: \"sha256:{}\"", "ab".repeat(32)));
        }
        if let Some(policy) = self.pull_policy {
            image.push(format!("pullPolicy: {policy}"));
        }
        if !image.is_empty() {
            line(format!("image: {{{}}}", image.join(", ")));
        }
        if self.license {
            line("license: {secret: site-license}".to_owned());
        }
        if !self.modules.is_empty() {
            line(format!("modules: [{}]", self.modules.join(", ")));
        }
        if self.deployment_mode && self.version.starts_with("8.3") {
            line("deploymentMode: prod".to_owned());
        }
        let whitelist = if self.security_policy == "SpecifiedList" {
            ", whitelist: [other-gateway]"
        } else {
            ""
        };
        // ApprovedOnly is the policy of trust: manual only; the others go with the default CA.
        let trust = if self.security_policy == "ApprovedOnly" {
            "trust: manual, "
        } else {
            ""
        };
        line(format!(
            "gatewayNetwork: {{{trust}securityPolicy: {}{whitelist}}}",
            self.security_policy
        ));
        let redundant = !self.scaleout || self.backend_replicas != Some(1);
        if let (Some((level, recovery)), true) = (self.redundancy, redundant) {
            line(format!(
                "redundancy: {{standbyActivityLevel: {level}, masterRecoveryMode: {recovery}}}"
            ));
        }
        let namespace = self
            .namespace
            .as_ref()
            .map(|namespace| format!("\n  namespace: {namespace}"))
            .unwrap_or_default();
        format!(
            "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata:\n  name: {}{namespace}\nspec:\n{spec}",
            self.name
        )
    }
}

fn dns_label(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z]([a-z0-9-]{{0,{}}}[a-z0-9])?", max - 2)).unwrap()
}

prop_compose! {
    fn spec_choice()(
        name in dns_label(20),
        namespace in proptest::option::of(dns_label(30)),
        scaleout in any::<bool>(),
        version in prop_oneof![(32u32..60).prop_map(|patch| format!("8.1.{patch}")), (0u32..20).prop_map(|patch| format!("8.3.{patch}"))],
        edition in prop::sample::select(&["standard", "edge", "maker", "cloud"][..]),
        timezone in prop::sample::select(&["UTC", "America/Chicago", "Europe/Berlin", "Etc/GMT+5"][..]),
        backend_replicas in proptest::option::of(1u32..=2),
        frontend_replicas in proptest::option::of(1u32..=12),
        cpu in proptest::option::of(prop::sample::select(&["500m", "1", "2", "1500m", "16", "\"4\""][..])),
        memory in proptest::option::of(prop::sample::select(&["1536Mi", "3072Mi", "4Gi", "16Gi", "1.5Gi"][..])),
        storage in proptest::option::of(prop::sample::select(&["1Gi", "10Gi", "500Gi", "2Ti"][..])),
        ingress in proptest::option::of((dns_label(20).prop_map(|label| format!("{label}.example.com")), any::<bool>())),
        digest in any::<bool>(),
        pull_policy in proptest::option::of(prop::sample::select(&["Always", "IfNotPresent", "Never"][..])),
        license in any::<bool>(),
        modules in prop::sample::subsequence(&["perspective", "tag-historian", "opc-ua", "alarm-notification"][..], 0..=4),
        deployment_mode in any::<bool>(),
        security_policy in prop::sample::select(&["ApprovedOnly", "Unrestricted", "SpecifiedList"][..]),
        redundancy in proptest::option::of((prop::sample::select(&["Cold", "Warm", "Hot"][..]), prop::sample::select(&["Automatic", "Manual"][..]))),
    ) -> SpecChoice {
        // The cloud edition exists from 8.3 on.
        let edition = if edition == "cloud" && version.starts_with("8.1") { "standard" } else { edition };
        SpecChoice {
            name, namespace, scaleout, version, edition, timezone, backend_replicas, frontend_replicas, cpu, memory,
            storage, ingress, digest, pull_policy, license, modules, deployment_mode, security_policy, redundancy,
        }
    }
}

fn resource_list(spec: &str) -> String {
    let config: String = spec.lines().map(|line| format!("  {line}\n")).collect();
    format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n{config}")
}

/// One run of the function, in process, from text to text.
fn expand(input: &str) -> (String, usize, Vec<String>) {
    let list = krm::read(input).expect("the input reads");
    let outcome = function::process(list);
    let errors = outcome.results.iter().map(function::describe).collect();
    (outcome.write(), outcome.generated.len(), errors)
}

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The checks we can make of an object without an API server.
fn structural_problems(objects: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let names: BTreeSet<(String, String)> = objects.iter().map(kind_and_name).collect();
    if names.len() != objects.len() {
        problems.push("two objects share a kind and name".to_owned());
    }
    for object in objects {
        let (kind, name) = kind_and_name(object);
        if object["apiVersion"].as_str().is_none_or(str::is_empty) || kind.is_empty() {
            problems.push(format!("{name}: no apiVersion or kind"));
        }
        let name_ok = if ["Service", "StatefulSet"].contains(&kind.as_str()) {
            is_dns_label(&name)
        } else {
            name.len() <= 253 && name.split('.').all(is_dns_label)
        };
        if !name_ok {
            problems.push(format!("{kind} {name}: not a valid name"));
        }
        for (key, value) in object["metadata"]["labels"].as_mapping().into_iter().flatten() {
            let value = value.as_str().unwrap_or("<not a string>");
            if value.len() > 63 || !value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                problems.push(format!("{kind} {name}: label {key:?} value {value:?}"));
            }
        }
        if kind == "StatefulSet" {
            let service = object["spec"]["serviceName"].as_str().unwrap_or_default();
            if !names.contains(&("Service".to_owned(), service.to_owned())) {
                problems.push(format!("{name}: serviceName {service} is not generated"));
            }
            let spec = &object["spec"]["template"]["spec"];
            for volume in spec["volumes"].as_sequence().into_iter().flatten() {
                if let Some(config_map) = volume["configMap"]["name"].as_str() {
                    if !names.contains(&("ConfigMap".to_owned(), config_map.to_owned())) {
                        problems.push(format!("{name}: ConfigMap {config_map} is not generated"));
                    }
                }
            }
            for container in spec["containers"].as_sequence().into_iter().flatten() {
                if container["resources"]["limits"]["memory"].is_null() {
                    problems.push(format!("{name}: a container without a memory limit"));
                }
            }
            let selector = &object["spec"]["selector"]["matchLabels"];
            let labels = &object["spec"]["template"]["metadata"]["labels"];
            for (key, value) in selector.as_mapping().into_iter().flatten() {
                if labels.get(key) != Some(value) {
                    problems.push(format!("{name}: the selector does not select the template"));
                }
            }
        }
    }
    problems
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn valid_specs_expand_to_sound_deterministic_idempotent_output(choice in spec_choice()) {
        let input = resource_list(&choice.to_yaml());
        let (first, generated, errors) = expand(&input);
        prop_assert!(errors.is_empty(), "a valid spec was refused: {errors:?}\n{input}");
        prop_assert!(generated >= 10, "{generated} objects");

        let list = krm::read(&first).expect("the output reads back");
        prop_assert_eq!(&krm::write(&list.items, &[]), &first, "the output does not read back as written");
        let objects: Vec<Value> = list.items.clone();
        let problems = structural_problems(&objects);
        prop_assert!(problems.is_empty(), "{problems:?}");

        let (again, _, _) = expand(&input);
        prop_assert_eq!(&again, &first, "two runs differ");

        // f(f(x)) == f(x): the output, with the spec as function config again, is a fixed point.
        let config: String = choice.to_yaml().lines().map(|line| format!("  {line}\n")).collect();
        let rerun_input = format!("{first}functionConfig:\n{config}");
        let (rerun, _, errors) = expand(&rerun_input);
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(&rerun, &first, "running on its own output changed it");
    }
}

/// A small fixed sample through the real binary and kubernetes-validate (too slow for every case).
#[test]
fn a_sample_of_generated_specs_passes_kubernetes_validate() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let dir = std::env::temp_dir().join(format!("ignition-krm-properties-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for index in 0..3 {
        let choice = spec_choice().new_tree(&mut runner).unwrap().current();
        let output = run_function(&resource_list(&choice.to_yaml()));
        assert!(output.status.success(), "{choice:?}: {}", stderr(&output));
        let mut objects = generated(&parse(&stdout(&output)));
        objects.iter_mut().for_each(krm::strip_orchestrator_annotations);
        let file = dir.join(format!("sample-{index}.yaml"));
        std::fs::write(&file, krm::write_documents(&objects)).unwrap();
        let validate = std::process::Command::new(tool("kubernetes-validate"))
            .args(["--strict", "-k", "1.33.0"])
            .arg(&file)
            .output()
            .expect("kubernetes-validate runs");
        assert!(
            validate.status.success(),
            "{choice:?}:\n{}{}",
            stdout(&validate),
            stderr(&validate)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
