//! Strict HTTP/1.1 message heads, chunked framing and head rewriting for the proxy data path.
//!
//! Owns: turning the bytes a connection has received so far into a validated summary of a
//! request or response head ([`parse_request`], [`parse_response`]), finding the end of a chunked
//! body ([`ChunkedDecoder`]) and writing the head the proxy forwards ([`write_request_head`],
//! [`write_response_head`]).
//!
//! Must never: do I/O, copy or buffer bodies, or allocate per request. The only allocations are
//! growth of `Vec`s the caller owns and reuses (`RequestHead::headers`, the rewrite output).
//!
//! # How the proxy uses it
//!
//! ```text
//! read into conn buffer ─▶ parse_request(buf, limits, &mut head)
//!                            ├─ Partial   → read more (errors fire early: 431, 414, 400, 505)
//!                            ├─ Err(e)    → answer e.status(), close
//!                            └─ Complete  → head.head_len bytes are the head; spans index buf
//! write_request_head(buf, &head, &fwd, &mut out) ─▶ upstream; body per head.body
//!   BodyKind::Length(n) → forward n bytes;  BodyKind::Chunked → ChunkedDecoder::feed
//! ```
//!
//! Results carry [`Span`]s (offsets), never borrows, so a head can be kept across awaits while the
//! caller keeps owning the buffer.
//!
//! # Strictness
//!
//! Request smuggling lives in the gaps between two parsers' leniencies, so every ambiguity is an
//! error: CRLF only, no obs-fold, no whitespace before the colon, Content-Length and
//! Transfer-Encoding never together, Transfer-Encoding in requests only as exactly `chunked`,
//! exactly one valid Host in HTTP/1.1, and a rewritten head that states the framing and host this
//! module decided on (one canonical `Content-Length`, `Host` first), so the upstream cannot read the
//! message differently from us. Header lines are parsed by `httparse`; this module adds the checks
//! where `httparse` is lenient (bare LF line ends, request line shape, field semantics).

mod chars;
mod chunked;
mod error;
mod fields;
mod header;
mod host;
mod limits;
mod method;
mod num;
mod request;
mod request_line;
mod response;
mod rewrite;
mod scan;
mod span;
mod status_line;
mod target;

#[cfg(test)]
mod tests;

pub use chunked::{ChunkedDecoder, Progress};
pub use error::{ChunkError, HeadError};
pub use header::{ConnFlags, Header, HeaderKind};
pub use host::split_host_port;
pub use limits::Limits;
pub use method::Method;
pub use request::{parse_request, RequestHead, TargetForm};
pub use response::{parse_response, ResponseHead};
pub use rewrite::{
    write_request_head, write_response_head, write_response_head_dechunked, write_response_head_with, Forwarding,
    ResponseOptions,
};
pub use span::Span;

/// How the body that follows a head is delimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (also: responses to HEAD, 1xx, 204, 304).
    #[default]
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// A chunked body follows; find its end with [`ChunkedDecoder`].
    Chunked,
    /// The body runs until the upstream closes the connection (responses only).
    CloseDelimited,
}

/// Outcome of a head parse that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet: read more bytes and call again with the whole buffer.
    Partial,
    /// The head is complete and the output struct is filled.
    Complete,
}
