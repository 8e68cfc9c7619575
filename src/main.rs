//! The `ringress` command: argument parsing, start-up, signals. No business logic lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};

use ringress::acme::manager::Manager as AcmeManager;
use ringress::acme::store::AcmeFile;
use ringress::challenge::Receipts;
use ringress::cli::router_table;
use ringress::config::{self, Config};
use ringress::control::status::StatusBoard;
use ringress::control::{Control, Sources};
use ringress::http1::Limits;
use ringress::observe::{AccessLog, Counters};
use ringress::provider::{HttpSource, TokenSource};
use ringress::proxy::forward::ProxySettings;
use ringress::worker::{self, listener, mailbox, EntryKind, EntryRedirect, EntrySettings, Settings, WorkerSpec};

#[derive(Parser)]
#[command(
    name = "ringress",
    version,
    about = "Edge proxy: Traefik-compatible configuration, thread-per-core io_uring workers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy in the foreground.
    Run {
        /// The static configuration file (traefik.yml keys plus a `ringress:` section).
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Validate the configuration, poll the provider once, load route files, and print every router.
    Check {
        /// The static configuration file.
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Route files and the running route table.
    Routes {
        #[command(subcommand)]
        command: RoutesCommand,
    },
    /// Certificates in the ACME storage files.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
enum CertsCommand {
    /// List every stored certificate: names, issuer, validity, serial and status (ok, renewing, failing).
    Ls {
        /// The static configuration file (its `certificatesResolvers.*.acme.storage` files are read).
        #[arg(short, long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum RoutesCommand {
    /// Validate route files (a file or a directory) and print the table.
    Check {
        /// A route file or a directory of them.
        path: PathBuf,
    },
    /// Print the running proxy's routers (from its admin entrypoint's /api/rawdata).
    List {
        /// The admin entrypoint's address.
        #[arg(long, default_value = "127.0.0.1:8082")]
        admin: String,
    },
}

/// Exit code for configuration errors.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("ringress {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Routes {
            command: RoutesCommand::Check { path },
        } => routes_check(&path),
        Command::Routes {
            command: RoutesCommand::List { admin },
        } => routes_list(&admin),
        Command::Certs {
            command: CertsCommand::Ls { config },
        } => certs_ls(&config),
        Command::Check { config } => check(&config),
        Command::Run { config } => run(&config),
    }
}

