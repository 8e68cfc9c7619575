//! Traefik dynamic-configuration JSON (the HTTP provider's body) to a typed [`Dynamic`].
//!
//! Owns the top level and the `http` section: which sections are read, how one bad router or
//! service is isolated, and what makes a whole body unusable ([`DecodeError`]). Pure: no I/O,
//! never touches a client socket, never runs on a worker (the control thread decodes).
//!
//! Read like Traefik's decoder (paerser) where that is safe: keys case-insensitive
//! (`loadbalancer`, `CertResolver`), scalars as text or numbers (`"priority": "10"`), `null` as
//! absent, top-level keys other than `http` ignored. Deliberately unlike Traefik:
//! - an empty body is an error ([`DecodeError::Empty`]), so the caller keeps its last table
//!   (Traefik removes every route);
//! - `{}`, `{"http":{}}` and empty `routers`/`services` maps are a valid, empty configuration,
//!   so deleting the last app takes effect (Traefik rejects empty maps and keeps stale routes);
//! - an unknown key inside a router or service is a warning, and a router or service whose own
//!   value has the wrong shape is rejected alone ([`Dynamic::invalid`]): one odd entry never
//!   takes the whole table down (Traefik rejects the whole body for either);
//! - a name defined twice in one map rejects that name (Traefik rejects the whole body).
//!
//! Messages name keys, never values: middleware and health-check sections may hold secrets.

use std::collections::btree_map::Entry as MapEntry;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::fields::{self, At, Notes};
use super::node::Node;
use super::router;
pub use super::router::{Domain, RouterConf, TlsConf};
use super::service;
pub use super::service::{LoadBalancer, ServerConf, ServiceConf, ServiceKind};
use super::shallow::{self, RawEntry, Split};
use serde_json::value::RawValue;

/// Largest body [`decode`] accepts (and the HTTP provider reads): 64 MiB.
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// The `http` section of one provider body.
#[derive(Clone, PartialEq, Default)]
pub struct Dynamic {
    /// Usable routers by name (as written, without `@http`).
    pub routers: BTreeMap<String, RouterConf>,
    /// Usable services by name (as written, without `@http`).
    pub services: BTreeMap<String, ServiceConf>,
    /// Middlewares by name, values unparsed: only their names matter so far. The values may
    /// hold secrets (headers, basic-auth users): [`fmt::Debug`] prints the names only.
    pub middlewares: BTreeMap<String, serde_json::Value>,
    /// Routers and services left out because their own value is unusable, in body order.
    pub invalid: Vec<Rejected>,
    /// Keys read past (unknown ones, Traefik options ringress lacks), one line each, e.g.
    /// `router "x@http": unknown key "foo" ignored`. Never contains a value.
    pub warnings: Vec<String>,
}

impl fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dynamic")
            .field("routers", &self.routers)
            .field("services", &self.services)
            .field("middlewares", &self.middlewares.keys().collect::<Vec<_>>())
            .field("invalid", &self.invalid)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// A router or service left out of [`Dynamic`], and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Router or service.
    pub section: Section,
    /// The qualified name, `name@http`.
    pub name: String,
    /// What is wrong, naming the key inside the entry (`rule: expected text, got a number`).
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} \"{}\": {}", self.section, self.name, self.reason)
    }
}

/// Which map of the `http` section an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `http.routers`.
    Router,
    /// `http.services`.
    Service,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Router => "router",
            Section::Service => "service",
        })
    }
}

/// Why a whole body is unusable; the caller keeps its last configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Nothing but whitespace. Traefik would remove every route; ringress keeps them.
    #[error("empty body (the last configuration is kept; send {{}} to remove every route)")]
    Empty,
    /// Larger than [`MAX_BODY_BYTES`].
    #[error("body of {size} bytes is larger than the {limit}-byte limit")]
    TooLarge {
        /// Body size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Not JSON. The reason never quotes the body.
    #[error("invalid JSON at line {line} column {column}: {reason}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's reason, without the position.
        reason: String,
    },
    /// The body or its `http` section has the wrong shape, e.g. `http.routers` is a list.
    #[error("invalid dynamic configuration: {reason}")]
    Shape {
        /// What is wrong, naming the key (`http.routers: expected an object, got a list`).
        reason: String,
    },
}

/// Known `http` keys ringress reads past.
const HTTP_UNSUPPORTED: &[&str] = &["serversTransports", "models"];
/// Traefik top-level sections ringress does not serve (warned about when not empty).
const TOP_UNSUPPORTED: [&str; 3] = ["tcp", "udp", "tls"];

