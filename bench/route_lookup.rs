//! Route table lookup benchmarks: tables of 1, 1,000 and 100,000 provider-style routers
//! (``Host(`app-N.example.com`)``, every tenth also `&& PathPrefix(`/api`)`), hits and misses,
//! plus a table of 10,000 route-file routers (`Host && SegmentPrefix`, several prefixes per
//! host) and a provider table with 100 host-less fallback routers. Hosts in requests are
//! already normalised (the worker does that once per request with `normalize_host`).
//!
//! `route_and_choose` is what a worker reads of the routes for one request: the lookup, the
//! balancer's choice, the chosen server's address and the answer reported back, over 1 or
//! 100,000 one-server apps with requests spread over all of them, so that with many apps the
//! per-app data is cold in the cache as it is in a proxy serving them.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Instant;

use ringress::balance::{Balancer, DownSet};
use ringress::route::{file_routers, RouteSpec, RouteTable, RouterDef, Service, Slots, Target, Transport, Upstream};
use ringress::rule::{parse, RequestView};

struct Request {
    host: Vec<u8>,
    path: Vec<u8>,
}

fn view(r: &Request) -> RequestView<'_> {
    RequestView {
        method: b"GET",
        host: &r.host,
        path: &r.path,
        query: b"",
        buf: b"",
        headers: &[],
        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

fn service(i: usize) -> Arc<Service> {
    Arc::new(Service::new(format!("s{i}@http"), Box::new([]), true).at_slot(0))
}

/// A router on every entrypoint and transport, at its rule's default priority.
fn router(name: String, rule: &str, service: &Arc<Service>) -> RouterDef {
    let rule = parse(rule).expect("generated rule");
    let priority = rule.priority();
    RouterDef::new(name, rule, priority, u64::MAX, Transport::Any, service.clone())
}

/// `count` provider routers and one service each; plus `fallbacks` host-less routers.
fn provider_table(count: usize, fallbacks: usize) -> RouteTable {
    let services: Vec<Arc<Service>> = (0..count.max(1)).map(service).collect();
    let mut routers = Vec::with_capacity(count + fallbacks);
    for (i, service) in services.iter().enumerate().take(count) {
        let text = if i % 10 == 0 {
            format!("Host(`app-{i}.example.com`) && PathPrefix(`/api`)")
        } else {
            format!("Host(`app-{i}.example.com`)")
        };
        routers.push(router(format!("r{i}@http"), &text, service));
    }
    for i in 0..fallbacks {
        let text = format!("PathPrefix(`/fallback-{i}`) && Method(`POST`)");
        routers.push(router(format!("f{i}@http"), &text, &services[0]));
    }
    RouteTable::build(routers, services)
}

fn requests(count: usize, hit: bool) -> Vec<Request> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..1024)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % count as u64) as usize;
            if hit {
                Request {
                    host: format!("app-{i}.example.com").into_bytes(),
                    path: b"/api/users/42".to_vec(),
                }
            } else if i % 2 == 0 {
                Request {
                    host: format!("nope-{i}.example.com").into_bytes(),
                    path: b"/api/users/42".to_vec(),
                }
            } else {
                // A known host whose router needs `/api`, or an unknown one.
                Request {
                    host: format!("app-{}.example.com", i / 10 * 10).into_bytes(),
                    path: b"/apx".to_vec(),
                }
            }
        })
        .collect()
}

fn bench_requests(c: &mut Criterion, group: &str, id: BenchmarkId, table: &RouteTable, reqs: &[Request], hit: bool) {
    for r in reqs {
        assert_eq!(
            table.lookup(&view(r), 0).is_some(),
            hit,
            "{}",
            String::from_utf8_lossy(&r.host)
        );
    }
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function(id, |b| {
        b.iter(|| {
            let r = &reqs[i % reqs.len()];
            i += 1;
            black_box(table.lookup(black_box(&view(r)), 0).map(|(router, _)| router.priority))
        })
    });
    g.finish();
}

fn provider(c: &mut Criterion) {
    for size in [1usize, 1_000, 100_000] {
        let table = provider_table(size, 0);
        bench_requests(
            c,
            "route_lookup",
            BenchmarkId::new("hit", size),
            &table,
            &requests(size, true),
            true,
        );
        bench_requests(
            c,
            "route_lookup",
            BenchmarkId::new("miss", size),
            &table,
            &requests(size, false),
            false,
        );
    }
    let table = provider_table(1_000, 100);
    let reqs = requests(1_000, true);
    bench_requests(
        c,
        "route_lookup",
        BenchmarkId::new("hit_with_100_fallbacks", 1_100),
        &table,
        &reqs,
        true,
    );
}

fn files(c: &mut Criterion) {
    let mut specs = Vec::new();
    for i in 0..2_500 {
        for prefix in ["", "/api", "/api/v2", "/static"] {
            let id = format!("app-{i}.route.example{prefix}");
            specs.push(RouteSpec::new(&id, "10.50.0.2:8080", "bench").expect("valid spec"));
        }
    }
    let mut services = Vec::new();
    let (routers, errors) = file_routers(
        &specs,
        &mut |t: &Target| Ok(vec![SocketAddr::from((Ipv4Addr::new(10, 50, 0, 2), t.port))]),
        &mut services,
        &mut Slots::default(),
    );
    assert!(errors.is_empty());
    let table = RouteTable::build(routers, services);
    let reqs: Vec<Request> = (0..1024)
        .map(|i| Request {
            host: format!("app-{}.route.example", (i * 7919) % 2_500).into_bytes(),
            path: ["/api/v2/users", "/static/app.js", "/", "/apiary"][i % 4]
                .as_bytes()
                .to_vec(),
        })
        .collect();
    bench_requests(
        c,
        "route_lookup",
        BenchmarkId::new("route_files_hit", specs.len()),
        &table,
        &reqs,
        true,
    );
}

/// `count` apps: ``Host(`app-N.example.com`)`` routers, each on a service of its own with one server.
fn app_table(count: usize) -> RouteTable {
    let mut slots = Slots::default();
    let mut services = Vec::with_capacity(count);
    let mut routers = Vec::with_capacity(count);
    for i in 0..count {
        let port = 1024 + (i % 60_000) as u16;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let upstream = Upstream::new(addr, addr.to_string());
        let service = slots.place(Service::new(format!("s{i}@http"), Box::new([upstream]), true));
        routers.push(router(
            format!("r{i}@http"),
            &format!("Host(`app-{i}.example.com`)"),
            &service,
        ));
        services.push(service);
    }
    RouteTable::build(routers, services)
}

fn choose(c: &mut Criterion) {
    let mut g = c.benchmark_group("route_and_choose");
    g.throughput(Throughput::Elements(1));
    for size in [1usize, 100_000] {
        let table = app_table(size);
        let mut balancer = Balancer::default();
        balancer.rebind(&table, DownSet::default());
        // 2^17 requests in a shuffled order: consecutive requests go to unrelated apps.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let reqs: Vec<Request> = (0..1usize << 17)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                Request {
                    host: format!("app-{}.example.com", seed % size as u64).into_bytes(),
                    path: b"/".to_vec(),
                }
            })
            .collect();
        let now = Instant::now();
        let mut i = 0;
        g.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                let r = &reqs[i & ((1 << 17) - 1)];
                i += 1;
                let (router, service) = table.lookup(black_box(&view(r)), 0).expect("every app is routed");
                let index = balancer.pick(service, 0, now).expect("a server is up");
                let addr = service.servers[index].addr;
                balancer.answered(service, index, now);
                black_box((router as *const RouterDef, addr))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, provider, files, choose);
criterion_main!(benches);
