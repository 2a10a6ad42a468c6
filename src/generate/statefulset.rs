//! The StatefulSet of a tier: the gateways themselves.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource,
    ExecAction, LocalObjectReference, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodAffinityTerm,
    PodAntiAffinity, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, TopologySpreadConstraint, Volume,
    VolumeMount, VolumeResourceRequirements, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::config::{
    script_path, ADMIN_PASSWORD_KEY, ADMIN_SECRET_DIR, ALIVE_SCRIPT, PREPARE_DATA_SCRIPT, READY_SCRIPT, SCRIPTS_DIR,
};
use super::content;
use super::names::{self, DATA_VOLUME, GAN_PORT, HTTPS_PORT, HTTP_PORT};
use super::pod::{
    container_security_context, mount, pod_name_env, resources, runtime_default_seccomp, secret_volume, value_env,
};
use super::policy::tier_selector;
use super::sidecars;
use super::tier_options;
use super::{add_checkov_skip, int32, labels, metadata, CheckovSkip, CONFIG_HASH_ANNOTATION, SCRIPTS_VOLUME};
use crate::spec::{serde_name, PullPolicy, Site, Tier, VersionLine};

/// The image's user and group.
const IGNITION_UID: i64 = 2003;
/// The image's data directory.
pub(super) const DATA_DIR: &str = "/usr/local/bin/ignition/data";
/// Where the init container mounts the data volume, so the image's own data directory stays visible
/// to seed from.
pub(super) const INIT_DATA_MOUNT: &str = "/data";

const GATEWAY_CONTAINER: &str = "gateway";
/// The heap's share of the memory limit; the rest is metaspace, threads, code cache and buffers.
const HEAP_PERCENT: u32 = 75;
const ADMIN_SECRET_VOLUME: &str = "admin-secret";

/// Read and execute for all: the scripts run as the image's user.
const SCRIPT_MODE: i32 = 0o555;

/// Ignition writes its logs, temp files and module caches under its install directory, not only
/// under the data volume.
pub const SKIP_READ_ONLY_ROOT: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_22",
    reason: "Ignition writes under /usr/local/bin/ignition (logs, temp, module cache), not only its data volume",
};
/// The image's files belong to its user 2003; another UID could not write them.
pub const SKIP_HIGH_UID: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_40",
    reason: "the image's files belong to its user 2003; a UID of 10000 or more could not write them",
};
pub const SKIP_DIGEST: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_43",
    reason: "no spec.image.digest given: the image is pinned by its exact version tag",
};
pub const SKIP_PULL_ALWAYS: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_15",
    reason: "spec.image.pullPolicy is not Always: the tag is an exact release, so a cached image is the same image",
};

/// A readiness probe on the role-labeler would take a healthy gateway out of its Services whenever
/// the API server is slow to answer the sidecar.
pub const SKIP_SIDECAR_READINESS: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_9",
    reason: "the role-labeler sidecar serves no traffic: a readiness probe on it would only take a healthy gateway out of its Services; the gateway container has one",
};
/// The sidecar is a loop whose every request has a timeout; it has nothing to probe.
pub const SKIP_SIDECAR_LIVENESS: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_8",
    reason: "the role-labeler sidecar is a loop whose every request has a timeout and exits on failure (restarted by the kubelet); the gateway container has a liveness probe",
};

/// The checkov checks a tier's StatefulSet cannot pass, each with its reason.
pub fn checkov_skips(site: &Site, tier: &Tier) -> Vec<&'static CheckovSkip> {
    let mut skips = vec![&SKIP_READ_ONLY_ROOT, &SKIP_HIGH_UID];
    if tier.labels_itself {
        skips.extend([&SKIP_SIDECAR_LIVENESS, &SKIP_SIDECAR_READINESS]);
    }
    if !site.image.contains("@sha256:") {
        skips.push(&SKIP_DIGEST);
    }
    if site.pull_policy != PullPolicy::Always {
        skips.push(&SKIP_PULL_ALWAYS);
    }
    skips
}

