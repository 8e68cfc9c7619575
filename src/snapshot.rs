//! The immutable routing snapshot a worker serves from.
//!
//! Built only by the control thread (with [`HealthUpdate`]s in between when health-check results change), which sends every worker its own copy (so no refcount or regex cache is shared
//! between cores); a worker swaps its local pointer and never mutates one. Holds no sockets, no files and no locks.

use std::sync::Arc;

use crate::balance::DownSet;
use crate::route::RouteTable;

/// Everything a worker needs to route a request, as of one generation.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one for every snapshot the control thread publishes.
    pub generation: u64,
    /// The route table compiled from the provider and route files.
    pub routes: RouteTable,
    /// The `/api/rawdata` document describing every router and service, rendered by the control thread.
    pub rawdata: Arc<str>,
    /// The server slots the active health checks found down when the snapshot was built.
    pub down: DownSet,
}

/// Active health-check results that changed after a snapshot was sent: they apply to the snapshot of the same
/// generation only (slots are numbered per table).
#[derive(Debug)]
pub struct HealthUpdate {
    /// The snapshot these results are for.
    pub generation: u64,
    /// Every server slot found down.
    pub down: DownSet,
    /// The `/api/rawdata` document with the new server statuses.
    pub rawdata: Arc<str>,
}

impl Snapshot {
    /// The snapshot a worker starts with before the control thread's first publish: no routes.
    pub fn empty() -> Self {
        Snapshot {
            generation: 0,
            routes: RouteTable::default(),
            rawdata: Arc::from(r#"{"routers":{},"services":{},"middlewares":{}}"#),
            down: DownSet::default(),
        }
    }
}
