//! ringress: an edge proxy for small hosting platforms.
//!
//! Thread-per-core monoio (io_uring) workers serve HTTP/1.1 from an immutable routing snapshot that one blocking
//! control thread builds and broadcasts. The data path (`worker`, `proxy`, `http1`) never does file or control-plane
//! I/O; the control path (`control`, `config`, route-file loading) never touches a client socket.
//!
//! Module map:
//! - [`acme`]: automatic certificates: ACME HTTP-01 orders on the control thread, acme.json (Traefik layout).
//! - [`cli`]: text output of the command-line tools.
//! - [`config`]: the static configuration (Traefik's keys plus a `ringress:` section).
//! - [`route`]: route files and the compiled route table.
//! - [`rule`]: the Traefik v3 rule language: parsing, matching, priority.
//! - [`http1`]: strict HTTP/1.1 head parsing, chunked framing and head rewriting.
//! - [`provider`]: the HTTP provider: polling the control plane, decoding Traefik dynamic JSON.
//! - [`proxy`]: forwarding one exchange to an upstream, the per-worker upstream pool.
//! - [`worker`]: the per-core runtimes, listeners and connection lifecycle.
//! - [`balance`]: per-worker server choice: smooth weighted round-robin, active and passive health.
//! - [`health`]: active health checks of upstream servers, on their own threads beside the control thread.
//! - [`control`]: the control thread: routes, ACME steps, snapshots, certificates and challenges to the workers.
//! - [`observe`]: per-worker counters, their Prometheus rendering, and the access log.
//! - [`notify`]: the systemd readiness protocol (`READY=1`, `STOPPING=1` on `$NOTIFY_SOCKET`).
//! - [`challenge`]: the ACME HTTP-01 answers workers serve, and their receipts.
//! - [`civil`]: days since 1970 to calendar dates, for every timestamp ringress prints.
//! - [`tls`]: TLS termination: per-worker rustls configuration, SNI certificate map, the TLS stream.

pub mod acme;
pub mod balance;
pub mod challenge;
pub mod civil;
pub mod cli;
pub mod config;
pub mod control;
pub mod health;
pub mod http1;
pub mod logging;
pub mod notify;
pub mod observe;
pub mod provider;
pub mod proxy;
pub mod route;
pub mod rule;
pub mod snapshot;
pub mod tls;
pub mod worker;
