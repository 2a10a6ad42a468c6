//! The `IgnitionCluster` spec as users write it.
//!
//! These types are the single source of truth for the spec: the JSON Schema that validates input
//! (and that `ignition-krm schema` prints) is derived from them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};

pub use super::content::{Archive, Project, ProjectSource, ThirdPartyModule, TierName};
pub use super::options::{
    ClaimVolume, ConfigMapVolume, DeviceService, DeviceServiceType, EmptyDirVolume, ExtraEnv, ExtraPort, ExtraVolume,
    ExtraVolumeMount, IpBlock, KeyRef, MatchLabels, NetworkPeer, PodOptions, PortProtocol, SecretVolume, TaintEffect,
    TierNetworkPolicy, Toleration, TolerationOperator, TrafficPolicy,
};

/// The spec's apiVersion and kind.
pub const API_VERSION: &str = "ignition.krm.dev/v1alpha1";
pub const KIND: &str = "IgnitionCluster";

/// One Ignition site: the function config of the KRM function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnitionCluster {
    /// Always `ignition.krm.dev/v1alpha1`.
    pub api_version: String,
    /// Always `IgnitionCluster`.
    pub kind: String,
    pub metadata: ClusterMetadata,
    pub spec: Spec,
}

/// The spec's own metadata. Labels and annotations are those of the spec object (kustomize and kpt put
/// their bookkeeping here); they are not copied onto generated objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterMetadata {
    /// The site name: prefix of every generated object's name (a DNS label starting with a letter).
    pub name: String,
    /// The namespace of every generated object; left out to let kustomize's `namespace:` set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// `failover` (a master/backup pair) or `scaleout` (a backend pair plus N frontends).
    pub architecture: Architecture,
    /// The Ignition image tag, an exact release: 8.1.x or 8.3.x.
    pub version: String,
    /// `standard` (default), `edge`, `maker`, or `cloud` (8.3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<Edition>,
    /// The gateways' time zone (`TZ`), an IANA name such as `America/Chicago`. Default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Where the image comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// The gateway admin user created at commissioning. Default `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_username: Option<String>,
    /// An existing Secret with the key `password`: the admin password, mounted as a file.
    pub admin_password_secret: String,
    /// The licence of every tier that gives none of its own (`spec.<tier>.license`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    /// Modules to enable (`GATEWAY_MODULES_ENABLED`), such as `perspective` or `tag-historian`, in every
    /// tier that gives none of its own. Default: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<String>>,
    /// 8.3 only: module IDs whose licence agreements are accepted (`ACCEPT_MODULE_LICENSES`), in every
    /// tier that gives none of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_module_licenses: Option<Vec<String>>,
    /// 8.3 only: module IDs whose signing certificates are accepted (`ACCEPT_MODULE_CERTS`), in every
    /// tier that gives none of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_module_certs: Option<Vec<String>>,
    /// Ignition projects from pinned archives, put into `data/projects/<name>/` of the chosen tiers
    /// before every start (replacing what is there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<Project>>,
    /// 8.3 only: third-party modules (`.modl` files) by URL or from a volume, pinned by SHA-256,
    /// checked against their declared ID and loaded by the chosen tiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_modules: Option<Vec<ThirdPartyModule>>,
    /// A cluster with a single node (a lab, an edge box): both nodes of a pair may then share it
    /// (preferred instead of required anti-affinity), so one host failure stops both. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_node: Option<bool>,
    /// 8.3 only: the deployment mode (`-Dignition.config.mode`), the same on every node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<String>,
    /// failover only: the master/backup pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<RedundantTier>,
    /// scaleout only: the backend (devices, history), a redundant pair by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<RedundantTier>,
    /// scaleout only: the frontends that take user sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend: Option<FrontendTier>,
    /// The user-facing Ingress; none when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Ingress>,
    /// A Gateway API HTTPRoute for users, next to or instead of the Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route: Option<HttpRoute>,
    /// Restore a gateway backup (`.gwbk`) on the first start of each gateway of the failover pair or
    /// the scaleout backend (and of the frontends with `frontends: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<Restore>,
    /// Gateway Network security.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_network: Option<GatewayNetwork>,
    /// Redundancy settings of the master/backup pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redundancy: Option<Redundancy>,
    /// Named environments (DNS labels such as `dev` or `prod`): each a partial spec merged over this one
    /// (JSON merge patch, RFC 7386: a value replaces, a mapping merges, `null` removes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<BTreeMap<String, Environment>>,
}

