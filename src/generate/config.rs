//! The ConfigMaps: the gateways' environment per tier, and the scripts the pods run.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::names::{self, GAN_PORT, HTTPS_PORT, HTTP_PORT};
use super::{metadata, tier_options};
use crate::spec::{serde_name, Site, Tier, TierKind};

/// Where the scripts ConfigMap is mounted in every container.
pub const SCRIPTS_DIR: &str = "/config/scripts";

/// Where a script of the scripts ConfigMap is in every container: the command that runs it.
pub fn script_path(script: &str) -> String {
    [SCRIPTS_DIR, "/", script].concat()
}
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

/// Which sites a script is for.
#[derive(Clone, Copy)]
enum ScriptUse {
    Every,
    /// Sites that fetch projects or modules.
    Content,
    /// Sites given gateway resources.
    Resources,
}

/// Every script, in the order of its key, the order in which a ConfigMap's data is written and digested.
const SCRIPTS: [(&str, &str, ScriptUse); 9] = [
    (ALIVE_SCRIPT, include_str!("scripts/alive.sh"), ScriptUse::Every),
    (
        APPLY_RESOURCES_SCRIPT,
        include_str!("scripts/apply-resources.sh"),
        ScriptUse::Resources,
    ),
    (
        FETCH_BACKUP_SCRIPT,
        include_str!("scripts/fetch-backup.sh"),
        ScriptUse::Every,
    ),
    (
        FETCH_CONTENT_SCRIPT,
        include_str!("scripts/fetch-content.sh"),
        ScriptUse::Content,
    ),
    (GAN_TRUST_SCRIPT, include_str!("scripts/gan-trust.sh"), ScriptUse::Every),
    (
        LABEL_ACTIVE_SCRIPT,
        include_str!("scripts/label-active.sh"),
        ScriptUse::Every,
    ),
    (
        PREPARE_BACKUP_SCRIPT,
        include_str!("scripts/prepare-backup.sh"),
        ScriptUse::Every,
    ),
    (
        PREPARE_DATA_SCRIPT,
        include_str!("scripts/prepare-data.sh"),
        ScriptUse::Every,
    ),
    (READY_SCRIPT, include_str!("scripts/ready.sh"), ScriptUse::Every),
];

/// Which of the optional scripts a site's pods run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptSet {
    pub content: bool,
    pub resources: bool,
}

impl ScriptSet {
    /// Only the scripts a site uses: every other site's scripts, and so its pods, stay as they were.
    pub fn of(site: &Site) -> Self {
        ScriptSet {
            content: !site.content.projects.is_empty() || !site.content.modules.is_empty(),
            resources: !site.gateway_resources.is_empty(),
        }
    }

    const fn has(self, script_use: ScriptUse) -> bool {
        match script_use {
            ScriptUse::Every => true,
            ScriptUse::Content => self.content,
            ScriptUse::Resources => self.resources,
        }
    }

    fn scripts(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        SCRIPTS
            .into_iter()
            .filter(move |(_, _, script_use)| self.has(*script_use))
            .map(|(name, text, _)| (name, text))
    }

    /// The digest of the scripts ConfigMap's data, the same as [`Digest::with`] gives for it. The scripts
    /// are fixed text, so the four digests are computed when the binary is built: hashing 33 KB one byte at a
    /// time took more of a run than any other single step of generation (issue 15).
    pub const fn digest(self) -> Digest {
        const DIGESTS: [[u64; 2]; 2] = [
            [
                scripts_digest(ScriptSet {
                    content: false,
                    resources: false,
                }),
                scripts_digest(ScriptSet {
                    content: false,
                    resources: true,
                }),
            ],
            [
                scripts_digest(ScriptSet {
                    content: true,
                    resources: false,
                }),
                scripts_digest(ScriptSet {
                    content: true,
                    resources: true,
                }),
            ],
        ];
        Digest(DIGESTS[self.content as usize][self.resources as usize])
    }
}

/// [`Digest::with`] over a set's scripts, as a `const fn`.
const fn scripts_digest(set: ScriptSet) -> u64 {
    let mut state = FNV_OFFSET_BASIS;
    let mut index = 0;
    while index < SCRIPTS.len() {
        let (name, text, script_use) = SCRIPTS[index];
        if set.has(script_use) {
            state = fnv1a(state, name.as_bytes());
            state = fnv1a(state, &[0]);
            state = fnv1a(state, text.as_bytes());
            state = fnv1a(state, &[0]);
        }
        index += 1;
    }
    state
}

pub fn scripts_config_map(site: &Site) -> ConfigMap {
    ConfigMap {
        metadata: metadata(site, None, names::scripts_config_map(site)),
        data: Some(
            ScriptSet::of(site)
                .scripts()
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
        [ADMIN_SECRET_DIR, "/", ADMIN_PASSWORD_KEY].concat(),
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
                let prefix = ["GATEWAY_NETWORK_", &ordinal.to_string()].concat();
                let key = |suffix: &str| [prefix.as_str(), suffix].concat();
                set(&key("_HOST"), names::pod_host(site, backend, ordinal));
                set(&key("_PORT"), GAN_PORT.to_string());
                set(&key("_ENABLESSL"), "true".to_owned());
                set(
                    &key("_DESCRIPTION"),
                    [backend.kind.component(), " ", names::role(ordinal)].concat(),
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
/// template changes exactly when what the pods read changes. It is fed one ConfigMap at a time, starting
/// from the state of the scripts every tier shares (the longest data), which is built into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Digest(u64);

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a: the state after `bytes` are fed in.
const fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    let mut index = 0;
    while index < bytes.len() {
        // Widening a byte; `u64::from` is not callable in a `const fn`.
        #[allow(clippy::cast_lossless)]
        let byte = bytes[index] as u64;
        state ^= byte;
        state = state.wrapping_mul(FNV_PRIME);
        index += 1;
    }
    state
}

impl Digest {
    /// The digest of nothing: generation starts from the scripts' digest (see [`ScriptSet::digest`]).
    #[cfg(test)]
    pub fn new() -> Self {
        Digest(FNV_OFFSET_BASIS)
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
        self.0 = fnv1a(self.0, bytes);
    }

    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;

    use super::{Digest, ScriptSet, SCRIPTS};

    fn every_set() -> [ScriptSet; 4] {
        [false, true]
            .map(|content| [false, true].map(|resources| ScriptSet { content, resources }))
            .concat()
            .try_into()
            .unwrap_or_else(|_| unreachable!("two times two sets"))
    }

    #[test]
    fn scripts_are_listed_in_key_order() {
        assert!(SCRIPTS.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    /// The digests built into the binary are those of the ConfigMap's data as written, hashed at run time.
    #[test]
    fn built_in_digests_are_those_of_the_config_map_data() {
        let mut seen = Vec::new();
        for set in every_set() {
            let config_map = ConfigMap {
                data: Some(
                    set.scripts()
                        .map(|(name, text)| (name.to_owned(), text.to_owned()))
                        .collect(),
                ),
                ..Default::default()
            };
            let digest = set.digest().hex();
            assert_eq!(digest, Digest::new().with(&config_map).hex(), "{set:?}");
            seen.push(digest);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 4, "each set of scripts has its own digest");
    }
}
