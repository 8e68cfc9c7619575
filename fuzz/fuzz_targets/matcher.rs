//! Differential fuzzing of `RouteTable::lookup` against a naive scan of all specs.
//!
//! Routes and requests are drawn from small alphabets of hosts and path segments so that hosts
//! collide, prefixes nest and duplicates occur. For every request the table must return exactly
//! the route a naive model picks: normalise the host, keep the specs of that host whose prefix
//! segments lead the path's segments, take the longest. Lookups must not allocate, which a
//! counting allocator checks. Route ids are also checked to normalise idempotently.

#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ringress::route::{normalize_host, RouteSpec, RouteTable, Target};

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

/// Host names in their normalised form; requests and ids vary their case and add dots/ports.
const HOSTS: [&str; 7] = ["a.com", "b.com", "ab.com", "a.com.b", "10.0.0.1", "[::1]", "x-1_y"];

/// Path segments for route prefixes; some are invalid on purpose (empty, dot segments).
const SEGMENTS: [&str; 10] = ["a", "b", "ab", "A", "%61", "a.b", "", ".", "..", "bb"];

/// Pieces that requests' paths are made of.
const PATH_PIECES: [&str; 12] = ["/", "a", "b", "ab", "A", "/a", "/b", "//", "%61", ".", "/bb", "?"];

#[derive(Arbitrary, Debug)]
struct Input {
    routes: Vec<RouteIn>,
    requests: Vec<RequestIn>,
    raw_ids: Vec<String>,
}

#[derive(Arbitrary, Debug)]
struct HostIn {
    base: u8,
    upper_mask: u16,
    trailing_dot: bool,
}

#[derive(Arbitrary, Debug)]
struct RouteIn {
    host: HostIn,
    segments: Vec<u8>,
    trailing_slash: bool,
    /// 0–1 name targets that do not resolve.
    target: u8,
}

#[derive(Arbitrary, Debug)]
enum RequestHostIn {
    Known {
        host: HostIn,
        port: Option<u16>,
        empty_port: bool,
    },
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct RequestIn {
    host: RequestHostIn,
    path: Vec<u8>,
}

fn pick<'a>(list: &[&'a str], n: u8) -> &'a str {
    list[usize::from(n) % list.len()]
}

fn host_text(host: &HostIn) -> (&'static str, String) {
    let base = pick(&HOSTS, host.base);
    let mut text: String = base
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if (host.upper_mask >> (i % 16)) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    if host.trailing_dot {
        text.push('.');
    }
    (base, text)
}

fn target_for(n: u8) -> String {
    match n % 6 {
        0 | 1 => format!("down{n}.invalid:80"),
        _ => format!("up{}:{}", n % 6, 1000 + u16::from(n % 6)),
    }
}

fn resolve(target: &Target) -> io::Result<Vec<SocketAddr>> {
    if target.host.ends_with(".invalid") {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no such host"));
    }
    Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, target.port))])
}

/// Do the segments of `prefix` lead the segments of `path`? (Written differently from the
/// table on purpose.)
fn segments_lead(prefix: &str, path: &[u8]) -> bool {
    if prefix.is_empty() {
        return true;
    }
    let mut path_segments = path.split(|&b| b == b'/');
    prefix
        .as_bytes()
        .split(|&b| b == b'/')
        .all(|p| path_segments.next() == Some(p))
}

/// The naive model: every kept spec of the host that leads the path; the longest prefix wins.
fn naive<'a>(kept: &'a [RouteSpec], host: &[u8], path: &[u8]) -> Option<&'a RouteSpec> {
    let mut buf = [0u8; 256];
    let host = normalize_host(host, &mut buf)?;
    kept.iter()
        .filter(|s| s.host.as_bytes() == host)
        .filter(|s| segments_lead(&s.prefix, path))
        .max_by_key(|s| s.prefix.len())
}

fuzz_target!(|input: Input| {
    // Ids must normalise idempotently and never panic.
    for raw in input.raw_ids.iter().take(8) {
        if let Ok(spec) = RouteSpec::new(raw, "up:80", "raw") {
            let again = RouteSpec::new(&spec.id, "up:80", "raw").expect("normalised id parses");
            assert_eq!(again, spec, "normalising {raw:?} is not idempotent");
        }
    }

    let mut specs = Vec::new();
    for (i, route) in input.routes.iter().take(48).enumerate() {
        let (_, host) = host_text(&route.host);
        let mut id = host;
        for &s in route.segments.iter().take(4) {
            id.push('/');
            id.push_str(pick(&SEGMENTS, s));
        }
        if route.trailing_slash {
            id.push('/');
        }
        if let Ok(spec) = RouteSpec::new(&id, &target_for(route.target), format!("r#{i}")) {
            specs.push(spec);
        }
    }
    let (table, _) = RouteTable::build(&specs, &mut resolve);

    // Model of build: the first spec of each (host, prefix) claims it; unresolvable ones drop.
    let mut claimed = HashSet::new();
    let kept: Vec<RouteSpec> = specs
        .iter()
        .filter(|s| claimed.insert((s.host.clone(), s.prefix.clone())))
        .filter(|s| resolve(&s.target).is_ok())
        .cloned()
        .collect();
    assert_eq!(table.len(), kept.len());

    for request in input.requests.iter().take(32) {
        let (host, expected_host) = match &request.host {
            RequestHostIn::Known { host, port, empty_port } => {
                let (base, mut text) = host_text(host);
                match (port, empty_port) {
                    (Some(port), _) => text.push_str(&format!(":{port}")),
                    (None, true) => text.push(':'),
                    (None, false) => {}
                }
                (text.into_bytes(), Some(base))
            }
            RequestHostIn::Raw(raw) => (raw.clone(), None),
        };
        let path: Vec<u8> = request
            .path
            .iter()
            .take(12)
            .flat_map(|&p| pick(&PATH_PIECES, p).bytes())
            .collect();

        if let Some(base) = expected_host {
            let mut buf = [0u8; 256];
            let normalised = normalize_host(&host, &mut buf);
            // A bracketed IPv6 literal followed by a dot is refused; everything else must
            // normalise back to its base.
            if !(base.starts_with('[') && host.contains(&b'.')) {
                assert_eq!(
                    normalised,
                    Some(base.as_bytes()),
                    "host {:?}",
                    String::from_utf8_lossy(&host)
                );
            }
        }

        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let got = table.lookup(&host, &path);
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert_eq!(allocations, 0, "lookup allocated");

        let want = naive(&kept, &host, &path);
        let got = got.map(|r| (r.id.as_str(), &r.target));
        let want = want.map(|s| (s.id.as_str(), &s.target));
        assert_eq!(
            got,
            want,
            "host {:?} path {:?}",
            String::from_utf8_lossy(&host),
            String::from_utf8_lossy(&path)
        );
    }
});
