//! When ringress may place the next ACME order: per-certificate backoff after failed orders, a per-hostname budget of
//! failed validations, and a global cap on new orders per sliding window.
//!
//! Owns the rate-limiting arithmetic and nothing else. Every decision takes the current time as an argument (`now`),
//! so the control thread's state machine and the tests drive the clock. Must never: read a clock itself, sleep, do
//! I/O, or panic on any time it is given (times in the past, in the future or out of order are all accepted).
//!
//! The limits stay well under Let's Encrypt's (production): 300 new orders per account per 3 hours, and 5 failed
//! validations per account, hostname and hour. A busy platform that misbehaves hits ringress's limits first and keeps
//! its account usable.
//!
//! - [`retry_delay`]: backoff after the n-th consecutive failed order of one certificate (1 m .. 6 h). The backoff
//!   is persisted in [`DomainState`] (`failures`, `next_attempt`) by [`record_order_failure`] and read back by
//!   [`order_allowed`].
//! - [`ValidationBudget`]: at most [`VALIDATION_FAILURE_LIMIT`] failed validations per hostname in
//!   [`VALIDATION_WINDOW`] (in memory; bounded by the hosts that failed within the window).
//! - [`OrderThrottle`]: at most `max` new orders in any `window` across all certificates (in memory).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::store::DomainState;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// Backoff after the 1st, 2nd, .. consecutive failed order; the last entry repeats forever.
const RETRY_DELAYS_SECS: [u64; 10] = [
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    20 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    4 * HOUR,
    6 * HOUR,
];

/// Failed validations of one hostname that block further orders for it (Let's Encrypt allows 5 per hour).
pub const VALIDATION_FAILURE_LIMIT: usize = 3;

/// How long a failed validation counts against its hostname.
pub const VALIDATION_WINDOW: Duration = Duration::from_secs(HOUR);

/// Default cap on new orders per [`DEFAULT_ORDER_WINDOW`], a third of Let's Encrypt's 300 new orders per account
/// per 3 hours.
pub const DEFAULT_MAX_NEW_ORDERS: u32 = 100;

/// Default sliding window of the new-order cap (Let's Encrypt's window for new orders).
pub const DEFAULT_ORDER_WINDOW: Duration = Duration::from_secs(3 * HOUR);

/// The wait before the next order after `failures` consecutive failed orders: 1 m, 2 m, 5 m, 10 m, 20 m, 30 m, 1 h,
/// 2 h, 4 h, then 6 h for every further failure. Zero failures: no wait.
pub fn retry_delay(failures: u32) -> Duration {
    let Some(index) = failures.checked_sub(1) else {
        return Duration::ZERO;
    };
    let last = RETRY_DELAYS_SECS.len() - 1;
    let index = usize::try_from(index).map_or(last, |i| i.min(last));
    Duration::from_secs(RETRY_DELAYS_SECS[index])
}

/// Whole seconds since the Unix epoch (0 before it), as [`DomainState`] stores times.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether a certificate's backoff allows a new order at `now` (no `next_attempt`, or `next_attempt` reached).
pub fn order_allowed(state: &DomainState, now: SystemTime) -> bool {
    state.next_attempt.is_none_or(|next| unix_seconds(now) >= next)
}

/// Records a failed order: one more consecutive failure, its error, and `next_attempt` = `now` + [`retry_delay`].
pub fn record_order_failure(state: &mut DomainState, error: impl Into<String>, now: SystemTime) {
    state.failures = state.failures.saturating_add(1);
    state.last_error = Some(error.into());
    state.next_attempt = Some(unix_seconds(now).saturating_add(retry_delay(state.failures).as_secs()));
}

/// Records a successful order: the failure count, error and backoff are cleared (`last_used` is kept).
pub fn record_order_success(state: &mut DomainState) {
    state.failures = 0;
    state.last_error = None;
    state.next_attempt = None;
}

/// Whether a time recorded at `then` no longer counts at `now` in a window of `window` (it ages out exactly
/// `window` after it happened; a time after `now` still counts).
fn aged_out(then: SystemTime, now: SystemTime, window: Duration) -> bool {
    now.duration_since(then).is_ok_and(|age| age >= window)
}

