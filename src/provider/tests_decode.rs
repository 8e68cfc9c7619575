//! [`decode`]: Traefik dynamic JSON to [`Dynamic`], including what a bad entry does to its
//! neighbours and how fast a large body decodes.

use std::collections::BTreeMap;

use super::*;

const EXAMPLE: &str = r#"{"http":{"routers":{"83a6":{"rule":"Host(`my-app.route.example`) || Host(`custom.example.com`)","service":"83a6","tls":{"certResolver":"letsencrypt"}}},"services":{"83a6":{"loadBalancer":{"servers":[{"url":"http://10.50.0.2:24207"}]}}}}}"#;

fn ok(body: &str) -> Dynamic {
    match decode(body.as_bytes()) {
        Ok(dynamic) => dynamic,
        Err(error) => panic!("should decode: {error}"),
    }
}

fn err(body: &[u8]) -> DecodeError {
    match decode(body) {
        Ok(dynamic) => panic!("should fail, got {dynamic:?}"),
        Err(error) => error,
    }
}

fn router<'a>(dynamic: &'a Dynamic, name: &str) -> &'a RouterConf {
    match dynamic.routers.get(name) {
        Some(router) => router,
        None => panic!("router {name} missing from {dynamic:?}"),
    }
}

fn load_balancer<'a>(dynamic: &'a Dynamic, name: &str) -> &'a LoadBalancer {
    match dynamic.services.get(name).map(|service| &service.kind) {
        Some(ServiceKind::LoadBalancer(lb)) => lb,
        other => panic!("service {name}: expected a load balancer, got {other:?}"),
    }
}

fn rejected(dynamic: &Dynamic) -> Vec<String> {
    dynamic.invalid.iter().map(ToString::to_string).collect()
}

fn simple_router(rule: &str) -> RouterConf {
    RouterConf {
        rule: rule.to_owned(),
        service: None,
        entry_points: None,
        priority: None,
        tls: None,
        middlewares: Vec::new(),
    }
}

#[test]
fn the_control_plane_example() {
    let dynamic = ok(EXAMPLE);
    let expected_router = RouterConf {
        rule: "Host(`my-app.route.example`) || Host(`custom.example.com`)".into(),
        service: Some("83a6".into()),
        tls: Some(TlsConf {
            cert_resolver: Some("letsencrypt".into()),
            ..TlsConf::default()
        }),
        ..simple_router("")
    };
    let expected_service = ServiceConf {
        kind: ServiceKind::LoadBalancer(LoadBalancer {
            servers: vec![ServerConf {
                url: "http://10.50.0.2:24207".into(),
                weight: None,
            }],
            pass_host_header: true,
            health_check: None,
        }),
    };
    let expected = Dynamic {
        routers: BTreeMap::from([("83a6".to_owned(), expected_router)]),
        services: BTreeMap::from([("83a6".to_owned(), expected_service)]),
        ..Dynamic::default()
    };
    assert_eq!(dynamic, expected);
}

#[test]
fn keys_are_case_insensitive() {
    let body = r#"{"HTTP":{"Routers":{"r":{"RULE":"Host(`a`)","Service":"s","EntryPoints":["websecure"],
        "tls":{"CERTRESOLVER":"le","Domains":[{"MAIN":"a","SANS":["b"]}],"Options":"modern"}}},
        "SERVICES":{"s":{"loadbalancer":{"SERVERS":[{"URL":"http://x:1","Weight":2}],"passhostheader":false}}}}}"#;
    let dynamic = ok(body);
    assert_eq!(dynamic.warnings, Vec::<String>::new());
    let expected = RouterConf {
        service: Some("s".into()),
        entry_points: Some(vec!["websecure".into()]),
        tls: Some(TlsConf {
            cert_resolver: Some("le".into()),
            domains: vec![Domain {
                main: "a".into(),
                sans: vec!["b".into()],
            }],
            options: Some("modern".into()),
        }),
        ..simple_router("Host(`a`)")
    };
    assert_eq!(router(&dynamic, "r"), &expected);
    let lb = load_balancer(&dynamic, "s");
    assert_eq!(lb.servers[0].weight, Some(2));
    assert!(!lb.pass_host_header);
}

