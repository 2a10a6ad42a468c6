//! The Services of a tier: the headless governing Service, one per redundancy role, and the one
//! clients use.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::{self, GAN_PORT, HTTPS_PORT, HTTP_PORT};
use super::{metadata, selector_labels, LABEL_POD_NAME};
use crate::spec::{Site, Tier};

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
/// the scaleout backend.
pub fn client(site: &Site, tier: &Tier) -> Service {
    Service {
        metadata: metadata(site, Some(tier), names::client_service(site, tier)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(selector_labels(site, Some(tier))),
            ports: Some(web_ports()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
