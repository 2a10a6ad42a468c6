//! The resolved site: the spec with every default applied and every rule checked.
//! Generators read only this, never the raw spec.

use super::content::{resolve_content, ContentSettings};
use super::features::{resolve_certificates, resolve_frontend_restore, resolve_http_route, resolve_restore};
pub use super::features::{GanCertificateSettings, HttpRouteSettings, RestoreSettings, RestoreSource};
use super::options::{check_spec_license_is_read, check_version_floor, resolve_tier_options, TierOptions};
use super::quantity::Quantity;
use super::types::*;
use super::{FieldPath, Problem};

/// The Ignition release line; file locations and some options differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionLine {
    V8_1,
    V8_3,
}

/// The role a tier of gateways plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierKind {
    /// failover: the master/backup pair that does everything.
    Gateway,
    /// scaleout: devices, history and the redundant pair.
    Backend,
    /// scaleout: user sessions only.
    Frontend,
}

impl TierKind {
    /// Where the spec gives the tier: `spec.gateway`, `spec.backend`, `spec.frontend` (the field is
    /// named as the component).
    pub fn path(self) -> FieldPath {
        FieldPath::spec().field(self.component())
    }

    /// The `app.kubernetes.io/component` label and the suffix of the tier's object names.
    pub fn component(self) -> &'static str {
        match self {
            TierKind::Gateway => "gateway",
            TierKind::Backend => "backend",
            TierKind::Frontend => "frontend",
        }
    }
}

/// One StatefulSet's worth of gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub kind: TierKind,
    pub replicas: u32,
    /// Canonical quantities, used as request and limit.
    pub cpu: String,
    pub memory: String,
    /// The data volume; `None` means an `emptyDir` (stateless frontends).
    pub storage: Option<VolumeSettings>,
    /// Frontends only: a HorizontalPodAutoscaler owns the replica count (`replicas` is then its minimum).
    pub autoscaling: Option<AutoscalingSettings>,
    /// Licence, modules, escape hatches and device ports of this tier.
    pub options: TierOptions,
    /// The pods label themselves active or standby (a pair with active-only routing), so that the
    /// tier's client Service reaches the Active node only.
    pub labels_itself: bool,
    /// The backup the tier restores: the site's (`spec.restore`) for a pair or backend, and for the
    /// frontends their own (`spec.frontend.restore`) or the site's with `spec.restore.frontends`.
    pub restore: Option<RestoreSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoscalingSettings {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_cpu_utilization_percentage: u32,
}

impl Tier {
    /// A master/backup pair: two gateways that are not frontends.
    pub fn is_redundant(&self) -> bool {
        self.kind != TierKind::Frontend && self.replicas == 2
    }

    /// Whether users reach this tier through the Ingress.
    pub fn serves_users(&self) -> bool {
        self.kind != TierKind::Backend
    }

