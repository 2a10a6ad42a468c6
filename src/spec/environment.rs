//! Environments: partial specs, kept as written until they are merged over the base (`merge.rs`) and the
//! result is read as a whole `Spec`. Their JSON Schema is derived from `Spec`'s, so the two cannot drift.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

/// Fields an environment may not change: the architecture decides every object's name, and
/// environments do not nest.
pub const FIXED_IN_ENVIRONMENTS: &[&str] = &["architecture", "environments"];

/// The schema definition of one environment (the schema name of [`super::Environment`]).
pub const ENVIRONMENT_DEFINITION: &str = "Environment";

/// The schema definition an environment derives from.
const SPEC_DEFINITION: &str = "Spec";

/// A definition with every required field dropped is added as `<name>Patch`.
const PATCH_SUFFIX: &str = "Patch";

/// Fills `$defs.Environment` of the `IgnitionCluster` schema from `$defs.Spec`: every property of
/// `Spec` but [`FIXED_IN_ENVIRONMENTS`], none of them required, and the same down every mapping (an
/// environment merges key by key). List items stay whole: a merge patch replaces a list entirely.
/// A definition that has required fields on that way gets a partial copy, `<name>Patch`.
pub fn derive_schema(root: &mut Json) {
    let Some(definitions) = root.get_mut("$defs").and_then(Json::as_object_mut) else {
        return;
    };
    let Some(mut environment) = definitions.get(SPEC_DEFINITION).cloned() else {
        return;
    };
    if let Some(properties) = environment.get_mut("properties").and_then(Json::as_object_mut) {
        for field in FIXED_IN_ENVIRONMENTS {
            properties.remove(*field);
        }
    }
    let mut partial = Partial {
        definitions,
        has_required: BTreeMap::new(),
        patches: BTreeMap::new(),
    };
    partial.make_partial(&mut environment);
    let patches = partial.patches;
    // The description is the environment type's own.
    if let Some(description) = definitions
        .get(ENVIRONMENT_DEFINITION)
        .and_then(|placeholder| placeholder.get("description"))
    {
        environment["description"] = description.clone();
    }
    definitions.insert(ENVIRONMENT_DEFINITION.to_owned(), environment);
    definitions.extend(patches);
}

/// The partial copies of definitions made for one environment schema.
struct Partial<'a> {
    definitions: &'a Map<String, Json>,
    /// By definition name: whether it has a required field on the way `make_partial` walks.
    has_required: BTreeMap<&'a str, bool>,
    /// The partial copies, by their own name (`<name>Patch`).
    patches: BTreeMap<String, Json>,
}

impl<'a> Partial<'a> {
    /// Drops `required` from `node` and from every mapping below it, pointing each `$ref` to a
    /// definition with required fields on that way to its partial copy. Only those definitions are
    /// copied: the schema is derived on every run (`spec::json_schema`).
    fn make_partial(&mut self, node: &mut Json) {
        let Some(object) = node.as_object_mut() else {
            return;
        };
        object.remove("required");
        if let Some(name) = reference(object) {
            if self.definition_has_required(name) {
                let patch_name = format!("{name}{PATCH_SUFFIX}");
                if !self.patches.contains_key(&patch_name) {
                    let mut patch = self.definitions.get(name).cloned().unwrap_or(Json::Null);
                    self.make_partial(&mut patch);
                    self.patches.insert(patch_name.clone(), patch);
                }
                object.insert("$ref".to_owned(), Json::String(format!("#/$defs/{patch_name}")));
            }
        }
        for (key, value) in object.iter_mut() {
            match (key.as_str(), value) {
                ("properties", Json::Object(properties)) => {
                    properties.values_mut().for_each(|child| self.make_partial(child))
                }
                ("additionalProperties", child @ Json::Object(_)) => self.make_partial(child),
                ("anyOf", Json::Array(alternatives)) => {
                    alternatives.iter_mut().for_each(|child| self.make_partial(child))
                }
                _ => {}
            }
        }
    }

    fn definition_has_required(&mut self, name: &str) -> bool {
        let Some((name, definition)) = self.definitions.get_key_value(name) else {
            return false;
        };
        if let Some(known) = self.has_required.get(name.as_str()) {
            return *known;
        }
        // Marked first, so that a definition that refers to itself ends.
        self.has_required.insert(name, false);
        let found = self.has_required(definition);
        self.has_required.insert(name, found);
        found
    }

    /// Whether a schema has a required field on the way `make_partial` walks: properties, the values
    /// of a map, the alternatives of an `Option`; not list items.
    fn has_required(&mut self, node: &'a Json) -> bool {
        let Some(object) = node.as_object() else {
            return false;
        };
        if object.contains_key("required") || reference(object).is_some_and(|name| self.definition_has_required(name)) {
            return true;
        }
        let properties = object
            .get("properties")
            .and_then(Json::as_object)
            .into_iter()
            .flat_map(Map::values);
        let additional = object.get("additionalProperties").filter(|value| value.is_object());
        let alternatives = object.get("anyOf").and_then(Json::as_array).into_iter().flatten();
        let children: Vec<&'a Json> = properties.chain(additional).chain(alternatives).collect();
        children.into_iter().any(|child| self.has_required(child))
    }
}

