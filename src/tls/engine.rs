//! The record layer shared by [`super::TlsStream`] and its split halves: ciphertext buffers and the synchronous
//! steps between them and a rustls `ServerConnection`.
//!
//! Every step borrows the session only for its own synchronous duration (never across an await), so a stream's
//! read half and write half can share one session in a `RefCell`. Buffers are allocated once per connection and
//! reused: steady-state reads and writes allocate nothing here.

use std::cell::RefCell;
use std::io::{self, BufRead, Write};

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelHandle, CancelableAsyncReadRent};
use rustls::ServerConnection;

use crate::proxy::BufPool;

/// Ciphertext read per socket read: room for a few full TLS records.
pub(crate) const CIPHERTEXT_READ: usize = 64 * 1024;

/// Room taken for outgoing ciphertext (it grows to whatever a write produces).
const OUTBOUND_INITIAL: usize = 16 * 1024;

/// Plaintext rustls accepts per write before it must be flushed (records are at most 16 KiB each).
pub(crate) const SEND_LIMIT: usize = 64 * 1024;

/// Ciphertext received from the socket that rustls has not taken yet: `buf[pos..]`.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Inbound {
    /// Starts with bytes already read from the socket (the ClientHello the connection was sniffed with).
    pub(crate) fn with_initial(buf: Vec<u8>) -> Self {
        Inbound {
            buf,
            pos: 0,
            eof: false,
        }
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    fn prepare(&mut self) {
        self.buf.clear();
        self.pos = 0;
        if self.buf.capacity() < CIPHERTEXT_READ {
            self.buf.reserve(CIPHERTEXT_READ);
        }
    }

    /// Everything received was given to rustls (and the peer has not closed).
    pub(crate) fn is_drained(&self) -> bool {
        self.pending().is_empty() && !self.eof
    }

    /// Gives the buffer to `bufs` when it holds nothing unread; [`Inbound::provision`] takes one back.
    pub(crate) fn release(&mut self, bufs: &BufPool) {
        if self.pending().is_empty() {
            self.pos = 0;
            bufs.put(std::mem::take(&mut self.buf));
        }
    }

    /// Makes sure the next fill reads into a pooled buffer rather than a fresh allocation.
    pub(crate) fn provision(&mut self, bufs: &BufPool) {
        if self.buf.capacity() == 0 {
            self.buf = bufs.take(CIPHERTEXT_READ);
        }
    }

    fn received(&mut self, res: io::Result<usize>) -> io::Result<()> {
        match res {
            Ok(0) => {
                self.eof = true;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reads more ciphertext. Only called once everything buffered was given to rustls.
    pub(crate) async fn fill<R: AsyncReadRent>(&mut self, io: &mut R) -> io::Result<()> {
        self.prepare();
        let cap = self.buf.capacity();
        let (res, slice) = io.read(std::mem::take(&mut self.buf).slice_mut(0..cap)).await;
        self.buf = slice.into_inner();
        self.received(res)
    }

    /// Like [`Inbound::fill`], cancelled when `handle` is.
    pub(crate) async fn fill_cancelable<R: CancelableAsyncReadRent>(
        &mut self,
        io: &mut R,
        handle: CancelHandle,
    ) -> io::Result<()> {
        self.prepare();
        let cap = self.buf.capacity();
        let (res, slice) = io
            .cancelable_read(std::mem::take(&mut self.buf).slice_mut(0..cap), handle)
            .await;
        self.buf = slice.into_inner();
        self.received(res)
    }
}

/// Ciphertext rustls produced that is not written yet.
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    buf: Vec<u8>,
}

impl Outbound {
    /// Gives the (empty) buffer to `bufs`.
    pub(crate) fn release(&mut self, bufs: &BufPool) {
        if self.buf.is_empty() {
            bufs.put(std::mem::take(&mut self.buf));
        }
    }

    /// Makes sure ciphertext goes into a pooled buffer rather than a fresh allocation.
    pub(crate) fn provision(&mut self, bufs: &BufPool) {
        if self.buf.capacity() == 0 {
            self.buf = bufs.take(OUTBOUND_INITIAL);
        }
    }

    /// Moves everything rustls wants to send into the buffer.
    pub(crate) fn collect(&mut self, sess: &mut ServerConnection) -> io::Result<()> {
        while sess.wants_write() {
            sess.write_tls(&mut self.buf)?;
        }
        Ok(())
    }

    /// Writes the whole buffer; on success it is empty (its capacity kept).
    pub(crate) async fn drain<W: AsyncWriteRent>(&mut self, io: &mut W) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let (res, buf) = io.write_all(std::mem::take(&mut self.buf)).await;
        self.buf = buf;
        self.buf.clear();
        res.map(|_| ())
    }

    /// Collects and writes whatever the session has to send.
    pub(crate) async fn flush<W: AsyncWriteRent>(
        &mut self,
        io: &mut W,
        sess: &RefCell<ServerConnection>,
    ) -> io::Result<()> {
        self.collect(&mut sess.borrow_mut())?;
        self.drain(io).await
    }
}

/// The result of one synchronous read step.
pub(crate) enum Step {
    /// `n` plaintext bytes were copied (`0`: the peer closed).
    Ready(usize),
    /// More ciphertext is needed from the socket.
    NeedCiphertext,
}

/// Copies available plaintext into `dst` (`cap` bytes), feeding buffered ciphertext to rustls as needed.
///
/// A TCP end of stream without close_notify reads as an ordinary end (`Ready(0)`), like plain TCP: HTTP frames its
/// own messages.
pub(crate) fn read_step(
    sess: &mut ServerConnection,
    inbound: &mut Inbound,
    dst: *mut u8,
    cap: usize,
) -> io::Result<Step> {
    loop {
        match take_plaintext(sess, dst, cap) {
            Ok(Some(n)) => return Ok(Step::Ready(n)),
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Step::Ready(0)),
            Err(e) => return Err(e),
        }
        if !inbound.pending().is_empty() {
            feed(sess, inbound)?;
            continue;
        }
        if inbound.eof {
            // Tell rustls the transport ended, then give it one more chance to report buffered plaintext.
            let _ = sess.read_tls(&mut io::empty());
            process(sess)?;
            return match take_plaintext(sess, dst, cap) {
                Ok(Some(n)) => Ok(Step::Ready(n)),
                Ok(None) => Ok(Step::Ready(0)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Step::Ready(0)),
                Err(e) => Err(e),
            };
        }
        return Ok(Step::NeedCiphertext);
    }
}

