//! Rendering the compiled report in the shape of Traefik's `/api/rawdata`, plus a `provider` field per router.
//!
//! Rendered once per table change on the control thread, written straight into one pre-sized buffer from the
//! report (no intermediate JSON tree, no per-entry map): a 100,000-router report is tens of megabytes, so every
//! byte goes through a fast escape check and a bulk copy. The output is byte for byte what `serde_json` prints
//! for the same document (compact, keys sorted, a name reported twice keeps its last entry); the tests hold the
//! serde rendering as the reference. Workers serve the bytes as they are. Never includes secrets: the report
//! holds rules, names and server URLs only.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::compile::{Report, RouterReport, ServiceReport};
use crate::route::EntryKey;

/// Active health-check results: service name → server URL → up.
pub type Health = BTreeMap<String, BTreeMap<String, bool>>;

/// The `/api/rawdata` document as its members: each router's and each service's `"name":{…}`, rendered once when
/// the entry changes and shared between documents (persistent maps: a new document for one changed router shares
/// all the others), so publishing a document costs nothing per entry. Written out only when someone asks for it.
/// Of members that share a name the last (in key order) is shown, as a JSON map keeps its last key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rawdata {
    routers: imbl::OrdMap<EntryKey, Arc<str>>,
    services: imbl::OrdMap<EntryKey, Arc<str>>,
    /// Service members rendered with health-check states, by service name: they replace the kept member.
    checked: BTreeMap<String, Arc<str>>,
}

const HEAD: &[u8] = br#"{"routers":{"#;
const MIDDLE: &[u8] = br#"},"services":{"#;
const TAIL: &[u8] = br#"},"middlewares":{}}"#;

impl Rawdata {
    /// A document of these members, each `"name":{…}` under its entry's key.
    pub fn new(
        routers: imbl::OrdMap<EntryKey, Arc<str>>,
        services: imbl::OrdMap<EntryKey, Arc<str>>,
        checked: BTreeMap<String, Arc<str>>,
    ) -> Self {
        Rawdata {
            routers,
            services,
            checked,
        }
    }

    /// Renders every member of `report`, with each service's `serverStatus` from `health`.
    pub fn from_report(report: &Report, health: &Health) -> Self {
        let key = |name: &str, i: usize| -> EntryKey { (Arc::from(name), 0, Arc::from(format!("{i:020}"))) };
        let routers = report
            .routers
            .iter()
            .enumerate()
            .map(|(i, r)| (key(&r.name, i), router_member(r)))
            .collect();
        let services = report
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (key(&s.name, i), service_member(s, health.get(&s.name))))
            .collect();
        Rawdata::new(routers, services, BTreeMap::new())
    }

    /// The members shown, in order: the last of each name, a checked service's member replacing its own.
    fn shown<'a>(
        members: &'a imbl::OrdMap<EntryKey, Arc<str>>,
        checked: &'a BTreeMap<String, Arc<str>>,
    ) -> impl Iterator<Item = &'a Arc<str>> {
        let mut entries = members.iter().peekable();
        std::iter::from_fn(move || loop {
            let (key, member) = entries.next()?;
            if entries.peek().is_some_and(|(next, _)| next.0 == key.0) {
                continue;
            }
            return Some(checked.get(&*key.0).unwrap_or(member));
        })
    }

    /// The document's length in bytes (walks every member).
    pub fn len(&self) -> usize {
        let none = BTreeMap::new();
        let members = |m: &imbl::OrdMap<EntryKey, Arc<str>>, checked| {
            let (count, bytes) = Rawdata::shown(m, checked).fold((0usize, 0usize), |(n, b), s| (n + 1, b + s.len()));
            bytes + count.saturating_sub(1)
        };
        HEAD.len() + members(&self.routers, &none) + MIDDLE.len() + members(&self.services, &self.checked) + TAIL.len()
    }

    /// Never true: even an empty document has its three maps.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the document to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let none = BTreeMap::new();
        out.extend_from_slice(HEAD);
        join(out, Rawdata::shown(&self.routers, &none));
        out.extend_from_slice(MIDDLE);
        join(out, Rawdata::shown(&self.services, &self.checked));
        out.extend_from_slice(TAIL);
    }

    /// The document as one string.
    pub fn to_text(&self) -> String {
        let mut out = Vec::with_capacity(self.len());
        self.write_to(&mut out);
        // Members are whole strings; the rest is ASCII.
        String::from_utf8(out).unwrap_or_default()
    }
}

