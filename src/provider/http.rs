//! [`HttpSource`]: one blocking GET of the control plane's dynamic configuration.
//!
//! Owns the request (endpoint, configured headers, bearer token), its limits (`pollTimeout` for
//! the whole exchange including the body, [`MAX_BODY_BYTES`]) and how failures are reported.
//! Runs on the control thread only, never on a worker, and never touches a client socket.
//! Never puts the token, a header value, the endpoint's userinfo or its query string into an
//! error, a log line or `Debug` output: the endpoint is shown as [`HttpSource::endpoint_display`].
//!
//! Redirects are not followed (`max_redirects(0)`): a 3xx is a [`FetchError::Status`]. Traefik
//! follows them; ringress does not, so the `Authorization` header can never reach another host.
//!
//! The HTTP client logs through `log`. At `debug` it redacts every header but a safe few; at
//! `trace` it logs the raw wire, token included, so the process logger must cap the `ureq` and
//! `ureq_proto` targets at `debug`.

use std::fmt;
use std::io;
use std::time::Duration;

use ureq::http::{HeaderName, HeaderValue, StatusCode, Uri};

use super::dynamic::MAX_BODY_BYTES;
use super::secret::Secret;
use crate::config::HttpProvider;

/// Polls one control-plane endpoint. Build once, [`fetch`](Self::fetch) every poll.
pub struct HttpSource {
    agent: ureq::Agent,
    endpoint: Uri,
    display: String,
    poll_timeout: Duration,
    /// Configured headers, validated; values marked sensitive.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// `Bearer <token>`, replacing a configured `Authorization` header when set.
    authorization: Option<HeaderValue>,
}

impl fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("HttpSource")
            .field("endpoint", &self.display)
            .field("poll_timeout", &self.poll_timeout)
            .field("headers", &headers)
            .field("token", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A 200 answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The body, at most [`MAX_BODY_BYTES`]. The control loop compares it with the last applied body to skip an
    /// unchanged configuration: comparing bytes costs a fraction of hashing tens of megabytes byte by byte.
    pub body: Vec<u8>,
}

impl Fetched {
    /// FNV-1a 64 of the body (Traefik's choice), computed when asked (logs, tests).
    pub fn hash(&self) -> u64 {
        fnv1a64(&self.body)
    }
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetched")
            .field("body_len", &self.body.len())
            .field("hash", &format_args!("{:016x}", self.hash()))
            .finish()
    }
}

