//! Every output against a real kube-apiserver (etcd + kube-apiserver on 127.0.0.1, started by
//! `scripts/kube-apiserver.sh`; binaries from `KUBE_APISERVER` and `ETCD`, else `.tools/bin`).
//!
//! Schema validators and checkov cannot see admission, defaulting, CRD schemas or server-side apply;
//! this test can. For every golden output, example, rendered base and overlay and example environment,
//! each in a namespace of its own that enforces the Pod Security Standard "restricted":
//! 1. `kubectl apply --server-side --dry-run=server` accepts every object, and a Pod made from every
//!    pod template is admitted (Pod Security is enforced on Pods, not on StatefulSets);
//! 2. a real server-side apply with a field manager, then every value of the manifest equals the live
//!    object's (Argo CD compares strings: `4000m` stored as `4` is a diff that never closes);
//! 3. `kubectl diff --server-side` prints nothing, and applying again changes no resourceVersion (a
//!    custom resource whose CRD defaults `status` is written once more by the server: it gets a third apply).
//!
//! The Gateway API CRDs of the standard channel are installed first (what most clusters run); the outputs
//! that use a field of the experimental channel (HTTPRoute `sessionPersistence`) are checked afterwards
//! against the experimental channel's CRDs, and a self-check proves the standard channel refuses them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::{json, Value};

/// The field manager of the real applies, as a GitOps tool would use one.
const FIELD_MANAGER: &str = "ignition-krm-test";

/// The CRDs the outputs need, beside this repository (CI lays `shared/` next to the clone).
fn crd_dir() -> PathBuf {
    let shared = std::env::var_os("IGNITION_KRM_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"));
    let dir = shared.join("tools/kube-apiserver/crds");
    assert!(
        dir.is_dir(),
        "{} is missing: set IGNITION_KRM_SHARED to the folder holding tools/kube-apiserver/crds",
        dir.display()
    );
    dir
}

/// A throwaway etcd + kube-apiserver, stopped by PID when dropped (a failing test unwinds through it).
struct Server {
    dir: PathBuf,
}

impl Server {
    fn start() -> Server {
        // scripts/test.sh names the directory, so that its trap can stop the server if the run is killed.
        let dir = std::env::var_os("IGNITION_KRM_APISERVER_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join(format!("ignition-krm-apiserver-{}", std::process::id())));
        let server = Server { dir };
        let output = Command::new(repo_root().join("scripts/kube-apiserver.sh"))
            .arg("start")
            .arg(&server.dir)
            .output()
            .expect("scripts/kube-apiserver.sh runs");
        assert!(
            output.status.success(),
            "the test API server did not start (set KUBE_APISERVER to a kube-apiserver 1.30 or newer and ETCD \
             to an etcd 3.5, or run scripts/install-tools.sh):\n{}",
            stderr(&output)
        );
        server
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(tool("kubectl"))
            .args(args)
            .arg("--request-timeout=60s")
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .env("KUBECACHEDIR", self.dir.join("kube-cache"))
            .output()
            .expect("kubectl runs")
    }

    /// Runs kubectl and fails the test with its output when it fails.
    fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {}:\n{}{}",
            args.join(" "),
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }

