//! Tests for loading route files: shapes, directory walking, isolation of bad input, fingerprint.

use std::path::Path;

use super::util::TempDir;
use crate::route::{load_route_files, load_route_files_if_changed, RouteFileError, RouteFiles};

/// `(id, target, source)` of every loaded spec, with the temp dir prefix removed.
fn loaded(files: &RouteFiles, root: &Path) -> Vec<(String, String, String)> {
    let root = format!("{}/", root.display());
    files
        .specs
        .iter()
        .map(|s| {
            let source = s.source.strip_prefix(&root).unwrap_or(&s.source).to_owned();
            (s.id.clone(), s.target.to_string(), source)
        })
        .collect()
}

fn messages(files: &RouteFiles, root: &Path) -> Vec<String> {
    let root = format!("{}/", root.display());
    files.errors.iter().map(|e| e.to_string().replace(&root, "")).collect()
}

fn triple(id: &str, target: &str, source: &str) -> (String, String, String) {
    (id.to_owned(), target.to_owned(), source.to_owned())
}

#[test]
fn object_file() {
    let dir = TempDir::new();
    let file = dir.write(
        "api.yaml",
        "id: \"API.example.com\"\ntarget: \"http://1backend:11337\"\n",
    );
    let files = load_route_files(&file);
    assert!(files.errors.is_empty(), "{:?}", files.errors);
    assert_eq!(
        loaded(&files, dir.path()),
        [triple("api.example.com", "1backend:11337", "api.yaml#1")]
    );
}

#[test]
fn list_file() {
    let dir = TempDir::new();
    let file = dir.write(
        "routes.yaml",
        "- id: x.localhost\n  target: http://root-frontend:8080\n\
         - id: x.localhost/app/\n  target: app-frontend:3000\n",
    );
    let files = load_route_files(&file);
    assert!(files.errors.is_empty(), "{:?}", files.errors);
    assert_eq!(
        loaded(&files, dir.path()),
        [
            triple("x.localhost", "root-frontend:8080", "routes.yaml#1"),
            triple("x.localhost/app", "app-frontend:3000", "routes.yaml#2"),
        ]
    );
}

#[test]
fn multi_document_file_numbers_entries_across_documents() {
    let dir = TempDir::new();
    let file = dir.write(
        "multi.yml",
        "id: a.com\ntarget: a:1\n---\n- id: b.com\n  target: b:2\n- id: c.com\n  target: c:3\n---\n",
    );
    let files = load_route_files(&file);
    assert!(files.errors.is_empty(), "{:?}", files.errors);
    let sources: Vec<_> = loaded(&files, dir.path()).into_iter().map(|t| t.2).collect();
    assert_eq!(sources, ["multi.yml#1", "multi.yml#2", "multi.yml#3"]);
}

#[test]
fn empty_file_has_no_routes_and_no_errors() {
    let dir = TempDir::new();
    let file = dir.write("empty.yml", "# nothing yet\n");
    let files = load_route_files(&file);
    assert!(files.specs.is_empty() && files.errors.is_empty(), "{files:?}");
}

