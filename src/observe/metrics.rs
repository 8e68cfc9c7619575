//! The `/metrics` page: every counter in Prometheus text exposition format (version 0.0.4), rendered at scrape
//! time from the per-worker counters (summed) and from a copy of the control thread's status board.
//!
//! Owns metric names, help texts, label names and label-value escaping. Runs only on a scrape, never on the
//! request path; it allocates freely but never locks anything a worker writes (the board copy is taken by the
//! caller with `try_lock`).
//!
//! Families (see the README's Metrics section for the full list): `ringress_worker_*` (per worker, kept from the
//! first release), `ringress_requests_total{entrypoint,code,method}`,
//! `ringress_request_duration_seconds{entrypoint}` (histogram), `ringress_open_connections{entrypoint,protocol}`,
//! `ringress_received_bytes_total` / `ringress_sent_bytes_total{entrypoint}`, `ringress_upstream_errors_total{kind}`,
//! `ringress_access_log_dropped_total`, and from the board `ringress_config_reloads_total`,
//! `ringress_config_last_reload_success_timestamp_seconds`, `ringress_provider_*`, `ringress_route_files_errors`,
//! `ringress_certificate_not_after_timestamp_seconds{resolver,domain}` and `ringress_acme_*`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::counters::{Counters, WorkerCounters};
use super::labels::{self, Protocol, UpstreamError, BUCKETS, BUCKET_LABELS, METHOD_LABELS};
use crate::control::status::Board;

/// Appends `v` as a Prometheus label value (without quotes): `\`, `"` and newlines escaped.
pub fn push_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `name{k1="v1",k2="v2"} value` with escaped values.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            push_label_value(out, v);
            out.push('"');
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The per-worker families (`ringress_worker_*{worker}`).
pub(super) fn render_workers(c: &Counters, out: &mut String) {
    type Field = fn(&WorkerCounters) -> &AtomicU64;
    let families: [(&str, &str, &str, Field); 8] = [
        (
            "ringress_worker_connections_total",
            "counter",
            "Connections accepted on proxy entrypoints.",
            |w| &w.connections,
        ),
        (
            "ringress_worker_open_connections",
            "gauge",
            "Connections open on proxy entrypoints.",
            |w| &w.open_connections,
        ),
        ("ringress_worker_requests_total", "counter", "Requests answered.", |w| {
            &w.requests
        }),
        (
            "ringress_worker_bad_requests_total",
            "counter",
            "Requests rejected as malformed.",
            |w| &w.bad_requests,
        ),
        (
            "ringress_worker_upstream_dials_total",
            "counter",
            "Upstream connections dialed.",
            |w| &w.upstream_dials,
        ),
        (
            "ringress_worker_upstream_reuses_total",
            "counter",
            "Upstream connections reused from the pool.",
            |w| &w.upstream_reuses,
        ),
        (
            "ringress_worker_upstream_errors_total",
            "counter",
            "Upstream failures answered 502.",
            |w| &w.upstream_errors,
        ),
        (
            "ringress_worker_upstream_timeouts_total",
            "counter",
            "Upstream timeouts answered 504.",
            |w| &w.upstream_timeouts,
        ),
    ];
    for (name, kind, help, field) in families {
        header(out, name, kind, help);
        for (i, w) in c.workers().iter().enumerate() {
            let _ = writeln!(out, "{name}{{worker=\"{i}\"}} {}", field(w).load(Ordering::Relaxed));
        }
    }
}

/// Every family.
pub(super) fn render(c: &Counters, board: Option<&Board>, now: SystemTime, out: &mut String) {
    render_workers(c, out);
    render_entrypoints(c, out);
    render_process(c, out);
    if let Some(board) = board {
        render_board(board, now, out);
    }
}

