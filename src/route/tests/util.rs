//! Test helpers: a self-deleting temporary directory and a resolver that needs no DNS.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::route::{RouteSpec, Target};

/// A fresh directory under the system temp dir, removed on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ringress-route-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `rel` (parents created) and returns the full path.
    pub(super) fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent");
        }
        fs::write(&path, contents).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Resolves every target to 127.0.0.1:port, except hosts ending in `.invalid`.
pub(super) fn loopback(target: &Target) -> io::Result<Vec<SocketAddr>> {
    if target.host.ends_with(".invalid") {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no such host"));
    }
    Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, target.port))])
}

/// A spec from `id` and `target`, which must be valid.
pub(super) fn spec(id: &str, target: &str) -> RouteSpec {
    RouteSpec::new(id, target, format!("test#{id}")).expect("valid spec")
}
