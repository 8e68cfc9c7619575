//! TLS termination: the per-worker rustls server configuration, the SNI certificate map and its resolver, the
//! default self-signed certificate, and a thin owned-buffer TLS stream over monoio.
//!
//! Owns: choosing a certificate for a ClientHello (an `ArcSwap<CertMap>` load plus a hash lookup), the TLS record
//! layer of a client connection. Must never do I/O in the resolver, never take a lock on the request path, never
//! fail a handshake for want of a certificate (the default certificate answers), and never advertise `h2`.

pub mod cert_map;
pub mod default_cert;
pub mod error;
pub mod resolver;
pub mod server;
pub mod split;
pub mod stream;
pub mod tickets;

mod engine;

pub use cert_map::CertMap;
pub use error::TlsError;
pub use resolver::SniResolver;
pub use server::WorkerTls;
pub use split::{TlsReadHalf, TlsWriteHalf};
pub use stream::{Accepted, TlsStream};
pub use tickets::TicketKeys;

/// The first byte of a TLS record carrying a handshake message (a ClientHello opens every TLS connection).
pub const HANDSHAKE_RECORD: u8 = 0x16;