fn render_entrypoints(c: &Counters, out: &mut String) {
    let totals: Vec<_> = (0..c.entrypoints().len()).map(|i| c.entry_totals(i)).collect();
    let names = c.entrypoints();

    let name = "ringress_requests_total";
    header(
        out,
        name,
        "counter",
        "Requests by entrypoint, status code and method (codes outside the common set are counted as 1xx..5xx or other; 499: client went away before a response).",
    );
    for (ep, t) in names.iter().zip(&totals) {
        for (ci, row) in t.requests.iter().enumerate() {
            for (mi, &v) in row.iter().enumerate() {
                if v == 0 {
                    continue;
                }
                let code = labels::code_label(ci).to_string();
                let method = METHOD_LABELS.get(mi).copied().unwrap_or("other");
                sample(out, name, &[("entrypoint", ep), ("code", &code), ("method", method)], v);
            }
        }
    }

    let name = "ringress_request_duration_seconds";
    header(
        out,
        name,
        "histogram",
        "Time from a complete request head to the end of its response, by entrypoint.",
    );
    for (ep, t) in names.iter().zip(&totals) {
        let mut cumulative = 0u64;
        for (i, &v) in t.buckets.iter().enumerate() {
            cumulative = cumulative.wrapping_add(v);
            let le = if i + 1 == BUCKETS {
                "+Inf"
            } else {
                BUCKET_LABELS.get(i).copied().unwrap_or("+Inf")
            };
            sample(
                out,
                "ringress_request_duration_seconds_bucket",
                &[("entrypoint", ep), ("le", le)],
                cumulative,
            );
        }
        sample(
            out,
            "ringress_request_duration_seconds_sum",
            &[("entrypoint", ep)],
            t.duration_nanos as f64 / 1e9,
        );
        sample(
            out,
            "ringress_request_duration_seconds_count",
            &[("entrypoint", ep)],
            cumulative,
        );
    }

    let name = "ringress_open_connections";
    header(
        out,
        name,
        "gauge",
        "Client connections open, by entrypoint and protocol (a connection counts as http until its first byte shows TLS).",
    );
    for (ep, t) in names.iter().zip(&totals) {
        for p in [Protocol::Http, Protocol::Tls] {
            let v = t.open.get(p as usize).copied().unwrap_or(0);
            sample(out, name, &[("entrypoint", ep), ("protocol", p.label())], v);
        }
    }

    let families = [
        (
            "ringress_received_bytes_total",
            "Bytes read from clients (request heads and bodies, tunnelled bytes; after TLS decryption), by entrypoint.",
            true,
        ),
        (
            "ringress_sent_bytes_total",
            "Bytes written to clients (response heads and bodies, tunnelled bytes; before TLS encryption), by entrypoint.",
            false,
        ),
    ];
    for (name, help, received) in families {
        header(out, name, "counter", help);
        for (ep, t) in names.iter().zip(&totals) {
            sample(
                out,
                name,
                &[("entrypoint", ep)],
                if received { t.received } else { t.sent },
            );
        }
    }
}

fn render_process(c: &Counters, out: &mut String) {
    let load = |f: &dyn Fn(&WorkerCounters) -> u64| c.workers().iter().fold(0u64, |s, w| s.wrapping_add(f(w)));

    let name = "ringress_upstream_errors_total";
    header(out, name, "counter", "Failed exchanges with upstream servers, by kind.");
    for kind in UpstreamError::ALL {
        let v = load(&|w| {
            w.upstream_by_kind
                .get(kind.index())
                .map_or(0, |a| a.load(Ordering::Relaxed))
        });
        sample(out, name, &[("kind", kind.label())], v);
    }

    let name = "ringress_access_log_dropped_total";
    header(
        out,
        name,
        "counter",
        "Access-log lines dropped because the writer thread's queue was full.",
    );
    sample(out, name, &[], load(&|w| w.access_log_dropped.load(Ordering::Relaxed)));
}

