//! One certificate issuance in flight: the stages it passes through and the one step each call takes.
//!
//! ```text
//! Probe    publish a probe token; once every worker serves it, GET http://<name>/.well-known/acme-challenge/<probe>
//!          for every name (fails: "<name> does not reach this proxy: …", no validation spent)
//! Order    open the account if needed, create the order, publish its HTTP-01 tokens
//! Publish  once every worker serves the tokens, tell the CA to validate
//! Validate poll the order; ready → finalize (new P-256 key, CSR)
//! Issue    poll for the certificate chain → done
//! ```
//!
//! Owns the stage transitions and their timing (when to look again). Must never: wait inside a step (a step makes
//! at most a few bounded requests and returns), tell the CA to validate before the workers serve the tokens, or put
//! a private key into a log line or an error.

use std::time::{Duration, Instant};

use instant_acme::{CertificateIdentifier, Order};

use super::client::{self, OrderStep, PendingOrder};

/// How long a job may take from start to certificate before it counts as failed.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long the workers may take to pick up published tokens.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a job waiting on the workers looks again.
const RECEIPT_POLL: Duration = Duration::from_millis(50);
/// How often an order is polled while the CA validates or issues.
const ORDER_POLL: Duration = Duration::from_millis(500);

/// Where a job stands.
pub enum Stage {
    /// Check reachability with a probe token (published as `version`).
    Probe {
        token: String,
        answer: String,
        version: u64,
        since: Instant,
    },
    /// Create the order.
    Order,
    /// The order's tokens are published as `version`; waiting for the workers before telling the CA.
    Publish {
        pending: Box<PendingOrder>,
        version: u64,
        since: Instant,
    },
    /// The CA is validating.
    Validate { order: Box<Order> },
    /// Finalized; waiting for the chain. The key is the certificate's private key (PEM).
    Issue { order: Box<Order>, key_pem: String },
}

impl Stage {
    /// A short name for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Probe { .. } => "checking reachability",
            Stage::Order => "ordering",
            Stage::Publish { .. } => "publishing challenges",
            Stage::Validate { .. } => "validating",
            Stage::Issue { .. } => "issuing",
        }
    }
}

/// One issuance.
pub struct Job {
    /// Index of the resolver it belongs to.
    pub resolver: usize,
    /// The certificate's names, main first.
    pub names: Vec<String>,
    pub stage: Stage,
    /// When it started (for [`JOB_TIMEOUT`]).
    pub started: Instant,
    /// Do nothing before this.
    pub next: Instant,
    /// True when it replaces a certificate that is due for renewal.
    pub renewal: bool,
    /// Tokens it has published (withdrawn when it ends).
    pub published: Vec<String>,
    /// The certificate this order replaces (ARI), when the CA offers ARI.
    pub replaces: Option<CertificateIdentifier<'static>>,
}

/// What the manager must do after a step.
pub enum Advance {
    /// Nothing more (the job is waiting or moved on).
    Continue,
    /// Publish these tokens (token, key authorization) and record the new version in the stage.
    PublishTokens(Vec<(String, String)>),
    /// Done: the chain and the key, PEM.
    Issued { chain_pem: String, key_pem: String },
    /// Failed; `validation` is true when the CA spent validations on it.
    Failed { reason: String, validation: bool },
}

impl Job {
    /// The certificate's first name.
    pub fn main(&self) -> &str {
        self.names.first().map(String::as_str).unwrap_or_default()
    }

    /// Names joined for messages.
    pub fn label(&self) -> String {
        self.names.join(", ")
    }

    /// Waits on the workers: `Some(advance)` to return now, `None` when every worker serves `version`.
    pub fn wait_for_receipts(&mut self, served: bool, since: Instant, now: Instant) -> Option<Advance> {
        if served {
            return None;
        }
        if now.duration_since(since) > PUBLISH_TIMEOUT {
            return Some(Advance::Failed {
                reason: "the workers did not pick up the challenge tokens in time".into(),
                validation: false,
            });
        }
        self.next = now + RECEIPT_POLL;
        Some(Advance::Continue)
    }

