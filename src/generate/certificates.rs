//! Gateway Network trust with cert-manager: a self-signed Issuer signs a CA, a CA Issuer signs one
//! certificate per tier, written as a PKCS#12 keystore that the `gan-trust` init container installs.

use super::custom::{
    CaIssuer, Certificate, CertificateSpec, Issuer, IssuerRef, IssuerSpec, Keystores, Pkcs12Keystore, PrivateKey,
    SecretKeyRef, SelfSignedIssuer,
};
use super::{metadata, names};
use crate::spec::{GanCertificateSettings, Site, Tier};

/// Ignition opens its metro keystore with this fixed password (IA's chart, ignition 0.2.1,
/// `scripts/prepare-gan-certificates.sh`: `METRO_KEYSTORE_PASSPHRASE`). It guards nothing: the key
/// is as safe as the Secret that holds it.
pub const METRO_KEYSTORE_PASSWORD: &str = "metro";
/// RSA keys: every JVM reads them in a PKCS#12 keystore.
const KEY_ALGORITHM: &str = "RSA";
const KEY_SIZE: u32 = 2048;

pub fn root_issuer(site: &Site) -> Issuer {
    Issuer::new(
        metadata(site, None, names::gan_root_issuer(site)),
        IssuerSpec {
            self_signed: Some(SelfSignedIssuer {}),
            ..Default::default()
        },
    )
}

pub fn ca_certificate(site: &Site, settings: &GanCertificateSettings) -> Certificate {
    Certificate::new(
        metadata(site, None, names::gan_ca(site)),
        CertificateSpec {
            secret_name: names::gan_ca(site),
            common_name: format!("{} Gateway Network CA", site.name),
            duration: settings.ca_duration.clone(),
            renew_before: settings.ca_renew_before.clone(),
            is_ca: Some(true),
            private_key: private_key(),
            issuer_ref: issuer_ref(names::gan_root_issuer(site)),
            ..Default::default()
        },
    )
}

pub fn ca_issuer(site: &Site) -> Issuer {
    Issuer::new(
        metadata(site, None, names::gan_ca(site)),
        IssuerSpec {
            ca: Some(CaIssuer {
                secret_name: names::gan_ca(site),
            }),
            ..Default::default()
        },
    )
}

/// A tier's certificate, valid for every pod name under its headless Service, for both ends of a
/// Gateway Network connection.
pub fn tier_certificate(site: &Site, tier: &Tier, settings: &GanCertificateSettings) -> Certificate {
    let headless = names::headless_service(site, tier);
    let mut dns_names = vec![headless.clone(), format!("*.{headless}")];
    if let Some(namespace) = &site.namespace {
        dns_names.push(format!("*.{headless}.{namespace}.svc"));
        dns_names.push(format!("*.{headless}.{namespace}.svc.cluster.local"));
    }
    Certificate::new(
        metadata(site, Some(tier), names::gan_certificate(site, tier)),
        CertificateSpec {
            secret_name: names::gan_tls_secret(site, tier),
            common_name: names::statefulset(site, tier),
            dns_names,
            duration: settings.duration.clone(),
            renew_before: settings.renew_before.clone(),
            is_ca: None,
            private_key: private_key(),
            usages: ["digital signature", "key encipherment", "server auth", "client auth"]
                .map(str::to_owned)
                .to_vec(),
            issuer_ref: issuer_ref(names::gan_ca(site)),
            keystores: Some(Keystores {
                pkcs12: Pkcs12Keystore {
                    create: true,
                    password: settings
                        .keystore_password_secret
                        .is_none()
                        .then(|| METRO_KEYSTORE_PASSWORD.to_owned()),
                    password_secret_ref: settings.keystore_password_secret.as_ref().map(|name| SecretKeyRef {
                        name: name.clone(),
                        key: "password".to_owned(),
                    }),
                },
            }),
        },
    )
}

fn private_key() -> PrivateKey {
    PrivateKey {
        algorithm: KEY_ALGORITHM.to_owned(),
        size: KEY_SIZE,
        // A renewal gets a new key, not the old one re-signed.
        rotation_policy: "Always".to_owned(),
    }
}

fn issuer_ref(name: String) -> IssuerRef {
    IssuerRef {
        name,
        kind: "Issuer".to_owned(),
        group: "cert-manager.io".to_owned(),
    }
}
