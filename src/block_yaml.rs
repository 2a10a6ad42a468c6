//! A fast reader for the plain block-style YAML that kustomize and kpt send to functions.
//!
//! serde_norway (a port of libyaml) spends about 400 instructions a byte: on a ResourceList of 10,000 items that
//! is most of the function's time. kustomize re-serializes every item with kyaml, so what it sends is a narrow
//! subset of YAML: block mappings and sequences, plain and quoted one-line scalars, literal blocks. Spec files
//! written by hand add comments after values and one-line flow collections (`{cpu: "2", memory: 4Gi}`), which it
//! reads too. This module
//! reads that subset straight into `serde_norway::Value`. It gives up (returns `None`) on anything else, and on
//! anything it is not sure to read exactly as serde_norway would: the caller then parses the whole document with
//! serde_norway, so the result, errors included, is always the same as serde_norway's.

use serde_norway::{Mapping, Value};

use crate::yaml::{has_pair, pair_position};

/// Deeper documents go to serde_norway, whose own recursion limit then decides.
const MAX_DEPTH: usize = 100;

/// Reads one block-style YAML document, or `None` if it is not in the subset this reader knows.
pub fn parse(input: &str) -> Option<Value> {
    // Only printable ASCII and newlines, ending with a newline: no tabs, carriage returns, byte-order marks or
    // characters libyaml refuses, and every literal block ends with its line break.
    if !input.ends_with('\n') || !input.bytes().all(|b| b == b'\n' || (b' '..=b'~').contains(&b)) {
        return None;
    }
    // Document markers (`---` and `...` at the start of a line) are for serde_norway: libyaml reads
    // `--- key: value` as an error, not as a key (found by cargo fuzz).
    let marker = |marker: &str| input.starts_with(marker) || input.contains(&format!("\n{marker}"));
    if marker("---") || marker("...") {
        return None;
    }
    let mut reader = Reader {
        rest: input,
        current: None,
    };
    reader.advance();
    let first = reader.peek()?;
    if first.indent != 0 {
        return None;
    }
    let root = if is_dash(first.text) {
        reader.sequence(0, 0)?
    } else {
        reader.mapping(0, 0)?
    };
    // Anything left over (a second document, a stray line) is for serde_norway to judge.
    if reader.peek().is_some() {
        return None;
    }
    Some(root)
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The line without its indentation and trailing spaces.
    text: &'a str,
    raw: &'a str,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Self {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        Line {
            indent,
            text: raw[indent..].trim_end_matches(' '),
            raw,
        }
    }
}

/// Reads line by line, one line ahead, without a list of all lines (that would be megabytes more to touch).
struct Reader<'a> {
    rest: &'a str,
    current: Option<Line<'a>>,
}

impl<'a> Reader<'a> {
    /// Moves to the next line.
    fn advance(&mut self) {
        self.current = self.rest.split_once('\n').map(|(raw, rest)| {
            self.rest = rest;
            Line::new(raw)
        });
    }

