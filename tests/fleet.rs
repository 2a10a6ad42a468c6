//! Fleets (`render --fleet argocd|flux`): the ApplicationSet, the Applications it makes and the Flux
//! Kustomizations are checked against the openAPIV3Schema of the real Argo CD and Flux CRDs (the
//! copies in shared/tools/kube-apiserver/crds, found beside the repository), every deployment points
//! at a rendered directory, `render --check` sees fleet drift, and bad options are refused with one
//! line each and nothing written.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value as Json;

const EXAMPLE_SITES: &str = "examples/sites";
const EXAMPLE_FLEETS: &str = "examples/fleets";
/// The options the committed example fleet is rendered with (README, "Fleets"), but `--repo-path`.
const EXAMPLE_FLEET: &[&str] = &[
    "--fleet",
    "argocd",
    "--fleet",
    "flux",
    "--repo-url",
    "https://git.example.com/plants.git",
    "--revision",
    "main",
    "--flux-source",
    "plants",
];

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fleet-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn render_in(dir: &Path, args: &[&str]) -> Output {
    ignition_krm()
        .current_dir(dir)
        .arg("render")
        .args(args)
        .output()
        .unwrap()
}

/// The arguments that render the example fleet into `<scratch>/fleets` for the tree in
/// `<scratch>/rendered` (the scratch directory stands for the repository root).
fn fleet_args(sites: &Path) -> Vec<String> {
    let mut args: Vec<String> = [sites.to_str().unwrap(), "--out", "fleets", "--repo-path", "rendered"]
        .map(str::to_owned)
        .to_vec();
    args.extend(EXAMPLE_FLEET.iter().map(|arg| (*arg).to_owned()));
    args
}

