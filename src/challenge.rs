//! ACME HTTP-01 answers as the workers serve them, and each worker's receipt of them.
//!
//! The control thread builds a [`Challenges`] set (token → key authorization, plus a version number), sends every
//! worker its own copy, and waits until [`Receipts`] shows that every worker has applied that version before it
//! asks the CA to validate. Workers answer `GET /.well-known/acme-challenge/<token>` from their copy.
//!
//! Owns the set and the receipts. Must never: hold anything secret (key authorizations are public by design: the CA
//! fetches them over plain HTTP), or make a worker wait for the control thread (a receipt is one atomic store).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The request path prefix of HTTP-01 challenges.
pub const PATH_PREFIX: &[u8] = b"/.well-known/acme-challenge/";

/// Tokens and their key authorizations, as of one version.
#[derive(Debug, Clone, Default)]
pub struct Challenges {
    /// Increases with every set the control thread publishes.
    pub version: u64,
    answers: HashMap<Box<[u8]>, Box<str>>,
}

impl Challenges {
    /// A set of `answers` (token, key authorization) at `version`.
    pub fn new<'a>(version: u64, answers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Challenges {
        Challenges {
            version,
            answers: answers
                .into_iter()
                .map(|(token, answer)| (Box::from(token.as_bytes()), Box::from(answer)))
                .collect(),
        }
    }

    /// The key authorization for a request path, if it is a challenge path with a known token.
    pub fn answer(&self, path: &[u8]) -> Option<&str> {
        if self.answers.is_empty() {
            return None;
        }
        let token = path.strip_prefix(PATH_PREFIX)?;
        self.answers.get(token).map(|a| &**a)
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// True without tokens.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

/// Which challenge version each worker serves (written by the worker, read by the control thread).
#[derive(Debug)]
pub struct Receipts {
    applied: Box<[AtomicU64]>,
}

impl Receipts {
    /// Receipts for `workers` workers, all at version 0.
    pub fn new(workers: usize) -> Receipts {
        Receipts {
            applied: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Worker `id` now serves `version`.
    pub fn record(&self, id: usize, version: u64) {
        if let Some(slot) = self.applied.get(id) {
            slot.store(version, Ordering::Release);
        }
    }

    /// True once every worker serves `version` or a later one.
    pub fn all_at_least(&self, version: u64) -> bool {
        self.applied.iter().all(|a| a.load(Ordering::Acquire) >= version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_known_tokens_on_the_challenge_path_only() {
        let set = Challenges::new(3, [("tok-1", "tok-1.thumb"), ("tok-2", "tok-2.thumb")]);
        assert_eq!(set.answer(b"/.well-known/acme-challenge/tok-1"), Some("tok-1.thumb"));
        assert_eq!(set.answer(b"/.well-known/acme-challenge/tok-2"), Some("tok-2.thumb"));
        assert_eq!(set.answer(b"/.well-known/acme-challenge/tok-3"), None);
        assert_eq!(set.answer(b"/.well-known/acme-challenge/"), None);
        assert_eq!(set.answer(b"/tok-1"), None);
        assert_eq!(set.answer(b"/.well-known/acme-challenge/tok-1/x"), None);
        assert_eq!(Challenges::default().answer(b"/.well-known/acme-challenge/tok-1"), None);
    }

    #[test]
    fn receipts_wait_for_every_worker() {
        let r = Receipts::new(3);
        assert!(r.all_at_least(0));
        r.record(0, 2);
        r.record(1, 2);
        assert!(!r.all_at_least(2));
        r.record(2, 3);
        assert!(r.all_at_least(2));
        assert!(!r.all_at_least(3));
        r.record(9, 5);
        assert!(!r.all_at_least(3));
    }
}