/// Decodes one provider body.
///
/// # Errors
///
/// [`DecodeError`] when the body as a whole is unusable. A bad router or service is not an
/// error: it lands in [`Dynamic::invalid`] and the rest is decoded.
pub fn decode(body: &[u8]) -> Result<Dynamic, DecodeError> {
    let split = split_body(body)?;
    let mut dynamic = decode_skeleton(&split.skeleton)?;
    let Dynamic {
        routers,
        services,
        invalid,
        warnings,
        ..
    } = &mut dynamic;
    decode_map(
        split.routers,
        Section::Router,
        router::decode,
        routers,
        invalid,
        warnings,
    );
    decode_map(
        split.services,
        Section::Service,
        service::decode,
        services,
        invalid,
        warnings,
    );
    Ok(dynamic)
}

/// Checks a body's size, strips a BOM and splits it into its router and service entries (see [`shallow`]).
///
/// # Errors
///
/// [`DecodeError::TooLarge`], [`DecodeError::Empty`] or [`DecodeError::Json`].
pub fn split_body(body: &[u8]) -> Result<Split<'_>, DecodeError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(DecodeError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    shallow::split(body).map_err(json_error)
}

/// Decodes everything but the router and service entries: a [`Split::skeleton`]. The entries of the
/// result's `routers` and `services` are empty; [`decode_router`] and [`decode_service`] decode them one by one.
///
/// # Errors
///
/// [`DecodeError`] when the body's shape is unusable (e.g. `http.routers` is a list).
pub fn decode_skeleton(skeleton: &[u8]) -> Result<Dynamic, DecodeError> {
    let root: Node = serde_json::from_slice(skeleton).map_err(json_error)?;
    let entries = fields::object(root, &At::Top).map_err(|reason| DecodeError::Shape {
        reason: format!("top level: {reason}"),
    })?;
    let mut dynamic = Dynamic::default();
    let mut http = None;
    for (key, value) in entries {
        if matches!(value, Node::Null) {
            continue;
        }
        if key.eq_ignore_ascii_case("http") {
            if http.replace(value).is_some() {
                return Err(shape("`http` given twice (keys are case-insensitive)".to_owned()));
            }
        } else if TOP_UNSUPPORTED.iter().any(|name| name.eq_ignore_ascii_case(&key)) && !is_empty(&value) {
            dynamic
                .warnings
                .push(format!("section \"{key}\" not supported by ringress (ignored)"));
        }
    }
    if let Some(http) = http {
        decode_http(http, &mut dynamic)?;
    }
    Ok(dynamic)
}

/// One router or service entry decoded on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<T> {
    /// The decoded value, or why the entry is left out (naming the key inside it).
    pub result: Result<T, String>,
    /// Keys read past, one line each without the entry's name (`unknown key "foo" ignored`).
    pub warnings: Vec<String>,
}

/// Decodes one `http.routers` entry (its raw JSON, not `null`).
pub fn decode_router(raw: &RawValue) -> Entry<RouterConf> {
    decode_entry(raw, router::decode)
}

/// Decodes one `http.services` entry (its raw JSON, not `null`).
pub fn decode_service(raw: &RawValue) -> Entry<ServiceConf> {
    decode_entry(raw, service::decode)
}

/// Is this entry's value `null` (an absent entry)?
pub fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

