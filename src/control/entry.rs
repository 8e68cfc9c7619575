//! Compiling one provider entry: a decoded router or service into what the table, the report and ACME need.
//!
//! Pure functions of the entry and what it depends on (a router: its service's state, whether its name clashes;
//! a service: its servers, resolved through the caller's resolver, which may block: control thread only). Never
//! looks at other entries and keeps no state: [`super::compile::Compiler`] decides what to recompile.

use std::sync::Arc;

use super::compile::{CertWant, HealthPlan, Resolver, RouterReport, ServiceReport, HTTP};
use crate::provider::{Entry, RouterConf, ServiceConf, ServiceKind, TlsConf};
use crate::route::{RouterDef, Service, Slots, Target, Transport, Upstream};

/// What a router's service is, as the router sees it.
#[derive(Debug, Clone)]
pub enum ServiceState {
    /// Served: routers may send to it.
    Enabled(Arc<Service>),
    /// Exists but cannot serve (invalid, unsupported kind, name clash).
    Disabled,
    /// No such service.
    Missing,
}

impl ServiceState {
    /// Same state, and the same service (by identity) when enabled.
    pub fn same(&self, other: &ServiceState) -> bool {
        match (self, other) {
            (ServiceState::Enabled(a), ServiceState::Enabled(b)) => Arc::ptr_eq(a, b),
            (ServiceState::Disabled, ServiceState::Disabled) | (ServiceState::Missing, ServiceState::Missing) => true,
            _ => false,
        }
    }
}

/// A compiled service entry.
pub struct BuiltService {
    /// The service when routers may use it.
    pub service: Option<Arc<Service>>,
    /// Its report, without `used_by` (the caller fills that in).
    pub report: ServiceReport,
    /// Its active health check, if it asks for a valid one.
    pub health: Option<HealthPlan>,
    /// A server names a host that needed DNS (or failed to resolve): compile it again next time.
    pub volatile: bool,
}

/// A compiled router entry.
pub struct BuiltRouter {
    /// The router when it is served.
    pub def: Option<RouterDef>,
    /// Its report.
    pub report: RouterReport,
    /// Certificates it asks for (enabled routers with `tls.certResolver` only).
    pub certs: Vec<CertWant>,
    /// The qualified name of the service it names (empty when none).
    pub service: String,
}

/// Why an entry is disabled when its name clashes once qualified.
pub const CLASH: &str =
    "another entry has the same name once `@http` is added (e.g. `a` and `a@http`); both are disabled";

/// Compiles service `name` (as written) from its decoded `entry`; `clash`: its qualified name clashes.
pub fn service(
    name: &str,
    entry: &Entry<ServiceConf>,
    clash: bool,
    resolve: Resolver<'_>,
    slots: &mut Slots,
) -> BuiltService {
    let full = qualify(name);
    let mut report = ServiceReport {
        name: full.clone(),
        provider: HTTP,
        servers: Vec::new(),
        pass_host_header: true,
        errors: Vec::new(),
        used_by: Vec::new(),
    };
    let disabled = |report| BuiltService {
        service: None,
        report,
        health: None,
        volatile: false,
    };
    if clash {
        report.errors.push(format!("service {name:?}: {CLASH}"));
        return disabled(report);
    }
    let conf = match &entry.result {
        Ok(conf) => conf,
        Err(reason) => {
            report.errors.push(reason.clone());
            return disabled(report);
        }
    };
    let lb = match &conf.kind {
        ServiceKind::LoadBalancer(lb) => lb,
        ServiceKind::Unsupported(kind) => {
            report
                .errors
                .push(format!("service type {kind:?} is not supported by ringress"));
            return disabled(report);
        }
    };
    report.pass_host_header = lb.pass_host_header;
    let mut upstreams = Vec::new();
    let mut urls = Vec::new();
    let mut volatile = false;
    for server in &lb.servers {
        report.servers.push(server.url.clone());
        // Traefik: no weight is 1, a weight of 0 or less takes the server out of rotation.
        let weight = match server.weight {
            None => 1,
            Some(w) if w <= 0 => continue,
            Some(w) => u32::try_from(w).unwrap_or(u32::MAX),
        };
        match server_target(&server.url) {
            Ok(t) => {
                volatile |= t.host.parse::<std::net::IpAddr>().is_err();
                match resolve(&t) {
                    Ok(addrs) if !addrs.is_empty() => {
                        for addr in addrs {
                            urls.push(server.url.clone());
                            upstreams.push(Upstream {
                                addr,
                                authority: t.to_string(),
                                weight,
                            });
                        }
                    }
                    Ok(_) => report
                        .errors
                        .push(format!("server {:?}: {} resolves to no address", server.url, t)),
                    Err(e) => {
                        volatile = true;
                        report
                            .errors
                            .push(format!("server {:?}: cannot resolve {}: {e}", server.url, t));
                    }
                }
            }
            Err(reason) => report.errors.push(format!("server {:?}: {reason}", server.url)),
        }
    }
    let service = slots.place(Service::new(full, upstreams.into_boxed_slice(), lb.pass_host_header));
    let mut health = None;
    if let Some(raw) = &lb.health_check {
        match crate::health::config::parse(raw) {
            Ok((check, notes)) => {
                report.errors.extend(notes);
                health = Some(HealthPlan {
                    service: service.clone(),
                    check: Arc::new(check),
                    urls,
                });
            }
            // The service still serves; without a usable check its servers count as up.
            Err(e) => report.errors.push(format!("{e}; servers are not health-checked")),
        }
    }
    BuiltService {
        service: Some(service),
        report,
        health,
        volatile,
    }
}

