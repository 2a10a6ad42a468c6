//! The scripts behind failover, run as shipped with real bash and curl against local fakes:
//! - `label-active.sh`, the sidecar that labels the Active node, against a fake `/system/gwinfo`
//!   and a fake Kubernetes API server: the PATCH requests it sends for Active, Cold, no answer,
//!   flapping and recovery, and the failover delay it adds;
//! - `ready.sh` of a pair node against a fake gateway: a Backup is Ready only when in sync;
//! - `gan-trust.sh` with the real keytool: the metro keystore and the trusted CA, per version;
//! - `fetch-backup.sh` against a fake HTTPS-less file server: checksum, reuse, refusals;
//! - `ready.sh` through a version change of a fake pair (Backup first, then Master);
//! - `prepare-backup.sh` with the real zip and unzip: a restored `.gwbk` keeps the pod's role and CA.

mod common;

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use common::scripts::*;

const POD: &str = "plant-b-gateway-1";
const NAMESPACE: &str = "scada";
const TOKEN: &str = "token-that-must-stay-secret";

fn gwinfo(active_status: &str) -> String {
    format!(
        "ContextStatus=RUNNING;RedundancyStatus=Backup;RedundantState=Good;RedundantNodeActiveStatus={active_status};"
    )
}

/// What a run of the labeler sent to the API server.
struct LabelerRun {
    run: Run,
    /// The label values of the successful PATCH requests, in order.
    labels: Vec<String>,
    /// Every request the API server received.
    requests: Vec<Request>,
}

/// Runs label-active.sh for one poll per `answers` entry (`None`: gwinfo does not answer), with an
/// API server that answers `api_status(n)` to the n-th PATCH.
fn run_labeler(test: &str, answers: Vec<Option<&'static str>>, api_status: fn(usize) -> u16) -> LabelerRun {
    require_curl();
    let sandbox = Sandbox::new(test);
    let polls = answers.len();
    let gateway = FakeServer::start(move |_, n| match answers[n.min(answers.len() - 1)] {
        Some(status) => (200, gwinfo(status)),
        None => (503, String::new()),
    });
    let api = FakeServer::start(move |_, n| (api_status(n), "{}".to_owned()));
    let run = run_labeler_script(
        &sandbox,
        &gateway,
        &api,
        &[
            ("POLL_SECONDS", "0.05".to_owned()),
            ("DEBOUNCE", "2".to_owned()),
            ("MAX_POLLS", polls.to_string()),
        ],
    );
    run.assert_success(test);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token leaked: {}",
        run.describe()
    );
    let requests = api.requests();
    for request in &requests {
        assert_eq!(request.method, "PATCH");
        assert_eq!(
            request.path,
            format!("/api/v1/namespaces/{NAMESPACE}/pods/{POD}"),
            "only its own pod"
        );
        assert_eq!(request.headers["authorization"], format!("Bearer {TOKEN}"));
        assert_eq!(request.headers["content-type"], "application/merge-patch+json");
    }
    let labels = requests
        .iter()
        .enumerate()
        .filter(|(n, _)| api_status(*n) == 200)
        .map(|(_, request)| {
            let patch: serde_json::Value = serde_json::from_str(&request.body).expect("the patch is JSON");
            assert_eq!(
                patch.as_object().unwrap().len(),
                1,
                "the patch touches metadata only: {patch}"
            );
            patch["metadata"]["labels"]["ignition.krm.dev/active"]
                .as_str()
                .expect("the active label")
                .to_owned()
        })
        .collect();
    LabelerRun { run, labels, requests }
}

