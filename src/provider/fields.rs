//! Reading one object of the dynamic configuration the way Traefik's decoder (paerser) does:
//! keys matched case-insensitively, `null` values skipped as if absent, scalars accepted as text
//! or numbers (`"priority": "10"`).
//!
//! Owns key matching and scalar conversion; every error is a reason prefixed with the dotted key
//! path inside the router or service (`tls.domains[0].main: expected text, got a list`). Never
//! puts a value into a message: values may be secrets. Never decides what a key means.

use std::borrow::Cow;
use std::fmt;

use super::node::Node;

/// Keys of one router or service that were read past: unknown ones and Traefik options ringress
/// does not implement, as dotted paths (`tls.foo`).
#[derive(Debug, Default)]
pub(super) struct Notes {
    pub unknown: Vec<String>,
    pub unsupported: Vec<String>,
}

/// Where a value sits inside a router or service, formatted only when a message needs it (a
/// body of 10,000 routers should not build 100,000 path strings to report nothing).
#[derive(Clone, Copy)]
pub(super) enum At<'a> {
    /// The router or service itself.
    Top,
    /// A key under a parent: `tls.certResolver`.
    Key(&'a At<'a>, &'a str),
    /// A list item under a parent: `domains[0]`.
    Item(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    pub(super) fn key(&'a self, key: &'a str) -> At<'a> {
        At::Key(self, key)
    }

    pub(super) fn item(&'a self, index: usize) -> At<'a> {
        At::Item(self, index)
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Top => Ok(()),
            At::Key(At::Top, key) => f.write_str(key),
            At::Key(parent, key) => write!(f, "{parent}.{key}"),
            At::Item(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// `at: reason`, or just the reason at the top of a router or service.
pub(super) fn fail(at: &At<'_>, reason: &str) -> String {
    match at {
        At::Top => reason.to_owned(),
        _ => format!("{at}: {reason}"),
    }
}

fn expected(at: &At<'_>, what: &str, node: &Node) -> String {
    fail(at, &format!("expected {what}, got {}", node.kind()))
}

/// The entries of an object, or an error naming `at`.
pub(super) fn object<'a>(node: Node<'a>, at: &At<'_>) -> Result<Vec<(Cow<'a, str>, Node<'a>)>, String> {
    match node {
        Node::Map(entries) => Ok(entries),
        other => Err(expected(at, "an object", &other)),
    }
}

/// Splits an object into one slot per `known` key (matched ignoring ASCII case). Keys listed in
/// `unsupported` and any other key are noted, not errors; `null` values are skipped. A known key
/// given twice (in any case) is an error: which one to use would be a guess.
pub(super) fn pick<'a, const N: usize>(
    node: Node<'a>,
    at: &At<'_>,
    known: [&str; N],
    unsupported: &[&str],
    notes: &mut Notes,
) -> Result<[Option<Node<'a>>; N], String> {
    let mut slots: [Option<Node<'a>>; N] = std::array::from_fn(|_| None);
    for (key, value) in object(node, at)? {
        if matches!(value, Node::Null) {
            continue;
        }
        if let Some(index) = known.iter().position(|name| name.eq_ignore_ascii_case(&key)) {
            if slots[index].is_some() {
                let name = known[index];
                return Err(fail(at, &format!("`{name}` given twice (keys are case-insensitive)")));
            }
            slots[index] = Some(value);
        } else if unsupported.iter().any(|name| name.eq_ignore_ascii_case(&key)) {
            notes.unsupported.push(at.key(&key).to_string());
        } else {
            notes.unknown.push(at.key(&key).to_string());
        }
    }
    Ok(slots)
}

/// A string; numbers and booleans are read as their text, as paerser does.
pub(super) fn text(node: Node<'_>, at: &At<'_>) -> Result<String, String> {
    match node {
        Node::Text(text) => Ok(text.into_owned()),
        Node::Int(n) => Ok(n.to_string()),
        Node::UInt(n) => Ok(n.to_string()),
        Node::Float(n) => Ok(n.to_string()),
        Node::Bool(b) => Ok(b.to_string()),
        other => Err(expected(at, "text", &other)),
    }
}

/// A string and nothing else: for values no number could be (a rule).
pub(super) fn strict_text(node: Node<'_>, at: &At<'_>) -> Result<String, String> {
    match node {
        Node::Text(text) => Ok(text.into_owned()),
        other => Err(expected(at, "text", &other)),
    }
}

/// A whole number, written as a number or as text.
pub(super) fn whole(node: Node<'_>, at: &At<'_>) -> Result<i64, String> {
    const RANGE: &str = "expected a whole number between -2^63 and 2^63-1";
    match node {
        Node::Int(n) => Ok(n),
        Node::UInt(_) => Err(fail(at, RANGE)),
        // `10.0` is ten; `10.5` is not a whole number.
        Node::Float(n) if n.fract() == 0.0 && (-9.2e18..=9.2e18).contains(&n) => Ok(n as i64),
        Node::Float(_) => Err(fail(at, RANGE)),
        Node::Text(text) => text.trim().parse().map_err(|_| fail(at, RANGE)),
        other => Err(expected(at, "a whole number", &other)),
    }
}

/// A boolean, written as `true`/`false` or as text in Go's spellings (`"true"`, `"1"`, `"f"`).
pub(super) fn flag(node: Node<'_>, at: &At<'_>) -> Result<bool, String> {
    match node {
        Node::Bool(b) => Ok(b),
        Node::Text(text) => match text.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            _ => Err(fail(at, "expected true or false")),
        },
        other => Err(expected(at, "true or false", &other)),
    }
}

/// A list of strings (numbers read as text); `null` items are skipped.
pub(super) fn texts(node: Node<'_>, at: &At<'_>) -> Result<Vec<String>, String> {
    let Node::List(items) = node else {
        return Err(expected(at, "a list", &node));
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        if !matches!(item, Node::Null) {
            out.push(text(item, &at.item(index))?);
        }
    }
    Ok(out)
}

/// The items of a list, or an error naming `at`.
pub(super) fn list<'a>(node: Node<'a>, at: &At<'_>) -> Result<Vec<Node<'a>>, String> {
    match node {
        Node::List(items) => Ok(items),
        other => Err(expected(at, "a list", &other)),
    }
}
