//! Process logger: one line per event on stderr, `2026-01-02T03:04:05Z LEVEL message`.
//!
//! Owns the `log` facade's sink. It must never be used per request on the data path at `info` level or above:
//! request-level events are counters (see `observe`), not log lines. Nothing here formats secrets; callers never
//! pass header values or tokens.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        // HTTP client and TLS libraries log request heads (with the provider token) at debug/trace: never pass those.
        let chatty = ["ureq", "rustls", "instant_acme"]
            .iter()
            .any(|t| metadata.target().starts_with(t));
        metadata.level() <= log::max_level() && !(chatty && metadata.level() > log::Level::Info)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = String::with_capacity(128);
        push_utc_timestamp(&mut line, SystemTime::now());
        line.push(' ');
        line.push_str(record.level().as_str());
        line.push(' ');
        use std::fmt::Write as _;
        let _ = write!(line, "{}", record.args());
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the stderr logger with the given level. Calling it twice keeps the first logger and updates the level.
pub fn init(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

/// Appends `YYYY-MM-DDTHH:MM:SSZ` for `t` (UTC).
pub fn push_utc_timestamp(out: &mut String, t: SystemTime) {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (y, m, d) = crate::civil::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let mut s = String::new();
        push_utc_timestamp(&mut s, UNIX_EPOCH);
        assert_eq!(s, "1970-01-01T00:00:00Z");
        s.clear();
        push_utc_timestamp(&mut s, UNIX_EPOCH + Duration::from_secs(1_795_000_000));
        assert_eq!(s, "2026-11-18T11:06:40Z");
        s.clear();
        push_utc_timestamp(&mut s, UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(s, "2000-02-29T00:00:00Z");
    }
}
