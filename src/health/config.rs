//! [`HealthCheck`]: one service's `loadBalancer.healthCheck`, read from the raw JSON the
//! provider keeps ([`crate::provider::LoadBalancer::health_check`]).
//!
//! Reads Traefik v3's keys the way its decoder does: keys matched ignoring ASCII case, `null`
//! values skipped as if absent, numbers accepted as text (`"port": "8080"`), durations as Go
//! strings (`"10s"`, `"500ms"`) or whole numbers meaning seconds. Unknown keys are notes, not
//! errors. Every error names the field (`healthCheck.interval: ...`).
//!
//! Never puts a header value into an error, a note or `Debug` output: health check headers may
//! carry credentials.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use ureq::http::uri::PathAndQuery;
use ureq::http::{HeaderName, HeaderValue, Method};

use crate::config::duration::{self, DurationError};

/// Traefik's default `interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Traefik's default `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One active health check, as configured for a service. Every server of the service is
/// probed with it.
#[derive(Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `path`: request target, starting with `/`; may carry a query string.
    pub path: String,
    /// `method`, upper-cased; default `GET`.
    pub method: String,
    /// `interval` between checks while the server is up; default 30 s.
    pub interval: Duration,
    /// `unhealthyInterval` between checks while the server is down; default `interval`.
    pub unhealthy_interval: Duration,
    /// `timeout` for the whole exchange (connect, request, answer); default 5 s.
    pub timeout: Duration,
    /// `scheme`: `"http"` or `"https"`; `None` uses the server URL's scheme.
    pub scheme: Option<String>,
    /// `hostname`: the `Host` header; `None` sends the server URL's authority.
    pub hostname: Option<String>,
    /// `port`: probe this port instead of the server's.
    pub port: Option<u16>,
    /// `headers`, sorted by name. Values may be secrets: never log them.
    pub headers: Vec<(String, String)>,
    /// `status`: the one healthy status; `None` means any of 200..=399 (Traefik's rule).
    pub status: Option<u16>,
    /// `followRedirects`; default true.
    pub follow_redirects: bool,
}

impl HealthCheck {
    /// A check of `path` with every other field at Traefik's default.
    pub fn new(path: impl Into<String>) -> Self {
        HealthCheck {
            path: path.into(),
            method: "GET".to_owned(),
            interval: DEFAULT_INTERVAL,
            unhealthy_interval: DEFAULT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            scheme: None,
            hostname: None,
            port: None,
            headers: Vec::new(),
            status: None,
            follow_redirects: true,
        }
    }
}

impl fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("HealthCheck")
            .field("path", &self.path)
            .field("method", &self.method)
            .field("interval", &self.interval)
            .field("unhealthy_interval", &self.unhealthy_interval)
            .field("timeout", &self.timeout)
            .field("scheme", &self.scheme)
            .field("hostname", &self.hostname)
            .field("port", &self.port)
            .field("headers", &headers)
            .field("status", &self.status)
            .field("follow_redirects", &self.follow_redirects)
            .finish()
    }
}

