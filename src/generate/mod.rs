//! Pure functions from a validated [`Site`] to Kubernetes objects. No I/O here.
//!
//! Every object is a typed k8s-openapi struct; [`generate`] returns them in a fixed order, each an
//! [`Object`] with the bookkeeping annotations the KRM function needs.

mod autoscaler;
mod certificates;
mod config;
mod content;
pub(crate) mod custom;
mod ingress;
pub mod names;
mod object;
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
use serde::Serialize;

pub use self::object::Object;

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
pub fn generate(site: &Site) -> Vec<Object> {
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
    // What the pods read: the scripts, then the tier's environment and gateway resources.
    let scripts_digest = config::ScriptSet::of(site).digest();
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
        // A changed resource rolls the pods (the StatefulSet's order: the highest ordinal, the Backup, first).
        let mut digest = scripts_digest.with(&environment);
        if let Some(gateway_resources) = &gateway_resources {
            digest = digest.with(gateway_resources);
        }
        let config_hash = digest.hex();
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
    objects.objects
}

/// Collects generated objects, adding the KRM bookkeeping annotations.
struct Objects<'a> {
    site: &'a Site,
    objects: Vec<Object>,
}

impl<'a> Objects<'a> {
    fn new(site: &'a Site) -> Self {
        Objects {
            site,
            objects: Vec::new(),
        }
    }

    fn push(&mut self, object: impl Into<Object>) {
        let mut object = object.into();
        let name = object.metadata().name.clone().unwrap_or_default();
        let kind = object.kind();
        let annotations = object.metadata_mut().annotations.get_or_insert_with(BTreeMap::new);
        if self.site.namespace.is_none() {
            add_checkov_skip(annotations, &SKIP_DEFAULT_NAMESPACE);
        }
        annotations.insert(
            OWNER_ANNOTATION.to_owned(),
            owner_id(self.site.namespace.as_deref(), &self.site.name),
        );
        // kpt writes each object to this file; kustomize drops the annotation from its output.
        let path = [
            "ignition/",
            &self.site.name,
            "/",
            &kind.to_ascii_lowercase(),
            "-",
            &name,
            ".yaml",
        ]
        .concat();
        annotations.insert(PATH_ANNOTATION.to_owned(), path);
        annotations.insert(INDEX_ANNOTATION.to_owned(), "0".to_owned());
        if holds_substitution(&object) {
            annotations_of(&mut object).insert(FLUX_SUBSTITUTE_ANNOTATION.to_owned(), "disabled".to_owned());
        }
        self.objects.push(object);
    }
}

fn annotations_of(object: &mut Object) -> &mut BTreeMap<String, String> {
    object.metadata_mut().annotations.get_or_insert_with(BTreeMap::new)
}

/// Whether a string anywhere in the object (keys included) holds `${`, which Flux's `postBuild.substitute`
/// would replace. A walk of the typed object by serde that looks at its strings and nothing else, and stops at the
/// first `${`: nothing is built.
fn holds_substitution(object: &impl Serialize) -> bool {
    object.serialize(substitution::Scan).is_err()
}

mod substitution {
    use serde::ser::{self, Serialize};

    /// Stops the walk: a `${` was found.
    #[derive(Debug)]
    pub struct Found;

    impl std::fmt::Display for Found {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a string holds ${")
        }
    }

    impl std::error::Error for Found {}

    impl ser::Error for Found {
        fn custom<T: std::fmt::Display>(_message: T) -> Self {
            Found
        }
    }

    fn check(text: &str) -> Result<(), Found> {
        // Most strings hold no `$` at all, which the library's word-at-a-time byte search tells at a fraction of
        // the cost of looking at each pair of bytes; the rest, a byte scan if short, a substring search if long.
        let bytes = text.as_bytes();
        let found = bytes.contains(&b'$')
            && if text.len() < 64 {
                crate::yaml::has_pair(text, b'$', b'{')
            } else {
                text.contains("${")
            };
        if found {
            Err(Found)
        } else {
            Ok(())
        }
    }

    /// Walks a value; `Err(Found)` as soon as a string holds `${`.
    pub struct Scan;

    macro_rules! nothing_to_scan {
        ($($method:ident($type:ty)),* $(,)?) => {
            $(fn $method(self, _value: $type) -> Result<(), Found> {
                Ok(())
            })*
        };
    }

    impl ser::Serializer for Scan {
        type Ok = ();
        type Error = Found;
        type SerializeSeq = Scan;
        type SerializeTuple = Scan;
        type SerializeTupleStruct = Scan;
        type SerializeTupleVariant = Scan;
        type SerializeMap = Scan;
        type SerializeStruct = Scan;
        type SerializeStructVariant = Scan;

