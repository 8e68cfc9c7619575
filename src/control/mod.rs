//! The control thread: the one place that does I/O other than request traffic.
//!
//! It loads the route files, resolves their targets, builds an immutable [`Snapshot`] and sends each worker the new
//! snapshot through its mailbox, only when something changed. It ticks every poll interval and stops on request,
//! after telling every worker to drain. Plain blocking std code: no async runtime. It must never touch a client
//! socket, and a worker never waits for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::route::{load_route_files, resolve_system, RouteTable};
use crate::snapshot::Snapshot;
use crate::worker::mailbox::{MailboxSender, WorkerMsg};

/// The control thread's state between ticks.
pub struct Control {
    routes_path: Option<PathBuf>,
    interval: Duration,
    mailboxes: Vec<MailboxSender>,
    generation: u64,
    fingerprint: Option<u64>,
    unresolved: bool,
    current: Option<Arc<Snapshot>>,
}

impl Control {
    /// A control loop reading route files from `routes_path` every `interval`, feeding `mailboxes`.
    pub fn new(routes_path: Option<PathBuf>, interval: Duration, mailboxes: Vec<MailboxSender>) -> Self {
        Control {
            routes_path,
            interval,
            mailboxes,
            generation: 0,
            fingerprint: None,
            unresolved: false,
            current: None,
        }
    }

    /// The snapshot most recently published, if any.
    pub fn current(&self) -> Option<&Arc<Snapshot>> {
        self.current.as_ref()
    }

    /// Reloads the sources and publishes a new snapshot if they changed. Returns true if it published.
    pub fn tick(&mut self) -> bool {
        let Some(path) = &self.routes_path else {
            if self.current.is_none() {
                self.publish(RouteTable::default());
                return true;
            }
            return false;
        };
        let files = load_route_files(path);
        // Unchanged files are rebuilt only while some target failed to resolve (DNS may have come back).
        if self.fingerprint == Some(files.fingerprint) && !self.unresolved {
            return false;
        }
        for e in &files.errors {
            log::warn!("route files: {e}");
        }
        let (table, errors) = RouteTable::build(&files.specs, &mut resolve_system);
        let unchanged = self.fingerprint == Some(files.fingerprint);
        self.unresolved = !errors.is_empty();
        if unchanged && self.current.as_ref().is_some_and(|c| c.routes.len() == table.len()) {
            return false;
        }
        for e in &errors {
            log::warn!("route files: {e}");
        }
        log::info!(
            "route files {}: {} route(s) loaded, {} rejected",
            path.display(),
            table.len(),
            files.errors.len() + errors.len()
        );
        self.fingerprint = Some(files.fingerprint);
        self.publish(table);
        true
    }

    fn publish(&mut self, routes: RouteTable) {
        self.generation += 1;
        let snapshot = Arc::new(Snapshot {
            generation: self.generation,
            routes,
        });
        for m in &self.mailboxes {
            m.send(WorkerMsg::Snapshot(snapshot.clone()));
        }
        self.current = Some(snapshot);
    }

    /// Ticks until `stop` fires or its sender is dropped, then tells every worker to drain.
    pub fn run(mut self, stop: Receiver<()>) {
        // Anything but a timeout (a stop message, or the sender gone) ends the loop.
        while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(self.interval) {
            self.tick();
        }
        for m in &self.mailboxes {
            m.send(WorkerMsg::Drain);
        }
    }

    /// Starts the control thread.
    pub fn spawn(self, stop: Receiver<()>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("ringress-control".into())
            .spawn(move || self.run(stop))
    }
}
