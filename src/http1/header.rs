//! `Header`, `HeaderKind` and `ConnFlags`: one parsed field and the names the proxy cares about.
//!
//! Owns the classification of well-known field names. Must never look at field values (that is
//! `fields.rs`) and never allocate.

use super::span::Span;

/// One header field as offsets into the parsed buffer. The value is trimmed of surrounding OWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: Span,
    pub value: Span,
    pub kind: HeaderKind,
}

/// The field names the proxy treats specially. Matching is ASCII case-insensitive; for the
/// `X-Forwarded-*` / `X-Real-Ip` family `_` also matches `-` (servers that map headers to CGI
/// variables treat `X_Forwarded_For` as `X-Forwarded-For`, so a client must not smuggle one in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HeaderKind {
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    ProxyConnection,
    Te,
    Trailer,
    Upgrade,
    ProxyAuthorization,
    ProxyAuthenticate,
    Expect,
    XForwardedFor,
    XForwardedProto,
    XForwardedHost,
    XForwardedPort,
    XForwardedServer,
    /// Other forwarding headers an app may trust: those Traefik strips from untrusted clients
    /// (`X-Forwarded-Uri`, `-Method`, `-Tls-Client-Cert`, `-Tls-Client-Cert-Info`, `X-Scheme`,
    /// `X-Forwarded-Scheme`) and `X-Forwarded-Prefix` (used by apps to build URLs).
    XForwardedOther,
    XRealIp,
    #[default]
    Other,
}

impl HeaderKind {
    /// Classifies a field name (already validated as a token).
    pub fn of(name: &[u8]) -> HeaderKind {
        let is = |known: &[u8]| name.eq_ignore_ascii_case(known);
        let is_x = |known: &[u8]| eq_dash_underscore(name, known);
        match name.len() {
            2 if is(b"te") => HeaderKind::Te,
            4 if is(b"host") => HeaderKind::Host,
            6 if is(b"expect") => HeaderKind::Expect,
            7 if is(b"trailer") => HeaderKind::Trailer,
            7 if is(b"upgrade") => HeaderKind::Upgrade,
            8 if is_x(b"x-scheme") => HeaderKind::XForwardedOther,
            9 if is_x(b"x-real-ip") => HeaderKind::XRealIp,
            10 if is(b"connection") => HeaderKind::Connection,
            10 if is(b"keep-alive") => HeaderKind::KeepAlive,
            14 if is(b"content-length") => HeaderKind::ContentLength,
            15 if is_x(b"x-forwarded-for") => HeaderKind::XForwardedFor,
            15 if is_x(b"x-forwarded-uri") => HeaderKind::XForwardedOther,
            16 if is(b"proxy-connection") => HeaderKind::ProxyConnection,
            16 if is_x(b"x-forwarded-host") => HeaderKind::XForwardedHost,
            16 if is_x(b"x-forwarded-port") => HeaderKind::XForwardedPort,
            17 if is(b"transfer-encoding") => HeaderKind::TransferEncoding,
            17 if is_x(b"x-forwarded-proto") => HeaderKind::XForwardedProto,
            18 if is(b"proxy-authenticate") => HeaderKind::ProxyAuthenticate,
            18 if is_x(b"x-forwarded-server") => HeaderKind::XForwardedServer,
            18 if is_x(b"x-forwarded-method") => HeaderKind::XForwardedOther,
            18 if is_x(b"x-forwarded-prefix") => HeaderKind::XForwardedOther,
            18 if is_x(b"x-forwarded-scheme") => HeaderKind::XForwardedOther,
            19 if is(b"proxy-authorization") => HeaderKind::ProxyAuthorization,
            27 if is_x(b"x-forwarded-tls-client-cert") => HeaderKind::XForwardedOther,
            32 if is_x(b"x-forwarded-tls-client-cert-info") => HeaderKind::XForwardedOther,
            _ => HeaderKind::Other,
        }
    }

