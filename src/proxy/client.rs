//! `Client`: one accepted connection as the request loop sees it, plain TCP or TLS, in a single type.
//!
//! A connection starts plain and may become TLS once its first byte is sniffed ([`Client::start_tls`]). Keeping
//! both in one value lets a connection be one future, in one allocation (its task), whatever it speaks, instead of
//! an outer future plus a boxed one per protocol: what an idle keep-alive connection costs is mostly the size of
//! that future. Every read and write dispatches on the variant; the streams themselves are untouched.
//!
//! Owns no buffers and never blocks; tunnels after an upgrade take the inner stream back ([`Client::into_stream`]).

use std::io;
use std::rc::Rc;
use std::sync::Arc;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelHandle, CancelableAsyncReadRent};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::ServerConfig;

use super::{BufPool, ClientStream};
use crate::tls::{Accepted, TlsStream};

/// A client connection: plain TCP or TLS.
pub enum Client {
    /// Plain TCP (HTTP/1.1 in the clear), and every connection before its first byte is known.
    Plain(TcpStream),
    /// TLS, after a completed handshake. Boxed: the session is over a kilobyte, and a plain connection's future
    /// must not keep room for it.
    Tls(Box<TlsStream>),
    /// Neither any more: a TLS handshake took the socket and failed. Every operation fails with `NotConnected`.
    Gone,
}

/// The stream inside a [`Client`], for code that needs the concrete type (tunnels).
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS.
    Tls(Box<TlsStream>),
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection already closed")
}

impl Client {
    /// Runs the TLS server handshake on a plain connection whose first bytes (`initial`, the start of the
    /// ClientHello) were already read. On success the connection is TLS from here on and the server name the
    /// client asked for (SNI) is returned; on failure it is [`Client::Gone`] and the error says why. A connection
    /// that is not plain fails with `NotConnected`.
    pub async fn start_tls(
        &mut self,
        config: Arc<ServerConfig>,
        initial: Vec<u8>,
        bufs: Rc<BufPool>,
    ) -> io::Result<Option<Box<str>>> {
        let Client::Plain(tcp) = std::mem::replace(self, Client::Gone) else {
            return Err(gone());
        };
        let Accepted { stream, server_name } = TlsStream::accept(tcp, config, initial, bufs).await?;
        *self = Client::Tls(Box::new(stream));
        Ok(server_name)
    }

    /// The TLS session, when the connection is TLS.
    pub fn tls(&self) -> Option<&TlsStream> {
        match self {
            Client::Tls(t) => Some(t),
            _ => None,
        }
    }

    /// The stream inside, `None` when it is gone.
    pub fn into_stream(self) -> Option<Stream> {
        match self {
            Client::Plain(s) => Some(Stream::Plain(s)),
            Client::Tls(s) => Some(Stream::Tls(s)),
            Client::Gone => None,
        }
    }
}

impl ClientStream for Client {
    fn scheme(&self) -> &'static str {
        match self {
            Client::Tls(_) => "https",
            _ => "http",
        }
    }

    async fn idle(&mut self) -> io::Result<()> {
        match self {
            Client::Plain(s) => ClientStream::idle(s).await,
            Client::Tls(s) => ClientStream::idle(&mut **s).await,
            Client::Gone => Err(gone()),
        }
    }

    fn read_ready(&mut self, buf: &mut Vec<u8>) -> Option<io::Result<usize>> {
        match self {
            Client::Plain(s) => s.read_ready(buf),
            Client::Tls(s) => (**s).read_ready(buf),
            Client::Gone => Some(Err(gone())),
        }
    }
}

impl AsyncReadRent for Client {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            Client::Plain(s) => s.read(buf).await,
            Client::Tls(s) => s.read(buf).await,
            Client::Gone => (Err(gone()), buf),
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            Client::Plain(s) => s.readv(buf).await,
            Client::Tls(s) => s.readv(buf).await,
            Client::Gone => (Err(gone()), buf),
        }
    }
}

impl CancelableAsyncReadRent for Client {
    async fn cancelable_read<T: IoBufMut>(&mut self, buf: T, c: CancelHandle) -> BufResult<usize, T> {
        match self {
            Client::Plain(s) => s.cancelable_read(buf, c).await,
            Client::Tls(s) => s.cancelable_read(buf, c).await,
            Client::Gone => (Err(gone()), buf),
        }
    }

    async fn cancelable_readv<T: IoVecBufMut>(&mut self, buf: T, c: CancelHandle) -> BufResult<usize, T> {
        match self {
            Client::Plain(s) => s.cancelable_readv(buf, c).await,
            Client::Tls(s) => s.cancelable_readv(buf, c).await,
            Client::Gone => (Err(gone()), buf),
        }
    }
}

impl AsyncWriteRent for Client {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            Client::Plain(s) => s.write(buf).await,
            Client::Tls(s) => s.write(buf).await,
            Client::Gone => (Err(gone()), buf),
        }
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            Client::Plain(s) => s.writev(buf).await,
            Client::Tls(s) => s.writev(buf).await,
            Client::Gone => (Err(gone()), buf),
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            Client::Plain(s) => s.flush().await,
            Client::Tls(s) => s.flush().await,
            Client::Gone => Err(gone()),
        }
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Client::Plain(s) => s.shutdown().await,
            Client::Tls(s) => s.shutdown().await,
            Client::Gone => Err(gone()),
        }
    }
}