/// `t + d`, or the latest time this platform can represent on the way there (never panics).
fn later(t: SystemTime, d: Duration) -> SystemTime {
    let mut step = d;
    let mut out = t;
    // Greedily add the largest halvings of `d` that still fit; exact unless the sum overflows.
    while !step.is_zero() {
        if let Some(next) = out.checked_add(step) {
            out = next;
            if out.duration_since(t).is_ok_and(|done| done >= d) {
                break;
            }
            step = d.saturating_sub(out.duration_since(t).unwrap_or(Duration::ZERO));
        } else {
            step /= 2;
        }
    }
    out
}

/// Failed validations per hostname within the last [`VALIDATION_WINDOW`]; a hostname with
/// [`VALIDATION_FAILURE_LIMIT`] of them gets no new order until the oldest of those ages out.
///
/// Hostnames compare case-insensitively (ASCII). Memory: at most [`VALIDATION_FAILURE_LIMIT`] timestamps per
/// hostname, and only hostnames with a failure inside the window (older ones are dropped on every
/// [`record_failure`](Self::record_failure) and [`prune`](Self::prune)).
#[derive(Debug, Default, Clone)]
pub struct ValidationBudget {
    /// Per lower-cased hostname, its most recent failures, oldest first.
    failures: HashMap<String, VecDeque<SystemTime>>,
}

impl ValidationBudget {
    pub fn new() -> ValidationBudget {
        ValidationBudget::default()
    }

    /// Whether `host` may be validated (ordered) at `now`: fewer than [`VALIDATION_FAILURE_LIMIT`] failed
    /// validations in the last [`VALIDATION_WINDOW`].
    pub fn allows(&self, host: &str, now: SystemTime) -> bool {
        self.recent_failures(host, now) < VALIDATION_FAILURE_LIMIT
    }

    /// `None` when [`allows`](Self::allows) is true at `now`; otherwise the time at which it becomes true (when the
    /// failure that keeps the count at the limit ages out).
    pub fn next_allowed(&self, host: &str, now: SystemTime) -> Option<SystemTime> {
        let recent: Vec<SystemTime> = self.recent(host, now).collect();
        if recent.len() < VALIDATION_FAILURE_LIMIT {
            return None;
        }
        // Sorted oldest first; allowed again once only LIMIT - 1 remain, i.e. when this one ages out.
        let blocking = recent[recent.len() - VALIDATION_FAILURE_LIMIT];
        Some(later(blocking, VALIDATION_WINDOW))
    }

    /// Failed validations of `host` that still count at `now`.
    pub fn recent_failures(&self, host: &str, now: SystemTime) -> usize {
        self.recent(host, now).count()
    }

    /// Records a failed validation of `host` at `now`, and drops whatever aged out (for every hostname).
    pub fn record_failure(&mut self, host: &str, now: SystemTime) {
        self.prune(now);
        let times = self.failures.entry(host.to_ascii_lowercase()).or_default();
        let at = times.iter().rposition(|t| *t <= now).map_or(0, |i| i + 1);
        times.insert(at, now);
        // Only the newest LIMIT failures can ever decide `allows` or `next_allowed`.
        while times.len() > VALIDATION_FAILURE_LIMIT {
            times.pop_front();
        }
    }

    /// Drops failures that aged out at `now`, and hostnames left without any.
    pub fn prune(&mut self, now: SystemTime) {
        self.failures.retain(|_, times| {
            times.retain(|t| !aged_out(*t, now, VALIDATION_WINDOW));
            !times.is_empty()
        });
    }

    /// How many hostnames are tracked (those with a failure not yet pruned).
    pub fn tracked_hosts(&self) -> usize {
        self.failures.len()
    }

    fn recent<'a>(&'a self, host: &str, now: SystemTime) -> impl Iterator<Item = SystemTime> + 'a {
        self.failures
            .get(&host.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .copied()
            .filter(move |t| !aged_out(*t, now, VALIDATION_WINDOW))
    }
}

