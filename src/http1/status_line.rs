//! The response status line: `HTTP/1.x SP 3DIGIT [SP reason-phrase] CRLF`.
//!
//! Owns the byte-level shape of a response's first line. Must never index unchecked; the reason
//! phrase may carry obs-text and is passed on as received. A missing reason (no SP before the
//! CRLF) is tolerated: it is common and unambiguous.

use super::chars::is_field_byte;
use super::error::HeadError;
use super::span::Span;

/// A complete, valid status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StatusLine {
    pub version_minor: u8,
    pub status: u16,
    pub reason: Span,
    /// Offset just past the line's CRLF.
    pub end: usize,
}

/// Parses the status line at `start`; `Ok(None)` means valid so far but incomplete.
pub(crate) fn parse(buf: &[u8], start: usize) -> Result<Option<StatusLine>, HeadError> {
    const SHAPE: &[u8; 12] = b"HTTP/1.d ddd";
    let fixed = buf.get(start..).unwrap_or(&[]);
    for (&got, &want) in fixed.iter().zip(SHAPE.iter()) {
        let ok = if want == b'd' {
            got.is_ascii_digit()
        } else {
            got == want
        };
        if !ok {
            return Err(HeadError::BadStatusLine("not HTTP/1.x SP 3DIGIT"));
        }
    }
    let version_minor = match fixed.get(7) {
        None => return Ok(None),
        Some(b'0') => 0,
        Some(b'1') => 1,
        Some(_) => return Err(HeadError::BadStatusLine("HTTP version not 1.0 or 1.1")),
    };
    let Some(&[h, t, o]) = fixed.get(9..12) else {
        return Ok(None);
    };
    let status = u16::from(h - b'0') * 100 + u16::from(t - b'0') * 10 + u16::from(o - b'0');
    if !(100..=599).contains(&status) {
        return Err(HeadError::BadStatusLine("status code outside 100..=599"));
    }
    let after = start + 12;
    match buf.get(after) {
        None => Ok(None),
        Some(b'\r') => match buf.get(after + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some(StatusLine {
                version_minor,
                status,
                reason: Span::empty_at(after),
                end: after + 2,
            })),
            Some(_) => Err(HeadError::BadStatusLine("bare CR")),
        },
        Some(b' ') => {
            let reason_start = after + 1;
            let mut i = reason_start;
            loop {
                match buf.get(i) {
                    None => return Ok(None),
                    Some(b'\r') => break,
                    Some(&b) if is_field_byte(b) => i += 1,
                    Some(_) => return Err(HeadError::BadStatusLine("invalid byte in reason")),
                }
            }
            match buf.get(i + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some(StatusLine {
                    version_minor,
                    status,
                    reason: Span::new(reason_start, i),
                    end: i + 2,
                })),
                Some(_) => Err(HeadError::BadStatusLine("bare CR")),
            }
        }
        Some(_) => Err(HeadError::BadStatusLine("status code not followed by SP or CRLF")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let l = parse(b"HTTP/1.1 200 OK\r\n", 0).ok().flatten();
        assert_eq!(
            l,
            Some(StatusLine {
                version_minor: 1,
                status: 200,
                reason: Span::new(13, 15),
                end: 17
            })
        );
        let l = parse(b"HTTP/1.0 404\r\n", 0).ok().flatten();
        assert_eq!(
            l.map(|l| (l.status, l.version_minor, l.reason.len())),
            Some((404, 0, 0))
        );
        let l = parse(b"HTTP/1.1 200 \xc3\xa9t\xe9\tok \r\n", 0).ok().flatten();
        assert_eq!(l.map(|l| l.reason.len()), Some(8));
    }

    #[test]
    fn prefixes_are_partial() {
        let full = b"HTTP/1.1 503 Service Unavailable\r\n";
        for n in 0..full.len() {
            assert_eq!(parse(full.get(..n).unwrap_or_default(), 0), Ok(None), "prefix {n}");
        }
    }

    #[test]
    fn rejects_bad_status_lines() {
        let bad: &[&[u8]] = &[
            b"HTTP/1.2 200 OK\r\n",
            b"HTTP/2.0 200 OK\r\n",
            b"HTTP/1.1 099 OK\r\n",
            b"HTTP/1.1 600 OK\r\n",
            b"HTTP/1.1 20 OK\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            b"HTTP/1.1  200 OK\r\n",
            b"HTTP/1.1 200 O\x00K\r\n",
            b"HTTP/1.1 200 OK\rX",
            b"HTTP/1.1 200\rX",
            b"http/1.1 200 OK\r\n",
            b"ICY 200 OK\r\n",
        ];
        for v in bad {
            assert!(parse(v, 0).is_err(), "{}", String::from_utf8_lossy(v));
        }
    }
}
