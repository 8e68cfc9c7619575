//! Go string literals: raw (`` `…` ``) and interpreted (`"…"` with Go escapes), and quoting
//! a value back into one of them.
//!
//! Owns the escape table (`\a \b \f \n \r \t \v \\ \"`, octal `\NNN`, `\xNN`, `\uNNNN`,
//! `\UNNNNNNNN`) and Go's rule that carriage returns inside raw strings are dropped. Must never
//! look at what a string means: that is the matcher's job.

use std::fmt::{self, Write as _};

use super::error::{RuleError, RuleErrorKind};

/// Reads the literal starting at `start` (on its opening quote) in `src`. Returns the decoded
/// value and the byte offset just past the closing quote.
pub(crate) fn read_literal(src: &str, start: usize) -> Result<(String, usize), RuleError> {
    let bytes = src.as_bytes();
    match bytes.get(start) {
        Some(b'`') => read_raw(src, start),
        _ => read_interpreted(src, start),
    }
}

fn read_raw(src: &str, start: usize) -> Result<(String, usize), RuleError> {
    let body_start = start + 1;
    let rest = src.get(body_start..).unwrap_or("");
    let Some(len) = rest.find('`') else {
        return Err(RuleError::new(start, RuleErrorKind::UnterminatedString));
    };
    let body = rest.get(..len).unwrap_or("");
    // Go drops carriage returns from raw string literals.
    let value = if body.contains('\r') {
        body.replace('\r', "")
    } else {
        body.to_owned()
    };
    Ok((value, body_start + len + 1))
}

fn read_interpreted(src: &str, start: usize) -> Result<(String, usize), RuleError> {
    let bytes = src.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(RuleError::new(start, RuleErrorKind::UnterminatedString));
        };
        match b {
            b'"' => break,
            b'\n' => return Err(RuleError::new(i, RuleErrorKind::NewlineInString)),
            b'\\' => {
                i = read_escape(bytes, i, &mut out)?;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    let value = String::from_utf8(out).map_err(|_| RuleError::new(start, RuleErrorKind::InvalidUtf8))?;
    Ok((value, i + 1))
}

/// Decodes the escape at `at` (on the backslash) into `out`; returns the offset after it.
fn read_escape(bytes: &[u8], at: usize, out: &mut Vec<u8>) -> Result<usize, RuleError> {
    let err = |why| RuleError::new(at, RuleErrorKind::InvalidEscape(why));
    let Some(&c) = bytes.get(at + 1) else {
        return Err(err("backslash at end of string"));
    };
    let simple = match c {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(byte) = simple {
        out.push(byte);
        return Ok(at + 2);
    }
    match c {
        b'0'..=b'7' => {
            let digits = bytes
                .get(at + 1..at + 4)
                .ok_or_else(|| err("octal escape needs 3 digits"))?;
            let mut value: u32 = 0;
            for &d in digits {
                if !(b'0'..=b'7').contains(&d) {
                    return Err(err("octal escape needs 3 digits"));
                }
                value = value * 8 + u32::from(d - b'0');
            }
            let byte = u8::try_from(value).map_err(|_| err("octal escape value > 255"))?;
            out.push(byte);
            Ok(at + 4)
        }
        b'x' => {
            let value = hex_digits(bytes, at + 2, 2).ok_or_else(|| err("\\x needs 2 hex digits"))?;
            out.push(u8::try_from(value).map_err(|_| err("\\x value out of range"))?);
            Ok(at + 4)
        }
        b'u' | b'U' => {
            let n = if c == b'u' { 4 } else { 8 };
            let value = hex_digits(bytes, at + 2, n).ok_or_else(|| err("\\u needs 4 and \\U 8 hex digits"))?;
            let ch = char::from_u32(value).ok_or_else(|| err("escaped code point is not a valid Unicode scalar"))?;
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            Ok(at + 2 + n)
        }
        _ => Err(err("unknown escape")),
    }
}

fn hex_digits(bytes: &[u8], from: usize, n: usize) -> Option<u32> {
    let digits = bytes.get(from..from + n)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
}

/// Writes `value` as a Go string literal: raw (backticks) when it can be, else double-quoted
/// with escapes. Reading the output back with [`read_literal`] yields `value` again.
pub(crate) fn write_literal(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    if !value.contains('`') && !value.contains('\r') {
        f.write_char('`')?;
        f.write_str(value)?;
        return f.write_char('`');
    }
    f.write_char('"')?;
    for c in value.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}
