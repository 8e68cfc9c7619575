//! `TlsStream`: a server-side TLS connection over a monoio `TcpStream`, with monoio's owned-buffer traits
//! (`AsyncReadRent`, `AsyncWriteRent`, `CancelableAsyncReadRent`), so the proxy code runs over it unchanged.
//!
//! Owns the handshake (starting from bytes already read while sniffing the connection), record framing (rustls
//! splits large writes into records; a write returns only once its ciphertext is on the socket, so buffered
//! ciphertext is never lost), close_notify on shutdown, and the session facts logs need (SNI, version, ALPN).
//! Never allocates per record in steady state: one ciphertext buffer per direction, reused.
//!
//! Dropping an operation's future part-way (a timeout) leaves the stream unusable; the connection must be closed,
//! as with a plain socket.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::Arc;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelHandle, CancelableAsyncReadRent, Splitable};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::{ProtocolVersion, ServerConfig, ServerConnection};

use super::engine::{self, Inbound, Outbound, Step, SEND_LIMIT};
use super::split::{TlsReadHalf, TlsWriteHalf};
use crate::proxy::BufPool;

/// A server-side TLS stream over TCP.
pub struct TlsStream {
    io: TcpStream,
    sess: Rc<RefCell<ServerConnection>>,
    inbound: Inbound,
    outbound: Outbound,
    /// Where the ciphertext buffers come from and go back to while the connection is idle.
    bufs: Rc<BufPool>,
}

impl TlsStream {
    /// Runs the server handshake on `io`. `initial` holds bytes already read from it (the start of the
    /// ClientHello); they are processed before the socket is read again. Ciphertext buffers come from `bufs`.
    pub async fn accept(
        io: TcpStream,
        config: Arc<ServerConfig>,
        initial: Vec<u8>,
        bufs: Rc<BufPool>,
    ) -> io::Result<TlsStream> {
        let mut sess = ServerConnection::new(config).map_err(io::Error::other)?;
        sess.set_buffer_limit(Some(SEND_LIMIT));
        let mut s = TlsStream {
            io,
            sess: Rc::new(RefCell::new(sess)),
            inbound: Inbound::with_initial(initial),
            outbound: Outbound::default(),
            bufs,
        };
        s.handshake().await?;
        Ok(s)
    }

    /// Waits until the client sends something or closes, holding no ciphertext buffer (see
    /// [`crate::proxy::ClientStream::idle`]). Returns at once when data is already buffered.
    pub async fn idle(&mut self) -> io::Result<()> {
        if !self.inbound.is_drained() || engine::has_plaintext(&mut self.sess.borrow_mut()) {
            return Ok(());
        }
        self.inbound.release(&self.bufs);
        self.outbound.release(&self.bufs);
        self.io.readable(false).await
    }

    async fn handshake(&mut self) -> io::Result<()> {
        loop {
            let (handshaking, wants_write) = {
                let s = self.sess.borrow();
                (s.is_handshaking(), s.wants_write())
            };
            if wants_write {
                self.outbound.flush(&mut self.io, &self.sess).await?;
                continue;
            }
            if !handshaking {
                return Ok(());
            }
            let stepped = engine::handshake_step(&mut self.sess.borrow_mut(), &mut self.inbound);
            match stepped {
                Ok(true) => {}
                Ok(false) => self.inbound.fill(&mut self.io).await?,
                Err(e) => {
                    // Best effort: send the alert rustls queued, so the client learns why.
                    let _ = self.outbound.flush(&mut self.io, &self.sess).await;
                    return Err(e);
                }
            }
        }
    }

    /// The server name the client asked for (SNI), lower-case.
    pub fn server_name(&self) -> Option<String> {
        self.sess.borrow().server_name().map(str::to_owned)
    }

    /// The negotiated protocol version (`TLSv1_3`, `TLSv1_2`).
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.sess.borrow().protocol_version()
    }

    /// The negotiated ALPN protocol.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.sess.borrow().alpn_protocol().map(<[u8]>::to_vec)
    }

    /// Splits into independently usable read and write halves sharing the session (for tunnels).
    pub fn into_split(self) -> (TlsReadHalf, TlsWriteHalf) {
        let (r, w) = self.io.into_split();
        (
            TlsReadHalf::new(r, self.sess.clone(), self.inbound),
            TlsWriteHalf::new(w, self.sess, self.outbound),
        )
    }

    async fn read_raw(&mut self, dst: *mut u8, cap: usize, cancel: Option<CancelHandle>) -> io::Result<usize> {
        loop {
            let step = engine::read_step(&mut self.sess.borrow_mut(), &mut self.inbound, dst, cap);
            match step {
                Ok(Step::Ready(n)) => {
                    // A key update or similar may want an answer; send it now rather than with the next write.
                    if self.sess.borrow().wants_write() {
                        self.outbound.flush(&mut self.io, &self.sess).await?;
                    }
                    return Ok(n);
                }
                Ok(Step::NeedCiphertext) => match &cancel {
                    None => {
                        self.inbound.provision(&self.bufs);
                        self.inbound.fill(&mut self.io).await?
                    }
                    Some(h) => {
                        self.inbound.provision(&self.bufs);
                        self.inbound.fill_cancelable(&mut self.io, h.clone()).await?
                    }
                },
                Err(e) => {
                    let _ = self.outbound.flush(&mut self.io, &self.sess).await;
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
        let n = engine::encrypt(&mut self.sess.borrow_mut(), &mut self.outbound, src)?;
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
        for part in engine::iovecs(&buf) {
            match engine::encrypt(&mut self.sess.borrow_mut(), &mut self.outbound, part) {
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
        self.outbound.flush(&mut self.io, &self.sess).await?;
        self.io.flush().await
    }

    /// Sends close_notify, then half-closes the TCP connection.
    async fn shutdown(&mut self) -> io::Result<()> {
        self.sess.borrow_mut().send_close_notify();
        self.outbound.flush(&mut self.io, &self.sess).await?;
        self.io.shutdown().await
    }
}
