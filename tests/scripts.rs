//! The bash scripts of the `<site>-scripts` ConfigMap, run as shipped: their text is taken from the
//! binary's output, written to a scratch directory and run with `bash` in a controlled environment.
//!
//! - `prepare-data.sh` against a fake image data directory and a fake data volume: seeding, adoption
//!   of existing data, and the redundancy role written into `redundancy.xml`;
//! - `ready.sh` and `alive.sh` against a tiny fake `/StatusPing` server (they need the real `curl`).

mod common;

use common::scripts::*;

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

const MASTER_HOST: &str = "plant-a-backend-0.plant-a-backend-headless";
const MARKER: &str = ".ignition-krm-seeded";

// ---------------------------------------------------------------------------------------------
// prepare-data.sh

/// A fake image data directory and a fresh data volume, and the environment of the init container.
struct Gateway {
    sandbox: Sandbox,
    image_data: PathBuf,
    volume: PathBuf,
}

impl Gateway {
    fn new(test: &str) -> Self {
        let sandbox = Sandbox::new(test);
        let image_data = sandbox.path("image-data");
        write(&image_data.join("ignition.conf"), "from the image\n");
        write(&image_data.join("logback.xml"), "<configuration/>\n");
        write(&image_data.join("local/README"), "image subdirectory\n");
        let volume = sandbox.path("volume");
        // A fresh ext4 volume is not quite empty.
        fs::create_dir_all(volume.join("lost+found")).unwrap();
        Gateway {
            sandbox,
            image_data,
            volume,
        }
    }

    fn volume_file(&self, relative: &str) -> PathBuf {
        self.volume.join(relative)
    }

    /// Runs prepare-data.sh as pod `pod` of a redundant pair on version line 8.3.
    fn start_pair(&self, pod: &str) -> Run {
        self.start(&[
            ("POD_NAME", pod),
            ("IGNITION_VERSION_LINE", "8.3"),
            ("REDUNDANCY_MODE", "pair"),
            ("REDUNDANCY_MASTER_HOST", MASTER_HOST),
            ("REDUNDANCY_GAN_PORT", "8060"),
            ("REDUNDANCY_STANDBY_ACTIVITY_LEVEL", "Cold"),
            ("REDUNDANCY_MASTER_RECOVERY_MODE", "Manual"),
        ])
    }

    /// Runs prepare-data.sh with `env` plus the image data and volume directories.
    fn start(&self, env: &[(&str, &str)]) -> Run {
        let mut env: Vec<(&str, String)> = env.iter().map(|(key, value)| (*key, (*value).to_owned())).collect();
        if !env.iter().any(|(key, _)| *key == "IGNITION_VERSION") {
            env.push(("IGNITION_VERSION", "8.3.3".to_owned()));
        }
        env.push(("IGNITION_IMAGE_DATA", self.image_data.display().to_string()));
        env.push(("DATA_VOLUME", self.volume.display().to_string()));
        run_script(&self.sandbox, "prepare-data.sh", &env)
    }

    fn redundancy_xml(&self) -> String {
        read(&self.volume_file("redundancy.xml"))
    }

