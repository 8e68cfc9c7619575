//! An `instant_acme::HttpClient` over a blocking ureq agent.
//!
//! Owns the agent configuration for talking to a CA: HTTP status codes are returned, not turned into errors (ACME
//! problem documents such as `badNonce` must reach instant-acme so it can retry), no redirects, one global timeout,
//! and either the web PKI roots or one specific root (a test CA such as pebble's). Must never: run on a worker (each
//! request blocks the calling thread), or log request bodies (they carry signed account requests).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};

/// A root certificate PEM that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("ACME root CA: not a PEM certificate: {0}")]
pub struct RootCaError(String);

/// The blocking HTTP client handed to instant-acme.
#[derive(Clone)]
pub struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    /// A client with `timeout` for each whole request; `root_pem` (one or more PEM certificates) replaces the web
    /// PKI roots when given.
    pub fn new(root_pem: Option<&[u8]>, timeout: Duration) -> Result<UreqClient, RootCaError> {
        let roots = match root_pem {
            Some(pem) => {
                let mut certs = Vec::new();
                for item in ureq::tls::parse_pem(pem) {
                    match item.map_err(|e| RootCaError(e.to_string()))? {
                        ureq::tls::PemItem::Certificate(c) => certs.push(c.to_owned()),
                        _ => continue,
                    }
                }
                if certs.is_empty() {
                    return Err(RootCaError("no CERTIFICATE block".into()));
                }
                ureq::tls::RootCerts::Specific(Arc::new(certs))
            }
            None => ureq::tls::RootCerts::WebPki,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(concat!("ringress/", env!("CARGO_PKG_VERSION")))
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .build()
            .into();
        Ok(UreqClient { agent })
    }

    /// The underlying agent (for plain GETs next to ACME, e.g. fetching a test CA's root).
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }
}

impl HttpClient for UreqClient {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let agent = self.agent.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            // The body type is infallible and already in memory: collecting never waits.
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            let resp = agent
                .run(http::Request::from_parts(parts, body.to_vec()))
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            let (parts, mut body) = resp.into_parts();
            let bytes = body
                .read_to_vec()
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            Ok(BytesResponse {
                parts,
                body: Box::new(Bytes::from(bytes)),
            })
        })
    }
}
