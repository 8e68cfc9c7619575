//! [`Passive`]: one worker's verdict on one server from the requests it sent there.
//!
//! A failed connect takes the server out of rotation at once (nothing answered); a reset or a connection closed
//! before any response byte does so after [`RESET_THRESHOLD`] in a row. The server then cools down for
//! [`FIRST_COOLDOWN`], or [`TIMEOUT_COOLDOWN`] after a connect that timed out (trying such a server again costs the
//! request that does it a whole dial timeout); once that has passed, the next request tries it again, and a further failure doubles the
//! cooldown up to [`MAX_COOLDOWN`]. Any answer (whatever its status) to an attempt started after the server was
//! taken out clears the verdict. Pure state: no clock reads,
//! no I/O; the caller passes `now`.

use std::time::{Duration, Instant};

/// Cooldown after the first failure that takes a server out.
pub const FIRST_COOLDOWN: Duration = Duration::from_secs(1);
/// Cooldown after a connect timeout takes a server out.
pub const TIMEOUT_COOLDOWN: Duration = Duration::from_secs(10);
/// The longest cooldown, reached after repeated failures.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(30);
/// Consecutive resets (or empty answers) that take a server out.
pub const RESET_THRESHOLD: u32 = 2;

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be opened (refused, unreachable): known at once.
    Connect,
    /// The connect timed out.
    Timeout,
    /// The connection broke before any response byte (reset, closed).
    Reset,
}

/// The outcome of recording a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Below the threshold: still in rotation.
    Counted,
    /// Out of rotation for `cooldown`; `was_up` when this failure took it out (rather than extending a cooldown).
    Down { cooldown: Duration, was_up: bool },
}

/// Passive health of one server on one worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passive {
    /// Consecutive failures since the last answer.
    failures: u32,
    /// Set while out of rotation, and after the cooldown until the next answer (the server is on trial).
    down_until: Option<Instant>,
    /// The cooldown last applied.
    cooldown: Duration,
    /// When the server was last taken out: only an attempt that started after this can put it back.
    marked: Option<Instant>,
}

impl Passive {
    /// True when nothing is recorded (the default state).
    pub fn is_clear(&self) -> bool {
        self.failures == 0 && self.down_until.is_none()
    }

    /// Is the server cooling down at `now`?
    pub fn is_down(&self, now: Instant) -> bool {
        self.down_until.is_some_and(|until| now < until)
    }

    /// Records a failure at `now`.
    pub fn fail(&mut self, failure: Failure, now: Instant) -> Verdict {
        if let Some(until) = self.down_until.filter(|&until| now < until) {
            // A request that was already under way when the server went out: nothing new learnt.
            return Verdict::Down {
                cooldown: until - now,
                was_up: false,
            };
        }
        self.failures = self.failures.saturating_add(1);
        let threshold = match failure {
            Failure::Connect | Failure::Timeout => 1,
            Failure::Reset => RESET_THRESHOLD,
        };
        let first = match failure {
            Failure::Timeout => TIMEOUT_COOLDOWN,
            Failure::Connect | Failure::Reset => FIRST_COOLDOWN,
        };
        let was_up = self.down_until.is_none();
        if was_up && self.failures < threshold {
            return Verdict::Counted;
        }
        self.cooldown = if was_up {
            first
        } else {
            (self.cooldown * 2).clamp(first, MAX_COOLDOWN)
        };
        self.down_until = Some(now + self.cooldown);
        self.marked = Some(now);
        Verdict::Down {
            cooldown: self.cooldown,
            was_up,
        }
    }

    /// Records an answer to an attempt that started at `started`. True when the server had been taken out (it is
    /// back in rotation). An answer to an attempt already under way when the server was taken out (on a connection
    /// opened earlier) says nothing about new connections and changes nothing.
    pub fn ok(&mut self, started: Instant) -> bool {
        if self.marked.is_some_and(|marked| started < marked) {
            return false;
        }
        let was_down = self.down_until.is_some();
        *self = Passive::default();
        was_down
    }
}
