//! [`TokenSource`]: the provider's bearer token, from a file or an environment variable
//! (`ringress.provider.tokenFile` / `tokenEnv`), so it need not sit in the config file.
//!
//! Owns reading and checking the token, and noticing when the file changes. Runs on the control
//! thread only (it reads a file), never on a worker. Never puts the token into a message,
//! warning or `Debug` output: errors name the config key and the file or variable, never its
//! contents.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::secret::Secret;
use crate::config::ProviderAuth;

const FILE_KEY: &str = "ringress.provider.tokenFile";
const ENV_KEY: &str = "ringress.provider.tokenEnv";
/// Largest token file read; a token is a few hundred bytes at most.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;
/// Permission bits looser than 0640: group write or execute, anything for others.
const LOOSE_MODE_BITS: u32 = 0o037;

/// Where the token comes from and the token last read.
pub struct TokenSource {
    origin: Origin,
    token: Option<Secret>,
    warnings: Vec<String>,
}

enum Origin {
    None,
    Env { name: String },
    File { path: PathBuf, stamp: Option<Stamp> },
}

/// What identifies one version of the token file without reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    dev: u64,
    ino: u64,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("origin", &self.describe())
            .field("token", &self.token)
            .finish()
    }
}

/// Why the token could not be read; names the key and the file or variable, never the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token file could not be read.
    #[error("{FILE_KEY}: cannot read {}: {source}", path.display())]
    Read {
        /// The token file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The environment variable is not set.
    #[error("{ENV_KEY}: environment variable {name} is not set")]
    EnvMissing {
        /// The variable's name.
        name: String,
    },
    /// The file or variable holds nothing but whitespace.
    #[error("{key}: {origin} holds no token (empty)")]
    Empty {
        /// `ringress.provider.tokenFile` or `ringress.provider.tokenEnv`.
        key: &'static str,
        /// `file /path` or `environment variable NAME`.
        origin: String,
    },
    /// The token cannot be sent in a header.
    #[error("{key}: {origin}: {reason} (value not shown)")]
    Invalid {
        /// `ringress.provider.tokenFile` or `ringress.provider.tokenEnv`.
        key: &'static str,
        /// `file /path` or `environment variable NAME`.
        origin: String,
        /// What is wrong with it, without it.
        reason: &'static str,
    },
}

impl TokenSource {
    /// Reads the token configured in `auth`, if any. Call once at start-up: a missing, empty or
    /// unusable token is an error then, so ringress does not start polling without it.
    ///
    /// # Errors
    ///
    /// [`TokenError`] naming the config key and the file or variable.
    pub fn new(auth: &ProviderAuth) -> Result<Self, TokenError> {
        let origin = match (&auth.token_file, &auth.token_env) {
            (Some(path), _) => Origin::File {
                path: path.clone(),
                stamp: None,
            },
            (None, Some(name)) => Origin::Env { name: name.clone() },
            (None, None) => Origin::None,
        };
        let mut source = TokenSource {
            origin,
            token: None,
            warnings: Vec::new(),
        };
        source.load()?;
        Ok(source)
    }

    /// Re-reads the token file if it changed since the last read (modification time, size or
    /// inode; a replaced or re-pointed symlinked file counts). Cheap when unchanged: one `stat`.
    /// Returns true when a new token was read. An environment token is read once, at start-up.
    ///
    /// # Errors
    ///
    /// [`TokenError`] when the file cannot be read or holds no usable token; the previous token
    /// stays in use, and the next call tries again.
    pub fn refresh(&mut self) -> Result<bool, TokenError> {
        let Origin::File { path, stamp } = &self.origin else {
            return Ok(false);
        };
        let metadata = fs::metadata(path).map_err(|source| TokenError::Read {
            path: path.clone(),
            source,
        })?;
        if *stamp == Some(Stamp::of(&metadata)) {
            return Ok(false);
        }
        let before = self.token.clone();
        self.load()?;
        Ok(self.token != before)
    }

    /// The current token; `None` when no token source is configured.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// Warnings gathered since the last call (a token file readable by others, a `Bearer `
    /// prefix taken off), for the caller to log. Never contains the token.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Where the token comes from, for logs: `file /path`, `environment variable NAME`, `none`.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::None => "none".to_owned(),
            Origin::Env { name } => format!("environment variable {name}"),
            Origin::File { path, .. } => format!("file {}", path.display()),
        }
    }

    /// Reads the token from its origin; on success replaces the current one.
    fn load(&mut self) -> Result<(), TokenError> {
        let described = self.describe();
        let (key, raw) = match &mut self.origin {
            Origin::None => return Ok(()),
            Origin::Env { name } => (ENV_KEY, env_text(name, std::env::var_os(name.as_str()), &described)?),
            Origin::File { path, stamp } => {
                let (text, metadata) = read_token_file(path, &described)?;
                let mode = metadata.permissions().mode() & 0o777;
                if mode & LOOSE_MODE_BITS != 0 {
                    self.warnings.push(format!(
                        "{FILE_KEY}: {} has mode {mode:04o}, readable or writable by others; use chmod 600 (or 640)",
                        path.display()
                    ));
                }
                *stamp = Some(Stamp::of(&metadata));
                (FILE_KEY, text)
            }
        };
        let token = check(key, &described, &raw, &mut self.warnings)?;
        self.token = Some(Secret::new(token));
        Ok(())
    }
}

impl Stamp {
    fn of(metadata: &fs::Metadata) -> Self {
        Stamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            dev: metadata.dev(),
            ino: metadata.ino(),
        }
    }
}

/// The variable's value as text.
pub(super) fn env_text(name: &str, value: Option<OsString>, described: &str) -> Result<String, TokenError> {
    match value {
        None => Err(TokenError::EnvMissing { name: name.to_owned() }),
        Some(value) => value.into_string().map_err(|_| not_utf8(ENV_KEY, described)),
    }
}

/// The file's text and the metadata of what was read (taken from the open file, so a swap
/// between `stat` and `read` cannot pair one version's stamp with another's contents).
fn read_token_file(path: &Path, described: &str) -> Result<(String, fs::Metadata), TokenError> {
    let read_error = |source| TokenError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(TokenError::Invalid {
            key: FILE_KEY,
            origin: described.to_owned(),
            reason: "larger than 64 KiB, not a token",
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| not_utf8(FILE_KEY, described))?;
    Ok((text, metadata))
}

fn not_utf8(key: &'static str, described: &str) -> TokenError {
    TokenError::Invalid {
        key,
        origin: described.to_owned(),
        reason: "not UTF-8 text",
    }
}

/// The token without surrounding whitespace (files end in a newline) and without a `Bearer `
/// prefix (ringress adds it). What remains must be visible ASCII: it goes into a header.
pub(super) fn check(
    key: &'static str,
    described: &str,
    raw: &str,
    warnings: &mut Vec<String>,
) -> Result<String, TokenError> {
    let mut token = raw.trim();
    let scheme = token.get(..7).filter(|head| head.eq_ignore_ascii_case("bearer "));
    if let Some(rest) = scheme.and_then(|_| token.get(7..)) {
        warnings.push(format!(
            "{key}: {described} starts with \"Bearer \"; it was taken off (ringress adds it)"
        ));
        token = rest.trim_start();
    }
    if token.is_empty() {
        return Err(TokenError::Empty {
            key,
            origin: described.to_owned(),
        });
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::Invalid {
            key,
            origin: described.to_owned(),
            reason: "the token contains spaces, control or non-ASCII characters",
        });
    }
    Ok(token.to_owned())
}
