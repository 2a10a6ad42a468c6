//! The artifacts a platform team installs without building: the statically linked binary
//! (`scripts/build-static.sh`) runs in an empty root that holds nothing but itself, and the image
//! built from the `Dockerfile` (with buildah, no daemon) holds exactly that binary and the user
//! database, runs as a non-root user and answers as a KRM function and as the Argo CD plugin.
//!
//! `scripts/test.sh` builds the static binary once before `cargo test`; these tests fail with the
//! command to run when it is missing, and when it answers differently from the ordinary build (a
//! binary older than the last change to the output).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value as Json;

/// Where `scripts/build-static.sh` puts the binary, and what the Dockerfile copies.
const STATIC_BINARY: &str = "target/x86_64-unknown-linux-gnu/release/ignition-krm";
const SPEC: &str = "bases/scaleout/spec/ignition.yaml";

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("artifacts-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The static binary. A stale one (built before a change to the output) shows as a difference
/// from the ordinary build below.
fn static_binary() -> PathBuf {
    let binary = repo_root().join(STATIC_BINARY);
    assert!(
        binary.is_file(),
        "{STATIC_BINARY} is missing: run scripts/build-static.sh (scripts/test.sh does)"
    );
    binary
}

/// A ResourceList with the example scaleout spec as its function config, as kpt sends it.
fn resource_list() -> String {
    let spec: String = read(SPEC).lines().map(|line| format!("  {line}\n")).collect();
    format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n{spec}")
}

fn with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    // A program that cannot start closes the pipe at once: that shows in its exit status.
    if let Err(error) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A program of the system by full path (the child's environment is empty, so it has no PATH).
fn system_program(name: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} not found (util-linux and coreutils)"));
    found
}

/// `chroot --userspec=USER ROOT PROGRAM ARGS` with an empty environment. Without root, inside a user
/// namespace where only the current user exists (mapped to root), so USER cannot be chosen.
fn chrooted(root: &Path, user: &str, program: &str, args: &[&str]) -> Command {
    let mut command = if is_root() {
        let mut chroot = Command::new(system_program("chroot"));
        chroot.arg(format!("--userspec={user}"));
        chroot
    } else {
        let mut unshare = Command::new(system_program("unshare"));
        unshare
            .args(["--user", "--map-root-user"])
            .arg(system_program("chroot"));
        unshare
    };
    command.env_clear().arg(root).arg(program).args(args);
    command
}

/// The ELF program header types of a 64-bit little-endian executable.
fn program_headers(binary: &[u8]) -> Vec<u32> {
    assert_eq!(&binary[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(binary[4], 2, "not a 64-bit ELF file");
    assert_eq!(binary[5], 1, "not little-endian");
    let u16_at = |offset: usize| u16::from_le_bytes(binary[offset..offset + 2].try_into().unwrap()) as usize;
    let offset = usize::try_from(u64::from_le_bytes(binary[32..40].try_into().unwrap()))
        .expect("a program header offset beyond usize");
    let (size, count) = (u16_at(54), u16_at(56));
    (0..count)
        .map(|index| {
            let start = offset + index * size;
            u32::from_le_bytes(binary[start..start + 4].try_into().unwrap())
        })
        .collect()
}

const PT_INTERP: u32 = 3;
const PT_LOAD: u32 = 1;

#[test]
fn the_static_binary_needs_no_loader_and_runs_in_an_empty_root() {
    let binary = static_binary();
    let headers = program_headers(&std::fs::read(&binary).unwrap());
    assert!(headers.contains(&PT_LOAD));
    assert!(
        !headers.contains(&PT_INTERP),
        "{STATIC_BINARY} asks for an ELF interpreter"
    );

    // A root holding only the binary: no libc, no loader, no /etc, no /tmp, no /proc.
    let root = scratch("empty-root");
    std::fs::copy(&binary, root.join("ignition-krm")).unwrap();
    let input = resource_list();
    let expected = run_function(&input);
    assert!(expected.status.success(), "{}", stderr(&expected));
    let output = with_stdin(chrooted(&root, "65534:65534", "/ignition-krm", &[]), &input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        stdout(&expected),
        "the static binary answers differently (if it predates your change: scripts/build-static.sh)"
    );
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1, "it wrote into its root");

    // The control: the ordinary (dynamically linked) build cannot even start there.
    let control = scratch("empty-root-control");
    std::fs::copy(
        assert_cmd::cargo::cargo_bin!("ignition-krm"),
        control.join("ignition-krm"),
    )
    .unwrap();
    let failed = with_stdin(chrooted(&control, "65534:65534", "/ignition-krm", &[]), &input);
    assert!(
        !failed.status.success(),
        "the dynamic build ran without its libc: the root is not empty"
    );
}

/// build.rs hands lld the static build's code order, `scripts/symbol-order/static.txt` (issue 15): the functions
/// listed there sit in that order, within the first 2 MB of the code. Linked in the compiler's order, they lie
/// spread over all of its 4 MB and only about half of them follow the one before (measured: 299 of 509 in a
/// release build linked by GNU ld). `nm` (binutils) reads the addresses.
#[test]
fn the_static_binary_lays_out_the_listed_functions_in_order() {
    let binary = static_binary();
    let bytes = std::fs::read(&binary).unwrap();
    if !bytes.windows(11).any(|window| window == b"Linker: LLD") {
        eprintln!("skipped: {STATIC_BINARY} was not linked by lld, which alone takes the order (README)");
        return;
    }
    let nm = Command::new("nm")
        .args(["--defined-only", "--numeric-sort"])
        .arg(&binary)
        .output()
        .expect("nm (binutils) runs");
    assert!(nm.status.success(), "{}", stderr(&nm));
    let mut addresses = std::collections::HashMap::new();
    for line in String::from_utf8(nm.stdout).unwrap().lines() {
        if let [address, _kind, name] = line.split_whitespace().collect::<Vec<_>>()[..] {
            addresses
                .entry(name.to_owned())
                .or_insert_with(|| u64::from_str_radix(address, 16).unwrap());
        }
    }
    let list = read("scripts/symbol-order/static.txt");
    let listed: Vec<u64> = list.lines().filter_map(|name| addresses.get(name).copied()).collect();
    let total = list.lines().count();
    if listed.len() * 2 < total {
        // build-static.sh warns of the same: the compiler or a dependency changed since the list was written.
        eprintln!(
            "skipped: only {} of the {total} listed functions are in the binary: run scripts/hot-functions.sh",
            listed.len()
        );
        return;
    }
    let following = listed.windows(2).filter(|pair| pair[1] > pair[0]).count();
    assert!(
        following * 10 >= (listed.len() - 1) * 9,
        "only {following} of {} listed functions follow the one before: the code order was not applied",
        listed.len()
    );
    let first = listed.iter().min().unwrap();
    let span = listed.iter().max().unwrap() - first;
    assert!(
        span < 2 << 20,
        "the listed functions span {span} bytes: they are not side by side"
    );
}

// --------------------------------------------------------------------------------------------- image

/// buildah from Debian (scripts/install-tools.sh installs it): builds and pushes images without a
/// daemon. Its storage lives in the scratch directory.
fn buildah(storage: &Path) -> Command {
    let path = Path::new("/usr/bin/buildah");
    assert!(
        path.exists(),
        "buildah is missing: run scripts/install-tools.sh (apt package buildah)"
    );
    let mut command = Command::new(path);
    command
        .arg("--root")
        .arg(storage.join("root"))
        .arg("--runroot")
        .arg(storage.join("run"))
        .args(["--storage-driver", "vfs"]);
    command
}

fn run(mut command: Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(output.status.success(), "{command:?}: {}", stderr(&output));
    output
}

fn blob(layout: &Path, digest: &Json) -> PathBuf {
    let digest = digest.as_str().unwrap();
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

fn json_file(path: &Path) -> Json {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_image_built_from_the_dockerfile_holds_only_the_static_binary_and_runs_as_non_root() {
    let binary = static_binary();
    let dir = scratch("image");
    let mut build = buildah(&dir);
    build
        .args([
            "bud",
            "--isolation",
            "chroot",
            "--quiet",
            "-f",
            "Dockerfile",
            "-t",
            "localhost/ignition-krm:test",
        ])
        .arg(repo_root())
        .current_dir(repo_root());
    run(build);
    let layout = dir.join("layout");
    let mut push = buildah(&dir);
    push.args(["push", "--quiet", "localhost/ignition-krm:test"])
        .arg(format!("oci:{}:test", layout.display()));
    run(push);

    // The OCI layout: one manifest, its config, one layer.
    let index = json_file(&layout.join("index.json"));
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1);
    let manifest = json_file(&blob(&layout, &manifests[0]["digest"]));
    let config = json_file(&blob(&layout, &manifest["config"]["digest"]));
    assert_eq!(config["os"], "linux");
    assert_eq!(config["architecture"], "amd64");
    let runtime = &config["config"];
    // kpt passes a ResourceList on stdin to the entrypoint with no arguments.
    assert_eq!(
        runtime["Entrypoint"],
        serde_json::json!(["/usr/local/bin/ignition-krm"])
    );
    assert!(
        runtime.get("Cmd").is_none_or(Json::is_null),
        "a Cmd would become arguments"
    );
    let user = runtime["User"].as_str().unwrap();
    assert!(
        !user.is_empty() && !user.starts_with("0") && !user.starts_with("root"),
        "runs as {user:?}"
    );
    // The Argo CD sidecar runs `ignition-krm argocd-generate` by name.
    assert_eq!(runtime["Env"], serde_json::json!(["PATH=/usr/local/bin"]));
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "FROM scratch and COPY only: one layer");

    // The layer holds the user database and the binary built by scripts/build-static.sh, nothing else.
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    let mut listing = Command::new("tar");
    listing.arg("-tzf").arg(blob(&layout, &layers[0]["digest"]));
    let mut files: Vec<String> = stdout(&run(listing))
        .lines()
        .filter(|entry| !entry.ends_with('/'))
        .map(str::to_owned)
        .collect();
    files.sort();
    assert_eq!(files, ["etc/group", "etc/passwd", "usr/local/bin/ignition-krm"]);
    let mut extract = Command::new("tar");
    extract
        .arg("-xzf")
        .arg(blob(&layout, &layers[0]["digest"]))
        .arg("-C")
        .arg(&rootfs);
    run(extract);
    assert_eq!(
        std::fs::read(rootfs.join("usr/local/bin/ignition-krm")).unwrap(),
        std::fs::read(&binary).unwrap(),
        "the image holds another binary than {STATIC_BINARY}"
    );
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    let uid_of = |name: &str| {
        passwd
            .lines()
            .find(|line| line.starts_with(&format!("{name}:")))
            .and_then(|line| line.split(':').nth(2))
            .unwrap_or_else(|| panic!("/etc/passwd of the image has no {name}"))
            .to_owned()
    };

    // As a KRM function, as the image's user, as kpt's `--user nobody` (resolved from the image's
    // /etc/passwd) and as Argo CD's 999: the same output as the ordinary build.
    let input = resource_list();
    let expected = stdout(&run_function(&input));
    for user in [
        user.to_owned(),
        format!("{0}:{0}", uid_of("nobody")),
        format!("{0}:{0}", uid_of("argocd")),
    ] {
        let output = with_stdin(chrooted(&rootfs, &user, "/usr/local/bin/ignition-krm", &[]), &input);
        assert!(output.status.success(), "as {user}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected, "as {user}");
    }
    assert_eq!(uid_of("argocd"), "999", "Argo CD runs its sidecars as UID 999");

    // As the Argo CD plugin: the spec in the application's directory.
    std::fs::create_dir_all(rootfs.join("app")).unwrap();
    std::fs::copy(repo_root().join(SPEC), rootfs.join("app/ignition.yaml")).unwrap();
    let generated = run(chrooted(
        &rootfs,
        "999:999",
        "/usr/local/bin/ignition-krm",
        &["argocd-generate", "/app/ignition.yaml"],
    ));
    let mut manifests = Command::new(assert_cmd::cargo::cargo_bin!("ignition-krm"));
    manifests.args(["manifests", SPEC]).current_dir(repo_root());
    let manifests = run(manifests);
    assert_eq!(stdout(&generated), stdout(&manifests));
}

/// The Dockerfile's own lines, for what a build cannot show: the base is empty.
#[test]
fn the_dockerfile_starts_from_scratch_and_copies_the_static_build() {
    let dockerfile = read("Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .collect();
    assert_eq!(instructions[0], "FROM scratch");
    assert!(instructions.contains(&format!("COPY {STATIC_BINARY} /usr/local/bin/ignition-krm").as_str()));
    assert_eq!(instructions.iter().filter(|line| line.starts_with("FROM ")).count(), 1);
    assert!(
        !instructions.iter().any(|line| line.starts_with("RUN ")),
        "nothing runs at build time"
    );
    let dockerignore = read(".dockerignore");
    assert!(dockerignore.lines().any(|line| line == format!("!{STATIC_BINARY}")));
}

/// The README's install, image and pre-commit examples name this release (the tag the lead creates
/// is `v` + the version), and every `cargo install` of this crate uses the committed Cargo.lock.
#[test]
fn the_readme_names_this_release_everywhere() {
    let readme = read("README.md");
    let version = env!("CARGO_PKG_VERSION");
    let tag = format!("v{version}");
    let mentions = |pattern: &str| -> Vec<String> {
        regex::Regex::new(pattern)
            .unwrap()
            .captures_iter(&readme)
            .map(|captures| captures[1].to_owned())
            .collect()
    };
    let revs = mentions(r"(?m)^\s*rev: (\S+)");
    let tags = mentions(r"--tag (\S+)");
    let images = mentions(r"ignition-krm:(\d[^\s`]*)");
    let releases = mentions(r"release \*\*([^*]+)\*\*");
    assert!(!revs.is_empty() && !tags.is_empty() && !images.is_empty() && releases.len() == 1);
    for found in revs.iter().chain(&tags) {
        assert_eq!(found, &tag, "the README names another tag than {tag}");
    }
    for found in images.iter().chain(&releases) {
        assert_eq!(found, version, "the README names another version than {version}");
    }
    let installs: Vec<&str> = readme
        .lines()
        .filter(|line| line.trim_start().starts_with("cargo install") && !line.contains("cargo-fuzz"))
        .collect();
    assert!(installs.len() >= 2);
    for line in installs {
        assert!(line.contains("--locked"), "{line}");
    }
}
