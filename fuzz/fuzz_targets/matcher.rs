//! Differential fuzzing of `RouteTable::lookup` against a naive scan of every router.
//!
//! Routers get rules drawn from small alphabets of hosts, paths, methods and headers (Host,
//! wildcard Host, HostRegexp, PathPrefix, Method, Header, `!`, `&&`, `||`, plus route-file
//! `Host && SegmentPrefix` rules), random priorities (including the i64 extremes), names,
//! entry-point masks and transports (Any, Tls, Plain), so hosts collide and priorities tie. For
//! every request, on a plain and on a TLS connection:
//! - `lookup(req, ep)` must return exactly the first router in (priority desc, name asc) order
//!   that serves the entrypoint and whose rule matches, whatever its transport;
//! - `lookup_on(req, ep, secure)` must return exactly the first router in that order that serves
//!   the entrypoint, serves the transport (Any: both, Tls: TLS only, Plain: plain only) and whose
//!   rule matches;
//! - `Rule::hosts` must never exclude a host the rule matches.
//!
//! Lookups must not allocate, which a counting allocator checks (after one warm-up lookup when
//! regexes are involved: the regex crate builds its caches lazily).

#![no_main]

use std::sync::Arc;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ringress::http1::{Header, HeaderKind, Span};
use ringress::route::{normalize_host, RouteTable, RouterDef, Service, Transport};
use ringress::rule::{normalize_path, parse, segment_prefix_rule, RequestView, Rule};

/// Counts allocations so the target can assert that `lookup` makes none.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const HOSTS: [&str; 7] = ["a.com", "b.com", "x.a.com", "y.b.com", "10.0.0.1", "[::1]", "a.com.b"];
const WILD: [&str; 3] = ["*.a.com", "*.b.com", "*"];
const REGEXPS: [&str; 4] = ["^a", "b\\.com$", "^[a-z]+\\.a\\.com$", "1"];
const PREFIXES: [&str; 6] = ["/", "/a", "/ab", "/a/b", "/b", "/%61"];
const SEGMENT_PREFIXES: [&str; 5] = ["", "/a", "/ab", "/a/b", "/b"];
const METHODS: [&str; 3] = ["GET", "POST", "get"];
const HEADER_NAMES: [&str; 3] = ["X-A", "x-b", "Host"];
const HEADER_VALUES: [&str; 3] = ["1", "2", ""];
const NAMES: [&str; 4] = ["a", "b", "ab", "r"];
const PATH_PIECES: [&str; 10] = ["/", "a", "b", "ab", "/a", "/b", "//", "%61", ".", "%zz"];
const REQUEST_HOSTS: [&str; 10] = [
    "a.com", "A.COM:80", "b.com.", "x.a.com", "z.a.com", "y.b.com", "10.0.0.1", "[::1]:1", "", "q.org",
];

#[derive(Arbitrary, Debug)]
enum RuleIn {
    Host(u8),
    Wild(u8),
    HostRegexp(u8),
    PathPrefix(u8),
    Method(u8),
    Header(u8, u8),
    Not(Box<RuleIn>),
    And(Box<RuleIn>, Box<RuleIn>),
    Or(Box<RuleIn>, Box<RuleIn>),
}

#[derive(Arbitrary, Debug)]
enum Source {
    Provider(RuleIn),
    File { host: u8, prefix: u8 },
}

#[derive(Arbitrary, Debug)]
struct RouterIn {
    source: Source,
    name: u8,
    priority: Option<i8>,
    entry_points: u8,
    transport: u8,
}

#[derive(Arbitrary, Debug)]
struct RequestIn {
    host: u8,
    path: Vec<u8>,
    method: u8,
    headers: Vec<(u8, u8)>,
    entry_point: u8,
    secure: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    routers: Vec<RouterIn>,
    requests: Vec<RequestIn>,
}

fn pick<'a>(list: &[&'a str], n: u8) -> &'a str {
    list[usize::from(n) % list.len()]
}