/// A service entry left out by the decoder (or given twice), as the report shows it.
pub fn rejected_service(full: &str, reason: &str) -> ServiceReport {
    ServiceReport {
        name: full.to_string(),
        provider: HTTP,
        servers: Vec::new(),
        pass_host_header: true,
        errors: vec![reason.to_string()],
        used_by: Vec::new(),
    }
}

/// A router left out (by the decoder, given twice, or a route file's route that cannot be built), as the report
/// shows it.
pub fn rejected_router(full: &str, provider: &'static str, reason: &str) -> RouterReport {
    RouterReport {
        name: full.to_string(),
        provider,
        rule: String::new(),
        service: String::new(),
        priority: 0,
        entry_points: Vec::new(),
        tls: None,
        middlewares: Vec::new(),
        errors: vec![reason.to_string()],
        warnings: Vec::new(),
    }
}

/// Compiles router `name` (as written) from its decoded configuration; `state` is what its service is, `clash`:
/// its qualified name clashes, `entry_points`: the proxy's entrypoints in index order.
pub fn router(
    name: &str,
    conf: &RouterConf,
    warnings: &[String],
    clash: bool,
    state: &ServiceState,
    entry_points: &[String],
) -> BuiltRouter {
    let full = qualify(name);
    let service = conf.service.as_deref().map(qualify).unwrap_or_default();
    let mut rr = RouterReport {
        name: full.clone(),
        provider: HTTP,
        rule: conf.rule.clone(),
        service: service.clone(),
        priority: conf.priority.unwrap_or(0),
        entry_points: conf.entry_points.clone().unwrap_or_else(|| entry_points.to_vec()),
        tls: conf.tls.as_ref().map(tls_json),
        middlewares: conf.middlewares.clone(),
        errors: Vec::new(),
        warnings: warnings.to_vec(),
    };
    if clash {
        rr.errors.push(format!("router {name:?}: {CLASH}"));
    }
    let rule = match crate::rule::parse(&conf.rule) {
        Ok(r) => {
            rr.priority = conf.priority.unwrap_or_else(|| r.priority());
            Some(r)
        }
        Err(e) => {
            rr.errors.push(format!("invalid rule: {e}"));
            None
        }
    };
    let svc = if service.is_empty() {
        rr.errors.push("the router has no service".to_string());
        None
    } else {
        match state {
            ServiceState::Enabled(s) => Some(s.clone()),
            ServiceState::Disabled => {
                rr.errors.push(format!("the service {service:?} is disabled"));
                None
            }
            ServiceState::Missing => {
                rr.errors.push(format!("the service {service:?} does not exist"));
                None
            }
        }
    };
    for m in &conf.middlewares {
        rr.errors.push(format!(
            "middleware {:?} is not supported by ringress; the router is not served without it",
            qualify(m)
        ));
    }
    let mask = match &conf.entry_points {
        None => u64::MAX,
        Some(names) => {
            let mut mask = 0u64;
            for n in names {
                match entry_points.iter().position(|e| e == n) {
                    Some(i) if i < 64 => mask |= 1 << i,
                    _ => rr.warnings.push(format!("entryPoint {n:?} does not exist")),
                }
            }
            if mask == 0 {
                rr.errors.push("no valid entryPoint for this router".to_string());
            }
            mask
        }
    };
    let mut certs = Vec::new();
    let mut def = None;
    if let (Some(rule), Some(svc), true) = (rule, svc, rr.errors.is_empty()) {
        if let Some(resolver) = conf.tls.as_ref().and_then(|t| t.cert_resolver.as_ref()) {
            cert_wants(resolver, &full, &rule, conf.tls.as_ref(), &mut certs);
        }
        let transport = if conf.tls.is_some() {
            Transport::Tls
        } else {
            Transport::Plain
        };
        def = Some(RouterDef::new(full, rule, rr.priority, mask, transport, svc));
    }
    BuiltRouter {
        def,
        report: rr,
        certs,
        service,
    }
}