/// Why a `healthCheck` cannot be used. `Display` names the field; header values never appear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthConfigError {
    /// `healthCheck` itself is not an object.
    #[error("healthCheck: expected an object, got {0}")]
    NotAnObject(&'static str),
    /// A required key is absent.
    #[error("healthCheck.{0}: missing (required)")]
    Missing(&'static str),
    /// A key appears twice, in different letter case.
    #[error("healthCheck.{0}: given twice (keys are case-insensitive)")]
    Duplicate(&'static str),
    /// A value of the wrong JSON type.
    #[error("healthCheck.{field}: expected {expected}, got {got}")]
    Type {
        /// The dotted field path below `healthCheck`.
        field: String,
        /// What was expected.
        expected: &'static str,
        /// The JSON type found.
        got: &'static str,
    },
    /// A duration that does not parse.
    #[error("healthCheck.{field}: invalid duration {value:?}: {source}")]
    Duration {
        /// The field.
        field: &'static str,
        /// The text as written.
        value: String,
        /// What is wrong with it.
        source: DurationError,
    },
    /// A value of the right type but not acceptable.
    #[error("healthCheck.{field}: {reason}")]
    Invalid {
        /// The dotted field path below `healthCheck`.
        field: String,
        /// What is wrong; never contains a header value.
        reason: String,
    },
}

/// Traefik v3's `healthCheck` keys, in its spelling.
const KEYS: [&str; 12] = [
    "scheme",
    "mode",
    "path",
    "method",
    "status",
    "port",
    "interval",
    "unhealthyInterval",
    "timeout",
    "hostname",
    "followRedirects",
    "headers",
];

/// Reads a raw `healthCheck` object.
///
/// Returns the check and notes (unknown keys, ignored headers, rewritten values), each a
/// one-line message naming the key.
///
/// # Errors
///
/// A [`HealthConfigError`] naming the first field that cannot be used.
pub fn parse(raw: &Value) -> Result<(HealthCheck, Vec<String>), HealthConfigError> {
    let Value::Object(map) = raw else {
        return Err(HealthConfigError::NotAnObject(kind(raw)));
    };
    let mut notes = Vec::new();
    let mut slots: [Option<&Value>; KEYS.len()] = [None; KEYS.len()];
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        match KEYS.iter().position(|name| name.eq_ignore_ascii_case(key)) {
            Some(index) if slots[index].is_some() => return Err(HealthConfigError::Duplicate(KEYS[index])),
            Some(index) => slots[index] = Some(value),
            None => notes.push(format!("healthCheck.{key}: unknown key, ignored")),
        }
    }
    let [scheme, mode, path, method, status, port, interval, unhealthy_interval, timeout, hostname, follow_redirects, headers] =
        slots;

    if let Some(mode) = mode {
        let mode = text(mode, "mode")?;
        match mode.trim().to_ascii_lowercase().as_str() {
            "" | "http" => {}
            "grpc" => {
                return Err(invalid(
                    "mode",
                    "\"grpc\" is not supported (ringress checks over HTTP only)",
                ))
            }
            _ => return Err(invalid("mode", "must be \"http\" (or Traefik's \"grpc\")")),
        }
    }

    let path = match path {
        Some(path) => text(path, "path")?,
        None => return Err(HealthConfigError::Missing("path")),
    };
    if path.is_empty() {
        return Err(HealthConfigError::Missing("path"));
    }
    check_path(&path)?;

    let mut check = HealthCheck::new(path);

    if let Some(scheme) = scheme {
        let scheme = text(scheme, "scheme")?.trim().to_ascii_lowercase();
        match scheme.as_str() {
            "" => {}
            "http" | "https" => check.scheme = Some(scheme),
            _ => return Err(invalid("scheme", "must be \"http\" or \"https\"")),
        }
    }

    if let Some(method) = method {
        let written = text(method, "method")?;
        let trimmed = written.trim();
        if !trimmed.is_empty() {
            if Method::from_bytes(trimmed.as_bytes()).is_err() {
                return Err(invalid("method", "not a valid HTTP method"));
            }
            let upper = trimmed.to_ascii_uppercase();
            if upper != trimmed {
                notes.push(format!("healthCheck.method: {trimmed:?} is sent as {upper:?}"));
            }
            check.method = upper;
        }
    }

    if let Some(status) = status {
        check.status = match whole(status, "status")? {
            0 => None,
            code @ 100..=599 => u16::try_from(code).ok(),
            _ => return Err(invalid("status", "must be an HTTP status between 100 and 599")),
        };
    }

    if let Some(port) = port {
        check.port = match whole(port, "port")? {
            0 => None,
            port @ 1..=65_535 => u16::try_from(port).ok(),
            _ => return Err(invalid("port", "must be between 1 and 65535")),
        };
    }

    if let Some(interval) = interval {
        check.interval = positive_duration(interval, "interval")?;
    }
    check.unhealthy_interval = match unhealthy_interval {
        Some(value) => positive_duration(value, "unhealthyInterval")?,
        None => check.interval,
    };
    if let Some(timeout) = timeout {
        check.timeout = positive_duration(timeout, "timeout")?;
    }

    if let Some(hostname) = hostname {
        let hostname = text(hostname, "hostname")?.trim().to_owned();
        if !hostname.is_empty() {
            if hostname
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
                || HeaderValue::from_str(&hostname).is_err()
            {
                return Err(invalid("hostname", "not a valid host name"));
            }
            check.hostname = Some(hostname);
        }
    }

    if let Some(flag_value) = follow_redirects {
        check.follow_redirects = flag(flag_value, "followRedirects")?;
    }

    if let Some(headers) = headers {
        check.headers = parse_headers(headers, &mut notes)?;
    }

    Ok((check, notes))
}

/// `path` must be an origin-form request target: `/` first, no whitespace or control
/// characters, nothing `http` cannot send.
fn check_path(path: &str) -> Result<(), HealthConfigError> {
    if !path.starts_with('/') {
        return Err(invalid("path", "must start with \"/\""));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("path", "must not contain spaces or control characters"));
    }
    if path.contains('#') || PathAndQuery::from_str(path).is_err() {
        return Err(invalid("path", "not a valid request path"));
    }
    Ok(())
}