pub fn statefulset(site: &Site, tier: &Tier, config_hash: &str) -> StatefulSet {
    let name = names::statefulset(site, tier);
    let mut template_metadata = ObjectMeta {
        labels: Some(labels(site, Some(tier))),
        annotations: Some(BTreeMap::from([
            (CONFIG_HASH_ANNOTATION.to_owned(), config_hash.to_owned()),
            (
                "kubectl.kubernetes.io/default-container".to_owned(),
                GATEWAY_CONTAINER.to_owned(),
            ),
        ])),
        ..Default::default()
    };
    tier_options::extend_template_metadata(tier, &mut template_metadata);
    let mut statefulset_metadata = metadata(site, Some(tier), name);
    let reloads_certificates = site
        .gateway_network
        .certificates
        .as_ref()
        .is_some_and(|settings| settings.reloader);
    if reloads_certificates {
        // Stakater Reloader's convention: a change of these Secrets (a renewed certificate) rolls the
        // StatefulSet, highest ordinal (the backup) first.
        statefulset_metadata.annotations = Some(BTreeMap::from([(
            "secret.reloader.stakater.com/reload".to_owned(),
            names::gan_tls_secret(site, tier),
        )]));
    }
    let annotations = statefulset_metadata.annotations.get_or_insert_with(BTreeMap::new);
    for skip in checkov_skips(site, tier) {
        add_checkov_skip(annotations, skip);
    }
    StatefulSet {
        metadata: statefulset_metadata,
        spec: Some(StatefulSetSpec {
            // An autoscaled tier leaves the count to its HorizontalPodAutoscaler: a replicas field here
            // would scale it back on every Argo CD sync.
            replicas: tier.autoscaling.is_none().then_some(int32(tier.replicas)),
            service_name: Some(names::headless_service(site, tier)),
            selector: tier_selector(site, tier),
            // Both nodes of a pair start together: the backup need not wait for the master to be Ready.
            // Rolling updates still go one pod at a time, highest ordinal (the backup) first.
            pod_management_policy: Some("Parallel".to_owned()),
            template: PodTemplateSpec {
                metadata: Some(template_metadata),
                spec: Some(pod_spec(site, tier)),
            },
            volume_claim_templates: tier.storage.as_ref().map(|storage| {
                vec![PersistentVolumeClaim {
                    // Only the name: a claim template is immutable, labels included.
                    metadata: ObjectMeta {
                        name: Some(DATA_VOLUME.to_owned()),
                        ..Default::default()
                    },
                    spec: Some(PersistentVolumeClaimSpec {
                        access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
                        storage_class_name: storage.storage_class_name.clone(),
                        // The API server fills this in; writing it keeps Argo CD's diff closed.
                        volume_mode: Some("Filesystem".to_owned()),
                        resources: Some(VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([("storage".to_owned(), Quantity(storage.size.clone()))])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod_spec(site: &Site, tier: &Tier) -> PodSpec {
    let mut gateway = gateway_container(site, tier);
    let mut spec = PodSpec {
        service_account_name: Some(if tier.labels_itself {
            names::tier_service_account(site, tier)
        } else {
            names::service_account(site)
        }),
        automount_service_account_token: Some(false),
        // Service links would inject variables such as <SERVICE>_PORT for every Service in the
        // namespace, and a Service named "gateway" would collide with the image's GATEWAY_* settings.
        enable_service_links: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(IGNITION_UID),
            run_as_group: Some(IGNITION_UID),
            fs_group: Some(IGNITION_UID),
            fs_group_change_policy: Some("OnRootMismatch".to_owned()),
            seccomp_profile: Some(runtime_default_seccomp()),
            ..Default::default()
        }),
        termination_grace_period_seconds: Some(60),
        image_pull_secrets: (!site.pull_secrets.is_empty()).then(|| {
            site.pull_secrets
                .iter()
                .map(|name| LocalObjectReference { name: name.clone() })
                .collect()
        }),
        affinity: Some(affinity(site, tier)),
        topology_spread_constraints: Some(vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "topology.kubernetes.io/zone".to_owned(),
            when_unsatisfiable: "ScheduleAnyway".to_owned(),
            label_selector: Some(tier_selector(site, tier)),
            ..Default::default()
        }]),
        init_containers: Some(init_containers(site, tier)),
        volumes: Some(volumes(site, tier)),
        ..Default::default()
    };
    tier_options::extend_pod_spec(tier, &mut spec, &mut gateway);
    spec.containers = if tier.labels_itself {
        vec![gateway, sidecars::role_labeler(site)]
    } else {
        vec![gateway]
    };
    spec
}

/// Before the gateway starts: the data volume and role, then the optional trust and backup steps.
fn init_containers(site: &Site, tier: &Tier) -> Vec<Container> {
    let mut containers = vec![prepare_data_container(site, tier)];
    if let Some(certificates) = &site.gateway_network.certificates {
        containers.push(sidecars::gan_trust(site, certificates));
    }
    containers.extend(content::fetch_content(site, tier));
    // Last: the backup takes the role and trust the steps above wrote.
    if let Some(restore) = &tier.restore {
        containers.extend(sidecars::fetch_backup(site, restore));
        containers.push(sidecars::prepare_backup(site, restore));
    }
    // After a restored backup, so the declared resources are what the gateway starts with.
    containers.extend(super::resources::init_container(site, tier));
    containers
}

/// The two nodes of a pair never share a machine (unless the spec says the cluster has a single
/// node); frontends spread where they can.
fn affinity(site: &Site, tier: &Tier) -> Affinity {
    let term = PodAffinityTerm {
        label_selector: Some(tier_selector(site, tier)),
        topology_key: "kubernetes.io/hostname".to_owned(),
        ..Default::default()
    };
    let anti_affinity = if tier.is_redundant() && !site.single_node {
        PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![term]),
            ..Default::default()
        }
    } else {
        PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![WeightedPodAffinityTerm {
                weight: 100,
                pod_affinity_term: term,
            }]),
            ..Default::default()
        }
    };
    Affinity {
        pod_anti_affinity: Some(anti_affinity),
        ..Default::default()
    }
}

fn gateway_container(site: &Site, tier: &Tier) -> Container {
    Container {
        name: GATEWAY_CONTAINER.to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        args: Some(gateway_args(site, tier)),
        // POD_NAME first: `$(POD_NAME)` in the arguments expands only from the container's own env.
        // The readiness probe of a pair node also asks whether the backup is in sync.
        env: Some(if tier.is_redundant() {
            vec![pod_name_env(), value_env("REDUNDANCY_MODE", "pair")]
        } else {
            vec![pod_name_env()]
        }),
        env_from: Some(vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: names::environment_config_map(site, tier),
                optional: Some(false),
            }),
            ..Default::default()
        }]),
        ports: Some(vec![
            container_port("http", HTTP_PORT),
            container_port("https", HTTPS_PORT),
            container_port("gan", GAN_PORT),
        ]),
        startup_probe: Some(probe(ALIVE_SCRIPT, 10, 10, 60)),
        liveness_probe: Some(probe(ALIVE_SCRIPT, 30, 10, 4)),
        readiness_probe: Some(probe(READY_SCRIPT, 10, 5, 3)),
        resources: Some(resources(&tier.cpu, &tier.memory)),
        security_context: Some(container_security_context()),
        volume_mounts: Some(gateway_mounts(site, tier)),
        ..Default::default()
    }
}

