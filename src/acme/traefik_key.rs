//! Whether the account key in a Traefik `acme.json` can be reused by instant-acme.
//!
//! instant-acme signs with ECDSA P-256 only, so only an `EC256` account qualifies (Traefik's default is RSA-4096,
//! which never does: ringress then registers a new account, which costs nothing at the CA). lego stores EC keys as
//! base64 SEC1 DER (`x509.MarshalECPrivateKey`); this module rewraps that as PKCS#8. An account registered at another
//! CA host than the configured directory is not reused either (Traefik resets it in that case too).
//!
//! Owns the decision and the key conversion. Must never: put key bytes into an error or `Debug` output.

use base64::Engine;
use rustls::pki_types::PrivatePkcs8KeyDer;

use super::store::TraefikAccount;

/// The verdict on a Traefik account.
pub enum KeyReuse {
    /// The key as PKCS#8, and the registration URL from `Registration.uri` when present.
    Reusable {
        key: PrivatePkcs8KeyDer<'static>,
        account_url: Option<String>,
    },
    /// Why not; register a new account instead.
    NotReusable(&'static str),
}

impl std::fmt::Debug for KeyReuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyReuse::Reusable { account_url, .. } => write!(f, "Reusable({account_url:?}, key <redacted>)"),
            KeyReuse::NotReusable(why) => write!(f, "NotReusable({why})"),
        }
    }
}

/// Decides whether `account` can sign for the CA at `directory_url`.
pub fn traefik_key_reuse(account: &TraefikAccount, directory_url: &str) -> KeyReuse {
    if account.key_type != "EC256" {
        return KeyReuse::NotReusable("key type is not EC256 (instant-acme signs with P-256 only)");
    }
    if let Some(uri) = account.registration_uri() {
        if host_of(uri) != host_of(directory_url) {
            return KeyReuse::NotReusable("account was registered with another CA");
        }
    }
    let Ok(sec1) = base64::engine::general_purpose::STANDARD.decode(account.private_key.trim()) else {
        return KeyReuse::NotReusable("PrivateKey is not base64");
    };
    let Some(pkcs8) = sec1_p256_to_pkcs8(&sec1) else {
        return KeyReuse::NotReusable("PrivateKey is not a P-256 SEC1 key");
    };
    let key = PrivatePkcs8KeyDer::from(pkcs8);
    if instant_acme::Key::from_pkcs8_der(key.clone_key()).is_err() {
        return KeyReuse::NotReusable("PrivateKey was rejected by the signer");
    }
    KeyReuse::Reusable {
        key,
        account_url: account.registration_uri().map(str::to_string),
    }
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@').map_or(authority, |(_, h)| h))
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// SEC1 `ECPrivateKey` (version 1, 32-byte key, optional [0] curve, optional [1] public key) to PKCS#8. The curve
/// parameter, when present, must be P-256; it is dropped from the inner structure (PKCS#8 names the curve itself).
fn sec1_p256_to_pkcs8(sec1: &[u8]) -> Option<Vec<u8>> {
    let (tag, body, rest) = der_read(sec1)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, version, body) = der_read(body)?;
    if tag != 0x02 || version != [1] {
        return None;
    }
    let (tag, private, mut body) = der_read(body)?;
    if tag != 0x04 || private.len() != 32 {
        return None;
    }
    let mut public = None;
    while !body.is_empty() {
        let (tag, value, rest) = der_read(body)?;
        match tag {
            0xa0 if value == OID_P256 => {}
            0xa1 => public = Some(value),
            _ => return None,
        }
        body = rest;
    }
    let mut inner = vec![0x02, 0x01, 0x01];
    inner.extend(der_wrap(0x04, private));
    if let Some(public) = public {
        inner.extend(der_wrap(0xa1, public));
    }
    let ec_private_key = der_wrap(0x30, &inner);
    let mut algorithm = OID_EC_PUBLIC_KEY.to_vec();
    algorithm.extend_from_slice(OID_P256);
    let mut outer = vec![0x02, 0x01, 0x00];
    outer.extend(der_wrap(0x30, &algorithm));
    outer.extend(der_wrap(0x04, &ec_private_key));
    Some(der_wrap(0x30, &outer))
}

/// One DER element: (tag, contents, remaining input). Definite lengths up to 2 bytes only.
fn der_read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&b, rest) = rest.split_first()?;
            (usize::from(b), rest)
        }
        0x82 => {
            let (bytes, rest) = rest.split_at_checked(2)?;
            ((usize::from(bytes[0]) << 8) | usize::from(bytes[1]), rest)
        }
        _ => return None,
    };
    let (value, rest) = rest.split_at_checked(len)?;
    Some((tag, value, rest))
}

fn der_wrap(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}
