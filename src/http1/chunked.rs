//! `ChunkedDecoder`: validates a chunked body and finds where it ends, without copying it.
//!
//! Owns the chunked grammar of RFC 9112 §7.1 as an incremental state machine: the proxy feeds it
//! whatever bytes it has (any split), forwards them verbatim (or only the payload ranges, for an
//! HTTP/1.0 client) and learns where the body ends. Must never copy or buffer body bytes, never
//! allocate, and never accept what a stricter or laxer parser downstream could read differently:
//! no whitespace around the size except before `;`, no `0x`, no sign, CRLF only.

use std::ops::Range;

use super::chars::{is_field_byte, is_ows, is_tchar};
use super::error::ChunkError;

/// Longest chunk-size line (size, extensions, CRLF).
const MAX_SIZE_LINE: u32 = 4096;
/// Largest trailer section (all trailer fields and the final CRLF).
const MAX_TRAILERS: u32 = 64 * 1024;
/// Most hex digits in a chunk size: 16 digits always fit in a u64.
const MAX_SIZE_DIGITS: u8 = 16;

/// Result of one `feed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the input that belong to the body. Equal to the input length unless `done`.
    pub consumed: usize,
    /// The body ended; `input[consumed..]` is the start of the next message.
    pub done: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Start of a size line: a hex digit must follow.
    #[default]
    SizeStart,
    /// Inside the hex digits.
    Size,
    /// Whitespace after the size or an extension: only more whitespace or `;` may follow.
    ExtBws,
    /// After `;`: whitespace or the first byte of an extension name.
    ExtNameStart,
    ExtName,
    /// Whitespace after an extension name: `=` or `;` must follow.
    ExtNameBws,
    /// After `=`: whitespace, a token or a quoted string.
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedEscape,
    /// After the closing quote.
    ExtQuotedEnd,
    /// CR of the size line seen; LF must follow.
    SizeLf,
    /// Inside chunk data.
    Data,
    DataCr,
    DataLf,
    /// Start of a trailer line, or the CR of the final empty line.
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    /// CR of the final empty line seen; LF must follow.
    FinalLf,
    Done,
    Failed(ChunkError),
}

