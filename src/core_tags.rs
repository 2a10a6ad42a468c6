//! Explicitly tagged scalars (`!!int 0644`, `!!float 1_000.5`, `key: !!null`) read as kustomize reads them.
//!
//! serde_norway refuses a `!!int`, `!!float` or `!!null` whose text it does not read as that type (`!!int 0644`,
//! `!!null` on an empty value), which go-yaml (kustomize's kyaml, `yaml.v3` `resolve.go`, and kubectl's v2) reads
//! with its own rules: underscores left out, `0644` octal (420), `0x`, `0o`, `0b` prefixes, a float that is an
//! integer. Before parsing, those tags are renamed to local tags (see [`rename`]) that serde_norway hands to the
//! reader's visitor untouched, and [`resolve`] reads their value as go-yaml does, refusing what kustomize 4.5.4
//! refuses (`!!int 1.5`, `!!int 08`, `!!int` on an empty value, `!!null x`).
//!
//! `!!str` and `!!bool` need nothing: serde_norway already reads them as go-yaml v3 does (`!!bool yes` is refused
//! by both). A value read here is written back, when its item cannot be copied, as the plain number or null that
//! kubectl read: `!!int 0644` becomes `420`, which YAML 1.1 and 1.2 readers read alike.

use serde_norway::Value;

use crate::krm::{skip_comment_or_quoted, token_start};

/// What the tags are renamed to, before `int`, `float` or `null`: the local tag `!ignition-krm-core-int`, for
/// instance. The reader's visitor gets the tag without its `!`.
pub const TAG_PREFIX: &str = "ignition-krm-core-";

/// How a renamed tag shows in a string when the scan took text inside a scalar for a tag.
pub const MARK: &str = "!ignition-krm-core-";

/// The core tags renamed, as written (shorthand and verbatim), and the name each becomes.
const TAGS: &[(&str, &str)] = &[
    ("!!int", "int"),
    ("!!float", "float"),
    ("!!null", "null"),
    ("!<tag:yaml.org,2002:int>", "int"),
    ("!<tag:yaml.org,2002:float>", "float"),
    ("!<tag:yaml.org,2002:null>", "null"),
];

/// `input` with every `!!int`, `!!float` and `!!null` tag (shorthand or verbatim) renamed to a local tag, or `None`
/// when it has none or a `%TAG` directive could give `!!` another meaning. Tags are found by a scan of the text
/// (at the start of a token, outside comments and quoted scalars): one inside a plain or block scalar is renamed
/// too, and shows in the value read, which the caller checks for [`MARK`].
pub fn rename(input: &str) -> Option<String> {
    if !(input.contains("!!") || input.contains("!<tag:yaml.org,2002:"))
        || input.lines().any(|line| line.starts_with("%TAG"))
        || input.contains(MARK)
    {
        return None;
    }
    let bytes = input.as_bytes();
    let delimiter_at = |index: usize| bytes.get(index).is_none_or(|byte| b" \t\r\n,]}".contains(byte));
    let mut out = String::new();
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        if let Some(next) = skip_comment_or_quoted(input, index) {
            index = next;
        } else if bytes[index] == b'!' && token_start(bytes, index) {
            let found = TAGS
                .iter()
                .find(|(tag, _)| input[index..].starts_with(tag) && delimiter_at(index + tag.len()));
            if let Some((tag, name)) = found {
                out.push_str(&input[copied..index]);
                out.push_str(MARK);
                out.push_str(name);
                index += tag.len();
                copied = index;
            } else {
                index += 1;
            }
        } else {
            index += 1;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&input[copied..]);
    Some(out)
}