/// Renders a rule; past `depth` 4 every node becomes a leaf so rules stay small.
fn render(rule: &RuleIn, depth: usize, out: &mut String, regex: &mut bool) {
    let leaf = depth > 4;
    match rule {
        RuleIn::Host(h) => write!(out, "Host(`{}`)", pick(&HOSTS, *h)),
        RuleIn::Wild(h) => write!(out, "Host(`{}`)", pick(&WILD, *h)),
        RuleIn::HostRegexp(r) => {
            *regex = true;
            write!(out, "HostRegexp(`{}`)", pick(&REGEXPS, *r))
        }
        RuleIn::PathPrefix(p) => write!(out, "PathPrefix(`{}`)", pick(&PREFIXES, *p)),
        RuleIn::Method(m) => write!(out, "Method(`{}`)", pick(&METHODS, *m)),
        RuleIn::Header(n, v) => {
            let v = pick(&HEADER_VALUES, *v);
            write!(
                out,
                "Header(`{}`, `{}`)",
                pick(&HEADER_NAMES, *n),
                if v.is_empty() { "0" } else { v }
            )
        }
        RuleIn::Not(_) | RuleIn::And(..) | RuleIn::Or(..) if leaf => write!(out, "PathPrefix(`/`)"),
        RuleIn::Not(inner) => {
            out.push_str("!(");
            render(inner, depth + 1, out, regex);
            write!(out, ")")
        }
        RuleIn::And(a, b) | RuleIn::Or(a, b) => {
            out.push('(');
            render(a, depth + 1, out, regex);
            out.push_str(if matches!(rule, RuleIn::And(..)) {
                ") && ("
            } else {
                ") || ("
            });
            render(b, depth + 1, out, regex);
            write!(out, ")")
        }
    }
    .expect("writing to a String");
}

/// An explicit priority; the i8 extremes stand for the i64 extremes so the ordering is tested at the edges.
fn priority(p: i8) -> i64 {
    match p {
        i8::MIN => i64::MIN,
        i8::MAX => i64::MAX,
        p => i64::from(p),
    }
}

fn transport(t: u8) -> Transport {
    [Transport::Any, Transport::Tls, Transport::Plain][usize::from(t % 3)]
}

/// The transport rule, restated: Any serves both, Tls only TLS, Plain only plain HTTP.
fn naive_serves(t: Transport, secure: bool) -> bool {
    match t {
        Transport::Any => true,
        Transport::Tls => secure,
        Transport::Plain => !secure,
    }
}

/// The entrypoint rule, restated: `u64::MAX` serves every entrypoint, otherwise bit `ep` must be set.
fn naive_on_entry_point(mask: u64, ep: usize) -> bool {
    mask == u64::MAX || (ep < 64 && mask & (1 << ep) != 0)
}

fn mask(bits: u8) -> u64 {
    if bits & 0x80 != 0 {
        u64::MAX
    } else {
        u64::from(bits & 0x0f) | (u64::from(bits & 0x40) << 57)
    }
}

