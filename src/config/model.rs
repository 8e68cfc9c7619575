//! The typed, validated static configuration handed to the rest of ringress.
//!
//! Owns the public shape of the configuration and its defaults. Values here are already
//! checked: consumers never re-validate them. Never parses text and never does I/O (the one
//! exception is [`default_workers`], which asks std how many CPUs the process may use).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use super::address::ListenAddr;

/// Let's Encrypt production directory, Traefik's default `caServer`.
pub const LETSENCRYPT_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt staging directory, for tests against real infrastructure.
pub const LETSENCRYPT_STAGING_DIRECTORY: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// ACME key types ringress can order, in Traefik's spelling.
pub const ACME_KEY_TYPES: [&str; 5] = ["EC256", "EC384", "RSA2048", "RSA4096", "RSA8192"];

/// The whole static configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Entrypoints, sorted by name. May be empty; the caller decides whether that is an error.
    pub entry_points: Vec<EntryPoint>,
    /// `providers`: where dynamic configuration comes from.
    pub providers: Providers,
    /// Resolvers by name. Resolvers without an `acme` section are left out (with a warning).
    pub certificates_resolvers: BTreeMap<String, CertResolver>,
    /// `serversTransport`: upstream connection settings.
    pub servers_transport: ServersTransport,
    /// The `ringress:` section and Traefik's `log.level`.
    pub ringress: Ringress,
    /// Traefik's `accessLog`; `None` (the default) when the key is absent: no access log.
    pub access_log: Option<AccessLog>,
}

impl Config {
    /// The entrypoint called `name`, if any.
    pub fn entry_point(&self, name: &str) -> Option<&EntryPoint> {
        self.entry_points.iter().find(|ep| ep.name == name)
    }
}

impl Default for Config {
    /// Every default and no entrypoints, providers or resolvers.
    fn default() -> Self {
        Config {
            entry_points: Vec::new(),
            providers: Providers::default(),
            certificates_resolvers: BTreeMap::new(),
            servers_transport: ServersTransport::default(),
            ringress: Ringress::default(),
            access_log: None,
        }
    }
}

/// Traefik's `accessLog`: one line per request. `accessLog: {}` turns it on with every default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    /// `filePath`: where lines are appended (created, with its directory, if missing; reopened on SIGUSR1).
    /// Relative paths are relative to the working directory, as in Traefik. `None` (the default): standard output.
    pub file_path: Option<PathBuf>,
    /// `format`, default `common`.
    pub format: AccessLogFormat,
    /// `bufferingSize`: lines each worker may have queued for the writer thread before further lines are dropped
    /// (and counted). Default 4096, 16..=1048576. (Traefik's value, a count of lines kept in memory before writing,
    /// is read the same way; Traefik's default of 0 means "write at once", which ringress never does on a worker.)
    pub buffering_size: usize,
}

/// Default `accessLog.bufferingSize` in ringress.
pub const DEFAULT_ACCESS_LOG_BUFFER: usize = 4096;

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog {
            file_path: None,
            format: AccessLogFormat::Common,
            buffering_size: DEFAULT_ACCESS_LOG_BUFFER,
        }
    }
}

/// `accessLog.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLogFormat {
    /// `common`: Traefik's CLF with request count, router, server URL and duration.
    Common,
    /// `genericCLF`: CLF with Referer and User-Agent (Apache's combined format).
    GenericClf,
    /// `json`: one JSON object per line with Traefik's field names.
    Json,
}

/// One `entryPoints.<name>` listener.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryPoint {
    /// The key under `entryPoints`, as written (names are case-sensitive).
    pub name: String,
    /// `address`.
    pub address: ListenAddr,
    /// `transport.respondingTimeouts.readTimeout`, default 60s: the time allowed to receive a
    /// request head. Traefik's `0` (no limit) is read as the default, with a warning, because
    /// ringress never waits forever for a head; bodies are not bounded by it.
    pub read_timeout: Duration,
    /// `transport.respondingTimeouts.writeTimeout`, default none (`0` = none).
    pub write_timeout: Option<Duration>,
    /// `transport.respondingTimeouts.idleTimeout`, default 180s: keep-alive wait between
    /// requests. `0` is read as the default, with a warning.
    pub idle_timeout: Duration,
    /// `transport.lifeCycle.graceTimeOut`, default 10s: how long in-flight requests may finish
    /// on shutdown. `0` stops at once.
    pub grace_timeout: Duration,
    /// `http.redirections.entryPoint`: redirect every request to another entrypoint.
    pub redirect: Option<Redirect>,
    /// `forwardedHeaders`.
    pub forwarded_headers: ForwardedHeaders,
}

