//! One `http.routers.<name>` entry: its typed form and how it is read.
//!
//! Owns the router keys ringress understands (`rule`, `service`, `entryPoints`, `priority`,
//! `tls`, `middlewares`) and the Traefik router options it knowingly ignores. Never parses the
//! rule language (that is `rule`'s job) and never checks that a named service or entrypoint
//! exists (the route table does, with all routers in view).

use super::fields::{self, At, Notes};
use super::node::Node;

/// A router as the control plane wrote it, shape-checked only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConf {
    /// `rule`, in Traefik's rule language; never empty.
    pub rule: String,
    /// `service`: a service name, without `@http` unless the control plane wrote one.
    pub service: Option<String>,
    /// `entryPoints`; `None` when absent or empty, which Traefik reads as "every entrypoint".
    pub entry_points: Option<Vec<String>>,
    /// `priority`; `None` when absent (Traefik then uses the rule's length; `0` means the same).
    pub priority: Option<i64>,
    /// `tls`; present (even as `{}`) means the router serves HTTPS only.
    pub tls: Option<TlsConf>,
    /// `middlewares`: names, in order.
    pub middlewares: Vec<String>,
}

/// A router's `tls` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConf {
    /// `certResolver`: the `certificatesResolvers` entry that obtains the certificate.
    pub cert_resolver: Option<String>,
    /// `domains`: names to order instead of the rule's `Host()` names.
    pub domains: Vec<Domain>,
    /// `options`: a TLS options name (Traefik's default is `default`).
    pub options: Option<String>,
}

/// One `tls.domains` entry: one certificate for `main` plus `sans`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// `main`: the certificate's first name.
    pub main: String,
    /// `sans`: further names on the same certificate.
    pub sans: Vec<String>,
}

const KEYS: [&str; 6] = ["rule", "service", "entryPoints", "priority", "tls", "middlewares"];
/// Traefik router options ringress reads past.
const UNSUPPORTED: &[&str] = &["ruleSyntax", "observability", "parentRefs"];

/// Reads one router; the error is the reason it is unusable, naming the key inside the router.
pub(super) fn decode(node: Node<'_>, notes: &mut Notes) -> Result<RouterConf, String> {
    let top = At::Top;
    let [rule, service, entry_points, priority, tls, middlewares] = fields::pick(node, &top, KEYS, UNSUPPORTED, notes)?;
    let rule = match rule {
        Some(rule) => fields::strict_text(rule, &top.key("rule"))?,
        None => String::new(),
    };
    if rule.trim().is_empty() {
        return Err("rule: missing (required)".to_owned());
    }
    let entry_points = match entry_points {
        Some(list) => Some(fields::texts(list, &top.key("entryPoints"))?).filter(|names| !names.is_empty()),
        None => None,
    };
    Ok(RouterConf {
        rule,
        service: service
            .map(|name| fields::text(name, &top.key("service")))
            .transpose()?,
        entry_points,
        priority: priority.map(|n| fields::whole(n, &top.key("priority"))).transpose()?,
        tls: tls
            .map(|section| decode_tls(section, &top.key("tls"), notes))
            .transpose()?,
        middlewares: match middlewares {
            Some(list) => fields::texts(list, &top.key("middlewares"))?,
            None => Vec::new(),
        },
    })
}

fn decode_tls(node: Node<'_>, at: &At<'_>, notes: &mut Notes) -> Result<TlsConf, String> {
    let [cert_resolver, domains, options] = fields::pick(node, at, ["certResolver", "domains", "options"], &[], notes)?;
    let mut decoded = Vec::new();
    if let Some(list) = domains {
        let domains_at = at.key("domains");
        for (index, item) in fields::list(list, &domains_at)?.into_iter().enumerate() {
            if !matches!(item, Node::Null) {
                decoded.push(decode_domain(item, &domains_at.item(index), notes)?);
            }
        }
    }
    Ok(TlsConf {
        cert_resolver: cert_resolver
            .map(|name| fields::text(name, &at.key("certResolver")))
            .transpose()?,
        domains: decoded,
        options: options.map(|name| fields::text(name, &at.key("options"))).transpose()?,
    })
}

fn decode_domain(node: Node<'_>, at: &At<'_>, notes: &mut Notes) -> Result<Domain, String> {
    let [main, sans] = fields::pick(node, at, ["main", "sans"], &[], notes)?;
    let main = match main {
        Some(main) => fields::text(main, &at.key("main"))?,
        None => return Err(fields::fail(&at.key("main"), "missing (required)")),
    };
    let sans = match sans {
        Some(list) => fields::texts(list, &at.key("sans"))?,
        None => Vec::new(),
    };
    Ok(Domain { main, sans })
}
