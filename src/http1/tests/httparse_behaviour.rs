//! What `httparse` 1.10 itself accepts, pinned down so an upgrade that changes it is noticed.
//! Where it is lenient, the row says which check of ours covers the gap.

fn req(buf: &[u8]) -> Result<httparse::Status<usize>, httparse::Error> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut r = httparse::Request::new(&mut headers);
    r.parse(buf)
}

fn res(buf: &[u8]) -> Result<httparse::Status<usize>, httparse::Error> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut r = httparse::Response::new(&mut headers);
    r.parse(buf)
}

#[test]
fn httparse_rejects_what_we_rely_on_it_for() {
    let rejected: &[&[u8]] = &[
        // obs-fold
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
        b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        // bare CR in a value and in a name
        b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n",
        // NUL and other controls in a value, DEL too
        b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x1fb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x7fb\r\n\r\n",
        // whitespace between name and colon
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
        // non-token name bytes and an empty name
        b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n",
        b"GET / HTTP/1.1\r\n: a\r\n\r\n",
        // versions
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
    ];
    for buf in rejected {
        assert!(req(buf).is_err(), "{}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn httparse_is_lenient_where_we_add_checks() {
    // Bare LF line ends: accepted by httparse → scan::find_head_end rejects them.
    assert!(matches!(
        req(b"GET / HTTP/1.1\nHost: a\n\n"),
        Ok(httparse::Status::Complete(_))
    ));
    assert!(matches!(
        req(b"GET / HTTP/1.1\r\nHost: a\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    // Leading bare LF empty lines: accepted → scan::skip_empty_lines rejects them.
    assert!(matches!(
        req(b"\n\nGET / HTTP/1.1\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    // Request targets with obs-text or '#': accepted → request_line.rs rejects them.
    assert!(matches!(
        req(b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    assert!(matches!(
        req(b"GET /a#b HTTP/1.1\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    // Field semantics are not its business: two Content-Lengths, CL + TE, TE gzip, "+5".
    assert!(matches!(
        req(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nTransfer-Encoding: gzip\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    // Status codes outside 100..=599 and a missing reason: accepted → status_line.rs decides.
    assert!(matches!(
        res(b"HTTP/1.1 999 X\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    assert!(matches!(
        res(b"HTTP/1.1 200\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
}

#[test]
fn httparse_allows_obs_text_in_values() {
    assert!(matches!(
        req(b"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9 \x80\xff\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
    assert!(matches!(
        res(b"HTTP/1.1 200 \xc3\x89t\xe9\r\n\r\n"),
        Ok(httparse::Status::Complete(_))
    ));
}