#[test]
fn scalars_may_be_text_or_numbers() {
    let body = r#"{"http":{"routers":{"r":{"rule":"Host(`a`)","service":83,"priority":"10","middlewares":["m",7]},
        "n":{"rule":"Host(`b`)","priority":-3},"f":{"rule":"Host(`c`)","priority":12.0}},
        "services":{"s":{"loadBalancer":{"servers":[{"url":"http://x:1","weight":"3"}],"passHostHeader":"false"}}}}}"#;
    let dynamic = ok(body);
    let r = router(&dynamic, "r");
    assert_eq!(r.priority, Some(10));
    assert_eq!(r.service.as_deref(), Some("83"));
    assert_eq!(r.middlewares, ["m", "7"]);
    assert_eq!(router(&dynamic, "n").priority, Some(-3));
    assert_eq!(router(&dynamic, "f").priority, Some(12));
    let lb = load_balancer(&dynamic, "s");
    assert_eq!(lb.servers[0].weight, Some(3));
    assert!(!lb.pass_host_header);
}

#[test]
fn nulls_are_absent() {
    let body = r#"{"tcp":null,"http":{"routers":{"r":{"rule":"Host(`a`)","service":null,"tls":null,
        "priority":null,"entryPoints":null,"foo":null},"gone":null},"services":null,"middlewares":null}}"#;
    let dynamic = ok(body);
    assert_eq!(dynamic.routers.len(), 1);
    assert_eq!(router(&dynamic, "r"), &simple_router("Host(`a`)"));
    assert!(dynamic.warnings.is_empty() && dynamic.invalid.is_empty());
    assert_eq!(ok(r#"{"http":null}"#), Dynamic::default());
    // `tls: {}` is not `tls: null`: it makes the router HTTPS-only.
    let dynamic = ok(r#"{"http":{"routers":{"r":{"rule":"Host(`a`)","tls":{}}}}}"#);
    assert_eq!(router(&dynamic, "r").tls, Some(TlsConf::default()));
}

#[test]
fn unknown_top_level_keys_are_ignored() {
    let body = r#"{"anything":[1,2],"udp":{},"tls":{"certificates":[]},"tcp":{"routers":{}},"http":{"routers":{"r":{"rule":"Host(`a`)"}}}}"#;
    let dynamic = ok(body);
    assert_eq!(dynamic.routers.len(), 1);
    assert_eq!(
        dynamic.warnings,
        [
            "section \"tls\" not supported by ringress (ignored)",
            "section \"tcp\" not supported by ringress (ignored)"
        ]
    );
    assert_eq!(ok(r#"{"tcp":{},"whatever":true}"#), Dynamic::default());
}

#[test]
fn empty_body_is_an_error() {
    assert_eq!(err(b""), DecodeError::Empty);
    assert_eq!(err(b" \r\n\t"), DecodeError::Empty);
    assert_eq!(err(b"\xEF\xBB\xBF\n"), DecodeError::Empty);
    assert!(err(b"").to_string().contains("last configuration is kept"));
}

#[test]
fn empty_objects_are_a_valid_empty_configuration() {
    for body in [
        "{}",
        " {} \n",
        r#"{"http":{}}"#,
        r#"{"http":{"routers":{}}}"#,
        r#"{"http":{"routers":{},"services":{},"middlewares":{}}}"#,
        "\u{feff}{}",
    ] {
        assert_eq!(ok(body), Dynamic::default(), "{body}");
    }
}

#[test]
fn invalid_json_reports_line_and_column() {
    let error = err(b"{\n  \"http\": {\n    \"routers\": {,\n");
    match &error {
        DecodeError::Json { line, column, reason } => {
            assert_eq!((*line, *column), (3, 17));
            assert!(!reason.contains("line"), "{reason}");
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "invalid JSON at line 3 column 17: key must be a string"
    );
    assert!(matches!(
        err(b"{\"http\":{}} trailing"),
        DecodeError::Json { line: 1, .. }
    ));
    assert!(matches!(err(b"{\"http\":"), DecodeError::Json { .. }));
    // Deep nesting is skipped without recursion where no entry is decoded, and refused where one is.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(err(deep.as_bytes()), DecodeError::Shape { .. }));
    let deep_router = format!(
        r#"{{"http":{{"routers":{{"r":{}{}}}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let decoded = ok(&deep_router);
    assert!(decoded.invalid[0].reason.contains("recursion limit"), "{decoded:?}");
}

#[test]
fn wrong_top_level_shapes_are_errors() {
    for (body, reason) in [
        ("[]", "top level: expected an object, got a list"),
        ("null", "top level: expected an object, got null"),
        ("\"x\"", "top level: expected an object, got text"),
        (r#"{"http":[]}"#, "http: expected an object, got a list"),
        (
            r#"{"http":{"routers":[]}}"#,
            "http.routers: expected an object, got a list",
        ),
        (
            r#"{"http":{"services":"x"}}"#,
            "http.services: expected an object, got text",
        ),
        (
            r#"{"http":{},"Http":{}}"#,
            "`http` given twice (keys are case-insensitive)",
        ),
    ] {
        assert_eq!(
            err(body.as_bytes()),
            DecodeError::Shape {
                reason: reason.to_owned()
            },
            "{body}"
        );
    }
}

#[test]
fn a_bad_router_or_service_is_rejected_alone() {
    let body = r#"{"http":{
        "routers":{
            "good":{"rule":"Host(`a`)","service":"good"},
            "number":{"rule":5},
            "list":[],
            "norule":{"service":"good"},
            "badprio":{"rule":"Host(`b`)","priority":"high"},
            "badtls":{"rule":"Host(`c`)","tls":{"domains":[{"sans":["x"]}]}},
            "twice":{"rule":"Host(`d`)","Rule":"Host(`e`)"}
        },
        "services":{
            "good":{"loadBalancer":{"servers":[{"url":"http://10.50.0.2:1"}]}},
            "serversobject":{"loadBalancer":{"servers":{"url":"http://x"}}},
            "nourl":{"loadBalancer":{"servers":[{"weight":1}]}},
            "badflag":{"loadBalancer":{"passHostHeader":"maybe"}}
        }}}"#;
    let dynamic = ok(body);
    assert_eq!(dynamic.routers.keys().collect::<Vec<_>>(), ["good"]);
    assert_eq!(dynamic.services.keys().collect::<Vec<_>>(), ["good"]);
    assert_eq!(
        rejected(&dynamic),
        [
            "router \"number@http\": rule: expected text, got a number",
            "router \"list@http\": expected an object, got a list",
            "router \"norule@http\": rule: missing (required)",
            "router \"badprio@http\": priority: expected a whole number between -2^63 and 2^63-1",
            "router \"badtls@http\": tls.domains[0].main: missing (required)",
            "router \"twice@http\": `rule` given twice (keys are case-insensitive)",
            "service \"serversobject@http\": loadBalancer.servers: expected a list, got an object",
            "service \"nourl@http\": loadBalancer.servers[0].url: missing (required)",
            "service \"badflag@http\": loadBalancer.passHostHeader: expected true or false",
        ]
    );
    assert_eq!(dynamic.invalid[0].section, Section::Router);
    assert_eq!(dynamic.invalid[0].name, "number@http");
}

#[test]
fn unknown_keys_inside_entries_are_warnings() {
    let body = r#"{"http":{
        "routers":{"r":{"rule":"Host(`a`)","foo":1,"observability":{"accessLogs":false},"tls":{"bar":true}}},
        "services":{"s":{"loadBalancer":{"servers":[{"url":"http://x:1","extra":1,"preservePath":true}],
            "sticky":{"cookie":{}},"strategy":"p2c"},"baz":{}}},
        "serversTransports":{},"other":{}}}"#;
    let dynamic = ok(body);
    assert!(dynamic.invalid.is_empty(), "{:?}", dynamic.invalid);
    assert_eq!(dynamic.routers.len(), 1);
    assert_eq!(dynamic.services.len(), 1);
    assert_eq!(
        dynamic.warnings,
        [
            "unknown key \"http.other\" ignored",
            "\"http.serversTransports\" not supported by ringress (ignored)",
            "router \"r@http\": unknown key \"foo\" ignored",
            "router \"r@http\": unknown key \"tls.bar\" ignored",
            "router \"r@http\": \"observability\" not supported by ringress (ignored)",
            "service \"s@http\": unknown key \"baz\" ignored",
            "service \"s@http\": unknown key \"loadBalancer.servers[0].extra\" ignored",
            "service \"s@http\": \"loadBalancer.sticky\" not supported by ringress (ignored)",
            "service \"s@http\": \"loadBalancer.strategy\" not supported by ringress (ignored)",
            "service \"s@http\": \"loadBalancer.servers[0].preservePath\" not supported by ringress (ignored)",
        ]
    );
}

#[test]
fn service_types() {
    let body = r#"{"http":{"services":{
        "w":{"weighted":{"services":[{"name":"a","weight":1}]}},
        "m":{"Mirroring":{"service":"a"}},
        "f":{"failover":{"service":"a","fallback":"b"}},
        "none":{},
        "two":{"loadBalancer":{"servers":[]},"weighted":{}},
        "empty":{"loadBalancer":{}}
    }}}"#;
    let dynamic = ok(body);
    let kind = |name: &str| dynamic.services.get(name).map(|service| service.kind.clone());
    assert_eq!(kind("w"), Some(ServiceKind::Unsupported("weighted")));
    assert_eq!(kind("m"), Some(ServiceKind::Unsupported("mirroring")));
    assert_eq!(kind("f"), Some(ServiceKind::Unsupported("failover")));
    assert_eq!(load_balancer(&dynamic, "empty").servers, []);
    assert!(load_balancer(&dynamic, "empty").pass_host_header);
    assert_eq!(
        rejected(&dynamic),
        [
            "service \"none@http\": no service type defined (expected `loadBalancer`)",
            "service \"two@http\": more than one service type (`loadBalancer` and `weighted`); a service has exactly one",
        ]
    );
    assert!(dynamic
        .warnings
        .contains(&"service \"w@http\": \"weighted\" not supported by ringress (ignored)".to_owned()));
}

