//! `fetch-content.sh`, as shipped, run with real bash, curl, tar, gzip and od against local files
//! served as `file://` URLs (the tests allow that protocol; the pods allow https only):
//! - a project from a pinned tar archive replaces `data/projects/<name>/`, and a restart needs no
//!   network;
//! - a wrong checksum, an unreachable source, a folder without `project.json`, a symbolic link or
//!   a member that climbs out of the archive are refused, each with one line, and nothing lands
//!   outside the data volume;
//! - a `.modl` built with the real `zip` (deflated, stored, with data descriptors, and as Python's
//!   zipfile streams it) is checked against its declared ID and required Ignition version.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::scripts::*;

const IMAGE_VERSION: &str = "8.3.3";

fn sha256(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A repository snapshot as a forge archives a commit: one top folder holding a project.
fn project_archive(sandbox: &Sandbox, title: &str) -> PathBuf {
    let tree = sandbox.path(&format!("tree-{title}"));
    let root = tree.join("plant-repo-3f2a9c1");
    write(&root.join("README.md"), "the plant's repository");
    write(
        &root.join("projects/hmi/project.json"),
        &format!("{{\"title\": \"{title}\", \"enabled\": true}}"),
    );
    write(
        &root.join("projects/hmi/com.inductiveautomation.perspective/views/Main/view.json"),
        "{}",
    );
    let archive = sandbox.path(&format!("{}.tar.gz", title.replace(' ', "-")));
    command("tar", &["-czf", archive.to_str().unwrap(), "plant-repo-3f2a9c1"], &tree);
    archive
}

/// Runs the script as shipped with these variables (file:// allowed unless `protocols` is `None`).
fn run_with(sandbox: &Sandbox, variables: Vec<(String, String)>) -> Run {
    let mut owned = vec![
        ("DATA_VOLUME".to_owned(), sandbox.path("volume").display().to_string()),
        ("MODULES_DIR".to_owned(), sandbox.path("modules").display().to_string()),
        ("IGNITION_VERSION".to_owned(), IMAGE_VERSION.to_owned()),
    ];
    owned.extend(variables);
    let env: Vec<(&str, String)> = owned.iter().map(|(key, value)| (key.as_str(), value.clone())).collect();
    run_script(sandbox, "fetch-content.sh", &env)
}

fn run_projects(sandbox: &Sandbox, projects: &[(&str, String, String, &str)], protocols: Option<&str>) -> Run {
    // Rust always sets both counts; a run with projects only has no modules.
    let mut variables = vec![
        ("PROJECT_COUNT".to_owned(), projects.len().to_string()),
        ("MODULE_COUNT".to_owned(), "0".to_owned()),
    ];
    for (index, (name, url, sha, path)) in projects.iter().enumerate() {
        for (field, value) in [
            ("NAME", name.to_string()),
            ("URL", url.clone()),
            ("SHA256", sha.clone()),
            ("PATH", path.to_string()),
        ] {
            variables.push((format!("PROJECT_{index}_{field}"), value));
        }
    }
    if let Some(protocols) = protocols {
        variables.push(("CONTENT_PROTOCOLS".to_owned(), protocols.to_owned()));
    }
    run_with(sandbox, variables)
}

fn run_modules(sandbox: &Sandbox, modules: &[(&str, String, String)]) -> Run {
    let mut variables = vec![
        ("PROJECT_COUNT".to_owned(), "0".to_owned()),
        ("MODULE_COUNT".to_owned(), modules.len().to_string()),
        ("CONTENT_PROTOCOLS".to_owned(), "=file".to_owned()),
    ];
    for (index, (id, url, sha)) in modules.iter().enumerate() {
        for (field, value) in [("ID", id.to_string()), ("URL", url.clone()), ("SHA256", sha.clone())] {
            variables.push((format!("MODULE_{index}_{field}"), value));
        }
    }
    run_with(sandbox, variables)
}

/// The one line a failure prints, with nothing else on either stream.
fn failure_line(run: &Run) -> String {
    let lines: Vec<&str> = run.stdout.lines().chain(run.stderr.lines()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {}", run.describe());
    assert!(lines[0].starts_with("fetch-content: "), "{}", run.describe());
    lines[0].to_owned()
}

#[test]
fn a_project_replaces_its_folder_and_a_restart_needs_no_network() {
    require_curl();
    let sandbox = Sandbox::new("content-project");
    write(&sandbox.path("volume/projects/hmi/stale.json"), "from an earlier start");
    write(&sandbox.path("volume/projects/other/project.json"), "{}");
    let archive = project_archive(&sandbox, "HMI v2");
    let project = (
        "hmi",
        file_url(&archive),
        sha256(&archive),
        "plant-repo-3f2a9c1/projects/hmi",
    );
    run_projects(&sandbox, std::slice::from_ref(&project), Some("=file")).assert_success("first start");
    let installed = sandbox.path("volume/projects/hmi");
    assert!(fs::read_to_string(installed.join("project.json"))
        .unwrap()
        .contains("HMI v2"));
    assert!(installed
        .join("com.inductiveautomation.perspective/views/Main/view.json")
        .exists());
    assert!(
        !installed.join("stale.json").exists(),
        "the folder is replaced, not merged"
    );
    assert!(
        sandbox.path("volume/projects/other/project.json").exists(),
        "other projects stay"
    );
    assert!(
        !sandbox.path("volume/projects/hmi/README.md").exists(),
        "only the project's folder"
    );

    fs::remove_file(&archive).unwrap();
    fs::remove_file(installed.join("project.json")).unwrap();
    run_projects(&sandbox, &[project], Some("=file")).assert_success("restart without the source");
    assert!(
        installed.join("project.json").exists(),
        "put back from the checked copy on the volume"
    );
}

#[test]
fn a_project_with_another_checksum_is_refused_and_nothing_changes() {
    require_curl();
    let sandbox = Sandbox::new("content-project-checksum");
    write(&sandbox.path("volume/projects/hmi/project.json"), "the running version");
    let archive = project_archive(&sandbox, "tampered");
    let pinned = "0".repeat(64);
    let run = run_projects(
        &sandbox,
        &[(
            "hmi",
            file_url(&archive),
            pinned.clone(),
            "plant-repo-3f2a9c1/projects/hmi",
        )],
        Some("=file"),
    );
    run.assert_failure("a wrong checksum");
    let line = failure_line(&run);
    assert!(
        line.contains("project hmi") && line.contains(&sha256(&archive)) && line.contains(&pinned),
        "{line}"
    );
    assert_eq!(
        fs::read_to_string(sandbox.path("volume/projects/hmi/project.json")).unwrap(),
        "the running version"
    );
    let cache: Vec<_> = fs::read_dir(sandbox.path("volume/.ignition-krm-content"))
        .unwrap()
        .collect();
    assert!(cache.is_empty(), "nothing unchecked is kept: {cache:?}");
}

#[test]
fn an_unreachable_source_fails_with_one_line() {
    require_curl();
    let sandbox = Sandbox::new("content-unreachable");
    let missing = sandbox.path("nowhere.tar.gz");
    let run = run_projects(
        &sandbox,
        &[("hmi", file_url(&missing), "a".repeat(64), "")],
        Some("=file"),
    );
    run.assert_failure("an unreachable source");
    let line = failure_line(&run);
    assert!(line.contains("project hmi: cannot download"), "{line}");
}

#[test]
fn only_https_is_fetched_unless_the_tests_say_otherwise() {
    require_curl();
    let sandbox = Sandbox::new("content-https-only");
    let archive = project_archive(&sandbox, "HMI");
    let run = run_projects(&sandbox, &[("hmi", file_url(&archive), sha256(&archive), "")], None);
    run.assert_failure("a file:// URL with the pods' protocols");
    assert!(failure_line(&run).contains("cannot download"));
    assert!(!sandbox.path("volume/projects/hmi").exists());
}

#[test]
fn a_folder_without_project_json_is_not_a_project() {
    require_curl();
    let sandbox = Sandbox::new("content-no-project-json");
    let archive = project_archive(&sandbox, "HMI");
    let run = run_projects(
        &sandbox,
        &[(
            "hmi",
            file_url(&archive),
            sha256(&archive),
            "plant-repo-3f2a9c1/projects",
        )],
        Some("=file"),
    );
    run.assert_failure("the wrong folder");
    assert!(failure_line(&run).contains("holds no project.json"));
    assert!(!sandbox.path("volume/projects/hmi").exists());
}

#[test]
fn archive_members_never_land_outside_the_volume() {
    require_curl();
    let sandbox = Sandbox::new("content-escape");
    // Built with Python's tarfile, which writes what it is told: a member climbing out with '..',
    // an absolute member, and a symbolic link to outside followed by a file written through it.
    let archive = sandbox.path("hostile.tar");
    let outside = sandbox.path("outside");
    fs::create_dir_all(&outside).unwrap();
    let script = format!(
        r#"
import io, tarfile
def add(t, name, data=b"x", link=None):
    info = tarfile.TarInfo(name)
    if link is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = link
        t.addfile(info)
    else:
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
with tarfile.open("{archive}", "w") as t:
    add(t, "hmi/project.json", b"{{}}")
    add(t, "../climbed.txt")
    add(t, "{outside}/absolute.txt")
    add(t, "hmi-link", link="{outside}")
    add(t, "hmi-link/through-link.txt")
"#,
        archive = archive.display(),
        outside = outside.display()
    );
    command("python3", &["-c", &script], &sandbox.dir);
    let run = run_projects(
        &sandbox,
        &[("hmi", file_url(&archive), sha256(&archive), "hmi")],
        Some("=file"),
    );
    let written: Vec<_> = fs::read_dir(&outside).unwrap().collect();
    assert!(written.is_empty(), "written outside: {written:?}\n{}", run.describe());
    assert!(!sandbox.path("climbed.txt").exists() && !sandbox.path("volume/climbed.txt").exists());

    // A symbolic link inside the project itself is refused.
    let linked = sandbox.path("linked.tar");
    let script = format!(
        r#"
import io, tarfile
with tarfile.open("{linked}", "w") as t:
    info = tarfile.TarInfo("hmi/project.json"); info.size = 2
    t.addfile(info, io.BytesIO(b"{{}}"))
    info = tarfile.TarInfo("hmi/secrets"); info.type = tarfile.SYMTYPE; info.linkname = "/etc"
    t.addfile(info)
"#,
        linked = linked.display()
    );
    command("python3", &["-c", &script], &sandbox.dir);
    let run = run_projects(
        &sandbox,
        &[("hmi", file_url(&linked), sha256(&linked), "hmi")],
        Some("=file"),
    );
    run.assert_failure("a symbolic link in the project");
    assert!(failure_line(&run).contains("symbolic link"));
    assert!(!sandbox.path("volume/projects/hmi").exists());

    // A path through a symbolic link to a real project folder outside is refused, and that folder
    // stays where it is.
    write(&outside.join("hmi/project.json"), "{}");
    let through = sandbox.path("through.tar");
    let script = format!(
        r#"
import tarfile
with tarfile.open("{through}", "w") as t:
    info = tarfile.TarInfo("repo/link"); info.type = tarfile.SYMTYPE; info.linkname = "{outside}"
    t.addfile(info)
"#,
        through = through.display(),
        outside = outside.display()
    );
    command("python3", &["-c", &script], &sandbox.dir);
    let run = run_projects(
        &sandbox,
        &[("hmi", file_url(&through), sha256(&through), "repo/link/hmi")],
        Some("=file"),
    );
    run.assert_failure("a path through a symbolic link");
    assert!(failure_line(&run).contains("leads through a symbolic link"));
    assert!(outside.join("hmi/project.json").exists(), "nothing moved from outside");
    assert!(!sandbox.path("volume/projects/hmi").exists());
}

// Modules.

const MODULE_ID: &str = "com.example.demo";

fn module_xml(id: &str, required: &str) -> String {
    // The element case of IA's Gradle plugin (WriteModuleXml.kt); the SDK docs write them lowercase.
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<modules>\n  <module>\n    <name>Demo</name>\n    <id>{id}</id>\n    <version>1.2.0</version>\n    <requiredIgnitionVersion>{required}</requiredIgnitionVersion>\n    <depends scope=\"G\">com.inductiveautomation.perspective</depends>\n    <jar scope=\"G\">demo-gateway.jar</jar>\n  </module>\n</modules>\n"
    )
}

/// A `.modl` made by the real zip: `flags` such as `-0` (stored) or `-fd` (data descriptors).
fn modl(sandbox: &Sandbox, name: &str, xml: &str, flags: &[&str]) -> PathBuf {
    let tree = sandbox.path(&format!("modl-{name}"));
    write(&tree.join("module.xml"), xml);
    // Enough incompressible bytes that the descriptor is not the first or only thing in the file.
    let noise: String = (0..40_000u32)
        .map(|n| char::from(b'a' + (n.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    write(&tree.join("demo-gateway.jar"), &noise);
    let file = sandbox.path(&format!("{name}.modl"));
    let mut args: Vec<&str> = vec!["-q"];
    args.extend(flags);
    let path = file.display().to_string();
    args.extend([path.as_str(), "demo-gateway.jar", "module.xml"]);
    command("zip", &args, &tree);
    file
}

#[test]
fn a_module_is_checked_against_its_id_in_every_zip_layout() {
    require_curl();
    let sandbox = Sandbox::new("content-module");
    let xml = module_xml(MODULE_ID, "8.3.0");
    let mut files = vec![
        modl(&sandbox, "deflated", &xml, &[]),
        modl(&sandbox, "stored", &xml, &["-0"]),
        modl(&sandbox, "descriptor", &xml, &["-fd"]),
    ];
    // Streamed as Java's ZipOutputStream writes: sizes only after the data.
    let streamed = sandbox.path("streamed.modl");
    let script = format!(
        r#"
import zipfile
class Stream:
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): pass
with open("{out}", "wb") as f, zipfile.ZipFile(Stream(f), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("demo-gateway.jar", "jar" * 5000)
    z.writestr("module.xml", {xml:?})
"#,
        out = streamed.display(),
        xml = xml
    );
    command("python3", &["-c", &script], &sandbox.dir);
    files.push(streamed);
    // Hundreds of jars before the descriptor, some stored with extra fields and comments, as a large
    // module with its dependencies is laid out.
    let many = sandbox.path("many.modl");
    let script = format!(
        r#"
import zipfile
with zipfile.ZipFile("{out}", "w", zipfile.ZIP_DEFLATED) as z:
    for n in range(300):
        info = zipfile.ZipInfo("lib/dependency-%03d.jar" % n)
        info.comment = b"jar %d" % n
        info.extra = b"\xfe\xca\x00\x00" if n % 2 else b""
        z.writestr(info, ("jar %d " % n) * 200, zipfile.ZIP_STORED if n % 3 else zipfile.ZIP_DEFLATED)
    z.writestr("module.xml", {xml:?})
"#,
        out = many.display(),
        xml = xml
    );
    command("python3", &["-c", &script], &sandbox.dir);
    files.push(many);
    for file in files {
        let _ = fs::remove_dir_all(sandbox.path("modules"));
        let run = run_modules(&sandbox, &[(MODULE_ID, file_url(&file), sha256(&file))]);
        run.assert_success(&file.display().to_string());
        let installed = sandbox.path(&format!("modules/{MODULE_ID}.modl"));
        assert_eq!(
            fs::read(&installed).unwrap(),
            fs::read(&file).unwrap(),
            "{}",
            file.display()
        );
        assert!(run.stdout.contains("needs Ignition 8.3.0"), "{}", run.describe());
    }
}

#[test]
fn a_module_from_the_modules_volume_is_checked_the_same_way() {
    let sandbox = Sandbox::new("content-module-volume");
    let file = modl(&sandbox, "on-volume", &module_xml(MODULE_ID, "8.1.0"), &[]);
    let variables = |sha: String| {
        vec![
            ("PROJECT_COUNT".to_owned(), "0".to_owned()),
            ("MODULE_COUNT".to_owned(), "1".to_owned()),
            ("MODULE_0_ID".to_owned(), MODULE_ID.to_owned()),
            ("MODULE_0_FILE".to_owned(), file.display().to_string()),
            ("MODULE_0_SHA256".to_owned(), sha),
        ]
    };
    let run = run_with(&sandbox, variables("c".repeat(64)));
    run.assert_failure("a file on the volume with another checksum");
    assert!(failure_line(&run).contains("not the pinned"));
    run_with(&sandbox, variables(sha256(&file))).assert_success("the pinned file");
    let installed = sandbox.path(&format!("modules/{MODULE_ID}.modl"));
    assert_eq!(fs::read(installed).unwrap(), fs::read(&file).unwrap());
}

#[test]
fn a_module_that_is_another_module_is_refused() {
    require_curl();
    let sandbox = Sandbox::new("content-module-identity");
    let file = modl(&sandbox, "other", &module_xml("com.example.other", "8.3.0"), &[]);
    let run = run_modules(&sandbox, &[(MODULE_ID, file_url(&file), sha256(&file))]);
    run.assert_failure("another module's file");
    let line = failure_line(&run);
    assert!(
        line.contains("is the module com.example.other, not com.example.demo"),
        "{line}"
    );
    assert!(!sandbox.path(&format!("modules/{MODULE_ID}.modl")).exists());
}

#[test]
fn a_module_for_a_newer_ignition_is_refused() {
    require_curl();
    let sandbox = Sandbox::new("content-module-version");
    let file = modl(&sandbox, "newer", &module_xml(MODULE_ID, "8.3.10"), &[]);
    let run = run_modules(&sandbox, &[(MODULE_ID, file_url(&file), sha256(&file))]);
    run.assert_failure("a module for 8.3.10 on 8.3.3");
    assert!(failure_line(&run).contains("needs Ignition 8.3.10 or later, and this image is 8.3.3"));
    assert!(!sandbox.path(&format!("modules/{MODULE_ID}.modl")).exists());
}

#[test]
fn a_file_that_is_no_module_or_has_another_checksum_is_refused() {
    require_curl();
    let sandbox = Sandbox::new("content-module-junk");
    let junk = sandbox.path("junk.modl");
    write(
        &junk,
        "not a zip at all, though long enough to look for an end record in it",
    );
    let run = run_modules(&sandbox, &[(MODULE_ID, file_url(&junk), sha256(&junk))]);
    run.assert_failure("not a zip");
    assert!(failure_line(&run).contains("is not an Ignition module"));

    let file = modl(&sandbox, "good", &module_xml(MODULE_ID, "8.3.0"), &[]);
    let run = run_modules(&sandbox, &[(MODULE_ID, file_url(&file), "b".repeat(64))]);
    run.assert_failure("a wrong checksum");
    assert!(failure_line(&run).contains("not the pinned"));
    assert!(!sandbox.path(&format!("modules/{MODULE_ID}.modl")).exists());
}