/// One environment as written: a partial spec, merged over the base (JSON merge patch) before the
/// result is read as a whole [`Spec`]. Its schema is derived from `Spec`'s (`spec/environment.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Environment(pub serde_norway::Value);

impl JsonSchema for Environment {
    fn schema_name() -> Cow<'static, str> {
        super::environment::ENVIRONMENT_DEFINITION.into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // The fields are filled in from `Spec`'s schema by `environment::derive_schema`.
        json_schema!({
            "type": "object",
            "description": "An environment's changes to the base spec, a partial spec: any field of `spec` but \
                `architecture` (which decides every object's name) and `environments`, none required. `null` \
                removes a field of the base, a mapping merges, a list replaces the base's list whole."
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Failover,
    Scaleout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    Standard,
    Edge,
    Maker,
    Cloud,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// The image repository, without tag. Default `inductiveautomation/ignition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Pins the image by digest (`sha256:` and 64 hex digits) in addition to the version tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// `IfNotPresent` (default), `Always` or `Never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Names of existing `kubernetes.io/dockerconfigjson` Secrets for a private registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secrets: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// A tier's licence: exactly one of `secret` and `podSecrets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct License {
    /// `leased` (default): leased activation, Secrets with the keys `licenseKey` and `activationToken`
    /// (several keys may be given comma-separated with their tokens). `certificate`: certificate
    /// activation, Secrets with the keys `license.crt`, `license.key` and `config.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
    /// One existing Secret for every gateway of the tier (a redundant pair; not several frontends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// One existing Secret per gateway, in pod ordinal order (`[master, backup]` for a pair; for
    /// frontends one per frontend, up to `autoscaling.maxReplicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_secrets: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Leased,
    Certificate,
}

/// A tier of gateways with a data volume: the failover pair or the scaleout backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedundantTier {
    /// 2, a master/backup pair (the default). The scaleout backend may also be 1, a single independent
    /// gateway; a failover pair is always 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2))]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    /// This tier's licence, instead of `spec.license`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    /// This tier's modules, instead of `spec.modules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<String>>,
    /// 8.3 only: instead of `spec.acceptModuleLicenses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_module_licenses: Option<Vec<String>>,
    /// 8.3 only: instead of `spec.acceptModuleCerts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_module_certs: Option<Vec<String>>,
    /// Scheduling, metadata, environment and volumes of the tier's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodOptions>,
    /// Extra container ports for devices and other systems (OPC UA 62541, MQTT 1883/8883).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ExtraPort>>,
    /// A LoadBalancer or NodePort Service publishing `ports`, to the Active node of a pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_service: Option<DeviceService>,
    /// Extra peers of the tier's NetworkPolicy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<TierNetworkPolicy>,
}

/// The scaleout frontends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrontendTier {
    /// How many frontend gateways (each needs its own licence). Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// A HorizontalPodAutoscaler for the frontends; the StatefulSet then has no `replicas` (the
    /// autoscaler owns it), so `replicas` must be left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// This tier's licence, instead of `spec.license`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    /// This tier's modules, instead of `spec.modules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<String>>,
    /// 8.3 only: instead of `spec.acceptModuleLicenses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_module_licenses: Option<Vec<String>>,
    /// 8.3 only: instead of `spec.acceptModuleCerts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_module_certs: Option<Vec<String>>,
    /// Scheduling, metadata, environment and volumes of the tier's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodOptions>,
    /// A backup of the frontends' own (projects and settings, none of the backend's devices or
    /// history), restored at every start (their data is an `emptyDir`). Not with
    /// `spec.restore.frontends: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<BackupSource>,
}

/// Where a tier's own gateway backup comes from: exactly one of `url` and `volumeClaim`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupSource {
    /// An HTTPS URL of the `.gwbk` file, downloaded by the init container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// With `url`: the file's SHA-256 (64 hex digits), checked before the gateway may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// An existing PersistentVolumeClaim holding the backup, mounted read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim: Option<String>,
    /// With `volumeClaim`: the backup's path inside the volume, such as `plant-a/frontend.gwbk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The frontends' autoscaler (autoscaling/v2), on CPU utilization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// The fewest frontends. Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub min_replicas: Option<u32>,
    /// The most frontends (each needs its own licence).
    #[schemars(range(min = 1, max = 100))]
    pub max_replicas: u32,
    /// The average CPU utilization, in percent of the request, the autoscaler aims for. Default 70.
    // The spelling of autoscaling/v1's field, which users know; camelCase would give `targetCpu...`.
    #[serde(
        rename = "targetCPUUtilizationPercentage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization_percentage: Option<u32>,
}

