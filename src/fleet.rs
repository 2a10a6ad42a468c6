//! Fleets: the objects that deploy every rendered site and environment at once, written by
//! `render --fleet argocd|flux` into their own directory (`--out`), next to the rendered tree.
//!
//! - `argocd`: one Argo CD `ApplicationSet` whose list generator holds one element per site and
//!   environment, so it makes one `Application` each, pointing at `<site>/overlays/<env>` (or
//!   `<site>/base` for a site without environments) of the rendered tree in the Git repository.
//! - `flux`: one Flux `Kustomization` (kustomize.toolkit.fluxcd.io/v1) per site and environment,
//!   pointing at the same paths of a `GitRepository` source.
//!
//! The fleet is a tree like the rendered one (`<out>/argocd/`, `<out>/flux/`, each with a
//! `kustomization.yaml` listing its files), so `render --check --fleet ...` sees its drift as it sees
//! the sites'. Nothing is guessed: the rendered tree's path in the repository, the repository URL and
//! revision (Argo CD) and the source's name (Flux) come from flags, and a missing one is an error.
//! No I/O here.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::generate::custom::custom_resource;
use crate::object_id::ObjectId;
use crate::render::{self, SpecSource, Tree};
use crate::spec::{self, is_dns_label, is_dns_subdomain};

/// The ApplicationSet's name unless `--fleet-name` says otherwise.
pub const DEFAULT_FLEET_NAME: &str = "ignition-sites";
/// Argo CD's and Flux's own namespaces in their standard installs.
const ARGOCD_NAMESPACE: &str = "argocd";
const FLUX_NAMESPACE: &str = "flux-system";
/// The in-cluster API server as Argo CD names the cluster it runs in
/// (argo-cd docs, "Declarative Setup": `destination.server: https://kubernetes.default.svc`).
const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// How often Flux reconciles each site: the interval of Flux's own examples.
const FLUX_INTERVAL: &str = "10m";
/// Argo CD and Flux both write the Application's or Kustomization's name into a label value on
/// every object they apply (`app.kubernetes.io/instance`, `kustomize.toolkit.fluxcd.io/name`),
/// and a label value is at most 63 characters.
const LABEL_VALUE_MAX: usize = 63;
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
const CLUSTER_LABEL: &str = "ignition.krm.dev/cluster";
const ENVIRONMENT_LABEL: &str = "ignition.krm.dev/environment";

/// Which fleet objects to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum FleetKind {
    /// An Argo CD ApplicationSet (one Application per site and environment).
    Argocd,
    /// Flux Kustomizations (one per site and environment).
    Flux,
}

impl FleetKind {
    fn name(self) -> &'static str {
        match self {
            FleetKind::Argocd => "argocd",
            FleetKind::Flux => "flux",
        }
    }
}

/// The `render` options of the fleet files.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FleetArgs {
    /// Writes, instead of the sites' trees, the objects that deploy every site and environment into
    /// <out>/<KIND>/ (repeat it for both). Needs --repo-path.
    #[arg(long = "fleet", value_enum, value_name = "KIND")]
    pub kinds: Vec<FleetKind>,
    /// argocd: the Git repository URL the Applications read the rendered tree from.
    #[arg(long)]
    pub repo_url: Option<String>,
    /// argocd: the Git revision (branch, tag or commit) the Applications track.
    #[arg(long)]
    pub revision: Option<String>,
    /// flux: the name of the GitRepository source holding the rendered tree.
    #[arg(long)]
    pub flux_source: Option<String>,
    /// The path of the rendered tree (the --out of `render` without --fleet) inside the Git repository.
    #[arg(long)]
    pub repo_path: Option<String>,
    /// The namespace of the fleet objects [default: argocd for Argo CD, flux-system for Flux].
    #[arg(long)]
    pub fleet_namespace: Option<String>,
    /// argocd: the ApplicationSet's name.
    #[arg(long, default_value = DEFAULT_FLEET_NAME)]
    pub fleet_name: String,
    /// argocd: the Argo CD project of the Applications.
    #[arg(long, default_value = "default")]
    pub argocd_project: String,
}

