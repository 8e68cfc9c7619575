//! Fuzzing the Traefik dynamic-configuration decoder (`provider::dynamic::decode`) and the compile step after it
//! (`control::compile::compile`).
//!
//! Each input is used twice:
//! - as raw bytes: `decode` must never panic, whatever they are;
//! - as `arbitrary` data for a generated JSON body: an `http` section with routers and services maps whose names
//!   collide (also across `@provider` suffixes), keys in every spelling (Traefik's keys are case-insensitive) and
//!   sometimes repeated, rules from the rule language or random text, server URLs from a list of tricky ones or random
//!   text, weights and priorities as numbers, numeric text or the wrong type, `tls` sections with resolvers, domains
//!   and options, unknown keys and unsupported sections. Such a body has one well-shaped `http` section, so `decode`
//!   must accept it (bad entries are isolated, never fatal).
//!
//! Whenever `decode` succeeds, `compile` (with a resolver that maps every host to 127.0.0.1 without DNS, except two
//! names that fail and resolve to nothing) must not panic, and:
//! - every enabled router in the report has a rule that parses;
//! - the table holds exactly the enabled routers (same names, rules and priorities), each with a service, the
//!   transport its `tls` section implies (TLS only with one, plain only without) and a rule equal to the parsed one;
//! - the report lists every decoded and every rejected router, sorted by name; certificates are only asked for by
//!   enabled routers;
//! - decoded routers have a non-empty rule and decoded servers a non-empty URL.
//!
//! Lookups on the compiled table are exercised for each enabled router's hosts (no assertion on the result: the
//! `matcher` target checks lookup).

#![no_main]

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ringress::control::compile::compile;
use ringress::http1::{Header, HeaderKind, Span};
use ringress::provider::dynamic::{decode, Dynamic, ServiceKind};
use ringress::route::{RouterDef, Target, Transport};
use ringress::rule::{parse, RequestView};

// ---------------------------------------------------------------------------------------------------------------------
// A JSON writer that can repeat keys (serde_json's maps cannot).
// ---------------------------------------------------------------------------------------------------------------------

enum Json {
    Null,
    Bool(bool),
    /// A number, as written.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => out.push_str(&serde_json::to_string(s).expect("a string serializes")),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Json::Str(key.clone()).write(out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// The generated configuration
// ---------------------------------------------------------------------------------------------------------------------

const ROUTER_NAMES: [&str; 7] = ["a", "b", "app-1", "a@http", "x@internal", "\u{fc}", ""];
const SERVICE_NAMES: [&str; 6] = ["a", "b", "svc", "a@http", "api@internal", ""];
const ENTRY_POINTS: [&str; 6] = ["web", "websecure", "admin", "nope", "WEB", ""];
const MIDDLEWARES: [&str; 3] = ["auth", "strip@file", ""];
const RESOLVERS: [&str; 3] = ["le", "", "other"];
const DOMAINS: [&str; 6] = ["a.example", "*.example", "A.Example", "", "b.example", "x"];
const URLS: [&str; 20] = [
    "http://10.0.0.1:80",
    "http://app",
    "http://app:8080/base?x#y",
    "http://[::1]:81",
    "http://[::1]",
    "https://x:443",
    "http://u:p@h:80",
    "http://h:0",
    "http://h:99999",
    "http://",
    "app:80",
    "HTTP://UPPER.Example:1",
    "http://unresolvable.test:80",
    "http://empty.test:80",
    "http://h:80:80",
    "http://[fe80::1%25eth0]:80",
    "http://\u{e4}.test",
    " http://sp:80",
    "http://h:-1",
    "http://a.example.:80/",
];
const HOSTS: [&str; 9] = [
    "a.example",
    "A.EXAMPLE.",
    "*.example",
    "*",
    "[::1]",
    "::1",
    "10.0.0.1",
    "",
    "a b",
];
const PATHS: [&str; 6] = ["/", "/a", "/a/", "", "a", "/%61"];
const REGEXPS: [&str; 6] = ["^a", "(", "[a-z]+\\.example$", "", "\\", "a{1000}{1000}"];
const METHODS: [&str; 4] = ["GET", "post", "", "G T"];
const IPS: [&str; 6] = ["10.0.0.0/8", "::1", "1.2.3.4/33", "fe80::/10", "x", ""];

/// A key in one of four spellings, as Traefik's decoder accepts them all.
fn spell(key: &str, variant: u8) -> String {
    match variant % 4 {
        0 => key.to_owned(),
        1 => key.to_ascii_lowercase(),
        2 => key.to_ascii_uppercase(),
        _ => key
            .chars()
            .enumerate()
            .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
            .collect(),
    }
}

fn pick<'a>(list: &[&'a str], n: u8) -> &'a str {
    list[usize::from(n) % list.len()]
}

