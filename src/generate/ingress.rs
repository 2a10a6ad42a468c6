//! The user-facing Ingress: to the failover pair, or to the scaleout frontends.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};

use super::{metadata, names, STICKY_COOKIE};
use crate::spec::{Site, StickySessions};

/// ingress-nginx settings for Perspective: every session keeps a WebSocket to the gateway that
/// served its first page, so requests stick to one gateway by cookie, and long-lived WebSockets
/// must not be cut at the default 60 s.
const NGINX_ANNOTATIONS: &[(&str, &str)] = &[
    ("nginx.ingress.kubernetes.io/affinity", "cookie"),
    ("nginx.ingress.kubernetes.io/affinity-mode", "persistent"),
    ("nginx.ingress.kubernetes.io/session-cookie-name", STICKY_COOKIE),
    ("nginx.ingress.kubernetes.io/proxy-read-timeout", "3600"),
    ("nginx.ingress.kubernetes.io/proxy-send-timeout", "3600"),
    ("nginx.ingress.kubernetes.io/proxy-body-size", "0"),
];

pub fn ingress(site: &Site) -> Option<Ingress> {
    let settings = site.ingress.as_ref()?;
    let tier = site.tiers.iter().find(|tier| tier.serves_users())?;
    let defaults = match settings.sticky_sessions {
        StickySessions::Nginx => NGINX_ANNOTATIONS,
        // Traefik's stickiness is set on the Service.
        StickySessions::Traefik | StickySessions::None => &[],
    };
    let mut annotations: BTreeMap<String, String> = defaults
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    // The user's own annotations win over the defaults.
    annotations.extend(settings.annotations.iter().cloned());
    let mut meta = metadata(site, Some(tier), names::ingress(site));
    meta.annotations = (!annotations.is_empty()).then_some(annotations);
    Some(Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: settings.class_name.clone(),
            tls: settings.tls_secret.as_ref().map(|secret| {
                vec![IngressTLS {
                    hosts: Some(vec![settings.host.clone()]),
                    secret_name: Some(secret.clone()),
                }]
            }),
            rules: Some(vec![IngressRule {
                host: Some(settings.host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_owned()),
                        path_type: "Prefix".to_owned(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: names::client_service(site, tier),
                                port: Some(ServiceBackendPort {
                                    name: Some("http".to_owned()),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}
