//! Tests for compiling route files into routers and for table lookup.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::util::{loopback, spec};
use std::sync::Arc;

use crate::route::{
    file_routers, normalize_host, RouteBuildError, RouteSpec, RouteTable, RouterDef, Service, Slots, TableBuilder,
    Target, Transport,
};
use crate::rule::{normalize_path, parse, RequestView};

fn files_table(routes: &[(&str, &str)]) -> RouteTable {
    let specs: Vec<_> = routes.iter().map(|(id, target)| spec(id, target)).collect();
    let mut services = Vec::new();
    let (routers, errors) = file_routers(&specs, &mut loopback, &mut services, &mut Slots::default());
    assert!(errors.is_empty(), "{errors:?}");
    RouteTable::build(routers, services)
}

/// Looks up like a worker: raw Host value and raw path, entrypoint `ep`.
fn hit_on<'a>(table: &'a RouteTable, host: &str, path: &str, ep: usize) -> Option<&'a str> {
    let mut host_buf = [0u8; 256];
    let host = normalize_host(host.as_bytes(), &mut host_buf).unwrap_or(b"");
    let mut path_buf = Vec::new();
    let path = normalize_path(path.as_bytes(), &mut path_buf).ok()?;
    let view = RequestView {
        method: b"GET",
        host,
        path,
        query: b"",
        buf: b"",
        headers: &[],
        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    table.lookup(&view, ep).map(|(router, _)| router.name.as_str())
}

fn hit<'a>(table: &'a RouteTable, host: &str, path: &str) -> Option<&'a str> {
    hit_on(table, host, path, 0)
}

#[test]
fn prefixes_match_on_whole_segments() {
    let t = files_table(&[("x.com/app", "app:1")]);
    for path in ["/app", "/app/", "/app/x", "/app//x", "/%61pp", "/x/../app"] {
        assert_eq!(hit(&t, "x.com", path), Some("x.com/app@routes"), "{path}");
    }
    for path in ["/application", "/ap", "/", "", "/App"] {
        assert_eq!(hit(&t, "x.com", path), None, "{path}");
    }
}

#[test]
fn longest_prefix_wins() {
    let t = files_table(&[
        ("x.com/", "root:1"),
        ("x.com/app", "app:1"),
        ("x.com/app/admin", "admin:1"),
    ]);
    assert_eq!(hit(&t, "x.com", "/"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", "/other"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", "*"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", "/application"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", "/app"), Some("x.com/app@routes"));
    assert_eq!(hit(&t, "x.com", "/app/administrator"), Some("x.com/app@routes"));
    assert_eq!(hit(&t, "x.com", "/app/admin"), Some("x.com/app/admin@routes"));
    assert_eq!(hit(&t, "x.com", "/app/admin/users/1"), Some("x.com/app/admin@routes"));
    assert_eq!(hit(&t, "y.com", "/app"), None);
}

#[test]
fn hosts_with_many_prefixes_use_the_same_rules() {
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
    let t = files_table(&routes);
    assert_eq!(hit(&t, "x.com", "/a/b/c/d"), Some("x.com/a/b/c@routes"));
    assert_eq!(hit(&t, "x.com", "/a/b/cd"), Some("x.com/a/b@routes"));
    assert_eq!(hit(&t, "x.com", "/a/b/"), Some("x.com/a/b@routes"));
    assert_eq!(hit(&t, "x.com", "/ab"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", "/i"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", "/i/j"), Some("x.com/i/j@routes"));
    assert_eq!(hit(&t, "x.com", "/i/jk/l"), Some("x.com@routes"));
    assert_eq!(hit(&t, "x.com", ""), Some("x.com@routes"));
}

#[test]
fn host_variants_match_the_normalised_host() {
    let t = files_table(&[("x.com", "x:1"), ("[::1]/v6", "v6:1")]);
    for host in [
        "x.com",
        "X.COM",
        "x.com:8080",
        "X.COM:8080",
        "x.com.",
        "X.Com.:8080",
        "x.com:",
    ] {
        assert_eq!(hit(&t, host, "/"), Some("x.com@routes"), "{host}");
    }
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
    assert_eq!(hit(&t, "[::1]:8080", "/v6/x"), Some("[::1]/v6@routes"));
    assert_eq!(hit(&t, "[0:0::1]", "/v6"), Some("[::1]/v6@routes"));
    assert_eq!(hit(&t, "::1", "/v6"), None);
}