#[derive(Arbitrary, Debug)]
enum RuleIn {
    Host(u8),
    HostRegexp(u8),
    Path(u8),
    PathPrefix(u8),
    PathRegexp(u8),
    Method(u8),
    Header(u8, u8),
    HeaderRegexp(u8, u8),
    Query(u8),
    QueryRegexp(u8, u8),
    ClientIp(u8),
    Not(Box<RuleIn>),
    And(Box<RuleIn>, Box<RuleIn>),
    Or(Box<RuleIn>, Box<RuleIn>),
}

/// Renders a rule; past depth 5 every node becomes a leaf.
fn render(rule: &RuleIn, depth: usize, out: &mut String) {
    let leaf = depth > 5;
    let _ = match rule {
        RuleIn::Host(h) => write!(out, "Host(`{}`)", pick(&HOSTS, *h)),
        RuleIn::HostRegexp(r) => write!(out, "HostRegexp(`{}`)", pick(&REGEXPS, *r)),
        RuleIn::Path(p) => write!(out, "Path(`{}`)", pick(&PATHS, *p)),
        RuleIn::PathPrefix(p) => write!(out, "pathprefix(`{}`)", pick(&PATHS, *p)),
        RuleIn::PathRegexp(r) => write!(out, "PathRegexp(\"{}\")", pick(&REGEXPS, *r)),
        RuleIn::Method(m) => write!(out, "Method(`{}`)", pick(&METHODS, *m)),
        RuleIn::Header(n, v) => write!(out, "Header(`X-{n}`, `{}`)", pick(&PATHS, *v)),
        RuleIn::HeaderRegexp(n, r) => write!(out, "HeaderRegexp(`X-{n}`, `{}`)", pick(&REGEXPS, *r)),
        RuleIn::Query(k) => write!(out, "Query(`k{k}`)"),
        RuleIn::QueryRegexp(k, r) => write!(out, "QueryRegexp(`k{k}`, `{}`)", pick(&REGEXPS, *r)),
        RuleIn::ClientIp(ip) => write!(out, "ClientIP(`{}`)", pick(&IPS, *ip)),
        RuleIn::Not(_) | RuleIn::And(..) | RuleIn::Or(..) if leaf => write!(out, "PathPrefix(`/`)"),
        RuleIn::Not(inner) => {
            out.push('!');
            render(inner, depth + 1, out);
            Ok(())
        }
        RuleIn::And(a, b) | RuleIn::Or(a, b) => {
            out.push('(');
            render(a, depth + 1, out);
            out.push_str(if matches!(rule, RuleIn::And(..)) {
                " && "
            } else {
                " || "
            });
            render(b, depth + 1, out);
            out.push(')');
            Ok(())
        }
    };
}

#[derive(Arbitrary, Debug)]
enum RuleText {
    Generated(RuleIn),
    Text(String),
    Number(i32),
    Missing,
    Blank,
}

/// A value meant as a whole number, in the shapes a control plane might send.
#[derive(Arbitrary, Debug)]
enum NumIn {
    Int(i64),
    Text(i16),
    Padded(i8),
    Float(f32),
    Huge,
    Garbage(String),
    Bool(bool),
    List,
    Null,
}

