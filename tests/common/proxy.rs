//! The real `ringress` binary as a child process.

use super::client::{Conn, Response};
use super::{free_port, TempDir};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ringress");

/// Knobs of the standard test config (see `config`).
#[derive(Clone, Debug)]
pub struct Opts {
    pub workers: usize,
    pub read_timeout: &'static str,
    pub idle_timeout: &'static str,
    pub grace: &'static str,
    pub dial_timeout: &'static str,
    pub response_header_timeout: &'static str,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            workers: 1,
            read_timeout: "30s",
            idle_timeout: "30s",
            grace: "10s",
            dial_timeout: "1s",
            response_header_timeout: "5s",
        }
    }
}

/// A config in the documented format. `@WEB_PORT@` and `@ADMIN_PORT@` are filled in by
/// `Proxy::start`; the routes file is `routes.yml` beside the config.
pub fn config(o: &Opts) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:@WEB_PORT@"
    transport:
      respondingTimeouts: {{ readTimeout: "{rt}", idleTimeout: "{it}" }}
      lifeCycle: {{ graceTimeOut: "{grace}" }}
serversTransport:
  forwardingTimeouts: {{ dialTimeout: "{dial}", responseHeaderTimeout: "{rht}", idleConnTimeout: "90s" }}
ringress:
  workers: {workers}
  routes: routes.yml
  admin: {{ address: "127.0.0.1:@ADMIN_PORT@" }}
"#,
        rt = o.read_timeout,
        it = o.idle_timeout,
        grace = o.grace,
        dial = o.dial_timeout,
        rht = o.response_header_timeout,
        workers = o.workers,
    )
}

/// A route file (1Backend format) mapping each id to `127.0.0.1:port`.
pub fn routes(entries: &[(&str, u16)]) -> String {
    let mut s = String::new();
    for (id, port) in entries {
        s.push_str(&format!("- id: \"{id}\"\n  target: \"127.0.0.1:{port}\"\n"));
    }
    s
}

