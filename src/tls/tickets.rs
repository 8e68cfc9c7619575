//! Session tickets every worker can open: `TicketKeys` encrypts the TLS session state a client carries back to
//! resume (ChaCha20-Poly1305), with a key derived from one secret made at start-up and the current 6-hour period.
//!
//! Owns the ticket format, `period (8 bytes, big-endian) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, with the period
//! as associated data. A ticket opens during its period and the next one, in any worker, so a client resumes
//! whichever worker `SO_REUSEPORT` hands its next connection to, and a worker never shares mutable state or a lock
//! with another thread for it (each derives the period's key itself: one HKDF expansion per ticket). Must never log
//! or print the secret, and never accept a ticket from a period other than the current or the previous one.
//!
//! Keys of past periods can be derived again while the process runs (as with a ticket key kept for the process's
//! life); a restart makes every outstanding ticket unusable, and clients fall back to a full handshake.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

use super::TlsError;

/// How long one ticket key is used to seal new tickets.
const PERIOD_SECS: u64 = 6 * 60 * 60;
/// Bytes before the ciphertext: the period and the nonce.
const HEADER: usize = 8 + NONCE_LEN;
/// The AEAD tag after the ciphertext.
const TAG: usize = 16;

/// The ticket secret, shared read-only by every worker's TLS configuration.
#[derive(Clone)]
pub struct TicketKeys {
    prk: Arc<hkdf::Prk>,
    rng: SystemRandom,
}

impl fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketKeys(..)")
    }
}

impl TicketKeys {
    /// A new random secret (one per process).
    ///
    /// # Errors
    ///
    /// [`TlsError::TicketKey`] when the system's random source fails.
    pub fn generate() -> Result<Self, TlsError> {
        let rng = SystemRandom::new();
        let mut secret = [0u8; 32];
        rng.fill(&mut secret).map_err(|_| TlsError::TicketKey)?;
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"ringress session tickets").extract(&secret);
        Ok(TicketKeys {
            prk: Arc::new(prk),
            rng,
        })
    }

    fn key(&self, period: u64) -> Option<LessSafeKey> {
        let period = period.to_be_bytes();
        let info: [&[u8]; 1] = [&period];
        let okm = self.prk.expand(&info, &CHACHA20_POLY1305).ok()?;
        Some(LessSafeKey::new(UnboundKey::from(okm)))
    }

    fn seal(&self, period: u64, plain: &[u8]) -> Option<Vec<u8>> {
        let key = self.key(period)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let aad = period.to_be_bytes();
        let mut out = Vec::with_capacity(HEADER + plain.len() + TAG);
        out.extend_from_slice(&aad);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                out.get_mut(HEADER..)?,
            )
            .ok()?;
        out.extend_from_slice(tag.as_ref());
        Some(out)
    }

    fn open(&self, now: u64, ticket: &[u8]) -> Option<Vec<u8>> {
        if ticket.len() < HEADER + TAG {
            return None;
        }
        let aad: [u8; 8] = ticket.get(..8)?.try_into().ok()?;
        let period = u64::from_be_bytes(aad);
        if period != now && period.checked_add(1) != Some(now) {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(ticket.get(8..HEADER)?).ok()?;
        let mut buf = ticket.get(HEADER..)?.to_vec();
        let len = self
            .key(period)?
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }
}

fn period_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / PERIOD_SECS)
        .unwrap_or(0)
}

impl rustls::server::ProducesTickets for TicketKeys {
    fn enabled(&self) -> bool {
        true
    }

    /// The ticket lifetime promised to clients: a ticket opens for at least one whole period.
    fn lifetime(&self) -> u32 {
        PERIOD_SECS as u32
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.seal(period_now(), plain)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.open(period_now(), cipher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::server::ProducesTickets;

    #[test]
    fn a_ticket_opens_in_any_copy_during_its_period_and_the_next() {
        let keys = TicketKeys::generate().expect("keys");
        let other_worker = keys.clone();
        let ticket = keys.encrypt(b"session state").expect("sealed");
        assert_eq!(ticket.len(), HEADER + 13 + TAG);
        assert_eq!(other_worker.decrypt(&ticket).as_deref(), Some(&b"session state"[..]));

        let sealed = keys.seal(100, b"state").expect("sealed");
        assert_eq!(keys.open(100, &sealed).as_deref(), Some(&b"state"[..]));
        assert_eq!(keys.open(101, &sealed).as_deref(), Some(&b"state"[..]));
        assert_eq!(keys.open(102, &sealed), None, "two periods later");
        assert_eq!(keys.open(99, &sealed), None, "from a future period");
    }

    #[test]
    fn foreign_altered_and_short_tickets_are_refused() {
        let keys = TicketKeys::generate().expect("keys");
        let sealed = keys.seal(7, b"state").expect("sealed");
        let stranger = TicketKeys::generate().expect("keys");
        assert_eq!(stranger.open(7, &sealed), None, "another process's secret");
        for at in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[at] ^= 0x01;
            assert_eq!(keys.open(7, &altered), None, "byte {at} altered");
        }
        for len in 0..sealed.len() {
            assert_eq!(keys.open(7, &sealed[..len]), None, "cut to {len} bytes");
        }
        assert_eq!(
            keys.open(u64::MAX, &keys.seal(u64::MAX, b"x").expect("sealed"))
                .as_deref(),
            Some(&b"x"[..])
        );
    }

    #[test]
    fn nonces_differ_between_tickets() {
        let keys = TicketKeys::generate().expect("keys");
        let a = keys.seal(1, b"same").expect("sealed");
        let b = keys.seal(1, b"same").expect("sealed");
        assert_ne!(a[8..HEADER], b[8..HEADER]);
        assert_ne!(a, b);
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let keys = TicketKeys::generate().expect("keys");
        assert_eq!(format!("{keys:?}"), "TicketKeys(..)");
    }
}
