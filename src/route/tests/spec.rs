//! Tests for parsing route ids and targets: normalisation and every rejection.

use crate::route::{HostError, IdError, RouteSpec, SpecError, Target, TargetError};

fn id_error(id: &str) -> IdError {
    match RouteSpec::new(id, "app:80", "t") {
        Err(SpecError::Id(e)) => e,
        other => panic!("{id:?}: expected an id error, got {other:?}"),
    }
}

fn target_error(target: &str) -> TargetError {
    match Target::parse(target) {
        Err(e) => e,
        Ok(t) => panic!("{target:?}: expected an error, got {t:?}"),
    }
}

#[test]
fn ids_are_normalised() {
    let cases = [
        ("x.com", "x.com", ""),
        ("X.Com.", "x.com", ""),
        ("x.com/", "x.com", ""),
        ("x.com/app", "x.com", "/app"),
        ("x.com/app/", "x.com", "/app"),
        ("X.COM/App/Admin", "x.com", "/App/Admin"),
        ("x.com./a%20b/c", "x.com", "/a%20b/c"),
        ("10.0.0.1/app", "10.0.0.1", "/app"),
        ("[0::1]/app", "[::1]", "/app"),
    ];
    for (id, host, prefix) in cases {
        let spec = RouteSpec::new(id, "app:80", "f.yml#1").expect(id);
        assert_eq!((spec.host.as_str(), spec.prefix.as_str()), (host, prefix), "{id}");
        assert_eq!(spec.id, format!("{host}{prefix}"));
        assert_eq!(spec.source, "f.yml#1");
    }
}

#[test]
fn bad_ids_are_refused_with_a_reason() {
    assert_eq!(id_error(""), IdError::Empty);
    assert_eq!(id_error("http://x.com"), IdError::Scheme);
    assert_eq!(id_error("x.com:8080"), IdError::Port);
    assert_eq!(id_error("x.com:8080/app"), IdError::Port);
    assert_eq!(id_error("[::1]:80/app"), IdError::Port);
    assert_eq!(id_error("x.com/app?x=1"), IdError::Query);
    assert_eq!(id_error("x.com/app#top"), IdError::Query);
    assert_eq!(id_error("*.x.com"), IdError::Wildcard);
    assert_eq!(id_error("x.com/app/*"), IdError::Wildcard);
    assert_eq!(id_error("x.com/a b"), IdError::Whitespace);
    assert_eq!(id_error(" x.com"), IdError::Whitespace);
    assert_eq!(id_error("x.com/app\n"), IdError::Whitespace);
    assert_eq!(id_error("x.com/../app"), IdError::DotSegment);
    assert_eq!(id_error("x.com/app/."), IdError::DotSegment);
    assert_eq!(id_error("x.com/a//b"), IdError::EmptySegment);
    assert_eq!(id_error("x.com//"), IdError::EmptySegment);
    assert_eq!(id_error("x.com/app//"), IdError::EmptySegment);
    assert_eq!(id_error("x.com/café"), IdError::NonAscii);
    assert_eq!(id_error("/app"), IdError::Host(HostError::Empty));
    assert_eq!(id_error("x..com"), IdError::Host(HostError::EmptyLabel));
    assert_eq!(id_error("x_y!.com"), IdError::Host(HostError::InvalidByte('!')));
}

#[test]
fn targets_parse() {
    let cases = [
        ("app:3000", "app", 3000),
        ("http://app:3000", "app", 3000),
        ("HTTP://App.Local.:3000/", "app.local", 3000),
        ("app:3000/", "app", 3000),
        ("10.50.0.2:24207", "10.50.0.2", 24207),
        ("[::1]:80", "::1", 80),
        ("http://[2001:DB8::1]:65535", "2001:db8::1", 65535),
    ];
    for (raw, host, port) in cases {
        let target = Target::parse(raw).expect(raw);
        assert_eq!((target.host.as_str(), target.port), (host, port), "{raw}");
    }
}

#[test]
fn targets_display_as_host_port() {
    assert_eq!(
        Target::parse("http://app:80/").map(|t| t.to_string()).ok().as_deref(),
        Some("app:80")
    );
    assert_eq!(
        Target::parse("[::1]:80").map(|t| t.to_string()).ok().as_deref(),
        Some("[::1]:80")
    );
}

#[test]
fn bad_targets_are_refused_with_a_reason() {
    assert_eq!(target_error(""), TargetError::Empty);
    assert_eq!(target_error("https://app:443"), TargetError::Https);
    assert_eq!(target_error("ftp://app:21"), TargetError::Scheme("ftp".into()));
    assert_eq!(target_error("http://user:pw@app:80"), TargetError::Userinfo);
    assert_eq!(target_error("http://app:80/base"), TargetError::Path);
    assert_eq!(target_error("app:80//"), TargetError::Path);
    assert_eq!(target_error("app:80?x"), TargetError::Query);
    assert_eq!(target_error("app"), TargetError::MissingPort);
    assert_eq!(target_error("http://app/"), TargetError::MissingPort);
    assert_eq!(target_error("app:"), TargetError::InvalidPort);
    assert_eq!(target_error("app:http"), TargetError::InvalidPort);
    assert_eq!(target_error("app:0"), TargetError::PortRange);
    assert_eq!(target_error("app:65536"), TargetError::PortRange);
    assert_eq!(target_error("app:123456"), TargetError::PortRange);
    assert_eq!(target_error("app :80"), TargetError::Whitespace);
    assert_eq!(target_error("::1:80"), TargetError::Host(HostError::InvalidIpv6));
    assert_eq!(target_error(":80"), TargetError::Host(HostError::Empty));
}

#[test]
fn target_error_message_names_the_target() {
    let error = RouteSpec::new("x.com/app", "x:0", "t").expect_err("port 0");
    assert_eq!(error.to_string(), r#"target "x:0": port must be 1-65535"#);
}
