//! Routing: the one compiled table workers use, fed by provider routers and 1Backend-style
//! route files.
//!
//! Flow: provider routers (rules parsed with [`crate::rule::parse`]) and route files
//! ([`load_route_files`] → [`RouteSpec`]s → [`file_routers`], which resolves targets) →
//! [`TableBuilder`] on the control thread → an immutable [`RouteTable`] in the snapshot →
//! [`request_view`] + [`RouteTable::lookup`] per request on the workers (never blocks, never
//! allocates).
//!
//! Matching, in one place:
//! - Routers are tried by priority (descending), then name (ascending); the first one enabled on
//!   the entrypoint whose rule matches wins. Default priority is the rule length (Traefik).
//! - Host: compared after [`normalize_host`]: case-insensitive, `:port` ignored, one trailing
//!   dot ignored (`X.COM.:8080` is `x.com`), IPv6 literals in canonical bracketed form.
//! - Path: the routing path ([`crate::rule::normalize_path`]: unreserved `%XX` decoded, dot
//!   segments and `//` removed).
//! - A route file `host/prefix` is the router `host/prefix@routes` with rule
//!   `Host(host) && SegmentPrefix(prefix)`: whole segments (`/app` matches `/app`, `/app/`,
//!   `/app/x`, never `/application`), priority ``len("Host(`host`) && PathPrefix(`prefix`)")``
//!   so the longest prefix wins and a route file beats a bare `Host` router of its host.
//! - Nothing is stripped: the full request path goes upstream.
//!
//! Files: `host.rs` (host normalisation), `spec.rs` (one route's syntax), `walk.rs` (which
//! files), `files.rs` (loading them), `compile.rs` (specs → routers), `table.rs` (index and
//! lookup), `index_entry.rs` (the host index's keys and entries), `servers.rs` (a service's
//! servers), `hash.rs` (index hasher), `request.rs` (request view), `resolve.rs` (blocking DNS
//! for the build), `list.rs` (text listing).

mod compile;
mod files;
pub(crate) mod hash;
mod host;
mod index_entry;
mod list;
mod request;
mod resolve;
mod servers;
mod spec;
mod table;
mod walk;

#[cfg(test)]
mod tests;

pub use compile::{file_routers, RouteBuildError};
pub use files::{load_route_files, load_route_files_if_changed, EntryError, RouteFileError, RouteFiles, ShapeError};
pub use host::{normalize_host, HostError, MAX_HOST_LEN};
pub use list::render;
pub use request::{request_view, ViewScratch};
pub use resolve::resolve_system;
pub use servers::Servers;
pub use spec::{IdError, RouteSpec, SpecError, Target, TargetError};
pub use table::{EntryKey, OrderKey, RouteTable, RouterDef, Service, Slots, TableBuilder, Transport, Upstream};
