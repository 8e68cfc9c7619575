//! Rule parsing and table building: parse 10,000 provider-style rules, and build a
//! 10,000-router table from parsed routers (sort + host index).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ringress::route::{RouteTable, RouterDef, Service, Transport};
use ringress::rule::parse;

fn rules(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| match i % 4 {
            0 => format!("Host(`app-{i}.route.example`) || Host(`custom-{i}.example.com`)"),
            1 => format!("Host(`app-{i}.route.example`) && PathPrefix(`/api`)"),
            2 => format!("Host(`app-{i}.route.example`) && (Method(`GET`) || Header(`X-Env`, `prod`))"),
            _ => format!("Host(`app-{i}.route.example`)"),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let texts = rules(10_000);
    let mut group = c.benchmark_group("rule_build");
    group.sample_size(20);
    group.bench_function("parse_10000", |b| {
        b.iter(|| {
            let n: usize = texts
                .iter()
                .map(|t| parse(black_box(t)).map_or(0, |r| r.source().len()))
                .sum();
            black_box(n)
        })
    });
    let services: Vec<Arc<Service>> = (0..10_000)
        .map(|i| Arc::new(Service::new(format!("r{i}@http"), Box::new([]), true)))
        .collect();
    let routers: Vec<RouterDef> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let rule = parse(t).expect("generated rule");
            {
                let priority = rule.priority();
                RouterDef::new(
                    format!("r{i}@http"),
                    rule,
                    priority,
                    u64::MAX,
                    Transport::Tls,
                    services[i].clone(),
                )
            }
        })
        .collect();
    group.bench_function("table_10000", |b| {
        b.iter_batched(
            || (routers.clone(), services.clone()),
            |(routers, services)| black_box(RouteTable::build(routers, services).len()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
