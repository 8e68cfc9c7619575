//! Tokens of the rule language, with the byte offset each starts at.
//!
//! Owns what a token is: identifiers, string literals, `(` `)` `,` `&&` `||` `!`, and the
//! newline Go turns into a statement end (after an identifier, a string or `)`), which is only
//! allowed at the very end of a rule. Must never decide grammar: that is the parser's job.

use super::error::{RuleError, RuleErrorKind};
use super::string::read_literal;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Ident(String),
    Str(String),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    /// A newline that Go's automatic semicolon insertion would end the expression at.
    Newline,
    End,
}

/// A token and its starting byte offset.
#[derive(Clone, Debug)]
pub(crate) struct Spanned {
    pub token: Token,
    pub at: usize,
}

/// Splits `src` into tokens; the last one is always [`Token::End`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Spanned>, RuleError> {
    let bytes = src.as_bytes();
    // `Host(`a.example`)` is five tokens; most rules are a few such calls.
    let mut tokens: Vec<Spanned> = Vec::with_capacity(8);
    let mut i = 0;
    loop {
        // Whitespace, watching for a newline that ends the expression.
        let mut newline_at = None;
        while let Some(&b) = bytes.get(i) {
            match b {
                b' ' | b'\t' | b'\r' => i += 1,
                b'\n' => {
                    newline_at.get_or_insert(i);
                    i += 1;
                }
                _ => break,
            }
        }
        if let Some(at) = newline_at {
            let ends_operand = matches!(
                tokens.last().map(|t| &t.token),
                Some(Token::Ident(_) | Token::Str(_) | Token::RParen)
            );
            if ends_operand {
                tokens.push(Spanned {
                    token: Token::Newline,
                    at,
                });
            }
        }
        let at = i;
        let Some(&b) = bytes.get(i) else {
            tokens.push(Spanned { token: Token::End, at });
            return Ok(tokens);
        };
        let (token, next) = match b {
            b'(' => (Token::LParen, i + 1),
            b')' => (Token::RParen, i + 1),
            b',' => (Token::Comma, i + 1),
            b'!' if bytes.get(i + 1) != Some(&b'=') => (Token::Not, i + 1),
            b'&' if bytes.get(i + 1) == Some(&b'&') => (Token::And, i + 2),
            b'|' if bytes.get(i + 1) == Some(&b'|') => (Token::Or, i + 2),
            b'`' | b'"' => {
                let (value, next) = read_literal(src, i)?;
                (Token::Str(value), next)
            }
            _ => {
                let end = ident_end(src, i);
                if end == i {
                    let c = src.get(i..).and_then(|s| s.chars().next()).unwrap_or('\u{fffd}');
                    return Err(RuleError::new(i, RuleErrorKind::UnexpectedChar(c)));
                }
                (Token::Ident(src.get(i..end).unwrap_or("").to_owned()), end)
            }
        };
        tokens.push(Spanned { token, at });
        i = next;
    }
}

/// End of the Go identifier starting at `start` (letters, `_`, then also digits), or `start`.
fn ident_end(src: &str, start: usize) -> usize {
    let rest = src.get(start..).unwrap_or("");
    let mut end = start;
    for (offset, c) in rest.char_indices() {
        let ok = c == '_' || c.is_alphabetic() || (offset > 0 && c.is_numeric());
        if !ok {
            break;
        }
        end = start + offset + c.len_utf8();
    }
    end
}
