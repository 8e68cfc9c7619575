//! Loading 1Backend-style route files into validated [`RouteSpec`]s.
//!
//! A route file holds one `{id, target}` mapping, a list of them, or several YAML documents
//! (`---`) each holding either. An entry may list several `targets` (each `host:port` or
//! `{target, weight}`) instead of one `target`, and a Traefik `healthCheck` section for them. Owns reading the files, YAML shape errors, per-entry errors,
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

use super::spec::{RouteSpec, SpecError, Target};
use super::walk;

/// Everything found under a route path.
#[derive(Debug)]
pub struct RouteFiles {
    /// Valid routes in load order (files sorted by path, entries in file order).
    pub specs: Vec<RouteSpec>,
    /// Every refused file or entry, in load order.
    pub errors: Vec<RouteFileError>,
    /// Hash over every file's path and contents (and every error reading them), so a caller
    /// polling the path can tell that nothing changed without parsing anything (see
    /// [`load_route_files_if_changed`]). Stable within one build of the binary only; do not
    /// persist it.
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
    /// `target`/`targets` missing, both given, empty, or a weight of 0.
    #[error("{0}")]
    Targets(&'static str),
    /// An invalid `healthCheck` section.
    #[error("{0}")]
    HealthCheck(String),
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
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    targets: Option<Vec<RawTarget>>,
    #[serde(default, rename = "healthCheck")]
    health_check: Option<serde_yaml::Value>,
}

/// One item of `targets`: `host:port`, or `{target: host:port, weight: N}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTarget {
    Plain(String),
    Weighted(WeightedTarget),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightedTarget {
    target: String,
    #[serde(default = "one")]
    weight: u32,
}

fn one() -> u32 {
    1
}

impl RawTarget {
    fn parts(&self) -> (&str, u32) {
        match self {
            RawTarget::Plain(target) => (target, 1),
            RawTarget::Weighted(w) => (&w.target, w.weight),
        }
    }
}

/// Loads every route under `path` (a file, or a directory searched recursively for
/// `*.yml`/`*.yaml`, hidden entries skipped). Never fails as a whole: problems are listed in
/// [`RouteFiles::errors`] next to the routes that did load.
pub fn load_route_files(path: &Path) -> RouteFiles {
    parse(path, read(path))
}

/// As [`load_route_files`], but `None`, with nothing parsed, when the files' fingerprint is
/// `previous` (the files are read and hashed, which costs far less than parsing them).
pub fn load_route_files_if_changed(path: &Path, previous: Option<u64>) -> Option<RouteFiles> {
    let read = read(path);
    if previous == Some(read.fingerprint) {
        return None;
    }
    Some(parse(path, read))
}

/// The files under a route path as read, before any parsing.
struct Read {
    walk_errors: Vec<RouteFileError>,
    /// Each file's name and contents (or why it could not be read).
    files: Vec<(String, io::Result<Vec<u8>>)>,
    fingerprint: u64,
}

fn read(path: &Path) -> Read {
    let (paths, walk_errors) = walk::route_files(path);
    let mut hasher = DefaultHasher::new();
    for error in &walk_errors {
        hash_bytes(&mut hasher, error.to_string().as_bytes());
    }
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        let file = path.display().to_string();
        hash_bytes(&mut hasher, file.as_bytes());
        let contents = fs::read(path);
        match &contents {
            Ok(bytes) => {
                hasher.write_u8(0);
                hash_bytes(&mut hasher, bytes);
            }
            Err(error) => {
                hasher.write_u8(1);
                hash_bytes(&mut hasher, error.to_string().as_bytes());
            }
        }
        files.push((file, contents));
    }
    Read {
        walk_errors,
        files,
        fingerprint: hasher.finish(),
    }
}

fn parse(path: &Path, read: Read) -> RouteFiles {
    let mut loader = Loader::default();
    for error in read.walk_errors {
        loader.error(error);
    }
    let count = read.files.len();
    for (file, contents) in read.files {
        loader.file(file, contents);
    }
    log::debug!(
        "route files under {}: {} files, {} routes, {} errors",
        path.display(),
        count,
        loader.specs.len(),
        loader.errors.len()
    );
    RouteFiles {
        specs: loader.specs,
        errors: loader.errors,
        fingerprint: read.fingerprint,
    }
}

#[derive(Default)]
struct Loader {
    specs: Vec<RouteSpec>,
    errors: Vec<RouteFileError>,
    /// Normalised id → source of the route that claimed it first.
    seen: HashMap<String, String>,
}

impl Loader {
    fn file(&mut self, file: String, contents: io::Result<Vec<u8>>) {
        let contents = match contents {
            Ok(contents) => contents,
            Err(error) => {
                self.error(RouteFileError::Read { file, error });
                return;
            }
        };
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
        let spec = match build_spec(raw, format!("{file}#{index}")) {
            Ok(spec) => spec,
            Err(error) => return self.error(fail(error)),
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
        self.errors.push(error);
    }
}

/// Validates an entry's targets and health check into a spec.
fn build_spec(raw: RawRoute, source: String) -> Result<RouteSpec, EntryError> {
    let targets: Vec<(&str, u32)> = match (&raw.target, &raw.targets) {
        (Some(target), None) => vec![(target.as_str(), 1)],
        (None, Some(list)) => list.iter().map(RawTarget::parts).collect(),
        (Some(_), Some(_)) => return Err(EntryError::Targets("give either `target` or `targets`, not both")),
        (None, None) => return Err(EntryError::Targets("missing field `target` (or `targets`)")),
    };
    let Some(&(first, weight)) = targets.first() else {
        return Err(EntryError::Targets("`targets` is empty"));
    };
    if targets.iter().any(|&(_, w)| w == 0) {
        return Err(EntryError::Targets("a target's `weight` must be at least 1"));
    }
    let mut spec = RouteSpec::new(&raw.id, first, source).map_err(EntryError::Spec)?;
    spec.weight = weight;
    for &(target, weight) in targets.iter().skip(1) {
        let parsed = Target::parse(target).map_err(|reason| {
            EntryError::Spec(SpecError::Target {
                target: target.to_owned(),
                reason,
            })
        })?;
        spec.more.push((parsed, weight));
    }
    if let Some(yaml) = raw.health_check {
        let json = serde_json::to_value(&yaml).map_err(|e| EntryError::HealthCheck(format!("healthCheck: {e}")))?;
        crate::health::config::parse(&json).map_err(|e| EntryError::HealthCheck(e.to_string()))?;
        spec.health_check = Some(json);
    }
    Ok(spec)
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