impl EntryPoint {
    /// An entrypoint with every default, as if only `address` were written.
    pub fn new(name: impl Into<String>, address: ListenAddr) -> Self {
        EntryPoint {
            name: name.into(),
            address,
            read_timeout: Duration::from_secs(60),
            write_timeout: None,
            idle_timeout: Duration::from_secs(180),
            grace_timeout: Duration::from_secs(10),
            redirect: None,
            forwarded_headers: ForwardedHeaders::default(),
        }
    }
}

/// `entryPoints.<name>.http.redirections.entryPoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The target as written: an entrypoint name, or Traefik's port form `":443"`.
    pub to: String,
    /// Port to put in the `Location` URL: the target entrypoint's port, or the written port.
    pub port: u16,
    /// `"https"` (default) or `"http"`.
    pub scheme: String,
    /// Default true: 301/308; false: 302/307.
    pub permanent: bool,
}

/// `entryPoints.<name>.forwardedHeaders`: whose `X-Forwarded-*` headers are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForwardedHeaders {
    /// Trust every client's `X-Forwarded-*` headers.
    pub insecure: bool,
    /// Trusted IPs or CIDRs, already checked to parse (e.g. `"10.0.0.0/8"`, `"::1"`).
    pub trusted_ips: Vec<String>,
}

/// `providers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Providers {
    /// `providers.http`; `None` when the file has no HTTP provider.
    pub http: Option<HttpProvider>,
}

/// `providers.http`: the control-plane endpoint polled for Traefik dynamic configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpProvider {
    /// An `http://` or `https://` URL with a host. May carry credentials (userinfo, a query
    /// token): show [`HttpProvider::endpoint_display`] instead.
    pub endpoint: String,
    /// `pollInterval`, default 5s, never zero.
    pub poll_interval: Duration,
    /// `pollTimeout`, default 5s, never zero: bounds the whole request including the body.
    pub poll_timeout: Duration,
    /// `headers`, in file order. Names are valid header tokens; values contain no control
    /// characters. Values are secrets (bearer tokens): [`fmt::Debug`] prints them redacted, and
    /// the endpoint without userinfo or query.
    pub headers: Vec<(String, String)>,
}

impl HttpProvider {
    /// A provider for `endpoint` with default timings and no headers.
    pub fn new(endpoint: impl Into<String>) -> Self {
        HttpProvider {
            endpoint: endpoint.into(),
            poll_interval: Duration::from_secs(5),
            poll_timeout: Duration::from_secs(5),
            headers: Vec::new(),
        }
    }
}

impl fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("HttpProvider")
            .field("endpoint", &self.endpoint_display())
            .field("poll_interval", &self.poll_interval)
            .field("poll_timeout", &self.poll_timeout)
            .field("headers", &headers)
            .finish()
    }
}

/// `certificatesResolvers.<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertResolver {
    /// The key under `certificatesResolvers`; routers name it in `tls.certResolver`.
    pub name: String,
    /// The resolver's `acme` section.
    pub acme: Acme,
}

/// `certificatesResolvers.<name>.acme`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acme {
    /// `email`: ACME account contact; empty in the file gives `None`.
    pub email: Option<String>,
    /// `storage`, default `acme.json`. A relative path is kept relative (to the working
    /// directory), as Traefik does.
    pub storage: PathBuf,
    /// `caServer`, default [`LETSENCRYPT_DIRECTORY`].
    pub ca_server: String,
    /// `httpChallenge.entryPoint`: an existing entrypoint. `None` means this resolver cannot
    /// obtain certificates (HTTP-01 is the only challenge ringress answers).
    pub http_challenge_entry_point: Option<String>,
    /// `keyType`, upper-cased, one of [`ACME_KEY_TYPES`]. Default `EC256` (Traefik defaults
    /// to `RSA4096`; ECDSA keys make smaller, faster handshakes).
    pub key_type: String,
}

impl Default for Acme {
    fn default() -> Self {
        Acme {
            email: None,
            storage: PathBuf::from("acme.json"),
            ca_server: LETSENCRYPT_DIRECTORY.to_owned(),
            http_challenge_entry_point: None,
            key_type: "EC256".to_owned(),
        }
    }
}

/// Traefik's static `serversTransport`: how ringress talks to upstream servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServersTransport {
    /// `forwardingTimeouts.dialTimeout`, default 10s, never zero. Traefik defaults to 30s;
    /// ringress fails faster so a dead upstream becomes a 504 before the client gives up.
    pub dial_timeout: Duration,
    /// `forwardingTimeouts.responseHeaderTimeout`, default 60s; `0` means none. Traefik
    /// defaults to none; ringress bounds it so a hung upstream cannot hold a connection forever.
    pub response_header_timeout: Option<Duration>,
    /// `forwardingTimeouts.idleConnTimeout`, default 90s, never zero: how long a pooled
    /// upstream connection may stay idle.
    pub idle_conn_timeout: Duration,
    /// `maxIdleConnsPerHost`, default 200; `0` keeps no idle upstream connections.
    pub max_idle_conns_per_host: usize,
}

