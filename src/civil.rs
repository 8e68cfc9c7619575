//! Calendar arithmetic for the timestamps ringress prints (logs, access log, `certs ls`): days since 1970-01-01 to a
//! proleptic Gregorian date, without a date library.
//!
//! Owns the one conversion every formatter shares. Never reads the clock and never allocates.

/// (year, month 1-12, day 1-31) of the day `days` after 1970-01-01 (negative: before it).
///
/// H. Hinnant's `civil_from_days`: shift the epoch to 0000-03-01 so the leap day ends each year, split into 400-year
/// eras of 146 097 days, then find the year of the era and the day of that year.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe
        .saturating_add(era.saturating_mul(400))
        .saturating_add(i64::from(month <= 2));
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
        assert_eq!(civil_from_days(-135_140), (1600, 1, 1));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
        // Extremes do not panic.
        let _ = civil_from_days(i64::MAX);
        let _ = civil_from_days(i64::MIN);
    }

    #[test]
    fn every_day_of_two_cycles_follows_the_previous_one() {
        let mut previous = civil_from_days(-1);
        for days in 0..146_097 * 2 {
            let current = civil_from_days(days);
            let (y, m, d) = previous;
            let expected_next = [(y, m, d + 1), (y, m + 1, 1), (y + 1, 1, 1)];
            assert!(
                expected_next.contains(&current),
                "{previous:?} -> {current:?} at {days}"
            );
            previous = current;
        }
        assert_eq!(civil_from_days(146_097), (2370, 1, 1));
    }
}
