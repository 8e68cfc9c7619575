//! Tests for the `routes check` listing.

use super::util::spec;
use crate::route::render;

#[test]
fn renders_an_aligned_table_sorted_by_host_then_prefix() {
    let mut specs = vec![
        spec("x.localhost/app", "http://app-frontend:3000"),
        spec("api.example.com", "1backend:11337"),
        spec("x.localhost", "root:8080"),
    ];
    specs[0].source = "routes.yaml#2".into();
    specs[1].source = "api.yaml#1".into();
    specs[2].source = "routes.yaml#1".into();
    let expected = "\
ROUTE ID         TARGET             SOURCE
api.example.com  1backend:11337     api.yaml#1
x.localhost      root:8080          routes.yaml#1
x.localhost/app  app-frontend:3000  routes.yaml#2
";
    assert_eq!(render(&specs), expected);
}

#[test]
fn empty_listing_is_just_the_header() {
    assert_eq!(render(&[]), "ROUTE ID  TARGET  SOURCE\n");
}
