//! `entryPoints`: listeners, their timeouts, redirects and forwarded-header trust.
//!
//! Owns the rules for one entrypoint and between entrypoints (no two may claim the same
//! address; a redirect must name another entrypoint). Never binds an address.

use std::net::IpAddr;
use std::time::Duration;

use super::address;
use super::error::ConfigError;
use super::model::{EntryPoint, ForwardedHeaders, Redirect};
use super::raw::{Named, RawEntryPoint, RawForwardedHeaders, RawRedirect, Text};
use super::validate::Checker;

/// Builds every entrypoint, sorted by name, and checks them against each other.
pub(super) fn build_all(
    checker: &mut Checker<'_>,
    raw: Named<Option<RawEntryPoint>>,
) -> Result<Vec<EntryPoint>, ConfigError> {
    let mut built: Vec<(EntryPoint, Option<RawRedirect>)> = Vec::with_capacity(raw.0.len());
    for (name, raw_ep) in raw.0 {
        built.push(build_one(checker, name, raw_ep.unwrap_or_default())?);
    }
    built.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));
    check_addresses(checker, built.iter().map(|(ep, _)| ep))?;

    let mut redirects = Vec::with_capacity(built.len());
    for (ep, raw_redirect) in &built {
        redirects.push(match raw_redirect {
            Some(raw_redirect) => Some(redirect(checker, ep, raw_redirect, &built)?),
            None => None,
        });
    }
    Ok(built
        .into_iter()
        .zip(redirects)
        .map(|((ep, _), redirect)| EntryPoint { redirect, ..ep })
        .collect())
}

/// One entrypoint without its redirect, which needs the others; the raw redirect is returned
/// for the second pass.
fn build_one(
    checker: &mut Checker<'_>,
    name: String,
    raw: RawEntryPoint,
) -> Result<(EntryPoint, Option<RawRedirect>), ConfigError> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(checker.invalid(
            "entryPoints",
            format!("invalid entrypoint name {name:?}: must be non-empty text"),
        ));
    }
    let key = format!("entryPoints.{name}");
    let address_key = format!("{key}.address");
    let text = checker.required(&address_key, raw.address.as_ref())?;
    let address = address::parse(text)
        .map_err(|error| checker.invalid(&address_key, format!("invalid address {text:?}: {error}")))?;

    let mut ep = EntryPoint::new(name, address);
    let transport = raw.transport.unwrap_or_default();
    let responding = transport.responding_timeouts.unwrap_or_default();
    let timeouts_key = format!("{key}.transport.respondingTimeouts");
    ep.read_timeout = never_zero(
        checker,
        &format!("{timeouts_key}.readTimeout"),
        responding.read_timeout.as_ref(),
        ep.read_timeout,
        "to receiving the request head",
    )?;
    let write_timeout = checker.duration(
        &format!("{timeouts_key}.writeTimeout"),
        responding.write_timeout.as_ref(),
        Duration::ZERO,
    )?;
    ep.write_timeout = Some(write_timeout).filter(|d| !d.is_zero());
    ep.idle_timeout = never_zero(
        checker,
        &format!("{timeouts_key}.idleTimeout"),
        responding.idle_timeout.as_ref(),
        ep.idle_timeout,
        "between keep-alive requests",
    )?;
    let life_cycle = transport.life_cycle.unwrap_or_default();
    ep.grace_timeout = checker.duration(
        &format!("{key}.transport.lifeCycle.graceTimeOut"),
        life_cycle.grace_timeout.as_ref(),
        ep.grace_timeout,
    )?;
    ep.forwarded_headers = forwarded_headers(checker, &key, raw.forwarded_headers.unwrap_or_default())?;

    let raw_redirect = raw.http.and_then(|http| http.redirections).and_then(|r| r.entry_point);
    Ok((ep, raw_redirect))
}

/// A timeout where Traefik reads `0` as "no limit". ringress always bounds it, so `0` falls
/// back to the default with a warning instead of failing a config that runs under Traefik.
fn never_zero(
    checker: &mut Checker<'_>,
    key: &str,
    value: Option<&Text>,
    default: Duration,
    applies_to: &str,
) -> Result<Duration, ConfigError> {
    let parsed = checker.duration(key, value, default)?;
    if !parsed.is_zero() {
        return Ok(parsed);
    }
    checker.warn(format!(
        "`{key}`: 0 (no limit) is not supported; ringress applies the default {}s {applies_to}",
        default.as_secs()
    ));
    Ok(default)
}