/// Renders the example sites into `<scratch>/rendered` and their fleets into `<scratch>/fleets`.
fn render_examples(name: &str) -> PathBuf {
    let dir = scratch(name);
    let sites = repo_root().join(EXAMPLE_SITES);
    let output = render_in(&dir, &[sites.to_str().unwrap(), "--out", "rendered"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let args = fleet_args(&sites);
    let output = render_in(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

fn yaml_file(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let value: serde_norway::Value = parse(&text);
    serde_json::to_value(value).unwrap()
}

// ------------------------------------------------------------------------------ the CRD schemas

/// The shared CRDs: `shared/tools/kube-apiserver/crds` in the nearest ancestor of the repository
/// that has it (CI lays shared/ beside the clone).
fn crd_dir() -> PathBuf {
    repo_root()
        .ancestors()
        .map(|dir| dir.join("shared/tools/kube-apiserver/crds"))
        .find(|dir| dir.is_dir())
        .expect("shared/tools/kube-apiserver/crds not found beside the repository: the fleet tests check against those CRDs")
}

/// The openAPIV3Schema of a CRD's version.
fn crd_schema(file: &str, version: &str) -> Json {
    let crd = yaml_file(&crd_dir().join(file));
    crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == version)
        .unwrap_or_else(|| panic!("{file} has no version {version}"))["schema"]["openAPIV3Schema"]
        .clone()
}

/// A structural-schema check as the API server does it for these CRDs: types, unknown fields
/// (rejected unless `x-kubernetes-preserve-unknown-fields`), `required`, `enum`, `pattern`, lengths,
/// ranges, `items`, `additionalProperties`, `anyOf` and int-or-string. `format` is not checked (no
/// field we write has one), and the CEL rules (`x-kubernetes-validations`) met on present fields
/// are returned so a test can require that there are none it has not reviewed.
fn validate(value: &Json, schema: &Json, path: &str, errors: &mut Vec<String>, rules: &mut Vec<String>) {
    if path == ".metadata" {
        // The object's own metadata is ObjectMeta whatever the CRD says: see `check`.
        return;
    }
    if let Some(validations) = schema.get("x-kubernetes-validations").and_then(Json::as_array) {
        rules.extend(validations.iter().map(|rule| format!("{path}: {}", rule["rule"])));
    }
    if let Some(alternatives) = schema.get("anyOf").and_then(Json::as_array) {
        let fits = alternatives.iter().any(|alternative| {
            let mut alternative_errors = Vec::new();
            validate(value, alternative, path, &mut alternative_errors, &mut Vec::new());
            alternative_errors.is_empty()
        });
        if !fits {
            errors.push(format!("{path}: matches no anyOf alternative"));
        }
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Json::Bool(true)) {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!("{path}: expected an integer or a string, found {value}"));
        }
        return;
    }
    let preserve = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Json::Bool(true));
    match schema.get("type").and_then(Json::as_str) {
        Some("object") => {
            let Some(object) = value.as_object() else {
                errors.push(format!("{path}: expected an object, found {value}"));
                return;
            };
            for required in schema.get("required").and_then(Json::as_array).into_iter().flatten() {
                if !object.contains_key(required.as_str().unwrap()) {
                    errors.push(format!("{path}: required field {required} is missing"));
                }
            }
            let properties = schema.get("properties").and_then(Json::as_object);
            let additional = schema.get("additionalProperties").filter(|schema| schema.is_object());
            for (key, field) in object {
                let field_path = format!("{path}.{key}");
                match (properties.and_then(|properties| properties.get(key)), additional) {
                    (Some(field_schema), _) | (None, Some(field_schema)) => {
                        validate(field, field_schema, &field_path, errors, rules)
                    }
                    (None, None) if preserve => {}
                    (None, None) => errors.push(format!("{field_path}: field not declared in schema")),
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                errors.push(format!("{path}: expected an array, found {value}"));
                return;
            };
            if let Some(max) = schema.get("maxItems").and_then(Json::as_u64) {
                if items.len() as u64 > max {
                    errors.push(format!("{path}: more than {max} items"));
                }
            }
            if let Some(min) = schema.get("minItems").and_then(Json::as_u64) {
                if (items.len() as u64) < min {
                    errors.push(format!("{path}: fewer than {min} items"));
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    validate(item, item_schema, &format!("{path}[{index}]"), errors, rules);
                }
            }
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                errors.push(format!("{path}: expected a string, found {value}"));
                return;
            };
            if let Some(values) = schema.get("enum").and_then(Json::as_array) {
                if !values.contains(value) {
                    errors.push(format!("{path}: {text:?} is not one of {values:?}"));
                }
            }
            if let Some(pattern) = schema.get("pattern").and_then(Json::as_str) {
                if !regex::Regex::new(pattern).unwrap().is_match(text) {
                    errors.push(format!("{path}: {text:?} does not match {pattern}"));
                }
            }
            let length = text.chars().count() as u64;
            if let Some(max) = schema.get("maxLength").and_then(Json::as_u64) {
                if length > max {
                    errors.push(format!("{path}: longer than {max}"));
                }
            }
            if let Some(min) = schema.get("minLength").and_then(Json::as_u64) {
                if length < min {
                    errors.push(format!("{path}: shorter than {min}"));
                }
            }
        }
        Some("boolean") if !value.is_boolean() => errors.push(format!("{path}: expected a boolean, found {value}")),
        Some("integer") if !(value.is_i64() || value.is_u64()) => {
            errors.push(format!("{path}: expected an integer, found {value}"))
        }
        Some("number") if !value.is_number() => errors.push(format!("{path}: expected a number, found {value}")),
        _ => {}
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Json::as_f64) {
            if number < min {
                errors.push(format!("{path}: less than {min}"));
            }
        }
        if let Some(max) = schema.get("maximum").and_then(Json::as_f64) {
            if number > max {
                errors.push(format!("{path}: more than {max}"));
            }
        }
    }
}

/// The schema problems of an object, and the CEL rules met.
fn check(object: &Json, schema: &Json) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    validate(object, schema, "", &mut errors, &mut rules);
    // What the API server checks of every object, whatever its schema: the name and the labels.
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    if !is_dns_subdomain(name) {
        errors.push(format!(".metadata.name: {name:?} is not a DNS subdomain"));
    }
    for (key, value) in object["metadata"]["labels"].as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or("not a string");
        if !is_label_value(value) {
            errors.push(format!(".metadata.labels.{key}: {value:?} is not a label value"));
        }
    }
    (errors, rules)
}

fn is_dns_subdomain(name: &str) -> bool {
    let label = regex::Regex::new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").unwrap();
    !name.is_empty() && name.len() <= 253 && name.split('.').all(|part| label.is_match(part))
}

