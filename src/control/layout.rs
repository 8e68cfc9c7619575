//! Where each router and service entry sits in the last applied provider body, and how a new body differs.
//!
//! Owns byte positions only: for each of `http.routers` and `http.services`, every entry's key and value span (in
//! body order) and the map's braces. [`Layout::diff`] finds the one region of a new body that differs from the old
//! (common prefix and suffix) and, when that region lies inside one map, re-reads just the entries it covers:
//! a body that changed in one app costs two passes of `memcmp` and a parse of a few hundred bytes instead of a
//! parse of every entry. Anything else (a change outside the maps, a region that does not parse as entries) is
//! left to a full split, which also produces every error message. Pure; never decodes an entry.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::provider::shallow::RawEntry;

/// One entry's place in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The opening quote of its key.
    pub key: usize,
    /// Its value's first byte.
    pub start: usize,
    /// One past its value's last byte.
    pub end: usize,
    /// Its name, unescaped.
    pub name: Box<str>,
    /// Its value is `null` (an absent entry).
    pub null: bool,
}

/// The entries of one map and where its braces are (`None` when it has no entries or is absent).
#[derive(Debug, Clone, Default)]
pub struct MapLayout {
    pub entries: Vec<Placed>,
    pub braces: Option<(usize, usize)>,
}

/// `http.routers` (index 0) and `http.services` (index 1) of one body.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub maps: [MapLayout; 2],
}

/// How a new body differs from the old one: in map `map`, the old entries `old` are replaced by `new`; every byte
/// after them moved by `delta`.
#[derive(Debug)]
pub struct Patch<'a> {
    pub map: usize,
    pub old: std::ops::Range<usize>,
    pub new: Vec<(Placed, &'a RawValue)>,
    pub delta: isize,
}

impl Layout {
    /// The layout of `body` from its split entries (whose values point into `body`). `None` when a position cannot
    /// be found (the caller then never patches this body).
    pub fn new(body: &[u8], routers: &[RawEntry<'_>], services: &[RawEntry<'_>]) -> Option<Layout> {
        let base = body.as_ptr() as usize;
        let mut maps: [MapLayout; 2] = Default::default();
        for (map, entries) in maps.iter_mut().zip([routers, services]) {
            for (name, raw) in entries {
                let start = (raw.get().as_ptr() as usize).checked_sub(base)?;
                map.entries.push(place(body, start, name, raw)?);
            }
            if let (Some(first), Some(last)) = (map.entries.first(), map.entries.last()) {
                let open = skip_back_ws(body, first.key)?;
                let close = skip_ws(body, last.end)?;
                if body.get(open) != Some(&b'{') || body.get(close) != Some(&b'}') {
                    return None;
                }
                map.braces = Some((open, close));
            }
        }
        Some(Layout { maps })
    }

    /// The patch that turns `old` (this layout's body) into `new`, when their one differing region lies inside a map
    /// with entries and re-reads as entries. `None`: split `new` in full.
    pub fn diff<'n>(&self, old: &[u8], new: &'n [u8], scratch: &'n mut Vec<u8>) -> Option<Patch<'n>> {
        let prefix = common_prefix(old, new);
        let most = old.len().min(new.len()) - prefix;
        let suffix = common_suffix(&old[prefix..], &new[prefix..]).min(most);
        let (lo, hi) = (prefix, old.len() - suffix);
        let (map, layout, (open, close)) = self
            .maps
            .iter()
            .enumerate()
            .find_map(|(i, m)| m.braces.filter(|&(o, c)| o < lo && hi <= c).map(|b| (i, m, b)))?;
        let entries = &layout.entries;
        let before = entries.partition_point(|e| e.key <= lo);
        let (first, from) = match before.checked_sub(1) {
            Some(i) => (i, entries[i].key),
            None => (0, open + 1),
        };
        let after = entries.partition_point(|e| e.end < hi);
        let (stop, to) = match entries.get(after) {
            Some(e) => (after + 1, e.end),
            None => (entries.len(), close),
        };
        let delta = isize::try_from(new.len()).ok()? - isize::try_from(old.len()).ok()?;
        let new_to = usize::try_from(isize::try_from(to).ok()? + delta).ok()?;
        let region = new.get(from..new_to)?;
        scratch.clear();
        scratch.push(b'{');
        scratch.extend_from_slice(region);
        scratch.push(b'}');
        let scratch: &'n [u8] = scratch;
        let parsed = entries_of(scratch)?;
        if parsed.is_empty() {
            // Nothing left between the neighbours: they must still be separated by exactly one comma.
            let left = new.get(skip_back_ws(new, from)?)?;
            let right = new.get(skip_ws(new, new_to)?)?;
            if matches!((left, right), (b',', b',') | (b'{', b',') | (b',', b'}')) {
                return None;
            }
        }
        let scratch_base = scratch.as_ptr() as usize;
        let mut placed = Vec::with_capacity(parsed.len());
        for (name, raw) in parsed {
            // Offset in the scratch buffer, minus its `{`, plus where the region starts in `new`.
            let at = (raw.get().as_ptr() as usize)
                .checked_sub(scratch_base)?
                .checked_sub(1)?
                + from;
            placed.push((place(new, at, &name, raw)?, raw));
        }
        Some(Patch {
            map,
            old: first..stop.max(first),
            new: placed,
            delta,
        })
    }

