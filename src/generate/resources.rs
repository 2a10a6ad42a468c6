//! Gateway resources (8.3 configuration as files): one ConfigMap per tier with every declared
//! resource's `config.json` and `resource.json`, a projected volume that lays them out as
//! `<collection>/<module-id>/<type>/<name>/` beside the Secret keys of their secret fields, and the
//! init container that replaces each managed collection under `data/config/resources/` with exactly
//! that set on every start. The layout and the collections are cited in `spec/resources.rs` (IA docs 8.3,
//! "Version and Source Control Guide", "Gateway Deployment Modes", "resource.json File").

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapProjection, Container, KeyToPath, ProjectedVolumeSource, SecretProjection, Volume,
    VolumeProjection,
};

use super::config::{script_path, APPLY_RESOURCES_SCRIPT, SCRIPTS_DIR};
use super::names::{self, DATA_VOLUME};
use super::pod::{container_security_context, mount, pod_name_env, resources, value_env, SECRET_MODE};
use super::statefulset::INIT_DATA_MOUNT;
use super::{metadata, SCRIPTS_VOLUME};
use crate::spec::{serde_name, ResourceItem, Site, Tier};

/// The projected volume of a tier's resources, mounted read-only in the init container only.
pub const RESOURCES_VOLUME: &str = "gateway-resources";
pub const RESOURCES_MOUNT: &str = "/config/gateway-resources";
/// Read-only, for the pod's group (`fsGroup`) like the other Secrets and ConfigMaps here.
const RESOURCE_FILE_MODE: i32 = SECRET_MODE;

/// The resources one tier gets, in path order.
pub fn of_tier<'a>(site: &'a Site, tier: &Tier) -> Vec<&'a ResourceItem> {
    site.gateway_resources
        .iter()
        .filter(|item| item.tiers.is_empty() || item.tiers.contains(&tier.kind))
        .collect()
}

/// ConfigMap keys may hold only `[-._a-zA-Z0-9]`, so a resource's files are keyed by its place in
/// the tier's list; the volume's items give each its real path.
fn key(index: usize, file: &str) -> String {
    format!("{index}.{file}")
}

/// The file the backup node of a pair takes as its `config.json`; never left in the gateway's data.
pub const BACKUP_CONFIG_FILE: &str = "backup-config.json";
/// The file of a resource's secret field `n` (its marker's number); never left in the gateway's data.
pub fn secret_file(index: usize) -> String {
    format!(".secret-{index}")
}

pub fn config_map(site: &Site, tier: &Tier) -> Option<ConfigMap> {
    let items = of_tier(site, tier);
    if items.is_empty() {
        return None;
    }
    let mut data = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        data.insert(key(index, "config.json"), item.config.clone());
        data.insert(key(index, "resource.json"), item.resource_json.clone());
        if let Some(backup) = &item.backup_config {
            data.insert(key(index, BACKUP_CONFIG_FILE), backup.clone());
        }
    }
    Some(ConfigMap {
        metadata: metadata(site, Some(tier), names::resources_config_map(site, tier)),
        data: Some(data),
        ..Default::default()
    })
}

pub fn volume(site: &Site, tier: &Tier) -> Option<Volume> {
    let items = of_tier(site, tier);
    if items.is_empty() {
        return None;
    }
    let mut files = Vec::new();
    let mut secrets: BTreeMap<&str, Vec<KeyToPath>> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let dir = item.path();
        let file = |name: &str| KeyToPath {
            key: key(index, name),
            path: [dir.as_str(), "/", name].concat(),
            ..Default::default()
        };
        files.push(file("config.json"));
        files.push(file("resource.json"));
        if item.backup_config.is_some() {
            files.push(file(BACKUP_CONFIG_FILE));
        }
        for (number, secret) in item.secrets.iter().enumerate() {
            secrets.entry(&secret.secret_name).or_default().push(KeyToPath {
                key: secret.key.clone(),
                path: format!("{dir}/{}", secret_file(number)),
                ..Default::default()
            });
        }
    }
    let mut sources = vec![VolumeProjection {
        config_map: Some(ConfigMapProjection {
            name: names::resources_config_map(site, tier),
            items: Some(files),
            ..Default::default()
        }),
        ..Default::default()
    }];
    sources.extend(secrets.into_iter().map(|(secret, items)| VolumeProjection {
        secret: Some(SecretProjection {
            name: secret.to_owned(),
            items: Some(items),
            ..Default::default()
        }),
        ..Default::default()
    }));
    Some(Volume {
        name: RESOURCES_VOLUME.to_owned(),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(RESOURCE_FILE_MODE),
            sources: Some(sources),
        }),
        ..Default::default()
    })
}

/// Runs after every other init container (the data volume is seeded and any backup restored), so
/// the declared set is what the gateway starts with.
pub fn init_container(site: &Site, tier: &Tier) -> Option<Container> {
    let items = of_tier(site, tier);
    if items.is_empty() {
        return None;
    }
    let mut collections: Vec<&str> = items.iter().map(|item| item.collection.as_str()).collect();
    collections.sort_unstable();
    collections.dedup();
    Some(Container {
        name: "apply-resources".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        command: Some(vec![script_path(APPLY_RESOURCES_SCRIPT)]),
        env: Some(vec![
            pod_name_env(),
            value_env("DATA_VOLUME", INIT_DATA_MOUNT),
            value_env("RESOURCES_SOURCE", RESOURCES_MOUNT),
            value_env("RESOURCE_COLLECTIONS", &collections.join(" ")),
            value_env(
                "REDUNDANCY_MODE",
                if tier.is_redundant() { "pair" } else { "independent" },
            ),
        ]),
        resources: Some(resources("250m", "256Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(vec![
            mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
            mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
            mount(RESOURCES_VOLUME, RESOURCES_MOUNT, true),
        ]),
        ..Default::default()
    })
}
