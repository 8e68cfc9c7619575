//! [`Secret`]: a credential that must never be printed.
//!
//! Owns the one way to hold the provider token: [`fmt::Debug`] and [`fmt::Display`] print
//! `<redacted>`, and the value is reachable only through [`Secret::expose`], whose callers put it
//! on the wire and nowhere else. Never logs, never compares in a way that matters for security
//! (the token is only sent, never checked here).

use std::fmt;

/// A credential such as the provider's bearer token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`; nothing is checked (see [`super::TokenSource`] for what a token may contain).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for building a request header. Never format it into a message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
