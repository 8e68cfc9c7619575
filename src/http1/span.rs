//! `Span`: a byte range into the caller's buffer, used instead of borrows in parse results.
//!
//! Owns offset bookkeeping. Must never panic: an out-of-range span reads as empty.

/// A half-open byte range `start..end` into the buffer a head was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span over `start..end`; offsets beyond `u32::MAX` saturate (heads are capped far below).
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// An empty span at `at`.
    pub(crate) fn empty_at(at: usize) -> Span {
        Span::new(at, at)
    }

    /// The span of `part`, which must be a subslice of `buf`; `None` if it is not.
    pub(crate) fn of(buf: &[u8], part: &[u8]) -> Option<Span> {
        let start = (part.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
        let end = start.checked_add(part.len())?;
        if end > buf.len() || end > u32::MAX as usize {
            return None;
        }
        Some(Span::new(start, end))
    }

    /// The bytes of this span in `buf`, or an empty slice if the span does not fit `buf`.
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize).unwrap_or(&[])
    }

    /// Number of bytes covered (0 for an inverted span).
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// True if the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first `n` bytes of this span (all of it if shorter).
    pub(crate) fn prefix(&self, n: usize) -> Span {
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(self.len() as u32);
        Span {
            start: self.start,
            end: self.start.saturating_add(n),
        }
    }

    /// This span without its first `n` bytes (empty at the end if shorter).
    pub(crate) fn skip(&self, n: usize) -> Span {
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(self.len() as u32);
        Span {
            start: self.start.saturating_add(n),
            end: self.end.max(self.start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Span;

    #[test]
    fn get_never_panics() {
        let buf = b"hello";
        assert_eq!(Span::new(1, 3).get(buf), b"el");
        assert_eq!(Span::new(3, 9).get(buf), b"");
        assert_eq!(Span::new(4, 2).get(buf), b"");
        assert_eq!(Span::new(9, 12).get(buf), b"");
        assert_eq!(Span::new(4, 2).len(), 0);
    }

    #[test]
    fn of_subslice() {
        let buf = b"hello world";
        let part = buf.get(6..).unwrap_or_default();
        assert_eq!(Span::of(buf, part), Some(Span::new(6, 11)));
        assert_eq!(Span::of(part, buf), None);
    }

    #[test]
    fn prefix_and_skip() {
        let s = Span::new(10, 20);
        assert_eq!(s.prefix(3), Span::new(10, 13));
        assert_eq!(s.prefix(30), s);
        assert_eq!(s.skip(3), Span::new(13, 20));
        assert_eq!(s.skip(30), Span::new(20, 20));
    }
}