/// The image's runtime arguments: the system name per pod, the public address behind an Ingress,
/// then (after `--`) wrapper and JVM settings.
fn gateway_args(site: &Site, tier: &Tier) -> Vec<String> {
    let mut args = vec!["-n".to_owned(), "$(POD_NAME)".to_owned()];
    if tier.restore.is_some() {
        // The image restores it on the gateway's first start only.
        args.extend(["-r".to_owned(), sidecars::backup_path()]);
    }
    let behind_ingress = site.ingress.as_ref().filter(|_| tier.serves_users());
    if let Some(ingress) = behind_ingress {
        // Users reach the gateway on the Ingress's standard ports; HTTPS only where it has TLS.
        args.extend(["-a", &ingress.host, "-h", "80"].map(str::to_owned));
        if ingress.tls_secret.is_some() {
            args.extend(["-s", "443"].map(str::to_owned));
        }
    }
    args.push("--".to_owned());
    // Without this the wrapper log grows inside the container until the pod is evicted.
    args.push("wrapper.logfile=/dev/stdout".to_owned());
    // Size the heap from the memory limit rather than a fixed figure, as Inductive Automation's chart
    // does (ignition 0.2.1, templates/_helpers.tpl): both wrapper sizes at 0, so the wrapper passes
    // neither -Xms nor -Xmx and the image's fixed initial heap (1024 MB in ignition.conf) cannot
    // raise the maximum (HotSpot lifts the maximum heap to at least -Xms).
    args.push("wrapper.java.initmemory=0".to_owned());
    args.push("wrapper.java.maxmemory=0".to_owned());
    let heap_percent = HEAP_PERCENT.to_string();
    args.push(["-XX:InitialRAMPercentage=", &heap_percent].concat());
    args.push(["-XX:MaxRAMPercentage=", &heap_percent].concat());
    if behind_ingress.is_some() {
        args.push("gateway.useProxyForwardedHeader=true".to_owned());
    }
    // The deployment mode (a collection of its own) is chosen by this JVM property (IA docs 8.3, "Gateway
    // Deployment Modes").
    if let (VersionLine::V8_3, Some(mode)) = (site.version_line, &site.deployment_mode) {
        args.push(format!("-Dignition.config.mode={mode}"));
    }
    args
}

