//! The identity of a Kubernetes object: apiVersion, kind, namespace and name, one type for every use (kyaml's
//! `ResourceIdentifier`): conflicts between generated and existing items, the `resourceRef` of results, the file
//! names and the patch targets of the rendered tree, the owner annotation and the fleet's sites.

use std::fmt;

use serde::Serialize;
use serde_norway::{Mapping, Value};

/// Who an object is. A field the object lacks (or that is not a string) is empty; an empty namespace is `None`,
/// as Kubernetes reads it. Serialized, it is a result's `resourceRef` (the KRM Functions Specification).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectId {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl ObjectId {
    /// The identity of an object as it stands, however incomplete.
    pub fn of(object: &Value) -> Self {
        Self::owned(Self::borrowed(object))
    }

    /// The identity of a borrowed one (see [`ObjectId::borrowed`]).
    pub fn owned((api_version, kind, namespace, name): (&str, &str, &str, &str)) -> Self {
        ObjectId {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
        }
    }

    /// What [`ObjectId::of`] reads, borrowed from the object: apiVersion, kind, namespace and name (a namespace
    /// it lacks is empty), in that order, so that comparing identities copies nothing.
    pub fn borrowed(object: &Value) -> (&str, &str, &str, &str) {
        let text = |path: &[&str]| {
            path.iter()
                .try_fold(object, |value, key| value.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        (
            text(&["apiVersion"]),
            text(&["kind"]),
            text(&["metadata", "namespace"]),
            text(&["metadata", "name"]),
        )
    }

    /// The same identity with every field passed through `map` (to shorten them for a result).
    pub fn map(&self, map: impl Fn(&str) -> String) -> Self {
        ObjectId {
            api_version: map(&self.api_version),
            kind: map(&self.kind),
            name: map(&self.name),
            namespace: self.namespace.as_deref().map(map),
        }
    }

    /// The group (empty for the core group) and version of the apiVersion.
    pub fn group_version(&self) -> (&str, &str) {
        self.api_version.split_once('/').unwrap_or(("", &self.api_version))
    }

    /// `namespace/name`, or `name` without a namespace.
    pub fn namespaced_name(&self) -> String {
        namespaced_name(self.namespace.as_deref(), &self.name)
    }

    /// `Kind namespace/name` (or `Kind name`), for a line of text.
    pub fn kind_and_name(&self) -> String {
        format!("{} {}", self.kind, self.namespaced_name())
    }

    /// `<kind>-<name>.yaml`: a file name unique within one namespace, as a site's objects are.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }

    /// The kustomize patch target that selects exactly this object (kustomize `types.Selector`: group, version,
    /// kind, name, namespace).
    pub fn patch_target(&self) -> Value {
        let (group, version) = self.group_version();
        let mut target = Mapping::new();
        if !group.is_empty() {
            target.insert("group".into(), group.into());
        }
        target.insert("version".into(), version.into());
        target.insert("kind".into(), self.kind.as_str().into());
        target.insert("name".into(), self.name.as_str().into());
        if let Some(namespace) = &self.namespace {
            target.insert("namespace".into(), namespace.as_str().into());
        }
        Value::Mapping(target)
    }

    /// `apiVersion`, `kind` and `metadata` (name, namespace) of an object: the head of a strategic-merge patch.
    pub fn head(&self) -> Mapping {
        let mut metadata = Mapping::new();
        metadata.insert("name".into(), self.name.as_str().into());
        if let Some(namespace) = &self.namespace {
            metadata.insert("namespace".into(), namespace.as_str().into());
        }
        Mapping::from_iter([
            ("apiVersion".into(), self.api_version.as_str().into()),
            ("kind".into(), self.kind.as_str().into()),
            ("metadata".into(), Value::Mapping(metadata)),
        ])
    }
}

/// `apiVersion/kind namespace/name`, every part written even when empty.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} {}/{}",
            self.api_version,
            self.kind,
            self.namespace.as_deref().unwrap_or_default(),
            self.name
        )
    }
}

/// `namespace/name`, or `name` without a namespace.
pub fn namespaced_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => [namespace, "/", name].concat(),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ObjectId {
        ObjectId::of(&serde_norway::from_str(text).unwrap())
    }

    #[test]
    fn reads_and_writes_each_form() {
        let deployment =
            id("{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: plant-gateway, namespace: scada}}");
        assert_eq!(deployment.to_string(), "apps/v1/StatefulSet scada/plant-gateway");
        assert_eq!(deployment.kind_and_name(), "StatefulSet scada/plant-gateway");
        assert_eq!(deployment.file_name(), "statefulset-plant-gateway.yaml");
        assert_eq!(
            serde_norway::to_string(&deployment.patch_target()).unwrap(),
            "group: apps\nversion: v1\nkind: StatefulSet\nname: plant-gateway\nnamespace: scada\n"
        );
        let core = id("{apiVersion: v1, kind: Service, metadata: {name: plant, namespace: ''}}");
        assert_eq!(core.namespace, None);
        assert_eq!(core.to_string(), "v1/Service /plant");
        assert_eq!(core.namespaced_name(), "plant");
        assert_eq!(
            serde_norway::to_string(&core.patch_target()).unwrap(),
            "version: v1\nkind: Service\nname: plant\n"
        );
        assert_eq!(id("[1]"), ObjectId::default());
        assert_eq!(id("{kind: 3, metadata: {name: a}}").to_string(), "/ /a");
    }
}
