//! The certificate table of `ringress certs ls`: what each resolver of an `acme.json` holds, how long it stays valid
//! and whether ringress is renewing it or failing to.
//!
//! Owns the table layout, the status wording and the UTC calendar arithmetic behind its dates. Pure formatting over
//! an already loaded store, with the time passed in. Must never: read a clock, do I/O, decode or print a private key
//! (only the `certificate` field of an entry is read), or let a value from the file break the table (control
//! characters become spaces).
//!
//! ```text
//! DOMAIN                   ISSUER  NOT BEFORE            NOT AFTER             DAYS LEFT  SERIAL  STATUS
//! a.example,www.a.example  R11     2026-11-22 04:10 UTC  2027-02-20 04:10 UTC  89         0a1b2c  ok
//! b.example                -       -                     -                     -          -       failing: timeout
//! ```
//!
//! One row per stored certificate, DOMAIN being all its names joined by `,` (main domain first, then the SANs as
//! stored; duplicates dropped), and one row per bookkeeping entry that has failures but no stored certificate
//! (every other field `-`). Rows are sorted by resolver, then main domain; a RESOLVER column comes first when more
//! than one resolver is listed. ISSUER is the issuer's CN, or the whole DN when it has none. DAYS LEFT is whole days
//! until NOT AFTER, rounded down (negative once expired).
//!
//! STATUS, first match wins:
//! - `unreadable: <reason>`: the stored chain cannot be decoded or parsed (the other fields are `-`);
//! - `failing until <time>: <last error>`: the last orders failed and the backoff (`next_attempt`) is still running;
//! - `failing: <last error>`: the last orders failed and a new order is allowed;
//! - `expired`: at or after NOT AFTER;
//! - `not yet valid`: before NOT BEFORE;
//! - `renewing`: less than a third of the lifetime remains ([`CertInfo::renew_due`]);
//! - `ok`.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use super::inspect::CertInfo;
use super::schedule::order_allowed;
use super::store::{DomainState, Resolver, StoreError, StoredCert};

const SECS_PER_DAY: i64 = 86_400;

const HEADER: [&str; 7] = [
    "DOMAIN",
    "ISSUER",
    "NOT BEFORE",
    "NOT AFTER",
    "DAYS LEFT",
    "SERIAL",
    "STATUS",
];

/// One table row before layout.
struct Row {
    resolver: String,
    main: String,
    cells: [String; 7],
}

/// Renders the certificates of `stores` (resolver name, resolver data) as an aligned table, as seen at `now`.
pub fn render(stores: &[(String, &Resolver)], now: SystemTime) -> String {
    let mut rows = Vec::new();
    for (name, resolver) in stores {
        for cert in &resolver.certificates {
            let state = resolver.ringress.domains.get(&cert.domain.main);
            rows.push(Row {
                resolver: name.clone(),
                main: cert.domain.main.clone(),
                cells: certificate_cells(cert, state, now),
            });
        }
        for (main, state) in &resolver.ringress.domains {
            if state.failures > 0 && resolver.certificate(main).is_none() {
                let status = failing_status(state, now).unwrap_or_default();
                rows.push(Row {
                    resolver: name.clone(),
                    main: main.clone(),
                    cells: dashes(or_dash(main), status),
                });
            }
        }
    }
    rows.sort_by(|a, b| (&a.resolver, &a.main).cmp(&(&b.resolver, &b.main)));

    let resolvers: BTreeSet<&str> = stores.iter().map(|(name, _)| name.as_str()).collect();
    let with_resolver = resolvers.len() > 1;
    let mut table: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    let mut header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    if with_resolver {
        header.insert(0, "RESOLVER".into());
    }
    table.push(header);
    for row in rows {
        let mut line = Vec::with_capacity(8);
        if with_resolver {
            line.push(clean(&row.resolver));
        }
        line.extend(row.cells.iter().map(|c| clean(c)));
        table.push(line);
    }
    let mut out = align(&table);
    if table.len() == 1 {
        out.push_str("(no certificates)\n");
    }
    out
}

