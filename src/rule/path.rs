//! The routing path: Traefik's entrypoint path normalisation, done once per request.
//!
//! Owns `normalizePath` (decode `%XX` of unreserved characters, upper-case the hex of the
//! rest, refuse bad escapes) and `sanitizePath` (Go's `path.Clean` on the escaped path,
//! keeping one trailing slash). Must never allocate when the path needs no change, and never
//! grow `out` beyond the raw path's length.

/// Why a path cannot be routed (the caller answers 400).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("invalid percent-escape at byte {0} of the path")]
    BadEscape(usize),
}

/// Returns the routing path for `raw` (the request path without the query): `raw` itself when
/// it needs no change (no `%`, no `//`, no `.`/`..` segment), else the normalised path
/// written into `out` (cleared first).
///
/// `/a/./b//c/../d` → `/a/b/d`; `/%7euser/%2f` → `/~user/%2F`; `/..` → `/`; a trailing slash
/// is kept (`/a/b/` stays). Paths not starting with `/` (`*`) only get escapes normalised.
pub fn normalize_path<'a>(raw: &'a [u8], out: &'a mut Vec<u8>) -> Result<&'a [u8], PathError> {
    if is_clean(raw) {
        return Ok(raw);
    }
    out.clear();
    out.reserve(raw.len());
    decode_unreserved(raw, out)?;
    if out.first() == Some(&b'/') {
        clean(out);
    }
    Ok(out.as_slice())
}

/// True when the path has no `%`, no empty segment and no `.`/`..` segment.
fn is_clean(path: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        match b {
            b'%' => return false,
            b'/' => match path.get(i + 1) {
                Some(b'/') => return false,
                Some(b'.') => {
                    let after = |n: usize| matches!(path.get(i + n), None | Some(b'/'));
                    if after(2) || (path.get(i + 2) == Some(&b'.') && after(3)) {
                        return false;
                    }
                }
                _ => {}
            },
            _ => {}
        }
        i += 1;
    }
    // A relative path starting with a dot segment is left alone (only rooted paths are cleaned).
    true
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Copies `raw` into `out`, decoding `%XX` of unreserved bytes and upper-casing other escapes.
fn decode_unreserved(raw: &[u8], out: &mut Vec<u8>) -> Result<(), PathError> {
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = |n: usize| raw.get(i + n).and_then(|&h| char::from(h).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(1), hex(2)) else {
            return Err(PathError::BadEscape(i));
        };
        let value = u8::try_from(hi * 16 + lo).map_err(|_| PathError::BadEscape(i))?;
        if is_unreserved(value) {
            out.push(value);
        } else {
            out.push(b'%');
            out.extend(raw.get(i + 1..i + 3).unwrap_or(&[]).iter().map(u8::to_ascii_uppercase));
        }
        i += 3;
    }
    Ok(())
}

/// Go's `path.Clean` for a rooted path, in place, then restores one trailing slash if the
/// input had one (as `url.URL.JoinPath` does).
fn clean(path: &mut Vec<u8>) {
    let trailing = path.last() == Some(&b'/');
    let n = path.len();
    let mut r = 1;
    let mut w = 1;
    while r < n {
        let at = |k: usize| path.get(k).copied();
        let end_at = |k: usize| matches!(path.get(k), None | Some(b'/'));
        if at(r) == Some(b'/') || (at(r) == Some(b'.') && end_at(r + 1)) {
            // An empty or `.` segment.
            r += 1;
        } else if at(r) == Some(b'.') && at(r + 1) == Some(b'.') && end_at(r + 2) {
            r += 2;
            // Back up to the previous '/', never above the root.
            if w > 1 {
                w -= 1;
                while w > 1 && path.get(w) != Some(&b'/') {
                    w -= 1;
                }
            }
        } else {
            if w != 1 {
                if let Some(slot) = path.get_mut(w) {
                    *slot = b'/';
                }
                w += 1;
            }
            while r < n && path.get(r) != Some(&b'/') {
                if let Some(b) = path.get(r).copied() {
                    if let Some(slot) = path.get_mut(w) {
                        *slot = b;
                    }
                }
                r += 1;
                w += 1;
            }
        }
    }
    path.truncate(w);
    if trailing && path.last() != Some(&b'/') {
        path.push(b'/');
    }
}