/// Why an [`HttpSource`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The endpoint is not an `http://` or `https://` URL with a host.
    #[error("providers.http.endpoint {endpoint}: {reason}")]
    Endpoint {
        /// The endpoint without userinfo or query.
        endpoint: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A configured header cannot be sent.
    #[error("providers.http.headers.{name}: {reason} (value not shown)")]
    Header {
        /// The header name as configured.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The token cannot be sent in a header.
    #[error("provider token: not a valid header value (value not shown)")]
    Token,
}

/// Why one poll failed; the caller keeps its last configuration. `Display` is one line naming
/// the cause and the endpoint (without credentials), never the token.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Any status but 200.
    #[error("HTTP {} from {endpoint}{}", status_line(*status), status_hint(*status))]
    Status {
        /// The status code.
        status: u16,
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
    },
    /// No complete answer, body included, within `pollTimeout`.
    #[error("no complete answer from {endpoint} within {timeout:?} (providers.http.pollTimeout)")]
    Timeout {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// `pollTimeout`.
        timeout: Duration,
    },
    /// The connection could not be made (refused, unreachable, name not found).
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// TLS with the endpoint failed (certificate not trusted, handshake error).
    #[error("TLS with {endpoint} failed: {reason}")]
    Tls {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The connection broke during the exchange.
    #[error("connection to {endpoint} failed: {reason}")]
    Io {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The answer is not valid HTTP/1.1.
    #[error("invalid HTTP answer from {endpoint}: {reason}")]
    Protocol {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("body from {endpoint} is larger than {limit} bytes")]
    TooLarge {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The request could not be made for another reason.
    #[error("request to {endpoint} failed: {reason}")]
    Request {
        /// The endpoint, as [`HttpSource::endpoint_display`].
        endpoint: String,
        /// What failed.
        reason: &'static str,
    },
}

impl HttpSource {
    /// A source for `conf.endpoint` sending `conf.headers`, plus `Authorization: Bearer <token>`
    /// when `token` is set (replacing a configured `Authorization` header).
    ///
    /// # Errors
    ///
    /// [`ProviderError`] when the endpoint, a header or the token cannot be sent.
    pub fn new(conf: &HttpProvider, token: Option<Secret>) -> Result<Self, ProviderError> {
        let display = conf.endpoint_display();
        let endpoint = parse_endpoint(&conf.endpoint).map_err(|reason| ProviderError::Endpoint {
            endpoint: display.clone(),
            reason,
        })?;
        let mut headers = Vec::with_capacity(conf.headers.len());
        for (name, value) in &conf.headers {
            let header_error = |reason| ProviderError::Header {
                name: name.clone(),
                reason,
            };
            let parsed_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| header_error("invalid name"))?;
            let mut parsed_value = HeaderValue::from_str(value).map_err(|_| header_error("invalid value"))?;
            parsed_value.set_sensitive(true);
            headers.push((parsed_name, parsed_value));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(conf.poll_timeout))
            .max_redirects(0)
            .user_agent(concat!("ringress/", env!("CARGO_PKG_VERSION")))
            .build();
        let mut source = HttpSource {
            agent: ureq::Agent::new_with_config(config),
            endpoint,
            display,
            poll_timeout: conf.poll_timeout,
            headers,
            authorization: None,
        };
        source.set_token(token)?;
        Ok(source)
    }

    /// Replaces the token (after [`super::TokenSource::refresh`] read a new one); `None` goes
    /// back to the configured headers.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Token`] when the token cannot be sent in a header; the previous token
    /// stays.
    pub fn set_token(&mut self, token: Option<Secret>) -> Result<(), ProviderError> {
        self.authorization = match token {
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| ProviderError::Token)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(())
    }

    /// GETs the endpoint once. Blocks for at most `pollTimeout`, body included.
    ///
    /// # Errors
    ///
    /// [`FetchError`] for anything but a complete 200 answer within the limits.
    pub fn fetch(&self) -> Result<Fetched, FetchError> {
        let mut request = self.agent.get(&self.endpoint);
        for (name, value) in &self.headers {
            if self.authorization.is_some() && *name == ureq::http::header::AUTHORIZATION {
                continue;
            }
            request = request.header(name.clone(), value.clone());
        }
        if let Some(value) = &self.authorization {
            request = request.header(ureq::http::header::AUTHORIZATION, value.clone());
        }
        let response = request.call().map_err(|error| self.client_error(error))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchError::Status {
                status,
                endpoint: self.display.clone(),
            });
        }
        let mut body = response.into_body();
        if body.content_length().is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(self.too_large());
        }
        let body = body
            .with_config()
            .limit(MAX_BODY_BYTES as u64)
            .read_to_vec()
            .map_err(|error| self.client_error(error))?;
        Ok(Fetched { body })
    }

    /// The endpoint without userinfo, query string or fragment: safe for logs and the API.
    pub fn endpoint_display(&self) -> String {
        self.display.clone()
    }

    fn too_large(&self) -> FetchError {
        FetchError::TooLarge {
            endpoint: self.display.clone(),
            limit: MAX_BODY_BYTES,
        }
    }

    /// Maps a client error to [`FetchError`]. Only messages known not to carry the URL or a
    /// header value are passed on; the rest are replaced by a fixed reason.
    fn client_error(&self, error: ureq::Error) -> FetchError {
        let endpoint = self.display.clone();
        match error {
            ureq::Error::Timeout(_) => FetchError::Timeout {
                endpoint,
                timeout: self.poll_timeout,
            },
            ureq::Error::BodyExceedsLimit(_) => self.too_large(),
            ureq::Error::HostNotFound => FetchError::Connect {
                endpoint,
                reason: "host not found".to_owned(),
            },
            ureq::Error::ConnectionFailed => FetchError::Connect {
                endpoint,
                reason: "connection failed".to_owned(),
            },
            ureq::Error::Io(error) => self.io_error(error),
            ureq::Error::Tls(reason) => FetchError::Tls {
                endpoint,
                reason: reason.to_owned(),
            },
            ureq::Error::Rustls(error) => FetchError::Tls {
                endpoint,
                reason: error.to_string(),
            },
            ureq::Error::Pem(_) | ureq::Error::TlsRequired => FetchError::Tls {
                endpoint,
                reason: "TLS setup failed".to_owned(),
            },
            ureq::Error::Protocol(error) => FetchError::Protocol {
                endpoint,
                reason: error.to_string(),
            },
            ureq::Error::LargeResponseHeader(_, limit) => FetchError::Protocol {
                endpoint,
                reason: format!("response head larger than {limit} bytes"),
            },
            ureq::Error::InvalidProxyUrl | ureq::Error::ConnectProxyFailed(_) => FetchError::Request {
                endpoint,
                reason: "the proxy from HTTP(S)_PROXY/ALL_PROXY failed",
            },
            _ => FetchError::Request {
                endpoint,
                reason: "the HTTP client refused the request",
            },
        }
    }

    fn io_error(&self, error: io::Error) -> FetchError {
        let endpoint = self.display.clone();
        let reason = error.to_string();
        match error.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout {
                endpoint,
                timeout: self.poll_timeout,
            },
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NotFound => FetchError::Connect { endpoint, reason },
            _ => FetchError::Io { endpoint, reason },
        }
    }
}

/// The endpoint as a URI with an `http` or `https` scheme and a host.
fn parse_endpoint(endpoint: &str) -> Result<Uri, &'static str> {
    let uri: Uri = endpoint.parse().map_err(|_| "not a valid URL")?;
    match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {}
        _ => return Err("the scheme must be http or https"),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL has no host");
    }
    Ok(uri)
}

/// `401 Unauthorized`, or the bare code when it has no standard reason.
fn status_line(status: u16) -> String {
    match StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        300..=399 => " (redirects are not followed: set providers.http.endpoint to the final URL)",
        401 | 403 => " (check the provider token)",
        _ => "",
    }
}

/// FNV-1a, 64-bit.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
