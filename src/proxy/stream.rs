//! `ClientStream`: what the forwarding path needs from a client connection, implemented by plain TCP and by
//! [`TlsStream`], so one generic code path serves both.
//!
//! Adds nothing to either stream: reading, writing, an idle read the draining worker can cancel, a buffer-free wait
//! for the next request, and ([`Split`]) splitting into halves for tunnels.

use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;

use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelableAsyncReadRent, OwnedReadHalf, OwnedWriteHalf, Splitable};
use monoio::net::TcpStream;

use crate::tls::{TlsReadHalf, TlsStream, TlsWriteHalf};

/// A client connection: plain TCP or TLS.
pub trait ClientStream: AsyncReadRent + AsyncWriteRent + CancelableAsyncReadRent + 'static {
    /// The scheme requests on this connection use: `"http"` or `"https"`.
    fn scheme(&self) -> &'static str;
    /// Waits until the client sends something or closes, holding no read buffer (a TLS stream's own buffers go back
    /// to its worker's pool first): how a keep-alive connection waits between requests. Dropping the future is safe.
    fn idle(&mut self) -> impl Future<Output = io::Result<()>> + '_;
    /// After [`ClientStream::idle`]: appends what the client already sent to `buf` without waiting, when the
    /// stream can (`None` otherwise, or when nothing is there; `Some(Ok(0))` is the end of the stream). Saves the
    /// event-loop round trip of an asynchronous read whose data is known to be there.
    fn read_ready(&mut self, buf: &mut Vec<u8>) -> Option<io::Result<usize>>;
}

/// A client stream a tunnel can split into halves that read and write at the same time.
pub trait Split {
    /// The reading half.
    type ReadHalf: AsyncReadRent + 'static;
    /// The writing half.
    type WriteHalf: AsyncWriteRent + 'static;
    /// Splits into halves.
    fn into_halves(self) -> (Self::ReadHalf, Self::WriteHalf);
}

impl Split for TcpStream {
    type ReadHalf = OwnedReadHalf<TcpStream>;
    type WriteHalf = OwnedWriteHalf<TcpStream>;
    fn into_halves(self) -> (Self::ReadHalf, Self::WriteHalf) {
        self.into_split()
    }
}

impl Split for TlsStream {
    type ReadHalf = TlsReadHalf;
    type WriteHalf = TlsWriteHalf;
    fn into_halves(self) -> (Self::ReadHalf, Self::WriteHalf) {
        self.into_split()
    }
}

impl ClientStream for TcpStream {
    fn scheme(&self) -> &'static str {
        "http"
    }
    fn idle(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        self.readable(false)
    }
    fn read_ready(&mut self, buf: &mut Vec<u8>) -> Option<io::Result<usize>> {
        let spare = buf.spare_capacity_mut();
        if spare.is_empty() {
            return None;
        }
        // SAFETY: `recv` writes at most `spare.len()` bytes into the vector's spare capacity, which is valid,
        // writable memory owned by `buf`; the fd is this stream's open socket. MSG_DONTWAIT: it never blocks.
        let n = unsafe {
            libc::recv(
                self.as_raw_fd(),
                spare.as_mut_ptr().cast(),
                spare.len(),
                libc::MSG_DONTWAIT,
            )
        };
        match usize::try_from(n) {
            Ok(n) => {
                // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
                unsafe { buf.set_len(buf.len() + n) };
                Some(Ok(n))
            }
            Err(_) => {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => None,
                    _ => Some(Err(e)),
                }
            }
        }
    }
}

impl ClientStream for TlsStream {
    fn scheme(&self) -> &'static str {
        "https"
    }
    fn idle(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        TlsStream::idle(self)
    }
    fn read_ready(&mut self, _buf: &mut Vec<u8>) -> Option<io::Result<usize>> {
        None
    }
}