/// Runs label-active.sh as pod POD against the fake gateway and API server, with a token file.
fn run_labeler_script(sandbox: &Sandbox, gateway: &FakeServer, api: &FakeServer, settings: &[(&str, String)]) -> Run {
    fs::create_dir_all(sandbox.path("serviceaccount")).unwrap();
    fs::write(sandbox.path("serviceaccount/token"), TOKEN).unwrap();
    // The sidecar's shipped settings (the label, the timing), then the fakes' addresses and the test's own.
    let mut env: Vec<(&str, String)> = shipped_env("role-labeler");
    env.extend([
        ("POD_NAME", POD.to_owned()),
        ("POD_NAMESPACE", NAMESPACE.to_owned()),
        ("GATEWAY_HTTP_PORT", gateway.port.to_string()),
        ("KUBE_API_URL", api.url()),
        (
            "SERVICE_ACCOUNT_DIR",
            sandbox.path("serviceaccount").display().to_string(),
        ),
    ]);
    env.extend(settings.iter().cloned());
    run_script(sandbox, "label-active.sh", &env)
}

fn ok(_: usize) -> u16 {
    200
}

#[test]
fn the_active_node_is_labelled_active_once() {
    let result = run_labeler("labeler-active", vec![Some("Active"); 4], ok);
    assert_eq!(result.labels, ["true"], "{}", result.run.describe());
}

#[test]
fn a_cold_standby_is_labelled_standby() {
    let result = run_labeler("labeler-cold", vec![Some("Cold"); 3], ok);
    assert_eq!(result.labels, ["false"]);
    let result = run_labeler("labeler-warm", vec![Some("Warm"), Some("Hot"), Some("Warm")], ok);
    assert_eq!(result.labels, ["false"], "Warm and Hot standbys are standbys too");
}

#[test]
fn a_flapping_status_changes_nothing() {
    let answers = vec![
        Some("Active"),
        Some("Cold"),
        Some("Active"),
        Some("Cold"),
        Some("Active"),
        Some("Cold"),
    ];
    let result = run_labeler("labeler-flapping", answers, ok);
    assert!(
        result.labels.is_empty(),
        "no single answer moves the label: {:?}",
        result.labels
    );
}

#[test]
fn no_answer_keeps_the_last_label() {
    let answers = vec![Some("Active"), Some("Active"), None, None, None, Some("Active"), None];
    let result = run_labeler("labeler-no-answer", answers, ok);
    assert_eq!(
        result.labels,
        ["true"],
        "a gateway that does not answer keeps its label"
    );
}

#[test]
fn a_failover_moves_the_label_and_recovery_moves_it_back() {
    let answers = vec![
        Some("Cold"),
        Some("Cold"),
        // The master is gone: this backup becomes Active.
        Some("Active"),
        Some("Active"),
        Some("Active"),
        // The master is back (automatic recovery): this node goes back to standby.
        Some("Cold"),
        Some("Cold"),
    ];
    let result = run_labeler("labeler-failover", answers, ok);
    assert_eq!(result.labels, ["false", "true", "false"]);
}

#[test]
fn a_failed_patch_is_tried_again() {
    let result = run_labeler(
        "labeler-retry",
        vec![Some("Active"); 4],
        |n| if n == 0 { 500 } else { 200 },
    );
    assert_eq!(result.requests.len(), 2, "one failed PATCH, then one that worked");
    assert_eq!(result.labels, ["true"]);
}

#[test]
fn failover_delay_added_by_the_labeler() {
    // With the shipped settings (a poll a second, two equal answers), measure how long after the
    // gateway reports Active the label follows. The figure is printed for the README, not asserted.
    require_curl();
    let sandbox = Sandbox::new("labeler-delay");
    let switch = Instant::now() + Duration::from_millis(1500);
    let gateway =
        FakeServer::start(move |_, _| (200, gwinfo(if Instant::now() >= switch { "Active" } else { "Cold" })));
    let api = FakeServer::start(|_, _| (200, "{}".to_owned()));
    // The shipped POLL_SECONDS and DEBOUNCE.
    let run = run_labeler_script(&sandbox, &gateway, &api, &[("MAX_POLLS", "8".to_owned())]);
    run.assert_success("labeler with the shipped timing");
    let requests = api.requests();
    let active = requests
        .iter()
        .find(|request| request.body.contains("\"true\""))
        .expect("the node was labelled active");
    let delay = active.at.saturating_duration_since(switch);
    eprintln!(
        "label-active.sh: labelled active {} ms after the gateway reported Active",
        delay.as_millis()
    );
}