fn certificate_cells(cert: &StoredCert, state: Option<&DomainState>, now: SystemTime) -> [String; 7] {
    let mut names: Vec<&str> = Vec::new();
    for name in cert.names() {
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    let domain = or_dash(&names.join(","));
    let info = match cert.info() {
        Ok(info) => info,
        Err(e) => return dashes(domain, format!("unreadable: {}", unreadable_reason(&e))),
    };
    let status = match state.and_then(|s| failing_status(s, now)) {
        Some(failing) => failing,
        None if now >= info.not_after => "expired".into(),
        None if now < info.not_before => "not yet valid".into(),
        None if info.renew_due(now) => "renewing".into(),
        None => "ok".into(),
    };
    [
        domain,
        or_dash(&issuer_name(&info.issuer)),
        format_utc(unix_floor(info.not_before)),
        format_utc(unix_floor(info.not_after)),
        days_left(&info, now).to_string(),
        or_dash(&info.serial),
        status,
    ]
}

/// The row of a name without a readable certificate: everything but DOMAIN and STATUS is `-`.
fn dashes(domain: String, status: String) -> [String; 7] {
    let dash = || "-".to_string();
    [domain, dash(), dash(), dash(), dash(), dash(), status]
}

/// Why a chain could not be read, without repeating the domain (it is in the row).
fn unreadable_reason(e: &StoreError) -> String {
    match e {
        StoreError::Inspect { source, .. } => source.to_string(),
        StoreError::Base64 { field, .. } => format!("{field} is not valid base64"),
        other => other.to_string(),
    }
}

/// `failing until ..` / `failing: ..` when the bookkeeping records failures.
pub fn failing_status(state: &DomainState, now: SystemTime) -> Option<String> {
    if state.failures == 0 {
        return None;
    }
    let mut status = String::from("failing");
    if let Some(next) = state.next_attempt.filter(|_| !order_allowed(state, now)) {
        status.push_str(" until ");
        status.push_str(&format_utc(i64::try_from(next).unwrap_or(i64::MAX)));
    }
    if let Some(error) = state.last_error.as_deref().filter(|e| !e.trim().is_empty()) {
        status.push_str(": ");
        status.push_str(error.trim());
    }
    Some(status)
}

/// Whole days from `now` until `not_after`, rounded down (so negative as soon as it has expired).
fn days_left(info: &CertInfo, now: SystemTime) -> i64 {
    const NANOS_PER_DAY: u128 = 86_400 * 1_000_000_000;
    match info.not_after.duration_since(now) {
        Ok(left) => i64::try_from(left.as_nanos() / NANOS_PER_DAY).unwrap_or(i64::MAX),
        Err(e) => {
            let past = e.duration().as_nanos().div_ceil(NANOS_PER_DAY);
            i64::try_from(past).map_or(i64::MIN, |d| -d)
        }
    }
}

/// The issuer's common name (the last CN when there are several), or the whole DN when it has none.
///
/// Works on the RFC 4514-style text of [`CertInfo::issuer`]: attributes separated by `, ` (or ` + ` inside one
/// RDN), each `TYPE=value`. Values are not escaped in that text, so a separator only counts when a `TYPE=` follows.
pub fn issuer_name(dn: &str) -> String {
    let mut cn = None;
    for attribute in split_dn(dn) {
        if let Some(value) = attribute.strip_prefix("CN=") {
            cn = Some(value);
        }
    }
    match cn {
        Some(value) if !value.trim().is_empty() => value.trim().to_string(),
        _ => dn.to_string(),
    }
}

fn split_dn(dn: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < dn.len() {
        let rest = &dn[i..];
        let sep = [", ", " + "].into_iter().find(|s| rest.starts_with(s));
        match sep {
            Some(sep) if starts_with_attribute_type(&rest[sep.len()..]) => {
                parts.push(&dn[start..i]);
                i += sep.len();
                start = i;
            }
            _ => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    parts.push(&dn[start..]);
    parts
}

/// Whether `s` starts with `TYPE=`: a letter then letters, digits or `-`, or a dotted OID.
fn starts_with_attribute_type(s: &str) -> bool {
    let Some((kind, _)) = s.split_once('=') else {
        return false;
    };
    let keyword = kind.starts_with(|c: char| c.is_ascii_alphabetic())
        && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_digit() || c == '.');
    keyword || oid
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

/// Control characters (newlines, tabs, escapes) would break the table or the terminal: they become spaces.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Lays out `table` (header first) with two spaces between columns; the last column is not padded.
fn align(table: &[Vec<String>]) -> String {
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in table {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Seconds since the Unix epoch, rounded down (negative before it).
fn unix_floor(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
            i64::try_from(secs).map_or(i64::MIN, |s| -s)
        }
    }
}

/// `2026-11-23 04:10 UTC` for a Unix time in seconds (proleptic Gregorian calendar).
pub fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(SECS_PER_DAY);
    let secs = unix.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = crate::civil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair, SerialNumber,
    };

    use super::*;
    use crate::acme::store::Bookkeeping;

    const DAY: u64 = 86_400;
    /// 2026-11-23 04:10:00 UTC.
    const T0: u64 = 1_795_407_000;

    fn at(unix: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix)
    }

    struct Ca(CertifiedIssuer<'static, KeyPair>);

    impl Ca {
        fn new(cn: Option<&str>) -> Ca {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name = DistinguishedName::new();
            params.distinguished_name.push(DnType::OrganizationName, "Pebble, Inc.");
            if let Some(cn) = cn {
                params.distinguished_name.push(DnType::CommonName, cn);
            }
            let key = KeyPair::generate().expect("ca key");
            Ca(CertifiedIssuer::self_signed(params, key).expect("ca cert"))
        }

        /// A base64 PEM chain (leaf, CA) valid from `not_before` to `not_after` (Unix seconds).
        fn issue(&self, names: &[&str], not_before: u64, not_after: u64, serial: &[u8]) -> StoredCert {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut params = CertificateParams::new(names.clone()).expect("leaf params");
            let epoch = rcgen::date_time_ymd(1970, 1, 1);
            params.not_before = epoch + Duration::from_secs(not_before);
            params.not_after = epoch + Duration::from_secs(not_after);
            params.serial_number = Some(SerialNumber::from_slice(serial));
            let key = KeyPair::generate().expect("leaf key");
            let leaf = params.signed_by(&key, &self.0).expect("leaf cert");
            let chain = format!("{}{}", leaf.pem(), self.0.pem());
            StoredCert::new(&names[0], &names[1..], &chain, &key.serialize_pem())
        }
    }

    fn failing(failures: u32, error: &str, next_attempt: Option<u64>) -> DomainState {
        DomainState {
            failures,
            last_error: Some(error.into()),
            next_attempt,
            ..DomainState::default()
        }
    }

    fn resolver(certs: Vec<StoredCert>, domains: Vec<(&str, DomainState)>) -> Resolver {
        Resolver {
            certificates: certs,
            ringress: Bookkeeping {
                domains: domains.into_iter().map(|(d, s)| (d.to_string(), s)).collect(),
                ..Bookkeeping::default()
            },
            ..Resolver::default()
        }
    }

    /// The rows of a rendered table, split into cells (cells are separated by at least two spaces).
    fn cells(table: &str) -> Vec<Vec<String>> {
        table
            .lines()
            .map(|line| {
                line.split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn civil_dates_of_known_days() {
        let cases: [(i64, &str); 12] = [
            (0, "1970-01-01 00:00 UTC"),
            (-1, "1969-12-31 23:59 UTC"),
            (-60, "1969-12-31 23:59 UTC"),
            (-86_400, "1969-12-31 00:00 UTC"),
            (951_782_400, "2000-02-29 00:00 UTC"),
            (951_868_800, "2000-03-01 00:00 UTC"),
            (978_220_800, "2000-12-31 00:00 UTC"),
            (1_709_164_800, "2024-02-29 00:00 UTC"),
            (4_107_542_400, "2100-03-01 00:00 UTC"),
            (T0 as i64, "2026-11-23 04:10 UTC"),
            (1_234_567_890, "2009-02-13 23:31 UTC"),
            (253_402_300_799, "9999-12-31 23:59 UTC"),
        ];
        for (unix, text) in cases {
            assert_eq!(format_utc(unix), text, "unix {unix}");
        }
        // 2100 is not a leap year: the day after 2100-02-28 is 2100-03-01.
        assert_eq!(format_utc(4_107_456_000), "2100-02-28 00:00 UTC");
        assert_eq!(format_utc(-11_676_096_000), "1600-01-01 00:00 UTC");
        // Extremes do not panic.
        let _ = format_utc(i64::MAX);
        let _ = format_utc(i64::MIN);
    }

    #[test]
    fn issuer_common_name_or_whole_dn() {
        assert_eq!(
            issuer_name("CN=Pebble Intermediate CA 4c1e2a"),
            "Pebble Intermediate CA 4c1e2a"
        );
        assert_eq!(issuer_name("C=US, O=Let's Encrypt, CN=R11"), "R11");
        assert_eq!(issuer_name("O=Acme, Inc., CN=Acme CA"), "Acme CA");
        assert_eq!(issuer_name("CN=Weird, Name, O=X"), "Weird, Name");
        assert_eq!(issuer_name("O=X + CN=Multi"), "Multi");
        assert_eq!(issuer_name("C=US, O=No CN"), "C=US, O=No CN");
        assert_eq!(issuer_name("CN=, O=Empty"), "CN=, O=Empty");
        assert_eq!(issuer_name(""), "");
    }

    #[test]
    fn statuses_ok_renewing_expired_failing_and_unreadable() {
        let ca = Ca::new(Some("Pebble Intermediate CA 4c1e2a"));
        let now = T0;
        let ok = ca.issue(
            &["app.example", "www.app.example"],
            now - DAY,
            now + 89 * DAY,
            &[0x0a, 0x1b, 0x2c, 0x3d],
        );
        let renewing = ca.issue(&["renew.example"], now - 70 * DAY, now + 20 * DAY, &[1]);
        let expired = ca.issue(&["old.example"], now - 100 * DAY, now - 10 * DAY - 1, &[2]);
        let failing_cert = ca.issue(&["fail.example"], now - 80 * DAY, now + 10 * DAY, &[3]);
        let future = ca.issue(&["soon.example"], now + DAY, now + 91 * DAY, &[4]);
        let mut unreadable = ca.issue(&["broken.example"], now - DAY, now + 89 * DAY, &[5]);
        unreadable.certificate = "not base64!".into();
        let le = resolver(
            vec![ok, renewing, expired, failing_cert, future, unreadable],
            vec![
                (
                    "fail.example",
                    failing(2, "urn:ietf:params:acme:error:dns: NXDOMAIN", Some(now + 120)),
                ),
                ("past.example", failing(4, "timeout", Some(now - 5))),
                ("quiet.example", DomainState::default()),
            ],
        );
        let table = render(&[("le".to_string(), &le)], at(now));
        let rows = cells(&table);
        assert_eq!(
            rows[0],
            [
                "DOMAIN",
                "ISSUER",
                "NOT BEFORE",
                "NOT AFTER",
                "DAYS LEFT",
                "SERIAL",
                "STATUS"
            ],
            "{table}"
        );
        let domains: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            domains,
            [
                "app.example,www.app.example",
                "broken.example",
                "fail.example",
                "old.example",
                "past.example",
                "renew.example",
                "soon.example"
            ],
            "{table}"
        );
        assert_eq!(
            rows[1],
            [
                "app.example,www.app.example",
                "Pebble Intermediate CA 4c1e2a",
                "2026-11-22 04:10 UTC",
                "2027-02-20 04:10 UTC",
                "89",
                "0a1b2c3d",
                "ok"
            ],
            "{table}"
        );
        assert_eq!(
            rows[2],
            [
                "broken.example",
                "-",
                "-",
                "-",
                "-",
                "-",
                "unreadable: certificate is not valid base64"
            ]
        );
        assert_eq!(rows[3][4], "10");
        assert_eq!(
            rows[3][6],
            "failing until 2026-11-23 04:12 UTC: urn:ietf:params:acme:error:dns: NXDOMAIN"
        );
        assert_eq!(rows[4][4], "-11", "expired 10 days and a second ago: {table}");
        assert_eq!(rows[4][6], "expired");
        assert_eq!(rows[5], ["past.example", "-", "-", "-", "-", "-", "failing: timeout"]);
        assert_eq!(rows[6][4], "20");
        assert_eq!(rows[6][6], "renewing");
        assert_eq!(rows[7][6], "not yet valid");
        assert!(
            !table.contains("quiet.example"),
            "no row for bookkeeping without failures"
        );
        assert_eq!(rows.len(), 8, "{table}");
    }

    #[test]
    fn columns_are_aligned() {
        let ca = Ca::new(Some("CA"));
        let a = ca.issue(&["a.example"], T0 - DAY, T0 + 89 * DAY, &[1]);
        let b = ca.issue(&["much-longer-name.example"], T0 - DAY, T0 + 9 * DAY, &[0x12, 0x34]);
        let le = resolver(vec![b, a], vec![]);
        let table = render(&[("le".to_string(), &le)], at(T0));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        for column in ["ISSUER", "NOT BEFORE", "NOT AFTER", "DAYS LEFT", "SERIAL", "STATUS"] {
            let offset = lines[0].find(column).expect("header column");
            for line in &lines[1..] {
                let before = &line[..offset];
                assert!(
                    before.ends_with("  "),
                    "column {column} starts at {offset} in {line:?}\n{table}"
                );
                assert_ne!(line.as_bytes()[offset], b' ', "column {column} in {line:?}");
            }
        }
        assert!(lines[1].starts_with("a.example "), "sorted by domain: {table}");
        assert!(table.lines().all(|l| l == l.trim_end()), "no trailing spaces");
    }

    #[test]
    fn issuer_without_cn_shows_the_whole_dn() {
        let ca = Ca::new(None);
        let le = resolver(vec![ca.issue(&["a.example"], T0 - DAY, T0 + 89 * DAY, &[1])], vec![]);
        let rows = cells(&render(&[("le".to_string(), &le)], at(T0)));
        assert_eq!(rows[1][1], "O=Pebble, Inc.");
    }

    #[test]
    fn several_resolvers_get_a_resolver_column() {
        let ca = Ca::new(Some("CA"));
        let le = resolver(vec![ca.issue(&["z.example"], T0 - DAY, T0 + 89 * DAY, &[1])], vec![]);
        let staging = resolver(
            vec![ca.issue(&["a.example"], T0 - DAY, T0 + 89 * DAY, &[2])],
            vec![("b.example", failing(1, "rejected", None))],
        );
        let table = render(&[("staging".to_string(), &staging), ("le".to_string(), &le)], at(T0));
        let rows = cells(&table);
        assert_eq!(rows[0][0], "RESOLVER");
        assert_eq!(rows[0][1], "DOMAIN");
        let keys: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
        assert_eq!(
            keys,
            [("le", "z.example"), ("staging", "a.example"), ("staging", "b.example")],
            "{table}"
        );
        assert_eq!(rows[3][7], "failing: rejected");
    }

    #[test]
    fn empty_input_says_so() {
        assert_eq!(
            render(&[], at(T0)),
            "DOMAIN  ISSUER  NOT BEFORE  NOT AFTER  DAYS LEFT  SERIAL  STATUS\n(no certificates)\n"
        );
        let empty = Resolver::default();
        let table = render(&[("le".to_string(), &empty)], at(T0));
        assert!(table.ends_with("STATUS\n(no certificates)\n"), "{table}");
    }

    #[test]
    fn unreadable_chains_never_print_the_key() {
        let ca = Ca::new(Some("CA"));
        let mut cert = ca.issue(&["a.example"], T0 - DAY, T0 + 89 * DAY, &[1]);
        // The key PEM stored where the chain belongs: no CERTIFICATE block.
        cert.certificate = cert.key.clone();
        let key_pem = String::from_utf8(cert.key_pem().expect("key")).expect("utf8");
        let mut garbage = ca.issue(&["b.example"], T0 - DAY, T0 + 89 * DAY, &[2]);
        let b64 = base64::engine::general_purpose::STANDARD;
        garbage.certificate = base64::Engine::encode(
            &b64,
            "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n",
        );
        let le = resolver(vec![cert, garbage], vec![]);
        let table = render(&[("le".to_string(), &le)], at(T0));
        let rows = cells(&table);
        assert_eq!(
            rows[1][6], "unreadable: certificate chain: no PEM CERTIFICATE block",
            "{table}"
        );
        assert!(
            rows[2][6].starts_with("unreadable: certificate chain: bad X.509 leaf"),
            "{table}"
        );
        for line in key_pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!table.contains(line), "key material in {table}");
        }
    }

    #[test]
    fn control_characters_cannot_break_the_table() {
        let le = resolver(
            vec![],
            vec![("a.example", failing(1, "line one\nline two\x1b[31m", None))],
        );
        let table = render(&[("le".to_string(), &le)], at(T0));
        assert_eq!(table.lines().count(), 2, "{table}");
        assert!(table.contains("failing: line one line two [31m"), "{table}");
    }

    #[test]
    fn days_left_rounds_down() {
        let info = |after: u64| CertInfo {
            not_before: at(0),
            not_after: at(after),
            issuer: String::new(),
            serial: String::new(),
            sans: Vec::new(),
        };
        assert_eq!(days_left(&info(T0 + DAY), at(T0)), 1);
        assert_eq!(days_left(&info(T0 + DAY - 1), at(T0)), 0);
        assert_eq!(days_left(&info(T0), at(T0)), 0);
        assert_eq!(days_left(&info(T0 - 1), at(T0)), -1);
        assert_eq!(days_left(&info(T0 - DAY), at(T0)), -1);
        assert_eq!(days_left(&info(T0 - DAY - 1), at(T0)), -2);
    }
}
