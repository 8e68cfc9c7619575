//! `Method`: the request method, classified.
//!
//! Owns the mapping from method bytes to the enum. Must never treat methods case-insensitively
//! (RFC 9110 §9.1: methods are case-sensitive; `get` is not `GET`).

/// A request method. Anything not listed is `Other`; its bytes are in `RequestHead::method_span`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Connect,
    Trace,
    /// Any other token.
    #[default]
    Other,
}

impl Method {
    /// Classifies method bytes (already validated as a token).
    pub fn from_bytes(bytes: &[u8]) -> Method {
        match bytes {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            b"PATCH" => Method::Patch,
            b"CONNECT" => Method::Connect,
            b"TRACE" => Method::Trace,
            _ => Method::Other,
        }
    }

    /// The canonical name, or `None` for `Other`.
    pub fn as_str(&self) -> Option<&'static str> {
        Some(match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
            Method::Other => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Method;

    #[test]
    fn classifies_case_sensitively() {
        assert_eq!(Method::from_bytes(b"GET"), Method::Get);
        assert_eq!(Method::from_bytes(b"get"), Method::Other);
        assert_eq!(Method::from_bytes(b"PROPFIND"), Method::Other);
        assert_eq!(Method::Options.as_str(), Some("OPTIONS"));
        assert_eq!(Method::Other.as_str(), None);
    }
}
