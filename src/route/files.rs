//! Loading 1Backend-style route files into validated [`RouteSpec`]s.
//!
//! A route file holds one `{id, target}` mapping, a list of them, or several YAML documents
//! (`---`) each holding either. Owns reading the files, YAML shape errors, per-entry errors,
//! duplicate detection and the content fingerprint. Only reads files: never opens sockets,
//! never resolves names. One bad file or entry is reported and skipped; it never takes the
//! other routes down.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::io;
use std::path::Path;

use serde::Deserialize;

use super::spec::{RouteSpec, SpecError};
use super::walk;

/// Everything found under a route path.
#[derive(Debug)]
pub struct RouteFiles {
    /// Valid routes in load order (files sorted by path, entries in file order).
    pub specs: Vec<RouteSpec>,
    /// Every refused file or entry, in load order.
    pub errors: Vec<RouteFileError>,
    /// Hash over every file's path and contents (and every error), so a caller polling the
    /// path can tell that nothing changed without comparing specs. Stable within one build of
    /// the binary only; do not persist it.
    pub fingerprint: u64,
}

/// A file or entry that was refused. The file name is the path as reached from the argument
/// given to [`load_route_files`] (relative stays relative).
#[derive(Debug, thiserror::Error)]
pub enum RouteFileError {
    #[error("{file}: entry {index} (id {id:?}): duplicate of the route at {first}; ignored")]
    Duplicate {
        file: String,
        index: usize,
        id: String,
        first: String,
    },
    #[error("{file}: entry {index}{}: {error}", IdSuffix(id.as_deref()))]
    Entry {
        file: String,
        index: usize,
        id: Option<String>,
        error: EntryError,
    },
    #[error("{file}: cannot read: {error}")]
    Read { file: String, error: io::Error },
    #[error("{dir}: directory already visited through another path (symlink loop?); skipped")]
    Revisit { dir: String },
    #[error("{file}: {error}")]
    Shape { file: String, error: ShapeError },
    #[error("{file}: invalid YAML: {error}")]
    Yaml { file: String, error: serde_yaml::Error },
}

/// Why one entry of a file was refused.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("{0}")]
    Fields(serde_yaml::Error),
    #[error("{0}")]
    Spec(SpecError),
}

/// A YAML document that is neither a route mapping nor a list of route mappings.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("document {document} is a {found}; expected a route mapping or a list of them")]
    NotRoutes { document: usize, found: &'static str },
}

/// One entry as written. Unknown fields are an error for that entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    id: String,
    target: String,
}

/// Loads every route under `path` (a file, or a directory searched recursively for
/// `*.yml`/`*.yaml`, hidden entries skipped). Never fails as a whole: problems are listed in
/// [`RouteFiles::errors`] next to the routes that did load.
pub fn load_route_files(path: &Path) -> RouteFiles {
    let (files, walk_errors) = walk::route_files(path);
    let mut loader = Loader::default();
    for error in walk_errors {
        loader.error(error);
    }
    for file in &files {
        loader.file(file);
    }
    log::debug!(
        "route files under {}: {} files, {} routes, {} errors",
        path.display(),
        files.len(),
        loader.specs.len(),
        loader.errors.len()
    );
    RouteFiles {
        specs: loader.specs,
        errors: loader.errors,
        fingerprint: loader.hasher.finish(),
    }
}

#[derive(Default)]
struct Loader {
    specs: Vec<RouteSpec>,
    errors: Vec<RouteFileError>,
    /// Normalised id → source of the route that claimed it first.
    seen: HashMap<String, String>,
    hasher: DefaultHasher,
}

impl Loader {
    fn file(&mut self, path: &Path) {
        let file = path.display().to_string();
        hash_bytes(&mut self.hasher, file.as_bytes());
        let contents = match fs::read(path) {
            Ok(contents) => contents,
            Err(error) => {
                self.error(RouteFileError::Read { file, error });
                return;
            }
        };
        hash_bytes(&mut self.hasher, &contents);
        let documents = match parse_documents(&contents) {
            Ok(documents) => documents,
            Err(error) => {
                self.error(RouteFileError::Yaml { file, error });
                return;
            }
        };
        let mut index = 0;
        for (document, value) in documents.into_iter().enumerate() {
            let entries = match value {
                serde_yaml::Value::Null => Vec::new(),
                serde_yaml::Value::Sequence(entries) => entries,
                mapping @ serde_yaml::Value::Mapping(_) => vec![mapping],
                other => {
                    let error = ShapeError::NotRoutes {
                        document: document + 1,
                        found: kind(&other),
                    };
                    self.error(RouteFileError::Shape {
                        file: file.clone(),
                        error,
                    });
                    continue;
                }
            };
            for entry in entries {
                index += 1;
                self.entry(&file, index, entry);
            }
        }
    }

    fn entry(&mut self, file: &str, index: usize, value: serde_yaml::Value) {
        let id = value.get("id").and_then(|id| id.as_str()).map(str::to_owned);
        let fail = |error| RouteFileError::Entry {
            file: file.to_owned(),
            index,
            id: id.clone(),
            error,
        };
        let raw: RawRoute = match serde_yaml::from_value(value) {
            Ok(raw) => raw,
            Err(error) => return self.error(fail(EntryError::Fields(error))),
        };
        let spec = match RouteSpec::new(&raw.id, &raw.target, format!("{file}#{index}")) {
            Ok(spec) => spec,
            Err(error) => return self.error(fail(EntryError::Spec(error))),
        };
        match self.seen.entry(spec.id.clone()) {
            Entry::Occupied(first) => {
                let error = RouteFileError::Duplicate {
                    file: file.to_owned(),
                    index,
                    id: spec.id,
                    first: first.get().clone(),
                };
                self.error(error);
            }
            Entry::Vacant(slot) => {
                slot.insert(spec.source.clone());
                self.specs.push(spec);
            }
        }
    }

    fn error(&mut self, error: RouteFileError) {
        hash_bytes(&mut self.hasher, error.to_string().as_bytes());
        self.errors.push(error);
    }
}

/// Parses every YAML document of a file. Any syntax error rejects the whole file.
fn parse_documents(contents: &[u8]) -> Result<Vec<serde_yaml::Value>, serde_yaml::Error> {
    serde_yaml::Deserializer::from_slice(contents)
        .map(serde_yaml::Value::deserialize)
        .collect()
}

fn kind(value: &serde_yaml::Value) -> &'static str {
    match value {
        serde_yaml::Value::Null => "null",
        serde_yaml::Value::Bool(_) => "boolean",
        serde_yaml::Value::Number(_) => "number",
        serde_yaml::Value::String(_) => "string",
        serde_yaml::Value::Sequence(_) => "list",
        serde_yaml::Value::Mapping(_) => "mapping",
        serde_yaml::Value::Tagged(_) => "tagged value",
    }
}

/// Length-prefixed, so `ab`+`c` and `a`+`bc` hash differently.
fn hash_bytes(hasher: &mut DefaultHasher, bytes: &[u8]) {
    hasher.write_usize(bytes.len());
    hasher.write(bytes);
}

/// Renders ` (id "…")` after an entry number when the entry had a readable id.
struct IdSuffix<'a>(Option<&'a str>);

impl fmt::Display for IdSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (id {id:?})"),
            None => Ok(()),
        }
    }
}
