//! The names of generated objects, in one place: a StatefulSet's `serviceName` and
//! `volumeClaimTemplates` are immutable, so these must never change for a given site.

use crate::spec::{Site, Tier};

/// The HTTP, HTTPS and Gateway Network ports of the image.
pub const HTTP_PORT: i32 = 8088;
pub const HTTPS_PORT: i32 = 8043;
pub const GAN_PORT: i32 = 8060;

/// The name of the data volume claim template.
pub const DATA_VOLUME: &str = "data";

pub fn service_account(site: &Site) -> String {
    site.name.clone()
}

pub fn scripts_config_map(site: &Site) -> String {
    [&site.name, "-scripts"].concat()
}

pub fn statefulset(site: &Site, tier: &Tier) -> String {
    [&site.name, "-", tier.kind.component()].concat()
}

pub fn environment_config_map(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier) + "-env"
}

/// The 8.3 gateway resources of a tier (`GatewayResource` items).
pub fn resources_config_map(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier) + "-resources"
}

/// The governing Service of a StatefulSet.
pub fn headless_service(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier) + "-headless"
}

/// The Service that clients of a tier use: users for a user-facing tier, admins for the backend.
pub fn client_service(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier)
}

/// `primary` for ordinal 0 (the master), `backup` for ordinal 1.
pub fn role(ordinal: u32) -> &'static str {
    if ordinal == 0 {
        "primary"
    } else {
        "backup"
    }
}

pub fn role_service(site: &Site, tier: &Tier, ordinal: u32) -> String {
    statefulset(site, tier) + "-" + role(ordinal)
}

pub fn pod(site: &Site, tier: &Tier, ordinal: u32) -> String {
    statefulset(site, tier) + "-" + &ordinal.to_string()
}

/// A pod's stable DNS name inside the namespace, through the headless Service.
pub fn pod_host(site: &Site, tier: &Tier, ordinal: u32) -> String {
    pod(site, tier, ordinal) + "." + &headless_service(site, tier)
}

pub fn ingress(site: &Site) -> String {
    site.name.clone()
}

/// The ServiceAccount of a tier whose pods label themselves (active-only routing).
pub fn tier_service_account(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier)
}

/// The Role and RoleBinding that let a pair's pods set their own active label.
pub fn labeler_role(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier) + "-labeler"
}

/// The self-signed Issuer that signs the Gateway Network CA.
pub fn gan_root_issuer(site: &Site) -> String {
    [&site.name, "-gan-selfsigned"].concat()
}

/// The Gateway Network CA: its Certificate, its Secret and the Issuer that signs with it.
pub fn gan_ca(site: &Site) -> String {
    [&site.name, "-gan-ca"].concat()
}

/// A tier's Gateway Network Certificate.
pub fn gan_certificate(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier) + "-gan"
}

/// The Secret with a tier's keystore (`keystore.p12`) and the CA (`ca.crt`).
pub fn gan_tls_secret(site: &Site, tier: &Tier) -> String {
    statefulset(site, tier) + "-gan-tls"
}

pub fn http_route(site: &Site) -> String {
    site.name.clone()
}
