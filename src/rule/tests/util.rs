//! Test helpers: a request builder and one-line match checks.

use std::net::IpAddr;

use crate::http1::{Header, HeaderKind, Span};
use crate::route::normalize_host;
use crate::rule::{parse, RequestView};

/// An owned request that lends out a [`RequestView`].
pub(super) struct Req {
    method: String,
    host: Vec<u8>,
    path: String,
    query: String,
    buf: Vec<u8>,
    headers: Vec<Header>,
    ip: IpAddr,
}

pub(super) fn req() -> Req {
    Req {
        method: "GET".into(),
        host: Vec::new(),
        path: "/".into(),
        query: String::new(),
        buf: Vec::new(),
        headers: Vec::new(),
        ip: IpAddr::from([10, 0, 0, 1]),
    }
}

impl Req {
    /// Sets the host from a raw `Host` header value, normalised as the worker does.
    pub(super) fn host(mut self, raw: &str) -> Req {
        let mut out = [0u8; 256];
        self.host = normalize_host(raw.as_bytes(), &mut out).unwrap_or(b"").to_vec();
        self
    }

    pub(super) fn path(mut self, path: &str) -> Req {
        self.path = path.into();
        self
    }

    pub(super) fn query(mut self, query: &str) -> Req {
        self.query = query.into();
        self
    }

    pub(super) fn method(mut self, method: &str) -> Req {
        self.method = method.into();
        self
    }

    pub(super) fn ip(mut self, ip: &str) -> Req {
        self.ip = ip.parse().expect("test IP");
        self
    }

    pub(super) fn header(mut self, name: &str, value: &str) -> Req {
        let start = self.buf.len();
        self.buf.extend_from_slice(name.as_bytes());
        let mid = self.buf.len();
        self.buf.extend_from_slice(value.as_bytes());
        let end = self.buf.len();
        let span = |s: usize, e: usize| Span {
            start: s as u32,
            end: e as u32,
        };
        self.headers.push(Header {
            name: span(start, mid),
            value: span(mid, end),
            kind: HeaderKind::of(name.as_bytes()),
        });
        self
    }

    pub(super) fn view(&self) -> RequestView<'_> {
        RequestView {
            method: self.method.as_bytes(),
            host: &self.host,
            path: self.path.as_bytes(),
            query: self.query.as_bytes(),
            buf: &self.buf,
            headers: &self.headers,
            client_ip: self.ip,
        }
    }
}

/// Does `rule` (which must parse) match `req`?
pub(super) fn matches(rule: &str, req: &Req) -> bool {
    parse(rule)
        .unwrap_or_else(|e| panic!("{rule}: {e}"))
        .matches(&req.view())
}

/// The error text for a rule that must not parse.
pub(super) fn error(rule: &str) -> String {
    match parse(rule) {
        Ok(r) => panic!("{rule:?} parsed as {r}"),
        Err(e) => e.to_string(),
    }
}
