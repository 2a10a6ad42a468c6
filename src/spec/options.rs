//! Per-tier settings a plant needs: licences (per tier and per pod), modules, the platform team's
//! escape hatches (scheduling, pod metadata, environment, volumes), device ports with their Service,
//! and extra NetworkPolicy peers; plus the version floor of the generated environment.
//!
//! The spec types here are our own serde structs, a validated subset of the Kubernetes fields of
//! the same names: k8s-openapi types have no `JsonSchema`, and the schema is what checks input first.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::path::FieldPath;
use super::quantity::Quantity;
use super::site::{check_dns_label, check_dns_subdomain, is_dns_label, is_dns_subdomain, Tier, TierKind, VersionLine};
use super::types::{Activation, FrontendTier, License, QuantityText, RedundantTier, Spec};
use super::Problem;

/// Scheduling, metadata, environment and volumes added to a tier's pods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodOptions {
    /// Node labels the pods must run on, such as `node-role.kubernetes.io/scada: ""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Taints the pods tolerate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// An existing PriorityClass, such as `system-cluster-critical` or a plant's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Extra annotations on the pods (not the keys the function sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Extra labels on the pods (not the keys the function sets or selects on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Extra environment variables of the gateway container (not the names the function sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<ExtraEnv>>,
    /// Extra volumes of the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<ExtraVolume>>,
    /// Where the gateway container mounts the extra volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<ExtraVolumeMount>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// The taint key; left out with operator `Exists` to tolerate every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Equal` (default) or `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    /// With `Equal`: the taint value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; every effect when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    /// With `NoExecute`: how long the pod stays after the taint appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31_536_000))]
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// An environment variable: a plain `value` or one key of a ConfigMap. Secrets reach the gateway
/// as files only (as the function's own `*_FILE` settings do): mount the Secret with `volumes` and
/// `volumeMounts` and give its path, such as `DB_PASSWORD_FILE=/run/secrets/plant/password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtraEnv {
    pub name: String,
    /// A plain value; for a name that looks like a secret only the path of a file (`*_FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A key of an existing ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyRef {
    pub name: String,
    pub key: String,
}