/// One handshake step: feeds buffered ciphertext. `Ok(false)` when the socket must be read first.
pub(crate) fn handshake_step(sess: &mut ServerConnection, inbound: &mut Inbound) -> io::Result<bool> {
    if !inbound.pending().is_empty() {
        feed(sess, inbound)?;
        return Ok(true);
    }
    if inbound.eof {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "client closed during the TLS handshake",
        ));
    }
    Ok(false)
}

/// Gives rustls one read's worth of buffered ciphertext and processes the records it completes.
fn feed(sess: &mut ServerConnection, inbound: &mut Inbound) -> io::Result<()> {
    let mut src = inbound.pending();
    let before = src.len();
    let n = sess.read_tls(&mut src)?;
    if n == 0 && before > 0 {
        return Err(io::Error::other("TLS: ciphertext not accepted"));
    }
    inbound.pos += n;
    process(sess)
}

fn process(sess: &mut ServerConnection) -> io::Result<()> {
    sess.process_new_packets()
        .map(|_| ())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Whether rustls holds decrypted plaintext not read yet (or knows the peer closed).
pub(crate) fn has_plaintext(sess: &mut ServerConnection) -> bool {
    !matches!(sess.reader().fill_buf(), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Copies decrypted plaintext into `dst`: `Some(n)` on progress (`Some(0)`: clean close_notify), `None` when none.
fn take_plaintext(sess: &mut ServerConnection, dst: *mut u8, cap: usize) -> io::Result<Option<usize>> {
    if cap == 0 {
        return Ok(Some(0));
    }
    let mut reader = sess.reader();
    match reader.fill_buf() {
        Ok(chunk) => {
            let n = chunk.len().min(cap);
            // SAFETY: `dst` is valid for `cap` writable bytes (the caller's owned I/O buffer), `n <= cap`, and
            // `chunk` is rustls' own buffer, so the ranges cannot overlap.
            unsafe { std::ptr::copy_nonoverlapping(chunk.as_ptr(), dst, n) };
            reader.consume(n);
            Ok(Some(n))
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Encrypts up to [`SEND_LIMIT`] bytes of `src` into `out`; returns how many plaintext bytes were taken.
pub(crate) fn encrypt(sess: &mut ServerConnection, out: &mut Outbound, src: &[u8]) -> io::Result<usize> {
    let n = sess.writer().write(src)?;
    out.collect(sess)?;
    Ok(n)
}

/// The writable region of an owned buffer, as a pointer and length.
pub(crate) fn write_region<T: IoBufMut>(buf: &mut T) -> (*mut u8, usize) {
    (buf.write_ptr(), buf.bytes_total())
}

/// The readable bytes of an owned buffer.
pub(crate) fn read_region<T: IoBuf>(buf: &T) -> &[u8] {
    // SAFETY: monoio's `IoBuf` contract: `read_ptr` is valid for `bytes_init` initialised bytes while `buf` lives,
    // and the returned slice borrows `buf`.
    unsafe { std::slice::from_raw_parts(buf.read_ptr(), buf.bytes_init()) }
}

/// The first non-empty iovec of a vectored read buffer (a short read into it is a valid `readv` result).
pub(crate) fn first_iovec_mut<T: IoVecBufMut>(buf: &mut T) -> (*mut u8, usize) {
    let (ptr, len) = (buf.write_iovec_ptr(), buf.write_iovec_len());
    for i in 0..len {
        // SAFETY: monoio's `IoVecBufMut` contract: `write_iovec_ptr` points at `write_iovec_len` iovecs.
        let v = unsafe { &*ptr.add(i) };
        if v.iov_len > 0 {
            return (v.iov_base.cast::<u8>(), v.iov_len);
        }
    }
    (std::ptr::null_mut(), 0)
}

/// The iovecs of a vectored write buffer, as slices.
pub(crate) fn iovecs<T: IoVecBuf>(buf: &T) -> impl Iterator<Item = &[u8]> {
    let (ptr, len) = (buf.read_iovec_ptr(), buf.read_iovec_len());
    (0..len).map(move |i| {
        // SAFETY: monoio's `IoVecBuf` contract: `read_iovec_ptr` points at `read_iovec_len` iovecs, each valid for
        // `iov_len` initialised bytes while `buf` lives; the slices borrow `buf`.
        unsafe {
            let v = &*ptr.add(i);
            if v.iov_len == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(v.iov_base.cast::<u8>().cast_const(), v.iov_len)
            }
        }
    })
}
