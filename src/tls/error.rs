//! Errors of the TLS set-up (never of a client's handshake: those are I/O errors on its connection).

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The default certificate could not be generated.
    #[error("cannot generate the default certificate: {0}")]
    DefaultCert(#[from] rcgen::Error),
    /// rustls refused a key, a certificate or the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The system's random source failed while making the session ticket secret.
    #[error("cannot make the session ticket secret: the system random source failed")]
    TicketKey,
}
