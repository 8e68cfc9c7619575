//! Turning a matcher call (`Name(args…)`) into a validated [`Matcher`].
//!
//! Owns the matcher names and their four accepted spellings, argument counts, the non-empty
//! rule, per-matcher argument checks (`Path` must start with `/`, hosts are ASCII, IPs and
//! CIDRs parse) and regex compilation with a size limit. Must never evaluate a request.

use std::net::IpAddr;

use regex::bytes::RegexBuilder;

use super::ast::{HostKind, HostPattern, IpNet, Matcher, Pattern};
use super::error::{RuleError, RuleErrorKind};
use super::regex_syntax::go_to_rust;

/// Upper bound for a compiled regex (and its lazy DFA cache), in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One argument as parsed: decoded value and the byte offset of its literal.
pub(crate) struct Arg {
    pub value: String,
    pub at: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Host,
    HostRegexp,
    Path,
    PathPrefix,
    PathRegexp,
    Method,
    Header,
    HeaderRegexp,
    Query,
    QueryRegexp,
    ClientIp,
}

const MATCHERS: [(&str, Kind); 11] = [
    ("Host", Kind::Host),
    ("HostRegexp", Kind::HostRegexp),
    ("Path", Kind::Path),
    ("PathPrefix", Kind::PathPrefix),
    ("PathRegexp", Kind::PathRegexp),
    ("Method", Kind::Method),
    ("Header", Kind::Header),
    ("HeaderRegexp", Kind::HeaderRegexp),
    ("Query", Kind::Query),
    ("QueryRegexp", Kind::QueryRegexp),
    ("ClientIP", Kind::ClientIp),
];

/// Builds the matcher `name(args…)`; `name_at` is where the name starts.
pub(crate) fn build(name: &str, name_at: usize, args: Vec<Arg>) -> Result<Matcher, RuleError> {
    let Some(&(canonical, kind)) = MATCHERS.iter().find(|(c, _)| spelled_as(name, c)) else {
        return Err(RuleError::new(name_at, RuleErrorKind::UnknownMatcher(name.to_owned())));
    };
    let (min, max, expected) = match kind {
        Kind::Header | Kind::HeaderRegexp => (2, 2, "2"),
        Kind::Query | Kind::QueryRegexp => (1, 2, "1 or 2"),
        _ => (1, 1, "1"),
    };
    if args.len() < min || args.len() > max {
        let kind = RuleErrorKind::ArgumentCount {
            matcher: canonical,
            expected,
            got: args.len(),
        };
        return Err(RuleError::new(name_at, kind));
    }
    if let Some(empty) = args.iter().find(|a| a.value.is_empty()) {
        return Err(RuleError::new(empty.at, RuleErrorKind::EmptyArgument(canonical)));
    }
    let invalid = |at: usize, reason: String| {
        RuleError::new(
            at,
            RuleErrorKind::InvalidArgument {
                matcher: canonical,
                reason,
            },
        )
    };
    let regex = |arg: Arg| compile(&arg.value).map_err(|reason| invalid(arg.at, reason));
    let mut args = args.into_iter();
    let mut next = || args.next().ok_or_else(|| invalid(name_at, "missing argument".into()));
    let matcher = match kind {
        Kind::Host => {
            let arg = next()?;
            let kind = host_kind(&arg.value).map_err(|reason| invalid(arg.at, reason.into()))?;
            Matcher::Host(HostPattern {
                written: arg.value,
                kind,
            })
        }
        Kind::HostRegexp => {
            let arg = next()?;
            if !arg.value.is_ascii() {
                return Err(invalid(arg.at, "regexp must be ASCII".into()));
            }
            Matcher::HostRegexp(regex(arg)?)
        }
        Kind::Path | Kind::PathPrefix => {
            let arg = next()?;
            if !arg.value.starts_with('/') {
                return Err(invalid(
                    arg.at,
                    format!("path {:?} does not start with a '/'", arg.value),
                ));
            }
            if kind == Kind::Path {
                Matcher::Path(arg.value)
            } else {
                Matcher::PathPrefix(arg.value)
            }
        }
        Kind::PathRegexp => Matcher::PathRegexp(regex(next()?)?),
        Kind::Method => Matcher::Method(next()?.value.to_uppercase()),
        Kind::Header => Matcher::Header {
            name: next()?.value,
            value: next()?.value,
        },
        Kind::HeaderRegexp => Matcher::HeaderRegexp {
            name: next()?.value,
            pattern: regex(next()?)?,
        },
        Kind::Query => Matcher::Query {
            key: next()?.value,
            value: next().ok().map(|a| a.value),
        },
        Kind::QueryRegexp => {
            let key = next()?.value;
            let pattern = match next() {
                Ok(arg) => Some(regex(arg)?),
                Err(_) => None,
            };
            Matcher::QueryRegexp { key, pattern }
        }
        Kind::ClientIp => {
            let arg = next()?;
            let net = ip_net(&arg.value).map_err(|reason| invalid(arg.at, reason))?;
            Matcher::ClientIp(net)
        }
    };
    Ok(matcher)
}

