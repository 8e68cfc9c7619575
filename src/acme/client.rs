//! Blocking ACME operations for one certificate order, each a short step a control-thread state machine can take per
//! tick: open an account, start an order (HTTP-01 tokens), tell the CA to validate, poll once, finalize, fetch.
//!
//! Owns the instant-acme call sequence (RFC 8555 over [`UreqClient`], driven by [`block_on`]). Each function makes a
//! few requests and returns; none sleeps or waits for the CA to change state. Must never: run on a worker, start a
//! tokio runtime, call `Order::poll_ready` or `Order::poll_certificate`, or put the account key, the credentials JSON
//! or a certificate private key into an error or log line (key authorizations are public by design: the CA fetches
//! them over plain HTTP).

use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, CertificateIdentifier, ChallengeType, Identifier, NewAccount,
    NewOrder, Order, OrderStatus,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::block_on::block_on;
use super::http::{RootCaError, UreqClient};

/// Where the CA is and how to reach it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The ACME directory URL (`https://acme-v02.api.letsencrypt.org/directory`).
    pub directory_url: String,
    /// A root CA PEM that replaces the web PKI roots (pebble's or a private CA's).
    pub root_pem: Option<Vec<u8>>,
    /// Budget for each HTTP request to the CA.
    pub timeout: Duration,
}

impl ClientConfig {
    pub fn new(directory_url: &str) -> ClientConfig {
        ClientConfig {
            directory_url: directory_url.to_string(),
            root_pem: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// The HTTP client for this CA.
    pub fn http(&self) -> Result<UreqClient, AcmeError> {
        Ok(UreqClient::new(self.root_pem.as_deref(), self.timeout)?)
    }
}

/// A failed ACME step, with what it was doing and for which names.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error(transparent)]
    RootCa(#[from] RootCaError),
    #[error("stored ACME account credentials are not valid: {0}")]
    Credentials(serde_json::Error),
    #[error("stored ACME account belongs to {stored}, not {configured}")]
    OtherDirectory { stored: String, configured: String },
    #[error("ACME account at {directory}: {source}")]
    Account {
        directory: String,
        source: instant_acme::Error,
    },
    #[error("ACME order {order}: {step}: {source}")]
    Order {
        order: String,
        step: &'static str,
        source: instant_acme::Error,
    },
    #[error("ACME order for {names}: {identifier} offers no HTTP-01 challenge")]
    NoHttp01 { names: String, identifier: String },
    #[error("ACME order for {names}: authorization for {identifier} is {status}")]
    Authorization {
        names: String,
        identifier: String,
        status: String,
    },
    #[error("ACME order for {names}: no names given")]
    NoNames { names: String },
}

/// An account ready to order, and the credentials to store when they are new.
pub struct OpenedAccount {
    pub account: Account,
    /// instant-acme credentials JSON, present when the account was just registered or converted (store it).
    pub new_credentials: Option<serde_json::Value>,
}

/// Restores the account from stored instant-acme credentials (one directory fetch, no account request).
pub fn restore_account(config: &ClientConfig, credentials: &serde_json::Value) -> Result<Account, AcmeError> {
    if let Some(stored) = credentials.get("directory").and_then(|d| d.as_str()) {
        if stored != config.directory_url {
            return Err(AcmeError::OtherDirectory {
                stored: stored.to_string(),
                configured: config.directory_url.clone(),
            });
        }
    }
    let creds: AccountCredentials = serde_json::from_value(credentials.clone()).map_err(AcmeError::Credentials)?;
    block_on(Account::builder_with_http(Box::new(config.http()?)).from_credentials(creds)).map_err(|source| {
        AcmeError::Account {
            directory: config.directory_url.clone(),
            source,
        }
    })
}

/// Registers a new account (P-256 key, terms of service agreed); `contact` like `mailto:ops@example.com`.
pub fn register_account(config: &ClientConfig, contact: &[&str]) -> Result<OpenedAccount, AcmeError> {
    let new = NewAccount {
        contact,
        terms_of_service_agreed: true,
        only_return_existing: false,
    };
    let builder = Account::builder_with_http(Box::new(config.http()?));
    let (account, creds) =
        block_on(builder.create(&new, config.directory_url.clone(), None)).map_err(|source| AcmeError::Account {
            directory: config.directory_url.clone(),
            source,
        })?;
    Ok(OpenedAccount {
        account,
        new_credentials: Some(credentials_json(creds)?),
    })
}

/// Finds the existing account for a reused key (see [`super::traefik_key`]); fails if the CA has no such account.
pub fn account_from_key(config: &ClientConfig, key: PrivatePkcs8KeyDer<'static>) -> Result<OpenedAccount, AcmeError> {
    let account_err = |source| AcmeError::Account {
        directory: config.directory_url.clone(),
        source,
    };
    let signer = instant_acme::Key::from_pkcs8_der(key.clone_key()).map_err(account_err)?;
    let builder = Account::builder_with_http(Box::new(config.http()?));
    let (account, creds) =
        block_on(builder.from_key((signer, PrivateKeyDer::Pkcs8(key)), config.directory_url.clone()))
            .map_err(account_err)?;
    Ok(OpenedAccount {
        account,
        new_credentials: Some(credentials_json(creds)?),
    })
}

/// The stored credentials if usable for this directory, else a newly registered account.
pub fn open_account(
    config: &ClientConfig,
    stored: Option<&serde_json::Value>,
    contact: &[&str],
) -> Result<OpenedAccount, AcmeError> {
    if let Some(creds) = stored {
        match restore_account(config, creds) {
            Ok(account) => {
                return Ok(OpenedAccount {
                    account,
                    new_credentials: None,
                })
            }
            Err(AcmeError::OtherDirectory { .. } | AcmeError::Credentials(_)) => {}
            Err(e) => return Err(e),
        }
    }
    register_account(config, contact)
}

fn credentials_json(creds: AccountCredentials) -> Result<serde_json::Value, AcmeError> {
    serde_json::to_value(&creds).map_err(AcmeError::Credentials)
}

/// One HTTP-01 challenge to publish: `GET /.well-known/acme-challenge/<token>` on `identifier` answers
/// `key_authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http01 {
    pub identifier: String,
    pub token: String,
    pub key_authorization: String,
}

/// An order whose challenges are known but not yet confirmed to the CA.
pub struct PendingOrder {
    pub order: Order,
    /// The names, main first.
    pub names: Vec<String>,
    /// Challenges to publish (empty for authorizations the CA already holds as valid).
    pub challenges: Vec<Http01>,
}

/// Creates an order for `names` (main first) and collects the HTTP-01 challenges of its pending authorizations.
/// `replaces` names the certificate it renews (ARI; only for a CA whose directory offers `renewalInfo`).
pub fn start_order(
    account: &Account,
    names: &[String],
    replaces: Option<CertificateIdentifier<'static>>,
) -> Result<PendingOrder, AcmeError> {
    let label = names.join(",");
    if names.is_empty() {
        return Err(AcmeError::NoNames { names: label });
    }
    let ids: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let order_err = |step, source| AcmeError::Order {
        order: label.clone(),
        step,
        source,
    };
    let new_order = match replaces {
        Some(id) => NewOrder::new(&ids).replaces(id),
        None => NewOrder::new(&ids),
    };
    let mut order = block_on(account.new_order(&new_order)).map_err(|e| order_err("new order", e))?;
    let mut challenges = Vec::new();
    {
        let mut authzs = order.authorizations();
        while let Some(authz) = block_on(authzs.next()) {
            let mut authz = authz.map_err(|e| order_err("fetch authorization", e))?;
            let identifier = authz.identifier().to_string();
            match authz.status {
                AuthorizationStatus::Valid => continue,
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(AcmeError::Authorization {
                        names: label.clone(),
                        identifier,
                        status: format!("{other:?}"),
                    })
                }
            }
            let challenge = authz
                .challenge(ChallengeType::Http01)
                .ok_or_else(|| AcmeError::NoHttp01 {
                    names: label.clone(),
                    identifier: identifier.clone(),
                })?;
            challenges.push(Http01 {
                identifier,
                token: challenge.token.clone(),
                key_authorization: challenge.key_authorization().as_str().to_string(),
            });
        }
    }
    Ok(PendingOrder {
        order,
        names: names.to_vec(),
        challenges,
    })
}