#[test]
fn route_carries_its_service() {
    let t = files_table(&[("x.com/app", "http://App:3000/")]);
    let mut path = Vec::new();
    let view = RequestView {
        method: b"GET",
        host: b"x.com",
        path: normalize_path(b"/app/page", &mut path).expect("path"),
        query: b"",
        buf: b"",
        headers: &[],
        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let (router, service) = t.lookup(&view, 3).expect("route");
    assert_eq!(router.name, "x.com/app@routes");
    assert_eq!(router.priority, "Host(`x.com`) && PathPrefix(`/app`)".len() as i64);
    assert_eq!(service.name, "x.com/app@routes");
    assert!(service.pass_host_header);
    assert_eq!(service.servers.len(), 1);
    assert_eq!(service.servers[0].addr, SocketAddr::from(([127, 0, 0, 1], 3000)));
    assert_eq!(service.servers[0].authority, "127.0.0.1:3000");
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
    let mut services = Vec::new();
    let (routers, errors) = file_routers(&specs, &mut resolve, &mut services, &mut Slots::default());
    let names: Vec<_> = routers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["b.com@routes"]);
    assert_eq!(services.len(), 1);
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
fn duplicate_addresses_are_dropped_and_service_indices_are_offset() {
    let specs = [spec("a.com", "a:80"), spec("b.com", "b:80")];
    let addr = SocketAddr::from(([10, 0, 0, 1], 80));
    let mut services = vec![provider_service("p@http")];
    let mut slots = Slots::default();
    slots.place(Service::new("p@http".into(), Box::new([]), true));
    let (routers, _) = file_routers(&specs, &mut |_| Ok(vec![addr, addr]), &mut services, &mut slots);
    let placed: Vec<(&str, u32)> = routers
        .iter()
        .map(|r| (r.service.name.as_str(), r.service.first_slot))
        .collect();
    assert_eq!(placed, [("a.com@routes", 0), ("b.com@routes", 1)]);
    assert_eq!(services[1].servers.len(), 1);
    assert_eq!(slots.count(), 2, "one slot per distinct address");
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
    let mut services = Vec::new();
    let (routers, errors) = file_routers(&specs, &mut loopback, &mut services, &mut Slots::default());
    assert_eq!(
        routers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["c.com/x@routes"]
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors
        .iter()
        .any(|e| e.to_string() == r#"route "c.com/x" (later): duplicate of the route at test#c.com/x; ignored"#));
}

fn provider_service(name: &str) -> Arc<Service> {
    Arc::new(Service::new(name.into(), Box::new([]), true))
}

fn router(name: &str, rule: &str, priority: Option<i64>, entry_points: u64) -> RouterDef {
    let rule = parse(rule).expect(rule);
    let priority = priority.unwrap_or_else(|| rule.priority());
    RouterDef::new(
        name.into(),
        rule,
        priority,
        entry_points,
        Transport::Any,
        provider_service("s@http"),
    )
}

#[test]
fn routers_are_ordered_by_priority_then_name() {
    let routers = vec![
        router("b@http", "Host(`x.com`)", Some(5), u64::MAX),
        router("a@http", "Host(`x.com`)", Some(5), u64::MAX),
        router("c@http", "PathPrefix(`/`)", Some(9), u64::MAX),
        router("d@http", "Host(`x.com`) || Host(`y.com`)", None, u64::MAX),
    ];
    let t = RouteTable::build(routers, vec![provider_service("s@http")]);
    let names: Vec<_> = t.routers().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["d@http", "c@http", "a@http", "b@http"]);
    assert_eq!(hit(&t, "x.com", "/"), Some("d@http"));
    assert_eq!(hit(&t, "z.com", "/"), Some("c@http"));
    assert_eq!(t.services().len(), 1);
}

#[test]
fn host_index_and_fallbacks_merge_in_table_order() {
    let routers = vec![
        router("exact-high@http", "Host(`x.com`) && Path(`/a`)", Some(100), u64::MAX),
        router("fallback-mid@http", "PathPrefix(`/a`)", Some(50), u64::MAX),
        router("exact-low@http", "Host(`x.com`)", Some(10), u64::MAX),
        router("wild@http", "Host(`*.com`)", Some(5), u64::MAX),
        router("never@http", "Host(`x.com`) && Host(`y.com`)", Some(1000), u64::MAX),
    ];
    let t = RouteTable::build(routers, vec![provider_service("s@http")]);
    assert_eq!(hit(&t, "x.com", "/a"), Some("exact-high@http"));
    assert_eq!(hit(&t, "x.com", "/ab"), Some("fallback-mid@http"));
    assert_eq!(hit(&t, "x.com", "/b"), Some("exact-low@http"));
    assert_eq!(hit(&t, "y.com", "/b"), Some("wild@http"));
    assert_eq!(hit(&t, "y.org", "/b"), None);
}

#[test]
fn entry_point_bits_select_routers() {
    let routers = vec![
        router("web@http", "PathPrefix(`/`)", Some(10), 0b01),
        router("secure@http", "PathPrefix(`/`)", Some(5), 0b10),
        router("high@http", "PathPrefix(`/`)", Some(1), 1 << 63),
    ];
    let t = RouteTable::build(routers, vec![provider_service("s@http")]);
    assert_eq!(hit_on(&t, "x.com", "/", 0), Some("web@http"));
    assert_eq!(hit_on(&t, "x.com", "/", 1), Some("secure@http"));
    assert_eq!(hit_on(&t, "x.com", "/", 2), None);
    assert_eq!(hit_on(&t, "x.com", "/", 63), Some("high@http"));
    assert_eq!(hit_on(&t, "x.com", "/", 64), None);
}

#[test]
fn provider_and_file_routers_share_one_table() {
    let mut services = vec![provider_service("p@http")];
    let specs: Vec<RouteSpec> = ["x.com/app", "x.com"].iter().map(|id| spec(id, "up:1")).collect();
    let (mut routers, errors) = file_routers(&specs, &mut loopback, &mut services, &mut Slots::default());
    assert!(errors.is_empty());
    routers.push(router("p@http", "Host(`x.com`)", None, u64::MAX));
    routers.push(router(
        "api@http",
        "Host(`x.com`) && PathPrefix(`/app/api`)",
        None,
        u64::MAX,
    ));
    let t = RouteTable::build(routers, services);
    assert_eq!(hit(&t, "x.com", "/app/api/v1"), Some("api@http"));
    assert_eq!(hit(&t, "x.com", "/app/x"), Some("x.com/app@routes"));
    assert_eq!(
        hit(&t, "x.com", "/other"),
        Some("x.com@routes"),
        "route file beats a bare Host router"
    );
}

/// The lookup skips evaluating a rule the host index already decided (`Rule::decided_by_host`); it must still
/// return what evaluating every router's rule in table order returns.
#[test]
fn lookup_agrees_with_evaluating_every_rule_in_order() {
    const LONG: &str = "a-host-name-longer-than-thirty-bytes.example.com";
    let long_only = format!("Host(`{LONG}`)");
    let long_and_path = format!("Host(`{LONG}`) && Path(`/x`)");
    let rules = [
        "Host(`a.com`) && Path(`/x`)",
        "Host(`a.com`)",
        "Host(`b.com`) || Host(`a.com`)",
        "(Host(`a.com`) || Host(`c.com`)) && Host(`c.com`)",
        "Host(`a.com`) && Host(`b.com`)",
        "Host(`d.com`) && Method(`POST`)",
        "Host(`d.com`) || Host(`e.com`)",
        "Host(`*.a.com`) && Host(`x.a.com`)",
        "Host(`*.a.com`) && Host(`a.com`)",
        "PathPrefix(`/p`)",
        "Host(`e.com`) && !Path(`/`)",
        "Host(`c.com`) || Path(`/y`)",
        "Host(`.`)",
        "Host(`.`) || Host(`f.com`)",
        long_and_path.as_str(),
        long_only.as_str(),
    ];
    // Explicit priorities: earlier rules first, then later rules first. The route-file routes keep their own
    // (Traefik-length) priorities, so they sit above every provider router in the second order.
    for flip in [false, true] {
        let routers: Vec<RouterDef> = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let priority = if flip { i as i64 } else { 100 - i as i64 };
                router(&format!("r{i}@http"), rule, Some(priority), u64::MAX)
            })
            .collect();
        let files = files_table(&[("a.com", "a:1"), ("x.a.com/p", "p:1")]);
        let mut all: Vec<RouterDef> = routers;
        all.extend(files.routers().map(|r| (**r).clone()));
        let t = RouteTable::build(all, vec![provider_service("s@http")]);
        for host in [
            "a.com", "b.com", "c.com", "d.com", "e.com", "f.com", "x.a.com", "z.com", LONG, "",
        ] {
            for path in ["/", "/x", "/p/q", "/y"] {
                assert_eq!(
                    hit(&t, host, path),
                    by_evaluation(&t, host, path),
                    "flip {flip}, {host}{path}"
                );
            }
        }
    }
}

