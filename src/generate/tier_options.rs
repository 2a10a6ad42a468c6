//! What a tier's options add to the generated objects: the licence volume, the platform team's pod
//! settings, device ports with their Service, and extra NetworkPolicy peers.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    KeyToPath, PersistentVolumeClaimVolumeSource, PodSpec, ProjectedVolumeSource, SecretProjection, SecretVolumeSource,
    Service, ServicePort, ServiceSpec, Toleration, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::config::{ACTIVATION_TOKEN_KEY, LICENSE_KEY_KEY, LICENSE_SECRET_DIR};
use super::pod::{mount, secret_volume, SECRET_MODE};
use super::statefulset::DATA_DIR;
use super::{int32, metadata, names, selector_labels, LABEL_ACTIVE};
use crate::spec::{
    serde_name, Activation, DeviceServiceType, ExtraPort, LicenseSecrets, LicenseSettings, NetworkPeer, PortProtocol,
    Site, Tier, TolerationOperator, TrafficPolicy,
};

const LICENSE_VOLUME: &str = "license-secret";
const CERTIFICATE_VOLUME: &str = "certificate-activation";
/// Where the image looks for certificate activation files (`license.crt`, `license.key`,
/// `config.json`): the official chart mounts them here (`ignition-helm-chart`
/// `templates/statefulset.yaml`, volume `certificate-activation`).
const CERTIFICATE_DIR: &str = "certificate-activation";
const CERTIFICATE_KEYS: [&str; 3] = ["license.crt", "license.key", "config.json"];

/// The Secret keys of an activation, which are also the file names the gateway reads.
fn license_keys(activation: Activation) -> &'static [&'static str] {
    match activation {
        Activation::Leased => &[LICENSE_KEY_KEY, ACTIVATION_TOKEN_KEY],
        Activation::Certificate => &CERTIFICATE_KEYS,
    }
}

/// The licence volume of a tier and its mount in the gateway container. A licence per pod is one
/// projected volume with a directory per pod name; each pod mounts its own directory
/// (`subPathExpr: $(POD_NAME)`), so the files sit at the same path in every pod.
pub fn license_volume(site: &Site, tier: &Tier) -> Option<(Volume, VolumeMount)> {
    let LicenseSettings { activation, secrets } = tier.options.license.as_ref()?;
    let (volume_name, mount_path) = match activation {
        Activation::Leased => (LICENSE_VOLUME, LICENSE_SECRET_DIR.to_owned()),
        Activation::Certificate => (CERTIFICATE_VOLUME, [DATA_DIR, "/", CERTIFICATE_DIR].concat()),
    };
    let keys = license_keys(*activation);
    let mut mount = mount(volume_name, &mount_path, true);
    let volume = match secrets {
        LicenseSecrets::Shared(secret) => secret_volume(volume_name, secret, keys),
        LicenseSecrets::PerPod(secrets) => {
            mount.sub_path_expr = Some("$(POD_NAME)".to_owned());
            let sources = secrets
                .iter()
                .zip(0_u32..)
                .map(|(secret, ordinal)| {
                    let pod = names::pod(site, tier, ordinal);
                    VolumeProjection {
                        secret: Some(SecretProjection {
                            name: secret.clone(),
                            items: Some(
                                keys.iter()
                                    .map(|key| KeyToPath {
                                        key: (*key).to_owned(),
                                        path: [pod.as_str(), "/", key].concat(),
                                        ..Default::default()
                                    })
                                    .collect(),
                            ),
                            optional: Some(false),
                        }),
                        ..Default::default()
                    }
                })
                .collect();
            Volume {
                name: volume_name.to_owned(),
                projected: Some(ProjectedVolumeSource {
                    sources: Some(sources),
                    default_mode: Some(SECRET_MODE),
                }),
                ..Default::default()
            }
        }
    };
    Some((volume, mount))
}

