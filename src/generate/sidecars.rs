//! The containers beside a gateway: the sidecar that labels a pair's Active node, and the optional
//! init steps (Gateway Network trust, fetching and preparing a backup), with the volumes they need.

use k8s_openapi::api::core::v1::{
    ConfigMapProjection, Container, DownwardAPIProjection, DownwardAPIVolumeFile, KeyToPath, ObjectFieldSelector,
    PersistentVolumeClaimVolumeSource, ProjectedVolumeSource, ServiceAccountTokenProjection, Volume, VolumeMount,
    VolumeProjection,
};

use super::config::{
    script_path, FETCH_BACKUP_SCRIPT, GAN_TRUST_SCRIPT, LABEL_ACTIVE_SCRIPT, PREPARE_BACKUP_SCRIPT, SCRIPTS_DIR,
};
use super::names::{self, DATA_VOLUME, HTTP_PORT};
use super::pod::{container_security_context, field_env, mount, pod_name_env, resources, secret_volume, value_env};
use super::statefulset::{version_line, DATA_DIR, INIT_DATA_MOUNT};
use super::{LABEL_ACTIVE, SCRIPTS_VOLUME};
use crate::spec::{serde_name, GanCertificateSettings, RestoreSettings, RestoreSource, Site, Tier};

/// Where Kubernetes clients look for a service-account token; mounted into the sidecar only.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const API_ACCESS_VOLUME: &str = "kube-api-access";
/// A token lives an hour; the kubelet renews it and the sidecar reads it again for every request.
const TOKEN_SECONDS: i64 = 3600;

const GAN_TLS_VOLUME: &str = "gan-tls";
const GAN_TLS_DIR: &str = "/run/secrets/ignition/gan";
const GAN_PASSWORD_VOLUME: &str = "gan-keystore-password";
const GAN_PASSWORD_DIR: &str = "/run/secrets/ignition/gan-keystore-password";

const RESTORE_VOLUME: &str = "restore";
const RESTORE_MOUNT: &str = "/restore";
/// A downloaded backup lives on the data volume.
const DOWNLOADED_BACKUP: &str = "restore.gwbk";
/// The copy of the backup that carries the pod's own role and trust: the one the gateway restores.
const PREPARED_BACKUP: &str = "restore-prepared.gwbk";

/// The sidecar that sets `ignition.krm.dev/active` on its own pod from `/system/gwinfo`.
pub fn role_labeler(site: &Site) -> Container {
    Container {
        name: "role-labeler".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        command: Some(vec![script_path(LABEL_ACTIVE_SCRIPT)]),
        env: Some(vec![
            pod_name_env(),
            field_env("POD_NAMESPACE", "metadata.namespace"),
            value_env("GATEWAY_HTTP_PORT", &HTTP_PORT.to_string()),
            value_env("ACTIVE_LABEL", LABEL_ACTIVE),
            // A node is labelled after two equal answers a second apart: a failover reaches users
            // within about two seconds of the gateway's own switch, and a single odd answer never.
            value_env("POLL_SECONDS", "1"),
            value_env("DEBOUNCE", "2"),
        ]),
        resources: Some(resources("50m", "64Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(vec![
            mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
            mount(API_ACCESS_VOLUME, SERVICE_ACCOUNT_DIR, true),
        ]),
        ..Default::default()
    }
}

/// The token, CA and namespace the sidecar needs, as the kubelet's default mount would give them,
/// but mounted into that one container.
pub fn api_access_volume() -> Volume {
    let file = |key: &str| KeyToPath {
        key: key.to_owned(),
        path: key.to_owned(),
        ..Default::default()
    };
    Volume {
        name: API_ACCESS_VOLUME.to_owned(),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(0o444),
            sources: Some(vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        path: "token".to_owned(),
                        expiration_seconds: Some(TOKEN_SECONDS),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: "kube-root-ca.crt".to_owned(),
                        items: Some(vec![file("ca.crt")]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardAPIProjection {
                        items: Some(vec![DownwardAPIVolumeFile {
                            path: "namespace".to_owned(),
                            field_ref: Some(ObjectFieldSelector {
                                field_path: "metadata.namespace".to_owned(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }]),
                    }),
                    ..Default::default()
                },
            ]),
        }),
        ..Default::default()
    }
}