    /// Whether the tier takes Gateway Network connections (the pair's peer, the frontends); frontends only
    /// dial out, to every node of the backend.
    pub fn accepts_gateway_connections(&self) -> bool {
        self.kind != TierKind::Frontend
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSettings {
    pub size: String,
    pub storage_class_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressSettings {
    pub host: String,
    pub class_name: Option<String>,
    pub tls_secret: Option<String>,
    pub annotations: Vec<(String, String)>,
    pub sticky_sessions: StickySessions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayNetworkSettings {
    pub security_policy: SecurityPolicy,
    pub require_two_way_auth: bool,
    pub whitelist: Vec<String>,
    pub certificates: Option<GanCertificateSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedundancySettings {
    pub standby_activity_level: StandbyActivityLevel,
    pub master_recovery_mode: MasterRecoveryMode,
    /// Users reach only the Active node of a pair.
    pub active_only_routing: bool,
}

/// Everything the generators need, defaulted and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub name: String,
    pub namespace: Option<String>,
    pub architecture: Architecture,
    pub version: String,
    pub version_line: VersionLine,
    pub edition: Edition,
    pub timezone: String,
    pub image: String,
    pub pull_policy: PullPolicy,
    pub pull_secrets: Vec<String>,
    pub admin_username: String,
    pub admin_password_secret: String,
    pub deployment_mode: Option<String>,
    /// failover: `[gateway]`; scaleout: `[backend, frontend]`.
    pub tiers: Vec<Tier>,
    pub ingress: Option<IngressSettings>,
    pub gateway_network: GatewayNetworkSettings,
    pub redundancy: RedundancySettings,
    pub http_route: Option<HttpRouteSettings>,
    /// Both nodes of a pair may share a node (preferred, not required, anti-affinity).
    pub single_node: bool,
    /// 8.3: the `GatewayResource` items that name this site, in path order.
    pub gateway_resources: Vec<super::resources::ResourceItem>,
    /// Projects and third-party modules fetched before every start.
    pub content: ContentSettings,
}

impl Site {
    pub fn tier(&self, kind: TierKind) -> Option<&Tier> {
        self.tiers.iter().find(|tier| tier.kind == kind)
    }
}

pub const DEFAULT_REPOSITORY: &str = "inductiveautomation/ignition";
const DEFAULT_TIMEZONE: &str = "UTC";
const DEFAULT_ADMIN_USERNAME: &str = "admin";
const DEFAULT_FRONTEND_REPLICAS: u32 = 2;
const DEFAULT_TARGET_CPU_UTILIZATION: u32 = 70;
const DEFAULT_STORAGE_SIZE: &str = "10Gi";
/// The least memory a gateway gets: 75% of it (the heap) is still more than the 1024 MB heap of a
/// stock install (IA docs, "Gateway Configuration File Reference": `wrapper.java.maxmemory`), and it
/// is the default of Inductive Automation's chart (ignition 0.2.1, `templates/_helpers.tpl`).
const MINIMUM_MEMORY: i128 = 1536 << 20;

/// Longest DNS label (RFC 1123), the limit for pod, Service and label-value names.
const DNS_LABEL_MAX: usize = 63;
/// A StatefulSet's controller-revision-hash label is `<statefulset>-<hash of up to 10 characters>`.
const REVISION_SUFFIX: usize = 11;
/// The longest Service suffix after `<name>-<tier>`.
const LONGEST_SERVICE_SUFFIX: &str = "-headless";

/// Applies defaults and checks every rule, collecting all problems.
pub fn resolve(cluster: &IgnitionCluster) -> Result<Site, Vec<Problem>> {
    let mut problems = Vec::new();
    let spec = &cluster.spec;

    let version_line = check_version(&spec.version, &mut problems);
    check_version_floor(&spec.version, version_line, &mut problems);
    let mut tiers = resolve_tiers(spec, &mut problems);
    for tier in &mut tiers {
        tier.options = resolve_tier_options(spec, tier, version_line, &mut problems);
    }
    check_spec_license_is_read(spec, &tiers, &mut problems);
    let content = resolve_content(
        spec.projects.as_ref(),
        spec.third_party_modules.as_ref(),
        spec.architecture,
        version_line,
        &mut problems,
    );
    for tier in &mut tiers {
        // A module whose licence or certificate the spec accepts joins the tier's acceptance lists.
        for module in content.modules_of(tier.kind) {
            let options = &mut tier.options;
            for (accepted, list) in [
                (module.accept_license, &mut options.accept_module_licenses),
                (module.accept_certificate, &mut options.accept_module_certs),
            ] {
                if accepted && !list.contains(&module.id) {
                    list.push(module.id.clone());
                }
            }
        }
    }
    check_site_name(&cluster.metadata.name, &tiers, &mut problems);
    if let Some(namespace) = &cluster.metadata.namespace {
        check_dns_label("metadata.namespace", namespace, &mut problems);
    }

    let edition = spec.edition.unwrap_or(Edition::Standard);
    if edition == Edition::Cloud && version_line == Some(VersionLine::V8_1) {
        problems.push(
            Problem::new(
                FieldPath::spec().field("edition"),
                "the cloud edition exists from Ignition 8.3 on",
            )
            .current(serde_name(&edition))
            .proposed(serde_name(&Edition::Standard)),
        );
    }

    let timezone = spec.timezone.clone().unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned());
    let timezone_ok = !timezone.is_empty()
        && timezone.len() <= 64
        && !timezone.starts_with('/')
        && !timezone.contains("..")
        && timezone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if !timezone_ok {
        problems.push(
            Problem::new(
                FieldPath::spec().field("timezone"),
                format!("{timezone:?} is not an IANA time zone name such as America/Chicago or UTC"),
            )
            .current(&timezone)
            .proposed(DEFAULT_TIMEZONE),
        );
    }

    let image_spec = spec.image.clone().unwrap_or(Image {
        repository: None,
        digest: None,
        pull_policy: None,
        pull_secrets: None,
    });
    let image = resolve_image(&image_spec, &spec.version, &mut problems);
    let pull_secrets = image_spec.pull_secrets.clone().unwrap_or_default();
    for (index, secret) in pull_secrets.iter().enumerate() {
        check_dns_subdomain(
            FieldPath::spec()
                .field("image")
                .field("pullSecrets")
                .index(index)
                .as_str(),
            secret,
            &mut problems,
        );
    }

    let admin_username = spec
        .admin_username
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_USERNAME.to_owned());
    let username_ok = !admin_username.is_empty()
        && admin_username.len() <= 64
        && admin_username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !username_ok {
        problems.push(
            Problem::new(
                FieldPath::spec().field("adminUsername"),
                "must be 1 to 64 letters, digits, '.', '_' or '-'",
            )
            .current(&admin_username)
            .proposed(DEFAULT_ADMIN_USERNAME),
        );
    }
    check_dns_subdomain(
        FieldPath::spec().field("adminPasswordSecret").as_str(),
        &spec.admin_password_secret,
        &mut problems,
    );

    if let Some(mode) = &spec.deployment_mode {
        if version_line == Some(VersionLine::V8_1) {
            problems.push(
                Problem::new(
                    FieldPath::spec().field("deploymentMode"),
                    "deployment modes exist from Ignition 8.3 on",
                )
                .current(mode),
            );
        }
        let ok =
            !mode.is_empty() && mode.len() <= 63 && mode.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        if !ok {
            problems.push(
                Problem::new(
                    FieldPath::spec().field("deploymentMode"),
                    "must be 1 to 63 letters, digits, '_' or '-'",
                )
                .current(mode),
            );
        }
    }

    let ingress = spec
        .ingress
        .as_ref()
        .map(|ingress| resolve_ingress(ingress, &mut problems));
    let frontend_autoscaling = tiers.iter().any(|tier| tier.autoscaling.is_some());
    let gateway_network = resolve_gateway_network(
        spec.gateway_network.clone().unwrap_or_default(),
        frontend_autoscaling,
        &mut problems,
    );
    let http_route = spec
        .http_route
        .as_ref()
        .map(|route| resolve_http_route(route, &mut problems));
    let restore = spec
        .restore
        .as_ref()
        .and_then(|restore| resolve_restore(restore, &mut problems));
    let frontend_restore = spec
        .frontend
        .as_ref()
        .and_then(|frontend| frontend.restore.as_ref())
        .and_then(|source| resolve_frontend_restore(source, &mut problems));
    if frontend_restore.is_some() && restore.as_ref().is_some_and(|restore| restore.frontends) {
        problems.push(Problem::new(
            FieldPath::spec().field("frontend").field("restore"),
            "cannot be given with spec.restore.frontends: true: the frontends restore one backup, choose which",
        ));
    }
    if spec.redundancy.is_some() && !tiers.iter().any(Tier::is_redundant) {
        problems.push(Problem::new(
            FieldPath::spec().field("redundancy"),
            "is only read for a master/backup pair, and this spec has a single backend (spec.backend.replicas: 1)",
        ));
    }
    let redundancy = spec.redundancy.clone().unwrap_or_default();
    let active_only_routing = redundancy.active_only_routing.unwrap_or(true);
    let redundancy = RedundancySettings {
        active_only_routing,
        // Cold as in the reference charts (Apollogeddon/ignition-helm `common/templates/_helpers.tpl`,
        // redundancy.standbyactivitylevel): a Warm or Hot Backup opens the PLC connections too.
        standby_activity_level: redundancy.standby_activity_level.unwrap_or(StandbyActivityLevel::Cold),
        master_recovery_mode: redundancy.master_recovery_mode.unwrap_or(MasterRecoveryMode::Automatic),
    };

    // The decisions each generator would otherwise repeat, made once per tier.
    for tier in &mut tiers {
        tier.labels_itself = tier.is_redundant() && active_only_routing;
        tier.restore = if tier.kind == TierKind::Frontend {
            frontend_restore
                .clone()
                .or_else(|| restore.clone().filter(|restore| restore.frontends))
        } else {
            restore.clone()
        };
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Site {
        name: cluster.metadata.name.clone(),
        namespace: cluster.metadata.namespace.clone(),
        architecture: spec.architecture,
        version: spec.version.clone(),
        // Checked above: a missing line is a problem, and problems return early.
        version_line: version_line.unwrap_or(VersionLine::V8_3),
        edition,
        timezone,
        image,
        pull_policy: image_spec.pull_policy.unwrap_or(PullPolicy::IfNotPresent),
        pull_secrets,
        admin_username,
        admin_password_secret: spec.admin_password_secret.clone(),
        deployment_mode: spec.deployment_mode.clone(),
        tiers,
        ingress,
        gateway_network,
        redundancy,
        http_route,
        single_node: spec.single_node.unwrap_or(false),
        gateway_resources: Vec::new(),
        content,
    })
}

fn check_version(version: &str, problems: &mut Vec<Problem>) -> Option<VersionLine> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = |part: &str| !part.is_empty() && part.len() <= 4 && part.chars().all(|c| c.is_ascii_digit());
    let line = match parts.as_slice() {
        ["8", "1", patch] if numeric(patch) => Some(VersionLine::V8_1),
        ["8", "3", patch] if numeric(patch) => Some(VersionLine::V8_3),
        _ => None,
    };
    if line.is_none() {
        let message = if version.eq_ignore_ascii_case("latest") {
            "\"latest\" is not allowed: pin an exact release such as 8.3.3 (a moving tag redeploys the plant without a commit, and 8.1 and 8.3 need different settings)".to_owned()
        } else if parts.len() == 3 && parts.iter().all(|part| numeric(part)) {
            format!(
                "{version:?}: the {}.{} line is not supported, only 8.1.x and 8.3.x are",
                parts[0], parts[1]
            )
        } else {
            format!("{version:?} is not an exact Ignition release: write major.minor.patch, such as 8.3.3 or 8.1.48")
        };
        problems.push(
            Problem::new(FieldPath::spec().field("version"), message)
                .current(version)
                .proposed("8.3.3"),
        );
    }
    line
}

fn resolve_tiers(spec: &Spec, problems: &mut Vec<Problem>) -> Vec<Tier> {
    match spec.architecture {
        Architecture::Failover => {
            let gateway = spec.gateway.clone().unwrap_or_default();
            if let Some(replicas) = gateway.replicas.filter(|replicas| *replicas != 2) {
                problems.push(
                    Problem::new(
                        FieldPath::spec().field("gateway").field("replicas"),
                        "a failover pair is exactly 2 gateways (master and backup); use architecture scaleout for more",
                    )
                    .current(replicas.to_string())
                    .proposed("2"),
                );
            }
            vec![redundant_tier(TierKind::Gateway, &gateway, 2, problems)]
        }
        Architecture::Scaleout => {
            let backend = spec.backend.clone().unwrap_or_default();
            let backend_replicas = backend.replicas.unwrap_or(2);
            let frontend = spec.frontend.clone().unwrap_or_default();
            let resources = frontend.resources.clone().unwrap_or_default();
            let autoscaling = frontend
                .autoscaling
                .as_ref()
                .map(|autoscaling| resolve_autoscaling(autoscaling, frontend.replicas, problems));
            vec![
                redundant_tier(TierKind::Backend, &backend, backend_replicas, problems),
                Tier {
                    kind: TierKind::Frontend,
                    replicas: autoscaling.as_ref().map_or_else(
                        || frontend.replicas.unwrap_or(DEFAULT_FRONTEND_REPLICAS),
                        |autoscaling| autoscaling.min_replicas,
                    ),
                    autoscaling,
                    cpu: check_cpu(
                        FieldPath::spec()
                            .field("frontend")
                            .field("resources")
                            .field("cpu")
                            .as_str(),
                        resources.cpu.as_ref(),
                        "1",
                        problems,
                    ),
                    memory: check_memory(
                        FieldPath::spec()
                            .field("frontend")
                            .field("resources")
                            .field("memory")
                            .as_str(),
                        resources.memory.as_ref(),
                        "2Gi",
                        problems,
                    ),
                    storage: None,
                    options: TierOptions::default(),
                    labels_itself: false,
                    restore: None,
                },
            ]
        }
    }
}

fn resolve_autoscaling(
    autoscaling: &Autoscaling,
    replicas: Option<u32>,
    problems: &mut Vec<Problem>,
) -> AutoscalingSettings {
    if let Some(replicas) = replicas {
        // Two owners of one number: Argo CD would fight the autoscaler on every sync.
        problems.push(
            Problem::new(
                FieldPath::spec().field("frontend").field("replicas"),
                "cannot be given with spec.frontend.autoscaling, which owns the frontend count: remove it (in an environment, set it to null)",
            )
            .current(replicas.to_string()),
        );
    }
    let min_replicas = autoscaling.min_replicas.unwrap_or(DEFAULT_FRONTEND_REPLICAS);
    if min_replicas > autoscaling.max_replicas {
        problems.push(
            Problem::new(
                FieldPath::spec()
                    .field("frontend")
                    .field("autoscaling")
                    .field("minReplicas"),
                format!(
                    "must not be more than maxReplicas ({}), found {min_replicas}",
                    autoscaling.max_replicas
                ),
            )
            .current(min_replicas.to_string())
            .proposed(autoscaling.max_replicas.to_string()),
        );
    }
    AutoscalingSettings {
        min_replicas,
        max_replicas: autoscaling.max_replicas,
        target_cpu_utilization_percentage: autoscaling
            .target_cpu_utilization_percentage
            .unwrap_or(DEFAULT_TARGET_CPU_UTILIZATION),
    }
}

fn redundant_tier(kind: TierKind, tier: &RedundantTier, replicas: u32, problems: &mut Vec<Problem>) -> Tier {
    let path = kind.path();
    let resources = tier.resources.clone().unwrap_or_default();
    let storage = tier.storage.clone().unwrap_or_default();
    if let Some(class) = &storage.storage_class_name {
        check_dns_subdomain(
            path.field("storage").field("storageClassName").as_str(),
            class,
            problems,
        );
    }
    Tier {
        kind,
        replicas,
        cpu: check_cpu(
            path.field("resources").field("cpu").as_str(),
            resources.cpu.as_ref(),
            "2",
            problems,
        ),
        memory: check_memory(
            path.field("resources").field("memory").as_str(),
            resources.memory.as_ref(),
            "4Gi",
            problems,
        ),
        storage: Some(VolumeSettings {
            size: check_storage(
                path.field("storage").field("size").as_str(),
                storage.size.as_ref(),
                problems,
            ),
            storage_class_name: storage.storage_class_name,
        }),
        autoscaling: None,
        options: TierOptions::default(),
        labels_itself: false,
        restore: None,
    }
}

/// Parses a quantity, reporting a malformed one; returns `None` when it is missing or malformed.
fn quantity(path: &str, text: &QuantityText, problems: &mut Vec<Problem>) -> Option<Quantity> {
    Quantity::parse(&text.0)
        .map_err(|message| problems.push(Problem::new(path, message).current(&text.0)))
        .ok()
}

fn check_cpu(path: &str, text: Option<&QuantityText>, default: &str, problems: &mut Vec<Problem>) -> String {
    let Some(text) = text else {
        return default.to_owned();
    };
    let Some(cpu) = quantity(path, text, problems) else {
        return default.to_owned();
    };
    if !cpu.is_positive() || cpu.units() >= 256 {
        problems.push(
            Problem::new(path, "must be more than 0 and less than 256 cores")
                .current(&text.0)
                .proposed(default),
        );
    } else if cpu.canonical().ends_with(['n', 'u']) {
        problems.push(
            Problem::new(path, "is finer than Kubernetes schedules CPU (1m)")
                .current(&text.0)
                .proposed(default),
        );
    }
    cpu.canonical()
}

fn check_memory(path: &str, text: Option<&QuantityText>, default: &str, problems: &mut Vec<Problem>) -> String {
    check_bytes(
        path,
        text,
        default,
        (
            MINIMUM_MEMORY,
            "1536Mi",
            "the heap is 75% of it, and a stock Ignition install runs a 1024 MB heap (ignition.conf \
             wrapper.java.maxmemory); 1536Mi is also the memory of Inductive Automation's own chart",
        ),
        (1 << 40, "1Ti"),
        problems,
    )
}

fn check_storage(path: &str, text: Option<&QuantityText>, problems: &mut Vec<Problem>) -> String {
    let minimum = (1 << 30, "1Gi", "a gateway's data directory needs at least 1Gi");
    check_bytes(path, text, DEFAULT_STORAGE_SIZE, minimum, (64 << 40, "64Ti"), problems)
}

fn check_bytes(
    path: &str,
    text: Option<&QuantityText>,
    default: &str,
    (minimum, minimum_text, why): (i128, &str, &str),
    (maximum, maximum_text): (i128, &str),
    problems: &mut Vec<Problem>,
) -> String {
    let Some(text) = text else {
        return default.to_owned();
    };
    let Some(bytes) = quantity(path, text, problems) else {
        return default.to_owned();
    };
    if !bytes.is_whole() {
        problems.push(
            Problem::new(path, "must be a whole number of bytes, such as 4Gi")
                .current(&text.0)
                .proposed(default),
        );
    } else if bytes.units() < minimum {
        problems.push(
            Problem::new(path, format!("must be at least {minimum_text}: {why}"))
                .current(&text.0)
                .proposed(default),
        );
    } else if bytes.units() > maximum {
        problems.push(
            Problem::new(path, format!("must be at most {maximum_text}"))
                .current(&text.0)
                .proposed(default),
        );
    }
    bytes.canonical()
}

fn check_site_name(name: &str, tiers: &[Tier], problems: &mut Vec<Problem>) {
    let path = "metadata.name";
    let is_dns_1035 = name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && is_dns_label(name);
    if !is_dns_1035 {
        problems.push(Problem::new(
            path,
            format!("{name:?} must be a DNS label that starts with a letter: lowercase letters, digits and '-', such as plant-a"),
        ).current(name));
        return;
    }
    // Each tier's StatefulSet is `<name>-<component>`; its revision label and Services add suffixes.
    let longest_component = tiers
        .iter()
        .map(|tier| tier.kind.component().len() + 1)
        .max()
        .unwrap_or(0);
    let limit = (DNS_LABEL_MAX - REVISION_SUFFIX - longest_component)
        .min(DNS_LABEL_MAX - longest_component - LONGEST_SERVICE_SUFFIX.len());
    if name.len() > limit {
        problems.push(
            Problem::new(
                path,
                format!(
                    "{name:?} is {} characters; at most {limit} fit, since the StatefulSet {name}-{} and its revision label \
                     (the name, '-' and a hash of up to 10 characters) must stay within 63",
                    name.len(),
                    tiers.iter().max_by_key(|tier| tier.kind.component().len()).map_or("", |tier| tier.kind.component())
                ),
            )
            .current(name)
            .proposed(name[..limit].trim_end_matches('-')),
        );
    }
}

fn resolve_image(image: &Image, version: &str, problems: &mut Vec<Problem>) -> String {
    let repository = image
        .repository
        .clone()
        .unwrap_or_else(|| DEFAULT_REPOSITORY.to_owned());
    let last_segment = repository.rsplit('/').next().unwrap_or_default();
    let repository_ok = !repository.is_empty()
        && !last_segment.contains(':')
        && !repository.contains('@')
        && repository
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "./_-:".contains(c))
        && repository.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !repository_ok {
        problems.push(
            Problem::new(
                FieldPath::spec().field("image").field("repository"),
                "must be an image repository without tag or digest, such as inductiveautomation/ignition",
            )
            .current(&repository)
            .proposed(DEFAULT_REPOSITORY),
        );
    }
    let mut reference = format!("{repository}:{version}");
    if let Some(digest) = &image.digest {
        let ok = digest
            .strip_prefix("sha256:")
            .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        if !ok {
            problems.push(
                Problem::new(
                    FieldPath::spec().field("image").field("digest"),
                    "must be sha256: followed by 64 lowercase hex digits",
                )
                .current(digest),
            );
        }
        reference.push('@');
        reference.push_str(digest);
    }
    reference
}