/// The licence's `*_FILE` variables: leased activation only; certificate activation is read from
/// its directory.
pub fn license_environment(tier: &Tier) -> Vec<(&'static str, String)> {
    match &tier.options.license {
        Some(LicenseSettings {
            activation: Activation::Leased,
            ..
        }) => vec![
            (
                "IGNITION_LICENSE_KEY_FILE",
                [LICENSE_SECRET_DIR, "/", LICENSE_KEY_KEY].concat(),
            ),
            (
                "IGNITION_ACTIVATION_TOKEN_FILE",
                [LICENSE_SECRET_DIR, "/", ACTIVATION_TOKEN_KEY].concat(),
            ),
        ],
        _ => Vec::new(),
    }
}

/// Module settings of a tier's environment. The acceptance lists exist in 8.3 only (refused for 8.1
/// by the spec), per IA's 8.3 Docker Image page.
pub fn module_environment(tier: &Tier) -> Vec<(&'static str, String)> {
    let options = &tier.options;
    [
        ("GATEWAY_MODULES_ENABLED", &options.modules),
        ("ACCEPT_MODULE_LICENSES", &options.accept_module_licenses),
        ("ACCEPT_MODULE_CERTS", &options.accept_module_certs),
    ]
    .into_iter()
    .filter(|(_, list)| !list.is_empty())
    .map(|(name, list)| (name, list.join(",")))
    .collect()
}