/// A global cap of `max` new orders in any sliding `window` (across all certificates of one ACME account).
///
/// `max == 0` never grants an order (configuration should refuse 0 before it gets here). Memory: at most `max`
/// timestamps.
#[derive(Debug, Clone)]
pub struct OrderThrottle {
    max: u32,
    window: Duration,
    /// Grants still inside the window, oldest first.
    granted: VecDeque<SystemTime>,
}

impl Default for OrderThrottle {
    /// [`DEFAULT_MAX_NEW_ORDERS`] per [`DEFAULT_ORDER_WINDOW`].
    fn default() -> OrderThrottle {
        OrderThrottle::new(DEFAULT_MAX_NEW_ORDERS, DEFAULT_ORDER_WINDOW)
    }
}

impl OrderThrottle {
    pub fn new(max: u32, window: Duration) -> OrderThrottle {
        OrderThrottle {
            max,
            window,
            granted: VecDeque::new(),
        }
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Takes a slot for a new order at `now`, or says when the next slot frees (the oldest grant in the window plus
    /// the window; a grant frees exactly `window` after it was taken). With `max == 0` no slot ever frees: the
    /// error is `now + window`, so a caller that waits for it re-checks at a sane pace and is refused again.
    pub fn try_acquire(&mut self, now: SystemTime) -> Result<(), SystemTime> {
        let window = self.window;
        while self.granted.front().is_some_and(|t| aged_out(*t, now, window)) {
            self.granted.pop_front();
        }
        if self.max == 0 {
            return Err(later(now, window));
        }
        let in_window = self.granted.len();
        if u32::try_from(in_window).is_ok_and(|n| n < self.max) {
            let at = self.granted.iter().rposition(|t| *t <= now).map_or(0, |i| i + 1);
            self.granted.insert(at, now);
            return Ok(());
        }
        match self.granted.front() {
            Some(oldest) => Err(later(*oldest, window)),
            None => Err(later(now, window)),
        }
    }

    /// Grants still counting at `now`.
    pub fn in_flight(&self, now: SystemTime) -> usize {
        self.granted.iter().filter(|t| !aged_out(**t, now, self.window)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    const M: u64 = 60;
    const H: u64 = 3600;

    #[test]
    fn retry_delay_table() {
        let expected = [
            0,
            M,
            2 * M,
            5 * M,
            10 * M,
            20 * M,
            30 * M,
            H,
            2 * H,
            4 * H,
            6 * H,
            6 * H,
            6 * H,
        ];
        for (failures, secs) in expected.iter().enumerate() {
            let failures = u32::try_from(failures).expect("small");
            assert_eq!(
                retry_delay(failures),
                Duration::from_secs(*secs),
                "failures = {failures}"
            );
        }
        assert_eq!(retry_delay(100), Duration::from_secs(6 * H));
        assert_eq!(retry_delay(u32::MAX), Duration::from_secs(6 * H));
    }

    #[test]
    fn retry_delay_never_shrinks() {
        for n in 0..50 {
            assert!(retry_delay(n + 1) >= retry_delay(n), "n = {n}");
        }
    }

    #[test]
    fn order_backoff_in_domain_state() {
        let mut state = DomainState::default();
        assert!(order_allowed(&state, at(0)));
        record_order_failure(&mut state, "urn:ietf:params:acme:error:dns", at(0));
        assert_eq!(state.failures, 1);
        assert_eq!(state.last_error.as_deref(), Some("urn:ietf:params:acme:error:dns"));
        assert_eq!(state.next_attempt, Some(unix_seconds(at(60))));
        assert!(!order_allowed(&state, at(59)));
        assert!(order_allowed(&state, at(60)), "allowed exactly when the delay is over");

        record_order_failure(&mut state, "again", at(60));
        assert_eq!(state.failures, 2);
        assert_eq!(state.next_attempt, Some(unix_seconds(at(60 + 2 * M))));
        assert!(!order_allowed(&state, at(60 + 2 * M - 1)));

        state.failures = u32::MAX;
        record_order_failure(&mut state, "saturates", at(1000));
        assert_eq!(state.failures, u32::MAX);
        assert_eq!(state.next_attempt, Some(unix_seconds(at(1000 + 6 * H))));

        state.last_used = Some(7);
        record_order_success(&mut state);
        assert_eq!(state.failures, 0);
        assert_eq!(state.last_error, None);
        assert_eq!(state.next_attempt, None);
        assert_eq!(state.last_used, Some(7));
        assert!(order_allowed(&state, at(1000)));
    }

    #[test]
    fn unix_seconds_before_epoch_is_zero() {
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), 0);
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(1999)), 1);
    }

