//! A worker's TLS server configuration: TLS 1.3 and 1.2 on the ring provider, ALPN `http/1.1` only (never `h2`
//! until HTTP/2 is served), certificates from the worker's own [`SniResolver`], and stateless session tickets.
//!
//! Resumption uses self-contained tickets ([`TicketKeys`], one secret for all workers), so a returning client
//! resumes however many others came meanwhile and whichever worker takes its connection. A server-side session
//! cache (rustls' default: 256 entries per worker, two tickets per TLS 1.3 handshake) forgot a client after ~128
//! others, and under load every handshake was a full one again.
//!
//! Built once per worker at start-up; certificate changes go through [`WorkerTls::store`], never through a new
//! configuration.

use std::sync::Arc;

use rustls::ServerConfig;

use super::{CertMap, SniResolver, TicketKeys, TlsError};

/// The only application protocol offered in ALPN.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// One worker's TLS state.
#[derive(Debug, Clone)]
pub struct WorkerTls {
    config: Arc<ServerConfig>,
    resolver: Arc<SniResolver>,
}

impl WorkerTls {
    /// A configuration serving `certs`, sealing session tickets with `tickets` (the same secret in every worker).
    pub fn new(certs: Arc<CertMap>, tickets: TicketKeys) -> Result<Self, TlsError> {
        let resolver = Arc::new(SniResolver::new(certs));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.ticketer = Arc::new(tickets);
        Ok(WorkerTls {
            config: Arc::new(config),
            resolver,
        })
    }

    /// The rustls configuration for a new connection.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// Serves `certs` from the next handshake on (no-op when it is already the current map).
    pub fn store(&self, certs: &Arc<CertMap>) {
        if !self.resolver.is_current(certs) {
            self.resolver.store(certs.clone());
        }
    }

    /// The resolver (for tests and diagnostics).
    pub fn resolver(&self) -> &Arc<SniResolver> {
        &self.resolver
    }
}
