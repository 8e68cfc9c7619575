//! Turns the raw file structs into the validated [`Config`].
//!
//! Owns the value rules shared by every section (durations, flags, counts, URLs), the small
//! sections (`serversTransport`, `log`, `ringress`) and the cross-field checks between
//! sections. Never reads files or touches sockets: paths are resolved, not opened.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::address::{self, ListenAddr};
use super::error::ConfigError;
use super::model::{
    default_workers, AccessLog, AccessLogFormat, AcmeOptions, Config, EntryPoint, Providers, Ringress,
    ServersTransport, DEFAULT_ADMIN, MAX_WORKERS,
};
use super::raw::{RawAccessLog, RawAcmeOptions, RawAdmin, RawConfig, RawLog, RawRingress, RawServersTransport, Text};
use super::{duration, entry_point, provider, resolver};

/// Builds key-path errors for one file and collects warnings.
pub(super) struct Checker<'a> {
    origin: &'a Path,
    warnings: &'a mut Vec<String>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(origin: &'a Path, warnings: &'a mut Vec<String>) -> Self {
        Checker { origin, warnings }
    }

    pub(super) fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    pub(super) fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.origin.to_path_buf(),
            key: key.to_owned(),
            reason: reason.into(),
        }
    }

    /// `path` resolved against the directory of the config file (absolute paths unchanged).
    pub(super) fn resolve(&self, path: &Path) -> PathBuf {
        match self.origin.parent() {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// A required value: missing is an error naming the key.
    pub(super) fn required<'t>(&self, key: &str, value: Option<&'t Text>) -> Result<&'t str, ConfigError> {
        match value.map(|text| text.0.trim()) {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(self.invalid(key, "missing (required)")),
        }
    }

    pub(super) fn duration(&self, key: &str, value: Option<&Text>, default: Duration) -> Result<Duration, ConfigError> {
        let Some(Text(text)) = value else {
            return Ok(default);
        };
        duration::parse(text).map_err(|error| self.invalid(key, format!("invalid duration {text:?}: {error}")))
    }

    /// A duration that must not be zero.
    pub(super) fn positive_duration(
        &self,
        key: &str,
        value: Option<&Text>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let parsed = self.duration(key, value, default)?;
        if parsed.is_zero() {
            return Err(self.invalid(key, "must be greater than 0"));
        }
        Ok(parsed)
    }

    /// A boolean in Go's spellings (`true`, `false`, `1`, `0`, `t`, `f`, any case).
    pub(super) fn flag(&self, key: &str, value: Option<&Text>, default: bool) -> Result<bool, ConfigError> {
        let Some(Text(text)) = value else {
            return Ok(default);
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Ok(true),
            "false" | "f" | "0" => Ok(false),
            _ => Err(self.invalid(key, format!("expected true or false, got {text:?}"))),
        }
    }

    /// A whole number within `range`.
    pub(super) fn count(
        &self,
        key: &str,
        value: Option<&Text>,
        default: usize,
        range: RangeInclusive<usize>,
    ) -> Result<usize, ConfigError> {
        let Some(Text(text)) = value else {
            return Ok(default);
        };
        let parsed: usize = text
            .trim()
            .parse()
            .map_err(|_| self.invalid(key, format!("expected a whole number, got {text:?}")))?;
        if !range.contains(&parsed) {
            let (low, high) = (range.start(), range.end());
            return Err(self.invalid(key, format!("must be between {low} and {high}, got {parsed}")));
        }
        Ok(parsed)
    }
}

/// Checks that `url` is an absolute `http://` or `https://` URL with a host. The reason never
/// repeats the URL, which may carry credentials.
pub(super) fn check_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".to_owned());
    }
    let expected = || format!("must be a URL starting with {}", schemes.join(" or "));
    let (scheme, rest) = url.split_once("://").ok_or_else(expected)?;
    if !schemes
        .iter()
        .any(|s| s.trim_end_matches("://").eq_ignore_ascii_case(scheme))
    {
        return Err(expected());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']').ok_or("has an unclosed `[` in its host")?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    match port {
        Some(port) if !matches!(port.parse::<u16>(), Ok(1..)) => Err("has an invalid port".to_owned()),
        _ => Ok(()),
    }
}

