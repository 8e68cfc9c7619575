//! The command line: `version`, `routes check`, config errors, `run --config`.
#![allow(clippy::unwrap_used)]

mod common;

use common::proxy::{config, routes, run_cli, Opts, Proxy};
use common::TempDir;

#[test]
fn version_prints_name_and_version() {
    let dir = TempDir::new("cli-version");
    let out = run_cli(dir.path(), &["version"]);
    assert!(out.status.success(), "{}", out.stderr);
    let want = format!("ringress {}", env!("CARGO_PKG_VERSION"));
    assert!(
        out.stdout.trim_end().starts_with(&want),
        "stdout {:?}, want it to start with {want:?}",
        out.stdout
    );
}

#[test]
fn routes_check_accepts_a_valid_file() {
    let dir = TempDir::new("cli-routes-ok");
    dir.write(
        "good.yml",
        "- id: \"a.test\"\n  target: \"127.0.0.1:9001\"\n\
         - id: \"a.test/app\"\n  target: \"http://127.0.0.1:9002\"\n\
         - id: \"b.test/api/v1\"\n  target: \"127.0.0.1:9003\"\n",
    );
    let out = run_cli(dir.path(), &["routes", "check", "good.yml"]);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", out.stderr);
    let header = out.stdout.lines().next().unwrap_or_default();
    for col in ["ROUTE ID", "TARGET", "SOURCE"] {
        assert!(header.contains(col), "header {header:?} lacks {col}");
    }
    for id in ["a.test", "a.test/app", "b.test/api/v1"] {
        assert!(
            out.stdout.lines().any(|l| l.split_whitespace().next() == Some(id)),
            "{id} not listed:\n{}",
            out.stdout
        );
    }
    for port in ["9001", "9002", "9003"] {
        assert!(out.stdout.contains(port), "target {port} not listed:\n{}", out.stdout);
    }
    assert!(out.stdout.contains("good.yml"), "source not listed:\n{}", out.stdout);
}

#[test]
fn routes_check_reports_the_bad_entry_and_lists_the_good_ones() {
    let dir = TempDir::new("cli-routes-bad");
    dir.write(
        "mixed.yml",
        "- id: \"good1.test\"\n  target: \"127.0.0.1:9001\"\n\
         - id: \"broken.test/x\"\n  target: \"127.0.0.1:99999\"\n\
         - id: \"good2.test/app\"\n  target: \"127.0.0.1:9002\"\n",
    );
    let out = run_cli(dir.path(), &["routes", "check", "mixed.yml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.contains("mixed.yml"),
        "stderr must name the file:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("broken.test/x"),
        "stderr must name the bad entry:\n{}",
        out.stderr
    );
    for id in ["good1.test", "good2.test/app"] {
        assert!(out.stdout.contains(id), "{id} not listed:\n{}", out.stdout);
    }
    assert!(
        !out.stdout
            .lines()
            .any(|l| l.split_whitespace().next() == Some("broken.test/x")),
        "the bad entry is listed as a route:\n{}",
        out.stdout
    );
}

#[test]
fn invalid_entrypoint_address_exits_2_naming_the_key() {
    let dir = TempDir::new("cli-bad-addr");
    dir.write("routes.yml", "");
    dir.write(
        "ringress.yml",
        "entryPoints:\n  web:\n    address: \"nope\"\nringress:\n  workers: 1\n  routes: routes.yml\n",
    );
    let out = run_cli(dir.path(), &["run", "-c", "ringress.yml"]);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("entryPoints.web.address"),
        "stderr must name the key path:\n{}",
        out.stderr
    );
}

#[test]
fn run_accepts_the_long_config_flag() {
    let mut proxy = Proxy::start_with_flag(&config(&Opts::default()), &routes(&[("none.test", 9)]), "--config");
    assert_eq!(proxy.admin_get("/ping").status, 200);
    let status = proxy.terminate();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", proxy.stderr());
}

#[test]
fn refuses_to_start_when_another_process_listens_on_an_entrypoint() {
    // Something else already listens (it could even share the port through SO_REUSEPORT): refuse, naming it.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let dir = TempDir::new("cli-port-taken");
    dir.write("routes.yml", "");
    dir.write(
        "ringress.yml",
        &format!("entryPoints:\n  web:\n    address: \"127.0.0.1:{port}\"\nringress:\n  workers: 1\n  routes: routes.yml\n  admin: {{ enabled: false }}\n"),
    );
    let out = run_cli(dir.path(), &["run", "-c", "ringress.yml"]);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("already listens") && out.stderr.contains(&port.to_string()),
        "stderr must say the address is taken:\n{}",
        out.stderr
    );
}
