//! A YAML emitter for `serde_norway::Value` that every Kubernetes tool reads back the same.
//!
//! serde_norway writes YAML 1.2, where `Y`, `yes`, `on` and `0755` are plain strings; kubectl and
//! Argo CD read YAML 1.1 (sigs.k8s.io/yaml), where they are a boolean and a number, so a ConfigMap
//! with `ACCEPT_IGNITION_EULA: Y` would be refused. This emitter quotes every string that either
//! version could read as anything but a string, writes block style with the compact sequences
//! kyaml writes, multi-line strings as literal blocks, and nothing that depends on the platform.

pub mod serializer;

use std::fmt::Write as _;

use serde_norway::value::Tag;
use serde_norway::{Mapping, Value};

/// The tag the reader gives an integer beyond 64 bits, which `serde_norway::Value` cannot hold, around its digits
/// (kustomize accepts such integers). The emitter writes the digits alone, as they came in.
pub const BIG_INTEGER_TAG: &str = "ignition-krm.dev/big-integer";

/// Whether two values are the same, with mappings compared entry by entry in order (`==` on a
/// `serde_norway::Mapping` ignores the order of its keys).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        (Value::Sequence(a), Value::Sequence(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b)),
        (Value::Tagged(a), Value::Tagged(b)) => a.tag == b.tag && same(&a.value, &b.value),
        (Value::Number(a), Value::Number(b)) => {
            // NaN is the same NaN; 0.0 and -0.0 are not the same number in the output.
            match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) if a.is_f64() && b.is_f64() => {
                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                }
                _ => a == b && a.is_f64() == b.is_f64(),
            }
        }
        _ => a == b,
    }
}

/// Writes one value as a YAML document body (no `---`), ending with a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
    out
}

/// Appends one value as a YAML document body.
pub fn write_document(out: &mut String, value: &Value) {
    match value {
        Value::Mapping(mapping) if !mapping.is_empty() => write_mapping(out, mapping, 0, false),
        Value::Sequence(sequence) if !sequence.is_empty() => write_sequence(out, sequence, 0, false),
        scalar => {
            write_inline(out, scalar, 0);
            out.push('\n');
        }
    }
}

/// Appends `- value` entries of a sequence at column `indent`.
pub fn write_sequence(out: &mut String, sequence: &[Value], indent: usize, first_inline: bool) {
    for (index, item) in sequence.iter().enumerate() {
        if index > 0 || !first_inline {
            pad(out, indent);
        }
        out.push('-');
        write_nested(out, item, indent + 2, true);
    }
}

fn write_mapping(out: &mut String, mapping: &Mapping, indent: usize, first_inline: bool) {
    for (index, (key, value)) in mapping.iter().enumerate() {
        if index > 0 || !first_inline {
            pad(out, indent);
        }
        if write_key(out, key) {
            out.push(':');
            match value {
                // kyaml's compact style: a sequence under a key starts at the key's column.
                Value::Sequence(sequence) if !sequence.is_empty() => {
                    out.push('\n');
                    write_sequence(out, sequence, indent, false);
                }
                _ => write_nested(out, value, indent + 2, false),
            }
        } else {
            // An explicit key (`? key`) takes its value on the next line, indented as a block.
            out.push('\n');
            pad(out, indent);
            out.push(':');
            match value {
                Value::Sequence(sequence) if !sequence.is_empty() => {
                    out.push('\n');
                    write_sequence(out, sequence, indent + 2, false);
                }
                _ => write_nested(out, value, indent + 2, false),
            }
        }
    }
}

/// YAML allows an implicit key (`key: value`) of at most 1024 characters on one line.
const MAX_IMPLICIT_KEY: usize = 1024;

/// Writes a mapping key on one line: never as a literal block, which a key cannot be. Returns false
/// when the key was too long for the implicit form and was written as an explicit `? key` instead.
fn write_key(out: &mut String, key: &Value) -> bool {
    let start = out.len();
    match key {
        Value::String(text) if !is_plain_safe(text) => write_double_quoted(out, text),
        // Other keys are scalars: the reader refuses collections as keys.
        _ => write_inline(out, key, 0),
    }
    implicit_or_explicit(out, start)
}