    /// The next line with content, skipping blank lines and whole-line comments.
    fn peek(&mut self) -> Option<Line<'a>> {
        while let Some(line) = self.current {
            if line.text.is_empty() || line.text.starts_with('#') {
                self.advance();
            } else {
                return Some(line);
            }
        }
        None
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        // Entries first, then a mapping of the exact size: growing one entry by entry costs a third more memory.
        let mut entries = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_dash(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.advance();
            let rest = without_comment(rest)?;
            let value = if rest.is_empty() {
                self.nested(indent, depth + 1, true)?
            } else {
                self.scalar(rest, indent)?
            };
            entries.push((key, value));
        }
        let mut mapping = Mapping::with_capacity(entries.len());
        for (key, value) in entries {
            if mapping.insert(key, value).is_some() {
                // A duplicate key: serde_norway's message is the one to give.
                return None;
            }
        }
        Some(Value::Mapping(mapping))
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut sequence = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !is_dash(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let after_dash = &line.text[1..];
            let rest = after_dash.trim_start_matches(' ');
            if rest.is_empty() {
                self.advance();
                sequence.push(self.nested(indent, depth + 1, false)?);
            } else if is_dash(rest) || rest.starts_with('#') {
                return None;
            } else if split_key(rest).is_some() {
                // A compact mapping: `- key: value`, its keys aligned after the dash.
                let column = indent + 1 + (after_dash.len() - rest.len());
                self.current = Some(Line {
                    indent: column,
                    text: rest,
                    raw: line.raw,
                });
                sequence.push(self.mapping(column, depth + 1)?);
            } else {
                self.advance();
                sequence.push(self.scalar(without_comment(rest)?, indent)?);
            }
        }
        Some(Value::Sequence(sequence))
    }

    /// The value after `key:` or `-` with nothing else on the line: a block below, or null. Only after
    /// a key may a sequence start at the same column (`after_key`); after a dash, a dash at the same
    /// column is the next item (found by cargo fuzz: `-\n-\n` read as one nested item).
    fn nested(&mut self, indent: usize, depth: usize, after_key: bool) -> Option<Value> {
        match self.peek() {
            Some(line) if line.indent > indent => {
                if is_dash(line.text) {
                    self.sequence(line.indent, depth)
                } else {
                    self.mapping(line.indent, depth)
                }
            }
            // kyaml's compact style: a sequence under a key at the key's own column.
            Some(line) if after_key && line.indent == indent && is_dash(line.text) => self.sequence(indent, depth),
            _ => Some(Value::Null),
        }
    }

    /// A value on the same line as its key or dash; `parent` is the column of that key or dash.
    fn scalar(&mut self, text: &str, parent: usize) -> Option<Value> {
        match text {
            "[]" => Some(Value::Sequence(Vec::new())),
            "{}" => Some(Value::Mapping(Mapping::new())),
            "|" => self.literal_block(parent, true),
            "|-" => self.literal_block(parent, false),
            _ => match text.as_bytes()[0] {
                b'\'' => single_quoted(text).map(Value::String),
                b'"' => double_quoted(text).map(Value::String),
                b'[' | b'{' => match flow(text)? {
                    (value, rest) if is_blank_or_comment(rest) => Some(value),
                    _ => None,
                },
                _ => plain(text),
            },
        }
    }

    /// The lines of a `|` or `|-` block below the current line, indented deeper than `parent`.
    fn literal_block(&mut self, parent: usize, keep_last_newline: bool) -> Option<Value> {
        let first = self.current?;
        // An empty block or leading empty lines: rare, and subtle; left to serde_norway.
        if first.text.is_empty() || first.indent <= parent {
            return None;
        }
        let indent = first.indent;
        let mut content: Vec<&str> = Vec::new();
        while let Some(line) = self.current {
            if line.text.is_empty() {
                // Spaces beyond the block's indentation would be content.
                if line.raw.len() > indent {
                    return None;
                }
                content.push("");
            } else if line.indent < indent {
                // A comment or a line between the parent and the block: left to serde_norway.
                if line.indent > parent || line.text.starts_with('#') {
                    return None;
                }
                break;
            } else {
                content.push(&line.raw[indent..]);
            }
            self.advance();
        }
        while content.last() == Some(&"") {
            content.pop();
        }
        let mut text = content.join("\n");
        if keep_last_newline {
            text.push('\n');
        }
        Some(Value::String(text))
    }
}

/// The value of a line without the comment after it. A comment starts with `#` after a space; the caller has
/// taken the spaces before the value, so a value that starts with `#` is all comment. A flow collection is
/// returned whole: [`flow`] finds where it ends. `None` for what is left to serde_norway.
fn without_comment(text: &str) -> Option<&str> {
    if text.starts_with('#') {
        return Some("");
    }
    if !text.contains('#') {
        return Some(text);
    }
    match text.as_bytes()[0] {
        b'\'' | b'"' => {
            let end = quoted_end(text)?;
            is_blank_or_comment(&text[end..]).then(|| &text[..end])
        }
        b'[' | b'{' => Some(text),
        _ => Some(match pair_position(text, b' ', b'#') {
            Some(space) => text[..space].trim_end_matches(' '),
            None => text,
        }),
    }
}

