//! Warnings for keys the loader ignored.
//!
//! Owns the list of Traefik static options that ringress knowingly does not implement, so an
//! operator's `traefik.yml` keeps running and the warning says "not supported" rather than
//! "unknown key" (which usually means a typo). Never turns an ignored key into an error.

use super::key_path::{self, Segment};

/// Traefik static options ringress does not implement, as dotted key paths where `*` stands
/// for any one entrypoint or resolver name, with an optional hint for the operator. A key
/// matches when one of these is a prefix of its path.
const UNSUPPORTED: &[(&str, Option<&str>)] = &[
    ("api", Some("ringress serves its own ops endpoints on `ringress.admin`")),
    (
        "ping",
        Some("ringress serves its own ops endpoints on `ringress.admin`"),
    ),
    (
        "metrics",
        Some("ringress serves its own ops endpoints on `ringress.admin`"),
    ),
    ("accessLog.filters", None),
    ("accessLog.fields", None),
    ("accessLog.addInternals", None),
    ("accessLog.otlp", None),
    ("tracing", None),
    ("experimental", None),
    ("global", None),
    ("hostResolver", None),
    ("spiffe", None),
    ("ocsp", None),
    ("core", None),
    ("tcpServersTransport", None),
    ("log.filePath", None),
    ("log.format", None),
    ("log.noColor", None),
    ("log.maxSize", None),
    ("log.maxAge", None),
    ("log.maxBackups", None),
    ("log.compress", None),
    ("providers.providersThrottleDuration", None),
    ("providers.http.tls", None),
    ("providers.http.maxResponseBodySize", None),
    ("providers.docker", None),
    ("providers.swarm", None),
    ("providers.file", None),
    ("providers.kubernetesCRD", None),
    ("providers.kubernetesIngress", None),
    ("providers.kubernetesIngressNGINX", None),
    ("providers.kubernetesGateway", None),
    ("providers.rest", None),
    ("providers.consul", None),
    ("providers.consulCatalog", None),
    ("providers.nomad", None),
    ("providers.ecs", None),
    ("providers.etcd", None),
    ("providers.redis", None),
    ("providers.zooKeeper", None),
    ("providers.plugin", None),
    ("serversTransport.insecureSkipVerify", None),
    ("serversTransport.rootCAs", None),
    ("serversTransport.spiffe", None),
    ("serversTransport.forwardingTimeouts.readIdleTimeout", None),
    ("serversTransport.forwardingTimeouts.pingTimeout", None),
    ("entryPoints.*.asDefault", None),
    ("entryPoints.*.allowACMEByPass", None),
    ("entryPoints.*.reusePort", None),
    ("entryPoints.*.observability", None),
    ("entryPoints.*.http2", None),
    ("entryPoints.*.http3", None),
    ("entryPoints.*.udp", None),
    ("entryPoints.*.proxyProtocol", None),
    ("entryPoints.*.forwardedHeaders.connection", None),
    (
        "entryPoints.*.http.tls",
        Some("routers ask for TLS with their own `tls` section"),
    ),
    ("entryPoints.*.http.middlewares", None),
    ("entryPoints.*.http.encodeQuerySemicolons", None),
    ("entryPoints.*.http.sanitizePath", None),
    ("entryPoints.*.http.encodedCharacters", None),
    (
        "entryPoints.*.http.maxHeaderBytes",
        Some("use `ringress.limits.maxHeaderBytes`"),
    ),
    ("entryPoints.*.http.redirections.entryPoint.priority", None),
    ("entryPoints.*.transport.keepAliveMaxTime", None),
    ("entryPoints.*.transport.keepAliveMaxRequests", None),
    ("entryPoints.*.transport.lifeCycle.requestAcceptGraceTimeout", None),
    ("certificatesResolvers.*.tailscale", None),
    (
        "certificatesResolvers.*.acme.tlsChallenge",
        Some("only httpChallenge is supported"),
    ),
    (
        "certificatesResolvers.*.acme.dnsChallenge",
        Some("only httpChallenge is supported"),
    ),
    ("certificatesResolvers.*.acme.httpChallenge.delay", None),
    ("certificatesResolvers.*.acme.certificatesDuration", None),
    ("certificatesResolvers.*.acme.preferredChain", None),
    ("certificatesResolvers.*.acme.profile", None),
    ("certificatesResolvers.*.acme.emailAddresses", None),
    ("certificatesResolvers.*.acme.disableCommonName", None),
    ("certificatesResolvers.*.acme.eab", None),
    ("certificatesResolvers.*.acme.caCertificates", None),
    ("certificatesResolvers.*.acme.caSystemCertPool", None),
    ("certificatesResolvers.*.acme.caServerName", None),
    ("certificatesResolvers.*.acme.clientTimeout", None),
    ("certificatesResolvers.*.acme.clientResponseHeaderTimeout", None),
];

/// The warning for a key serde did not use: "not supported" for a known Traefik option,
/// "unknown key" otherwise. Both name the full dotted key path.
pub(super) fn ignored_key_warning(path: &serde_ignored::Path<'_>) -> String {
    let segments = key_path::from_ignored(path);
    let key = key_path::dotted(&segments);
    match UNSUPPORTED.iter().find(|(pattern, _)| matches(pattern, &segments)) {
        Some((_, Some(hint))) => {
            format!("`{key}`: Traefik option not supported by ringress (ignored; {hint})")
        }
        Some((_, None)) => format!("`{key}`: Traefik option not supported by ringress (ignored)"),
        None => format!("unknown key `{key}` (ignored)"),
    }
}

/// True when every `.`-separated part of `pattern` matches the path's keys in order.
fn matches(pattern: &str, segments: &[Segment]) -> bool {
    let parts: Vec<&str> = pattern.split('.').collect();
    parts.len() <= segments.len()
        && parts.iter().zip(segments).all(|(part, segment)| match segment {
            Segment::Key(name) => *part == "*" || part == name,
            Segment::Index(_) => false,
        })
}
