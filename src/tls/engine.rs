//! The record layer shared by [`super::TlsStream`] and its split halves, over rustls' unbuffered connection API:
//! the ciphertext buffers are the stream's own, lent by the worker's [`BufPool`] while the connection is busy, so
//! an idle connection holds none of them (rustls keeps only its keys and protocol state).
//!
//! [`Session`] owns the rustls connection, the received ciphertext rustls has not discarded yet ([`Inbound`]) and
//! decrypted plaintext a read had no room for. Its steps are synchronous and never wait: the async callers read and
//! write the socket between them, so a stream's two halves can share one session in a `RefCell`, borrowed only
//! inside a step. Ciphertext to send goes into an [`Outbound`] the caller passes in.
//!
//! Must never: drop or move received bytes rustls has not discarded (it keeps offsets into them, and decrypts
//! handshake fragments in place), let undiscarded ciphertext grow past what rustls' buffered API allows
//! ([`MAX_PENDING`]), or hold a buffer while the connection waits between requests.

use std::io;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelHandle, CancelableAsyncReadRent};
use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, EncodeTlsData, EncryptError, ReadTraffic, WriteTraffic};

use crate::proxy::BufPool;

/// Ciphertext read per socket read: room for a few full TLS records.
pub(crate) const CIPHERTEXT_READ: usize = 64 * 1024;

/// Least free room a socket read gets.
const READ_MIN: usize = 4096;

/// Undiscarded ciphertext that stops the connection: a handshake message may be 64 KiB, and nothing else may ever
/// be pending beyond one partial record (rustls rejects longer records from their header). The limit rustls'
/// buffered API applies before each read.
pub(crate) const MAX_PENDING: usize = 0xffff;

/// Room taken for outgoing ciphertext (it grows to whatever a write produces).
const OUTBOUND_INITIAL: usize = 16 * 1024;

/// Plaintext encrypted per write call (records are at most 16 KiB each).
pub(crate) const SEND_LIMIT: usize = 64 * 1024;

/// Largest plaintext fragment in one record.
const MAX_FRAGMENT: usize = 16 * 1024;

/// Bytes a record adds to its plaintext, rounded up (header, explicit nonce, content type, tag).
const RECORD_OVERHEAD: usize = 64;

/// Ciphertext received from the socket that rustls has not discarded yet: `buf[start..]`. It may hold a partial
/// record, or handshake fragments rustls already decrypted in place and refers to by offset.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    buf: Vec<u8>,
    start: usize,
    eof: bool,
}

impl Inbound {
    /// Nothing received is left undiscarded.
    pub(crate) fn is_empty(&self) -> bool {
        self.start >= self.buf.len()
    }

    fn pending_mut(&mut self) -> &mut [u8] {
        let start = self.start.min(self.buf.len());
        &mut self.buf[start..]
    }

    fn discard(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.buf.len());
        if self.is_empty() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Gives the buffer to `bufs` when it holds nothing undiscarded; [`Inbound::make_room`] takes one back.
    pub(crate) fn release(&mut self, bufs: &BufPool) {
        if self.is_empty() {
            self.start = 0;
            bufs.put(std::mem::take(&mut self.buf));
        }
    }

