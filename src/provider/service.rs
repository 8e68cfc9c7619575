//! One `http.services.<name>` entry: its typed form and how it is read.
//!
//! Owns the service types (exactly one per service, as in Traefik), the `loadBalancer` keys
//! ringress understands and the options it knowingly ignores. Never resolves or parses server
//! URLs (the route table does) and never interprets `healthCheck` (kept raw for the health
//! checker). [`fmt::Debug`] never prints `healthCheck`: it may carry header values.

use std::fmt;

use super::fields::{self, At, Notes};
use super::node::Node;

/// A service as the control plane wrote it, shape-checked only.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConf {
    /// Which of Traefik's service types it is.
    pub kind: ServiceKind,
}

/// Traefik's service types; ringress forwards through `loadBalancer` only.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    /// `loadBalancer`.
    LoadBalancer(LoadBalancer),
    /// A Traefik type ringress does not implement, in Traefik's spelling: `"weighted"`,
    /// `"mirroring"`, `"failover"` or `"highestRandomWeight"`. Routers using it cannot forward.
    Unsupported(&'static str),
}

/// A `loadBalancer` service.
#[derive(Clone, PartialEq)]
pub struct LoadBalancer {
    /// `servers`, in order; may be empty (Traefik then answers 503).
    pub servers: Vec<ServerConf>,
    /// `passHostHeader`, default true: send the client's `Host` upstream.
    pub pass_host_header: bool,
    /// `healthCheck`, unparsed. May contain header values: never log it.
    pub health_check: Option<serde_json::Value>,
}

impl fmt::Debug for LoadBalancer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadBalancer")
            .field("servers", &self.servers)
            .field("pass_host_header", &self.pass_host_header)
            .field("health_check", &self.health_check.as_ref().map(|_| "<not shown>"))
            .finish()
    }
}

/// One `loadBalancer.servers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConf {
    /// `url`, e.g. `http://10.50.0.2:24207`; never empty, otherwise unchecked.
    pub url: String,
    /// `weight`; `None` when absent (Traefik's default is 1; `<= 0` takes the server out).
    pub weight: Option<i64>,
}

/// Service types in Traefik's spelling; the first is the one ringress implements.
const TYPES: [&str; 5] = [
    "loadBalancer",
    "weighted",
    "mirroring",
    "failover",
    "highestRandomWeight",
];
const LB_KEYS: [&str; 4] = ["servers", "passHostHeader", "healthCheck", "strategy"];
const LB_UNSUPPORTED: &[&str] = &["sticky", "passiveHealthCheck", "responseForwarding", "serversTransport"];

/// Reads one service; the error is the reason it is unusable, naming the key inside it.
pub(super) fn decode(node: Node<'_>, notes: &mut Notes) -> Result<ServiceConf, String> {
    let top = At::Top;
    let slots = fields::pick(node, &top, TYPES, &[], notes)?;
    let mut given = TYPES
        .iter()
        .zip(slots)
        .filter_map(|(name, slot)| slot.map(|node| (*name, node)));
    let Some((name, section)) = given.next() else {
        return Err(format!("no service type defined (expected `{}`)", TYPES[0]));
    };
    if let Some((other, _)) = given.next() {
        return Err(format!(
            "more than one service type (`{name}` and `{other}`); a service has exactly one"
        ));
    }
    if name != TYPES[0] {
        notes.unsupported.push(name.to_owned());
        return Ok(ServiceConf {
            kind: ServiceKind::Unsupported(name),
        });
    }
    Ok(ServiceConf {
        kind: ServiceKind::LoadBalancer(decode_load_balancer(section, &top.key(name), notes)?),
    })
}

fn decode_load_balancer(node: Node<'_>, at: &At<'_>, notes: &mut Notes) -> Result<LoadBalancer, String> {
    let [servers, pass_host_header, health_check, strategy] = fields::pick(node, at, LB_KEYS, LB_UNSUPPORTED, notes)?;
    if let Some(strategy) = strategy {
        let strategy_at = at.key("strategy");
        if !fields::text(strategy, &strategy_at)?.eq_ignore_ascii_case("wrr") {
            // Only weighted round robin is implemented; other strategies still forward.
            notes.unsupported.push(strategy_at.to_string());
        }
    }
    let mut decoded = Vec::new();
    if let Some(list) = servers {
        let servers_at = at.key("servers");
        for (index, item) in fields::list(list, &servers_at)?.into_iter().enumerate() {
            if !matches!(item, Node::Null) {
                decoded.push(decode_server(item, &servers_at.item(index), notes)?);
            }
        }
    }
    Ok(LoadBalancer {
        servers: decoded,
        pass_host_header: match pass_host_header {
            Some(flag) => fields::flag(flag, &at.key("passHostHeader"))?,
            None => true,
        },
        health_check: health_check.map(Node::into_value),
    })
}

fn decode_server(node: Node<'_>, at: &At<'_>, notes: &mut Notes) -> Result<ServerConf, String> {
    let [url, weight, preserve_path] = fields::pick(node, at, ["url", "weight", "preservePath"], &[], notes)?;
    let url_at = at.key("url");
    let url = match url {
        Some(url) => fields::text(url, &url_at)?,
        None => String::new(),
    };
    if url.trim().is_empty() {
        return Err(fields::fail(&url_at, "missing (required)"));
    }
    if let Some(flag) = preserve_path {
        let flag_at = at.key("preservePath");
        if fields::flag(flag, &flag_at)? {
            notes.unsupported.push(flag_at.to_string());
        }
    }
    Ok(ServerConf {
        url,
        weight: weight.map(|n| fields::whole(n, &at.key("weight"))).transpose()?,
    })
}
