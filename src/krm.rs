//! The KRM function wire format: reading a ResourceList and writing one back.
//!
//! This is the only module that knows what a ResourceList looks like on the wire
//! (the KRM Functions Specification, `config.kubernetes.io/v1`).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde::Serialize;
use serde_norway::value::{Tag, TaggedValue};
use serde_norway::{Mapping, Value};

use crate::{block_yaml, core_tags, yaml};

/// The apiVersion written on every output ResourceList.
pub const OUTPUT_API_VERSION: &str = "config.kubernetes.io/v1";

/// apiVersions accepted on input: the current one and those older orchestrators still send.
pub const ACCEPTED_API_VERSIONS: &[&str] = &[
    "config.kubernetes.io/v1",
    "config.kubernetes.io/v1beta1",
    "config.kubernetes.io/v1alpha1",
];

/// Annotations kyaml and kpt use to know where an item lives on disk.
pub const PATH_ANNOTATION: &str = "internal.config.kubernetes.io/path";
pub const INDEX_ANNOTATION: &str = "internal.config.kubernetes.io/index";
pub const LEGACY_PATH_ANNOTATION: &str = "config.kubernetes.io/path";
pub const LEGACY_INDEX_ANNOTATION: &str = "config.kubernetes.io/index";
/// Prefix of the annotations that belong to the orchestrator alone.
pub const INTERNAL_ANNOTATION_PREFIX: &str = "internal.config.kubernetes.io/";

/// A parsed input ResourceList.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceList {
    pub items: Vec<Value>,
    pub function_config: Option<Value>,
    /// The text each item came from, where it can be copied to the output as it is.
    pub source: Source,
}

/// The input text and, for each item that can be written back byte for byte, where it is in that text.
///
/// An item is copied, not re-written, when the input is a block-style `items:` list and the item's lines, read on
/// their own, are the very same item: no alias into another item, no tag defined elsewhere. Copying keeps its
/// comments, quoting and styles, and with them what every YAML reader makes of it (`0644` stays `0644`, which
/// YAML 1.1 readers such as kubectl's read as 420, where re-writing it from the parsed value would give the
/// string `"0644"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    text: String,
    /// The column of the items' dashes in the input; the output's `items:` list is written at the same column so
    /// that the spans fit as they are.
    pub indent: usize,
    /// One entry per item (of the input, or of an outcome's output items): its lines in `text`, or `None` when the
    /// item is written from its parsed value.
    /// An empty range stands for `None` (no item's lines are empty): 8 bytes an item, and the list that
    /// [`item_spans`] finds is kept in place. Offsets fit in 32 bits: the input is at most 64 MiB.
    pub spans: Vec<Range<u32>>,
    /// The input's directives (`%YAML 1.1`, `%TAG ...`) and the `---` that ends them, written at the start of the
    /// output: under `%YAML 1.1` a YAML 1.2 reader reads the copied `yes` as a boolean, as it read the input.
    pub prolog: Option<Range<u32>>,
}

impl Source {
    /// The text of item `index` as it came in, if it is to be copied.
    pub fn span(&self, index: usize) -> Option<&str> {
        let range = self.spans.get(index).filter(|range| !range.is_empty())?;
        Some(&self.text[range.start as usize..range.end as usize])
    }

    /// The input's directives and their `---` line, if it has any.
    pub fn prolog(&self) -> Option<&str> {
        let range = self.prolog.clone()?;
        Some(&self.text[range.start as usize..range.end as usize])
    }

    /// Keeps the spans of the items that `keep` says are kept, in place (`keep` has one entry per item).
    pub fn retain(&mut self, keep: &[bool]) {
        if !self.spans.is_empty() {
            let mut keep = keep.iter();
            self.spans.retain(|_| keep.next().copied().unwrap_or(false));
        }
    }
}