/// [`write_key`] of a key that is text.
fn write_text_key(out: &mut String, key: &str) -> bool {
    let start = out.len();
    if is_plain_safe(key) {
        out.push_str(key);
    } else {
        write_double_quoted(out, key);
    }
    implicit_or_explicit(out, start)
}

/// Keeps the key written from `start` implicit if it is short enough, else makes it explicit (`? key`).
fn implicit_or_explicit(out: &mut String, start: usize) -> bool {
    if out.len() - start <= MAX_IMPLICIT_KEY {
        return true;
    }
    out.insert_str(start, "? ");
    false
}

/// Writes what follows `key:` or `-`: a collection on the next lines (or on the same line after a
/// dash), a scalar after a space.
fn write_nested(out: &mut String, value: &Value, indent: usize, after_dash: bool) {
    match value {
        Value::Mapping(mapping) if !mapping.is_empty() => {
            if after_dash {
                out.push(' ');
                write_mapping(out, mapping, indent, true);
            } else {
                out.push('\n');
                write_mapping(out, mapping, indent, false);
            }
        }
        Value::Sequence(sequence) if !sequence.is_empty() => {
            out.push(' ');
            write_sequence(out, sequence, indent, true);
        }
        Value::Tagged(tagged) if is_collection(&tagged.value) => {
            out.push(' ');
            write_tag(out, &tagged.tag);
            out.push('\n');
            match &tagged.value {
                Value::Mapping(mapping) => write_mapping(out, mapping, indent, false),
                Value::Sequence(sequence) => write_sequence(out, sequence, indent, false),
                _ => {}
            }
        }
        scalar => {
            out.push(' ');
            write_inline(out, scalar, indent);
            out.push('\n');
        }
    }
}

fn is_collection(value: &Value) -> bool {
    matches!(value, Value::Mapping(m) if !m.is_empty()) || matches!(value, Value::Sequence(s) if !s.is_empty())
}

/// Writes a scalar or an empty collection on the current line; literal blocks continue below at
/// `indent`.
fn write_inline(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text, indent),
        Value::Mapping(_) => out.push_str("{}"),
        Value::Sequence(_) => out.push_str("[]"),
        Value::Tagged(tagged) if is_big_integer(tagged) => {
            if let Value::String(digits) = &tagged.value {
                out.push_str(digits);
            }
        }
        Value::Tagged(tagged) => {
            write_tag(out, &tagged.tag);
            out.push(' ');
            write_inline(out, &tagged.value, indent);
        }
    }
}

fn is_big_integer(tagged: &serde_norway::value::TaggedValue) -> bool {
    tagged.tag == BIG_INTEGER_TAG
        && matches!(&tagged.value, Value::String(digits)
            if digits.strip_prefix('-').unwrap_or(digits).bytes().all(|b| b.is_ascii_digit()) && digits.len() > 1)
}

/// Writes a number in a form YAML 1.1 (kubectl, PyYAML) and YAML 1.2 read as the same number: a float always
/// has a dot and a signed exponent (`1.0e+300`; YAML 1.1 reads `1e300` or `1.5e300` as a string).
fn write_number(out: &mut String, number: &serde_norway::Number) {
    let start = out.len();
    // Writing into a String cannot fail.
    let _ = write!(out, "{number}");
    if !number.is_f64() || out[start..].contains(['i', 'n']) {
        return;
    }
    let text = out.split_off(start);
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (text.as_str(), None),
    };
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    if let Some(exponent) = exponent {
        out.push('e');
        if !exponent.starts_with(['+', '-']) {
            out.push('+');
        }
        out.push_str(exponent);
    }
}

fn write_string(out: &mut String, text: &str, indent: usize) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else if !write_literal_block(out, text, indent) {
        write_double_quoted(out, text);
    }
}

