//! The `acme.json` file in Traefik's layout, plus ringress's own bookkeeping under a key Traefik ignores.
//!
//! ```json
//! { "<resolver>": {
//!     "Account": { "Email": "..", "Registration": {"body": {..}, "uri": ".."}, "PrivateKey": "<base64 DER>",
//!                  "KeyType": "4096" },
//!     "Certificates": [ { "domain": {"main": "a.example", "sans": ["b.example"]},
//!                         "certificate": "<base64 PEM chain>", "key": "<base64 PEM key>", "Store": "default" } ],
//!     "ringress": { "account": <instant-acme credentials>, "domains": { "a.example": {..} } } } }
//! ```
//!
//! Owns the load and save policy. Load: a missing (or blank) file is an empty store; a file readable by group or
//! others is refused (as Traefik does: "permissions too open, please use 600"); an unreadable or corrupt file is an
//! error, and since only a successful load yields an [`AcmeFile`], a file that failed to load is never overwritten.
//! Save: atomic (see [`super::atomic`]), mode 0600, two-space indentation like Traefik's `MarshalIndent`. Fields this
//! module does not know (at every level) are kept as they were. Must never: print a private key or the account
//! credentials (`Debug` redacts them), or write anywhere but the path it was loaded from.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::atomic::{write_atomic, AtomicWriteError};
use super::inspect::{CertInfo, InspectError};

/// Traefik's value for the `Store` field of a certificate.
pub const DEFAULT_TLS_STORE: &str = "default";

/// Loading, saving or decoding the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: permissions {mode:o} are too open, please use 600")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path}: not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid acme.json (left untouched): {source}")]
    Corrupt { path: PathBuf, source: serde_json::Error },
    #[error("{path}: cannot encode: {source}")]
    Encode { path: PathBuf, source: serde_json::Error },
    #[error("cannot save acme.json: {0}")]
    Write(#[from] AtomicWriteError),
    #[error("certificate for {main}: {field} is not valid base64")]
    Base64 { main: String, field: &'static str },
    #[error("certificate for {main}: {source}")]
    Inspect { main: String, source: InspectError },
}

/// A loaded `acme.json` and the path it came from; the only way to save one.
#[derive(Debug)]
pub struct AcmeFile {
    path: PathBuf,
    pub store: AcmeStore,
}

impl AcmeFile {
    /// Loads `path` (missing or blank: empty store).
    pub fn load(path: &Path) -> Result<AcmeFile, StoreError> {
        let store = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AcmeStore::default(),
            Err(source) => {
                return Err(StoreError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
            Ok(meta) => {
                if !meta.is_file() {
                    return Err(StoreError::NotAFile {
                        path: path.to_path_buf(),
                    });
                }
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(StoreError::TooOpen {
                        path: path.to_path_buf(),
                        mode,
                    });
                }
                let bytes = std::fs::read(path).map_err(|source| StoreError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                AcmeStore::from_json(&bytes).map_err(|source| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                })?
            }
        };
        Ok(AcmeFile {
            path: path.to_path_buf(),
            store,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the store back to its path atomically, mode 0600.
    pub fn save(&self) -> Result<(), StoreError> {
        let bytes = self.store.to_json().map_err(|source| StoreError::Encode {
            path: self.path.clone(),
            source,
        })?;
        write_atomic(&self.path, &bytes)?;
        Ok(())
    }
}

/// Every resolver's data, by resolver name (the top-level keys).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AcmeStore {
    pub resolvers: BTreeMap<String, Resolver>,
}

impl AcmeStore {
    /// Parses the file contents (blank: empty store; `null` resolvers are kept as empty ones).
    pub fn from_json(bytes: &[u8]) -> Result<AcmeStore, serde_json::Error> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(AcmeStore::default());
        }
        let raw: BTreeMap<String, Option<Resolver>> = serde_json::from_slice(bytes)?;
        let resolvers = raw.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
        Ok(AcmeStore { resolvers })
    }

    /// The file contents, indented like Traefik's.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = serde_json::to_vec_pretty(self)?;
        out.push(b'\n');
        Ok(out)
    }

    /// The resolver's data, created empty when absent.
    pub fn resolver_mut(&mut self, name: &str) -> &mut Resolver {
        self.resolvers.entry(name.to_string()).or_default()
    }
}

