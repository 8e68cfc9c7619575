//! The ACME state machine of the control thread: which certificates are wanted, which are held, which orders run,
//! and what the workers must serve (challenge tokens, certificates).
//!
//! Each [`Manager::step`] advances every due [`Job`] by one stage and returns; the control loop calls it between
//! provider polls and stops early when a poll is due, so a slow CA never delays the routing table. Scheduling:
//! a wanted name without a usable certificate (none, or less than a third of its lifetime left) gets an order
//! unless its backoff (1 m … 6 h after consecutive failures, kept in acme.json) or the per-name validation budget
//! (3 failed validations per hour) says wait, and the global order throttle has a slot. Certificates no router
//! wants are still renewed for 30 days after their last use, then left to expire (Traefik renews them forever).
//!
//! Owns the loaded acme.json files (one per storage path; resolvers may share one) and every write to them.
//! Must never: run on a worker, overwrite a file that failed to load (there is no manager then), put key material
//! or account credentials into a log line, or ask the CA to validate before every worker serves the tokens.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use instant_acme::{Account, CertificateIdentifier};
use rustls::sign::CertifiedKey;

use super::ari::{self, AriState, Fetched};
use super::atomic;
use super::client::{self, ClientConfig};
use super::inspect::CertInfo;
use super::job::{Advance, Job, Stage, JOB_TIMEOUT};
use super::precheck::{self, Resolve};
use super::schedule::{
    order_allowed, record_order_failure, record_order_success, retry_delay, unix_seconds as unix, OrderThrottle,
    ValidationBudget, DEFAULT_ORDER_WINDOW,
};
use super::store::{AcmeFile, DomainState, StoreError, StoredCert};
use super::traefik_key::{traefik_key_reuse, KeyReuse};
use super::{listing, serving};
use crate::challenge::{Challenges, Receipts};
use crate::config::{AcmeOptions, Config};
use crate::control::compile::CertWant;
use crate::control::status::{AcmeCounts, CertStatus};
use crate::tls::CertMap;

/// At most this many orders run at once.
const MAX_JOBS: usize = 8;
/// Budget of one reachability check of one name.
const PRECHECK_TIMEOUT: Duration = Duration::from_secs(4);
/// Budget of each request to the CA.
const CA_TIMEOUT: Duration = Duration::from_secs(10);
/// Certificates no router has wanted for this long are not renewed any more.
const UNUSED_CUTOFF: Duration = Duration::from_secs(30 * 24 * 3600);
/// `last_used` is written back at most this often per certificate.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(3600);
/// Planning runs at least this often (backoffs expire, certificates come due).
const PLAN_EVERY: Duration = Duration::from_secs(10);

/// Starting ACME failed: the storage cannot be used, or the CA trust cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ringress.acme.caCertificates: cannot read {path}: {source}")]
    CaCertificates { path: PathBuf, source: std::io::Error },
}

/// One configured resolver.
struct ResolverRt {
    name: String,
    client: ClientConfig,
    email: Option<String>,
    /// Index into `Manager::stores`.
    store: usize,
    /// The challenge entrypoint's port (what the CA connects to); `None`: this resolver cannot issue.
    challenge_port: Option<u16>,
    account: Option<Account>,
}

/// A certificate on file, as planning sees it.
struct Held {
    main: String,
    names: Vec<String>,
    info: Option<CertInfo>,
    /// The RFC 9773 identifier, when the leaf has an authority key identifier.
    ari_id: Option<CertificateIdentifier<'static>>,
}

/// One resolver's certificates on file and an index name → positions.
type HeldIndex = (Vec<Held>, HashMap<String, Vec<usize>>);

/// What a step asks the control loop to send to the workers.
#[derive(Default)]
pub struct Outputs {
    /// A new challenge set.
    pub challenges: Option<Arc<Challenges>>,
    /// A new certificate map.
    pub certs: Option<CertMap>,
    /// New status for the admin API (after any change).
    pub status: Option<(Vec<CertStatus>, AcmeCounts)>,
}

