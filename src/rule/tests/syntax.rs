//! Accepted syntax: name spellings, string literals, whitespace.

use super::util::{error, matches, req};
use crate::rule::{parse, Expr, Matcher};

#[test]
fn matcher_names_in_four_spellings_only() {
    let r = req().path("/a");
    for name in ["PathPrefix", "pathprefix", "PATHPREFIX", "Pathprefix"] {
        assert!(matches(&format!("{name}(`/a`)"), &r), "{name}");
    }
    for name in ["pathPrefix", "PathPREFIX", "pATHPREFIX", "Path_Prefix"] {
        assert!(error(&format!("{name}(`/a`)")).contains("unknown matcher"), "{name}");
    }
    for name in ["ClientIP", "clientip", "CLIENTIP", "Clientip"] {
        assert!(parse(&format!("{name}(`10.0.0.1`)")).is_ok(), "{name}");
    }
    assert!(parse("ClientIp(`10.0.0.1`)").is_err());
    assert!(
        parse("SegmentPrefix(`/a`)").is_err(),
        "internal matcher is not reachable"
    );
}

#[test]
fn double_quoted_strings_use_go_escapes() {
    let arg = |rule: &str| match parse(rule).expect(rule).expr() {
        Expr::Matcher(Matcher::Path(p)) => p.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(arg(r#"Path("/a\"b")"#), "/a\"b");
    assert_eq!(arg(r#"Path("/a\\b")"#), "/a\\b");
    assert_eq!(arg(r#"Path("/a\nb\tc")"#), "/a\nb\tc");
    assert_eq!(arg(r#"Path("/\x41\101\u00e9\U0001F600")"#), "/AAé😀");
    assert_eq!(arg(r#"Path("/\a\b\f\r\v")"#), "/\x07\x08\x0c\r\x0b");
    assert_eq!(arg("Path(`/raw\\n`)"), "/raw\\n");
    assert_eq!(
        arg("Path(`/a\r\nb`)"),
        "/a\nb",
        "carriage returns dropped from raw strings"
    );
    assert!(error(r#"Path("/\q")"#).contains("unknown escape"));
    assert!(error(r#"Path("/\'")"#).contains("unknown escape"));
    assert!(error(r#"Path("/\xZZ")"#).contains("hex"));
    assert!(error(r#"Path("/\777")"#).contains("255"));
    assert!(error(r#"Path("/\uD800")"#).contains("Unicode"));
    assert!(error(r#"Path("/\xff")"#).contains("UTF-8"));
    assert!(error("Path(\"/a\nb\")").contains("newline"));
    assert!(error("Path('/a')").contains("unexpected character"));
}

#[test]
fn whitespace_newlines_and_trailing_commas_follow_go() {
    let r = req().host("a.com").path("/x");
    assert!(matches("  Host(`a.com`)\t&&\n  Path(`/x`)  ", &r));
    assert!(matches("Host ( `a.com` ) && Path(`/x`)\n", &r));
    assert!(matches("Header(`A`, `b`,) || Host(`a.com`)", &r));
    // A newline after an operand ends the expression.
    assert!(error("Host(`a.com`)\n&& Path(`/x`)").contains("found newline"));
}

#[test]
fn every_operator_and_nesting() {
    let r = req().host("a.com").path("/x").method("PUT");
    assert!(matches("((Host(`a.com`)))", &r));
    assert!(matches("Host(`b.com`) || (Path(`/x`) && !Method(`GET`))", &r));
    assert!(!matches("Host(`b.com`) || Path(`/y`) || Method(`GET`)", &r));
    assert!(matches("Host(`a.com`) && Path(`/x`) && Method(`PUT`)", &r));
}
