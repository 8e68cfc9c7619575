//! Tests for building the route table and for lookup semantics.

use std::io;
use std::net::SocketAddr;

use super::util::{loopback, spec};
use crate::route::{RouteBuildError, RouteSpec, RouteTable, Target};

fn table(routes: &[(&str, &str)]) -> RouteTable {
    let specs: Vec<_> = routes.iter().map(|(id, target)| spec(id, target)).collect();
    let (table, errors) = RouteTable::build(&specs, &mut loopback);
    assert!(errors.is_empty(), "{errors:?}");
    table
}

fn hit<'a>(table: &'a RouteTable, host: &str, path: &str) -> Option<&'a str> {
    table
        .lookup(host.as_bytes(), path.as_bytes())
        .map(|route| route.id.as_str())
}

#[test]
fn prefixes_match_on_whole_segments() {
    let t = table(&[("x.com/app", "app:1")]);
    assert_eq!(hit(&t, "x.com", "/app"), Some("x.com/app"));
    assert_eq!(hit(&t, "x.com", "/app/"), Some("x.com/app"));
    assert_eq!(hit(&t, "x.com", "/app/x"), Some("x.com/app"));
    assert_eq!(hit(&t, "x.com", "/app//x"), Some("x.com/app"));
    assert_eq!(hit(&t, "x.com", "/application"), None);
    assert_eq!(hit(&t, "x.com", "/ap"), None);
    assert_eq!(hit(&t, "x.com", "/"), None);
    assert_eq!(hit(&t, "x.com", ""), None);
    // Case-sensitive raw bytes, no percent-decoding.
    assert_eq!(hit(&t, "x.com", "/App"), None);
    assert_eq!(hit(&t, "x.com", "/%61pp"), None);
}

#[test]
fn longest_prefix_wins() {
    let t = table(&[
        ("x.com/", "root:1"),
        ("x.com/app", "app:1"),
        ("x.com/app/admin", "admin:1"),
    ]);
    assert_eq!(hit(&t, "x.com", "/"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "/other"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "*"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "/application"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "/app"), Some("x.com/app"));
    assert_eq!(hit(&t, "x.com", "/app/administrator"), Some("x.com/app"));
    assert_eq!(hit(&t, "x.com", "/app/admin"), Some("x.com/app/admin"));
    assert_eq!(hit(&t, "x.com", "/app/admin/users/1"), Some("x.com/app/admin"));
    assert_eq!(hit(&t, "y.com", "/app"), None);
}

#[test]
fn hosts_with_many_prefixes_use_the_same_rules() {
    // More prefixes than the linear-scan limit, so the indexed path is used.
    let ids = [
        "x.com",
        "x.com/a",
        "x.com/a/b",
        "x.com/a/b/c",
        "x.com/b",
        "x.com/c",
        "x.com/d",
        "x.com/e",
        "x.com/f",
        "x.com/g",
        "x.com/h",
        "x.com/i/j",
    ];
    let routes: Vec<_> = ids.iter().map(|id| (*id, "up:1")).collect();
    let t = table(&routes);
    assert_eq!(hit(&t, "x.com", "/a/b/c/d"), Some("x.com/a/b/c"));
    assert_eq!(hit(&t, "x.com", "/a/b/cd"), Some("x.com/a/b"));
    assert_eq!(hit(&t, "x.com", "/a/b/"), Some("x.com/a/b"));
    assert_eq!(hit(&t, "x.com", "/ab"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "/i"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "/i/j"), Some("x.com/i/j"));
    assert_eq!(hit(&t, "x.com", "/i/jk/l"), Some("x.com"));
    assert_eq!(hit(&t, "x.com", "/h/xxxxxxxxxxxxxxxxxxxxxxxxx"), Some("x.com/h"));
    assert_eq!(hit(&t, "x.com", ""), Some("x.com"));
}

