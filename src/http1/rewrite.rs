//! Writing the heads the proxy forwards: the request to the upstream, the response to the client.
//!
//! Owns which fields are dropped (hop-by-hop, those named by `Connection`, client-supplied
//! forwarding headers), which are restated canonically (request line, `Host`, `Content-Length`,
//! `Transfer-Encoding: chunked`) and which are added (`X-Forwarded-*`, `X-Real-Ip`). Must never
//! allocate beyond growing `out`, never copy bodies, and never write a field value it did not
//! receive or compute itself.

use std::net::IpAddr;

use super::chars::list_elements;
use super::header::{Header, HeaderKind};
use super::num::{push_ip, push_status, push_u64};
use super::request::{RequestHead, TargetForm};
use super::response::ResponseHead;
use super::BodyKind;

/// Where a request came from, for the forwarding headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forwarding<'a> {
    /// The client's address (the TCP peer).
    pub client_ip: IpAddr,
    /// `"http"` or `"https"`: the scheme of the entrypoint the request arrived on.
    pub proto: &'a str,
    /// The entrypoint's local port, used for X-Forwarded-Port when Host has no port.
    pub port: u16,
    /// Sent as `Host` instead of the client's (a service with `passHostHeader: false` sends its server's
    /// `host:port`). `X-Forwarded-Host` still carries the client's value.
    pub host_override: Option<&'a [u8]>,
}

/// Appends the upstream request head for `head` (parsed from `src`) to `out`.
///
/// Writes `METHOD origin-form HTTP/1.1`, then `Host` (the effective host: the absolute-form
/// authority or the client's Host; empty for an HTTP/1.0 request without one), then every
/// received field except hop-by-hop fields, fields named in `Connection`, `Expect` (the proxy
/// answers `100-continue` itself) and client-supplied forwarding headers; framing fields are
/// restated canonically where they first appeared. Then `Connection: upgrade` + `Upgrade` for an
/// upgrade, the `X-Forwarded-*` / `X-Real-Ip` headers, and the final CRLF.
pub fn write_request_head(src: &[u8], head: &RequestHead, fwd: &Forwarding<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(head.method_span.get(src));
    out.push(b' ');
    match head.form {
        TargetForm::Absolute => {
            if head.origin_form_missing_slash {
                out.push(b'/');
            } else {
                out.extend_from_slice(head.path.get(src));
            }
            if let Some(q) = head.query {
                out.push(b'?');
                out.extend_from_slice(q.get(src));
            }
        }
        TargetForm::Origin | TargetForm::Asterisk | TargetForm::Authority => {
            out.extend_from_slice(head.target.get(src));
        }
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");

    let host = head.host.map(|h| h.get(src)).unwrap_or(&[]);
    push_field(out, b"Host", fwd.host_override.unwrap_or(host));

    let mut framing_written = false;
    let strip_named = has_custom_connection_options(src, &head.headers);
    for h in &head.headers {
        match h.kind {
            HeaderKind::Host | HeaderKind::Expect => {}
            k if k.is_hop_by_hop() || k.is_forwarding() => {}
            HeaderKind::ContentLength | HeaderKind::TransferEncoding => {
                if !framing_written {
                    framing_written = true;
                    push_framing(out, head.body, head.content_length);
                }
            }
            _ if strip_named && named_in_connection(src, &head.headers, h) => {}
            _ => push_field(out, h.name.get(src), h.value.get(src)),
        }
    }

    let upgrade = head.upgrade.filter(|_| head.conn.upgrade).map(|u| u.get(src));
    if let Some(protocols) = upgrade {
        out.extend_from_slice(b"Connection: upgrade\r\n");
        push_field(out, b"Upgrade", protocols);
    }

    out.extend_from_slice(b"X-Forwarded-For: ");
    push_ip(out, fwd.client_ip);
    out.extend_from_slice(b"\r\n");

    let websocket = upgrade.is_some_and(|p| {
        list_elements(p).any(|e| {
            let name = e.split(|&b| b == b'/').next().unwrap_or(&[]);
            name.eq_ignore_ascii_case(b"websocket")
        })
    });
    let proto: &[u8] = match (websocket, fwd.proto.eq_ignore_ascii_case("https")) {
        (true, true) => b"wss",
        (true, false) => b"ws",
        (false, _) => fwd.proto.as_bytes(),
    };
    push_field(out, b"X-Forwarded-Proto", proto);
    if head.host.is_some() {
        push_field(out, b"X-Forwarded-Host", host);
    }
    out.extend_from_slice(b"X-Forwarded-Port: ");
    push_u64(out, u64::from(head.host_port.unwrap_or(fwd.port)));
    out.extend_from_slice(b"\r\nX-Real-Ip: ");
    push_ip(out, fwd.client_ip);
    out.extend_from_slice(b"\r\n\r\n");
}

/// How the response head is adapted to the client connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseOptions {
    /// The client connection stays open after this response.
    pub keep_alive: bool,
    /// The client's HTTP minor version. For an HTTP/1.0 client a chunked response loses its
    /// `Transfer-Encoding` (the proxy forwards only the payload, from
    /// `ChunkedDecoder::feed_payload`, and closes), and keep-alive is stated explicitly.
    pub client_minor: u8,
}

