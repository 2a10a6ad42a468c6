//! What each subcommand does, between reading its input and writing its output. Errors are
//! returned, never printed here: `main` prints them once.

use std::path::{Path, PathBuf};

use serde_norway::Value;

use crate::error::{located, result_line, Error, Status};
use crate::function::{self, Outcome};
use crate::generate::Object;
use crate::io::{self, read_stdin};
use crate::krm::{self, KrmResult, ResourceList};
use crate::spec;
use crate::tree::misspelt_kind;
use crate::yaml;

/// How `manifests` picks the environment of each spec.
#[derive(Debug, Clone, Copy)]
pub enum Choice<'a> {
    /// The spec's own `ignition.krm.dev/environment` annotation, as in the KRM function (the legacy
    /// kubectl plugin): none means the base.
    Annotation,
    /// Given outside the spec: `name` (`base` for the base spec) or none at all, which is an error
    /// for a spec that has environments. `given_as` names the option or variable in messages and
    /// `how` says how to choose.
    Given {
        name: Option<&'a str>,
        given_as: &'a str,
        how: &'a str,
    },
}

/// The KRM function: stdin to stdout; on any error the results on stdout and the error lines.
pub fn krm_function() -> Result<Status, Error> {
    let outcome = match read_stdin()
        .and_then(|text| krm::read_text(text).map_err(|error| Error::Invalid(vec![error.to_string()])))
    {
        Ok(list) => function::process(list),
        Err(error) => Outcome {
            items: Vec::new(),
            generated: Vec::new(),
            results: error.lines().into_iter().map(KrmResult::error).collect(),
            source: Default::default(),
        },
    };
    warn(&outcome.results);
    let errors = error_lines(&outcome.results);
    let written = io::emit_with(|out| {
        krm::write_with_source_to(
            out,
            &outcome.items,
            &outcome.generated,
            &outcome.source,
            &outcome.results,
        )
    });
    // The process ends here: freeing every node of a large tree one by one would cost more than the
    // rest of the write, and the kernel takes the memory back at once.
    std::mem::forget(outcome);
    if errors.is_empty() {
        written.map(|()| Status::Ok)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The function's own parse-and-write path with generation skipped: the floor it is measured against.
pub fn passthrough() -> Result<Status, Error> {
    let text = read_stdin()?;
    let list = krm::read_text(text).map_err(|error| Error::Invalid(vec![error.to_string()]))?;
    let written = io::emit_with(|out| krm::write_with_source_to::<Value>(out, &list.items, &[], &list.source, &[]));
    // As in the function: the process ends here, the kernel frees the memory.
    std::mem::forget(list);
    written.map(|()| Status::Ok)
}

/// Warnings go to stderr as they are found (kustomize shows stderr, not results); errors are returned.
fn warn(results: &[KrmResult]) {
    for result in results
        .iter()
        .filter(|result| result.severity == krm::Severity::Warning)
    {
        eprintln!("ignition-krm: warning: {}", result_line(result));
    }
}

fn error_lines(results: &[KrmResult]) -> Vec<String> {
    results
        .iter()
        .filter(|result| result.is_error())
        .map(result_line)
        .collect()
}

/// Plain manifests of the inputs (files, directories, `-`): every spec expanded, every other object
/// passed through unchanged (objects marked `config.kubernetes.io/local-config: "true"` excepted, as
/// kustomize drops them). Nothing at all on stdout when anything is wrong.
pub fn manifests(inputs: &[PathBuf], choice: Choice) -> Result<Status, Error> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let documents = io::read_inputs(inputs)?;
    if !documents
        .iter()
        .any(|document| spec::is_ignition_cluster(&document.object))
    {
        let inputs: Vec<String> = inputs.iter().map(|input| input.display().to_string()).collect();
        problems.push(format!("no {} in {}", spec::KIND, inputs.join(", ")));
    }
    for document in documents {
        let mut object = document.object;
        if spec::is_ignition_cluster(&object) {
            set_annotation(&mut object, krm::PATH_ANNOTATION, &document.file);
            if let Choice::Given { name, given_as, how } = choice {
                if let Some(problem) = check_choice(&object, name, given_as, how) {
                    problems.push(located(&document.file, problem));
                }
                if let Some(name) = name {
                    set_annotation(&mut object, spec::ENVIRONMENT_ANNOTATION, name);
                }
            }
        } else if let Some(message) = misspelt_kind(&object) {
            problems.push(located(&document.file, format!("kind: {message}")));
        }
        items.push(object);
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let outcome = function::process(ResourceList {
        items,
        ..Default::default()
    });
    if outcome.has_errors() {
        return Err(Error::Invalid(error_lines(&outcome.results)));
    }
    let mut objects: Vec<Value> = outcome
        .items
        .into_iter()
        .filter(|item| {
            !spec::is_ignition_cluster(item)
                && !spec::is_gateway_resource(item)
                && krm::annotation(item, "config.kubernetes.io/local-config") != Some("true")
        })
        .collect();
    objects.iter_mut().for_each(krm::strip_orchestrator_annotations);
    let mut generated = outcome.generated;
    generated.iter_mut().for_each(Object::strip_orchestrator_annotations);
    let written = io::emit_with(|out| {
        let mut output = krm::Chunked::new(out);
        for object in &objects {
            output.text.push_str("---\n");
            yaml::write_document(&mut output.text, object);
            output.written_one()?;
        }
        for object in &generated {
            output.text.push_str("---\n");
            object.write_document(&mut output.text);
            output.written_one()?;
        }
        output.finish()
    });
    // As in the function: the process ends here, and freeing every node costs more than the kernel does.
    std::mem::forget((objects, generated));
    written.map(|()| Status::Ok)
}

/// The problem with an environment chosen outside the spec, if any: a name the spec does not have, or
/// no name for a spec that has environments. A spec with problems of its own is left to the function,
/// which reports them all.
fn check_choice(object: &Value, name: Option<&str>, given_as: &str, how: &str) -> Option<String> {
    // The names are read from the object, and the spec is loaded only to confirm a problem: loading it is a second
    // validation of the whole spec, which the function does anyway. Once it loads, its environments are exactly the
    // string keys of `spec.environments`.
    let mut names: Vec<&str> = object
        .get("spec")
        .and_then(|spec| spec.get("environments"))
        .and_then(Value::as_mapping)
        .map(|environments| environments.keys().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    let known = names.join(", ");
    let problem = match name {
        None if !names.is_empty() => Some(format!(
            "{}: the spec has environments ({known}) and none was chosen: {how} to one of them, or to {} for the base spec",
            spec::FieldPath::spec().field("environments"),
            spec::BASE_ENVIRONMENT
        )),
        Some(name) if name != spec::BASE_ENVIRONMENT && !names.contains(&name) => {
            let known = if known.is_empty() {
                "the spec has no spec.environments".to_owned()
            } else {
                format!("known: {known}")
            };
            Some(format!(
                "{given_as}: environment {name:?} is not in spec.environments ({known}; {} is the base spec)",
                spec::BASE_ENVIRONMENT
            ))
        }
        _ => None,
    };
    problem.filter(|_| spec::load_all(object).is_ok())
}

fn set_annotation(object: &mut Value, key: &str, value: &str) {
    let Some(object) = object.as_mapping_mut() else {
        return;
    };
    let metadata = object
        .entry("metadata".into())
        .or_insert(Value::Mapping(Default::default()));
    let Some(metadata) = metadata.as_mapping_mut() else {
        return;
    };
    let annotations = metadata
        .entry("annotations".into())
        .or_insert(Value::Mapping(Default::default()));
    if let Some(annotations) = annotations.as_mapping_mut() {
        annotations.insert(key.into(), value.into());
    }
}

/// The Argo CD plugin: the manifests of the app directory for the environment the Application asks for.
pub fn argocd_generate(inputs: &[PathBuf]) -> Result<Status, Error> {
    let non_empty = |name: &str| std::env::var(name).ok();
    let chosen = crate::argocd::environment(
        non_empty(crate::argocd::ENVIRONMENT_VARIABLE),
        non_empty(crate::argocd::PARAMETERS_VARIABLE),
    )?;
    let (name, given_as) = match &chosen {
        Some((name, given_as)) => (Some(name.as_str()), *given_as),
        None => (None, crate::argocd::ENVIRONMENT_VARIABLE),
    };
    manifests(
        inputs,
        Choice::Given {
            name,
            given_as,
            how: crate::argocd::HOW_TO_CHOOSE,
        },
    )
}

/// `validate`: every problem of every spec in the inputs, and nothing generated.
pub fn validate(inputs: &[PathBuf]) -> Result<Status, Error> {
    let mut problems = Vec::new();
    let mut specs = 0;
    for document in io::read_inputs(inputs)? {
        if spec::is_ignition_cluster(&document.object) {
            specs += 1;
            if let Err(found) = spec::load_all(&document.object) {
                problems.extend(found.iter().map(|problem| located(&document.file, problem)));
            }
        } else if spec::is_gateway_resource(&document.object) {
            // On its own here; what needs its site (8.3, tiers, modes) is checked where it is expanded.
            if let Err(found) = spec::load_resource(&document.object) {
                let name = document.object["metadata"]["name"].as_str().unwrap_or_default();
                problems.extend(
                    found
                        .iter()
                        .map(|problem| located(&document.file, format!("{} {name}: {problem}", spec::RESOURCE_KIND))),
                );
            }
        } else if let Some(message) = misspelt_kind(&document.object) {
            problems.push(located(&document.file, format!("kind: {message}")));
        }
    }
    if specs == 0 && problems.is_empty() {
        problems.push(format!("no {} found in the given inputs", spec::KIND));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    eprintln!("ignition-krm validate: {specs} specs valid");
    Ok(Status::Ok)
}

/// The spec `init` writes: a commented scaleout or failover site with a dev and a prod environment.
pub fn init_spec(name: &str, namespace: &str, failover: bool) -> String {
    let architecture = if failover {
        "  architecture: failover            # a master/backup pair (spec.gateway)\n  gateway:\n    resources: {cpu: \"2\", memory: 4Gi}\n    storage: {size: 20Gi}\n"
            .to_owned()
    } else {
        "  architecture: scaleout            # a redundant backend pair and N frontends\n  backend:\n    resources: {cpu: \"2\", memory: 4Gi}\n    storage: {size: 20Gi}\n  frontend:\n    replicas: 2\n    resources: {cpu: \"1\", memory: 2Gi}\n"
            .to_owned()
    };
    let prod = if failover {
        "    prod:\n      gateway:\n        resources: {cpu: \"4\", memory: 8Gi}\n"
    } else {
        "    prod:\n      frontend:\n        replicas: 3\n"
    };
    format!(
        "# Written by ignition-krm init: yours to edit. Check it with `ignition-krm validate .`, render it with
# `ignition-krm render . --out rendered`; `ignition-krm schema` prints the JSON Schema for your editor.
apiVersion: {api_version}
kind: {kind}
metadata:
  name: {name}
  namespace: {namespace}
spec:
{architecture}  version: \"8.3.3\"                   # an exact release: 8.1.x or 8.3.x
  timezone: UTC
  adminPasswordSecret: {name}-admin   # create it: a Secret with key \"password\"
  environments:                       # partial specs merged over the rest of spec
    dev: {{}}
{prod}",
        api_version = spec::API_VERSION,
        kind = spec::KIND,
    )
}

/// `init`: writes `DIR/ignition.yaml`, never over an existing file.
pub fn init(dir: &Path, name: &str, namespace: &str, failover: bool) -> Result<Status, Error> {
    for (option, value) in [("--name", name), ("--namespace", namespace)] {
        spec::check_name(option, value).map_err(|problem| Error::Invalid(vec![problem.to_string()]))?;
    }
    std::fs::create_dir_all(dir).map_err(|error| Error::write(dir, "create", error))?;
    let file = dir.join("ignition.yaml");
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => Error::invalid(
                file.display().to_string(),
                "already exists: init never overwrites a file",
            ),
            _ => Error::write(&file, "create", error),
        })?;
    std::io::Write::write_all(&mut handle, init_spec(name, namespace, failover).as_bytes())
        .map_err(|error| Error::write(&file, "write", error))?;
    eprintln!("ignition-krm init: wrote {}", file.display());
    Ok(Status::Ok)
}