/// Writes a tag in its `!name` form, percent-encoding every character a tag shorthand cannot hold
/// as it is: parsers decode the escapes, so `!foo%21` and the non-specific `!` (name `!`) read back
/// as the tags they were, where writing them raw gives `!foo!` (another tag) or `!!` (not YAML).
fn write_tag(out: &mut String, tag: &Tag) {
    let text = tag.to_string();
    out.push('!');
    for byte in text[1..].bytes() {
        if byte.is_ascii_alphanumeric() || b"-#;/?:@&=+$_.~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

/// Whether a string can be written without quotes and read back as the same string by YAML 1.1
/// and 1.2 parsers alike.
///
/// One pass over the bytes (the emitter asks for every scalar it writes): each byte's class says whether a
/// plain scalar may hold it and whether numbers, dates and times use it. The rules are those of
/// [`is_plain_safe_reference`], which the tests compare this with.
pub(crate) fn is_plain_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if CLASS[usize::from(first)] & STARTS == 0 || last == b':' || last == b' ' {
        return false;
    }
    // The classes of all bytes and-ed and or-ed together: no branch per byte.
    let mut all = SAFE | NUMERIC;
    let mut any = 0;
    for &byte in bytes {
        let class = CLASS[usize::from(byte)];
        all &= class;
        any |= class;
    }
    if all & SAFE == 0 || (any & COLON != 0 && has_pair(text, b':', b' ')) {
        return false;
    }
    let all_numeric = all & NUMERIC;
    // Anything that starts like a number and has only characters numbers, dates and times use
    // (hex, octal, binary, exponents, sexagesimal, `_` separators) is quoted, `8.3.3` included.
    let numeric_start = first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.');
    if numeric_start && all_numeric != 0 {
        return false;
    }
    bytes.len() > 5 || !is_keyword(text)
}

/// Bits of [`CLASS`]: a plain scalar may hold the byte; it may start one; numbers, dates and times use it; it is `:`.
const SAFE: u8 = 1;
const STARTS: u8 = 2;
const NUMERIC: u8 = 4;
/// The byte is `:`, which a plain scalar may hold but not followed by a space.
const COLON: u8 = 8;

/// The class of every byte, for [`is_plain_safe`].
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        #[allow(clippy::cast_possible_truncation)] // byte < 256; `u8::try_from` is not const
        let b = byte as u8;
        if PLAIN_SAFE[byte] {
            table[byte] |= SAFE;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'$' | b'(') {
            table[byte] |= STARTS;
        }
        if is_numeric_byte(b) {
            table[byte] |= NUMERIC;
        }
        if b == b':' {
            table[byte] |= COLON;
        }
        byte += 1;
    }
    table
};

/// The characters numbers, dates and times use (hex, octal, binary, exponents, sexagesimal, `_` separators).
const fn is_numeric_byte(b: u8) -> bool {
    b.is_ascii_hexdigit()
        || matches!(
            b,
            b'x' | b'X'
                | b'o'
                | b'O'
                | b'b'
                | b'B'
                | b'_'
                | b'.'
                | b':'
                | b'+'
                | b'-'
                | b'e'
                | b'E'
                | b'T'
                | b'Z'
                | b' '
        )
}

/// Scalars that YAML 1.1 or 1.2 resolve to null, a boolean, a number or a timestamp, and `<<` and `=` (merge
/// and value keys in YAML 1.1). The list as written, for the tests: [`is_keyword`] is the same list as a `match`.
#[cfg(test)]
const KEYWORDS: &[&str] = &[
    "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes", "YES", "n",
    "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "<<",
    "=",
];

fn is_keyword(text: &str) -> bool {
    // A `match` on the text: the compiler switches on the length, then compares a few bytes, where a search of
    // [`KEYWORDS`] compared up to 34 slices (`name` and `namespace`, the commonest keys, went through all of them).
    // The tests hold the two to the same answer.
    matches!(
        text,
        "null"
            | "Null"
            | "NULL"
            | "~"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | ".inf"
            | ".Inf"
            | ".INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | "<<"
            | "="
    )
}

