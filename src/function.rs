//! The KRM function itself: a ResourceList in, a ResourceList out.
//!
//! Every `IgnitionCluster` it is given (the function config, or else each one among the items) is
//! read and validated; if all are valid, the objects they own are replaced by freshly generated
//! ones and every other item passes through untouched. If any is invalid, nothing is generated and
//! the items come back unchanged, with one error result per problem.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::StatefulSet;
use serde_norway::Value;

use crate::generate::{self, Object, OWNER_ANNOTATION};
use crate::krm::{self, Field, File, KrmResult, ResourceList, Severity, Source};
use crate::object_id::ObjectId;
use crate::spec::{self, Problem};

/// What the function produced: the output items (those passed through, then those generated) and results.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The items passed through.
    pub items: Vec<Value>,
    /// The generated objects, which follow `items` in the output.
    pub generated: Vec<Object>,
    pub results: Vec<KrmResult>,
    /// Where the pass-through items came from, to copy them as they came in (see [`krm::write_with_source`]).
    pub source: Source,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.results.iter().any(KrmResult::is_error)
    }

    /// The generated objects as YAML values.
    pub fn generated_items(&self) -> Vec<Value> {
        self.generated.iter().map(Object::to_value).collect()
    }

    /// The output ResourceList, every item written anew (not copied from the input): for tests and benchmarks.
    pub fn write(&self) -> String {
        let mut out = Vec::new();
        krm::write_with_source_to(
            &mut out,
            &self.items,
            &self.generated,
            &Source::default(),
            &self.results,
        )
        .unwrap_or_else(|error| unreachable!("writing to memory cannot fail: {error}"));
        String::from_utf8(out).unwrap_or_else(|error| unreachable!("YAML text is UTF-8: {error}"))
    }
}

