//! Interpreting a request target: origin-, absolute-, asterisk- or authority-form (RFC 9112 §3.2).
//!
//! Owns splitting the target into path, query and authority. Must never accept userinfo, a scheme
//! other than http/https, or `*` outside OPTIONS. Bytes were already limited to visible ASCII
//! without `#` by `request_line.rs`.

use super::error::HeadError;
use super::host::parse_host;
use super::method::Method;
use super::span::Span;

/// Which of the four request-target forms was received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`
    #[default]
    Origin,
    /// `http://authority/path?query`
    Absolute,
    /// `host:port` (CONNECT); not interpreted, the caller is expected to refuse CONNECT.
    Authority,
    /// `*` (OPTIONS only)
    Asterisk,
}

/// The parts of a target, as spans into the parsed buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Target {
    pub form: TargetForm,
    pub path: Span,
    pub query: Option<Span>,
    pub authority: Option<Span>,
    /// Absolute-form without a path (`http://h` or `http://h?q`): the writer must emit `/`.
    pub missing_slash: bool,
}

/// Splits `target` (a span of `buf`) according to `method`.
pub(crate) fn parse(buf: &[u8], target: Span, method: Method) -> Result<Target, HeadError> {
    let bytes = target.get(buf);
    if method == Method::Connect {
        return Ok(Target {
            form: TargetForm::Authority,
            path: Span::empty_at(target.start as usize),
            ..Target::default()
        });
    }
    match bytes {
        [b'/', ..] => {
            let (path, query) = split_query(buf, target);
            Ok(Target {
                form: TargetForm::Origin,
                path,
                query,
                ..Target::default()
            })
        }
        b"*" if method == Method::Options => Ok(Target {
            form: TargetForm::Asterisk,
            path: target,
            ..Target::default()
        }),
        b"*" => Err(HeadError::BadTarget("asterisk-form is only allowed for OPTIONS")),
        _ => parse_absolute(buf, target),
    }
}

fn parse_absolute(buf: &[u8], target: Span) -> Result<Target, HeadError> {
    let bytes = target.get(buf);
    let sep = bytes
        .windows(3)
        .position(|w| w == b"://")
        .ok_or(HeadError::BadTarget("not origin-form or absolute-form"))?;
    let scheme = bytes.get(..sep).unwrap_or(&[]);
    if !scheme.eq_ignore_ascii_case(b"http") && !scheme.eq_ignore_ascii_case(b"https") {
        return Err(HeadError::BadTarget("scheme is not http or https"));
    }
    let rest = target.skip(sep + 3);
    let rest_bytes = rest.get(buf);
    let auth_len = rest_bytes
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(rest_bytes.len());
    let authority = rest.prefix(auth_len);
    let auth_bytes = authority.get(buf);
    if auth_bytes.contains(&b'@') {
        return Err(HeadError::BadTarget("userinfo in authority"));
    }
    parse_host(auth_bytes).map_err(HeadError::BadTarget)?;
    let after = rest.skip(auth_len);
    let (path, query) = split_query(buf, after);
    Ok(Target {
        form: TargetForm::Absolute,
        path,
        query,
        authority: Some(authority),
        missing_slash: path.is_empty(),
    })
}

/// Splits `s` at the first `?` into path and query (query without the `?`).
fn split_query(buf: &[u8], s: Span) -> (Span, Option<Span>) {
    match s.get(buf).iter().position(|&b| b == b'?') {
        Some(q) => (s.prefix(q), Some(s.skip(q + 1))),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parsed target with its path, query and authority as bytes.
    type Parts = (Target, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

    fn run(t: &[u8], method: Method) -> Result<Parts, HeadError> {
        let span = Span::new(0, t.len());
        let r = parse(t, span, method)?;
        Ok((
            r,
            r.path.get(t).to_vec(),
            r.query.map(|q| q.get(t).to_vec()),
            r.authority.map(|a| a.get(t).to_vec()),
        ))
    }

    #[test]
    fn origin_form() {
        let (t, path, query, auth) = run(b"/a/b?x=1&y", Method::Get).expect("valid");
        assert_eq!(t.form, TargetForm::Origin);
        assert_eq!(path, b"/a/b");
        assert_eq!(query.as_deref(), Some(&b"x=1&y"[..]));
        assert_eq!(auth, None);
        let (_, path, query, _) = run(b"/?", Method::Get).expect("valid");
        assert_eq!((path.as_slice(), query.as_deref()), (&b"/"[..], Some(&b""[..])));
    }

    #[test]
    fn absolute_form() {
        let (t, path, query, auth) = run(b"HTTP://h.example:8080/p?q", Method::Get).expect("valid");
        assert_eq!(t.form, TargetForm::Absolute);
        assert_eq!((path.as_slice(), query.as_deref()), (&b"/p"[..], Some(&b"q"[..])));
        assert_eq!(auth.as_deref(), Some(&b"h.example:8080"[..]));
        assert!(!t.missing_slash);

        let (t, path, query, auth) = run(b"https://h?q", Method::Get).expect("valid");
        assert!(t.missing_slash);
        assert_eq!((path.as_slice(), query.as_deref()), (&b""[..], Some(&b"q"[..])));
        assert_eq!(auth.as_deref(), Some(&b"h"[..]));

        let (t, _, query, _) = run(b"http://h", Method::Get).expect("valid");
        assert!(t.missing_slash && query.is_none());
    }

    #[test]
    fn other_forms() {
        assert_eq!(run(b"*", Method::Options).map(|r| r.0.form), Ok(TargetForm::Asterisk));
        assert_eq!(
            run(b"h:443", Method::Connect).map(|r| r.0.form),
            Ok(TargetForm::Authority)
        );
    }

    #[test]
    fn rejects_bad_targets() {
        let bad: &[(&[u8], Method)] = &[
            (b"*", Method::Get),
            (b"*x", Method::Options),
            (b"example.com:80", Method::Get),
            (b"ftp://h/p", Method::Get),
            (b"http://user@h/p", Method::Get),
            (b"http://user:pw@h/p", Method::Get),
            (b"http:///p", Method::Get),
            (b"http://h%2f/p", Method::Get),
            (b"http://h:x/p", Method::Get),
            (b"http:/h/p", Method::Get),
            (b"a", Method::Get),
        ];
        for (t, m) in bad {
            assert!(run(t, *m).is_err(), "{}", String::from_utf8_lossy(t));
        }
    }
}
