//! A stand-in for the platform's control plane: a threaded std HTTP/1.1 server on loopback
//! answering `GET /v1/traefik/proxy-config` with Traefik dynamic-config JSON, with a
//! behaviour that can be switched at runtime (errors, garbage, hangs, refused connections).
//! Plus builders for the dynamic JSON, the provider config, tagged upstreams and a
//! non-panicking client.

use super::client::{Conn, Response};
use super::free_port;
use super::upstream::{describe, read_request, Handler};
use super::wire::Wire;
use serde_json::{json, Map, Value};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const PATH: &str = "/v1/traefik/proxy-config";

/// What the control plane answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 200 with this JSON body.
    Json(String),
    /// This status with a short text body.
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with an empty body.
    Empty,
    /// Reads the request and never answers (until the mode changes or the server is dropped).
    Hang,
    /// Not listening: connects are refused; open connections are closed.
    Down,
}

struct Inner {
    mode: Mutex<Mode>,
    /// `Some(t)`: requests without `Authorization: Bearer t` get a 401.
    token: Mutex<Option<String>>,
    listener: Mutex<Option<TcpListener>>,
    conns: Mutex<Vec<(u64, TcpStream)>>,
    next_conn: AtomicU64,
    requests: AtomicUsize,
    auths: Mutex<Vec<Option<String>>>,
    paths: Mutex<Vec<String>>,
    stop: Arc<AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct ControlPlane {
    pub port: u16,
    inner: Arc<Inner>,
    accept_thread: Option<JoinHandle<()>>,
}

impl ControlPlane {
    /// Starts on a free loopback port (below the ephemeral range, so it can be re-bound
    /// after `Mode::Down`), answering `mode`, checking the bearer `token` if given.
    pub fn start(mode: Mode, token: Option<&str>) -> ControlPlane {
        let (port, listener) = bind_free();
        let inner = Arc::new(Inner {
            mode: Mutex::new(Mode::Empty),
            token: Mutex::new(token.map(str::to_string)),
            listener: Mutex::new(Some(listener)),
            conns: Mutex::new(Vec::new()),
            next_conn: AtomicU64::new(0),
            requests: AtomicUsize::new(0),
            auths: Mutex::new(Vec::new()),
            paths: Mutex::new(Vec::new()),
            stop: Arc::new(AtomicBool::new(false)),
        });
        let i = inner.clone();
        let accept_thread = thread::spawn(move || accept_loop(i));
        let cp = ControlPlane {
            port,
            inner,
            accept_thread: Some(accept_thread),
        };
        cp.set_mode(mode);
        cp
    }

    /// The endpoint URL for `providers.http.endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}{PATH}", self.port)
    }

    /// Switches the behaviour. Takes effect for every request read after this returns;
    /// `Down` closes the listener and every open connection before returning, and leaving
    /// `Down` re-binds the same port before returning.
    pub fn set_mode(&self, mode: Mode) {
        let mut listener = lock(&self.inner.listener);
        if mode == Mode::Down {
            *lock(&self.inner.mode) = Mode::Down;
            *listener = None;
            for (_, c) in lock(&self.inner.conns).drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
            return;
        }
        if listener.is_none() {
            *listener = Some(rebind(self.port));
        }
        *lock(&self.inner.mode) = mode;
    }

    pub fn set_json(&self, json: String) {
        self.set_mode(Mode::Json(json));
    }

    pub fn mode(&self) -> Mode {
        lock(&self.inner.mode).clone()
    }

    /// Changes the expected bearer token (`None`: no check).
    pub fn set_token(&self, token: Option<&str>) {
        *lock(&self.inner.token) = token.map(str::to_string);
    }

    /// Requests received so far (any path, any answer).
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// The `Authorization` value of every request so far, in order.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        lock(&self.inner.auths).clone()
    }

    /// The request target of every request so far, in order.
    pub fn paths(&self) -> Vec<String> {
        lock(&self.inner.paths).clone()
    }

    /// Waits until at least `n` requests have been received in total.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.requests() < n {
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        *lock(&self.inner.listener) = None;
        for (_, c) in lock(&self.inner.conns).drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

fn bind_free() -> (u16, TcpListener) {
    for _ in 0..50 {
        let port = free_port();
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            l.set_nonblocking(true).expect("set_nonblocking");
            return (port, l);
        }
    }
    panic!("control plane: no free port");
}