fn is_label_value(value: &str) -> bool {
    value.len() <= 63
        && regex::Regex::new("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
            .unwrap()
            .is_match(value)
}

/// The Applications an ApplicationSet's list generator and Go template make: each `{{.key}}` of the
/// template replaced by the element's value (the only template action the fleet uses).
fn applications(application_set: &Json) -> Vec<Json> {
    assert_eq!(application_set["spec"]["goTemplate"], Json::Bool(true));
    let template = serde_json::to_string(&application_set["spec"]["template"]).unwrap();
    let action = regex::Regex::new(r"\{\{\s*\.(\w+)\s*\}\}").unwrap();
    let generators = application_set["spec"]["generators"].as_array().unwrap();
    assert_eq!(generators.len(), 1);
    generators[0]["list"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|element| {
            let text = action.replace_all(&template, |captures: &regex::Captures| {
                let value = element
                    .get(&captures[1])
                    .and_then(Json::as_str)
                    .unwrap_or_else(|| panic!("missingkey=error: an element lacks {}", &captures[1]));
                // The value lands inside a JSON string.
                let quoted = serde_json::to_string(value).unwrap();
                quoted[1..quoted.len() - 1].to_owned()
            });
            let mut application: Json = serde_json::from_str(&text).unwrap();
            let object = application.as_object_mut().unwrap();
            object.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
            object.insert("kind".into(), "Application".into());
            object["metadata"]
                .as_object_mut()
                .unwrap()
                .insert("namespace".into(), application_set["metadata"]["namespace"].clone());
            application
        })
        .collect()
}

/// Every deployment the example fleet must have: per site, its environments, or its base.
fn expected_deployments(rendered: &Path) -> BTreeMap<String, String> {
    let mut expected = BTreeMap::new();
    for spec in std::fs::read_dir(repo_root().join(EXAMPLE_SITES)).unwrap() {
        let spec = parse(&std::fs::read_to_string(spec.unwrap().path().join("ignition.yaml")).unwrap());
        let site = spec["metadata"]["name"].as_str().unwrap().to_owned();
        match spec["spec"]["environments"].as_mapping() {
            Some(environments) => {
                for environment in environments.keys() {
                    let environment = environment.as_str().unwrap();
                    expected.insert(
                        format!("{site}-{environment}"),
                        format!("{}/{site}/overlays/{environment}", rendered.display()),
                    );
                }
            }
            None => {
                expected.insert(site.clone(), format!("{}/{site}/base", rendered.display()));
            }
        }
    }
    expected
}

#[test]
fn the_application_set_and_its_applications_match_the_argocd_crds() {
    let dir = render_examples("argocd-schema");
    let application_set = yaml_file(&dir.join("fleets/argocd/applicationset.yaml"));
    let (errors, rules) = check(
        &application_set,
        &crd_schema("argocd/applicationset-crd.yaml", "v1alpha1"),
    );
    assert_eq!(errors, Vec::<String>::new(), "the ApplicationSet breaks its CRD");
    assert_eq!(rules, Vec::<String>::new(), "CEL rules to review");

    let application_schema = crd_schema("argocd/application-crd.yaml", "v1alpha1");
    let applications = applications(&application_set);
    let mut deployed = BTreeMap::new();
    for application in &applications {
        let (errors, rules) = check(application, &application_schema);
        assert_eq!(
            errors,
            Vec::<String>::new(),
            "an Application breaks its CRD:\n{application:#}"
        );
        assert_eq!(rules, Vec::<String>::new(), "CEL rules to review");
        let path = application["spec"]["source"]["path"].as_str().unwrap();
        assert!(
            dir.join(path).join("kustomization.yaml").is_file(),
            "{path} is not a rendered directory"
        );
        assert_eq!(
            application["spec"]["source"]["repoURL"],
            "https://git.example.com/plants.git"
        );
        assert_eq!(application["spec"]["source"]["targetRevision"], "main");
        assert_eq!(application["spec"]["destination"]["namespace"], "scada");
        deployed.insert(
            application["metadata"]["name"].as_str().unwrap().to_owned(),
            path.to_owned(),
        );
    }
    assert_eq!(deployed, expected_deployments(Path::new("rendered")));
}

#[test]
fn the_flux_kustomizations_match_the_flux_crd() {
    let dir = render_examples("flux-schema");
    let schema = crd_schema("flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml", "v1");
    let fleet = dir.join("fleets/flux");
    let listed = yaml_file(&fleet.join("kustomization.yaml"));
    let mut deployed = BTreeMap::new();
    for file in listed["resources"].as_array().unwrap() {
        let object = yaml_file(&fleet.join(file.as_str().unwrap()));
        assert_eq!(object["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
        assert_eq!(object["kind"], "Kustomization");
        let (errors, rules) = check(&object, &schema);
        assert_eq!(
            errors,
            Vec::<String>::new(),
            "a Flux Kustomization breaks its CRD:\n{object:#}"
        );
        // kubeConfig's rule only applies when spec.kubeConfig is set, which the fleet never does.
        assert_eq!(rules, Vec::<String>::new(), "CEL rules to review");
        assert_eq!(object["spec"]["sourceRef"]["name"], "plants");
        assert_eq!(object["spec"]["prune"], true);
        let path = object["spec"]["path"].as_str().unwrap().strip_prefix("./").unwrap();
        assert!(
            dir.join(path).join("kustomization.yaml").is_file(),
            "{path} is not a rendered directory"
        );
        deployed.insert(object["metadata"]["name"].as_str().unwrap().to_owned(), path.to_owned());
    }
    assert_eq!(deployed, expected_deployments(Path::new("rendered")));
}

#[test]
fn the_schema_check_fails_on_objects_the_api_server_would_refuse() {
    // The check must be able to fail: each broken copy of a valid object is refused.
    let dir = render_examples("negative-control");
    let schema = crd_schema("flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml", "v1");
    let valid = yaml_file(&dir.join("fleets/flux/kustomization-plant-c-dev.yaml"));
    assert!(check(&valid, &schema).0.is_empty());
    type Breakage = (&'static str, fn(&mut Json));
    let broken: [Breakage; 5] = [
        ("unknown field", |object| object["spec"]["pruned"] = true.into()),
        ("bad interval", |object| {
            object["spec"]["interval"] = "10 minutes".into()
        }),
        ("missing sourceRef", |object| {
            object["spec"].as_object_mut().unwrap().remove("sourceRef");
        }),
        ("bad source kind", |object| {
            object["spec"]["sourceRef"]["kind"] = "Git".into()
        }),
        ("bad label value", |object| {
            object["metadata"]["labels"]["ignition.krm.dev/environment"] = "{{.environment}}".into()
        }),
    ];
    for (what, breaks) in broken {
        let mut object = valid.clone();
        breaks(&mut object);
        assert!(!check(&object, &schema).0.is_empty(), "{what} passed the schema check");
    }
    let application_set = yaml_file(&dir.join("fleets/argocd/applicationset.yaml"));
    let schema = crd_schema("argocd/applicationset-crd.yaml", "v1alpha1");
    let mut broken = application_set.clone();
    broken["spec"]["template"]["spec"]["source"]["repoUrl"] = "x".into();
    assert!(!check(&broken, &schema).0.is_empty(), "a misspelled repoURL passed");
    let mut broken = application_set;
    broken["spec"]["generators"][0]["list"]["elements"] = "x".into();
    assert!(!check(&broken, &schema).0.is_empty(), "elements as a string passed");
}

// ------------------------------------------------------------------------------------- the tree

#[test]
fn the_committed_example_fleets_are_current() {
    let mut args = vec![
        "render",
        EXAMPLE_SITES,
        "--out",
        EXAMPLE_FLEETS,
        "--repo-path",
        "examples/rendered",
        "--check",
    ];
    args.extend_from_slice(EXAMPLE_FLEET);
    let output = ignition_krm().current_dir(repo_root()).args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "examples/fleets is stale: run `cargo run -- {}` without --check\n{}{}",
        args.join(" "),
        stdout(&output),
        stderr(&output)
    );
    for file in ["argocd/applicationset.yaml", "flux/kustomization.yaml"] {
        assert!(
            repo_root().join(EXAMPLE_FLEETS).join(file).is_file(),
            "{file} is not committed"
        );
    }
}

#[test]
fn check_sees_fleet_drift_and_render_restores_it() {
    let dir = render_examples("drift");
    let args = fleet_args(&repo_root().join(EXAMPLE_SITES));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let check_args: Vec<&str> = args.iter().copied().chain(["--check"]).collect();
    assert!(render_in(&dir, &check_args).status.success(), "a fresh render drifts");

    let application_set = dir.join("fleets/argocd/applicationset.yaml");
    let edited = std::fs::read_to_string(&application_set)
        .unwrap()
        .replace("targetRevision: main", "targetRevision: dev");
    std::fs::write(&application_set, &edited).unwrap();
    std::fs::remove_file(dir.join("fleets/flux/kustomization-plant-d-dev.yaml")).unwrap();
    // A file render wrote once (it carries the header): a file without it would be the user's, and kept.
    std::fs::write(
        dir.join("fleets/flux/kustomization-old-site.yaml"),
        format!("{}kind: Kustomization\n", ignition_krm::render::HEADER),
    )
    .unwrap();
    let checked = render_in(&dir, &check_args);
    let report = stdout(&checked);
    assert_eq!(checked.status.code(), Some(1), "{report}");
    assert!(
        report
            .lines()
            .any(|line| line.starts_with('-') && line.ends_with("targetRevision: dev")),
        "{report}"
    );
    assert!(
        report.contains("missing: fleets/flux/kustomization-plant-d-dev.yaml"),
        "{report}"
    );
    assert!(
        report.contains("stray: fleets/flux/kustomization-old-site.yaml"),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(&application_set).unwrap(),
        edited,
        "--check wrote"
    );

    // The revision is a flag, and a different one is drift too.
    let other: Vec<&str> = check_args
        .iter()
        .map(|arg| if *arg == "main" { "release" } else { arg })
        .collect();
    assert_eq!(render_in(&dir, &other).status.code(), Some(1));

    assert!(render_in(&dir, &args).status.success());
    assert!(
        render_in(&dir, &check_args).status.success(),
        "render did not restore the fleet"
    );
    assert!(!dir.join("fleets/flux/kustomization-old-site.yaml").exists());
    // The sites' tree was never touched by the fleet's render.
    let sites = repo_root().join(EXAMPLE_SITES);
    let tree = render_in(&dir, &[sites.to_str().unwrap(), "--out", "rendered", "--check"]);
    assert!(tree.status.success(), "{}", stdout(&tree));
}

// ----------------------------------------------------------------------------- refused options

/// A site without environments and one with, both namespaced.
const TWO_SITES: &str = "
apiVersion: ignition.krm.dev/v1alpha1
kind: IgnitionCluster
metadata: {name: plant-a, namespace: scada}
spec: {architecture: failover, version: \"8.3.3\", adminPasswordSecret: plant-a-admin}
---
apiVersion: ignition.krm.dev/v1alpha1
kind: IgnitionCluster
metadata: {name: plant-b, namespace: scada-b}
spec:
  architecture: failover
  version: \"8.3.3\"
  adminPasswordSecret: plant-b-admin
  environments: {dev: {}, prod: {}}
";

fn refused(name: &str, specs: &str, args: &[&str], expected: &[&str]) {
    let dir = scratch(name);
    std::fs::write(dir.join("sites.yaml"), specs).unwrap();
    let mut all = vec!["sites.yaml", "--out", "fleets"];
    all.extend_from_slice(args);
    let output = render_in(&dir, &all);
    eprintln!("case {name}");
    assert_refused(&output, expected);
    assert!(!dir.join("fleets").exists(), "{name}: wrote a tree");
}

#[test]
fn missing_or_bad_fleet_options_are_refused_and_nothing_is_written() {
    let path = ["--repo-path", "rendered"];
    let with_path = |args: &[&'static str]| -> Vec<&'static str> { path.iter().chain(args).copied().collect() };
    refused(
        "argocd-bare",
        TWO_SITES,
        &["--fleet", "argocd"],
        &[
            "needs --repo-url",
            "needs --revision",
            "--fleet needs --repo-path: the path of the rendered tree",
        ],
    );
    refused(
        "flux-bare",
        TWO_SITES,
        &with_path(&["--fleet", "flux"]),
        &["--fleet flux needs --flux-source"],
    );
    refused(
        "argocd-empty",
        TWO_SITES,
        &with_path(&["--fleet", "argocd", "--repo-url", "", "--revision", "a b"]),
        &[
            "--repo-url: \"\" must be a URL",
            "--revision: \"a b\" must be a branch, tag or commit",
        ],
    );
    refused(
        "flux-bad-names",
        TWO_SITES,
        &with_path(&[
            "--fleet",
            "flux",
            "--flux-source",
            "Plants",
            "--fleet-namespace",
            "flux.system",
        ]),
        &[
            "--flux-source: \"Plants\" is not a Kubernetes object name",
            "--fleet-namespace: \"flux.system\" is not a DNS label",
        ],
    );
    refused(
        "wrong-kind-option",
        TWO_SITES,
        &with_path(&["--fleet", "flux", "--flux-source", "plants", "--revision", "main"]),
        &["--revision is only used with --fleet argocd"],
    );
    refused(
        "no-fleet",
        TWO_SITES,
        &["--repo-url", "https://x"],
        &["--repo-url is only used with --fleet"],
    );
    refused(
        "absolute-path",
        TWO_SITES,
        &[
            "--fleet",
            "flux",
            "--flux-source",
            "plants",
            "--repo-path",
            "/srv/rendered",
        ],
        &["--repo-path: \"/srv/rendered\" is not a path relative to the repository root"],
    );
    refused(
        "same-directory",
        TWO_SITES,
        &["--fleet", "flux", "--flux-source", "plants", "--repo-path", "./fleets/"],
        &["--out: \"fleets\" is the rendered tree (--repo-path): the fleet needs a directory of its own"],
    );
    let output = render_in(
        &scratch("unknown-kind"),
        &["x.yaml", "--out", "fleets", "--fleet", "helm"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("invalid value 'helm' for '--fleet <KIND>'"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("[possible values: argocd, flux]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sites_the_fleet_cannot_name_or_place_are_refused() {
    let no_namespace = TWO_SITES.replace("namespace: scada-b", "labels: {}");
    refused(
        "no-namespace",
        &no_namespace,
        &["--fleet", "flux", "--flux-source", "plants", "--repo-path", "rendered"],
        &["sites.yaml: metadata.namespace: --fleet needs the site's namespace"],
    );
    // plant-b's environment `dev` and a site named plant-b-dev would be one Application.
    let clash = format!(
        "{TWO_SITES}---\napiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {{name: plant-b-dev, namespace: x}}\nspec: {{architecture: failover, version: \"8.3.3\", adminPasswordSecret: a}}\n"
    );
    refused(
        "clash",
        &clash,
        &["--fleet", "flux", "--flux-source", "plants", "--repo-path", "rendered"],
        &["metadata.name: site \"plant-b-dev\" and site \"plant-b\", environment \"dev\" would both deploy as \"plant-b-dev\""],
    );
    // The specs are validated as `render` validates them: a bad one is refused with its field.
    refused(
        "bad-spec",
        &TWO_SITES.replace("version: \"8.3.3\"\n", "version: latest\n"),
        &["--fleet", "flux", "--flux-source", "plants", "--repo-path", "rendered"],
        &["sites.yaml: spec.version: \"latest\" is not allowed"],
    );
    refused(
        "same-site-twice",
        &format!(
            "{TWO_SITES}---\n{}",
            TWO_SITES.split("---").nth(1).unwrap().trim_start()
        ),
        &["--fleet", "flux", "--flux-source", "plants", "--repo-path", "rendered"],
        &["sites.yaml: metadata.name: site \"plant-b\" is also in sites.yaml"],
    );
    let long = TWO_SITES.replace(
        "dev: {}",
        "a-very-long-environment-name-that-is-still-a-good-dns-label: {}",
    );
    refused(
        "too-long",
        &long,
        &["--fleet", "argocd", "--repo-url", "https://x", "--revision", "main", "--repo-path", "rendered"],
        &["spec.environments.a-very-long-environment-name-that-is-still-a-good-dns-label: the fleet names this deployment"],
    );
}

#[test]
fn a_site_without_environments_deploys_its_base_and_the_output_is_deterministic() {
    let dir = scratch("base-only");
    std::fs::write(dir.join("sites.yaml"), TWO_SITES).unwrap();
    let args = [
        "sites.yaml",
        "--out",
        "./deploy//fleet/",
        "--repo-path",
        "./deploy//rendered/",
        "--fleet",
        "flux",
        "--fleet",
        "argocd",
        "--flux-source",
        "plants",
        "--repo-url",
        "https://x",
        "--revision",
        "v1",
        "--fleet-namespace",
        "gitops",
    ];
    assert!(render_in(&dir, &args).status.success());
    let fleet = dir.join("deploy/fleet");
    let plant_a = yaml_file(&fleet.join("flux/kustomization-plant-a.yaml"));
    assert_eq!(plant_a["spec"]["path"], "./deploy/rendered/plant-a/base");
    assert_eq!(plant_a["metadata"]["namespace"], "gitops");
    assert_eq!(plant_a["spec"]["targetNamespace"], "scada");
    let application_set = yaml_file(&fleet.join("argocd/applicationset.yaml"));
    let names: Vec<String> = applications(&application_set)
        .iter()
        .map(|application| application["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["plant-a", "plant-b-dev", "plant-b-prod"]);
    let first = std::fs::read(fleet.join("argocd/applicationset.yaml")).unwrap();
    // Specs in another order and another file layout: the same bytes.
    let mut documents: Vec<&str> = TWO_SITES.split("---").collect();
    documents.reverse();
    let reordered = documents.join("---\n");
    std::fs::write(dir.join("sites.yaml"), reordered).unwrap();
    let check: Vec<&str> = args.iter().copied().chain(["--check"]).collect();
    let output = render_in(&dir, &check);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(std::fs::read(fleet.join("argocd/applicationset.yaml")).unwrap(), first);
}