/// A volume: exactly one of `secret`, `configMap`, `persistentVolumeClaim` and `emptyDir`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtraVolume {
    /// A DNS label, not one of the volumes the function generates.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDirVolume>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretVolume {
    pub secret_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapVolume {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimVolume {
    pub claim_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmptyDirVolume {
    /// Such as `1Gi`; unbounded when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<QuantityText>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtraVolumeMount {
    /// One of `pod.volumes`.
    pub name: String,
    /// An absolute path, not one the function mounts or a parent of the image's install directory.
    pub mount_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// A path inside the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

/// A port the gateways serve to devices or other systems, such as OPC UA (62541) or MQTT (1883, 8883).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtraPort {
    /// A port name (IANA service name: up to 15 lowercase letters, digits and '-'), such as `opcua`.
    pub name: String,
    /// The port the gateway listens on; the device Service publishes the same number.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    /// `TCP` (default) or `UDP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<PortProtocol>,
    /// With a `NodePort` or `LoadBalancer` device Service: a fixed node port (30000-32767).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30000, max = 32767))]
    pub node_port: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PortProtocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

/// The Service that publishes `ports` outside the cluster for devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceService {
    /// `LoadBalancer` (default) or `NodePort`.
    // `type` is a Rust keyword and the Kubernetes field's name.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<DeviceServiceType>,
    /// Annotations for the load balancer implementation (MetalLB, a cloud's internal LB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// `LoadBalancer` only: the client CIDRs allowed, such as the plant floor network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_source_ranges: Option<Vec<String>>,
    /// `Cluster` (default) or `Local` (keeps the devices' source addresses, for NetworkPolicy `ipBlock`s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<TrafficPolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeviceServiceType {
    LoadBalancer,
    NodePort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TrafficPolicy {
    Cluster,
    Local,
}

/// Who else may reach a tier, on top of what the function admits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierNetworkPolicy {
    /// Peers admitted to the web ports and the extra `ports` (a monitoring namespace, an ingress
    /// controller's namespace, the plant network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_from: Option<Vec<NetworkPeer>>,
}

/// A NetworkPolicy peer: exactly one of `ipBlock`, or `podSelector` and/or `namespaceSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPeer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<MatchLabels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<MatchLabels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchLabels {
    /// Empty selects everything (every pod of the namespace, or every namespace).
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpBlock {
    /// Such as `10.20.0.0/16`.
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<Vec<String>>,
}

/// Where a tier's licence comes from, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseSettings {
    pub activation: Activation,
    /// One Secret for every pod, or one per pod ordinal (index = ordinal).
    pub secrets: LicenseSecrets,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseSecrets {
    Shared(String),
    PerPod(Vec<String>),
}

/// Everything a tier adds to the generated objects, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierOptions {
    pub license: Option<LicenseSettings>,
    /// `GATEWAY_MODULES_ENABLED`; empty means every module.
    pub modules: Vec<String>,
    /// 8.3: `ACCEPT_MODULE_LICENSES` and `ACCEPT_MODULE_CERTS`.
    pub accept_module_licenses: Vec<String>,
    pub accept_module_certs: Vec<String>,
    pub pod: PodOptions,
    pub ports: Vec<ExtraPort>,
    pub device_service: Option<DeviceService>,
    pub ingress_from: Vec<NetworkPeer>,
}

/// Lowest 8.1 release whose image reads every environment variable the function generates: the global
/// `GATEWAY_NETWORK_*` settings arrived in 8.1.32 (`GATEWAY_NETWORK_n_DESCRIPTION` in 8.1.26,
/// `GATEWAY_MODULES_ENABLED` in 8.1.17), per the minimum versions in Inductive Automation's own
/// environment definitions (`inductiveautomation/kindling`, package
/// `io.github.inductiveautomation.kindling.docker.model`, `GatewayEnvironmentVariableDefinition`).
/// An older image ignores them: no Gateway Network security, trust or outgoing settings.
pub const MINIMUM_8_1_PATCH: u32 = 32;

/// Refuses 8.1 releases older than the generated environment needs.
pub fn check_version_floor(version: &str, line: Option<VersionLine>, problems: &mut Vec<Problem>) {
    if line != Some(VersionLine::V8_1) {
        return;
    }
    let patch: Option<u32> = version.rsplit('.').next().and_then(|patch| patch.parse().ok());
    if let Some(patch) = patch.filter(|patch| *patch < MINIMUM_8_1_PATCH) {
        problems.push(
            Problem::new(
                FieldPath::spec().field("version"),
                format!(
                    "8.1.{patch} is too old: the generated GATEWAY_NETWORK_* settings (security policy, two-way auth, incoming connections) need 8.1.{MINIMUM_8_1_PATCH} or later, and an older image silently ignores them"
                ),
            )
            .current(version)
            .proposed(format!("8.1.{MINIMUM_8_1_PATCH}")),
        );
    }
}

/// The raw settings of one tier, wherever the spec keeps them.
struct RawTier<'a> {
    license: Option<&'a License>,
    modules: Option<&'a Vec<String>>,
    accept_module_licenses: Option<&'a Vec<String>>,
    accept_module_certs: Option<&'a Vec<String>>,
    pod: Option<&'a PodOptions>,
    ports: Option<&'a Vec<ExtraPort>>,
    device_service: Option<&'a DeviceService>,
    network_policy: Option<&'a TierNetworkPolicy>,
}

fn raw_tier(spec: &Spec, kind: TierKind) -> RawTier<'_> {
    fn redundant(tier: Option<&RedundantTier>) -> RawTier<'_> {
        match tier {
            Some(tier) => RawTier {
                license: tier.license.as_ref(),
                modules: tier.modules.as_ref(),
                accept_module_licenses: tier.accept_module_licenses.as_ref(),
                accept_module_certs: tier.accept_module_certs.as_ref(),
                pod: tier.pod.as_ref(),
                ports: tier.ports.as_ref(),
                device_service: tier.device_service.as_ref(),
                network_policy: tier.network_policy.as_ref(),
            },
            None => RawTier::empty(),
        }
    }
    match kind {
        TierKind::Gateway => redundant(spec.gateway.as_ref()),
        TierKind::Backend => redundant(spec.backend.as_ref()),
        TierKind::Frontend => match spec.frontend.as_ref() {
            Some(FrontendTier {
                license,
                modules,
                accept_module_licenses,
                accept_module_certs,
                pod,
                ..
            }) => RawTier {
                license: license.as_ref(),
                modules: modules.as_ref(),
                accept_module_licenses: accept_module_licenses.as_ref(),
                accept_module_certs: accept_module_certs.as_ref(),
                pod: pod.as_ref(),
                ..RawTier::empty()
            },
            None => RawTier::empty(),
        },
    }
}

impl RawTier<'_> {
    fn empty() -> Self {
        RawTier {
            license: None,
            modules: None,
            accept_module_licenses: None,
            accept_module_certs: None,
            pod: None,
            ports: None,
            device_service: None,
            network_policy: None,
        }
    }
}

