//! `providers.http`: where the dynamic configuration is polled from, and `ringress.provider`:
//! where its bearer token comes from.
//!
//! Owns the checks on the endpoint, poll timings, request headers and token source. Header
//! values are secrets (bearer tokens): no error or warning built here ever contains one. Never
//! contacts the endpoint, never opens the token file and never reads the token's environment
//! variable (the provider does, at start-up).

use std::path::Path;

use super::error::ConfigError;
use super::model::{HttpProvider, ProviderAuth};
use super::raw::{Named, RawHttpProvider, RawProviderAuth, Text};
use super::validate::{check_url, Checker};

const KEY: &str = "providers.http";

impl HttpProvider {
    /// The endpoint as it may be shown in logs, errors, `Debug` output and the API:
    /// `scheme://host[:port]/path`, without userinfo (`user:pass@`), query string (`?token=`)
    /// or fragment.
    pub fn endpoint_display(&self) -> String {
        let url = self.endpoint.as_str();
        let Some((scheme, rest)) = url.split_once("://") else {
            return "<endpoint is not a URL>".to_owned();
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let path_end = after.find(['?', '#']).unwrap_or(after.len());
        format!("{scheme}://{host}{}", &after[..path_end])
    }
}

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

const AUTH_KEY: &str = "ringress.provider";

/// `ringress.provider`: at most one of `tokenFile` (resolved against the config file's
/// directory) and `tokenEnv` (a plausible variable name).
pub(super) fn auth(checker: &Checker<'_>, raw: RawProviderAuth) -> Result<ProviderAuth, ConfigError> {
    if raw.token_file.is_some() && raw.token_env.is_some() {
        return Err(checker.invalid(AUTH_KEY, "`tokenFile` and `tokenEnv` are both set; set one of them"));
    }
    let token_file = match raw.token_file.as_ref() {
        Some(text) => {
            let path = checker.required(&format!("{AUTH_KEY}.tokenFile"), Some(text))?;
            Some(checker.resolve(Path::new(path)))
        }
        None => None,
    };
    let token_env = match raw.token_env.as_ref() {
        Some(text) => {
            let key = format!("{AUTH_KEY}.tokenEnv");
            let name = checker.required(&key, Some(text))?;
            if name.contains(['=', '\0']) || name.chars().any(char::is_whitespace) {
                return Err(checker.invalid(
                    &key,
                    format!("{name:?} is not an environment variable name (no `=`, spaces or NUL)"),
                ));
            }
            Some(name.to_owned())
        }
        None => None,
    };
    Ok(ProviderAuth { token_file, token_env })
}

/// Warnings for a token source that will not be used as the operator may expect.
pub(super) fn check_auth(checker: &mut Checker<'_>, auth: &ProviderAuth, http: Option<&HttpProvider>) {
    if !auth.is_set() {
        return;
    }
    let source = if auth.token_file.is_some() {
        "tokenFile"
    } else {
        "tokenEnv"
    };
    match http {
        None => checker.warn(format!(
            "`{AUTH_KEY}.{source}` is set but there is no `providers.http` (ignored)"
        )),
        Some(http) => {
            if let Some((name, _)) = http
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            {
                checker.warn(format!(
                    "`{KEY}.headers.{name}` is replaced by the token from `{AUTH_KEY}.{source}`"
                ));
            }
        }
    }
}