/// Traefik accepts a matcher name as defined, all lower, all upper, or Title (`Pathprefix`).
fn spelled_as(name: &str, canonical: &str) -> bool {
    if name.len() != canonical.len() {
        return false;
    }
    if name == canonical
        || name
            .bytes()
            .zip(canonical.bytes())
            .all(|(n, c)| n == c.to_ascii_lowercase())
        || name
            .bytes()
            .zip(canonical.bytes())
            .all(|(n, c)| n == c.to_ascii_uppercase())
    {
        return true;
    }
    name.bytes().zip(canonical.bytes()).enumerate().all(|(i, (n, c))| {
        if i == 0 {
            n == c.to_ascii_uppercase()
        } else {
            n == c.to_ascii_lowercase()
        }
    })
}

fn compile(source: &str) -> Result<Pattern, String> {
    let regex = RegexBuilder::new(&go_to_rust(source))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regexp: {e}"))?;
    Ok(Pattern {
        source: source.to_owned(),
        regex,
    })
}

/// The matching form of a `Host` argument: lower-case, one trailing dot dropped, `*` and
/// `*.suffix` recognised, IPv6 literals (bracketed or not) written `[canonical]`.
pub(crate) fn host_kind(arg: &str) -> Result<HostKind, &'static str> {
    if !arg.is_ascii() {
        return Err("host must be ASCII (use punycode)");
    }
    let mut host = arg.to_ascii_lowercase();
    if host.ends_with('.') {
        host.pop();
    }
    if host == "*" {
        return Ok(HostKind::Any);
    }
    if let Some(suffix) = host.strip_prefix('*') {
        if suffix.len() > 1 && suffix.starts_with('.') && !suffix.contains('*') {
            return Ok(HostKind::Wildcard(suffix.to_owned()));
        }
    }
    // Every IPv6 literal has a colon; a name never parses as one.
    if host.contains(':') {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&host);
        if let Ok(v6) = bare.parse::<std::net::Ipv6Addr>() {
            return Ok(HostKind::Exact(format!("[{v6}]")));
        }
    }
    Ok(HostKind::Exact(host))
}

/// Parses an IP address or CIDR network (v4 or v6); the network address is masked.
fn ip_net(arg: &str) -> Result<IpNet, String> {
    let (addr_text, prefix) = match arg.split_once('/') {
        None => (arg, None),
        Some((addr, bits)) => {
            let ok_digits = !bits.is_empty() && bits.len() <= 3 && bits.bytes().all(|b| b.is_ascii_digit());
            let bits: u8 = if ok_digits { bits.parse().ok() } else { None }
                .ok_or_else(|| format!("{arg:?} is not an IP address or CIDR"))?;
            (addr, Some(bits))
        }
    };
    let addr: IpAddr = addr_text
        .parse()
        .map_err(|_| format!("{arg:?} is not an IP address or CIDR"))?;
    // A single address compares in canonical form (`::ffff:10.0.0.1` is `10.0.0.1`, as Go's `IP.Equal`);
    // a network keeps its family (Go's `IPNet.Contains` never matches across families).
    let addr = if prefix.is_none() { addr.to_canonical() } else { addr };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let addr = match prefix {
        None => addr,
        Some(bits) if bits > max => return Err(format!("{arg:?}: prefix length above {max}")),
        Some(bits) => mask(addr, bits),
    };
    Ok(IpNet {
        written: arg.to_owned(),
        addr,
        prefix,
    })
}

/// `addr` with every bit after the first `bits` cleared.
pub(crate) fn mask(addr: IpAddr, bits: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let m = u32::MAX.checked_shl(32 - u32::from(bits.min(32))).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & m).into())
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX.checked_shl(128 - u32::from(bits.min(128))).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & m).into())
        }
    }
}