fn routes_check(path: &Path) -> ExitCode {
    let files = ringress::route::load_route_files(path);
    print!("{}", ringress::route::render(&files.specs));
    for e in &files.errors {
        eprintln!("error: {e}");
    }
    if files.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn routes_list(admin: &str) -> ExitCode {
    let url = format!("http://{admin}/api/rawdata");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let body = agent.get(&url).call().and_then(|mut r| r.body_mut().read_to_string());
    match body
        .map_err(|e| e.to_string())
        .and_then(|b| router_table(&b).map_err(|e| e.to_string()))
    {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {url}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints the certificates of every resolver's storage file (read only; a file that cannot be read is an error).
fn certs_ls(path: &Path) -> ExitCode {
    let cfg = match load_config(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut files: Vec<AcmeFile> = Vec::new();
    for resolver in cfg.certificates_resolvers.values() {
        if files.iter().any(|f| f.path() == resolver.acme.storage) {
            continue;
        }
        match AcmeFile::load(&resolver.acme.storage) {
            Ok(f) => files.push(f),
            Err(e) => {
                eprintln!("error: certificatesResolvers.{}: {e}", resolver.name);
                return ExitCode::from(1);
            }
        }
    }
    let empty = ringress::acme::store::Resolver::default();
    let mut rows: Vec<(String, &ringress::acme::store::Resolver)> = Vec::new();
    for resolver in cfg.certificates_resolvers.values() {
        let data = files
            .iter()
            .find(|f| f.path() == resolver.acme.storage)
            .and_then(|f| f.store.resolvers.get(&resolver.name))
            .unwrap_or(&empty);
        rows.push((resolver.name.clone(), data));
    }
    print!(
        "{}",
        ringress::acme::listing::render(&rows, std::time::SystemTime::now())
    );
    ExitCode::SUCCESS
}

/// Loads the config and logs its warnings; `Err` is the exit code.
fn load_config(path: &Path) -> Result<Config, ExitCode> {
    let loaded = match config::load(path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    let cfg = loaded.config;
    ringress::logging::init(cfg.ringress.log_level);
    for w in &loaded.warnings {
        log::warn!("{}: {w}", path.display());
    }
    Ok(cfg)
}

/// The route sources the config names; `Err` is a message for a config error.
fn sources(cfg: &Config) -> Result<Sources, String> {
    let token = if cfg.ringress.provider.is_set() {
        Some(TokenSource::new(&cfg.ringress.provider).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let http = match &cfg.providers.http {
        Some(h) => {
            Some(HttpSource::new(h, token.as_ref().and_then(|t| t.token().cloned())).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    Ok(Sources {
        http,
        token,
        routes_path: cfg.ringress.routes.clone(),
        entry_points: cfg.entry_points.iter().map(|e| e.name.clone()).collect(),
    })
}

fn poll_interval(cfg: &Config) -> Duration {
    cfg.providers
        .http
        .as_ref()
        .map(|h| h.poll_interval)
        .unwrap_or(Duration::from_secs(5))
}

fn check(path: &Path) -> ExitCode {
    let cfg = match load_config(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let sources = match sources(&cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let status = StatusBoard::new();
    let mut control = Control::new(sources, poll_interval(&cfg), Vec::new(), status.clone());
    control.tick();
    match control.current().map(|s| router_table(&s.rawdata.to_text())) {
        Some(Ok(t)) => print!("{t}"),
        _ => eprintln!("error: no route table could be built"),
    }
    let board = status.try_read().unwrap_or_default();
    let mut ok = true;
    if let Some(h) = &board.http {
        match &h.last_error {
            Some((_, e)) => {
                eprintln!("error: provider http: {e}");
                ok = false;
            }
            None => println!("provider http: {} answered; {} router(s)", h.endpoint, h.routers),
        }
    }
    if let Some(f) = &board.files {
        println!(
            "route files {}: {} route(s), {} problem(s)",
            f.path,
            f.routers,
            f.errors.len()
        );
        for e in &f.errors {
            eprintln!("error: {e}");
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run(path: &Path) -> ExitCode {
    let cfg = match load_config(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if cfg.entry_points.is_empty() {
        eprintln!(
            "error: {}: entryPoints: no entrypoint configured; nothing to serve",
            path.display()
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let sources = match sources(&cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match start(&cfg, sources) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::from(1)
        }
    }
}

fn settings(cfg: &Config) -> Settings {
    let r = &cfg.ringress;
    let t = &cfg.servers_transport;
    Settings {
        proxy: ProxySettings {
            limits: Limits {
                max_head: r.max_header_bytes,
                max_target: r.max_target_bytes,
                max_headers: r.max_headers,
            },
            dial_timeout: t.dial_timeout,
            response_header_timeout: t.response_header_timeout,
            buffer_bytes: r.buffer_bytes,
        },
        max_idle_per_host: t.max_idle_conns_per_host,
        idle_conn_timeout: t.idle_conn_timeout,
        grace: cfg
            .entry_points
            .iter()
            .map(|e| e.grace_timeout)
            .max()
            .unwrap_or(Duration::from_secs(10)),
    }
}

fn start(cfg: &Config, sources: Sources) -> Result<(), String> {
    let workers = cfg.ringress.workers.max(1);
    let settings = Arc::new(settings(cfg));

    // Every proxy entrypoint also speaks TLS; names without a certificate get the default one.
    let default_cert = ringress::tls::default_cert::generate().map_err(|e| e.to_string())?;
    let receipts = Arc::new(Receipts::new(workers));
    // A storage file that cannot be read stops start-up here, before anything could overwrite it, and before any
    // port is probed or bound: a configuration problem is reported as such whatever the ports.
    let acme = AcmeManager::new(cfg, receipts.clone(), default_cert.clone()).map_err(|e| e.to_string())?;
    let certs = match &acme {
        Some(acme) => acme.cert_map(),
        None => ringress::tls::CertMap::new(default_cert),
    };
    if !certs.is_empty() {
        log::info!("serving {} stored certificate name(s)", certs.len());
    }

    // Entrypoints plus the admin entrypoint, each resolved and probed before anything binds.
    let mut entries: Vec<(Arc<EntrySettings>, std::net::SocketAddr)> = Vec::new();
    for (index, ep) in cfg.entry_points.iter().enumerate() {
        let addr = listener::resolve(&ep.address);
        entries.push((
            Arc::new(EntrySettings {
                name: ep.name.clone(),
                kind: EntryKind::Proxy,
                index,
                port: addr.port(),
                read_timeout: ep.read_timeout,
                idle_timeout: ep.idle_timeout,
                redirect: ep.redirect.as_ref().map(|r| EntryRedirect {
                    scheme: r.scheme.clone(),
                    port: r.port,
                    permanent: r.permanent,
                }),
            }),
            addr,
        ));
    }
    if let Some(addr) = cfg.ringress.admin {
        entries.push((
            Arc::new(EntrySettings {
                name: "admin".into(),
                kind: EntryKind::Admin,
                index: usize::MAX,
                port: addr.port(),
                read_timeout: Duration::from_secs(10),
                idle_timeout: Duration::from_secs(30),
                redirect: None,
            }),
            addr,
        ));
    }
    for (ep, addr) in &entries {
        listener::probe_free(&ep.name, *addr).map_err(|e| e.to_string())?;
    }
    let backlog = somaxconn();
    let mut per_worker: Vec<Vec<(Arc<EntrySettings>, std::net::TcpListener)>> =
        (0..workers).map(|_| Vec::new()).collect();
    for (ep, addr) in &entries {
        for slot in per_worker.iter_mut() {
            let l = listener::bind(&ep.name, *addr, backlog).map_err(|e| e.to_string())?;
            slot.push((ep.clone(), l));
        }
    }

    // SIGUSR1 (logrotate) makes the access-log writer reopen its file. Registered even without an access log, so
    // the signal never ends the process.
    let reopen = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGUSR1, reopen.clone()).map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let (access_log, access_senders) = match &cfg.access_log {
        Some(a) => {
            let (log, senders) = AccessLog::start(a, workers, reopen).map_err(|e| format!("accessLog: {e}"))?;
            (Some(log), Some(senders))
        }
        None => (None, None),
    };
    let entrypoint_names: Vec<String> = cfg.entry_points.iter().map(|e| e.name.clone()).collect();

    // The first snapshot is built before any worker accepts, so no request ever sees an empty table by accident.
    let counters = Counters::build(workers, &entrypoint_names, access_senders);
    let mut senders = Vec::with_capacity(workers);
    let mut receivers = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (tx, rx) = mailbox::mailbox().map_err(|e| format!("cannot create worker mailbox: {e}"))?;
        senders.push(tx);
        receivers.push(rx);
    }
    let status = StatusBoard::new();
    let mut control = Control::new(sources, poll_interval(cfg), senders, status.clone()).with_acme(acme);
    control.tick();

    let signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let tickets = ringress::tls::TicketKeys::generate().map_err(|e| e.to_string())?;
    let mut handles = Vec::with_capacity(workers);
    for (id, (listeners, mailbox)) in per_worker.into_iter().zip(receivers).enumerate() {
        let spec = WorkerSpec {
            id,
            listeners,
            mailbox,
            settings: settings.clone(),
            counters: counters.clone(),
            status: status.clone(),
            certs: Arc::new(certs.for_worker()),
            receipts: receipts.clone(),
            tickets: tickets.clone(),
        };
        handles.push(worker::spawn(spec).map_err(|e| format!("cannot start worker {id}: {e}"))?);
    }
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let control_handle = control
        .spawn(stop_rx)
        .map_err(|e| format!("cannot start the control thread: {e}"))?;

    let driver = match worker::probe_driver() {
        worker::Driver::IoUring => "io_uring",
        worker::Driver::Epoll => "epoll (io_uring unavailable)",
    };
    let listening: Vec<String> = entries.iter().map(|(ep, a)| format!("{}={a}", ep.name)).collect();
    log::info!(
        "ringress {} ready: {workers} worker(s) on {driver}; entrypoints {}",
        env!("CARGO_PKG_VERSION"),
        listening.join(", ")
    );
    // Type=notify: systemd considers the service started only now (listeners bound, first table built, workers up).
    if let Err(e) = ringress::notify::ready(&format!("serving: {workers} worker(s) on {driver}")) {
        log::warn!("systemd notification failed (serving anyway): {e}");
    }

    wait_for_signal(signals);
    if let Err(e) = ringress::notify::stopping("draining") {
        log::warn!("systemd notification failed: {e}");
    }
    log::info!(
        "draining: no new connections; in-flight requests have {:?}",
        settings.grace
    );
    let _ = stop_tx.send(());
    let _ = control_handle.join();
    for h in handles {
        let _ = h.join();
    }
    if let Some(a) = access_log {
        a.finish();
    }
    log::info!("stopped");
    Ok(())
}

fn wait_for_signal(mut signals: signal_hook::iterator::Signals) {
    if let Some(sig) = signals.forever().next() {
        log::info!("received {}", if sig == SIGTERM { "SIGTERM" } else { "SIGINT" });
    }
    // A second signal during the drain ends the process at once.
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            log::warn!("second signal: exiting without waiting for in-flight requests");
            std::process::exit(1);
        }
    });
}

/// The kernel's cap on listen backlogs (larger values are silently truncated to it).
fn somaxconn() -> i32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096)
}
