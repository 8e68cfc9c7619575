//! Whole-file tests: ignored keys and values read differently from Traefik give warnings that
//! name the key path, never errors.

use std::time::Duration;

use super::tests::parse_ok;

#[test]
fn unknown_key_warns_with_full_path() {
    let loaded = parse_ok("entryPoints:\n  web:\n    address: ':80'\n    adress: ':81'\nfoo: 1\n");
    assert_eq!(
        loaded.warnings,
        [
            "unknown key `entryPoints.web.adress` (ignored)",
            "unknown key `foo` (ignored)"
        ]
    );
}

#[test]
fn unsupported_traefik_keys_warn() {
    let text = r#"
api: { dashboard: true, insecure: true }
entryPoints:
  websecure:
    address: ":443"
    http: { tls: { certResolver: le } }
    http3: {}
providers:
  docker: { exposedByDefault: false }
serversTransport: { insecureSkipVerify: true }
certificatesResolvers:
  le: { acme: { tlsChallenge: {}, httpChallenge: { entryPoint: websecure } } }
"#;
    let warnings = parse_ok(text).warnings;
    let not_supported = "Traefik option not supported by ringress (ignored";
    let expected = [
        "`api`",
        "`entryPoints.websecure.http.tls`",
        "`entryPoints.websecure.http3`",
        "`providers.docker`",
        "`serversTransport.insecureSkipVerify`",
        "`certificatesResolvers.le.acme.tlsChallenge`",
    ];
    for key in expected {
        let found = warnings
            .iter()
            .any(|w| w.starts_with(&format!("{key}: {not_supported}")));
        assert!(found, "no warning for {key} in {warnings:#?}");
    }
    assert!(warnings.iter().all(|w| !w.starts_with("unknown key")), "{warnings:#?}");
    assert!(
        warnings.iter().any(|w| w.contains("port 80")),
        "challenge entrypoint on 443 should warn: {warnings:#?}"
    );
}

#[test]
fn value_warnings() {
    let text = r#"
entryPoints:
  web: { address: ":80", transport: { respondingTimeouts: { readTimeout: 0 } } }
certificatesResolvers:
  dns: { acme: { dnsChallenge: { provider: x } } }
  ts: { tailscale: {} }
"#;
    let loaded = parse_ok(text);
    assert_eq!(loaded.config.entry_points[0].read_timeout, Duration::from_secs(60));
    assert!(!loaded.config.certificates_resolvers.contains_key("ts"));
    assert_eq!(
        loaded.config.certificates_resolvers["dns"]
            .acme
            .http_challenge_entry_point,
        None
    );
    let warnings = loaded.warnings.join("\n");
    assert!(
        warnings.contains("`entryPoints.web.transport.respondingTimeouts.readTimeout`: 0"),
        "{warnings}"
    );
    assert!(
        warnings.contains("`certificatesResolvers.dns.acme`: no `httpChallenge`"),
        "{warnings}"
    );
    assert!(
        warnings.contains("`certificatesResolvers.ts`: no `acme` section"),
        "{warnings}"
    );
}