/// Resolves one tier's options: the tier's own values, else the spec-wide ones.
pub fn resolve_tier_options(
    spec: &Spec,
    tier: &Tier,
    line: Option<VersionLine>,
    problems: &mut Vec<Problem>,
) -> TierOptions {
    let raw = raw_tier(spec, tier.kind);
    let path = tier.kind.path();
    let license = match (raw.license, spec.license.as_ref()) {
        (Some(license), _) => Some((path.field("license"), license)),
        (None, Some(license)) => Some((FieldPath::spec().field("license"), license)),
        (None, None) => None,
    }
    .and_then(|(license_path, license)| resolve_license(&license_path, license, tier, problems));

    let (modules_path, modules) = pick(&path, "modules", raw.modules, spec.modules.as_ref());
    check_module_ids(&modules_path, &modules, ModuleIds::Short, problems);
    let (licenses_path, accept_module_licenses) = pick(
        &path,
        "acceptModuleLicenses",
        raw.accept_module_licenses,
        spec.accept_module_licenses.as_ref(),
    );
    let (certs_path, accept_module_certs) = pick(
        &path,
        "acceptModuleCerts",
        raw.accept_module_certs,
        spec.accept_module_certs.as_ref(),
    );
    for (field_path, list) in [
        (&licenses_path, &accept_module_licenses),
        (&certs_path, &accept_module_certs),
    ] {
        check_module_ids(field_path, list, ModuleIds::Qualified, problems);
        if !list.is_empty() && line == Some(VersionLine::V8_1) {
            // IA's 8.1 image has no module acceptance variables (8.3 Docker Image page).
            problems.push(Problem::new(
                field_path.as_str(),
                "exists from Ignition 8.3.0 on: the 8.1 image has no ACCEPT_MODULE_LICENSES or ACCEPT_MODULE_CERTS",
            ));
        }
    }

    let pod = raw.pod.cloned().unwrap_or_default();
    check_pod(&path.field("pod"), &pod, problems);
    let ports = raw.ports.cloned().unwrap_or_default();
    check_ports(&path.field("ports"), &ports, problems);
    let device_service = raw.device_service.cloned();
    if let Some(service) = &device_service {
        check_device_service(&path.field("deviceService"), service, &ports, problems);
    } else if let Some((index, _)) = ports.iter().enumerate().find(|(_, port)| port.node_port.is_some()) {
        problems.push(Problem::new(
            path.field("ports").index(index).field("nodePort"),
            format!("is only read with {}", path.field("deviceService")),
        ));
    }
    let ingress_from = raw
        .network_policy
        .and_then(|policy| policy.ingress_from.clone())
        .unwrap_or_default();
    check_peers(
        &path.field("networkPolicy").field("ingressFrom"),
        &ingress_from,
        problems,
    );
    TierOptions {
        license,
        modules,
        accept_module_licenses,
        accept_module_certs,
        pod,
        ports,
        device_service,
        ingress_from,
    }
}

/// A spec-wide licence that every tier replaces with its own is never read: say so rather than
/// leave a Secret name that looks used.
pub fn check_spec_license_is_read(spec: &Spec, tiers: &[Tier], problems: &mut Vec<Problem>) {
    if spec.license.is_some() && tiers.iter().all(|tier| raw_tier(spec, tier.kind).license.is_some()) {
        problems.push(Problem::new(
            FieldPath::spec().field("license"),
            "is not read: every tier gives its own license (remove it, or a tier's own)",
        ));
    }
}

/// A tier's list when it gives one, else the spec-wide list; with the path where it was written.
fn pick(
    path: &FieldPath,
    field: &str,
    tier: Option<&Vec<String>>,
    spec: Option<&Vec<String>>,
) -> (FieldPath, Vec<String>) {
    match (tier, spec) {
        (Some(list), _) => (path.field(field), list.clone()),
        (None, Some(list)) => (FieldPath::spec().field(field), list.clone()),
        (None, None) => (FieldPath::spec().field(field), Vec::new()),
    }
}

#[derive(Clone, Copy)]
enum ModuleIds {
    /// `GATEWAY_MODULES_ENABLED` takes short names such as `perspective` or `tag-historian`.
    Short,
    /// The acceptance lists take module IDs, such as `com.example.mymodule`.
    Qualified,
}

