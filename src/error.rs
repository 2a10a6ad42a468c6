//! The command line's one error type, printed once by `main` (as ripgrep does), and its exit codes.
//!
//! Every line on stderr reads `ignition-krm: error: FILE: field.path: message`; the exit code is
//! [`EXIT_OK`] (0), [`EXIT_DRIFT`] (1: `render --check` found drift, `--fail-on-change` changed a file,
//! a site directory whose spec is gone) or [`EXIT_INVALID`] (2: anything the user has to fix, from
//! a bad spec or option to an unreadable file).

use std::path::Path;

use crate::krm::KrmResult;

pub const EXIT_OK: u8 = 0;
pub const EXIT_DRIFT: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

/// What a command that did not fail found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// The disk differs from what the specs render (or was changed, with `--fail-on-change`).
    Drift,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => EXIT_OK,
            Status::Drift => EXIT_DRIFT,
        }
    }
}

/// Why a command failed. Each variant prints as one or more lines, each of which `main` prefixes
/// with `ignition-krm: error: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the input, one `FILE: field.path: message` line each.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// A file or directory that cannot be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file or directory that cannot be written or removed.
    #[error("{path}: cannot {action}: {source}")]
    Write {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// An input over the size cap.
    #[error("{file}: larger than {limit_mib} MiB, the most this function reads")]
    TooLarge { file: String, limit_mib: u64 },
    /// An input that is not UTF-8 text.
    #[error("{file}: not UTF-8 text: invalid byte at offset {offset}")]
    NotUtf8 { file: String, offset: usize },
    /// Standard output is gone (other than a closed pipe, which is not an error).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

impl Error {
    /// One problem in one input: `FILE: message` (the message starting with the field path, if any).
    pub fn invalid(file: impl AsRef<str>, message: impl std::fmt::Display) -> Self {
        Error::Invalid(vec![located(file.as_ref(), message)])
    }

    pub fn read(path: &Path, source: std::io::Error) -> Self {
        Error::Read {
            path: path.display().to_string(),
            source,
        }
    }

    pub fn write(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Error::Write {
            path: path.display().to_string(),
            action,
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        EXIT_INVALID
    }

    /// The lines `main` prints, each after `ignition-krm: error: `.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Error::Invalid(lines) => lines.clone(),
            other => vec![other.to_string().replace('\n', " ")],
        }
    }
}

/// `FILE: message`, or the message alone when there is no file to name.
pub fn located(file: &str, message: impl std::fmt::Display) -> String {
    if file.is_empty() {
        message.to_string()
    } else {
        format!("{file}: {message}")
    }
}

/// The stderr line of a KRM result: `FILE: field.path: message`, where FILE is the file the result
/// names or else the object (`IgnitionCluster scada/plant-c`), as kustomize passes the spec without one.
pub fn result_line(result: &KrmResult) -> String {
    let location = match (&result.file, &result.resource_ref) {
        (Some(file), _) => file.path.clone(),
        (None, Some(reference)) => {
            let namespace = reference
                .namespace
                .as_deref()
                .map(|namespace| format!("{namespace}/"))
                .unwrap_or_default();
            format!("{} {namespace}{}", reference.kind, reference.name)
        }
        (None, None) => String::new(),
    };
    let message = match &result.field {
        Some(field) => format!("{}: {}", field.path, result.message),
        None => result.message.clone(),
    };
    located(&location, message.replace('\n', " "))
}
