//! The command line as a user meets it: exit codes, the one error format, every problem in one pass,
//! no silent fallback to the base spec, `validate`, `init`, `completions`, `manifests -` and
//! directories, and `render` that never loses or leaves anything.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

const PLANT_C: &str = "examples/sites/plant-c/ignition.yaml";

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/tmp").join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    ignition_krm().current_dir(repo_root()).args(args).output().unwrap()
}

fn error_lines(output: &Output) -> Vec<String> {
    stderr(output).lines().map(str::to_owned).collect()
}

#[test]
fn a_schema_error_does_not_hide_the_rule_errors_and_a_base_typo_is_reported_once() {
    let dir = scratch("one-pass");
    let spec = dir.join("ignition.yaml");
    std::fs::write(
        &spec,
        read(PLANT_C)
            .replace("timezone:", "timezon:")
            .replace("className: nginx", "classNme: nginx")
            .replace("version: \"8.3.3\"", "version: \"9.0.0\""),
    )
    .unwrap();
    let output = run(&["validate", spec.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let file = spec.display().to_string();
    assert_eq!(
        error_lines(&output),
        vec![
            format!("ignition-krm: error: {file}: spec.timezon: unknown field \"timezon\"; did you mean \"timezone\"?"),
            format!("ignition-krm: error: {file}: spec.ingress.classNme: unknown field \"classNme\"; did you mean \"className\"?"),
            format!("ignition-krm: error: {file}: spec.version: \"9.0.0\": the 9.0 line is not supported, only 8.1.x and 8.3.x are"),
        ],
        "three environments write spec.ingress, yet the base's typo is reported once"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_problem_without_a_field_path_has_no_empty_prefix() {
    let dir = scratch("empty-prefix");
    std::fs::write(
        dir.join("ignition.yaml"),
        read(PLANT_C).replace("ignition.krm.dev/v1alpha1", "ignition.krm.dev/v1"),
    )
    .unwrap();
    let output = run(&[
        "render",
        dir.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let file = dir.join("ignition.yaml").display().to_string();
    assert_eq!(
        stderr(&output),
        format!("ignition-krm: error: {file}: the function config is ignition.krm.dev/v1/IgnitionCluster: expected apiVersion ignition.krm.dev/v1alpha1, kind IgnitionCluster\n")
    );
}

#[test]
fn validate_exits_0_on_valid_specs_with_its_summary_on_stderr() {
    let output = run(&["validate", "examples/sites"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert_eq!(stderr(&output), "ignition-krm validate: 2 specs valid\n");
}

#[test]
fn a_spec_with_environments_needs_an_environment_or_base() {
    let none = run(&["manifests", PLANT_C]);
    assert_eq!(none.status.code(), Some(2));
    assert!(none.stdout.is_empty());
    assert_eq!(
        stderr(&none),
        format!("ignition-krm: error: {PLANT_C}: spec.environments: the spec has environments (dev, prod, staging) and none was chosen: set --environment to one of them, or to base for the base spec\n")
    );
    let typo = run(&["manifests", PLANT_C, "--environment", "prdo"]);
    let message = assert_refused(
        &typo,
        &[": --environment: environment \"prdo\" is not in spec.environments"],
    );
    assert!(
        !message.contains("annotations"),
        "the user wrote no annotation: {message}"
    );

    let base = run(&["manifests", PLANT_C, "--environment", "base"]);
    assert_eq!(base.status.code(), Some(0), "{}", stderr(&base));
    let objects = documents(&stdout(&base));
    assert!(!objects.iter().any(|object| object["kind"] == "HorizontalPodAutoscaler"));
    // A spec without environments needs no choice.
    let plain = run(&["manifests", "bases/failover/spec/ignition.yaml"]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));

    // A spec with a problem of its own is reported for that problem, not for the choice.
    let dir = scratch("choice-and-problem");
    let spec = dir.join("ignition.yaml");
    std::fs::write(
        &spec,
        read(PLANT_C).replace("architecture: scaleout", "architecture: scaleoot"),
    )
    .unwrap();
    let both = run(&["manifests", spec.to_str().unwrap(), "--environment", "prdo"]);
    let message = assert_refused(&both, &["spec.architecture"]);
    assert!(!message.contains("prdo"), "{message}");
}

#[test]
fn an_environment_named_base_is_refused() {
    let dir = scratch("reserved");
    let spec = dir.join("ignition.yaml");
    std::fs::write(&spec, read(PLANT_C).replace("    staging:", "    base:")).unwrap();
    let output = run(&["validate", spec.to_str().unwrap()]);
    assert_refused(
        &output,
        &["spec.environments.base: environment name \"base\" is reserved"],
    );
}

#[test]
fn manifests_reads_stdin_and_directories_and_passes_other_objects_through() {
    let dir = scratch("manifests-inputs");
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    let extra =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plant-c-extra\n  namespace: scada\ndata:\n  a: b\n";
    std::fs::write(site.join("ignition.yaml"), format!("{}---\n{extra}", read(PLANT_C))).unwrap();
    let from_dir = run(&["manifests", site.to_str().unwrap(), "--environment", "prod"]);
    assert_eq!(from_dir.status.code(), Some(0), "{}", stderr(&from_dir));
    let objects = documents(&stdout(&from_dir));
    let passed: Vec<_> = objects
        .iter()
        .filter(|object| object["metadata"]["name"] == "plant-c-extra")
        .collect();
    assert_eq!(passed.len(), 1, "the other document of the spec file is passed through");
    assert_eq!(passed[0]["data"]["a"], "b");
    assert!(objects.iter().all(|object| object["kind"] != "IgnitionCluster"));

    let from_stdin = ignition_krm()
        .args(["manifests", "-", "--environment", "prod"])
        .write_stdin(std::fs::read(site.join("ignition.yaml")).unwrap())
        .output()
        .unwrap();
    assert_eq!(from_stdin.status.code(), Some(0), "{}", stderr(&from_stdin));
    assert_eq!(stdout(&from_stdin), stdout(&from_dir));

    let bad = ignition_krm()
        .args(["manifests", "-"])
        .write_stdin(read(PLANT_C).replace("version: \"8.3.3\"", "version: latest"))
        .output()
        .unwrap();
    assert_refused(&bad, &["ignition-krm: error: <stdin>: spec.version: "]);
}

#[test]
fn init_scaffolds_a_site_that_validates_and_renders() {
    let dir = scratch("init");
    let site = dir.join("sites/plant-z");
    for architecture in ["scaleout", "failover"] {
        let _ = std::fs::remove_dir_all(&site);
        let output = run(&["init", site.to_str().unwrap(), "--architecture", architecture]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let again = run(&["init", site.to_str().unwrap()]);
        // init must not overwrite
        assert_refused(&again, &["already exists"]);
        let validated = run(&["validate", site.to_str().unwrap()]);
        assert_eq!(validated.status.code(), Some(0), "{}", stderr(&validated));
        let out = dir.join("rendered");
        let rendered = run(&[
            "render",
            dir.join("sites").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
        assert!(out.join("plant-z/overlays/prod/kustomization.yaml").is_file());
        assert!(out.join("plant-z/overlays/dev/kustomization.yaml").is_file());
        let _ = std::fs::remove_dir_all(&out);
    }
    let bad = run(&["init", dir.join("Bad_Name").to_str().unwrap()]);
    assert_refused(&bad, &["--name: \"Bad_Name\" is not a DNS label"]);
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = run(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        assert!(script.contains("ignition-krm"), "{shell}");
        assert!(script.contains("render"), "{shell}: subcommands are completed");
    }
    let output = std::process::Command::new("bash")
        .arg("-n")
        .arg("-c")
        .arg(stdout(&run(&["completions", "bash"])))
        .output()
        .unwrap();
    assert!(output.status.success(), "the bash script parses: {}", stderr(&output));
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

fn render(sites: &Path, out: &Path, extra: &[&str]) -> Output {
    ignition_krm()
        .arg("render")
        .arg(sites)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// `dir/sites` with copies of the two example specs, rendered into `dir/rendered`.
fn rendered_examples(dir: &Path) -> (PathBuf, PathBuf) {
    let sites = dir.join("sites");
    let out = dir.join("rendered");
    for site in ["plant-c", "plant-d"] {
        std::fs::create_dir_all(sites.join(site)).unwrap();
        std::fs::copy(
            repo_root().join(format!("examples/sites/{site}/ignition.yaml")),
            sites.join(format!("{site}/ignition.yaml")),
        )
        .unwrap();
    }
    assert_eq!(render(&sites, &out, &[]).status.code(), Some(0));
    (sites, out)
}

fn files_below(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|entry| entry.unwrap())
        .map(|entry| entry.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn render_reports_and_prunes_sites_whose_spec_is_gone_or_misspelt_and_keeps_user_files() {
    let dir = scratch("orphans");
    let (sites, out) = rendered_examples(&dir);
    let users = out.join("plant-d/overlays/prod/extras/kustomization.yaml");
    std::fs::create_dir_all(users.parent().unwrap()).unwrap();
    std::fs::write(&users, "resources: [sealedsecret.yaml]\n").unwrap();

    // A misspelt kind is an error, not a site that silently stops being rendered.
    let spec = sites.join("plant-d/ignition.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("kind: IgnitionCluster", "kind: IgnitionClustr")).unwrap();
    let misspelt = render(&sites, &out, &["--check"]);
    assert_refused(&misspelt, &["kind: \"IgnitionClustr\" is not \"IgnitionCluster\""]);

    // The spec is gone: --check names the directory and exits 1.
    std::fs::remove_file(&spec).unwrap();
    let before = files_below(&out);
    let check = render(&sites, &out, &["--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stdout(&check).contains(&format!("orphaned: {}", out.join("plant-d").display())),
        "{}",
        stdout(&check)
    );
    let json = render(&sites, &out, &["--check", "--output", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(report["clean"], false);
    assert_eq!(report["orphanedSites"][0], out.join("plant-d").display().to_string());
    assert!(report["orphanedFiles"].as_array().unwrap().len() > 10);
    assert!(
        !stdout(&check).contains('\x1b'),
        "no colour when stdout is not a terminal"
    );

    // render without --prune leaves the directory and exits 1; --prune removes every generated file,
    // naming each, keeps the user's file and leaves no empty directory.
    let plain = render(&sites, &out, &[]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(stderr(&plain).contains("--prune"));
    assert_eq!(files_below(&out), before);
    let prune = render(&sites, &out, &["--prune"]);
    assert_eq!(prune.status.code(), Some(0), "{}", stderr(&prune));
    let removed = report["orphanedFiles"].as_array().unwrap();
    for file in removed {
        assert!(
            stderr(&prune).contains(&format!("removed {}", file.as_str().unwrap())),
            "{file} not named"
        );
    }
    assert!(users.is_file());
    let left: Vec<String> = files_below(&out.join("plant-d"));
    assert_eq!(
        left,
        [
            "",
            "overlays",
            "overlays/prod",
            "overlays/prod/extras",
            "overlays/prod/extras/kustomization.yaml"
        ]
    );
    std::fs::remove_file(&users).unwrap();
    std::fs::write(
        &spec,
        std::fs::read_to_string(repo_root().join("examples/sites/plant-d/ignition.yaml")).unwrap(),
    )
    .unwrap();
    let back = render(&sites, &out, &[]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let clean = render(&sites, &out, &["--check", "--output", "json"]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&clean)).unwrap()["clean"],
        true
    );
}

#[test]
fn render_never_reads_specs_from_its_output_directory_however_it_is_spelt() {
    let dir = scratch("out-inside-inputs");
    let sites = dir.join("sites");
    std::fs::create_dir_all(sites.join("plant-c")).unwrap();
    std::fs::write(sites.join("plant-c/ignition.yaml"), read(PLANT_C)).unwrap();
    // A spec in the output directory would be one more site if it were read.
    let decoy = sites.join("rendered/decoy/ignition.yaml");
    std::fs::create_dir_all(decoy.parent().unwrap()).unwrap();
    std::fs::write(&decoy, read(PLANT_C).replace("name: plant-c", "name: plant-x")).unwrap();
    let out = sites.join("plant-c/../rendered");
    let first = render(&sites, &out, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(!sites.join("rendered/plant-x").exists());
    let check = render(&sites, &sites.join("rendered"), &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    // With the output elsewhere, the decoy is an input like any other (so the test can see it read).
    let other = dir.join("elsewhere");
    let wide = render(&sites, &other, &[]);
    assert_eq!(wide.status.code(), Some(0), "{}", stderr(&wide));
    assert!(other.join("plant-x").is_dir());
}

#[test]
fn check_reports_drift_in_every_site_in_path_order_and_shows_whole_files() {
    // The tree is compared on several threads; the report must still list every path in order, and a file
    // longer or shorter than the rendered one must be read whole for its diff.
    let dir = scratch("check-order");
    let (sites, out) = rendered_examples(&dir);
    let generated: Vec<String> = files_below(&out)
        .into_iter()
        .filter(|file| file.ends_with(".yaml") && !file.ends_with("kustomization.yaml"))
        .collect();
    let in_site = |site: &str| -> Vec<String> {
        generated
            .iter()
            .filter(|file| file.starts_with(&format!("{site}/")))
            .cloned()
            .collect()
    };
    let (plant_c, plant_d) = (in_site("plant-c"), in_site("plant-d"));
    assert!(plant_c.len() > 6 && plant_d.len() > 6);
    // Given in reverse, so that an order taken from here would show.
    let missing = [
        &plant_d[plant_d.len() - 1],
        &plant_d[0],
        &plant_c[plant_c.len() - 1],
        &plant_c[0],
    ];
    let (longer, shorter, same_size) = (&plant_d[1], &plant_c[plant_c.len() / 2], &plant_c[1]);
    let stray = [
        "plant-d/overlays/prod/zz-stray.yaml",
        "plant-d/base/aa-stray.yaml",
        "plant-c/overlays/dev/aa-stray.yaml",
        "plant-c/base/zz-stray.yaml",
    ];
    for file in missing {
        std::fs::remove_file(out.join(file)).unwrap();
    }
    let tail = "# appended by hand, longer than any buffer sized from the rendered file\n".repeat(200);
    std::fs::write(out.join(longer), read(out.join(longer)) + &tail).unwrap();
    let text = read(out.join(shorter));
    std::fs::write(out.join(shorter), &text[..text.len() / 2]).unwrap();
    let text = read(out.join(same_size));
    std::fs::write(out.join(same_size), text.replacen("apiVersion", "apiversion", 1)).unwrap();
    for file in stray {
        std::fs::write(
            out.join(file),
            format!("{}kind: ConfigMap\n", ignition_krm::render::HEADER),
        )
        .unwrap();
    }
    let sorted = |files: &[&String]| -> Vec<String> {
        let mut files: Vec<String> = files.iter().map(|file| out.join(file).display().to_string()).collect();
        files.sort();
        files
    };

    let json = render(&sites, &out, &["--check", "--output", "json"]);
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let list = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|path| path.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list("changed"), sorted(&[longer, shorter, same_size]));
    assert_eq!(list("missing"), sorted(&missing));
    let stray_paths: Vec<String> = stray.iter().map(|file| (*file).to_owned()).collect();
    assert_eq!(list("stray"), sorted(&stray_paths.iter().collect::<Vec<_>>()));

    let check = render(&sites, &out, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let text = stdout(&check);
    let at = |needle: String| text.find(&needle).unwrap_or_else(|| panic!("{needle} not in {text}"));
    let changed_at: Vec<usize> = list("changed")
        .into_iter()
        .map(|path| at(format!("--- {path}\n")))
        .collect();
    let missing_at: Vec<usize> = list("missing")
        .into_iter()
        .map(|path| at(format!("missing: {path}\n")))
        .collect();
    let stray_at: Vec<usize> = list("stray")
        .into_iter()
        .map(|path| at(format!("stray: {path}\n")))
        .collect();
    let positions = [changed_at, missing_at, stray_at].concat();
    assert!(positions.is_sorted(), "{text}");
    assert_eq!(text.matches("\n-# appended by hand").count(), 200, "{text}");
    assert!(text.contains("-apiversion"), "{text}");
    assert!(
        stderr(&check).contains("3 changed, 4 missing, 4 stray"),
        "{}",
        stderr(&check)
    );
    assert_eq!(
        stdout(&render(&sites, &out, &["--check"])),
        text,
        "the report changed between runs"
    );
}

#[test]
fn render_refuses_to_lose_an_object_next_to_a_spec() {
    let dir = scratch("render-other-documents");
    std::fs::write(
        dir.join("ignition.yaml"),
        format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: mine}}\n",
            read(PLANT_C)
        ),
    )
    .unwrap();
    // A YAML file without a spec (CI settings, say) is none of render's business.
    std::fs::write(dir.join("ci.yaml"), "stages: [build]\n").unwrap();
    let out = dir.join("out");
    let output = render(&dir, &out, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "ignition-krm: error: {}: document 2 (ConfigMap mine) is not rendered: render writes only what the specs generate; put your own objects in <out>/<site>/overlays/<env>/extras/\n",
            dir.join("ignition.yaml").display()
        )
    );
    assert!(!out.exists());
}

/// The documented place for a user's own per-environment objects: `overlays/<env>/extras/`, listed by
/// the overlay once it holds a kustomization, and built by the real kustomize.
#[test]
fn an_overlay_lists_the_users_extras_and_kustomize_builds_them() {
    let dir = scratch("extras");
    let out = dir.join("rendered");
    let sites = repo_root().join("examples/sites");
    assert_eq!(render(&sites, &out, &[]).status.code(), Some(0));
    let extras = out.join("plant-c/overlays/prod/extras");
    std::fs::create_dir_all(&extras).unwrap();
    std::fs::write(extras.join("kustomization.yaml"), "resources: [sealedsecret.yaml]\n").unwrap();
    std::fs::write(
        extras.join("sealedsecret.yaml"),
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: plant-c-license, namespace: scada}\nspec: {encryptedData: {licenseKey: AgB}}\n",
    )
    .unwrap();
    let check = render(&sites, &out, &["--check"]);
    assert_eq!(check.status.code(), Some(1), "the overlay must now list extras");
    assert_eq!(render(&sites, &out, &[]).status.code(), Some(0));
    let built = std::process::Command::new(tool("kustomize"))
        .arg("build")
        .arg(out.join("plant-c/overlays/prod"))
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(documents(&stdout(&built))
        .iter()
        .any(|object| object["kind"] == "SealedSecret"));
    assert!(extras.join("sealedsecret.yaml").is_file());
}

/// An architecture switch recreates the StatefulSets under new names: the function says so in a
/// warning result (and on stderr), comparing with the owned objects of the earlier run in its input.
#[test]
fn an_architecture_switch_warns_that_the_statefulsets_are_recreated() {
    let failover = read("bases/failover/spec/ignition.yaml");
    let list = |spec: &str, items: &[serde_norway::Value]| {
        let mut all = items.to_vec();
        all.push(parse(spec));
        serde_norway::to_string(&serde_norway::Value::Mapping(serde_norway::Mapping::from_iter([
            ("apiVersion".into(), "config.kubernetes.io/v1".into()),
            ("kind".into(), "ResourceList".into()),
            ("items".into(), serde_norway::Value::Sequence(all)),
        ])))
        .unwrap()
    };
    let first = run_function(&list(&failover, &[]));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let earlier: Vec<serde_norway::Value> = items(&parse(&stdout(&first)))
        .into_iter()
        .filter(|item| item["kind"] != "IgnitionCluster")
        .collect();
    let same = run_function(&list(&failover, &earlier));
    assert!(parse(&stdout(&same))["results"].is_null(), "no change, no warning");
    // Each scaleout frontend needs a licence of its own, so the pair's licence moves to the backend.
    let scaleout = failover
        .replace("architecture: failover", "architecture: scaleout")
        .replace("  license:\n    secret: plant-b-license", "")
        .replace("  gateway:", "  backend:\n    license: {secret: plant-b-license}");
    let switched = run_function(&list(&scaleout, &earlier));
    assert_eq!(
        switched.status.code(),
        Some(0),
        "a warning is not an error: {}",
        stderr(&switched)
    );
    let results = parse(&stdout(&switched))["results"].clone();
    let results = results.as_sequence().expect("a warning result");
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["severity"], "warning");
    assert_eq!(results[0]["resourceRef"]["name"], "plant-b-gateway");
    let message = results[0]["message"].as_str().unwrap();
    assert!(
        message.contains("StatefulSet plant-b-gateway is no longer generated (now: plant-b-backend"),
        "{message}"
    );
    assert!(stderr(&switched).contains("ignition-krm: warning: StatefulSet scada/plant-b-gateway: StatefulSet plant-b-gateway is no longer generated"), "{}", stderr(&switched));
}
