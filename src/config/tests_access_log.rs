//! Whole-file tests for Traefik's `accessLog` section.

use std::path::{Path, PathBuf};

use super::tests::parse_ok;
use super::*;

fn access_log(text: &str) -> Option<AccessLog> {
    parse_ok(text).config.access_log
}

#[test]
fn absent_means_off() {
    assert_eq!(access_log("log: { level: INFO }\n"), None);
}

#[test]
fn empty_section_means_common_on_stdout() {
    for text in ["accessLog: {}\n", "accessLog:\n", "accessLog: ~\n"] {
        let loaded = parse_ok(text);
        assert_eq!(loaded.config.access_log, Some(AccessLog::default()), "{text:?}");
        assert!(loaded.warnings.is_empty(), "{text:?}: {:?}", loaded.warnings);
    }
    let d = AccessLog::default();
    assert_eq!(d.file_path, None);
    assert_eq!(d.format, AccessLogFormat::Common);
    assert_eq!(d.buffering_size, DEFAULT_ACCESS_LOG_BUFFER);
}

#[test]
fn keys_are_read() {
    let text = "accessLog:\n  filePath: /var/log/ringress/access.log\n  format: json\n  bufferingSize: 100\n";
    assert_eq!(
        access_log(text),
        Some(AccessLog {
            file_path: Some(PathBuf::from("/var/log/ringress/access.log")),
            format: AccessLogFormat::Json,
            buffering_size: 100,
        })
    );
    let generic = access_log("accessLog: { format: genericCLF, filePath: \"\" }\n");
    assert_eq!(generic.as_ref().map(|a| a.format), Some(AccessLogFormat::GenericClf));
    assert_eq!(generic.and_then(|a| a.file_path), None);
    // Relative paths stay relative to the working directory, as in Traefik.
    let relative = access_log("accessLog: { filePath: logs/access.log }\n");
    assert_eq!(
        relative.and_then(|a| a.file_path),
        Some(PathBuf::from("logs/access.log"))
    );
    // Traefik's default bufferingSize (0) keeps ringress's queue.
    let zero = access_log("accessLog: { bufferingSize: 0 }\n");
    assert_eq!(zero.map(|a| a.buffering_size), Some(DEFAULT_ACCESS_LOG_BUFFER));
}

#[test]
fn unknown_format_warns_and_uses_common() {
    let loaded = parse_ok("accessLog: { format: xml }\n");
    assert_eq!(
        loaded.config.access_log.map(|a| a.format),
        Some(AccessLogFormat::Common)
    );
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("accessLog.format"), "{:?}", loaded.warnings);
}

#[test]
fn unimplemented_traefik_keys_warn_not_supported() {
    let loaded = parse_ok("accessLog:\n  filters: { statusCodes: [\"500-599\"] }\n  fields: { defaultMode: keep }\n  addInternals: true\n  formatt: json\n");
    assert!(loaded.config.access_log.is_some());
    let w = &loaded.warnings;
    for key in ["accessLog.filters", "accessLog.fields", "accessLog.addInternals"] {
        assert!(
            w.iter()
                .any(|m| m.starts_with(&format!("`{key}`")) && m.contains("not supported by ringress")),
            "{key}: {w:?}"
        );
    }
    assert!(
        w.iter().any(|m| m == "unknown key `accessLog.formatt` (ignored)"),
        "{w:?}"
    );
}

#[test]
fn bad_values_name_the_key() {
    for text in [
        "accessLog: { bufferingSize: lots }\n",
        "accessLog: { bufferingSize: 2 }\n",
    ] {
        match parse(text, Path::new("ringress.yml")) {
            Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "accessLog.bufferingSize"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
    match parse("accessLog: [1]\n", Path::new("ringress.yml")) {
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "accessLog"),
        other => panic!("{other:?}"),
    }
}
