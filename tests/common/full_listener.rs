//! A loopback listener whose accept queue is full: it was created with backlog 0, never
//! accepts, and holds one completed connection in its queue, so the kernel drops every
//! further SYN and new connects to it hang until the connecting side gives up.

use std::mem;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub struct FullListener {
    fd: libc::c_int,
    pub port: u16,
    _fillers: Vec<TcpStream>,
}

impl FullListener {
    pub fn start() -> FullListener {
        // SAFETY: plain socket/bind/listen/getsockname calls on a fresh fd with properly
        // sized, initialised sockaddr_in values.
        let (fd, port) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_port = 0;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let r = libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len);
            assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());
            let r = libc::listen(fd, 0);
            assert_eq!(r, 0, "listen: {}", std::io::Error::last_os_error());
            let mut bound: libc::sockaddr_in = mem::zeroed();
            let mut blen = len;
            let r = libc::getsockname(fd, &mut bound as *mut _ as *mut libc::sockaddr, &mut blen);
            assert_eq!(r, 0, "getsockname: {}", std::io::Error::last_os_error());
            (fd, u16::from_be(bound.sin_port))
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        assert!(
            !fillers.is_empty(),
            "could not queue a single connection on the backlog-0 listener"
        );
        // The queue must now be full: a further connect has to hang.
        let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(
            probe.is_err(),
            "connect to the full listener succeeded: the kernel did not drop the SYN"
        );
        FullListener {
            fd,
            port,
            _fillers: fillers,
        }
    }
}

impl Drop for FullListener {
    fn drop(&mut self) {
        // SAFETY: closing the listening fd this struct owns, exactly once.
        unsafe {
            libc::close(self.fd);
        }
    }
}

/// A loopback port that is bound but not listening: connects to it are refused, and no
/// other process can take the port while this value lives.
pub struct RefusingPort {
    fd: libc::c_int,
    pub port: u16,
}

impl RefusingPort {
    pub fn new() -> RefusingPort {
        // SAFETY: plain socket/bind/getsockname calls on a fresh fd with properly sized,
        // initialised sockaddr_in values.
        let (fd, port) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let r = libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len);
            assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());
            let mut bound: libc::sockaddr_in = mem::zeroed();
            let mut blen = len;
            let r = libc::getsockname(fd, &mut bound as *mut _ as *mut libc::sockaddr, &mut blen);
            assert_eq!(r, 0, "getsockname: {}", std::io::Error::last_os_error());
            (fd, u16::from_be(bound.sin_port))
        };
        let refused = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(1));
        assert!(
            matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "connect to a bound, non-listening port was not refused: {refused:?}"
        );
        RefusingPort { fd, port }
    }
}

impl Drop for RefusingPort {
    fn drop(&mut self) {
        // SAFETY: closing the fd this struct owns, exactly once.
        unsafe {
            libc::close(self.fd);
        }
    }
}
