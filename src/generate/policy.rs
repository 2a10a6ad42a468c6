//! PodDisruptionBudgets and NetworkPolicies, one per tier: each selects its own tier only.

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::{self, GAN_PORT, HTTPS_PORT, HTTP_PORT};
use super::{metadata, selector_labels, tier_options};
use crate::spec::{Site, Tier, TierKind};

/// Keeps one node of a redundant pair through drains; lets frontends go one at a time. A single
/// backend gets none: a budget that can never be met blocks every node drain.
pub fn disruption_budget(site: &Site, tier: &Tier) -> Option<PodDisruptionBudget> {
    let (min_available, max_unavailable) = match tier.kind {
        _ if tier.is_redundant() => (Some(IntOrString::Int(1)), None),
        TierKind::Frontend => (None, Some(IntOrString::Int(1))),
        _ => return None,
    };
    Some(PodDisruptionBudget {
        metadata: metadata(site, Some(tier), names::statefulset(site, tier)),
        spec: Some(PodDisruptionBudgetSpec {
            min_available,
            max_unavailable,
            selector: Some(tier_selector(site, tier)),
            // A crash-looping pod must not block a drain that would heal it.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".to_owned()),
        }),
        ..Default::default()
    })
}

/// What may reach a tier's pods. Outgoing traffic is left open: gateways talk to devices and
/// databases anywhere on the plant network.
///  - users' web traffic reaches the failover pair and the frontends, never the scaleout backend,
///    whose web ports only answer pods of the same namespace (and `kubectl port-forward`);
///  - the Gateway Network port answers the redundant peer and, on the backend, the frontends.
pub fn network_policy(site: &Site, tier: &Tier) -> NetworkPolicy {
    let web_ports = vec![tcp(HTTP_PORT), tcp(HTTPS_PORT)];
    let web_rule = match tier.kind {
        TierKind::Backend => NetworkPolicyIngressRule {
            from: Some(
                std::iter::once(NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector::default()),
                    ..Default::default()
                })
                .chain(tier_options::extra_peers(tier))
                .collect(),
            ),
            ports: Some(web_ports),
        },
        TierKind::Gateway | TierKind::Frontend => NetworkPolicyIngressRule {
            from: None,
            ports: Some(web_ports),
        },
    };
    let mut rules = vec![web_rule];
    rules.extend(tier_options::device_ports_rule(tier));
    let gan_peers: Vec<&Tier> = match tier.kind {
        TierKind::Gateway => vec![tier],
        TierKind::Backend => site.tiers.iter().collect(),
        TierKind::Frontend => Vec::new(),
    };
    if !gan_peers.is_empty() {
        rules.push(NetworkPolicyIngressRule {
            from: Some(
                gan_peers
                    .into_iter()
                    .map(|peer| NetworkPolicyPeer {
                        pod_selector: Some(tier_selector(site, peer)),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ports: Some(vec![tcp(GAN_PORT)]),
        });
    }
    NetworkPolicy {
        metadata: metadata(site, Some(tier), names::statefulset(site, tier)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(tier_selector(site, tier)),
            policy_types: Some(vec!["Ingress".to_owned()]),
            ingress: Some(rules),
            ..Default::default()
        }),
    }
}

pub fn tier_selector(site: &Site, tier: &Tier) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(site, Some(tier))),
        ..Default::default()
    }
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".to_owned()),
        ..Default::default()
    }
}
