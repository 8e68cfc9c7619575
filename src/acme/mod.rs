//! ACME building blocks: the acme.json store, certificate inspection and a blocking ACME client.
//!
//! Owns everything between the certificate authority and the disk: [`store`] (Traefik's `acme.json` layout, read
//! strictly and written atomically with mode 0600), [`inspect`] (validity window, issuer, serial and names of a stored
//! chain, and the "renew at one third of the lifetime" rule), [`client`] (account, order, challenge, finalize and
//! download, one short blocking step per call) over [`http`] (an `instant_acme::HttpClient` on blocking ureq) driven
//! by [`block_on`].
//!
//! Runs on the control thread only. Must never: run on a worker, start a tokio runtime, call `Order::poll_ready` or
//! `Order::poll_certificate` (they sleep through tokio and panic without a runtime), sleep for long inside a step, or
//! put a private key or account credentials into a log line, an error or `Debug` output.
//!
//! One issuance, as a control-thread state machine advances it (one step per tick, nothing waits inside):
//!
//! ```text
//! open_account(..)            -> Account (+ credentials JSON to store when newly registered)
//! start_order(account, names) -> PendingOrder { order, challenges: [(token, key authorization)] }
//!   publish the tokens to every worker, then:
//! set_ready(&mut pending)     -> the CA starts validating
//! poll(&mut order)            -> Pending | Ready | Processing | Valid | Invalid   (repeat on later ticks)
//! finalize(&mut order)        -> private key PEM (P-256, CSR by rcgen)
//! fetch_certificate(&mut order) -> None (still processing) | Some(chain PEM)     (repeat on later ticks)
//! store: upsert the certificate, AcmeFile::save (atomic)
//! ```
//!
//! Files: `store.rs` (layout and load/save policy), `atomic.rs` (temp file, fsync, rename), `inspect.rs` (x509),
//! `traefik_key.rs` (whether a Traefik account key can be reused), `http.rs`, `block_on.rs`, `client.rs`.

pub mod atomic;
pub mod block_on;
pub mod client;
pub mod http;
pub mod inspect;
pub mod store;
pub mod traefik_key;

#[cfg(test)]
mod tests_store;