// ready.sh on a node of a redundant pair.

fn ready(test: &str, status_ping: &'static str, info: Option<&'static str>, mode: Option<&str>) -> (Run, Vec<String>) {
    require_curl();
    let sandbox = Sandbox::new(test);
    let gateway = FakeServer::start(move |path, _| match (path, info) {
        ("/StatusPing", _) => (200, status_ping.to_owned()),
        ("/system/gwinfo", Some(info)) => (200, info.to_owned()),
        _ => (503, String::new()),
    });
    let mut env = vec![("GATEWAY_HTTP_PORT", gateway.port.to_string())];
    if let Some(mode) = mode {
        env.push(("REDUNDANCY_MODE", mode.to_owned()));
    }
    let run = run_script(&sandbox, "ready.sh", &env);
    (
        run,
        gateway.requests().into_iter().map(|request| request.path).collect(),
    )
}

const RUNNING: &str = r#"{"state":"RUNNING"}"#;

#[test]
fn a_backup_is_ready_when_in_sync_or_on_another_version() {
    let cases = [
        (
            "RedundancyStatus=Master;RedundantState=Good;RedundantNodeActiveStatus=Active;",
            true,
            "a running master",
        ),
        (
            "RedundancyStatus=Master;RedundantState=OutOfDate;RedundantNodeActiveStatus=Active;",
            true,
            "a master alone",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=Good;RedundantNodeActiveStatus=Cold;",
            true,
            "a backup in sync",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=OutOfDate;RedundantNodeActiveStatus=Cold;",
            true,
            "a backup behind (a new version beside the old master)",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=Incompatible;RedundantNodeActiveStatus=Warm;",
            true,
            "incompatible (another version than the master)",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=Unknown;RedundantNodeActiveStatus=Cold;",
            false,
            "a backup that has not reached the master",
        ),
        (
            "RedundancyStatus=Backup;RedundantNodeActiveStatus=Cold;",
            false,
            "a backup with no redundant state yet",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=OutOfDate;RedundantNodeActiveStatus=Active;",
            true,
            "a backup that took over",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=Goodish;RedundantNodeActiveStatus=Cold;",
            false,
            "no partial matches",
        ),
    ];
    for (index, (info, expected, what)) in cases.into_iter().enumerate() {
        let (run, paths) = ready(&format!("ready-pair-{index}"), RUNNING, Some(info), Some("pair"));
        assert_eq!(run.status.success(), expected, "{what}: {}", run.describe());
        assert_eq!(paths, ["/StatusPing", "/system/gwinfo"], "{what}");
    }
}

/// One node of a fake redundant pair during a version change: what its `/system/gwinfo` says is
/// derived from its own version and its peer's, as Inductive Automation's chart 0.2.1 describes it
/// (`redundant-health-check.sh`: a Backup beside a Master on another version reports OutOfDate or
/// Incompatible, and is still healthy).
#[derive(Clone, Copy)]
struct PairNode {
    role: &'static str,
    version: u32,
    /// Just restarted: still catching up with its peer.
    syncing: bool,
    active: bool,
}

fn pair_gwinfo(node: PairNode, peer: PairNode) -> String {
    let state = if node.version != peer.version {
        "Incompatible"
    } else if node.syncing {
        "OutOfDate"
    } else {
        "Good"
    };
    let activity = if node.active { "Active" } else { "Cold" };
    format!(
        "ContextStatus=RUNNING;RedundancyStatus={};RedundantState={state};RedundantNodeActiveStatus={activity};",
        node.role
    )
}

