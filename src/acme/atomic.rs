//! Atomic replacement of a small private file: temp file in the same directory (mode 0600), write, fsync, rename over
//! the target, fsync the directory.
//!
//! Owns only the file-system dance. A crash at any point leaves either the old file or the new one, never a torn
//! write. Must never: follow the target through a temp file in another directory (rename is only atomic within one
//! file system), leave a temp file behind on error, or create anything readable by group or others.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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
    #[error("{path}: cannot create directory: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
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

/// Prepares `path` for atomic writes at start-up: creates its directory (mode 0700) when missing, and removes temp
/// files a crashed writer left beside it (`.<name>.tmp-<pid>-<n>` of a process that is gone). Returns how many
/// were removed.
pub fn prepare(path: &Path) -> Result<usize, AtomicWriteError> {
    let bad = || AtomicWriteError::BadPath {
        path: path.to_path_buf(),
    };
    let name = path.file_name().ok_or_else(bad)?;
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => return Err(bad()),
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| AtomicWriteError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".tmp-");
    let prefix = prefix.to_string_lossy().into_owned();
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| p == std::process::id() || Path::new(&format!("/proc/{p}")).exists());
        if !alive && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ringress-atomic-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn writes_private_files_and_replaces_them_whole() {
        let dir = scratch("write");
        let path = dir.join("nested").join("acme.json");
        assert_eq!(prepare(&path).expect("prepare"), 0);
        let mode = std::fs::metadata(path.parent().expect("parent"))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        assert_eq!(
            std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        let leftovers = std::fs::read_dir(path.parent().expect("parent")).expect("list").count();
        assert_eq!(leftovers, 1, "only acme.json remains");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn prepare_removes_temp_files_of_dead_writers_only() {
        let dir = scratch("stale");
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("acme.json");
        // PIDs above the kernel's pid_max never run; our own PID is alive.
        let dead = dir.join(".acme.json.tmp-4294967295-0");
        let ours = dir.join(format!(".acme.json.tmp-{}-7", std::process::id()));
        let other = dir.join(".other.json.tmp-4294967295-0");
        for p in [&dead, &ours, &other] {
            std::fs::write(p, b"half").expect("write");
        }
        assert_eq!(prepare(&path).expect("prepare"), 1);
        assert!(!dead.exists());
        assert!(ours.exists());
        assert!(other.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
