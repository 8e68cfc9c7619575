//! Owned-buffer I/O helpers over monoio's rent-style API.
//!
//! monoio takes a buffer by value for each operation and hands it back; these helpers keep a connection's `Vec<u8>`
//! in place so callers read and write through `&mut Vec<u8>`. If an operation's future is dropped (a timeout), the
//! buffer stays with the cancelled operation and the caller's Vec is left empty: the connection must then be closed.

use std::io;
use std::time::Duration;

use monoio::buf::{IoBuf, IoBufMut};
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
