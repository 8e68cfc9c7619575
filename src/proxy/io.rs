//! Owned-buffer I/O helpers over monoio's rent-style API.
//!
//! monoio takes a buffer by value for each operation and hands it back; these helpers keep a connection's `Vec<u8>`
//! in place so callers read and write through `&mut Vec<u8>`. If an operation's future is dropped (a timeout), the
//! buffer stays with the cancelled operation and the caller's Vec is left empty: the connection must then be closed.

use std::io;
use std::time::Duration;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf};
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelHandle, CancelableAsyncReadRent};

/// Minimum free space guaranteed before a read.
const MIN_READ: usize = 4096;

/// Appends bytes from `io` to `buf`, growing it to at most `max` bytes. `Ok(0)` is end of stream.
pub async fn read_append<R: AsyncReadRent>(io: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    let len = buf.len();
    if buf.capacity() - len < MIN_READ {
        let want = (buf.capacity() * 2).max(len + MIN_READ).min(max.max(len + 1));
        buf.reserve(want - len);
    }
    let end = buf.capacity().min(max.max(len + 1));
    let (res, slice) = io.read(std::mem::take(buf).slice_mut(len..end)).await;
    *buf = slice.into_inner();
    res
}

/// Like [`read_append`], but the read is cancelled when `handle` is (used while a connection waits idle, so a
/// draining worker can close it at once).
pub async fn read_append_cancelable<R: CancelableAsyncReadRent>(
    io: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    handle: CancelHandle,
) -> io::Result<usize> {
    let len = buf.len();
    if buf.capacity() - len < MIN_READ {
        buf.reserve(MIN_READ);
    }
    let end = buf.capacity().min(max.max(len + 1));
    let (res, slice) = io
        .cancelable_read(std::mem::take(buf).slice_mut(len..end), handle)
        .await;
    *buf = slice.into_inner();
    res
}

/// Reads into `buf` from index 0 (discarding its contents), at most `limit` bytes.
pub async fn read_fresh<R: AsyncReadRent>(io: &mut R, buf: &mut Vec<u8>, limit: usize) -> io::Result<usize> {
    buf.clear();
    let end = buf.capacity().min(limit.max(1));
    let (res, slice) = io.read(std::mem::take(buf).slice_mut(0..end)).await;
    *buf = slice.into_inner();
    res
}

/// Writes all of `buf`.
pub async fn write_all<W: AsyncWriteRent>(io: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let (res, b) = io.write_all(std::mem::take(buf)).await;
    *buf = b;
    res.map(|_| ())
}

/// Writes `buf[start..end]`.
pub async fn write_range<W: AsyncWriteRent>(io: &mut W, buf: &mut Vec<u8>, start: usize, end: usize) -> io::Result<()> {
    if start >= end {
        return Ok(());
    }
    let (res, slice) = io.write_all(std::mem::take(buf).slice(start..end)).await;
    *buf = slice.into_inner();
    res.map(|_| ())
}

/// Writes all of `head`, then `body[start..end]`, as vectored writes: one system call or ring operation for
/// both where the socket takes them, and no copy of the body bytes into `head`.
pub async fn write_pair<W: AsyncWriteRent>(
    io: &mut W,
    head: &mut Vec<u8>,
    body: &mut Vec<u8>,
    start: usize,
    end: usize,
) -> io::Result<()> {
    let end = end.min(body.len());
    let start = start.min(end);
    let pair = Pair::new(std::mem::take(head), std::mem::take(body), start, end);
    let (res, pair) = io.write_vectored_all(pair).await;
    (*head, *body) = (pair.head, pair.body);
    res.map(|_| ())
}

/// Two owned buffers as one vectored write: `head` whole, then a range of `body`.
struct Pair {
    head: Vec<u8>,
    body: Vec<u8>,
    /// Points into `head` and `body`, whose heap storage neither moves nor changes while the pair exists; boxed so
    /// that the pointer [`IoVecBuf::read_iovec_ptr`] returns stays put when the pair moves.
    iov: Box<[libc::iovec; 2]>,
}

impl Pair {
    fn new(head: Vec<u8>, body: Vec<u8>, start: usize, end: usize) -> Self {
        let tail = &body[start..end];
        let iov = Box::new([
            libc::iovec {
                iov_base: head.as_ptr().cast_mut().cast(),
                iov_len: head.len(),
            },
            libc::iovec {
                iov_base: tail.as_ptr().cast_mut().cast(),
                iov_len: tail.len(),
            },
        ]);
        Pair { head, body, iov }
    }
}

// SAFETY: both iovecs describe initialised bytes of `head` and `body` (`[..len]` and `[start..end]`, checked against
// the length when built), which the pair owns and never touches until it is taken apart, so the memory stays valid;
// the iovec array is boxed, so the pointer is stable for the pair's whole life, and it holds exactly two entries.
unsafe impl IoVecBuf for Pair {
    fn read_iovec_ptr(&self) -> *const libc::iovec {
        self.iov.as_ptr()
    }

    fn read_iovec_len(&self) -> usize {
        self.iov.len()
    }
}

/// Runs `fut` with an optional timeout; `None` runs it unbounded. A timeout becomes `ErrorKind::TimedOut`.
pub async fn with_timeout<T>(
    limit: Option<Duration>,
    fut: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match limit {
        None => fut.await,
        Some(d) => match monoio::time::timeout(d, fut).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::from(io::ErrorKind::TimedOut)),
        },
    }
}

/// Closes a client connection politely after an error response: half-close, then read and discard what the client
/// is still sending for a moment, so the kernel does not reset the connection before the response is read.
pub async fn linger_close<S: AsyncReadRent + AsyncWriteRent>(io: &mut S, scratch: &mut Vec<u8>) {
    let _ = io.shutdown().await;
    let deadline = monoio::time::Instant::now() + Duration::from_millis(500);
    let mut discarded = 0usize;
    if scratch.capacity() < MIN_READ {
        scratch.reserve(MIN_READ);
    }
    while discarded < 256 * 1024 {
        let cap = scratch.capacity();
        let read = monoio::time::timeout_at(deadline, read_fresh(io, scratch, cap)).await;
        match read {
            Ok(Ok(n)) if n > 0 => discarded += n,
            _ => break,
        }
    }
}
