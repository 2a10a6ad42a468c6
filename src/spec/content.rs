//! Gateway content as code: Ignition projects from a pinned archive, and third-party modules
//! (`.modl` files) by URL or from a volume, each pinned by its SHA-256 and fetched by an init
//! container.
//!
//! Sources for the behaviour relied on:
//! - projects live in `data/projects/<name>/` with a `project.json` (IA docs, 8.3 "Version and
//!   Source Control Guide"; IGNITION.md "8.3 configuration as files");
//! - third-party modules are `.modl` files in `user-lib/modules` of the install directory
//!   (`inductiveautomation/ignition-helm-chart` 0.2.1, `scripts/docker-entrypoint-shim.sh`,
//!   `loadExternalModules`), and a module's identity is the `<id>` of the `module.xml` at the root
//!   of the `.modl` zip (IA's SDK docs, "The module.xml File"; `inductiveautomation/ignition-module-tools`
//!   `WriteModuleXml.kt`);
//! - a new third-party module waits for its licence and certificate to be accepted (IA docs 7.9,
//!   "Third Party Modules - Signing Options"); 8.3's image accepts them from `ACCEPT_MODULE_LICENSES`
//!   and `ACCEPT_MODULE_CERTS` (IA docs 8.3 "Docker Image"; the official chart's `configmap.yaml`),
//!   which the 8.1 image does not have.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::path::FieldPath;
use super::site::{check_dns_subdomain, TierKind, VersionLine};
use super::types::Architecture;
use super::Problem;

/// An Ignition project delivered into `data/projects/<name>/` before every start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Project {
    /// The project's name: its folder under `data/projects` (letters, digits, '_' and '-').
    pub name: String,
    /// Where the project's files come from.
    pub source: ProjectSource,
    /// The project's folder inside the archive, holding its `project.json`, such as
    /// `plant-repo-3f2a9c1/projects/hmi`. Default: the archive's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The tiers whose gateways get the project (`gateway`, `backend`, `frontend`). Default: every tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierName>>,
}

/// A project's source. Only `archive` for now: a commit of a git repository is given as the
/// forge's archive of that commit (such as `https://github.com/<org>/<repo>/archive/<commit>.tar.gz`),
/// because the image is not known to ship a git client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectSource {
    pub archive: Archive,
}

/// A tar archive (gzip-compressed or not) over HTTPS, pinned by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Archive {
    /// An `https://` URL.
    pub url: String,
    /// The archive's SHA-256 (64 hex digits, `sha256sum plant.tar.gz`), checked before it is unpacked.
    pub sha256: String,
}

/// A third-party module (`.modl`), fetched and checked before every start (8.3 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThirdPartyModule {
    /// The module ID, such as `com.example.mymodule`: the `<id>` in the file's `module.xml`, checked
    /// when the file is fetched.
    pub id: String,
    /// An `https://` URL of the `.modl` file. Exactly one of `url` and `volumeClaim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An existing PersistentVolumeClaim holding `.modl` files, mounted read-only into the init
    /// container (as the official chart's `externalModules`); every module from a volume names the
    /// same claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim: Option<String>,
    /// With `volumeClaim`: the file's path inside the volume, such as `reporting/Reporting-2.4.1.modl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The file's SHA-256 (64 hex digits), checked before the gateway may load it.
    pub sha256: String,
    /// Accept the module's licence agreement (its ID joins `ACCEPT_MODULE_LICENSES`). Default false:
    /// the gateway then holds the module until someone accepts it in the web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_license: Option<bool>,
    /// Accept the module's signing certificate (its ID joins `ACCEPT_MODULE_CERTS`). Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_certificate: Option<bool>,
    /// The tiers whose gateways load the module (`gateway`, `backend`, `frontend`). Default: every tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierName>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TierName {
    Gateway,
    Backend,
    Frontend,
}

impl TierName {
    fn kind(self) -> TierKind {
        match self {
            TierName::Gateway => TierKind::Gateway,
            TierName::Backend => TierKind::Backend,
            TierName::Frontend => TierKind::Frontend,
        }
    }
}

/// A project, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSettings {
    pub name: String,
    pub url: String,
    pub sha256: String,
    /// Relative, without `..`; empty for the archive's root.
    pub path: String,
    pub tiers: Vec<TierKind>,
}

