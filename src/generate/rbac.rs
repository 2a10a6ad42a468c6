//! The ServiceAccounts, and the minimal RBAC of active-only routing: a pair's pods may patch
//! themselves, and nothing else.

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::{metadata, names};
use crate::spec::{Site, Tier};

/// A ServiceAccount that never gets a token mounted by default: the only container that needs one
/// (the labeling sidecar) mounts a projected token of its own.
pub fn service_account(site: &Site, tier: Option<&Tier>) -> ServiceAccount {
    let name = match tier {
        Some(tier) => names::tier_service_account(site, tier),
        None => names::service_account(site),
    };
    ServiceAccount {
        metadata: metadata(site, tier, name),
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}

/// `patch` on the pair's two pods by name: enough to set a label on itself (the sidecar never reads).
/// Kubernetes RBAC cannot narrow a patch to one label; the README says what else it allows.
pub fn labeler_role(site: &Site, tier: &Tier) -> Role {
    Role {
        metadata: metadata(site, Some(tier), names::labeler_role(site, tier)),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".to_owned()]),
            resource_names: Some(
                (0..tier.replicas)
                    .map(|ordinal| names::pod(site, tier, ordinal))
                    .collect(),
            ),
            verbs: vec!["patch".to_owned()],
            ..Default::default()
        }]),
    }
}

pub fn labeler_role_binding(site: &Site, tier: &Tier) -> RoleBinding {
    RoleBinding {
        metadata: metadata(site, Some(tier), names::labeler_role(site, tier)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: names::labeler_role(site, tier),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: names::tier_service_account(site, tier),
            namespace: site.namespace.clone(),
            ..Default::default()
        }]),
    }
}
