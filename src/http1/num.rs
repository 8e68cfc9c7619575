//! Decimal and IP address formatting straight into an output `Vec<u8>`.
//!
//! Owns number-to-text for the head writer. Must never allocate beyond growing `out`, and never
//! go through `format!` or `String`.

use std::io::Write;
use std::net::IpAddr;

/// Appends `n` in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or(&[]));
}

/// Appends a status code as exactly three digits (the parser guarantees 100..=599).
pub(crate) fn push_status(out: &mut Vec<u8>, status: u16) {
    let s = status.min(999);
    out.extend_from_slice(&[
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]);
}

/// Appends `ip` in its canonical text form; IPv4-mapped IPv6 addresses (from a dual-stack
/// listener) are written as IPv4, as a client connecting over IPv4 expects.
pub(crate) fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, u64::from(octet));
            }
        }
        // Display for Ipv6Addr writes through the formatter without allocating; writing into a
        // Vec cannot fail.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        for n in [0u64, 7, 10, 99, 100, 65535, 1_000_000, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
        let mut out = Vec::new();
        push_status(&mut out, 204);
        assert_eq!(out, b"204");
    }

    #[test]
    fn formats_ips() {
        let cases = [
            ("203.0.113.7", "203.0.113.7"),
            ("0.0.0.0", "0.0.0.0"),
            ("::ffff:198.51.100.1", "198.51.100.1"),
            ("2001:db8::1", "2001:db8::1"),
            ("::1", "::1"),
        ];
        for (input, want) in cases {
            let ip: IpAddr = input.parse().expect("valid ip");
            let mut out = Vec::new();
            push_ip(&mut out, ip);
            assert_eq!(out, want.as_bytes(), "{input}");
        }
    }
}