/// The rules of [`is_plain_safe`], written as plainly as they read: the tests hold the fast scan to them.
#[cfg(test)]
fn is_plain_safe_reference(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    // Only ASCII letters, digits, spaces and punctuation that has no meaning inside a plain scalar.
    let characters_ok = text.bytes().all(|b| PLAIN_SAFE[usize::from(b)]);
    let starts_ok = first.is_ascii_alphanumeric() || "/._$(".contains(first);
    let reads_as_number = text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b"xXoObB_.:+-eE".contains(&b) || b == b'T' || b == b'Z' || b == b' ');
    characters_ok
        && starts_ok
        && !text.contains(": ")
        && !text.ends_with([':', ' '])
        && !KEYWORDS.contains(&text)
        && !reads_as_number
}

/// The bytes a plain scalar may hold: ASCII letters, digits, space and the punctuation that has no meaning
/// inside one.
const PLAIN_SAFE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte: u8 = 0;
    loop {
        table[byte as usize] = byte.is_ascii_alphanumeric();
        if byte == u8::MAX {
            break;
        }
        byte += 1;
    }
    let punctuation = b"/._-=:$()+@%^?<>;~ ";
    let mut index = 0;
    while index < punctuation.len() {
        table[punctuation[index] as usize] = true;
        index += 1;
    }
    table
};

/// Whether `first` is directly followed by `second` somewhere in `text`: a plain byte scan, much cheaper than
/// a substring search for a two-byte pattern.
pub(crate) fn has_pair(text: &str, first: u8, second: u8) -> bool {
    pair_position(text, first, second).is_some()
}

/// Where `first` is first directly followed by `second` in `text` (the index of `first`), by [`has_pair`]'s scan.
pub(crate) fn pair_position(text: &str, first: u8, second: u8) -> Option<usize> {
    text.as_bytes()
        .windows(2)
        .position(|pair| pair[0] == first && pair[1] == second)
}

/// A literal block keeps a script readable. It cannot hold carriage returns, other control
/// characters, a first line starting with a space (that needs an indentation indicator) or more
/// than one trailing newline (that needs `|+`).
///
/// Writes `text` as a literal block at `indent` if it fits one, checking each line's rules as it writes the line
/// (scripts are the longest strings written); if it does not fit, takes back what it wrote and returns false. The
/// tests hold the rules to [`fits_literal_block_by_characters`].
fn write_literal_block(out: &mut String, text: &str, indent: usize) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let ends_with_newline = last == b'\n';
    // The lines are those of the text without its one final newline, which `|` (rather than `|-`) stands for.
    let body = &text[..text.len() - usize::from(ends_with_newline)];
    // The rules no single line can tell (each line's own are `fits_block_line`'s): a first line indented or
    // empty, more than one final newline; and a text without a newline has no block to be.
    if matches!(first, b' ' | b'\n') || body.ends_with('\n') || memchr::memchr(b'\n', bytes).is_none() {
        return false;
    }
    let start = out.len();
    out.push_str(if ends_with_newline { "|" } else { "|-" });
    // The lines found with memchr's vector search: scripts are most of the text written, and `str::split`
    // looked for each newline a word at a time (issue 15).
    let mut line_start = 0;
    for line_end in memchr::memchr_iter(b'\n', body.as_bytes()).chain([body.len()]) {
        let line = &body[line_start..line_end];
        line_start = line_end + 1;
        if !fits_block_line(line) {
            out.truncate(start);
            return false;
        }
        write_block_line(out, line, indent);
    }
    true
}

/// Whether one line of a text (without its newline) can stand as it is in a literal block: no tab at its start
/// (it would read as indentation), no space or tab at its end, no character that needs escaping.
fn fits_block_line(line: &str) -> bool {
    let bytes = line.as_bytes();
    if matches!(bytes.first(), Some(b'\t')) || matches!(bytes.last(), Some(b' ' | b'\t')) {
        return false;
    }
    // Printable ASCII, the common case (scripts are most of the text written), is checked without a branch per
    // byte, so the compiler checks many bytes at a time.
    if bytes
        .iter()
        .fold(true, |printable, &byte| printable & (byte.wrapping_sub(b' ') < 0x5f))
    {
        return true;
    }
    line.chars().all(|c| c == '\t' || !is_special(c))
}