/// Installs the tier's Gateway Network keystore and the CA into the data volume before each start.
pub fn gan_trust(site: &Site, settings: &GanCertificateSettings) -> Container {
    let mut env = vec![
        value_env("DATA_VOLUME", INIT_DATA_MOUNT),
        value_env("IGNITION_VERSION_LINE", version_line(site.version_line)),
        value_env("GAN_TLS_DIR", GAN_TLS_DIR),
        value_env("GAN_CA_NAME", &names::gan_ca(site)),
    ];
    let mut mounts = vec![
        mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
        mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
        mount(GAN_TLS_VOLUME, GAN_TLS_DIR, true),
    ];
    if settings.keystore_password_secret.is_some() {
        env.push(value_env(
            "GAN_KEYSTORE_PASSWORD_FILE",
            &format!("{GAN_PASSWORD_DIR}/password"),
        ));
        mounts.push(mount(GAN_PASSWORD_VOLUME, GAN_PASSWORD_DIR, true));
    }
    Container {
        name: "gan-trust".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        command: Some(vec![script_path(GAN_TRUST_SCRIPT)]),
        env: Some(env),
        resources: Some(resources("500m", "512Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(mounts),
        ..Default::default()
    }
}

pub fn gan_volumes(site: &Site, tier: &Tier, settings: &GanCertificateSettings) -> Vec<Volume> {
    let mut volumes = vec![secret_volume(
        GAN_TLS_VOLUME,
        &names::gan_tls_secret(site, tier),
        &["keystore.p12", "ca.crt"],
    )];
    if let Some(secret) = &settings.keystore_password_secret {
        volumes.push(secret_volume(GAN_PASSWORD_VOLUME, secret, &["password"]));
    }
    volumes
}

/// The path the gateway's `-r` argument names: the prepared copy on the data volume.
pub fn backup_path() -> String {
    [DATA_DIR, "/", PREPARED_BACKUP].concat()
}

/// Downloads a backup given by URL onto the data volume.
pub fn fetch_backup(site: &Site, restore: &RestoreSettings) -> Option<Container> {
    let RestoreSource::Url { url, sha256 } = &restore.source else {
        return None;
    };
    Some(Container {
        name: "fetch-backup".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        command: Some(vec![script_path(FETCH_BACKUP_SCRIPT)]),
        env: Some(vec![
            value_env("RESTORE_URL", url),
            value_env("RESTORE_SHA256", sha256),
            value_env("RESTORE_FILE", &[INIT_DATA_MOUNT, "/", DOWNLOADED_BACKUP].concat()),
        ]),
        resources: Some(resources("500m", "256Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(vec![
            mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
            mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
        ]),
        ..Default::default()
    })
}

/// Writes the pod's redundancy role and trust into a copy of the backup, after `prepare-data` and
/// `gan-trust` wrote them on the volume: the restore then keeps them.
pub fn prepare_backup(site: &Site, restore: &RestoreSettings) -> Container {
    let source = match &restore.source {
        RestoreSource::Url { .. } => [INIT_DATA_MOUNT, "/", DOWNLOADED_BACKUP].concat(),
        RestoreSource::VolumeClaim { path, .. } => [RESTORE_MOUNT, "/", path].concat(),
    };
    let mut env = vec![
        value_env("DATA_VOLUME", INIT_DATA_MOUNT),
        value_env("IGNITION_VERSION_LINE", version_line(site.version_line)),
        value_env("BACKUP_SOURCE", &source),
        value_env("BACKUP_TARGET", &[INIT_DATA_MOUNT, "/", PREPARED_BACKUP].concat()),
    ];
    if site.gateway_network.certificates.is_some() {
        env.push(value_env("GAN_CA_NAME", &names::gan_ca(site)));
    }
    let mut mounts = vec![
        mount(DATA_VOLUME, INIT_DATA_MOUNT, false),
        mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true),
    ];
    if let Some((_, restore_mount)) = restore_volume(restore) {
        mounts.push(restore_mount);
    }
    Container {
        name: "prepare-backup".to_owned(),
        image: Some(site.image.clone()),
        image_pull_policy: Some(serde_name(&site.pull_policy)),
        command: Some(vec![script_path(PREPARE_BACKUP_SCRIPT)]),
        env: Some(env),
        resources: Some(resources("500m", "256Mi")),
        security_context: Some(container_security_context()),
        volume_mounts: Some(mounts),
        ..Default::default()
    }
}

/// A backup on a volume: the claim, mounted read-only into the `prepare-backup` init container.
pub fn restore_volume(restore: &RestoreSettings) -> Option<(Volume, VolumeMount)> {
    let RestoreSource::VolumeClaim { claim, .. } = &restore.source else {
        return None;
    };
    let volume = Volume {
        name: RESTORE_VOLUME.to_owned(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.clone(),
            read_only: Some(true),
        }),
        ..Default::default()
    };
    Some((volume, mount(RESTORE_VOLUME, RESTORE_MOUNT, true)))
}
