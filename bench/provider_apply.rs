//! Applying a provider configuration end to end on the control thread: decode a 10,000-router Traefik dynamic JSON,
//! compile it (rules, services, report) into the route table, and render `/api/rawdata`.

use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};

use criterion::{criterion_group, criterion_main, Criterion};
use ringress::control::compile::compile;
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

/// IP literals only: the bench measures the control thread, not DNS.
fn literal(t: &Target) -> std::io::Result<Vec<SocketAddr>> {
    let ip: IpAddr = t.host.parse().map_err(|_| std::io::Error::other("not an IP literal"))?;
    Ok(vec![SocketAddr::new(ip, t.port)])
}

fn bench(c: &mut Criterion) {
    let json = body(10_000);
    let entry_points = vec!["web".to_string(), "websecure".to_string()];
    let mut group = c.benchmark_group("provider_apply");
    group.sample_size(10);
    group.bench_function("decode_10000", |b| {
        b.iter(|| decode(black_box(json.as_bytes())).map(|d| d.routers.len()))
    });
    let dynamic = decode(json.as_bytes()).expect("generated JSON decodes");
    group.bench_function("compile_10000", |b| {
        b.iter(|| {
            compile(Some(black_box(&dynamic)), None, &entry_points, &mut literal)
                .table
                .len()
        })
    });
    group.bench_function("decode_compile_render_10000", |b| {
        b.iter(|| {
            let d = decode(black_box(json.as_bytes())).expect("decodes");
            let compiled = compile(Some(&d), None, &entry_points, &mut literal);
            rawdata::render(&compiled.report, &Default::default()).len() + compiled.table.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