fn join<'a>(out: &mut Vec<u8>, members: impl Iterator<Item = &'a Arc<str>>) {
    for (i, m) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(m.as_bytes());
    }
}

/// One router's member of the document.
pub fn router_member(r: &RouterReport) -> Arc<str> {
    let mut out = Vec::with_capacity(192 + r.name.len() * 2 + r.rule.len());
    router(&mut out, r);
    to_member(out)
}

/// One service's member, with the `serverStatus` of `checked` (every server `UP` without it).
pub fn service_member(s: &ServiceReport, checked: Option<&BTreeMap<String, bool>>) -> Arc<str> {
    let mut out = Vec::with_capacity(192 + s.name.len() * 2);
    service(&mut out, s, checked);
    to_member(out)
}

fn to_member(out: Vec<u8>) -> Arc<str> {
    // Only whole UTF-8 strings and ASCII were written.
    Arc::from(String::from_utf8(out).unwrap_or_default())
}

/// The `/api/rawdata` document for `report`, with each service's Traefik `serverStatus` (every server URL, `UP` or
/// `DOWN`; only an active health check in `health` makes one `DOWN`).
pub fn render(report: &Report, health: &Health) -> String {
    Rawdata::from_report(report, health).to_text()
}

fn router(out: &mut Vec<u8>, r: &RouterReport) {
    string(out, &r.name);
    out.extend_from_slice(br#":{"rule":"#);
    string(out, &r.rule);
    out.extend_from_slice(br#","service":"#);
    string(out, &r.service);
    out.extend_from_slice(br#","priority":"#);
    integer(out, r.priority);
    if !r.entry_points.is_empty() {
        out.extend_from_slice(br#","entryPoints":"#);
        strings(out, &r.entry_points);
    }
    if let Some(tls) = &r.tls {
        out.extend_from_slice(br#","tls":"#);
        // A JSON value always serialises (its map keys are strings).
        if serde_json::to_writer(&mut *out, tls).is_err() {
            out.extend_from_slice(b"null");
        }
    }
    if !r.middlewares.is_empty() {
        out.extend_from_slice(br#","middlewares":"#);
        strings(out, &r.middlewares);
    }
    out.extend_from_slice(br#","provider":"#);
    string(out, r.provider);
    out.extend_from_slice(if r.errors.is_empty() {
        br#","status":"enabled""#
    } else {
        br#","status":"disabled""#
    });
    if !r.errors.is_empty() {
        out.extend_from_slice(br#","error":"#);
        strings(out, &r.errors);
    }
    if !r.warnings.is_empty() {
        out.extend_from_slice(br#","warning":"#);
        strings(out, &r.warnings);
    }
    out.push(b'}');
}

fn service(out: &mut Vec<u8>, s: &ServiceReport, checked: Option<&BTreeMap<String, bool>>) {
    string(out, &s.name);
    out.extend_from_slice(br#":{"loadBalancer":{"servers":["#);
    for (i, url) in s.servers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"url":"#);
        string(out, url);
        out.push(b'}');
    }
    out.extend_from_slice(br#"],"passHostHeader":"#);
    out.extend_from_slice(if s.pass_host_header { b"true" } else { b"false" });
    out.extend_from_slice(br#"},"provider":"#);
    string(out, s.provider);
    let usable = s.errors.is_empty() || !s.servers.is_empty();
    out.extend_from_slice(if usable {
        br#","status":"enabled""#
    } else {
        br#","status":"disabled""#
    });
    if !s.errors.is_empty() {
        out.extend_from_slice(br#","error":"#);
        strings(out, &s.errors);
    }
    out.extend_from_slice(br#","usedBy":"#);
    strings(out, &s.used_by);
    if !s.servers.is_empty() {
        // A map: sorted by URL, one entry per URL.
        let mut urls: Vec<&String> = s.servers.iter().collect();
        urls.sort();
        urls.dedup();
        out.extend_from_slice(br#","serverStatus":{"#);
        for (i, url) in urls.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, url);
            let up = checked.and_then(|c| c.get(url.as_str())).copied().unwrap_or(true);
            out.extend_from_slice(if up { br#":"UP""# } else { br#":"DOWN""# });
        }
        out.push(b'}');
    }
    out.push(b'}');
}

fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, item);
    }
    out.push(b']');
}

fn integer(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        // `rest % 10` is below 10.
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// Does `b` need an escape inside a JSON string (as serde_json writes one)?
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `text` as a JSON string, escaped exactly as serde_json does (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// control bytes as `\u00xx`; everything else, DEL and non-ASCII included, as is).
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.push(b'"');
    // No short-circuit: the check over the whole string vectorises.
    if !bytes.iter().fold(false, |any, &b| any | needs_escape(b)) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(br#"\""#),
            b'\\' => out.extend_from_slice(br"\\"),
            0x08 => out.extend_from_slice(br"\b"),
            0x0c => out.extend_from_slice(br"\f"),
            b'\n' => out.extend_from_slice(br"\n"),
            b'\r' => out.extend_from_slice(br"\r"),
            b'\t' => out.extend_from_slice(br"\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(br"\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    //! The reference: the same document as serde_json renders it from borrowed views in maps.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde::Serialize;

    use super::super::compile::{Report, RouterReport, ServiceReport};
    use super::Health;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct RouterView<'a> {
        rule: &'a str,
        service: &'a str,
        priority: i64,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        entry_points: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        tls: Option<&'a serde_json::Value>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        middlewares: &'a [String],
        provider: &'a str,
        status: &'a str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        error: &'a [String],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        warning: &'a [String],
    }

    #[derive(Serialize)]
    struct ServerView<'a> {
        url: &'a str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct LoadBalancerView<'a> {
        servers: Vec<ServerView<'a>>,
        pass_host_header: bool,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ServiceView<'a> {
        load_balancer: LoadBalancerView<'a>,
        provider: &'a str,
        status: &'a str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        error: &'a [String],
        used_by: &'a [String],
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        server_status: BTreeMap<&'a str, &'static str>,
    }

    #[derive(Serialize)]
    struct Document<'a> {
        routers: BTreeMap<&'a str, RouterView<'a>>,
        services: BTreeMap<&'a str, ServiceView<'a>>,
        middlewares: BTreeMap<&'a str, ()>,
    }

    fn router_view(r: &RouterReport) -> RouterView<'_> {
        RouterView {
            rule: &r.rule,
            service: &r.service,
            priority: r.priority,
            entry_points: &r.entry_points,
            tls: r.tls.as_ref(),
            middlewares: &r.middlewares,
            provider: r.provider,
            status: if r.errors.is_empty() { "enabled" } else { "disabled" },
            error: &r.errors,
            warning: &r.warnings,
        }
    }

    fn service_view<'a>(s: &'a ServiceReport, health: &'a Health) -> ServiceView<'a> {
        let checked = health.get(&s.name);
        ServiceView {
            load_balancer: LoadBalancerView {
                servers: s.servers.iter().map(|u| ServerView { url: u }).collect(),
                pass_host_header: s.pass_host_header,
            },
            provider: s.provider,
            status: if s.errors.is_empty() || !s.servers.is_empty() {
                "enabled"
            } else {
                "disabled"
            },
            error: &s.errors,
            used_by: &s.used_by,
            server_status: s
                .servers
                .iter()
                .map(|url| {
                    let up = checked.and_then(|c| c.get(url)).copied().unwrap_or(true);
                    (url.as_str(), if up { "UP" } else { "DOWN" })
                })
                .collect(),
        }
    }

    fn reference(report: &Report, health: &Health) -> String {
        let doc = Document {
            routers: report
                .routers
                .iter()
                .map(|r| (r.name.as_str(), router_view(r)))
                .collect(),
            services: report
                .services
                .iter()
                .map(|s| (s.name.as_str(), service_view(s, health)))
                .collect(),
            middlewares: BTreeMap::new(),
        };
        serde_json::to_string(&doc).expect("serialises")
    }

    fn router(name: &str, rule: &str) -> RouterReport {
        RouterReport {
            name: name.to_string(),
            provider: "http",
            rule: rule.to_string(),
            service: "s@http".to_string(),
            priority: rule.len() as i64,
            entry_points: vec!["web".to_string()],
            tls: None,
            middlewares: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn service(name: &str, servers: &[&str]) -> ServiceReport {
        ServiceReport {
            name: name.to_string(),
            provider: "http",
            servers: servers.iter().map(|s| s.to_string()).collect(),
            pass_host_header: true,
            errors: Vec::new(),
            used_by: Vec::new(),
        }
    }

    #[test]
    fn empty_report_renders_like_serde() {
        let report = Report::default();
        let none = Health::new();
        assert_eq!(super::render(&report, &none), reference(&report, &none));
        assert_eq!(
            super::render(&report, &none),
            r#"{"routers":{},"services":{},"middlewares":{}}"#
        );
    }

    #[test]
    fn every_field_and_escape_renders_like_serde() {
        let mut odd = router(
            "b@http",
            "Host(`x`) && Header(`X`, \"a\\\"b\\\\c\\n\\t\\r\u{8}\u{c}\u{1}\u{1f}\u{7f}é😀\")",
        );
        odd.priority = -9_223_372_036_854_775_808;
        odd.entry_points.clear();
        odd.tls = Some(serde_json::json!({"certResolver": "le", "domains": [{"main": "a\"b", "sans": []}]}));
        odd.middlewares = vec!["auth@http".to_string(), "q\"uote".to_string()];
        odd.errors = vec!["bad \"thing\"".to_string(), "other".to_string()];
        odd.warnings = vec!["unknown key \"x\\y\" ignored".to_string()];
        let mut max = router("c\u{0}@routes", "Host(`c`)");
        max.priority = i64::MAX;
        max.provider = "routes";
        let mut zero = router("a@http", "");
        zero.priority = 0;
        let mut broken = service("t@http", &[]);
        broken.errors = vec!["service type \"weighted\" is not supported".to_string()];
        broken.pass_host_header = false;
        let mut half = service("u@http", &["http://10.0.0.1:80", "https://x"]);
        half.errors = vec!["server \"https://x\": scheme".to_string()];
        half.used_by = vec!["a@http".to_string(), "b@http".to_string()];
        let report = Report {
            routers: vec![odd, max, zero, router("d@http", "Host(`d`)")]
                .into_iter()
                .map(Arc::new)
                .collect(),
            services: vec![
                broken,
                half,
                service("s@http", &["http://[::1]:81"]),
                service("w@http", &["http://b:2", "http://a:1", "http://b:2"]),
            ]
            .into_iter()
            .map(Arc::new)
            .collect(),
        };
        let mut health = Health::new();
        health.insert(
            "w@http".into(),
            [("http://a:1".to_string(), false)].into_iter().collect(),
        );
        health.insert(
            "gone@http".into(),
            [("http://z:9".to_string(), false)].into_iter().collect(),
        );
        let rendered = super::render(&report, &health);
        assert_eq!(rendered, reference(&report, &health));
        assert!(
            rendered.contains(r#""serverStatus":{"http://a:1":"DOWN","http://b:2":"UP"}"#),
            "{rendered}"
        );
    }

    #[test]
    fn names_out_of_order_or_repeated_render_like_a_map() {
        let mut second = router("a@http", "Host(`second`)");
        second.errors = vec!["same name".to_string()];
        let report = Report {
            routers: vec![
                router("z@http", "Host(`z`)"),
                router("a@http", "Host(`first`)"),
                router("m@http", "Host(`m`)"),
                second,
                router("a-b@http", "Host(`ab`)"),
            ]
            .into_iter()
            .map(Arc::new)
            .collect(),
            services: vec![
                service("y@http", &[]),
                service("x@http", &["http://a:1"]),
                service("y@http", &["http://b:2"]),
            ]
            .into_iter()
            .map(Arc::new)
            .collect(),
        };
        let rendered = super::render(&report, &Health::new());
        assert_eq!(rendered, reference(&report, &Health::new()));
        assert!(
            rendered.contains("second") && !rendered.contains("first"),
            "the last one wins"
        );
    }
}