    /// Applies `patch` (made by [`Layout::diff`] on this layout); returns the entries it replaced.
    pub fn apply(&mut self, patch: &Patch<'_>) -> Vec<Placed> {
        let shift = |at: &mut usize| *at = at.wrapping_add_signed(patch.delta);
        let touched = &mut self.maps[patch.map];
        let replaced: Vec<Placed> = touched
            .entries
            .splice(patch.old.clone(), patch.new.iter().map(|(p, _)| p.clone()))
            .collect();
        let moved_from = patch.old.start + patch.new.len();
        for e in touched.entries.iter_mut().skip(moved_from) {
            shift(&mut e.key);
            shift(&mut e.start);
            shift(&mut e.end);
        }
        let edge = touched.braces.map(|(open, _)| open);
        if let Some((_, close)) = touched.braces.as_mut() {
            shift(close);
        }
        if touched.entries.is_empty() {
            touched.braces = None;
        }
        // The other map moves too when it comes after this one.
        let other = &mut self.maps[1 - patch.map];
        if let (Some(edge), Some((open, close))) = (edge, other.braces.as_mut()) {
            if *open > edge {
                shift(open);
                shift(close);
                for e in &mut other.entries {
                    shift(&mut e.key);
                    shift(&mut e.start);
                    shift(&mut e.end);
                }
            }
        }
        replaced
    }
}

fn place(body: &[u8], start: usize, name: &str, raw: &RawValue) -> Option<Placed> {
    Some(Placed {
        key: key_start(body, start)?,
        start,
        end: start + raw.get().len(),
        name: name.into(),
        null: raw.get() == "null",
    })
}

/// The opening quote of the key whose value starts at `value`: back over `"key" :`, where the key's opening quote
/// is the first quote not escaped by an odd run of backslashes (a key holds no unescaped quote).
fn key_start(body: &[u8], value: usize) -> Option<usize> {
    let colon = skip_back_ws(body, value)?;
    if body.get(colon) != Some(&b':') {
        return None;
    }
    let close = skip_back_ws(body, colon)?;
    if body.get(close) != Some(&b'"') {
        return None;
    }
    let mut at = close;
    loop {
        at = at.checked_sub(1)?;
        if body.get(at) == Some(&b'"') {
            let slashes = body[..at].iter().rev().take_while(|&&b| b == b'\\').count();
            if slashes % 2 == 0 {
                return Some(at);
            }
        }
    }
}

/// The position of the last non-whitespace byte before `at`.
fn skip_back_ws(body: &[u8], at: usize) -> Option<usize> {
    body.get(..at)?.iter().rposition(|b| !b.is_ascii_whitespace())
}

