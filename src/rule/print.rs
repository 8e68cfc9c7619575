//! Canonical printing of rules: the text [`super::parse`] turns back into the same AST.
//!
//! Owns operator spacing, the parentheses needed (an `Or` inside an `And`, any `And`/`Or`
//! under `!`) and the canonical matcher names. Must never print anything that parses to a
//! different tree; `SegmentPrefix` (not Traefik syntax) is printed by name but does not parse.

use std::fmt;

use super::ast::{Expr, Matcher};
use super::string::write_literal;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(operands) => join(f, operands, " && ", |e| matches!(e, Expr::Or(_) | Expr::And(_))),
            Expr::Or(operands) => join(f, operands, " || ", |e| matches!(e, Expr::Or(_))),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "!({inner})"),
                _ => write!(f, "!{inner}"),
            },
            Expr::Matcher(m) => m.fmt(f),
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, operands: &[Expr], sep: &str, parens: fn(&Expr) -> bool) -> fmt::Result {
    for (i, e) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if parens(e) {
            write!(f, "({e})")?;
        } else {
            write!(f, "{e}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, args): (&str, [Option<&str>; 2]) = match self {
            Matcher::Host(p) => ("Host", [Some(&p.written), None]),
            Matcher::HostRegexp(p) => ("HostRegexp", [Some(&p.source), None]),
            Matcher::Path(p) => ("Path", [Some(p), None]),
            Matcher::PathPrefix(p) => ("PathPrefix", [Some(p), None]),
            Matcher::PathRegexp(p) => ("PathRegexp", [Some(&p.source), None]),
            Matcher::Method(m) => ("Method", [Some(m), None]),
            Matcher::Header { name, value } => ("Header", [Some(name), Some(value)]),
            Matcher::HeaderRegexp { name, pattern } => ("HeaderRegexp", [Some(name), Some(&pattern.source)]),
            Matcher::Query { key, value } => ("Query", [Some(key), value.as_deref()]),
            Matcher::QueryRegexp { key, pattern } => ("QueryRegexp", [Some(key), pattern.as_ref().map(|p| &*p.source)]),
            Matcher::ClientIp(net) => ("ClientIP", [Some(&net.written), None]),
            Matcher::SegmentPrefix(p) => ("SegmentPrefix", [Some(p), None]),
        };
        f.write_str(name)?;
        f.write_str("(")?;
        for (i, arg) in args.iter().flatten().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_literal(f, arg)?;
        }
        f.write_str(")")
    }
}
