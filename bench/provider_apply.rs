//! Applying a provider configuration end to end on the control thread: decode a Traefik dynamic JSON, compile it
//! (rules, services, report) into the route table, and render `/api/rawdata`.
//!
//! Two bodies: the historical 10,000-router one (every router `Host || Host` with a cert resolver), and a realistic
//! platform body ([`platform_body`]) at 100,000 routers, the size the performance goal is stated for (decode +
//! compile + render ≤ 50 ms of control-thread CPU). `RINGRESS_APPLY_ONCE=<routers>` instead runs one apply of a
//! platform body of that size and prints each phase's time: a driver for `valgrind --tool=callgrind`.

use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use ringress::control::compile::{compile, Compiler};
use ringress::control::rawdata;
use ringress::provider::decode;
use ringress::route::Target;

fn body(count: usize) -> String {
    let mut routers = Vec::with_capacity(count);
    let mut services = Vec::with_capacity(count);
    for i in 0..count {
        routers.push(format!(
            r#""r{i}":{{"rule":"Host(`app-{i}.route.example`) || Host(`custom-{i}.example.com`)","service":"r{i}","tls":{{"certResolver":"letsencrypt"}}}}"#
        ));
        services.push(format!(
            r#""r{i}":{{"loadBalancer":{{"servers":[{{"url":"http://10.50.0.{}:{}"}}]}}}}"#,
            2 + i % 200,
            20000 + i % 40000
        ));
    }
    format!(
        r#"{{"http":{{"routers":{{{}}},"services":{{{}}}}}}}"#,
        routers.join(","),
        services.join(",")
    )
}

/// A hosting platform's body: one router per app on `app-N.apps.example.com`, each with its own one-server
/// load balancer; every tenth router serves TLS with a cert resolver, every 50th adds a `PathPrefix`, every 50th
/// (offset) also answers on a custom domain (`||`).
pub fn platform_body(count: usize) -> String {
    let mut out = String::with_capacity(count * 260);
    out.push_str(r#"{"http":{"routers":{"#);
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        let rule = match i % 50 {
            7 => format!("Host(`app-{i}.apps.example.com`) && PathPrefix(`/api`)"),
            31 => format!("Host(`app-{i}.apps.example.com`) || Host(`www.customer-{i}.com`)"),
            _ => format!("Host(`app-{i}.apps.example.com`)"),
        };
        if i % 10 == 3 {
            out.push_str(&format!(
                r#""app-{i}":{{"entryPoints":["websecure"],"rule":"{rule}","service":"app-{i}","tls":{{"certResolver":"letsencrypt"}}}}"#
            ));
        } else {
            out.push_str(&format!(
                r#""app-{i}":{{"entryPoints":["web"],"rule":"{rule}","service":"app-{i}"}}"#
            ));
        }
    }
    out.push_str(r#"},"services":{"#);
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#""app-{i}":{{"loadBalancer":{{"servers":[{{"url":"http://10.50.0.{}:{}"}}],"passHostHeader":true}}}}"#,
            2 + i % 250,
            20000 + i % 40000
        ));
    }
    out.push_str("}}}");
    out
}

/// IP literals only: the bench measures the control thread, not DNS.
fn literal(t: &Target) -> std::io::Result<Vec<SocketAddr>> {
    let ip: IpAddr = t.host.parse().map_err(|_| std::io::Error::other("not an IP literal"))?;
    Ok(vec![SocketAddr::new(ip, t.port)])
}

fn entry_points() -> Vec<String> {
    vec!["web".to_string(), "websecure".to_string()]
}

fn bench(c: &mut Criterion) {
    let json = body(10_000);
    let entry_points = entry_points();
    let mut group = c.benchmark_group("provider_apply");
    group.sample_size(10);
    group.bench_function("decode_10000", |b| {
        b.iter(|| decode(black_box(json.as_bytes())).map(|d| d.routers.len()))
    });
    group.bench_function("decode_compile_render_10000", |b| {
        b.iter(|| {
            let compiled = compile(Some(black_box(json.as_bytes())), None, &entry_points, &mut literal)
                .expect("generated JSON compiles");
            rawdata::render(&compiled.report, &Default::default()).len() + compiled.table.len()
        })
    });

    let json = platform_body(100_000);
    group.bench_function("decode_100000", |b| {
        b.iter(|| decode(black_box(json.as_bytes())).map(|d| d.routers.len()))
    });
    group.bench_function("compile_100000", |b| {
        b.iter(|| {
            compile(Some(black_box(json.as_bytes())), None, &entry_points, &mut literal)
                .expect("generated JSON compiles")
                .table
                .len()
        })
    });
    let compiled = compile(Some(json.as_bytes()), None, &entry_points, &mut literal).expect("compiles");
    group.bench_function("render_100000", |b| {
        b.iter(|| rawdata::render(black_box(&compiled.report), &Default::default()).len())
    });
    drop(compiled);
    // What the control thread does when a 100,000-router body changed in one router: take the body in, compile
    // what changed, build the table, report and document. Alternates between two bodies.
    let changed = one_router_changed(&json);
    let mut compiler = Compiler::new(entry_points.clone());
    let health = Default::default();
    let mut flip = false;
    group.bench_function("apply_one_change_100000", |b| {
        b.iter(|| {
            flip = !flip;
            let next = if flip { &changed } else { &json };
            compiler.set_provider(next.as_bytes().to_vec()).expect("applies");
            let compiled = compiler.compile(None, &mut literal);
            compiler.rawdata(&health).len() + compiled.table.len()
        })
    });
    group.finish();
}

