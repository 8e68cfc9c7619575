//! `ringress check` and `ringress routes list` against the stand-in control plane, and the
//! admin API's provider view.
#![allow(clippy::unwrap_used)]

mod common;

use common::control_plane::{
    admin_json, provider_config, tag_of, tagged, wait_until, ControlPlane, Dynamic, Mode, ProviderOpts,
};
use common::proxy::{run_cli, CliOutput, Proxy};
use common::upstream::Upstream;
use common::{free_port, TempDir};
use serde_json::Value;
use std::time::Duration;

fn sample(port: u16) -> Dynamic {
    Dynamic::new()
        .app("ok", "ok.test", port)
        .router("bad", "Host(`bad.test`", "ok")
        .router("nosvc", "Host(`nosvc.test`)", "missing")
}

/// Runs `ringress check --config ringress.yml` on `config` in a fresh directory.
fn check(tag: &str, config: &str) -> CliOutput {
    let dir = TempDir::new(tag);
    let web = free_port();
    let mut admin = free_port();
    while admin == web {
        admin = free_port();
    }
    let cfg = config
        .replace("@WEB_PORT@", &web.to_string())
        .replace("@ADMIN_PORT@", &admin.to_string());
    dir.write("ringress.yml", &cfg);
    run_cli(dir.path(), &["check", "--config", "ringress.yml"])
}

fn both(out: &CliOutput) -> String {
    format!("{}\n{}", out.stdout, out.stderr)
}

#[test]
fn check_polls_once_and_lists_every_router() {
    let up = Upstream::start(tagged("ok"));
    let cp = ControlPlane::start(Mode::Json(sample(up.port).json()), None);
    let out = check("check-ok", &provider_config(&ProviderOpts::new(cp.endpoint())));
    let text = both(&out);
    assert_eq!(out.status.code(), Some(0), "check failed:\n{text}");
    assert!(cp.requests() >= 1, "check did not poll the control plane");
    let mut problems = Vec::new();
    for want in [
        "ok",
        "bad",
        "nosvc",
        "Host(`ok.test`)",
        "enabled",
        "disabled",
        "missing",
    ] {
        if !text.contains(want) {
            problems.push(format!("output lacks {want:?}"));
        }
    }
    if !text.contains(&format!("127.0.0.1:{}", up.port)) {
        problems.push("output lacks the server URL".to_string());
    }
    if !text.contains(&"Host(`ok.test`)".len().to_string()) {
        problems.push("output lacks ok's priority (15)".to_string());
    }
    let ok_line = text.lines().find(|l| l.contains("ok.test")).unwrap_or_default();
    if !ok_line.contains("enabled") || ok_line.contains("disabled") {
        problems.push(format!("ok.test's line does not say enabled: {ok_line:?}"));
    }
    assert!(problems.is_empty(), "{}\noutput:\n{text}", problems.join("\n"));
}

#[test]
fn check_fails_clearly_when_the_control_plane_is_down_or_failing() {
    let cp = ControlPlane::start(Mode::Down, None);
    let cfg = provider_config(&ProviderOpts::new(cp.endpoint()));
    let out = check("check-down", &cfg);
    let text = both(&out);
    assert!(
        !out.status.success(),
        "check succeeded with the control plane down:\n{text}"
    );
    let lower = text.to_ascii_lowercase();
    assert!(
        lower.contains("refused") || lower.contains("connect"),
        "check's message does not say the connection failed:\n{text}"
    );

    cp.set_mode(Mode::Status(500));
    let out = check("check-500", &cfg);
    let text = both(&out);
    assert!(!out.status.success(), "check succeeded on a 500:\n{text}");
    assert!(
        text.contains("500"),
        "check's message does not mention the 500:\n{text}"
    );

    cp.set_mode(Mode::Garbage);
    let out = check("check-garbage", &cfg);
    assert!(
        !out.status.success(),
        "check succeeded on a non-JSON body:\n{}",
        both(&out)
    );
}

#[test]
fn check_exits_2_on_a_config_error() {
    let mut o = ProviderOpts::new("http://127.0.0.1:9/v1/traefik/proxy-config".into());
    o.poll_interval = "banana";
    let out = check("check-bad-config", &provider_config(&o));
    assert_eq!(
        out.status.code(),
        Some(2),
        "check on an invalid pollInterval:\n{}",
        both(&out)
    );
    assert!(both(&out).contains("pollInterval"), "{}", both(&out));
}

#[test]
fn routes_list_prints_the_running_table() {
    let up = Upstream::start(tagged("ok"));
    let cp = ControlPlane::start(Mode::Json(sample(up.port).json()), None);
    let proxy = Proxy::start(&provider_config(&ProviderOpts::new(cp.endpoint())), "");
    let took = wait_until(proxy.web_port, "ok.test", "/", Duration::from_secs(4), |r| {
        tag_of(r).as_deref() == Some("ok")
    });
    assert!(took.is_some(), "ok.test never served");
    let admin = format!("127.0.0.1:{}", proxy.admin_port);
    let out = run_cli(proxy.dir(), &["routes", "list", "--admin", &admin]);
    let text = both(&out);
    assert_eq!(out.status.code(), Some(0), "routes list failed:\n{text}");
    let header = out.stdout.lines().next().unwrap_or_default();
    for col in ["ROUTER", "RULE", "PRIORITY", "SERVICE", "STATUS"] {
        assert!(header.contains(col), "header {header:?} lacks {col}:\n{text}");
    }
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{text}"))
            .to_string()
    };
    let ok = line("ok@http");
    assert!(
        ok.contains("Host(`ok.test`)") && ok.contains("15") && ok.contains("ok@http") && ok.contains("enabled"),
        "{ok:?}"
    );
    assert!(line("bad@http").contains("disabled"), "{text}");
    assert!(line("nosvc@http").contains("disabled"), "{text}");
}

fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
}

#[test]
fn admin_api_reports_the_provider() {
    let up = Upstream::start(tagged("ok"));
    let cp = ControlPlane::start(Mode::Json(sample(up.port).json()), None);
    let proxy = Proxy::start(&provider_config(&ProviderOpts::new(cp.endpoint())), "");
    let took = wait_until(proxy.web_port, "ok.test", "/", Duration::from_secs(4), |r| {
        tag_of(r).as_deref() == Some("ok")
    });
    assert!(took.is_some(), "ok.test never served");
    let ping = proxy.admin_get("/ping");
    assert_eq!((ping.status, ping.body_str().trim()), (200, "OK"));

    let v = admin_json(proxy.admin_port, "/api/providers").expect("/api/providers answers JSON");
    let http = &v["http"];
    assert_eq!(http["endpoint"], Value::String(cp.endpoint()), "{v}");
    assert!(
        http["lastSuccess"].as_str().is_some_and(is_rfc3339),
        "lastSuccess not RFC 3339: {v}"
    );
    assert!(http["lastError"].is_null(), "lastError set after a good poll: {v}");
    assert_eq!(http["consecutiveFailures"].as_u64(), Some(0), "{v}");
    assert!(
        http["tableAgeSeconds"]
            .as_f64()
            .is_some_and(|a| (0.0..30.0).contains(&a)),
        "tableAgeSeconds: {v}"
    );
    let n = http["routers"].as_u64();
    assert!(n.is_some_and(|n| (1..=3).contains(&n)), "routers count: {v}");
    assert!(
        v.get("routes").is_some(),
        "no \"routes\" key (null without route files): {v}"
    );
}

#[test]
fn admin_api_hides_endpoint_query_and_credentials() {
    let up = Upstream::start(tagged("ok"));
    let cp = ControlPlane::start(Mode::Json(sample(up.port).json()), None);
    let secret_endpoint = format!(
        "http://opsuser:cr3dS3cret@127.0.0.1:{}/v1/traefik/proxy-config?key=qu3rySecret",
        cp.port
    );
    let proxy = Proxy::start(&provider_config(&ProviderOpts::new(secret_endpoint)), "");
    let took = wait_until(proxy.web_port, "ok.test", "/", Duration::from_secs(4), |r| {
        tag_of(r).as_deref() == Some("ok")
    });
    assert!(took.is_some(), "ok.test never served");
    assert!(
        cp.paths().iter().all(|p| p.ends_with("?key=qu3rySecret")),
        "{:?}",
        cp.paths()
    );
    let response = proxy.admin_get("/api/providers");
    let body = response.body_str();
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| {
        panic!(
            "/api/providers is not JSON ({e}): status {} body {body:?}",
            response.status
        )
    });
    assert_eq!(v["http"]["endpoint"], Value::String(cp.endpoint()), "{v}");
    for (what, text) in [
        ("/api/providers", body),
        ("/api/rawdata", proxy.admin_get("/api/rawdata").body_str()),
        ("stderr", proxy.stderr()),
    ] {
        assert!(
            !text.contains("cr3dS3cret") && !text.contains("qu3rySecret"),
            "{what} shows the endpoint's credentials or query:\n{text}"
        );
    }
}

/// The stand-in itself (no ringress): every mode behaves as the other tests assume.
#[test]
fn stand_in_control_plane_modes() {
    use common::client::Conn;
    use common::control_plane::accepts;
    let cp = ControlPlane::start(Mode::Json("{}".into()), Some("tok"));
    let ask = |auth: &str| {
        let mut c = Conn::try_connect(cp.port)?;
        c.set_read_timeout(Duration::from_millis(400));
        c.try_send(format!("GET /v1/traefik/proxy-config HTTP/1.1\r\nHost: cp\r\n{auth}\r\n").as_bytes())?;
        c.read_response("GET")
    };
    let good = "Authorization: Bearer tok\r\n";
    assert_eq!(ask("").unwrap().status, 401);
    assert_eq!(ask("Authorization: Bearer nope\r\n").unwrap().status, 401);
    let r = ask(good).unwrap();
    assert_eq!((r.status, r.body_str().as_str()), (200, "{}"));
    cp.set_mode(Mode::Status(500));
    assert_eq!(ask(good).unwrap().status, 500);
    cp.set_mode(Mode::Garbage);
    let r = ask(good).unwrap();
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    cp.set_mode(Mode::Empty);
    let r = ask(good).unwrap();
    assert_eq!((r.status, r.body.len()), (200, 0));
    cp.set_mode(Mode::Hang);
    assert!(ask(good).is_err(), "Hang answered");
    cp.set_mode(Mode::Down);
    assert!(!accepts(cp.port), "Down still accepts");
    cp.set_mode(Mode::Json("{\"http\":{}}".into()));
    assert!(accepts(cp.port), "not re-bound after Down");
    assert_eq!(ask(good).unwrap().body_str(), "{\"http\":{}}");
    let auths = cp.authorizations();
    assert_eq!(auths.len(), cp.requests());
    assert_eq!(auths[0], None);
    assert_eq!(auths[2].as_deref(), Some("Bearer tok"));
}
