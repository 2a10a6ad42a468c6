//! The `fetch-content` init container: the projects and third-party modules a tier gets, each
//! downloaded, checked against its pinned SHA-256 (and a module against its declared ID) and put
//! in place before the gateway starts. The pins are in the container's environment, so a new pin
//! changes the pod template and rolls the tier (Backup first, as every rollout).

use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaimVolumeSource, Volume, VolumeMount,
};

use super::config::{script_path, FETCH_CONTENT_SCRIPT, SCRIPTS_DIR};
use super::names::DATA_VOLUME;
use super::pod::{container_security_context, mount, resources, value_env};
use super::statefulset::INIT_DATA_MOUNT;
use super::SCRIPTS_VOLUME;
use crate::spec::{ModuleSource, Site, Tier};

/// The emptyDir the checked `.modl` files wait in; the gateway mounts each file from it.
pub const MODULES_VOLUME: &str = "third-party-modules";
const MODULES_MOUNT: &str = "/modules";
/// The claim holding `.modl` files, mounted read-only into the init container only.
pub const MODULE_FILES_VOLUME: &str = "module-files";
const MODULE_FILES_MOUNT: &str = "/module-files";
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
        match &module.source {
            ModuleSource::Url(url) => env.push(indexed("MODULE", index, "URL", url)),
            ModuleSource::Volume(path) => env.push(indexed(
                "MODULE",
                index,
                "FILE",
                &[MODULE_FILES_MOUNT, "/", path].concat(),
            )),
        }
        env.push(indexed("MODULE", index, "SHA256", &module.sha256));
    }
    let mut mounts = vec![
        mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
        mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
    ];
    if !modules.is_empty() {
        mounts.push(mount(MODULES_VOLUME, MODULES_MOUNT, false));
    }
    if modules
        .iter()
        .any(|module| matches!(module.source, ModuleSource::Volume(_)))
    {
        mounts.push(mount(MODULE_FILES_VOLUME, MODULE_FILES_MOUNT, true));
    }
    Some(Container {
        name: "fetch-content".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(crate::spec::serde_name(&site.pull_policy)),
        command: Some(vec![script_path(FETCH_CONTENT_SCRIPT)]),
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

/// The emptyDir of the checked modules, if the tier loads any, and the claim of the modules that
/// come from a volume, if any of the tier's do.
pub fn modules_volumes(site: &Site, tier: &Tier) -> Vec<Volume> {
    let modules = site.content.modules_of(tier.kind);
    let mut volumes = Vec::new();
    if !modules.is_empty() {
        volumes.push(Volume {
            name: MODULES_VOLUME.to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
    }
    let from_volume = modules
        .iter()
        .any(|module| matches!(module.source, ModuleSource::Volume(_)));
    if let (true, Some(claim)) = (from_volume, &site.content.module_claim) {
        volumes.push(Volume {
            name: MODULE_FILES_VOLUME.to_owned(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.clone(),
                read_only: Some(true),
            }),
            ..Default::default()
        });
    }
    volumes
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