    /// Hop-by-hop fields: meaningful for one connection only, never forwarded as received.
    pub fn is_hop_by_hop(&self) -> bool {
        matches!(
            self,
            HeaderKind::Connection
                | HeaderKind::KeepAlive
                | HeaderKind::ProxyConnection
                | HeaderKind::Te
                | HeaderKind::Trailer
                | HeaderKind::Upgrade
                | HeaderKind::ProxyAuthorization
                | HeaderKind::ProxyAuthenticate
        )
    }

    /// Client-supplied forwarding headers, which are dropped and never trusted.
    pub fn is_forwarding(&self) -> bool {
        matches!(
            self,
            HeaderKind::XForwardedFor
                | HeaderKind::XForwardedProto
                | HeaderKind::XForwardedHost
                | HeaderKind::XForwardedPort
                | HeaderKind::XForwardedServer
                | HeaderKind::XForwardedOther
                | HeaderKind::XRealIp
        )
    }

    /// Fields a `Connection` option must not remove: they frame the message or route it, and
    /// letting a peer delete them is a smuggling primitive.
    pub(crate) fn is_protected(&self) -> bool {
        matches!(
            self,
            HeaderKind::Host | HeaderKind::ContentLength | HeaderKind::TransferEncoding
        )
    }
}

/// ASCII case-insensitive equality where `_` in `name` also matches `-` in `known`.
fn eq_dash_underscore(name: &[u8], known: &[u8]) -> bool {
    name.len() == known.len()
        && name.iter().zip(known).all(|(&a, &k)| {
            let a = if a == b'_' { b'-' } else { a };
            a.eq_ignore_ascii_case(&k)
        })
}

/// The options of the `Connection` header(s) the proxy acts on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnFlags {
    /// `close` was listed.
    pub close: bool,
    /// `keep-alive` was listed.
    pub keep_alive: bool,
    /// `upgrade` was listed.
    pub upgrade: bool,
}

#[cfg(test)]
mod tests {
    use super::HeaderKind;

    #[test]
    fn classifies_known_names() {
        let cases: &[(&[u8], HeaderKind)] = &[
            (b"Host", HeaderKind::Host),
            (b"CONTENT-LENGTH", HeaderKind::ContentLength),
            (b"transfer-encoding", HeaderKind::TransferEncoding),
            (b"Connection", HeaderKind::Connection),
            (b"Keep-Alive", HeaderKind::KeepAlive),
            (b"Proxy-Connection", HeaderKind::ProxyConnection),
            (b"TE", HeaderKind::Te),
            (b"Trailer", HeaderKind::Trailer),
            (b"Upgrade", HeaderKind::Upgrade),
            (b"Proxy-Authorization", HeaderKind::ProxyAuthorization),
            (b"Proxy-Authenticate", HeaderKind::ProxyAuthenticate),
            (b"Expect", HeaderKind::Expect),
            (b"X-Forwarded-For", HeaderKind::XForwardedFor),
            (b"x_forwarded_for", HeaderKind::XForwardedFor),
            (b"X-Forwarded-Proto", HeaderKind::XForwardedProto),
            (b"X-Forwarded-Host", HeaderKind::XForwardedHost),
            (b"X-Forwarded-Port", HeaderKind::XForwardedPort),
            (b"X-Forwarded-Server", HeaderKind::XForwardedServer),
            (b"X-Real-Ip", HeaderKind::XRealIp),
            (b"X-Real_IP", HeaderKind::XRealIp),
            (b"X-Forwarded-Tls-Client-Cert", HeaderKind::XForwardedOther),
            (b"X-Forwarded-Tls-Client-Cert-Info", HeaderKind::XForwardedOther),
            (b"X-Forwarded-Prefix", HeaderKind::XForwardedOther),
            (b"X-Scheme", HeaderKind::XForwardedOther),
            (b"Content_Length", HeaderKind::Other),
            (b"Hostname", HeaderKind::Other),
            (b"Accept", HeaderKind::Other),
        ];
        for (name, kind) in cases {
            assert_eq!(HeaderKind::of(name), *kind, "{}", String::from_utf8_lossy(name));
        }
    }
}