#[test]
fn a_name_given_twice_is_rejected() {
    let body = r#"{"http":{"routers":{"a":{"rule":"Host(`a`)"},"b":{"rule":"Host(`b`)"},"a":{"rule":"Host(`c`)"},"a":{"rule":7}}}}"#;
    let dynamic = ok(body);
    assert_eq!(dynamic.routers.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(
        rejected(&dynamic),
        ["router \"a@http\": defined more than once (every copy ignored)"]
    );
    // A bad first copy, a service of the same name, and a bad router elsewhere are unaffected.
    let body = r#"{"http":{"routers":{"x":{"rule":1},"a":{"rule":2},"a":{"rule":"Host(`a`)"}},
        "services":{"a":{"loadBalancer":{}}}}}"#;
    let dynamic = ok(body);
    assert!(dynamic.routers.is_empty());
    assert_eq!(dynamic.services.len(), 1);
    assert_eq!(
        rejected(&dynamic),
        [
            "router \"x@http\": rule: expected text, got a number",
            "router \"a@http\": defined more than once (every copy ignored)"
        ]
    );
}

#[test]
fn other_details() {
    let body = r#"{"http":{"routers":{
        "e":{"rule":"Host(`a`)","entryPoints":[]},
        "big":{"rule":"Host(`b`)","priority":18446744073709551615},
        "half":{"rule":"Host(`c`)","priority":1.5},
        "ep":{"rule":"Host(`d`)","entryPoints":"web"}},
        "middlewares":{"auth":{"basicAuth":{"users":["u:hash"]}},"gone":null},
        "services":{"s":{"loadBalancer":{"healthCheck":{"path":"/h","headers":{"X-Key":"hc-secret"}}}}}}}"#;
    let dynamic = ok(body);
    assert_eq!(router(&dynamic, "e").entry_points, None);
    assert_eq!(dynamic.middlewares.keys().collect::<Vec<_>>(), ["auth"]);
    assert_eq!(
        load_balancer(&dynamic, "s")
            .health_check
            .as_ref()
            .and_then(|hc| hc.get("path")),
        Some(&serde_json::Value::from("/h"))
    );
    assert_eq!(
        rejected(&dynamic),
        [
            "router \"big@http\": priority: expected a whole number between -2^63 and 2^63-1",
            "router \"half@http\": priority: expected a whole number between -2^63 and 2^63-1",
            "router \"ep@http\": entryPoints: expected a list, got text",
        ]
    );
    // Middleware and health-check values may be secrets: Debug shows neither.
    let debug = format!("{dynamic:?}");
    assert!(!debug.contains("hc-secret") && !debug.contains("u:hash"), "{debug}");
    assert!(debug.contains("\"auth\""), "{debug}");
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(
        err(&body),
        DecodeError::TooLarge {
            size: MAX_BODY_BYTES + 1,
            limit: MAX_BODY_BYTES
        }
    );
}

