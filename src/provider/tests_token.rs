//! [`TokenSource`]: reading the provider token from a file or the environment, noticing file
//! changes, warning on loose permissions, and never showing the token.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::token::{check, env_text};
use super::*;
use crate::config::ProviderAuth;

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ringress-token-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        if let Err(error) = fs::create_dir_all(&dir) {
            panic!("cannot create {}: {error}", dir.display());
        }
        Scratch(dir)
    }

    /// Writes `text` to `name` with `mode`, returning the path.
    fn write(&self, name: &str, text: &[u8], mode: u32) -> PathBuf {
        let path = self.0.join(name);
        if let Err(error) =
            fs::write(&path, text).and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(mode)))
        {
            panic!("cannot write {}: {error}", path.display());
        }
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn from_file(path: &Path) -> Result<TokenSource, TokenError> {
    TokenSource::new(&ProviderAuth {
        token_file: Some(path.to_path_buf()),
        token_env: None,
    })
}

fn ok(result: Result<TokenSource, TokenError>) -> TokenSource {
    match result {
        Ok(source) => source,
        Err(error) => panic!("should read the token: {error}"),
    }
}

fn token(source: &TokenSource) -> Option<&str> {
    source.token().map(Secret::expose)
}

fn refreshed(source: &mut TokenSource) -> bool {
    match source.refresh() {
        Ok(changed) => changed,
        Err(error) => panic!("should refresh: {error}"),
    }
}

/// Fails if the secret shows in any way a value can be printed.
fn assert_hidden<T: std::fmt::Debug>(value: &T) {
    let shown = format!("{value:?}");
    assert!(!shown.contains("SECRET"), "a secret leaked: {shown}");
}

#[test]
fn no_source_means_no_token() {
    let mut source = ok(TokenSource::new(&ProviderAuth::default()));
    assert_eq!(token(&source), None);
    assert!(!refreshed(&mut source));
    assert_eq!(source.describe(), "none");
}

#[test]
fn a_file_token_is_trimmed_and_reloaded_when_it_changes() {
    let scratch = Scratch::new("reload");
    let path = scratch.write("token", b"  tok-SECRET-one\n", 0o600);
    let mut source = ok(from_file(&path));
    assert_eq!(token(&source), Some("tok-SECRET-one"));
    assert!(source.take_warnings().is_empty());
    assert!(!refreshed(&mut source), "unchanged file");

    scratch.write("token", b"tok-SECRET-second\n", 0o600);
    assert!(refreshed(&mut source));
    assert_eq!(token(&source), Some("tok-SECRET-second"));
    assert!(!refreshed(&mut source));

    // An atomic replace with the same length is noticed too (new inode).
    scratch.write("token.new", b"tok-SECRET-third\n\n", 0o600);
    if let Err(error) = fs::rename(scratch.0.join("token.new"), &path) {
        panic!("rename: {error}");
    }
    assert!(refreshed(&mut source));
    assert_eq!(token(&source), Some("tok-SECRET-third"));
    assert_hidden(&source);
}

#[test]
fn a_broken_file_keeps_the_last_token() {
    let scratch = Scratch::new("broken");
    let path = scratch.write("token", b"tok-SECRET-kept\n", 0o600);
    let mut source = ok(from_file(&path));
    if let Err(error) = fs::remove_file(&path) {
        panic!("remove: {error}");
    }
    let error = match source.refresh() {
        Ok(changed) => panic!("should fail, got {changed}"),
        Err(error) => error,
    };
    assert!(matches!(error, TokenError::Read { .. }), "{error:?}");
    assert!(error.to_string().starts_with(&format!(
        "ringress.provider.tokenFile: cannot read {}: ",
        path.display()
    )));
    assert_eq!(token(&source), Some("tok-SECRET-kept"));

    scratch.write("token", b"\n", 0o600);
    let error = match source.refresh() {
        Ok(changed) => panic!("should fail, got {changed}"),
        Err(error) => error,
    };
    assert_eq!(
        error.to_string(),
        format!(
            "ringress.provider.tokenFile: file {} holds no token (empty)",
            path.display()
        )
    );
    assert_eq!(token(&source), Some("tok-SECRET-kept"));

    scratch.write("token", b"tok-SECRET-back", 0o600);
    assert!(refreshed(&mut source));
    assert_eq!(token(&source), Some("tok-SECRET-back"));
}