/// `json` with one router's rule changed (same length, so nothing else moves but that router).
fn one_router_changed(json: &str) -> String {
    json.replacen("`app-500.apps.example.com`", "`app-500.apps.example.org`", 1)
}

/// The time serde_json takes to validate the body (the floor under any apply), then one apply of a platform body of
/// `count` routers, phase by phase (for callgrind: no warm-up, no repetition),
/// then `RINGRESS_APPLY_CHANGES` applies (default 1) alternating with one router changed, then (with
/// `RINGRESS_APPLY_ALL` set) one apply of the body with every router changed.
fn apply_once(count: usize) {
    let json = platform_body(count);
    // The floor under any apply of this body: reading it once as JSON, keeping nothing.
    let started = Instant::now();
    serde_json::from_str::<serde::de::IgnoredAny>(&json).expect("generated JSON is valid");
    println!(
        "{count} routers, {} KiB body: JSON validation alone {:?}",
        json.len() / 1024,
        started.elapsed()
    );
    let entry_points = entry_points();
    let mut compiler = Compiler::new(entry_points);
    let started = Instant::now();
    compiler
        .set_provider(json.as_bytes().to_vec())
        .expect("generated JSON decodes");
    let decoded = Instant::now();
    let compiled = compiler.compile(None, &mut literal);
    let compiled_at = Instant::now();
    let rawdata = compiler.rawdata(&Default::default()).to_text();
    let rendered = Instant::now();
    // What the apply produced, so two builds can be compared: the table, the certificates and the document.
    let table = format!("{:?}", compiled.table.routers().collect::<Vec<_>>());
    let certs = format!("{:?}", compiled.certs);
    println!(
        "{count} routers ({} served, {} KiB rawdata, fingerprint {:016x}): decode {:?}, compile {:?}, render {:?}",
        compiled.table.len(),
        rawdata.len() / 1024,
        fnv([table.as_bytes(), certs.as_bytes(), rawdata.as_bytes()]),
        decoded - started,
        compiled_at - decoded,
        rendered - compiled_at
    );
    drop(compiled);
    let changed = one_router_changed(&json);
    let rounds: usize = std::env::var("RINGRESS_APPLY_CHANGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    for round in 0..rounds {
        let next = if round % 2 == 0 { &changed } else { &json };
        let bytes = next.as_bytes().to_vec();
        let started = Instant::now();
        compiler.set_provider(bytes).expect("applies");
        let taken = Instant::now();
        let compiled = compiler.compile(None, &mut literal);
        let compiled_at = Instant::now();
        let document = compiler.rawdata(&Default::default());
        let rendered = Instant::now();
        drop((compiled, document));
        let dropped = Instant::now();
        println!(
            "one router changed: take in {:?}, compile {:?}, document {:?}, drop {:?}",
            taken - started,
            compiled_at - taken,
            rendered - compiled_at,
            dropped - rendered,
        );
    }
    if std::env::var_os("RINGRESS_APPLY_ALL").is_some() {
        let bytes = every_router_changed(&json).into_bytes();
        let started = Instant::now();
        compiler.set_provider(bytes).expect("applies");
        let taken = Instant::now();
        let compiled = compiler.compile(None, &mut literal);
        let compiled_at = Instant::now();
        drop(compiled);
        println!(
            "every router changed: take in {:?}, compile {:?}",
            taken - started,
            compiled_at - taken
        );
    }
}

/// `json` with every router's rule changed (what `bench/apply_p99.sh --churn all` serves): a full apply over a
/// compiler that holds the previous body.
fn every_router_changed(json: &str) -> String {
    json.replace(".apps.example.com`", ".apps.example.org`")
}

/// FNV-1a over `parts`.
fn fnv(parts: [&[u8]; 3]) -> u64 {
    parts
        .iter()
        .flat_map(|p| p.iter())
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

criterion_group!(benches, bench);

fn main() {
    if let Some(count) = std::env::var("RINGRESS_APPLY_ONCE").ok().and_then(|n| n.parse().ok()) {
        apply_once(count);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
