//! Rendering the compiled report in the shape of Traefik's `/api/rawdata`, plus a `provider` field per router.
//!
//! Rendered once per table change on the control thread; workers serve the bytes as they are. Never includes
//! secrets: the report holds rules, names and server URLs only.

use serde_json::{json, Map, Value};

use super::compile::Report;

/// The `/api/rawdata` document for `report`.
pub fn render(report: &Report) -> String {
    let mut routers = Map::new();
    for r in &report.routers {
        let mut o = Map::new();
        o.insert("rule".into(), json!(r.rule));
        o.insert("service".into(), json!(r.service));
        o.insert("priority".into(), json!(r.priority));
        if !r.entry_points.is_empty() {
            o.insert("entryPoints".into(), json!(r.entry_points));
        }
        if let Some(tls) = &r.tls {
            o.insert("tls".into(), tls.clone());
        }
        if !r.middlewares.is_empty() {
            o.insert("middlewares".into(), json!(r.middlewares));
        }
        o.insert("provider".into(), json!(r.provider));
        o.insert(
            "status".into(),
            json!(if r.errors.is_empty() { "enabled" } else { "disabled" }),
        );
        if !r.errors.is_empty() {
            o.insert("error".into(), json!(r.errors));
        }
        if !r.warnings.is_empty() {
            o.insert("warning".into(), json!(r.warnings));
        }
        routers.insert(r.name.clone(), Value::Object(o));
    }
    let mut services = Map::new();
    for s in &report.services {
        let servers: Vec<Value> = s.servers.iter().map(|u| json!({ "url": u })).collect();
        let mut o = Map::new();
        o.insert(
            "loadBalancer".into(),
            json!({ "servers": servers, "passHostHeader": s.pass_host_header }),
        );
        o.insert("provider".into(), json!(s.provider));
        let usable = s.errors.is_empty() || !s.servers.is_empty();
        o.insert("status".into(), json!(if usable { "enabled" } else { "disabled" }));
        if !s.errors.is_empty() {
            o.insert("error".into(), json!(s.errors));
        }
        o.insert("usedBy".into(), json!(s.used_by));
        services.insert(s.name.clone(), Value::Object(o));
    }
    let doc = json!({ "routers": routers, "services": services, "middlewares": {} });
    doc.to_string()
}