    /// The entries of redundancy.xml, checked for structure and unique keys.
    fn redundancy(&self) -> BTreeMap<String, String> {
        redundancy_entries(&self.redundancy_xml())
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The entries of a Java properties XML file, which must be well formed enough for Ignition: the
/// XML declaration first, one `<properties>` element holding every entry (one a line), and each key
/// exactly once.
fn redundancy_entries(xml: &str) -> BTreeMap<String, String> {
    assert!(
        xml.starts_with("<?xml"),
        "redundancy.xml does not start with <?xml:\n{xml}"
    );
    assert_eq!(
        xml.matches("<properties>").count(),
        1,
        "one <properties> expected:\n{xml}"
    );
    assert_eq!(
        xml.matches("</properties>").count(),
        1,
        "one </properties> expected:\n{xml}"
    );
    let (_, rest) = xml.split_once("<properties>").unwrap();
    let (inside, after) = rest
        .split_once("</properties>")
        .unwrap_or_else(|| panic!("</properties> first:\n{xml}"));
    assert_eq!(after.trim(), "", "text after </properties>:\n{xml}");
    assert_eq!(
        inside.matches("<entry").count(),
        xml.matches("<entry").count(),
        "entries outside <properties>:\n{xml}"
    );
    let mut entries = BTreeMap::new();
    for line in inside.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if line.starts_with("<comment>") && line.ends_with("</comment>") {
            continue;
        }
        let (key, value) = line
            .strip_prefix("<entry key=\"")
            .and_then(|line| line.strip_suffix("</entry>"))
            .and_then(|line| line.split_once("\">"))
            .unwrap_or_else(|| panic!("not an entry line: {line:?} in\n{xml}"));
        let previous = entries.insert(key.to_owned(), value.to_owned());
        assert!(previous.is_none(), "key {key} appears more than once:\n{xml}");
    }
    entries
}

fn pair_entries(role: &str) -> BTreeMap<String, String> {
    [
        ("redundancy.noderole", role),
        ("redundancy.gan.host", MASTER_HOST),
        ("redundancy.gan.port", "8060"),
        ("redundancy.gan.enableSsl", "true"),
        ("redundancy.standbyactivitylevel", "Cold"),
        ("redundancy.masterrecoverymode", "Manual"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect()
}

#[test]
fn prepare_data_first_start_of_master_seeds_the_volume() {
    let gateway = Gateway::new("first_start_of_master");
    gateway
        .start_pair("x-backend-0")
        .assert_success("first start of x-backend-0");

    assert_eq!(read(&gateway.volume_file("ignition.conf")), "from the image\n");
    assert_eq!(read(&gateway.volume_file("logback.xml")), "<configuration/>\n");
    assert_eq!(read(&gateway.volume_file("local/README")), "image subdirectory\n");
    assert!(gateway.volume_file("lost+found").is_dir(), "lost+found is gone");
    assert!(gateway.volume_file(MARKER).exists(), "no seed marker");
    assert_eq!(
        gateway.redundancy(),
        pair_entries("Master"),
        "\n{}",
        gateway.redundancy_xml()
    );
    assert_eq!(
        gateway
            .redundancy_xml()
            .matches(r#"<entry key="redundancy.noderole">Master</entry>"#)
            .count(),
        1
    );
}

#[test]
fn prepare_data_second_pod_is_backup_of_the_master() {
    let gateway = Gateway::new("second_pod_is_backup");
    gateway
        .start_pair("x-backend-1")
        .assert_success("first start of x-backend-1");

    assert_eq!(read(&gateway.volume_file("ignition.conf")), "from the image\n");
    assert_eq!(
        gateway.redundancy(),
        pair_entries("Backup"),
        "\n{}",
        gateway.redundancy_xml()
    );
}

#[test]
fn prepare_data_restart_keeps_the_data_and_rewrites_the_role() {
    let gateway = Gateway::new("restart_keeps_data");
    gateway.start_pair("x-backend-0").assert_success("first start");

    // What the gateway did in the meantime: changed one file, deleted another, and rewrote
    // redundancy.xml with a stale role and peer and a setting of its own.
    write(&gateway.volume_file("ignition.conf"), "changed by the gateway\n");
    fs::remove_file(gateway.volume_file("logback.xml")).unwrap();
    let stale: String = gateway
        .redundancy_xml()
        .lines()
        .map(|line| {
            if line.contains(r#"key="redundancy.noderole""#) {
                r#"<entry key="redundancy.noderole">Independent</entry>"#.to_owned()
            } else if line.contains(r#"key="redundancy.gan.host""#) {
                r#"<entry key="redundancy.gan.host">old-host</entry>"#.to_owned()
            } else if line == "</properties>" {
                "<entry key=\"redundancy.joinwaittime\">30000</entry>\n</properties>".to_owned()
            } else {
                line.to_owned()
            }
        })
        .map(|line| line + "\n")
        .collect();
    assert!(
        stale.contains(">Independent<") && stale.contains(">old-host<"),
        "the edit did not apply:\n{stale}"
    );
    write(&gateway.volume_file("redundancy.xml"), &stale);

    gateway.start_pair("x-backend-0").assert_success("second start");

    assert_eq!(
        read(&gateway.volume_file("ignition.conf")),
        "changed by the gateway\n",
        "the volume was seeded again"
    );
    assert!(
        !gateway.volume_file("logback.xml").exists(),
        "a file deleted from the volume came back"
    );
    let mut expected = pair_entries("Master");
    expected.insert("redundancy.joinwaittime".to_owned(), "30000".to_owned());
    assert_eq!(gateway.redundancy(), expected, "\n{}", gateway.redundancy_xml());
}

/// A volume with gateway data of `version_line` at `existing` and no marker is adopted as it is.
fn assert_adopts(test: &str, version_line: &str, existing: &str) {
    let gateway = Gateway::new(test);
    write(&gateway.volume_file(existing), "gateway configuration\n");
    write(&gateway.volume_file("ignition.conf"), "from the volume\n");

    let run = gateway.start(&[
        ("POD_NAME", "x-frontend-0"),
        ("IGNITION_VERSION_LINE", version_line),
        ("REDUNDANCY_MODE", "independent"),
    ]);
    run.assert_success(&format!("start on an existing {version_line} volume"));

    assert_eq!(read(&gateway.volume_file(existing)), "gateway configuration\n");
    assert_eq!(
        read(&gateway.volume_file("ignition.conf")),
        "from the volume\n",
        "the image data was copied over"
    );
    assert!(
        !gateway.volume_file("logback.xml").exists(),
        "the image data was copied over"
    );
    assert!(!gateway.volume_file("local").exists(), "the image data was copied over");
    assert!(gateway.volume_file(MARKER).exists(), "no seed marker");
}

#[test]
fn prepare_data_adopts_an_existing_8_1_volume() {
    assert_adopts("adopts_8_1", "8.1", "db/config.idb");
}

#[test]
fn prepare_data_adopts_an_existing_8_3_volume() {
    assert_adopts("adopts_8_3", "8.3", "config/resources/core/config-mode.json");
}

#[test]
fn prepare_data_independent_mode_has_no_peer() {
    let gateway = Gateway::new("independent_mode");
    let run = gateway.start(&[
        ("POD_NAME", "x-frontend-3"),
        ("IGNITION_VERSION_LINE", "8.1"),
        ("REDUNDANCY_MODE", "independent"),
    ]);
    run.assert_success("independent start");

    let expected = BTreeMap::from([("redundancy.noderole".to_owned(), "Independent".to_owned())]);
    assert_eq!(gateway.redundancy(), expected, "\n{}", gateway.redundancy_xml());
    assert!(!gateway.redundancy_xml().contains("redundancy.gan.host"));
}

#[test]
fn prepare_data_pair_rejects_a_third_pod() {
    let gateway = Gateway::new("pair_rejects_third_pod");
    let run = gateway.start_pair("x-backend-2");
    run.assert_failure("x-backend-2 of a pair");
    let messages = format!("{}{}", run.stdout, run.stderr);
    assert!(
        messages.contains("x-backend-2") && messages.contains("ordinals 0 and 1"),
        "no clear message:\n{}",
        run.describe()
    );
}

#[test]
fn prepare_data_requires_pod_name() {
    let gateway = Gateway::new("requires_pod_name");
    let run = gateway.start(&[("IGNITION_VERSION_LINE", "8.3"), ("REDUNDANCY_MODE", "independent")]);
    run.assert_failure("start without POD_NAME");
    assert!(
        run.stderr.contains("POD_NAME"),
        "the message does not name POD_NAME:\n{}",
        run.describe()
    );
    assert!(
        !gateway.volume_file(MARKER).exists(),
        "the volume was touched before the check"
    );
}

// ---------------------------------------------------------------------------------------------
// ready.sh and alive.sh

/// Runs a probe script against a fake server answering `status` and `body`, and checks it asked
/// for /StatusPing.
fn probe(script: &str, status: &'static str, body: &'static str) -> Run {
    require_curl();
    let sandbox = Sandbox::new(&format!("{}-{}", script.trim_end_matches(".sh"), unique()));
    let code: u16 = status.split(' ').next().unwrap().parse().unwrap();
    let server = FakeServer::start(move |_, _| (code, body.to_owned()));
    let run = run_script(&sandbox, script, &[("GATEWAY_HTTP_PORT", server.port.to_string())]);
    let paths: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert_eq!(
        paths,
        ["GET /StatusPing"],
        "{script} must ask the fake server for /StatusPing once; run: {}",
        run.describe()
    );
    run
}

/// Runs a probe script against a port where nothing listens.
fn probe_closed_port(script: &str) -> Run {
    require_curl();
    let sandbox = Sandbox::new(&format!("{}-closed-{}", script.trim_end_matches(".sh"), unique()));
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    run_script(&sandbox, script, &[("GATEWAY_HTTP_PORT", port.to_string())])
}

#[test]
fn ready_only_when_running_and_past_commissioning() {
    for body in [r#"{"state":"RUNNING"}"#, r#"{ "state" : "RUNNING" }"#] {
        probe("ready.sh", "200 OK", body).assert_success(&format!("ready.sh for 200 {body}"));
    }
    for body in [
        r#"{"state":"RUNNING","details":"COMMISSIONING"}"#,
        r#"{"state":"STARTING"}"#,
    ] {
        probe("ready.sh", "200 OK", body).assert_failure(&format!("ready.sh for 200 {body}"));
    }
    probe("ready.sh", "503 Service Unavailable", r#"{"state":"RUNNING"}"#).assert_failure("ready.sh for 503");
    probe_closed_port("ready.sh").assert_failure("ready.sh with nothing listening");
}

#[test]
fn alive_whenever_the_web_server_answers() {
    for body in [
        r#"{"state":"RUNNING"}"#,
        r#"{"state":"RUNNING","details":"COMMISSIONING"}"#,
        r#"{"state":"COMMISSIONING"}"#,
    ] {
        probe("alive.sh", "200 OK", body).assert_success(&format!("alive.sh for 200 {body}"));
    }
    probe("alive.sh", "503 Service Unavailable", r#"{"state":"STARTING"}"#).assert_success("alive.sh for 503");
    probe_closed_port("alive.sh").assert_failure("alive.sh with nothing listening");
}

#[test]
fn prepare_data_adopts_8_1_data_under_an_8_3_spec() {
    // An 8.3 upgrade of an existing 8.1 volume: the gateway migrates the data; it is never seeded over.
    assert_adopts("adopts_8_1_under_8_3", "8.3", "db/config.idb");
}

#[test]
fn prepare_data_restarts_an_interrupted_first_copy() {
    let gateway = Gateway::new("interrupted_copy");
    // A first start cut short: the in-progress marker and part of the image data, which happens to
    // include what looks like gateway configuration.
    write(&gateway.volume_file(".ignition-krm-seeding"), "");
    write(&gateway.volume_file("config/resources/core/partial.json"), "{}\n");
    write(&gateway.volume_file("ignition.conf"), "half writ");

    gateway
        .start_pair("x-backend-0")
        .assert_success("start after an interrupted copy");

    assert_eq!(
        read(&gateway.volume_file("ignition.conf")),
        "from the image\n",
        "the copy was redone"
    );
    assert!(gateway.volume_file("logback.xml").exists(), "the copy was redone");
    assert!(gateway.volume_file(MARKER).exists(), "no seed marker");
    assert!(
        !gateway.volume_file(".ignition-krm-seeding").exists(),
        "the in-progress marker stays"
    );
}

#[test]
fn prepare_data_forgets_the_peer_when_a_pair_becomes_independent() {
    let gateway = Gateway::new("pair_to_independent");
    gateway.start_pair("x-backend-0").assert_success("start as master");
    let run = gateway.start(&[
        ("POD_NAME", "x-backend-0"),
        ("IGNITION_VERSION_LINE", "8.3"),
        ("REDUNDANCY_MODE", "independent"),
    ]);
    run.assert_success("start as a single backend");
    let expected = BTreeMap::from([("redundancy.noderole".to_owned(), "Independent".to_owned())]);
    assert_eq!(gateway.redundancy(), expected, "\n{}", gateway.redundancy_xml());
}

// ---------------------------------------------------------------------------------------------
// Version changes: upgrades pass, a downgrade is refused before the gateway starts.

fn start_version(gateway: &Gateway, version: &str) -> Run {
    gateway.start(&[
        ("POD_NAME", "plant-a-backend-1"),
        (
            "IGNITION_VERSION_LINE",
            if version.starts_with("8.1") { "8.1" } else { "8.3" },
        ),
        ("IGNITION_VERSION", version),
        ("REDUNDANCY_MODE", "pair"),
        ("REDUNDANCY_MASTER_HOST", MASTER_HOST),
        ("REDUNDANCY_GAN_PORT", "8060"),
        ("REDUNDANCY_STANDBY_ACTIVITY_LEVEL", "Warm"),
        ("REDUNDANCY_MASTER_RECOVERY_MODE", "Automatic"),
    ])
}

#[test]
fn prepare_data_lets_upgrades_through_and_stamps_the_volume() {
    let gateway = Gateway::new("prepare-data-upgrades");
    for version in ["8.1.47", "8.1.48", "8.1.48", "8.3.0", "8.3.3"] {
        start_version(&gateway, version).assert_success(version);
        assert_eq!(
            read(&gateway.volume_file(".ignition-krm-version")),
            format!("{version}\n")
        );
    }
}

#[test]
fn prepare_data_refuses_a_volume_written_by_a_newer_version() {
    for (test, last, image) in [
        ("patch", "8.3.3", "8.3.2"),
        ("line", "8.3.0", "8.1.48"),
        ("numeric-not-text", "8.1.10", "8.1.9"),
    ] {
        let gateway = Gateway::new(&format!("prepare-data-downgrade-{test}"));
        start_version(&gateway, last).assert_success(last);
        fs::remove_file(gateway.volume_file("redundancy.xml")).unwrap();
        let run = start_version(&gateway, image);
        run.assert_failure(&format!("{last} -> {image}"));
        let lines: Vec<&str> = run.stdout.lines().filter(|line| line.contains("refusing")).collect();
        assert_eq!(lines.len(), 1, "one clear line: {}", run.describe());
        assert!(
            lines[0].contains(&format!("last run by Ignition {last}, newer than this image ({image})")),
            "{}",
            lines[0]
        );
        assert!(
            !gateway.volume_file("redundancy.xml").exists(),
            "{test}: nothing is prepared for a gateway that must not start"
        );
        assert_eq!(
            read(&gateway.volume_file(".ignition-krm-version")),
            format!("{last}\n"),
            "the stamp stays"
        );
    }
}

#[test]
fn prepare_data_reads_the_image_s_own_volume_stamp() {
    // The stamp the community image's entrypoint writes; a volume first run without ignition-krm.
    let gateway = Gateway::new("prepare-data-docker-stamp");
    write(&gateway.volume_file("db/config.idb"), "8.1 internal database");
    write(&gateway.volume_file(".docker-init-complete"), "8.1.48\n");
    let run = start_version(&gateway, "8.1.44");
    run.assert_failure("an 8.1.48 volume on an 8.1.44 image");
    assert!(run.stdout.contains("last run by Ignition 8.1.48"), "{}", run.describe());
    start_version(&gateway, "8.1.48").assert_success("the same version");
    write(&gateway.volume_file(".docker-init-complete"), "not a version\n");
    start_version(&gateway, "8.1.48").assert_success("an unreadable stamp is ignored");
}