fn resolve_ingress(ingress: &Ingress, problems: &mut Vec<Problem>) -> IngressSettings {
    let host = ingress.host.strip_prefix("*.").unwrap_or(&ingress.host);
    if !is_dns_subdomain(host) {
        problems.push(
            Problem::new(
                FieldPath::spec().field("ingress").field("host"),
                format!("{:?} is not a DNS name such as scada.plant-a.example.com", ingress.host),
            )
            .current(&ingress.host),
        );
    }
    if let Some(class) = &ingress.class_name {
        check_dns_subdomain(
            FieldPath::spec().field("ingress").field("className").as_str(),
            class,
            problems,
        );
    }
    if let Some(secret) = &ingress.tls_secret {
        check_dns_subdomain(
            FieldPath::spec().field("ingress").field("tlsSecret").as_str(),
            secret,
            problems,
        );
    }
    let annotations: Vec<(String, String)> = ingress.annotations.clone().unwrap_or_default().into_iter().collect();
    for (key, _) in &annotations {
        let name = key.rsplit('/').next().unwrap_or_default();
        let prefix_ok = key.split_once('/').is_none_or(|(prefix, _)| is_dns_subdomain(prefix));
        let name_ok = !name.is_empty()
            && name.len() <= 63
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !(prefix_ok && name_ok) {
            problems.push(Problem::new(
                FieldPath::spec().field("ingress").field("annotations").field(key),
                "is not a valid annotation key (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.')",
            ));
        }
    }
    IngressSettings {
        host: ingress.host.clone(),
        class_name: ingress.class_name.clone(),
        tls_secret: ingress.tls_secret.clone(),
        annotations,
        sticky_sessions: ingress.sticky_sessions.unwrap_or(StickySessions::Nginx),
    }
}

