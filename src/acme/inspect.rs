//! What a stored certificate says about itself: validity window, issuer, serial and DNS names of the leaf, and
//! whether it is due for renewal.
//!
//! Owns the x509 reading and the renewal rule (renew when less than one third of the lifetime remains, as Caddy does;
//! 30 days before expiry for a 90-day certificate). Must never: trust the chain (this is inspection, not
//! verification), or touch the private key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A chain that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("certificate chain: no PEM CERTIFICATE block")]
    NoCertificate,
    #[error("certificate chain: bad PEM: {0}")]
    Pem(String),
    #[error("certificate chain: bad X.509 leaf: {0}")]
    X509(String),
}

/// The facts of a chain's first (leaf) certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// The issuer's distinguished name, RFC 4514 style (`CN=Pebble Intermediate CA 1a2b3c`).
    pub issuer: String,
    /// The serial number in lower-case hex, colon-free.
    pub serial: String,
    /// The subjectAltName DNS names, in certificate order.
    pub sans: Vec<String>,
}

impl CertInfo {
    /// Reads the first certificate of a PEM chain.
    pub fn from_pem_chain(pem: &[u8]) -> Result<CertInfo, InspectError> {
        for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
            let block = block.map_err(|e| InspectError::Pem(e.to_string()))?;
            if block.label == "CERTIFICATE" {
                return CertInfo::from_der(&block.contents);
            }
        }
        Err(InspectError::NoCertificate)
    }

    /// Reads one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, InspectError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| InspectError::X509(e.to_string()))?;
        let validity = cert.validity();
        let sans = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(InspectError::X509(e.to_string())),
        };
        Ok(CertInfo {
            not_before: to_system_time(validity.not_before.timestamp()),
            not_after: to_system_time(validity.not_after.timestamp()),
            issuer: cert.issuer().to_string(),
            serial: cert.tbs_certificate.raw_serial_as_string().replace(':', ""),
            sans,
        })
    }

    /// The whole validity period (zero when the dates are inverted).
    pub fn lifetime(&self) -> Duration {
        self.not_after.duration_since(self.not_before).unwrap_or(Duration::ZERO)
    }

    /// Whether less than one third of the lifetime remains at `now` (always true once expired).
    pub fn renew_due(&self, now: SystemTime) -> bool {
        match self.not_after.duration_since(now) {
            Ok(remaining) => remaining < self.lifetime() / 3,
            Err(_) => true,
        }
    }

    /// Whether `now` is outside the validity window.
    pub fn expired(&self, now: SystemTime) -> bool {
        now < self.not_before || now >= self.not_after
    }
}

fn to_system_time(unix: i64) -> SystemTime {
    match u64::try_from(unix) {
        Ok(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        Err(_) => UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs()),
    }
}