/// Where a module file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    Url(String),
    /// A path inside the site's modules volume (`ContentSettings::module_claim`).
    Volume(String),
}

/// A third-party module, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSettings {
    pub id: String,
    pub source: ModuleSource,
    pub sha256: String,
    pub accept_license: bool,
    pub accept_certificate: bool,
    pub tiers: Vec<TierKind>,
}

/// The content every tier fetches before it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentSettings {
    pub projects: Vec<ProjectSettings>,
    pub modules: Vec<ModuleSettings>,
    /// The PersistentVolumeClaim the modules from a volume come from.
    pub module_claim: Option<String>,
}

impl ContentSettings {
    pub fn projects_of(&self, tier: TierKind) -> Vec<&ProjectSettings> {
        self.projects
            .iter()
            .filter(|project| project.tiers.contains(&tier))
            .collect()
    }

    pub fn modules_of(&self, tier: TierKind) -> Vec<&ModuleSettings> {
        self.modules
            .iter()
            .filter(|module| module.tiers.contains(&tier))
            .collect()
    }
}

/// Validates `spec.projects` and `spec.thirdPartyModules`.
pub fn resolve_content(
    projects: Option<&Vec<Project>>,
    modules: Option<&Vec<ThirdPartyModule>>,
    architecture: Architecture,
    line: Option<VersionLine>,
    problems: &mut Vec<Problem>,
) -> ContentSettings {
    let mut content = ContentSettings::default();
    for (index, project) in projects.into_iter().flatten().enumerate() {
        let path = FieldPath::spec().field("projects").index(index);
        let name_ok = !project.name.is_empty()
            && project.name.len() <= 100
            && project
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && project.name.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !name_ok {
            problems.push(
                Problem::new(
                    path.field("name"),
                    "must be a project name: letters, digits, '_' and '-', starting with a letter or digit",
                )
                .current(&project.name),
            );
        }
        if projects
            .into_iter()
            .flatten()
            .take(index)
            .any(|earlier| earlier.name == project.name)
        {
            problems.push(Problem::new(
                path.field("name"),
                format!("{:?} is given twice", project.name),
            ));
        }
        let archive = &project.source.archive;
        check_url(
            &path.field("source").field("archive").field("url"),
            &archive.url,
            problems,
        );
        check_sha256(
            &path.field("source").field("archive").field("sha256"),
            &archive.sha256,
            problems,
        );
        let inner = project.path.clone().unwrap_or_default();
        if project.path.is_some() && !is_inner_path(&inner) {
            problems.push(
                Problem::new(
                    path.field("path"),
                    "must be a relative path inside the archive, without '..', '.' or empty parts (letters, digits, '/', '.', '_', '-')",
                )
                .current(&inner),
            );
        }
        content.projects.push(ProjectSettings {
            name: project.name.clone(),
            url: archive.url.clone(),
            sha256: archive.sha256.to_ascii_lowercase(),
            path: inner,
            tiers: resolve_tiers(&path.field("tiers"), project.tiers.as_ref(), architecture, problems),
        });
    }
    for (index, module) in modules.into_iter().flatten().enumerate() {
        let path = FieldPath::spec().field("thirdPartyModules").index(index);
        if line == Some(VersionLine::V8_1) {
            problems.push(Problem::new(
                path.clone(),
                "third-party modules are supported from Ignition 8.3.0 on: the 8.1 image has no ACCEPT_MODULE_LICENSES or ACCEPT_MODULE_CERTS, so a module would wait for acceptance in the web UI on every new gateway",
            ));
        }
        let id_ok = !module.id.is_empty()
            && module.id.len() <= 128
            && module
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && module.id.starts_with(|c: char| c.is_ascii_alphabetic());
        if !id_ok {
            problems.push(
                Problem::new(
                    path.field("id"),
                    "must be a module ID such as com.example.mymodule (letters, digits, '.', '_', '-')",
                )
                .current(&module.id),
            );
        }
        if modules
            .into_iter()
            .flatten()
            .take(index)
            .any(|earlier| earlier.id == module.id)
        {
            problems.push(Problem::new(
                path.field("id"),
                format!("{:?} is given twice", module.id),
            ));
        }
        let source = match (&module.url, &module.volume_claim) {
            (Some(url), None) => {
                check_url(&path.field("url"), url, problems);
                if module.path.is_some() {
                    problems.push(Problem::new(path.field("path"), "is only read with volumeClaim"));
                }
                ModuleSource::Url(url.clone())
            }
            (None, Some(claim)) => {
                check_dns_subdomain(path.field("volumeClaim"), claim, problems);
                match &content.module_claim {
                    Some(first) if first != claim => problems.push(
                        Problem::new(
                            path.field("volumeClaim"),
                            format!("is another claim than {first:?}: the modules from a volume come from one claim"),
                        )
                        .current(claim),
                    ),
                    _ => content.module_claim = Some(claim.clone()),
                }
                let file = module.path.clone().unwrap_or_default();
                if !(is_inner_path(&file) && file.ends_with(".modl")) {
                    problems.push(
                        Problem::new(
                            path.field("path"),
                            "must be the relative path of a .modl file inside the volume, without '..', '.' or empty parts",
                        )
                        .current(&file),
                    );
                }
                ModuleSource::Volume(file)
            }
            _ => {
                problems.push(Problem::new(
                    path.clone(),
                    "needs exactly one of url and volumeClaim (with path)",
                ));
                ModuleSource::Url(String::new())
            }
        };
        check_sha256(&path.field("sha256"), &module.sha256, problems);
        content.modules.push(ModuleSettings {
            id: module.id.clone(),
            source,
            sha256: module.sha256.to_ascii_lowercase(),
            accept_license: module.accept_license.unwrap_or(false),
            accept_certificate: module.accept_certificate.unwrap_or(false),
            tiers: resolve_tiers(&path.field("tiers"), module.tiers.as_ref(), architecture, problems),
        });
    }
    content
}