/// CPU and memory of each gateway, used as both request and limit (Guaranteed QoS: the JVM sizes its
/// heap from the memory limit).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// A CPU quantity such as `2` or `1500m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<QuantityText>,
    /// A memory quantity such as `4Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<QuantityText>,
}

/// The data volume of each gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Storage {
    /// The volume size, such as `20Gi`. Default `10Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<QuantityText>,
    /// The StorageClass; the cluster default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ingress {
    /// The public host name users open.
    pub host: String,
    /// The IngressClass, such as `nginx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// An existing TLS Secret for the host; plain HTTP when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    /// Extra annotations on the Ingress (for example cert-manager's `cert-manager.io/cluster-issuer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Which controller's cookie stickiness to configure for Perspective sessions: `nginx` (default,
    /// ingress-nginx annotations on the Ingress), `traefik` (annotations on the Service) or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_sessions: Option<StickySessions>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StickySessions {
    Nginx,
    Traefik,
    None,
}

/// A Gateway API route to the user-facing gateways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRoute {
    /// The host names the route answers.
    pub hostnames: Vec<String>,
    /// The Gateway (listener) the route attaches to.
    pub gateway: GatewayRef,
    /// Cookie session persistence (`spec.rules[].sessionPersistence`), so each Perspective session
    /// stays on one gateway. Default false: the field exists only in the Gateway API's experimental
    /// channel, and a cluster with the standard channel's CRD rejects the whole route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_persistence: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayRef {
    pub name: String,
    /// The Gateway's namespace; the route's own when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// One listener of the Gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// Where a gateway backup comes from: exactly one of `url` and `volumeClaim`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Restore {
    /// An HTTPS URL of the `.gwbk` file, downloaded by the init container on first start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// With `url`: the file's SHA-256 (64 hex digits), checked before the gateway may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// An existing PersistentVolumeClaim holding the backup, mounted read-only (ReadOnlyMany, or
    /// ReadWriteOnce where all gateways share a node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim: Option<String>,
    /// With `volumeClaim`: the backup's path inside the volume, such as `plant-a/latest.gwbk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// scaleout: whether the frontends restore the same backup too (at every start: their data is an
    /// `emptyDir`). Default false: a backend's backup would make every frontend open the backend's
    /// device connections and run its historian and gateway scripts again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontends: Option<bool>,
}

/// Gateway Network security: how the gateways of a site trust each other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayNetwork {
    /// Where trust comes from. `certManager` (default): a CA from cert-manager signs a certificate per
    /// tier, and every gateway trusts the CA, so no connection waits for an approval. `secret`: the
    /// same from existing Secrets `<name>-<tier>-gan-tls` (keys `keystore.p12` and `ca.crt`).
    /// `manual`: no CA; every new connection, and every restarted frontend, waits for an approval
    /// by hand in the web UI (refused with `spec.frontend.autoscaling`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<GanTrust>,
    /// `Unrestricted` (default with a CA: only gateways holding a certificate of the CA get in),
    /// `SpecifiedList`, or `ApprovedOnly` (the default, and only allowed, with `trust: manual`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<SecurityPolicy>,
    /// Require certificates on both ends. Default true with a CA, false with `trust: manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_two_way_auth: Option<bool>,
    /// With `SpecifiedList`: the gateway system names allowed to connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whitelist: Option<Vec<String>>,
    /// Settings of the CA and the tier certificates (`trust: certManager` or `secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<GanCertificates>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GanTrust {
    CertManager,
    Secret,
    Manual,
}