/// Adds the tier's pod labels and annotations (the spec refuses the keys the function owns).
pub fn extend_template_metadata(tier: &Tier, metadata: &mut ObjectMeta) {
    let pod = &tier.options.pod;
    if let Some(labels) = &pod.labels {
        let target = metadata.labels.get_or_insert_with(BTreeMap::new);
        for (key, value) in labels {
            target.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    if let Some(annotations) = &pod.annotations {
        let target = metadata.annotations.get_or_insert_with(BTreeMap::new);
        for (key, value) in annotations {
            target.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
}

/// Adds scheduling, extra volumes, and the gateway container's extra env, mounts and ports.
pub fn extend_pod_spec(tier: &Tier, pod_spec: &mut PodSpec, gateway: &mut Container) {
    let pod = &tier.options.pod;
    // Empty collections are left out: the API server drops them, and Argo CD would then show a diff.
    if let Some(selector) = pod.node_selector.as_ref().filter(|selector| !selector.is_empty()) {
        pod_spec.node_selector = Some(selector.clone());
    }
    if let Some(tolerations) = pod.tolerations.as_ref().filter(|tolerations| !tolerations.is_empty()) {
        pod_spec.tolerations = Some(
            tolerations
                .iter()
                .map(|toleration| Toleration {
                    key: toleration.key.clone(),
                    operator: Some(serde_name(&toleration.operator.unwrap_or(TolerationOperator::Equal))),
                    value: toleration.value.clone(),
                    effect: toleration.effect.as_ref().map(serde_name),
                    toleration_seconds: toleration.toleration_seconds,
                })
                .collect(),
        );
    }
    if let Some(class) = &pod.priority_class_name {
        pod_spec.priority_class_name = Some(class.clone());
    }
    for volume in pod.volumes.iter().flatten() {
        pod_spec.volumes.get_or_insert_with(Vec::new).push(Volume {
            name: volume.name.clone(),
            secret: volume.secret.as_ref().map(|secret| SecretVolumeSource {
                secret_name: Some(secret.secret_name.clone()),
                default_mode: Some(SECRET_MODE),
                ..Default::default()
            }),
            config_map: volume.config_map.as_ref().map(|config_map| ConfigMapVolumeSource {
                name: config_map.name.clone(),
                ..Default::default()
            }),
            persistent_volume_claim: volume.persistent_volume_claim.as_ref().map(|claim| {
                PersistentVolumeClaimVolumeSource {
                    claim_name: claim.claim_name.clone(),
                    read_only: claim.read_only,
                }
            }),
            empty_dir: volume.empty_dir.as_ref().map(|empty_dir| EmptyDirVolumeSource {
                size_limit: empty_dir.size_limit.as_ref().map(|size| Quantity(size.0.clone())),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    for mount in pod.volume_mounts.iter().flatten() {
        gateway.volume_mounts.get_or_insert_with(Vec::new).push(VolumeMount {
            name: mount.name.clone(),
            mount_path: mount.mount_path.clone(),
            read_only: mount.read_only,
            sub_path: mount.sub_path.clone(),
            ..Default::default()
        });
    }
    for env in pod.env.iter().flatten() {
        gateway.env.get_or_insert_with(Vec::new).push(EnvVar {
            name: env.name.clone(),
            value: env.value.clone(),
            value_from: env.config_map_key_ref.as_ref().map(|reference| EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: reference.name.clone(),
                    key: reference.key.clone(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
        });
    }
    for port in &tier.options.ports {
        gateway.ports.get_or_insert_with(Vec::new).push(ContainerPort {
            name: Some(port.name.clone()),
            container_port: int32(port.port),
            protocol: Some(protocol(port)),
            ..Default::default()
        });
    }
}

fn protocol(port: &ExtraPort) -> String {
    serde_name(&port.protocol.unwrap_or(PortProtocol::Tcp))
}

/// The device Service's name: `<site>-<tier>-devices`.
pub fn device_service_name(site: &Site, tier: &Tier) -> String {
    format!("{}-devices", names::statefulset(site, tier))
}

/// A LoadBalancer or NodePort Service for the tier's extra ports. Devices (OPC UA clients, MQTT
/// clients) talk to the node that runs the tags and the broker: for a pair with active-only routing
/// it selects the Active node only, as the client Service does, so a failover moves the devices too.
pub fn device_service(site: &Site, tier: &Tier) -> Option<Service> {
    let settings = tier.options.device_service.as_ref()?;
    let mut selector = selector_labels(site, Some(tier));
    if tier.labels_itself {
        selector.insert(LABEL_ACTIVE.to_owned(), "true".to_owned());
    }
    let mut meta = metadata(site, Some(tier), device_service_name(site, tier));
    if let Some(annotations) = &settings.annotations {
        meta.annotations = Some(annotations.clone());
    }
    let service_type = settings.type_.unwrap_or(DeviceServiceType::LoadBalancer);
    Some(Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: Some(serde_name(&service_type)),
            selector: Some(selector),
            external_traffic_policy: Some(serde_name(
                &settings.external_traffic_policy.unwrap_or(TrafficPolicy::Cluster),
            )),
            load_balancer_source_ranges: settings
                .load_balancer_source_ranges
                .clone()
                .filter(|ranges| !ranges.is_empty()),
            ports: Some(
                tier.options
                    .ports
                    .iter()
                    .map(|port| ServicePort {
                        name: Some(port.name.clone()),
                        port: int32(port.port),
                        target_port: Some(IntOrString::String(port.name.clone())),
                        node_port: port.node_port.map(int32),
                        protocol: Some(protocol(port)),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The tier's extra peers as NetworkPolicy peers.
pub fn extra_peers(tier: &Tier) -> Vec<NetworkPolicyPeer> {
    tier.options.ingress_from.iter().map(peer).collect()
}

fn peer(peer: &NetworkPeer) -> NetworkPolicyPeer {
    // An empty selector selects everything; it is written `{}`, as the API server stores it.
    let selector = |labels: &crate::spec::MatchLabels| LabelSelector {
        match_labels: (!labels.match_labels.is_empty()).then(|| labels.match_labels.clone()),
        ..Default::default()
    };
    NetworkPolicyPeer {
        pod_selector: peer.pod_selector.as_ref().map(selector),
        namespace_selector: peer.namespace_selector.as_ref().map(selector),
        ip_block: peer.ip_block.as_ref().map(|block| IPBlock {
            cidr: block.cidr.clone(),
            except: block.except.clone().filter(|except| !except.is_empty()),
        }),
    }
}

/// The rule that admits the extra ports: from the extra peers when the tier gives some, else from
/// anywhere (devices reach them through the device Service, from outside the cluster).
pub fn device_ports_rule(tier: &Tier) -> Option<NetworkPolicyIngressRule> {
    if tier.options.ports.is_empty() {
        return None;
    }
    let peers = extra_peers(tier);
    Some(NetworkPolicyIngressRule {
        from: (!peers.is_empty()).then_some(peers),
        ports: Some(
            tier.options
                .ports
                .iter()
                .map(|port| NetworkPolicyPort {
                    port: Some(IntOrString::Int(int32(port.port))),
                    protocol: Some(protocol(port)),
                    ..Default::default()
                })
                .collect(),
        ),
    })
}