#[test]
fn directory_is_walked_recursively_in_order_and_a_bad_file_is_isolated() {
    let dir = TempDir::new();
    dir.write("b.yml", "id: b.com\ntarget: b:80\n");
    dir.write("a.yaml", "id: a.com\ntarget: a:80\n");
    dir.write("sub/deeper/c.yml", "- id: c.com\n  target: c:80\n");
    dir.write("sub/broken.yml", "- id: [unclosed\n");
    dir.write("sub/z.YML", "id: z.com\ntarget: z:80\n");
    dir.write("notes.txt", "id: txt.com\ntarget: t:80\n");
    dir.write(".hidden.yml", "id: hidden.com\ntarget: h:80\n");
    dir.write(".git/config.yml", "id: git.com\ntarget: g:80\n");
    dir.write("backup.yml~", "id: backup.com\ntarget: b:80\n");
    let files = load_route_files(dir.path());
    let ids: Vec<_> = loaded(&files, dir.path()).into_iter().map(|t| (t.0, t.2)).collect();
    let expected = [
        ("a.com", "a.yaml#1"),
        ("b.com", "b.yml#1"),
        ("c.com", "sub/deeper/c.yml#1"),
        ("z.com", "sub/z.YML#1"),
    ];
    assert_eq!(ids, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert_eq!(files.errors.len(), 1, "{:?}", files.errors);
    assert!(matches!(files.errors[0], RouteFileError::Yaml { .. }));
    let message = messages(&files, dir.path()).remove(0);
    assert!(message.starts_with("sub/broken.yml: invalid YAML: "), "{message}");
}

#[test]
fn bad_entries_are_reported_with_file_index_and_id() {
    let dir = TempDir::new();
    dir.write(
        "app.yml",
        "- id: ok.com\n  target: ok:80\n\
         - id: x.com/app\n  target: x:0\n\
         - id: y.com\n  target: y:80\n  extra: 1\n\
         - target: nobody:80\n\
         - id: HTTP://z.com\n  target: z:80\n\
         - just a string\n\
         - id: fine.com\n  target: fine:80\n",
    );
    let files = load_route_files(dir.path());
    let ids: Vec<_> = files.specs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ok.com", "fine.com"]);
    let messages = messages(&files, dir.path());
    assert_eq!(messages.len(), 5, "{messages:?}");
    assert_eq!(
        messages[0],
        r#"app.yml: entry 2 (id "x.com/app"): target "x:0": port must be 1-65535"#
    );
    assert!(
        messages[1].starts_with(r#"app.yml: entry 3 (id "y.com"): unknown field `extra`"#),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].starts_with("app.yml: entry 4: missing field `id`"),
        "{}",
        messages[2]
    );
    assert_eq!(
        messages[3],
        r#"app.yml: entry 5 (id "HTTP://z.com"): id must not contain a scheme (`://`)"#
    );
    assert!(
        messages[4].starts_with("app.yml: entry 6: invalid type"),
        "{}",
        messages[4]
    );
}

#[test]
fn a_document_of_the_wrong_shape_is_reported() {
    let dir = TempDir::new();
    dir.write("scalar.yml", "id: a.com\ntarget: a:80\n---\n42\n");
    let files = load_route_files(dir.path());
    assert_eq!(files.specs.len(), 1);
    assert_eq!(
        messages(&files, dir.path()),
        ["scalar.yml: document 2 is a number; expected a route mapping or a list of them"]
    );
}

#[test]
fn duplicates_keep_the_first_and_name_both_sources() {
    let dir = TempDir::new();
    dir.write("a.yml", "- id: x.com/app\n  target: one:80\n");
    dir.write(
        "b.yml",
        "- id: other.com\n  target: o:80\n- id: X.COM./app/\n  target: two:80\n",
    );
    let files = load_route_files(dir.path());
    let targets: Vec<_> = files.specs.iter().map(|s| s.target.to_string()).collect();
    assert_eq!(targets, ["one:80", "o:80"]);
    assert_eq!(
        messages(&files, dir.path()),
        [r#"b.yml: entry 2 (id "x.com/app"): duplicate of the route at a.yml#1; ignored"#]
    );
}

#[test]
fn missing_path_is_a_read_error() {
    let dir = TempDir::new();
    let files = load_route_files(&dir.path().join("nope.yml"));
    assert!(files.specs.is_empty());
    assert!(
        matches!(files.errors.as_slice(), [RouteFileError::Read { .. }]),
        "{:?}",
        files.errors
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_not_followed() {
    let dir = TempDir::new();
    dir.write("sub/a.yml", "id: a.com\ntarget: a:80\n");
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).expect("symlink");
    let files = load_route_files(dir.path());
    let ids: Vec<_> = files.specs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a.com"]);
    assert!(
        matches!(files.errors.as_slice(), [RouteFileError::Revisit { .. }]),
        "{:?}",
        files.errors
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_route_file_is_reported_and_the_rest_still_load() {
    let dir = TempDir::new();
    dir.write("a.yml", "id: a.com\ntarget: a:80\n");
    std::os::unix::fs::symlink(dir.path().join("gone.yml"), dir.path().join("b.yml")).expect("symlink");
    let files = load_route_files(dir.path());
    assert_eq!(files.specs.len(), 1);
    let messages = messages(&files, dir.path());
    assert_eq!(messages.len(), 1);
    assert!(messages[0].starts_with("b.yml: cannot read: "), "{}", messages[0]);
}

#[test]
fn fingerprint_changes_only_when_a_file_changes() {
    let dir = TempDir::new();
    dir.write("a.yml", "id: a.com\ntarget: a:80\n");
    dir.write("sub/b.yml", "id: b.com\ntarget: b:80\n");
    let first = load_route_files(dir.path()).fingerprint;
    assert_eq!(load_route_files(dir.path()).fingerprint, first, "nothing changed");

    dir.write("sub/b.yml", "id: b.com\ntarget: b:81\n");
    let changed = load_route_files(dir.path()).fingerprint;
    assert_ne!(changed, first, "contents changed");

    dir.write("sub/b.yml", "id: b.com\ntarget: b:80\n");
    assert_eq!(load_route_files(dir.path()).fingerprint, first, "contents restored");

    dir.write("c.yml", "");
    let added = load_route_files(dir.path()).fingerprint;
    assert_ne!(added, first, "empty file added");

    dir.write("notes.txt", "not a route file");
    assert_eq!(load_route_files(dir.path()).fingerprint, added, "ignored file added");
}

#[test]
fn unchanged_files_are_not_parsed_again() {
    let dir = TempDir::new();
    dir.write("a.yml", "id: a.com\ntarget: a:80\n");
    let first = load_route_files_if_changed(dir.path(), None).expect("nothing to compare with: loaded");
    assert_eq!(loaded(&first, dir.path()), [triple("a.com", "a:80", "a.yml#1")]);
    assert!(
        load_route_files_if_changed(dir.path(), Some(first.fingerprint)).is_none(),
        "same files: nothing parsed"
    );

    dir.write("a.yml", "id: a.com\ntarget: a:81\n");
    let changed = load_route_files_if_changed(dir.path(), Some(first.fingerprint)).expect("changed: loaded");
    assert_eq!(loaded(&changed, dir.path()), [triple("a.com", "a:81", "a.yml#1")]);
    assert_eq!(changed.fingerprint, load_route_files(dir.path()).fingerprint);

    // A file replaced by a directory of route files is a change too.
    dir.write("b.yml", "id: b.com\ntarget: b:80\n");
    let with_b = load_route_files(dir.path());
    let b = dir.path().join("b.yml");
    std::fs::remove_file(&b).expect("remove");
    std::fs::create_dir(&b).expect("a directory where the file was");
    dir.write("b.yml/c.yml", "id: c.com\ntarget: c:80\n");
    let after = load_route_files_if_changed(dir.path(), Some(with_b.fingerprint)).expect("changed: loaded");
    assert_ne!(after.fingerprint, with_b.fingerprint);
}
