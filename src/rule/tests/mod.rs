//! Unit tests for the rule module, one file per concern.

mod display;
mod errors;
mod hosts;
mod matchers;
mod path;
mod syntax;
mod util;
