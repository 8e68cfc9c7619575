//! Per-matcher semantics, following Traefik v3's matcher tests.

use super::util::{matches, req};

#[test]
fn host_is_case_insensitive_and_ignores_port_and_trailing_dots() {
    let rule = "Host(`example.com`)";
    for host in [
        "example.com",
        "EXAMPLE.COM",
        "example.com:8080",
        "example.com.",
        "Example.Com.:443",
    ] {
        assert!(matches(rule, &req().host(host)), "{host}");
    }
    for host in ["example.org", "www.example.com", "", "example.com..", "xexample.com"] {
        assert!(!matches(rule, &req().host(host)), "{host}");
    }
    assert!(matches("Host(`EXAMPLE.com.`)", &req().host("example.com")));
    assert!(matches("HOST(`example.com`)", &req().host("example.com")));
    // A port in the rule never matches: the request host has none.
    assert!(!matches("Host(`example.com:8080`)", &req().host("example.com:8080")));
}

#[test]
fn host_wildcards() {
    let rule = "Host(`*.example.com`)";
    assert!(matches(rule, &req().host("a.example.com")));
    assert!(matches(rule, &req().host("A.Example.COM:80")));
    assert!(!matches(rule, &req().host("example.com")));
    assert!(!matches(rule, &req().host("a.b.example.com")));
    assert!(!matches(rule, &req().host("aexample.com")));
    assert!(matches("Host(`*`)", &req().host("anything.test")));
    assert!(!matches("Host(`*`)", &req()));
}

#[test]
fn host_ipv6_and_ipv4() {
    for rule in ["Host(`::1`)", "Host(`[::1]`)", "Host(`[0:0::1]`)"] {
        assert!(matches(rule, &req().host("[::1]:8080")), "{rule}");
        assert!(matches(rule, &req().host("[::1]")), "{rule}");
        assert!(!matches(rule, &req().host("[::2]")), "{rule}");
    }
    assert!(matches("Host(`10.0.0.1`)", &req().host("10.0.0.1:80")));
    assert!(matches("HostRegexp(`^::1$`)", &req().host("[::1]")));
}

#[test]
fn host_regexp_is_unanchored_on_the_lowercase_host() {
    assert!(matches("HostRegexp(`example`)", &req().host("www.EXAMPLE.com:80")));
    assert!(matches(
        "HostRegexp(`^[a-z]+\\.example\\.com$`)",
        &req().host("Foo.example.com")
    ));
    assert!(!matches(
        "HostRegexp(`^[a-z]+\\.example\\.com$`)",
        &req().host("foo.bar.example.com")
    ));
    assert!(!matches("HostRegexp(`EXAMPLE`)", &req().host("example.com")));
    // v2 syntax is a literal regexp, not a placeholder.
    assert!(!matches(
        "HostRegexp(`{sub:[a-z]+}.example.com`)",
        &req().host("a.example.com")
    ));
    assert!(matches("HostRegexp(`.*`)", &req()));
}

#[test]
fn path_is_exact() {
    assert!(matches("Path(`/foo`)", &req().path("/foo")));
    assert!(!matches("Path(`/foo`)", &req().path("/foo/")));
    assert!(!matches("Path(`/foo`)", &req().path("/FOO")));
    assert!(!matches("Path(`/foo`)", &req().path("/foobar")));
}

#[test]
fn path_prefix_has_no_segment_boundary() {
    assert!(matches("PathPrefix(`/with`)", &req().path("/with")));
    assert!(matches("PathPrefix(`/with`)", &req().path("/without")));
    assert!(matches("PathPrefix(`/with`)", &req().path("/with/x")));
    assert!(!matches("PathPrefix(`/with`)", &req().path("/wit")));
    assert!(matches("PathPrefix(`/`)", &req().path("/anything")));
}

#[test]
fn path_regexp_is_unanchored() {
    assert!(matches("PathRegexp(`\\.css$`)", &req().path("/static/a.css")));
    assert!(matches("PathRegexp(`foo`)", &req().path("/x/foo/y")));
    assert!(!matches("PathRegexp(`^/foo`)", &req().path("/x/foo")));
}

