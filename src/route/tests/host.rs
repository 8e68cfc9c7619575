//! Tests for `normalize_host`: case, port, trailing dot, IPv6 and the limits of a plausible host.

use crate::route::normalize_host;

fn norm(raw: &str) -> Option<String> {
    let mut buf = [0u8; 256];
    normalize_host(raw.as_bytes(), &mut buf).map(|h| String::from_utf8_lossy(h).into_owned())
}

#[test]
fn lowercases_and_strips_port_and_one_trailing_dot() {
    assert_eq!(norm("X.COM").as_deref(), Some("x.com"));
    assert_eq!(norm("x.com:8080").as_deref(), Some("x.com"));
    assert_eq!(norm("x.com.").as_deref(), Some("x.com"));
    // The port is removed first, then the dot before it.
    assert_eq!(norm("X.Com.:8080").as_deref(), Some("x.com"));
    assert_eq!(norm("x.com:").as_deref(), Some("x.com"));
    assert_eq!(norm(" x.com\t").as_deref(), Some("x.com"));
    assert_eq!(norm("10.0.0.1:443").as_deref(), Some("10.0.0.1"));
    assert_eq!(norm("my_app-1.local").as_deref(), Some("my_app-1.local"));
}

#[test]
fn ipv6_literals_are_canonical() {
    assert_eq!(norm("[::1]").as_deref(), Some("[::1]"));
    assert_eq!(norm("[::1]:8080").as_deref(), Some("[::1]"));
    assert_eq!(norm("[0:0:0:0:0:0:0:1]").as_deref(), Some("[::1]"));
    assert_eq!(norm("[2001:DB8::A]:80").as_deref(), Some("[2001:db8::a]"));
}

#[test]
fn implausible_hosts_are_refused() {
    for raw in [
        "",
        " ",
        ".",
        ":80",
        "x.com..",
        "x..com",
        ".x.com",
        "x.com:80:80",
        "x.com:port",
        "x.com:123456",
        "x.com:99999",
        "::1",
        "[::1",
        "[::1].",
        "[::1]x",
        "[zz::1]",
        "[fe80::1%25eth0]",
        "x com",
        "x/com",
        "x@com",
        "*.x.com",
        "bücher.de",
        "x\0.com",
    ] {
        assert_eq!(norm(raw), None, "{raw:?}");
    }
}

#[test]
fn length_limits() {
    let label = "a".repeat(63);
    let long_label = "a".repeat(64);
    assert!(norm(&format!("{label}.com")).is_some());
    assert_eq!(norm(&format!("{long_label}.com")), None);
    // 4 × 63 + 3 dots = 255 > 253.
    let too_long = [label.as_str(); 4].join(".");
    assert_eq!(norm(&too_long), None);
    let fits = format!("{}.{}", [label.as_str(); 3].join("."), "a".repeat(61));
    assert_eq!(fits.len(), 253);
    assert_eq!(norm(&fits).as_deref(), Some(fits.as_str()));
    // 253 bytes plus the trailing dot that is dropped.
    assert_eq!(norm(&format!("{fits}.")).as_deref(), Some(fits.as_str()));
}
