//! The `fetch-content` init container: the projects and third-party modules a tier gets, each
//! downloaded, checked against its pinned SHA-256 (and a module against its declared ID) and put
//! in place before the gateway starts. The pins are in the container's environment, so a new pin
//! changes the pod template and rolls the tier (Backup first, as every rollout).

use k8s_openapi::api::core::v1::{Container, EmptyDirVolumeSource, EnvVar, Volume, VolumeMount};

use super::config::{FETCH_CONTENT_SCRIPT, SCRIPTS_DIR};
use super::names::DATA_VOLUME;
use super::statefulset::{container_security_context, mount, resources, value_env, INIT_DATA_MOUNT};
use super::SCRIPTS_VOLUME;
use crate::spec::{Site, Tier};

/// The emptyDir the checked `.modl` files wait in; the gateway mounts each file from it.
pub const MODULES_VOLUME: &str = "third-party-modules";
const MODULES_MOUNT: &str = "/modules";
/// Where the image loads modules from: `user-lib/modules` of the install directory
/// (`inductiveautomation/ignition-helm-chart` 0.2.1, `scripts/docker-entrypoint-shim.sh`).
const IMAGE_MODULES_DIR: &str = "/usr/local/bin/ignition/user-lib/modules";

/// The module's file name: its ID, which the spec limits to letters, digits, '.', '_' and '-'.
fn module_file(id: &str) -> String {
    format!("{id}.modl")
}

/// Fetches the tier's projects and modules, if it has any.
pub fn fetch_content(site: &Site, tier: &Tier) -> Option<Container> {
    let projects = site.content.projects_of(tier.kind);
    let modules = site.content.modules_of(tier.kind);
    if projects.is_empty() && modules.is_empty() {
        return None;
    }
    let mut env = vec![
        value_env("DATA_VOLUME", INIT_DATA_MOUNT),
        value_env("MODULES_DIR", MODULES_MOUNT),
        // A module that needs a newer Ignition than this image is refused before the gateway starts.
        value_env("IGNITION_VERSION", &site.version),
        value_env("PROJECT_COUNT", &projects.len().to_string()),
    ];
    for (index, project) in projects.iter().enumerate() {
        env.push(indexed("PROJECT", index, "NAME", &project.name));
        env.push(indexed("PROJECT", index, "URL", &project.url));
        env.push(indexed("PROJECT", index, "SHA256", &project.sha256));
        env.push(indexed("PROJECT", index, "PATH", &project.path));
    }
    env.push(value_env("MODULE_COUNT", &modules.len().to_string()));
    for (index, module) in modules.iter().enumerate() {
        env.push(indexed("MODULE", index, "ID", &module.id));
        env.push(indexed("MODULE", index, "URL", &module.url));
        env.push(indexed("MODULE", index, "SHA256", &module.sha256));
    }
    let mut mounts = vec![
        mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
        mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
    ];
    if !modules.is_empty() {
        mounts.push(mount(MODULES_VOLUME, MODULES_MOUNT, false));
    }
    Some(Container {
        name: "fetch-content".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(site.pull_policy.to_owned()),
        command: Some(vec![format!("{SCRIPTS_DIR}/{FETCH_CONTENT_SCRIPT}")]),
        env: Some(env),
        resources: Some(resources("500m", "512Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(mounts),
        ..Default::default()
    })
}

fn indexed(kind: &str, index: usize, field: &str, value: &str) -> EnvVar {
    value_env(&format!("{kind}_{index}_{field}"), value)
}

/// The emptyDir of the checked modules, if the tier loads any.
pub fn modules_volume(site: &Site, tier: &Tier) -> Option<Volume> {
    (!site.content.modules_of(tier.kind).is_empty()).then(|| Volume {
        name: MODULES_VOLUME.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    })
}

/// Each checked module, mounted as one file into the image's module directory: the image's own
/// modules there stay visible.
pub fn module_mounts(site: &Site, tier: &Tier) -> Vec<VolumeMount> {
    site.content
        .modules_of(tier.kind)
        .into_iter()
        .map(|module| VolumeMount {
            name: MODULES_VOLUME.to_owned(),
            mount_path: format!("{IMAGE_MODULES_DIR}/{}", module_file(&module.id)),
            sub_path: Some(module_file(&module.id)),
            read_only: Some(true),
            ..Default::default()
        })
        .collect()
}
