//! Whole-file tests: what valid files produce, defaults, and warnings.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const TRAEFIK_YML: &str = r#"
entryPoints:
  web: { address: ":80" }
  websecure: { address: ":443" }
providers:
  http:
    endpoint: "http://10.50.0.1:8081/v1/traefik/proxy-config"
    pollInterval: "5s"
    headers: { Authorization: "Bearer <token>" }
certificatesResolvers:
  letsencrypt:
    acme:
      email: admin@example.com
      storage: /etc/traefik/acme/acme.json
      httpChallenge: { entryPoint: web }
"#;

pub(super) fn parse_ok(text: &str) -> Loaded {
    match parse(text, Path::new("conf/ringress.yml")) {
        Ok(loaded) => loaded,
        Err(error) => panic!("should parse: {error}"),
    }
}

fn socket(text: &str) -> SocketAddr {
    match text.parse() {
        Ok(addr) => addr,
        Err(error) => panic!("bad test address {text:?}: {error}"),
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn traefik_yml_parses_without_warnings() {
    let loaded = parse_ok(TRAEFIK_YML);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let config = loaded.config;

    let names: Vec<&str> = config.entry_points.iter().map(|ep| ep.name.as_str()).collect();
    assert_eq!(names, ["web", "websecure"]);
    assert_eq!(config.entry_points[0], EntryPoint::new("web", ListenAddr::AnyIp(80)));
    assert_eq!(
        config.entry_points[1],
        EntryPoint::new("websecure", ListenAddr::AnyIp(443))
    );

    let expected_provider = HttpProvider {
        endpoint: "http://10.50.0.1:8081/v1/traefik/proxy-config".into(),
        poll_interval: secs(5),
        poll_timeout: secs(5),
        headers: vec![("Authorization".into(), "Bearer <token>".into())],
    };
    assert_eq!(config.providers.http, Some(expected_provider));

    let expected_acme = Acme {
        email: Some("admin@example.com".into()),
        storage: PathBuf::from("/etc/traefik/acme/acme.json"),
        ca_server: LETSENCRYPT_DIRECTORY.into(),
        http_challenge_entry_point: Some("web".into()),
        key_type: "EC256".into(),
    };
    let resolver = CertResolver {
        name: "letsencrypt".into(),
        acme: expected_acme,
    };
    assert_eq!(
        config.certificates_resolvers,
        BTreeMap::from([("letsencrypt".to_owned(), resolver)])
    );
    assert_eq!(config.servers_transport, ServersTransport::default());
    assert_eq!(config.ringress, Ringress::default());
}

#[test]
fn defaults() {
    let config = Config::default();
    assert!(config.entry_points.is_empty());
    assert_eq!(config.providers.http, None);
    assert!(config.certificates_resolvers.is_empty());

    let transport = config.servers_transport;
    assert_eq!(transport.dial_timeout, secs(10));
    assert_eq!(transport.response_header_timeout, Some(secs(60)));
    assert_eq!(transport.idle_conn_timeout, secs(90));
    assert_eq!(transport.max_idle_conns_per_host, 200);

    let ringress = config.ringress;
    assert!((1..=MAX_WORKERS).contains(&ringress.workers));
    assert_eq!(ringress.routes, None);
    assert_eq!(ringress.admin, Some(socket("127.0.0.1:8082")));
    assert_eq!(ringress.max_header_bytes, 65536);
    assert_eq!(ringress.max_target_bytes, 16384);
    assert_eq!(ringress.max_headers, 128);
    assert_eq!(ringress.buffer_bytes, 65536);
    assert_eq!(ringress.log_level, log::LevelFilter::Info);

    let ep = EntryPoint::new("web", ListenAddr::AnyIp(80));
    assert_eq!(ep.read_timeout, secs(60));
    assert_eq!(ep.write_timeout, None);
    assert_eq!(ep.idle_timeout, secs(180));
    assert_eq!(ep.grace_timeout, secs(10));
    assert_eq!(ep.redirect, None);
    assert_eq!(ep.forwarded_headers, ForwardedHeaders::default());
}

#[test]
fn empty_files_are_the_default_config() {
    for text in ["", "{}", "# only a comment\n", "~", "---\n"] {
        let loaded = parse_ok(text);
        assert_eq!(loaded.config, Config::default(), "for {text:?}");
        assert!(loaded.warnings.is_empty(), "for {text:?}");
    }
}

#[test]
fn every_supported_key() {
    let text = r#"
entryPoints:
  web:
    address: "0.0.0.0:80/tcp"
    http:
      redirections:
        entryPoint: { to: websecure, scheme: https, permanent: false }
  websecure:
    address: "[::]:443"
    transport:
      respondingTimeouts: { readTimeout: 30, writeTimeout: "1m30s", idleTimeout: "250ms" }
      lifeCycle: { graceTimeOut: "0" }
    forwardedHeaders:
      insecure: false
      trustedIPs: ["10.50.0.0/24", "::1", "192.168.1.7"]
  local: { address: "localhost:8000", http: { redirections: { entryPoint: { to: ":8443" } } } }
providers:
  http:
    endpoint: "https://cp.example/config?x=1"
    pollInterval: 10
    pollTimeout: "1.5s"
    headers: { X-B: "2", Authorization: "Bearer t", X-A: "1" }
certificatesResolvers:
  le:
    acme: { caServer: "https://localhost:14000/dir", keyType: rsa4096, httpChallenge: { entryPoint: web } }
serversTransport:
  maxIdleConnsPerHost: 0
  forwardingTimeouts: { dialTimeout: "2s", responseHeaderTimeout: 0, idleConnTimeout: "1h" }
log: { level: warn }
ringress:
  workers: 3
  routes: routes.d
  admin: { address: "[::1]:9000" }
  limits: { maxHeaderBytes: 8192, maxRequestTargetBytes: 256, maxHeaders: 8, bufferBytes: 4096 }
"#;
    let loaded = parse_ok(text);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let config = loaded.config;

    let names: Vec<&str> = config.entry_points.iter().map(|ep| ep.name.as_str()).collect();
    assert_eq!(names, ["local", "web", "websecure"]);
    let local = &config.entry_points[0];
    assert_eq!(local.address, ListenAddr::Ip(socket("127.0.0.1:8000")));
    let local_redirect = Redirect {
        to: ":8443".into(),
        port: 8443,
        scheme: "https".into(),
        permanent: true,
    };
    assert_eq!(local.redirect, Some(local_redirect));
    let web = &config.entry_points[1];
    assert_eq!(web.address, ListenAddr::Ip(socket("0.0.0.0:80")));
    let web_redirect = Redirect {
        to: "websecure".into(),
        port: 443,
        scheme: "https".into(),
        permanent: false,
    };
    assert_eq!(web.redirect, Some(web_redirect));
    let secure = &config.entry_points[2];
    assert_eq!(secure.address, ListenAddr::Ip(socket("[::]:443")));
    assert_eq!(secure.read_timeout, secs(30));
    assert_eq!(secure.write_timeout, Some(secs(90)));
    assert_eq!(secure.idle_timeout, Duration::from_millis(250));
    assert_eq!(secure.grace_timeout, Duration::ZERO);
    assert_eq!(
        secure.forwarded_headers.trusted_ips,
        ["10.50.0.0/24", "::1", "192.168.1.7"]
    );

    let Some(http) = config.providers.http else {
        panic!("provider missing");
    };
    assert_eq!(http.poll_interval, secs(10));
    assert_eq!(http.poll_timeout, Duration::from_millis(1500));
    let header_names: Vec<&str> = http.headers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(header_names, ["X-B", "Authorization", "X-A"], "file order is kept");

    let Some(le) = config.certificates_resolvers.get("le") else {
        panic!("resolver missing");
    };
    assert_eq!(le.acme.key_type, "RSA4096");
    assert_eq!(le.acme.storage, PathBuf::from("acme.json"));
    assert_eq!(le.acme.email, None);

    let transport = config.servers_transport;
    assert_eq!(transport.max_idle_conns_per_host, 0);
    assert_eq!(transport.dial_timeout, secs(2));
    assert_eq!(transport.response_header_timeout, None);
    assert_eq!(transport.idle_conn_timeout, secs(3600));

    let ringress = config.ringress;
    assert_eq!(ringress.workers, 3);
    assert_eq!(ringress.routes, Some(Path::new("conf").join("routes.d")));
    assert_eq!(ringress.admin, Some(socket("[::1]:9000")));
    assert_eq!((ringress.max_header_bytes, ringress.max_target_bytes), (8192, 256));
    assert_eq!((ringress.max_headers, ringress.buffer_bytes), (8, 4096));
    assert_eq!(ringress.log_level, log::LevelFilter::Warn);
}

#[test]
fn ringress_section_details() {
    let absolute = parse_ok("ringress: { routes: /srv/routes.yml, admin: { enabled: false } }")
        .config
        .ringress;
    assert_eq!(absolute.routes, Some(PathBuf::from("/srv/routes.yml")));
    assert_eq!(absolute.admin, None);

    let bare = match parse(
        "ringress: { routes: r.yml, admin: { address: ':9000' } }",
        Path::new("x.yml"),
    ) {
        Ok(loaded) => loaded.config.ringress,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(bare.routes, Some(PathBuf::from("r.yml")));
    assert_eq!(bare.admin, Some(socket("0.0.0.0:9000")));

    let small = parse_ok("ringress: { limits: { maxHeaderBytes: 4096 } }")
        .config
        .ringress;
    assert_eq!(
        small.max_target_bytes, 4096,
        "default target limit follows a smaller head limit"
    );

    for (level, filter) in [
        ("TRACE", log::LevelFilter::Trace),
        ("DEBUG", log::LevelFilter::Debug),
        ("info", log::LevelFilter::Info),
        ("FATAL", log::LevelFilter::Error),
        ("PANIC", log::LevelFilter::Error),
    ] {
        let config = parse_ok(&format!("log: {{ level: {level} }}")).config;
        assert_eq!(config.ringress.log_level, filter, "for {level}");
    }
}

#[test]
fn provider_debug_redacts_header_values() {
    let config = parse_ok(TRAEFIK_YML).config;
    let Some(http) = &config.providers.http else {
        panic!("provider missing");
    };
    for printed in [format!("{http:?}"), format!("{http:#?}"), format!("{config:?}")] {
        assert!(!printed.contains("Bearer"), "{printed}");
        assert!(printed.contains("Authorization"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}

#[test]
fn endpoint_display_drops_userinfo_query_and_fragment() {
    let cases = [
        (
            "http://10.50.0.1:8081/v1/traefik/proxy-config",
            "http://10.50.0.1:8081/v1/traefik/proxy-config",
        ),
        (
            "https://user:s3cret@cp.example/conf?token=s3cret#x",
            "https://cp.example/conf",
        ),
        ("http://cp.example?token=s3cret", "http://cp.example"),
        ("http://u@[::1]:81/p#frag", "http://[::1]:81/p"),
        ("http://a@b@host/x", "http://host/x"),
        ("not a url", "<endpoint is not a URL>"),
    ];
    for (url, shown) in cases {
        let provider = HttpProvider::new(url);
        assert_eq!(provider.endpoint_display(), shown, "{url}");
        assert!(!format!("{provider:?}").contains("s3cret"));
    }
}

#[test]
fn load_reads_the_file_and_reports_missing_files() {
    let dir = std::env::temp_dir().join(format!("ringress-config-test-{}", std::process::id()));
    let file = dir.join("traefik.yml");
    if let Err(error) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, TRAEFIK_YML)) {
        panic!("cannot write test file: {error}");
    }
    let loaded = load(&file);
    let missing = load(&dir.join("missing.yml"));
    let _ = std::fs::remove_dir_all(&dir);

    match loaded {
        Ok(loaded) => assert_eq!(loaded.config.entry_points.len(), 2),
        Err(error) => panic!("{error}"),
    }
    match missing {
        Err(ConfigError::Read { path, .. }) => assert!(path.ends_with("missing.yml")),
        other => panic!("expected a read error, got {other:?}"),
    }
}
