//! Validation of `host[:port]` as it appears in a Host header or an absolute-form authority.
//!
//! Owns the accepted host grammar: a reg-name of letters, digits, `-`, `.`, `_`, or a bracketed
//! IPv6 literal, then an optional `:` and decimal port. Must never accept `%`, `@`, `/`, spaces or
//! any other byte, so that the host the router matches is the host the upstream sees.

/// A validated `host[:port]`: the length of the host part and the port, if one was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HostPort {
    /// Length of the host part (brackets of an IPv6 literal included).
    pub name_len: usize,
    /// The port, or `None` if absent or empty (`host:` is allowed by RFC 3986 and means default).
    pub port: Option<u16>,
}

/// Validates `host[:port]`; the error is a reason for `HeadError::BadHost` / `BadTarget`.
pub(crate) fn parse_host(v: &[u8]) -> Result<HostPort, &'static str> {
    let name_len = match v.first() {
        None => return Err("empty host"),
        Some(b'[') => {
            let close = v.iter().position(|&b| b == b']').ok_or("unterminated IPv6 literal")?;
            let inner = v.get(1..close).unwrap_or(&[]);
            if inner.is_empty() || !inner.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                return Err("invalid IPv6 literal");
            }
            close + 1
        }
        Some(_) => {
            let n = v.iter().position(|&b| b == b':').unwrap_or(v.len());
            let name = v.get(..n).unwrap_or(&[]);
            if name.is_empty() {
                return Err("empty host name");
            }
            if !name
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
            {
                return Err("invalid byte in host name");
            }
            n
        }
    };
    let port = match v.get(name_len..).unwrap_or(&[]) {
        [] => None,
        [b':', digits @ ..] => parse_port(digits)?,
        _ => return Err("invalid byte after host"),
    };
    Ok(HostPort { name_len, port })
}

fn parse_port(digits: &[u8]) -> Result<Option<u16>, &'static str> {
    if digits.is_empty() {
        return Ok(None);
    }
    if digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return Err("invalid port");
    }
    let n = digits.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    u16::try_from(n).map(Some).map_err(|_| "port out of range")
}

/// Splits a validated `host[:port]` into the host part and the port digits (empty if none).
///
/// Meant for bytes this module validated (`RequestHead::host`); on other input it splits at the
/// last `:` that is not inside brackets.
pub fn split_host_port(host: &[u8]) -> (&[u8], &[u8]) {
    let bracket_end = host.iter().rposition(|&b| b == b']').map_or(0, |i| i + 1);
    let tail = host.get(bracket_end..).unwrap_or(&[]);
    match tail.iter().position(|&b| b == b':') {
        Some(i) => {
            let colon = bracket_end + i;
            (host.get(..colon).unwrap_or(host), host.get(colon + 1..).unwrap_or(&[]))
        }
        None => (host, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_hosts() {
        let ok: &[(&[u8], usize, Option<u16>)] = &[
            (b"example.com", 11, None),
            (b"example.com:8080", 11, Some(8080)),
            (b"my_app-1.route.example", 22, None),
            (b"10.0.0.1:443", 8, Some(443)),
            (b"[::1]", 5, None),
            (b"[::1]:80", 5, Some(80)),
            (b"[2001:db8::1.2.3.4]:65535", 19, Some(65535)),
            (b"host:", 4, None),
        ];
        for (v, len, port) in ok {
            let hp = parse_host(v);
            assert_eq!(
                hp,
                Ok(HostPort {
                    name_len: *len,
                    port: *port
                }),
                "{}",
                String::from_utf8_lossy(v)
            );
        }
    }

    #[test]
    fn rejects_invalid_hosts() {
        let bad: &[&[u8]] = &[
            b"",
            b":80",
            b"a b",
            b"user@host",
            b"host/path",
            b"ho%41st",
            b"host:8o",
            b"host:65536",
            b"host:123456",
            b"host:80:80",
            b"[::1",
            b"[]",
            b"[::1]x",
            b"[::1%eth0]",
            b"a]b",
            b"h\x80st",
        ];
        for v in bad {
            assert!(parse_host(v).is_err(), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn splits_host_and_port() {
        assert_eq!(split_host_port(b"a.example:8080"), (&b"a.example"[..], &b"8080"[..]));
        assert_eq!(split_host_port(b"a.example"), (&b"a.example"[..], &b""[..]));
        assert_eq!(split_host_port(b"[::1]:80"), (&b"[::1]"[..], &b"80"[..]));
        assert_eq!(split_host_port(b"[::1]"), (&b"[::1]"[..], &b""[..]));
    }
}