/// The character that starts at byte `index` of `text`, if one does.
fn char_at(text: &str, index: usize) -> Option<char> {
    text.get(index..).and_then(|rest| rest.chars().next())
}

/// One line of a literal block: on a line of its own, indented unless it is empty.
fn write_block_line(out: &mut String, line: &str, indent: usize) {
    out.push('\n');
    if !line.is_empty() {
        pad(out, indent);
        out.push_str(line);
    }
}

/// The rules of [`write_literal_block`], character by character.
#[cfg(test)]
fn fits_literal_block_by_characters(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with([' ', '\n', '\t'])
        && !text.contains("\n\t")
        && !text.ends_with("\n\n")
        && text.chars().all(|c| c == '\n' || c == '\t' || !is_special(c))
        && text.lines().all(|line| !line.ends_with([' ', '\t']))
}

/// Characters that must be escaped in a double-quoted scalar: controls, the Unicode line breaks and byte-order
/// mark that YAML treats specially, and U+FFFE and U+FFFF, which YAML does not allow raw (c-printable, 5.1).
fn is_special(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    // Runs of characters written as they are go out as one slice.
    let mut run_start = 0;
    for (index, &byte) in text.as_bytes().iter().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            b' '..=b'~' | 0x80..=0xbf => continue,
            _ => {
                // A control character, or the first byte of a character beyond ASCII.
                match char_at(text, index) {
                    Some(c) if is_special(c) => {
                        out.push_str(&text[run_start..index]);
                        let _ = write!(out, "\\u{:04x}", u32::from(c));
                        run_start = index + c.len_utf8();
                    }
                    _ => {}
                }
                continue;
            }
        };
        out.push_str(&text[run_start..index]);
        out.push_str(escaped);
        run_start = index + 1;
    }
    out.push_str(&text[run_start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: &Value) -> Value {
        serde_norway::from_str(&to_string(value)).unwrap()
    }

    #[test]
    fn strings_that_yaml_1_1_reads_otherwise_are_quoted() {
        for text in [
            "Y",
            "n",
            "yes",
            "off",
            "8.3.3",
            "2",
            "0755",
            "1:30",
            "1e3",
            "2001-12-14",
            "null",
            "~",
            "",
            "-n",
            " x",
            "a: b",
        ] {
            let emitted = to_string(&Value::String(text.to_owned()));
            assert!(emitted.starts_with('"'), "{text:?} must be quoted, got {emitted}");
        }
        for text in [
            "4Gi",
            "500m",
            "inductiveautomation/ignition:8.3.3",
            "wrapper.logfile=/dev/stdout",
            "$(POD_NAME)",
        ] {
            assert_eq!(to_string(&Value::String(text.to_owned())), format!("{text}\n"));
        }
    }

    #[test]
    fn the_fast_plain_scalar_scan_agrees_with_the_rules() {
        // Every string of up to four bytes over the bytes the rules treat differently (letters of the
        // keywords, digits, number and date punctuation, the indicators, space, a multi-byte character's
        // first byte stands in via "é"), and every keyword with a byte added or taken away.
        let alphabet: Vec<&str> = vec![
            "a", "n", "N", "o", "O", "y", "Y", "t", "f", "e", "E", "x", "b", "T", "Z", "l", "s", "0", "7", "9", ".",
            "-", "+", "_", ":", " ", "/", "$", "(", "~", "<", "=", "#", "'", "\"", "{", "\t", "é",
        ];
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for length in 1..=4 {
            let letters = if length <= 3 { &alphabet[..] } else { &alphabet[..12] };
            let mut next = Vec::new();
            for prefix in &last {
                for letter in letters {
                    next.push(format!("{prefix}{letter}"));
                }
            }
            texts.extend(next.iter().cloned());
            last = next;
        }
        for keyword in KEYWORDS {
            texts.push((*keyword).to_owned());
            texts.push(format!("{keyword}x"));
            texts.push(format!("x{keyword}"));
            texts.push(keyword[1..].to_owned());
        }
        texts.extend(
            [
                "8.3.3",
                "1:30:00",
                "0x1F",
                "2001-12-14T21:59:43.10Z",
                "1_000",
                ".5",
                "+1",
                "-.inf",
                "a: b",
                "a:b",
                "a:",
                "a ",
                "inductiveautomation/ignition:8.3.3",
                "$(POD_NAME)",
                "wrapper.logfile=/dev/stdout",
                "500m",
                "4Gi",
                "nulls",
                "Falsey",
                "yes please",
                "on-prem",
                "12345678901234567890",
                "1.0e+3",
                "1e3 x",
            ]
            .map(str::to_owned),
        );
        let mut plain = 0;
        for text in &texts {
            let expected = is_plain_safe_reference(text);
            assert_eq!(is_plain_safe(text), expected, "{text:?}");
            assert_eq!(is_keyword(text), KEYWORDS.contains(&text.as_str()), "{text:?}");
            plain += usize::from(expected);
        }
        // The comparison covers both answers, not one.
        assert!(plain > 10_000 && plain < texts.len() / 2, "{plain} of {}", texts.len());
    }

    #[test]
    fn every_value_reads_back_the_same() {
        let text = "a: 1\nb: [x, {c: d, e: []}, {}]\nc: \"line one\\nline two\\n\"\nd: \"tab\\there \\u0001 \\u2028 é\"\ne: -1.5\nf: null\ng: [[1, 2], [3]]\nh: \"trailing  \\n\"\ni: \"x\\n\\n\"\nj: \"no newline\\nat end\"\n";
        let value: Value = serde_norway::from_str(text).unwrap();
        assert_eq!(round_trip(&value), value);
    }

    #[test]
    fn tags_read_back_as_the_same_tags() {
        // Found by the resource_list fuzz target: `! null` was written as `!! null`, which is not YAML.
        for text in [
            "a: ! null\n",
            "a: !foo%21 b\n",
            "a: !x y\n",
            "a: !caf%C3%A9 [1, 2]\n",
            "a: !t {b: c}\n",
            "a: !a%2Cb%5B%5D c\n",
        ] {
            let value: Value = serde_norway::from_str(text).unwrap();
            let written = to_string(&value);
            let reread: Value = serde_norway::from_str(&written).unwrap_or_else(|error| panic!("{written}: {error}"));
            assert_eq!(reread, value, "{text} was written as {written}");
            assert_eq!(to_string(&reread), written, "stable");
        }
    }

    #[test]
    fn keys_stay_on_one_line_and_long_keys_are_explicit() {
        let long = "k".repeat(2000);
        for key in ["multi\nline\n", "cr\r\rkey", long.as_str(), "plain"] {
            for value in ["scalar: 1", "[a, b]", "{x: y}", "\"text\\nwith lines\\n\""] {
                let mut mapping = Mapping::new();
                mapping.insert(Value::String(key.to_owned()), serde_norway::from_str(value).unwrap());
                let document = Value::Mapping(mapping);
                let nested: Value = serde_norway::from_str("items: []").unwrap();
                let mut outer = nested.as_mapping().unwrap().clone();
                outer.insert("inner".into(), document.clone());
                for tree in [
                    document.clone(),
                    Value::Sequence(vec![document.clone()]),
                    Value::Mapping(outer),
                ] {
                    assert_eq!(
                        round_trip(&tree),
                        tree,
                        "key {key:?}, value {value}:\n{}",
                        to_string(&tree)
                    );
                }
            }
        }
    }

    #[test]
    fn floats_are_written_as_yaml_1_1_reads_floats() {
        // YAML 1.1 (PyYAML, and the float rule kubectl's go-yaml v2 shares) needs a dot, and a sign on the exponent.
        for (text, written) in [
            ("1e3", "1000.0"),
            ("1.5e300", "1.5e+300"),
            ("1e-7", "1.0e-7"),
            ("-0.0", "-0.0"),
            (".5", "0.5"),
            ("-.inf", "-.inf"),
            (".nan", ".nan"),
        ] {
            let value: Value = serde_norway::from_str(text).unwrap();
            assert_eq!(to_string(&value), format!("{written}\n"), "{text}");
            assert!(same(&round_trip(&value), &value), "{text}");
        }
    }

    #[test]
    fn characters_yaml_does_not_allow_raw_are_escaped() {
        for text in ["\u{fffe}", "a\u{ffff}b", "x\u{fffe}\ny\n", "\u{85}", "\u{7f}"] {
            let written = to_string(&Value::String(text.to_owned()));
            assert!(written.is_ascii(), "{text:?} was written raw: {written}");
            assert_eq!(
                round_trip(&Value::String(text.to_owned())),
                Value::String(text.to_owned())
            );
        }
    }

    /// Double quoting as the rules read, a character at a time.
    fn double_quoted_by_characters(text: &str) -> String {
        let mut out = "\"".to_owned();
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if is_special(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn the_fast_literal_block_and_double_quote_scans_agree_with_the_rules() {
        let pieces = [
            "a",
            " ",
            "\t",
            "\n",
            "\r",
            "é",
            "\u{85}",
            "\u{2028}",
            "\u{7f}",
            "#!/bin/sh",
            "\"\\",
            "\u{feff}",
            "",
        ];
        let mut count = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let text = format!("{a}{b}{c}{d}");
                        let mut written = "key:".to_owned();
                        let fits = write_literal_block(&mut written, &text, 2);
                        assert_eq!(fits, fits_literal_block_by_characters(&text), "{text:?}");
                        // The block as the rules write it: the header, then each line indented unless empty; or
                        // nothing at all.
                        let expected = if fits {
                            let header = if text.ends_with('\n') { "|" } else { "|-" };
                            let lines = text.strip_suffix('\n').unwrap_or(&text).split('\n');
                            let lines: String = lines
                                .map(|line| {
                                    if line.is_empty() {
                                        "\n".to_owned()
                                    } else {
                                        format!("\n  {line}")
                                    }
                                })
                                .collect();
                            format!("key:{header}{lines}")
                        } else {
                            "key:".to_owned()
                        };
                        assert_eq!(written, expected, "{text:?}");
                        let mut quoted = String::new();
                        write_double_quoted(&mut quoted, &text);
                        assert_eq!(quoted, double_quoted_by_characters(&text), "{text:?}");
                        count += 1;
                    }
                }
            }
        }
        assert_eq!(count, 28_561);
    }

    #[test]
    fn lines_starting_with_a_tab_are_not_literal_blocks() {
        // libyaml and go-yaml refuse a literal block whose first line starts with a tab.
        for text in ["\tfirst\nsecond\n", "first\n\tsecond\n"] {
            let written = to_string(&Value::String(text.to_owned()));
            assert!(written.starts_with('"'), "{text:?} was written as {written}");
            assert_eq!(
                round_trip(&Value::String(text.to_owned())),
                Value::String(text.to_owned())
            );
        }
    }

    #[test]
    fn same_compares_mappings_in_order() {
        let a: Value = serde_norway::from_str("{x: 1, y: 2}").unwrap();
        let b: Value = serde_norway::from_str("{y: 2, x: 1}").unwrap();
        assert_eq!(a, b, "serde_norway's == ignores the order");
        assert!(!same(&a, &b) && same(&a, &a.clone()));
        let (one, float): (Value, Value) = (
            serde_norway::from_str("1").unwrap(),
            serde_norway::from_str("1.0").unwrap(),
        );
        assert!(!same(&one, &float));
    }

    #[test]
    fn scripts_become_literal_blocks() {
        let value: Value =
            serde_norway::from_str("data:\n  run.sh: \"#!/bin/bash\\necho hi\\n\\nexit 0\\n\"\n").unwrap();
        assert_eq!(
            to_string(&value),
            "data:\n  run.sh: |\n    #!/bin/bash\n    echo hi\n\n    exit 0\n"
        );
    }

    #[test]
    fn sequences_are_compact_like_kyaml() {
        let value: Value = serde_norway::from_str("items:\n- name: a\n  ports: [1, 2]\n").unwrap();
        assert_eq!(to_string(&value), "items:\n- name: a\n  ports:\n  - 1\n  - 2\n");
    }
}