/// Incremental validator and delimiter of a chunked body. Reuse with [`ChunkedDecoder::reset`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: State,
    /// Size of the chunk being read (while in the size line) or bytes left in it (in data).
    size: u64,
    digits: u8,
    /// Sum of all chunk sizes so far.
    total: u64,
    line_len: u32,
    trailer_len: u32,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder::default()
    }

    /// Starts over for a new body.
    pub fn reset(&mut self) {
        *self = ChunkedDecoder::default();
    }

    /// Feeds the next bytes of the body. After an error every later call fails the same way.
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ChunkError> {
        self.feed_payload(input, |_| {})
    }

    /// Like [`feed`](Self::feed), also reporting the ranges of `input` that are chunk payload (in
    /// order, never empty), for forwarding a de-chunked body.
    pub fn feed_payload(
        &mut self,
        input: &[u8],
        mut on_data: impl FnMut(Range<usize>),
    ) -> Result<Progress, ChunkError> {
        let mut i = 0;
        while let Some(rest) = input.get(i..).filter(|r| !r.is_empty()) {
            match self.state {
                State::Done => {
                    return Ok(Progress {
                        consumed: i,
                        done: true,
                    })
                }
                State::Failed(e) => return Err(e),
                State::Data => {
                    let n = usize::try_from(self.size).map_or(rest.len(), |s| s.min(rest.len()));
                    on_data(i..i + n);
                    i += n;
                    self.size -= n as u64;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                }
                _ => {
                    let b = rest.first().copied().unwrap_or_default();
                    if let Err(e) = self.step(b) {
                        self.state = State::Failed(e);
                        return Err(e);
                    }
                    i += 1;
                }
            }
        }
        match self.state {
            State::Failed(e) => Err(e),
            state => Ok(Progress {
                consumed: i,
                done: state == State::Done,
            }),
        }
    }

    /// True once the final CRLF has been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Sum of the chunk sizes seen so far (the payload length once done).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Advances over one byte outside chunk data.
    fn step(&mut self, b: u8) -> Result<(), ChunkError> {
        if self.in_size_line() {
            self.line_len += 1;
            if self.line_len > MAX_SIZE_LINE {
                return Err(ChunkError::SizeLineTooLong);
            }
        } else if self.in_trailers() {
            self.trailer_len += 1;
            if self.trailer_len > MAX_TRAILERS {
                return Err(ChunkError::TrailersTooLarge);
            }
        }
        self.state = match (self.state, b) {
            (State::SizeStart, b) => {
                let d = hex(b).ok_or(ChunkError::BadChunkSize("size must start with a hex digit"))?;
                self.size = d;
                self.digits = 1;
                State::Size
            }
            (State::Size, b) if hex(b).is_some() => {
                if self.digits >= MAX_SIZE_DIGITS {
                    return Err(ChunkError::BadChunkSize("more than 16 hex digits"));
                }
                self.size = (self.size << 4) | hex(b).unwrap_or_default();
                self.digits += 1;
                State::Size
            }
            (State::Size, b'\r') => State::SizeLf,
            (State::Size, b';') => State::ExtNameStart,
            (State::Size, b) if is_ows(b) => State::ExtBws,
            (State::Size, _) => return Err(ChunkError::BadChunkSize("invalid byte after size")),

            (State::ExtBws, b';') => State::ExtNameStart,
            (State::ExtBws, b) if is_ows(b) => State::ExtBws,
            (State::ExtBws, _) => return Err(ChunkError::BadExtension("whitespace not followed by ';'")),

            (State::ExtNameStart, b) if is_ows(b) => State::ExtNameStart,
            (State::ExtNameStart | State::ExtName, b) if is_tchar(b) => State::ExtName,
            (State::ExtNameStart, _) => return Err(ChunkError::BadExtension("empty name")),
            (State::ExtName, b'=') => State::ExtValueStart,
            (State::ExtName, b';') => State::ExtNameStart,
            (State::ExtName, b'\r') => State::SizeLf,
            (State::ExtName | State::ExtNameBws, b) if is_ows(b) => State::ExtNameBws,
            (State::ExtNameBws, b'=') => State::ExtValueStart,
            (State::ExtNameBws, b';') => State::ExtNameStart,
            (State::ExtName | State::ExtNameBws, _) => return Err(ChunkError::BadExtension("invalid byte after name")),

            (State::ExtValueStart, b) if is_ows(b) => State::ExtValueStart,
            (State::ExtValueStart, b'"') => State::ExtQuoted,
            (State::ExtValueStart | State::ExtToken, b) if is_tchar(b) => State::ExtToken,
            (State::ExtValueStart, _) => return Err(ChunkError::BadExtension("empty value")),
            (State::ExtToken, b';') => State::ExtNameStart,
            (State::ExtToken, b'\r') => State::SizeLf,
            (State::ExtToken, b) if is_ows(b) => State::ExtBws,
            (State::ExtToken, _) => return Err(ChunkError::BadExtension("invalid byte in value")),

            (State::ExtQuoted, b'"') => State::ExtQuotedEnd,
            (State::ExtQuoted, b'\\') => State::ExtQuotedEscape,
            (State::ExtQuoted | State::ExtQuotedEscape, b) if is_field_byte(b) => State::ExtQuoted,
            (State::ExtQuoted | State::ExtQuotedEscape, _) => {
                return Err(ChunkError::BadExtension("invalid byte in quoted value"))
            }
            (State::ExtQuotedEnd, b';') => State::ExtNameStart,
            (State::ExtQuotedEnd, b'\r') => State::SizeLf,
            (State::ExtQuotedEnd, b) if is_ows(b) => State::ExtBws,
            (State::ExtQuotedEnd, _) => return Err(ChunkError::BadExtension("invalid byte after quoted value")),

            (State::SizeLf, b'\n') => self.end_size_line()?,
            (State::SizeLf, _) => return Err(ChunkError::MissingCrlf("after chunk size")),

            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => {
                self.line_len = 0;
                State::SizeStart
            }
            (State::DataCr | State::DataLf, _) => return Err(ChunkError::MissingCrlf("after chunk data")),

            (State::TrailerStart, b'\r') => State::FinalLf,
            (State::TrailerStart | State::TrailerName, b) if is_tchar(b) => State::TrailerName,
            (State::TrailerStart, b) if is_ows(b) => {
                return Err(ChunkError::BadTrailer("obs-fold or leading whitespace"))
            }
            (State::TrailerStart, _) => return Err(ChunkError::BadTrailer("invalid field name")),
            (State::TrailerName, b':') => State::TrailerValue,
            (State::TrailerName, _) => return Err(ChunkError::BadTrailer("invalid byte in field name")),
            (State::TrailerValue, b'\r') => State::TrailerLf,
            (State::TrailerValue, b) if is_field_byte(b) => State::TrailerValue,
            (State::TrailerValue, _) => return Err(ChunkError::BadTrailer("invalid byte in field value")),
            (State::TrailerLf, b'\n') => State::TrailerStart,
            (State::TrailerLf, _) => return Err(ChunkError::BadTrailer("bare CR")),
            (State::FinalLf, b'\n') => State::Done,
            (State::FinalLf, _) => return Err(ChunkError::MissingCrlf("after trailers")),

            // Handled by the caller; kept total so a logic slip is an error, not a panic.
            (State::Data | State::Done, _) => self.state,
            (State::Failed(e), _) => return Err(e),
        };
        Ok(())
    }

    /// The size line ended: either a data chunk follows or, for size 0, the trailers.
    fn end_size_line(&mut self) -> Result<State, ChunkError> {
        if self.size == 0 {
            return Ok(State::TrailerStart);
        }
        self.total = self.total.checked_add(self.size).ok_or(ChunkError::TotalOverflow)?;
        Ok(State::Data)
    }

    fn in_size_line(&self) -> bool {
        matches!(
            self.state,
            State::SizeStart
                | State::Size
                | State::ExtBws
                | State::ExtNameStart
                | State::ExtName
                | State::ExtNameBws
                | State::ExtValueStart
                | State::ExtToken
                | State::ExtQuoted
                | State::ExtQuotedEscape
                | State::ExtQuotedEnd
                | State::SizeLf
        )
    }

    fn in_trailers(&self) -> bool {
        matches!(
            self.state,
            State::TrailerStart | State::TrailerName | State::TrailerValue | State::TrailerLf | State::FinalLf
        )
    }
}

fn hex(b: u8) -> Option<u64> {
    char::from(b).to_digit(16).map(u64::from)
}

#[cfg(test)]
mod tests {
    use super::{ChunkError, ChunkedDecoder};

    #[test]
    fn total_overflow_is_an_error() {
        let mut d = ChunkedDecoder::new();
        assert!(d.feed(b"1\r\nx\r\n").is_ok());
        d.total = u64::MAX;
        assert_eq!(d.feed(b"1\r\n"), Err(ChunkError::TotalOverflow));
    }
}