/// With no host-less router in the table, a host's only router is decided from its index entry: the answer must
/// still be the one evaluating every router in order gives, for every entrypoint and transport.
#[test]
fn a_hosts_only_router_is_decided_like_every_rule_in_order() {
    let lone = |name: &str, rule: &str, entry_points: u64, transport: Transport| {
        let rule = parse(rule).expect(rule);
        let priority = rule.priority();
        let service = Arc::new(Service::new(format!("{name}-svc"), Box::new([]), true));
        RouterDef::new(name.into(), rule, priority, entry_points, transport, service)
    };
    let routers = vec![
        lone("any@http", "Host(`a.com`)", u64::MAX, Transport::Any),
        lone("tls-only@http", "Host(`b.com`)", u64::MAX, Transport::Tls),
        lone("plain-ep1@http", "Host(`c.com`)", 0b10, Transport::Plain),
        lone(
            "path@http",
            "Host(`d.com`) && PathPrefix(`/api`)",
            u64::MAX,
            Transport::Any,
        ),
        lone("two-hosts@http", "Host(`e.com`) || Host(`f.com`)", 0b01, Transport::Tls),
        lone(
            "whole-host@http",
            "Host(`g.com`) && PathPrefix(`/`)",
            u64::MAX,
            Transport::Any,
        ),
    ];
    let t = RouteTable::build(routers, Vec::new());
    for host in ["a.com", "b.com", "c.com", "d.com", "e.com", "f.com", "g.com", "z.com"] {
        for path in ["/", "/api", "/api/x", "/apix"] {
            for ep in [0usize, 1, 2, 64] {
                for secure in [false, true] {
                    let view = RequestView {
                        method: b"GET",
                        host: host.as_bytes(),
                        path: path.as_bytes(),
                        query: b"",
                        buf: b"",
                        headers: &[],
                        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    };
                    let found = t.lookup_on(&view, ep, secure);
                    let expected = t
                        .routers()
                        .find(|r| r.on_entry_point(ep) && r.transport.serves(secure) && r.rule.matches(&view));
                    assert_eq!(
                        found.map(|(r, _)| r.name.as_str()),
                        expected.map(|r| r.name.as_str()),
                        "{host}{path} ep {ep} secure {secure}"
                    );
                    if let (Some((router, service)), Some(expected)) = (found, expected) {
                        assert!(std::ptr::eq(service, &*expected.service), "the router's own service");
                        assert_eq!(router.service.name, format!("{}-svc", router.name));
                    }
                }
            }
        }
    }
    assert_eq!(hit(&t, "d.com", "/api/x"), Some("path@http"));
    assert_eq!(hit(&t, "d.com", "/"), None, "a rule beyond Host() is still evaluated");
}

