//! A generated object as it leaves [`super::generate`]: the typed struct itself, not a YAML value.
//!
//! Every writer writes it straight from the struct (`yaml::serializer`); only the rendered tree's overlays, which
//! diff an environment's object against the base's, build a `serde_norway::Value`, and only of the objects that
//! differ (issue 15: building a value of every object was most of one spec's work).

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use serde::{Serialize, Serializer};
use serde_norway::Value;

use super::custom::{Certificate, HttpRoute, Issuer};
use crate::krm::is_orchestrator_annotation;
use crate::object_id::ObjectId;
use crate::yaml::serializer;

/// Declares [`Object`] with one variant per kind the generators make, and what every variant shares.
macro_rules! objects {
    ($($kind:ident),* $(,)?) => {
        /// One generated object, of one of the kinds the generators make. Boxed: a StatefulSet holds 2.5 KB of
        /// fields inline, and a list of unboxed objects would take that much for every ConfigMap.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Object {
            $($kind(Box<$kind>),)*
        }

        $(impl From<$kind> for Object {
            fn from(object: $kind) -> Self {
                Object::$kind(Box::new(object))
            }
        })*

        impl Object {
            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Object::$kind(object) => object.metadata(),)*
                }
            }

            pub(super) fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Object::$kind(object) => object.metadata_mut(),)*
                }
            }

            pub fn api_version(&self) -> &'static str {
                match self {
                    $(Object::$kind(_) => <$kind as Resource>::API_VERSION,)*
                }
            }

            pub fn kind(&self) -> &'static str {
                match self {
                    $(Object::$kind(_) => <$kind as Resource>::KIND,)*
                }
            }
        }

        impl Serialize for Object {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Object::$kind(object) => object.serialize(serializer),)*
                }
            }
        }
    };
}

objects!(
    ServiceAccount,
    Role,
    RoleBinding,
    Issuer,
    Certificate,
    ConfigMap,
    Service,
    StatefulSet,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    NetworkPolicy,
    Ingress,
    HttpRoute,
);

impl Object {
    /// Who the object is: the same identity [`ObjectId::of`] reads from its value.
    pub fn id(&self) -> ObjectId {
        ObjectId::owned(self.borrowed_id())
    }

    /// [`Object::id`] borrowed, as [`ObjectId::borrowed`] reads it from a value.
    pub fn borrowed_id(&self) -> (&str, &str, &str, &str) {
        let metadata = self.metadata();
        (
            self.api_version(),
            self.kind(),
            metadata.namespace.as_deref().unwrap_or_default(),
            metadata.name.as_deref().unwrap_or_default(),
        )
    }

    /// The object as a YAML value, for the code that walks a tree.
    pub fn to_value(&self) -> Value {
        serde_norway::to_value(self)
            .unwrap_or_else(|error| unreachable!("a Kubernetes object always serializes: {error}"))
    }

    /// Appends the object as a YAML document body (no `---`).
    pub fn write_document(&self, out: &mut String) {
        serializer::write_document(out, self)
            .unwrap_or_else(|error| unreachable!("a Kubernetes object always serializes: {error}"));
    }

    /// Appends the object as an item of a block sequence whose dashes are at column `indent`.
    pub fn write_item(&self, out: &mut String, indent: usize) {
        serializer::write_item(out, self, indent)
            .unwrap_or_else(|error| unreachable!("a Kubernetes object always serializes: {error}"));
    }

    /// Removes the orchestrator's bookkeeping annotations, as [`crate::krm::strip_orchestrator_annotations`] does
    /// of a value: for output that leaves the KRM pipeline.
    pub fn strip_orchestrator_annotations(&mut self) {
        let metadata = self.metadata_mut();
        let Some(annotations) = &mut metadata.annotations else {
            return;
        };
        annotations.retain(|key, _| !is_orchestrator_annotation(key));
        if annotations.is_empty() {
            metadata.annotations = None;
        }
    }

    pub fn as_stateful_set(&self) -> Option<&StatefulSet> {
        match self {
            Object::StatefulSet(stateful_set) => Some(stateful_set),
            _ => None,
        }
    }
}