impl Default for ServersTransport {
    fn default() -> Self {
        ServersTransport {
            dial_timeout: Duration::from_secs(10),
            response_header_timeout: Some(Duration::from_secs(60)),
            idle_conn_timeout: Duration::from_secs(90),
            max_idle_conns_per_host: 200,
        }
    }
}

/// The `ringress:` top-level section. Traefik reports unknown keys in its static file as
/// errors, so a file that uses this section is for ringress only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ringress {
    /// `ringress.workers`, default: the CPUs available to the process (at most 1024). 1..=1024.
    pub workers: usize,
    /// `ringress.routes`: a route file or a directory of them, resolved against the config
    /// file's directory. Not checked to exist here.
    pub routes: Option<PathBuf>,
    /// `ringress.admin.address`, default `127.0.0.1:8082`; `ringress.admin.enabled: false`
    /// gives `None`. `":port"` means `0.0.0.0:port`.
    pub admin: Option<SocketAddr>,
    /// `ringress.limits.maxHeaderBytes`, default 65536, 1024..=1048576: whole request head.
    pub max_header_bytes: usize,
    /// `ringress.limits.maxRequestTargetBytes`, default 16384 (or `max_header_bytes` if
    /// smaller), 256..=`max_header_bytes`.
    pub max_target_bytes: usize,
    /// `ringress.limits.maxHeaders`, default 128, 8..=1024.
    pub max_headers: usize,
    /// `ringress.limits.bufferBytes`, default 65536, 4096..=4194304: forwarding buffer per
    /// direction per connection.
    pub buffer_bytes: usize,
    /// Traefik's `log.level`, default `Info` (Traefik defaults to ERROR).
    pub log_level: log::LevelFilter,
    /// `ringress.provider`: where the HTTP provider's bearer token comes from.
    pub provider: ProviderAuth,
    /// `ringress.acme`: ACME settings beyond Traefik's `certificatesResolvers`.
    pub acme: AcmeOptions,
}

/// `ringress.acme`: how ringress runs ACME, for every resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeOptions {
    /// `caCertificates`: a PEM file of roots to trust for the `caServer` (a private CA or a test CA), resolved
    /// against the config file's directory. Traefik's `LEGO_CA_CERTIFICATES` environment variable (one path) is
    /// honoured when this key is absent. Default: the web PKI roots.
    pub ca_certificates: Option<PathBuf>,
    /// `dnsServer`: `ip:port` of the DNS server the reachability pre-check asks. Default: the system resolver.
    pub dns_server: Option<SocketAddr>,
    /// `precheck`, default true: before asking the CA to validate a name, check that
    /// `http://<name>/.well-known/acme-challenge/…` reaches this proxy.
    pub precheck: bool,
    /// `maxNewOrders`, default 100, 1..=300: new orders allowed per 3 hours across all resolvers (Let's Encrypt
    /// allows 300 per account).
    pub max_new_orders: u32,
}

impl Default for AcmeOptions {
    fn default() -> Self {
        AcmeOptions {
            ca_certificates: None,
            dns_server: None,
            precheck: true,
            max_new_orders: 100,
        }
    }
}

/// `ringress.provider`: a bearer token for `providers.http` kept out of the config file. At most
/// one source is set. When one is, its token replaces any `Authorization` in
/// `providers.http.headers`. Holds where the token is, never the token (the provider reads it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderAuth {
    /// `tokenFile`: a file holding the token, resolved against the config file's directory. Read
    /// at start-up and again whenever it changes.
    pub token_file: Option<PathBuf>,
    /// `tokenEnv`: the name of an environment variable holding the token, read at start-up.
    pub token_env: Option<String>,
}

impl ProviderAuth {
    /// True when a token source is configured.
    pub fn is_set(&self) -> bool {
        self.token_file.is_some() || self.token_env.is_some()
    }
}

/// Most workers `ringress.workers` accepts.
pub const MAX_WORKERS: usize = 1024;

/// Default `ringress.admin.address`: loopback only.
pub const DEFAULT_ADMIN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8082));

/// Default `ringress.workers`: the CPUs this process may use (std's count, which honours
/// affinity and cgroup quotas), at least 1 and at most [`MAX_WORKERS`].
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_WORKERS)
}

impl Ringress {
    /// Every default except `workers`, without asking how many CPUs there are.
    pub fn with_workers(workers: usize) -> Self {
        Ringress {
            workers,
            routes: None,
            admin: Some(DEFAULT_ADMIN),
            max_header_bytes: 65536,
            max_target_bytes: 16384,
            max_headers: 128,
            buffer_bytes: 65536,
            log_level: log::LevelFilter::Info,
            provider: ProviderAuth::default(),
            acme: AcmeOptions::default(),
        }
    }
}

impl Default for Ringress {
    fn default() -> Self {
        Ringress::with_workers(default_workers())
    }
}
