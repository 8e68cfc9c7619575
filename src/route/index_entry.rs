//! One entry of the exact-host index: the host as a key and the routers filed under it.
//!
//! Owns their layout, chosen so a lookup reads nothing outside the index's own buckets before it reaches a
//! service: a host of up to [`INLINE`] bytes (a platform's `app-12345.apps.example.com`) is held in the key itself,
//! and a host with one router holds, next to that router's pointer, the router's fields a lookup checks and its
//! service's pointer ([`Lone`]), so the router itself is read only when its rule must be evaluated. Keys hash and
//! compare exactly as the byte slice they hold, so a map of them is looked up with the request's `&[u8]` host.
//! Built on the control thread; never changed once a table is published.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::table::{RouterDef, Service, Transport};

/// Longest host held inside the key (the key is 32 bytes either way).
pub(crate) const INLINE: usize = 30;

/// A normalised host name.
#[derive(Clone)]
pub(crate) enum HostKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl HostKey {
    pub(crate) fn new(host: &[u8]) -> HostKey {
        match u8::try_from(host.len()) {
            Ok(len) if host.len() <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..host.len()].copy_from_slice(host);
                HostKey::Inline { len, bytes }
            }
            _ => HostKey::Heap(host.into()),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            HostKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            HostKey::Heap(bytes) => bytes,
        }
    }
}

impl Borrow<[u8]> for HostKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Hashes as the byte slice does (`Borrow` requires it).
impl Hash for HostKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for HostKey {
    fn eq(&self, other: &HostKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for HostKey {}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// The routers filed under one host, in table order; never empty.
#[derive(Clone, Debug)]
pub(crate) enum Filed {
    One(Lone),
    Many(Box<[Arc<RouterDef>]>),
}

/// A host's only router, with copies of what a lookup reads of it (the router never changes once built, so the
/// copies cannot go stale).
#[derive(Clone, Debug)]
pub(crate) struct Lone {
    pub(crate) router: Arc<RouterDef>,
    /// `router.service`.
    pub(crate) service: Arc<Service>,
    /// `router.entry_points`.
    pub(crate) entry_points: u64,
    /// `router.transport`.
    pub(crate) transport: Transport,
    /// `router.host_decides()`.
    pub(crate) host_decides: bool,
}

impl Filed {
    pub(crate) fn as_slice(&self) -> &[Arc<RouterDef>] {
        match self {
            Filed::One(lone) => std::slice::from_ref(&lone.router),
            Filed::Many(routers) => routers,
        }
    }

    /// `routers` as an entry; `None` when there are none.
    pub(crate) fn from_vec(mut routers: Vec<Arc<RouterDef>>) -> Option<Filed> {
        match routers.len() {
            0 => None,
            1 => routers.pop().map(|router| {
                Filed::One(Lone {
                    service: router.service.clone(),
                    entry_points: router.entry_points,
                    transport: router.transport,
                    host_decides: router.host_decides(),
                    router,
                })
            }),
            _ => Some(Filed::Many(routers.into_boxed_slice())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::route::hash::BuildHostHasher;

    #[test]
    fn keys_hold_short_hosts_inline_and_compare_as_bytes() {
        let short = HostKey::new(b"app-12345.apps.example.com");
        assert!(matches!(short, HostKey::Inline { .. }));
        let edge = HostKey::new(&[b'a'; INLINE]);
        assert!(matches!(edge, HostKey::Inline { .. }));
        let long = HostKey::new(&[b'a'; INLINE + 1]);
        assert!(matches!(long, HostKey::Heap(_)));
        assert_eq!(std::mem::size_of::<HostKey>(), 32);

        let mut map: HashMap<HostKey, u32, BuildHostHasher> = HashMap::default();
        for (i, host) in [&b"a.com"[..], b"", &[b'x'; INLINE], &[b'y'; 200]].iter().enumerate() {
            map.insert(HostKey::new(host), i as u32);
        }
        assert_eq!(map.get(&b"a.com"[..]), Some(&0));
        assert_eq!(map.get(&b""[..]), Some(&1));
        assert_eq!(map.get(&[b'x'; INLINE][..]), Some(&2));
        assert_eq!(map.get(&[b'y'; 200][..]), Some(&3));
        assert_eq!(map.get(&b"a.co"[..]), None);
        assert_eq!(map.get(&[b'x'; INLINE - 1][..]), None);
        assert_eq!(format!("{:?}", HostKey::new(b"a.com")), "\"a.com\"");
    }
}
