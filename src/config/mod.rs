//! Static configuration: an operator's Traefik `traefik.yml` plus a `ringress:` section, parsed
//! into typed, validated structs.
//!
//! Owns the mapping from Traefik's static keys (camelCase, exactly as Traefik spells them) to
//! [`Config`], every default, and every check a value can fail before ringress starts. Must
//! never do I/O beyond reading the one config file in [`load`], and never opens a socket:
//! addresses are parsed, not bound; paths are resolved, not opened.
//!
//! An unmodified `traefik.yml` must keep running, so nothing Traefik accepts is an error merely
//! because ringress lacks it:
//! - a Traefik option ringress does not implement (`api`, `providers.docker`,
//!   `entryPoints.*.http.tls`, ...) gives a warning "`api`: Traefik option not supported by
//!   ringress (ignored)";
//! - any other unknown key gives "unknown key `entryPoints.web.adress` (ignored)";
//! - a wrong value is a [`ConfigError::Invalid`] naming the file and the dotted key path.
//!
//! The ringress section, with its defaults:
//!
//! ```yaml
//! ringress:
//!   workers: 8                    # default: CPUs available to the process
//!   routes: routes/               # route file or directory, relative to this file
//!   admin: { address: "127.0.0.1:8082", enabled: true }
//!   limits:
//!     maxHeaderBytes: 65536
//!     maxRequestTargetBytes: 16384
//!     maxHeaders: 128
//!     bufferBytes: 65536          # forwarding buffer per direction
//!   provider:                     # bearer token for providers.http, kept out of this file;
//!     tokenFile: secrets/token    #   relative to this file, re-read when it changes, or
//!     tokenEnv: RINGRESS_TOKEN    #   an environment variable (set one, not both)
//! log: { level: INFO }            # Traefik's key
//! accessLog:                      # Traefik's keys; absent: no access log; `accessLog: {}`: common format on stdout
//!   filePath: /var/log/ringress/access.log   # reopened on SIGUSR1 (logrotate)
//!   format: common                # common | genericCLF | json
//!   bufferingSize: 4096           # lines queued per worker before lines are dropped (counted)
//! ```
//!
//! Durations are Go duration strings (`"5s"`, `"1m30s"`) or bare seconds, see [`duration`].

pub mod address;
pub mod duration;
mod entry_point;
mod error;
mod key_path;
mod model;
mod provider;
mod raw;
mod resolver;
mod unsupported;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_access_log;
#[cfg(test)]
mod tests_invalid;
#[cfg(test)]
mod tests_provider_auth;
#[cfg(test)]
mod tests_warnings;

use std::path::Path;

pub use address::{AddressError, ListenAddr};
pub use duration::DurationError;
pub use error::ConfigError;
pub use model::{
    default_workers, AccessLog, AccessLogFormat, Acme, AcmeOptions, CertResolver, Config, EntryPoint, ForwardedHeaders,
    HttpProvider, ProviderAuth, Providers, Redirect, Ringress, ServersTransport, ACME_KEY_TYPES,
    DEFAULT_ACCESS_LOG_BUFFER, DEFAULT_ADMIN, LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY, MAX_WORKERS,
};

/// A configuration that passed every check, with what the operator should be told.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The validated configuration.
    pub config: Config,
    /// Ignored keys and values read differently from Traefik, each naming its key path.
    /// Meant to be logged at warn level at start-up; never contains a header value.
    pub warnings: Vec<String>,
}

/// Reads and parses the config file at `path`.
///
/// # Errors
///
/// [`ConfigError::Read`] when the file cannot be read as UTF-8 text, otherwise as [`parse`].
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses config text. `origin` names the file in messages and is the base for relative
/// `ringress.routes` paths; it is never opened.
///
/// # Errors
///
/// [`ConfigError::Syntax`] when the text is not one YAML mapping, [`ConfigError::Invalid`]
/// (naming the key) for the first value that is wrong or contradicts another.
pub fn parse(text: &str, origin: &Path) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let raw = deserialize(text, origin, &mut warnings)?;
    let mut checker = validate::Checker::new(origin, &mut warnings);
    let config = validate::build(raw, &mut checker)?;
    Ok(Loaded { config, warnings })
}

/// YAML to [`raw::RawConfig`], collecting a warning per ignored key. An empty document
/// (nothing, only comments, or `~`) is an empty configuration.
fn deserialize(text: &str, origin: &Path, warnings: &mut Vec<String>) -> Result<raw::RawConfig, ConfigError> {
    // serde_yaml reports a syntax error only when deserialization reaches it, with the path
    // of the value being read, which would look like a bad value. Reading the text as plain
    // YAML first tells the two apart (it also rejects duplicate keys and extra documents).
    if let Err(error) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        return Err(ConfigError::Syntax {
            path: origin.to_path_buf(),
            message: error.to_string(),
        });
    }
    let mut on_ignored = |path: serde_ignored::Path<'_>| warnings.push(unsupported::ignored_key_warning(&path));
    let yaml = serde_yaml::Deserializer::from_str(text);
    let ignoring = serde_ignored::Deserializer::new(yaml, &mut on_ignored);
    match serde_path_to_error::deserialize::<_, Option<raw::RawConfig>>(ignoring) {
        Ok(raw) => Ok(raw.unwrap_or_default()),
        Err(error) => Err(type_error(error, origin)),
    }
}

/// Maps a serde error to [`ConfigError`]: with a key path it is a bad value
/// ([`ConfigError::Invalid`]), without one the YAML itself is broken ([`ConfigError::Syntax`]).
fn type_error(error: serde_path_to_error::Error<serde_yaml::Error>, origin: &Path) -> ConfigError {
    let key = key_path::dotted(&key_path::from_tracked(error.path()));
    let inner = error.into_inner();
    if key.starts_with("providers.http.headers") {
        // The rejected value may be a misplaced secret: describe it without echoing it.
        let at = inner
            .location()
            .map(|at| format!(" at line {} column {}", at.line(), at.column()))
            .unwrap_or_default();
        return ConfigError::Invalid {
            path: origin.to_path_buf(),
            key,
            reason: format!("expected a mapping of header names to text (value not shown){at}"),
        };
    }
    let message = inner.to_string();
    if key.is_empty() {
        return ConfigError::Syntax {
            path: origin.to_path_buf(),
            message,
        };
    }
    // serde_yaml starts its message with its own copy of the path; keep only the reason.
    let reason = match message.strip_prefix(&format!("{key}: ")) {
        Some(reason) => reason.to_owned(),
        None => message,
    };
    ConfigError::Invalid {
        path: origin.to_path_buf(),
        key,
        reason,
    }
}
