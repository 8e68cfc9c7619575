//! Atomic replacement of a small private file: temp file in the same directory (mode 0600), write, fsync, rename over
//! the target, fsync the directory.
//!
//! Owns only the file-system dance. A crash at any point leaves either the old file or the new one, never a torn
//! write. Must never: follow the target through a temp file in another directory (rename is only atomic within one
//! file system), leave a temp file behind on error, or create anything readable by group or others.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One failed step of an atomic write, with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum AtomicWriteError {
    #[error("{path}: has no parent directory or file name")]
    BadPath { path: PathBuf },
    #[error("{path}: cannot create temp file: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot write temp file: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot rename temp file into place: {source}")]
    Rename { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot sync directory: {source}")]
    SyncDir { path: PathBuf, source: std::io::Error },
}

/// Replaces `path` with `contents` atomically; the new file has mode 0600.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let bad = || AtomicWriteError::BadPath {
        path: path.to_path_buf(),
    };
    let name = path.file_name().ok_or_else(bad)?;
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => return Err(bad()),
    };
    let tmp = dir.join(temp_name(name));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|source| AtomicWriteError::Create {
            path: tmp.clone(),
            source,
        })?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(AtomicWriteError::Write { path: tmp, source });
    }
    if let Err(source) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(AtomicWriteError::Rename {
            path: path.to_path_buf(),
            source,
        });
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| AtomicWriteError::SyncDir {
            path: dir.to_path_buf(),
            source,
        })
}

/// A temp name unique within this process and across processes: `.<name>.tmp-<pid>-<n>`.
fn temp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mut s = std::ffi::OsString::from(".");
    s.push(name);
    s.push(format!(".tmp-{}-{n}", std::process::id()));
    s
}
