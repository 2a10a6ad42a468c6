//! Resolution of the optional features around a redundant site: Gateway Network certificates,
//! the Gateway API route, and restoring a gateway backup.

use super::site::{check_dns_label, check_dns_subdomain, is_dns_subdomain};
use super::types::{CertificateSource, GanCertificates, HttpRoute, Restore, Rotation};
use super::Problem;

/// Gateway Network TLS from a shared CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GanCertificateSettings {
    /// Generate the CA and the tier certificates with cert-manager; otherwise the Secrets exist.
    pub cert_manager: bool,
    pub keystore_password_secret: String,
    pub duration: String,
    pub renew_before: String,
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

const DEFAULT_DURATION: &str = "2160h";
const DEFAULT_RENEW_BEFORE: &str = "360h";

pub fn resolve_certificates(certificates: &GanCertificates, problems: &mut Vec<Problem>) -> GanCertificateSettings {
    let path = "spec.gatewayNetwork.certificates";
    check_dns_subdomain(
        &format!("{path}.keystorePasswordSecret"),
        &certificates.keystore_password_secret,
        problems,
    );
    let cert_manager = certificates.source.unwrap_or(CertificateSource::CertManager) == CertificateSource::CertManager;
    if !cert_manager {
        for (field, given) in [
            ("duration", &certificates.duration),
            ("renewBefore", &certificates.renew_before),
        ] {
            if given.is_some() {
                problems.push(Problem::new(
                    format!("{path}.{field}"),
                    "is only read with source certManager",
                ));
            }
        }
    }
    let duration = certificates
        .duration
        .clone()
        .unwrap_or_else(|| DEFAULT_DURATION.to_owned());
    let renew_before = certificates
        .renew_before
        .clone()
        .unwrap_or_else(|| DEFAULT_RENEW_BEFORE.to_owned());
    let duration_seconds = go_duration_seconds(&format!("{path}.duration"), &duration, problems);
    let renew_seconds = go_duration_seconds(&format!("{path}.renewBefore"), &renew_before, problems);
    if let (Some(duration_seconds), Some(renew_seconds)) = (duration_seconds, renew_seconds) {
        if duration_seconds < 3600 {
            problems.push(
                Problem::new(
                    format!("{path}.duration"),
                    "must be at least 1h (cert-manager's minimum)",
                )
                .current(&duration)
                .proposed(DEFAULT_DURATION),
            );
        } else if renew_seconds == 0 || renew_seconds >= duration_seconds {
            problems.push(
                Problem::new(
                    format!("{path}.renewBefore"),
                    format!("must be more than 0 and less than the duration {duration}"),
                )
                .current(&renew_before),
            );
        }
    }
    GanCertificateSettings {
        cert_manager,
        keystore_password_secret: certificates.keystore_password_secret.clone(),
        duration,
        renew_before,
        reloader: certificates.rotation.unwrap_or(Rotation::Reloader) == Rotation::Reloader,
    }
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
    let path = "spec.httpRoute";
    if route.hostnames.is_empty() {
        problems.push(Problem::new(
            format!("{path}.hostnames"),
            "must list at least one host name",
        ));
    }
    for (index, host) in route.hostnames.iter().enumerate() {
        if !is_dns_subdomain(host.strip_prefix("*.").unwrap_or(host)) {
            problems.push(
                Problem::new(
                    format!("{path}.hostnames[{index}]"),
                    format!("{host:?} is not a DNS name"),
                )
                .current(host),
            );
        }
    }
    check_dns_subdomain(&format!("{path}.gateway.name"), &route.gateway.name, problems);
    if let Some(namespace) = &route.gateway.namespace {
        check_dns_label(&format!("{path}.gateway.namespace"), namespace, problems);
    }
    if let Some(section) = &route.gateway.section_name {
        check_dns_subdomain(&format!("{path}.gateway.sectionName"), section, problems);
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
    let path = "spec.restore";
    let frontends = restore.frontends.unwrap_or(true);
    let source = match (&restore.url, &restore.volume_claim) {
        (Some(url), None) => {
            if restore.path.is_some() {
                problems.push(Problem::new(format!("{path}.path"), "is only read with volumeClaim"));
            }
            let url_ok = url.strip_prefix("https://").is_some_and(|rest| {
                !rest.is_empty() && rest.chars().all(|c| c.is_ascii_graphic() && !"'\"\\`$".contains(c))
            });
            if !url_ok {
                problems.push(
                    Problem::new(
                        format!("{path}.url"),
                        "must be an https:// URL without quotes, backslashes or '$'",
                    )
                    .current(url),
                );
            }
            let sha256 = restore.sha256.clone().unwrap_or_default();
            if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(Problem::new(
                    format!("{path}.sha256"),
                    "is required with url: the backup's SHA-256 as 64 hex digits (sha256sum backup.gwbk)",
                ));
            }
            RestoreSource::Url {
                url: url.clone(),
                sha256: sha256.to_ascii_lowercase(),
            }
        }
        (None, Some(claim)) => {
            check_dns_subdomain(&format!("{path}.volumeClaim"), claim, problems);
            if restore.sha256.is_some() {
                problems.push(Problem::new(format!("{path}.sha256"), "is only read with url"));
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
                        format!("{path}.path"),
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
    Some(RestoreSettings { source, frontends })
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
