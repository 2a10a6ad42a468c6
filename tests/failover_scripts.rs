//! The scripts behind failover, run as shipped with real bash and curl against local fakes:
//! - `label-active.sh`, the sidecar that labels the Active node, against a fake `/system/gwinfo`
//!   and a fake Kubernetes API server: the PATCH requests it sends for Active, Cold, no answer,
//!   flapping and recovery, and the failover delay it adds;
//! - `ready.sh` of a pair node against a fake gateway: a Backup is Ready only when in sync;
//! - `gan-trust.sh` with the real keytool: the metro keystore and the trusted CA, per version;
//! - `fetch-backup.sh` against a fake HTTPS-less file server: checksum, reuse, refusals.

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
    let mut env = vec![
        ("POD_NAME", POD.to_owned()),
        ("POD_NAMESPACE", NAMESPACE.to_owned()),
        ("GATEWAY_HTTP_PORT", gateway.port.to_string()),
        ("KUBE_API_URL", api.url()),
        (
            "SERVICE_ACCOUNT_DIR",
            sandbox.path("serviceaccount").display().to_string(),
        ),
    ];
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
fn a_backup_is_ready_only_when_in_sync() {
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
            false,
            "a backup behind",
        ),
        (
            "RedundancyStatus=Backup;RedundantState=Incompatible;RedundantNodeActiveStatus=Warm;",
            false,
            "incompatible",
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