/// The tiers named, each one of the architecture's; every tier of the architecture by default.
fn resolve_tiers(
    path: &FieldPath,
    tiers: Option<&Vec<TierName>>,
    architecture: Architecture,
    problems: &mut Vec<Problem>,
) -> Vec<TierKind> {
    let all: &[TierKind] = match architecture {
        Architecture::Failover => &[TierKind::Gateway],
        Architecture::Scaleout => &[TierKind::Backend, TierKind::Frontend],
    };
    let Some(tiers) = tiers else {
        return all.to_vec();
    };
    if tiers.is_empty() {
        problems.push(Problem::new(
            path,
            "is empty: leave it out for every tier, or name the tiers",
        ));
    }
    let mut kinds = Vec::new();
    for (index, tier) in tiers.iter().enumerate() {
        let kind = tier.kind();
        if !all.contains(&kind) {
            let names: Vec<&str> = all.iter().map(|kind| kind.component()).collect();
            problems.push(Problem::new(
                path.index(index),
                format!(
                    "{:?} is not a tier of this architecture (its tiers: {})",
                    kind.component(),
                    names.join(", ")
                ),
            ));
        } else if kinds.contains(&kind) {
            problems.push(Problem::new(
                path.index(index),
                format!("{:?} is listed twice", kind.component()),
            ));
        } else {
            kinds.push(kind);
        }
    }
    kinds
}

/// An `https://` URL the scripts can pass on safely: no quotes, backslashes, `$` or spaces.
fn check_url(path: &FieldPath, url: &str, problems: &mut Vec<Problem>) {
    let ok = url.len() <= 2048
        && url.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('/')
                && rest.chars().all(|c| c.is_ascii_graphic() && !"'\"\\`$".contains(c))
        });
    if !ok {
        problems.push(
            Problem::new(
                path,
                "must be an https:// URL without quotes, backslashes, '$' or spaces",
            )
            .current(url),
        );
    }
}

fn check_sha256(path: &FieldPath, sha256: &str, problems: &mut Vec<Problem>) {
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        problems
            .push(Problem::new(path, "must be the file's SHA-256 as 64 hex digits (sha256sum <file>)").current(sha256));
    }
}

/// A path that stays inside the directory it is joined to.
fn is_inner_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_paths_stay_inside() {
        for good in ["hmi", "repo-3f2a/projects/hmi", "a.b/c_d"] {
            assert!(is_inner_path(good), "{good}");
        }
        for bad in ["", "/etc", "../x", "a/../../b", "a//b", "a/./b", "a/", "a b", "a\\b"] {
            assert!(!is_inner_path(bad), "{bad}");
        }
    }
}