/// Seeds the data volume on first start and writes the redundancy role on every start.
/// The redundancy role lives in `data/redundancy.xml`, not in any environment variable: this init
/// container's script, `scripts/prepare-data.sh`, writes it on every start from the `REDUNDANCY_*`
/// variables set here (the official chart does the same in `scripts/prepare-redundancy.sh`; the seed chart in
/// `common/templates/_scripts.tpl`).
fn prepare_data_container(site: &Site, tier: &Tier) -> Container {
    let mut env = vec![
        pod_name_env(),
        value_env("IGNITION_VERSION_LINE", version_line(site.version_line)),
        // The image's version (the tag is the exact release): a volume last run by a newer one is
        // refused before the gateway starts.
        value_env("IGNITION_VERSION", &site.version),
        value_env("IGNITION_IMAGE_DATA", DATA_DIR),
        value_env("DATA_VOLUME", INIT_DATA_MOUNT),
    ];
    if tier.is_redundant() {
        env.extend([
            value_env("REDUNDANCY_MODE", "pair"),
            value_env("REDUNDANCY_MASTER_HOST", &names::pod_host(site, tier, 0)),
            value_env("REDUNDANCY_GAN_PORT", &GAN_PORT.to_string()),
            value_env(
                "REDUNDANCY_STANDBY_ACTIVITY_LEVEL",
                &serde_name(&site.redundancy.standby_activity_level),
            ),
            value_env(
                "REDUNDANCY_MASTER_RECOVERY_MODE",
                &serde_name(&site.redundancy.master_recovery_mode),
            ),
        ]);
    } else {
        env.push(value_env("REDUNDANCY_MODE", "independent"));
    }
    Container {
        name: "prepare-data".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        command: Some(vec![script_path(PREPARE_DATA_SCRIPT)]),
        env: Some(env),
        resources: Some(resources("500m", "512Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(vec![
            mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
            mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
        ]),
        ..Default::default()
    }
}

fn gateway_mounts(site: &Site, tier: &Tier) -> Vec<VolumeMount> {
    let mut mounts = vec![
        mount(DATA_VOLUME, DATA_DIR, false),
        mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
        mount(ADMIN_SECRET_VOLUME, ADMIN_SECRET_DIR, true),
    ];
    if let Some((_, license_mount)) = tier_options::license_volume(site, tier) {
        mounts.push(license_mount);
    }
    mounts.extend(content::module_mounts(site, tier));
    mounts
}

fn volumes(site: &Site, tier: &Tier) -> Vec<Volume> {
    let mut volumes = vec![
        Volume {
            name: SCRIPTS_VOLUME.to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: names::scripts_config_map(site),
                default_mode: Some(SCRIPT_MODE),
                ..Default::default()
            }),
            ..Default::default()
        },
        secret_volume(ADMIN_SECRET_VOLUME, &site.admin_password_secret, &[ADMIN_PASSWORD_KEY]),
    ];
    if let Some((license_volume, _)) = tier_options::license_volume(site, tier) {
        volumes.push(license_volume);
    }
    if tier.storage.is_none() {
        // Stateless frontends: a fresh data directory on every start, seeded from the image.
        volumes.push(Volume {
            name: DATA_VOLUME.to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
    }
    if let Some(certificates) = &site.gateway_network.certificates {
        volumes.extend(sidecars::gan_volumes(site, tier, certificates));
    }
    if let Some((restore_volume, _)) = tier.restore.as_ref().and_then(sidecars::restore_volume) {
        volumes.push(restore_volume);
    }
    volumes.extend(content::modules_volumes(site, tier));
    if tier.labels_itself {
        volumes.push(sidecars::api_access_volume());
    }
    volumes.extend(super::resources::volume(site, tier));
    volumes
}

fn probe(script: &str, period: i32, timeout: i32, failures: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![script_path(script)]),
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

fn container_port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: port,
        protocol: Some("TCP".to_owned()),
        ..Default::default()
    }
}

pub(super) fn version_line(line: VersionLine) -> &'static str {
    match line {
        VersionLine::V8_1 => "8.1",
        VersionLine::V8_3 => "8.3",
    }
}