/// Walks a pair through a version change as the StatefulSet controller does (ordinal 1, the
/// Backup, first; the Master only once the Backup is Ready) and runs the shipped ready.sh against
/// each node's fake gwinfo at every step: every replaced pod must become Ready, or the rollout
/// would stop there.
#[test]
fn a_version_change_rolls_through_backup_then_master() {
    use std::sync::{Arc, Mutex};
    require_curl();
    let nodes = Arc::new(Mutex::new([
        PairNode {
            role: "Master",
            version: 1,
            syncing: false,
            active: true,
        },
        PairNode {
            role: "Backup",
            version: 1,
            syncing: false,
            active: false,
        },
    ]));
    let servers: Vec<FakeServer> = (0..2)
        .map(|ordinal| {
            let nodes = nodes.clone();
            FakeServer::start(move |path, _| {
                let pair = *nodes.lock().unwrap();
                match path {
                    "/StatusPing" => (200, RUNNING.to_owned()),
                    "/system/gwinfo" => (200, pair_gwinfo(pair[ordinal], pair[1 - ordinal])),
                    _ => (404, String::new()),
                }
            })
        })
        .collect();
    let is_ready = |ordinal: usize, step: &str| {
        let sandbox = Sandbox::new(&format!("rollout-{step}-{ordinal}"));
        let run = run_script(
            &sandbox,
            "ready.sh",
            &[
                ("GATEWAY_HTTP_PORT", servers[ordinal].port.to_string()),
                ("REDUNDANCY_MODE", "pair".to_owned()),
            ],
        );
        run.status.success()
    };
    let mut walk = Vec::new();
    assert!(is_ready(0, "before") && is_ready(1, "before"), "both nodes run 1");
    // The Backup is replaced by a pod of version 2: the Master still runs 1.
    nodes.lock().unwrap()[1] = PairNode {
        role: "Backup",
        version: 2,
        syncing: true,
        active: false,
    };
    walk.push(("backup on 2 beside master on 1", is_ready(1, "backup-new")));
    let pair = *nodes.lock().unwrap();
    assert!(
        pair_gwinfo(pair[1], pair[0]).contains("RedundantState=Incompatible"),
        "the fake reports what the chart describes"
    );
    // Ready, so the controller replaces the Master; the Backup takes over while it is away.
    nodes.lock().unwrap()[1].active = true;
    walk.push(("backup active while the master restarts", is_ready(1, "backup-active")));
    nodes.lock().unwrap()[0] = PairNode {
        role: "Master",
        version: 2,
        syncing: true,
        active: false,
    };
    walk.push(("master on 2, catching up", is_ready(0, "master-new")));
    // Automatic recovery: the Master takes over again, both in sync.
    *nodes.lock().unwrap() = [
        PairNode {
            role: "Master",
            version: 2,
            syncing: false,
            active: true,
        },
        PairNode {
            role: "Backup",
            version: 2,
            syncing: false,
            active: false,
        },
    ];
    walk.push(("master back", is_ready(0, "after")));
    walk.push(("backup in sync", is_ready(1, "after")));
    for (step, ready) in &walk {
        assert!(ready, "{step}: not Ready, the rollout would stop here ({walk:?})");
    }
}

#[test]
fn a_pair_node_is_not_ready_without_redundancy_status_or_while_commissioning() {
    let (run, _) = ready("ready-pair-no-gwinfo", RUNNING, None, Some("pair"));
    run.assert_failure("gwinfo does not answer");
    let commissioning = r#"{"state":"RUNNING","details":"COMMISSIONING"}"#;
    let (run, paths) = ready(
        "ready-pair-commissioning",
        commissioning,
        Some("RedundancyStatus=Master;"),
        Some("pair"),
    );
    run.assert_failure("commissioning");
    assert_eq!(paths, ["/StatusPing"], "commissioning is decided before redundancy");
}

#[test]
fn an_independent_gateway_never_asks_for_redundancy() {
    let (run, paths) = ready("ready-independent", RUNNING, None, None);
    run.assert_success("an independent gateway that runs");
    assert_eq!(paths, ["/StatusPing"]);
}

// gan-trust.sh with the real keytool.

/// Ignition's fixed metro keystore password, which the issued keystore must use.
const KEYSTORE_PASSWORD: &str = "metro";