/// Why an input could not be read as a ResourceList.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("input is not valid YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
    #[error("input is empty: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1)")]
    Empty,
    #[error("input is not a YAML mapping: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1)")]
    NotAMapping,
    #[error("input has kind {found:?}: expected kind ResourceList (or List)")]
    WrongKind { found: String },
    #[error("input has apiVersion {found:?}: expected one of config.kubernetes.io/v1, v1beta1, v1alpha1")]
    WrongApiVersion { found: String },
    #[error("input field items is {found}: expected a list of objects")]
    ItemsNotAList { found: &'static str },
    #[error("input item {index} is {found}: expected an object")]
    ItemNotAMapping { index: usize, found: &'static str },
    #[error("input item {index}{item} has a mapping key that is a list or a mapping: Kubernetes objects have string keys (kustomize refuses it too)")]
    ComplexKey { index: usize, item: String },
    #[error("input is not valid YAML: {error}; in item {index}{item}")]
    YamlInItem {
        #[source]
        error: serde_norway::Error,
        index: usize,
        item: String,
    },
}

/// ` (Kind name)` of an item, for messages: what is known of it.
fn describe_item(item: &Value) -> String {
    let kind = item.get("kind").and_then(Value::as_str);
    let name = item
        .get("metadata")
        .and_then(|metadata| metadata.get("name"))
        .and_then(Value::as_str);
    kind_and_name(kind, name)
}

/// Which item a YAML error is in, from the text alone (the document did not parse): in a block-style `items:` list
/// from the error's line, in JSON from its byte offset; the item's index and ` (Kind name)` as far as its text says.
fn locate_error(input: &str, error: serde_norway::Error) -> ReadError {
    // libyaml's reader gives no place for a character YAML does not allow raw (its location is the start of the
    // input, the offset is only in the message): the first such character of the input is the one.
    let place = error
        .location()
        .filter(|location| (location.index(), location.line(), location.column()) != (0, 1, 1));
    let (line, offset) = match place {
        Some(location) => (Some(location.line()), location.index()),
        None => match input.char_indices().find(|&(_, c)| !allowed_raw(c)) {
            Some((offset, _)) => (None, offset),
            None => return ReadError::Yaml(error),
        },
    };
    let found = match item_spans(input, None) {
        Some((_, spans)) => {
            // The line, where there is one: the text parsed may have anchors and tags renamed, which moves offsets
            // within a line.
            let offset = line.map_or(offset, |line| {
                input
                    .split_inclusive('\n')
                    .take(line.saturating_sub(1))
                    .map(str::len)
                    .sum::<usize>()
            });
            locate_in_block(input, &spans, offset)
        }
        None if input.trim_start().starts_with('{') => locate_in_json(input, offset),
        None => None,
    };
    match found {
        Some((index, item)) => ReadError::YamlInItem { error, index, item },
        None => ReadError::Yaml(error),
    }
}

/// Whether YAML allows a character raw in a stream (YAML 1.2, 5.1, `c-printable`, which libyaml checks).
fn allowed_raw(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// ` (Kind name)` for messages, from what is known of an item.
fn kind_and_name(kind: Option<&str>, name: Option<&str>) -> String {
    match (kind, name) {
        (Some(kind), Some(name)) => format!(" ({} {})", abbreviate(kind), abbreviate(name)),
        (Some(kind), None) => format!(" ({})", abbreviate(kind)),
        (None, Some(name)) => format!(" ({})", abbreviate(name)),
        (None, None) => String::new(),
    }
}

/// The item of a block-style list that byte `offset` is in: its index, and `kind: X` and the first `name: Y`
/// after `metadata:` as its lines spell them.
fn locate_in_block(input: &str, spans: &[Range<u32>], offset: usize) -> Option<(usize, String)> {
    let index = spans
        .iter()
        .position(|span| (span.start as usize..span.end as usize).contains(&offset))?;
    let span = &input[spans[index].start as usize..spans[index].end as usize];
    let mut kind = None;
    let mut name = None;
    let mut in_metadata = false;
    for line in span.lines() {
        let text = line.trim_start_matches([' ', '-']).trim_end();
        if let Some(value) = text.strip_prefix("kind: ") {
            kind.get_or_insert(value.trim_matches(['"', '\'']));
        } else if text == "metadata:" {
            in_metadata = true;
        } else if let (true, Some(value)) = (in_metadata, text.strip_prefix("name: ")) {
            name.get_or_insert(value.trim_matches(['"', '\'']));
        }
    }
    Some((index, kind_and_name(kind, name)))
}

/// The item of a JSON document's root `items` array that byte `offset` is in: its index, and its kind and name when
/// the item alone reads as JSON (serde_json reads what YAML refuses in JSON: DEL, U+FFFE, surrogate pairs, a
/// duplicate key).
fn locate_in_json(input: &str, offset: usize) -> Option<(usize, String)> {
    let (index, span) = json_item_spans(input)
        .into_iter()
        .enumerate()
        .find(|(_, span)| span.start <= offset && offset <= span.end)?;
    let item: serde_json::Value = serde_json::from_str(&input[span]).unwrap_or_default();
    let kind = item.get("kind").and_then(serde_json::Value::as_str);
    let name = item
        .get("metadata")
        .and_then(|metadata| metadata.get("name"))
        .and_then(serde_json::Value::as_str);
    Some((index, kind_and_name(kind, name)))
}

/// Where each element of the `items` array of a JSON document's root object is, from its first byte to its last;
/// empty when there is no such array.
fn json_item_spans(input: &str) -> Vec<Range<usize>> {
    let bytes = input.as_bytes();
    let mut spans = Vec::new();
    // The open brackets, the last string at the root level (a key, once a `:` follows it), and whether the array
    // open at depth 2 is `items`.
    let mut depth = 0usize;
    let mut last_root_string: Option<Range<usize>> = None;
    let mut in_items = false;
    let mut item_start: Option<usize> = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_items && depth == 2 && item_start.is_none() && !b" \t\r\n,]".contains(&byte) {
            item_start = Some(index);
        }
        match byte {
            b'"' => {
                let start = index + 1;
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 {
                    last_root_string = Some(start..index.min(bytes.len()));
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 2 && byte == b'[' {
                    in_items = last_root_string.clone().is_some_and(|key| &input[key] == "items");
                }
            }
            b'}' | b']' => {
                if in_items && depth == 2 {
                    if let Some(start) = item_start.take() {
                        spans.push(start..index);
                    }
                    in_items = false;
                }
                if in_items && depth == 3 {
                    if let Some(start) = item_start.take() {
                        spans.push(start..index + 1);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            b',' if in_items && depth == 2 => {
                if let Some(start) = item_start.take() {
                    spans.push(start..index);
                }
            }
            _ => {}
        }
        index += 1;
    }
    spans
}

/// Reads a ResourceList (YAML or JSON) from text.
pub fn read(input: &str) -> Result<ResourceList, ReadError> {
    read_text(input.to_owned())
}

/// Reads a ResourceList (YAML or JSON), keeping the text for the items that are to be copied as they are.
pub fn read_text(text: String) -> Result<ResourceList, ReadError> {
    // A byte-order mark may start a YAML stream (YAML 1.2, 5.2); the spans are counted after it.
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let input = &text[start..];
    if input.trim().is_empty() {
        return Err(ReadError::Empty);
    }
    // The block-style YAML that kustomize and kpt send is read fast; anything else by serde_norway.
    let (document, fast) = match block_yaml::parse(input) {
        Some(document) => (document, true),
        None => (parse_lenient(input).map_err(|error| locate_error(input, error))?, false),
    };
    let Value::Mapping(mut root) = document else {
        return Err(if document.is_null() {
            ReadError::Empty
        } else {
            ReadError::NotAMapping
        });
    };
    let kind = root.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = root.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "ResourceList" if ACCEPTED_API_VERSIONS.contains(&api_version) => {}
        "ResourceList" => {
            return Err(ReadError::WrongApiVersion {
                found: api_version.to_owned(),
            })
        }
        // kyaml also reads a plain `kind: List` (apiVersion v1) as a ResourceList.
        "List" if api_version == "v1" => {}
        _ => {
            return Err(ReadError::WrongKind {
                found: describe_scalar(root.get("kind")),
            })
        }
    }
    let items = match root.remove("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items,
        Some(other) => {
            return Err(ReadError::ItemsNotAList {
                found: type_name(&other),
            })
        }
    };
    if let Some((index, item)) = items.iter().enumerate().find(|(_, item)| !item.is_mapping()) {
        return Err(ReadError::ItemNotAMapping {
            index,
            found: type_name(item),
        });
    }
    if let Some(index) = items.iter().position(has_complex_key) {
        return Err(ReadError::ComplexKey {
            index,
            item: describe_item(&items[index]),
        });
    }
    let mut function_config = root.remove("functionConfig").filter(|config| !config.is_null());
    // A plain `<<` key merges mappings in YAML 1.1, in go-yaml v2 and v3 (kubectl, kustomize) and in ruamel.yaml;
    // serde_norway keeps it as a key. The fast reader's subset has none, and in JSON every key is quoted.
    let json = input.trim_start().starts_with('{') && serde_json::from_str::<de::IgnoredAny>(input).is_ok();
    let merge = !fast && !json;
    let source = match item_spans(input, Some(items.len())) {
        Some((indent, mut spans)) => {
            // The items whose lines, with their aliases into other items replaced by the text of the node each
            // points at, read as the item: that text, to be copied in place of the lines.
            let mut inlined = Vec::new();
            let mut tokens = None;
            let directives = &input[..prolog(input).unwrap_or(0)];
            // 0, or 3 after a byte-order mark: always a u32.
            let shift = u32::try_from(start).unwrap_or_default();
            for (index, (span, item)) in spans.iter_mut().zip(&items).enumerate() {
                // The fast reader's subset has no aliases, tags or multi-line flow scalars: its lines are the item.
                // Anything else is copied only if its lines, read on their own, are the same item.
                let (from, to) = (span.start as usize, span.end as usize);
                if fast || reads_as(directives, &input[from..to], item) {
                    *span = span.start + shift..span.end + shift;
                    continue;
                }
                let tokens = tokens.get_or_insert_with(|| aliases(input));
                if let Some(text) = inline_aliases(input, directives, tokens, from..to, item) {
                    inlined.push((index, text));
                }
                *span = 0..0;
            }
            let prolog = prolog_span(input, start);
            let mut text = text;
            for (index, item) in inlined {
                let begin = text.len();
                if let (Ok(from), Ok(to)) = (u32::try_from(begin), u32::try_from(begin + item.len())) {
                    text.push_str(&item);
                    spans[index] = from..to;
                }
            }
            Source {
                text,
                indent,
                spans,
                prolog,
            }
        }
        None => match prolog_span(input, start) {
            Some(prolog) => Source {
                prolog: Some(prolog),
                text,
                ..Source::default()
            },
            None => Source::default(),
        },
    };
    let mut items = items;
    if merge {
        items.iter_mut().chain(function_config.as_mut()).for_each(apply_merges);
    }
    Ok(ResourceList {
        items,
        function_config,
        source,
    })
}

/// The `%YAML`/`%TAG` directives' span in the text as read (after `start`, the byte-order mark), if any.
fn prolog_span(input: &str, start: usize) -> Option<std::ops::Range<u32>> {
    let end = prolog(input)?;
    Some(u32::try_from(start).ok()?..u32::try_from(start + end).ok()?)
}

/// The end of the directives at the start of `input` (`%YAML 1.1`, `%TAG ...`, comments), after the line of the
/// `---` that ends them; `None` when there are none or that line holds more than the marker and a comment.
fn prolog(input: &str) -> Option<usize> {
    if !input.starts_with('%') {
        return None;
    }
    let mut end = 0;
    for line in input.split_inclusive('\n') {
        end += line.len();
        let text = line.trim_end_matches(['\n', '\r']);
        if let Some(rest) = text.strip_prefix("---") {
            let rest = rest.trim_start_matches([' ', '\t']);
            return (rest.is_empty() || (rest.starts_with('#') && rest.len() < text.len() - 3)).then_some(end);
        }
        if !(text.starts_with('%') || text.starts_with('#') || text.trim().is_empty()) {
            return None;
        }
    }
    None
}

/// Applies the merge keys (`<<: *base`, `<<: [*a, *b]`) of every mapping in `value` as YAML 1.1 readers do
/// (PyYAML's order): the merged entries first, the first mapping of a list winning, then the mapping's own entries,
/// which win over merged ones; a key keeps the place of its first appearance.
fn apply_merges(value: &mut Value) {
    match value {
        Value::Mapping(mapping) => {
            mapping.values_mut().for_each(apply_merges);
            if !mapping.contains_key("<<") {
                return;
            }
            let mut merged = Vec::new();
            let mut own = Vec::new();
            for (key, value) in std::mem::take(mapping) {
                match (key.as_str(), value) {
                    (Some("<<"), Value::Mapping(source)) => merged.extend(source),
                    (Some("<<"), Value::Sequence(sources))
                        if sources.iter().all(|source| matches!(source, Value::Mapping(_))) =>
                    {
                        for source in sources.into_iter().rev() {
                            if let Value::Mapping(source) = source {
                                merged.extend(source);
                            }
                        }
                    }
                    (_, value) => own.push((key, value)),
                }
            }
            *mapping = merged.into_iter().chain(own).collect();
        }
        Value::Sequence(sequence) => sequence.iter_mut().for_each(apply_merges),
        Value::Tagged(tagged) => apply_merges(&mut tagged.value),
        _ => {}
    }
}

/// Whether `span` (an item's lines, from its dash) read on its own is `item`, in the same order.
/// The input's directives (`prolog`, which declare the tag handles an item may use) come first.
fn reads_as(prolog: &str, span: &str, item: &Value) -> bool {
    // The span is written with a line break at its end: that is what must read as the item.
    let owned;
    let span = if span.ends_with('\n') && prolog.is_empty() {
        span
    } else {
        owned = format!("{prolog}{span}{}", if span.ends_with('\n') { "" } else { "\n" });
        &owned
    };
    // The fast reader first: it reads what serde_norway reads, or gives up.
    match block_yaml::parse(span).map_or_else(|| parse_lenient(span), Ok) {
        Ok(Value::Sequence(sequence)) => sequence.len() == 1 && yaml::same(&sequence[0], item),
        _ => false,
    }
}

/// An alias found in the text: where its `*` is, the length of its name, and the anchor it names (the latest of
/// that name before it): where its `&` is and where its name ends.
struct Alias {
    at: usize,
    name: usize,
    anchor: Option<(usize, usize)>,
}

/// Every alias of `input`, in order, with its anchor, found by a scan of the text (`&` or `*` at the start of a
/// token, outside comments and quoted scalars; one inside a plain or block scalar is found too, which the caller's
/// check that the result reads as the item catches).
fn aliases(input: &str) -> Vec<Alias> {
    let mut latest: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut aliases = Vec::new();
    for (at, end) in anchors_and_aliases(input) {
        let name = &input[at + 1..end];
        if input.as_bytes()[at] == b'&' {
            latest.insert(name, (at, end));
        } else {
            aliases.push(Alias {
                at,
                name: name.len(),
                anchor: latest.get(name).copied(),
            });
        }
    }
    aliases
}

/// Each anchor (`&name`) and alias (`*name`) of YAML text in order, as (where its `&` or `*` is, where its name
/// ends): at the start of a token, outside comments and quoted scalars.
fn anchors_and_aliases(input: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = input.as_bytes();
    let mut index = 0;
    std::iter::from_fn(move || {
        while index < bytes.len() {
            if let Some(next) = skip_comment_or_quoted(input, index) {
                index = next;
            } else if matches!(bytes[index], b'&' | b'*') && token_start(bytes, index) {
                let at = index;
                index = anchor_name_end(bytes, at + 1);
                return Some((at, index));
            } else {
                index += 1;
            }
        }
        None
    })
}

/// Whether a token may start at `index` of YAML text: at its start, or after a space, a line break or a flow
/// indicator.
pub(crate) fn token_start(bytes: &[u8], index: usize) -> bool {
    index == 0 || b" \t\r\n[{,".contains(&bytes[index - 1])
}

/// Where a scan of YAML text for anchors, aliases or tags goes on when a comment or a quoted scalar starts at
/// `index` (the end of the comment's line, or after the closing quote), so nothing inside them is taken for one.
pub(crate) fn skip_comment_or_quoted(input: &str, index: usize) -> Option<usize> {
    let bytes = input.as_bytes();
    if !token_start(bytes, index) {
        return None;
    }
    match bytes[index] {
        b'#' => Some(
            bytes[index..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| index + n),
        ),
        b'"' | b'\'' => Some(quoted_end(input, index)),
        _ => None,
    }
}

/// The end of the anchor or alias name that starts at `start`: libyaml's names are ASCII letters, digits, `_`
/// and `-`.
fn anchor_name_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .map_or(bytes.len(), |length| start + length)
}

/// The end (after the closing quote) of the quoted scalar that starts at `start`, or the end of the text.
fn quoted_end(input: &str, start: usize) -> usize {
    block_yaml::quoted_end(&input[start..]).map_or(input.len(), |length| start + length)
}

/// The item's lines (`span` of `input`) with every alias into another item replaced by the text of the node its
/// anchor names, if the result reads as `item`: each YAML reader then reads that text as it read the node, where
/// writing the item from its value would give the plain `0644` or `yes` of the node one reading only. `None` when an
/// anchor is on a block collection or block scalar, or the text does not read as the item.
fn inline_aliases(
    input: &str,
    directives: &str,
    aliases: &[Alias],
    span: Range<usize>,
    item: &Value,
) -> Option<String> {
    let first = aliases.partition_point(|alias| alias.at < span.start);
    let inside = &aliases[first..first + aliases[first..].partition_point(|alias| alias.at < span.end)];
    if inside.is_empty() {
        return None;
    }
    // For each alias, the texts its node may be (a plain scalar ends at the end of the line, or in a flow
    // collection at `,`, `]` or `}`): each choice is tried, the first that reads as the item kept.
    for flow in [false, true] {
        let mut out = String::with_capacity(span.len() + 64);
        let mut copied = span.start;
        for alias in inside {
            let (anchor, name_end) = alias.anchor?;
            if span.contains(&anchor) {
                continue;
            }
            out.push_str(&input[copied..alias.at]);
            out.push_str(node_text(input, name_end, flow)?);
            copied = alias.at + 1 + alias.name;
        }
        out.push_str(&input[copied..span.end]);
        if reads_as(directives, &out, item) {
            return Some(out);
        }
    }
    None
}

/// The text of the node that starts after an anchor's name (at `start`): a flow collection or quoted scalar to its
/// end, a plain scalar to the end of its line (or, `flow`, to the first `,`, `]` or `}`), its tag before it. `None`
/// for a block collection or block scalar.
fn node_text(input: &str, start: usize, flow: bool) -> Option<&str> {
    let bytes = input.as_bytes();
    let mut begin = start;
    while bytes.get(begin).is_some_and(|&b| b == b' ' || b == b'\t') {
        begin += 1;
    }
    let mut index = begin;
    // A tag, then the node.
    if bytes.get(index) == Some(&b'!') {
        while bytes.get(index).is_some_and(|&b| !b" \t\r\n".contains(&b)) {
            index += 1;
        }
        while bytes.get(index).is_some_and(|&b| b == b' ' || b == b'\t') {
            index += 1;
        }
    }
    let end = match bytes.get(index)? {
        b'\r' | b'\n' | b'#' | b'|' | b'>' | b'*' | b'&' => return None,
        b'"' | b'\'' => quoted_end(input, index),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = index;
            loop {
                match bytes.get(at)? {
                    b'"' | b'\'' if b" \t\r\n[{,:".contains(&bytes[at - 1]) => {
                        at = quoted_end(input, at);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            break at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        _ => {
            let line_end = bytes[index..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map_or(bytes.len(), |n| index + n);
            let mut end = input[index..line_end].find(" #").map_or(line_end, |n| index + n);
            if flow {
                end = input[index..end].find([',', ']', '}']).map_or(end, |n| index + n);
            }
            index + input[index..end].trim_end().len()
        }
    };
    Some(&input[begin..end])
}

/// Where each item of the root `items:` list is in `input`: from the line of its dash to the line before the next
/// dash at the same column, or before the first line that ends the list. `None` when the list is not in block style
/// at the root (a flow list, JSON) or the lines found are not one per item (of `count`, when it is known).
fn item_spans(input: &str, count: Option<usize>) -> Option<(usize, Vec<Range<u32>>)> {
    if count == Some(0) {
        return None;
    }
    let mut offset = 0;
    let mut lines = input.split_inclusive('\n').map(|line| {
        let start = offset;
        offset += line.len();
        (start, line)
    });
    // The `items:` key at the root, with nothing after it but a comment.
    lines.by_ref().find(|(_, line)| {
        line.strip_prefix("items:").is_some_and(|rest| {
            let rest = rest.trim_start_matches([' ', '\t']).trim_end_matches(['\n', '\r']);
            rest.is_empty() || (rest.starts_with('#') && !line[6..].starts_with('#'))
        })
    })?;
    let mut indent = None;
    // Offsets fit in u32: the input is at most 64 MiB (the CLI's limit); a longer one has no spans.
    let length = u32::try_from(input.len() + 4).ok()?;
    // Every offset is at most the input's length, which fits.
    let offset32 = |offset: usize| u32::try_from(offset).unwrap_or(length);
    let mut spans: Vec<Range<u32>> = Vec::with_capacity(count.unwrap_or(0));
    let mut end = input.len();
    for (start, line) in lines {
        let text = line.trim_end_matches(['\n', '\r']);
        let content = text.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let column = text.len() - content.len();
        let dash = content == "-" || content.starts_with("- ");
        let indent = *indent.get_or_insert(column);
        if column < indent || (column == indent && !dash) || spans.is_empty() && !dash {
            end = start;
            break;
        }
        if column == indent && dash {
            if let Some(last) = spans.last_mut() {
                last.end = offset32(start);
            }
            spans.push(offset32(start)..offset32(input.len()));
        }
    }
    if let Some(last) = spans.last_mut() {
        last.end = offset32(end);
    }
    count
        .is_none_or(|count| spans.len() == count)
        .then_some((indent?, spans))
}

/// serde_norway's reading, but an integer beyond 64 bits (which serde_norway's `Value` cannot hold) is kept as its
/// digits (see [`yaml::BIG_INTEGER_TAG`]) rather than refused: kustomize accepts it. A scalar tagged `!!int`,
/// `!!float` or `!!null` is read as kustomize's go-yaml reads it (see [`core_tags`]). And an anchor name used twice
/// is read as YAML says (an alias refers to the latest anchor of its name): serde_norway 0.9.42 numbers anchors by
/// the count of distinct names, so after a reused name two anchors share a number and aliases point at the wrong
/// node. The anchors are renamed apart before parsing (see [`rename_reused_anchors`]).
fn parse_lenient(input: &str) -> Result<Value, serde_norway::Error> {
    let parse = |text: &str, core: bool| {
        CORE_TAGS_RENAMED.with(|renamed| renamed.set(core));
        let value = Lenient::deserialize(serde_norway::Deserializer::from_str(text)).map(|lenient| lenient.0);
        CORE_TAGS_RENAMED.with(|renamed| renamed.set(false));
        value
    };
    let tags = core_tags::rename(input);
    let core = tags.is_some();
    let base = tags.as_deref().unwrap_or(input);
    let anchors = rename_reused_anchors(base);
    let clean = |value: &Value| !mentions(value, ANCHOR_MARK) && !mentions(value, core_tags::MARK);
    // The renamed text first; where a renaming shows in a string (a `&name` or `!!int` the scans took for an anchor
    // or a tag was text inside a scalar), the text with fewer renamings: the original reading, wrong only where
    // aliases follow a reused name or a core tag serde_norway refuses. A text's refusal with its core tags renamed
    // is kustomize's, and final.
    if let Some(Ok(value)) = anchors.as_deref().map(|text| parse(text, core)) {
        if clean(&value) {
            return Ok(value);
        }
    }
    match parse(base, core) {
        Ok(value) if core && !clean(&value) => parse(input, false),
        result => result,
    }
}

thread_local! {
    /// Whether the text being parsed has its core tags renamed by [`core_tags::rename`]: only then is a local tag
    /// named like the renamed ones read as a core tag.
    static CORE_TAGS_RENAMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What [`rename_reused_anchors`] appends to an anchor name, with a number: no name in real input has it.
const ANCHOR_MARK: &str = "-ignition-krm-anchor-";

/// Whether a string or key anywhere in `value` contains `text`.
fn mentions(value: &Value, text: &str) -> bool {
    match value {
        Value::String(string) => string.contains(text),
        Value::Sequence(sequence) => sequence.iter().any(|value| mentions(value, text)),
        Value::Mapping(mapping) => mapping.iter().any(|(k, v)| mentions(k, text) || mentions(v, text)),
        Value::Tagged(tagged) => mentions(&tagged.value, text),
        _ => false,
    }
}

/// `input` with every anchor made unique (`&a` … `&a` becomes `&a-…-1` … `&a-…-2`) and every alias pointing at
/// the latest anchor of its name before it, or `None` when no anchor name is used twice. Anchors and aliases are
/// found by a scan of the text (`&` or `*` at the start of a token): one inside a scalar is renamed too, which
/// [`parse_lenient`] notices.
fn rename_reused_anchors(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let anchors: Vec<(usize, usize)> = input
        .match_indices('&')
        .filter(|&(index, _)| token_start(bytes, index))
        .map(|(index, _)| (index + 1, anchor_name_end(bytes, index + 1)))
        .collect();
    let mut names: Vec<&str> = anchors.iter().map(|&(start, end)| &input[start..end]).collect();
    names.sort_unstable();
    if names.windows(2).all(|pair| pair[0] != pair[1]) {
        return None;
    }
    let mut out = String::with_capacity(input.len() + 64);
    let mut latest: BTreeMap<&str, usize> = BTreeMap::new();
    let mut copied = 0;
    let mut count = 0;
    for (at, end) in anchors_and_aliases(input) {
        let name = &input[at + 1..end];
        let number = if bytes[at] == b'&' {
            count += 1;
            latest.insert(name, count);
            Some(count)
        } else {
            latest.get(name).copied()
        };
        if let (Some(number), false) = (number, name.is_empty()) {
            out.push_str(&input[copied..end]);
            out.push_str(ANCHOR_MARK);
            out.push_str(&number.to_string());
            copied = end;
        }
    }
    out.push_str(&input[copied..]);
    Some(out)
}

/// A `Value` read as serde_norway reads it, but for integers beyond 64 bits.
struct Lenient(Value);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor).map(Lenient)
    }
}

struct LenientVisitor;

fn big_integer(digits: String) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(yaml::BIG_INTEGER_TAG),
        value: Value::String(digits),
    }))
}

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(u.into()))
    }
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Value, E> {
        Ok(i64::try_from(i).map_or_else(|_| big_integer(i.to_string()), Value::from))
    }
    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Value, E> {
        Ok(u64::try_from(u).map_or_else(|_| big_integer(u.to_string()), Value::from))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Number(f.into()))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Lenient::deserialize(deserializer).map(|lenient| lenient.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut data: A) -> Result<Value, A::Error> {
        let mut sequence = Vec::with_capacity(data.size_hint().unwrap_or(0));
        while let Some(Lenient(value)) = data.next_element()? {
            sequence.push(value);
        }
        Ok(Value::Sequence(sequence))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut data: A) -> Result<Value, A::Error> {
        let mut mapping = Mapping::with_capacity(data.size_hint().unwrap_or(0));
        while let Some(Lenient(key)) = data.next_key()? {
            if mapping.contains_key(&key) {
                // serde_norway's own message for a duplicate key.
                return Err(de::Error::custom(match &key {
                    Value::Null => "duplicate entry with null key".to_owned(),
                    Value::Bool(boolean) => format!("duplicate entry with key `{boolean}`"),
                    Value::Number(number) => format!("duplicate entry with key {number}"),
                    Value::String(string) => format!("duplicate entry with key {string:?}"),
                    _ => "duplicate entry in YAML map".to_owned(),
                }));
            }
            let Lenient(value) = data.next_value()?;
            mapping.insert(key, value);
        }
        Ok(Value::Mapping(mapping))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, contents): (String, _) = data.variant()?;
        if let Some(core) = tag
            .strip_prefix(core_tags::TAG_PREFIX)
            .filter(|_| CORE_TAGS_RENAMED.with(std::cell::Cell::get))
        {
            let Lenient(value) = contents.newtype_variant()?;
            return core_tags::resolve(core, value).map_err(de::Error::custom);
        }
        if tag.is_empty() {
            return Err(de::Error::custom("empty YAML tag is not allowed"));
        }
        let Lenient(value) = contents.newtype_variant()?;
        Ok(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(tag),
            value,
        })))
    }
}