/// The definition a schema refers to, by name.
fn reference(object: &Map<String, Json>) -> Option<&str> {
    object
        .get("$ref")
        .and_then(Json::as_str)
        .and_then(|reference| reference.strip_prefix("#/$defs/"))
}

#[cfg(test)]
mod tests {
    use super::super::{check_schema, json_schema, schema_check, schema_tables, Problem};
    use super::*;

    fn definition(name: &str) -> &'static Json {
        &json_schema()["$defs"][name]
    }

    fn property_names(definition: &Json) -> Vec<&str> {
        definition["properties"]
            .as_object()
            .map(|properties| properties.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The problems of a spec whose only environment, `env`, is `patch`, checked against the schema.
    fn environment_problems(patch: &str) -> Vec<Problem> {
        let patch: serde_norway::Value = serde_norway::from_str(patch).unwrap();
        let mut object: serde_norway::Value = serde_norway::from_str(
            "{apiVersion: ignition.krm.dev/v1alpha1, kind: IgnitionCluster, metadata: {name: a},
              spec: {architecture: scaleout, version: 8.3.4, adminPasswordSecret: s, environments: {}}}",
        )
        .unwrap();
        object["spec"]["environments"]["env"] = patch;
        let mut problems = Vec::new();
        let tables = schema_tables::read(&schema_check::validation_keywords(json_schema())).unwrap();
        schema_check::check(tables.schema(), &object, "", &mut problems);
        problems
    }

    #[test]
    fn an_environment_has_every_field_of_spec_but_the_fixed_ones() {
        let spec = property_names(definition(SPEC_DEFINITION));
        let environment = property_names(definition(ENVIRONMENT_DEFINITION));
        let expected: Vec<&str> = spec
            .iter()
            .copied()
            .filter(|field| !FIXED_IN_ENVIRONMENTS.contains(field))
            .collect();
        assert_eq!(environment, expected);
        for fixed in FIXED_IN_ENVIRONMENTS {
            assert!(spec.contains(fixed), "{fixed} is not a field of Spec");
        }
        assert_eq!(definition(ENVIRONMENT_DEFINITION)["additionalProperties"], false);
        assert!(definition(ENVIRONMENT_DEFINITION).get("required").is_none());
        // The placeholder's description is kept, the fields are filled in.
        let description = definition(ENVIRONMENT_DEFINITION)["description"].as_str().unwrap();
        assert!(description.contains("partial spec"), "{description}");
    }

    #[test]
    fn a_patch_definition_is_its_definition_without_required_fields() {
        let definitions = json_schema()["$defs"].as_object().unwrap();
        let patches: Vec<&str> = definitions
            .keys()
            .filter_map(|name| name.strip_suffix(PATCH_SUFFIX))
            .collect();
        // Mappings an environment merges into whose types have required fields of their own.
        assert_eq!(
            patches,
            ["Autoscaling", "FrontendTier", "GatewayRef", "HttpRoute", "Ingress"]
        );
        for name in patches {
            let whole = &definitions[name];
            let patch = &definitions[&format!("{name}{PATCH_SUFFIX}")];
            assert_eq!(property_names(whole), property_names(patch), "{name}");
            assert_eq!(whole["description"], patch["description"], "{name}");
            assert!(patch.get("required").is_none(), "{name}");
        }
        // The whole types stay strict for the base spec.
        assert_eq!(definitions["Ingress"]["required"], serde_json::json!(["host"]));
    }

    #[test]
    fn an_environment_may_leave_out_what_the_base_gives() {
        let partial = "{version: 8.3.5, frontend: {replicas: 3, autoscaling: {minReplicas: 3}},
                        ingress: {tlsSecret: t}, httpRoute: {gateway: {sectionName: https}},
                        gatewayNetwork: {trust: manual}, frontendd: 1}";
        let problems: Vec<String> = environment_problems(partial).iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            ["spec.environments.env.frontendd: unknown field \"frontendd\"; did you mean \"frontend\"?"]
        );
        assert!(environment_problems("{}").is_empty());
        assert!(environment_problems("{ingress: null, frontend: {autoscaling: null}}").is_empty());
    }

    #[test]
    fn an_environment_gives_list_items_whole_and_no_fixed_field() {
        // A merge patch replaces a list: its items are complete.
        let problems: Vec<String> =
            environment_problems("{architecture: failover, frontend: {pod: {env: [{value: x}]}}}")
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("spec.environments.env.architecture: unknown field"));
        assert_eq!(
            problems[1],
            "spec.environments.env.frontend.pod.env[0].name: is required"
        );
    }

    #[test]
    fn the_spec_is_checked_against_the_printed_schema_but_the_environment() {
        let mut printed = json_schema().clone();
        let mut checked = check_schema().clone();
        for schema in [&mut printed, &mut checked] {
            let definitions = schema["$defs"].as_object_mut().unwrap();
            definitions.retain(|name, _| name != ENVIRONMENT_DEFINITION && !name.ends_with(PATCH_SUFFIX));
        }
        assert_eq!(printed, checked);
    }

    #[test]
    fn a_whole_base_spec_is_a_valid_environment() {
        let base = "{version: 8.3.4, adminPasswordSecret: s, frontend: {replicas: 2,
                     autoscaling: {maxReplicas: 4}}, ingress: {host: a.example.com}, modules: [perspective]}";
        assert!(environment_problems(base).is_empty());
    }
}