    fn file(&self, name: &str, objects: &[Value]) -> PathBuf {
        let path = self.dir.join(name);
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        std::fs::write(&path, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
        path
    }

    /// A real server-side apply of a file with the test's field manager, as a GitOps tool would do it.
    fn apply(&self, file: &str) {
        self.kubectl_ok(&["apply", "--server-side", "--field-manager", FIELD_MANAGER, "-f", file]);
    }

    /// Installs CRDs and waits until the API serves their kinds.
    fn install_crds(&self, dirs: &[PathBuf], group_kinds: &[(&str, &str)]) {
        let mut args = vec!["apply", "--server-side", "--force-conflicts"];
        let paths: Vec<String> = dirs.iter().map(|dir| dir.display().to_string()).collect();
        for path in &paths {
            args.extend(["-f", path]);
        }
        self.kubectl_ok(&args);
        for _ in 0..300 {
            let listed = self.kubectl(&["api-resources", "--no-headers"]);
            let text = stdout(&listed);
            if group_kinds.iter().all(|(group, kind)| {
                text.lines().any(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    words.len() >= 3 && words[words.len() - 1] == *kind && words[words.len() - 3].starts_with(group)
                })
            }) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the API server never served {group_kinds:?}");
    }

    /// (group, kind) of every custom resource whose CRD gives `status` a default.
    fn kinds_defaulting_status(&self) -> BTreeSet<(String, String)> {
        let crds: Value = serde_json::from_str(&self.kubectl_ok(&["get", "crd", "-o", "json"])).unwrap();
        crds["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|crd| {
                crd["spec"]["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|version| !version["schema"]["openAPIV3Schema"]["properties"]["status"]["default"].is_null())
            })
            .map(|crd| {
                let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
                (text(&crd["spec"]["group"]), text(&crd["spec"]["names"]["kind"]))
            })
            .collect()
    }

    /// (group, kind) of every cluster-scoped kind the server knows.
    fn cluster_scoped_kinds(&self) -> BTreeSet<(String, String)> {
        self.kubectl_ok(&["api-resources", "--namespaced=false", "--no-headers"])
            .lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let [.., api_version, _, kind] = words.as_slice() else {
                    return None;
                };
                Some((group(api_version).to_owned(), (*kind).to_owned()))
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/kube-apiserver.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// One output to check: a name (also its namespace) and its objects.
#[derive(Clone)]
struct Case {
    namespace: String,
    objects: Vec<Value>,
}

fn case(name: &str, objects: Vec<Value>) -> Case {
    let mut namespace: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    namespace.truncate(63);
    let namespace = namespace.trim_matches('-').to_owned();
    assert!(!objects.is_empty(), "{name}: no objects (a silent skip?)");
    Case { namespace, objects }
}

/// The documents of a YAML text (read by the library's reader, through `common::documents`) as JSON values.
fn yaml_documents(text: &str) -> Vec<Value> {
    documents(text)
        .into_iter()
        .map(|document| serde_json::to_value(document).expect("a Kubernetes object is JSON"))
        .collect()
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(output.status.success(), "{what}:\n{}", stderr(&output));
    stdout(&output)
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every output of the repository: golden cases, examples (base and each environment), the kustomize bases
/// and overlays (run through the function by the real kustomize), the rendered trees, and the fleet files.
fn all_cases() -> Vec<Case> {
    let root = repo_root();
    let mut cases = Vec::new();

    for dir in sorted_dirs(&root.join("tests/testdata")) {
        let name = file_name(&dir);
        if name.starts_with("error-") {
            continue;
        }
        let list: Value = serde_norway::from_str(&read(dir.join("expected.yaml"))).unwrap();
        let objects = list["items"]
            .as_array()
            .unwrap()
            .iter()
            // The spec itself is never applied (kustomize drops local-config items; a pass-through one stays in
            // the package).
            .filter(|item| item["kind"] != "IgnitionCluster" && item["kind"] != "GatewayResource")
            .cloned()
            .collect();
        cases.push(case(&format!("golden-{name}"), objects));
    }

    let mut specs: Vec<PathBuf> = sorted_dirs(&root.join("examples/sites"))
        .into_iter()
        .map(|dir| dir.join("ignition.yaml"))
        .collect();
    specs.push(root.join("examples/kubectl/ignition.yaml"));
    for spec_path in specs {
        let spec: Value = serde_norway::from_str(&read(&spec_path)).unwrap();
        let site = spec["metadata"]["name"].as_str().unwrap().to_owned();
        let environments: Vec<String> = spec["spec"]["environments"]
            .as_object()
            .map(|environments| environments.keys().cloned().collect())
            .unwrap_or_default();
        let manifests = |environment: Option<&str>| {
            let mut command = Command::new(assert_cmd::cargo::cargo_bin!("ignition-krm"));
            command.arg("manifests").arg(&spec_path);
            // The site's GatewayResource items beside the spec.
            let resources = spec_path.with_file_name("gateway-resources.yaml");
            if resources.is_file() {
                command.arg(resources);
            }
            if let Some(environment) = environment {
                command.args(["--environment", environment]);
            }
            yaml_documents(&run(&mut command, &format!("manifests {}", spec_path.display())))
        };
        // A spec with environments expands its base only when asked to by name; the kubectl example names its
        // environment in an annotation instead.
        let base = if environments.is_empty() { None } else { Some("base") };
        cases.push(case(&format!("example-{site}"), manifests(base)));
        for environment in environments {
            cases.push(case(
                &format!("example-{site}-{environment}"),
                manifests(Some(&environment)),
            ));
        }
    }

    for kustomization in ["bases/failover", "bases/scaleout", "overlays/dev", "overlays/prod"] {
        let mut command = Command::new(tool("kustomize"));
        command
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(root.join(kustomization))
            .env("PATH", path_with_binary());
        let objects = yaml_documents(&run(&mut command, &format!("kustomize build {kustomization}")));
        cases.push(case(&format!("kustomize-{kustomization}"), objects));
    }

    for site in sorted_dirs(&root.join("examples/rendered")) {
        let mut trees = vec![site.join("base")];
        trees.extend(sorted_dirs(&site.join("overlays")));
        for tree in trees {
            let relative = tree
                .strip_prefix(root.join("examples/rendered"))
                .unwrap()
                .display()
                .to_string();
            let mut command = Command::new(tool("kubectl"));
            command.arg("kustomize").arg(&tree);
            let objects = yaml_documents(&run(&mut command, &format!("kubectl kustomize {relative}")));
            cases.push(case(&format!("rendered-{relative}"), objects));
        }
    }

    let fleets = root.join("examples/fleets");
    if fleets.is_dir() {
        for entry in walkdir::WalkDir::new(&fleets).sort_by_file_name() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.extension().is_some_and(|extension| extension == "yaml") && file_name(path) != "kustomization.yaml"
            {
                let relative = path.strip_prefix(&root).unwrap().display().to_string();
                cases.push(case(&relative.replace(".yaml", ""), yaml_documents(&read(path))));
            }
        }
    }
    cases
}

/// The identity kubectl and the API server use for an object.
fn identity(object: &Value) -> (String, String, String, String) {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    (
        group(object["apiVersion"].as_str().unwrap_or_default()).to_owned(),
        text(&object["kind"]),
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"]),
    )
}

fn describe(object: &Value) -> String {
    let (_, kind, namespace, name) = identity(object);
    format!("{kind} {namespace}/{name}")
}

/// Every value the manifest sets equals the live object's at the same place. Maps may gain keys on the
/// server (defaults); lists must keep their length, and each item is compared the same way.
fn differences(manifest: &Value, live: &Value, path: &str, found: &mut Vec<String>) {
    match (manifest, live) {
        (Value::Object(manifest), Value::Object(live)) => {
            for (key, value) in manifest {
                let here = format!("{path}.{key}");
                match live.get(key) {
                    Some(live_value) => differences(value, live_value, &here, found),
                    None => found.push(format!("{here}: {value} is not in the live object")),
                }
            }
        }
        (Value::Array(manifest), Value::Array(live)) if manifest.len() == live.len() => {
            for (index, (value, live_value)) in manifest.iter().zip(live).enumerate() {
                differences(value, live_value, &format!("{path}[{index}]"), found);
            }
        }
        _ if manifest == live => {}
        _ => found.push(format!("{path}: the manifest has {manifest}, the server stored {live}")),
    }
}

/// A Pod from every pod template, as the StatefulSet controller would make it: Pod Security admission
/// enforces "restricted" on Pods only (for workloads it merely warns).
fn pods_from_templates(objects: &[Value]) -> Vec<Value> {
    objects
        .iter()
        .filter(|object| object["kind"] == "StatefulSet")
        .map(|statefulset| {
            let name = statefulset["metadata"]["name"].as_str().unwrap();
            let mut spec = statefulset["spec"]["template"]["spec"].clone();
            for claim in statefulset["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let volume = claim["metadata"]["name"].as_str().unwrap();
                spec["volumes"].as_array_mut().unwrap().push(json!({
                    "name": volume,
                    "persistentVolumeClaim": {"claimName": format!("{volume}-{name}-0")},
                }));
            }
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": format!("{name}-0"),
                    "namespace": statefulset["metadata"]["namespace"],
                    "labels": statefulset["spec"]["template"]["metadata"]["labels"],
                },
                "spec": spec,
            })
        })
        .collect()
}

