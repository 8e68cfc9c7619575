//! ACME Renewal Information (RFC 9773): when the CA would like a certificate renewed.
//!
//! Owns the per-certificate ARI state (the chosen renewal point inside the CA's suggested window, and when to ask
//! again) and the one request that fetches it. The point inside the window is derived from the certificate's serial,
//! so it is stable across restarts and spread across certificates, as the RFC asks (a uniformly distributed point).
//! A CA whose directory has no `renewalInfo` (pebble 2.4, many private CAs) is remembered as such and never asked
//! again; the one-third-of-lifetime rule then decides alone. Must never: block for longer than one bounded request,
//! or run on a worker.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, SystemTime};

use instant_acme::{Account, CertificateIdentifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::block_on::block_on;

/// Ask again no sooner than this, whatever the CA's `Retry-After` says.
pub const MIN_RECHECK: Duration = Duration::from_secs(3600);
/// And no later than this.
pub const MAX_RECHECK: Duration = Duration::from_secs(24 * 3600);

/// What the CA said about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AriState {
    /// Renew at or after this time (`None`: no window known yet).
    pub renew_at: Option<SystemTime>,
    /// Fetch the window again at or after this time.
    pub next_check: SystemTime,
}

/// The outcome of one renewal-info request.
pub enum Fetched {
    /// A window: renew at `renew_at`, ask again at `next_check`.
    Window(AriState),
    /// The CA does not offer ARI.
    Unsupported,
    /// The request failed; ask again later.
    Failed(String),
}

/// The RFC 9773 identifier of a PEM chain's leaf (authority key identifier + serial); `None` when the leaf has no
/// authority key identifier (self-signed certificates) or does not parse.
pub fn identifier(chain_pem: &[u8]) -> Option<CertificateIdentifier<'static>> {
    let leaf = CertificateDer::pem_slice_iter(chain_pem).next()?.ok()?;
    CertificateIdentifier::try_from(&leaf)
        .ok()
        .map(CertificateIdentifier::into_owned)
}

/// Asks the CA for the renewal window of `id` (one unauthenticated GET).
pub fn fetch(account: &Account, id: &CertificateIdentifier<'_>, now: SystemTime) -> Fetched {
    match block_on(account.renewal_info(id)) {
        Ok((info, retry_after)) => {
            let start = SystemTime::from(info.suggested_window.start);
            let end = SystemTime::from(info.suggested_window.end);
            Fetched::Window(AriState {
                renew_at: Some(point_in_window(start, end, &id.serial)),
                next_check: now + retry_after.clamp(MIN_RECHECK, MAX_RECHECK),
            })
        }
        Err(instant_acme::Error::Unsupported(_)) => Fetched::Unsupported,
        Err(e) => Fetched::Failed(e.to_string()),
    }
}

/// A point in `[start, end]` chosen by `seed`: the same seed always gives the same point, different seeds spread
/// evenly. An inverted window gives `start`.
pub fn point_in_window(start: SystemTime, end: SystemTime, seed: &str) -> SystemTime {
    let Ok(width) = end.duration_since(start) else {
        return start;
    };
    let mut h = DefaultHasher::new();
    seed.hash(&mut h);
    let fraction = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    start + width.mul_f64(fraction)
}

/// Whether the CA's window says renew now.
pub fn due(state: Option<&AriState>, now: SystemTime) -> bool {
    state.and_then(|s| s.renew_at).is_some_and(|at| now >= at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_point_is_stable_inside_the_window_and_spread() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let end = start + Duration::from_secs(2 * 86_400);
        let a = point_in_window(start, end, "serial-a");
        assert_eq!(a, point_in_window(start, end, "serial-a"));
        let mut points: Vec<SystemTime> = (0..200)
            .map(|i| point_in_window(start, end, &format!("s{i}")))
            .collect();
        assert!(points.iter().all(|p| *p >= start && *p <= end));
        points.sort();
        points.dedup();
        assert!(points.len() > 190, "points are spread");
        let early = points
            .iter()
            .filter(|p| **p < start + Duration::from_secs(86_400))
            .count();
        assert!((60..140).contains(&early), "about half fall in the first half: {early}");
        assert_eq!(point_in_window(end, start, "x"), end, "inverted window");
    }

    #[test]
    fn due_only_once_the_point_has_passed() {
        let now = SystemTime::now();
        let state = |at: SystemTime| AriState {
            renew_at: Some(at),
            next_check: now,
        };
        assert!(!due(None, now));
        assert!(!due(
            Some(&AriState {
                renew_at: None,
                next_check: now
            }),
            now
        ));
        assert!(due(Some(&state(now - Duration::from_secs(1))), now));
        assert!(due(Some(&state(now)), now));
        assert!(!due(Some(&state(now + Duration::from_secs(1))), now));
    }

    #[test]
    fn identifiers_need_an_authority_key_identifier() {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["a.test".to_string()]).expect("params");
        let self_signed = params.self_signed(&key).expect("cert");
        assert!(identifier(self_signed.pem().as_bytes()).is_none());
        assert!(identifier(b"not pem").is_none());

        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_identifier_method = rcgen::KeyIdMethod::Sha256;
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
        let mut leaf_params = rcgen::CertificateParams::new(vec!["a.test".to_string()]).expect("leaf params");
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0x02, 0x03]));
        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf");
        let id = identifier(leaf.pem().as_bytes()).expect("identifier");
        assert_eq!(id.serial, "AQID");
        assert!(!id.authority_key_identifier.is_empty());
    }
}