/// A body shaped like the control plane's, with `count` routers and services.
pub(super) fn big_body(count: usize) -> String {
    let mut routers = Vec::with_capacity(count);
    let mut services = Vec::with_capacity(count);
    for i in 0..count {
        routers.push(format!(
            r#""app{i:05}":{{"rule":"Host(`app{i}.route.example`) || Host(`custom{i}.example.com`)","service":"app{i:05}","entryPoints":["web","websecure"],"tls":{{"certResolver":"letsencrypt"}}}}"#
        ));
        services.push(format!(
            r#""app{i:05}":{{"loadBalancer":{{"servers":[{{"url":"http://10.50.{}.{}:{}"}}]}}}}"#,
            i / 250,
            i % 250 + 2,
            20_000 + i
        ));
    }
    format!(
        r#"{{"http":{{"routers":{{{}}},"services":{{{}}}}}}}"#,
        routers.join(","),
        services.join(",")
    )
}

#[test]
fn ten_thousand_routers_decode() {
    // Timing lives in `bench/provider_apply.rs`; this checks the result.
    let body = big_body(10_000);
    let dynamic = ok(&body);
    assert_eq!((dynamic.routers.len(), dynamic.services.len()), (10_000, 10_000));
    assert!(dynamic.invalid.is_empty() && dynamic.warnings.is_empty());
}
