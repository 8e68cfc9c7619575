//! From stored certificates to what the workers serve: PEM chain and key → rustls `CertifiedKey`, and every
//! resolver's certificates → one [`CertMap`].
//!
//! Owns the choice when several stored certificates cover one name: the one that stays valid longest wins (a
//! renewed per-name certificate over an older bundle imported from Traefik). Must never: do I/O, or put key
//! material into an error message.

use std::sync::Arc;
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::inspect::CertInfo;
use super::store::{Resolver, StoredCert};
use crate::tls::CertMap;

/// A stored certificate that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("certificate for {main}: {reason}")]
    Unusable { main: String, reason: String },
}

/// The rustls form of a stored certificate.
pub fn certified_key(cert: &StoredCert) -> Result<CertifiedKey, ServeError> {
    let unusable = |reason: String| ServeError::Unusable {
        main: cert.domain.main.clone(),
        reason,
    };
    let chain_pem = cert.chain_pem().map_err(|e| unusable(e.to_string()))?;
    let key_pem = cert.key_pem().map_err(|e| unusable(e.to_string()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| unusable(format!("bad certificate PEM: {e:?}")))?;
    if chain.is_empty() {
        return Err(unusable("no certificate in the chain".into()));
    }
    // The key's parse error is not shown: it could echo key bytes.
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| unusable("the private key is not valid PEM".into()))?;
    let provider = rustls::crypto::ring::default_provider();
    CertifiedKey::from_der(chain, key, &provider).map_err(|e| unusable(format!("key and certificate: {e}")))
}

/// One servable certificate with the names it answers for.
pub struct Loaded {
    pub names: Vec<String>,
    pub key: Arc<CertifiedKey>,
    pub not_after: SystemTime,
}

/// Every complete certificate of `resolvers` that rustls accepts; the others are returned as errors.
pub fn load_all<'a>(resolvers: impl IntoIterator<Item = &'a Resolver>) -> (Vec<Loaded>, Vec<ServeError>) {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for cert in resolvers
        .into_iter()
        .flat_map(|r| r.certificates.iter())
        .filter(|c| c.is_complete())
    {
        let info = match cert.info() {
            Ok(info) => info,
            Err(e) => {
                errors.push(ServeError::Unusable {
                    main: cert.domain.main.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        match certified_key(cert) {
            Ok(key) => loaded.push(Loaded {
                names: names_of(cert, &info),
                key: Arc::new(key),
                not_after: info.not_after,
            }),
            Err(e) => errors.push(e),
        }
    }
    (loaded, errors)
}

/// The names the entry was stored for (Traefik's `domain`), or the leaf's DNS names when the entry names none.
fn names_of(cert: &StoredCert, info: &CertInfo) -> Vec<String> {
    let stored: Vec<String> = cert.names().filter(|n| !n.is_empty()).map(str::to_string).collect();
    if stored.is_empty() {
        info.sans.clone()
    } else {
        stored
    }
}

/// The map workers serve: `default` plus every loaded certificate; for a name covered twice, the later `not_after`.
pub fn cert_map(default: Arc<CertifiedKey>, mut loaded: Vec<Loaded>) -> CertMap {
    loaded.sort_by_key(|l| l.not_after);
    let mut map = CertMap::new(default);
    for l in &loaded {
        for name in &l.names {
            map.insert(name, l.key.clone());
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};

    fn stored(main: &str, sans: &[&str], days: i64) -> StoredCert {
        let key = KeyPair::generate().expect("key");
        let mut names = vec![main.to_string()];
        names.extend(sans.iter().map(|s| s.to_string()));
        let mut params = CertificateParams::new(names).expect("params");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(days);
        let cert = params.self_signed(&key).expect("cert");
        let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        StoredCert::new(main, &sans, &cert.pem(), &key.serialize_pem())
    }

    fn default_key() -> Arc<CertifiedKey> {
        crate::tls::default_cert::generate().expect("default cert")
    }

    #[test]
    fn stored_certificates_become_servable_and_the_longest_lived_wins() {
        let mut resolver = Resolver::default();
        resolver.upsert(stored("bundle.test", &["app.test"], 10));
        resolver.upsert(stored("app.test", &[], 80));
        let (loaded, errors) = load_all([&resolver]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(loaded.len(), 2);
        let fresh = loaded
            .iter()
            .find(|l| l.names == ["app.test"])
            .map(|l| l.key.clone())
            .expect("app.test");
        let bundle = loaded
            .iter()
            .find(|l| l.names[0] == "bundle.test")
            .map(|l| l.key.clone())
            .expect("bundle");
        let map = cert_map(default_key(), loaded);
        assert!(Arc::ptr_eq(map.lookup(Some("app.test")), &fresh));
        assert!(Arc::ptr_eq(map.lookup(Some("bundle.test")), &bundle));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn broken_entries_are_reported_without_key_material() {
        let mut good = stored("good.test", &[], 30);
        let other = stored("other.test", &[], 30);
        let mut resolver = Resolver::default();
        // The key of another certificate: rustls refuses the pair.
        good.key = other.key.clone();
        resolver.upsert(good);
        let mut garbage = stored("garbage.test", &[], 30);
        garbage.certificate = "not base64!".into();
        resolver.upsert(garbage);
        let (loaded, errors) = load_all([&resolver]);
        assert!(loaded.is_empty());
        assert_eq!(errors.len(), 2);
        for e in &errors {
            let text = e.to_string();
            assert!(!text.contains("PRIVATE KEY"), "{text}");
        }
        assert!(errors.iter().any(|e| e.to_string().contains("good.test")));
        assert!(errors.iter().any(|e| e.to_string().contains("garbage.test")));
    }
}
