//! Fuzzing the rule parser: any text either parses or is refused with an error whose position
//! lies within the text (never a panic), and every accepted rule prints (Display) to text that
//! parses back to an equal AST (`Rule::expr()` equality) and prints the same again. The default
//! priority is the length of the text. Accepted rules are also asked for their hosts and
//! evaluated against a fixed request.

#![no_main]

use std::net::{IpAddr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use ringress::rule::{parse, RequestView};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rule = match parse(text) {
        Ok(rule) => rule,
        Err(error) => {
            assert!(error.position <= text.len(), "{error} beyond the end of {text:?}");
            let _ = error.to_string();
            return;
        }
    };
    assert_eq!(rule.priority(), text.len() as i64);
    let printed = rule.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(again.expr(), rule.expr(), "{text:?} printed as {printed:?}");
    assert_eq!(again.priority(), printed.len() as i64);
    assert_eq!(again.to_string(), printed, "printing is not stable");
    let _ = rule.hosts();
    let view = RequestView {
        method: b"GET",
        host: b"a.example.com",
        path: b"/a/b",
        query: b"a=1&b=%41+&c;d",
        buf: b"",
        headers: &[],
        client_ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    let _ = rule.matches(&view);
});