fn keytool(args: &[&str]) -> String {
    let output = Command::new("keytool").args(args).output().unwrap_or_else(|error| {
        panic!("keytool is needed for these tests (a JDK, e.g. Debian's default-jre-headless): {error}")
    });
    assert!(
        output.status.success(),
        "keytool {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl").args(args).output().expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A keystore as cert-manager writes it: the key under the alias `certificate`, the password from
/// the Secret (openssl, since keytool refuses a five-letter password).
fn issue_keystore(sandbox: &Sandbox, common_name: &str) {
    let tls = sandbox.path("tls");
    fs::create_dir_all(&tls).unwrap();
    let (key, certificate) = (
        tls.join("tls.key").display().to_string(),
        tls.join("ca.crt").display().to_string(),
    );
    let subject = format!("/CN={common_name}");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &certificate,
        "-subj",
        &subject,
        "-days",
        "30",
    ]);
    let keystore = tls.join("keystore.p12").display().to_string();
    openssl(&[
        "pkcs12",
        "-export",
        "-in",
        &certificate,
        "-inkey",
        &key,
        "-name",
        "certificate",
        "-passout",
        &format!("pass:{KEYSTORE_PASSWORD}"),
        "-out",
        &keystore,
    ]);
    fs::write(sandbox.path("password"), KEYSTORE_PASSWORD).unwrap();
}

/// What keytool lists of an installed metro keystore, opened as Ignition opens it.
fn metro_keystore_listing(keystore: &std::path::Path) -> String {
    let keystore = keystore.display().to_string();
    keytool(&[
        "-list",
        "-v",
        "-keystore",
        &keystore,
        "-storetype",
        "PKCS12",
        "-storepass",
        KEYSTORE_PASSWORD,
    ])
}

fn run_gan_trust(sandbox: &Sandbox, version_line: &str) -> Run {
    run_script(
        sandbox,
        "gan-trust.sh",
        &[
            ("DATA_VOLUME", sandbox.path("volume").display().to_string()),
            ("GAN_TLS_DIR", sandbox.path("tls").display().to_string()),
            (
                "GAN_KEYSTORE_PASSWORD_FILE",
                sandbox.path("password").display().to_string(),
            ),
            ("IGNITION_VERSION_LINE", version_line.to_owned()),
            ("GAN_CA_NAME", "plant-b-gan-ca".to_owned()),
        ],
    )
}

#[test]
fn the_keystore_and_ca_land_where_each_version_reads_them() {
    for (version_line, keystore, network) in [
        ("8.1", "local/metro-keystore", "gateway-network"),
        (
            "8.3",
            "config/local/ignition/gateway-network/keystore/metro-keystore.pfx",
            "config/local/ignition/gateway-network",
        ),
    ] {
        let sandbox = Sandbox::new(&format!("gan-trust-{version_line}"));
        issue_keystore(&sandbox, "plant-b-gateway");
        let run = run_gan_trust(&sandbox, version_line);
        run.assert_success(&format!("gan-trust {version_line}"));
        let listing = metro_keystore_listing(&sandbox.path(&format!("volume/{keystore}")));
        assert!(listing.contains("Alias name: metro-key"), "{version_line}: {listing}");
        assert!(
            listing.contains("Entry type: PrivateKeyEntry"),
            "{version_line}: the key came along"
        );
        assert!(
            listing.contains("CN=plant-b-gateway"),
            "{version_line}: the tier's certificate"
        );
        assert!(!listing.contains("Alias name: certificate"), "only metro-key");
        for side in ["server", "client"] {
            let trusted = sandbox.path(&format!(
                "volume/{network}/{side}/security/pki/trusted/certs/plant-b-gan-ca.crt"
            ));
            assert_eq!(
                fs::read_to_string(&trusted).unwrap(),
                fs::read_to_string(sandbox.path("tls/ca.crt")).unwrap()
            );
        }
    }
}

#[test]
fn a_renewed_certificate_replaces_the_old_one_at_the_next_start() {
    let sandbox = Sandbox::new("gan-trust-renewal");
    issue_keystore(&sandbox, "before-renewal");
    run_gan_trust(&sandbox, "8.3").assert_success("first start");
    issue_keystore(&sandbox, "after-renewal");
    run_gan_trust(&sandbox, "8.3").assert_success("start after renewal");
    let listing = metro_keystore_listing(
        &sandbox.path("volume/config/local/ignition/gateway-network/keystore/metro-keystore.pfx"),
    );
    assert!(
        listing.contains("CN=after-renewal") && !listing.contains("CN=before-renewal"),
        "{listing}"
    );
}