/// The position of the first non-whitespace byte at or after `at`.
fn skip_ws(body: &[u8], at: usize) -> Option<usize> {
    Some(at + body.get(at..)?.iter().position(|b| !b.is_ascii_whitespace())?)
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 4096;
    let mut at = 0;
    let n = a.len().min(b.len());
    while at + CHUNK <= n && a[at..at + CHUNK] == b[at..at + CHUNK] {
        at += CHUNK;
    }
    at + a[at..n].iter().zip(&b[at..n]).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 4096;
    let n = a.len().min(b.len());
    let mut same = 0;
    while same + CHUNK <= n && a[a.len() - same - CHUNK..a.len() - same] == b[b.len() - same - CHUNK..b.len() - same] {
        same += CHUNK;
    }
    same + a[..a.len() - same]
        .iter()
        .rev()
        .zip(b[..b.len() - same].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The entries of a JSON object (name and raw value), or `None` when `text` is not exactly one object.
fn entries_of(text: &[u8]) -> Option<Vec<RawEntry<'_>>> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let entries = de.deserialize_map(EntriesVisitor).ok()?;
    de.end().ok()?;
    Some(entries)
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Vec<RawEntry<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let raw: &'de RawValue = map.next_value()?;
            out.push((key, raw));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(body: &[u8]) -> Layout {
        let split = crate::provider::shallow::split(body).expect("splits");
        Layout::new(body, &split.routers, &split.services).expect("a layout")
    }

    fn names(patch: &Patch<'_>) -> Vec<String> {
        patch.new.iter().map(|(p, _)| p.name.to_string()).collect()
    }

    #[test]
    fn positions_are_found_around_escaped_keys() {
        let body = br#"{"http":{"routers":{ "a\"b" : {"x":1} ,"c":null},"services":{"s":{}}}}"#;
        let l = layout(body);
        let a = &l.maps[0].entries[0];
        assert_eq!((&*a.name, &body[a.key..a.end]), ("a\"b", &br#""a\"b" : {"x":1}"#[..]));
        assert!(l.maps[0].entries[1].null);
        let (open, close) = l.maps[1].braces.expect("services has entries");
        assert_eq!(&body[open..=close], br#"{"s":{}}"#);
    }

    #[test]
    fn a_change_inside_one_entry_rereads_only_that_entry() {
        let old =
            br#"{"http":{"routers":{"a":{"rule":"x"},"b":{"rule":"y"},"c":{"rule":"z"}},"services":{"s":{"n":1}}}}"#;
        let new =
            br#"{"http":{"routers":{"a":{"rule":"x"},"b":{"rule":"yyy"},"c":{"rule":"z"}},"services":{"s":{"n":1}}}}"#;
        let mut l = layout(old);
        let mut scratch = Vec::new();
        let patch = l.diff(old, new, &mut scratch).expect("a patch");
        assert_eq!(
            (patch.map, patch.old.clone(), names(&patch), patch.delta),
            (0, 1..2, vec!["b".into()], 2)
        );
        let replaced = l.apply(&patch);
        assert_eq!(replaced[0].name.as_ref(), "b");
        // The patched layout is the layout of the new body.
        let fresh = layout(new);
        assert_eq!(l.maps[0].entries, fresh.maps[0].entries);
        assert_eq!(l.maps[1].entries, fresh.maps[1].entries);
        assert_eq!(l.maps[1].braces, fresh.maps[1].braces);
    }

    #[test]
    fn additions_and_removals_patch_like_a_fresh_layout() {
        let bodies: [&[u8]; 7] = [
            br#"{"http":{"routers":{"a":1,"b":2,"c":3},"services":{"s":1}}}"#,
            br#"{"http":{"routers":{"a":1,"c":3},"services":{"s":1}}}"#,
            br#"{"http":{"routers":{"a":1,"c":3,"d":4},"services":{"s":1}}}"#,
            br#"{"http":{"routers":{"z":0,"a":1,"c":3,"d":4},"services":{"s":1}}}"#,
            br#"{"http":{"routers":{"z":0,"a":1,"c":3,"d":4},"services":{"s":1,"t":2}}}"#,
            br#"{"http":{"routers":{"z":0,"a":1,"c":3,"d":4},"services":{"t":2}}}"#,
            br#"{"http":{"routers":{"z":0, "a" :1,"c":3,"d":4},"services":{"t":2}}}"#,
        ];
        let mut scratch = Vec::new();
        for pair in bodies.windows(2) {
            let (old, new) = (pair[0], pair[1]);
            let mut l = layout(old);
            let patch = l.diff(old, new, &mut scratch).expect("a patch");
            l.apply(&patch);
            let fresh = layout(new);
            for m in 0..2 {
                assert_eq!(
                    l.maps[m].entries,
                    fresh.maps[m].entries,
                    "{}",
                    String::from_utf8_lossy(new)
                );
                assert_eq!(l.maps[m].braces, fresh.maps[m].braces);
            }
        }
    }

    #[test]
    fn changes_outside_the_maps_or_that_break_them_are_left_to_a_full_split() {
        let old = br#"{"http":{"routers":{"a":1,"b":2},"services":{"s":1}},"x":1}"#;
        let mut scratch = Vec::new();
        let l = layout(old);
        for new in [
            &br#"{"http":{"routers":{"a":1,"b":2},"services":{"s":1}},"x":2}"#[..],
            br#"{"http":{"routers":{"a":1,,"b":2},"services":{"s":1}},"x":1}"#,
            br#"{"http":{"routers":{"a":1,"b":2,},"services":{"s":1}},"x":1}"#,
            br#"{"http":{"routers":{"a":1,"b":"2},"services":{"s":1}},"x":1}"#,
            br#"{"http":{"routers":{"b":2},"middlewares":{},"services":{"s":1}},"x":1}"#,
        ] {
            assert!(
                l.diff(old, new, &mut scratch).is_none(),
                "{}",
                String::from_utf8_lossy(new)
            );
        }
        // Emptying the region between two entries must leave one comma.
        let old = br#"{"http":{"routers":{"a":1,"b":2,"c":3}}}"#;
        let l = layout(old);
        assert!(l
            .diff(old, br#"{"http":{"routers":{"a":1,,"c":3}}}"#, &mut scratch)
            .is_none());
        assert!(l
            .diff(old, br#"{"http":{"routers":{"a":1,"c":3}}}"#, &mut scratch)
            .is_some());
    }
}
