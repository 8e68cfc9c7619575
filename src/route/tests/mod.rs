//! Unit tests for the route module, one file per source file.

mod files;
mod host;
mod list;
mod spec;
mod table;
mod util;
