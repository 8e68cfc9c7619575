//! Provider routers end to end: disabled routers (bad rule, unknown service, middleware),
//! the Traefik rule language and priorities, and route files alongside the provider.
#![allow(clippy::unwrap_used)]

mod common;

use common::control_plane::{
    admin_json, provider_config, tag_of, tagged, try_get, try_request, wait_until, ControlPlane, Dynamic, Mode,
    ProviderOpts,
};
use common::proxy::{routes, Proxy};
use common::upstream::Upstream;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const NOT_FOUND: &str = "404 page not found\n";

fn start(opts: &ProviderOpts, routes_yaml: &str) -> Proxy {
    Proxy::start(&provider_config(opts), routes_yaml)
}

fn wait_served(proxy: &Proxy, host: &str, path: &str, tag: &str) {
    let took = wait_until(proxy.web_port, host, path, Duration::from_secs(4), |r| {
        tag_of(r).as_deref() == Some(tag)
    });
    assert!(took.is_some(), "{host}{path} never reached upstream {tag}");
}

/// Error strings of a router in /api/rawdata.
fn errors_of(router: &Value) -> Vec<String> {
    router
        .get("error")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Whether `text` contains "at " followed by a digit (a position).
fn names_a_position(text: &str) -> bool {
    text.match_indices("at ")
        .any(|(i, _)| text[i + 3..].starts_with(|c: char| c.is_ascii_digit()))
}

#[test]
fn broken_routers_are_disabled_and_reported_while_the_rest_serve() {
    let ok = Upstream::start(tagged("ok"));
    let d = Dynamic::new()
        .router("ok", "Host(`ok.test`)", "ok")
        .service("ok", &[ok.port])
        .router("bad", "Host(`bad.test`", "ok")
        .router("nosvc", "Host(`nosvc.test`)", "missing")
        .router_value(
            "mw",
            json!({"rule": "Host(`mw.test`)", "service": "ok", "middlewares": ["strip"]}),
        )
        .middleware("strip", json!({"stripPrefix": {"prefixes": ["/x"]}}));
    let cp = ControlPlane::start(Mode::Json(d.json()), None);
    let proxy = start(&ProviderOpts::new(cp.endpoint()), "");
    wait_served(&proxy, "ok.test", "/", "ok");
    for host in ["bad.test", "nosvc.test", "mw.test"] {
        let r = try_get(proxy.web_port, host, "/").unwrap();
        assert_eq!(
            (r.status, r.body_str().as_str()),
            (404, NOT_FOUND),
            "{host} should not be served"
        );
    }

    let raw = admin_json(proxy.admin_port, "/api/rawdata").expect("/api/rawdata answers JSON");
    let routers = &raw["routers"];
    let okr = &routers["ok@http"];
    let mut problems = Vec::new();
    for (field, want) in [
        ("status", json!("enabled")),
        ("service", json!("ok@http")),
        ("provider", json!("http")),
        ("rule", json!("Host(`ok.test`)")),
        // Default priority = rule length.
        ("priority", json!("Host(`ok.test`)".len())),
    ] {
        if okr[field] != want {
            problems.push(format!("ok@http: {field} should be {want}: {okr}"));
        }
    }
    if !okr["entryPoints"].as_array().is_some_and(|a| a.contains(&json!("web"))) {
        problems.push(format!(
            "ok@http: entryPoints should list \"web\" (the only entrypoint): {okr}"
        ));
    }
    if !errors_of(okr).is_empty() {
        problems.push(format!("ok@http has errors: {okr}"));
    }
    for (name, must_mention) in [
        ("bad@http", None),
        ("nosvc@http", Some("missing")),
        ("mw@http", Some("middleware")),
    ] {
        let r = &routers[name];
        let errs = errors_of(r);
        if r["status"] != json!("disabled") || errs.is_empty() {
            problems.push(format!("{name} should be disabled with an error: {r}"));
        }
        if let Some(word) = must_mention {
            if !errs.iter().any(|e| e.to_ascii_lowercase().contains(word)) {
                problems.push(format!("{name}: no error mentions {word:?}: {r}"));
            }
        }
    }
    let bad = errors_of(&routers["bad@http"]);
    if !bad.iter().any(|e| names_a_position(e)) {
        problems.push(format!("the rule error names no position (\"at <n>\"): {bad:?}"));
    }

    let svc = &raw["services"]["ok@http"];
    if svc["status"] != json!("enabled") {
        problems.push(format!("service ok@http not enabled: {svc}"));
    }
    if svc["loadBalancer"]["servers"][0]["url"] != json!(format!("http://127.0.0.1:{}", ok.port)) {
        problems.push(format!("service ok@http servers: {svc}"));
    }
    if svc["loadBalancer"]["passHostHeader"] != json!(true) {
        problems.push(format!("service ok@http passHostHeader (default true): {svc}"));
    }
    if !svc["usedBy"].as_array().is_some_and(|a| a.contains(&json!("ok@http"))) {
        problems.push(format!("service ok@http usedBy lacks ok@http: {svc}"));
    }
    if !raw["middlewares"].is_object() {
        problems.push(format!("no middlewares object in rawdata: {raw}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One router per expected landing place; each upstream is tagged with its router's name.
struct Case {
    method: &'static str,
    host: &'static str,
    path: &'static str,
    extra: &'static str,
    /// The upstream tag, or `None` for a 404.
    want: Option<&'static str>,
}

const fn case(method: &'static str, host: &'static str, path: &'static str, want: Option<&'static str>) -> Case {
    Case {
        method,
        host,
        path,
        extra: "",
        want,
    }
}

#[test]
fn rules_and_priorities_pick_the_expected_upstream() {
    let routers: Vec<(&str, Value)> = vec![
        ("prefix", json!({"rule": "PathPrefix(`/api`)"})),
        ("host", json!({"rule": "Host(`p.test`)"})),
        ("both", json!({"rule": "Host(`p.test`) && PathPrefix(`/api`)"})),
        // Explicit priority beats a longer rule...
        ("long", json!({"rule": "Host(`prio.test`) && PathPrefix(`/`)"})),
        ("explicit", json!({"rule": "Host(`prio.test`)", "priority": 100})),
        // ...and an explicit low one loses to a shorter rule.
        (
            "lowx",
            json!({"rule": "Host(`low.test`) && PathPrefix(`/x`)", "priority": 1}),
        ),
        ("lowhost", json!({"rule": "Host(`low.test`)"})),
        ("post", json!({"rule": "Host(`m.test`) && Method(`POST`)"})),
        ("mget", json!({"rule": "Host(`m.test`)"})),
        ("canary", json!({"rule": "Host(`h.test`) && Header(`X-Env`, `canary`)"})),
        ("hdefault", json!({"rule": "Host(`h.test`)"})),
        ("or", json!({"rule": "Host(`or1.test`) || Host(`or2.test`)"})),
        ("not", json!({"rule": "Host(`n.test`) && !PathPrefix(`/private`)"})),
        (
            "paren",
            json!({"rule": "(Host(`x1.test`) || Host(`x2.test`)) && Path(`/exact`)"}),
        ),
        ("rx", json!({"rule": "HostRegexp(`^[a-z]+\\.rx\\.test$`)"})),
        ("query", json!({"rule": "Host(`qq.test`) && Query(`v`, `2`)"})),
        (
            "prx",
            json!({"rule": "Host(`pr.test`) && PathRegexp(`^/items/[0-9]+$`)"}),
        ),
        (
            "hrx",
            json!({"rule": "Host(`hr.test`) && HeaderRegexp(`X-Ver`, `^v[0-9]+$`)"}),
        ),
        ("cip", json!({"rule": "Host(`ip.test`) && ClientIP(`127.0.0.1/32`)"})),
        ("cipno", json!({"rule": "Host(`ipno.test`) && ClientIP(`10.0.0.0/8`)"})),
    ];
    let mut ups = BTreeMap::new();
    let mut d = Dynamic::new();
    for (name, mut v) in routers {
        let up = Upstream::start(tagged(name));
        d = d.service(name, &[up.port]);
        v["service"] = json!(name);
        d = d.router_value(name, v);
        ups.insert(name, up);
    }
    let cp = ControlPlane::start(Mode::Json(d.json()), None);
    let proxy = start(&ProviderOpts::new(cp.endpoint()), "");
    wait_served(&proxy, "p.test", "/other", "host");

    let cases = [
        case("GET", "p.test", "/api/x", Some("both")),
        case("GET", "p.test", "/other", Some("host")),
        case("GET", "P.Test", "/other", Some("host")),
        case("GET", "q.test", "/api/x", Some("prefix")),
        case("GET", "q.test", "/other", None),
        case("GET", "prio.test", "/", Some("explicit")),
        case("GET", "low.test", "/x/1", Some("lowhost")),
        case("POST", "m.test", "/", Some("post")),
        case("GET", "m.test", "/", Some("mget")),
        Case {
            extra: "X-Env: canary\r\n",
            ..case("GET", "h.test", "/", Some("canary"))
        },
        Case {
            extra: "X-Env: prod\r\n",
            ..case("GET", "h.test", "/", Some("hdefault"))
        },
        case("GET", "h.test", "/", Some("hdefault")),
        case("GET", "or1.test", "/", Some("or")),
        case("GET", "or2.test", "/", Some("or")),
        case("GET", "or3.test", "/", None),
        case("GET", "n.test", "/public", Some("not")),
        case("GET", "n.test", "/private/x", None),
        case("GET", "x2.test", "/exact", Some("paren")),
        case("GET", "x1.test", "/exact", Some("paren")),
        case("GET", "x2.test", "/exact/more", None),
        case("GET", "abc.rx.test", "/", Some("rx")),
        case("GET", "a1.rx.test", "/", None),
        case("GET", "qq.test", "/?v=2", Some("query")),
        case("GET", "qq.test", "/?v=3", None),
        case("GET", "pr.test", "/items/42", Some("prx")),
        case("GET", "pr.test", "/items/abc", None),
        Case {
            extra: "X-Ver: v12\r\n",
            ..case("GET", "hr.test", "/", Some("hrx"))
        },
        Case {
            extra: "X-Ver: beta\r\n",
            ..case("GET", "hr.test", "/", None)
        },
        case("GET", "ip.test", "/", Some("cip")),
        case("GET", "ipno.test", "/", None),
    ];
    let mut wrong = Vec::new();
    for c in &cases {
        let got = match try_request(proxy.web_port, c.method, c.host, c.path, c.extra) {
            Ok(r) if r.status == 404 && r.body_str() == NOT_FOUND => "404".to_string(),
            Ok(r) => tag_of(&r).unwrap_or_else(|| format!("{} {:?}", r.status, r.body_str())),
            Err(e) => format!("error {e}"),
        };
        let want = c.want.unwrap_or("404");
        if got != want {
            wrong.push(format!(
                "{} {}{} [{}]: got {got}, want {want}",
                c.method,
                c.host,
                c.path,
                c.extra.trim()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} requests landed wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn route_files_and_provider_routers_serve_together() {
    let file = Upstream::start(tagged("file"));
    let prov = Upstream::start(tagged("prov"));
    let cp = ControlPlane::start(
        Mode::Json(Dynamic::new().app("files", "files.test", prov.port).json()),
        None,
    );
    let mut o = ProviderOpts::new(cp.endpoint());
    o.routes_file = true;
    let proxy = start(&o, &routes(&[("files.test/app", file.port)]));
    wait_served(&proxy, "files.test", "/other", "prov");
    for (path, want) in [("/app/x", "file"), ("/app", "file"), ("/other", "prov"), ("/", "prov")] {
        let r = try_get(proxy.web_port, "files.test", path).unwrap();
        assert_eq!(
            tag_of(&r).as_deref(),
            Some(want),
            "files.test{path}: {} {}",
            r.status,
            r.body_str()
        );
    }

    let raw = admin_json(proxy.admin_port, "/api/rawdata").expect("/api/rawdata answers JSON");
    let f = &raw["routers"]["files.test/app@routes"];
    assert_eq!(f["provider"], json!("routes"), "files.test/app@routes: {f} in {raw}");
    assert_eq!(f["status"], json!("enabled"), "files.test/app@routes: {f}");
    let p = &raw["routers"]["files@http"];
    assert_eq!(p["provider"], json!("http"), "files@http: {p}");
    assert!(
        f["priority"].as_u64() > p["priority"].as_u64(),
        "the file route's priority should exceed the shorter provider rule's: {f} vs {p}"
    );

    // Dropping the provider router leaves the file route.
    cp.set_json("{}".into());
    let took = wait_until(proxy.web_port, "files.test", "/other", Duration::from_secs(4), |r| {
        r.status == 404
    });
    assert!(took.is_some(), "files@http never removed");
    let r = try_get(proxy.web_port, "files.test", "/app/x").unwrap();
    assert_eq!(tag_of(&r).as_deref(), Some("file"), "file route lost: {}", r.body_str());
}
