//! `certificatesResolvers`: ACME accounts and how their challenges are answered.
//!
//! Owns the checks on each ACME resolver and its link to the entrypoints (the HTTP-01
//! challenge entrypoint must exist). Never reads or creates the storage file and never
//! contacts the CA.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::ConfigError;
use super::model::{Acme, CertResolver, EntryPoint, ACME_KEY_TYPES};
use super::raw::{Named, RawAcme, RawResolver, Text};
use super::validate::{check_url, Checker};

/// Builds every resolver that has an `acme` section; others are dropped with a warning.
pub(super) fn build_all(
    checker: &mut Checker<'_>,
    raw: Named<Option<RawResolver>>,
    entry_points: &[EntryPoint],
) -> Result<BTreeMap<String, CertResolver>, ConfigError> {
    let mut resolvers = BTreeMap::new();
    for (name, raw_resolver) in raw.0 {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(checker.invalid(
                "certificatesResolvers",
                format!("invalid resolver name {name:?}: must be non-empty text"),
            ));
        }
        let key = format!("certificatesResolvers.{name}");
        let Some(raw_acme) = raw_resolver.and_then(|resolver| resolver.acme) else {
            checker.warn(format!(
                "`{key}`: no `acme` section; ringress only runs ACME resolvers (ignored)"
            ));
            continue;
        };
        let acme = acme(checker, &format!("{key}.acme"), raw_acme, entry_points)?;
        resolvers.insert(name.clone(), CertResolver { name, acme });
    }
    Ok(resolvers)
}

fn acme(checker: &mut Checker<'_>, key: &str, raw: RawAcme, entry_points: &[EntryPoint]) -> Result<Acme, ConfigError> {
    let defaults = Acme::default();
    let email = match raw.email.as_ref().map(|Text(text)| text.trim()) {
        None | Some("") => None,
        Some(email) if is_plausible_email(email) => Some(email.to_owned()),
        Some(email) => return Err(checker.invalid(&format!("{key}.email"), format!("invalid email address {email:?}"))),
    };
    let storage = match &raw.storage {
        None => defaults.storage,
        Some(text) => PathBuf::from(checker.required(&format!("{key}.storage"), Some(text))?),
    };
    let ca_server = match &raw.ca_server {
        None => defaults.ca_server,
        Some(text) => {
            let ca_key = format!("{key}.caServer");
            let url = checker.required(&ca_key, Some(text))?;
            check_url(url, &["https://"]).map_err(|reason| checker.invalid(&ca_key, reason))?;
            url.to_owned()
        }
    };
    let key_type = match &raw.key_type {
        None => defaults.key_type,
        Some(Text(text)) => {
            let upper = text.trim().to_ascii_uppercase();
            if !ACME_KEY_TYPES.contains(&upper.as_str()) {
                return Err(checker.invalid(
                    &format!("{key}.keyType"),
                    format!("unknown key type {text:?} (use {})", ACME_KEY_TYPES.join(", ")),
                ));
            }
            upper
        }
    };
    let http_challenge_entry_point = match raw.http_challenge {
        Some(challenge) => {
            let ep_key = format!("{key}.httpChallenge.entryPoint");
            let name = checker.required(&ep_key, challenge.entry_point.as_ref())?;
            let Some(ep) = entry_points.iter().find(|ep| ep.name == name) else {
                let known: Vec<&str> = entry_points.iter().map(|ep| ep.name.as_str()).collect();
                return Err(checker.invalid(
                    &ep_key,
                    format!("unknown entrypoint `{name}` (defined: {})", known.join(", ")),
                ));
            };
            if ep.address.port() != 80 {
                checker.warn(format!(
                    "`{ep_key}`: entrypoint `{name}` listens on port {}; ACME servers check HTTP-01 on port 80, so traffic to port 80 must reach it",
                    ep.address.port()
                ));
            }
            Some(name.to_owned())
        }
        None => {
            checker.warn(format!(
                "`{key}`: no `httpChallenge`; HTTP-01 is the only challenge ringress answers, so this resolver cannot obtain certificates"
            ));
            None
        }
    };
    Ok(Acme {
        email,
        storage,
        ca_server,
        http_challenge_entry_point,
        key_type,
    })
}

/// `local@domain` with no spaces: enough to catch a value in the wrong key.
fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}