/// The certificates a router with `tls.certResolver` asks for: its `tls.domains` as written (one certificate per
/// entry), else one certificate per `Host()` name of its rule (so one name whose DNS is not ready never blocks
/// another; Traefik bundles them).
fn cert_wants(resolver: &str, router: &str, rule: &crate::rule::Rule, tls: Option<&TlsConf>, out: &mut Vec<CertWant>) {
    let want = |main: &str, sans: Vec<String>| CertWant {
        resolver: resolver.to_string(),
        main: main.to_ascii_lowercase(),
        sans,
        router: router.to_string(),
    };
    match tls.map(|t| t.domains.as_slice()).unwrap_or_default() {
        [] => out.extend(rule.named_hosts().iter().map(|h| want(h, Vec::new()))),
        domains => out.extend(
            domains
                .iter()
                .map(|d| want(&d.main, d.sans.iter().map(|s| s.to_ascii_lowercase()).collect())),
        ),
    }
}

/// A router's `tls` section as Traefik's API shows it.
fn tls_json(t: &TlsConf) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    if let Some(r) = &t.cert_resolver {
        o.insert("certResolver".into(), serde_json::json!(r));
    }
    if !t.domains.is_empty() {
        let domains: Vec<serde_json::Value> = t
            .domains
            .iter()
            .map(|d| serde_json::json!({ "main": d.main, "sans": d.sans }))
            .collect();
        o.insert("domains".into(), serde_json::Value::Array(domains));
    }
    if let Some(opt) = &t.options {
        o.insert("options".into(), serde_json::json!(opt));
    }
    serde_json::Value::Object(o)
}

/// `name` qualified with the HTTP provider unless it already names a provider.
pub fn qualify(name: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        with_http(name)
    }
}

/// `name@http`, built without the formatting machinery (it runs for every entry of every compile).
pub fn with_http(name: &str) -> String {
    let mut q = String::with_capacity(name.len() + 1 + HTTP.len());
    q.push_str(name);
    q.push('@');
    q.push_str(HTTP);
    q
}

/// The `host:port` of a server URL (`http://10.50.0.2:24207`, path ignored as Traefik does).
pub fn server_target(url: &str) -> Result<Target, String> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => return Err(format!("scheme {scheme:?} is not supported (http only)")),
        None => return Err("not a URL (expected http://host:port)".to_string()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("credentials in server URLs are not supported".to_string());
    }
    let with_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:80")
    } else {
        authority.to_string()
    };
    Target::parse(&with_port).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(
            server_target("http://10.50.0.2:24207").map(|t| t.to_string()),
            Ok("10.50.0.2:24207".into())
        );
        assert_eq!(server_target("http://app:8080/base/path").map(|t| t.port), Ok(8080));
        assert_eq!(server_target("http://app").map(|t| t.port), Ok(80));
        assert_eq!(server_target("http://[::1]:81").map(|t| t.port), Ok(81));
        assert!(server_target("https://app:443").is_err());
        assert!(server_target("app:80").is_err());
        assert!(server_target("http://u:p@app:80").is_err());
    }

    #[test]
    fn qualified_names() {
        assert_eq!(qualify("83a6"), "83a6@http");
        assert_eq!(qualify("api@internal"), "api@internal");
    }
}