/// Runs the function on a ResourceList.
pub fn process(list: ResourceList) -> Outcome {
    let configs: Vec<&Value> = match &list.function_config {
        Some(config) => vec![config],
        None => list
            .items
            .iter()
            .filter(|item| spec::is_ignition_cluster(item))
            .collect(),
    };
    if configs.is_empty() {
        let result = KrmResult::error(format!(
            "no {} to expand: give one as the function config (kustomize generators:, kpt --fn-config) or among the items",
            spec::KIND
        ));
        return failed(list.items, list.source, vec![result]);
    }

    let mut results = Vec::new();
    // The GatewayResource items (8.3 configuration as files): each read on its own, then given to
    // the site it names. They pass through like the specs.
    let resource_objects: Vec<&Value> = list
        .items
        .iter()
        .filter(|item| spec::is_gateway_resource(item))
        .collect();
    let mut resources = Vec::new();
    for object in &resource_objects {
        match spec::load_resource(object) {
            Ok(item) => resources.push((resources.len(), *object, item)),
            Err(problems) => {
                let file = source_file(object, &list.items);
                results.extend(
                    problems
                        .into_iter()
                        .map(|problem| problem_result(object, file.clone(), problem)),
                );
            }
        }
    }
    let site_names: BTreeSet<&str> = configs
        .iter()
        .filter_map(|config| config["metadata"]["name"].as_str())
        .collect();
    for (_, object, item) in &resources {
        if !site_names.contains(item.site.as_str()) {
            results.push(problem_result(
                object,
                source_file(object, &list.items),
                Problem::new(
                    spec::FieldPath::spec().field("site"),
                    format!(
                        "no {} is named {:?} (known: {})",
                        spec::KIND,
                        item.site,
                        site_names.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                )
                .current(&item.site),
            ));
        }
    }
    let mut owners = BTreeSet::new();
    let mut generated = Vec::new();
    for config in configs {
        let environment = krm::annotation(config, spec::ENVIRONMENT_ANNOTATION);
        match spec::load(config, environment) {
            Ok(mut site) => {
                let mine: Vec<(usize, &spec::ResourceItem)> = resources
                    .iter()
                    .filter(|(_, _, item)| item.site == site.name)
                    .map(|(index, _, item)| (*index, item))
                    .collect();
                let attached = spec::attach_resources(&mut site, &mine);
                if !attached.is_empty() {
                    for (index, problem) in attached {
                        let object = resources[index].1;
                        results.push(problem_result(object, source_file(object, &list.items), problem));
                    }
                    continue;
                }
                let owner = generate::owner_id(site.namespace.as_deref(), &site.name);
                if owners.insert(owner.clone()) {
                    generated.extend(generate::generate(&site));
                } else {
                    results.push(problem_result(
                        config,
                        source_file(config, &list.items),
                        Problem::new(
                            "metadata.name",
                            format!("another {} is also named {owner}: names must be unique", spec::KIND),
                        ),
                    ));
                }
            }
            Err(problems) => {
                let file = source_file(config, &list.items);
                results.extend(
                    problems
                        .into_iter()
                        .map(|problem| problem_result(config, file.clone(), problem)),
                );
            }
        }
    }
    if !results.is_empty() {
        return failed(list.items, list.source, results);
    }

    // Objects generated by an earlier run are replaced, never duplicated; those whose spec is no
    // longer in the input at all (a renamed site in a kpt package) are dropped too.
    let present: BTreeSet<String> = list
        .function_config
        .iter()
        .chain(list.items.iter().filter(|item| spec::is_ignition_cluster(item)))
        .map(spec_owner_id)
        .collect();
    let warnings = recreated_stateful_sets(&list.items, &owners, &present, &generated);
    let keep: Vec<bool> = list
        .items
        .iter()
        .map(|item| {
            krm::annotation(item, OWNER_ANNOTATION)
                .is_none_or(|owner| !owners.contains(owner) && present.contains(owner))
        })
        .collect();
    let mut items = list.items;
    let mut source = list.source;
    let mut kept = keep.iter();
    items.retain(|_| kept.next().copied().unwrap_or(false));
    source.retain(&keep);
    let conflicts = conflicting_identities(&items, &generated);
    if !conflicts.is_empty() {
        let results = conflicts
            .into_iter()
            .map(|identity| {
                KrmResult::error(format!(
                    "a generated object has the same apiVersion, kind, namespace and name as an existing item: {identity}; rename or remove the existing item"
                ))
            })
            .collect();
        return failed(items, source, results);
    }
    Outcome {
        items,
        generated,
        results: warnings,
        source,
    }
}

/// Warnings for the StatefulSets of an earlier run (owned objects in the input) that this run
/// recreates or drops: gone under their name (an architecture switch, or a site renamed in a kpt
/// package, whose old spec is no longer in the input), or with other claim
/// templates. Kubernetes does not carry PersistentVolumeClaims over to a new StatefulSet name or
/// claim name (Kubernetes docs, "StatefulSets", stable storage: claims are named
/// `<template>-<statefulset>-<ordinal>`), so the gateway starts on an empty data volume.
fn recreated_stateful_sets(
    items: &[Value],
    owners: &BTreeSet<String>,
    present: &BTreeSet<String>,
    generated: &[Object],
) -> Vec<KrmResult> {
    let old_claims = |object: &Value| -> Vec<String> {
        object["spec"]["volumeClaimTemplates"]
            .as_sequence()
            .map(|templates| {
                templates
                    .iter()
                    .filter_map(|template| template["metadata"]["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let new_claims = |stateful_set: &StatefulSet| -> Vec<String> {
        let templates = stateful_set
            .spec
            .as_ref()
            .and_then(|spec| spec.volume_claim_templates.as_ref());
        templates
            .into_iter()
            .flatten()
            .filter_map(|template| template.metadata.name.clone())
            .collect()
    };
    let new_name = |stateful_set: &StatefulSet| stateful_set.metadata.name.clone().unwrap_or_default();
    let new: Vec<&StatefulSet> = generated.iter().filter_map(Object::as_stateful_set).collect();
    let mut warnings = Vec::new();
    for old in items.iter().filter(|item| {
        item["kind"] == "StatefulSet"
            && krm::annotation(item, OWNER_ANNOTATION)
                .is_some_and(|owner| owners.contains(owner) || !present.contains(owner))
    }) {
        let old_name = old["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        // The namespace as the value compares it: none is null.
        let old_namespace = &old["metadata"]["namespace"];
        let message = match new.iter().find(|object| {
            new_name(object) == old_name
                && *old_namespace == object.metadata.namespace.as_deref().map_or(Value::Null, Value::from)
        }) {
            None => format!(
                "StatefulSet {old_name} is no longer generated (now: {}): applying this deletes it and starts the gateways on new, empty PersistentVolumeClaims; the claims of {old_name} keep the data but are not reused (README, \"Upgrades\")",
                new.iter().map(|object| new_name(object)).collect::<Vec<_>>().join(", ")
            ),
            Some(object) if new_claims(object) != old_claims(old) => format!(
                "StatefulSet {old_name} changes its volume claim templates from [{}] to [{}]: the API server refuses the change, and recreating it starts the gateways on new, empty claims (README, \"Upgrades\")",
                old_claims(old).join(", "),
                new_claims(object).join(", ")
            ),
            Some(_) => continue,
        };
        warnings.push(KrmResult {
            message,
            severity: Severity::Warning,
            resource_ref: Some(ObjectId::of(old)),
            field: None,
            file: None,
            tags: Default::default(),
        });
    }
    warnings
}

/// The owner id a spec object gives its objects, read from the raw object.
fn spec_owner_id(object: &Value) -> String {
    ObjectId::of(object).namespaced_name()
}

fn failed(items: Vec<Value>, source: Source, results: Vec<KrmResult>) -> Outcome {
    Outcome {
        items,
        generated: Vec::new(),
        results,
        source,
    }
}

/// Every generated object that an item already has.
fn conflicting_identities(items: &[Value], generated: &[Object]) -> Vec<ObjectId> {
    // Compared borrowed, so only a conflict is copied into an ObjectId.
    let existing: BTreeSet<(&str, &str, &str, &str)> = items.iter().map(ObjectId::borrowed).collect();
    generated
        .iter()
        .filter(|object| existing.contains(&object.borrowed_id()))
        .map(Object::id)
        .collect()
}

/// The file a spec came from: its own path annotation, or that of the item it was copied from
/// (kustomize and kpt pass the function config without one).
fn source_file(config: &Value, items: &[Value]) -> Option<File> {
    let file_of = |object: &Value| {
        let path = krm::annotation(object, krm::PATH_ANNOTATION)
            .or_else(|| krm::annotation(object, krm::LEGACY_PATH_ANNOTATION))?;
        let index = krm::annotation(object, krm::INDEX_ANNOTATION)
            .or_else(|| krm::annotation(object, krm::LEGACY_INDEX_ANNOTATION))
            .and_then(|index| index.parse().ok());
        Some(File {
            path: path.to_owned(),
            index,
        })
    };
    file_of(config).or_else(|| {
        let wanted = ObjectId::of(config);
        items.iter().find(|item| ObjectId::of(item) == wanted).and_then(file_of)
    })
}

/// An error result for a problem of one spec, pointing at the spec object and its file.
fn problem_result(config: &Value, file: Option<File>, problem: Problem) -> KrmResult {
    KrmResult {
        message: krm::abbreviate(&problem.message),
        severity: Severity::Error,
        resource_ref: Some(ObjectId::of(config).map(krm::abbreviate)),
        field: (!problem.path.is_empty()).then_some(Field {
            path: krm::abbreviate(&problem.path),
            current_value: problem.current.as_deref().map(krm::abbreviate),
            proposed_value: problem.proposed.as_deref().map(krm::abbreviate),
        }),
        file,
        tags: Default::default(),
    }
}

/// One line per error result, for stderr: kustomize shows stderr, not results.
pub fn describe(result: &KrmResult) -> String {
    let mut line = String::new();
    if let Some(reference) = &result.resource_ref {
        line.push_str(&format!("{}: ", reference.kind_and_name()));
    }
    if let Some(field) = &result.field {
        line.push_str(&format!("{}: ", field.path));
    }
    line.push_str(&result.message.replace('\n', " "));
    line
}
