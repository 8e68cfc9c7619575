//! The two halves of a [`super::TlsStream`], for tunnels that read and write at once.
//!
//! Both halves share the session through an `Rc<RefCell<_>>` (one worker, one thread) and borrow it only inside
//! synchronous steps, never across an await, so the borrows never overlap. Records the read half makes rustls
//! queue (an alert) wait in the shared state and go out first with the write half's next write.
//!
//! The write half steps rustls over the received ciphertext too (rustls hands out the right to encrypt only
//! there), so received bytes rustls has not discarded never leave the shared state: while some are pending, the
//! read half reads into a buffer of its own and appends.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, OwnedReadHalf, OwnedWriteHalf};
use monoio::net::TcpStream;
use monoio::BufResult;

use super::engine::{self, Outbound, Session, Step, CIPHERTEXT_READ};
use crate::proxy::BufPool;

/// What both halves share.
struct Shared {
    sess: Session,
    /// Records the read half produced, for the write half to send first.
    control: Outbound,
}

/// The reading half of a TLS stream.
pub struct TlsReadHalf {
    io: OwnedReadHalf<TcpStream>,
    shared: Rc<RefCell<Shared>>,
    bufs: Rc<BufPool>,
    /// Where a read lands while received bytes are pending in the shared state.
    aside: Vec<u8>,
}

/// The writing half of a TLS stream.
pub struct TlsWriteHalf {
    io: OwnedWriteHalf<TcpStream>,
    shared: Rc<RefCell<Shared>>,
    outbound: Outbound,
}

/// Splits a stream's parts into halves.
pub(crate) fn split(
    r: OwnedReadHalf<TcpStream>,
    w: OwnedWriteHalf<TcpStream>,
    sess: Session,
    outbound: Outbound,
    bufs: Rc<BufPool>,
) -> (TlsReadHalf, TlsWriteHalf) {
    let shared = Rc::new(RefCell::new(Shared {
        sess,
        control: Outbound::default(),
    }));
    (
        TlsReadHalf {
            io: r,
            shared: shared.clone(),
            bufs,
            aside: Vec::new(),
        },
        TlsWriteHalf {
            io: w,
            shared,
            outbound,
        },
    )
}

impl TlsReadHalf {
    async fn read_raw(&mut self, dst: *mut u8, cap: usize) -> io::Result<usize> {
        loop {
            let step = {
                let mut shared = self.shared.borrow_mut();
                let Shared { sess, control } = &mut *shared;
                sess.read_step(control, dst, cap)?
            };
            match step {
                Step::Ready(n) => return Ok(n),
                Step::NeedCiphertext => self.fill().await?,
            }
        }
    }

    /// Reads more ciphertext into the shared state. With nothing pending the shared buffer itself is read into
    /// (meanwhile the write half sees no pending bytes, which is the truth); otherwise the read lands aside and is
    /// appended.
    async fn fill(&mut self) -> io::Result<()> {
        let shared_buf = {
            let mut shared = self.shared.borrow_mut();
            let inbound = shared.sess.inbound();
            if inbound.is_empty() {
                inbound.make_room(&self.bufs)?;
                Some(inbound.take_buf())
            } else {
                // Checks the pending limit; the buffer itself stays.
                inbound.make_room(&self.bufs)?;
                None
            }
        };
        match shared_buf {
            Some(buf) => {
                let (len, cap) = (buf.len(), buf.capacity());
                let (res, slice) = self.io.read(buf.slice_mut(len..cap)).await;
                let mut shared = self.shared.borrow_mut();
                let inbound = shared.sess.inbound();
                inbound.restore(slice.into_inner());
                inbound.received(res)
            }
            None => {
                if self.aside.capacity() == 0 {
                    self.aside = Vec::with_capacity(CIPHERTEXT_READ);
                }
                let mut aside = std::mem::take(&mut self.aside);
                aside.clear();
                let cap = aside.capacity();
                let (res, slice) = self.io.read(aside.slice_mut(0..cap)).await;
                self.aside = slice.into_inner();
                let mut shared = self.shared.borrow_mut();
                let inbound = shared.sess.inbound();
                if let Ok(n) = res {
                    inbound.append(self.aside.get(..n).unwrap_or(&[]));
                }
                inbound.received(res)
            }
        }
    }
}

impl TlsWriteHalf {
    async fn write_raw(&mut self, src: &[u8]) -> io::Result<usize> {
        if src.is_empty() {
            return Ok(0);
        }
        let n = {
            let mut shared = self.shared.borrow_mut();
            let Shared { sess, control } = &mut *shared;
            self.outbound.append(control);
            sess.encrypt(&mut self.outbound, src)?
        };
        self.outbound.drain(&mut self.io).await?;
        Ok(n)
    }

    /// Moves what the read half queued into the outbound buffer.
    fn collect(&mut self) {
        self.outbound.append(&mut self.shared.borrow_mut().control);
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
        self.collect();
        self.outbound.drain(&mut self.io).await?;
        self.io.flush().await
    }

    /// Sends close_notify, then half-closes the TCP connection.
    async fn shutdown(&mut self) -> io::Result<()> {
        self.collect();
        {
            let mut shared = self.shared.borrow_mut();
            shared.sess.close_notify(&mut self.outbound)?;
        }
        self.outbound.drain(&mut self.io).await?;
        self.io.shutdown().await
    }
}
