//! Query-string matching as Go's `URL.Query()` sees it, without allocating.
//!
//! Owns splitting pairs on `&` and `;`, dropping pairs whose key or value has a bad `%`
//! escape (as `url.ParseQuery` does), and comparing `+`/`%XX`-decoded bytes on the fly. Must
//! never allocate on the request path, except to grow a per-thread scratch buffer once for a
//! `QueryRegexp` value longer than [`STACK_DECODE`] bytes after decoding.

use std::cell::RefCell;

use regex::bytes::Regex;

/// Decoded values up to this length are matched from a stack buffer.
const STACK_DECODE: usize = 1024;

/// Is there a pair with decoded key `key` whose encoded value passes `check`? Pairs whose value
/// does not decode are skipped, as Go skips them.
fn any_pair(query: &[u8], key: &[u8], mut check: impl FnMut(&[u8]) -> bool) -> bool {
    for pair in query.split(|&b| b == b'&' || b == b';') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (pair.get(..eq).unwrap_or(&[]), pair.get(eq + 1..).unwrap_or(&[])),
            None => (pair, &[][..]),
        };
        if decoded_eq(k, key) && Decode::new(v).all(|b| b.is_some()) && check(v) {
            return true;
        }
    }
    false
}

/// `Query(key[, value])`: some pair has this key and exactly this value (`""` for one argument).
pub(crate) fn query_eq(query: &[u8], key: &[u8], value: &[u8]) -> bool {
    any_pair(query, key, |v| decoded_eq(v, value))
}

/// `QueryRegexp(key, re)`: some pair has this key and a decoded value `re` matches.
pub(crate) fn query_regex(query: &[u8], key: &[u8], re: &Regex) -> bool {
    any_pair(query, key, |v| {
        if !v.iter().any(|&b| b == b'%' || b == b'+') {
            return re.is_match(v);
        }
        let mut stack = [0u8; STACK_DECODE];
        let mut len = 0;
        let mut fits = true;
        for b in Decode::new(v).flatten() {
            match stack.get_mut(len) {
                Some(slot) => {
                    *slot = b;
                    len += 1;
                }
                None => {
                    fits = false;
                    break;
                }
            }
        }
        if fits {
            return re.is_match(stack.get(..len).unwrap_or(&[]));
        }
        thread_local! {
            static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                buf.extend(Decode::new(v).flatten());
                re.is_match(&buf)
            }
            Err(_) => false,
        })
    })
}

/// Does `encoded` decode without error to exactly `want`?
fn decoded_eq(encoded: &[u8], want: &[u8]) -> bool {
    let mut want = want.iter();
    for b in Decode::new(encoded) {
        match (b, want.next()) {
            (Some(b), Some(&w)) if b == w => {}
            _ => return false,
        }
    }
    want.next().is_none()
}

/// Decodes `+` as space and `%XX`; yields `None` for a bad escape (then stops).
struct Decode<'a> {
    rest: &'a [u8],
}

impl<'a> Decode<'a> {
    fn new(encoded: &'a [u8]) -> Decode<'a> {
        Decode { rest: encoded }
    }
}

impl Iterator for Decode<'_> {
    type Item = Option<u8>;

    fn next(&mut self) -> Option<Option<u8>> {
        let (&b, rest) = self.rest.split_first()?;
        match b {
            b'+' => {
                self.rest = rest;
                Some(Some(b' '))
            }
            b'%' => {
                let hex = |i: usize| rest.get(i).and_then(|&h| char::from(h).to_digit(16));
                match (hex(0), hex(1)) {
                    (Some(hi), Some(lo)) => {
                        self.rest = rest.get(2..).unwrap_or(&[]);
                        u8::try_from(hi * 16 + lo).ok().map(Some)
                    }
                    _ => {
                        self.rest = &[];
                        Some(None)
                    }
                }
            }
            _ => {
                self.rest = rest;
                Some(Some(b))
            }
        }
    }
}