#[test]
fn a_keystore_password_other_than_metro_fails_the_start_without_printing_it() {
    let sandbox = Sandbox::new("gan-trust-wrong-password");
    issue_keystore(&sandbox, "plant-b-gateway");
    fs::write(sandbox.path("password"), "another-password").unwrap();
    let run = run_gan_trust(&sandbox, "8.3");
    run.assert_failure("a keystore password Ignition cannot use");
    assert!(run.stdout.contains("must be \"metro\""), "{}", run.describe());
    assert!(!format!("{}{}", run.stdout, run.stderr).contains("another-password"));
}

// fetch-backup.sh against a local file server.

const BACKUP: &str = "a gateway backup, in short";

fn sha256(text: &str) -> String {
    let output = Command::new("sha256sum").arg("-").stdin_text(text);
    output.split(' ').next().unwrap().to_owned()
}

trait StdinText {
    fn stdin_text(&mut self, text: &str) -> String;
}

impl StdinText for Command {
    fn stdin_text(&mut self, text: &str) -> String {
        use std::io::Write;
        let mut child = self
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }
}

fn run_fetch(sandbox: &Sandbox, server: &FakeServer, checksum: &str, protocols: Option<&str>) -> Run {
    let mut env = vec![
        ("RESTORE_URL", format!("{}/backups/plant-b.gwbk", server.url())),
        ("RESTORE_SHA256", checksum.to_owned()),
        (
            "RESTORE_FILE",
            sandbox.path("volume/restore.gwbk").display().to_string(),
        ),
    ];
    if let Some(protocols) = protocols {
        env.push(("RESTORE_PROTOCOLS", protocols.to_owned()));
    }
    run_script(sandbox, "fetch-backup.sh", &env)
}

#[test]
fn the_backup_is_downloaded_once_and_checked() {
    require_curl();
    let sandbox = Sandbox::new("fetch-backup");
    let server = FakeServer::start(|_, _| (200, BACKUP.to_owned()));
    run_fetch(&sandbox, &server, &sha256(BACKUP), Some("=http")).assert_success("download");
    assert_eq!(fs::read_to_string(sandbox.path("volume/restore.gwbk")).unwrap(), BACKUP);
    run_fetch(&sandbox, &server, &sha256(BACKUP), Some("=http")).assert_success("restart");
    assert_eq!(server.requests().len(), 1, "a restart downloads nothing");
}

#[test]
fn a_backup_with_another_checksum_is_refused() {
    require_curl();
    let sandbox = Sandbox::new("fetch-backup-mismatch");
    let server = FakeServer::start(|_, _| (200, "tampered".to_owned()));
    let run = run_fetch(&sandbox, &server, &sha256(BACKUP), Some("=http"));
    run.assert_failure("a tampered backup");
    assert!(run.stdout.contains("refusing"), "{}", run.describe());
    assert!(!sandbox.path("volume/restore.gwbk").exists() && !sandbox.path("volume/restore.gwbk.download").exists());
}

#[test]
fn only_https_is_fetched_unless_the_tests_say_otherwise() {
    require_curl();
    let sandbox = Sandbox::new("fetch-backup-https-only");
    let server = FakeServer::start(|_, _| (200, BACKUP.to_owned()));
    run_fetch(&sandbox, &server, &sha256(BACKUP), None).assert_failure("plain http");
    assert!(server.requests().is_empty(), "no request over plain http");
}

// prepare-backup.sh: a restore keeps the pod's role and trust. The gateway unpacks its backup over
// the data directory when it starts (the community image's entrypoint places it as
// data/__restore_*.gwbk for the gateway to restore; IA's forum: a restore replaces the folders the
// backup holds), so the fake restore below unzips the backup over the volume.