fn check_module_ids(path: &FieldPath, modules: &[String], kind: ModuleIds, problems: &mut Vec<Problem>) {
    for (index, module) in modules.iter().enumerate() {
        let ok = !module.is_empty()
            && module.len() <= 128
            && match kind {
                ModuleIds::Short => module
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                ModuleIds::Qualified => {
                    module.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                        && module.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                }
            };
        if !ok {
            let expected = match kind {
                ModuleIds::Short => {
                    "a module identifier such as perspective or tag-historian (lowercase letters, digits, '-')"
                }
                ModuleIds::Qualified => "a module ID such as com.example.mymodule (letters, digits, '.', '_', '-')",
            };
            problems.push(Problem::new(path.index(index), format!("{module:?} is not {expected}")).current(module));
        }
        if modules[..index].contains(module) {
            problems.push(Problem::new(path.index(index), format!("{module:?} is listed twice")));
        }
    }
}

fn resolve_license(
    path: &FieldPath,
    license: &License,
    tier: &Tier,
    problems: &mut Vec<Problem>,
) -> Option<LicenseSettings> {
    let activation = license.activation.unwrap_or(Activation::Leased);
    // Every pod the tier can ever have: an autoscaled tier up to its maximum.
    let pods = tier
        .autoscaling
        .as_ref()
        .map_or(tier.replicas, |autoscaling| autoscaling.max_replicas);
    let secrets = match (&license.secret, &license.pod_secrets) {
        (Some(secret), None) => {
            check_dns_subdomain(path.field("secret"), secret, problems);
            if tier.kind == TierKind::Frontend && pods > 1 {
                problems.push(
                    Problem::new(
                        path.field("secret"),
                        format!(
                            "is one licence for every frontend, and each frontend needs its own: give spec.frontend.license.podSecrets, one Secret per frontend ({pods})"
                        ),
                    )
                    .current(secret),
                );
            }
            LicenseSecrets::Shared(secret.clone())
        }
        (None, Some(secrets)) => {
            for (index, secret) in secrets.iter().enumerate() {
                check_dns_subdomain(path.field("podSecrets").index(index), secret, problems);
                if secrets[..index].contains(secret) {
                    problems.push(
                        Problem::new(
                            path.field("podSecrets").index(index),
                            format!("{secret:?} is listed twice: each pod needs its own licence"),
                        )
                        .current(secret),
                    );
                }
            }
            if (secrets.len() as u64) < u64::from(pods) {
                let why = match (&tier.autoscaling, tier.kind) {
                    (Some(_), _) => format!("the frontends scale up to {pods} (spec.frontend.autoscaling.maxReplicas)"),
                    (None, TierKind::Frontend) => format!("there are {pods} frontends"),
                    (None, _) => format!("the {} has {pods} gateways", tier.kind.component()),
                };
                problems.push(Problem::new(
                    path.field("podSecrets"),
                    format!(
                        "lists {} Secrets, but {why}: give one Secret per pod, in ordinal order (pod -0 first)",
                        secrets.len()
                    ),
                ));
            }
            LicenseSecrets::PerPod(secrets.clone())
        }
        _ => {
            problems.push(Problem::new(
                path,
                "needs exactly one of secret (one licence for the tier) and podSecrets (one per pod)",
            ));
            return None;
        }
    };
    Some(LicenseSettings { activation, secrets })
}

/// Environment variables the function sets on the gateway container (directly or through the tier's
/// ConfigMap), or that the image reads for settings the function owns. A `_FILE` variant is the same
/// setting.
const GENERATED_ENV: &[&str] = &[
    "POD_NAME",
    "REDUNDANCY_MODE",
    "ACCEPT_IGNITION_EULA",
    "DISABLE_QUICKSTART",
    "IGNITION_EDITION",
    "TZ",
    "GATEWAY_ADMIN_USERNAME",
    "GATEWAY_ADMIN_PASSWORD",
    "IGNITION_LICENSE_KEY",
    "IGNITION_ACTIVATION_TOKEN",
    "GATEWAY_MODULES_ENABLED",
    "ACCEPT_MODULE_LICENSES",
    "ACCEPT_MODULE_CERTS",
    "GATEWAY_HTTP_PORT",
    "GATEWAY_HTTPS_PORT",
    "GATEWAY_GAN_PORT",
];

/// Whether the function owns an environment variable name.
pub fn is_generated_env(name: &str) -> bool {
    let base = name.strip_suffix("_FILE").unwrap_or(name);
    GENERATED_ENV.contains(&base) || base.starts_with("GATEWAY_NETWORK_") || base.starts_with("REDUNDANCY_")
}

