//! Refused rules and the positions their errors name.

use super::util::error;
use crate::rule::{parse, RuleErrorKind, MAX_DEPTH};

#[test]
fn errors_name_the_byte_position() {
    assert_eq!(error("Host(`a.com`"), "at 12: expected ',' or ')', found end of rule");
    assert_eq!(error("(Host(`a.com`)"), "at 14: expected ')', found end of rule");
    assert_eq!(
        error("Host(`a.com`) &&"),
        "at 16: expected a matcher, '!' or '(', found end of rule"
    );
    assert_eq!(
        error("Host(`a.com`) Path(`/`)"),
        "at 14: expected '&&', '||' or end of rule, found identifier \"Path\""
    );
    assert_eq!(
        error("Host(`a.com`))"),
        "at 13: expected '&&', '||' or end of rule, found ')'"
    );
    assert_eq!(error("Host(`a.com"), "at 5: unterminated string");
    assert_eq!(error(""), "at 0: rule is empty");
    assert_eq!(error("   "), "at 3: rule is empty");
    assert_eq!(error("Host(`a`) & Path(`/`)"), "at 10: unexpected character '&'");
    assert_eq!(
        error("Host(a)"),
        "at 5: expected a string argument (`…` or \"…\"), found identifier \"a\""
    );
    assert_eq!(error("Host(a.com)"), "at 6: unexpected character '.'");
    assert_eq!(
        error("Nope(`x`)"),
        "at 0: unknown matcher \"Nope\" (names are accepted as defined, all lower, all upper or Title case)"
    );
}

#[test]
fn arguments_are_checked() {
    assert_eq!(error("Host(``)"), "at 5: Host argument must not be empty");
    assert_eq!(error("Header(`X`, ``)"), "at 12: Header argument must not be empty");
    assert_eq!(error("Host(`a`, `b`)"), "at 0: Host takes 1 argument(s), got 2");
    assert_eq!(error("Host()"), "at 0: Host takes 1 argument(s), got 0");
    assert_eq!(error("Header(`X`)"), "at 0: Header takes 2 argument(s), got 1");
    assert_eq!(
        error("Query(`a`, `b`, `c`)"),
        "at 0: Query takes 1 or 2 argument(s), got 3"
    );
    assert_eq!(
        error("Path(`foo`)"),
        "at 5: Path: path \"foo\" does not start with a '/'"
    );
    assert!(error("PathPrefix(`foo`)").starts_with("at 11: PathPrefix: path"));
    assert!(error("Host(`bücher.de`)").contains("ASCII"));
    assert!(error("PathRegexp(`(`)").starts_with("at 11: PathRegexp: invalid regexp"));
    assert!(error("HostRegexp(`a{99999}`)").contains("invalid regexp"), "size limit");
    assert!(error("ClientIP(`10.0.0.256`)").contains("not an IP address or CIDR"));
    assert!(error("ClientIP(`10.0.0.0/33`)").contains("above 32"));
    assert!(error("ClientIP(`::/129`)").contains("above 128"));
    assert!(error("ClientIP(`10.0.0.0/`)").contains("not an IP"));
    assert!(error("Host(1)").contains("unexpected character '1'"));
    assert!(error("Host(`a`) == Host(`b`)").contains("unexpected character '='"));
    assert!(error("Host(`a`) and Host(`b`)").contains("found identifier \"and\""));
    assert!(error("Host((`a`))").contains("expected a string argument"));
}

#[test]
fn nesting_is_limited() {
    let deep = format!("{}Host(`a`){}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert!(matches!(
        parse(&deep).map_err(|e| e.kind),
        Err(RuleErrorKind::TooDeep(_))
    ));
    let ok = format!("{}Host(`a`){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
    let nots = format!("{}Host(`a`)", "!".repeat(MAX_DEPTH + 1));
    assert!(parse(&nots).is_err());
    // Long flat chains are not nesting.
    let chain = vec!["Host(`a`)"; 5000].join(" || ");
    assert!(parse(&chain).is_ok());
}