    /// Fails when the undiscarded bytes reached [`MAX_PENDING`]: no more may be read.
    fn check_limit(&self) -> io::Result<()> {
        if self.buf.len() - self.start.min(self.buf.len()) >= MAX_PENDING {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "TLS: message buffer full"));
        }
        Ok(())
    }

    /// Prepares the next socket read: a pooled buffer of [`CIPHERTEXT_READ`] bytes, the undiscarded bytes moved to
    /// its front (offsets rustls keeps are relative to them, so they stay valid), at least [`READ_MIN`] bytes free.
    pub(crate) fn make_room(&mut self, bufs: &BufPool) -> io::Result<()> {
        self.check_limit()?;
        let start = self.start.min(self.buf.len());
        if self.buf.capacity() < CIPHERTEXT_READ {
            let mut fresh = bufs.take(CIPHERTEXT_READ);
            fresh.extend_from_slice(&self.buf[start..]);
            bufs.put(std::mem::replace(&mut self.buf, fresh));
        } else if start > 0 {
            let pending = self.buf.len() - start;
            self.buf.copy_within(start.., 0);
            self.buf.truncate(pending);
        }
        self.start = 0;
        if self.buf.capacity() - self.buf.len() < READ_MIN {
            self.buf.reserve(READ_MIN);
        }
        Ok(())
    }

    /// Appends bytes read elsewhere (the read half of a split stream reads aside while bytes are pending).
    pub(crate) fn append(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Records a read's outcome (`Ok(0)`: the peer closed the TCP stream).
    pub(crate) fn received(&mut self, res: io::Result<usize>) -> io::Result<()> {
        match res {
            Ok(0) => {
                self.eof = true;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Takes the buffer out for a socket read that appends to it (see [`Inbound::restore`]).
    pub(crate) fn take_buf(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Puts the buffer back after the read.
    pub(crate) fn restore(&mut self, buf: Vec<u8>) {
        self.buf = buf;
    }

    /// Reads more ciphertext after [`Inbound::make_room`], appending to what is pending.
    pub(crate) async fn fill<R: AsyncReadRent>(&mut self, io: &mut R) -> io::Result<()> {
        let buf = self.take_buf();
        let (len, cap) = (buf.len(), buf.capacity());
        let (res, slice) = io.read(buf.slice_mut(len..cap)).await;
        self.restore(slice.into_inner());
        self.received(res)
    }

    /// Like [`Inbound::fill`], cancelled when `handle` is.
    pub(crate) async fn fill_cancelable<R: CancelableAsyncReadRent>(
        &mut self,
        io: &mut R,
        handle: CancelHandle,
    ) -> io::Result<()> {
        let buf = self.take_buf();
        let (len, cap) = (buf.len(), buf.capacity());
        let (res, slice) = io.cancelable_read(buf.slice_mut(len..cap), handle).await;
        self.restore(slice.into_inner());
        self.received(res)
    }
}

/// Ciphertext produced and not written yet: `buf[..end]`. The buffer's length is room already zeroed (rustls
/// writes into initialised memory), so it is zeroed once per loan from the pool rather than per write.
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    buf: Vec<u8>,
    end: usize,
}

impl Outbound {
    /// Gives the (empty) buffer to `bufs`.
    pub(crate) fn release(&mut self, bufs: &BufPool) {
        if self.end == 0 {
            bufs.put(std::mem::take(&mut self.buf));
        }
    }

    /// Makes sure ciphertext goes into a pooled buffer rather than a fresh allocation.
    pub(crate) fn provision(&mut self, bufs: &BufPool) {
        if self.buf.capacity() == 0 {
            self.buf = bufs.take(OUTBOUND_INITIAL);
        }
    }

    /// At least `room` writable bytes after the ciphertext held (zeroing the whole allocation when it grows).
    fn room(&mut self, room: usize) -> &mut [u8] {
        let want = self.end + room;
        if self.buf.len() < want {
            let zeroed = want.max(self.buf.capacity());
            self.buf.resize(zeroed, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Moves everything `other` holds to the end of this buffer, and frees `other`'s.
    pub(crate) fn append(&mut self, other: &mut Outbound) {
        if other.end == 0 {
            return;
        }
        let n = other.end;
        self.room(n)[..n].copy_from_slice(&other.buf[..n]);
        self.end += n;
        *other = Outbound::default();
    }

    /// Writes everything held; on success the buffer is empty (its room kept).
    pub(crate) async fn drain<W: AsyncWriteRent>(&mut self, io: &mut W) -> io::Result<()> {
        if self.end == 0 {
            return Ok(());
        }
        let end = self.end;
        self.end = 0;
        let (res, slice) = io.write_all(std::mem::take(&mut self.buf).slice(0..end)).await;
        self.buf = slice.into_inner();
        res.map(|_| ())
    }
}

/// Decrypted plaintext a read had no room for: `buf[pos..]`. Usually empty, holding no allocation.
#[derive(Debug, Default)]
struct Plain {
    buf: Vec<u8>,
    pos: usize,
}

impl Plain {
    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.is_empty() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Copies up to `cap` bytes into `dst`; frees the buffer once everything was taken.
    fn take(&mut self, dst: *mut u8, cap: usize) -> usize {
        let src = self.buf.get(self.pos..).unwrap_or(&[]);
        let n = src.len().min(cap);
        // SAFETY: `dst` is valid for `cap` writable bytes (the caller's owned I/O buffer), `n <= cap`, and `src` is
        // this buffer's own memory, so the ranges cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, n) };
        self.pos += n;
        if self.is_empty() {
            *self = Plain::default();
        }
        n
    }
}

/// The result of one synchronous read step.
pub(crate) enum Step {
    /// `n` plaintext bytes were copied (`0`: the peer closed).
    Ready(usize),
    /// More ciphertext is needed from the socket.
    NeedCiphertext,
}

/// What the handshake needs next.
pub(crate) enum Handshake {
    /// Complete: application data flows (the [`Outbound`] may still hold session tickets to send).
    Done,
    /// Send what the [`Outbound`] holds, then step again.
    Send,
    /// Send what the [`Outbound`] holds, read more ciphertext, then step again.
    Receive,
}

/// What one rustls state asked for, after a step handled what it could by itself.
enum Next {
    /// Call rustls again.
    Again,
    /// Application data may flow (or the handshake waits for the peer's last flight).
    Traffic,
    /// Encoded handshake records must be sent.
    Transmit,
    /// The handshake waits for the peer.
    Blocked,
    /// The peer sent close_notify.
    PeerClosed,
    /// Both sides sent close_notify.
    Closed,
}

/// A rustls server connection with the ciphertext it has not consumed and the plaintext not read yet.
pub(crate) struct Session {
    conn: UnbufferedServerConnection,
    inbound: Inbound,
    plain: Plain,
    peer_closed: bool,
}

impl Session {
    /// A session for a new connection; `initial` holds bytes already read from it (the start of the ClientHello).
    pub(crate) fn new(config: std::sync::Arc<rustls::ServerConfig>, initial: Vec<u8>) -> io::Result<Self> {
        Ok(Session {
            conn: UnbufferedServerConnection::new(config).map_err(io::Error::other)?,
            inbound: Inbound {
                buf: initial,
                start: 0,
                eof: false,
            },
            plain: Plain::default(),
            peer_closed: false,
        })
    }

    /// The received ciphertext.
    pub(crate) fn inbound(&mut self) -> &mut Inbound {
        &mut self.inbound
    }

    /// Whether a read would return without reading the socket: bytes received and not consumed, decrypted plaintext
    /// not read, or the peer's close (TLS or TCP).
    pub(crate) fn has_input(&self) -> bool {
        !self.inbound.is_empty() || self.inbound.eof || !self.plain.is_empty() || self.peer_closed
    }

    /// The negotiated protocol version (`TLSv1_3`, `TLSv1_2`).
    pub(crate) fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        self.conn.protocol_version()
    }

    /// The negotiated ALPN protocol.
    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// One rustls call on the pending ciphertext. Handshake records are encoded into `out`, decrypted records
    /// copied into `dst` (`cap` bytes; `*copied` counts them) and the rest kept for later reads; `write` runs on
    /// the state that lets application data be written (its result is returned as `Some`).
    fn advance<T>(
        &mut self,
        out: &mut Outbound,
        dst: *mut u8,
        cap: usize,
        copied: &mut usize,
        write: &mut dyn FnMut(&mut WriteTraffic<'_, ServerConnectionData>, &mut Outbound) -> io::Result<T>,
    ) -> io::Result<(Next, Option<T>)> {
        let Session {
            conn,
            inbound,
            plain,
            peer_closed,
        } = self;
        let (res, discard) = {
            let status = conn.process_tls_records(inbound.pending_mut());
            let mut discard = status.discard;
            let res = match status.state {
                Ok(ConnectionState::EncodeTlsData(mut e)) => encode(&mut e, out).map(|()| (Next::Again, None)),
                Ok(ConnectionState::TransmitTlsData(t)) => {
                    // The caller sends `out` before it waits for anything, so the records count as sent.
                    t.done();
                    Ok((Next::Transmit, None))
                }
                Ok(ConnectionState::ReadTraffic(mut r)) => {
                    take_records(&mut r, dst, cap, plain, &mut discard).map(|n| {
                        *copied += n;
                        (Next::Again, None)
                    })
                }
                Ok(ConnectionState::WriteTraffic(mut w)) => write(&mut w, out).map(|t| (Next::Traffic, Some(t))),
                Ok(ConnectionState::BlockedHandshake) => Ok((Next::Blocked, None)),
                Ok(ConnectionState::PeerClosed) => {
                    *peer_closed = true;
                    Ok((Next::PeerClosed, None))
                }
                Ok(ConnectionState::Closed) => {
                    *peer_closed = true;
                    Ok((Next::Closed, None))
                }
                Ok(other) => Err(io::Error::other(format!("TLS: unexpected state {other:?}"))),
                Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            };
            (res, discard)
        };
        inbound.discard(discard);
        res
    }

    /// One handshake step: processes buffered ciphertext, encoding the answers into `out`.
    pub(crate) fn handshake_step(&mut self, out: &mut Outbound) -> io::Result<Handshake> {
        let mut copied = 0;
        loop {
            let (next, _) = self.advance(out, std::ptr::null_mut(), 0, &mut copied, &mut |_, _| Ok(()))?;
            let handshaking = self.conn.is_handshaking();
            match next {
                Next::Transmit => return Ok(Handshake::Send),
                Next::PeerClosed | Next::Closed => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "client sent close_notify during the TLS handshake",
                    ))
                }
                // Data right behind the client's Finished ends the handshake too; the plaintext waits for a read.
                Next::Again if handshaking || self.plain.is_empty() => {}
                Next::Again | Next::Traffic if !handshaking => return Ok(Handshake::Done),
                Next::Again | Next::Traffic | Next::Blocked if self.inbound.eof => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "client closed during the TLS handshake",
                    ))
                }
                Next::Again | Next::Traffic | Next::Blocked => return Ok(Handshake::Receive),
            }
        }
    }

    /// Copies available plaintext into `dst` (`cap` bytes), decrypting buffered ciphertext as needed; records rustls
    /// wants sent (an alert, a refused renegotiation) go into `out`.
    ///
    /// A TCP end of stream without close_notify reads as an ordinary end (`Ready(0)`), like plain TCP: HTTP frames
    /// its own messages.
    pub(crate) fn read_step(&mut self, out: &mut Outbound, dst: *mut u8, cap: usize) -> io::Result<Step> {
        if cap == 0 {
            return Ok(Step::Ready(0));
        }
        loop {
            if !self.plain.is_empty() {
                return Ok(Step::Ready(self.plain.take(dst, cap)));
            }
            if self.peer_closed {
                return Ok(Step::Ready(0));
            }
            let mut copied = 0;
            let (next, _) = self.advance(out, dst, cap, &mut copied, &mut |_, _| Ok(()))?;
            if copied > 0 {
                return Ok(Step::Ready(copied));
            }
            match next {
                Next::Again | Next::Transmit => {}
                Next::PeerClosed | Next::Closed => return Ok(Step::Ready(0)),
                Next::Traffic | Next::Blocked if self.inbound.eof => return Ok(Step::Ready(0)),
                Next::Traffic | Next::Blocked => return Ok(Step::NeedCiphertext),
            }
        }
    }

    /// Encrypts up to [`SEND_LIMIT`] bytes of `src` into `out` (after any handshake records rustls has queued);
    /// returns how many plaintext bytes were taken.
    pub(crate) fn encrypt(&mut self, out: &mut Outbound, src: &[u8]) -> io::Result<usize> {
        let src = src.get(..SEND_LIMIT).unwrap_or(src);
        match self.until_traffic(out, &mut |w, out| encrypt_into(w, src, out))? {
            true => Ok(src.len()),
            false => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "TLS: both sides sent close_notify",
            )),
        }
    }

    /// Queues close_notify into `out` (a no-op once sent).
    pub(crate) fn close_notify(&mut self, out: &mut Outbound) -> io::Result<()> {
        self.until_traffic(out, &mut close_notify_into).map(|_| ())
    }

    /// Steps until rustls lets application data be written, then runs `write` there (true), or finds the session
    /// closed both ways (false). Plaintext decrypted meanwhile is kept for the reader; a close_notify from the peer
    /// is remembered (writing after it is fine: half-close).
    fn until_traffic(
        &mut self,
        out: &mut Outbound,
        write: &mut dyn FnMut(&mut WriteTraffic<'_, ServerConnectionData>, &mut Outbound) -> io::Result<()>,
    ) -> io::Result<bool> {
        let mut copied = 0;
        loop {
            let (next, done) = self.advance(out, std::ptr::null_mut(), 0, &mut copied, write)?;
            match (next, done) {
                (_, Some(())) => return Ok(true),
                (Next::Closed, None) => return Ok(false),
                (Next::Again | Next::Transmit | Next::PeerClosed, None) => {}
                (Next::Blocked | Next::Traffic, None) => {
                    return Err(io::Error::other("TLS: application data before the handshake completed"))
                }
            }
        }
    }

    /// After an error: encodes the alert rustls queued, if any, into `out` (best effort).
    pub(crate) fn alert(&mut self, out: &mut Outbound) {
        let Session { conn, inbound, .. } = self;
        for _ in 0..4 {
            let (more, discard) = {
                let status = conn.process_tls_records(inbound.pending_mut());
                let more = match status.state {
                    Ok(ConnectionState::EncodeTlsData(mut e)) => encode(&mut e, out).is_ok(),
                    _ => false,
                };
                (more, status.discard)
            };
            inbound.discard(discard);
            if !more {
                return;
            }
        }
    }
}

