//! Behaviour tests for the strict rules, pipelining, chunked framing and rewriting.

mod chunked;
mod httparse_behaviour;
mod mutation;
mod request;
mod response;
mod rewrite;
