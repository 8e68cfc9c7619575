//! One route as written by an operator: parsing and normalising a 1Backend-style `{id, target}` (or `targets`).
//!
//! Owns the syntax of route ids (`host` or `host/path/prefix`) and targets (`host:port` or
//! `http://host:port`), and the errors that explain a refusal. Pure string work: it never reads
//! files, never resolves names and never touches sockets.

use std::fmt;

use super::host::{canonical_host, parse_port, split_port, HostError};

/// A validated, normalised route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// Normalised id: `host` when the prefix is empty, otherwise `host` + `prefix`.
    pub id: String,
    /// Lowercase host without trailing dot, in `Host`-header form (IPv6 bracketed: `[::1]`).
    pub host: String,
    /// `""` (the whole host) or a path prefix such as `/app/admin`, case kept, no trailing `/`.
    pub prefix: String,
    /// Where requests go (the first target when the route lists several).
    pub target: Target,
    /// The first target's weight (1 unless the route file gives one).
    pub weight: u32,
    /// Further targets, with their weights: requests are spread over all of them (smooth weighted round-robin).
    pub more: Vec<(Target, u32)>,
    /// A Traefik `healthCheck` section for the route's targets, validated by the loader, as JSON.
    pub health_check: Option<serde_json::Value>,
    /// Where the route was defined, e.g. `routes/app.yml#2` (entries count from 1).
    pub source: String,
}

impl RouteSpec {
    /// Parses and normalises one `{id, target}` pair. `source` is kept for messages and listings.
    pub fn new(id: &str, target: &str, source: impl Into<String>) -> Result<Self, SpecError> {
        let (host, prefix) = parse_id(id).map_err(SpecError::Id)?;
        let target = Target::parse(target).map_err(|reason| SpecError::Target {
            target: target.to_owned(),
            reason,
        })?;
        Ok(RouteSpec {
            id: format!("{host}{prefix}"),
            host,
            prefix,
            target,
            weight: 1,
            more: Vec::new(),
            health_check: None,
            source: source.into(),
        })
    }

    /// Every target with its weight, the first one first.
    pub fn targets(&self) -> impl Iterator<Item = (&Target, u32)> {
        std::iter::once((&self.target, self.weight)).chain(self.more.iter().map(|(t, w)| (t, *w)))
    }
}

/// An upstream address as written in a route: a host name or address and a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Lowercase DNS name or IPv4 address, or a bare IPv6 address (`::1`, no brackets).
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Parses `host:port`, `http://host:port` or either with one trailing `/`.
    pub fn parse(raw: &str) -> Result<Self, TargetError> {
        if raw.is_empty() {
            return Err(TargetError::Empty);
        }
        if raw.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(TargetError::Whitespace);
        }
        let rest = match raw.split_once("://") {
            None => raw,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => return Err(TargetError::Https),
            Some((scheme, _)) => return Err(TargetError::Scheme(scheme.to_owned())),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('@') {
            return Err(TargetError::Userinfo);
        }
        if rest.contains('?') || rest.contains('#') {
            return Err(TargetError::Query);
        }
        if rest.contains('/') {
            return Err(TargetError::Path);
        }
        let (host, port) = split_port(rest.as_bytes()).map_err(TargetError::Host)?;
        let port = port.ok_or(TargetError::MissingPort)?;
        if port.is_empty() || !port.iter().all(u8::is_ascii_digit) {
            return Err(TargetError::InvalidPort);
        }
        let port = parse_port(port).filter(|&p| p != 0).ok_or(TargetError::PortRange)?;
        let mut buf = [0u8; 256];
        let host = canonical_host(host, &mut buf).map_err(TargetError::Host)?;
        let host = host
            .strip_prefix(b"[")
            .and_then(|h| h.strip_suffix(b"]"))
            .unwrap_or(host);
        // canonical_host only ever writes ASCII.
        let host = String::from_utf8_lossy(host).into_owned();
        Ok(Target { host, port })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why an `{id, target}` pair was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("id {0}")]
    Id(IdError),
    #[error("target {target:?}: {reason}")]
    Target { target: String, reason: TargetError },
}

/// Why a route id was refused. Messages read after the word "id".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must contain only visible ASCII in the path (percent-encode other bytes)")]
    NonAscii,
    #[error("must not contain `.` or `..` path segments")]
    DotSegment,
    #[error("is empty")]
    Empty,
    #[error("must not contain empty path segments (`//`)")]
    EmptySegment,
    #[error("has an invalid host: {0}")]
    Host(HostError),
    #[error("must not contain a port (the id names a host, not a listener)")]
    Port,
    #[error("must not contain a query or fragment (`?`, `#`)")]
    Query,
    #[error("must not contain a scheme (`://`)")]
    Scheme,
    #[error("must not contain whitespace or control characters")]
    Whitespace,
    #[error("must not contain `*` (wildcards are not supported)")]
    Wildcard,
}

/// Why a target was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("is empty")]
    Empty,
    #[error("{0}")]
    Host(HostError),
    #[error("https targets are not supported (upstreams are plain HTTP over the mesh)")]
    Https,
    #[error("port must be a number")]
    InvalidPort,
    #[error("port is required (`host:port`)")]
    MissingPort,
    #[error("must not have a path (only `host:port`, optionally with a trailing `/`)")]
    Path,
    #[error("port must be 1-65535")]
    PortRange,
    #[error("must not contain a query or fragment")]
    Query,
    #[error("scheme {0:?} is not supported (use `http://` or none)")]
    Scheme(String),
    #[error("must not contain user info (`user@`)")]
    Userinfo,
    #[error("must not contain whitespace or control characters")]
    Whitespace,
}

/// Splits and normalises an id into `(host, prefix)`.
fn parse_id(id: &str) -> Result<(String, String), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    if id.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(IdError::Whitespace);
    }
    if id.contains("://") {
        return Err(IdError::Scheme);
    }
    if id.contains('?') || id.contains('#') {
        return Err(IdError::Query);
    }
    if id.contains('*') {
        return Err(IdError::Wildcard);
    }
    let (host_part, path_part) = match id.find('/') {
        Some(slash) => id.split_at(slash),
        None => (id, ""),
    };
    let (host, port) = split_port(host_part.as_bytes()).map_err(IdError::Host)?;
    if port.is_some() {
        return Err(IdError::Port);
    }
    let mut buf = [0u8; 256];
    let host = canonical_host(host, &mut buf).map_err(IdError::Host)?;
    let host = String::from_utf8_lossy(host).into_owned();
    Ok((host, parse_prefix(path_part)?))
}

/// Normalises the path part of an id (`""`, `/`, `/app`, `/app/`, …) into a prefix.
fn parse_prefix(path: &str) -> Result<String, IdError> {
    if path.is_empty() || path == "/" {
        return Ok(String::new());
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IdError::NonAscii);
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    // `trimmed` starts with the `/` that separated it from the host.
    for segment in trimmed.split('/').skip(1) {
        match segment {
            "" => return Err(IdError::EmptySegment),
            "." | ".." => return Err(IdError::DotSegment),
            _ => {}
        }
    }
    Ok(trimmed.to_owned())
}