const BACKUP_MASTER_HOST: &str = "old-site-gateway-0.old-site-gateway-headless";

/// A small `.gwbk`-shaped zip taken on another site's Master (8.1 layout): its internal database,
/// a project, its own redundancy.xml and its own trusted CA under the name this site uses.
fn foreign_backup(sandbox: &Sandbox) -> std::path::PathBuf {
    let tree = sandbox.path("backup-tree");
    let files = [
        ("db_backup_sqlite.idb", "the internal database".to_owned()),
        ("projects/hmi/project.json", "{\"title\": \"HMI\"}".to_owned()),
        (
            "redundancy.xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<!DOCTYPE properties SYSTEM \
                 \"http://java.sun.com/dtd/properties.dtd\">\n<properties>\n<entry key=\"redundancy.noderole\">Master</entry>\n\
                 <entry key=\"redundancy.gan.host\">{BACKUP_MASTER_HOST}</entry>\n</properties>\n"
            ),
        ),
        (
            "gateway-network/server/security/pki/trusted/certs/plant-b-gan-ca.crt",
            "another site's CA".to_owned(),
        ),
        (
            "gateway-network/client/security/pki/trusted/certs/plant-b-gan-ca.crt",
            "another site's CA".to_owned(),
        ),
    ];
    for (path, text) in &files {
        let file = tree.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    let backup = sandbox.path("site.gwbk");
    let mut args = vec!["-q", "-r", backup.to_str().unwrap()];
    args.extend(files.iter().map(|(path, _)| *path));
    command("zip", &args, &tree);
    backup
}

/// The init containers of the Backup pod, in their order: prepare-data, gan-trust, prepare-backup.
fn prepare_backup_pod(sandbox: &Sandbox, backup: &std::path::Path, extra_env: &[(&str, String)]) -> Run {
    let image_data = sandbox.path("image-data");
    fs::create_dir_all(&image_data).unwrap();
    fs::create_dir_all(sandbox.path("volume")).unwrap();
    fs::write(image_data.join("ignition.conf"), "from the image\n").unwrap();
    run_script(
        sandbox,
        "prepare-data.sh",
        &[
            ("POD_NAME", POD.to_owned()),
            ("IGNITION_VERSION_LINE", "8.1".to_owned()),
            ("IGNITION_VERSION", "8.1.48".to_owned()),
            ("IGNITION_IMAGE_DATA", image_data.display().to_string()),
            ("DATA_VOLUME", sandbox.path("volume").display().to_string()),
            ("REDUNDANCY_MODE", "pair".to_owned()),
            (
                "REDUNDANCY_MASTER_HOST",
                "plant-b-gateway-0.plant-b-gateway-headless".to_owned(),
            ),
            ("REDUNDANCY_GAN_PORT", "8060".to_owned()),
            ("REDUNDANCY_STANDBY_ACTIVITY_LEVEL", "Warm".to_owned()),
            ("REDUNDANCY_MASTER_RECOVERY_MODE", "Automatic".to_owned()),
        ],
    )
    .assert_success("prepare-data");
    issue_keystore(sandbox, "plant-b-gateway");
    run_gan_trust(sandbox, "8.1").assert_success("gan-trust");
    let mut env = vec![
        ("DATA_VOLUME", sandbox.path("volume").display().to_string()),
        ("IGNITION_VERSION_LINE", "8.1".to_owned()),
        ("BACKUP_SOURCE", backup.display().to_string()),
        (
            "BACKUP_TARGET",
            sandbox.path("volume/restore-prepared.gwbk").display().to_string(),
        ),
        ("GAN_CA_NAME", "plant-b-gan-ca".to_owned()),
    ];
    env.extend(extra_env.iter().cloned());
    run_script(sandbox, "prepare-backup.sh", &env)
}

/// What the gateway does with `-r` on its first start: the backup's files replace the data
/// directory's.
fn fake_restore(sandbox: &Sandbox, backup: &std::path::Path) {
    command(
        "unzip",
        &[
            "-q",
            "-o",
            backup.to_str().unwrap(),
            "-d",
            sandbox.path("volume").to_str().unwrap(),
        ],
        &sandbox.dir,
    );
}

