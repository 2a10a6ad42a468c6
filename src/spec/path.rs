//! Field paths as kpt and kubectl print them: `spec.frontend.replicas`, `spec.gateway.pod.env[0].name`,
//! `spec.ingress.annotations["a.b/c"]`. Built, compared, moved and read back here only.

use std::fmt;

/// A field path, built one step at a time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FieldPath(String);

impl FieldPath {
    /// The object itself (an empty path).
    pub fn root() -> Self {
        FieldPath(String::new())
    }

    /// `spec`.
    pub fn spec() -> Self {
        FieldPath::root().field("spec")
    }

    /// `metadata`.
    pub fn metadata() -> Self {
        FieldPath::root().field("metadata")
    }

    /// A field (or map key) below this path; a key that is not a plain word is quoted.
    pub fn field(&self, name: &str) -> Self {
        FieldPath(join(&self.0, name))
    }

    /// A list item below this path.
    pub fn index(&self, index: usize) -> Self {
        FieldPath(format!("{}[{index}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<FieldPath> for String {
    fn from(path: FieldPath) -> String {
        path.0
    }
}

impl From<&FieldPath> for String {
    fn from(path: &FieldPath) -> String {
        path.0.clone()
    }
}

/// Joins a field path the way kpt and kubectl print them; keys that are not plain words are quoted.
pub fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_owned(),
        // Joined without the formatting machinery: validation joins a path for every field it visits.
        (false, true) => [path, ".", key].concat(),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

/// Whether `path` is `ancestor` or a field below it (`spec.frontend.replicas` is within
/// `spec.frontend`; `spec.frontendX` is not).
pub fn is_within(path: &str, ancestor: &str) -> bool {
    match path.strip_prefix(ancestor) {
        Some(rest) => rest.is_empty() || ancestor.is_empty() || rest.starts_with(['.', '[']),
        None => false,
    }
}

/// The same field below `to` instead of `from`, if it is within `from`
/// (`spec.frontend.replicas` from `spec` to `spec.environments.prod`:
/// `spec.environments.prod.frontend.replicas`).
pub fn rebase(path: &str, from: &FieldPath, to: &FieldPath) -> Option<FieldPath> {
    if !is_within(path, from.as_str()) {
        return None;
    }
    let rest = &path[from.as_str().len()..];
    Some(if to.0.is_empty() {
        FieldPath(rest.strip_prefix('.').unwrap_or(rest).to_owned())
    } else {
        FieldPath(format!("{}{rest}", to.0))
    })
}

/// One step of a path read back.
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Reads a path back into its steps; it stops at anything it cannot read.
pub fn split(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix('.') {
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix("[\"") {
            // A quoted key, written with Rust's `{:?}`: read it back as a JSON string.
            let mut end = None;
            let mut escaped = false;
            for (offset, c) in tail.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(offset);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let Some(end) = end else {
                return segments;
            };
            let key = serde_json::from_str(&format!("\"{}\"", &tail[..end])).unwrap_or_else(|_| tail[..end].to_owned());
            segments.push(Segment::Key(key));
            rest = tail[end + 1..].strip_prefix(']').unwrap_or(&tail[end + 1..]);
        } else if let Some(tail) = rest.strip_prefix('[') {
            let Some((index, after)) = tail.split_once(']') else {
                return segments;
            };
            match index.parse() {
                Ok(index) => segments.push(Segment::Index(index)),
                Err(_) => return segments,
            }
            rest = after;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            segments.push(Segment::Key(rest[..end].to_owned()));
            rest = &rest[end..];
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_paths_as_kpt_prints_them() {
        let env = FieldPath::spec()
            .field("gateway")
            .field("pod")
            .field("env")
            .index(0)
            .field("name");
        assert_eq!(env.to_string(), "spec.gateway.pod.env[0].name");
        let annotation = FieldPath::metadata()
            .field("annotations")
            .field("ignition.krm.dev/environment");
        assert_eq!(
            annotation.as_str(),
            "metadata.annotations[\"ignition.krm.dev/environment\"]"
        );
        assert_eq!(FieldPath::root().field("spec"), FieldPath::spec());
    }

    #[test]
    fn within_stops_at_a_step_boundary() {
        assert!(is_within("spec.frontend", "spec.frontend"));
        assert!(is_within("spec.frontend.replicas", "spec.frontend"));
        assert!(is_within("spec.modules[0]", "spec.modules"));
        assert!(!is_within("spec.frontendX", "spec.frontend"));
        assert!(!is_within("metadata.name", "spec"));
    }

    #[test]
    fn rebase_moves_a_path_under_another() {
        let prod = FieldPath::spec().field("environments").field("prod");
        let moved = rebase("spec.frontend.replicas", &FieldPath::spec(), &prod).unwrap();
        assert_eq!(moved.as_str(), "spec.environments.prod.frontend.replicas");
        assert_eq!(rebase("spec", &FieldPath::spec(), &prod), Some(prod.clone()));
        assert_eq!(
            rebase("spec.modules[1]", &FieldPath::spec(), &prod).unwrap().as_str(),
            "spec.environments.prod.modules[1]"
        );
        assert_eq!(rebase("metadata.name", &FieldPath::spec(), &prod), None);
        assert_eq!(rebase("specs.x", &FieldPath::spec(), &prod), None);
    }

    #[test]
    fn split_reads_back_what_join_writes() {
        let path = FieldPath::spec().field("ann").field("a.b/c\"d").field("list").index(3);
        let steps: Vec<String> = split(path.as_str())
            .into_iter()
            .map(|segment| match segment {
                Segment::Key(key) => key,
                Segment::Index(index) => format!("#{index}"),
            })
            .collect();
        assert_eq!(steps, ["spec", "ann", "a.b/c\"d", "list", "#3"]);
    }
}