    #[test]
    fn budget_blocks_at_exactly_three_failures() {
        let mut budget = ValidationBudget::new();
        assert!(budget.allows("a.example", at(0)));
        assert_eq!(budget.next_allowed("a.example", at(0)), None);
        budget.record_failure("a.example", at(0));
        budget.record_failure("a.example", at(10));
        assert!(budget.allows("a.example", at(20)), "two failures are fine");
        assert_eq!(budget.next_allowed("a.example", at(20)), None);
        budget.record_failure("a.example", at(20));
        assert!(!budget.allows("a.example", at(20)), "the third failure blocks");
        assert_eq!(budget.recent_failures("a.example", at(20)), 3);
        assert_eq!(budget.next_allowed("a.example", at(20)), Some(at(H)));
        assert!(budget.allows("b.example", at(20)), "other hosts are not affected");
    }

    #[test]
    fn budget_failures_age_out_at_exactly_one_hour() {
        let mut budget = ValidationBudget::new();
        for t in [0, 10, 20] {
            budget.record_failure("a.example", at(t));
        }
        let just_before = at(H) - Duration::from_nanos(1);
        assert!(!budget.allows("a.example", just_before));
        assert_eq!(budget.next_allowed("a.example", just_before), Some(at(H)));
        assert!(
            budget.allows("a.example", at(H)),
            "the first failure stops counting at exactly one hour"
        );
        assert_eq!(budget.next_allowed("a.example", at(H)), None);
        assert_eq!(budget.recent_failures("a.example", at(H)), 2);
        assert_eq!(budget.recent_failures("a.example", at(H + 20)), 0);
    }

    #[test]
    fn budget_next_allowed_uses_the_failure_that_keeps_the_count_at_the_limit() {
        let mut budget = ValidationBudget::new();
        for t in [0, 100, 200, 300] {
            budget.record_failure("a.example", at(t));
        }
        // Four failures: blocked until the second oldest ages out (then only 200 and 300 remain).
        assert_eq!(budget.next_allowed("a.example", at(300)), Some(at(100 + H)));
        assert!(!budget.allows("a.example", at(100 + H - 1)));
        assert!(budget.allows("a.example", at(100 + H)));
    }

    #[test]
    fn budget_is_case_insensitive_and_bounded() {
        let mut budget = ValidationBudget::new();
        for t in 0..50 {
            budget.record_failure("A.Example", at(t));
        }
        assert!(!budget.allows("a.example", at(50)));
        assert_eq!(budget.recent_failures("a.EXAMPLE", at(50)), VALIDATION_FAILURE_LIMIT);
        assert_eq!(budget.next_allowed("a.example", at(50)), Some(at(47 + H)));

        for i in 0..100 {
            budget.record_failure(&format!("h{i}.example"), at(100));
        }
        assert_eq!(budget.tracked_hosts(), 101);
        budget.record_failure("late.example", at(100 + H));
        assert_eq!(budget.tracked_hosts(), 1, "hosts without a recent failure are dropped");
        budget.prune(at(100 + 2 * H));
        assert_eq!(budget.tracked_hosts(), 0);
    }

    #[test]
    fn budget_accepts_out_of_order_and_future_times() {
        let mut budget = ValidationBudget::new();
        budget.record_failure("a.example", at(300));
        budget.record_failure("a.example", at(100));
        budget.record_failure("a.example", at(200));
        assert_eq!(budget.next_allowed("a.example", at(300)), Some(at(100 + H)));
        // A failure stamped after `now` (clock stepped back) still counts.
        let mut future = ValidationBudget::new();
        for _ in 0..3 {
            future.record_failure("a.example", at(1000));
        }
        assert!(!future.allows("a.example", at(0)));
        assert_eq!(future.next_allowed("a.example", at(0)), Some(at(1000 + H)));
    }