fn parse_headers(value: &Value, notes: &mut Vec<String>) -> Result<Vec<(String, String)>, HealthConfigError> {
    let Value::Object(map) = value else {
        return Err(HealthConfigError::Type {
            field: "headers".to_owned(),
            expected: "an object",
            got: kind(value),
        });
    };
    let mut headers: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (name, value) in map {
        if value.is_null() {
            continue;
        }
        let field = || format!("headers.{name}");
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(HealthConfigError::Invalid {
                field: field(),
                reason: "not a valid header name".to_owned(),
            });
        }
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(HealthConfigError::Type {
                    field: field(),
                    expected: "text",
                    got: kind(other),
                })
            }
        };
        if HeaderValue::from_str(&text).is_err() {
            return Err(HealthConfigError::Invalid {
                field: field(),
                reason: "not a valid header value (value not shown)".to_owned(),
            });
        }
        if name.eq_ignore_ascii_case("host") {
            // Go's client never sends a `Host` from the header map; Traefik uses `hostname`.
            notes.push(format!(
                "healthCheck.headers.{name}: ignored (set healthCheck.hostname instead)"
            ));
            continue;
        }
        if headers.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(name)) {
            return Err(HealthConfigError::Invalid {
                field: field(),
                reason: "given twice (header names are case-insensitive)".to_owned(),
            });
        }
        headers.push((name.clone(), text));
    }
    headers.sort_by_key(|(name, _)| name.to_ascii_lowercase());
    Ok(headers)
}

fn invalid(field: &str, reason: &str) -> HealthConfigError {
    HealthConfigError::Invalid {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The JSON type of `value`, for messages (never the value itself).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Text; numbers and booleans read as their text, as Traefik's decoder does.
fn text(value: &Value, field: &'static str) -> Result<String, HealthConfigError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(HealthConfigError::Type {
            field: field.to_owned(),
            expected: "text",
            got: kind(other),
        }),
    }
}

/// A whole number written as a number or as text.
fn whole(value: &Value, field: &'static str) -> Result<i64, HealthConfigError> {
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        other => {
            return Err(HealthConfigError::Type {
                field: field.to_owned(),
                expected: "a whole number",
                got: kind(other),
            })
        }
    };
    parsed.ok_or_else(|| invalid(field, "expected a whole number"))
}

/// `true`/`false`, or text in Go's spellings.
fn flag(value: &Value, field: &'static str) -> Result<bool, HealthConfigError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(text) => match text.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            _ => Err(invalid(field, "expected true or false")),
        },
        other => Err(HealthConfigError::Type {
            field: field.to_owned(),
            expected: "true or false",
            got: kind(other),
        }),
    }
}