fn restricted_namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    })
}

/// Puts every namespaced object of each case into the case's namespace, and gathers the cluster-scoped
/// ones once (the same object from two cases must be the same object).
fn place(cases: &[Case], cluster_scoped: &BTreeSet<(String, String)>) -> Vec<Value> {
    let mut placed = Vec::new();
    let mut cluster_wide: BTreeMap<(String, String, String, String), (String, Value)> = BTreeMap::new();
    for case in cases {
        for object in &case.objects {
            let mut object = object.clone();
            let (group, kind, _, _) = identity(&object);
            if cluster_scoped.contains(&(group, kind)) {
                let id = identity(&object);
                if let Some((first, earlier)) = cluster_wide.get(&id) {
                    assert_eq!(
                        earlier,
                        &object,
                        "{} differs between {first} and {}",
                        describe(&object),
                        case.namespace
                    );
                    continue;
                }
                cluster_wide.insert(id, (case.namespace.clone(), object.clone()));
            } else {
                object["metadata"]["namespace"] = json!(case.namespace);
            }
            placed.push(object);
        }
    }
    placed
}

/// Steps 1 to 3 of the module comment over `objects`; every problem found, one line each.
fn apply_and_compare(server: &Server, label: &str, objects: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let manifests = server.file(&format!("{label}.json"), objects);
    let manifests = manifests.to_str().unwrap();

    // 1. Admission, validation and defaulting, without storing anything.
    let dry_run = server.kubectl(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager",
        FIELD_MANAGER,
        "-f",
        manifests,
    ]);
    if !dry_run.status.success() {
        problems.extend(
            stderr(&dry_run)
                .lines()
                .map(|line| format!("{label}: rejected: {line}")),
        );
        return problems;
    }
    for line in stderr(&dry_run).lines().filter(|line| line.starts_with("Warning:")) {
        problems.push(format!("{label}: {line}"));
    }
    // 2. A real server-side apply, then the live objects hold every value of the manifests.
    server.apply(manifests);
    // After the apply: an admitted Pod needs its ServiceAccount to exist, and the PriorityClass it names, which
    // the user's cluster provides (the spec only names it).
    let pods = pods_from_templates(objects);
    let priority_classes: BTreeSet<&str> = pods
        .iter()
        .filter_map(|pod| pod["spec"]["priorityClassName"].as_str())
        .collect();
    if !priority_classes.is_empty() {
        let classes: Vec<Value> = priority_classes
            .iter()
            .map(|name| json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": 1000}))
            .collect();
        let classes = server.file(&format!("{label}-priority-classes.json"), &classes);
        server.kubectl_ok(&["apply", "--server-side", "-f", classes.to_str().unwrap()]);
    }
    let pods = server.file(&format!("{label}-pods.json"), &pods);
    let admitted = server.kubectl(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        pods.to_str().unwrap(),
    ]);
    if !admitted.status.success() {
        problems.extend(
            stderr(&admitted)
                .lines()
                .map(|line| format!("{label}: pod refused: {line}")),
        );
    }

    let live_objects = live(server, manifests);
    for object in objects {
        match live_objects.get(&identity(object)) {
            Some(live_object) => {
                let mut found = Vec::new();
                differences(object, live_object, "", &mut found);
                problems.extend(
                    found
                        .into_iter()
                        .map(|difference| format!("{}: {difference}", describe(object))),
                );
            }
            None => problems.push(format!("{}: not found after apply", describe(object))),
        }
    }

    // 3. Stable under GitOps: no diff, and a second apply writes nothing.
    let diff = server.kubectl(&[
        "diff",
        "--server-side",
        "--field-manager",
        FIELD_MANAGER,
        "-f",
        manifests,
    ]);
    if !diff.status.success() || !diff.stdout.is_empty() {
        problems.push(format!(
            "{label}: kubectl diff --server-side is not empty (exit {:?}):\n{}{}",
            diff.status.code(),
            stdout(&diff),
            stderr(&diff)
        ));
    }
    server.apply(manifests);
    let again = live(server, manifests);
    // A CRD that defaults `status` with a status subresource (Flux's Kustomization: `observedGeneration: -1`)
    // makes the server store that default at the first update after the create: one write that no manifest can
    // avoid (status is the controller's). Such an object gets one more apply, and must be stable from then on.
    // Asked of the server only when something was written again.
    let mut status_defaulting = None;
    let mut settling = Vec::new();
    for (id, live_object) in &live_objects {
        let before = &live_object["metadata"]["resourceVersion"];
        let after = &again[id]["metadata"]["resourceVersion"];
        if before == after {
            continue;
        }
        let status_defaulting = status_defaulting.get_or_insert_with(|| server.kinds_defaulting_status());
        if status_defaulting.contains(&(id.0.clone(), id.1.clone())) {
            settling.push(objects.iter().find(|object| identity(object) == *id).unwrap().clone());
        } else {
            problems.push(format!(
                "{}: a second apply changed resourceVersion {before} to {after}",
                describe(live_object)
            ));
        }
    }
    if !settling.is_empty() {
        let settling_file = server.file(&format!("{label}-settling.json"), &settling);
        let settling_file = settling_file.to_str().unwrap();
        server.apply(settling_file);
        let settled = live(server, settling_file);
        for (id, live_object) in &settled {
            let before = &again[id]["metadata"]["resourceVersion"];
            let after = &live_object["metadata"]["resourceVersion"];
            if before != after {
                problems.push(format!(
                    "{}: a third apply changed resourceVersion {before} to {after}",
                    describe(live_object)
                ));
            }
        }
    }
    problems
}