/// Names that hold secrets: their values belong in a Secret, not in Git and the StatefulSet.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "CREDENTIAL",
        "PRIVATE_KEY",
        "API_KEY",
        "APIKEY",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

/// Pod label and annotation keys the function sets, selects on, or leaves to Kubernetes.
pub fn is_owned_pod_key(key: &str) -> bool {
    const OWNED: &[&str] = &[
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/version",
        "app.kubernetes.io/managed-by",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "controller-revision-hash",
        "kubectl.kubernetes.io/default-container",
    ];
    OWNED.contains(&key) || key.starts_with("ignition.krm.dev/")
}

/// Volumes the function generates, in any tier and with any feature.
pub const GENERATED_VOLUMES: &[&str] = &[
    "data",
    "scripts",
    "admin-secret",
    "license-secret",
    "certificate-activation",
    "gan-tls",
    "gan-keystore-password",
    "restore",
    "third-party-modules",
    "module-files",
    "kube-api-access",
];

/// Directories the function mounts in the gateway or its init containers: an extra mount there, above
/// them, or (for the secret and script directories) below them would hide or shadow one.
const GENERATED_MOUNTS: &[&str] = &[
    "/usr/local/bin/ignition/data",
    "/usr/local/bin/ignition/data/certificate-activation",
    "/config/scripts",
    "/run/secrets/ignition",
    "/var/run/secrets/kubernetes.io",
    "/restore",
    "/data",
    // fetch-content's checked modules, and the image's module folder they are mounted into (a
    // mount over the folder would hide the image's own modules).
    "/modules",
    "/module-files",
    "/usr/local/bin/ignition/user-lib/modules",
];

/// The generated mount an extra mount at `path` would hide or shadow, if any.
pub fn mount_collides(path: &str) -> Option<&'static str> {
    let trimmed = path.trim_end_matches('/');
    GENERATED_MOUNTS.iter().copied().find(|generated| {
        let nested_secret =
            *generated != "/usr/local/bin/ignition/data" && trimmed.starts_with(&format!("{generated}/"));
        trimmed == *generated || generated.starts_with(&format!("{trimmed}/")) || trimmed.is_empty() || nested_secret
    })
}

fn check_pod(path: &FieldPath, pod: &PodOptions, problems: &mut Vec<Problem>) {
    for (key, value) in pod.node_selector.iter().flatten() {
        let field = path.field("nodeSelector").field(key);
        check_label_key(&field, key, problems);
        check_label_value(&field, value, problems);
    }
    for (index, toleration) in pod.tolerations.iter().flatten().enumerate() {
        check_toleration(&path.field("tolerations").index(index), toleration, problems);
    }
    if let Some(class) = &pod.priority_class_name {
        check_dns_subdomain(path.field("priorityClassName"), class, problems);
    }
    for (field, map, is_label) in [("labels", &pod.labels, true), ("annotations", &pod.annotations, false)] {
        for (key, value) in map.iter().flatten() {
            let key_path = path.field(field).field(key);
            if is_owned_pod_key(key) {
                problems.push(Problem::new(
                    &key_path,
                    "is set by the function (selectors, config hash, managed labels) and cannot be overridden",
                ));
                continue;
            }
            check_label_key(&key_path, key, problems);
            if is_label {
                check_label_value(&key_path, value, problems);
            }
        }
    }
    for (index, env) in pod.env.iter().flatten().enumerate() {
        check_env(&path.field("env").index(index), env, problems);
        if pod
            .env
            .iter()
            .flatten()
            .take(index)
            .any(|earlier| earlier.name == env.name)
        {
            problems.push(Problem::new(
                path.field("env").index(index).field("name"),
                format!("{:?} is given twice", env.name),
            ));
        }
    }
    let volumes = pod.volumes.clone().unwrap_or_default();
    for (index, volume) in volumes.iter().enumerate() {
        check_volume(&path.field("volumes").index(index), volume, problems);
        if volumes[..index].iter().any(|earlier| earlier.name == volume.name) {
            problems.push(Problem::new(
                path.field("volumes").index(index).field("name"),
                format!("{:?} is given twice", volume.name),
            ));
        }
    }
    let mounts = pod.volume_mounts.clone().unwrap_or_default();
    for (index, mount) in mounts.iter().enumerate() {
        let mount_path = path.field("volumeMounts").index(index);
        if !volumes.iter().any(|volume| volume.name == mount.name) {
            problems.push(
                Problem::new(
                    mount_path.field("name"),
                    format!("{:?} is not one of {path}.volumes", mount.name),
                )
                .current(&mount.name),
            );
        }
        let absolute = mount.mount_path.starts_with('/')
            && !mount.mount_path.contains(':')
            && !mount.mount_path.split('/').any(|part| part == "..")
            && mount.mount_path.len() <= 1024;
        if !absolute {
            problems.push(
                Problem::new(
                    mount_path.field("mountPath"),
                    "must be an absolute path without '..' or ':'",
                )
                .current(&mount.mount_path),
            );
        } else if let Some(generated) = mount_collides(&mount.mount_path) {
            problems.push(
                Problem::new(
                    mount_path.field("mountPath"),
                    format!("collides with the function's own mount {generated}: choose a path outside it"),
                )
                .current(&mount.mount_path),
            );
        }
        if mounts[..index]
            .iter()
            .any(|earlier| earlier.mount_path.trim_end_matches('/') == mount.mount_path.trim_end_matches('/'))
        {
            problems.push(Problem::new(
                mount_path.field("mountPath"),
                format!("{:?} is mounted twice", mount.mount_path),
            ));
        }
        if let Some(sub_path) = &mount.sub_path {
            if sub_path.starts_with('/') || sub_path.split('/').any(|part| part == "..") {
                problems.push(
                    Problem::new(mount_path.field("subPath"), "must be a relative path without '..'").current(sub_path),
                );
            }
        }
    }
}