/// One resolver's account, certificates and bookkeeping.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolver {
    #[serde(rename = "Account", default, skip_serializing_if = "Option::is_none")]
    pub account: Option<TraefikAccount>,
    #[serde(rename = "Certificates", default, deserialize_with = "null_as_empty")]
    pub certificates: Vec<StoredCert>,
    #[serde(rename = "ringress", default, skip_serializing_if = "Bookkeeping::is_empty")]
    pub ringress: Bookkeeping,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Resolver {
    /// The certificate whose main domain is `main`.
    pub fn certificate(&self, main: &str) -> Option<&StoredCert> {
        self.certificates.iter().find(|c| c.domain.main == main)
    }

    /// Replaces the certificate with the same main domain, or appends `cert`.
    pub fn upsert(&mut self, cert: StoredCert) {
        match self.certificates.iter_mut().find(|c| c.domain.main == cert.domain.main) {
            Some(slot) => *slot = cert,
            None => self.certificates.push(cert),
        }
    }

    /// Removes the certificate with main domain `main`; whether there was one.
    pub fn remove(&mut self, main: &str) -> bool {
        let before = self.certificates.len();
        self.certificates.retain(|c| c.domain.main != main);
        before != self.certificates.len()
    }
}

/// Traefik's (lego's) account: email, registration resource, private key (base64 DER) and key type.
#[derive(Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraefikAccount {
    #[serde(rename = "Email", default)]
    pub email: String,
    #[serde(rename = "Registration", default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Value>,
    /// base64 of the DER key: PKCS#1 for RSA, SEC1 for EC (Go's `x509.Marshal*PrivateKey`).
    #[serde(rename = "PrivateKey", default)]
    pub private_key: String,
    /// `4096`, `2048`, `8192`, `EC256` or `EC384`.
    #[serde(rename = "KeyType", default)]
    pub key_type: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TraefikAccount {
    /// The account URL from `Registration.uri`, if present.
    pub fn registration_uri(&self) -> Option<&str> {
        self.registration.as_ref()?.get("uri")?.as_str()
    }
}

impl fmt::Debug for TraefikAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraefikAccount")
            .field("email", &self.email)
            .field("registration_uri", &self.registration_uri())
            .field("private_key", &"<redacted>")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

/// A certificate entry: names, base64 PEM chain, base64 PEM key and TLS store name.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCert {
    #[serde(default)]
    pub domain: Domain,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    #[serde(rename = "Store", default)]
    pub store: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StoredCert {
    /// An entry for the default TLS store from PEM text.
    pub fn new(main: &str, sans: &[String], chain_pem: &str, key_pem: &str) -> StoredCert {
        let b64 = base64::engine::general_purpose::STANDARD;
        StoredCert {
            domain: Domain {
                main: main.to_string(),
                sans: sans.to_vec(),
                extra: Map::new(),
            },
            certificate: b64.encode(chain_pem),
            key: b64.encode(key_pem),
            store: DEFAULT_TLS_STORE.to_string(),
            extra: Map::new(),
        }
    }

    /// Main domain first, then the SANs.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.domain.main.as_str()).chain(self.domain.sans.iter().map(String::as_str))
    }

    /// Whether the entry has both a chain and a key (Traefik drops entries that do not).
    pub fn is_complete(&self) -> bool {
        !self.certificate.is_empty() && !self.key.is_empty()
    }

    /// The PEM chain.
    pub fn chain_pem(&self) -> Result<Vec<u8>, StoreError> {
        self.decode(&self.certificate, "certificate")
    }

    /// The PEM private key.
    pub fn key_pem(&self) -> Result<Vec<u8>, StoreError> {
        self.decode(&self.key, "key")
    }

    /// The leaf certificate's facts.
    pub fn info(&self) -> Result<CertInfo, StoreError> {
        CertInfo::from_pem_chain(&self.chain_pem()?).map_err(|source| StoreError::Inspect {
            main: self.domain.main.clone(),
            source,
        })
    }

    fn decode(&self, field: &str, name: &'static str) -> Result<Vec<u8>, StoreError> {
        base64::engine::general_purpose::STANDARD
            .decode(field.trim())
            .map_err(|_| StoreError::Base64 {
                main: self.domain.main.clone(),
                field: name,
            })
    }
}

impl fmt::Debug for StoredCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCert")
            .field("domain", &self.domain)
            .field("certificate_len", &self.certificate.len())
            .field("key", &"<redacted>")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// Traefik's `types.Domain`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub main: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_empty")]
    pub sans: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// ringress's state for one resolver; Traefik ignores this key.
#[derive(Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bookkeeping {
    /// instant-acme `AccountCredentials` as JSON (opaque here; contains the account key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Value>,
    /// Per certificate (by main domain): failures, backoff, last use.
    #[serde(default)]
    pub domains: BTreeMap<String, DomainState>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Bookkeeping {
    pub fn is_empty(&self) -> bool {
        self.account.is_none() && self.domains.is_empty() && self.extra.is_empty()
    }
}

impl fmt::Debug for Bookkeeping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bookkeeping")
            .field("account", &self.account.as_ref().map(|_| "<redacted>"))
            .field("domains", &self.domains)
            .finish_non_exhaustive()
    }
}

/// Order history of one certificate. Times are Unix seconds.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainState {
    /// Consecutive failed orders since the last success.
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// No new order before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<u64>,
    /// Last time a router still asked for this certificate (for garbage collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