fn decode_entry<T>(raw: &RawValue, decode_one: fn(Node<'_>, &mut Notes) -> Result<T, String>) -> Entry<T> {
    let mut notes = Notes::default();
    let result = match serde_json::from_str::<Node>(raw.get()) {
        Ok(node) => decode_one(node, &mut notes),
        // The split validated the JSON; serde_json checks escapes (lone surrogates) only when decoding text.
        Err(e) => Err(format!("invalid JSON: {}", json_error(e))),
    };
    let mut warnings = Vec::new();
    push_notes(&mut warnings, "", notes);
    Entry { result, warnings }
}

fn decode_http(node: Node<'_>, dynamic: &mut Dynamic) -> Result<(), DecodeError> {
    let mut notes = Notes::default();
    let top = At::Top;
    let http = top.key("http");
    let [routers, services, middlewares] = fields::pick(
        node,
        &http,
        ["routers", "services", "middlewares"],
        HTTP_UNSUPPORTED,
        &mut notes,
    )
    .map_err(shape)?;
    push_notes(&mut dynamic.warnings, "", notes);
    // In a skeleton these maps are empty (their entries are decoded one by one); their shape is still checked.
    if let Some(routers) = routers {
        fields::object(routers, &http.key("routers")).map_err(shape)?;
    }
    if let Some(services) = services {
        fields::object(services, &http.key("services")).map_err(shape)?;
    }
    if let Some(middlewares) = middlewares {
        for (name, value) in fields::object(middlewares, &http.key("middlewares")).map_err(shape)? {
            if !matches!(value, Node::Null) {
                dynamic.middlewares.insert(name.into_owned(), value.into_value());
            }
        }
    }
    Ok(())
}

/// Decodes every entry of `http.routers` or `http.services` on its own: a bad entry goes to
/// `invalid`, a name given twice is rejected (every copy), the rest land in `decoded`. Allocates
/// nothing per entry beyond the entry itself unless there is something to report.
fn decode_map<T>(
    entries: Vec<RawEntry<'_>>,
    section: Section,
    decode_one: fn(Node<'_>, &mut Notes) -> Result<T, String>,
    decoded: &mut BTreeMap<String, T>,
    invalid: &mut Vec<Rejected>,
    warnings: &mut Vec<String>,
) {
    let first_invalid = invalid.len();
    // Names of this map's rejected entries: usually none, so cheap to keep apart.
    let mut rejected_names: BTreeSet<String> = BTreeSet::new();
    let mut repeated: Vec<String> = Vec::new();
    for (name, value) in entries {
        if is_null(value) {
            continue;
        }
        let name = name.into_owned();
        let entry = decode_entry(value, decode_one);
        for line in entry.warnings {
            warnings.push(format!("{section} \"{name}@http\": {line}"));
        }
        let result = entry.result;
        match result {
            Ok(conf) => match decoded.entry(name) {
                MapEntry::Vacant(slot) if !rejected_names.contains(slot.key()) => {
                    slot.insert(conf);
                }
                MapEntry::Vacant(slot) => repeated.push(slot.into_key()),
                MapEntry::Occupied(slot) => repeated.push(slot.key().clone()),
            },
            Err(_) if decoded.contains_key(&name) || rejected_names.contains(&name) => repeated.push(name),
            Err(reason) => {
                invalid.push(Rejected {
                    section,
                    name: format!("{name}@http"),
                    reason,
                });
                rejected_names.insert(name);
            }
        }
    }
    repeated.sort_unstable();
    repeated.dedup();
    if !repeated.is_empty() {
        let mut ours = invalid.split_off(first_invalid);
        ours.retain(|rejected| {
            let name = rejected.name.strip_suffix("@http").unwrap_or_default();
            repeated.binary_search_by(|r| r.as_str().cmp(name)).is_err()
        });
        invalid.append(&mut ours);
    }
    for name in repeated {
        decoded.remove(&name);
        invalid.push(Rejected {
            section,
            name: format!("{name}@http"),
            reason: "defined more than once (every copy ignored)".to_owned(),
        });
    }
}

/// One warning line per noted key, prefixed with what they belong to (if anything).
fn push_notes(warnings: &mut Vec<String>, owner: &str, notes: Notes) {
    let prefix = if owner.is_empty() {
        String::new()
    } else {
        format!("{owner}: ")
    };
    for key in notes.unknown {
        warnings.push(format!("{prefix}unknown key \"{key}\" ignored"));
    }
    for key in notes.unsupported {
        warnings.push(format!("{prefix}\"{key}\" not supported by ringress (ignored)"));
    }
}

fn shape(reason: String) -> DecodeError {
    DecodeError::Shape { reason }
}

/// True for `{}`, `[]` and `""`: a section present but saying nothing.
fn is_empty(node: &Node) -> bool {
    match node {
        Node::Map(entries) => entries.iter().all(|(_, value)| matches!(value, Node::Null)),
        Node::List(items) => items.is_empty(),
        Node::Text(text) => text.is_empty(),
        _ => false,
    }
}

/// serde_json's error without its trailing " at line L column C", which is kept as numbers.
fn json_error(error: serde_json::Error) -> DecodeError {
    let (line, column) = (error.line(), error.column());
    let message = error.to_string();
    let position = format!(" at line {line} column {column}");
    let reason = match message.strip_suffix(&position) {
        Some(reason) => reason.to_owned(),
        None => message,
    };
    DecodeError::Json { line, column, reason }
}