fn check_toleration(path: &FieldPath, toleration: &Toleration, problems: &mut Vec<Problem>) {
    let operator = toleration.operator.unwrap_or(TolerationOperator::Equal);
    if let Some(key) = &toleration.key {
        check_label_key(&path.field("key"), key, problems);
    }
    match operator {
        TolerationOperator::Exists if toleration.value.is_some() => problems.push(Problem::new(
            path.field("value"),
            "must be left out with operator Exists",
        )),
        TolerationOperator::Equal if toleration.key.is_none() => problems.push(Problem::new(
            path.field("key"),
            "is required with operator Equal (use operator Exists to tolerate every taint)",
        )),
        _ => {}
    }
    if let Some(value) = &toleration.value {
        check_label_value(&path.field("value"), value, problems);
    }
    if toleration.toleration_seconds.is_some() && toleration.effect != Some(TaintEffect::NoExecute) {
        problems.push(Problem::new(
            path.field("tolerationSeconds"),
            "is only read with effect NoExecute",
        ));
    }
}

fn check_env(path: &FieldPath, env: &ExtraEnv, problems: &mut Vec<Problem>) {
    let name = &env.name;
    let name_ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !name_ok {
        problems.push(
            Problem::new(
                path.field("name"),
                format!(
                    "{name:?} is not an environment variable name (letters, digits and '_', not starting with a digit)"
                ),
            )
            .current(name),
        );
    } else if is_generated_env(name) {
        problems.push(
            Problem::new(
                path.field("name"),
                format!("{name:?} is set by the function from the spec: change the spec field instead"),
            )
            .current(name),
        );
    }
    if env.value.is_some() == env.config_map_key_ref.is_some() {
        problems.push(Problem::new(path, "needs exactly one of value and configMapKeyRef"));
    }
    let names_a_file = name.ends_with("_FILE") && env.value.as_deref().is_some_and(|value| value.starts_with('/'));
    if looks_secret(name) && !names_a_file {
        // Environment values show in `kubectl describe`, in the StatefulSet in Git, and in the
        // process environment; checkov's CKV_K8S_35 asks for Secrets as files too.
        problems.push(Problem::new(
            path.field("name"),
            format!("{name:?} looks like a secret: mount the Secret as a file (volumes with secret, volumeMounts) and give its path in a variable ending in _FILE, such as {name}_FILE=/run/secrets/plant/{}", name.to_ascii_lowercase()),
        ));
    }
    if let Some(reference) = &env.config_map_key_ref {
        check_key_ref(&path.field("configMapKeyRef"), reference, problems);
    }
}

fn check_key_ref(path: &FieldPath, reference: &KeyRef, problems: &mut Vec<Problem>) {
    check_dns_subdomain(path.field("name"), &reference.name, problems);
    let key_ok = !reference.key.is_empty()
        && reference.key.len() <= 253
        && reference.key != "."
        && reference.key != ".."
        && reference
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if !key_ok {
        problems.push(
            Problem::new(
                path.field("key"),
                "is not a Secret or ConfigMap key (letters, digits, '-', '_' and '.')",
            )
            .current(&reference.key),
        );
    }
}

