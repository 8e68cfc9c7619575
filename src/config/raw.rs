//! Serde structs that mirror the file exactly as written, before any checking.
//!
//! Owns the key names (Traefik's camelCase) and the nesting. Every leaf is kept as [`Text`] so
//! that value errors are reported later with a hand-written key path and a precise reason;
//! serde only rejects structural mismatches (a list where a mapping belongs). Unknown keys are
//! not rejected here: the loader reports them as warnings. Never interprets a value.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A scalar kept as the text written in the file: `5s`, `80`, `true` and `"x"` all arrive as
/// strings, so `pollInterval: 5` and `pollInterval: "5"` mean the same, as in Traefik.
/// Deliberately not `Debug`: it may hold a provider header value.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Text, E> {
                Ok(Text(value))
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// A mapping from names to values, in file order, where a repeated name is an error (plain
/// YAML-to-map decoding would silently keep the last one).
pub(super) struct Named<T>(pub Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for NamedVisitor<T> {
            type Value = Named<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Named<T>, A::Error> {
                let mut entries: Vec<(String, T)> = Vec::new();
                while let Some(Text(name)) = map.next_key::<Text>()? {
                    if entries.iter().any(|(seen, _)| *seen == name) {
                        return Err(de::Error::custom(format_args!("duplicate key `{name}`")));
                    }
                    let value = map.next_value::<T>()?;
                    entries.push((name, value));
                }
                Ok(Named(entries))
            }
        }

        deserializer.deserialize_map(NamedVisitor(PhantomData))
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawConfig {
    /// `web:` with nothing under it is `None`, reported as a missing address.
    pub entry_points: Option<Named<Option<RawEntryPoint>>>,
    pub providers: Option<RawProviders>,
    pub certificates_resolvers: Option<Named<Option<RawResolver>>>,
    pub servers_transport: Option<RawServersTransport>,
    pub log: Option<RawLog>,
    /// `accessLog:` present (even empty or `{}`) turns the access log on: `Some(None)` for an empty value.
    #[serde(default, deserialize_with = "present")]
    pub access_log: Option<Option<RawAccessLog>>,
    pub ringress: Option<RawRingress>,
}

/// Distinguishes a key written with no value (`Some(None)`) from a missing key (`None`, via `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Traefik's `accessLog`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawAccessLog {
    pub file_path: Option<Text>,
    pub format: Option<Text>,
    pub buffering_size: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawEntryPoint {
    pub address: Option<Text>,
    pub transport: Option<RawEntryPointTransport>,
    pub http: Option<RawEntryPointHttp>,
    pub forwarded_headers: Option<RawForwardedHeaders>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawEntryPointTransport {
    pub responding_timeouts: Option<RawRespondingTimeouts>,
    pub life_cycle: Option<RawLifeCycle>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawRespondingTimeouts {
    pub read_timeout: Option<Text>,
    pub write_timeout: Option<Text>,
    pub idle_timeout: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(expecting = "a mapping")]
pub(super) struct RawLifeCycle {
    #[serde(rename = "graceTimeOut")]
    pub grace_timeout: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawEntryPointHttp {
    pub redirections: Option<RawRedirections>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawRedirections {
    pub entry_point: Option<RawRedirect>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawRedirect {
    pub to: Option<Text>,
    pub scheme: Option<Text>,
    pub permanent: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(expecting = "a mapping")]
pub(super) struct RawForwardedHeaders {
    pub insecure: Option<Text>,
    #[serde(rename = "trustedIPs")]
    pub trusted_ips: Option<Vec<Text>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawProviders {
    pub http: Option<RawHttpProvider>,
}

/// Holds header values, which are secrets: deliberately not `Debug`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawHttpProvider {
    pub endpoint: Option<Text>,
    pub poll_interval: Option<Text>,
    pub poll_timeout: Option<Text>,
    pub headers: Option<Named<Text>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawResolver {
    pub acme: Option<RawAcme>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawAcme {
    pub email: Option<Text>,
    pub storage: Option<Text>,
    pub ca_server: Option<Text>,
    pub key_type: Option<Text>,
    pub http_challenge: Option<RawHttpChallenge>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawHttpChallenge {
    pub entry_point: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawServersTransport {
    pub max_idle_conns_per_host: Option<Text>,
    pub forwarding_timeouts: Option<RawForwardingTimeouts>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawForwardingTimeouts {
    pub dial_timeout: Option<Text>,
    pub response_header_timeout: Option<Text>,
    pub idle_conn_timeout: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawLog {
    pub level: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawRingress {
    pub workers: Option<Text>,
    pub routes: Option<Text>,
    pub admin: Option<RawAdmin>,
    pub limits: Option<RawLimits>,
    pub provider: Option<RawProviderAuth>,
    pub acme: Option<RawAcmeOptions>,
}

/// `ringress.acme`: ACME settings Traefik has no key for.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawAcmeOptions {
    pub ca_certificates: Option<Text>,
    pub dns_server: Option<Text>,
    pub precheck: Option<Text>,
    pub max_new_orders: Option<Text>,
}

/// `ringress.provider`: where the provider token comes from (names only, never the token).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawProviderAuth {
    pub token_file: Option<Text>,
    pub token_env: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawAdmin {
    pub address: Option<Text>,
    pub enabled: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a mapping")]
pub(super) struct RawLimits {
    pub max_header_bytes: Option<Text>,
    pub max_request_target_bytes: Option<Text>,
    pub max_headers: Option<Text>,
    pub buffer_bytes: Option<Text>,
}