#[test]
fn method_is_uppercased_in_the_rule_only() {
    assert!(matches("Method(`get`)", &req().method("GET")));
    assert!(matches("Method(`POST`)", &req().method("POST")));
    assert!(!matches("Method(`GET`)", &req().method("get")));
    assert!(!matches("Method(`GET`)", &req().method("POST")));
}

#[test]
fn header_matches_any_single_line_with_case_insensitive_names() {
    let r = req().header("X-Custom", "a, b").header("x-custom", "c");
    assert!(matches("Header(`X-Custom`, `c`)", &r));
    assert!(matches("Header(`x-CUSTOM`, `a, b`)", &r));
    assert!(!matches("Header(`X-Custom`, `a`)", &r));
    assert!(!matches("Header(`X-Other`, `c`)", &r));
    // Go keeps `Host` out of the header map.
    let h = req().header("Host", "x.com").host("x.com");
    assert!(!matches("Header(`Host`, `x.com`)", &h));
}

#[test]
fn header_regexp() {
    let r = req().header("Content-Type", "application/json; charset=utf-8");
    assert!(matches("HeaderRegexp(`Content-Type`, `json`)", &r));
    assert!(matches("HeaderRegexp(`content-type`, `^application/`)", &r));
    assert!(!matches("HeaderRegexp(`Content-Type`, `^json`)", &r));
    assert!(!matches("HeaderRegexp(`Accept`, `.*`)", &r));
}

#[test]
fn query_decodes_and_accepts_repeats_and_semicolons() {
    assert!(matches("Query(`foo`, `bar`)", &req().query("foo=bar")));
    assert!(matches("Query(`foo`, `bar`)", &req().query("a=1&foo=baz&foo=bar")));
    assert!(matches("Query(`foo`, `bar`)", &req().query("a=1;foo=bar")));
    assert!(matches("Query(`foo`, `b r`)", &req().query("foo=b+r")));
    assert!(matches("Query(`foo`, `b r`)", &req().query("f%6Fo=b%20r")));
    assert!(matches("Query(`a b`, `x`)", &req().query("a+b=x")));
    assert!(!matches("Query(`foo`, `bar`)", &req().query("foo=barx")));
    assert!(!matches("Query(`foo`, `bar`)", &req().query("Foo=bar")));
    assert!(!matches("Query(`foo`, `bar`)", &req().query("")));
    // A pair with a bad escape is dropped, as Go's ParseQuery does.
    assert!(!matches("Query(`foo`, `bar`)", &req().query("foo=bar%zz")));
    assert!(!matches("Query(`foo`, `bar`)", &req().query("foo=bar%")));
    assert!(matches("Query(`foo`, `bar`)", &req().query("foo=bar%zz&foo=bar")));
}

#[test]
fn query_one_argument_needs_an_empty_value() {
    assert!(matches("Query(`debug`)", &req().query("debug")));
    assert!(matches("Query(`debug`)", &req().query("debug=")));
    assert!(matches("Query(`debug`)", &req().query("debug=1&debug")));
    assert!(!matches("Query(`debug`)", &req().query("debug=1")));
    assert!(!matches("Query(`debug`)", &req().query("x=debug")));
    assert!(matches("QueryRegexp(`debug`)", &req().query("debug")));
    assert!(!matches("QueryRegexp(`debug`)", &req().query("debug=1")));
}

#[test]
fn query_regexp_matches_decoded_values() {
    assert!(matches("QueryRegexp(`id`, `^[0-9]+$`)", &req().query("id=42")));
    assert!(!matches("QueryRegexp(`id`, `^[0-9]+$`)", &req().query("id=4x2")));
    assert!(matches("QueryRegexp(`q`, `^a b$`)", &req().query("q=a+b")));
    assert!(matches("QueryRegexp(`q`, `^a/b$`)", &req().query("q=a%2Fb")));
    let long = format!("q={}", "%41".repeat(2000));
    assert!(matches("QueryRegexp(`q`, `^A{2000}$`)", &req().query(&long)));
}