fn check_volume(path: &FieldPath, volume: &ExtraVolume, problems: &mut Vec<Problem>) {
    check_dns_label(path.field("name"), &volume.name, problems);
    if GENERATED_VOLUMES.contains(&volume.name.as_str()) {
        problems.push(
            Problem::new(
                path.field("name"),
                format!(
                    "{:?} is a volume the function generates: choose another name",
                    volume.name
                ),
            )
            .current(&volume.name),
        );
    }
    let sources = [
        volume.secret.is_some(),
        volume.config_map.is_some(),
        volume.persistent_volume_claim.is_some(),
        volume.empty_dir.is_some(),
    ];
    if sources.iter().filter(|given| **given).count() != 1 {
        problems.push(Problem::new(
            path,
            "needs exactly one of secret, configMap, persistentVolumeClaim and emptyDir",
        ));
    }
    if let Some(secret) = &volume.secret {
        check_dns_subdomain(path.field("secret").field("secretName"), &secret.secret_name, problems);
    }
    if let Some(config_map) = &volume.config_map {
        check_dns_subdomain(path.field("configMap").field("name"), &config_map.name, problems);
    }
    if let Some(claim) = &volume.persistent_volume_claim {
        check_dns_subdomain(
            path.field("persistentVolumeClaim").field("claimName"),
            &claim.claim_name,
            problems,
        );
    }
    if let Some(size) = volume
        .empty_dir
        .as_ref()
        .and_then(|empty_dir| empty_dir.size_limit.as_ref())
    {
        let field = path.field("emptyDir").field("sizeLimit");
        match Quantity::parse(&size.0) {
            Ok(quantity) if quantity.is_positive() && quantity.is_whole() => {}
            Ok(_) => problems
                .push(Problem::new(field, "must be a positive whole number of bytes, such as 1Gi").current(&size.0)),
            Err(message) => problems.push(Problem::new(field, message).current(&size.0)),
        }
    }
}

/// Ports the gateway container already has.
const GENERATED_PORTS: &[(&str, u32)] = &[("http", 8088), ("https", 8043), ("gan", 8060)];

fn check_ports(path: &FieldPath, ports: &[ExtraPort], problems: &mut Vec<Problem>) {
    for (index, port) in ports.iter().enumerate() {
        let port_path = path.index(index);
        // An IANA service name: what a container port's name must be.
        let name_ok = !port.name.is_empty()
            && port.name.len() <= 15
            && is_dns_label(&port.name)
            && port.name.chars().any(|c| c.is_ascii_lowercase())
            && !port.name.contains("--");
        if !name_ok {
            problems.push(
                Problem::new(
                    port_path.field("name"),
                    format!(
                        "{:?} is not a port name (up to 15 lowercase letters, digits and '-', with a letter)",
                        port.name
                    ),
                )
                .current(&port.name),
            );
        }
        if let Some((name, number)) = GENERATED_PORTS
            .iter()
            .find(|(name, number)| *name == port.name || *number == port.port)
        {
            problems.push(Problem::new(
                &port_path,
                format!("collides with the gateway's own port {name} ({number})"),
            ));
        }
        let protocol = port.protocol.unwrap_or(PortProtocol::Tcp);
        for earlier in &ports[..index] {
            if earlier.name == port.name {
                problems.push(Problem::new(
                    port_path.field("name"),
                    format!("{:?} is given twice", port.name),
                ));
            }
            if earlier.port == port.port && earlier.protocol.unwrap_or(PortProtocol::Tcp) == protocol {
                problems.push(Problem::new(
                    port_path.field("port"),
                    format!("{} is given twice", port.port),
                ));
            }
            if port.node_port.is_some() && earlier.node_port == port.node_port {
                problems.push(Problem::new(
                    port_path.field("nodePort"),
                    format!("{} is given twice", port.node_port.unwrap_or_default()),
                ));
            }
        }
    }
}

fn check_device_service(path: &FieldPath, service: &DeviceService, ports: &[ExtraPort], problems: &mut Vec<Problem>) {
    if ports.is_empty() {
        problems.push(Problem::new(
            path,
            "publishes the tier's extra ports, and it has none: give ports (such as opcua 62541 or mqtt 1883)",
        ));
    }
    for (key, _) in service.annotations.iter().flatten() {
        check_label_key(&path.field("annotations").field(key), key, problems);
    }
    let load_balancer = service.type_.unwrap_or(DeviceServiceType::LoadBalancer) == DeviceServiceType::LoadBalancer;
    for (index, range) in service.load_balancer_source_ranges.iter().flatten().enumerate() {
        check_cidr(&path.field("loadBalancerSourceRanges").index(index), range, problems);
    }
    if !load_balancer && service.load_balancer_source_ranges.is_some() {
        problems.push(Problem::new(
            path.field("loadBalancerSourceRanges"),
            "is only read with type LoadBalancer",
        ));
    }
}

