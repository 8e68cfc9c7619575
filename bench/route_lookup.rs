//! Route table benchmarks: lookup on tables of 1, 1,000 and 100,000 routes (hit and miss), and
//! building a 10,000-route table with a resolver that needs no DNS.

use std::hint::black_box;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringress::route::{RouteSpec, RouteTable, Target};

/// Prefixes given to every tenth host; the others get one whole-host route.
const PREFIXES: [&str; 3] = ["/api", "/api/v2", "/static"];

/// A small deterministic generator (xorshift64), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Exactly `count` specs over random-ish hosts; every tenth host carries three path prefixes.
fn specs(count: usize) -> Vec<RouteSpec> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut specs = Vec::with_capacity(count);
    let mut n = 0;
    while specs.len() < count {
        let host = format!("app-{:012x}.route.example", rng.next() & 0xffff_ffff_ffff);
        let port = 1024 + (n % 60_000) as u16;
        let ids: Vec<String> = if n % 10 == 0 {
            PREFIXES.iter().map(|p| format!("{host}{p}")).collect()
        } else {
            vec![host]
        };
        for id in ids.into_iter().take(count - specs.len()) {
            let target = format!("10.50.0.2:{port}");
            specs.push(RouteSpec::new(&id, &target, "bench").expect("valid generated spec"));
        }
        n += 1;
    }
    specs
}

fn loopback(target: &Target) -> io::Result<Vec<SocketAddr>> {
    Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, target.port))])
}

/// Requests that hit: the route's host with mixed case, sometimes a port or trailing dot, and a
/// path under the route's prefix.
fn hits(specs: &[RouteSpec], rng: &mut Rng) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..1024)
        .map(|_| {
            let spec = &specs[(rng.next() % specs.len() as u64) as usize];
            let mut host: Vec<u8> = spec.host.bytes().collect();
            if rng.next() % 2 == 0 {
                host.make_ascii_uppercase();
            }
            match rng.next() % 3 {
                0 => host.extend_from_slice(b":443"),
                1 => host.extend_from_slice(b".:8080"),
                _ => {}
            }
            let path = format!("{}/users/42/profile", spec.prefix).into_bytes();
            (host, path)
        })
        .collect()
}

/// Requests that miss: half an unknown host, half a known prefix-only host with another path.
fn misses(specs: &[RouteSpec], rng: &mut Rng) -> Vec<(Vec<u8>, Vec<u8>)> {
    let prefixed: Vec<&RouteSpec> = specs.iter().filter(|s| !s.prefix.is_empty()).collect();
    (0..1024)
        .map(|i| {
            if i % 2 == 0 || prefixed.is_empty() {
                let host = format!("nope-{:x}.route.example:443", rng.next());
                (host.into_bytes(), b"/api/users".to_vec())
            } else {
                let spec = prefixed[(rng.next() % prefixed.len() as u64) as usize];
                (spec.host.clone().into_bytes(), b"/apiary/x".to_vec())
            }
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("route_lookup");
    group.throughput(Throughput::Elements(1));
    for size in [1usize, 1_000, 100_000] {
        let specs = specs(size);
        let (table, errors) = RouteTable::build(&specs, &mut loopback);
        assert!(errors.is_empty() && table.len() == size);
        let mut rng = Rng(size as u64 + 1);
        for (name, requests) in [("hit", hits(&specs, &mut rng)), ("miss", misses(&specs, &mut rng))] {
            let expect_hit = name == "hit";
            for (host, path) in &requests {
                assert_eq!(table.lookup(host, path).is_some(), expect_hit);
            }
            let mut i = 0;
            group.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| {
                    let (host, path) = &requests[i % requests.len()];
                    i += 1;
                    black_box(table.lookup(black_box(host), black_box(path)))
                })
            });
        }
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    let specs = specs(10_000);
    let mut group = c.benchmark_group("route_build");
    group.sample_size(20);
    group.bench_function("10000", |b| {
        b.iter(|| {
            let (table, errors) = RouteTable::build(black_box(&specs), &mut loopback);
            black_box((table.len(), errors.len()))
        })
    });
    group.finish();
}

criterion_group!(benches, lookup, build);
criterion_main!(benches);