custom_resource!(
    /// Argo CD's `ApplicationSet`.
    ApplicationSet(ApplicationSetSpec), "argoproj.io", "v1alpha1", "ApplicationSet", "applicationsets"
);
custom_resource!(
    /// Flux's `Kustomization` (kustomize-controller), not kustomize's own file of that kind.
    FluxKustomization(FluxKustomizationSpec), "kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"
);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSpec {
    /// Go templates (`{{.name}}`), the syntax Argo CD recommends over the older fasttemplate.
    pub go_template: bool,
    /// A parameter the template names but an element lacks is an error, never an empty string.
    pub go_template_options: Vec<String>,
    pub generators: Vec<Generator>,
    pub template: ApplicationTemplate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generator {
    pub list: ListGenerator,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListGenerator {
    pub elements: Vec<ListElement>,
}

/// The parameters of one Application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListElement {
    /// `<site>-<environment>`, or `<site>` for a site without environments.
    pub name: String,
    pub site: String,
    /// Empty for a site without environments.
    pub environment: String,
    pub namespace: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplicationTemplate {
    pub metadata: ObjectMeta,
    pub spec: ApplicationSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    pub project: String,
    pub source: ApplicationSource,
    pub destination: ApplicationDestination,
    pub sync_policy: SyncPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSource {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplicationDestination {
    pub server: String,
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncPolicy {
    pub automated: AutomatedSync,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedSync {
    pub prune: bool,
    pub self_heal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxKustomizationSpec {
    pub interval: String,
    pub source_ref: SourceRef,
    pub path: String,
    pub prune: bool,
    pub target_namespace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    pub kind: String,
    pub name: String,
}

/// One deployment of the fleet: a site in one environment (or its base).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The Application's or Kustomization's name.
    pub name: String,
    pub site: String,
    pub environment: Option<String>,
    pub namespace: String,
    /// The directory to deploy, relative to the repository root, without a leading `./`.
    pub path: String,
}

/// Refuses fleet options given without `--fleet`: `render` then writes the sites' trees.
pub fn refuse_unused(args: &FleetArgs) -> Result<(), Vec<String>> {
    match unused_option(args) {
        Some(option) => Err(vec![format!("{option} is only used with --fleet")]),
        None => Ok(()),
    }
}

/// The fleet tree of the specs: `<kind>/...` for each kind asked for. `out` is `--out` as given,
/// which must not be the rendered tree itself.
pub fn render(specs: &[SpecSource], args: &FleetArgs, out: &str) -> Result<Tree, Vec<String>> {
    let mut errors = check_options(args);
    let repo_path = match args.repo_path.as_deref() {
        None => {
            errors.push(
                "--fleet needs --repo-path: the path of the rendered tree (render's --out without --fleet) inside the Git repository"
                    .to_owned(),
            );
            None
        }
        Some(given) => match repo_path(given) {
            Ok(path) if repo_path(out).is_ok_and(|out| out == path) => {
                errors.push(format!(
                    "--out: {out:?} is the rendered tree (--repo-path): the fleet needs a directory of its own"
                ));
                None
            }
            Ok(path) => Some(path),
            Err(message) => {
                errors.push(message);
                None
            }
        },
    };
    let mut loaded = Vec::new();
    for source in specs {
        match spec::load_all(&source.object) {
            Ok(_) => loaded.push(source),
            Err(problems) => errors.extend(problems.iter().map(|problem| format!("{}: {problem}", source.file))),
        }
    }
    let deployments = match deployments(&loaded, repo_path.as_deref().unwrap_or_default()) {
        Ok(deployments) => deployments,
        Err(problems) => {
            errors.extend(problems);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut kinds = args.kinds.clone();
    kinds.sort();
    kinds.dedup();
    let mut tree = Tree::new();
    // As every directory of the rendered tree, the fleet's root has its own kustomization.yaml:
    // Flux pointed at it builds nothing rather than sweeping up both kinds.
    tree.insert("kustomization.yaml".to_owned(), render::kustomization(&[], &[]));
    for kind in kinds {
        let files = match kind {
            FleetKind::Argocd => vec![(
                "applicationset.yaml".to_owned(),
                to_value(&application_set(&deployments, args)),
            )],
            FleetKind::Flux => deployments
                .iter()
                .map(|deployment| {
                    (
                        format!("kustomization-{}.yaml", deployment.name),
                        to_value(&flux_kustomization(deployment, args)),
                    )
                })
                .collect(),
        };
        let names: Vec<String> = files.iter().map(|(file, _)| file.clone()).collect();
        for (file, object) in files {
            tree.insert(format!("{}/{file}", kind.name()), render::document(&object));
        }
        tree.insert(
            format!("{}/kustomization.yaml", kind.name()),
            render::kustomization(&names, &[]),
        );
    }
    Ok(tree)
}

/// A fleet option given without `--fleet`, or for the other kind only.
fn unused_option(args: &FleetArgs) -> Option<&'static str> {
    let argocd = args.kinds.contains(&FleetKind::Argocd);
    let flux = args.kinds.contains(&FleetKind::Flux);
    let any = argocd || flux;
    [
        ("--repo-url", args.repo_url.is_some(), argocd),
        ("--revision", args.revision.is_some(), argocd),
        ("--fleet-name", args.fleet_name != DEFAULT_FLEET_NAME, argocd),
        ("--argocd-project", args.argocd_project != "default", argocd),
        ("--flux-source", args.flux_source.is_some(), flux),
        ("--repo-path", args.repo_path.is_some(), any),
        ("--fleet-namespace", args.fleet_namespace.is_some(), any),
    ]
    .into_iter()
    .find(|(_, given, used)| *given && !*used)
    .map(|(option, _, _)| option)
}

/// Every problem with the options, one line each.
fn check_options(args: &FleetArgs) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(option) = unused_option(args) {
        let kind = if args.kinds.contains(&FleetKind::Argocd) {
            "flux"
        } else {
            "argocd"
        };
        errors.push(format!("{option} is only used with --fleet {kind}"));
    }
    if args.kinds.contains(&FleetKind::Argocd) {
        match args.repo_url.as_deref() {
            None => errors.push(
                "--fleet argocd needs --repo-url: the URL of the Git repository that holds the rendered tree"
                    .to_owned(),
            ),
            Some(url) if !is_plain_text(url) => errors.push(format!(
                "--repo-url: {url:?} must be a URL: not empty, no spaces or control characters"
            )),
            Some(_) => {}
        }
        match args.revision.as_deref() {
            None => errors.push(
                "--fleet argocd needs --revision: the branch, tag or commit the Applications track (for example main)"
                    .to_owned(),
            ),
            Some(revision) if !is_plain_text(revision) => errors.push(format!(
                "--revision: {revision:?} must be a branch, tag or commit: not empty, no spaces or control characters"
            )),
            Some(_) => {}
        }
        check_object_name("--fleet-name", &args.fleet_name, &mut errors);
        check_object_name("--argocd-project", &args.argocd_project, &mut errors);
    }
    if args.kinds.contains(&FleetKind::Flux) {
        match args.flux_source.as_deref() {
            None => errors.push(
                "--fleet flux needs --flux-source: the name of the GitRepository that holds the rendered tree"
                    .to_owned(),
            ),
            Some(name) => check_object_name("--flux-source", name, &mut errors),
        }
    }
    if let Some(namespace) = &args.fleet_namespace {
        if !is_dns_label(namespace) {
            errors.push(format!(
                "--fleet-namespace: {namespace:?} is not a DNS label (lowercase letters, digits and '-', at most 63)"
            ));
        }
    }
    errors
}

/// An option naming a Kubernetes object must hold a DNS subdomain.
fn check_object_name(option: &str, name: &str, errors: &mut Vec<String>) {
    if !is_dns_subdomain(name) {
        errors.push(format!(
            "{option}: {name:?} is not a Kubernetes object name (lowercase letters, digits, '-' and '.')"
        ));
    }
}

fn is_plain_text(text: &str) -> bool {
    !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `--repo-path` without `./`, `//` or a trailing `/`; empty for the repository root.
fn repo_path(path: &str) -> Result<String, String> {
    if path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(format!(
            "--repo-path: {path:?} is not a path relative to the repository root"
        ));
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!("--repo-path: {path:?} leaves the repository root (`..`)"));
    }
    Ok(parts.join("/"))
}

/// What the fleet needs of a spec that has been loaded without error: its name, namespace and
/// environment names (in name order).
struct SiteEntry<'a> {
    source: &'a SpecSource,
    id: ObjectId,
    environments: Vec<&'a str>,
}

impl<'a> SiteEntry<'a> {
    fn new(source: &'a SpecSource) -> Self {
        let object = &source.object;
        let mut environments: Vec<&str> = object
            .get("spec")
            .and_then(|spec| spec.get("environments"))
            .and_then(serde_norway::Value::as_mapping)
            .map(|environments| environments.keys().filter_map(serde_norway::Value::as_str).collect())
            .unwrap_or_default();
        environments.sort_unstable();
        SiteEntry {
            source,
            id: ObjectId::of(object),
            environments,
        }
    }
}

/// One deployment per site and environment (per site for a site without environments), in site
/// and environment name order. The specs have been loaded without error.
fn deployments(specs: &[&SpecSource], repo_path: &str) -> Result<Vec<Deployment>, Vec<String>> {
    let mut deployments = Vec::new();
    let mut errors = Vec::new();
    let mut sites: Vec<SiteEntry> = specs.iter().copied().map(SiteEntry::new).collect();
    sites.sort_by(|a, b| a.id.name.cmp(&b.id.name));
    let prefix = if repo_path.is_empty() {
        String::new()
    } else {
        format!("{repo_path}/")
    };
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for entry in &sites {
        let (site, source) = (entry.id.name.as_str(), entry.source);
        if let Some(other) = seen.insert(site, &source.file) {
            errors.push(format!(
                "{}: metadata.name: site {site:?} is also in {other}: each site renders to its own directory, so names must be unique",
                source.file
            ));
            continue;
        }
        let Some(namespace) = entry.id.namespace.as_deref() else {
            errors.push(format!(
                "{}: metadata.namespace: --fleet needs the site's namespace: each Application or Kustomization deploys into it",
                source.file
            ));
            continue;
        };
        let environments: Vec<Option<&str>> = if entry.environments.is_empty() {
            vec![None]
        } else {
            entry.environments.iter().copied().map(Some).collect()
        };
        for environment in environments {
            let (name, path) = match environment {
                Some(environment) => (
                    format!("{site}-{environment}"),
                    format!("{prefix}{site}/overlays/{environment}"),
                ),
                None => (site.to_owned(), format!("{prefix}{site}/base")),
            };
            let field = environment.map_or(spec::FieldPath::metadata().field("name"), |environment| {
                spec::FieldPath::spec().field("environments").field(environment)
            });
            if name.len() > LABEL_VALUE_MAX {
                errors.push(format!(
                    "{}: {field}: the fleet names this deployment {name:?}, {} characters: Argo CD and Flux write it into a label value, at most {LABEL_VALUE_MAX}",
                    source.file,
                    name.len()
                ));
                continue;
            }
            let label = match environment {
                Some(environment) => format!("site {site:?}, environment {environment:?}"),
                None => format!("site {site:?}"),
            };
            if let Some(other) = names.insert(name.clone(), label.clone()) {
                errors.push(format!(
                    "{}: {field}: {label} and {other} would both deploy as {name:?}: rename the site or the environment",
                    source.file
                ));
                continue;
            }
            deployments.push(Deployment {
                name,
                site: site.to_owned(),
                environment: environment.map(str::to_owned),
                namespace: namespace.to_owned(),
                path,
            });
        }
    }
    if errors.is_empty() {
        Ok(deployments)
    } else {
        Err(errors)
    }
}

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

/// The ApplicationSet: one list element per deployment, one Application template.
pub fn application_set(deployments: &[Deployment], args: &FleetArgs) -> ApplicationSet {
    let elements = deployments
        .iter()
        .map(|deployment| ListElement {
            name: deployment.name.clone(),
            site: deployment.site.clone(),
            environment: deployment.environment.clone().unwrap_or_default(),
            namespace: deployment.namespace.clone(),
            path: deployment.path.clone(),
        })
        .collect();
    ApplicationSet::new(
        ObjectMeta {
            name: Some(args.fleet_name.clone()),
            namespace: Some(
                args.fleet_namespace
                    .clone()
                    .unwrap_or_else(|| ARGOCD_NAMESPACE.to_owned()),
            ),
            labels: labels(&[(MANAGED_BY, "ignition-krm")]),
            ..Default::default()
        },
        ApplicationSetSpec {
            go_template: true,
            go_template_options: vec!["missingkey=error".to_owned()],
            generators: vec![Generator {
                list: ListGenerator { elements },
            }],
            template: ApplicationTemplate {
                metadata: ObjectMeta {
                    name: Some("{{.name}}".to_owned()),
                    labels: labels(&[
                        (CLUSTER_LABEL, "{{.site}}"),
                        (ENVIRONMENT_LABEL, "{{.environment}}"),
                        (MANAGED_BY, "ignition-krm"),
                    ]),
                    ..Default::default()
                },
                spec: ApplicationSpec {
                    project: args.argocd_project.clone(),
                    source: ApplicationSource {
                        repo_url: args.repo_url.clone().unwrap_or_default(),
                        target_revision: args.revision.clone().unwrap_or_default(),
                        path: "{{.path}}".to_owned(),
                    },
                    destination: ApplicationDestination {
                        server: IN_CLUSTER.to_owned(),
                        namespace: "{{.namespace}}".to_owned(),
                    },
                    sync_policy: SyncPolicy {
                        automated: AutomatedSync {
                            prune: true,
                            self_heal: true,
                        },
                    },
                },
            },
        },
    )
}

/// The Flux Kustomization of one deployment.
pub fn flux_kustomization(deployment: &Deployment, args: &FleetArgs) -> FluxKustomization {
    let environment = deployment.environment.as_deref().unwrap_or_default();
    FluxKustomization::new(
        ObjectMeta {
            name: Some(deployment.name.clone()),
            namespace: Some(
                args.fleet_namespace
                    .clone()
                    .unwrap_or_else(|| FLUX_NAMESPACE.to_owned()),
            ),
            labels: labels(&[
                (CLUSTER_LABEL, &deployment.site),
                (ENVIRONMENT_LABEL, environment),
                (MANAGED_BY, "ignition-krm"),
            ]),
            ..Default::default()
        },
        FluxKustomizationSpec {
            interval: FLUX_INTERVAL.to_owned(),
            source_ref: SourceRef {
                kind: "GitRepository".to_owned(),
                name: args.flux_source.clone().unwrap_or_default(),
            },
            // Flux's paths are relative to the source's root and conventionally start with `./`.
            path: format!("./{}", deployment.path),
            prune: true,
            target_namespace: deployment.namespace.clone(),
        },
    )
}

fn to_value(object: &impl Serialize) -> serde_norway::Value {
    serde_norway::to_value(object).unwrap_or_else(|error| unreachable!("a fleet object always serializes: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_are_normalized_and_never_leave_the_root() {
        assert_eq!(repo_path("./rendered/").unwrap(), "rendered");
        assert_eq!(repo_path(".").unwrap(), "");
        assert_eq!(repo_path("a//b/./c").unwrap(), "a/b/c");
        assert!(repo_path("/tmp/rendered").is_err());
        assert!(repo_path("../rendered")
            .unwrap_err()
            .contains("leaves the repository root"));
        assert!(repo_path("a\\b").is_err());
    }
}
