//! Durations as Traefik writes them: Go duration strings (`"5s"`, `"1m30s"`, `"250ms"`,
//! `"1.5h"`, `"0"`) or a bare integer meaning seconds (`"10"`, or the YAML number `10`).
//!
//! Owns only the text-to-[`Duration`] conversion. Never knows which key a value came from: the
//! caller adds the key path to the error.

use std::time::Duration;

/// Why a duration string was rejected. The caller prefixes the key path and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was written.
    #[error("empty value")]
    Empty,
    /// A leading `-`.
    #[error("must not be negative")]
    Negative,
    /// A number with a fraction but no unit (`"1.5"`), or digits after the last unit.
    #[error("missing unit (use ns, us, ms, s, m or h, e.g. \"5s\")")]
    MissingUnit,
    /// A unit other than `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`.
    #[error("unknown unit \"{0}\" (use ns, us, ms, s, m or h)")]
    UnknownUnit(String),
    /// A unit without a number before it.
    #[error("expected a number before the unit")]
    MissingNumber,
    /// More than `u64::MAX` nanoseconds (about 584 years).
    #[error("too large")]
    Overflow,
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Parses a Traefik duration.
///
/// Accepted forms: a bare integer (seconds, as Traefik's `types.Duration` reads it), or a
/// sequence of `<number><unit>` terms where the number may have a fraction and the unit is one
/// of `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`. `"0"` alone is zero. A leading `+` is allowed;
/// a leading `-` is rejected because no ringress timeout can be negative.
///
/// # Errors
///
/// A [`DurationError`] saying what is wrong with the text.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let unsigned = match text.as_bytes().first() {
        None => return Err(DurationError::Empty),
        Some(b'-') => return Err(DurationError::Negative),
        Some(b'+') => &text[1..],
        Some(_) => text,
    };
    if unsigned.is_empty() {
        return Err(DurationError::MissingNumber);
    }
    if unsigned.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = unsigned.parse().map_err(|_| DurationError::Overflow)?;
        return Ok(Duration::from_secs(seconds));
    }
    parse_terms(unsigned)
}

/// Parses `<number><unit>` terms, summing them in nanoseconds.
fn parse_terms(mut rest: &str) -> Result<Duration, DurationError> {
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit);
        }
        let unit_nanos = unit_nanos(unit)?;
        total = total
            .checked_add(term_nanos(number, unit_nanos)?)
            .ok_or(DurationError::Overflow)?;
        rest = after;
    }
    if total > u128::from(u64::MAX) {
        return Err(DurationError::Overflow);
    }
    let seconds = u64::try_from(total / NANOS_PER_SECOND).map_err(|_| DurationError::Overflow)?;
    let nanos = u32::try_from(total % NANOS_PER_SECOND).map_err(|_| DurationError::Overflow)?;
    Ok(Duration::new(seconds, nanos))
}

fn unit_nanos(unit: &str) -> Result<u128, DurationError> {
    match unit {
        "ns" => Ok(1),
        "us" | "µs" | "μs" => Ok(1_000),
        "ms" => Ok(1_000_000),
        "s" => Ok(NANOS_PER_SECOND),
        "m" => Ok(60 * NANOS_PER_SECOND),
        "h" => Ok(3_600 * NANOS_PER_SECOND),
        other => Err(DurationError::UnknownUnit(other.to_owned())),
    }
}

/// Converts one `<number>` (digits, optionally `.` and more digits) times the unit into
/// nanoseconds. Fraction digits beyond nanosecond precision are dropped, as Go does.
fn term_nanos(number: &str, unit_nanos: u128) -> Result<u128, DurationError> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(DurationError::MissingNumber);
    }
    if fraction.contains('.') {
        return Err(DurationError::MissingUnit);
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DurationError::Overflow)?
    };
    let mut nanos = whole.checked_mul(unit_nanos).ok_or(DurationError::Overflow)?;
    let mut scale = unit_nanos;
    for digit in fraction.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        nanos = nanos
            .checked_add(u128::from(digit - b'0') * scale)
            .ok_or(DurationError::Overflow)?;
    }
    Ok(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        match parse(text) {
            Ok(duration) => duration,
            Err(error) => panic!("{text:?} should parse: {error}"),
        }
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("2h45m10.5s"), Duration::from_millis(9_910_500));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("10µs"), Duration::from_micros(10));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("+3s"), Duration::from_secs(3));
        assert_eq!(ok("0.000000001s"), Duration::from_nanos(1));
        assert_eq!(ok("1.0000000009s"), Duration::from_secs(1));
    }

    #[test]
    fn zero_and_bare_seconds() {
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("10"), Duration::from_secs(10));
        assert_eq!(ok(" 42 "), Duration::from_secs(42));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse("5x"), Err(DurationError::UnknownUnit("x".into())));
        assert_eq!(parse("5sec"), Err(DurationError::UnknownUnit("sec".into())));
        assert_eq!(parse("1.5"), Err(DurationError::MissingUnit));
        assert_eq!(parse("1s5"), Err(DurationError::MissingUnit));
        assert_eq!(parse("1.2.3s"), Err(DurationError::MissingUnit));
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("-5s"), Err(DurationError::Negative));
        assert_eq!(parse("+"), Err(DurationError::MissingNumber));
        assert_eq!(parse("s"), Err(DurationError::MissingNumber));
        assert_eq!(parse(".s"), Err(DurationError::MissingNumber));
        assert_eq!(parse("99999999999999999999h"), Err(DurationError::Overflow));
        assert_eq!(parse("99999999999999999999"), Err(DurationError::Overflow));
    }

    #[test]
    fn error_text_names_the_unit() {
        assert_eq!(
            DurationError::UnknownUnit("x".into()).to_string(),
            "unknown unit \"x\" (use ns, us, ms, s, m or h)"
        );
    }
}
