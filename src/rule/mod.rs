//! The Traefik v3 rule language: lexer, parser, AST, evaluation, priority and printing.
//!
//! Flow: [`parse`] (control thread: tokenise, parse, validate arguments, compile regexps) →
//! an immutable [`Rule`] inside a router → [`Rule::matches`] per request on the workers
//! against a [`RequestView`] built from the parsed head and [`normalize_path`].
//!
//! Semantics follow Traefik v3 (`pkg/muxer/http`): matcher names in four spellings only (as
//! defined, lower, UPPER, Title); `!` binds tighter than `&&`, which binds tighter than `||`;
//! arguments are Go string literals and must be non-empty; `Host` is case-insensitive with
//! one trailing dot ignored on either side, `*.example.com` matches one label and `*` any host;
//! `PathPrefix` has no segment boundary; regexps are unanchored; `Query(k)` needs `k` present
//! with an empty value; `ClientIP` takes an address or a CIDR, v4 or v6. Deviations, all
//! deliberate: a `Host` IPv6 argument is accepted with or without brackets; a string that is not
//! UTF-8 after unescaping is refused; nesting deeper than 64 levels is refused;
//! `SegmentPrefix` exists for route files and cannot be written in a rule.
//!
//! Evaluation never allocates and takes no lock, except inside the regex crate: each regex
//! has a cache pool that is lock-free for the first thread that used it and a mutex-guarded
//! stack for other threads (give each worker its own `clone()` of a regex-heavy table to avoid
//! that), and its lazy DFA may grow its cache the first time it sees new input.
//!
//! Must never allocate per request, block, or panic on any rule text or request bytes.
//!
//! Files: `error.rs` (errors), `string.rs` (Go literals), `lexer.rs` (tokens), `parser.rs`
//! (grammar), `build.rs` (matcher names and arguments), `ast.rs` (tree), `eval.rs`
//! (matching), `query.rs` (query strings), `print.rs` (canonical text), `compiled.rs`
//! ([`Rule`]), `view.rs` ([`RequestView`]), `path.rs` (routing path).

mod ast;
mod build;
mod compiled;
mod error;
mod eval;
mod lexer;
mod parser;
mod path;
mod print;
mod query;
mod regex_syntax;
mod string;
mod view;

#[cfg(test)]
mod tests;

pub use ast::{Expr, HostKind, HostPattern, IpNet, Matcher, Pattern};
pub use compiled::{parse, segment_prefix_rule, Rule};
pub use error::{Found, RuleError, RuleErrorKind};
pub use parser::MAX_DEPTH;
pub use path::{normalize_path, PathError};
pub use view::RequestView;
