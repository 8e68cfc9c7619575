//! What the admin API, the dashboard and the metrics show about the control thread's work: provider health (last
//! success, last error, consecutive failures, table age), route files, table reloads, certificates and ACME orders.
//!
//! Written only by the control thread, once per poll; read by the admin endpoint with `try_lock`, so a reader
//! never waits on the writer (it retries after yielding instead). Never holds secrets: error texts come from
//! `provider` errors, which never include the token or header values.

use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, SystemTime};

/// What the admin API reports about one provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderStatus {
    /// The endpoint, without credentials or query string.
    pub endpoint: String,
    /// The poll interval.
    pub poll_interval: Duration,
    /// When a poll last succeeded (a 200 with a decodable body).
    pub last_success: Option<SystemTime>,
    /// When a poll was last attempted.
    pub last_attempt: Option<SystemTime>,
    /// The last failure's text and time, cleared by a success.
    pub last_error: Option<(SystemTime, String)>,
    /// Failed polls since the last success.
    pub consecutive_failures: u64,
    /// Failed polls since start-up.
    pub total_failures: u64,
    /// When the provider's configuration last changed the table.
    pub last_change: Option<SystemTime>,
    /// Routers the provider's last good configuration declared (enabled or not).
    pub routers: usize,
}

/// What the admin API reports about route files.
#[derive(Debug, Clone, Default)]
pub struct FilesStatus {
    /// The configured path.
    pub path: String,
    /// Routers loaded from the files.
    pub routers: usize,
    /// Problems found in the files (one line each).
    pub errors: Vec<String>,
}

/// One stored certificate, or a name still without one, as the admin API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertStatus {
    /// The resolver it belongs to.
    pub resolver: String,
    /// The main name.
    pub domain: String,
    /// Every name it covers (main first); empty while none is issued.
    pub names: Vec<String>,
    /// The issuer's common name (empty without a certificate).
    pub issuer: String,
    /// End of validity (`None` without a certificate).
    pub not_after: Option<SystemTime>,
    /// `ok`, `renewing`, `expired`, `ordering`, or `failing until <time>: <reason>`.
    pub status: String,
}

/// ACME totals since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcmeCounts {
    /// Orders started.
    pub orders: u64,
    /// Orders that failed (pre-check, CA refusal, timeouts).
    pub failures: u64,
    /// Certificates issued and stored.
    pub issued: u64,
}

/// Both sources' status, shared between the control thread (writer) and the workers' admin endpoint (readers).
#[derive(Debug, Default)]
pub struct StatusBoard {
    inner: Mutex<Board>,
}

/// A copy of the board.
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// The HTTP provider, when configured.
    pub http: Option<ProviderStatus>,
    /// Route files, when configured.
    pub files: Option<FilesStatus>,
    /// Route tables published since start-up.
    pub reloads: u64,
    /// When the last route table was published.
    pub last_reload: Option<SystemTime>,
    /// Every certificate the ACME resolvers hold or are after, sorted by resolver and domain.
    pub certs: Vec<CertStatus>,
    /// ACME totals.
    pub acme: AcmeCounts,
    /// Every actively health-checked server, sorted by service and URL.
    pub servers: Vec<ServerHealth>,
}

/// The last active health-check result of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHealth {
    /// Qualified service name.
    pub service: String,
    /// The server URL as written.
    pub url: String,
    /// Whether the last check passed.
    pub up: bool,
}

impl StatusBoard {
    /// A shared, empty board.
    pub fn new() -> Arc<Self> {
        Arc::new(StatusBoard::default())
    }

    /// Applies `f` to the board (control thread only).
    pub fn update(&self, f: impl FnOnce(&mut Board)) {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard);
    }

    /// A copy of the board if it is not being written right now; `None` means "try again shortly".
    pub fn try_read(&self) -> Option<Board> {
        match self.inner.try_lock() {
            Ok(g) => Some(g.clone()),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner().clone()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

impl Board {
    /// The `/api/providers` document at time `now`.
    pub fn render(&self, now: SystemTime) -> String {
        use serde_json::json;
        let time = |t: Option<SystemTime>| t.map(rfc3339);
        let http = self.http.as_ref().map(|h| {
            json!({
                "endpoint": h.endpoint,
                "pollInterval": format!("{}s", h.poll_interval.as_secs_f64()),
                "lastSuccess": time(h.last_success),
                "lastAttempt": time(h.last_attempt),
                "lastError": h.last_error.as_ref().map(|(_, e)| e.clone()),
                "lastErrorAt": time(h.last_error.as_ref().map(|(t, _)| *t)),
                "consecutiveFailures": h.consecutive_failures,
                "lastChange": time(h.last_change),
                "tableAgeSeconds": h.last_success.map(|t| now.duration_since(t).map(|d| d.as_secs_f64()).unwrap_or(0.0)),
                "routers": h.routers,
            })
        });
        let files = self
            .files
            .as_ref()
            .map(|f| json!({ "path": f.path, "routers": f.routers, "errors": f.errors }));
        json!({ "http": http, "routes": files }).to_string()
    }
}

impl Board {
    /// The `/api/certificates` document at time `now`: every certificate with its days left and status, the ACME
    /// totals, and how often the route table was reloaded.
    pub fn render_certificates(&self, now: SystemTime) -> String {
        use serde_json::json;
        let certs: Vec<serde_json::Value> = self
            .certs
            .iter()
            .map(|c| {
                let days_left = c.not_after.map(|t| match t.duration_since(now) {
                    Ok(left) => (left.as_secs() / 86_400) as i64,
                    Err(past) => -(past.duration().as_secs().div_ceil(86_400) as i64),
                });
                json!({
                    "resolver": c.resolver,
                    "domain": c.domain,
                    "names": c.names,
                    "issuer": c.issuer,
                    "notAfter": c.not_after.map(rfc3339),
                    "daysLeft": days_left,
                    "status": c.status,
                })
            })
            .collect();
        json!({
            "certificates": certs,
            "acme": { "orders": self.acme.orders, "failures": self.acme.failures, "issued": self.acme.issued },
            "reloads": self.reloads,
            "lastReload": self.last_reload.map(rfc3339),
        })
        .to_string()
    }
}

fn rfc3339(t: SystemTime) -> String {
    let mut s = String::with_capacity(20);
    crate::logging::push_utc_timestamp(&mut s, t);
    s
}
