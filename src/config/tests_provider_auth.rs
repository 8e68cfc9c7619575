//! Whole-file tests for `ringress.provider`: where the provider token comes from. The config
//! only records the source; reading the token is the provider's job.

use std::path::{Path, PathBuf};

use super::tests::parse_ok;
use super::*;

const HTTP: &str = "providers: { http: { endpoint: 'http://10.50.0.1:8081/v1/traefik/proxy-config' } }\n";

fn invalid(text: &str) -> String {
    match parse(text, Path::new("conf/ringress.yml")) {
        Ok(loaded) => panic!("expected an error for {text:?}, got {:?}", loaded.config),
        Err(error) => error.to_string(),
    }
}

#[test]
fn defaults_to_no_token_source() {
    let loaded = parse_ok(HTTP);
    assert_eq!(loaded.config.ringress.provider, ProviderAuth::default());
    assert!(!loaded.config.ringress.provider.is_set());
}

#[test]
fn token_file_is_relative_to_the_config_file() {
    let text = format!("{HTTP}ringress: {{ provider: {{ tokenFile: secrets/token }} }}\n");
    let loaded = parse_ok(&text);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    assert_eq!(
        loaded.config.ringress.provider,
        ProviderAuth {
            token_file: Some(PathBuf::from("conf/secrets/token")),
            token_env: None,
        }
    );
    let text = format!("{HTTP}ringress: {{ provider: {{ tokenFile: /run/secrets/token }} }}\n");
    assert_eq!(
        parse_ok(&text).config.ringress.provider.token_file,
        Some(PathBuf::from("/run/secrets/token"))
    );
}

#[test]
fn token_env_names_a_variable() {
    let text = format!("{HTTP}ringress: {{ provider: {{ tokenEnv: RINGRESS_TOKEN }} }}\n");
    assert_eq!(
        parse_ok(&text).config.ringress.provider,
        ProviderAuth {
            token_file: None,
            token_env: Some("RINGRESS_TOKEN".into()),
        }
    );
}

#[test]
fn bad_token_sources_name_the_key() {
    let both = format!("{HTTP}ringress: {{ provider: {{ tokenFile: t, tokenEnv: T }} }}\n");
    assert_eq!(
        invalid(&both),
        "conf/ringress.yml: ringress.provider: `tokenFile` and `tokenEnv` are both set; set one of them"
    );
    let cases = [
        ("tokenFile: ''", "ringress.provider.tokenFile: missing (required)"),
        ("tokenEnv: ' '", "ringress.provider.tokenEnv: missing (required)"),
        (
            "tokenEnv: 'A=B'",
            "ringress.provider.tokenEnv: \"A=B\" is not an environment variable name",
        ),
        (
            "tokenEnv: 'MY TOKEN'",
            "ringress.provider.tokenEnv: \"MY TOKEN\" is not an environment",
        ),
    ];
    for (value, expected) in cases {
        let text = format!("{HTTP}ringress: {{ provider: {{ {value} }} }}\n");
        let message = invalid(&text);
        assert!(
            message.starts_with(&format!("conf/ringress.yml: {expected}")),
            "{message}"
        );
    }
    let shape = invalid("ringress: { provider: [a] }\n");
    assert!(shape.contains("ringress.provider"), "{shape}");
}

#[test]
fn token_source_warnings() {
    let lone = parse_ok("ringress: { provider: { tokenEnv: T } }\n");
    assert_eq!(
        lone.warnings,
        ["`ringress.provider.tokenEnv` is set but there is no `providers.http` (ignored)"]
    );
    let text =
        "providers: { http: { endpoint: 'http://cp/x', headers: { Authorization: 'Bearer in-file-SECRET' } } }\n\
                ringress: { provider: { tokenFile: t } }\n";
    let loaded = parse_ok(text);
    assert_eq!(
        loaded.warnings,
        ["`providers.http.headers.Authorization` is replaced by the token from `ringress.provider.tokenFile`"]
    );
    // The header is still kept (and still redacted): without a token source it is what is sent.
    let Some(http) = &loaded.config.providers.http else {
        panic!("provider missing");
    };
    assert_eq!(http.headers.len(), 1);
    assert!(!format!("{:?}", loaded.config).contains("SECRET"));
    let unknown = parse_ok(&format!("{HTTP}ringress: {{ provider: {{ token: x }} }}\n"));
    assert_eq!(unknown.warnings, ["unknown key `ringress.provider.token` (ignored)"]);
}