/// Appends the client response head for `head` (parsed from `src`) to `out`, for an HTTP/1.1
/// client. `keep_alive = false` adds `Connection: close`.
pub fn write_response_head(src: &[u8], head: &ResponseHead, keep_alive: bool, out: &mut Vec<u8>) {
    let opts = ResponseOptions {
        keep_alive,
        client_minor: 1,
    };
    write_response_head_with(src, head, opts, out);
}

/// Appends the client response head for an HTTP/1.0 client receiving a chunked response that the
/// proxy forwards de-chunked (payload ranges from `ChunkedDecoder::feed_payload`): no
/// `Transfer-Encoding`, and `Connection: close`, since the close is what ends the body.
pub fn write_response_head_dechunked(src: &[u8], head: &ResponseHead, out: &mut Vec<u8>) {
    let opts = ResponseOptions {
        keep_alive: false,
        client_minor: 0,
    };
    write_response_head_with(src, head, opts, out);
}

/// Appends the client response head: `HTTP/1.1 <status> <reason>`, every field except hop-by-hop
/// ones and those named in `Connection` (a 101 keeps `Upgrade`), then `Connection: upgrade` for a
/// 101, else `Connection: close` unless keeping alive (`Connection: keep-alive` for a 1.0
/// client), then CRLF.
pub fn write_response_head_with(src: &[u8], head: &ResponseHead, opts: ResponseOptions, out: &mut Vec<u8>) {
    let switching = head.status == 101;
    let client_10 = opts.client_minor == 0;
    // A 1.0 client gets the payload of a chunked body and learns its end from the close, and a
    // close-delimited body can only end with a close.
    let keep_alive =
        opts.keep_alive && !(client_10 && head.body == BodyKind::Chunked) && head.body != BodyKind::CloseDelimited;
    let strip_named = has_custom_connection_options(src, &head.headers);

    out.extend_from_slice(b"HTTP/1.1 ");
    push_status(out, head.status);
    out.push(b' ');
    out.extend_from_slice(head.reason.get(src));
    out.extend_from_slice(b"\r\n");

    let mut length_written = false;
    for h in &head.headers {
        match h.kind {
            HeaderKind::Upgrade if switching => push_field(out, h.name.get(src), h.value.get(src)),
            k if k.is_hop_by_hop() => {}
            HeaderKind::TransferEncoding if client_10 => {}
            HeaderKind::ContentLength => {
                if !length_written {
                    length_written = true;
                    if let Some(n) = head.content_length {
                        out.extend_from_slice(b"Content-Length: ");
                        push_u64(out, n);
                        out.extend_from_slice(b"\r\n");
                    }
                }
            }
            _ if strip_named && named_in_connection(src, &head.headers, h) => {}
            _ => push_field(out, h.name.get(src), h.value.get(src)),
        }
    }

    if switching {
        out.extend_from_slice(b"Connection: upgrade\r\n");
    } else if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if client_10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn push_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The request framing as one canonical field.
fn push_framing(out: &mut Vec<u8>, body: BodyKind, content_length: Option<u64>) {
    match (body, content_length) {
        (BodyKind::Chunked, _) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        (_, Some(n)) => {
            out.extend_from_slice(b"Content-Length: ");
            push_u64(out, n);
            out.extend_from_slice(b"\r\n");
        }
        (_, None) => {}
    }
}

/// True if some `Connection` option could name a field that is not dropped anyway (anything but
/// `keep-alive` and `upgrade`), so the per-field check below is needed at all.
fn has_custom_connection_options(src: &[u8], headers: &[Header]) -> bool {
    headers.iter().filter(|c| c.kind == HeaderKind::Connection).any(|c| {
        list_elements(c.value.get(src))
            .any(|o| !o.is_empty() && !o.eq_ignore_ascii_case(b"keep-alive") && !o.eq_ignore_ascii_case(b"upgrade"))
    })
}

/// True if `h` is named as an option of a `Connection` field of the same head (and is not a
/// framing or routing field, which a peer must not be able to strip).
fn named_in_connection(src: &[u8], headers: &[Header], h: &Header) -> bool {
    if h.kind.is_protected() {
        return false;
    }
    let name = h.name.get(src);
    headers
        .iter()
        .filter(|c| c.kind == HeaderKind::Connection)
        .any(|c| list_elements(c.value.get(src)).any(|o| o.eq_ignore_ascii_case(name)))
}
