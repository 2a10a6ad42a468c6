//! Pure functions from a validated [`Site`] to Kubernetes objects. No I/O here.
//!
//! Every object is a typed k8s-openapi struct; [`generate`] returns them in a fixed order, each
//! serialized to a YAML value with the bookkeeping annotations the KRM function needs.

mod autoscaler;
mod certificates;
mod config;
mod content;
pub(crate) mod custom;
mod ingress;
pub mod names;
mod pod;
mod policy;
mod rbac;
mod resources;
mod route;
mod service;
mod sidecars;
mod statefulset;
mod tier_options;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use serde::Serialize;
use serde_norway::Value;

use crate::krm::{INDEX_ANNOTATION, PATH_ANNOTATION};
use crate::spec::{Site, Tier};

/// The annotation that marks an object as generated, with the `namespace/name` of the spec that owns
/// it: a re-run replaces exactly these objects.
pub const OWNER_ANNOTATION: &str = "ignition.krm.dev/owner";
/// Flux's post-build substitution would replace the shell's `${VAR}` in our scripts; this turns it off
/// for every object that holds a `${`.
pub const FLUX_SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// On pod templates: a digest of the ConfigMaps the pods read, so a change rolls the pods.
pub const CONFIG_HASH_ANNOTATION: &str = "ignition.krm.dev/config-hash";

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Selects one site's pods. Selectors never use `app.kubernetes.io/instance`: Argo CD overwrites it.
pub const LABEL_CLUSTER: &str = "ignition.krm.dev/cluster";
/// Selects the pods of one StatefulSet by ordinal, set by the StatefulSet controller.
pub const LABEL_POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
/// Set on each pod of a pair by its labeling sidecar: "true" on the Active node.
pub const LABEL_ACTIVE: &str = "ignition.krm.dev/active";
/// The volume of the scripts ConfigMap, mounted read-only wherever a script runs.
pub(crate) const SCRIPTS_VOLUME: &str = "scripts";
/// The cookie that keeps a Perspective session on one gateway.
pub const STICKY_COOKIE: &str = "ignition-route";

/// Prefix of checkov's skip annotations: `checkov.io/skip<N>: CKV_K8S_<id>=<reason>`.
pub const CHECKOV_SKIP_PREFIX: &str = "checkov.io/skip";

/// A checkov check that cannot pass for a real reason, and that reason (listed in the README).
pub struct CheckovSkip {
    pub check: &'static str,
    pub reason: &'static str,
}

pub const SKIP_DEFAULT_NAMESPACE: CheckovSkip = CheckovSkip {
    check: "CKV_K8S_21",
    reason: "no namespace in the spec: kustomize's namespace field or kpt's set-namespace gives it",
};

const APP_NAME: &str = "ignition";
const MANAGER: &str = "ignition-krm";

/// The identity written into [`OWNER_ANNOTATION`]: `namespace/name`, or `name` without a namespace.
pub fn owner_id(namespace: Option<&str>, name: &str) -> String {
    crate::object_id::namespaced_name(namespace, name)
}

/// A count or port of the spec as the Kubernetes API's `int32`. Each such value has a schema range
/// (replicas and percentages at most 100, ports at most 65535) that `spec::schema_check` enforces before any
/// generator runs, far below `i32::MAX`: the saturation is never reached and keeps the generators infallible.
pub(crate) fn int32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Generates every object of a site, in a fixed order.
pub fn generate(site: &Site) -> Vec<Value> {
    let mut objects = Objects::new(site);
    if site.tiers.iter().any(|tier| !tier.labels_itself) {
        objects.push(rbac::service_account(site, None));
    }
    let cert_manager = site
        .gateway_network
        .certificates
        .as_ref()
        .filter(|settings| settings.cert_manager);
    if let Some(settings) = cert_manager {
        objects.push(certificates::root_issuer(site));
        objects.push(certificates::ca_certificate(site, settings));
        objects.push(certificates::ca_issuer(site));
    }
    let scripts = config::scripts_config_map(site);
    for tier in &site.tiers {
        if tier.labels_itself {
            objects.push(rbac::service_account(site, Some(tier)));
            objects.push(rbac::labeler_role(site, tier));
            objects.push(rbac::labeler_role_binding(site, tier));
        }
        if let Some(settings) = cert_manager {
            objects.push(certificates::tier_certificate(site, tier, settings));
        }
        let environment = config::environment_config_map(site, tier);
        let gateway_resources = resources::config_map(site, tier);
        let mut hashed = vec![&scripts, &environment];
        // A changed resource rolls the pods (the StatefulSet's order: the highest ordinal, the Backup, first).
        hashed.extend(gateway_resources.as_ref());
        let config_hash = config::digest(&hashed);
        objects.push(environment);
        if let Some(gateway_resources) = gateway_resources {
            objects.push(gateway_resources);
        }
        objects.push(service::headless(site, tier));
        if tier.is_redundant() {
            for ordinal in 0..2 {
                objects.push(service::per_role(site, tier, ordinal));
            }
        }
        objects.push(service::client(site, tier));
        if let Some(devices) = tier_options::device_service(site, tier) {
            objects.push(devices);
        }
        objects.push(statefulset::statefulset(site, tier, &config_hash));
        if let Some(autoscaler) = autoscaler::horizontal_pod_autoscaler(site, tier) {
            objects.push(autoscaler);
        }
        if let Some(budget) = policy::disruption_budget(site, tier) {
            objects.push(budget);
        }
        objects.push(policy::network_policy(site, tier));
    }
    objects.push(scripts);
    if let Some(ingress) = ingress::ingress(site) {
        objects.push(ingress);
    }
    if let Some(route) = route::http_route(site) {
        objects.push(route);
    }
    objects.values
}

