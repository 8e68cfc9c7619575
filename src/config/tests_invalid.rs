//! Whole-file tests: every rejected value names the file and the key path.

use std::path::Path;

use super::*;

/// Parses `text` expecting [`ConfigError::Invalid`]; returns the key and the full message.
fn invalid(text: &str) -> (String, String) {
    match parse(text, Path::new("ringress.yml")) {
        Err(error @ ConfigError::Invalid { .. }) => {
            let message = error.to_string();
            let ConfigError::Invalid { key, .. } = error else {
                unreachable!("matched above");
            };
            (key, message)
        }
        Err(error) => panic!("expected an invalid value, got {error:?}"),
        Ok(loaded) => panic!("expected an error for {text:?}, got {:?}", loaded.config),
    }
}

/// Asserts that `text` fails at `key` with a message containing `reason`, and that the
/// message starts with the file and the key.
fn assert_invalid(text: &str, key: &str, reason: &str) {
    let (got_key, message) = invalid(text);
    assert_eq!(got_key, key, "{message}");
    assert!(message.starts_with(&format!("ringress.yml: {key}: ")), "{message}");
    assert!(message.contains(reason), "{message:?} should contain {reason:?}");
}

#[test]
fn bad_durations_name_the_key() {
    assert_invalid(
        "providers: { http: { endpoint: 'http://cp', pollInterval: 5x } }",
        "providers.http.pollInterval",
        r#"invalid duration "5x": unknown unit "x""#,
    );
    assert_invalid(
        "providers: { http: { endpoint: 'http://cp', pollTimeout: 0 } }",
        "providers.http.pollTimeout",
        "must be greater than 0",
    );
    assert_invalid(
        "serversTransport: { forwardingTimeouts: { dialTimeout: -1s } }",
        "serversTransport.forwardingTimeouts.dialTimeout",
        "must not be negative",
    );
    assert_invalid(
        "entryPoints: { web: { address: ':80', transport: { lifeCycle: { graceTimeOut: 1.5 } } } }",
        "entryPoints.web.transport.lifeCycle.graceTimeOut",
        "missing unit",
    );
}

#[test]
fn bad_addresses_name_the_key() {
    assert_invalid(
        "entryPoints: { web: { address: 'foo:bar:baz' } }",
        "entryPoints.web.address",
        r#"invalid address "foo:bar:baz": "#,
    );
    assert_invalid(
        "entryPoints: { dns: { address: ':53/udp' } }",
        "entryPoints.dns.address",
        "only TCP is supported",
    );
    assert_invalid(
        "entryPoints: { web: { address: 'example.com:80' } }",
        "entryPoints.web.address",
        "hostname",
    );
    assert_invalid(
        "entryPoints: { web: { address: ':0' } }",
        "entryPoints.web.address",
        "port must be 1-65535",
    );
    assert_invalid("entryPoints: { web: {} }", "entryPoints.web.address", "missing");
    assert_invalid(
        "ringress: { admin: { address: 'nowhere' } }",
        "ringress.admin.address",
        "missing port",
    );
}

#[test]
fn entrypoints_must_not_collide() {
    assert_invalid(
        "entryPoints: { a: { address: ':80' }, b: { address: '0.0.0.0:80' } }",
        "entryPoints.b.address",
        "overlaps entrypoint `a`",
    );
    assert_invalid(
        "entryPoints: { web: { address: ':8082' } }\nringress: { admin: { address: '127.0.0.1:8082' } }",
        "ringress.admin.address",
        "overlaps entrypoint `web`",
    );
    assert_invalid(
        "entryPoints: { '': { address: ':80' } }",
        "entryPoints",
        "invalid entrypoint name",
    );
}

#[test]
fn references_must_name_existing_entrypoints() {
    assert_invalid(
        "entryPoints: { web: { address: ':80' } }\ncertificatesResolvers: { le: { acme: { httpChallenge: { entryPoint: http } } } }",
        "certificatesResolvers.le.acme.httpChallenge.entryPoint",
        "unknown entrypoint `http` (defined: web)",
    );
    assert_invalid(
        "entryPoints: { web: { address: ':80', http: { redirections: { entryPoint: { to: websecur } } } } }",
        "entryPoints.web.http.redirections.entryPoint.to",
        "unknown entrypoint `websecur`",
    );
    assert_invalid(
        "entryPoints: { web: { address: ':80', http: { redirections: { entryPoint: { to: web } } } } }",
        "entryPoints.web.http.redirections.entryPoint.to",
        "itself",
    );
    assert_invalid(
        "entryPoints:\n  web: { address: ':80', http: { redirections: { entryPoint: { to: s, scheme: ftp } } } }\n  s: { address: ':443' }",
        "entryPoints.web.http.redirections.entryPoint.scheme",
        "must be http or https",
    );
}