fuzz_target!(|input: Input| {
    let mut has_regex = false;
    let mut routers = Vec::new();
    let services: Vec<Arc<Service>> = (0..3u32)
        .map(|i| Arc::new(Service::new(format!("s{i}"), Box::new([]), true).at_slot(i)))
        .collect();
    for (i, r) in input.routers.iter().take(40).enumerate() {
        let rule: Rule = match &r.source {
            Source::Provider(rule) => {
                let mut text = String::new();
                render(rule, 0, &mut text, &mut has_regex);
                parse(&text).unwrap_or_else(|e| panic!("generated rule {text:?} refused: {e}"))
            }
            Source::File { host, prefix } => segment_prefix_rule(pick(&HOSTS, *host), pick(&SEGMENT_PREFIXES, *prefix)),
        };
        routers.push({
            let priority = r.priority.map_or_else(|| rule.priority(), priority);
            RouterDef::new(
                format!("{}{i}", pick(&NAMES, r.name)),
                rule,
                priority,
                mask(r.entry_points),
                transport(r.transport),
                services[i % 3].clone(),
            )
        });
    }
    let mut naive: Vec<RouterDef> = routers.clone();
    naive.sort_by(|a, b| (-(a.priority as i128), &a.name).cmp(&(-(b.priority as i128), &b.name)));
    let table = RouteTable::build(routers, services);
    assert_eq!(table.len(), naive.len());

    let mut host_buf = [0u8; 256];
    let mut path_buf = Vec::new();
    for request in input.requests.iter().take(24) {
        let host = normalize_host(pick(&REQUEST_HOSTS, request.host).as_bytes(), &mut host_buf).unwrap_or(b"");
        let raw_path: Vec<u8> = request
            .path
            .iter()
            .take(10)
            .flat_map(|&p| pick(&PATH_PIECES, p).bytes())
            .collect();
        let Ok(path) = normalize_path(&raw_path, &mut path_buf) else {
            continue;
        };
        let mut buf = Vec::new();
        let mut headers = Vec::new();
        for &(n, v) in request.headers.iter().take(4) {
            let name = pick(&HEADER_NAMES, n);
            let start = buf.len() as u32;
            buf.extend_from_slice(name.as_bytes());
            let mid = buf.len() as u32;
            buf.extend_from_slice(pick(&HEADER_VALUES, v).as_bytes());
            let end = buf.len() as u32;
            headers.push(Header {
                name: Span { start, end: mid },
                value: Span { start: mid, end },
                kind: HeaderKind::of(name.as_bytes()),
            });
        }
        let view = RequestView {
            method: pick(&METHODS, request.method).as_bytes(),
            host,
            path,
            query: b"",
            buf: &buf,
            headers: &headers,
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        // Entrypoints 0..=5, and the edges of the 64-bit mask.
        let ep = match request.entry_point % 9 {
            n @ 0..=5 => usize::from(n),
            6 => 63,
            7 => 64,
            _ => usize::MAX,
        };

        let secure = request.secure;
        if has_regex {
            let _ = table.lookup(&view, ep);
            let _ = table.lookup_on(&view, ep, secure);
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let got = table.lookup(&view, ep);
        let got_on = table.lookup_on(&view, ep, secure);
        assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0, "lookup allocated");

        let want = naive
            .iter()
            .find(|r| naive_on_entry_point(r.entry_points, ep) && r.rule.matches(&view));
        assert_eq!(
            got.map(|(r, _)| r.name.as_str()),
            want.map(|r| r.name.as_str()),
            "lookup: host {:?} path {:?} ep {ep}",
            String::from_utf8_lossy(host),
            String::from_utf8_lossy(path)
        );
        let want_on = naive.iter().find(|r| {
            naive_on_entry_point(r.entry_points, ep) && naive_serves(r.transport, secure) && r.rule.matches(&view)
        });
        assert_eq!(
            got_on.map(|(r, _)| r.name.as_str()),
            want_on.map(|r| r.name.as_str()),
            "lookup_on: host {:?} path {:?} ep {ep} secure {secure}",
            String::from_utf8_lossy(host),
            String::from_utf8_lossy(path)
        );
        if let Some((router, service)) = got_on {
            assert!(std::ptr::eq(service, &*router.service), "the router's own service");
        }
        if let Some((router, service)) = got {
            assert!(std::ptr::eq(service, &*router.service), "the router's own service");
        }
        for r in &naive {
            if let (true, Some(hosts)) = (r.rule.matches(&view), r.rule.hosts()) {
                assert!(
                    hosts.iter().any(|h| h.as_bytes() == host),
                    "{} matched host {:?} outside {hosts:?}",
                    r.rule.source(),
                    String::from_utf8_lossy(host)
                );
            }
        }
    }
});
