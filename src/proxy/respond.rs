//! Responses the proxy writes itself: errors (400, 404, 502, 504, …), redirects to https, `100 Continue`, and the
//! admin pages.
//!
//! Bodies are short static texts; the head is written into the caller's reused buffer. Never echoes request data
//! into a response body (no reflected input); a redirect's Location is built from the validated request head.

use std::io::Write as _;

/// Appends a complete response with a `text/plain` body.
pub fn write_text(out: &mut Vec<u8>, status: u16, body: &str, keep_alive: bool) {
    write_with_type(out, status, "text/plain; charset=utf-8", body.as_bytes(), keep_alive);
}

/// Appends a complete response with the given content type and body.
pub fn write_with_type(out: &mut Vec<u8>, status: u16, content_type: &str, body: &[u8], keep_alive: bool) {
    write_head(out, status, content_type, body.len(), keep_alive);
    out.extend_from_slice(body);
}

/// Appends the head of a response whose body of `length` bytes the caller appends.
pub fn write_head(out: &mut Vec<u8>, status: u16, content_type: &str, length: usize, keep_alive: bool) {
    let _ = write!(
        out,
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nX-Content-Type-Options: nosniff\r\n",
        reason(status),
    );
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a redirect to `location` with an empty body (301, 302, 307, 308). `location` comes from a parsed, validated
/// request head (no control characters), so it cannot split the response.
pub fn write_redirect(out: &mut Vec<u8>, status: u16, location: &[u8], keep_alive: bool) {
    let _ = write!(out, "HTTP/1.1 {status} {}\r\nLocation: ", reason(status));
    out.extend_from_slice(location);
    out.extend_from_slice(b"\r\nContent-Length: 0\r\n");
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// The interim response sent when a client waits on `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The body Traefik sends when no router matches.
pub const NOT_FOUND_BODY: &str = "404 page not found\n";

/// The standard reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}
