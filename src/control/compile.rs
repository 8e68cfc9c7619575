//! Compiling the sources into one route table: provider routers and services (`name@http`) plus route-file
//! routes (`id@routes`), with a report of every router and service, enabled or disabled and why.
//!
//! A router that names an unknown service, uses any middleware (ringress implements none yet, and a router must
//! never be served without its middlewares), has an invalid rule or no valid entrypoint is disabled and reported;
//! the rest apply. Runs on the control thread only (it may resolve DNS names); never touches a client socket.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::health::config::HealthCheck;

use crate::provider::dynamic::{Dynamic, Section, ServiceKind};
use crate::provider::TlsConf;
use crate::route::{file_routers, RouteFiles, RouteTable, RouterDef, Service, Target, Transport, Upstream};

/// The provider name Traefik gives the HTTP provider.
pub const HTTP: &str = "http";
/// The provider name of route files.
pub const ROUTES: &str = "routes";

/// One router as the admin API and `ringress check` show it.
#[derive(Debug, Clone)]
pub struct RouterReport {
    /// Qualified name, `83a6@http` or `x.com/app@routes`.
    pub name: String,
    /// `http` or `routes`.
    pub provider: &'static str,
    /// The rule as written.
    pub rule: String,
    /// Qualified service name.
    pub service: String,
    /// Effective priority: explicit, else the rule's length (0 when the rule did not parse).
    pub priority: i64,
    /// Entrypoints it listens on (all proxy entrypoints when the router names none).
    pub entry_points: Vec<String>,
    /// The router's `tls` section, as received.
    pub tls: Option<serde_json::Value>,
    /// Middlewares it names.
    pub middlewares: Vec<String>,
    /// Why it is disabled; empty when enabled.
    pub errors: Vec<String>,
    /// Non-fatal remarks (unknown keys, unknown entrypoints).
    pub warnings: Vec<String>,
}

/// One service as the admin API shows it.
#[derive(Debug, Clone)]
pub struct ServiceReport {
    /// Qualified name.
    pub name: String,
    /// `http` or `routes`.
    pub provider: &'static str,
    /// Server URLs as received.
    pub servers: Vec<String>,
    /// Whether the client's Host header is passed upstream.
    pub pass_host_header: bool,
    /// Why it (or some of its servers) cannot be used.
    pub errors: Vec<String>,
    /// Routers that use it.
    pub used_by: Vec<String>,
}

/// Everything the admin API needs to describe the table.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every router, enabled or not, sorted by name.
    pub routers: Vec<RouterReport>,
    /// Every service, sorted by name.
    pub services: Vec<ServiceReport>,
}

impl Report {
    /// Routers that are disabled.
    pub fn disabled(&self) -> usize {
        self.routers.iter().filter(|r| !r.errors.is_empty()).count()
    }
}

/// A certificate an enabled router asks a resolver for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertWant {
    /// `tls.certResolver`.
    pub resolver: String,
    /// The certificate's first name.
    pub main: String,
    /// Further names on the same certificate (only from `tls.domains`; each `Host()` gets its own certificate).
    pub sans: Vec<String>,
    /// The qualified router name that asks for it.
    pub router: String,
}

/// The result of a compile.
pub struct Compiled {
    /// The table workers will serve.
    pub table: RouteTable,
    /// The description of every router and service.
    pub report: Report,
    /// Certificates enabled routers ask for, in router order (may repeat a name).
    pub certs: Vec<CertWant>,
    /// Active health checks, one per service that has a valid `healthCheck`.
    pub health: Vec<HealthPlan>,
}

/// The active health check of one service.
#[derive(Debug, Clone)]
pub struct HealthPlan {
    /// The service's index in the table.
    pub service: usize,
    /// What to check.
    pub check: Arc<HealthCheck>,
    /// The URL each of the service's servers came from, as written (parallel to its `servers`).
    pub urls: Vec<String>,
}

/// Resolves a server's host (blocking DNS; control thread only).
pub type Resolver<'a> = &'a mut dyn FnMut(&Target) -> io::Result<Vec<SocketAddr>>;

