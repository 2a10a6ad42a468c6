//! Objects of custom resource definitions the site uses (cert-manager, Gateway API), as serde
//! structs of our own: k8s-openapi has only the built-in kinds.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// Declares a custom resource (`apiVersion`, `kind`, `metadata`, `spec`) and implements
/// k8s-openapi's `Resource` and `Metadata` for it, so that it goes through the same path as the
/// built-in objects.
macro_rules! custom_resource {
    ($(#[$doc:meta])* $type:ident($spec:ty), $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $type {
            api_version: &'static str,
            kind: &'static str,
            pub metadata: ObjectMeta,
            pub spec: $spec,
        }

        impl $type {
            pub fn new(metadata: ObjectMeta, spec: $spec) -> Self {
                $type {
                    api_version: <$type as k8s_openapi::Resource>::API_VERSION,
                    kind: <$type as k8s_openapi::Resource>::KIND,
                    metadata,
                    spec,
                }
            }
        }

        impl k8s_openapi::Resource for $type {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }

        impl k8s_openapi::Metadata for $type {
            type Ty = ObjectMeta;

            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

// The fleet objects (`crate::fleet`) are declared the same way.
pub(crate) use custom_resource;

custom_resource!(
    /// cert-manager's `Issuer`: self-signed, or a CA from a Secret.
    Issuer(IssuerSpec), "cert-manager.io", "v1", "Issuer", "issuers"
);
custom_resource!(
    /// cert-manager's `Certificate`.
    Certificate(CertificateSpec), "cert-manager.io", "v1", "Certificate", "certificates"
);
custom_resource!(
    /// Gateway API `HTTPRoute`.
    HttpRoute(HttpRouteSpec), "gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<SelfSignedIssuer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaIssuer>,
}

/// `selfSigned: {}` has no fields; the empty map is what cert-manager expects.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SelfSignedIssuer {}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    pub secret_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    pub secret_name: String,
    pub common_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    pub duration: String,
    pub renew_before: String,
    // cert-manager spells it isCA, not camelCase.
    #[serde(rename = "isCA", skip_serializing_if = "Option::is_none")]
    pub is_ca: Option<bool>,
    pub private_key: PrivateKey,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<String>,
    pub issuer_ref: IssuerRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keystores: Option<Keystores>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKey {
    pub algorithm: String,
    pub size: u32,
    pub rotation_policy: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IssuerRef {
    pub name: String,
    pub kind: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keystores {
    pub pkcs12: Pkcs12Keystore,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pkcs12Keystore {
    pub create: bool,
    /// A literal password (cert-manager 1.21's `password`), exclusive with `password_secret_ref`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<SecretKeyRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<HttpRouteRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    pub backend_refs: Vec<BackendRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_persistence: Option<SessionPersistence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendRef {
    pub name: String,
    pub port: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionPersistence {
    pub session_name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub cookie_config: CookieConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CookieConfig {
    pub lifetime_type: String,
}
