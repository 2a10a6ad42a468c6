//! The Gateway API HTTPRoute to the user-facing gateways.

use super::custom::{BackendRef, CookieConfig, HttpRoute, HttpRouteRule, HttpRouteSpec, ParentRef, SessionPersistence};
use super::names::{self, HTTP_PORT};
use super::{metadata, STICKY_COOKIE};
use crate::spec::Site;

pub fn http_route(site: &Site) -> Option<HttpRoute> {
    let settings = site.http_route.as_ref()?;
    let tier = site.tiers.iter().find(|tier| tier.serves_users())?;
    Some(HttpRoute::new(
        metadata(site, Some(tier), names::http_route(site)),
        HttpRouteSpec {
            parent_refs: vec![ParentRef {
                name: settings.gateway_name.clone(),
                namespace: settings.gateway_namespace.clone(),
                section_name: settings.section_name.clone(),
            }],
            hostnames: settings.hostnames.clone(),
            rules: vec![HttpRouteRule {
                backend_refs: vec![BackendRef {
                    name: names::client_service(site, tier),
                    port: HTTP_PORT,
                }],
                // Each Perspective session keeps a WebSocket to one gateway.
                session_persistence: settings.session_persistence.then(|| SessionPersistence {
                    session_name: STICKY_COOKIE.to_owned(),
                    type_: "Cookie".to_owned(),
                    cookie_config: CookieConfig {
                        lifetime_type: "Session".to_owned(),
                    },
                }),
            }],
        },
    ))
}
