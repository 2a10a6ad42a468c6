//! Standard input and output, and reading input files: the size cap, UTF-8, YAML documents, and
//! the YAML files below a directory.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;

use crate::error::Error;

/// The largest input read, on stdin or from a file. A kustomize build of a large site is a few MiB.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The argument that names standard input.
pub const STDIN_ARGUMENT: &str = "-";
/// How standard input is named in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// One YAML document read from an input, with the file it came from (for messages).
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    pub object: Value,
}

pub fn read_stdin() -> Result<String, Error> {
    read_limited(io::stdin().lock(), STDIN_NAME)
}

pub fn read_file(path: &Path) -> Result<String, Error> {
    let file = std::fs::File::open(path).map_err(|error| Error::read(path, error))?;
    read_limited(file, &path.display().to_string())
}

fn read_limited(reader: impl Read, name: &str) -> Result<String, Error> {
    // Room for a spec or a small ResourceList: read in one call, where an empty buffer starts with 32-byte probes
    // and grows through eight reads and as many copies.
    let mut bytes = Vec::with_capacity(16 * 1024);
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: name.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::TooLarge {
            file: name.to_owned(),
            limit_mib: MAX_INPUT_BYTES >> 20,
        });
    }
    String::from_utf8(bytes).map_err(|error| Error::NotUtf8 {
        file: name.to_owned(),
        offset: error.utf8_error().valid_up_to(),
    })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(text: &str) -> Result<(), Error> {
    emit_with(|out| out.write_all(text.as_bytes()))
}

/// Writes to stdout piece by piece; a closed pipe (`| head`) is not an error.
pub fn emit_with(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Error::Output(error)),
    }
}

/// The non-empty YAML documents of a text.
pub fn documents(text: &str) -> Result<Vec<Value>, serde_norway::Error> {
    // A file of one block-style document (most specs) goes to the fast reader, which reads exactly what
    // serde_norway reads or gives up; a leading `---` line is the same document to serde_norway.
    if let Some(value) = crate::block_yaml::parse(text.strip_prefix("---\n").unwrap_or(text)) {
        return Ok(if value.is_null() { Vec::new() } else { vec![value] });
    }
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document)?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Every `*.yaml`/`*.yml` file below a directory, in path order; hidden directories and `skip` (if it
/// is below) are not entered.
pub fn yaml_files(dir: &Path, skip: Option<&Path>) -> Result<Vec<PathBuf>, Error> {
    let skip = skip.and_then(|skip| Some((skip.canonicalize().ok()?, std::fs::metadata(skip).ok()?)));
    // Only a directory can be `skip` and be entered (links below `dir` are not followed). One `stat` of each
    // directory rules out the others before its path is resolved, which takes system calls per component.
    let is_skip = |entry: &walkdir::DirEntry| {
        skip.as_ref().is_some_and(|(path, metadata)| {
            entry.file_type().is_dir()
                && same_inode(entry.path(), metadata)
                && entry.path().canonicalize().is_ok_and(|found| found == *path)
        })
    };
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            !hidden && !is_skip(entry)
        });
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(dir).to_path_buf();
            Error::read(&path, error.into())
        })?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Whether `path` may be the file of `metadata`: the same device and inode (always, where there are none).
#[cfg(unix)]
fn same_inode(path: &Path, metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|found| (found.dev(), found.ino()) == (metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &std::fs::Metadata) -> bool {
    true
}

/// Every document of the inputs: files, directories (every YAML file below them) and `-` (stdin,
/// at most once), in the order given. Any file that cannot be read or parsed is an error: nothing
/// in it may be silently lost.
pub fn read_inputs(inputs: &[PathBuf]) -> Result<Vec<Document>, Error> {
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    let mut add = |file: String, text: Result<String, Error>, documents: &mut Vec<Document>| match text {
        Ok(text) => match self::documents(&text) {
            Ok(found) => documents.extend(found.into_iter().map(|object| Document {
                file: file.clone(),
                object,
            })),
            Err(error) => problems.push(crate::error::located(&file, format!("not valid YAML: {error}"))),
        },
        Err(error) => problems.extend(error.lines()),
    };
    let mut stdin_read = false;
    for input in inputs {
        if input.as_os_str() == STDIN_ARGUMENT {
            if !std::mem::replace(&mut stdin_read, true) {
                add(STDIN_NAME.to_owned(), read_stdin(), &mut documents);
            }
        } else if input.is_dir() {
            for file in yaml_files(input, None)? {
                add(file.display().to_string(), read_file(&file), &mut documents);
            }
        } else {
            add(input.display().to_string(), read_file(input), &mut documents);
        }
    }
    if problems.is_empty() {
        Ok(documents)
    } else {
        Err(Error::Invalid(problems))
    }
}