/// Whether a mapping anywhere in `value` has a list or a mapping as a key (YAML allows it; no
/// Kubernetes object has one, and the output could not keep it).
fn has_complex_key(value: &Value) -> bool {
    match value {
        Value::Mapping(mapping) => mapping.iter().any(|(key, child)| {
            matches!(key, Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_)) || has_complex_key(child)
        }),
        Value::Sequence(sequence) => sequence.iter().any(has_complex_key),
        Value::Tagged(tagged) => has_complex_key(&tagged.value),
        _ => false,
    }
}

/// How bad a result is. Always written out: a missing severity means error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// The object a result is about: its identity, written as `resourceRef`.
pub use crate::object_id::ObjectId as ResourceRef;

/// The field a result is about: an object, not a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_value: Option<String>,
}

/// The file a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct File {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// One entry of `results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KrmResult {
    pub message: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_ref: Option<ResourceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl KrmResult {
    pub fn error(message: impl Into<String>) -> Self {
        KrmResult {
            message: abbreviate(&message.into()),
            severity: Severity::Error,
            resource_ref: None,
            field: None,
            file: None,
            tags: BTreeMap::new(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Writes an output ResourceList: `items` always present, `results` when there are any.
pub fn write(items: &[Value], results: &[KrmResult]) -> String {
    let mut out = format!("apiVersion: {OUTPUT_API_VERSION}\nkind: ResourceList\n");
    if items.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
        yaml::write_sequence(&mut out, items, 0, false);
    }
    if !results.is_empty() {
        let results = serde_norway::to_value(results)
            .unwrap_or_else(|error| unreachable!("results are strings and maps: {error}"));
        out.push_str("results:\n");
        if let Value::Sequence(results) = results {
            yaml::write_sequence(&mut out, &results, 0, false);
        }
    }
    out
}

/// Writes an output ResourceList like [`write`], but copying every item that has a span in `source` as it came in.
pub fn write_with_source(items: &[Value], source: &Source, results: &[KrmResult]) -> String {
    let mut out = Vec::new();
    write_with_source_to::<Value>(&mut out, items, &[], source, results)
        .unwrap_or_else(|error| unreachable!("writing to memory cannot fail: {error}"));
    String::from_utf8(out).unwrap_or_else(|error| unreachable!("spans are whole lines of UTF-8 text: {error}"))
}

/// [`write_with_source`] to a stream, with the `generated` objects after the items, in chunks of about 64 KiB: the
/// copied items never need a second copy of the whole output in memory, and the generated ones are serialized
/// straight into the chunk (`yaml::serializer`), with no YAML value built.
pub fn write_with_source_to<T: Serialize>(
    out: &mut impl io::Write,
    items: &[Value],
    generated: &[T],
    source: &Source,
    results: &[KrmResult],
) -> io::Result<()> {
    let mut output = Chunked::new(out);
    if let Some(prolog) = source.prolog() {
        output.text.push_str(&prolog.replace("\r\n", "\n"));
    }
    output
        .text
        .push_str(&format!("apiVersion: {OUTPUT_API_VERSION}\nkind: ResourceList\n"));
    if items.is_empty() && generated.is_empty() {
        output.text.push_str("items: []\n");
    } else {
        output.text.push_str("items:\n");
        for (index, item) in items.iter().enumerate() {
            match source.span(index) {
                // CRLF line ends become LF, as in the rest of the output: YAML reads either as the same line break.
                Some(span) if span.contains('\r') => output.text.push_str(&span.replace("\r\n", "\n")),
                Some(span) => output.text.push_str(span),
                None => yaml::write_sequence(&mut output.text, std::slice::from_ref(item), source.indent, false),
            }
            if !output.text.ends_with('\n') {
                output.text.push('\n');
            }
            output.written_one()?;
        }
        for object in generated {
            yaml::serializer::write_item(&mut output.text, object, source.indent).map_err(io::Error::other)?;
            output.written_one()?;
        }
    }
    if !results.is_empty() {
        let results = serde_norway::to_value(results)
            .unwrap_or_else(|error| unreachable!("results are strings and maps: {error}"));
        output.text.push_str("results:\n");
        if let Value::Sequence(results) = results {
            yaml::write_sequence(&mut output.text, &results, 0, false);
        }
    }
    output.finish()
}

/// Output gathered in a buffer of 64 KiB and written out once it is half full, so that the next item (a script
/// ConfigMap is 20 KiB) fits without the buffer growing: a grown buffer is fresh memory, and on this kind of
/// machine every fresh page costs a page fault (issue 15).
pub struct Chunked<'w, W: io::Write> {
    out: &'w mut W,
    pub text: String,
}

impl<'w, W: io::Write> Chunked<'w, W> {
    const CAPACITY: usize = 1 << 16;

    pub fn new(out: &'w mut W) -> Self {
        Chunked {
            out,
            text: String::with_capacity(Self::CAPACITY),
        }
    }

    /// Call after each item: writes the buffer out once it is half full.
    pub fn written_one(&mut self) -> io::Result<()> {
        if self.text.len() >= Self::CAPACITY / 2 {
            self.out.write_all(self.text.as_bytes())?;
            self.text.clear();
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<()> {
        self.out.write_all(self.text.as_bytes())
    }
}

/// Writes objects as a plain multi-document YAML stream, the form `kubectl apply` and Argo CD read.
pub fn write_documents(items: &[Value]) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str("---\n");
        yaml::write_document(&mut out, item);
    }
    out
}

/// Returns an item's annotations, if it has any.
pub fn annotations(item: &Value) -> Option<&Mapping> {
    item.get("metadata")?.get("annotations")?.as_mapping()
}

/// Returns one annotation of an item.
pub fn annotation<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    annotations(item)?.get(key)?.as_str()
}

/// Removes the orchestrator's bookkeeping annotations, for output that leaves the KRM pipeline.
pub fn strip_orchestrator_annotations(item: &mut Value) {
    let Some(metadata) = item.get_mut("metadata").and_then(Value::as_mapping_mut) else {
        return;
    };
    let Some(Value::Mapping(annotations)) = metadata.get_mut("annotations") else {
        return;
    };
    annotations.retain(|key, _| !is_orchestrator_annotation(key.as_str().unwrap_or_default()));
    if annotations.is_empty() {
        metadata.remove("annotations");
    }
}

/// Whether an annotation is the orchestrator's bookkeeping (kpt's and kustomize's path and index), which output
/// that leaves the KRM pipeline does not carry.
pub fn is_orchestrator_annotation(key: &str) -> bool {
    key.starts_with(INTERNAL_ANNOTATION_PREFIX) || key == LEGACY_PATH_ANNOTATION || key == LEGACY_INDEX_ANNOTATION
}

/// The longest text a message carries from the input; a 10 MB name must not become a 10 MB line.
pub const MAX_ECHO_CHARS: usize = 300;

/// Shortens text longer than [`MAX_ECHO_CHARS`] to its start and end, saying how much was left out.
pub fn abbreviate(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_ECHO_CHARS {
        return text.to_owned();
    }
    let (head, tail) = (MAX_ECHO_CHARS * 2 / 3, MAX_ECHO_CHARS / 3);
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start} [... {} characters left out ...] {end}", count - head - tail)
}

