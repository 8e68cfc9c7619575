//! `Rule`: a parsed rule with its source text and priority, the unit routers hold.
//!
//! Owns the public entry points ([`parse`], [`segment_prefix_rule`]) and the host set a rule
//! implies ([`Rule::hosts`]), which the route table indexes on. Must never allocate in
//! [`Rule::matches`].

use std::fmt;

use super::ast::{Expr, HostKind, HostPattern, Matcher};
use super::error::RuleError;
use super::parser::parse_expr;
use super::view::RequestView;

/// A parsed rule. Cheap to share (`Send + Sync`); cloning copies the tree (regexes are shared,
/// but each clone gets its own regex cache pool).
#[derive(Clone, Debug)]
pub struct Rule {
    expr: Expr,
    source: Box<str>,
    priority: i64,
}

/// Two rules are equal when their trees are (source text and priority are not compared).
impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.expr == other.expr
    }
}

/// Parses a Traefik v3 rule. Regexps are compiled here (size-limited); any error names the
/// byte offset it was found at.
pub fn parse(rule: &str) -> Result<Rule, RuleError> {
    let expr = parse_expr(rule)?;
    Ok(Rule {
        expr,
        source: rule.into(),
        priority: i64::try_from(rule.len()).unwrap_or(i64::MAX),
    })
}

/// The rule of a route-file route: `Host(host) && SegmentPrefix(prefix)` (`SegmentPrefix("")`
/// matches every path). `host` is a normalised route host (`x.com`, `[::1]`). Its priority is
/// the length of ``Host(`host`) && PathPrefix(`prefix`)``, so longer prefixes win and a
/// route file beats a bare `Host` router of the same host.
pub fn segment_prefix_rule(host: &str, prefix: &str) -> Rule {
    let kind = match super::build::host_kind(host) {
        Ok(kind) => kind,
        // A non-ASCII host cannot come from a route file; keep it as an exact never-match.
        Err(_) => HostKind::Exact(host.to_owned()),
    };
    let host_matcher = Expr::Matcher(Matcher::Host(HostPattern {
        written: host.to_owned(),
        kind,
    }));
    let expr = Expr::And(Box::new([
        host_matcher,
        Expr::Matcher(Matcher::SegmentPrefix(prefix.to_owned())),
    ]));
    let traefik_form = format!("Host(`{host}`) && PathPrefix(`{prefix}`)");
    let priority = i64::try_from(traefik_form.len()).unwrap_or(i64::MAX);
    let source = format!("Host(`{host}`) && SegmentPrefix(`{prefix}`)");
    Rule {
        expr,
        source: source.into(),
        priority,
    }
}

impl Rule {
    /// Does the request match? Never allocates.
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        self.expr.matches(req)
    }

    /// Default priority: the rule's length in bytes (Traefik), or the route-file formula.
    pub fn priority(&self) -> i64 {
        self.priority
    }

    /// The rule text as given to [`parse`].
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Does any matcher of the rule use a regex (`HostRegexp`, `PathRegexp`, `HeaderRegexp`, `QueryRegexp`)?
    pub fn has_regex(&self) -> bool {
        fn walk(expr: &Expr) -> bool {
            match expr {
                Expr::And(operands) | Expr::Or(operands) => operands.iter().any(walk),
                Expr::Not(inner) => walk(inner),
                Expr::Matcher(m) => matches!(
                    m,
                    Matcher::HostRegexp(_)
                        | Matcher::PathRegexp(_)
                        | Matcher::HeaderRegexp { .. }
                        | Matcher::QueryRegexp { pattern: Some(_), .. }
                ),
            }
        }
        walk(&self.expr)
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Normalised hosts such that "rule matches ⇒ request host ∈ set", or `None` when the rule
    /// does not pin the host to a finite set (no `Host`, wildcards, `HostRegexp`, negation).
    /// Sorted, without duplicates. `Some(empty)` means the rule can never match.
    pub fn hosts(&self) -> Option<Vec<String>> {
        let mut hosts = hosts_of(&self.expr)?;
        hosts.sort();
        hosts.dedup();
        Some(hosts)
    }

    /// Does every request whose host is one of [`Rule::hosts`] match? True for rules made of exact `Host()` names
    /// joined by `||` and `&&`, optionally with `SegmentPrefix("")` (a route-file route for a whole host): once the
    /// exact-host index has found such a rule under the request's host, evaluating it again can only say yes.
    /// Conservative: `false` whenever another matcher takes part, even one that would always hold.
    pub fn decided_by_host(&self) -> bool {
        decided_by_host(&self.expr)
    }
}

/// See [`Rule::decided_by_host`]. For `||`, the index key came from some operand's host set and that operand
/// holds; for `&&`, the key lies in every pinning operand's set (see [`hosts_of`]) and each of them holds.
fn decided_by_host(expr: &Expr) -> bool {
    match expr {
        Expr::Matcher(Matcher::Host(HostPattern {
            kind: HostKind::Exact(host),
            ..
        })) => !host.is_empty(),
        Expr::Matcher(Matcher::SegmentPrefix(prefix)) => prefix.is_empty(),
        Expr::Matcher(_) | Expr::Not(_) => false,
        Expr::And(operands) | Expr::Or(operands) => operands.iter().all(decided_by_host),
    }
}

impl Rule {
    /// Every exact `Host()` name the rule mentions outside a negation, sorted and deduplicated: the names a
    /// certificate for this rule must cover (Traefik's domain extraction). Wildcards and `HostRegexp` are left out.
    pub fn named_hosts(&self) -> Vec<String> {
        let mut out = Vec::new();
        named_hosts(&self.expr, &mut out);
        out.sort();
        out.dedup();
        out
    }
}

fn named_hosts(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Matcher(Matcher::Host(HostPattern {
            kind: HostKind::Exact(host),
            ..
        })) => out.push(host.clone()),
        Expr::Matcher(_) | Expr::Not(_) => {}
        Expr::Or(operands) | Expr::And(operands) => operands.iter().for_each(|o| named_hosts(o, out)),
    }
}

fn hosts_of(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Matcher(Matcher::Host(HostPattern {
            kind: HostKind::Exact(host),
            ..
        })) => Some(vec![host.clone()]),
        Expr::Matcher(_) | Expr::Not(_) => None,
        Expr::Or(operands) => {
            let mut union = Vec::new();
            for operand in operands.iter() {
                union.extend(hosts_of(operand)?);
            }
            Some(union)
        }
        Expr::And(operands) => {
            let mut sets = operands.iter().filter_map(hosts_of);
            let mut result = sets.next()?;
            for set in sets {
                result.retain(|h| set.contains(h));
            }
            Some(result)
        }
    }
}

impl fmt::Display for Rule {
    /// Canonical form; for parsed rules it parses back to an equal rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}