/// Binds `port` again (std sets SO_REUSEADDR, so TIME_WAIT connections do not block it).
fn rebind(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => {
                l.set_nonblocking(true).expect("set_nonblocking");
                return l;
            }
            Err(e) if Instant::now() >= deadline => panic!("control plane: re-bind 127.0.0.1:{port}: {e}"),
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn accept_loop(inner: Arc<Inner>) {
    while !inner.stop.load(Ordering::SeqCst) {
        let accepted = match lock(&inner.listener).as_ref() {
            Some(l) => l.accept().ok(),
            None => None,
        };
        let Some((stream, _)) = accepted else {
            thread::sleep(Duration::from_millis(3));
            continue;
        };
        let _ = stream.set_nonblocking(false);
        let id = inner.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            lock(&inner.conns).push((id, c));
        }
        let i = inner.clone();
        thread::spawn(move || {
            serve(stream, &i);
            lock(&i.conns).retain(|(cid, _)| *cid != id);
        });
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn respond(conn: &mut Wire, status: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    conn.write_all(&out)
}

fn serve(stream: TcpStream, inner: &Inner) {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(Duration::from_millis(100))).is_err()
        || stream.set_write_timeout(Some(Duration::from_secs(10))).is_err()
    {
        return;
    }
    let mut conn = Wire::server(
        stream,
        Arc::new(AtomicU64::new(0)),
        inner.stop.clone(),
        Duration::from_secs(30),
    );
    loop {
        let req = match read_request(&mut conn) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        inner.requests.fetch_add(1, Ordering::SeqCst);
        let auth = req.header("authorization").map(str::to_string);
        lock(&inner.auths).push(auth.clone());
        lock(&inner.paths).push(req.target.clone());
        let mode = lock(&inner.mode).clone();
        let token = lock(&inner.token).clone();
        let path = req.target.split('?').next().unwrap_or_default();
        let res = match mode {
            Mode::Down => return,
            Mode::Hang => {
                while !inner.stop.load(Ordering::SeqCst) && *lock(&inner.mode) == Mode::Hang {
                    thread::sleep(Duration::from_millis(10));
                }
                return;
            }
            _ if req.method != "GET" || path != PATH => respond(&mut conn, 404, "text/plain", b"not found\n"),
            _ if token.is_some_and(|t| auth.as_deref() != Some(format!("Bearer {t}").as_str())) => {
                respond(&mut conn, 401, "text/plain", b"unauthorized\n")
            }
            Mode::Json(body) => respond(&mut conn, 200, "application/json", body.as_bytes()),
            Mode::Status(s) => respond(&mut conn, s, "text/plain", b"control plane error\n"),
            Mode::Garbage => respond(&mut conn, 200, "application/json", b"<html>this is {not json\n"),
            Mode::Empty => respond(&mut conn, 200, "application/json", b""),
        };
        if res.is_err() || req.has_token("connection", "close") {
            let _ = conn.stream.shutdown(Shutdown::Write);
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dynamic configuration JSON.
// ---------------------------------------------------------------------------------------

/// Builder for Traefik dynamic-config JSON (`{"http":{"routers":…,"services":…}}`).
#[derive(Clone, Debug, Default)]
pub struct Dynamic {
    pub routers: Map<String, Value>,
    pub services: Map<String, Value>,
    pub middlewares: Map<String, Value>,
}

impl Dynamic {
    pub fn new() -> Dynamic {
        Dynamic::default()
    }

    /// A router `name` with `rule` → `service`.
    pub fn router(mut self, name: &str, rule: &str, service: &str) -> Dynamic {
        self.routers
            .insert(name.into(), json!({ "rule": rule, "service": service }));
        self
    }

    /// A router with its whole JSON object given.
    pub fn router_value(mut self, name: &str, v: Value) -> Dynamic {
        self.routers.insert(name.into(), v);
        self
    }

    /// A load-balanced service over `http://127.0.0.1:PORT` for each port.
    pub fn service(mut self, name: &str, ports: &[u16]) -> Dynamic {
        let servers: Vec<Value> = ports
            .iter()
            .map(|p| json!({ "url": format!("http://127.0.0.1:{p}") }))
            .collect();
        self.services
            .insert(name.into(), json!({ "loadBalancer": { "servers": servers } }));
        self
    }

    /// A service with its whole JSON object given.
    pub fn service_value(mut self, name: &str, v: Value) -> Dynamic {
        self.services.insert(name.into(), v);
        self
    }

    pub fn middleware(mut self, name: &str, v: Value) -> Dynamic {
        self.middlewares.insert(name.into(), v);
        self
    }

    /// Router `name` for ``Host(`host`)`` with its own service `name` on `port`.
    pub fn app(self, name: &str, host: &str, port: u16) -> Dynamic {
        self.router(name, &format!("Host(`{host}`)"), name)
            .service(name, &[port])
    }

    pub fn value(&self) -> Value {
        let mut http = Map::new();
        http.insert("routers".into(), Value::Object(self.routers.clone()));
        http.insert("services".into(), Value::Object(self.services.clone()));
        if !self.middlewares.is_empty() {
            http.insert("middlewares".into(), Value::Object(self.middlewares.clone()));
        }
        json!({ "http": http })
    }

    pub fn json(&self) -> String {
        self.value().to_string()
    }
}

/// `n` apps: router and service `app-i` for ``Host(`app-i.test`)`` → `ports[i % ports.len()]`.
pub fn apps(n: usize, ports: &[u16]) -> Dynamic {
    let mut d = Dynamic::new();
    for i in 0..n {
        d = d.app(&format!("app-{i}"), &format!("app-{i}.test"), ports[i % ports.len()]);
    }
    d
}

// ---------------------------------------------------------------------------------------
// Static config with a provider.
// ---------------------------------------------------------------------------------------

/// How the provider's bearer token is configured.
#[derive(Clone, Debug)]
pub enum Token {
    None,
    /// `providers.http.headers.Authorization: "Bearer <t>"`.
    Header(String),
    /// `ringress.provider.tokenFile: <file>` (relative to the config).
    File(String),
    /// `ringress.provider.tokenEnv: <var>`.
    Env(String),
}

#[derive(Clone, Debug)]
pub struct ProviderOpts {
    pub endpoint: String,
    pub poll_interval: &'static str,
    pub poll_timeout: Option<&'static str>,
    pub token: Token,
    pub workers: usize,
    /// Add `ringress.routes: routes.yml`.
    pub routes_file: bool,
}

impl ProviderOpts {
    pub fn new(endpoint: String) -> ProviderOpts {
        ProviderOpts {
            endpoint,
            poll_interval: "1s",
            poll_timeout: None,
            token: Token::None,
            workers: 1,
            routes_file: false,
        }
    }
}

/// A full config (web entrypoint, provider, admin); `@WEB_PORT@`/`@ADMIN_PORT@` are filled in
/// by `Proxy::start`.
pub fn provider_config(o: &ProviderOpts) -> String {
    let mut s = format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:@WEB_PORT@"
serversTransport:
  forwardingTimeouts: {{ dialTimeout: "1s", responseHeaderTimeout: "5s", idleConnTimeout: "90s" }}
providers:
  http:
    endpoint: "{endpoint}"
    pollInterval: "{interval}"
"#,
        endpoint = o.endpoint,
        interval = o.poll_interval,
    );
    if let Some(t) = o.poll_timeout {
        s.push_str(&format!("    pollTimeout: \"{t}\"\n"));
    }
    if let Token::Header(t) = &o.token {
        s.push_str(&format!("    headers:\n      Authorization: \"Bearer {t}\"\n"));
    }
    s.push_str(&format!(
        "ringress:\n  workers: {}\n  admin: {{ address: \"127.0.0.1:@ADMIN_PORT@\" }}\n",
        o.workers
    ));
    if o.routes_file {
        s.push_str("  routes: routes.yml\n");
    }
    match &o.token {
        Token::File(f) => s.push_str(&format!("  provider:\n    tokenFile: {f}\n")),
        Token::Env(v) => s.push_str(&format!("  provider:\n    tokenEnv: {v}\n")),
        Token::None | Token::Header(_) => {}
    }
    s
}

/// A long random token (64 hex digits), unique per call.
pub fn random_token() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut s = String::from("rt");
    for _ in 0..4 {
        // RandomState is seeded from the OS per process and differs per instance.
        let mut h = RandomState::new().build_hasher();
        h.write_usize(N.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        s.push_str(&format!("{:016x}", h.finish()));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Upstreams that say who they are, and a client that does not panic.
// ---------------------------------------------------------------------------------------

/// 200 with body `upstream=<tag>\n` followed by the echo description of the request.
pub fn tagged(tag: &str) -> Handler {
    let tag = tag.to_string();
    Arc::new(move |req, conn| {
        let body = format!("upstream={tag}\n{}", describe(req));
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body.as_bytes());
        conn.write_all(&out)?;
        Ok(true)
    })
}

/// The tag of a `tagged` upstream's response, if it is one.
pub fn tag_of(r: &Response) -> Option<String> {
    r.body_str()
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("upstream="))
        .map(str::to_string)
}

/// A line `header.<name>=<value>` of an echo body (name lower-case).
pub fn echoed_header(r: &Response, name: &str) -> Option<String> {
    let prefix = format!("header.{name}=");
    r.body_str()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// `METHOD path` with `Host: host` plus `extra` header lines, on a fresh connection.
pub fn try_request(port: u16, method: &str, host: &str, path: &str, extra: &str) -> io::Result<Response> {
    let mut c = Conn::try_connect(port)?;
    c.set_read_timeout(Duration::from_secs(5));
    let body = if method == "POST" || method == "PUT" {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    c.try_send(
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}{body}Connection: close\r\n\r\n").as_bytes(),
    )?;
    c.read_response(method)
}

pub fn try_get(port: u16, host: &str, path: &str) -> io::Result<Response> {
    try_request(port, "GET", host, path, "")
}

/// Polls `GET host path` every 25 ms until `ok(response)`; returns the time it took, or
/// `None` after `timeout`.
pub fn wait_until(
    port: u16,
    host: &str,
    path: &str,
    timeout: Duration,
    ok: impl Fn(&Response) -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if let Ok(r) = try_get(port, host, path) {
            if ok(&r) {
                return Some(start.elapsed());
            }
        }
        if start.elapsed() >= timeout {
            return None;
        }
        thread::sleep(Duration::from_millis(25));
    }
}

/// `GET path` on the admin port parsed as JSON (`None` on any error).
pub fn admin_json(admin_port: u16, path: &str) -> Option<Value> {
    let mut c = Conn::try_connect(admin_port).ok()?;
    c.try_send(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
        .ok()?;
    let r = c.read_response("GET").ok()?;
    if r.status != 200 {
        return None;
    }
    serde_json::from_slice(&r.body).ok()
}

/// Whether `addr` accepts TCP connections right now.
pub fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(500)).is_ok()
}
