//! The routing path (Traefik's normalizePath + sanitizePath).

use crate::rule::{normalize_path, PathError};

fn norm(raw: &str) -> Result<String, PathError> {
    let mut out = Vec::new();
    normalize_path(raw.as_bytes(), &mut out).map(|p| String::from_utf8_lossy(p).into_owned())
}

#[test]
fn clean_paths_are_returned_untouched() {
    for raw in ["/", "/a/b", "/a/b/", "/.well-known/acme", "/a.b/c..d/...", "", "*"] {
        let mut out = Vec::new();
        let got = normalize_path(raw.as_bytes(), &mut out).expect("clean");
        assert_eq!(got.as_ptr(), raw.as_ptr(), "{raw}");
        assert!(out.is_empty());
    }
}

#[test]
fn dot_segments_and_duplicate_slashes_are_removed() {
    assert_eq!(norm("/without/../with").as_deref(), Ok("/with"));
    assert_eq!(norm("/a/./b//c/../d").as_deref(), Ok("/a/b/d"));
    assert_eq!(norm("//a//b//").as_deref(), Ok("/a/b/"));
    assert_eq!(norm("/..").as_deref(), Ok("/"));
    assert_eq!(norm("/../../a").as_deref(), Ok("/a"));
    assert_eq!(norm("/a/..").as_deref(), Ok("/"));
    assert_eq!(norm("/a/../").as_deref(), Ok("/"));
    assert_eq!(norm("/a/.").as_deref(), Ok("/a"));
    assert_eq!(norm("/a/./").as_deref(), Ok("/a/"));
    assert_eq!(norm("//").as_deref(), Ok("/"));
}

#[test]
fn escapes_are_normalised() {
    assert_eq!(norm("/%7euser/%61%2d").as_deref(), Ok("/~user/a-"));
    assert_eq!(norm("/a%2fb%3a").as_deref(), Ok("/a%2Fb%3A"));
    assert_eq!(norm("/%2e%2e/secret").as_deref(), Ok("/secret"));
    assert_eq!(norm("/a/%2E/b").as_deref(), Ok("/a/b"));
    assert_eq!(norm("/%25").as_deref(), Ok("/%25"));
    assert_eq!(norm("/%zz"), Err(PathError::BadEscape(1)));
    assert_eq!(norm("/a%"), Err(PathError::BadEscape(2)));
    assert_eq!(norm("/a%4"), Err(PathError::BadEscape(2)));
}
