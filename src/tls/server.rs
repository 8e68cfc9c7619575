//! A worker's TLS server configuration: TLS 1.3 and 1.2 on the ring provider, ALPN `http/1.1` only (never `h2`
//! until HTTP/2 is served), certificates from the worker's own [`SniResolver`], and stateless session tickets.
//!
//! Resumption uses tickets the worker encrypts with its own rotating key (rustls' `Ticketer`: ChaCha20-Poly1305,
//! a new key every 6 hours, tickets valid 12), so a returning client resumes however many others came meanwhile.
//! A server-side session cache (rustls' default: 256 entries, two tickets per TLS 1.3 handshake) forgot a client
//! after ~128 others, and every handshake was a full one again under load. The ticket key belongs to one worker
//! (its lock is never shared with another thread); a client whose next connection lands on another worker makes a
//! full handshake there.
//!
//! Built once per worker at start-up; certificate changes go through [`WorkerTls::store`], never through a new
//! configuration.

use std::sync::Arc;

use rustls::ServerConfig;

use super::{CertMap, SniResolver, TlsError};

/// The only application protocol offered in ALPN.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// One worker's TLS state.
#[derive(Debug, Clone)]
pub struct WorkerTls {
    config: Arc<ServerConfig>,
    resolver: Arc<SniResolver>,
}

impl WorkerTls {
    /// A configuration serving `certs`.
    pub fn new(certs: Arc<CertMap>) -> Result<Self, TlsError> {
        let resolver = Arc::new(SniResolver::new(certs));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.ticketer = rustls::crypto::ring::Ticketer::new()?;
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
