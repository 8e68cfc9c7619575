//! `providers.http`: where the dynamic configuration is polled from.
//!
//! Owns the checks on the endpoint, poll timings and request headers. Header values are
//! secrets (bearer tokens): no error or warning built here ever contains one. Never contacts
//! the endpoint.

use super::error::ConfigError;
use super::model::HttpProvider;
use super::raw::{Named, RawHttpProvider, Text};
use super::validate::{check_url, Checker};

const KEY: &str = "providers.http";

pub(super) fn build(checker: &Checker<'_>, raw: RawHttpProvider) -> Result<HttpProvider, ConfigError> {
    let endpoint_key = format!("{KEY}.endpoint");
    let endpoint = checker.required(&endpoint_key, raw.endpoint.as_ref())?;
    check_url(endpoint, &["http://", "https://"]).map_err(|reason| checker.invalid(&endpoint_key, reason))?;
    let defaults = HttpProvider::new(endpoint);
    Ok(HttpProvider {
        poll_interval: checker.positive_duration(
            &format!("{KEY}.pollInterval"),
            raw.poll_interval.as_ref(),
            defaults.poll_interval,
        )?,
        poll_timeout: checker.positive_duration(
            &format!("{KEY}.pollTimeout"),
            raw.poll_timeout.as_ref(),
            defaults.poll_timeout,
        )?,
        headers: headers(checker, raw.headers.unwrap_or_default())?,
        endpoint: defaults.endpoint,
    })
}

/// Header names must be HTTP tokens and unique ignoring case; values must not be able to
/// break the request head (no CR, LF or other control characters except tab).
fn headers(checker: &Checker<'_>, raw: Named<Text>) -> Result<Vec<(String, String)>, ConfigError> {
    let mut headers: Vec<(String, String)> = Vec::with_capacity(raw.0.len());
    for (name, Text(value)) in raw.0 {
        let valid_len = name.bytes().take_while(|b| is_token_byte(*b)).count();
        if name.is_empty() || valid_len < name.len() {
            // A pasted `Authorization: Bearer ...` line lands here as a name: show only the
            // part before the first bad character, which cannot be the secret.
            let shown = &name[..valid_len];
            return Err(checker.invalid(
                &format!("{KEY}.headers"),
                format!("invalid header name {shown:?}... (names are HTTP tokens: no spaces or colons)"),
            ));
        }
        let key = format!("{KEY}.headers.{name}");
        if headers.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(&name)) {
            return Err(checker.invalid(&key, "duplicate header (names are case-insensitive)"));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(checker.invalid(&key, "value contains a control character (value not shown)"));
        }
        headers.push((name, value));
    }
    Ok(headers)
}

/// `tchar` of RFC 9110 section 5.6.2.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}
