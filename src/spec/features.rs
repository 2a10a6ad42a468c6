//! Resolution of the optional features around a redundant site: Gateway Network certificates,
//! the Gateway API route, and restoring a gateway backup.

use super::site::{check_dns_label, check_dns_subdomain, is_dns_subdomain};
use super::types::{BackupSource, CertificateSource, GanCertificates, GanTrust, HttpRoute, Restore, Rotation};
use super::{FieldPath, Problem};

/// Gateway Network TLS from a shared CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GanCertificateSettings {
    /// Generate the CA and the tier certificates with cert-manager; otherwise the Secrets exist.
    pub cert_manager: bool,
    /// A Secret holding the keystore password; without it cert-manager writes the literal `metro`.
    pub keystore_password_secret: Option<String>,
    pub duration: String,
    pub renew_before: String,
    pub ca_duration: String,
    pub ca_renew_before: String,
    /// Roll the StatefulSets when a tier's certificate Secret changes (Stakater Reloader).
    pub reloader: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRouteSettings {
    pub hostnames: Vec<String>,
    pub gateway_name: String,
    pub gateway_namespace: Option<String>,
    pub section_name: Option<String>,
    pub session_persistence: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreSource {
    /// Downloaded over HTTPS and checked against its SHA-256.
    Url { url: String, sha256: String },
    /// A file on an existing volume, mounted read-only.
    VolumeClaim { claim: String, path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSettings {
    pub source: RestoreSource,
    /// scaleout: the frontends restore the same backup.
    pub frontends: bool,
}

/// A year, as the three reference deployments issue them (IGNITION.md, "Gateway Network trust").
const DEFAULT_DURATION: &str = "8760h";
const DEFAULT_RENEW_BEFORE: &str = "720h";
const DEFAULT_CA_DURATION: &str = "87600h";
/// The CA is renewed this long before it expires (a third of its life when that is shorter).
const CA_RENEW_BEFORE_SECONDS: u64 = 720 * 3600;
/// A week: every renewal rolls the gateways (with Reloader), so a shorter life means restarts.
const MINIMUM_DURATION_SECONDS: u64 = 168 * 3600;
/// A hundred years.
const MAXIMUM_CA_DURATION_SECONDS: u64 = 876_000 * 3600;

/// The trust settings: `None` for `trust: manual` (no CA: connections are approved by hand).
pub fn resolve_certificates(
    trust: Option<GanTrust>,
    certificates: Option<&GanCertificates>,
    problems: &mut Vec<Problem>,
) -> Option<GanCertificateSettings> {
    let path = FieldPath::spec().field("gatewayNetwork").field("certificates");
    let source = certificates.and_then(|certificates| certificates.source);
    let trust = match (trust, source) {
        (Some(trust), Some(source)) => {
            let agrees = matches!(
                (trust, source),
                (GanTrust::CertManager, CertificateSource::CertManager) | (GanTrust::Secret, CertificateSource::Secret)
            );
            if !agrees {
                problems.push(Problem::new(
                    path.field("source"),
                    "disagrees with spec.gatewayNetwork.trust, which replaces it: remove source",
                ));
            }
            trust
        }
        (Some(trust), None) => trust,
        (None, Some(CertificateSource::Secret)) => GanTrust::Secret,
        (None, _) => GanTrust::CertManager,
    };
    if trust == GanTrust::Manual {
        if certificates.is_some() {
            problems.push(Problem::new(
                path,
                "is only read with a CA (trust certManager or secret); trust manual has no certificates",
            ));
        }
        return None;
    }
    let certificates = certificates.cloned().unwrap_or_default();
    if let Some(secret) = &certificates.keystore_password_secret {
        check_dns_subdomain(path.field("keystorePasswordSecret").as_str(), secret, problems);
    }
    let cert_manager = trust == GanTrust::CertManager;
    if !cert_manager {
        for (field, given) in [
            ("duration", &certificates.duration),
            ("renewBefore", &certificates.renew_before),
            ("caDuration", &certificates.ca_duration),
        ] {
            if given.is_some() {
                problems.push(Problem::new(
                    path.field(field),
                    "is only read with trust certManager: with trust secret the Secrets' own certificates count",
                ));
            }
        }
    }
    let text = |given: &Option<String>, default: &str| given.clone().unwrap_or_else(|| default.to_owned());
    let duration = text(&certificates.duration, DEFAULT_DURATION);
    let renew_before = text(&certificates.renew_before, DEFAULT_RENEW_BEFORE);
    let ca_duration = text(&certificates.ca_duration, DEFAULT_CA_DURATION);
    let duration_seconds = go_duration_seconds(path.field("duration").as_str(), &duration, problems);
    let renew_seconds = go_duration_seconds(path.field("renewBefore").as_str(), &renew_before, problems);
    let ca_seconds = go_duration_seconds(path.field("caDuration").as_str(), &ca_duration, problems);
    if let Some(duration_seconds) = duration_seconds {
        if duration_seconds < MINIMUM_DURATION_SECONDS {
            problems.push(
                Problem::new(
                    path.field("duration"),
                    "must be at least 168h (a week): each renewal restarts the gateways",
                )
                .current(&duration)
                .proposed(DEFAULT_DURATION),
            );
        }
        if renew_seconds.is_some_and(|renew| renew == 0 || renew >= duration_seconds) {
            problems.push(
                Problem::new(
                    path.field("renewBefore"),
                    format!("must be more than 0 and less than the duration {duration}"),
                )
                .current(&renew_before),
            );
        }
        if ca_seconds.is_some_and(|ca| ca <= duration_seconds) {
            problems.push(
                Problem::new(
                    path.field("caDuration"),
                    format!("must be more than the duration {duration}: the CA outlives the certificates it signs"),
                )
                .current(&ca_duration)
                .proposed(DEFAULT_CA_DURATION),
            );
        }
    }
    if ca_seconds.is_some_and(|ca| ca > MAXIMUM_CA_DURATION_SECONDS) {
        problems.push(
            Problem::new(path.field("caDuration"), "must be at most 876000h (a hundred years)")
                .current(&ca_duration)
                .proposed(DEFAULT_CA_DURATION),
        );
    }
    let ca_renew_before = match ca_seconds {
        Some(ca) if ca / 3 < CA_RENEW_BEFORE_SECONDS => format!("{}s", ca / 3),
        _ => format!("{}h", CA_RENEW_BEFORE_SECONDS / 3600),
    };
    let reloader = match certificates.rotation.unwrap_or(Rotation::Reloader) {
        Rotation::Reloader => true,
        Rotation::Manual => false,
        Rotation::None => {
            problems.push(
                Problem::new(path.field("rotation"), "none is now called manual")
                    .current("none")
                    .proposed("manual"),
            );
            false
        }
    };
    Some(GanCertificateSettings {
        cert_manager,
        keystore_password_secret: certificates.keystore_password_secret.clone(),
        duration,
        renew_before,
        ca_duration,
        ca_renew_before,
        reloader,
    })
}

/// Seconds of a Go duration made of hours, minutes and seconds (`2160h`, `1h30m`), as cert-manager
/// reads them.
fn go_duration_seconds(path: &str, text: &str, problems: &mut Vec<Problem>) -> Option<u64> {
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' if digits.len() < 9 => digits.push(c),
            'h' | 'm' | 's' if !digits.is_empty() => {
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                total += digits.parse::<u64>().unwrap_or(0) * unit;
                digits.clear();
            }
            _ => {
                digits.clear();
                total = u64::MAX;
                break;
            }
        }
    }
    if text.is_empty() || !digits.is_empty() || total == u64::MAX {
        problems.push(Problem::new(path, format!("{text:?} is not a duration such as 2160h or 1h30m")).current(text));
        return None;
    }
    Some(total)
}

pub fn resolve_http_route(route: &HttpRoute, problems: &mut Vec<Problem>) -> HttpRouteSettings {
    let path = FieldPath::spec().field("httpRoute");
    if route.hostnames.is_empty() {
        problems.push(Problem::new(
            path.field("hostnames"),
            "must list at least one host name",
        ));
    }
    for (index, host) in route.hostnames.iter().enumerate() {
        if !is_dns_subdomain(host.strip_prefix("*.").unwrap_or(host)) {
            problems.push(
                Problem::new(
                    path.field("hostnames").index(index),
                    format!("{host:?} is not a DNS name"),
                )
                .current(host),
            );
        }
    }
    check_dns_subdomain(
        path.field("gateway").field("name").as_str(),
        &route.gateway.name,
        problems,
    );
    if let Some(namespace) = &route.gateway.namespace {
        check_dns_label(path.field("gateway").field("namespace").as_str(), namespace, problems);
    }
    if let Some(section) = &route.gateway.section_name {
        check_dns_subdomain(path.field("gateway").field("sectionName").as_str(), section, problems);
    }
    HttpRouteSettings {
        hostnames: route.hostnames.clone(),
        gateway_name: route.gateway.name.clone(),
        gateway_namespace: route.gateway.namespace.clone(),
        section_name: route.gateway.section_name.clone(),
        session_persistence: route.session_persistence.unwrap_or(false),
    }
}

pub fn resolve_restore(restore: &Restore, problems: &mut Vec<Problem>) -> Option<RestoreSettings> {
    // A frontend restoring the backend's backup would replay its device connections, historian,
    // transaction groups and gateway scripts: duplicated PLC sessions and database writes.
    let frontends = restore.frontends.unwrap_or(false);
    let source = BackupSource {
        url: restore.url.clone(),
        sha256: restore.sha256.clone(),
        volume_claim: restore.volume_claim.clone(),
        path: restore.path.clone(),
    };
    resolve_source(&FieldPath::spec().field("restore"), &source, problems)
        .map(|source| RestoreSettings { source, frontends })
}

/// The frontends' own backup (`spec.frontend.restore`).
pub fn resolve_frontend_restore(source: &BackupSource, problems: &mut Vec<Problem>) -> Option<RestoreSettings> {
    resolve_source(&FieldPath::spec().field("frontend").field("restore"), source, problems).map(|source| {
        RestoreSettings {
            source,
            frontends: true,
        }
    })
}

fn resolve_source(path: &FieldPath, restore: &BackupSource, problems: &mut Vec<Problem>) -> Option<RestoreSource> {
    let source = match (&restore.url, &restore.volume_claim) {
        (Some(url), None) => {
            if restore.path.is_some() {
                problems.push(Problem::new(path.field("path"), "is only read with volumeClaim"));
            }
            let url_ok = url.strip_prefix("https://").is_some_and(|rest| {
                !rest.is_empty() && rest.chars().all(|c| c.is_ascii_graphic() && !"'\"\\`$".contains(c))
            });
            if !url_ok {
                problems.push(
                    Problem::new(
                        path.field("url"),
                        "must be an https:// URL without quotes, backslashes or '$'",
                    )
                    .current(url),
                );
            }
            let sha256 = restore.sha256.clone().unwrap_or_default();
            if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(Problem::new(
                    path.field("sha256"),
                    "is required with url: the backup's SHA-256 as 64 hex digits (sha256sum backup.gwbk)",
                ));
            }
            RestoreSource::Url {
                url: url.clone(),
                sha256: sha256.to_ascii_lowercase(),
            }
        }
        (None, Some(claim)) => {
            check_dns_subdomain(path.field("volumeClaim").as_str(), claim, problems);
            if restore.sha256.is_some() {
                problems.push(Problem::new(path.field("sha256"), "is only read with url"));
            }
            let file = restore.path.clone().unwrap_or_default();
            let file_ok = file.ends_with(".gwbk")
                && !file.starts_with('/')
                && file
                    .split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..")
                && file.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
            if !file_ok {
                problems.push(
                    Problem::new(
                        path.field("path"),
                        "must be a relative path to a .gwbk file inside the volume (letters, digits, '/', '.', '_', '-')",
                    )
                    .current(&file),
                );
            }
            RestoreSource::VolumeClaim {
                claim: claim.clone(),
                path: file,
            }
        }
        _ => {
            problems.push(Problem::new(
                path,
                "needs exactly one of url (with sha256) and volumeClaim (with path)",
            ));
            return None;
        }
    };
    Some(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_are_read_like_cert_manager() {
        let mut problems = Vec::new();
        assert_eq!(go_duration_seconds("d", "2160h", &mut problems), Some(2160 * 3600));
        assert_eq!(go_duration_seconds("d", "1h30m", &mut problems), Some(5400));
        assert!(problems.is_empty());
        for bad in ["", "90d", "h", "1.5h", "-1h", "10"] {
            assert_eq!(go_duration_seconds("d", bad, &mut problems), None, "{bad}");
        }
        assert_eq!(problems.len(), 6);
    }
}