#[test]
fn unusable_files_are_errors_at_start() {
    let scratch = Scratch::new("start");
    let missing = scratch.0.join("missing");
    assert!(matches!(from_file(&missing), Err(TokenError::Read { .. })));
    let cases: [(&str, &[u8], &str); 5] = [
        ("empty", b"", "holds no token (empty)"),
        ("blank", b" \n\t\n", "holds no token (empty)"),
        ("spaces", b"tok SECRET", "spaces, control or non-ASCII"),
        ("latin", "tok-SECRET-\u{e9}".as_bytes(), "spaces, control or non-ASCII"),
        ("binary", b"tok-SECRET-\xff", "not UTF-8 text"),
    ];
    for (name, text, reason) in cases {
        let path = scratch.write(name, text, 0o600);
        let error = match from_file(&path) {
            Ok(source) => panic!("{name}: should fail, got {source:?}"),
            Err(error) => error,
        };
        let shown = error.to_string();
        assert!(shown.starts_with("ringress.provider.tokenFile: "), "{shown}");
        assert!(shown.contains(reason), "{name}: {shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_hidden(&error);
    }
    let big = scratch.write("big", &vec![b'a'; 64 * 1024 + 1], 0o600);
    assert!(matches!(from_file(&big), Err(TokenError::Invalid { .. })));
}

#[test]
fn loose_permissions_warn_but_work() {
    let scratch = Scratch::new("mode");
    for (mode, warns) in [
        (0o600, false),
        (0o640, false),
        (0o400, false),
        (0o644, true),
        (0o660, true),
    ] {
        let path = scratch.write("token", b"tok-SECRET-mode", mode);
        let mut source = ok(from_file(&path));
        assert_eq!(token(&source), Some("tok-SECRET-mode"));
        let warnings = source.take_warnings();
        assert_eq!(!warnings.is_empty(), warns, "{mode:o}: {warnings:?}");
        if warns {
            assert_eq!(
                warnings,
                [format!(
                    "ringress.provider.tokenFile: {} has mode {mode:04o}, readable or writable by others; \
                     use chmod 600 (or 640)",
                    path.display()
                )]
            );
        }
    }
}

#[test]
fn a_bearer_prefix_is_taken_off() {
    let scratch = Scratch::new("bearer");
    let path = scratch.write("token", b"Bearer tok-SECRET-b\n", 0o600);
    let mut source = ok(from_file(&path));
    assert_eq!(token(&source), Some("tok-SECRET-b"));
    let warnings = source.take_warnings();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("starts with \"Bearer \""), "{warnings:?}");
    assert!(!warnings[0].contains("SECRET"));
    // Multi-byte text near the prefix must not panic.
    let mut warnings = Vec::new();
    assert!(check("k", "test", "Beare\u{e9}x", &mut warnings).is_err());
    assert!(check("k", "test", "\u{e9}\u{e9}\u{e9}\u{e9}", &mut warnings).is_err());
}

#[test]
fn environment_tokens() {
    // A variable every test environment has; its value is visible ASCII.
    let mut source = ok(TokenSource::new(&ProviderAuth {
        token_file: None,
        token_env: Some("PATH".into()),
    }));
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(token(&source), Some(path.trim()));
    assert!(!refreshed(&mut source));
    assert_eq!(source.describe(), "environment variable PATH");

    let missing = TokenSource::new(&ProviderAuth {
        token_file: None,
        token_env: Some("RINGRESS_TEST_SURELY_UNSET_7d1e".into()),
    });
    match missing {
        Ok(source) => panic!("should fail, got {source:?}"),
        Err(error) => assert_eq!(
            error.to_string(),
            "ringress.provider.tokenEnv: environment variable RINGRESS_TEST_SURELY_UNSET_7d1e is not set"
        ),
    }
    // Values are checked like file contents (without touching the process environment).
    let described = "environment variable TOKEN";
    let mut warnings = Vec::new();
    let empty = env_text("TOKEN", Some(OsString::from("  ")), described)
        .and_then(|raw| check("ringress.provider.tokenEnv", described, &raw, &mut warnings));
    match empty {
        Ok(_) => panic!("should fail"),
        Err(error) => assert_eq!(
            error.to_string(),
            "ringress.provider.tokenEnv: environment variable TOKEN holds no token (empty)"
        ),
    }
    let value = env_text("TOKEN", Some(OsString::from("tok-SECRET-env\n")), described)
        .and_then(|raw| check("ringress.provider.tokenEnv", described, &raw, &mut warnings));
    assert_eq!(value.ok().as_deref(), Some("tok-SECRET-env"));
}

#[test]
fn the_token_never_shows() {
    let secret = Secret::new("tok-SECRET-x");
    assert_eq!(
        format!("{secret} {secret:?} {secret:#?}"),
        "<redacted> <redacted> <redacted>"
    );
    let scratch = Scratch::new("debug");
    let path = scratch.write("token", b"tok-SECRET-debug", 0o600);
    let source = ok(from_file(&path));
    assert_hidden(&source);
    assert_eq!(
        format!("{source:?}"),
        format!(
            "TokenSource {{ origin: \"file {}\", token: Some(<redacted>) }}",
            path.display()
        )
    );
}
