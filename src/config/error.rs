//! The one error type of configuration loading.
//!
//! Owns how a configuration problem is reported: every message starts with the file and, for a
//! bad value, the dotted key path (`traefik.yml: entryPoints.web.address: ...`). Never carries a
//! provider header value: those are secrets.

use std::io;
use std::path::PathBuf;

/// Why a static configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read config file: {source}", path.display())]
    Read {
        /// The file as given to [`super::load`].
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The text is not YAML, or its top level is not a mapping. `message` has line and column.
    #[error("{}: invalid YAML: {message}", path.display())]
    Syntax {
        /// The file (the `origin` given to [`super::parse`]).
        path: PathBuf,
        /// The YAML parser's message.
        message: String,
    },
    /// A value is wrong. `key` is the dotted key path, e.g. `entryPoints.web.address`.
    #[error("{}: {key}: {reason}", path.display())]
    Invalid {
        /// The file (the `origin` given to [`super::parse`]).
        path: PathBuf,
        /// Dotted key path; list items as `[index]`, e.g. `...trustedIPs[1]`.
        key: String,
        /// What is wrong, without the key; never contains a header value.
        reason: String,
    },
}
