//! The harness for the tests of the bash scripts in the `<site>-scripts` ConfigMap: the scripts as
//! shipped (taken from the binary's output), a scratch directory per test, a runner with a
//! controlled environment and a timeout, and a fake HTTP server on 127.0.0.1.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_norway::Value;

const SPEC: &str = "bases/scaleout/spec/ignition.yaml";
pub const SCRIPTS_CONFIG_MAP: &str = "plant-a-scripts";
/// No script may run longer than this; the test fails instead of hanging.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The scripts as shipped, and a scratch directory to run them in.

/// The objects the binary generates for [`SPEC`], read once per test process.
fn shipped_objects() -> &'static [Value] {
    static OBJECTS: OnceLock<Vec<Value>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let output = super::ignition_krm()
            .args(["manifests", SPEC])
            .current_dir(super::repo_root())
            .output()
            .expect("the binary runs");
        assert!(
            output.status.success(),
            "ignition-krm manifests {SPEC} failed:\n{}",
            super::stderr(&output)
        );
        super::documents(&super::stdout(&output))
    })
}

/// Runs a tool the tests build their fixtures with (zip, tar, ...) in `dir`; it must succeed.
pub fn command(program: &str, args: &[&str], dir: &std::path::Path) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| panic!("{program} is needed for these tests: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A golden case whose site fetches projects and modules: only such a site ships `fetch-content.sh`.
const CONTENT_CASE: &str = "tests/testdata/scaleout-projects-modules-8.3/expected.yaml";

/// The data of the scripts ConfigMap the binary generates, read once per test process: [`SPEC`]'s,
/// plus the scripts that only a site using them ships (taken from [`CONTENT_CASE`]'s generated output).
pub fn shipped_scripts() -> &'static BTreeMap<String, String> {
    static SCRIPTS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let config_map = shipped_objects()
            .iter()
            .find(|object| object["kind"] == "ConfigMap" && object["metadata"]["name"] == SCRIPTS_CONFIG_MAP)
            .unwrap_or_else(|| panic!("no ConfigMap {SCRIPTS_CONFIG_MAP} in the output of {SPEC}"));
        let content_case =
            fs::read_to_string(super::repo_root().join(CONTENT_CASE)).expect("the content case is there");
        let content_list: Value = serde_norway::from_str(&content_case).expect("the content case is YAML");
        let content_scripts = content_list["items"]
            .as_sequence()
            .expect("the content case has items")
            .iter()
            .find(|object| {
                object["kind"] == "ConfigMap"
                    && object["metadata"]["name"]
                        .as_str()
                        .is_some_and(|name| name.ends_with("-scripts"))
            })
            .expect("the content case has a scripts ConfigMap");
        [config_map, content_scripts]
            .into_iter()
            .flat_map(|config_map| config_map["data"].as_mapping().expect("the scripts ConfigMap has data"))
            .map(|(key, value)| {
                (
                    key.as_str().unwrap().to_owned(),
                    value.as_str().expect("script text is a string").to_owned(),
                )
            })
            .collect()
    })
}

/// The literal `env` values (not those from a field or a Secret) of the first generated container named
/// `container`: the settings a script runs with as shipped, which a test overrides by adding its own after them.
pub fn shipped_env(container: &str) -> Vec<(&'static str, String)> {
    let found = shipped_objects()
        .iter()
        .filter(|object| object["kind"] == "StatefulSet")
        .flat_map(|statefulset| {
            let pod = &statefulset["spec"]["template"]["spec"];
            ["initContainers", "containers"]
                .into_iter()
                .filter_map(|list| pod[list].as_sequence())
                .flatten()
        })
        .find(|candidate| candidate["name"] == container)
        .unwrap_or_else(|| panic!("no container {container} in the output of {SPEC}"));
    found["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|env| Some((env["name"].as_str()?, env["value"].as_str()?.to_owned())))
        .collect()
}

/// A scratch directory for one test, emptied on creation and removed when the test passes (kept
/// for inspection when it fails).
pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir()
            .join(format!("ignition-krm-scripts-{}", std::process::id()))
            .join(test);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
        Sandbox { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// Writes a shipped script into the sandbox and returns its path.
    pub fn script(&self, name: &str) -> PathBuf {
        let text = shipped_scripts()
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {SCRIPTS_CONFIG_MAP}: {:?}", shipped_scripts().keys()));
        let path = self.path(name);
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
            // The per-process parent goes with its last test (removing a non-empty directory fails).
            let _ = fs::remove_dir(self.dir.parent().unwrap());
        }
    }
}

/// The outcome of a script run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn describe(&self) -> String {
        format!(
            "{}\n--- stdout:\n{}--- stderr:\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    pub fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what}: expected success, got {}",
            self.describe()
        );
    }

    pub fn assert_failure(&self, what: &str) {
        assert!(
            !self.status.success(),
            "{what}: expected a failure, got {}",
            self.describe()
        );
    }
}

/// Runs `bash <script>` with only PATH and `env` in its environment, output captured in files of
/// the sandbox, killed after [`SCRIPT_TIMEOUT`].
pub fn run_script(sandbox: &Sandbox, script: &str, env: &[(&str, String)]) -> Run {
    let path = sandbox.script(script);
    let (stdout_path, stderr_path) = (
        sandbox.path(&format!("{script}.stdout")),
        sandbox.path(&format!("{script}.stderr")),
    );
    let mut command = Command::new("bash");
    command
        .arg(&path)
        .env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned()),
        )
        .envs(env.iter().map(|(key, value)| (key, value)))
        .current_dir(&sandbox.dir)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).unwrap())
        .stderr(fs::File::create(&stderr_path).unwrap());
    let mut child = command.spawn().expect("bash runs");
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{script} did not finish within {SCRIPT_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: fs::read_to_string(stdout_path).unwrap(),
        stderr: fs::read_to_string(stderr_path).unwrap(),
    }
}

/// Fails the test with a clear message when curl, which the probes use, is not installed.
pub fn require_curl() {
    let works = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        works,
        "curl is not installed: the probe scripts call it, install it to run these tests"
    );
}

/// A number unique within the test process, for sandbox names.
pub fn unique() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// One request the fake server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub at: Instant,
}

/// A fake HTTP server on 127.0.0.1: it answers each request with what `respond` returns for its
/// path and the number of earlier requests to that path, and records every request. It stops when
/// dropped.
pub struct FakeServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(respond: impl Fn(&str, usize) -> (u16, String) + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::<Request>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_requests, thread_stop) = (requests.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let Some(request) = read_request(&stream) else { continue };
                        let count = thread_requests
                            .lock()
                            .unwrap()
                            .iter()
                            .filter(|r| r.path == request.path)
                            .count();
                        let (status, body) = respond(&request.path, count);
                        thread_requests.lock().unwrap().push(request);
                        write_response(stream, status, &body);
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5))
                    }
                    Err(error) => panic!("accept: {error}"),
                }
            }
        });
        FakeServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn read_request(mut stream: &TcpStream) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut data = Vec::new();
    let mut buffer = [0; 4096];
    let head_end = loop {
        if let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return None,
            Ok(read) => data.extend_from_slice(&buffer[..read]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => body.extend_from_slice(&buffer[..read]),
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    })
}

fn write_response(mut stream: TcpStream, status: u16, body: &str) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let response = format!(
        "HTTP/1.1 {status} Fake\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}