#[test]
fn client_ip_addresses_and_networks() {
    assert!(matches("ClientIP(`10.0.0.1`)", &req().ip("10.0.0.1")));
    assert!(!matches("ClientIP(`10.0.0.1`)", &req().ip("10.0.0.2")));
    assert!(matches("ClientIP(`10.0.0.0/8`)", &req().ip("10.200.1.1")));
    assert!(matches("ClientIP(`10.1.2.3/8`)", &req().ip("10.200.1.1")));
    assert!(!matches("ClientIP(`10.0.0.0/8`)", &req().ip("11.0.0.1")));
    assert!(matches("ClientIP(`0.0.0.0/0`)", &req().ip("8.8.8.8")));
    assert!(!matches("ClientIP(`0.0.0.0/0`)", &req().ip("::1")));
    assert!(matches("ClientIP(`::1`)", &req().ip("::1")));
    assert!(matches("ClientIP(`2001:db8::/32`)", &req().ip("2001:db8:1::5")));
    assert!(!matches("ClientIP(`2001:db8::/32`)", &req().ip("2001:db9::5")));
    // IPv4-mapped addresses compare as IPv4.
    assert!(matches("ClientIP(`10.0.0.1`)", &req().ip("::ffff:10.0.0.1")));
    assert!(matches("ClientIP(`::ffff:10.0.0.1`)", &req().ip("10.0.0.1")));
    assert!(matches("ClientIP(`10.0.0.0/24`)", &req().ip("::ffff:10.0.0.9")));
}

#[test]
fn operators_and_precedence() {
    let a = || req().host("a.com");
    // `&&` binds tighter than `||`: Host(a) || (Host(b) && Path(c)).
    let rule = "Host(`a.com`) || Host(`b.com`) && Path(`/c`)";
    assert!(matches(rule, &a().path("/x")));
    assert!(matches(rule, &req().host("b.com").path("/c")));
    assert!(!matches(rule, &req().host("b.com").path("/x")));
    let grouped = "(Host(`a.com`) || Host(`b.com`)) && Path(`/c`)";
    assert!(!matches(grouped, &a().path("/x")));
    assert!(matches(grouped, &a().path("/c")));
    // `!` binds tightest.
    assert!(matches("!Host(`b.com`) && Path(`/c`)", &a().path("/c")));
    assert!(!matches("!(Host(`a.com`) && Path(`/c`))", &a().path("/c")));
    assert!(matches("!!Host(`a.com`)", &a()));
}

#[test]
fn de_morgan() {
    let cases = [("a.com", "/x"), ("a.com", "/c"), ("b.com", "/c"), ("b.com", "/x")];
    for (host, path) in cases {
        let r = req().host(host).path(path);
        assert_eq!(
            matches("!(Host(`a.com`) && Path(`/c`))", &r),
            matches("!Host(`a.com`) || !Path(`/c`)", &r),
            "{host}{path}"
        );
        assert_eq!(
            matches("!(Host(`a.com`) || Path(`/c`))", &r),
            matches("!Host(`a.com`) && !Path(`/c`)", &r),
            "{host}{path}"
        );
    }
    assert!(matches(
        "!(Host(`a.com`) || Path(`/c`))",
        &req().host("b.com").path("/x")
    ));
}

#[test]
fn segment_prefix_matches_whole_segments() {
    let rule = crate::rule::segment_prefix_rule("x.com", "/app");
    let on = |path: &str| rule.matches(&req().host("x.com").path(path).view());
    assert!(on("/app"));
    assert!(on("/app/"));
    assert!(on("/app/x"));
    assert!(!on("/application"));
    assert!(!on("/ap"));
    assert!(!on("/"));
    let all = crate::rule::segment_prefix_rule("x.com", "");
    assert!(all.matches(&req().host("X.com:80").path("/anything").view()));
    assert!(!all.matches(&req().host("y.com").path("/").view()));
}
