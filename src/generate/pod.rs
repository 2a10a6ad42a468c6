//! What every container and pod of the site shares: the restricted security context, Guaranteed
//! resources, Secret volumes, mounts and environment variables. Used by the StatefulSet, the sidecars
//! and the per-tier options alike.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, EnvVar, EnvVarSource, KeyToPath, ObjectFieldSelector, ResourceRequirements, SeccompProfile,
    SecretVolumeSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Read for owner and group: the pod's fsGroup lets the gateway read its Secrets, nobody else.
pub(super) const SECRET_MODE: i32 = 0o440;

pub(super) fn secret_volume(volume: &str, secret: &str, keys: &[&str]) -> Volume {
    Volume {
        name: volume.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(SECRET_MODE),
            items: Some(
                keys.iter()
                    .map(|key| KeyToPath {
                        key: (*key).to_owned(),
                        path: (*key).to_owned(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(super) fn mount(volume: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// Requests equal limits: Guaranteed QoS, and the JVM heap follows the memory limit.
pub(super) fn resources(cpu: &str, memory: &str) -> ResourceRequirements {
    let amounts = BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu.to_owned())),
        ("memory".to_owned(), Quantity(memory.to_owned())),
    ]);
    ResourceRequirements {
        limits: Some(amounts.clone()),
        requests: Some(amounts),
        ..Default::default()
    }
}

/// What the Pod Security Standard "restricted" asks of every container.
pub(super) fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Default::default()
        }),
        run_as_non_root: Some(true),
        seccomp_profile: Some(runtime_default_seccomp()),
        ..Default::default()
    }
}

pub(super) fn runtime_default_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        ..Default::default()
    }
}

pub(super) fn pod_name_env() -> EnvVar {
    field_env("POD_NAME", "metadata.name")
}

/// An environment variable from the downward API.
pub(super) fn field_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(super) fn value_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..Default::default()
    }
}