/// Validates the whole file. Warnings about values (not keys) are appended to the checker.
pub(super) fn build(raw: RawConfig, checker: &mut Checker<'_>) -> Result<Config, ConfigError> {
    let entry_points = entry_point::build_all(checker, raw.entry_points.unwrap_or_default())?;
    let http = match raw.providers.and_then(|providers| providers.http) {
        Some(raw_http) => Some(provider::build(checker, raw_http)?),
        None => None,
    };
    let certificates_resolvers =
        resolver::build_all(checker, raw.certificates_resolvers.unwrap_or_default(), &entry_points)?;
    let servers_transport = servers_transport(checker, raw.servers_transport.unwrap_or_default())?;
    let log_level = log_level(checker, raw.log.unwrap_or_default())?;
    let ringress = ringress(checker, raw.ringress.unwrap_or_default(), log_level, &entry_points)?;
    provider::check_auth(checker, &ringress.provider, http.as_ref());
    let access_log = match raw.access_log {
        Some(section) => Some(access_log(checker, section.unwrap_or_default())?),
        None => None,
    };
    Ok(Config {
        entry_points,
        providers: Providers { http },
        certificates_resolvers,
        servers_transport,
        ringress,
        access_log,
    })
}

/// Traefik's `accessLog` (present: on).
fn access_log(checker: &mut Checker<'_>, raw: RawAccessLog) -> Result<AccessLog, ConfigError> {
    let defaults = AccessLog::default();
    let file_path = match raw.file_path.as_ref() {
        // Traefik treats an empty filePath as standard output.
        Some(Text(text)) if text.trim().is_empty() => None,
        Some(Text(text)) => Some(PathBuf::from(text.trim())),
        None => None,
    };
    let format = match raw.format.as_ref().map(|Text(t)| t.trim()) {
        None | Some("") | Some("common") => AccessLogFormat::Common,
        Some("genericCLF") => AccessLogFormat::GenericClf,
        Some("json") => AccessLogFormat::Json,
        Some(other) => {
            // Traefik logs an error and uses the common format: an unchanged traefik.yml must keep running.
            checker.warn(format!(
                "`accessLog.format`: unsupported format {other:?} (use common, genericCLF or json); using common"
            ));
            AccessLogFormat::Common
        }
    };
    let buffering_size = match raw.buffering_size.as_ref() {
        // Traefik's default (0: write each line at once) has no meaning here: keep ringress's queue.
        Some(Text(text)) if text.trim() == "0" => defaults.buffering_size,
        value => checker.count(
            "accessLog.bufferingSize",
            value,
            defaults.buffering_size,
            16..=1_048_576,
        )?,
    };
    Ok(AccessLog {
        file_path,
        format,
        buffering_size,
    })
}

fn servers_transport(checker: &Checker<'_>, raw: RawServersTransport) -> Result<ServersTransport, ConfigError> {
    let defaults = ServersTransport::default();
    let timeouts = raw.forwarding_timeouts.unwrap_or_default();
    let key = "serversTransport.forwardingTimeouts";
    let response_header_timeout = checker.duration(
        &format!("{key}.responseHeaderTimeout"),
        timeouts.response_header_timeout.as_ref(),
        defaults.response_header_timeout.unwrap_or_default(),
    )?;
    Ok(ServersTransport {
        dial_timeout: checker.positive_duration(
            &format!("{key}.dialTimeout"),
            timeouts.dial_timeout.as_ref(),
            defaults.dial_timeout,
        )?,
        response_header_timeout: Some(response_header_timeout).filter(|d| !d.is_zero()),
        idle_conn_timeout: checker.positive_duration(
            &format!("{key}.idleConnTimeout"),
            timeouts.idle_conn_timeout.as_ref(),
            defaults.idle_conn_timeout,
        )?,
        max_idle_conns_per_host: checker.count(
            "serversTransport.maxIdleConnsPerHost",
            raw.max_idle_conns_per_host.as_ref(),
            defaults.max_idle_conns_per_host,
            0..=usize::MAX,
        )?,
    })
}

/// Traefik's `log.level` (zerolog names, any case).
fn log_level(checker: &Checker<'_>, raw: RawLog) -> Result<log::LevelFilter, ConfigError> {
    let Some(Text(text)) = raw.level else {
        return Ok(log::LevelFilter::Info);
    };
    match text.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Ok(log::LevelFilter::Trace),
        "DEBUG" => Ok(log::LevelFilter::Debug),
        "INFO" => Ok(log::LevelFilter::Info),
        "WARN" | "WARNING" => Ok(log::LevelFilter::Warn),
        "ERROR" | "FATAL" | "PANIC" => Ok(log::LevelFilter::Error),
        "DISABLED" | "OFF" => Ok(log::LevelFilter::Off),
        _ => Err(checker.invalid(
            "log.level",
            format!("unknown level {text:?} (use TRACE, DEBUG, INFO, WARN, ERROR or DISABLED)"),
        )),
    }
}

