//! Listen addresses as Traefik writes them (`":80"`, `"127.0.0.1:8000"`, `"[::]:443"`,
//! `"localhost:8000"`, optionally followed by `/tcp`).
//!
//! Owns the text-to-[`ListenAddr`] conversion and the rule for when two listeners would collide.
//! Never resolves names (only `localhost` is understood) and never opens a socket: whether the
//! address can actually be bound is the listener's business.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Where an entrypoint listens. Only TCP exists in ringress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenAddr {
    /// `":80"`: every interface, IPv4 and IPv6, as Go listens for an empty host. The listener
    /// chooses how (a dual-stack `[::]` socket, or `0.0.0.0` where IPv6 is unavailable).
    AnyIp(u16),
    /// An explicit IP and port. `"0.0.0.0:80"` stays IPv4-only, `"[::]:443"` stays as written,
    /// and `"localhost:8000"` becomes `127.0.0.1:8000`.
    Ip(SocketAddr),
}

impl ListenAddr {
    /// The TCP port.
    pub fn port(&self) -> u16 {
        match self {
            ListenAddr::AnyIp(port) => *port,
            ListenAddr::Ip(addr) => addr.port(),
        }
    }

    /// True when both listeners would claim the same port on some interface: same port and
    /// either the same IP or a wildcard (`:port`, `0.0.0.0`, `[::]`) on one side.
    pub fn overlaps(&self, other: &ListenAddr) -> bool {
        if self.port() != other.port() {
            return false;
        }
        match (self.ip(), other.ip()) {
            (Some(a), Some(b)) => a == b || a.is_unspecified() || b.is_unspecified(),
            _ => true,
        }
    }

    fn ip(&self) -> Option<IpAddr> {
        match self {
            ListenAddr::AnyIp(_) => None,
            ListenAddr::Ip(addr) => Some(addr.ip()),
        }
    }
}

impl fmt::Display for ListenAddr {
    /// Formats the address the way it is written in the config (`":80"`, `"[::1]:8443"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::AnyIp(port) => write!(f, ":{port}"),
            ListenAddr::Ip(addr) => write!(f, "{addr}"),
        }
    }
}

/// Why an address was rejected. The caller prefixes the key path and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing was written.
    #[error("empty value")]
    Empty,
    /// A `/udp` suffix.
    #[error("only TCP is supported")]
    OnlyTcp,
    /// A suffix other than `/tcp` or `/udp`.
    #[error("unknown protocol \"{0}\" (only TCP is supported)")]
    UnknownProtocol(String),
    /// No `:port`.
    #[error("missing port (expected host:port, e.g. \":80\")")]
    MissingPort,
    /// The port is not a number (service names like `:http` are not looked up).
    #[error("invalid port \"{0}\"")]
    InvalidPort(String),
    /// The port is 0 or above 65535.
    #[error("port must be 1-65535")]
    PortRange,
    /// An IPv6 address without brackets, e.g. `::1:8443`.
    #[error("IPv6 addresses must be in brackets, e.g. \"[::1]:443\"")]
    BareIpv6,
    /// More than one `:` outside brackets, and not IPv6.
    #[error("too many colons (expected host:port)")]
    TooManyColons,
    /// Looks like an IP address but is not one.
    #[error("invalid IP address \"{0}\"")]
    InvalidIp(String),
    /// A host name other than `localhost`: ringress never resolves names.
    #[error("hostname \"{0}\" is not supported; use an IP address or localhost")]
    Hostname(String),
}

/// Parses an entrypoint address. See the module doc for the accepted forms.
///
/// # Errors
///
/// An [`AddressError`] saying what is wrong with the text.
pub fn parse(text: &str) -> Result<ListenAddr, AddressError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddressError::Empty);
    }
    let address = strip_protocol(text)?;
    let (host, port) = split_host_port(address)?;
    let port = parse_port(port)?;
    let ip = match host {
        Host::Any => return Ok(ListenAddr::AnyIp(port)),
        Host::Bracketed(inner) => inner
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| AddressError::InvalidIp(inner.to_owned()))?,
        Host::Plain(name) => parse_plain_host(name)?,
    };
    Ok(ListenAddr::Ip(SocketAddr::new(ip, port)))
}

