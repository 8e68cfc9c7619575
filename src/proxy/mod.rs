//! Forwarding: one request/response exchange with an upstream, the per-worker upstream pool, tunnels after an
//! upgrade, and the locally generated responses (404, 502, 504, 4xx for malformed requests).
//!
//! Runs on a worker's runtime only. Must never block, never read files, never talk to the control plane, and never
//! buffer a whole body: bodies move through the connection's reused buffers.

pub mod bufpool;
pub mod client;
pub mod dial;
pub mod forward;
pub mod io;
pub mod pool;
pub mod respond;
pub mod stream;
pub mod tunnel;

pub use bufpool::{BufPool, Pooled};
pub use client::{Client, Stream};
pub use forward::{forward, Exchange, Outcome};
pub use pool::Pool;
pub use stream::{ClientStream, Split};
