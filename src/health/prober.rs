//! [`Prober`]: a fixed pool of named OS threads (`ringress-health-N`) running [`Probe`]s.
//!
//! Owns the job queue (bounded: [`Prober::try_submit`] never blocks, a full queue hands the
//! probe back), the threads, and the result channel (unbounded, so a thread never waits for
//! the control loop; it holds at most one result per submitted probe). A hung server occupies
//! one thread for at most its check's `timeout`.
//!
//! Dropping the [`Prober`] closes the job queue and returns at once: threads finish the probe
//! they are running (bounded by its timeout), find the queue closed and exit. Nothing joins
//! them. Probes still queued at that point are dropped unrun.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::thread;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender, TrySendError};

use super::probe::{self, Probe, ProbeOutcome};

/// Runs probes on its own threads.
pub struct Prober {
    jobs: Sender<Probe>,
    results: Receiver<(u64, ProbeOutcome)>,
    threads: usize,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("threads", &self.threads)
            .field("queued", &self.jobs.len())
            .field("results", &self.results.len())
            .finish()
    }
}

impl Prober {
    /// Starts `threads` threads (at least one) sharing a queue of `queue` probes. With
    /// `queue == 0` a probe is accepted only when a thread is idle and waiting.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for zero threads; the OS error when a thread cannot be spawned (the
    /// threads already started then exit).
    pub fn new(threads: usize, queue: usize) -> io::Result<Prober> {
        if threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the health checker needs at least one thread",
            ));
        }
        let (jobs, job_queue) = bounded::<Probe>(queue);
        let (result_sender, results) = unbounded();
        for index in 0..threads {
            let job_queue = job_queue.clone();
            let result_sender = result_sender.clone();
            thread::Builder::new()
                .name(format!("ringress-health-{index}"))
                .spawn(move || work(&job_queue, &result_sender))?;
        }
        Ok(Prober { jobs, results, threads })
    }

    /// Queues `probe` without ever blocking.
    ///
    /// # Errors
    ///
    /// The probe back when the queue is full (or every thread is gone).
    pub fn try_submit(&self, probe: Probe) -> Result<(), Probe> {
        self.jobs.try_send(probe).map_err(|error| match error {
            TrySendError::Full(probe) | TrySendError::Disconnected(probe) => probe,
        })
    }

    /// `(probe id, outcome)` for every probe run, in completion order: for `select!`.
    pub fn results(&self) -> &Receiver<(u64, ProbeOutcome)> {
        &self.results
    }

    /// How many threads were started.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

fn work(jobs: &Receiver<Probe>, results: &Sender<(u64, ProbeOutcome)>) {
    while let Ok(probe) = jobs.recv() {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| probe::run(&probe)))
            .unwrap_or_else(|_| ProbeOutcome::Down("health check failed (internal error)".to_owned()));
        if results.send((probe.id, outcome)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::health::config::HealthCheck;
    use crate::health::testserver::{refused_addr, Server};

    fn probe(id: u64, addr: SocketAddr, timeout: Duration) -> Probe {
        let mut check = HealthCheck::new("/");
        check.timeout = timeout;
        Probe {
            id,
            addr,
            host: addr.to_string(),
            https: false,
            check: Arc::new(check),
        }
    }

    fn collect(prober: &Prober, count: usize, within: Duration) -> BTreeMap<u64, ProbeOutcome> {
        let mut got = BTreeMap::new();
        let deadline = Instant::now() + within;
        while got.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let (id, outcome) = prober.results().recv_timeout(left).expect("result in time");
            got.insert(id, outcome);
        }
        got
    }

    #[test]
    fn runs_probes_and_reports_by_id() {
        let prober = Prober::new(2, 8).expect("prober");
        let up = Server::status(200);
        let failing = Server::status(503);
        prober
            .try_submit(probe(1, up.addr, Duration::from_secs(5)))
            .expect("queued");
        prober
            .try_submit(probe(2, failing.addr, Duration::from_secs(5)))
            .expect("queued");
        prober
            .try_submit(probe(3, refused_addr(), Duration::from_secs(5)))
            .expect("queued");
        let got = collect(&prober, 3, Duration::from_secs(10));
        assert_eq!(got[&1], ProbeOutcome::Up);
        assert_eq!(got[&2], ProbeOutcome::Down("GET / answered 503".to_owned()));
        assert_eq!(got[&3], ProbeOutcome::Down("connection refused".to_owned()));
    }

    #[test]
    fn four_hung_probes_on_two_threads_never_block_submission() {
        let hanging = Server::hanging();
        let timeout = Duration::from_secs(1);
        let prober = Prober::new(2, 2).expect("prober");
        let started = Instant::now();
        prober
            .try_submit(probe(0, hanging.addr, timeout))
            .expect("queue has room");
        prober
            .try_submit(probe(1, hanging.addr, timeout))
            .expect("queue has room");
        // Wait until both threads hold a hung probe.
        while !prober.jobs.is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "threads never took the probes"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        prober
            .try_submit(probe(2, hanging.addr, timeout))
            .expect("queue has room");
        prober
            .try_submit(probe(3, hanging.addr, timeout))
            .expect("queue has room");
        // Both threads busy and the queue full: the fifth comes back at once.
        let before = Instant::now();
        let back = prober
            .try_submit(probe(4, hanging.addr, timeout))
            .expect_err("queue is full");
        assert_eq!(back.id, 4);
        assert!(before.elapsed() < Duration::from_millis(50), "{:?}", before.elapsed());
        // Two rounds of hung probes on two threads: about 2 × timeout.
        let got = collect(&prober, 4, Duration::from_secs(5));
        let elapsed = started.elapsed();
        assert!(elapsed < timeout * 2 + Duration::from_secs(1), "{elapsed:?}");
        assert_eq!(got.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        for outcome in got.values() {
            assert_eq!(outcome, &ProbeOutcome::Down("timed out after 1s".to_owned()));
        }
    }

    #[test]
    fn zero_threads_is_an_error() {
        let error = Prober::new(0, 1).expect_err("zero threads");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn drop_does_not_wait_for_hung_probes() {
        let hanging = Server::hanging();
        let prober = Prober::new(1, 1).expect("prober");
        prober
            .try_submit(probe(1, hanging.addr, Duration::from_secs(5)))
            .expect("queued");
        // Let the thread start the probe.
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        drop(prober);
        assert!(started.elapsed() < Duration::from_millis(100));
    }
}
