//! A service's servers, laid out for the request path: a service with one server (a platform app's single
//! container, a route file's single target) holds it inside the service itself, so choosing and dialling it reads
//! no allocation beyond the service's own. Any other count is one boxed slice.
//!
//! Reads as a slice of [`Upstream`]s (`Deref`); equal and printed as that slice whatever the layout. Built on the
//! control thread; never changed once a table is published.

use std::fmt;
use std::ops::Deref;

use super::table::Upstream;

/// The servers of one service, in the order written.
#[derive(Clone)]
pub enum Servers {
    /// Exactly one server, held in place.
    One(Upstream),
    /// None, or two and more.
    Many(Box<[Upstream]>),
}

impl From<Box<[Upstream]>> for Servers {
    fn from(servers: Box<[Upstream]>) -> Servers {
        match Box::<[Upstream; 1]>::try_from(servers) {
            Ok(one) => {
                let [one] = *one;
                Servers::One(one)
            }
            Err(servers) => Servers::Many(servers),
        }
    }
}

impl Deref for Servers {
    type Target = [Upstream];

    fn deref(&self) -> &[Upstream] {
        match self {
            Servers::One(one) => std::slice::from_ref(one),
            Servers::Many(many) => many,
        }
    }
}

impl PartialEq for Servers {
    fn eq(&self, other: &Servers) -> bool {
        **self == **other
    }
}

impl Eq for Servers {}

impl fmt::Debug for Servers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(port: u16) -> Upstream {
        Upstream::new(([127, 0, 0, 1], port).into(), format!("127.0.0.1:{port}"))
    }

    #[test]
    fn one_server_is_held_in_place_and_reads_like_the_slice_it_came_from() {
        let one: Servers = vec![upstream(1)].into_boxed_slice().into();
        assert!(matches!(one, Servers::One(_)));
        assert_eq!(&*one, &[upstream(1)][..]);
        assert_eq!(format!("{one:?}"), format!("{:?}", [upstream(1)]));
    }

    #[test]
    fn other_counts_stay_a_slice_and_layouts_compare_by_content() {
        let none: Servers = Vec::new().into_boxed_slice().into();
        assert!(none.is_empty());
        let two: Servers = vec![upstream(1), upstream(2)].into_boxed_slice().into();
        assert!(matches!(two, Servers::Many(_)));
        assert_eq!(two.len(), 2);
        assert_eq!(two[1], upstream(2));
        let boxed_one = Servers::Many(vec![upstream(1)].into_boxed_slice());
        let one: Servers = vec![upstream(1)].into_boxed_slice().into();
        assert_eq!(boxed_one, one);
        assert_ne!(one, two);
    }
}