fn live(server: &Server, manifests: &str) -> BTreeMap<(String, String, String, String), Value> {
    let list: Value = serde_json::from_str(&server.kubectl_ok(&["get", "-f", manifests, "-o", "json"])).unwrap();
    let items = if list["kind"] == "List" {
        list["items"].as_array().unwrap().clone()
    } else {
        vec![list]
    };
    items.into_iter().map(|item| (identity(&item), item)).collect()
}

fn uses_experimental_gateway_api(case: &Case) -> bool {
    case.objects.iter().any(|object| {
        object["kind"] == "HTTPRoute"
            && object["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|rule| rule.get("sessionPersistence").is_some())
    })
}

#[test]
fn every_output_is_accepted_applied_and_stable_on_a_real_api_server() {
    let started = std::time::Instant::now();
    let phase = |what: &str| eprintln!("apiserver test: {what} at {:.1} s", started.elapsed().as_secs_f64());
    let crds = crd_dir();
    // The server boots and takes its CRDs while the outputs are gathered: they do not depend on each other.
    let (cases, server) = std::thread::scope(|scope| {
        let booting = scope.spawn(|| {
            let server = Server::start();
            server.install_crds(
                &[
                    crds.join("cert-manager"),
                    crds.join("gateway-api-standard"),
                    crds.join("argocd"),
                    crds.join("flux"),
                ],
                &[
                    ("cert-manager.io", "Certificate"),
                    ("cert-manager.io", "Issuer"),
                    ("gateway.networking.k8s.io", "HTTPRoute"),
                    ("argoproj.io", "ApplicationSet"),
                    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
                ],
            );
            server
        });
        let cases = all_cases();
        phase("outputs gathered");
        let server = booting.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (cases, server)
    });
    phase("CRDs served");
    let cluster_scoped = server.cluster_scoped_kinds();
    let namespaces: Vec<Value> = cases.iter().map(|case| restricted_namespace(&case.namespace)).collect();
    let namespaces_file = server.file("namespaces.json", &namespaces);
    server.kubectl_ok(&["apply", "--server-side", "-f", namespaces_file.to_str().unwrap()]);

    let (experimental, standard): (Vec<&Case>, Vec<&Case>) =
        cases.iter().partition(|case| uses_experimental_gateway_api(case));
    let standard: Vec<Case> = standard.into_iter().cloned().collect();
    let experimental: Vec<Case> = experimental.into_iter().cloned().collect();
    assert!(
        !experimental.is_empty(),
        "no output asks for session persistence: the experimental channel goes unchecked"
    );

    // The outputs are checked in a few groups side by side: kubectl sends one request per object at a time, so
    // the server and the two cores are idle between requests otherwise. In the same way: the standard channel
    // refuses the experimental field, proof that the split above is needed and that a rejection is reported.
    let (mut problems, refused) = std::thread::scope(|scope| {
        let refusing =
            scope.spawn(|| apply_and_compare(&server, "standard-refuses", &place(&experimental[..1], &cluster_scoped)));
        let problems = in_groups(&server, "standard", &standard, &cluster_scoped);
        (
            problems,
            refusing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    phase("standard channel checked");
    assert!(
        refused.iter().any(|problem| problem.contains("sessionPersistence")),
        "the standard channel accepted HTTPRoute sessionPersistence: {refused:#?}"
    );

    server.install_crds(
        &[crds.join("gateway-api-experimental")],
        &[("gateway.networking.k8s.io", "HTTPRoute")],
    );
    // The replaced CRD's schema is live once a route with the field passes a dry run.
    let probe = server.file("probe.json", &place(&experimental[..1], &cluster_scoped));
    let probe = probe.to_str().unwrap();
    for _ in 0..100 {
        if server
            .kubectl(&["apply", "--server-side", "--dry-run=server", "-f", probe])
            .status
            .success()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    problems.extend(in_groups(&server, "experimental", &experimental, &cluster_scoped));
    phase("experimental channel checked");

    assert!(
        problems.is_empty(),
        "{} problems over {} outputs:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
    self_checks(&server, &standard);
    phase("self-checks done");
}

/// [`apply_and_compare`] over the cases in `GROUPS` groups at once, their problems in group order.
fn in_groups(server: &Server, label: &str, cases: &[Case], cluster_scoped: &BTreeSet<(String, String)>) -> Vec<String> {
    const GROUPS: usize = 3;
    std::thread::scope(|scope| {
        let checks: Vec<_> = (0..GROUPS)
            .map(|group| {
                let members: Vec<Case> = cases.iter().skip(group).step_by(GROUPS).cloned().collect();
                scope.spawn(move || {
                    if members.is_empty() {
                        return Vec::new();
                    }
                    apply_and_compare(server, &format!("{label}-{group}"), &place(&members, cluster_scoped))
                })
            })
            .collect();
        checks
            .into_iter()
            .flat_map(|check| check.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// The checks above can fail: a quantity the server re-spells and a Pod that breaks "restricted" are found.
fn self_checks(server: &Server, cases: &[Case]) {
    let namespace = "self-check";
    server.kubectl_ok(&[
        "apply",
        "--server-side",
        "-f",
        server
            .file("self-check-ns.json", &[restricted_namespace(namespace)])
            .to_str()
            .unwrap(),
    ]);
    let mut statefulset = cases
        .iter()
        .flat_map(|case| &case.objects)
        .find(|object| object["kind"] == "StatefulSet")
        .expect("a StatefulSet among the outputs")
        .clone();
    statefulset["metadata"]["namespace"] = json!(namespace);
    // The Pod below needs its ServiceAccount (ServiceAccount admission runs before Pod Security).
    let account = statefulset["spec"]["template"]["spec"]["serviceAccountName"].clone();
    let account =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}});
    server.kubectl_ok(&[
        "apply",
        "--server-side",
        "-f",
        server.file("self-check-sa.json", &[account]).to_str().unwrap(),
    ]);
    let resources = &mut statefulset["spec"]["template"]["spec"]["containers"][0]["resources"];
    resources["limits"]["cpu"] = json!("4000m");
    resources["requests"]["cpu"] = json!("4000m");
    let problems = apply_and_compare(server, "self-check-quantity", std::slice::from_ref(&statefulset));
    assert!(
        problems.iter().any(
            |problem| problem.contains("resources.limits.cpu: the manifest has \"4000m\", the server stored \"4\"")
        ),
        "a re-spelled quantity went unnoticed: {problems:#?}"
    );

    let mut pod = pods_from_templates(std::slice::from_ref(&statefulset)).remove(0);
    pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    let refused = server.kubectl(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        server.file("self-check-pod.json", &[pod]).to_str().unwrap(),
    ]);
    assert!(
        !refused.status.success() && stderr(&refused).contains("allowPrivilegeEscalation"),
        "a Pod that breaks \"restricted\" was admitted: {}",
        stderr(&refused)
    );
}