/// A short name for the type of a YAML value, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn describe_scalar(value: Option<&Value>) -> String {
    match value {
        None => "<missing>".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => type_name(other).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<Option<String>> {
        let list = read(text).unwrap();
        (0..list.items.len())
            .map(|index| list.source.span(index).map(str::to_owned))
            .collect()
    }

    #[test]
    fn block_items_keep_their_lines_and_others_do_not() {
        let head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";
        // Block style at either indentation, comments between items going with the item before.
        let text =
            format!("{head}items:  # list\n  - a: 1 # one\n    b: [x]\n  # between\n  - c: d\nfunctionConfig: {{}}\n");
        assert_eq!(
            spans(&text),
            [
                Some("  - a: 1 # one\n    b: [x]\n  # between\n".to_owned()),
                Some("  - c: d\n".to_owned())
            ]
        );
        // A flow list or JSON has no lines to copy.
        assert_eq!(spans(&format!("{head}items: [{{a: 1}}]\n")), [None]);
        assert_eq!(
            spans(r#"{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"a": 1}]}"#),
            [None]
        );
        // An alias into another item is replaced by the node's text; an anchor used again inside one item is kept.
        let text = format!("{head}items:\n- a: &x 1\n- b: *x\n- c: &x 2\n  d: *x\n");
        let list = read(&text).unwrap();
        assert_eq!(list.items[1]["b"], Value::from(1));
        assert_eq!(list.items[2]["d"], Value::from(2));
        assert_eq!(
            spans(&text),
            [
                Some("- a: &x 1\n".to_owned()),
                Some("- b: 1\n".to_owned()),
                Some("- c: &x 2\n  d: *x\n".to_owned())
            ]
        );
        // An alias to a block collection of another item: written from its value.
        assert_eq!(
            spans(&format!("{head}items:\n- a: &x\n    k: v\n- b: *x\n")),
            [Some("- a: &x\n    k: v\n".to_owned()), None]
        );
        // An alias to a plain scalar inside a flow mapping: the scalar ends at `,`.
        assert_eq!(
            spans(&format!("{head}items:\n- a: {{x: &x 0644, y: 2}}\n- b: [*x, *x]\n"))[1].as_deref(),
            Some("- b: [0644, 0644]\n")
        );
        // A span without its final line break would read differently once written with one.
        let text = format!("{head}items:\n- a: |\n    x");
        assert_eq!(spans(&text), [None]);
    }

    #[test]
    fn directives_are_kept_at_the_start_of_the_output() {
        let text = "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n--- # list\nkind: ResourceList\napiVersion: config.kubernetes.io/v1\nitems:\n- a: !e!x yes\n";
        let list = read(text).unwrap();
        let out = write_with_source(&list.items, &list.source, &[]);
        assert!(
            out.starts_with(
                "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n--- # list\napiVersion: config.kubernetes.io/v1\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("items:\n- a: !e!x yes\n"), "{out}");
        // Without directives, or with content on the `---` line, nothing is written before the list.
        assert_eq!(prolog("kind: ResourceList\n"), None);
        assert_eq!(prolog("%YAML 1.1\n--- {kind: ResourceList}\n"), None);
    }

    #[test]
    fn json_errors_name_the_item_they_are_in() {
        let text = r#"{"kind": "ResourceList", "items": [{"kind": "A", "metadata": {"name": "a"}}, 7, {"kind": "B", "metadata": {"name": "b"}, "x": [1, {"y": 2}]}], "z": [3]}"#;
        let spans: Vec<&str> = json_item_spans(text).into_iter().map(|span| &text[span]).collect();
        assert_eq!(
            spans,
            [
                r#"{"kind": "A", "metadata": {"name": "a"}}"#,
                "7",
                r#"{"kind": "B", "metadata": {"name": "b"}, "x": [1, {"y": 2}]}"#
            ]
        );
        let inside_b = text.find(r#""y""#).unwrap();
        assert_eq!(locate_in_json(text, inside_b), Some((2, " (B b)".to_owned())));
        assert_eq!(locate_in_json(text, text.find("\"z\"").unwrap()), None);
    }

    #[test]
    fn reused_anchor_names_resolve_to_the_latest_anchor() {
        // serde_norway 0.9.42 alone resolves `*a` below to the mapping anchored as `m`.
        let text = "items:\n- {a: &a 1, b: *a}\n- {c: &a 2, d: *a, m: &m {p: 1}, e: *a, s: \"&a *a\", t: 'it''s &a'}\n";
        let value = parse_lenient(text).unwrap();
        let second = &value["items"][1];
        assert_eq!((&second["d"], &second["e"]), (&Value::from(2), &Value::from(2)));
        assert_eq!(second["s"], Value::from("&a *a"));
        assert_eq!(second["t"], Value::from("it's &a"));
    }

    #[test]
    fn merge_keys_follow_yaml_1_1_order() {
        let mut value: Value = serde_norway::from_str("{<<: [{x: 1, y: 1}, {x: 2, z: 2}], y: 3, w: 4}").unwrap();
        apply_merges(&mut value);
        // PyYAML's order: the later mapping of the list first, the first one winning; own keys win over merged ones.
        assert_eq!(yaml::to_string(&value), "x: 1\nz: 2\n\"y\": 3\nw: 4\n");
    }

    #[test]
    fn long_echoes_are_abbreviated_and_short_ones_kept() {
        assert_eq!(abbreviate("plant-a"), "plant-a");
        let long = format!("{}{}", "a".repeat(10_000), "é-end");
        let short = abbreviate(&long);
        assert!(short.chars().count() < MAX_ECHO_CHARS + 60, "{short}");
        assert!(short.starts_with("aaaa") && short.ends_with("é-end"), "{short}");
        assert!(short.contains("[... 9705 characters left out ...]"), "{short}");
    }
}
