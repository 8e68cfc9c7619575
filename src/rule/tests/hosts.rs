//! `Rule::hosts` (the index key set) and priorities.

use crate::rule::{parse, segment_prefix_rule};

fn hosts(rule: &str) -> Option<Vec<String>> {
    parse(rule).expect(rule).hosts()
}

fn list(hosts: &[&str]) -> Option<Vec<String>> {
    Some(hosts.iter().map(|h| h.to_string()).collect())
}

#[test]
fn host_sets() {
    assert_eq!(hosts("Host(`A.com.`)"), list(&["a.com"]));
    assert_eq!(hosts("Host(`b.com`) || Host(`a.com`)"), list(&["a.com", "b.com"]));
    assert_eq!(hosts("Host(`a.com`) || Host(`a.com`)"), list(&["a.com"]));
    assert_eq!(hosts("Host(`a.com`) && Path(`/x`)"), list(&["a.com"]));
    assert_eq!(
        hosts("(Host(`a.com`) || Host(`b.com`)) && Host(`b.com`)"),
        list(&["b.com"])
    );
    assert_eq!(hosts("Host(`a.com`) && Host(`b.com`)"), list(&[]));
    assert_eq!(hosts("Host(`a.com`) || Path(`/x`)"), None);
    assert_eq!(hosts("Host(`*.a.com`)"), None);
    assert_eq!(hosts("Host(`*`)"), None);
    assert_eq!(hosts("HostRegexp(`a`)"), None);
    assert_eq!(hosts("!Host(`a.com`)"), None);
    assert_eq!(hosts("!!Host(`a.com`)"), None);
    assert_eq!(hosts("Path(`/`)"), None);
    assert_eq!(hosts("Host(`*.a.com`) && Host(`x.a.com`)"), list(&["x.a.com"]));
    assert_eq!(hosts("Host(`::1`) || Host(`[::2]`)"), list(&["[::1]", "[::2]"]));
}

#[test]
fn default_priority_is_the_rule_length() {
    assert_eq!(parse("Host(`example.org`)").expect("rule").priority(), 19);
    assert!(
        parse("PathPrefix(`/without`)").expect("rule").priority()
            > parse("PathPrefix(`/with`)").expect("rule").priority()
    );
    assert_eq!(parse(" Host(`a`) ").expect("rule").priority(), 11);
}

#[test]
fn route_file_priority_beats_a_bare_host_and_grows_with_the_prefix() {
    let bare = parse("Host(`x.com`)").expect("rule").priority();
    let root = segment_prefix_rule("x.com", "");
    let app = segment_prefix_rule("x.com", "/app");
    let admin = segment_prefix_rule("x.com", "/app/admin");
    assert_eq!(root.priority(), "Host(`x.com`) && PathPrefix(``)".len() as i64);
    assert!(root.priority() > bare);
    assert!(app.priority() > root.priority());
    assert!(admin.priority() > app.priority());
    assert_eq!(app.hosts(), Some(vec!["x.com".to_string()]));
    assert_eq!(app.source(), "Host(`x.com`) && SegmentPrefix(`/app`)");
}

#[test]
fn rules_made_of_host_names_are_decided_by_the_host() {
    let decided = |rule: &str| parse(rule).expect(rule).decided_by_host();
    for rule in [
        "Host(`a.com`)",
        "Host(`a.com`) || Host(`b.com`)",
        "(Host(`a.com`) || Host(`b.com`)) && Host(`b.com`)",
        "Host(`a.com`) && Host(`b.com`)",
    ] {
        assert!(decided(rule), "{rule}");
    }
    assert!(segment_prefix_rule("x.com", "").decided_by_host());
    for rule in [
        "Host(`a.com`) && Path(`/x`)",
        "Host(`a.com`) || Path(`/x`)",
        "Host(`a.com`) && !Path(`/x`)",
        "Host(`a.com`) && Method(`GET`)",
        "Host(`*.a.com`) && Host(`x.a.com`)",
        "Host(`*`)",
        "HostRegexp(`a`)",
        "!Host(`a.com`)",
        "Path(`/`)",
        "Host(`.`)",
        "Host(`.`) || Host(`a.com`)",
    ] {
        assert!(!decided(rule), "{rule}");
    }
    assert!(!segment_prefix_rule("x.com", "/app").decided_by_host());
}

/// What [`Rule::decided_by_host`] promises: a request whose host is in the rule's host set matches, whatever its
/// method, path, query, headers or address.
#[test]
fn a_rule_decided_by_the_host_matches_every_request_for_its_hosts() {
    use super::util::req;
    let rules = [
        "Host(`a.com`)",
        "Host(`A.com.`) || Host(`b.com`)",
        "(Host(`a.com`) || Host(`c.com`)) && Host(`c.com`)",
        "Host(`[::1]`) || Host(`b.com`)",
    ];
    for text in rules {
        let rule = parse(text).expect(text);
        assert!(rule.decided_by_host(), "{text}");
        for host in rule.hosts().expect(text) {
            for (method, path, query) in [("GET", "/", ""), ("POST", "/x/y", "a=1"), ("DELETE", "*", "")] {
                let r = req()
                    .host(&host)
                    .method(method)
                    .path(path)
                    .query(query)
                    .header("X-Any", "1")
                    .ip("192.0.2.9");
                assert!(rule.matches(&r.view()), "{text} with host {host} {method} {path}");
            }
        }
    }
    let route = segment_prefix_rule("x.com", "");
    for path in ["/", "/deep/path", "", "*"] {
        assert!(route.matches(&req().host("x.com").path(path).view()), "{path}");
    }
}
