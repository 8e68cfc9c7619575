//! The SNI resolver: picks a certificate for a ClientHello from the worker's current [`CertMap`].
//!
//! Never does I/O and never locks: a resolve is an `ArcSwap::load` plus a hash lookup. Never returns `None` (a
//! missing certificate would abort the handshake): the map's default certificate answers instead.
//!
//! Also remembers, per thread and only while debug logging is on, the server name of the ClientHello it answered last
//! ([`take_resolved_name`]): rustls' unbuffered connection keeps no SNI, and the resolver runs inside the handshake
//! step on the worker's thread.

use std::cell::RefCell;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::CertMap;

thread_local! {
    /// The server name of the ClientHello this thread resolved a certificate for last.
    static RESOLVED_NAME: RefCell<Option<Box<str>>> = const { RefCell::new(None) };
}

/// Takes the server name (SNI) of the ClientHello this thread resolved a certificate for last, if any: a handshake
/// calls it right after a synchronous step, so the name is the one of its own ClientHello when that step resolved.
pub fn take_resolved_name() -> Option<Box<str>> {
    RESOLVED_NAME.with(|n| n.borrow_mut().take())
}

/// Resolves certificates from an atomically swapped [`CertMap`].
#[derive(Debug)]
pub struct SniResolver {
    certs: ArcSwap<CertMap>,
}

impl SniResolver {
    /// A resolver serving `certs`.
    pub fn new(certs: Arc<CertMap>) -> Self {
        SniResolver {
            certs: ArcSwap::new(certs),
        }
    }

    /// Serves `certs` to every handshake from now on (handshakes in flight keep the certificate they chose).
    pub fn store(&self, certs: Arc<CertMap>) {
        self.certs.store(certs);
    }

    /// True if `certs` is the map being served.
    pub fn is_current(&self, certs: &Arc<CertMap>) -> bool {
        Arc::ptr_eq(&self.certs.load(), certs)
    }

    /// The certificate a handshake for `server_name` gets.
    pub fn pick(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        self.certs.load().lookup(server_name).clone()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name();
        // Only the debug log reads it: no allocation per handshake otherwise.
        if log::log_enabled!(log::Level::Debug) {
            RESOLVED_NAME.with(|n| *n.borrow_mut() = name.map(|s| s.to_ascii_lowercase().into_boxed_str()));
        }
        Some(self.pick(name))
    }
}
