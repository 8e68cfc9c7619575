use std::os::unix::fs::PermissionsExt;

use super::store::{AcmeFile, AcmeStore, StoreError, StoredCert};
use super::traefik_key::{traefik_key_reuse, KeyReuse};

const TRAEFIK: &str = r#"{
  "letsencrypt": {
    "Account": {
      "Email": "ops@example.com",
      "Registration": {"body": {"status": "valid", "contact": ["mailto:ops@example.com"]},
                       "uri": "https://acme-v02.api.letsencrypt.org/acme/acct/123"},
      "PrivateKey": "AAAA",
      "KeyType": "4096",
      "Future": 1
    },
    "Certificates": [
      {"domain": {"main": "a.example", "sans": ["b.example"], "x": true},
       "certificate": "Q0VSVA==", "key": "S0VZ", "Store": "default", "Extra": [1, 2]}
    ],
    "Unknown": {"kept": "yes"}
  },
  "other": null
}"#;

fn temp_path(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ringress-acme-unit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("acme.json")
}

#[test]
fn traefik_layout_round_trips_with_unknown_fields() {
    let store = AcmeStore::from_json(TRAEFIK.as_bytes()).expect("parse");
    let le = &store.resolvers["letsencrypt"];
    let account = le.account.as_ref().expect("account");
    assert_eq!(account.email, "ops@example.com");
    assert_eq!(account.key_type, "4096");
    assert_eq!(
        account.registration_uri(),
        Some("https://acme-v02.api.letsencrypt.org/acme/acct/123")
    );
    let cert = le.certificate("a.example").expect("cert");
    assert_eq!(cert.names().collect::<Vec<_>>(), ["a.example", "b.example"]);
    assert_eq!(cert.chain_pem().expect("b64"), b"CERT");
    assert_eq!(cert.key_pem().expect("b64"), b"KEY");
    assert!(store.resolvers["other"].certificates.is_empty());

    let again: serde_json::Value = serde_json::from_slice(&store.to_json().expect("encode")).expect("json");
    assert_eq!(again["letsencrypt"]["Account"]["Future"], 1);
    assert_eq!(again["letsencrypt"]["Unknown"]["kept"], "yes");
    assert_eq!(again["letsencrypt"]["Certificates"][0]["Extra"][1], 2);
    assert_eq!(again["letsencrypt"]["Certificates"][0]["domain"]["x"], true);
    assert_eq!(again["letsencrypt"]["Certificates"][0]["Store"], "default");
    assert!(
        again["letsencrypt"].get("ringress").is_none(),
        "no empty bookkeeping key"
    );
}

#[test]
fn debug_output_redacts_keys() {
    let store = AcmeStore::from_json(TRAEFIK.as_bytes()).expect("parse");
    let text = format!("{store:?}");
    assert!(!text.contains("S0VZ") && !text.contains("AAAA"), "{text}");
}

#[test]
fn missing_and_blank_files_are_empty_stores() {
    let path = temp_path("missing");
    assert!(AcmeFile::load(&path).expect("missing").store.resolvers.is_empty());
    std::fs::write(&path, "\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(AcmeFile::load(&path).expect("blank").store.resolvers.is_empty());
}

#[test]
fn open_permissions_are_refused() {
    let path = temp_path("mode");
    std::fs::write(&path, "{}").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let err = AcmeFile::load(&path).expect_err("too open");
    assert!(matches!(err, StoreError::TooOpen { mode: 0o640, .. }), "{err}");
    assert!(err.to_string().contains("please use 600"), "{err}");
}

#[test]
fn save_writes_0600_and_reloads() {
    let path = temp_path("save");
    let mut file = AcmeFile::load(&path).expect("load");
    let chain = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    file.store
        .resolver_mut("le")
        .upsert(StoredCert::new("a.example", &[], chain, "k"));
    file.store
        .resolver_mut("le")
        .ringress
        .domains
        .entry("a.example".into())
        .or_default()
        .failures = 2;
    file.save().expect("save");
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let back = AcmeFile::load(&path).expect("reload");
    assert_eq!(back.store, file.store);
    assert_eq!(back.store.resolvers["le"].ringress.domains["a.example"].failures, 2);
    let leftovers = std::fs::read_dir(path.parent().expect("dir")).expect("ls").count();
    assert_eq!(leftovers, 1, "no temp files left");
}

#[test]
fn rsa_traefik_account_is_not_reused() {
    let store = AcmeStore::from_json(TRAEFIK.as_bytes()).expect("parse");
    let account = store.resolvers["letsencrypt"].account.as_ref().expect("account");
    let verdict = traefik_key_reuse(account, "https://acme-v02.api.letsencrypt.org/directory");
    assert!(matches!(verdict, KeyReuse::NotReusable(_)), "{verdict:?}");
}

/// A throwaway P-256 key in Go's `x509.MarshalECPrivateKey` form (SEC1 with curve and public key), as lego stores it.
const TEST_SEC1_P256: &str = "MHcCAQEEIOHDmOPlov0w/UoSqqImE5ExjEKXIDpJoZ2nYPS24xFpoAoGCCqGSM49AwEHoUQDQgAEYSw/DfpufFC7iJQMwq9IM1zYxYe4vUibY616/NJEAe8zB3pBG8BZU1soBlmdRdVKxOZLs1g7lKIxiqi4FbM3Yg==";

fn ec_account(uri: &str) -> super::store::TraefikAccount {
    super::store::TraefikAccount {
        email: "ops@example.com".into(),
        registration: Some(serde_json::json!({"body": {"status": "valid"}, "uri": uri})),
        private_key: TEST_SEC1_P256.into(),
        key_type: "EC256".into(),
        extra: Default::default(),
    }
}

#[test]
fn ec256_traefik_account_is_reused_for_the_same_ca() {
    let account = ec_account("https://acme-v02.api.letsencrypt.org/acme/acct/9");
    match traefik_key_reuse(&account, "https://acme-v02.api.letsencrypt.org/directory") {
        KeyReuse::Reusable { account_url, .. } => {
            assert_eq!(
                account_url.as_deref(),
                Some("https://acme-v02.api.letsencrypt.org/acme/acct/9")
            )
        }
        other => panic!("expected reusable, got {other:?}"),
    }
}

#[test]
fn ec256_traefik_account_of_another_ca_is_not_reused() {
    let account = ec_account("https://acme-staging-v02.api.letsencrypt.org/acme/acct/9");
    let verdict = traefik_key_reuse(&account, "https://acme-v02.api.letsencrypt.org/directory");
    assert!(matches!(verdict, KeyReuse::NotReusable(_)), "{verdict:?}");
}

#[test]
fn garbage_ec256_key_is_not_reused() {
    let mut account = ec_account("https://ca.example/acct/1");
    account.private_key = "MAMCAQE=".into();
    let verdict = traefik_key_reuse(&account, "https://ca.example/dir");
    assert!(matches!(verdict, KeyReuse::NotReusable(_)), "{verdict:?}");
}