/// The first router in table order whose rule matches (GET, entrypoint 0), found without the index.
fn by_evaluation<'a>(table: &'a RouteTable, host: &str, path: &str) -> Option<&'a str> {
    let mut host_buf = [0u8; 256];
    let host = normalize_host(host.as_bytes(), &mut host_buf).unwrap_or(b"");
    let view = RequestView {
        method: b"GET",
        host,
        path: path.as_bytes(),
        query: b"",
        buf: b"",
        headers: &[],
        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    table.routers().find(|r| r.rule.matches(&view)).map(|r| r.name.as_str())
}

/// A table kept up to date router by router (the control thread's way) looks up like one built at once, as the
/// routers filed under one host go from several to one to none.
#[test]
fn a_table_changed_router_by_router_looks_up_like_a_fresh_one() {
    const LONG: &str = "a-host-name-longer-than-thirty-bytes.example.com";
    let long_rule = format!("Host(`{LONG}`) || Host(`a.com`)");
    let routers: Vec<Arc<RouterDef>> = [
        ("high@http", "Host(`a.com`) && Path(`/x`)", 30),
        ("mid@http", "Host(`a.com`)", 20),
        ("long@http", long_rule.as_str(), 10),
        ("other@http", "Host(`b.com`)", 5),
    ]
    .into_iter()
    .map(|(name, rule, priority)| Arc::new(router(name, rule, Some(priority), u64::MAX)))
    .collect();
    let mut builder = TableBuilder::default();
    for r in &routers {
        builder.insert_router(r.clone());
    }
    for removed in 0..=routers.len() {
        if removed > 0 {
            builder.remove_router(&routers[removed - 1]);
        }
        let kept: Vec<RouterDef> = routers[removed..].iter().map(|r| (**r).clone()).collect();
        let fresh = RouteTable::build(kept, vec![provider_service("s@http")]);
        let changed = builder.table(&Slots::default());
        for host in ["a.com", "b.com", LONG, "c.com"] {
            for path in ["/", "/x"] {
                assert_eq!(
                    hit(&changed, host, path),
                    hit(&fresh, host, path),
                    "{removed} removed, {host}{path}"
                );
            }
        }
    }
}