    /// Tells the CA to validate (the tokens are served everywhere).
    pub fn confirm(&mut self, now: Instant) -> Advance {
        let Stage::Publish { pending, .. } = std::mem::replace(&mut self.stage, Stage::Order) else {
            return Advance::Continue;
        };
        let mut pending = pending;
        if let Err(e) = client::set_ready(&mut pending) {
            return failed(e.to_string(), false);
        }
        self.stage = Stage::Validate {
            order: Box::new(pending.order),
        };
        self.next = now + ORDER_POLL;
        Advance::Continue
    }

    /// Polls a validating order; finalizes once ready.
    pub fn validate(&mut self, now: Instant) -> Advance {
        let Stage::Validate { order } = &mut self.stage else {
            return Advance::Continue;
        };
        match client::poll(order) {
            Err(e) => failed(e.to_string(), false),
            Ok(OrderStep::Pending) => {
                self.next = now + ORDER_POLL;
                Advance::Continue
            }
            Ok(OrderStep::Ready) => match client::finalize(order) {
                Err(e) => failed(e.to_string(), false),
                Ok(key_pem) => {
                    let Stage::Validate { order } = std::mem::replace(&mut self.stage, Stage::Order) else {
                        return Advance::Continue;
                    };
                    self.stage = Stage::Issue { order, key_pem };
                    self.next = now + ORDER_POLL;
                    Advance::Continue
                }
            },
            Ok(OrderStep::Processing | OrderStep::Valid) => failed(
                "the CA moved the order past validation before it was finalized".into(),
                false,
            ),
            Ok(OrderStep::Invalid(why)) => failed(format!("the CA refused validation: {why}"), true),
        }
    }

    /// Polls for the issued chain.
    pub fn issue(&mut self, now: Instant) -> Advance {
        let Stage::Issue { order, key_pem } = &mut self.stage else {
            return Advance::Continue;
        };
        match client::fetch_certificate(order) {
            Err(e) => failed(e.to_string(), false),
            Ok(None) => {
                self.next = now + ORDER_POLL;
                Advance::Continue
            }
            Ok(Some(chain_pem)) => Advance::Issued {
                chain_pem,
                key_pem: std::mem::take(key_pem),
            },
        }
    }

    /// Moves on from a created order: publish its tokens, or go straight to validation when the CA already holds
    /// valid authorizations for every name.
    pub fn ordered(&mut self, pending: PendingOrder, now: Instant) -> Advance {
        if pending.challenges.is_empty() {
            self.stage = Stage::Validate {
                order: Box::new(pending.order),
            };
            self.next = now;
            return Advance::Continue;
        }
        let tokens = pending
            .challenges
            .iter()
            .map(|c| (c.token.clone(), c.key_authorization.clone()))
            .collect();
        self.stage = Stage::Publish {
            pending: Box::new(pending),
            version: 0,
            since: now,
        };
        self.next = now;
        Advance::PublishTokens(tokens)
    }

    /// Records the challenge version the job's tokens went out with.
    pub fn set_version(&mut self, published: u64) {
        match &mut self.stage {
            Stage::Probe { version, .. } | Stage::Publish { version, .. } => *version = published,
            _ => {}
        }
    }
}

fn failed(reason: String, validation: bool) -> Advance {
    Advance::Failed { reason, validation }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        let now = Instant::now();
        Job {
            resolver: 0,
            names: vec!["a.test".into(), "b.test".into()],
            stage: Stage::Order,
            started: now,
            next: now,
            renewal: false,
            published: Vec::new(),
            replaces: None,
        }
    }

    #[test]
    fn waits_for_every_worker_then_gives_up() {
        let mut j = job();
        let since = Instant::now();
        assert!(j.wait_for_receipts(true, since, since).is_none(), "served: go on");
        assert!(matches!(
            j.wait_for_receipts(false, since, since),
            Some(Advance::Continue)
        ));
        assert!(j.next > since, "looks again later");
        let late = since + PUBLISH_TIMEOUT + Duration::from_millis(1);
        match j.wait_for_receipts(false, since, late) {
            Some(Advance::Failed { validation, reason }) => {
                assert!(!validation, "no validation was spent");
                assert!(reason.contains("workers"), "{reason}");
            }
            _ => panic!("expected a failure after the publish timeout"),
        }
        assert_eq!(j.main(), "a.test");
        assert_eq!(j.label(), "a.test, b.test");
    }
}
