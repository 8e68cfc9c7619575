//! The certificate served when no other one fits (no SNI, or a name without a certificate): self-signed, generated
//! in memory at start-up, like Traefik's `TRAEFIK DEFAULT CERT`. Never written to disk.

use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use super::TlsError;

/// The default certificate's subject common name.
pub const DEFAULT_CN: &str = "RINGRESS DEFAULT CERT";

/// The default certificate's only subject alternative name.
pub const DEFAULT_SAN: &str = "ringress.default";

/// Generates a fresh ECDSA P-256 self-signed certificate for [`DEFAULT_CN`].
pub fn generate() -> Result<Arc<CertifiedKey>, TlsError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec![DEFAULT_SAN.to_owned()])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, DEFAULT_CN);
    params.distinguished_name = dn;
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(vec![cert.der().clone()], key_der, &provider)?;
    Ok(Arc::new(certified))
}
