//! `TlsStream`: a server-side TLS connection over a monoio `TcpStream`, with monoio's owned-buffer traits
//! (`AsyncReadRent`, `AsyncWriteRent`, `CancelableAsyncReadRent`), so the proxy code runs over it unchanged.
//!
//! Owns the handshake (starting from bytes already read while sniffing the connection), record framing (rustls
//! splits large writes into records; a write returns only once its ciphertext is on the socket, so buffered
//! ciphertext is never lost), close_notify on shutdown, and the session facts logs need (SNI, version, ALPN).
//! Never allocates per record in steady state: one ciphertext buffer per direction, lent by the worker's pool while
//! the connection is busy and given back while it waits between requests (rustls' unbuffered API: the connection,
//! not rustls, owns the buffers).
//!
//! Dropping an operation's future part-way (a timeout) leaves the stream unusable; the connection must be closed,
//! as with a plain socket.

use std::io;
use std::rc::Rc;
use std::sync::Arc;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelHandle, CancelableAsyncReadRent, Splitable};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::{ProtocolVersion, ServerConfig};

use super::engine::{self, Handshake, Outbound, Session, Step};
use super::resolver::take_resolved_name;
use super::split::{TlsReadHalf, TlsWriteHalf};
use crate::proxy::BufPool;

/// A server-side TLS stream over TCP.
pub struct TlsStream {
    io: TcpStream,
    sess: Session,
    outbound: Outbound,
    /// Where the ciphertext buffers come from and go back to while the connection is idle.
    bufs: Rc<BufPool>,
}

/// A completed handshake.
pub struct Accepted {
    /// The stream, ready for application data.
    pub stream: TlsStream,
    /// The server name the client asked for (SNI), lower-case; recorded only while debug logging is on (the debug
    /// log is its only reader).
    pub server_name: Option<Box<str>>,
}

impl TlsStream {
    /// Runs the server handshake on `io`. `initial` holds bytes already read from it (the start of the
    /// ClientHello); they are processed before the socket is read again. Ciphertext buffers come from `bufs`.
    pub async fn accept(
        io: TcpStream,
        config: Arc<ServerConfig>,
        initial: Vec<u8>,
        bufs: Rc<BufPool>,
    ) -> io::Result<Accepted> {
        let mut s = TlsStream {
            io,
            sess: Session::new(config, initial)?,
            outbound: Outbound::default(),
            bufs,
        };
        let server_name = s.handshake().await?;
        Ok(Accepted { stream: s, server_name })
    }

    /// Waits until the client sends something or closes, holding no ciphertext buffer (see
    /// [`crate::proxy::ClientStream::idle`]). Returns at once when data is already buffered.
    pub async fn idle(&mut self) -> io::Result<()> {
        if self.sess.has_input() {
            return Ok(());
        }
        self.sess.inbound().release(&self.bufs);
        self.outbound.release(&self.bufs);
        self.io.readable(false).await
    }

    /// Runs the handshake; returns the client's server name.
    async fn handshake(&mut self) -> io::Result<Option<Box<str>>> {
        let mut server_name = None;
        self.outbound.provision(&self.bufs);
        loop {
            let stepped = self.sess.handshake_step(&mut self.outbound);
            if let Some(name) = take_resolved_name() {
                server_name = Some(name);
            }
            match stepped {
                Ok(Handshake::Done) => {
                    self.outbound.drain(&mut self.io).await?;
                    return Ok(server_name);
                }
                Ok(Handshake::Send) => self.outbound.drain(&mut self.io).await?,
                Ok(Handshake::Receive) => {
                    self.outbound.drain(&mut self.io).await?;
                    self.sess.inbound().make_room(&self.bufs)?;
                    self.sess.inbound().fill(&mut self.io).await?;
                }
                Err(e) => {
                    // Best effort: send the alert rustls queued, so the client learns why.
                    self.sess.alert(&mut self.outbound);
                    let _ = self.outbound.drain(&mut self.io).await;
                    return Err(e);
                }
            }
        }
    }

