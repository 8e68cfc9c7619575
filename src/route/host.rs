//! Host names: the one definition of "the same host" for route ids, targets and `Host` headers.
//!
//! Owns splitting `host[:port]`, lowercasing, dropping one trailing dot, checking that the rest
//! is a plausible DNS name, IPv4 address or bracketed IPv6 literal, and writing IPv6 literals in
//! their canonical text form (`[0:0::1]` → `[::1]`).
//!
//! Runs on the request path (through [`normalize_host`]), so it must never allocate and never
//! block: every result is written into a caller-provided stack buffer.

use std::fmt::{self, Write as _};
use std::net::Ipv6Addr;

/// Longest host name accepted, in bytes (RFC 1035 limit for a name in text form).
pub const MAX_HOST_LEN: usize = 253;

/// Longest DNS label accepted, in bytes.
const MAX_LABEL_LEN: usize = 63;

/// Why a host name was refused. Carries no data that needs allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("host is empty")]
    Empty,
    #[error("host has an empty label (`..`, or a leading dot)")]
    EmptyLabel,
    #[error("host contains the byte {0:?}, which is not allowed in a host name")]
    InvalidByte(char),
    #[error("host is not a valid bracketed IPv6 address")]
    InvalidIpv6,
    #[error("port after the host is not a number of at most 5 digits")]
    InvalidPort,
    #[error("a host label is longer than 63 bytes")]
    LabelTooLong,
    #[error("host is longer than 253 bytes")]
    TooLong,
}

/// Normalises a raw `Host` header value into `out` and returns the normalised bytes.
///
/// Lowercases, removes `:port` (`[::1]:8080` → `[::1]`), then removes one trailing dot, so
/// `X.COM.:8080` → `x.com`. Surrounding spaces and tabs are ignored. IPv6 literals are written
/// in canonical form. Returns `None` when the value is empty, longer than 253 bytes, or not a
/// plausible host (bytes other than letters, digits, `-`, `_` and `.`; empty or over-long
/// labels; a port that is not a number; an unbracketed IPv6 address).
///
/// Never allocates.
pub fn normalize_host<'a>(raw: &[u8], out: &'a mut [u8; 256]) -> Option<&'a [u8]> {
    let (host, port) = split_port(trim_ows(raw)).ok()?;
    if let Some(port) = port {
        if !port.is_empty() && parse_port(port).is_none() {
            return None;
        }
    }
    canonical_host(host, out).ok()
}

/// Splits `host[:port]` (with `[v6]` for IPv6) into the host and the raw port bytes, if any.
/// The port bytes are not checked here: callers have different rules for them.
pub(crate) fn split_port(raw: &[u8]) -> Result<(&[u8], Option<&[u8]>), HostError> {
    if raw.first() == Some(&b'[') {
        let close = raw.iter().position(|&b| b == b']').ok_or(HostError::InvalidIpv6)?;
        let (host, rest) = raw.split_at(close + 1);
        return match rest.split_first() {
            None => Ok((host, None)),
            Some((b':', port)) => Ok((host, Some(port))),
            Some(_) => Err(HostError::InvalidIpv6),
        };
    }
    match raw.iter().position(|&b| b == b':') {
        None => Ok((raw, None)),
        Some(colon) => {
            let (host, port) = (&raw[..colon], &raw[colon + 1..]);
            if port.contains(&b':') {
                // More than one colon: an IPv6 address without brackets.
                return Err(HostError::InvalidIpv6);
            }
            Ok((host, Some(port)))
        }
    }
}

/// Parses a port of 1 to 5 ASCII digits (0 included; callers that need 1-65535 check that).
pub(crate) fn parse_port(raw: &[u8]) -> Option<u16> {
    if raw.is_empty() || raw.len() > 5 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = raw.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
    u16::try_from(value).ok()
}

/// Writes the canonical form of a host without port into `out`: lowercase, one trailing dot
/// removed, IPv6 literal (`[…]`) in canonical text form.
pub(crate) fn canonical_host<'a>(host: &[u8], out: &'a mut [u8; 256]) -> Result<&'a [u8], HostError> {
    if host.first() == Some(&b'[') {
        return canonical_ipv6(host, out);
    }
    let host = host.strip_suffix(b".").unwrap_or(host);
    if host.is_empty() {
        return Err(HostError::Empty);
    }
    if host.len() > MAX_HOST_LEN {
        return Err(HostError::TooLong);
    }
    let mut label_start = 0;
    for (i, (&b, slot)) in host.iter().zip(out.iter_mut()).enumerate() {
        let mapped = HOST_BYTES[usize::from(b)];
        if mapped == b'.' {
            check_label(i - label_start)?;
            label_start = i + 1;
        } else if mapped == 0 {
            return Err(HostError::InvalidByte(char::from(b)));
        }
        *slot = mapped;
    }
    // Also catches a name that ended in a second dot (`x.com..`).
    check_label(host.len() - label_start)?;
    Ok(&out[..host.len()])
}

fn check_label(len: usize) -> Result<(), HostError> {
    match len {
        0 => Err(HostError::EmptyLabel),
        1..=MAX_LABEL_LEN => Ok(()),
        _ => Err(HostError::LabelTooLong),
    }
}

/// Each byte's lowercase form if it may appear in a host name, else 0.
static HOST_BYTES: [u8; 256] = host_bytes();

const fn host_bytes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => c,
            b'A'..=b'Z' => c.to_ascii_lowercase(),
            _ => 0,
        };
        b += 1;
    }
    table
}

fn canonical_ipv6<'a>(host: &[u8], out: &'a mut [u8; 256]) -> Result<&'a [u8], HostError> {
    let inner = host
        .strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .ok_or(HostError::InvalidIpv6)?;
    let text = std::str::from_utf8(inner).map_err(|_| HostError::InvalidIpv6)?;
    let addr: Ipv6Addr = text.parse().map_err(|_| HostError::InvalidIpv6)?;
    let mut cursor = Cursor { buf: out, len: 0 };
    write!(cursor, "[{addr}]").map_err(|_| HostError::InvalidIpv6)?;
    let len = cursor.len;
    Ok(&out[..len])
}

fn trim_ows(raw: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = raw.iter().position(|b| !is_ows(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &raw[start..end]
}

/// A `fmt::Write` over a fixed buffer, so formatting an address needs no heap.
struct Cursor<'a> {
    buf: &'a mut [u8; 256],
    len: usize,
}

impl fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
