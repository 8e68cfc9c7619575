//! Routes by host and path prefix: 1Backend-style route files and the table workers read.
//!
//! Flow: [`load_route_files`] (control thread, reads files only) → [`RouteSpec`]s →
//! [`RouteTable::build`] (control thread, resolves targets) → an immutable [`RouteTable`] in the
//! snapshot → [`RouteTable::lookup`] per request on the workers (never blocks, never allocates).
//!
//! Matching, in one place:
//! - Host: compared after [`normalize_host`]: case-insensitive, `:port` ignored, one trailing dot
//!   ignored (`X.COM.:8080` is `x.com`), IPv6 literals compared in canonical form. Exact hosts
//!   only: no wildcards, no default route.
//! - Path: the longest route prefix that matches on whole segments wins. `/app` matches `/app`,
//!   `/app/` and `/app/x`, never `/application`; the id `host` (or `host/`) matches every path.
//!   Paths are compared as raw bytes, case-sensitively, with no percent-decoding and no
//!   dot-segment removal; the query must be cut off by the caller.
//! - Nothing is stripped: the full request path goes upstream.
//!
//! Unlike 1Backend: hosts are normalised (1Backend misses on case, port and trailing dot), paths
//! are not decoded before matching (so `%2F` cannot move a request to another route), and
//! targets without a scheme work.
//!
//! Files: `host.rs` (host normalisation), `spec.rs` (one route's syntax), `walk.rs` (which
//! files), `files.rs` (loading them), `table.rs` (index and lookup), `resolve.rs` (blocking
//! DNS for the build), `list.rs` (text listing).

mod files;
mod host;
mod list;
mod resolve;
mod spec;
mod table;
mod walk;

#[cfg(test)]
mod tests;

pub use files::{load_route_files, EntryError, RouteFileError, RouteFiles, ShapeError};
pub use host::{normalize_host, HostError, MAX_HOST_LEN};
pub use list::render;
pub use resolve::resolve_system;
pub use spec::{IdError, RouteSpec, SpecError, Target, TargetError};
pub use table::{Route, RouteBuildError, RouteTable};