/// Builds the table from the provider's last good configuration and the route files.
pub fn compile(
    dynamic: Option<&Dynamic>,
    files: Option<&RouteFiles>,
    entry_points: &[String],
    resolve: Resolver<'_>,
) -> Compiled {
    let mut services: Vec<Service> = Vec::new();
    let mut routers: Vec<RouterDef> = Vec::new();
    let mut report = Report::default();
    let mut certs = Vec::new();
    let mut health = Vec::new();

    if let Some(d) = dynamic {
        let out = Out {
            routers: &mut routers,
            services: &mut services,
            report: &mut report,
            certs: &mut certs,
            health: &mut health,
        };
        compile_provider(d, entry_points, resolve, out);
    }
    if let Some(f) = files {
        let first_service = services.len();
        let (defs, errors) = file_routers(&f.specs, resolve, &mut services);
        let checked: HashMap<String, &serde_json::Value> = f
            .specs
            .iter()
            .filter_map(|spec| Some((format!("{}@{ROUTES}", spec.id), spec.health_check.as_ref()?)))
            .collect();
        for (index, s) in services.iter().enumerate().skip(first_service) {
            let urls: Vec<String> = s.servers.iter().map(|u| format!("http://{}", u.authority)).collect();
            let mut errors = Vec::new();
            if let Some(raw) = checked.get(&s.name) {
                // The loader validated it already; a failure here would be a loader bug, reported all the same.
                match crate::health::config::parse(raw) {
                    Ok((check, _)) => health.push(HealthPlan {
                        service: index,
                        check: Arc::new(check),
                        urls: urls.clone(),
                    }),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            report.services.push(ServiceReport {
                name: s.name.clone(),
                provider: ROUTES,
                servers: urls,
                pass_host_header: s.pass_host_header,
                errors,
                used_by: Vec::new(),
            });
        }
        for def in defs {
            report.routers.push(RouterReport {
                name: def.name.clone(),
                provider: ROUTES,
                rule: def.rule.source().to_string(),
                service: services.get(def.service).map(|s| s.name.clone()).unwrap_or_default(),
                priority: def.priority,
                entry_points: entry_points.to_vec(),
                tls: None,
                middlewares: Vec::new(),
                errors: Vec::new(),
                warnings: Vec::new(),
            });
            routers.push(def);
        }
        for e in errors {
            let text = e.to_string();
            report.routers.push(RouterReport {
                name: format!("{}@{ROUTES}", e.id()),
                provider: ROUTES,
                rule: String::new(),
                service: String::new(),
                priority: 0,
                entry_points: Vec::new(),
                tls: None,
                middlewares: Vec::new(),
                errors: vec![text],
                warnings: Vec::new(),
            });
        }
    }

    // usedBy, from the enabled routers.
    let mut used: HashMap<&str, Vec<String>> = HashMap::new();
    for r in report.routers.iter().filter(|r| r.errors.is_empty()) {
        used.entry(r.service.as_str()).or_default().push(r.name.clone());
    }
    let used: HashMap<String, Vec<String>> = used.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for s in &mut report.services {
        s.used_by = used.get(&s.name).cloned().unwrap_or_default();
        s.used_by.sort();
    }
    report.routers.sort_by(|a, b| a.name.cmp(&b.name));
    report.services.sort_by(|a, b| a.name.cmp(&b.name));
    Compiled {
        table: RouteTable::build(routers, services),
        report,
        certs,
        health,
    }
}

/// Where [`compile_provider`] puts what it builds.
struct Out<'a> {
    routers: &'a mut Vec<RouterDef>,
    services: &'a mut Vec<Service>,
    report: &'a mut Report,
    certs: &'a mut Vec<CertWant>,
    health: &'a mut Vec<HealthPlan>,
}

fn compile_provider(d: &Dynamic, entry_points: &[String], resolve: Resolver<'_>, out: Out<'_>) {
    let Out {
        routers,
        services,
        report,
        certs,
        health,
    } = out;
    // Services first: routers refer to them by name.
    let mut by_name: BTreeMap<String, Option<usize>> = BTreeMap::new();
    let service_clash = clashing(d.services.keys());
    let router_clash = clashing(d.routers.keys());
    for (name, conf) in &d.services {
        let full = qualify(name);
        if service_clash.contains(&full) {
            by_name.insert(full.clone(), None);
            report.services.push(ServiceReport {
                name: full,
                provider: HTTP,
                servers: Vec::new(),
                pass_host_header: true,
                errors: vec![format!("service {name:?}: {CLASH}")],
                used_by: Vec::new(),
            });
            continue;
        }
        let mut sr = ServiceReport {
            name: full.clone(),
            provider: HTTP,
            servers: Vec::new(),
            pass_host_header: true,
            errors: Vec::new(),
            used_by: Vec::new(),
        };
        match &conf.kind {
            ServiceKind::LoadBalancer(lb) => {
                sr.pass_host_header = lb.pass_host_header;
                let mut upstreams = Vec::new();
                let mut urls = Vec::new();
                for server in &lb.servers {
                    sr.servers.push(server.url.clone());
                    // Traefik: no weight is 1, a weight of 0 or less takes the server out of rotation.
                    let weight = match server.weight {
                        None => 1,
                        Some(w) if w <= 0 => continue,
                        Some(w) => u32::try_from(w).unwrap_or(u32::MAX),
                    };
                    match server_target(&server.url) {
                        Ok(t) => match resolve(&t) {
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
                            Ok(_) => sr
                                .errors
                                .push(format!("server {:?}: {} resolves to no address", server.url, t)),
                            Err(e) => sr
                                .errors
                                .push(format!("server {:?}: cannot resolve {}: {e}", server.url, t)),
                        },
                        Err(reason) => sr.errors.push(format!("server {:?}: {reason}", server.url)),
                    }
                }
                if let Some(raw) = &lb.health_check {
                    match crate::health::config::parse(raw) {
                        Ok((check, notes)) => {
                            sr.errors.extend(notes);
                            health.push(HealthPlan {
                                service: services.len(),
                                check: Arc::new(check),
                                urls,
                            });
                        }
                        // The service still serves; without a usable check its servers count as up.
                        Err(e) => sr.errors.push(format!("{e}; servers are not health-checked")),
                    }
                }
                by_name.insert(full.clone(), Some(services.len()));
                services.push(Service::new(full, upstreams.into_boxed_slice(), lb.pass_host_header));
            }
            ServiceKind::Unsupported(kind) => {
                sr.errors
                    .push(format!("service type {kind:?} is not supported by ringress"));
                by_name.insert(full, None);
            }
        }
        report.services.push(sr);
    }
    for bad in d.invalid.iter().filter(|b| b.section == Section::Service) {
        by_name.insert(bad.name.clone(), None);
        report.services.push(ServiceReport {
            name: bad.name.clone(),
            provider: HTTP,
            servers: Vec::new(),
            pass_host_header: true,
            errors: vec![bad.reason.clone()],
            used_by: Vec::new(),
        });
    }

    let warnings_of = router_warnings(&d.warnings);
    let mut reports = Vec::with_capacity(d.routers.len());
    for (name, conf) in &d.routers {
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
            warnings: warnings_of
                .get(full.as_str())
                .map(|found| found.iter().map(|w| w.to_string()).collect())
                .unwrap_or_default(),
        };
        if router_clash.contains(&full) {
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
            match by_name.get(&service) {
                Some(Some(i)) => Some(*i),
                Some(None) => {
                    rr.errors.push(format!("the service {service:?} is disabled"));
                    None
                }
                None => {
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
        if let (Some(rule), Some(svc), true) = (rule, svc, rr.errors.is_empty()) {
            if let Some(resolver) = conf.tls.as_ref().and_then(|t| t.cert_resolver.as_ref()) {
                cert_wants(resolver, &full, &rule, conf.tls.as_ref(), certs);
            }
            routers.push(RouterDef {
                name: full,
                rule,
                priority: rr.priority,
                entry_points: mask,
                transport: if conf.tls.is_some() {
                    Transport::Tls
                } else {
                    Transport::Plain
                },
                service: svc,
            });
        }
        reports.push(rr);
    }
    push_by_name(reports, &mut report.routers);
    for bad in d.invalid.iter().filter(|b| b.section == Section::Router) {
        report.routers.push(RouterReport {
            name: bad.name.clone(),
            provider: HTTP,
            rule: String::new(),
            service: String::new(),
            priority: 0,
            entry_points: Vec::new(),
            tls: None,
            middlewares: Vec::new(),
            errors: vec![bad.reason.clone()],
            warnings: Vec::new(),
        });
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

/// Appends `reports` sorted by name (stable), moving positions rather than reports while sorting, so the report's
/// final sort finds them as one sorted run instead of sorting 100,000 large entries.
fn push_by_name(reports: Vec<RouterReport>, out: &mut Vec<RouterReport>) {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by(|&a, &b| reports[a].name.cmp(&reports[b].name));
    let mut slots: Vec<Option<RouterReport>> = reports.into_iter().map(Some).collect();
    out.reserve(slots.len());
    out.extend(order.iter().filter_map(|&i| slots.get_mut(i).and_then(Option::take)));
}

/// The decoder's warnings about routers (they start `router "<full>": `), without that prefix, by qualified
/// router name: one pass over the warnings, not one per router.
fn router_warnings(all: &[String]) -> HashMap<&str, Vec<&str>> {
    let mut by_router: HashMap<&str, Vec<&str>> = HashMap::new();
    for w in all {
        let Some(rest) = w.strip_prefix("router \"") else {
            continue;
        };
        // A name may itself hold `": `: file the warning under every name it could belong to.
        for (end, _) in rest.match_indices("\": ") {
            if let (Some(full), Some(text)) = (rest.get(..end), rest.get(end + 3..)) {
                by_router.entry(full).or_default().push(text);
            }
        }
    }
    by_router
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
const CLASH: &str = "another entry has the same name once `@http` is added (e.g. `a` and `a@http`); both are disabled";

/// Qualified names that two provider entries share (`a` and `a@http`): neither may silently win.
fn clashing<'a>(names: impl Iterator<Item = &'a String>) -> std::collections::HashSet<String> {
    let mut seen = std::collections::HashSet::new();
    let mut clash = std::collections::HashSet::new();
    for n in names {
        let full = qualify(n);
        if !seen.insert(full.clone()) {
            clash.insert(full);
        }
    }
    clash
}

fn qualify(name: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        format!("{name}@{HTTP}")
    }
}

/// The `host:port` of a server URL (`http://10.50.0.2:24207`, path ignored as Traefik does).
fn server_target(url: &str) -> Result<Target, String> {
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

    fn literal(t: &Target) -> io::Result<Vec<SocketAddr>> {
        let ip: std::net::IpAddr = t.host.parse().map_err(|_| io::Error::other("not an IP literal"))?;
        Ok(vec![SocketAddr::new(ip, t.port)])
    }

    fn report_of<'a>(c: &'a Compiled, name: &str) -> &'a RouterReport {
        c.report
            .routers
            .iter()
            .find(|r| r.name == name)
            .expect("router reported")
    }

    #[test]
    fn names_that_clash_once_qualified_disable_both_entries() {
        let body = br#"{"http":{
            "routers":{
                "a":{"rule":"Host(`a.test`)","service":"s"},
                "a@http":{"rule":"Host(`b.test`)","service":"s"},
                "c":{"rule":"Host(`c.test`)","service":"t"}},
            "services":{
                "s":{"loadBalancer":{"servers":[{"url":"http://127.0.0.1:9001"}]}},
                "t":{"loadBalancer":{"servers":[{"url":"http://127.0.0.1:9002"}]}},
                "t@http":{"loadBalancer":{"servers":[{"url":"http://127.0.0.1:9003"}]}}}}}"#;
        let d = crate::provider::decode(body).expect("decodes");
        let c = compile(Some(&d), None, &["web".to_string()], &mut literal);
        let clashed: Vec<&RouterReport> = c.report.routers.iter().filter(|r| r.name == "a@http").collect();
        assert_eq!(clashed.len(), 2);
        assert!(
            clashed.iter().all(|r| r.errors.iter().any(|e| e.contains("same name"))),
            "{clashed:?}"
        );
        let router_c = report_of(&c, "c@http");
        assert!(router_c.errors.iter().any(|e| e.contains("disabled")), "{router_c:?}");
        assert_eq!(
            c.table.len(),
            0,
            "no router of the clash, and none that uses a clashing service"
        );
    }

    #[test]
    fn bad_routers_are_disabled_with_reasons_and_the_rest_apply() {
        let body = br#"{"http":{
            "routers":{
                "ok":{"rule":"Host(`ok.test`)","service":"ok"},
                "badrule":{"rule":"Host(`x.test`","service":"ok"},
                "nosvc":{"rule":"Host(`n.test`)","service":"missing"},
                "mw":{"rule":"Host(`m.test`)","service":"ok","middlewares":["auth"]},
                "badep":{"rule":"Host(`e.test`)","service":"ok","entryPoints":["nope"]},
                "secure":{"rule":"Host(`s.test`)","service":"ok","entryPoints":["websecure"],"tls":{"certResolver":"le"}},
                "weird":{"rule":"Host(`w.test`)","service":"w"}},
            "services":{
                "ok":{"loadBalancer":{"servers":[{"url":"http://127.0.0.1:9001"},{"url":"https://127.0.0.1:9443"}]}},
                "w":{"weighted":{"services":[]}}}}}"#;
        let d = crate::provider::decode(body).expect("decodes");
        let eps = vec!["web".to_string(), "websecure".to_string()];
        let c = compile(Some(&d), None, &eps, &mut literal);
        assert!(report_of(&c, "ok@http").errors.is_empty());
        assert!(report_of(&c, "badrule@http").errors[0].starts_with("invalid rule: at "));
        assert!(report_of(&c, "nosvc@http").errors[0].contains("\"missing@http\" does not exist"));
        assert_eq!(
            report_of(&c, "nosvc@http").priority,
            14,
            "a disabled router still shows its priority"
        );
        assert!(report_of(&c, "mw@http").errors[0].contains("middleware \"auth@http\""));
        assert!(report_of(&c, "badep@http").errors[0].contains("no valid entryPoint"));
        assert!(report_of(&c, "weird@http").errors[0].contains("disabled"));
        assert_eq!(
            report_of(&c, "ok@http").entry_points,
            eps,
            "no entryPoints means all of them"
        );
        assert_eq!(c.table.len(), 2, "only ok and secure are served");
        let secure = c
            .table
            .routers()
            .iter()
            .find(|r| r.name == "secure@http")
            .expect("secure");
        assert_eq!(secure.entry_points, 0b10);
        let svc = c.report.services.iter().find(|s| s.name == "ok@http").expect("service");
        assert_eq!(svc.used_by, vec!["ok@http".to_string(), "secure@http".to_string()]);
        assert!(
            svc.errors[0].contains("https"),
            "the https server is reported: {:?}",
            svc.errors
        );
        let served = &c.table.services()[0];
        assert_eq!(served.servers.len(), 1, "the usable server stays");
    }

    #[test]
    fn route_files_join_the_same_table() {
        let dir = std::env::temp_dir().join(format!("ringress-compile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("routes.yml");
        std::fs::write(&file, "- id: files.test/app\n  target: 127.0.0.1:9002\n").expect("write");
        let files = crate::route::load_route_files(&file);
        let d = crate::provider::decode(
            br#"{"http":{"routers":{"f":{"rule":"Host(`files.test`)","service":"f"}},"services":{"f":{"loadBalancer":{"servers":[{"url":"http://127.0.0.1:9001"}]}}}}}"#,
        )
        .expect("decodes");
        let c = compile(Some(&d), Some(&files), &["web".to_string()], &mut literal);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(c.table.len(), 2);
        let names: Vec<&str> = c.table.routers().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["files.test/app@routes", "f@http"],
            "the longer route-file rule ranks first"
        );
        let r = report_of(&c, "files.test/app@routes");
        assert_eq!((r.provider, r.service.as_str()), (ROUTES, "files.test/app@routes"));
    }

    #[test]
    fn qualified_names() {
        assert_eq!(qualify("83a6"), "83a6@http");
        assert_eq!(qualify("api@internal"), "api@internal");
    }
}