/// The ACME state of the process.
pub struct Manager {
    resolvers: Vec<ResolverRt>,
    stores: Vec<AcmeFile>,
    /// Per resolver: certificates on file and an index name → positions.
    held: Vec<HeldIndex>,
    wants: Vec<CertWant>,
    jobs: Vec<Job>,
    tokens: BTreeMap<String, String>,
    version: u64,
    receipts: Arc<Receipts>,
    throttle: OrderThrottle,
    budget: ValidationBudget,
    resolve: Resolve,
    precheck: bool,
    default_cert: Arc<CertifiedKey>,
    challenges_dirty: bool,
    certs_dirty: bool,
    dirty_stores: HashSet<usize>,
    next_plan: Instant,
    warned: HashSet<String>,
    counts: AcmeCounts,
    status_dirty: bool,
    /// ARI state by (resolver, main name).
    ari: HashMap<(usize, String), AriState>,
    /// Per resolver: whether its CA offers ARI (`None` until asked).
    ari_supported: Vec<Option<bool>>,
    /// Held certificates some router wants, as of the last plan.
    in_use: Vec<(usize, String)>,
}

impl Manager {
    /// Loads every resolver's storage (a corrupt, unreadable or too-open file is an error: start-up stops and the
    /// file is left as it is). `None` when no resolver is configured.
    pub fn new(
        cfg: &Config,
        receipts: Arc<Receipts>,
        default_cert: Arc<CertifiedKey>,
    ) -> Result<Option<Manager>, SetupError> {
        if cfg.certificates_resolvers.is_empty() {
            return Ok(None);
        }
        let options: &AcmeOptions = &cfg.ringress.acme;
        let root_pem = match &options.ca_certificates {
            Some(path) => Some(std::fs::read(path).map_err(|source| SetupError::CaCertificates {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        let mut stores: Vec<AcmeFile> = Vec::new();
        let mut resolvers = Vec::new();
        for resolver in cfg.certificates_resolvers.values() {
            let acme = &resolver.acme;
            let store = match stores.iter().position(|f| same_path(f.path(), &acme.storage)) {
                Some(i) => i,
                None => {
                    let removed = atomic::prepare(&acme.storage).map_err(StoreError::Write)?;
                    if removed > 0 {
                        log::info!(
                            "{}: removed {removed} temp file(s) an interrupted write left behind",
                            acme.storage.display()
                        );
                    }
                    stores.push(AcmeFile::load(&acme.storage)?);
                    stores.len() - 1
                }
            };
            let challenge_port = acme
                .http_challenge_entry_point
                .as_ref()
                .and_then(|ep| cfg.entry_points.iter().find(|e| &e.name == ep))
                .map(|e| e.address.port());
            if challenge_port.is_none() {
                log::warn!(
                    "certificatesResolvers.{}: no httpChallenge.entryPoint; its stored certificates are served but \
                     none are ordered (ringress answers HTTP-01 only)",
                    resolver.name
                );
            }
            resolvers.push(ResolverRt {
                name: resolver.name.clone(),
                client: ClientConfig {
                    directory_url: acme.ca_server.clone(),
                    root_pem: root_pem.clone(),
                    timeout: CA_TIMEOUT,
                },
                email: acme.email.clone(),
                store,
                challenge_port,
                account: None,
            });
        }
        let mut manager = Manager {
            held: Vec::new(),
            resolvers,
            stores,
            wants: Vec::new(),
            jobs: Vec::new(),
            tokens: BTreeMap::new(),
            version: 0,
            receipts,
            throttle: OrderThrottle::new(options.max_new_orders, DEFAULT_ORDER_WINDOW),
            budget: ValidationBudget::default(),
            resolve: match options.dns_server {
                Some(server) => Resolve::Server(server),
                None => Resolve::System,
            },
            precheck: options.precheck,
            default_cert,
            challenges_dirty: false,
            certs_dirty: true,
            dirty_stores: HashSet::new(),
            next_plan: Instant::now(),
            warned: HashSet::new(),
            counts: AcmeCounts::default(),
            status_dirty: true,
            ari: HashMap::new(),
            ari_supported: Vec::new(),
            in_use: Vec::new(),
        };
        manager.ari_supported = vec![None; manager.resolvers.len()];
        manager.reindex();
        let now = unix(SystemTime::now());
        for r in 0..manager.resolvers.len() {
            let (store, name) = (manager.resolvers[r].store, manager.resolvers[r].name.clone());
            let mains: Vec<String> = manager.held[r].0.iter().map(|h| h.main.clone()).collect();
            let book = &mut manager.stores[store].store.resolver_mut(&name).ringress;
            // A certificate seen for the first time counts as used now, so imported ones get their 30 days.
            for main in mains {
                book.domains.entry(main).or_default().last_used.get_or_insert(now);
            }
        }
        Ok(Some(manager))
    }

    /// The certificate map to serve (the default certificate plus every usable stored one).
    pub fn cert_map(&self) -> CertMap {
        let resolvers = self
            .resolvers
            .iter()
            .filter_map(|r| self.stores.get(r.store)?.store.resolvers.get(&r.name));
        let (loaded, errors) = serving::load_all(resolvers);
        for e in errors {
            log::warn!("acme.json: {e}; not served");
        }
        serving::cert_map(self.default_cert.clone(), loaded)
    }

    /// Replaces what the routers want (after every compile).
    pub fn set_wants(&mut self, wants: Vec<CertWant>) {
        let mut keep = Vec::with_capacity(wants.len());
        for w in wants {
            if !self.resolvers.iter().any(|r| r.name == w.resolver) {
                self.warn_once(
                    format!("resolver:{}:{}", w.router, w.resolver),
                    format!(
                        "router {:?}: tls.certResolver {:?} is not configured in certificatesResolvers; no \
                         certificate is ordered for {}",
                        w.router, w.resolver, w.main
                    ),
                );
                continue;
            }
            if let Some(bad) = std::iter::once(&w.main).chain(&w.sans).find(|n| !orderable(n)) {
                self.warn_once(
                    format!("name:{bad}"),
                    format!(
                        "router {:?}: {bad:?} cannot get a certificate over HTTP-01 (wildcards and IP addresses \
                         need another challenge); it is served with the default certificate",
                        w.router
                    ),
                );
                continue;
            }
            keep.push(w);
        }
        self.wants = keep;
        self.next_plan = Instant::now();
    }

    /// The names of the orders in flight, main name first, and whether each is a renewal (for tests and status).
    pub fn orders(&self) -> Vec<(String, bool)> {
        self.jobs.iter().map(|j| (j.label(), j.renewal)).collect()
    }

    /// When the manager next has something to do.
    pub fn next_due(&self) -> Instant {
        self.jobs.iter().map(|j| j.next).fold(self.next_plan, Instant::min)
    }

    /// Advances every due job by one stage and starts due orders; stops early once `deadline` passes.
    pub fn step(&mut self, deadline: Instant) -> Outputs {
        let now = Instant::now();
        if now >= self.next_plan {
            self.plan(now);
        }
        let mut i = 0;
        while i < self.jobs.len() {
            if Instant::now() >= deadline {
                break;
            }
            if self.jobs[i].next > Instant::now() {
                i += 1;
                continue;
            }
            let advance = self.advance(i);
            if self.finish(i, advance) {
                self.jobs.swap_remove(i);
                self.next_plan = Instant::now();
            } else {
                i += 1;
            }
        }
        self.refresh_ari(deadline);
        self.flush_stores();
        let mut out = Outputs::default();
        if std::mem::take(&mut self.challenges_dirty) {
            let answers = self.tokens.iter().map(|(t, a)| (t.as_str(), a.as_str()));
            out.challenges = Some(Arc::new(Challenges::new(self.version, answers)));
        }
        if std::mem::take(&mut self.certs_dirty) {
            out.certs = Some(self.cert_map());
        }
        if std::mem::take(&mut self.status_dirty) {
            out.status = Some((self.cert_status(SystemTime::now()), self.counts));
        }
        out
    }

    /// Every held certificate, every name that failed without one, and every order in flight.
    pub fn cert_status(&self, now: SystemTime) -> Vec<CertStatus> {
        let mut out = Vec::new();
        for (r, rt) in self.resolvers.iter().enumerate() {
            let mut listed: HashSet<&str> = HashSet::new();
            for h in &self.held[r].0 {
                listed.insert(&h.main);
                let state = self.domain_state(r, &h.main);
                let ordering = self.jobs.iter().any(|j| j.resolver == r && j.main() == h.main);
                let status = match (state.and_then(|s| listing::failing_status(s, now)), &h.info) {
                    (Some(failing), _) => failing,
                    (None, _) if ordering => "renewing".to_string(),
                    (None, None) => "unreadable".to_string(),
                    (None, Some(i)) if now >= i.not_after => "expired".to_string(),
                    (None, Some(i)) if i.renew_due(now) => "renewing".to_string(),
                    (None, Some(_)) => "ok".to_string(),
                };
                out.push(CertStatus {
                    resolver: rt.name.clone(),
                    domain: h.main.clone(),
                    names: h.names.clone(),
                    issuer: h
                        .info
                        .as_ref()
                        .map(|i| listing::issuer_name(&i.issuer))
                        .unwrap_or_default(),
                    not_after: h.info.as_ref().map(|i| i.not_after),
                    status,
                });
            }
            let book = self.stores[rt.store]
                .store
                .resolvers
                .get(&rt.name)
                .map(|res| &res.ringress);
            for (main, state) in book.iter().flat_map(|b| b.domains.iter()) {
                if state.failures > 0 && !listed.contains(main.as_str()) {
                    listed.insert(main);
                    out.push(CertStatus {
                        resolver: rt.name.clone(),
                        domain: main.clone(),
                        status: listing::failing_status(state, now).unwrap_or_default(),
                        ..CertStatus::default()
                    });
                }
            }
            for j in self
                .jobs
                .iter()
                .filter(|j| j.resolver == r && !listed.contains(j.main()))
            {
                out.push(CertStatus {
                    resolver: rt.name.clone(),
                    domain: j.main().to_string(),
                    status: format!("ordering ({})", j.stage.name()),
                    ..CertStatus::default()
                });
            }
        }
        out.sort_by(|a, b| (&a.resolver, &a.domain).cmp(&(&b.resolver, &b.domain)));
        out
    }

    /// Starts orders for wanted certificates that are missing or due, within the backoff and throttles.
    pub(super) fn plan(&mut self, now: Instant) {
        self.next_plan = now + PLAN_EVERY;
        // Statuses age (ok → renewing, backoffs expire): refresh them with every plan.
        self.status_dirty = true;
        let wall = SystemTime::now();
        let mut candidates: Vec<(usize, String, Vec<String>, bool)> = Vec::new();
        let mut used: Vec<(usize, String)> = Vec::new();
        let mut seen: HashSet<(usize, String)> = HashSet::new();
        // Every name some router wants, by resolver (one set per plan instead of a scan of the wants per name).
        let mut wanted: HashSet<(usize, String)> = HashSet::new();
        for w in &self.wants {
            let Some(r) = self.resolvers.iter().position(|r| r.name == w.resolver) else {
                continue;
            };
            if !seen.insert((r, w.main.clone())) {
                continue;
            }
            let names: Vec<String> = std::iter::once(w.main.clone()).chain(w.sans.iter().cloned()).collect();
            wanted.extend(names.iter().map(|n| (r, n.clone())));
            let covering = self.covering(r, &names);
            for &h in &covering {
                used.push((r, self.held[r].0[h].main.clone()));
            }
            let usable = covering.iter().any(|&h| {
                let held = &self.held[r].0[h];
                let ari_due = ari::due(self.ari.get(&(r, held.main.clone())), wall);
                held.info.as_ref().is_some_and(|info| !info.renew_due(wall)) && !ari_due
            });
            if !usable {
                candidates.push((r, w.main.clone(), names, !covering.is_empty()));
            }
        }
        for (r, main) in &used {
            self.touch(*r, main, wall);
        }
        self.in_use = used;
        // Certificates no router wants any more: renewed while used in the last 30 days.
        for (r, (held, _)) in self.held.iter().enumerate() {
            for h in held {
                if seen.contains(&(r, h.main.clone())) || h.names.iter().any(|n| wanted.contains(&(r, n.clone()))) {
                    continue;
                }
                let due = h.info.as_ref().is_none_or(|i| i.renew_due(wall));
                let recent = self
                    .domain_state(r, &h.main)
                    .and_then(|d| d.last_used)
                    .is_some_and(|t| unix(wall).saturating_sub(t) < UNUSED_CUTOFF.as_secs());
                if due && recent {
                    candidates.push((r, h.main.clone(), h.names.clone(), true));
                }
            }
        }
        for (r, main, names, renewal) in candidates {
            if self.jobs.len() >= MAX_JOBS {
                break;
            }
            if self.resolvers[r].challenge_port.is_none()
                || self.jobs.iter().any(|j| j.resolver == r && j.main() == main)
            {
                continue;
            }
            if self.domain_state(r, &main).is_some_and(|d| !order_allowed(d, wall)) {
                continue;
            }
            if let Some(name) = names.iter().find(|n| !self.budget.allows(n, wall)) {
                self.warn_once(
                    format!("budget:{name}:{}", unix(wall) / 3600),
                    format!("ACME: {name} failed validation 3 times in the last hour; waiting before the next order"),
                );
                continue;
            }
            if let Err(at) = self.throttle.try_acquire(wall) {
                self.warn_once(
                    format!("throttle:{}", unix(at) / 60),
                    format!(
                        "ACME: the limit of {} new orders per 3 hours is reached; the next one can start at {}",
                        self.throttle.max(),
                        listing::format_utc(unix(at) as i64)
                    ),
                );
                break;
            }
            log::info!(
                "ACME {}: {} a certificate for {}",
                self.resolvers[r].name,
                if renewal { "renewing" } else { "ordering" },
                names.join(", ")
            );
            self.counts.orders += 1;
            self.status_dirty = true;
            // With ARI, a renewal names the certificate it replaces (the CA may then exempt it from rate limits).
            let replaces = match self.ari_supported[r] {
                Some(true) if renewal => self.held[r]
                    .0
                    .iter()
                    .find(|h| h.main == main)
                    .and_then(|h| h.ari_id.clone()),
                _ => None,
            };
            let mut job = Job {
                resolver: r,
                names,
                stage: Stage::Order,
                started: now,
                next: now,
                renewal,
                published: Vec::new(),
                replaces,
            };
            if self.precheck {
                let (token, answer) = (random_token("ringress-probe-"), random_token(""));
                job.stage = Stage::Probe {
                    token: token.clone(),
                    answer: answer.clone(),
                    version: 0,
                    since: now,
                };
                self.publish(&mut job, vec![(token, answer)]);
            }
            self.jobs.push(job);
        }
    }

    /// One step of job `i`.
    fn advance(&mut self, i: usize) -> Advance {
        let now = Instant::now();
        if now.duration_since(self.jobs[i].started) > JOB_TIMEOUT {
            return Advance::Failed {
                reason: format!("no certificate after {} minutes", JOB_TIMEOUT.as_secs() / 60),
                validation: false,
            };
        }
        let r = self.jobs[i].resolver;
        match &self.jobs[i].stage {
            Stage::Probe {
                token,
                answer,
                version,
                since,
            } => {
                let (token, answer, version, since) = (token.clone(), answer.clone(), *version, *since);
                let served = self.receipts.all_at_least(version);
                if let Some(wait) = self.jobs[i].wait_for_receipts(served, since, now) {
                    return wait;
                }
                let port = self.resolvers[r].challenge_port.unwrap_or(80);
                for name in &self.jobs[i].names {
                    if let Err(e) = precheck::check(name, port, &token, &answer, &self.resolve, PRECHECK_TIMEOUT) {
                        return Advance::Failed {
                            reason: e.to_string(),
                            validation: false,
                        };
                    }
                }
                self.jobs[i].stage = Stage::Order;
                self.jobs[i].next = now;
                Advance::Continue
            }
            Stage::Order => {
                if let Err(reason) = self.ensure_account(r) {
                    return Advance::Failed {
                        reason,
                        validation: false,
                    };
                }
                let Some(account) = self.resolvers[r].account.as_ref() else {
                    return Advance::Continue;
                };
                let replaces = self.jobs[i].replaces.clone();
                match client::start_order(account, &self.jobs[i].names, replaces.clone()) {
                    Ok(pending) => self.jobs[i].ordered(pending, now),
                    // A CA may refuse (or not echo) `replaces`, e.g. when the certificate was already replaced:
                    // order again without it rather than fail the renewal.
                    Err(e) if replaces.is_some() => {
                        log::info!(
                            "ACME {}: the CA did not take the renewal of {} as a replacement ({e}); ordering without                              `replaces`",
                            self.resolvers[r].name,
                            self.jobs[i].label()
                        );
                        self.jobs[i].replaces = None;
                        Advance::Continue
                    }
                    Err(e) => Advance::Failed {
                        reason: e.to_string(),
                        validation: false,
                    },
                }
            }
            Stage::Publish { version, since, .. } => {
                let (version, since) = (*version, *since);
                let served = self.receipts.all_at_least(version);
                match self.jobs[i].wait_for_receipts(served, since, now) {
                    Some(wait) => wait,
                    None => self.jobs[i].confirm(now),
                }
            }
            Stage::Validate { .. } => self.jobs[i].validate(now),
            Stage::Issue { .. } => self.jobs[i].issue(now),
        }
    }

    /// Applies a step's result; true when the job is over.
    fn finish(&mut self, i: usize, advance: Advance) -> bool {
        match advance {
            Advance::Continue => false,
            Advance::PublishTokens(tokens) => {
                let mut job = std::mem::replace(&mut self.jobs[i], placeholder());
                self.publish(&mut job, tokens);
                self.jobs[i] = job;
                false
            }
            Advance::Issued { chain_pem, key_pem } => {
                self.withdraw(i);
                self.issued(i, &chain_pem, &key_pem);
                true
            }
            Advance::Failed { reason, validation } => {
                self.withdraw(i);
                self.failed(i, &reason, validation);
                true
            }
        }
    }

    fn issued(&mut self, i: usize, chain_pem: &str, key_pem: &str) {
        let job = &self.jobs[i];
        let (r, main) = (job.resolver, job.main().to_string());
        let sans: Vec<String> = job.names.iter().skip(1).cloned().collect();
        let info = CertInfo::from_pem_chain(chain_pem.as_bytes()).ok();
        let rt = &self.resolvers[r];
        match &info {
            Some(info) => log::info!(
                "ACME {}: certificate for {} issued by {}, valid until {}",
                rt.name,
                job.label(),
                info.issuer,
                listing::format_utc(unix(info.not_after) as i64)
            ),
            None => log::info!("ACME {}: certificate for {} issued", rt.name, job.label()),
        }
        let (store, name) = (rt.store, rt.name.clone());
        // The CA's window was about the certificate this one replaces.
        self.ari.remove(&(r, main.clone()));
        let resolver = self.stores[store].store.resolver_mut(&name);
        resolver.upsert(StoredCert::new(&main, &sans, chain_pem, key_pem));
        let state = resolver.ringress.domains.entry(main).or_default();
        record_order_success(state);
        state.last_used = Some(unix(SystemTime::now()));
        self.dirty_stores.insert(store);
        self.certs_dirty = true;
        self.counts.issued += 1;
        self.status_dirty = true;
        self.reindex();
    }

    fn failed(&mut self, i: usize, reason: &str, validation: bool) {
        let wall = SystemTime::now();
        let job = &self.jobs[i];
        if validation {
            for n in &job.names {
                self.budget.record_failure(n, wall);
            }
        }
        let (r, main, label) = (job.resolver, job.main().to_string(), job.label());
        let (store, name) = (self.resolvers[r].store, self.resolvers[r].name.clone());
        let state = self.stores[store]
            .store
            .resolver_mut(&name)
            .ringress
            .domains
            .entry(main)
            .or_default();
        record_order_failure(state, one_line(reason), wall);
        let failures = state.failures;
        let delay = retry_delay(failures);
        self.counts.failures += 1;
        self.status_dirty = true;
        self.dirty_stores.insert(store);
        log::warn!(
            "ACME {name}: no certificate for {label}: {reason}; next attempt in {} (failure {failures} in a row)",
            human(delay)
        );
    }

    /// Asks the CA for the renewal windows of a few wanted certificates whose window is unknown or stale. Never
    /// registers an account just for this, and never asks a CA that has said it offers no ARI.
    fn refresh_ari(&mut self, deadline: Instant) {
        const PER_STEP: usize = 4;
        let wall = SystemTime::now();
        let mut asked = 0;
        for (r, main) in self.in_use.clone() {
            if asked >= PER_STEP || Instant::now() >= deadline {
                break;
            }
            if self.ari_supported[r] == Some(false)
                || self.ari.get(&(r, main.clone())).is_some_and(|a| a.next_check > wall)
            {
                continue;
            }
            let Some(id) = self.held[r]
                .0
                .iter()
                .find(|h| h.main == main)
                .and_then(|h| h.ari_id.clone())
            else {
                continue;
            };
            let has_credentials = self.stores[self.resolvers[r].store]
                .store
                .resolvers
                .get(&self.resolvers[r].name)
                .is_some_and(|res| res.ringress.account.is_some());
            if self.resolvers[r].account.is_none() && (!has_credentials || self.ensure_account(r).is_err()) {
                continue;
            }
            let Some(account) = self.resolvers[r].account.as_ref() else {
                continue;
            };
            asked += 1;
            let previous = self.ari.get(&(r, main.clone())).and_then(|a| a.renew_at);
            match ari::fetch(account, &id, wall) {
                Fetched::Window(state) => {
                    self.ari_supported[r] = Some(true);
                    if state.renew_at != previous {
                        log::debug!(
                            "ACME {}: {main}: the CA suggests renewing at {:?}",
                            self.resolvers[r].name,
                            state.renew_at
                        );
                        self.next_plan = Instant::now();
                    }
                    self.ari.insert((r, main), state);
                }
                Fetched::Unsupported => {
                    log::debug!(
                        "ACME {}: the CA offers no renewal information (ARI); renewing at a third of the lifetime",
                        self.resolvers[r].name
                    );
                    self.ari_supported[r] = Some(false);
                }
                Fetched::Failed(e) => {
                    log::debug!("ACME {}: renewal information for {main}: {e}", self.resolvers[r].name);
                    self.ari.insert(
                        (r, main),
                        AriState {
                            renew_at: previous,
                            next_check: wall + ari::MIN_RECHECK,
                        },
                    );
                }
            }
        }
    }

    /// Opens (or registers) the resolver's account once.
    fn ensure_account(&mut self, r: usize) -> Result<(), String> {
        if self.resolvers[r].account.is_some() {
            return Ok(());
        }
        let rt = &self.resolvers[r];
        let resolver = self.stores[rt.store].store.resolver_mut(&rt.name);
        let contact = rt.email.as_ref().map(|e| format!("mailto:{e}"));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let mut opened = None;
        if resolver.ringress.account.is_none() {
            if let Some(traefik) = &resolver.account {
                match traefik_key_reuse(traefik, &rt.client.directory_url) {
                    KeyReuse::Reusable { key, .. } => match client::account_from_key(&rt.client, key) {
                        Ok(o) => {
                            log::info!("ACME {}: reusing the account Traefik registered", rt.name);
                            opened = Some(o);
                        }
                        Err(e) => log::info!(
                            "ACME {}: the Traefik account cannot be reused ({e}); registering a new one",
                            rt.name
                        ),
                    },
                    KeyReuse::NotReusable(why) => {
                        log::info!(
                            "ACME {}: the Traefik account is not reused ({why}); registering a new one (Traefik's \
                             account is left as it is)",
                            rt.name
                        )
                    }
                }
            }
        }
        let opened = match opened {
            Some(o) => o,
            None => client::open_account(&rt.client, resolver.ringress.account.as_ref(), &contacts)
                .map_err(|e| e.to_string())?,
        };
        if let Some(creds) = opened.new_credentials {
            resolver.ringress.account = Some(creds);
            log::info!("ACME {}: account ready at {}", rt.name, rt.client.directory_url);
            self.dirty_stores.insert(rt.store);
        }
        self.resolvers[r].account = Some(opened.account);
        Ok(())
    }

    fn publish(&mut self, job: &mut Job, tokens: Vec<(String, String)>) {
        for (token, answer) in tokens {
            job.published.push(token.clone());
            self.tokens.insert(token, answer);
        }
        self.version += 1;
        job.set_version(self.version);
        self.challenges_dirty = true;
    }

    fn withdraw(&mut self, i: usize) {
        let tokens = std::mem::take(&mut self.jobs[i].published);
        if tokens.is_empty() {
            return;
        }
        for t in tokens {
            self.tokens.remove(&t);
        }
        self.version += 1;
        self.challenges_dirty = true;
    }

    /// Writes every changed store (atomically); a failed write is retried on the next step.
    fn flush_stores(&mut self) {
        let dirty: Vec<usize> = self.dirty_stores.drain().collect();
        for s in dirty {
            if let Err(e) = self.stores[s].save() {
                log::error!("{e}; retrying");
                self.dirty_stores.insert(s);
                self.next_plan = self.next_plan.min(Instant::now() + Duration::from_secs(5));
            }
        }
    }

    /// Indices of held certificates of resolver `r` that cover every one of `names`.
    fn covering(&self, r: usize, names: &[String]) -> Vec<usize> {
        let (held, index) = &self.held[r];
        let Some(first) = names.first() else {
            return Vec::new();
        };
        candidates(index, first)
            .into_iter()
            .filter(|&h| names.iter().all(|n| held[h].names.iter().any(|c| name_covers(c, n))))
            .collect()
    }

    fn domain_state(&self, r: usize, main: &str) -> Option<&DomainState> {
        let rt = &self.resolvers[r];
        self.stores[rt.store]
            .store
            .resolvers
            .get(&rt.name)?
            .ringress
            .domains
            .get(main)
    }

    /// Records that a router still wants certificate `main` (written back at most hourly).
    fn touch(&mut self, r: usize, main: &str, now: SystemTime) {
        let (store, name) = (self.resolvers[r].store, self.resolvers[r].name.clone());
        let now = unix(now);
        let state = self.stores[store]
            .store
            .resolver_mut(&name)
            .ringress
            .domains
            .entry(main.to_string())
            .or_default();
        if state
            .last_used
            .is_none_or(|t| now.saturating_sub(t) >= LAST_USED_RESOLUTION.as_secs())
        {
            state.last_used = Some(now);
            self.dirty_stores.insert(store);
        }
    }

    /// Rebuilds the per-resolver view of the stored certificates.
    fn reindex(&mut self) {
        self.held = self
            .resolvers
            .iter()
            .map(|rt| {
                let mut held = Vec::new();
                let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                if let Some(res) = self.stores[rt.store].store.resolvers.get(&rt.name) {
                    for c in res.certificates.iter().filter(|c| c.is_complete()) {
                        let names: Vec<String> = c
                            .names()
                            .filter(|n| !n.is_empty())
                            .map(str::to_ascii_lowercase)
                            .collect();
                        for n in &names {
                            index.entry(n.clone()).or_default().push(held.len());
                        }
                        held.push(Held {
                            main: c.domain.main.clone(),
                            names,
                            info: c.info().ok(),
                            ari_id: c.chain_pem().ok().and_then(|pem| ari::identifier(&pem)),
                        });
                    }
                }
                (held, index)
            })
            .collect();
    }

    fn warn_once(&mut self, key: String, message: String) {
        if self.warned.insert(key) {
            log::warn!("{message}");
        }
    }
}

/// Held certificates that may cover `name`: exact entries and one-label wildcards.
fn candidates(index: &HashMap<String, Vec<usize>>, name: &str) -> Vec<usize> {
    let mut out: Vec<usize> = index.get(name).cloned().unwrap_or_default();
    if let Some((_, parent)) = name.split_once('.') {
        if let Some(w) = index.get(&format!("*.{parent}")) {
            out.extend(w);
        }
    }
    out
}

/// Whether certificate name `cert` (maybe `*.example.com`) covers host `name`.
fn name_covers(cert: &str, name: &str) -> bool {
    match cert.strip_prefix("*.") {
        Some(parent) => name.split_once('.').is_some_and(|(_, p)| p == parent),
        None => cert == name,
    }
}

/// Whether HTTP-01 can prove control of `name` (not a wildcard, not an IP address, not empty).
fn orderable(name: &str) -> bool {
    !name.is_empty() && !name.contains('*') && name.parse::<std::net::IpAddr>().is_err() && !name.contains(':')
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || (a.canonicalize().ok().is_some() && a.canonicalize().ok() == b.canonicalize().ok())
}

/// A random URL-safe token (probe tokens and answers; public values, not secrets).
fn random_token(prefix: &str) -> String {
    let mut out = String::from(prefix);
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// A CA problem detail on one line (it may span several).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `90s`, `5m`, `2h`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 && s % 60 != 0 {
        format!("{s}s")
    } else if s < 7200 {
        format!("{}m", s / 60)
    } else {
        format!("{}h", s / 3600)
    }
}

/// A stand-in while a job is taken out of the list for a moment.
fn placeholder() -> Job {
    Job {
        resolver: 0,
        names: Vec::new(),
        stage: Stage::Order,
        started: Instant::now(),
        next: Instant::now(),
        renewal: false,
        published: Vec::new(),
        replaces: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_wildcards() {
        assert!(name_covers("a.test", "a.test"));
        assert!(!name_covers("a.test", "b.test"));
        assert!(name_covers("*.test", "b.test"));
        assert!(!name_covers("*.test", "a.b.test"));
        assert!(orderable("app.example.com"));
        assert!(!orderable("*.example.com"));
        assert!(!orderable("10.0.0.1"));
        assert!(!orderable("::1"));
        assert!(!orderable(""));
    }

    #[test]
    fn tokens_are_distinct_and_url_safe() {
        let a = random_token("p-");
        let b = random_token("p-");
        assert_ne!(a, b);
        assert!(a.starts_with("p-") && a.len() == 34);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_secs(60)), "1m");
        assert_eq!(human(Duration::from_secs(90)), "90s");
        assert_eq!(human(Duration::from_secs(1800)), "30m");
        assert_eq!(human(Duration::from_secs(6 * 3600)), "6h");
    }
}
