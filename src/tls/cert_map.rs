//! `CertMap`: server name → certificate, built off the request path (control thread, start-up) and read by the
//! SNI resolver.
//!
//! Exact names first, then a one-label wildcard (`*.example.com` covers `a.example.com`, not `a.b.example.com` nor
//! `example.com`), then the default certificate. Lookup never allocates for a lower-case name and never fails.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::sign::CertifiedKey;

/// Certificates by server name, plus the default.
#[derive(Debug, Clone)]
pub struct CertMap {
    /// Lower-case names without a trailing dot.
    exact: HashMap<Box<str>, Arc<CertifiedKey>>,
    /// Keyed by the part after `*.`, lower-case.
    wildcard: HashMap<Box<str>, Arc<CertifiedKey>>,
    default: Arc<CertifiedKey>,
}

impl CertMap {
    /// A map holding only the default certificate.
    pub fn new(default: Arc<CertifiedKey>) -> Self {
        CertMap {
            exact: HashMap::new(),
            wildcard: HashMap::new(),
            default,
        }
    }

    /// Adds `cert` for `name` (`host.example.com` or `*.example.com`); a later insert for the same name wins.
    pub fn insert(&mut self, name: &str, cert: Arc<CertifiedKey>) {
        let name = normalize(name).into_owned();
        match name.strip_prefix("*.") {
            Some(suffix) => self.wildcard.insert(suffix.into(), cert),
            None => self.exact.insert(name.into(), cert),
        };
    }

    /// The certificate for a ClientHello's server name (`None`: no SNI), falling back to the default.
    pub fn lookup(&self, server_name: Option<&str>) -> &Arc<CertifiedKey> {
        let Some(name) = server_name else {
            return &self.default;
        };
        let name = normalize(name);
        if let Some(c) = self.exact.get(name.as_ref()) {
            return c;
        }
        if let Some((_, parent)) = name.split_once('.') {
            if let Some(c) = self.wildcard.get(parent) {
                return c;
            }
        }
        &self.default
    }

    /// The default certificate.
    pub fn default_cert(&self) -> &Arc<CertifiedKey> {
        &self.default
    }

    /// Number of names with a certificate of their own (wildcards included, the default not).
    pub fn len(&self) -> usize {
        self.exact.len() + self.wildcard.len()
    }

    /// True when only the default certificate is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy for one worker: every certificate in its own `Arc`, so handshakes on different cores never touch
    /// the same reference count.
    pub fn for_worker(&self) -> CertMap {
        let own = |m: &HashMap<Box<str>, Arc<CertifiedKey>>| {
            m.iter()
                .map(|(k, v)| (k.clone(), Arc::new(CertifiedKey::clone(v))))
                .collect()
        };
        CertMap {
            exact: own(&self.exact),
            wildcard: own(&self.wildcard),
            default: Arc::new(CertifiedKey::clone(&self.default)),
        }
    }
}

/// Lower-cases (allocating only if needed) and drops one trailing dot.
fn normalize(name: &str) -> std::borrow::Cow<'_, str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(name.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert() -> Arc<CertifiedKey> {
        match crate::tls::default_cert::generate() {
            Ok(c) => c,
            Err(e) => panic!("cannot generate a test certificate: {e}"),
        }
    }

    #[test]
    fn exact_then_wildcard_then_default() {
        let (default, exact, wild) = (cert(), cert(), cert());
        let mut map = CertMap::new(default.clone());
        map.insert("App.Example.com", exact.clone());
        map.insert("*.example.com", wild.clone());
        assert!(Arc::ptr_eq(map.lookup(Some("app.example.com")), &exact));
        assert!(Arc::ptr_eq(map.lookup(Some("APP.example.com.")), &exact));
        assert!(Arc::ptr_eq(map.lookup(Some("other.example.com")), &wild));
        assert!(Arc::ptr_eq(map.lookup(Some("a.b.example.com")), &default));
        assert!(Arc::ptr_eq(map.lookup(Some("example.com")), &default));
        assert!(Arc::ptr_eq(map.lookup(None), &default));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn worker_copy_shares_no_arc() {
        let map = CertMap::new(cert());
        let copy = map.for_worker();
        assert!(!Arc::ptr_eq(map.default_cert(), copy.default_cert()));
    }
}
