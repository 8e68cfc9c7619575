//! One pass over a provider body that finds every router and service entry without decoding it.
//!
//! Owns the split of a body into its `http.routers` and `http.services` entries (name and raw JSON, in body order)
//! and a *skeleton*: the same body with those two maps emptied, small enough to decode in full for everything else
//! (top-level and `http` keys, middlewares, shape errors). The whole body is still validated as JSON here, so a
//! body that splits is a body [`super::decode`] accepts as JSON. Keys are matched as the decoder matches them
//! (ASCII case-insensitive). Never interprets an entry and never formats a value into text (values may be
//! secrets); pure, no I/O.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::node::Key;

/// One map entry as written: its name (unescaped) and its value's raw JSON.
pub type RawEntry<'a> = (Cow<'a, str>, &'a RawValue);

/// A body split into its router and service entries and the rest.
#[derive(Debug, Default)]
pub struct Split<'a> {
    /// The body with the `routers` and `services` maps of `http` replaced by `{}` (a non-object value by a value
    /// of the same kind, so the decoder reports the same shape error).
    pub skeleton: Vec<u8>,
    /// `http.routers` entries in body order (every `routers` key, whatever its case).
    pub routers: Vec<RawEntry<'a>>,
    /// `http.services` entries in body order.
    pub services: Vec<RawEntry<'a>>,
}

/// Splits `body` (already checked for size, BOM and emptiness).
///
/// # Errors
///
/// serde_json's error when the body is not JSON (or has trailing characters).
pub fn split(body: &[u8]) -> Result<Split<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut out = Split {
        skeleton: Vec::with_capacity(256),
        ..Split::default()
    };
    Part::Top.deserialize_into(&mut de, &mut out)?;
    de.end()?;
    Ok(out)
}

/// Where in the document a value sits.
#[derive(Clone, Copy)]
enum Part {
    /// The whole body.
    Top,
    /// The value of a top-level `http` key.
    Http,
    /// The value of `http.routers` (true) or `http.services` (false).
    Entries(bool),
}

impl Part {
    fn deserialize_into<'de, D: Deserializer<'de>>(self, de: D, out: &mut Split<'de>) -> Result<(), D::Error> {
        de.deserialize_any(PartVisitor { part: self, out })
    }
}

struct PartSeed<'s, 'de> {
    part: Part,
    out: &'s mut Split<'de>,
}

impl<'de> DeserializeSeed<'de> for PartSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        self.part.deserialize_into(de, self.out)
    }
}

struct PartVisitor<'s, 'de> {
    part: Part,
    out: &'s mut Split<'de>,
}

impl PartVisitor<'_, '_> {
    /// A value of the same kind as the one read, for the skeleton: the decoder's messages name kinds only.
    fn stand_in(self, text: &[u8]) {
        self.out.skeleton.extend_from_slice(text);
    }
}

impl<'de> Visitor<'de> for PartVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.stand_in(b"null");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.stand_in(b"false");
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.stand_in(b"0");
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.stand_in(b"0");
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.stand_in(b"0");
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.stand_in(b"\"\"");
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.stand_in(b"[]");
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let out = self.out;
        if let Part::Entries(routers) = self.part {
            while let Some(Key(name)) = map.next_key::<Key<'de>>()? {
                let raw: &'de RawValue = map.next_value()?;
                let list = if routers { &mut out.routers } else { &mut out.services };
                list.push((name, raw));
            }
            out.skeleton.extend_from_slice(b"{}");
            return Ok(());
        }
        out.skeleton.push(b'{');
        let mut first = true;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if !std::mem::take(&mut first) {
                out.skeleton.push(b',');
            }
            // A key always serialises (it is a string).
            serde_json::to_writer(&mut out.skeleton, key.as_ref()).map_err(de::Error::custom)?;
            out.skeleton.push(b':');
            let inner = match self.part {
                Part::Top if key.eq_ignore_ascii_case("http") => Some(Part::Http),
                Part::Http if key.eq_ignore_ascii_case("routers") => Some(Part::Entries(true)),
                Part::Http if key.eq_ignore_ascii_case("services") => Some(Part::Entries(false)),
                _ => None,
            };
            match inner {
                Some(part) => map.next_value_seed(PartSeed { part, out: &mut *out })?,
                None => {
                    let raw: &'de RawValue = map.next_value()?;
                    out.skeleton.extend_from_slice(raw.get().as_bytes());
                }
            }
        }
        out.skeleton.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(entries: &'a [RawEntry<'_>]) -> Vec<(&'a str, &'a str)> {
        entries.iter().map(|(n, raw)| (n.as_ref(), raw.get())).collect()
    }

    #[test]
    fn entries_come_out_raw_and_the_skeleton_keeps_the_rest() {
        let body = br#"{"http":{"Routers":{"a":{"rule":"Host(`a`)"},"b\u0041":null},"middlewares":{"m":{"x":1}},
            "services":{"s":{"loadBalancer":{}}}},"tcp":{}}"#;
        let split = split(body).expect("splits");
        assert_eq!(
            names(&split.routers),
            [("a", r#"{"rule":"Host(`a`)"}"#), ("bA", "null")]
        );
        assert_eq!(names(&split.services), [("s", r#"{"loadBalancer":{}}"#)]);
        assert_eq!(
            String::from_utf8_lossy(&split.skeleton),
            r#"{"http":{"Routers":{},"middlewares":{"m":{"x":1}},"services":{}},"tcp":{}}"#
        );
    }

    #[test]
    fn a_map_of_the_wrong_kind_keeps_its_kind_in_the_skeleton() {
        let split = split(br#"{"http":{"routers":[1,2],"services":"x"}}"#).expect("splits");
        assert!(split.routers.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&split.skeleton),
            r#"{"http":{"routers":[],"services":""}}"#
        );
        let split = super::split(br#"[{"http":1}]"#).expect("splits");
        assert_eq!(String::from_utf8_lossy(&split.skeleton), "[]");
    }

    #[test]
    fn invalid_json_anywhere_is_an_error() {
        assert!(split(br#"{"http":{"routers":{"a":{"rule":}}}}"#).is_err());
        assert!(split(br#"{"http":{}} x"#).is_err());
        assert!(split(br#"{"other":[1,}"#).is_err());
    }
}
