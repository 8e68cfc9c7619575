//! The rule AST: what a parsed rule is, as data.
//!
//! Owns the shape of expressions and matchers and their equality (regexps compare by pattern
//! text, so a printed and re-parsed rule compares equal). Must never parse, print or evaluate:
//! `parser.rs`, `print.rs` and `eval.rs` do that.

use std::net::IpAddr;

use regex::bytes::Regex;

/// A rule expression. `And` and `Or` hold at least two operands and never an operand of their
/// own kind (`a && (b && c)` is flattened to one `And` of three), so printing and re-parsing
/// gives the same tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<[Expr]>),
    Or(Box<[Expr]>),
    Not(Box<Expr>),
    Matcher(Matcher),
}

/// One matcher call with its validated, pre-processed arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Matcher {
    Host(HostPattern),
    HostRegexp(Pattern),
    Path(String),
    PathPrefix(String),
    PathRegexp(Pattern),
    /// Upper-cased, compared case-sensitively with the request method.
    Method(String),
    Header {
        name: String,
        value: String,
    },
    HeaderRegexp {
        name: String,
        pattern: Pattern,
    },
    /// `value: None` is the one-argument form, which requires the key with an empty value.
    Query {
        key: String,
        value: Option<String>,
    },
    /// `pattern: None` is the one-argument form, the same as `Query(key)`.
    QueryRegexp {
        key: String,
        pattern: Option<Pattern>,
    },
    ClientIp(IpNet),
    /// Whole-segment path prefix (route files only; not reachable from Traefik syntax).
    SegmentPrefix(String),
}

/// A `Host` argument: as written (for printing) and in matching form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    pub written: String,
    pub kind: HostKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// `Host(`*`)`: any non-empty host.
    Any,
    /// Lower-case, no trailing dot; IPv6 literals bracketed in canonical form (`[::1]`).
    Exact(String),
    /// `*.example.com` stored as `.example.com`: exactly one label before it.
    Wildcard(String),
}

/// A compiled regular expression; equal when the pattern text is equal.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub source: String,
    pub regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

/// A `ClientIP` argument: one address (`prefix == None`) or a network (address masked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpNet {
    pub written: String,
    pub addr: IpAddr,
    pub prefix: Option<u8>,
}