/// Encodes one handshake record into `out`.
fn encode(e: &mut EncodeTlsData<'_, ServerConnectionData>, out: &mut Outbound) -> io::Result<()> {
    let mut room = 0;
    loop {
        match e.encode(out.room(room)) {
            Ok(n) => {
                out.end += n;
                return Ok(());
            }
            Err(EncodeError::InsufficientSize(s)) if s.required_size > room => room = s.required_size,
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// Encrypts `src` into `out`.
fn encrypt_into(w: &mut WriteTraffic<'_, ServerConnectionData>, src: &[u8], out: &mut Outbound) -> io::Result<()> {
    let mut room = src.len() + (src.len() / MAX_FRAGMENT + 1) * RECORD_OVERHEAD;
    loop {
        match w.encrypt(src, out.room(room)) {
            Ok(n) => {
                out.end += n;
                return Ok(());
            }
            Err(EncryptError::InsufficientSize(s)) if s.required_size > room => room = s.required_size,
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// Encodes close_notify into `out`.
fn close_notify_into(w: &mut WriteTraffic<'_, ServerConnectionData>, out: &mut Outbound) -> io::Result<()> {
    let mut room = RECORD_OVERHEAD;
    loop {
        match w.queue_close_notify(out.room(room)) {
            Ok(n) => {
                out.end += n;
                return Ok(());
            }
            Err(EncryptError::InsufficientSize(s)) if s.required_size > room => room = s.required_size,
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// Moves every decrypted record out of rustls: into `dst` (`cap` bytes) first, the rest into `plain`. Returns the
/// bytes copied into `dst`.
fn take_records(
    r: &mut ReadTraffic<'_, '_, ServerConnectionData>,
    dst: *mut u8,
    cap: usize,
    plain: &mut Plain,
    discard: &mut usize,
) -> io::Result<usize> {
    let mut copied = 0;
    while let Some(record) = r.next_record() {
        let record = record.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        *discard += record.discard;
        let payload = record.payload;
        let n = if plain.is_empty() {
            payload.len().min(cap - copied)
        } else {
            0
        };
        if n > 0 {
            // SAFETY: `dst` is valid for `cap` writable bytes (the caller's owned I/O buffer) and
            // `copied + n <= cap`; `payload` is rustls' own buffer, so the ranges cannot overlap.
            unsafe { std::ptr::copy_nonoverlapping(payload.as_ptr(), dst.add(copied), n) };
            copied += n;
        }
        plain.push(payload.get(n..).unwrap_or(&[]));
    }
    Ok(copied)
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
