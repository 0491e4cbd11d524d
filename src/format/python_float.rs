//! Python's `repr(float)`: the shortest digits that round-trip, in Python's layout.
//! Shared by the JSON writer, the YAML writer and the YAML reader (float mapping keys).

/// Formats `value` exactly as Python 3's `repr(float)` does for finite values.
///
/// Python picks fixed notation when the decimal exponent `e` satisfies
/// `-4 <= e < 16` and scientific notation (`1e-07`, `1.5e+16`) otherwise,
/// always with a sign and at least two exponent digits. Non-finite values are
/// spelled as Python spells them (`inf`, `-inf`, `nan`) although JSON values
/// never hold them.
pub(crate) fn repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let (digits, exponent) = shortest_digits(value.abs());
    let body = if (-4..16).contains(&exponent) {
        fixed(&digits, exponent)
    } else {
        scientific(&digits, exponent)
    };
    format!("{sign}{body}")
}

/// PyYAML's float representation: `repr(value).lower()`, with `.0` inserted
/// before the exponent when the mantissa has no dot (`1e+16` -> `1.0e+16`),
/// so that YAML 1.1 resolvers read it back as a float.
pub(crate) fn yaml_repr(value: f64) -> String {
    let text = repr(value).to_lowercase();
    if !text.contains('.') && text.contains('e') {
        return text.replacen('e', ".0e", 1);
    }
    text
}

/// Splits a finite, non-negative value into its shortest round-trip decimal
/// digits and the exponent of the first digit. Rust's `{:e}` already yields
/// the shortest round-trip digits (the same criterion as Python's repr).
fn shortest_digits(value: f64) -> (String, i32) {
    let formatted = format!("{value:e}");
    let (mantissa, exponent) = formatted
        .split_once('e')
        .unwrap_or((formatted.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // `{:e}` always prints a decimal exponent that fits in i32 for f64.
    let exponent = exponent.parse::<i32>().unwrap_or(0);
    (digits, exponent)
}

fn fixed(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        return format!("{digits}{zeros}.0");
    }
    format!("{}.{}", &digits[..int_len], &digits[int_len..])
}

fn scientific(digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let mantissa = if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}.{rest}")
    };
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (100.0, "100.0"),
            (1e-7, "1e-07"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456789.125, "123456789.125"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (1e300, "1e+300"),
            (-1e-300, "-1e-300"),
            (2.5e-10, "2.5e-10"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (value, expected) in cases {
            assert_eq!(repr(value), expected, "{value:e}");
        }
    }

    #[test]
    fn yaml_inserts_dot_zero() {
        assert_eq!(yaml_repr(1e16), "1.0e+16");
        assert_eq!(yaml_repr(1e-7), "1.0e-07");
        assert_eq!(yaml_repr(1.5e-7), "1.5e-07");
        assert_eq!(yaml_repr(2.0), "2.0");
    }
}