#[test]
fn provider_values() {
    assert_invalid("providers: { http: {} }", "providers.http.endpoint", "missing");
    assert_invalid(
        "providers: { http: { endpoint: 'ftp://cp/x' } }",
        "providers.http.endpoint",
        "must be a URL starting with http:// or https://",
    );
    assert_invalid(
        "providers: { http: { endpoint: 'http:///x' } }",
        "providers.http.endpoint",
        "has no host",
    );
    assert_invalid(
        "providers: { http: { endpoint: 'http://cp', headers: { 'Bad Name': x } } }",
        "providers.http.headers",
        "invalid header name \"Bad\"...",
    );
}

#[test]
fn header_values_never_appear_in_errors() {
    let secret = "s3cr3t-token";
    let cases = [
        format!("providers: {{ http: {{ endpoint: 'http://cp', headers: {{ Authorization: \"Bearer {secret}\\r\\nX: y\" }} }} }}"),
        format!("providers: {{ http: {{ endpoint: 'http://cp', headers: {{ A: '{secret}', a: '{secret}' }} }} }}"),
        format!("providers: {{ http: {{ endpoint: 'http://cp', headers: {{ A: ['{secret}'] }} }} }}"),
        format!("providers: {{ http: {{ endpoint: 'http://cp', headers: 'Authorization: {secret}' }} }}"),
        format!("providers: {{ http: {{ endpoint: 'http://cp', headers: {{ 'Authorization: Bearer {secret}': '' }} }} }}"),
    ];
    for text in cases {
        match parse(&text, Path::new("ringress.yml")) {
            Ok(_) => panic!("should fail: {text}"),
            Err(error) => {
                let printed = format!("{error} {error:?}");
                assert!(!printed.contains(secret), "{printed}");
                assert!(printed.contains("providers.http.headers"), "{printed}");
            }
        }
    }
}

#[test]
fn acme_values() {
    let base = "entryPoints: { web: { address: ':80' } }\ncertificatesResolvers: { le: { acme: ";
    assert_invalid(
        &format!("{base}{{ keyType: RSA1024 }} }} }}"),
        "certificatesResolvers.le.acme.keyType",
        "unknown key type",
    );
    assert_invalid(
        &format!("{base}{{ caServer: 'http://ca/dir' }} }} }}"),
        "certificatesResolvers.le.acme.caServer",
        "https://",
    );
    assert_invalid(
        &format!("{base}{{ email: 'not an email' }} }} }}"),
        "certificatesResolvers.le.acme.email",
        "invalid email",
    );
    assert_invalid(
        &format!("{base}{{ httpChallenge: {{}} }} }} }}"),
        "certificatesResolvers.le.acme.httpChallenge.entryPoint",
        "missing",
    );
}

#[test]
fn ringress_limits_and_counts() {
    assert_invalid("ringress: { workers: 0 }", "ringress.workers", "between 1 and 1024");
    assert_invalid("ringress: { workers: many }", "ringress.workers", "whole number");
    assert_invalid(
        "ringress: { limits: { maxHeaderBytes: 512 } }",
        "ringress.limits.maxHeaderBytes",
        "between 1024 and 1048576",
    );
    assert_invalid(
        "ringress: { limits: { maxHeaderBytes: 2048, maxRequestTargetBytes: 4096 } }",
        "ringress.limits.maxRequestTargetBytes",
        "between 256 and 2048",
    );
    assert_invalid(
        "ringress: { limits: { maxHeaders: 2000 } }",
        "ringress.limits.maxHeaders",
        "1024",
    );
    assert_invalid(
        "ringress: { limits: { bufferBytes: 1 } }",
        "ringress.limits.bufferBytes",
        "4096",
    );
    assert_invalid(
        "ringress: { admin: { enabled: maybe } }",
        "ringress.admin.enabled",
        "true or false",
    );
    assert_invalid("ringress: { routes: '' }", "ringress.routes", "missing");
    assert_invalid("log: { level: loud }", "log.level", "unknown level");
}

#[test]
fn type_errors_carry_the_key_path() {
    assert_invalid(
        "entryPoints: { web: { address: [':80'] } }",
        "entryPoints.web.address",
        "invalid type",
    );
    assert_invalid("entryPoints: [web]", "entryPoints", "expected a mapping of names");
    assert_invalid(
        "entryPoints: { web: { address: ':80', forwardedHeaders: { trustedIPs: ['10.0.0.0/8', 'nope'] } } }",
        "entryPoints.web.forwardedHeaders.trustedIPs[1]",
        "invalid IP or CIDR",
    );
}

#[test]
fn broken_yaml_is_a_syntax_error() {
    let cases = [
        "entryPoints: { web: ",
        "- just\n- a list\n",
        "a: 1\n---\nb: 2\n",
        "entryPoints:\n  web: { address: ':80' }\n  web: { address: ':81' }\n",
    ];
    for text in cases {
        match parse(text, Path::new("ringress.yml")) {
            Err(error @ ConfigError::Syntax { .. }) => {
                assert!(error.to_string().starts_with("ringress.yml: invalid YAML: "), "{error}");
            }
            other => panic!("expected a syntax error for {text:?}, got {other:?}"),
        }
    }
}
