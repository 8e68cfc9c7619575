//! Why a head or a chunked body was rejected, and which status a request error maps to.
//!
//! Owns the error enums of the module. Must never carry borrowed input or allocate: reasons are
//! `&'static str` so an error is `Copy` and free to build on the hot path.

/// A request or response head that must not be forwarded.
///
/// For requests, answer [`HeadError::status`] and close the connection. For responses, any error
/// means the proxy answers 502 and discards the upstream connection.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Content-Length / Transfer-Encoding do not give one unambiguous body length.
    #[error("ambiguous message framing: {0}")]
    BadFraming(&'static str),
    /// A header line is malformed (name, value bytes, obs-fold, whitespace before the colon).
    #[error("malformed header field: {0}")]
    BadHeader(&'static str),
    /// The Host header is missing, repeated, empty or not a `host[:port]`.
    #[error("invalid Host: {0}")]
    BadHost(&'static str),
    /// A line does not end in CRLF (bare LF or bare CR).
    #[error("line not terminated by CRLF: {0}")]
    BadLineEnding(&'static str),
    /// The request line is not `method SP target SP HTTP/1.x CRLF`.
    #[error("malformed request line: {0}")]
    BadRequestLine(&'static str),
    /// The response status line is not `HTTP/1.x SP 3DIGIT [SP reason] CRLF` with 100..=599.
    #[error("malformed status line: {0}")]
    BadStatusLine(&'static str),
    /// The request target is not a valid origin-, absolute- or asterisk-form.
    #[error("invalid request target: {0}")]
    BadTarget(&'static str),
    /// An `Expect` value other than `100-continue`.
    #[error("unsupported expectation")]
    ExpectationFailed,
    /// The head is larger than `Limits::max_head` (checked while still partial too).
    #[error("head larger than the limit")]
    HeadTooLarge,
    /// The request target is longer than `Limits::max_target`.
    #[error("request target longer than the limit")]
    TargetTooLong,
    /// More header fields than `Limits::max_headers`.
    #[error("more header fields than the limit")]
    TooManyHeaders,
    /// A well-formed HTTP version other than 1.0 and 1.1, or a version-less HTTP/0.9 line.
    #[error("HTTP version not supported")]
    VersionNotSupported,
}

impl HeadError {
    /// The status the proxy answers a request that failed with this error.
    ///
    /// Response errors are always answered with 502 by the proxy, whatever this returns.
    pub fn status(&self) -> u16 {
        match self {
            HeadError::BadFraming(_)
            | HeadError::BadHeader(_)
            | HeadError::BadHost(_)
            | HeadError::BadLineEnding(_)
            | HeadError::BadRequestLine(_)
            | HeadError::BadTarget(_) => 400,
            HeadError::BadStatusLine(_) => 502,
            HeadError::ExpectationFailed => 417,
            HeadError::HeadTooLarge | HeadError::TooManyHeaders => 431,
            HeadError::TargetTooLong => 414,
            HeadError::VersionNotSupported => 505,
        }
    }
}

/// A chunked body that cannot be framed; the connection must be closed.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// The chunk-size is missing, not hex, or longer than 16 digits.
    #[error("invalid chunk size: {0}")]
    BadChunkSize(&'static str),
    /// A chunk extension is not `;name[=token|quoted-string]`.
    #[error("invalid chunk extension: {0}")]
    BadExtension(&'static str),
    /// A trailer field is malformed.
    #[error("invalid trailer field: {0}")]
    BadTrailer(&'static str),
    /// A CRLF is missing (after the size line, after chunk data, or after the trailers).
    #[error("missing CRLF: {0}")]
    MissingCrlf(&'static str),
    /// The size line (size plus extensions) is longer than the limit.
    #[error("chunk size line longer than the limit")]
    SizeLineTooLong,
    /// The sum of chunk sizes does not fit in a u64.
    #[error("total chunked body size overflows u64")]
    TotalOverflow,
    /// The trailer section is larger than the limit.
    #[error("trailer section larger than the limit")]
    TrailersTooLarge,
}
