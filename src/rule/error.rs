//! `RuleError`: why a rule was refused, and the byte position it points at.
//!
//! Owns the wording of every parse error. Must never carry borrowed input: errors outlive the
//! rule text (they end up in logs and the API).

use std::fmt;

/// A refused rule: `position` is the byte offset in the rule text the problem starts at.
///
/// Displays as `at 12: expected ')'`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at {position}: {kind}")]
pub struct RuleError {
    pub position: usize,
    pub kind: RuleErrorKind,
}

impl RuleError {
    pub(crate) fn new(position: usize, kind: RuleErrorKind) -> RuleError {
        RuleError { position, kind }
    }
}

/// What is wrong at [`RuleError::position`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleErrorKind {
    #[error("rule is empty")]
    Empty,
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("unterminated string")]
    UnterminatedString,
    #[error("newline inside a double-quoted string")]
    NewlineInString,
    #[error("invalid escape sequence in string: {0}")]
    InvalidEscape(&'static str),
    #[error("string is not valid UTF-8 after unescaping")]
    InvalidUtf8,
    #[error("expected {expected}, found {found}")]
    Expected { expected: &'static str, found: Found },
    #[error("unknown matcher {0:?} (names are accepted as defined, all lower, all upper or Title case)")]
    UnknownMatcher(String),
    #[error("{matcher} takes {expected} argument(s), got {got}")]
    ArgumentCount {
        matcher: &'static str,
        expected: &'static str,
        got: usize,
    },
    #[error("{0} argument must not be empty")]
    EmptyArgument(&'static str),
    #[error("{matcher}: {reason}")]
    InvalidArgument { matcher: &'static str, reason: String },
    #[error("rule nests deeper than {0} levels")]
    TooDeep(usize),
}

/// The token found where another was expected, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    End,
    Newline,
    Token(&'static str),
    Identifier(String),
    String,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::End => f.write_str("end of rule"),
            Found::Newline => f.write_str("newline"),
            Found::Token(t) => write!(f, "'{t}'"),
            Found::Identifier(name) => write!(f, "identifier {name:?}"),
            Found::String => f.write_str("a string"),
        }
    }
}