/// Whether what follows a value on its line is nothing, or spaces and a comment.
fn is_blank_or_comment(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

/// A flow collection on one line whose entries are scalars (`[a, "b"]`, `{cpu: "2", memory: 4Gi}`), and the text
/// after it. Nested collections, empty entries, a trailing comma, `:` in a plain value, and anything else
/// unusual are left to serde_norway.
fn flow(text: &str) -> Option<(Value, &str)> {
    let is_mapping = text.starts_with('{');
    let close = if is_mapping { b'}' } else { b']' };
    let mut rest = text[1..].trim_start_matches(' ');
    let mut items = Vec::new();
    let mut entries = Vec::new();
    if rest.as_bytes().first() == Some(&close) {
        rest = &rest[1..];
    } else {
        loop {
            if is_mapping {
                let (key, after) = flow_scalar(rest)?;
                // `key: value`: the space keeps `a:b` one scalar, which is serde_norway's to read.
                rest = after.strip_prefix(": ")?.trim_start_matches(' ');
                let (value, after) = flow_scalar(rest)?;
                entries.push((key, value));
                rest = after;
            } else {
                let (item, after) = flow_scalar(rest)?;
                items.push(item);
                rest = after;
            }
            rest = rest.trim_start_matches(' ');
            match rest.as_bytes().first() {
                Some(b',') => rest = rest[1..].trim_start_matches(' '),
                Some(&byte) if byte == close => {
                    rest = &rest[1..];
                    break;
                }
                _ => return None,
            }
        }
    }
    if !is_mapping {
        return Some((Value::Sequence(items), rest));
    }
    let mut mapping = Mapping::with_capacity(entries.len());
    for (key, value) in entries {
        if mapping.insert(key, value).is_some() {
            return None;
        }
    }
    Some((Value::Mapping(mapping), rest))
}

/// One scalar in a flow collection, quoted or plain, and the text after it. A plain one ends at `,`, `:`, `]` or
/// `}`, and may hold none of the flow indicators.
fn flow_scalar(text: &str) -> Option<(Value, &str)> {
    match *text.as_bytes().first()? {
        b'\'' | b'"' => leading_quoted(text).map(|(value, rest)| (Value::String(value), rest)),
        _ => {
            let end = text.find([',', ':', ']', '}']).unwrap_or(text.len());
            let scalar = text[..end].trim_end_matches(' ');
            if scalar.contains(['[', '{', '#']) {
                return None;
            }
            Some((plain(scalar)?, &text[end..]))
        }
    }
}

fn is_dash(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: rest` (or `key:`) into the key and what follows it; `None` if the text is not a mapping
/// entry this reader knows.
fn split_key(text: &str) -> Option<(Value, &str)> {
    let (key, after) = match text.as_bytes()[0] {
        b'\'' | b'"' => {
            let (key, rest) = leading_quoted(text)?;
            (Value::String(key), rest.strip_prefix(':')?)
        }
        _ => {
            let colon = match pair_position(text, b':', b' ') {
                Some(colon) => colon,
                None if text.ends_with(':') => text.len() - 1,
                None => return None,
            };
            let key = &text[..colon];
            if key.contains(':') || key.ends_with(' ') || key == "<<" {
                return None;
            }
            (plain(key)?, &text[colon + 1..])
        }
    };
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((key, after.trim_start_matches(' ')))
}

/// The quoted scalar at the start of `text`, unescaped, and the text after its closing quote.
fn leading_quoted(text: &str) -> Option<(String, &str)> {
    let end = quoted_end(text)?;
    let value = if text.starts_with('\'') {
        single_quoted(&text[..end])?
    } else {
        double_quoted(&text[..end])?
    };
    Some((value, &text[end..]))
}

/// The length of the quoted scalar at the start of `text`, quotes included.
pub(crate) fn quoted_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = bytes[0];
    let mut index = 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' if quote == b'"' => index += 2,
            b'\'' if quote == b'\'' && bytes.get(index + 1) == Some(&b'\'') => index += 2,
            byte if byte == quote => return Some(index + 1),
            _ => index += 1,
        }
    }
    None
}

/// A plain scalar, resolved as serde_norway resolves it.
fn plain(text: &str) -> Option<Value> {
    // An empty key (`: value`) is left to serde_norway too (found by cargo fuzz: it panicked here).
    let &first = text.as_bytes().first()?;
    // Indicators, and what would end or continue the scalar: left to serde_norway.
    let lone_dash = first == b'-' && (text.len() == 1 || text.as_bytes()[1] == b' ');
    // Read on its own below, `--- x` or `... x` would be a document marker and a different scalar
    // (found by cargo fuzz: `- --- --d` read as `--d`).
    let marker = text.starts_with("---") || text.starts_with("...");
    if lone_dash
        || marker
        || b"?:,[]{}#&*!|>'\"%@`".contains(&first)
        || has_pair(text, b' ', b'#')
        || has_pair(text, b':', b' ')
        || text.ends_with(':')
    {
        return None;
    }
    if first.is_ascii_alphabetic() {
        // Starting with a letter, only these are not strings in YAML 1.2 (serde_norway's resolution).
        return Some(match text {
            "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        });
    }
    if text.len() < 20 && text.bytes().all(|b| b.is_ascii_digit()) && (first != b'0' || text.len() == 1) {
        return text.parse::<u64>().ok().map(Value::from);
    }
    // serde_norway reads a plain scalar as null, a boolean or a number only if every byte could be part of one
    // (Rust's integer and float syntax, `0x`/`0o`/`0b`, `inf`, `infinity` and `nan` in any case, `.inf`, `~`):
    // with any other byte (`4Gi`, `500m`, a path, `$(VAR)`) it is a string. A byte outside this generous set
    // settles it without a parser.
    // Nor is one with two dots (`8.3.3`): a float has at most one, `.inf` and `.nan` one.
    if !text.bytes().all(could_be_in_a_number) || text.bytes().filter(|&byte| byte == b'.').nth(1).is_some() {
        return Some(Value::String(text.to_owned()));
    }
    // Numbers of other forms, `~`: one scalar read by serde_norway itself.
    match serde_norway::from_str::<Value>(text).ok()? {
        value @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => Some(value),
        _ => None,
    }
}

/// Whether a byte may appear in a plain scalar that serde_norway reads as null, a boolean or a number.
fn could_be_in_a_number(byte: u8) -> bool {
    byte.is_ascii_hexdigit()
        || matches!(
            byte,
            b'x' | b'X'
                | b'o'
                | b'O'
                | b'i'
                | b'I'
                | b'n'
                | b'N'
                | b't'
                | b'T'
                | b'y'
                | b'Y'
                | b'+'
                | b'-'
                | b'.'
                | b'_'
                | b'~'
        )
}

/// `'...'` on one line, `''` standing for a quote.
fn single_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let unescaped = inner.replace("''", "'");
    // A lone quote inside means the scalar ended earlier.
    (unescaped.matches('\'').count() * 2 == inner.matches('\'').count()).then_some(unescaped)
}

/// `"..."` on one line, with the common escapes; the rarer ones are left to serde_norway.
fn double_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let escaped = match chars.next()? {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                };
                out.push(escaped);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn hex(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let text: String = chars.take(digits).collect();
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(&text, 16).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast reader either gives up or reads exactly what serde_norway reads, in the same order.
    fn assert_same_or_none(text: &str) -> bool {
        let Some(fast) = parse(text) else {
            return false;
        };
        let reference: Value = serde_norway::from_str(text)
            .unwrap_or_else(|error| panic!("the fast reader read a document serde_norway refuses ({error}):\n{text}"));
        assert_eq!(fast, reference, "{text}");
        assert_eq!(
            serde_norway::to_string(&fast).unwrap(),
            serde_norway::to_string(&reference).unwrap(),
            "key order differs:\n{text}"
        );
        true
    }

    #[test]
    fn reads_what_kustomize_sends_like_serde_norway() {
        let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n    annotations:\n      config.kubernetes.io/index: '0'\n      \"quoted key\": \"tab\\there \\u00e9\"\n  data:\n    run.sh: |\n      #!/bin/sh\n\n      echo hi\n\n    stripped: |-\n      one\n        two\n    n: 8080\n    z: 0\n    f: 1.5\n    neg: -3\n    oct: 0755\n    null1: ~\n    null2:\n    t: true\n    s: yes\n    e: []\n    m: {}\n    path: /opt/x\n    var: $(POD_NAME)\n  list:\n  - a\n  -\n    b: c\n  -   d: e\n      f: g\n  - - nested\n";
        // A compact nested sequence (`- - x`) is left to serde_norway.
        assert!(!assert_same_or_none(text));
        let text = text.replace("  - - nested\n", "  - last\n# a comment\n");
        assert!(assert_same_or_none(&text), "the common subset must be read fast");
    }

    #[test]
    fn comments_and_one_line_flow_collections_read_like_serde_norway() {
        let fast = [
            "a: b # c\n",
            "a: b  #c: d\n",
            "a: b#c\n",
            "a: \"x # y\" # z\n",
            "a: 'it''s' # z\n",
            "a: # nothing here\n  b: 1\n",
            "a:   # a list\n- x # one\n- 'y'  # two\n",
            "a: | # a block\n  x # not a comment\n",
            "r: {cpu: \"2\", memory: 4Gi}   # requests\n",
            "r: {size: 20Gi, storageClassName: fast-ssd}\n",
            "s: [plant-a-0, plant-a-1, 'c, d', \"e]\"]\n",
            "s: [1, 0x1F, true, ~, 1.5, a b]\n",
            "e: [ ]\nf: { }\n",
            "- [a, b] # c\n- {k: v}\n",
        ];
        for text in fast {
            assert!(assert_same_or_none(text), "{text:?} must be read fast");
        }
        let refused = [
            "a: b # c\n  d\n",
            "a: [1, [2]]\n",
            "a: [1, 2,]\n",
            "a: [1,, 2]\n",
            "a: [a:b]\n",
            "a: {b:c}\n",
            "a: {\"b\":1}\n",
            "a: {b: 1, b: 2}\n",
            "a: [1, 2\n  , 3]\n",
            "a: [1, 2] x\n",
            "a: \"x\"y\n",
            "a: [#]\n",
            "a: {b: }\n",
        ];
        for text in refused {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    /// The repository's spec files read as serde_norway reads them; the bases' (which the benchmarks time) all fast.
    #[test]
    fn the_repositorys_spec_files_read_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut fast = Vec::new();
        for dir in ["bases", "examples"] {
            for path in crate::io::yaml_files(&root.join(dir), None).unwrap() {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("kind: IgnitionCluster\n") && !text.contains("\n---") {
                    let text = text.strip_prefix("---\n").unwrap_or(&text);
                    let read_fast = assert_same_or_none(text);
                    assert!(read_fast || dir != "bases", "{} must be read fast", path.display());
                    fast.push((path, read_fast));
                }
            }
        }
        assert!(fast.iter().filter(|(_, read_fast)| *read_fast).count() >= 4, "{fast:?}");
    }

    /// Generated lines of keys, values, comments and flow collections made of the tokens that matter to where a
    /// value or comment ends: whatever the fast reader reads, serde_norway reads the same.
    #[test]
    fn generated_values_comments_and_flows_read_like_serde_norway() {
        use proptest::prelude::*;
        const TOKENS: &[&str] = &[
            "a", "b c", "1", "0x1F", "~", "true", "4Gi", "#", " #", "# x", "  # y: z", ":", ": ", ",", ", ", "[", "]",
            "{", "}", "[ ]", "{}", "'", "''", "\"", "\\", "'q'", "\"q\"", "-", "- ", "|", " ", "k: v", "x:y",
        ];
        let value = prop::collection::vec(prop::sample::select(TOKENS), 1..7).prop_map(|tokens| tokens.concat());
        let line = (0usize..3, prop::sample::select(&["k", "- ", "- k", "\"k\""][..]), value)
            .prop_map(|(indent, head, value)| format!("{}{head}: {value}\n", "  ".repeat(indent)));
        let document = prop::collection::vec(line, 1..4).prop_map(|lines| lines.concat());
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 20_000,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let read_fast = std::cell::Cell::new(0);
        runner
            .run(&document, |text| {
                if parse(&text).is_some() {
                    assert_same_or_none(&text);
                    read_fast.set(read_fast.get() + 1);
                }
                Ok(())
            })
            .unwrap();
        // The comparison covers documents read fast, not only refusals.
        assert!(read_fast.get() > 300, "{}", read_fast.get());
    }

    #[test]
    fn golden_inputs_and_outputs_read_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
        let mut fast = 0;
        for case in std::fs::read_dir(root).unwrap() {
            for file in ["input.yaml", "expected.yaml"] {
                let path = case.as_ref().unwrap().path().join(file);
                let text = std::fs::read_to_string(&path).unwrap();
                if serde_norway::from_str::<Value>(&text).is_ok() && assert_same_or_none(&text) {
                    fast += 1;
                }
            }
        }
        // Every output the function writes is in the subset.
        assert!(fast >= 16, "only {fast} golden files were read fast");
    }

    #[test]
    fn items_with_nothing_after_the_dash_stay_items() {
        for text in ["-\n-\n", "a:\n-\n-\n", "a:\n- \n- x\n", "-\n  b: c\n-\n"] {
            let fast = parse(text);
            if fast.is_some() {
                assert!(assert_same_or_none(text), "{text:?}");
            }
        }
        assert_eq!(
            parse("-\n-\n"),
            serde_norway::from_str("-\n-\n").ok(),
            "found by cargo fuzz"
        );
        for text in ["i:\n- --- --d\n", "a: --- x\n", "a: ... x\n", "- ...\n"] {
            assert_same_or_none(text);
        }
    }

    #[test]
    fn gives_up_on_what_it_does_not_know() {
        for text in [
            "a: b\n  c\n",
            "---  nametrue: \n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n...\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "a: [1, [2]]\n",
            "a: >\n  folded\n",
            "a: |\n\n  leading empty line\n",
            "a: |+\n  keep\n\n",
            "a: 'multi\n  line'\n",
            "a: b #\tcomment\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: b",
            "---\na: b\n",
            "a: b\n---\nc: d\n",
            "- a\n b\n",
            "? a\n: b\n",
            "<<: {a: b}\n",
            "a: \"\\e\"\n",
            "a: 'it''s'x\n",
            "a:b: c\n",
            "a: |\n    x\n  # trailing comment\n",
            "a: |\n  x\n   \n",
            "x\n",
        ] {
            assert!(parse(text).is_none(), "must be left to serde_norway: {text:?}");
        }
    }

    /// Every plain scalar with a byte outside [`could_be_in_a_number`], or two dots, is a string to serde_norway: all
    /// of up to three bytes over the bytes of numbers, of `inf` and `nan`, and a few others.
    #[test]
    fn only_number_bytes_make_anything_but_a_string() {
        let alphabet = b"019aefinstyAFINTYGmxXoObB..+-_~/$";
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        let mut checked = 0;
        for _ in 0..3 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .flat_map(|text| alphabet.iter().map(move |&byte| [text.as_slice(), &[byte]].concat()))
                .collect();
            for text in &longer {
                let dots = text.iter().filter(|&&byte| byte == b'.').count();
                if text.iter().all(|&byte| could_be_in_a_number(byte)) && dots < 2 {
                    continue;
                }
                let text = std::str::from_utf8(text).unwrap();
                if let Ok(value) = serde_norway::from_str::<Value>(&format!("k: {text}\n")) {
                    assert!(value["k"].is_string(), "{text:?} is {:?}", value["k"]);
                    checked += 1;
                }
            }
            texts = longer;
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn scalars_resolve_like_serde_norway() {
        for scalar in [
            "0",
            "7",
            "007",
            "-0",
            "+1",
            "0x1F",
            "0o17",
            "1e3",
            "1.",
            ".5",
            "-.inf",
            ".nan",
            "~",
            "Null",
            "TRUE",
            "False",
            "yes",
            "on",
            "8.3.3",
            "2001-12-14",
            "1:30",
            "12345678901234567890",
            "99999999999999999999",
            "/x",
            "$(A)",
            "a b",
            "a'b",
            "a\"b",
            "x{y}",
            "c,d",
            "é",
            "4Gi",
            "500m",
            "1e+3",
            "1.5e-3",
            "1E5",
            "inf",
            "-inf",
            "Infinity",
            "nan",
            "NaN",
            "1_000",
            "0b101",
            "+.5",
            "0xG",
            "9Gi9",
            "1.2.3",
            ".5.5",
            "-1.0.0",
        ] {
            for text in [
                format!("k: {scalar}\n"),
                format!("{scalar}: v\n"),
                format!("- {scalar}\n"),
            ] {
                assert_same_or_none(&text);
            }
        }
        for quoted in [
            "''",
            "'a''b'",
            "'#x'",
            "\"\"",
            "\"a\\\"b\"",
            "\"\\x41\\u00e9\\U0001F600\"",
            "\"a\\\\n\"",
        ] {
            assert!(assert_same_or_none(&format!("k: {quoted}\n")), "{quoted}");
        }
    }
}
