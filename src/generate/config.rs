//! The ConfigMaps: the gateways' environment per tier, and the scripts the pods run.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::names::{self, GAN_PORT, HTTPS_PORT, HTTP_PORT};
use super::{metadata, tier_options};
use crate::spec::{serde_name, Site, Tier, TierKind};

/// Where the scripts ConfigMap is mounted in every container.
pub const SCRIPTS_DIR: &str = "/config/scripts";
pub const PREPARE_DATA_SCRIPT: &str = "prepare-data.sh";
pub const READY_SCRIPT: &str = "ready.sh";
pub const ALIVE_SCRIPT: &str = "alive.sh";
pub const LABEL_ACTIVE_SCRIPT: &str = "label-active.sh";
pub const GAN_TRUST_SCRIPT: &str = "gan-trust.sh";
pub const FETCH_BACKUP_SCRIPT: &str = "fetch-backup.sh";
pub const PREPARE_BACKUP_SCRIPT: &str = "prepare-backup.sh";
pub const APPLY_RESOURCES_SCRIPT: &str = "apply-resources.sh";
pub const FETCH_CONTENT_SCRIPT: &str = "fetch-content.sh";

/// Where the Secrets are mounted; the image reads each `*_FILE` variable's file.
pub const ADMIN_SECRET_DIR: &str = "/run/secrets/ignition/admin";
pub const LICENSE_SECRET_DIR: &str = "/run/secrets/ignition/license";
/// The keys users put in their Secrets.
pub const ADMIN_PASSWORD_KEY: &str = "password";
pub const LICENSE_KEY_KEY: &str = "licenseKey";
pub const ACTIVATION_TOKEN_KEY: &str = "activationToken";

pub fn scripts_config_map(site: &Site) -> ConfigMap {
    let scripts = [
        (PREPARE_DATA_SCRIPT, include_str!("scripts/prepare-data.sh")),
        (READY_SCRIPT, include_str!("scripts/ready.sh")),
        (ALIVE_SCRIPT, include_str!("scripts/alive.sh")),
        (LABEL_ACTIVE_SCRIPT, include_str!("scripts/label-active.sh")),
        (GAN_TRUST_SCRIPT, include_str!("scripts/gan-trust.sh")),
        (FETCH_BACKUP_SCRIPT, include_str!("scripts/fetch-backup.sh")),
        (PREPARE_BACKUP_SCRIPT, include_str!("scripts/prepare-backup.sh")),
    ]
    .into_iter()
    // Only where a site uses them: every other site's scripts, and so its pods, stay as they were.
    .chain(
        (!site.content.projects.is_empty() || !site.content.modules.is_empty())
            .then_some((FETCH_CONTENT_SCRIPT, include_str!("scripts/fetch-content.sh"))),
    )
    .chain(
        (!site.gateway_resources.is_empty())
            .then_some((APPLY_RESOURCES_SCRIPT, include_str!("scripts/apply-resources.sh"))),
    );
    ConfigMap {
        metadata: metadata(site, None, names::scripts_config_map(site)),
        data: Some(
            scripts
                .into_iter()
                .map(|(name, text)| (name.to_owned(), text.to_owned()))
                .collect(),
        ),
        ..Default::default()
    }
}

/// The commissioning and Gateway Network environment of a tier's gateways. Secrets are referenced
/// by file (`*_FILE`), never by value.
pub fn environment_config_map(site: &Site, tier: &Tier) -> ConfigMap {
    let mut env = BTreeMap::new();
    let mut set = |key: &str, value: String| env.insert(key.to_owned(), value);
    set("ACCEPT_IGNITION_EULA", "Y".to_owned());
    set("DISABLE_QUICKSTART", "true".to_owned());
    set("IGNITION_EDITION", serde_name(&site.edition));
    set("TZ", site.timezone.clone());
    set("GATEWAY_ADMIN_USERNAME", site.admin_username.clone());
    set(
        "GATEWAY_ADMIN_PASSWORD_FILE",
        format!("{ADMIN_SECRET_DIR}/{ADMIN_PASSWORD_KEY}"),
    );
    for (key, value) in tier_options::license_environment(tier)
        .into_iter()
        .chain(tier_options::module_environment(tier))
    {
        set(key, value);
    }
    set("GATEWAY_HTTP_PORT", HTTP_PORT.to_string());
    set("GATEWAY_HTTPS_PORT", HTTPS_PORT.to_string());
    set("GATEWAY_GAN_PORT", GAN_PORT.to_string());

    let network = &site.gateway_network;
    set("GATEWAY_NETWORK_ENABLED", "true".to_owned());
    set("GATEWAY_NETWORK_REQUIRESSL", "true".to_owned());
    set(
        "GATEWAY_NETWORK_REQUIRETWOWAYAUTH",
        network.require_two_way_auth.to_string(),
    );
    set("GATEWAY_NETWORK_SECURITYPOLICY", serde_name(&network.security_policy));
    if !network.whitelist.is_empty() {
        set("GATEWAY_NETWORK_WHITELIST", network.whitelist.join(","));
    }
    set(
        "GATEWAY_NETWORK_ALLOWINCOMING",
        tier.accepts_gateway_connections().to_string(),
    );
    if !tier.accepts_gateway_connections() {
        if let Some(backend) = site.tier(TierKind::Backend) {
            for ordinal in 0..backend.replicas {
                let prefix = format!("GATEWAY_NETWORK_{ordinal}");
                set(&format!("{prefix}_HOST"), names::pod_host(site, backend, ordinal));
                set(&format!("{prefix}_PORT"), GAN_PORT.to_string());
                set(&format!("{prefix}_ENABLESSL"), "true".to_owned());
                set(
                    &format!("{prefix}_DESCRIPTION"),
                    format!("{} {}", backend.kind.component(), names::role(ordinal)),
                );
            }
        }
    }
    ConfigMap {
        metadata: metadata(site, Some(tier), names::environment_config_map(site, tier)),
        data: Some(env),
        ..Default::default()
    }
}

/// A digest of ConfigMaps' data (FNV-1a, 64 bits): stable across runs and platforms, so the pod
/// template changes exactly when what the pods read changes. It is fed one ConfigMap at a time, so the
/// ConfigMap every tier shares (the scripts, the longest data) is read once and its state copied.
#[derive(Debug, Clone, Copy)]
pub struct Digest(u64);

impl Digest {
    pub fn new() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }

    /// The digest with a ConfigMap's data fed in, key and value each followed by a zero byte.
    pub fn with(mut self, config_map: &ConfigMap) -> Self {
        for (key, value) in config_map.data.iter().flatten() {
            self.feed(key.as_bytes());
            self.feed(&[0]);
            self.feed(value.as_bytes());
            self.feed(&[0]);
        }
        self
    }

    fn feed(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}
