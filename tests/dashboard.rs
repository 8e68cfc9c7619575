//! The admin dashboard in a real browser: headless Chromium (Debian's `chromium`) loads `/dashboard/` from a running
//! proxy, the page's script fetches the JSON APIs, and the rendered DOM must show a router from the provider and a
//! certificate from acme.json with its status. Also checks `/api/certificates` directly.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use common::control_plane::{admin_json, provider_config, tagged, ControlPlane, Dynamic, Mode, ProviderOpts};
use common::proxy::Proxy;
use common::upstream::Upstream;
use common::TempDir;
use serde_json::json;

/// Installs Debian's `chromium` when missing (as root; otherwise says what to do).
fn chromium() -> &'static str {
    let have = || {
        Command::new("chromium")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have() {
        let status = Command::new("sh")
            .args([
                "-c",
                "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null || \
                 (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null)",
            ])
            .status()
            .expect("run apt-get");
        assert!(
            status.success() && have(),
            "chromium is not installed: run `apt-get install -y chromium`"
        );
    }
    "chromium"
}

/// Polls `f` every 100 ms until it gives `Some`, for at most `timeout`.
fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A self-signed certificate for `name`, valid from yesterday for 60 days, as (chain PEM, key PEM).
fn certificate(name: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    let day = Duration::from_secs(86_400);
    params.not_before = (SystemTime::now() - day).into();
    params.not_after = (SystemTime::now() + 60 * day).into();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ringress dashboard test CA");
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn dashboard_shows_routers_and_certificates_in_chromium() {
    let browser = chromium();
    let app = Upstream::start(tagged("dash"));
    let dynamic = Dynamic::new()
        .router_value(
            "dash-app",
            json!({"rule": "Host(`dash.test`)", "service": "dash-app", "tls": {"certResolver": "le"}}),
        )
        .service("dash-app", &[app.port]);
    let cp = ControlPlane::start(Mode::Json(dynamic.json()), None);

    let store = TempDir::new("dash-store");
    let (chain, key) = certificate("dash.test");
    let b64 = base64::engine::general_purpose::STANDARD;
    let acme = json!({"le": {"Certificates": [{
        "domain": {"main": "dash.test"},
        "certificate": b64.encode(chain),
        "key": b64.encode(key),
        "Store": "default"
    }]}});
    let storage = store.write("acme.json", &acme.to_string());
    std::fs::set_permissions(&storage, std::fs::Permissions::from_mode(0o600)).unwrap();

    let mut config = provider_config(&ProviderOpts::new(cp.endpoint()));
    config.push_str("  acme: { precheck: false }\n");
    config.push_str(&format!(
        "certificatesResolvers:\n  le:\n    acme:\n      storage: \"{}\"\n      caServer: \"https://127.0.0.1:1/dir\"\n      \
         httpChallenge: {{ entryPoint: web }}\n",
        storage.display()
    ));
    let proxy = Proxy::start(&config, "");

    // The API first: the certificate is known with its status.
    let certs = poll(Duration::from_secs(10), || {
        let doc = admin_json(proxy.admin_port, "/api/certificates")?;
        let first = doc["certificates"].get(0)?.clone();
        (first["domain"] == "dash.test").then_some(first)
    });
    let cert = certs.unwrap_or_else(|| panic!("/api/certificates never listed dash.test:\n{}", proxy.stderr()));
    assert_eq!(cert["status"], "ok", "{cert}");
    assert_eq!(cert["resolver"], "le");
    assert!(
        cert["daysLeft"].as_i64().is_some_and(|d| (58..=60).contains(&d)),
        "{cert}"
    );
    assert!(poll(Duration::from_secs(10), || {
        admin_json(proxy.admin_port, "/api/rawdata")?["routers"]
            .get("dash-app@http")
            .map(|_| ())
    })
    .is_some());

    // Then the page, rendered by a real browser: the tables are filled by the page's script.
    let profile = TempDir::new("chromium-profile");
    let url = format!("http://127.0.0.1:{}/dashboard/", proxy.admin_port);
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && dom.contains("<tbody id=\"router-rows\">"),
        "chromium failed ({}):\n{}\n{}",
        out.status,
        dom,
        String::from_utf8_lossy(&out.stderr)
    );
    let section = |id: &str| {
        let start = dom
            .find(&format!("<tbody id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no {id} in\n{dom}"));
        let end = dom[start..].find("</tbody>").map(|e| start + e).unwrap();
        dom[start..end].to_string()
    };
    let routers = section("router-rows");
    assert!(
        routers.contains("dash-app@http"),
        "router missing from the page:\n{routers}"
    );
    assert!(routers.contains("Host(`dash.test`)"), "{routers}");
    assert!(routers.contains("enabled"), "{routers}");
    let certificates = section("cert-rows");
    assert!(
        certificates.contains("dash.test"),
        "certificate missing from the page:\n{certificates}"
    );
    assert!(certificates.contains(">ok<"), "{certificates}");
    assert!(
        dom.contains("<span id=\"updated\">updated "),
        "the page did not report a successful refresh:\n{dom}"
    );
    // Self-contained: no external asset in the page.
    let page = common::control_plane::try_get(proxy.admin_port, "localhost", "/dashboard/").unwrap();
    let html = page.body_str();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "external reference in the page"
    );
}