fn resolve_gateway_network(
    network: GatewayNetwork,
    frontend_autoscaling: bool,
    problems: &mut Vec<Problem>,
) -> GatewayNetworkSettings {
    let certificates = resolve_certificates(network.trust, network.certificates.as_ref(), problems);
    let manual = network.trust == Some(GanTrust::Manual);
    if manual && frontend_autoscaling {
        // Every frontend the autoscaler adds (emptyDir) starts with a new certificate that nobody is
        // there to approve: its sessions would have no backend.
        problems.push(
            Problem::new(
                FieldPath::spec().field("gatewayNetwork").field("trust"),
                "manual cannot be used with spec.frontend.autoscaling: each frontend the autoscaler starts \
                 would wait for an approval by hand in the web UI before it reaches the backend",
            )
            .current("manual")
            .proposed("certManager"),
        );
    }
    // With a shared CA every certificate it signed is trusted: connections need no approval, and both
    // ends prove who they are (what the three reference deployments configure).
    let default_policy = if manual {
        SecurityPolicy::ApprovedOnly
    } else {
        SecurityPolicy::Unrestricted
    };
    let policy = network.security_policy.unwrap_or(default_policy);
    if policy == SecurityPolicy::ApprovedOnly && !manual {
        problems.push(
            Problem::new(
                FieldPath::spec().field("gatewayNetwork").field("securityPolicy"),
                "ApprovedOnly makes every new connection wait for an approval by hand; with a CA use Unrestricted \
                 or SpecifiedList, or choose spec.gatewayNetwork.trust: manual",
            )
            .current("ApprovedOnly")
            .proposed("Unrestricted"),
        );
    }
    let whitelist = network.whitelist.unwrap_or_default();
    match (policy, whitelist.is_empty()) {
        (SecurityPolicy::SpecifiedList, true) => problems.push(Problem::new(
            FieldPath::spec().field("gatewayNetwork").field("whitelist"),
            "is required with securityPolicy SpecifiedList: list the gateway names allowed to connect",
        )),
        (SecurityPolicy::ApprovedOnly | SecurityPolicy::Unrestricted, false) => problems.push(
            Problem::new(
                FieldPath::spec().field("gatewayNetwork").field("whitelist"),
                "is only read with securityPolicy SpecifiedList",
            )
            .proposed("SpecifiedList"),
        ),
        _ => {}
    }
    for (index, name) in whitelist.iter().enumerate() {
        if name.is_empty() || name.contains(',') || name.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                FieldPath::spec()
                    .field("gatewayNetwork")
                    .field("whitelist")
                    .index(index),
                "must be a gateway name without spaces or commas",
            ));
        }
    }
    GatewayNetworkSettings {
        security_policy: policy,
        require_two_way_auth: network.require_two_way_auth.unwrap_or(!manual),
        whitelist,
        certificates,
    }
}

