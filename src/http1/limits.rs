//! `Limits`: the size caps a head must respect.
//!
//! Owns the defaults and the clamping to what the parser can represent. Must never be read from
//! anywhere but the parse entry points.

/// Upper bound on `max_headers` regardless of configuration: the parser keeps one slot per header
/// on the stack (32 bytes each, left uninitialised).
pub(crate) const HARD_MAX_HEADERS: usize = 512;

/// Size caps applied while parsing a head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest head, request line through the final CRLFCRLF (default 65536). Larger → 431.
    pub max_head: usize,
    /// Longest request target (default 16384). Longer → 414.
    pub max_target: usize,
    /// Most header fields (default 128, at most 512 are honoured). More → 431.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 65536,
            max_target: 16384,
            max_headers: 128,
        }
    }
}

impl Limits {
    /// `max_head` limited to what a `Span` can address.
    pub(crate) fn head_cap(&self) -> usize {
        self.max_head.min(u32::MAX as usize)
    }

    /// `max_headers` limited to the parser's stack slots.
    pub(crate) fn header_cap(&self) -> usize {
        self.max_headers.min(HARD_MAX_HEADERS)
    }
}
