//! Finding route files: a single file as given, or every `*.yml`/`*.yaml` under a directory.
//!
//! Owns the traversal order (sorted by name, depth first, so results are deterministic), skipping
//! hidden entries (names starting with `.`) and refusing to enter a directory twice (symlink
//! loops). Only reads directory listings and metadata: never opens sockets, never parses YAML.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::files::RouteFileError;

/// Lists the route files under `root` in load order. A non-directory `root` is returned as is,
/// whatever its extension, because the operator named it explicitly.
pub(crate) fn route_files(root: &Path) -> (Vec<PathBuf>, Vec<RouteFileError>) {
    let mut walk = Walk::default();
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => walk.dir(root),
        Ok(_) => walk.files.push(root.to_path_buf()),
        Err(error) => walk.errors.push(RouteFileError::Read {
            file: root.display().to_string(),
            error,
        }),
    }
    (walk.files, walk.errors)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    errors: Vec<RouteFileError>,
    /// Canonical paths of directories already entered.
    visited: HashSet<PathBuf>,
}

impl Walk {
    fn dir(&mut self, dir: &Path) {
        match fs::canonicalize(dir) {
            Ok(canonical) => {
                if !self.visited.insert(canonical) {
                    self.errors.push(RouteFileError::Revisit {
                        dir: dir.display().to_string(),
                    });
                    return;
                }
            }
            Err(error) => {
                self.errors.push(RouteFileError::Read {
                    file: dir.display().to_string(),
                    error,
                });
                return;
            }
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) => {
                self.errors.push(RouteFileError::Read {
                    file: dir.display().to_string(),
                    error,
                });
                return;
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => names.push(entry.file_name()),
                Err(error) => self.errors.push(RouteFileError::Read {
                    file: dir.display().to_string(),
                    error,
                }),
            }
        }
        names.sort();
        for name in names {
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let path = dir.join(&name);
            // Follows symlinks; `visited` stops loops.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => self.dir(&path),
                Ok(meta) if meta.is_file() && is_yaml(&path) => self.files.push(path),
                Ok(_) => {}
                Err(error) => {
                    if is_yaml(&path) {
                        self.errors.push(RouteFileError::Read {
                            file: path.display().to_string(),
                            error,
                        });
                    }
                }
            }
        }
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("yml") || ext.eq_ignore_ascii_case("yaml"))
}