fn forwarded_headers(
    checker: &Checker<'_>,
    key: &str,
    raw: RawForwardedHeaders,
) -> Result<ForwardedHeaders, ConfigError> {
    let key = format!("{key}.forwardedHeaders");
    let insecure = checker.flag(&format!("{key}.insecure"), raw.insecure.as_ref(), false)?;
    let mut trusted_ips = Vec::new();
    for (index, Text(text)) in raw.trusted_ips.unwrap_or_default().iter().enumerate() {
        let text = text.trim();
        if !is_ip_or_cidr(text) {
            return Err(checker.invalid(
                &format!("{key}.trustedIPs[{index}]"),
                format!("invalid IP or CIDR {text:?} (e.g. \"10.0.0.1\" or \"10.0.0.0/8\")"),
            ));
        }
        trusted_ips.push(text.to_owned());
    }
    Ok(ForwardedHeaders { insecure, trusted_ips })
}

fn is_ip_or_cidr(text: &str) -> bool {
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (text, None),
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => true,
        Some(prefix) => {
            !prefix.is_empty()
                && prefix.bytes().all(|b| b.is_ascii_digit())
                && prefix.parse::<u8>().is_ok_and(|p| p <= max)
        }
    }
}

/// No two entrypoints may claim the same port on the same (or a wildcard) interface.
fn check_addresses<'e>(checker: &Checker<'_>, eps: impl Iterator<Item = &'e EntryPoint>) -> Result<(), ConfigError> {
    let mut seen: Vec<&EntryPoint> = Vec::new();
    for ep in eps {
        if let Some(other) = seen.iter().find(|other| other.address.overlaps(&ep.address)) {
            return Err(checker.invalid(
                &format!("entryPoints.{}.address", ep.name),
                format!(
                    "address \"{}\" overlaps entrypoint `{}` (\"{}\")",
                    ep.address, other.name, other.address
                ),
            ));
        }
        seen.push(ep);
    }
    Ok(())
}

/// `http.redirections.entryPoint`: `to` is another entrypoint's name or Traefik's `":port"`.
fn redirect(
    checker: &Checker<'_>,
    ep: &EntryPoint,
    raw: &RawRedirect,
    all: &[(EntryPoint, Option<RawRedirect>)],
) -> Result<Redirect, ConfigError> {
    let key = format!("entryPoints.{}.http.redirections.entryPoint", ep.name);
    let to_key = format!("{key}.to");
    let to = checker.required(&to_key, raw.to.as_ref())?;
    let port = match to.strip_prefix(':') {
        Some(port) => match port.parse::<u16>() {
            Ok(port @ 1..) => port,
            _ => return Err(checker.invalid(&to_key, format!("invalid port {to:?}: port must be 1-65535"))),
        },
        None => match all.iter().find(|(target, _)| target.name == to) {
            Some((target, _)) => target.address.port(),
            None => {
                let known: Vec<&str> = all.iter().map(|(ep, _)| ep.name.as_str()).collect();
                return Err(checker.invalid(
                    &to_key,
                    format!("unknown entrypoint `{to}` (defined: {})", known.join(", ")),
                ));
            }
        },
    };
    if to == ep.name || (to.starts_with(':') && port == ep.address.port()) {
        return Err(checker.invalid(&to_key, "an entrypoint cannot redirect to itself"));
    }
    let scheme = match raw.scheme.as_ref().map(|Text(text)| text.trim().to_ascii_lowercase()) {
        None => "https".to_owned(),
        Some(scheme) if scheme == "http" || scheme == "https" => scheme,
        Some(scheme) => {
            return Err(checker.invalid(
                &format!("{key}.scheme"),
                format!("must be http or https, got {scheme:?}"),
            ))
        }
    };
    Ok(Redirect {
        to: to.to_owned(),
        port,
        scheme,
        permanent: checker.flag(&format!("{key}.permanent"), raw.permanent.as_ref(), true)?,
    })
}
