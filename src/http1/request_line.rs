//! The request line: `method SP request-target SP HTTP/1.x CRLF`, strictly.
//!
//! Owns the byte-level shape of the first line and the errors that can be decided before the head
//! is complete (414 for a long target, 505 for another version, 400 for garbage), so a client that
//! sends a bad line is refused at once instead of when its buffer fills. Must never interpret the
//! target (that is `target.rs`) and never index unchecked.

use super::chars::is_tchar;
use super::error::HeadError;
use super::span::Span;

/// Longest method accepted. Registered methods are at most 17 bytes; the cap keeps a stream of
/// method bytes from being rescanned on every read.
const MAX_METHOD: usize = 64;

/// A complete, valid request line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestLine {
    pub method: Span,
    pub target: Span,
    pub version_minor: u8,
    /// Offset just past the line's CRLF.
    pub end: usize,
}

/// Parses the request line starting at `start`. `Ok(None)` means the line is valid so far but
/// incomplete; errors are reported as soon as the bytes received prove them.
pub(crate) fn parse(buf: &[u8], start: usize, max_target: usize) -> Result<Option<RequestLine>, HeadError> {
    // method
    let mut i = start;
    loop {
        match buf.get(i) {
            None => return Ok(None),
            Some(b' ') if i > start => break,
            Some(&b) if is_tchar(b) => i += 1,
            Some(_) => return Err(HeadError::BadRequestLine("method is not a token")),
        }
        if i - start > MAX_METHOD {
            return Err(HeadError::BadRequestLine("method too long"));
        }
    }
    let method = Span::new(start, i);

    // request-target: visible ASCII except '#', exactly one SP on each side
    let target_start = i + 1;
    let mut i = target_start;
    loop {
        match buf.get(i) {
            None => return Ok(None),
            Some(b' ') if i > target_start => break,
            Some(b' ') => return Err(HeadError::BadRequestLine("empty request target")),
            Some(b'\r') if i > target_start => return Err(HeadError::VersionNotSupported),
            Some(b'#') => return Err(HeadError::BadTarget("fragment in request target")),
            Some(&b) if (0x21..=0x7e).contains(&b) => i += 1,
            Some(_) => return Err(HeadError::BadTarget("invalid byte in request target")),
        }
        if i - target_start > max_target {
            return Err(HeadError::TargetTooLong);
        }
    }
    let target = Span::new(target_start, i);

    // HTTP-version CRLF
    let v = i + 1;
    let version_minor = match parse_version(buf.get(v..).unwrap_or(&[]))? {
        Some(minor) => minor,
        None => return Ok(None),
    };
    match buf.get(v + 8..v + 10) {
        None if buf.get(v + 8).is_none_or(|&b| b == b'\r') => Ok(None),
        Some(b"\r\n") => Ok(Some(RequestLine {
            method,
            target,
            version_minor,
            end: v + 10,
        })),
        _ => Err(HeadError::BadRequestLine("junk after HTTP version")),
    }
}

/// Checks an `HTTP/d.d` prefix against what has arrived. `Ok(None)`: valid so far but short.
/// A well-formed version other than 1.0 / 1.1 is 505; anything else shaped wrong is 400.
fn parse_version(v: &[u8]) -> Result<Option<u8>, HeadError> {
    const SHAPE: &[u8; 8] = b"HTTP/d.d";
    for (&got, &want) in v.iter().zip(SHAPE) {
        let ok = if want == b'd' {
            got.is_ascii_digit()
        } else {
            got == want
        };
        if !ok {
            return Err(HeadError::BadRequestLine("malformed HTTP version"));
        }
    }
    match v.get(5..8) {
        None => Ok(None),
        Some(b"1.0") => Ok(Some(0)),
        Some(b"1.1") => Ok(Some(1)),
        Some(_) => Err(HeadError::VersionNotSupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &[u8]) -> Result<Option<RequestLine>, HeadError> {
        parse(s, 0, 32)
    }

    #[test]
    fn parses_a_line() {
        let l = line(b"GET /a?b HTTP/1.1\r\nHost").ok().flatten();
        assert_eq!(
            l,
            Some(RequestLine {
                method: Span::new(0, 3),
                target: Span::new(4, 8),
                version_minor: 1,
                end: 19,
            })
        );
        let l = line(b"OPTIONS * HTTP/1.0\r\n").ok().flatten();
        assert_eq!(l.map(|l| l.version_minor), Some(0));
    }

    #[test]
    fn every_prefix_of_a_valid_line_is_partial() {
        let full = b"PATCH /x/y?z=1 HTTP/1.1\r\n";
        for n in 0..full.len() {
            assert_eq!(line(full.get(..n).unwrap_or_default()), Ok(None), "prefix {n}");
        }
        assert!(matches!(line(full), Ok(Some(_))));
    }

    #[test]
    fn rejects_bad_lines() {
        let cases: &[(&[u8], HeadError)] = &[
            (
                b"G(T / HTTP/1.1\r\n",
                HeadError::BadRequestLine("method is not a token"),
            ),
            (
                b" GET / HTTP/1.1\r\n",
                HeadError::BadRequestLine("method is not a token"),
            ),
            (
                b"GET  / HTTP/1.1\r\n",
                HeadError::BadRequestLine("empty request target"),
            ),
            (
                b"GET / HTTP/1.1 \r\n",
                HeadError::BadRequestLine("junk after HTTP version"),
            ),
            (
                b"GET / HTTP/1.10\r\n",
                HeadError::BadRequestLine("junk after HTTP version"),
            ),
            (
                b"GET / HTTP/1.1\rX",
                HeadError::BadRequestLine("junk after HTTP version"),
            ),
            (
                b"GET / http/1.1\r\n",
                HeadError::BadRequestLine("malformed HTTP version"),
            ),
            (
                b"GET / HTTP/1.x\r\n",
                HeadError::BadRequestLine("malformed HTTP version"),
            ),
            (b"GET / HTTP/1.2\r\n", HeadError::VersionNotSupported),
            (b"GET / HTTP/2.0\r\n", HeadError::VersionNotSupported),
            (b"GET / HTTP/0.9\r\n", HeadError::VersionNotSupported),
            (b"GET /\r\n", HeadError::VersionNotSupported),
            (
                b"GET /a#b HTTP/1.1\r\n",
                HeadError::BadTarget("fragment in request target"),
            ),
            (
                b"GET /a\tb HTTP/1.1\r\n",
                HeadError::BadTarget("invalid byte in request target"),
            ),
            (
                b"GET /\x80 HTTP/1.1\r\n",
                HeadError::BadTarget("invalid byte in request target"),
            ),
            (
                b"GET /\x7f HTTP/1.1\r\n",
                HeadError::BadTarget("invalid byte in request target"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(line(input), Err(*want), "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn long_target_is_414_while_partial() {
        let mut buf = b"GET /".to_vec();
        buf.extend(std::iter::repeat_n(b'a', 40));
        assert_eq!(line(&buf), Err(HeadError::TargetTooLong));
        // exactly at the limit is fine
        let mut ok = b"GET /".to_vec();
        ok.extend(std::iter::repeat_n(b'a', 31));
        ok.extend(b" HTTP/1.1\r\n");
        assert!(matches!(line(&ok), Ok(Some(_))));
    }

    #[test]
    fn long_method_is_rejected_early() {
        let buf = [b'A'; 100];
        assert_eq!(line(&buf), Err(HeadError::BadRequestLine("method too long")));
    }
}
