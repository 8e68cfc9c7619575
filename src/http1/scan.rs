//! Finding where a head starts and ends, and enforcing CRLF line ends on the way.
//!
//! Owns the pass over raw bytes that runs before any parsing: skip the empty lines a client may
//! send before a request line, then find the first CRLFCRLF while checking that every LF is
//! preceded by CR (`httparse` accepts bare LF; we do not). Must never look inside lines beyond
//! that and never index unchecked: this runs on every read of untrusted input.

use super::error::HeadError;

/// Skips leading empty lines (`CRLF` only). Returns the offset of the first line, or `None` if
/// the buffer ends inside a CRLF so more bytes are needed to know.
///
/// RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request line.
pub(crate) fn skip_empty_lines(buf: &[u8]) -> Result<Option<usize>, HeadError> {
    let mut i = 0;
    loop {
        match buf.get(i..) {
            Some([b'\r', b'\n', ..]) => i += 2,
            Some([b'\r']) => return Ok(None),
            Some([b'\n', ..]) => return Err(HeadError::BadLineEnding("bare LF")),
            _ => return Ok(Some(i)),
        }
    }
}

/// Finds the end of the head that starts at `start`: the offset just past the first CRLFCRLF,
/// or `None` if it has not arrived. Every LF seen on the way must follow a CR.
pub(crate) fn find_head_end(buf: &[u8], start: usize) -> Result<Option<usize>, HeadError> {
    let mut from = start;
    while let Some(lf) = find_lf(buf, from) {
        if lf <= start || buf.get(lf - 1) != Some(&b'\r') {
            return Err(HeadError::BadLineEnding("bare LF"));
        }
        if lf >= start + 3 && buf.get(lf - 3..=lf) == Some(b"\r\n\r\n") {
            return Ok(Some(lf + 1));
        }
        from = lf + 1;
    }
    Ok(None)
}

/// Offset of the first `\n` in `hay` at or after `from`, eight bytes at a time.
fn find_lf(hay: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const LFS: u64 = ONES * b'\n' as u64;
    let tail = hay.get(from..)?;
    let mut chunks = tail.chunks_exact(8);
    let mut offset = from;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        let x = word ^ LFS;
        // Classic "has zero byte": the lowest set high bit marks the first zero (= LF) byte.
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| b == b'\n').map(|p| offset + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_lf_matches_naive_search() {
        let mut buf = [b'a'; 70];
        for lf_at in 0..buf.len() {
            buf.fill(b'a');
            if let Some(b) = buf.get_mut(lf_at) {
                *b = b'\n';
            }
            for from in 0..=buf.len() + 1 {
                let naive = buf
                    .get(from..)
                    .and_then(|t| t.iter().position(|&b| b == b'\n'))
                    .map(|p| p + from);
                assert_eq!(find_lf(&buf, from), naive, "lf_at {lf_at} from {from}");
            }
        }
        // Bytes just above and below LF must not be mistaken for it.
        let tricky = [0x0b, 0x09, 0x8a, 0x0a, 0x00, 0xff, 0x0a, 0x0a, 0x0b];
        assert_eq!(find_lf(&tricky, 0), Some(3));
        assert_eq!(find_lf(&tricky, 4), Some(6));
    }

    #[test]
    fn head_end_and_line_ends() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest", 0), Ok(Some(24)));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r", 0), Ok(None));
        assert!(find_head_end(b"GET / HTTP/1.1\nA: b\r\n\r\n", 0).is_err());
        assert!(find_head_end(b"GET / HTTP/1.1\r\nA: b\n\r\n", 0).is_err());
        assert!(find_head_end(b"GET / HTTP/1.1\r\n\n", 0).is_err());
        assert!(find_head_end(b"\nGET", 0).is_err());
    }

    #[test]
    fn skips_only_crlf_empty_lines() {
        assert_eq!(skip_empty_lines(b"\r\n\r\nGET"), Ok(Some(4)));
        assert_eq!(skip_empty_lines(b"\r\n\r"), Ok(None));
        assert_eq!(skip_empty_lines(b""), Ok(Some(0)));
        assert!(skip_empty_lines(b"\r\n\nGET").is_err());
        assert_eq!(skip_empty_lines(b"\rX"), Ok(Some(0)));
    }
}