/// A duration greater than zero: a Go duration string, or a whole number of seconds.
fn positive_duration(value: &Value, field: &'static str) -> Result<Duration, HealthConfigError> {
    let parsed = match value {
        Value::String(text) => duration::parse(text).map_err(|source| HealthConfigError::Duration {
            field,
            value: text.clone(),
            source,
        })?,
        Value::Number(n) => match n.as_u64() {
            Some(seconds) => Duration::from_secs(seconds),
            None if n.as_i64().is_some_and(|v| v < 0) => {
                return Err(HealthConfigError::Duration {
                    field,
                    value: n.to_string(),
                    source: DurationError::Negative,
                })
            }
            None => return Err(invalid(field, "a number must be whole seconds (or write \"1.5s\")")),
        },
        other => {
            return Err(HealthConfigError::Type {
                field: field.to_owned(),
                expected: "a duration",
                got: kind(other),
            })
        }
    };
    if parsed.is_zero() {
        return Err(invalid(field, "must be greater than 0"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(raw: Value) -> (HealthCheck, Vec<String>) {
        match parse(&raw) {
            Ok(parsed) => parsed,
            Err(error) => panic!("{raw} should parse: {error}"),
        }
    }

    fn err(raw: Value) -> String {
        match parse(&raw) {
            Ok((check, _)) => panic!("{raw} should fail, got {check:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn defaults() {
        let (check, notes) = ok(json!({"path": "/health"}));
        assert_eq!(check, HealthCheck::new("/health"));
        assert_eq!(check.method, "GET");
        assert_eq!(check.interval, Duration::from_secs(30));
        assert_eq!(check.unhealthy_interval, Duration::from_secs(30));
        assert_eq!(check.timeout, Duration::from_secs(5));
        assert_eq!(check.scheme, None);
        assert_eq!(check.hostname, None);
        assert_eq!(check.port, None);
        assert!(check.headers.is_empty());
        assert_eq!(check.status, None);
        assert!(check.follow_redirects);
        assert!(notes.is_empty());
    }

    #[test]
    fn every_key() {
        let (check, notes) = ok(json!({
            "scheme": "https",
            "mode": "http",
            "path": "/ready?deep=1",
            "method": "HEAD",
            "status": 204,
            "port": 9090,
            "interval": "10s",
            "unhealthyInterval": "2s",
            "timeout": "500ms",
            "hostname": "app.example.com",
            "followRedirects": false,
            "headers": {"X-Token": "s3cret", "Accept": "text/plain"},
        }));
        assert_eq!(
            check,
            HealthCheck {
                path: "/ready?deep=1".to_owned(),
                method: "HEAD".to_owned(),
                interval: Duration::from_secs(10),
                unhealthy_interval: Duration::from_secs(2),
                timeout: Duration::from_millis(500),
                scheme: Some("https".to_owned()),
                hostname: Some("app.example.com".to_owned()),
                port: Some(9090),
                headers: vec![
                    ("Accept".to_owned(), "text/plain".to_owned()),
                    ("X-Token".to_owned(), "s3cret".to_owned())
                ],
                status: Some(204),
                follow_redirects: false,
            }
        );
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn unhealthy_interval_defaults_to_interval() {
        let (check, _) = ok(json!({"path": "/", "interval": "7s"}));
        assert_eq!(check.unhealthy_interval, Duration::from_secs(7));
    }

    #[test]
    fn integer_seconds_and_text_numbers() {
        let (check, _) = ok(json!({
            "path": "/", "interval": 10, "unhealthyInterval": "3", "timeout": 2,
            "port": "8081", "status": "200", "followRedirects": "false",
        }));
        assert_eq!(check.interval, Duration::from_secs(10));
        assert_eq!(check.unhealthy_interval, Duration::from_secs(3));
        assert_eq!(check.timeout, Duration::from_secs(2));
        assert_eq!(check.port, Some(8081));
        assert_eq!(check.status, Some(200));
        assert!(!check.follow_redirects);
    }

    #[test]
    fn keys_ignore_case_and_nulls_are_absent() {
        let (check, notes) = ok(json!({"PATH": "/x", "Interval": "1m", "timeout": null, "FollowRedirects": false}));
        assert_eq!(check.path, "/x");
        assert_eq!(check.interval, Duration::from_secs(60));
        assert_eq!(check.timeout, DEFAULT_TIMEOUT);
        assert!(!check.follow_redirects);
        assert!(notes.is_empty());
    }

    #[test]
    fn zero_status_and_port_mean_unset_and_empty_texts_are_defaults() {
        let (check, _) = ok(json!({"path": "/", "status": 0, "port": 0, "scheme": "", "hostname": "", "method": ""}));
        assert_eq!(check, HealthCheck::new("/"));
    }

    #[test]
    fn notes_for_unknown_keys_lowercase_method_and_host_header() {
        let (check, notes) = ok(json!({
            "path": "/", "method": "get", "bogus": 1,
            "headers": {"Host": "other.example", "X-A": "1"},
        }));
        assert_eq!(check.method, "GET");
        assert_eq!(check.headers, vec![("X-A".to_owned(), "1".to_owned())]);
        assert_eq!(
            notes,
            vec![
                "healthCheck.bogus: unknown key, ignored".to_owned(),
                "healthCheck.method: \"get\" is sent as \"GET\"".to_owned(),
                "healthCheck.headers.Host: ignored (set healthCheck.hostname instead)".to_owned(),
            ]
        );
        assert!(!notes.iter().any(|note| note.contains("other.example")));
    }

    #[test]
    fn timeout_may_exceed_interval() {
        let (check, _) = ok(json!({"path": "/", "interval": "1s", "timeout": "10s"}));
        assert_eq!(check.interval, Duration::from_secs(1));
        assert_eq!(check.timeout, Duration::from_secs(10));
    }

    #[test]
    fn errors_name_their_field() {
        let cases = [
            (json!("x"), "healthCheck: expected an object, got text"),
            (json!({}), "healthCheck.path: missing (required)"),
            (json!({"path": ""}), "healthCheck.path: missing (required)"),
            (json!({"path": "health"}), "healthCheck.path: must start with \"/\""),
            (
                json!({"path": "/a b"}),
                "healthCheck.path: must not contain spaces or control characters",
            ),
            (
                json!({"path": "/a\u{1}"}),
                "healthCheck.path: must not contain spaces or control characters",
            ),
            (json!({"path": ["/"]}), "healthCheck.path: expected text, got a list"),
            (
                json!({"path": "/", "mode": "grpc"}),
                "healthCheck.mode: \"grpc\" is not supported (ringress checks over HTTP only)",
            ),
            (
                json!({"path": "/", "mode": "tcp"}),
                "healthCheck.mode: must be \"http\" (or Traefik's \"grpc\")",
            ),
            (
                json!({"path": "/", "scheme": "ftp"}),
                "healthCheck.scheme: must be \"http\" or \"https\"",
            ),
            (
                json!({"path": "/", "method": "GE T"}),
                "healthCheck.method: not a valid HTTP method",
            ),
            (
                json!({"path": "/", "status": 600}),
                "healthCheck.status: must be an HTTP status between 100 and 599",
            ),
            (
                json!({"path": "/", "status": "ok"}),
                "healthCheck.status: expected a whole number",
            ),
            (
                json!({"path": "/", "port": 70000}),
                "healthCheck.port: must be between 1 and 65535",
            ),
            (
                json!({"path": "/", "port": true}),
                "healthCheck.port: expected a whole number, got a boolean",
            ),
            (
                json!({"path": "/", "interval": "x"}),
                "healthCheck.interval: invalid duration \"x\": unknown unit \"x\" (use ns, us, ms, s, m or h)",
            ),
            (
                json!({"path": "/", "interval": "0s"}),
                "healthCheck.interval: must be greater than 0",
            ),
            (
                json!({"path": "/", "interval": -5}),
                "healthCheck.interval: invalid duration \"-5\": must not be negative",
            ),
            (
                json!({"path": "/", "interval": 1.5}),
                "healthCheck.interval: a number must be whole seconds (or write \"1.5s\")",
            ),
            (
                json!({"path": "/", "unhealthyInterval": "1.5"}),
                "healthCheck.unhealthyInterval: invalid duration \"1.5\": missing unit (use ns, us, ms, s, m or h, e.g. \"5s\")",
            ),
            (json!({"path": "/", "timeout": 0}), "healthCheck.timeout: must be greater than 0"),
            (
                json!({"path": "/", "timeout": {}}),
                "healthCheck.timeout: expected a duration, got an object",
            ),
            (
                json!({"path": "/", "hostname": "a b"}),
                "healthCheck.hostname: not a valid host name",
            ),
            (
                json!({"path": "/", "followRedirects": "maybe"}),
                "healthCheck.followRedirects: expected true or false",
            ),
            (
                json!({"path": "/", "headers": []}),
                "healthCheck.headers: expected an object, got a list",
            ),
            (
                json!({"path": "/", "headers": {"Bad Name": "v"}}),
                "healthCheck.headers.Bad Name: not a valid header name",
            ),
            (
                json!({"path": "/", "headers": {"X-Token": "line\nbreak-s3cret"}}),
                "healthCheck.headers.X-Token: not a valid header value (value not shown)",
            ),
            (
                json!({"path": "/", "headers": {"X-Token": ["s3cret"]}}),
                "healthCheck.headers.X-Token: expected text, got a list",
            ),
            (
                json!({"path": "/", "Path": "/"}),
                "healthCheck.path: given twice (keys are case-insensitive)",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(err(raw), want);
        }
    }

    #[test]
    fn debug_never_shows_header_values() {
        let (check, _) = ok(json!({"path": "/", "headers": {"Authorization": "Bearer s3cret"}}));
        let shown = format!("{check:?}");
        assert!(shown.contains("Authorization"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
