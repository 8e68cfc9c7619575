//! Canonical printing and the round trip through `parse`.

use crate::rule::parse;

fn round_trip(rule: &str) -> String {
    let parsed = parse(rule).expect(rule);
    let printed = parsed.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
    assert_eq!(again, parsed, "{rule} → {printed}");
    assert_eq!(again.to_string(), printed, "printing is stable");
    printed
}

#[test]
fn canonical_forms() {
    assert_eq!(round_trip("host(`A.com`)"), "Host(`A.com`)");
    assert_eq!(round_trip("Host(\"a.com\")"), "Host(`a.com`)");
    assert_eq!(
        round_trip("Host(`a`) || Host(`b`) && Path(`/c`)"),
        "Host(`a`) || Host(`b`) && Path(`/c`)"
    );
    assert_eq!(
        round_trip("(Host(`a`) || Host(`b`)) && Path(`/c`)"),
        "(Host(`a`) || Host(`b`)) && Path(`/c`)"
    );
    assert_eq!(
        round_trip("Host(`a`) && (Host(`b`) && Host(`c`))"),
        "Host(`a`) && Host(`b`) && Host(`c`)"
    );
    assert_eq!(round_trip("!(Host(`a`) || Host(`b`))"), "!(Host(`a`) || Host(`b`))");
    assert_eq!(round_trip("!!Host(`a`)"), "!!Host(`a`)");
    assert_eq!(round_trip("method(`get`)"), "Method(`GET`)");
    assert_eq!(round_trip("Query(`a`)"), "Query(`a`)");
    assert_eq!(round_trip("QueryRegexp(`a`, `^b`)"), "QueryRegexp(`a`, `^b`)");
    assert_eq!(round_trip(r#"Path("/a`b")"#), r#"Path("/a`b")"#);
    assert_eq!(round_trip("Path(\"/a`\\r\\x01\")"), "Path(\"/a`\\r\\u0001\")");
    assert_eq!(round_trip("ClientIP(`10.1.2.3/8`)"), "ClientIP(`10.1.2.3/8`)");
    round_trip("Header(`X`, `y`) && HeaderRegexp(`Z`, `\\d+`) || !PathRegexp(`x`) && HostRegexp(`y`)");
}