fn ringress(
    checker: &Checker<'_>,
    raw: RawRingress,
    log_level: log::LevelFilter,
    entry_points: &[EntryPoint],
) -> Result<Ringress, ConfigError> {
    let defaults = Ringress::with_workers(1);
    let limits = raw.limits.unwrap_or_default();
    let max_header_bytes = checker.count(
        "ringress.limits.maxHeaderBytes",
        limits.max_header_bytes.as_ref(),
        defaults.max_header_bytes,
        1024..=1_048_576,
    )?;
    Ok(Ringress {
        workers: match raw.workers.as_ref() {
            Some(value) => checker.count("ringress.workers", Some(value), 1, 1..=MAX_WORKERS)?,
            None => default_workers(),
        },
        routes: routes(checker, raw.routes.as_ref())?,
        admin: admin(checker, raw.admin.unwrap_or_default(), entry_points)?,
        max_header_bytes,
        max_target_bytes: checker.count(
            "ringress.limits.maxRequestTargetBytes",
            limits.max_request_target_bytes.as_ref(),
            defaults.max_target_bytes.min(max_header_bytes),
            256..=max_header_bytes,
        )?,
        max_headers: checker.count(
            "ringress.limits.maxHeaders",
            limits.max_headers.as_ref(),
            defaults.max_headers,
            8..=1024,
        )?,
        buffer_bytes: checker.count(
            "ringress.limits.bufferBytes",
            limits.buffer_bytes.as_ref(),
            defaults.buffer_bytes,
            4096..=4_194_304,
        )?,
        log_level,
        provider: provider::auth(checker, raw.provider.unwrap_or_default())?,
        acme: acme_options(checker, raw.acme.unwrap_or_default())?,
    })
}

/// `ringress.acme`.
fn acme_options(checker: &Checker<'_>, raw: RawAcmeOptions) -> Result<AcmeOptions, ConfigError> {
    let defaults = AcmeOptions::default();
    let ca_certificates = match raw.ca_certificates.as_ref() {
        Some(text) => Some(checker.resolve(Path::new(checker.required("ringress.acme.caCertificates", Some(text))?))),
        None => std::env::var_os("LEGO_CA_CERTIFICATES")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    let dns_server = match raw.dns_server.as_ref() {
        Some(text) => {
            let value = checker.required("ringress.acme.dnsServer", Some(text))?;
            let parsed = value
                .parse::<SocketAddr>()
                .or_else(|_| value.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 53)));
            match parsed {
                Ok(addr) => Some(addr),
                Err(_) => {
                    return Err(checker.invalid(
                        "ringress.acme.dnsServer",
                        format!("{value:?} is not an IP address with an optional port (e.g. \"127.0.0.1:53\")"),
                    ))
                }
            }
        }
        None => None,
    };
    Ok(AcmeOptions {
        ca_certificates,
        dns_server,
        precheck: checker.flag("ringress.acme.precheck", raw.precheck.as_ref(), defaults.precheck)?,
        max_new_orders: checker.count(
            "ringress.acme.maxNewOrders",
            raw.max_new_orders.as_ref(),
            defaults.max_new_orders as usize,
            1..=300,
        )? as u32,
    })
}

/// `ringress.routes`, resolved against the directory of the config file.
fn routes(checker: &Checker<'_>, value: Option<&Text>) -> Result<Option<PathBuf>, ConfigError> {
    let Some(text) = value else {
        return Ok(None);
    };
    let path = Path::new(checker.required("ringress.routes", Some(text))?);
    Ok(Some(checker.resolve(path)))
}

fn admin(checker: &Checker<'_>, raw: RawAdmin, entry_points: &[EntryPoint]) -> Result<Option<SocketAddr>, ConfigError> {
    let key = "ringress.admin.address";
    if !checker.flag("ringress.admin.enabled", raw.enabled.as_ref(), true)? {
        return Ok(None);
    }
    let Some(Text(text)) = raw.address else {
        return Ok(Some(DEFAULT_ADMIN));
    };
    let addr = match address::parse(&text) {
        Ok(ListenAddr::AnyIp(port)) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        Ok(ListenAddr::Ip(addr)) => addr,
        Err(error) => return Err(checker.invalid(key, format!("invalid address {text:?}: {error}"))),
    };
    let listen = ListenAddr::Ip(addr);
    if let Some(ep) = entry_points.iter().find(|ep| ep.address.overlaps(&listen)) {
        return Err(checker.invalid(
            key,
            format!(
                "address \"{addr}\" overlaps entrypoint `{}` (\"{}\")",
                ep.name, ep.address
            ),
        ));
    }
    Ok(Some(addr))
}