/// Gateway Network TLS from a shared CA: each tier gets a certificate and key as a PKCS#12
/// keystore, and every gateway trusts the CA.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GanCertificates {
    /// The older spelling of `trust` (`certManager` or `secret`); still read, and it must agree with
    /// `trust` when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<CertificateSource>,
    /// An existing Secret with the key `password`, the PKCS#12 keystore password: it must be
    /// `metro`. Default: cert-manager writes the keystore with the literal password `metro`
    /// (`keystores.pkcs12.password`, cert-manager 1.21), and no Secret is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore_password_secret: Option<String>,
    /// cert-manager: how long a tier certificate lives. Default `8760h` (a year); at least `168h`,
    /// less than `caDuration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// cert-manager: how long before expiry a tier certificate is renewed. Default `720h` (30
    /// days); more than 0, less than `duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before: Option<String>,
    /// cert-manager: how long the CA lives. Default `87600h` (ten years); more than `duration`, at
    /// most `876000h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_duration: Option<String>,
    /// How a renewed certificate reaches the running gateways, which read it only at start:
    /// `reloader` (default: the Stakater Reloader annotation rolls the StatefulSet, Backup first)
    /// or `manual` (you restart them before the old certificate expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CertificateSource {
    CertManager,
    Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rotation {
    Reloader,
    Manual,
    // The older name of `manual`: refused with a message that says so.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SecurityPolicy {
    ApprovedOnly,
    Unrestricted,
    SpecifiedList,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Redundancy {
    /// What the backup runs while the master is active: `Cold` (default: the backup opens no device
    /// connections), `Warm` or `Hot` (the backup also connects to the PLCs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby_activity_level: Option<StandbyActivityLevel>,
    /// Whether the master takes over again when it comes back: `Automatic` (default) or `Manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_recovery_mode: Option<MasterRecoveryMode>,
    /// Route users (and admins of the scaleout backend) to the Active node only: a sidecar labels
    /// each pod active or standby from `/system/gwinfo`, and the Service selects the active label.
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_only_routing: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StandbyActivityLevel {
    Cold,
    Warm,
    Hot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MasterRecoveryMode {
    Automatic,
    Manual,
}

/// The name serde gives a unit variant: how the spec spells it, which is also the value Ignition or
/// Kubernetes reads (`IfNotPresent`, `Cold`, `TCP`), so that no `match` repeats serde's renames.
pub fn serde_name<T: Serialize>(variant: &T) -> String {
    match serde_json::to_value(variant) {
        Ok(serde_json::Value::String(name)) => name,
        // Only unit variants are passed here; the tests name every enum that is.
        _ => String::new(),
    }
}

/// A Kubernetes quantity as the user wrote it: YAML reads `cpu: 2` as a number, so numbers are
/// accepted too and kept as their text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuantityText(pub String);

impl JsonSchema for QuantityText {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "number"],
            "description": "A Kubernetes quantity, such as 2, 1500m or 4Gi."
        })
    }
}

impl<'de> Deserialize<'de> for QuantityText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Integer(i64),
            Float(f64),
        }
        Ok(QuantityText(match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text,
            Raw::Integer(number) => number.to_string(),
            Raw::Float(number) => number.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant's serde name is not empty and reads back as the same variant.
    fn round_trips<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(variants: &[T]) {
        for variant in variants {
            let name = serde_name(variant);
            assert!(!name.is_empty(), "{variant:?}");
            let back: T = serde_norway::from_value(serde_norway::Value::String(name.clone())).unwrap();
            assert_eq!(&back, variant, "{name}");
        }
    }

    #[test]
    fn every_enum_passed_to_serde_name_has_a_name_per_variant() {
        use StandbyActivityLevel::{Cold, Hot, Warm};
        round_trips(&[Edition::Standard, Edition::Edge, Edition::Maker, Edition::Cloud]);
        round_trips(&[PullPolicy::Always, PullPolicy::IfNotPresent, PullPolicy::Never]);
        round_trips(&[Cold, Warm, Hot]);
        round_trips(&[MasterRecoveryMode::Automatic, MasterRecoveryMode::Manual]);
        round_trips(&[
            SecurityPolicy::ApprovedOnly,
            SecurityPolicy::Unrestricted,
            SecurityPolicy::SpecifiedList,
        ]);
        round_trips(&[TolerationOperator::Equal, TolerationOperator::Exists]);
        round_trips(&[
            TaintEffect::NoSchedule,
            TaintEffect::PreferNoSchedule,
            TaintEffect::NoExecute,
        ]);
        round_trips(&[PortProtocol::Tcp, PortProtocol::Udp]);
        round_trips(&[DeviceServiceType::LoadBalancer, DeviceServiceType::NodePort]);
        round_trips(&[TrafficPolicy::Cluster, TrafficPolicy::Local]);
        // The values Ignition and Kubernetes read are the spec's own spellings.
        assert_eq!(serde_name(&PortProtocol::Tcp), "TCP");
        assert_eq!(serde_name(&Edition::Standard), "standard");
        assert_eq!(serde_name(&PullPolicy::IfNotPresent), "IfNotPresent");
    }
}
