//! The Services of a tier: the headless governing Service, one per redundancy role, and the one
//! clients use.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::{self, GAN_PORT, HTTPS_PORT, HTTP_PORT};
use super::{metadata, selector_labels, LABEL_ACTIVE, LABEL_POD_NAME, STICKY_COOKIE};
use crate::spec::{Site, StickySessions, Tier};

fn port(name: &str, number: i32) -> ServicePort {
    ServicePort {
        name: Some(name.to_owned()),
        port: number,
        target_port: Some(IntOrString::String(name.to_owned())),
        protocol: Some("TCP".to_owned()),
        ..Default::default()
    }
}

fn web_ports() -> Vec<ServicePort> {
    vec![port("http", HTTP_PORT), port("https", HTTPS_PORT)]
}

/// The StatefulSet's governing Service: stable DNS names `<pod>.<service>` for the Gateway Network
/// and redundancy. It publishes pods before they are Ready, since the backup must reach a master
/// that is still starting.
pub fn headless(site: &Site, tier: &Tier) -> Service {
    Service {
        metadata: metadata(site, Some(tier), names::headless_service(site, tier)),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_owned()),
            publish_not_ready_addresses: Some(true),
            selector: Some(selector_labels(site, Some(tier))),
            ports: Some(vec![
                port("http", HTTP_PORT),
                port("https", HTTPS_PORT),
                port("gan", GAN_PORT),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A Service for one node of a redundant pair (`-primary` for the master, `-backup`), so each node's
/// web interface can be reached on its own.
pub fn per_role(site: &Site, tier: &Tier, ordinal: u32) -> Service {
    let mut selector = selector_labels(site, Some(tier));
    selector.insert(LABEL_POD_NAME.to_owned(), names::pod(site, tier, ordinal));
    Service {
        metadata: metadata(site, Some(tier), names::role_service(site, tier, ordinal)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(selector),
            ports: Some(web_ports()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Service clients use: the Ingress's backend for a user-facing tier, the admin entry point of
/// the scaleout backend. For a pair with active-only routing it selects the Active node only.
pub fn client(site: &Site, tier: &Tier) -> Service {
    let mut selector = selector_labels(site, Some(tier));
    if tier.labels_itself {
        selector.insert(LABEL_ACTIVE.to_owned(), "true".to_owned());
    }
    let mut meta = metadata(site, Some(tier), names::client_service(site, tier));
    let traefik = site
        .ingress
        .as_ref()
        .filter(|ingress| ingress.sticky_sessions == StickySessions::Traefik);
    if let Some(ingress) = traefik.filter(|_| tier.serves_users()) {
        // Traefik keeps sessions sticky per Service, by cookie.
        let secure = ingress.tls_secret.is_some().to_string();
        meta.annotations = Some(
            [
                ("traefik.ingress.kubernetes.io/service.sticky.cookie", "true"),
                (
                    "traefik.ingress.kubernetes.io/service.sticky.cookie.name",
                    STICKY_COOKIE,
                ),
                ("traefik.ingress.kubernetes.io/service.sticky.cookie.httponly", "true"),
                ("traefik.ingress.kubernetes.io/service.sticky.cookie.secure", &secure),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        );
    }
    Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(selector),
            ports: Some(web_ports()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
