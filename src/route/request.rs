//! Building a [`RequestView`] from a parsed request head: host and routing-path normalisation
//! in caller-owned scratch space.
//!
//! Owns the glue between `http1` and `rule` for the workers. Must never allocate once the
//! scratch path buffer has grown to the longest path seen on the connection.

use std::net::IpAddr;

use super::host::normalize_host;
use crate::http1::RequestHead;
use crate::rule::{normalize_path, PathError, RequestView};

/// Reusable per-connection space for the normalised host and path.
#[derive(Debug)]
pub struct ViewScratch {
    host: [u8; 256],
    path: Vec<u8>,
}

impl Default for ViewScratch {
    fn default() -> ViewScratch {
        ViewScratch {
            host: [0; 256],
            path: Vec::new(),
        }
    }
}

/// The view of `head` (parsed from `buf`) for route lookup. The host is the effective host
/// (absolute-form authority, else `Host`), normalised; a missing or unusable host becomes
/// empty (then only host-less routers can match). Errors when the path has a bad `%` escape
/// (answer 400).
pub fn request_view<'a>(
    head: &'a RequestHead,
    buf: &'a [u8],
    client_ip: IpAddr,
    scratch: &'a mut ViewScratch,
) -> Result<RequestView<'a>, PathError> {
    let ViewScratch { host, path } = scratch;
    let raw_host = head.host.map(|h| h.get(buf)).unwrap_or(b"");
    let host = normalize_host(raw_host, host).unwrap_or(b"");
    let path = normalize_path(head.path.get(buf), path)?;
    Ok(RequestView {
        method: head.method_span.get(buf),
        host,
        path,
        query: head.query.map(|q| q.get(buf)).unwrap_or(b""),
        buf,
        headers: &head.headers,
        client_ip,
    })
}