    /// The negotiated protocol version (`TLSv1_3`, `TLSv1_2`).
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.sess.protocol_version()
    }

    /// The negotiated ALPN protocol.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.sess.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// Splits into independently usable read and write halves sharing the session (for tunnels).
    pub fn into_split(self) -> (TlsReadHalf, TlsWriteHalf) {
        let (r, w) = self.io.into_split();
        super::split::split(r, w, self.sess, self.outbound, self.bufs)
    }

    async fn read_raw(&mut self, dst: *mut u8, cap: usize, cancel: Option<CancelHandle>) -> io::Result<usize> {
        loop {
            match self.sess.read_step(&mut self.outbound, dst, cap) {
                Ok(Step::Ready(n)) => {
                    // A record rustls wants answered (a refused renegotiation): send it now, not with the next write.
                    self.outbound.drain(&mut self.io).await?;
                    return Ok(n);
                }
                Ok(Step::NeedCiphertext) => {
                    self.outbound.drain(&mut self.io).await?;
                    let inbound = self.sess.inbound();
                    inbound.make_room(&self.bufs)?;
                    match &cancel {
                        None => inbound.fill(&mut self.io).await?,
                        Some(h) => inbound.fill_cancelable(&mut self.io, h.clone()).await?,
                    }
                }
                Err(e) => {
                    self.sess.alert(&mut self.outbound);
                    let _ = self.outbound.drain(&mut self.io).await;
                    return Err(e);
                }
            }
        }
    }

    async fn write_raw(&mut self, src: &[u8]) -> io::Result<usize> {
        if src.is_empty() {
            return Ok(0);
        }
        self.outbound.provision(&self.bufs);
        let n = self.sess.encrypt(&mut self.outbound, src)?;
        self.outbound.drain(&mut self.io).await?;
        Ok(n)
    }
}

impl AsyncReadRent for TlsStream {
    async fn read<T: IoBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        let (dst, cap) = engine::write_region(&mut buf);
        let res = self.read_raw(dst, cap, None).await;
        if let Ok(n) = res {
            // SAFETY: `read_raw` initialised the first `n` bytes of the region.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }

    async fn readv<T: IoVecBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        let (dst, cap) = engine::first_iovec_mut(&mut buf);
        let res = self.read_raw(dst, cap, None).await;
        if let Ok(n) = res {
            // SAFETY: the first `n` bytes, all in the first non-empty iovec, were initialised.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }
}

impl CancelableAsyncReadRent for TlsStream {
    async fn cancelable_read<T: IoBufMut>(&mut self, mut buf: T, c: CancelHandle) -> BufResult<usize, T> {
        let (dst, cap) = engine::write_region(&mut buf);
        let res = self.read_raw(dst, cap, Some(c)).await;
        if let Ok(n) = res {
            // SAFETY: `read_raw` initialised the first `n` bytes of the region.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }

    async fn cancelable_readv<T: IoVecBufMut>(&mut self, mut buf: T, c: CancelHandle) -> BufResult<usize, T> {
        let (dst, cap) = engine::first_iovec_mut(&mut buf);
        let res = self.read_raw(dst, cap, Some(c)).await;
        if let Ok(n) = res {
            // SAFETY: the first `n` bytes, all in the first non-empty iovec, were initialised.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }
}

impl AsyncWriteRent for TlsStream {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        let res = self.write_raw(engine::read_region(&buf)).await;
        (res, buf)
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.outbound.provision(&self.bufs);
        let mut total = 0;
        let mut res = Ok(());
        for part in engine::iovecs(&buf).filter(|p| !p.is_empty()) {
            match self.sess.encrypt(&mut self.outbound, part) {
                Ok(n) => {
                    total += n;
                    if n < part.len() {
                        break;
                    }
                }
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
        }
        let res = match res {
            Ok(()) => self.outbound.drain(&mut self.io).await.map(|_| total),
            Err(e) => Err(e),
        };
        (res, buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.outbound.drain(&mut self.io).await?;
        self.io.flush().await
    }

    /// Sends close_notify, then half-closes the TCP connection.
    async fn shutdown(&mut self) -> io::Result<()> {
        self.sess.close_notify(&mut self.outbound)?;
        self.outbound.drain(&mut self.io).await?;
        self.io.shutdown().await
    }
}