/// RFC 1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= DNS_LABEL_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

/// `path` is a [`FieldPath`] or its text.
pub(super) fn check_dns_label(path: impl Into<String>, name: &str, problems: &mut Vec<Problem>) {
    if !is_dns_label(name) {
        problems.push(
            Problem::new(
                path,
                format!("{name:?} is not a DNS label (lowercase letters, digits and '-', at most 63)"),
            )
            .current(name),
        );
    }
}

/// `path` is a [`FieldPath`] or its text.
pub(super) fn check_dns_subdomain(path: impl Into<String>, name: &str, problems: &mut Vec<Problem>) {
    if !is_dns_subdomain(name) {
        problems.push(
            Problem::new(
                path,
                format!("{name:?} is not a Kubernetes object name (lowercase letters, digits, '-' and '.')"),
            )
            .current(name),
        );
    }
}

/// Why `name` is not a DNS label, if it is not one.
pub(super) fn dns_label_rule(name: &str) -> Result<(), &'static str> {
    if is_dns_label(name) {
        Ok(())
    } else {
        Err("is not a DNS label (lowercase letters, digits and '-', at most 63)")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load, RestoreSource};
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn site(spec: &str) -> Site {
        let text = format!(
            "{{apiVersion: ignition.krm.dev/v1alpha1, kind: IgnitionCluster, metadata: {{name: plant}},
              spec: {{version: 8.3.3, adminPasswordSecret: admin, {spec}}}}}"
        );
        load(&serde_norway::from_str(&text).unwrap(), None).unwrap()
    }

    /// Per tier: whether it labels itself, and the URL of the backup it restores.
    fn decisions(site: &Site) -> Vec<(TierKind, bool, Option<&str>)> {
        site.tiers
            .iter()
            .map(|tier| {
                let url = tier.restore.as_ref().and_then(|restore| match &restore.source {
                    RestoreSource::Url { url, .. } => Some(url.as_str()),
                    _ => None,
                });
                (tier.kind, tier.labels_itself, url)
            })
            .collect()
    }

    #[test]
    fn a_pair_with_active_only_routing_labels_itself() {
        let failover = site("architecture: failover");
        assert_eq!(decisions(&failover), [(TierKind::Gateway, true, None)]);
        let without = site("architecture: failover, redundancy: {activeOnlyRouting: false}");
        assert_eq!(decisions(&without), [(TierKind::Gateway, false, None)]);
        let scaleout = site("architecture: scaleout");
        assert_eq!(
            decisions(&scaleout),
            [(TierKind::Backend, true, None), (TierKind::Frontend, false, None)]
        );
        let single = site("architecture: scaleout, backend: {replicas: 1}");
        assert_eq!(
            decisions(&single),
            [(TierKind::Backend, false, None), (TierKind::Frontend, false, None)]
        );
    }

    #[test]
    fn each_tier_knows_the_backup_it_restores() {
        let restore = format!("restore: {{url: 'https://b.example.com/site.gwbk', sha256: {SHA}}}");
        let site_backup = Some("https://b.example.com/site.gwbk");
        assert_eq!(
            decisions(&site(&format!("architecture: failover, {restore}"))),
            [(TierKind::Gateway, true, site_backup)]
        );
        assert_eq!(
            decisions(&site(&format!("architecture: scaleout, {restore}"))),
            [
                (TierKind::Backend, true, site_backup),
                (TierKind::Frontend, false, None)
            ]
        );
        let shared = restore.replace("}", ", frontends: true}");
        assert_eq!(
            decisions(&site(&format!("architecture: scaleout, {shared}"))),
            [
                (TierKind::Backend, true, site_backup),
                (TierKind::Frontend, false, site_backup)
            ]
        );
        let own = format!(
            "architecture: scaleout, {restore}, frontend: {{restore: {{url: 'https://b.example.com/f.gwbk', sha256: {SHA}}}}}"
        );
        assert_eq!(
            decisions(&site(&own)),
            [
                (TierKind::Backend, true, site_backup),
                (TierKind::Frontend, false, Some("https://b.example.com/f.gwbk"))
            ]
        );
    }
}