/// The value of a scalar tagged `!!<core>` (`int`, `float` or `null`), from serde_norway's untagged reading of it
/// (`value`), as go-yaml v3 reads it; `Err` with kustomize's reason when go-yaml refuses it. A collection under
/// such a tag is kept without it, as serde_norway and kustomize keep it.
pub fn resolve(core: &str, value: Value) -> Result<Value, String> {
    let refuse = |value: &Value| {
        let text = match value {
            Value::String(text) => format!("{text:?}"),
            Value::Null => "an empty value".to_owned(),
            other => crate::yaml::to_string(other).trim_end().to_owned(),
        };
        Err(format!("cannot read {text} as !!{core} (kustomize refuses it too)"))
    };
    if matches!(value, Value::Sequence(_) | Value::Mapping(_)) {
        return Ok(value);
    }
    let text = match &value {
        Value::String(text) => Some(text.as_str()),
        _ => None,
    };
    match core {
        "null" => match (&value, text) {
            (Value::Null, _) | (_, Some("" | "~" | "null" | "Null" | "NULL")) => Ok(Value::Null),
            _ => refuse(&value),
        },
        "int" => match (&value, text) {
            (Value::Number(number), _) if !number.is_f64() => Ok(value),
            (_, Some(text)) => go_int(text).map_or_else(|| refuse(&value), Ok),
            _ => refuse(&value),
        },
        "float" => match (&value, text) {
            (Value::Number(number), _) => Ok(number.as_f64().map_or(value.clone(), Value::from)),
            // An integer beyond 64 bits, kept as its digits by the reader.
            (Value::Tagged(tagged), _) if tagged.tag == crate::yaml::BIG_INTEGER_TAG => match &tagged.value {
                Value::String(digits) => digits.parse::<f64>().map(Value::from).map_err(|_| ()),
                _ => Err(()),
            }
            .or_else(|()| refuse(&value)),
            (_, Some(text)) => go_float(text).map_or_else(|| refuse(&value), |float| Ok(Value::from(float))),
            _ => refuse(&value),
        },
        _ => refuse(&value),
    }
}

/// An integer as go-yaml reads one (`strconv.ParseInt` and `ParseUint` with base 0, underscores left out): a sign,
/// then `0x`, `0o`, `0b` or a leading `0` (octal), or decimal digits. `None` when it is no integer of 64 bits.
fn go_int(text: &str) -> Option<Value> {
    let text = text.replace('_', "");
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text.as_str()),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(Value::from(magnitude));
    }
    // -2^63 is the lowest i64.
    match magnitude {
        0 => Some(Value::from(0)),
        m if m <= 1 << 63 => i64::try_from(-i128::from(m)).ok().map(Value::from),
        _ => None,
    }
}

/// A float as go-yaml reads one: an integer (as [`go_int`]), `.inf`, `.nan` in their spellings, or
/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, underscores left out.
fn go_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    if let Some(int) = go_int(text) {
        return int.as_f64();
    }
    let text = text.replace('_', "");
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(&text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_go_yaml_reads_them() {
        let int = |text: &str| {
            go_int(text).and_then(|value| value.as_i64().or(value.as_u64().and_then(|u| i64::try_from(u).ok())))
        };
        assert_eq!(int("0644"), Some(420));
        assert_eq!(int("0x1F"), Some(31));
        assert_eq!(int("0X1f"), Some(31));
        assert_eq!(int("0o17"), Some(15));
        assert_eq!(int("0b101"), Some(5));
        assert_eq!(int("1_000"), Some(1000));
        assert_eq!(int("+12"), Some(12));
        assert_eq!(int("-0"), Some(0));
        assert_eq!(int("-010"), Some(-8));
        assert_eq!(int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_int("18446744073709551615"), Some(Value::from(u64::MAX)));
        for refused in [
            "08",
            "1.5",
            "",
            "-",
            "0x",
            "abc",
            "99999999999999999999",
            "+-1",
            "0x+1",
            "1e3",
        ] {
            assert_eq!(go_int(refused), None, "{refused}");
        }
    }

    #[test]
    fn floats_read_as_go_yaml_reads_them() {
        assert_eq!(go_float("0644"), Some(420.0));
        assert_eq!(go_float("1_000.5"), Some(1000.5));
        assert_eq!(go_float("1e3"), Some(1000.0));
        assert_eq!(go_float("-.5"), Some(-0.5));
        assert_eq!(go_float("1."), Some(1.0));
        assert_eq!(go_float(".inf"), Some(f64::INFINITY));
        for refused in ["abc", ".", "e3", "1e", "1.5.5", "", "inf", "nan", "0x1p3"] {
            assert_eq!(go_float(refused), None, "{refused}");
        }
    }

    #[test]
    fn only_core_tags_outside_quotes_and_comments_are_renamed() {
        assert_eq!(rename("a: b\n"), None);
        assert_eq!(rename("a: !!str 0644\n"), None);
        assert_eq!(
            rename("a: !!int 0644 # !!int\nb: '!!int'\nc: [!!null , !<tag:yaml.org,2002:float> 1]\nd: !!integer 1\n")
                .as_deref(),
            Some(
                "a: !ignition-krm-core-int 0644 # !!int\nb: '!!int'\nc: [!ignition-krm-core-null , \
                 !ignition-krm-core-float 1]\nd: !!integer 1\n"
            )
        );
        assert_eq!(rename("%TAG !! tag:example.com,2000:\n---\na: !!int 1\n"), None);
    }
}