/// Sends `sig` to `pid`.
pub fn kill(pid: u32, sig: i32) {
    // SAFETY: plain kill(2) on the PID of a child we spawned and have not reaped yet.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// A child process that is terminated by PID when dropped: SIGTERM, then SIGKILL after 3 s.
pub struct ChildGuard {
    pub child: Child,
    pub status: Option<ExitStatus>,
}

impl ChildGuard {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the exit; `None` if still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.status.is_some() {
            return self.status;
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                self.status = Some(s);
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill_now(&mut self) {
        if self.status.is_some() {
            return;
        }
        kill(self.pid(), libc::SIGTERM);
        if self.wait_timeout(Duration::from_secs(3)).is_none() {
            kill(self.pid(), libc::SIGKILL);
            if let Ok(s) = self.child.wait() {
                self.status = Some(s);
            }
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Extra start-up inputs for `Proxy::start_extra`.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// (file name, contents) written into the proxy's directory, beside the config.
    pub files: Vec<(String, String)>,
    /// Environment variables set on the child process only.
    pub env: Vec<(String, String)>,
}

/// A running `ringress run -c FILE`.
pub struct Proxy {
    pub web_port: u16,
    pub admin_port: u16,
    pub child: ChildGuard,
    pub config_path: PathBuf,
    stderr_path: PathBuf,
    stdout_path: PathBuf,
    // Last: removed after the child is gone.
    dir: TempDir,
}

impl Proxy {
    /// Writes the config (with `@WEB_PORT@`/`@ADMIN_PORT@` filled in) and `routes.yml` into a
    /// fresh temp dir, spawns the proxy and waits until `GET /ping` on the admin port answers.
    pub fn start(config_yaml: &str, routes_yaml: &str) -> Proxy {
        Proxy::start_with_flag(config_yaml, routes_yaml, "-c")
    }

    pub fn start_with_flag(config_yaml: &str, routes_yaml: &str, flag: &str) -> Proxy {
        Proxy::start_extra(config_yaml, routes_yaml, flag, &Extra::default())
    }

    /// Like `start_with_flag`, plus extra files written beside the config and extra
    /// environment variables set on the child process only.
    pub fn start_extra(config_yaml: &str, routes_yaml: &str, flag: &str, extra: &Extra) -> Proxy {
        let mut last_err = String::new();
        for _ in 0..3 {
            match Proxy::try_start(config_yaml, routes_yaml, flag, extra) {
                Ok(p) => return p,
                // Another process took one of our ports between probe and bind: retry.
                Err((e, true)) => last_err = e,
                Err((e, false)) => panic!("{e}"),
            }
        }
        panic!("{last_err}");
    }

    fn try_start(config_yaml: &str, routes_yaml: &str, flag: &str, extra: &Extra) -> Result<Proxy, (String, bool)> {
        let dir = TempDir::new("proxy");
        let web_port = free_port();
        let mut admin_port = free_port();
        while admin_port == web_port {
            admin_port = free_port();
        }
        let cfg = config_yaml
            .replace("@WEB_PORT@", &web_port.to_string())
            .replace("@ADMIN_PORT@", &admin_port.to_string());
        let config_path = dir.write("ringress.yml", &cfg);
        dir.write("routes.yml", routes_yaml);
        for (name, contents) in &extra.files {
            dir.write(name, contents);
        }
        let stderr_path = dir.path().join("stderr.log");
        let stdout_path = dir.path().join("stdout.log");
        let child = Command::new(BIN)
            .arg("run")
            .arg(flag)
            .arg(&config_path)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path).expect("stdout file"))
            .stderr(File::create(&stderr_path).expect("stderr file"))
            .env("RUST_BACKTRACE", "1")
            .envs(extra.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .spawn()
            .expect("spawn ringress");
        let mut p = Proxy {
            web_port,
            admin_port,
            child: ChildGuard { child, status: None },
            config_path,
            stderr_path,
            stdout_path,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = p.child.wait_timeout(Duration::ZERO) {
                let err = p.stderr();
                let lower = err.to_ascii_lowercase();
                let port_clash = lower.contains("in use") || lower.contains("already");
                return Err((
                    format!("ringress exited during start-up ({status}); stderr:\n{err}"),
                    port_clash,
                ));
            }
            if p.ping() {
                return Ok(p);
            }
            if Instant::now() >= deadline {
                return Err((
                    format!(
                        "ringress did not answer /ping on 127.0.0.1:{admin_port} within 10 s; stderr:\n{}",
                        p.stderr()
                    ),
                    false,
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// One `GET /ping` attempt; true on a 200.
    pub fn ping(&self) -> bool {
        let Ok(mut c) = Conn::try_connect(self.admin_port) else {
            return false;
        };
        c.set_read_timeout(Duration::from_secs(1));
        if c.try_send(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .is_err()
        {
            return false;
        }
        matches!(c.read_response("GET"), Ok(r) if r.status == 200)
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the proxy wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Everything the proxy wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// A new client connection to the web entrypoint.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.web_port)
    }

    /// `GET path` on the admin entrypoint.
    pub fn admin_get(&self, path: &str) -> Response {
        let mut c = Conn::connect(self.admin_port);
        c.send(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes());
        c.read_response("GET")
            .unwrap_or_else(|e| panic!("admin GET {path}: {e}"))
    }

    fn status_field(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /proc/<pid>/status"))
    }

    /// Peak resident set size (VmHWM) in KiB.
    pub fn rss_hwm_kib(&self) -> u64 {
        self.status_field("VmHWM:")
    }

    /// Open file descriptors of the proxy process.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("read /proc/<pid>/fd")
            .count()
    }

    pub fn signal(&self, sig: i32) {
        assert!(self.child.status.is_none(), "proxy already exited");
        kill(self.pid(), sig);
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.child.wait_timeout(timeout)
    }

    /// SIGTERM, then wait (up to 15 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        if let Some(s) = self.child.status {
            return s;
        }
        kill(self.pid(), libc::SIGTERM);
        self.wait_exit(Duration::from_secs(15)).unwrap_or_else(|| {
            panic!(
                "ringress did not exit within 15 s of SIGTERM; stderr:\n{}",
                self.stderr()
            )
        })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.child.kill_now();
        if thread::panicking() {
            let err = self.stderr();
            let tail: String = err
                .chars()
                .rev()
                .take(6000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            eprintln!(
                "---- ringress stderr (web {}, admin {}) ----\n{tail}\n---- end ----",
                self.web_port, self.admin_port
            );
        }
    }
}

/// Output of a short CLI invocation.
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `ringress ARGS` in `dir` to completion (killed and panicking after 10 s).
pub fn run_cli(dir: &Path, args: &[&str]) -> CliOutput {
    run_cli_env(dir, args, &[])
}

/// `run_cli` with extra environment variables set on the child process only.
pub fn run_cli_env(dir: &Path, args: &[&str], env: &[(String, String)]) -> CliOutput {
    let out = dir.join(format!("cli-stdout-{}.log", args.join("_").replace('/', "_")));
    let err = dir.join(format!("cli-stderr-{}.log", args.join("_").replace('/', "_")));
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .spawn()
        .expect("spawn ringress");
    let mut g = ChildGuard { child, status: None };
    let status = g.wait_timeout(Duration::from_secs(10));
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let Some(status) = status else {
        drop(g);
        panic!("ringress {args:?} still running after 10 s; stdout:\n{stdout}\nstderr:\n{stderr}");
    };
    CliOutput { status, stdout, stderr }
}