fn check_peers(path: &FieldPath, peers: &[NetworkPeer], problems: &mut Vec<Problem>) {
    for (index, peer) in peers.iter().enumerate() {
        let peer_path = path.index(index);
        let selectors = peer.pod_selector.is_some() || peer.namespace_selector.is_some();
        match (&peer.ip_block, selectors) {
            (Some(_), true) => problems.push(Problem::new(
                &peer_path,
                "gives ipBlock with a selector: a peer is either an ipBlock or podSelector/namespaceSelector",
            )),
            (None, false) => problems.push(Problem::new(
                &peer_path,
                "needs ipBlock, podSelector or namespaceSelector",
            )),
            _ => {}
        }
        for (field, selector) in [
            ("podSelector", &peer.pod_selector),
            ("namespaceSelector", &peer.namespace_selector),
        ] {
            for (key, value) in selector.iter().flat_map(|selector| &selector.match_labels) {
                let key_path = peer_path.field(field).field("matchLabels").field(key);
                check_label_key(&key_path, key, problems);
                check_label_value(&key_path, value, problems);
            }
        }
        if let Some(block) = &peer.ip_block {
            check_cidr(&peer_path.field("ipBlock").field("cidr"), &block.cidr, problems);
            for (except_index, except) in block.except.iter().flatten().enumerate() {
                check_cidr(
                    &peer_path.field("ipBlock").field("except").index(except_index),
                    except,
                    problems,
                );
            }
        }
    }
}

/// An IPv4 or IPv6 CIDR such as `10.20.0.0/16`.
fn check_cidr(path: &FieldPath, text: &str, problems: &mut Vec<Problem>) {
    let ok = text.split_once('/').is_some_and(|(address, bits)| {
        match (address.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
            (Ok(std::net::IpAddr::V4(_)), Ok(bits)) => bits <= 32,
            (Ok(std::net::IpAddr::V6(_)), Ok(bits)) => bits <= 128,
            _ => false,
        }
    });
    if !ok {
        problems.push(Problem::new(path, format!("{text:?} is not a CIDR such as 10.20.0.0/16")).current(text));
    }
}

/// A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of up to 63
/// letters, digits, '-', '_' or '.', starting and ending with a letter or digit.
fn check_label_key(path: &FieldPath, key: &str, problems: &mut Vec<Problem>) {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|prefix| !prefix.is_empty() && is_dns_subdomain(prefix));
    if !(prefix_ok && is_label_name(name)) {
        problems.push(
            Problem::new(
                path,
                "is not a valid key (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.')",
            )
            .current(key),
        );
    }
}

fn is_label_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn check_label_value(path: &FieldPath, value: &str, problems: &mut Vec<Problem>) {
    if !(value.is_empty() || is_label_name(value)) {
        problems.push(
            Problem::new(
                path,
                format!("{value:?} is not a label value (up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"),
            )
            .current(value),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_that_hide_generated_ones_collide() {
        for path in [
            "/usr/local/bin/ignition/data",
            "/usr/local/bin/ignition",
            "/usr",
            "/",
            "/run/secrets/ignition/extra",
            "/config/scripts/",
            "/usr/local/bin/ignition/data/certificate-activation",
        ] {
            assert!(mount_collides(path).is_some(), "{path} should collide");
        }
        for path in [
            "/usr/local/bin/ignition/user-lib/jdbc",
            "/usr/local/bin/ignition/data/projects-extra",
            "/opt/plant",
            "/run/secrets/other",
        ] {
            assert_eq!(mount_collides(path), None, "{path} should not collide");
        }
    }

    #[test]
    fn cidrs_are_checked() {
        let mut problems = Vec::new();
        for good in ["10.0.0.0/8", "192.168.1.10/32", "fd00::/8"] {
            check_cidr(&FieldPath::root().field("x"), good, &mut problems);
        }
        assert!(problems.is_empty(), "{problems:?}");
        for bad in ["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "plant/8", "::/129"] {
            check_cidr(&FieldPath::root().field("x"), bad, &mut problems);
        }
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn secret_looking_names() {
        assert!(looks_secret("DB_PASSWORD"));
        assert!(looks_secret("mqtt_token"));
        assert!(!looks_secret("PLANT_AREA"));
    }
}
