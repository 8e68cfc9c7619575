//! `Tally`: what one request did, filled in by the forwarding path and the connection loop, read once when the
//! request ends to update the counters and write the access-log line.
//!
//! Plain data on the connection's stack, reset per request: never shared, never allocates.

/// The outcome of one request, as far as the metrics and the access log care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// The status sent (or being sent) to the client; 0 until a response is started.
    pub status: u16,
    /// The upstream's final status; 0 when no upstream answered.
    pub origin_status: u16,
    /// Bytes read from the client for this request: head and body.
    pub received: u64,
    /// Request body bytes among them.
    pub body_received: u64,
    /// Bytes written to the client: interim and final heads and the body.
    pub sent: u64,
    /// Response body bytes among them.
    pub body_sent: u64,
    /// Times the request went out again on a fresh upstream connection after a pooled one was found dead.
    pub retries: u32,
}

impl Tally {
    /// A response `status` with a `body` of this many bytes was written in `total` bytes.
    #[inline]
    pub fn responded(&mut self, status: u16, total: usize, body: usize) {
        self.status = status;
        self.sent += total as u64;
        self.body_sent += body as u64;
    }
}