    #[test]
    fn throttle_grants_up_to_max_then_names_the_free_slot() {
        let mut throttle = OrderThrottle::new(3, Duration::from_secs(100));
        assert_eq!(throttle.try_acquire(at(0)), Ok(()));
        assert_eq!(throttle.try_acquire(at(10)), Ok(()));
        assert_eq!(throttle.try_acquire(at(20)), Ok(()));
        assert_eq!(throttle.in_flight(at(20)), 3);
        assert_eq!(throttle.try_acquire(at(30)), Err(at(100)));
        assert_eq!(throttle.try_acquire(at(99)), Err(at(100)), "refusals take no slot");
        assert_eq!(throttle.in_flight(at(99)), 3);
    }

    #[test]
    fn throttle_window_slides() {
        let mut throttle = OrderThrottle::new(2, Duration::from_secs(100));
        assert_eq!(throttle.try_acquire(at(0)), Ok(()));
        assert_eq!(throttle.try_acquire(at(50)), Ok(()));
        let just_before = at(100) - Duration::from_nanos(1);
        assert_eq!(throttle.try_acquire(just_before), Err(at(100)));
        assert_eq!(
            throttle.try_acquire(at(100)),
            Ok(()),
            "a grant frees exactly one window later"
        );
        assert_eq!(throttle.try_acquire(at(120)), Err(at(150)));
        assert_eq!(throttle.try_acquire(at(150)), Ok(()));
        assert_eq!(throttle.try_acquire(at(199)), Err(at(200)));
        assert_eq!(throttle.in_flight(at(1000)), 0);
        assert_eq!(throttle.try_acquire(at(1000)), Ok(()));
        assert_eq!(throttle.try_acquire(at(1000)), Ok(()));
        assert_eq!(throttle.try_acquire(at(1000)), Err(at(1100)));
    }

    #[test]
    fn throttle_with_zero_max_never_grants() {
        let mut throttle = OrderThrottle::new(0, Duration::from_secs(100));
        assert_eq!(throttle.try_acquire(at(0)), Err(at(100)));
        assert_eq!(throttle.try_acquire(at(1_000_000)), Err(at(1_000_100)));
    }

    #[test]
    fn throttle_defaults_stay_under_lets_encrypt() {
        let throttle = OrderThrottle::default();
        assert_eq!(throttle.max(), DEFAULT_MAX_NEW_ORDERS);
        assert_eq!(throttle.window(), Duration::from_secs(3 * H));
        const { assert!(DEFAULT_MAX_NEW_ORDERS < 300) };
        let mut throttle = OrderThrottle::default();
        for i in 0..u64::from(DEFAULT_MAX_NEW_ORDERS) {
            assert_eq!(throttle.try_acquire(at(i)), Ok(()), "order {i}");
        }
        assert_eq!(throttle.try_acquire(at(500)), Err(at(3 * H)));
        assert_eq!(throttle.try_acquire(at(3 * H)), Ok(()));
    }

    #[test]
    fn huge_windows_do_not_panic() {
        let mut throttle = OrderThrottle::new(1, Duration::MAX);
        assert_eq!(throttle.try_acquire(at(0)), Ok(()));
        let until = throttle.try_acquire(at(1)).expect_err("full");
        assert!(until > at(1));
        let mut never = OrderThrottle::new(0, Duration::MAX);
        assert!(never.try_acquire(at(0)).expect_err("never") > at(0));
    }

    #[test]
    fn later_adds_exactly_when_it_fits() {
        assert_eq!(later(at(0), Duration::from_secs(5)), at(5));
        assert_eq!(later(at(0), Duration::ZERO), at(0));
        let far = later(at(0), Duration::MAX);
        assert!(far > at(0) + Duration::from_secs(1_000_000_000_000));
    }
}
