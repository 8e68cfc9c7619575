//! `ClientStream`: what the forwarding path needs from a client connection, implemented by plain TCP and by
//! [`TlsStream`], so one generic code path serves both.
//!
//! Adds nothing to either stream: reading, writing, an idle read the draining worker can cancel, and splitting
//! into halves for tunnels.

use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelableAsyncReadRent, OwnedReadHalf, OwnedWriteHalf, Splitable};
use monoio::net::TcpStream;

use crate::tls::{TlsReadHalf, TlsStream, TlsWriteHalf};

/// A client connection: plain TCP or TLS.
pub trait ClientStream: AsyncReadRent + AsyncWriteRent + CancelableAsyncReadRent + 'static {
    /// The reading half after a split.
    type ReadHalf: AsyncReadRent + 'static;
    /// The writing half after a split.
    type WriteHalf: AsyncWriteRent + 'static;
    /// The scheme requests on this connection use: `"http"` or `"https"`.
    const SCHEME: &'static str;
    /// Splits into halves that can read and write at the same time.
    fn into_halves(self) -> (Self::ReadHalf, Self::WriteHalf);
}

impl ClientStream for TcpStream {
    type ReadHalf = OwnedReadHalf<TcpStream>;
    type WriteHalf = OwnedWriteHalf<TcpStream>;
    const SCHEME: &'static str = "http";
    fn into_halves(self) -> (Self::ReadHalf, Self::WriteHalf) {
        self.into_split()
    }
}

impl ClientStream for TlsStream {
    type ReadHalf = TlsReadHalf;
    type WriteHalf = TlsWriteHalf;
    const SCHEME: &'static str = "https";
    fn into_halves(self) -> (Self::ReadHalf, Self::WriteHalf) {
        self.into_split()
    }
}
