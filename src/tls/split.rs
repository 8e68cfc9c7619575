//! The two halves of a [`super::TlsStream`], for tunnels that read and write at once.
//!
//! Both halves share the rustls session through an `Rc<RefCell<_>>` (one worker, one thread) and borrow it only
//! inside synchronous steps, never across an await, so the borrows never overlap. Records the read half makes
//! rustls queue (a key-update answer) go out with the write half's next write.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, OwnedReadHalf, OwnedWriteHalf};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::ServerConnection;

use super::engine::{self, Inbound, Outbound, Step};

/// The reading half of a TLS stream.
pub struct TlsReadHalf {
    io: OwnedReadHalf<TcpStream>,
    sess: Rc<RefCell<ServerConnection>>,
    inbound: Inbound,
}

/// The writing half of a TLS stream.
pub struct TlsWriteHalf {
    io: OwnedWriteHalf<TcpStream>,
    sess: Rc<RefCell<ServerConnection>>,
    outbound: Outbound,
}

impl TlsReadHalf {
    pub(crate) fn new(io: OwnedReadHalf<TcpStream>, sess: Rc<RefCell<ServerConnection>>, inbound: Inbound) -> Self {
        TlsReadHalf { io, sess, inbound }
    }

    async fn read_raw(&mut self, dst: *mut u8, cap: usize) -> io::Result<usize> {
        loop {
            let step = engine::read_step(&mut self.sess.borrow_mut(), &mut self.inbound, dst, cap)?;
            match step {
                Step::Ready(n) => return Ok(n),
                Step::NeedCiphertext => self.inbound.fill(&mut self.io).await?,
            }
        }
    }
}

impl TlsWriteHalf {
    pub(crate) fn new(io: OwnedWriteHalf<TcpStream>, sess: Rc<RefCell<ServerConnection>>, outbound: Outbound) -> Self {
        TlsWriteHalf { io, sess, outbound }
    }

    async fn write_raw(&mut self, src: &[u8]) -> io::Result<usize> {
        if src.is_empty() {
            return Ok(0);
        }
        let n = engine::encrypt(&mut self.sess.borrow_mut(), &mut self.outbound, src)?;
        self.outbound.drain(&mut self.io).await?;
        Ok(n)
    }
}

impl AsyncReadRent for TlsReadHalf {
    async fn read<T: IoBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        let (dst, cap) = engine::write_region(&mut buf);
        let res = self.read_raw(dst, cap).await;
        if let Ok(n) = res {
            // SAFETY: `read_raw` initialised the first `n` bytes of the region.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }

    async fn readv<T: IoVecBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
        let (dst, cap) = engine::first_iovec_mut(&mut buf);
        let res = self.read_raw(dst, cap).await;
        if let Ok(n) = res {
            // SAFETY: the first `n` bytes, all in the first non-empty iovec, were initialised.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }
}

impl AsyncWriteRent for TlsWriteHalf {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        let res = self.write_raw(engine::read_region(&buf)).await;
        (res, buf)
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        // Tunnels write one buffer at a time; the first non-empty part is a valid short write.
        let part = engine::iovecs(&buf).find(|p| !p.is_empty()).unwrap_or(&[]);
        let res = self.write_raw(part).await;
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