/// Tells the CA to validate every pending HTTP-01 challenge. Call only once every worker serves the tokens.
pub fn set_ready(pending: &mut PendingOrder) -> Result<(), AcmeError> {
    let label = pending.names.join(",");
    let order_err = |step, source| AcmeError::Order {
        order: label.clone(),
        step,
        source,
    };
    let mut authzs = pending.order.authorizations();
    while let Some(authz) = block_on(authzs.next()) {
        let mut authz = authz.map_err(|e| order_err("fetch authorization", e))?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        let identifier = authz.identifier().to_string();
        let mut challenge = authz
            .challenge(ChallengeType::Http01)
            .ok_or_else(|| AcmeError::NoHttp01 {
                names: label.clone(),
                identifier,
            })?;
        block_on(challenge.set_ready()).map_err(|e| order_err("set challenge ready", e))?;
    }
    Ok(())
}

/// Where an order stands after one [`poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStep {
    /// The CA is still validating: poll again on a later tick.
    Pending,
    /// Validated: call [`finalize`].
    Ready,
    /// Finalized, certificate not yet issued: call [`fetch_certificate`] on a later tick.
    Processing,
    /// Issued: call [`fetch_certificate`].
    Valid,
    /// Failed for good; the CA's problem detail (one line, no secrets).
    Invalid(String),
}

/// One `refresh` of the order (a single request).
pub fn poll(order: &mut Order) -> Result<OrderStep, AcmeError> {
    let url = order.url().to_string();
    let state = block_on(order.refresh()).map_err(|source| AcmeError::Order {
        order: url,
        step: "refresh order",
        source,
    })?;
    Ok(match state.status {
        OrderStatus::Pending => OrderStep::Pending,
        OrderStatus::Ready => OrderStep::Ready,
        OrderStatus::Processing => OrderStep::Processing,
        OrderStatus::Valid => OrderStep::Valid,
        OrderStatus::Invalid => OrderStep::Invalid(match &state.error {
            Some(problem) => problem.to_string(),
            None => "order is invalid".to_string(),
        }),
    })
}

/// Generates a P-256 key and a CSR for the order's names, submits it, and returns the key as PEM.
pub fn finalize(order: &mut Order) -> Result<String, AcmeError> {
    block_on(order.finalize()).map_err(|source| AcmeError::Order {
        order: order_names(order),
        step: "finalize",
        source,
    })
}

/// The issued PEM chain (leaf first), or `None` while the CA is still processing (one or two requests).
pub fn fetch_certificate(order: &mut Order) -> Result<Option<String>, AcmeError> {
    block_on(order.certificate()).map_err(|source| AcmeError::Order {
        order: order_names(order),
        step: "download certificate",
        source,
    })
}

/// The order's URL, for error context (its names would need a request).
fn order_names(order: &Order) -> String {
    order.url().to_string()
}