fn render_board(b: &Board, now: SystemTime, out: &mut String) {
    let name = "ringress_config_reloads_total";
    header(out, name, "counter", "Route tables published since start-up.");
    sample(out, name, &[], b.reloads);

    let name = "ringress_config_last_reload_success_timestamp_seconds";
    header(
        out,
        name,
        "gauge",
        "When the last route table was published (Unix time).",
    );
    if let Some(t) = b.last_reload {
        sample(out, name, &[], seconds(t));
    }

    if let Some(h) = &b.http {
        let provider = [("provider", "http")];
        let name = "ringress_provider_consecutive_failures";
        header(
            out,
            name,
            "gauge",
            "Failed provider polls since the last successful one.",
        );
        sample(out, name, &provider, h.consecutive_failures);

        let name = "ringress_provider_poll_failures_total";
        header(out, name, "counter", "Failed provider polls since start-up.");
        sample(out, name, &provider, h.total_failures);

        let name = "ringress_provider_last_success_timestamp_seconds";
        header(out, name, "gauge", "When a provider poll last succeeded (Unix time).");
        if let Some(t) = h.last_success {
            sample(out, name, &provider, seconds(t));
        }

        let name = "ringress_provider_table_age_seconds";
        header(out, name, "gauge", "Time since the provider's last successful poll.");
        if let Some(t) = h.last_success {
            let age = now.duration_since(t).map(|d| d.as_secs_f64()).unwrap_or(0.0);
            sample(out, name, &provider, age);
        }
    }

    if let Some(f) = &b.files {
        let name = "ringress_route_files_errors";
        header(
            out,
            name,
            "gauge",
            "Problems found in the route files at the last load.",
        );
        sample(out, name, &[], f.errors.len());
    }

    let name = "ringress_certificate_not_after_timestamp_seconds";
    header(
        out,
        name,
        "gauge",
        "End of validity of each stored ACME certificate (Unix time), by resolver and main domain.",
    );
    for cert in &b.certs {
        if let Some(t) = cert.not_after {
            sample(
                out,
                name,
                &[("resolver", &cert.resolver), ("domain", &cert.domain)],
                seconds(t),
            );
        }
    }

    let name = "ringress_service_server_up";
    header(
        out,
        name,
        "gauge",
        "1 when the last active health check of the server passed, 0 when it failed (health-checked services only).",
    );
    for server in &b.servers {
        sample(
            out,
            name,
            &[("service", &server.service), ("url", &server.url)],
            usize::from(server.up),
        );
    }

    let families = [
        ("ringress_acme_orders_total", "ACME orders started.", b.acme.orders),
        (
            "ringress_acme_order_failures_total",
            "ACME orders that failed (pre-check, CA refusal, timeouts).",
            b.acme.failures,
        ),
        (
            "ringress_acme_certificates_issued_total",
            "Certificates issued and stored.",
            b.acme.issued,
        ),
    ];
    for (name, help, v) in families {
        header(out, name, "counter", help);
        sample(out, name, &[], v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::status::{AcmeCounts, CertStatus, ProviderStatus};
    use crate::http1::Method;
    use std::time::Duration;

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        push_label_value(&mut s, "a\"b\\c\nd");
        assert_eq!(s, "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn renders_entrypoint_and_board_families() {
        let c = Counters::build(2, &["web".into(), "we\"ird".into()], None);
        let e = |w: usize, i: usize| c.worker(w).and_then(|w| w.entry(i)).expect("entry");
        e(0, 0).record(200, Method::Get, 2_000_000, 10, 100);
        e(1, 0).record(200, Method::Get, 200_000_000, 10, 100);
        e(1, 1).record(777, Method::Other, 20_000_000_000, 1, 1);
        if let Some(w) = c.worker(1) {
            w.upstream_failed(UpstreamError::ConnectRefused);
        }
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let board = Board {
            http: Some(ProviderStatus {
                consecutive_failures: 3,
                last_success: Some(t0),
                ..ProviderStatus::default()
            }),
            reloads: 4,
            last_reload: Some(t0),
            certs: vec![CertStatus {
                resolver: "le".into(),
                domain: "a.test".into(),
                not_after: Some(t0),
                ..CertStatus::default()
            }],
            acme: AcmeCounts {
                orders: 5,
                failures: 2,
                issued: 3,
            },
            ..Board::default()
        };
        let mut out = String::new();
        c.render_all(Some(&board), t0 + Duration::from_secs(7), &mut out);
        for line in [
            "ringress_requests_total{entrypoint=\"web\",code=\"200\",method=\"GET\"} 2",
            "ringress_requests_total{entrypoint=\"we\\\"ird\",code=\"other\",method=\"other\"} 1",
            "ringress_request_duration_seconds_bucket{entrypoint=\"web\",le=\"0.005\"} 1",
            "ringress_request_duration_seconds_bucket{entrypoint=\"web\",le=\"0.3\"} 2",
            "ringress_request_duration_seconds_bucket{entrypoint=\"web\",le=\"+Inf\"} 2",
            "ringress_request_duration_seconds_count{entrypoint=\"web\"} 2",
            "ringress_request_duration_seconds_sum{entrypoint=\"web\"} 0.202",
            "ringress_request_duration_seconds_bucket{entrypoint=\"we\\\"ird\",le=\"10\"} 0",
            "ringress_request_duration_seconds_bucket{entrypoint=\"we\\\"ird\",le=\"+Inf\"} 1",
            "ringress_open_connections{entrypoint=\"web\",protocol=\"tls\"} 0",
            "ringress_received_bytes_total{entrypoint=\"web\"} 20",
            "ringress_sent_bytes_total{entrypoint=\"web\"} 200",
            "ringress_upstream_errors_total{kind=\"connect_refused\"} 1",
            "ringress_upstream_errors_total{kind=\"response_timeout\"} 0",
            "ringress_access_log_dropped_total 0",
            "ringress_config_reloads_total 4",
            "ringress_config_last_reload_success_timestamp_seconds 1800000000",
            "ringress_provider_consecutive_failures{provider=\"http\"} 3",
            "ringress_provider_table_age_seconds{provider=\"http\"} 7",
            "ringress_certificate_not_after_timestamp_seconds{resolver=\"le\",domain=\"a.test\"} 1800000000",
            "ringress_acme_orders_total 5",
            "ringress_acme_order_failures_total 2",
            "ringress_acme_certificates_issued_total 3",
            "ringress_worker_requests_total{worker=\"1\"} 0",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
        }
        // Every sample line belongs to a family announced by # TYPE before it.
        let mut typed: Vec<String> = Vec::new();
        for l in out.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                typed.push(rest.split(' ').next().unwrap_or_default().to_string());
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap_or_default();
                assert!(
                    typed
                        .iter()
                        .any(|t| name == t || name.strip_prefix(t.as_str()).is_some_and(|s| s.starts_with('_'))),
                    "{l} before its # TYPE"
                );
            }
        }
    }
}
