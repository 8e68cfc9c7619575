//! The systemd readiness protocol (`sd_notify`), spoken directly: no libsystemd, no extra dependency.
//!
//! Under `Type=notify` the service manager passes `$NOTIFY_SOCKET`, a Unix datagram socket given as a path
//! (`/run/systemd/notify`) or as an abstract name (`@name`). Each message is one datagram of `KEY=value` lines:
//! [`ready`] sends `READY=1` with a `STATUS=` line once every listener is bound, [`stopping`] sends `STOPPING=1` when
//! the drain starts.
//!
//! Owns only building and sending those datagrams. It never reads or changes anything but `$NOTIFY_SOCKET` (which it
//! leaves set), never retries, never blocks on the manager (a datagram send to a full socket fails at once), and never
//! decides what a failure means: every error is returned for the caller to log, and none is meant to be fatal (the
//! proxy serves traffic whether or not systemd hears about it). Without `$NOTIFY_SOCKET` (not started by systemd, or
//! another `Type=`) every call is a no-op returning `Ok(false)`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Why a notification could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// `$NOTIFY_SOCKET` is neither an absolute path nor `@name` (systemd 254's `vsock:` form is not supported).
    #[error("NOTIFY_SOCKET={0:?} is neither an absolute path nor an abstract name (@name)")]
    Unsupported(OsString),
    /// The abstract name is too long for a socket address.
    #[error("NOTIFY_SOCKET={name:?}: invalid abstract socket name: {source}")]
    BadName { name: OsString, source: std::io::Error },
    /// No local datagram socket could be created.
    #[error("cannot create a datagram socket for NOTIFY_SOCKET: {0}")]
    Socket(std::io::Error),
    /// The datagram was not accepted (no listener, permissions, full queue).
    #[error("cannot notify {socket:?}: {source}")]
    Send { socket: OsString, source: std::io::Error },
    /// The socket took only part of the message.
    #[error("{socket:?} took {sent} of {len} bytes")]
    Short { socket: OsString, sent: usize, len: usize },
}

/// Tells the service manager that start-up is complete: `READY=1` plus `STATUS=<status>`.
/// `Ok(false)` when `$NOTIFY_SOCKET` is not set.
pub fn ready(status: &str) -> Result<bool, NotifyError> {
    notify(&format!("READY=1\nSTATUS={}", one_line(status)))
}

/// Tells the service manager that the service is shutting down (draining): `STOPPING=1` plus `STATUS=<status>`.
/// `Ok(false)` when `$NOTIFY_SOCKET` is not set.
pub fn stopping(status: &str) -> Result<bool, NotifyError> {
    notify(&format!("STOPPING=1\nSTATUS={}", one_line(status)))
}

/// Sends `state` (newline-separated `KEY=value` assignments) to `$NOTIFY_SOCKET`.
/// `Ok(false)` when the variable is not set or empty, `Ok(true)` once the datagram is sent.
pub fn notify(state: &str) -> Result<bool, NotifyError> {
    match std::env::var_os(NOTIFY_SOCKET) {
        Some(socket) if !socket.is_empty() => send_to(&socket, state).map(|()| true),
        _ => Ok(false),
    }
}

/// Sends `state` as one datagram to `socket`, written as in `$NOTIFY_SOCKET`: `/absolute/path` or `@abstract`.
pub fn send_to(socket: &OsStr, state: &str) -> Result<(), NotifyError> {
    let bytes = socket.as_bytes();
    let sender = || UnixDatagram::unbound().map_err(NotifyError::Socket);
    let sent = match bytes.first() {
        Some(b'/') => sender()?.send_to(state.as_bytes(), Path::new(socket)),
        Some(b'@') => {
            let addr = abstract_addr(&bytes[1..]).map_err(|source| NotifyError::BadName {
                name: socket.to_os_string(),
                source,
            })?;
            sender()?.send_to_addr(state.as_bytes(), &addr)
        }
        _ => return Err(NotifyError::Unsupported(socket.to_os_string())),
    };
    match sent {
        Ok(n) if n == state.len() => Ok(()),
        Ok(n) => Err(NotifyError::Short {
            socket: socket.to_os_string(),
            sent: n,
            len: state.len(),
        }),
        Err(source) => Err(NotifyError::Send {
            socket: socket.to_os_string(),
            source,
        }),
    }
}

fn abstract_addr(name: &[u8]) -> std::io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name)
}

/// A `STATUS=` value must stay on one line: the protocol separates assignments with newlines.
fn one_line(status: &str) -> String {
    status.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn recv(listener: &UnixDatagram) -> String {
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        let mut buf = [0u8; 512];
        let n = listener.recv(&mut buf).expect("a datagram within 5 s");
        String::from_utf8(buf[..n].to_vec()).expect("utf-8")
    }

    #[test]
    fn sends_to_a_path_socket() {
        let dir = std::env::temp_dir().join(format!("ringress-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("notify.sock");
        let listener = UnixDatagram::bind(&path).expect("bind path socket");

        send_to(path.as_os_str(), "READY=1\nSTATUS=2 worker(s) on io_uring").expect("send READY");
        assert_eq!(recv(&listener), "READY=1\nSTATUS=2 worker(s) on io_uring");
        send_to(path.as_os_str(), "STOPPING=1").expect("send STOPPING");
        assert_eq!(recv(&listener), "STOPPING=1");

        drop(listener);
        std::fs::remove_dir_all(&dir).expect("remove temp dir");
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        let name = format!("ringress-notify-test-{}", std::process::id());
        let listener = UnixDatagram::bind_addr(&abstract_addr(name.as_bytes()).expect("abstract address"))
            .expect("bind abstract socket");
        let socket = OsString::from(format!("@{name}"));

        send_to(&socket, "READY=1\nSTATUS=ok").expect("send READY");
        assert_eq!(recv(&listener), "READY=1\nSTATUS=ok");
        send_to(&socket, "STOPPING=1\nSTATUS=draining").expect("send STOPPING");
        assert_eq!(recv(&listener), "STOPPING=1\nSTATUS=draining");
    }

    #[test]
    fn errors_are_returned_not_fatal() {
        assert!(matches!(
            send_to(OsStr::new("relative/notify.sock"), "READY=1"),
            Err(NotifyError::Unsupported(_))
        ));
        assert!(matches!(
            send_to(OsStr::new("vsock:2:1234"), "READY=1"),
            Err(NotifyError::Unsupported(_))
        ));
        let missing = std::env::temp_dir().join(format!("ringress-notify-missing-{}.sock", std::process::id()));
        let err = send_to(missing.as_os_str(), "READY=1").expect_err("nobody listens there");
        assert!(matches!(err, NotifyError::Send { .. }), "{err}");
        assert!(err.to_string().contains("cannot notify"), "{err}");
        let long = OsString::from(format!("@{}", "x".repeat(200)));
        assert!(matches!(send_to(&long, "READY=1"), Err(NotifyError::BadName { .. })));
    }

    #[test]
    fn status_stays_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a b  c");
    }
}
