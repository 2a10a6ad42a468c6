//! Kubernetes resource quantities, parsed exactly and written in the API server's canonical form.
//!
//! The API server stores `1000m` as `1` and `3072Mi` as `3Gi`; Argo CD compares strings, so output
//! that is not canonical stays OutOfSync forever. Every quantity the spec gives is canonicalized here.

/// Nano-units per unit: the finest precision Kubernetes keeps.
const NANOS_PER_UNIT: i128 = 1_000_000_000;

const DECIMAL_SUFFIXES: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];
/// Nano-units in 10^exponent units. The exponents of [`DECIMAL_SUFFIXES`] are -9 to 18, so the power is 0 to 27
/// and the value fits an `i128`.
fn nanos_per(exponent: i32) -> i128 {
    10_i128.pow(u32::try_from(exponent + 9).unwrap_or(0))
}

const BINARY_SUFFIXES: &[(&str, u32)] = &[("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];

/// A parsed quantity: its exact value in nano-units and whether it was written with a binary suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    nanos: i128,
    binary: bool,
}

impl Quantity {
    /// Parses `text` (`2`, `1.5`, `500m`, `4Gi`, ...). Exponent forms (`1e3`) are refused: nobody
    /// writes them on purpose and their canonical form surprises.
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let text = text.trim();
        let number_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(number_end);
        let (negative, digits) = match number.as_bytes().first() {
            Some(b'-') => (true, &number[1..]),
            Some(b'+') => (false, &number[1..]),
            _ => (false, number),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let well_formed = !(whole.is_empty() && fraction.is_empty())
            && whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit());
        if !well_formed {
            return Err(format!(
                "{text:?} is not a quantity: write a number with an optional suffix, such as 2, 500m or 4Gi"
            ));
        }
        let scale: i128 = if let Some((_, power)) = BINARY_SUFFIXES.iter().find(|(name, _)| *name == suffix) {
            1024_i128.pow(*power)
        } else if let Some((_, exponent)) = DECIMAL_SUFFIXES.iter().find(|(name, _)| *name == suffix) {
            // The scale is applied to nano-units below, so a decimal exponent of e becomes 10^(e+9).
            return Self::from_parts(text, negative, whole, fraction, nanos_per(*exponent), 1, false);
        } else {
            return Err(format!(
                "{text:?} has an unknown suffix {suffix:?}: use one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei"
            ));
        };
        Self::from_parts(text, negative, whole, fraction, NANOS_PER_UNIT, scale, true)
    }

    /// value = ±whole.fraction × multiplier × scale nano-units, refused unless exact.
    fn from_parts(
        text: &str,
        negative: bool,
        whole: &str,
        fraction: &str,
        multiplier: i128,
        scale: i128,
        binary: bool,
    ) -> Result<Quantity, String> {
        let too_large = || format!("{text:?} is too large");
        if whole.len() + fraction.len() > 30 {
            return Err(too_large());
        }
        let unit = multiplier.checked_mul(scale).ok_or_else(too_large)?;
        let whole_value: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let mut nanos = whole_value.checked_mul(unit).ok_or_else(too_large)?;
        let fraction = fraction.trim_end_matches('0');
        if !fraction.is_empty() {
            let denominator = u32::try_from(fraction.len())
                .ok()
                .and_then(|digits| 10_i128.checked_pow(digits))
                .ok_or_else(too_large)?;
            let numerator: i128 = fraction.parse().map_err(|_| too_large())?;
            let scaled = numerator.checked_mul(unit).ok_or_else(too_large)?;
            if scaled % denominator != 0 {
                return Err(format!("{text:?} is more precise than Kubernetes keeps (1n)"));
            }
            nanos = nanos.checked_add(scaled / denominator).ok_or_else(too_large)?;
        }
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
            binary,
        })
    }

    /// The value in whole base units (cores, bytes), rounded down.
    pub fn units(&self) -> i128 {
        self.nanos / NANOS_PER_UNIT
    }

    pub fn is_positive(&self) -> bool {
        self.nanos > 0
    }

    /// Whether the value is a whole number of base units (bytes cannot be split).
    pub fn is_whole(&self) -> bool {
        self.nanos % NANOS_PER_UNIT == 0
    }

    /// The form the API server would return for this quantity.
    pub fn canonical(&self) -> String {
        let units = self.units();
        if self.binary && self.is_whole() && units.abs() >= 1024 {
            let power = (1..=6)
                .rev()
                .find(|power| units % 1024_i128.pow(*power) == 0)
                .unwrap_or(0);
            let suffix = if power == 0 {
                ""
            } else {
                BINARY_SUFFIXES[power as usize - 1].0
            };
            return format!("{}{suffix}", units / 1024_i128.pow(power));
        }
        if self.nanos == 0 {
            return "0".to_owned();
        }
        let (suffix, exponent) = DECIMAL_SUFFIXES
            .iter()
            .rev()
            .find(|(_, exponent)| self.nanos % nanos_per(*exponent) == 0)
            .copied()
            .unwrap_or(("n", -9));
        format!("{}{suffix}", self.nanos / nanos_per(exponent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        Quantity::parse(text).unwrap().canonical()
    }

    #[test]
    fn canonical_forms_match_the_api_server() {
        for (input, expected) in [
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("2", "2"),
            ("2000", "2k"),
            ("1.5k", "1500"),
            ("3072Mi", "3Gi"),
            ("1.5Gi", "1536Mi"),
            ("4Gi", "4Gi"),
            ("0.5Ki", "512"),
            ("1024", "1024"),
            ("4G", "4G"),
            ("4000M", "4G"),
            ("0", "0"),
            ("100n", "100n"),
            (".5", "500m"),
            ("1Ti", "1Ti"),
        ] {
            assert_eq!(canonical(input), expected, "canonical form of {input}");
        }
    }

    #[test]
    fn malformed_quantities_are_refused_with_a_reason() {
        for input in [
            "",
            "abc",
            "1e3",
            "4GB",
            "1..5",
            "--1",
            "1.5.5",
            "Gi",
            "0.1n",
            "99999999999999999999999999999999Ei",
        ] {
            assert!(Quantity::parse(input).is_err(), "{input:?} should be refused");
        }
    }

    #[test]
    fn values_are_exact() {
        assert_eq!(Quantity::parse("4Gi").unwrap().units(), 4 * 1024 * 1024 * 1024);
        assert!(!Quantity::parse("0.5").unwrap().is_whole());
        assert!(Quantity::parse("-1").map(|q| !q.is_positive()).unwrap());
    }
}