        nothing_to_scan!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_i128(i128),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_u128(u128),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_bytes(&[u8]),
            serialize_unit_struct(&'static str),
        );

        fn serialize_str(self, value: &str) -> Result<(), Found> {
            check(value)
        }
        fn serialize_none(self) -> Result<(), Found> {
            Ok(())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), Found> {
            Ok(())
        }
        fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Found> {
            check(variant)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Found> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            value: &T,
        ) -> Result<(), Found> {
            value.serialize(self)
        }
        fn serialize_seq(self, _len: Option<usize>) -> Result<Scan, Found> {
            Ok(Scan)
        }
        fn serialize_tuple(self, _len: usize) -> Result<Scan, Found> {
            Ok(Scan)
        }
        fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Scan, Found> {
            Ok(Scan)
        }
        fn serialize_tuple_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Scan, Found> {
            Ok(Scan)
        }
        fn serialize_map(self, _len: Option<usize>) -> Result<Scan, Found> {
            Ok(Scan)
        }
        fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Scan, Found> {
            Ok(Scan)
        }
        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Scan, Found> {
            Ok(Scan)
        }
    }

    /// The compound parts of serde: each element, key and field is walked; their end has nothing to do.
    macro_rules! walk_each {
        ($($trait:ident::$method:ident($($key:ident: $type:ty),*)),* $(,)?) => {
            $(impl ser::$trait for Scan {
                type Ok = ();
                type Error = Found;
                fn $method<T: Serialize + ?Sized>(&mut self, $($key: $type,)* value: &T) -> Result<(), Found> {
                    value.serialize(Scan)
                }
                fn end(self) -> Result<(), Found> {
                    Ok(())
                }
            })*
        };
    }

    walk_each!(
        SerializeSeq::serialize_element(),
        SerializeTuple::serialize_element(),
        SerializeTupleStruct::serialize_field(),
        SerializeTupleVariant::serialize_field(),
        // A struct's field names are those of its Rust type (k8s-openapi's, or this crate's for custom resources):
        // none holds `${`, so only the values are walked.
        SerializeStruct::serialize_field(_key: &'static str),
        SerializeStructVariant::serialize_field(_key: &'static str),
    );

    impl ser::SerializeMap for Scan {
        type Ok = ();
        type Error = Found;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
            key.serialize(Scan)
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
            value.serialize(Scan)
        }
        fn end(self) -> Result<(), Found> {
            Ok(())
        }
    }
}

/// Adds a skip under the next free `checkov.io/skip<N>` key.
fn add_checkov_skip(annotations: &mut BTreeMap<String, String>, skip: &CheckovSkip) {
    // Keys built without the formatting machinery: every object of a site without a namespace gets one.
    let key = (1u32..)
        .map(|number| [CHECKOV_SKIP_PREFIX, &number.to_string()].concat())
        .find(|key| !annotations.contains_key(key))
        .unwrap_or_default();
    annotations.insert(key, [skip.check, "=", skip.reason].concat());
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_norway::Value;

    use super::holds_substitution;

    #[derive(Serialize)]
    enum Mode {
        Plain,
        #[serde(rename = "${MODE}")]
        Substituted,
    }

    #[derive(Serialize)]
    struct Object {
        name: &'static str,
        labels: BTreeMap<String, String>,
        args: Vec<Option<String>>,
        mode: Mode,
    }

    fn object() -> Object {
        Object {
            name: "plant",
            labels: BTreeMap::from([("a".to_owned(), "b".to_owned())]),
            args: vec![None, Some("$ {not} $".to_owned()), Some(format!("{}$", "x".repeat(80)))],
            mode: Mode::Plain,
        }
    }

    /// The scan finds `${` wherever a YAML value of the object would hold it (keys included), and nowhere else.
    #[test]
    fn a_substitution_is_found_in_any_string_and_only_there() {
        assert!(!holds_substitution(&object()));
        let mut in_key = object();
        in_key.labels.insert("${KEY}".to_owned(), "v".to_owned());
        let mut in_value = object();
        in_value.args.push(Some("echo ${HOME}".to_owned()));
        let mut in_long = object();
        in_long.args.push(Some(format!("{}${{X}}", "#".repeat(500))));
        let mut in_variant = object();
        in_variant.mode = Mode::Substituted;
        for found in [&in_key, &in_value, &in_long, &in_variant] {
            assert!(holds_substitution(found));
            let value = serde_norway::to_value(found).unwrap();
            assert!(serde_norway::to_string(&value).unwrap().contains("${"));
        }
        assert!(!holds_substitution(&Value::from("$")), "a lone $ is no substitution");
    }
}