impl NumIn {
    fn json(&self) -> Json {
        match self {
            NumIn::Int(n) => Json::Num(n.to_string()),
            NumIn::Text(n) => Json::Str(n.to_string()),
            NumIn::Padded(n) => Json::Str(format!(" {n} ")),
            NumIn::Float(f) if f.is_finite() => Json::Num(format!("{f:?}")),
            NumIn::Float(_) => Json::Num("1e300".into()),
            NumIn::Huge => Json::Num("18446744073709551615".into()),
            NumIn::Garbage(s) => Json::Str(s.clone()),
            NumIn::Bool(b) => Json::Bool(*b),
            NumIn::List => Json::Arr(vec![Json::Num("1".into())]),
            NumIn::Null => Json::Null,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum FlagIn {
    Bool(bool),
    Text(u8),
    Number,
}

impl FlagIn {
    fn json(&self) -> Json {
        match self {
            FlagIn::Bool(b) => Json::Bool(*b),
            FlagIn::Text(n) => Json::Str(pick(&["true", "False", "1", "t", "yes", " 0 "], *n).into()),
            FlagIn::Number => Json::Num("1".into()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum NameIn {
    Pick(u8),
    Number(u16),
    Text(String),
    Wrong,
}

impl NameIn {
    fn json(&self, list: &[&str]) -> Json {
        match self {
            NameIn::Pick(n) => Json::Str(pick(list, *n).into()),
            NameIn::Number(n) => Json::Num(n.to_string()),
            NameIn::Text(s) => Json::Str(s.clone()),
            NameIn::Wrong => Json::Obj(Vec::new()),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct TlsIn {
    cert_resolver: Option<NameIn>,
    domains: Option<Vec<(Option<NameIn>, Vec<u8>)>>,
    options: Option<NameIn>,
    unknown: bool,
    spelling: u8,
}

impl TlsIn {
    fn json(&self) -> Json {
        let mut o = Vec::new();
        if let Some(r) = &self.cert_resolver {
            o.push((spell("certResolver", self.spelling), r.json(&RESOLVERS)));
        }
        if let Some(domains) = &self.domains {
            let items = domains
                .iter()
                .take(4)
                .map(|(main, sans)| {
                    let mut d = Vec::new();
                    if let Some(main) = main {
                        d.push(("main".to_owned(), main.json(&DOMAINS)));
                    }
                    let sans = sans
                        .iter()
                        .take(3)
                        .map(|&s| Json::Str(pick(&DOMAINS, s).into()))
                        .collect();
                    d.push((spell("sans", self.spelling), Json::Arr(sans)));
                    Json::Obj(d)
                })
                .collect();
            o.push(("domains".to_owned(), Json::Arr(items)));
        }
        if let Some(opt) = &self.options {
            o.push(("options".to_owned(), opt.json(&["default", "modern"])));
        }
        if self.unknown {
            o.push(("passthrough".to_owned(), Json::Bool(true)));
        }
        Json::Obj(o)
    }
}

#[derive(Arbitrary, Debug)]
enum TlsSection {
    Section(TlsIn),
    Empty,
    Null,
    WrongShape,
}

#[derive(Arbitrary, Debug)]
struct RouterIn {
    name: u8,
    rule: RuleText,
    service: Option<NameIn>,
    entry_points: Option<Vec<u8>>,
    priority: Option<NumIn>,
    tls: Option<TlsSection>,
    middlewares: Option<Vec<u8>>,
    unknown: bool,
    repeat_rule: bool,
    spelling: u8,
}

impl RouterIn {
    fn json(&self) -> Json {
        let s = self.spelling;
        let mut o = Vec::new();
        let rule = match &self.rule {
            RuleText::Generated(rule) => {
                let mut text = String::new();
                render(rule, 0, &mut text);
                Some(Json::Str(text))
            }
            RuleText::Text(text) => Some(Json::Str(text.clone())),
            RuleText::Number(n) => Some(Json::Num(n.to_string())),
            RuleText::Missing => None,
            RuleText::Blank => Some(Json::Str(" \t".into())),
        };
        if let Some(rule) = rule {
            o.push((spell("rule", s), rule));
        }
        if self.repeat_rule {
            o.push(("RULE".to_owned(), Json::Str("Host(`dup.example`)".into())));
        }
        if let Some(service) = &self.service {
            o.push((spell("service", s >> 2), service.json(&SERVICE_NAMES)));
        }
        if let Some(eps) = &self.entry_points {
            let eps = eps
                .iter()
                .take(4)
                .map(|&e| Json::Str(pick(&ENTRY_POINTS, e).into()))
                .collect();
            o.push((spell("entryPoints", s >> 4), Json::Arr(eps)));
        }
        if let Some(p) = &self.priority {
            o.push((spell("priority", s >> 6), p.json()));
        }
        match &self.tls {
            None => {}
            Some(TlsSection::Section(tls)) => o.push(("tls".to_owned(), tls.json())),
            Some(TlsSection::Empty) => o.push(("TLS".to_owned(), Json::Obj(Vec::new()))),
            Some(TlsSection::Null) => o.push(("tls".to_owned(), Json::Null)),
            Some(TlsSection::WrongShape) => o.push(("tls".to_owned(), Json::Str("true".into()))),
        }
        if let Some(mws) = &self.middlewares {
            let mws = mws
                .iter()
                .take(3)
                .map(|&m| Json::Str(pick(&MIDDLEWARES, m).into()))
                .collect();
            o.push(("middlewares".to_owned(), Json::Arr(mws)));
        }
        if self.unknown {
            o.push(("ruleSyntax".to_owned(), Json::Str("v3".into())));
            o.push(("colour".to_owned(), Json::Str("blue".into())));
        }
        Json::Obj(o)
    }
}

#[derive(Arbitrary, Debug)]
enum UrlIn {
    Pick(u8),
    Text(String),
    Number,
    Missing,
}

#[derive(Arbitrary, Debug)]
struct ServerIn {
    url: UrlIn,
    weight: Option<NumIn>,
    preserve_path: Option<FlagIn>,
}

impl ServerIn {
    fn json(&self) -> Json {
        let mut o = Vec::new();
        match &self.url {
            UrlIn::Pick(n) => o.push(("url".to_owned(), Json::Str(pick(&URLS, *n).into()))),
            UrlIn::Text(s) => o.push(("URL".to_owned(), Json::Str(s.clone()))),
            UrlIn::Number => o.push(("url".to_owned(), Json::Num("80".into()))),
            UrlIn::Missing => {}
        }
        if let Some(w) = &self.weight {
            o.push(("weight".to_owned(), w.json()));
        }
        if let Some(p) = &self.preserve_path {
            o.push(("preservePath".to_owned(), p.json()));
        }
        Json::Obj(o)
    }
}

#[derive(Arbitrary, Debug)]
enum ServiceIn {
    LoadBalancer {
        servers: Option<Vec<Option<ServerIn>>>,
        pass_host_header: Option<FlagIn>,
        health_check: bool,
        strategy: Option<u8>,
        sticky: bool,
        spelling: u8,
    },
    Weighted,
    Mirroring,
    TwoTypes,
    NoType,
    WrongShape,
}

impl ServiceIn {
    fn json(&self) -> Json {
        match self {
            ServiceIn::LoadBalancer {
                servers,
                pass_host_header,
                health_check,
                strategy,
                sticky,
                spelling,
            } => {
                let mut lb = Vec::new();
                if let Some(servers) = servers {
                    let items = servers
                        .iter()
                        .take(4)
                        .map(|s| s.as_ref().map_or(Json::Null, ServerIn::json))
                        .collect();
                    lb.push((spell("servers", *spelling), Json::Arr(items)));
                }
                if let Some(flag) = pass_host_header {
                    lb.push((spell("passHostHeader", *spelling >> 2), flag.json()));
                }
                if *health_check {
                    lb.push((
                        "healthCheck".to_owned(),
                        Json::Obj(vec![("path".to_owned(), Json::Str("/health".into()))]),
                    ));
                }
                if let Some(st) = strategy {
                    lb.push((
                        "strategy".to_owned(),
                        Json::Str(pick(&["wrr", "WRR", "p2c", ""], *st).into()),
                    ));
                }
                if *sticky {
                    lb.push(("sticky".to_owned(), Json::Obj(Vec::new())));
                }
                Json::Obj(vec![(spell("loadBalancer", *spelling >> 4), Json::Obj(lb))])
            }
            ServiceIn::Weighted => Json::Obj(vec![("weighted".to_owned(), Json::Obj(Vec::new()))]),
            ServiceIn::Mirroring => Json::Obj(vec![("Mirroring".to_owned(), Json::Obj(Vec::new()))]),
            ServiceIn::TwoTypes => Json::Obj(vec![
                ("loadBalancer".to_owned(), Json::Obj(Vec::new())),
                ("failover".to_owned(), Json::Obj(Vec::new())),
            ]),
            ServiceIn::NoType => Json::Obj(Vec::new()),
            ServiceIn::WrongShape => Json::Arr(Vec::new()),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct ConfigIn {
    routers: Option<Vec<Option<RouterIn>>>,
    services: Option<Vec<(u8, Option<ServiceIn>)>>,
    middlewares: Option<Vec<u8>>,
    tcp: Option<bool>,
    http_unsupported: bool,
    many_entry_points: bool,
    spelling: u8,
}

impl ConfigIn {
    /// One body with one well-shaped `http` section.
    fn json(&self) -> Json {
        let s = self.spelling;
        let mut http = Vec::new();
        if let Some(routers) = &self.routers {
            let entries = routers
                .iter()
                .take(12)
                .map(|r| match r {
                    Some(r) => (pick(&ROUTER_NAMES, r.name).to_owned(), r.json()),
                    None => ("nulled".to_owned(), Json::Null),
                })
                .collect();
            http.push((spell("routers", s), Json::Obj(entries)));
        }
        if let Some(services) = &self.services {
            let entries = services
                .iter()
                .take(8)
                .map(|(name, svc)| {
                    let value = svc.as_ref().map_or(Json::Null, ServiceIn::json);
                    (pick(&SERVICE_NAMES, *name).to_owned(), value)
                })
                .collect();
            http.push((spell("services", s >> 2), Json::Obj(entries)));
        }
        if let Some(mws) = &self.middlewares {
            let entries = mws
                .iter()
                .take(3)
                .map(|&m| {
                    let value = Json::Obj(vec![("basicAuth".to_owned(), Json::Arr(Vec::new()))]);
                    (pick(&MIDDLEWARES, m).to_owned(), value)
                })
                .collect();
            http.push(("middlewares".to_owned(), Json::Obj(entries)));
        }
        if self.http_unsupported {
            http.push(("serversTransports".to_owned(), Json::Obj(Vec::new())));
            http.push(("weird".to_owned(), Json::Num("1".into())));
        }
        let mut top = vec![(spell("http", s >> 4), Json::Obj(http))];
        match self.tcp {
            Some(true) => top.push((
                "tcp".to_owned(),
                Json::Obj(vec![("routers".to_owned(), Json::Obj(Vec::new()))]),
            )),
            Some(false) => top.push(("TLS".to_owned(), Json::Obj(Vec::new()))),
            None => {}
        }
        Json::Obj(top)
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------------------

fn resolve(t: &Target) -> io::Result<Vec<SocketAddr>> {
    match t.host.as_str() {
        "unresolvable.test" => Err(io::Error::other("no such host")),
        "empty.test" => Ok(Vec::new()),
        _ => Ok(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), t.port)]),
    }
}

fn entry_points(many: bool) -> Vec<String> {
    if many {
        // "web" past the 64 entrypoints a router mask can hold.
        (0..66).map(|i| format!("ep{i}")).chain(["web".to_owned()]).collect()
    } else {
        ["web", "websecure", "admin"].map(String::from).to_vec()
    }
}

fn check_compile(body: &[u8], d: &Dynamic, entry_points: &[String]) {
    let _ = format!("{d:?}");
    for r in &d.invalid {
        let _ = r.to_string();
    }
    for (name, r) in &d.routers {
        assert!(!r.rule.trim().is_empty(), "router {name:?} decoded with a blank rule");
    }
    for (name, s) in &d.services {
        if let ServiceKind::LoadBalancer(lb) = &s.kind {
            for server in &lb.servers {
                assert!(
                    !server.url.trim().is_empty(),
                    "service {name:?} decoded with a blank URL"
                );
            }
        }
    }

    let compiled = compile(Some(body), None, entry_points, &mut resolve)
        .unwrap_or_else(|e| panic!("a body that decodes must compile: {e}"));
    let report = &compiled.report;
    let table = &compiled.table;

    let names: Vec<&str> = report.routers.iter().map(|r| r.name.as_str()).collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "report routers not sorted: {names:?}"
    );
    let services: Vec<&str> = report.services.iter().map(|s| s.name.as_str()).collect();
    assert!(
        services.windows(2).all(|w| w[0] <= w[1]),
        "report services not sorted: {services:?}"
    );
    let rejected_routers = d
        .invalid
        .iter()
        .filter(|r| r.section == ringress::provider::Section::Router)
        .count();
    assert_eq!(
        report.routers.len(),
        d.routers.len() + rejected_routers,
        "report misses routers"
    );

    let mut enabled: Vec<(&str, &str, i64)> = Vec::new();
    for r in report.routers.iter().filter(|r| r.errors.is_empty()) {
        let rule = parse(&r.rule).unwrap_or_else(|e| panic!("enabled router {} has rule {:?}: {e}", r.name, r.rule));
        if let Some(def) = table
            .routers()
            .find(|def| def.name == r.name && def.rule.source() == r.rule)
        {
            assert_eq!(def.rule.expr(), rule.expr());
        }
        enabled.push((&r.name, &r.rule, r.priority));
    }
    let mut served: Vec<(&str, &str, i64)> = table
        .routers()
        .map(|def| (def.name.as_str(), def.rule.source(), def.priority))
        .collect();
    enabled.sort_unstable();
    served.sort_unstable();
    assert_eq!(enabled, served, "the table does not hold exactly the enabled routers");

    let tls_by_name: Vec<(String, bool)> = d
        .routers
        .iter()
        .map(|(name, conf)| (qualified(name), conf.tls.is_some()))
        .collect();
    for def in table.routers() {
        assert!(
            table.services().any(|s| std::sync::Arc::ptr_eq(s, &def.service)),
            "router {} with a service the table does not hold",
            def.name
        );
        check_transport(def, &tls_by_name);
    }
    for want in compiled.certs.iter().flatten() {
        assert!(
            report
                .routers
                .iter()
                .any(|r| r.name == want.router && r.errors.is_empty()),
            "certificate for {want:?} asked by a router that is not enabled"
        );
    }

    // Exercise lookups for each served router's own hosts.
    let buf = b"X-1/";
    let headers = [Header {
        name: Span { start: 0, end: 3 },
        value: Span { start: 3, end: 4 },
        kind: HeaderKind::Other,
    }];
    for def in table.routers() {
        for host in def.rule.named_hosts() {
            let view = RequestView {
                method: b"GET",
                host: host.as_bytes(),
                path: b"/a",
                query: b"k1=",
                buf,
                headers: &headers,
                client_ip: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
            };
            let _ = table.lookup(&view, 0);
            let _ = table.lookup_on(&view, 1, true);
        }
    }
}

fn qualified(name: &str) -> String {
    if name.contains('@') {
        name.to_owned()
    } else {
        format!("{name}@http")
    }
}

/// A provider router with a `tls` section serves TLS only; one without serves plain HTTP only.
fn check_transport(def: &RouterDef, tls_by_name: &[(String, bool)]) {
    let mut same = tls_by_name.iter().filter(|(name, _)| *name == def.name);
    match (same.next(), same.next()) {
        (Some(&(_, tls)), None) => {
            let want = if tls { Transport::Tls } else { Transport::Plain };
            assert_eq!(def.transport, want, "router {} transport", def.name);
        }
        // Two decoded names can qualify to the same name (`a` and `a@http`): either could be this one.
        (Some(_), Some(_)) => {}
        (None, _) => panic!("served router {} was not decoded", def.name),
    }
}

fuzz_target!(|data: &[u8]| {
    match decode(data) {
        Ok(d) => check_compile(data, &d, &entry_points(false)),
        Err(e) => {
            let _ = e.to_string();
        }
    }

    let mut u = Unstructured::new(data);
    let Ok(config) = ConfigIn::arbitrary(&mut u) else {
        return;
    };
    let mut body = String::new();
    config.json().write(&mut body);
    let d = decode(body.as_bytes()).unwrap_or_else(|e| panic!("generated body refused: {e}\n{body}"));
    check_compile(body.as_bytes(), &d, &entry_points(config.many_entry_points));
});