fn role_and_trust(sandbox: &Sandbox) -> (String, String) {
    let redundancy = fs::read_to_string(sandbox.path("volume/redundancy.xml")).unwrap();
    let trusted =
        fs::read_to_string(sandbox.path("volume/gateway-network/client/security/pki/trusted/certs/plant-b-gan-ca.crt"))
            .unwrap();
    (redundancy, trusted)
}

#[test]
fn a_restore_keeps_the_pods_role_and_trusted_ca() {
    let sandbox = Sandbox::new("prepare-backup");
    let backup = foreign_backup(&sandbox);
    let original = fs::read(&backup).unwrap();
    prepare_backup_pod(&sandbox, &backup, &[]).assert_success("prepare-backup");
    assert_eq!(
        fs::read(&backup).unwrap(),
        original,
        "the source backup is left as it was"
    );
    fake_restore(&sandbox, &sandbox.path("volume/restore-prepared.gwbk"));
    let (redundancy, trusted) = role_and_trust(&sandbox);
    assert!(
        redundancy.contains("<entry key=\"redundancy.noderole\">Backup</entry>")
            && redundancy.contains("plant-b-gateway-0.plant-b-gateway-headless")
            && !redundancy.contains(BACKUP_MASTER_HOST),
        "the pod's role survives the restore: {redundancy}"
    );
    assert_eq!(
        trusted,
        fs::read_to_string(sandbox.path("tls/ca.crt")).unwrap(),
        "the site's CA"
    );
    assert!(metro_keystore_listing(&sandbox.path("volume/local/metro-keystore")).contains("Alias name: metro-key"));
    assert_eq!(
        fs::read_to_string(sandbox.path("volume/projects/hmi/project.json")).unwrap(),
        "{\"title\": \"HMI\"}",
        "the rest of the backup is restored"
    );
    assert!(sandbox.path("volume/db_backup_sqlite.idb").exists());

    // The oracle: the unprepared backup would have undone both.
    let unprepared = Sandbox::new("prepare-backup-unprepared");
    let backup = foreign_backup(&unprepared);
    prepare_backup_pod(&unprepared, &backup, &[]).assert_success("prepare-backup");
    fake_restore(&unprepared, &backup);
    let (redundancy, trusted) = role_and_trust(&unprepared);
    assert!(redundancy.contains(">Master<") && trusted == "another site's CA");
}

#[test]
fn a_backup_cannot_be_prepared_without_zip_and_says_so() {
    let sandbox = Sandbox::new("prepare-backup-no-zip");
    let backup = foreign_backup(&sandbox);
    // Every command the script needs, but zip.
    let bin = sandbox.path("bin-without-zip");
    fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "mkdir", "cp", "dirname", "mktemp", "rm", "mv", "cat"] {
        let path = ["/usr/bin", "/bin"]
            .iter()
            .map(|dir| std::path::Path::new(dir).join(tool))
            .find(|path| path.exists())
            .unwrap_or_else(|| panic!("{tool} not found"));
        std::os::unix::fs::symlink(path, bin.join(tool)).unwrap();
    }
    let run = prepare_backup_pod(&sandbox, &backup, &[("PATH", bin.display().to_string())]);
    run.assert_failure("no zip");
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.describe());
    assert!(run.stdout.contains("no zip command"), "{}", run.describe());
    assert!(!sandbox.path("volume/restore-prepared.gwbk").exists());
}

#[test]
fn a_file_that_is_not_a_zip_is_refused() {
    let sandbox = Sandbox::new("prepare-backup-not-zip");
    let backup = sandbox.path("not-a.gwbk");
    fs::write(&backup, "not a zip").unwrap();
    let run = prepare_backup_pod(&sandbox, &backup, &[]);
    run.assert_failure("not a zip");
    assert!(run.stdout.contains("not a zip file"), "{}", run.describe());
    assert!(!sandbox.path("volume/restore-prepared.gwbk").exists());
}