enum Host<'a> {
    Any,
    Bracketed(&'a str),
    Plain(&'a str),
}

/// Removes a `/tcp` suffix; any other protocol is an error.
fn strip_protocol(text: &str) -> Result<&str, AddressError> {
    let Some((address, protocol)) = text.rsplit_once('/') else {
        return Ok(text);
    };
    if protocol.eq_ignore_ascii_case("tcp") {
        Ok(address)
    } else if protocol.eq_ignore_ascii_case("udp") {
        Err(AddressError::OnlyTcp)
    } else {
        Err(AddressError::UnknownProtocol(protocol.to_owned()))
    }
}

fn split_host_port(address: &str) -> Result<(Host<'_>, &str), AddressError> {
    if let Some(bracketed) = address.strip_prefix('[') {
        let (inner, after) = bracketed
            .split_once(']')
            .ok_or_else(|| AddressError::InvalidIp(address.to_owned()))?;
        let port = after.strip_prefix(':').ok_or(AddressError::MissingPort)?;
        return Ok((Host::Bracketed(inner), port));
    }
    let (host, port) = address.rsplit_once(':').ok_or(AddressError::MissingPort)?;
    if host.contains(':') {
        return Err(
            if address.parse::<Ipv6Addr>().is_ok() || host.parse::<Ipv6Addr>().is_ok() {
                AddressError::BareIpv6
            } else {
                AddressError::TooManyColons
            },
        );
    }
    if host.is_empty() {
        Ok((Host::Any, port))
    } else {
        Ok((Host::Plain(host), port))
    }
}

fn parse_port(port: &str) -> Result<u16, AddressError> {
    if port.is_empty() {
        return Err(AddressError::MissingPort);
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::InvalidPort(port.to_owned()));
    }
    match port.parse::<u32>() {
        Ok(value @ 1..=65535) => u16::try_from(value).map_err(|_| AddressError::PortRange),
        _ => Err(AddressError::PortRange),
    }
}

fn parse_plain_host(host: &str) -> Result<IpAddr, AddressError> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(IpAddr::V4(ip));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(AddressError::InvalidIp(host.to_owned()));
    }
    Err(AddressError::Hostname(host.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> ListenAddr {
        match text.parse::<SocketAddr>() {
            Ok(addr) => ListenAddr::Ip(addr),
            Err(error) => panic!("bad test address {text:?}: {error}"),
        }
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(parse(":80"), Ok(ListenAddr::AnyIp(80)));
        assert_eq!(parse(":443/tcp"), Ok(ListenAddr::AnyIp(443)));
        assert_eq!(parse("0.0.0.0:80"), Ok(ip("0.0.0.0:80")));
        assert_eq!(parse("127.0.0.1:8000"), Ok(ip("127.0.0.1:8000")));
        assert_eq!(parse("[::]:443"), Ok(ip("[::]:443")));
        assert_eq!(parse("[::1]:8443"), Ok(ip("[::1]:8443")));
        assert_eq!(parse("localhost:8000"), Ok(ip("127.0.0.1:8000")));
        assert_eq!(parse("LOCALHOST:8000/TCP"), Ok(ip("127.0.0.1:8000")));
        assert_eq!(parse(" :65535 "), Ok(ListenAddr::AnyIp(65535)));
    }

    #[test]
    fn rejected_forms() {
        assert_eq!(parse(":53/udp"), Err(AddressError::OnlyTcp));
        assert_eq!(parse(":53/sctp"), Err(AddressError::UnknownProtocol("sctp".into())));
        assert_eq!(
            parse("example.com:80"),
            Err(AddressError::Hostname("example.com".into()))
        );
        assert_eq!(parse("foo:bar:baz"), Err(AddressError::TooManyColons));
        assert_eq!(parse(":0"), Err(AddressError::PortRange));
        assert_eq!(parse(":65536"), Err(AddressError::PortRange));
        assert_eq!(parse(":http"), Err(AddressError::InvalidPort("http".into())));
        assert_eq!(parse("80"), Err(AddressError::MissingPort));
        assert_eq!(parse("127.0.0.1:"), Err(AddressError::MissingPort));
        assert_eq!(parse("[::1]"), Err(AddressError::MissingPort));
        assert_eq!(parse("::1:8443"), Err(AddressError::BareIpv6));
        assert_eq!(parse("[zz]:80"), Err(AddressError::InvalidIp("zz".into())));
        assert_eq!(parse("300.1.1.1:80"), Err(AddressError::InvalidIp("300.1.1.1".into())));
        assert_eq!(parse(""), Err(AddressError::Empty));
    }

    #[test]
    fn display_round_trips() {
        for text in [":80", "0.0.0.0:80", "[::1]:8443"] {
            assert_eq!(parse(text).map(|a| a.to_string()), Ok(text.to_owned()));
        }
    }

    #[test]
    fn overlap_rules() {
        let any = ListenAddr::AnyIp(80);
        assert!(any.overlaps(&ip("0.0.0.0:80")));
        assert!(any.overlaps(&ip("127.0.0.1:80")));
        assert!(ip("[::]:80").overlaps(&ip("10.0.0.1:80")));
        assert!(ip("10.0.0.1:80").overlaps(&ip("10.0.0.1:80")));
        assert!(!ip("10.0.0.1:80").overlaps(&ip("10.0.0.2:80")));
        assert!(!any.overlaps(&ListenAddr::AnyIp(443)));
    }
}
