//! The control thread → worker channel: a crossbeam channel plus a one-byte wake on a socketpair.
//!
//! The control side sends a message and writes one byte (non-blocking; a full socket means the worker has wakes
//! pending already). The worker side awaits the byte on its runtime and drains the channel. Must never block either
//! side: the control thread never waits for a worker, a worker never calls a blocking `recv`.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::challenge::Challenges;
use crate::snapshot::{HealthUpdate, Snapshot};
use crate::tls::CertMap;

/// What the control side tells a worker.
#[derive(Debug)]
pub enum WorkerMsg {
    /// Serve from this snapshot from now on.
    Snapshot(Arc<Snapshot>),
    /// New active health-check results (and the `/api/rawdata` showing them) for the snapshot of the same generation.
    Health(Arc<HealthUpdate>),
    /// Serve these certificates from the next TLS handshake on (send each worker its own
    /// [`CertMap::for_worker`] copy).
    Certs(Arc<CertMap>),
    /// Answer these ACME HTTP-01 challenges from now on, and record the set's version in the receipts.
    Challenges(Arc<Challenges>),
    /// Stop accepting, finish in-flight requests, then exit.
    Drain,
}

/// The control side of one worker's mailbox.
#[derive(Debug)]
pub struct MailboxSender {
    tx: Sender<WorkerMsg>,
    wake: UnixStream,
}

/// The worker side of a mailbox, handed to the worker thread.
#[derive(Debug)]
pub struct MailboxReceiver {
    rx: Receiver<WorkerMsg>,
    wake: UnixStream,
}

/// Creates a connected mailbox pair.
pub fn mailbox() -> io::Result<(MailboxSender, MailboxReceiver)> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((MailboxSender { tx, wake: a }, MailboxReceiver { rx, wake: b }))
}

impl MailboxSender {
    /// Queues `msg` and wakes the worker. Returns false if the worker is gone.
    pub fn send(&self, msg: WorkerMsg) -> bool {
        if self.tx.send(msg).is_err() {
            return false;
        }
        match (&self.wake).write(&[1]) {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            Err(_) => false,
        }
    }
}

impl MailboxReceiver {
    /// Splits into the wake socket (to register with the worker's runtime) and the channel.
    pub fn into_parts(self) -> (UnixStream, Inbox) {
        (self.wake, Inbox { rx: self.rx })
    }
}

/// The channel end a worker drains after each wake.
#[derive(Debug)]
pub struct Inbox {
    rx: Receiver<WorkerMsg>,
}

impl Inbox {
    /// The next queued message; `Err(true)` when the control side has hung up, `Err(false)` when empty.
    pub fn try_next(&self) -> Result<WorkerMsg, bool> {
        match self.rx.try_recv() {
            Ok(m) => Ok(m),
            Err(TryRecvError::Empty) => Err(false),
            Err(TryRecvError::Disconnected) => Err(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn send_queues_and_wakes() {
        let (tx, rx) = mailbox().expect("mailbox");
        assert!(tx.send(WorkerMsg::Drain));
        let (mut wake, inbox) = rx.into_parts();
        let mut byte = [0u8; 1];
        wake.read_exact(&mut byte).expect("wake byte");
        assert!(matches!(inbox.try_next(), Ok(WorkerMsg::Drain)));
        assert!(matches!(inbox.try_next(), Err(false)));
        drop(tx);
        assert!(matches!(inbox.try_next(), Err(true)));
    }

    #[test]
    fn a_full_wake_socket_does_not_block_the_sender() {
        let (tx, rx) = mailbox().expect("mailbox");
        for _ in 0..200_000 {
            assert!(tx.send(WorkerMsg::Drain));
        }
        let (_wake, inbox) = rx.into_parts();
        assert!(inbox.try_next().is_ok());
    }
}
