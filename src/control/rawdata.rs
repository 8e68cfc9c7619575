//! Rendering the compiled report in the shape of Traefik's `/api/rawdata`, plus a `provider` field per router.
//!
//! Rendered once per table change on the control thread (serialised straight from borrowed views of the report,
//! without building an intermediate JSON tree); workers serve the bytes as they are. Never includes secrets: the
//! report holds rules, names and server URLs only.

use std::collections::BTreeMap;

use serde::Serialize;

use super::compile::{Report, RouterReport, ServiceReport};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RouterView<'a> {
    rule: &'a str,
    service: &'a str,
    priority: i64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    entry_points: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    middlewares: &'a [String],
    provider: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    error: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warning: &'a [String],
}

#[derive(Serialize)]
struct ServerView<'a> {
    url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoadBalancerView<'a> {
    servers: Vec<ServerView<'a>>,
    pass_host_header: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceView<'a> {
    load_balancer: LoadBalancerView<'a>,
    provider: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    error: &'a [String],
    used_by: &'a [String],
    /// Traefik's `serverStatus`: every server URL, `UP` or `DOWN` (only an active health check sets `DOWN`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    server_status: BTreeMap<&'a str, &'static str>,
}

#[derive(Serialize)]
struct Document<'a> {
    routers: BTreeMap<&'a str, RouterView<'a>>,
    services: BTreeMap<&'a str, ServiceView<'a>>,
    middlewares: BTreeMap<&'a str, ()>,
}

fn router(r: &RouterReport) -> RouterView<'_> {
    RouterView {
        rule: &r.rule,
        service: &r.service,
        priority: r.priority,
        entry_points: &r.entry_points,
        tls: r.tls.as_ref(),
        middlewares: &r.middlewares,
        provider: r.provider,
        status: if r.errors.is_empty() { "enabled" } else { "disabled" },
        error: &r.errors,
        warning: &r.warnings,
    }
}

fn service<'a>(s: &'a ServiceReport, health: &'a Health) -> ServiceView<'a> {
    let usable = s.errors.is_empty() || !s.servers.is_empty();
    let checked = health.get(&s.name);
    let server_status = s
        .servers
        .iter()
        .map(|url| {
            let up = checked.and_then(|c| c.get(url)).copied().unwrap_or(true);
            (url.as_str(), if up { "UP" } else { "DOWN" })
        })
        .collect();
    ServiceView {
        load_balancer: LoadBalancerView {
            servers: s.servers.iter().map(|u| ServerView { url: u }).collect(),
            pass_host_header: s.pass_host_header,
        },
        provider: s.provider,
        status: if usable { "enabled" } else { "disabled" },
        error: &s.errors,
        used_by: &s.used_by,
        server_status,
    }
}

/// Active health-check results: service name → server URL → up.
pub type Health = BTreeMap<String, BTreeMap<String, bool>>;

/// The `/api/rawdata` document for `report`, with each server's status from `health` (servers it does not list
/// are up).
pub fn render(report: &Report, health: &Health) -> String {
    let doc = Document {
        routers: report.routers.iter().map(|r| (r.name.as_str(), router(r))).collect(),
        services: report
            .services
            .iter()
            .map(|s| (s.name.as_str(), service(s, health)))
            .collect(),
        middlewares: BTreeMap::new(),
    };
    serde_json::to_string(&doc).unwrap_or_else(|e| format!(r#"{{"error":"cannot render: {e}"}}"#))
}