#[test]
fn host_variants_match_the_normalised_host() {
    let t = table(&[("x.com", "x:1"), ("[::1]/v6", "v6:1")]);
    for host in [
        "x.com",
        "X.COM",
        "x.com:8080",
        "X.COM:8080",
        "x.com.",
        "X.Com.:8080",
        "x.com:",
    ] {
        assert_eq!(hit(&t, host, "/"), Some("x.com"), "{host}");
    }
    // The dot belongs before the port: after it, `8080.` is not a port.
    for host in [
        "X.COM:8080.",
        "x.com..",
        "x.com:http",
        "x.co",
        "xx.com",
        "",
        "x.com:8080:1",
    ] {
        assert_eq!(hit(&t, host, "/"), None, "{host}");
    }
    assert_eq!(hit(&t, "[::1]:8080", "/v6/x"), Some("[::1]/v6"));
    assert_eq!(hit(&t, "[0:0::1]", "/v6"), Some("[::1]/v6"));
    assert_eq!(hit(&t, "::1", "/v6"), None);
}

#[test]
fn route_carries_upstreams_and_target() {
    let t = table(&[("x.com/app", "http://App:3000/")]);
    let route = t.lookup(b"x.com", b"/app/page").expect("route");
    assert_eq!(
        route.target,
        Target {
            host: "app".into(),
            port: 3000
        }
    );
    assert_eq!(&*route.upstreams, [SocketAddr::from(([127, 0, 0, 1], 3000))]);
    assert_eq!(route.source, "test#x.com/app");
    assert_eq!(t.len(), 1);
    assert!(!t.is_empty());
    assert!(RouteTable::default().is_empty());
}

#[test]
fn unresolvable_targets_skip_only_their_routes() {
    let specs = [
        spec("a.com", "down.invalid:80"),
        spec("b.com", "up:80"),
        spec("c.com", "down.invalid:80"),
        spec("d.com", "empty:80"),
    ];
    let mut calls = Vec::new();
    let mut resolve = |target: &Target| -> io::Result<Vec<SocketAddr>> {
        calls.push(target.to_string());
        match target.host.as_str() {
            "empty" => Ok(Vec::new()),
            _ => loopback(target),
        }
    };
    let (t, errors) = RouteTable::build(&specs, &mut resolve);
    let ids: Vec<_> = t.routes().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b.com"]);
    assert_eq!(
        calls,
        ["down.invalid:80", "up:80", "empty:80"],
        "each target resolved once"
    );
    assert!(matches!(
        errors.as_slice(),
        [
            RouteBuildError::Resolve { .. },
            RouteBuildError::Resolve { .. },
            RouteBuildError::NoAddresses { .. }
        ]
    ));
    assert_eq!(
        errors[0].to_string(),
        r#"route "a.com" (test#a.com): target down.invalid:80 does not resolve: no such host; skipped"#
    );
}

#[test]
fn duplicate_addresses_are_dropped() {
    let specs = [spec("a.com", "a:80")];
    let addr = SocketAddr::from(([10, 0, 0, 1], 80));
    let (t, _) = RouteTable::build(&specs, &mut |_| Ok(vec![addr, addr]));
    assert_eq!(t.routes().map(|r| r.upstreams.len()).sum::<usize>(), 1);
}

#[test]
fn duplicates_and_hand_made_bad_specs_are_reported() {
    let mut upper = spec("a.com", "a:80");
    upper.host = "A.com".into();
    let mut slash = spec("b.com/x", "b:80");
    slash.prefix = "/x/".into();
    let first = spec("c.com/x", "one:80");
    let mut second = spec("c.com/x/", "two:80");
    second.source = "later".into();
    let specs = [upper, slash, first, second];
    let (t, errors) = RouteTable::build(&specs, &mut loopback);
    assert_eq!(t.routes().map(|r| r.target.host.as_str()).collect::<Vec<_>>(), ["one"]);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors
        .iter()
        .any(|e| e.to_string() == r#"route "c.com/x" (later): duplicate of the route at test#c.com/x; ignored"#));
}

#[test]
fn routes_are_listed_by_host_then_prefix() {
    let specs: Vec<RouteSpec> = ["b.com/z", "a.com/b", "b.com", "a.com"]
        .iter()
        .map(|id| spec(id, "up:1"))
        .collect();
    let (t, _) = RouteTable::build(&specs, &mut loopback);
    let ids: Vec<_> = t.routes().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a.com", "a.com/b", "b.com", "b.com/z"]);
}