/// Collects generated objects as YAML values, adding the KRM bookkeeping annotations.
struct Objects<'a> {
    site: &'a Site,
    values: Vec<Value>,
}

impl<'a> Objects<'a> {
    fn new(site: &'a Site) -> Self {
        Objects {
            site,
            values: Vec::new(),
        }
    }

    fn push<T: Resource + Metadata<Ty = ObjectMeta> + Serialize>(&mut self, mut object: T) {
        let name = object.metadata().name.clone().unwrap_or_default();
        let annotations = object.metadata_mut().annotations.get_or_insert_with(BTreeMap::new);
        if self.site.namespace.is_none() {
            add_checkov_skip(annotations, &SKIP_DEFAULT_NAMESPACE);
        }
        annotations.insert(
            OWNER_ANNOTATION.to_owned(),
            owner_id(self.site.namespace.as_deref(), &self.site.name),
        );
        // kpt writes each object to this file; kustomize drops the annotation from its output.
        let path = format!(
            "ignition/{}/{}-{name}.yaml",
            self.site.name,
            T::KIND.to_ascii_lowercase()
        );
        annotations.insert(PATH_ANNOTATION.to_owned(), path);
        annotations.insert(INDEX_ANNOTATION.to_owned(), "0".to_owned());
        let mut value = serde_norway::to_value(&object)
            .unwrap_or_else(|error| unreachable!("a Kubernetes object always serializes: {error}"));
        if holds_substitution(&value) {
            insert_sorted_annotation(&mut value, FLUX_SUBSTITUTE_ANNOTATION, "disabled");
        }
        self.values.push(value);
    }
}

/// Whether a string anywhere in the object (keys included) holds `${`, which Flux's `postBuild.substitute`
/// would replace.
fn holds_substitution(value: &Value) -> bool {
    match value {
        // A byte scan: a substring search costs more to set up than these short strings take to scan.
        Value::String(text) => crate::yaml::has_pair(text, b'$', b'{'),
        Value::Sequence(items) => items.iter().any(holds_substitution),
        Value::Mapping(mapping) => mapping
            .iter()
            .any(|(key, value)| holds_substitution(key) || holds_substitution(value)),
        Value::Tagged(tagged) => holds_substitution(&tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Adds an annotation to a serialized object at the place it takes in the typed object's sorted
/// `BTreeMap` (the serialized annotations keep that order), as serializing the object again would.
fn insert_sorted_annotation(object: &mut Value, key: &str, text: &str) {
    let Some(Value::Mapping(annotations)) = object
        .get_mut("metadata")
        .and_then(|metadata| metadata.get_mut("annotations"))
    else {
        unreachable!("Objects::push gives every object annotations");
    };
    let mut entries: Vec<(Value, Value)> = std::mem::take(annotations).into_iter().collect();
    let place = entries.partition_point(|(existing, _)| existing.as_str().is_some_and(|existing| existing < key));
    match entries.get_mut(place) {
        Some((existing, value)) if existing.as_str() == Some(key) => *value = Value::from(text),
        _ => entries.insert(place, (Value::from(key), Value::from(text))),
    }
    *annotations = entries.into_iter().collect();
}

/// Adds a skip under the next free `checkov.io/skip<N>` key.
fn add_checkov_skip(annotations: &mut BTreeMap<String, String>, skip: &CheckovSkip) {
    let number = (1..)
        .find(|number| !annotations.contains_key(&format!("{CHECKOV_SKIP_PREFIX}{number}")))
        .unwrap_or_default();
    annotations.insert(
        format!("{CHECKOV_SKIP_PREFIX}{number}"),
        format!("{}={}", skip.check, skip.reason),
    );
}

/// The labels on every object of a tier (or of the site, with no tier).
fn labels(site: &Site, tier: Option<&Tier>) -> BTreeMap<String, String> {
    let mut labels = selector_labels(site, tier);
    labels.insert(LABEL_INSTANCE.to_owned(), site.name.clone());
    labels.insert(LABEL_VERSION.to_owned(), site.version.clone());
    labels.insert(LABEL_MANAGED_BY.to_owned(), MANAGER.to_owned());
    labels
}

/// The labels that select a tier's pods: stable for the life of the site, never the instance label.
fn selector_labels(site: &Site, tier: Option<&Tier>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (LABEL_NAME.to_owned(), APP_NAME.to_owned()),
        (LABEL_CLUSTER.to_owned(), site.name.clone()),
    ]);
    if let Some(tier) = tier {
        labels.insert(LABEL_COMPONENT.to_owned(), tier.kind.component().to_owned());
    }
    labels
}

fn metadata(site: &Site, tier: Option<&Tier>, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: site.namespace.clone(),
        labels: Some(labels(site, tier)),
        ..Default::default()
    }
}
