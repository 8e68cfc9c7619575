//! The immutable routing snapshot a worker serves from.
//!
//! Built only by the control thread (with [`HealthUpdate`]s in between when health-check results change; an old
//! table goes back to it to be freed, see [`Graveyard`]), which sends every worker its own snapshot: routers are
//! shared between workers (their refcounts are touched only when a snapshot is built or dropped, never per request),
//! routers whose rule holds a regex are each worker's own (no regex cache is shared between cores). A worker swaps
//! its local pointer and never mutates one. Holds no sockets, no files and no locks.

use std::sync::Arc;

use crate::balance::DownSet;
use crate::control::rawdata::Rawdata;
use crate::route::RouteTable;

/// Everything a worker needs to route a request, as of one generation.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one for every snapshot the control thread publishes.
    pub generation: u64,
    /// The route table compiled from the provider and route files.
    pub routes: RouteTable,
    /// The `/api/rawdata` document describing every router and service, rendered by the control thread.
    pub rawdata: Arc<Rawdata>,
    /// The server slots the active health checks found down when the snapshot was built.
    pub down: DownSet,
    /// Where the route table goes when the snapshot is dropped (see [`Graveyard`]); `None`: dropped in place.
    pub graveyard: Option<Graveyard>,
}

/// The control thread's end for route tables no snapshot uses any more. A worker that drops the last reference to
/// an old snapshot hands its table over instead of freeing it between two requests (freeing 100,000 routers takes
/// tens of milliseconds); the control thread frees it. Sending never blocks (an unbounded lock-free channel).
pub type Graveyard = crossbeam_channel::Sender<RouteTable>;

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Some(graveyard) = self.graveyard.take() {
            if !self.routes.is_empty() {
                // If the control thread is gone (shutting down), the table comes back and is freed here.
                let _ = graveyard.send(std::mem::take(&mut self.routes));
            }
        }
    }
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
    pub rawdata: Arc<Rawdata>,
}

impl Snapshot {
    /// The snapshot a worker starts with before the control thread's first publish: no routes.
    pub fn empty() -> Self {
        Snapshot {
            generation: 0,
            routes: RouteTable::default(),
            rawdata: Arc::new(Rawdata::default()),
            down: DownSet::default(),
            graveyard: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{RouteSpec, Slots};

    fn table() -> RouteTable {
        let spec = RouteSpec::new("a.test", "127.0.0.1:9", "test#1").expect("spec");
        let mut services = Vec::new();
        let (routers, errors) = crate::route::file_routers(
            std::slice::from_ref(&spec),
            &mut |_| Ok(vec![std::net::SocketAddr::from(([127, 0, 0, 1], 9))]),
            &mut services,
            &mut Slots::default(),
        );
        assert!(errors.is_empty());
        RouteTable::build(routers, services)
    }

    #[test]
    fn a_dropped_snapshot_hands_its_table_to_the_graveyard() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let snapshot = Arc::new(Snapshot {
            generation: 1,
            routes: table(),
            rawdata: Arc::new(Rawdata::default()),
            down: DownSet::default(),
            graveyard: Some(tx),
        });
        let held = snapshot.clone();
        drop(snapshot);
        assert!(rx.try_recv().is_err(), "still in use: nothing handed over");
        drop(held);
        let buried = rx.try_recv().expect("the table was handed over");
        assert_eq!(buried.len(), 1);
        // Without a graveyard (or with the control side gone) the table is simply freed.
        let mut alone = Snapshot::empty();
        alone.routes = table();
        drop(alone);
    }
}
