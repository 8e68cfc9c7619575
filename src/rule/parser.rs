//! Recursive-descent parser: tokens → [`Expr`].
//!
//! Owns the grammar (Go expression precedence: `!` binds tightest, then `&&`, then `||`;
//! parentheses; `Name(arg, …)` calls whose arguments are string literals, a trailing comma
//! allowed as in Go) and the nesting limit that keeps hostile input from exhausting the stack.
//! Must never evaluate anything or know what a matcher means (that is `build.rs`).

use super::ast::Expr;
use super::build::{build, Arg};
use super::error::{Found, RuleError, RuleErrorKind};
use super::lexer::{tokenize, Spanned, Token};

/// Deepest nesting of parentheses and `!` accepted.
pub const MAX_DEPTH: usize = 64;

/// Parses a whole rule.
pub(crate) fn parse_expr(src: &str) -> Result<Expr, RuleError> {
    let tokens = tokenize(src)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    if matches!(parser.peek(), Token::End | Token::Newline) {
        return Err(RuleError::new(parser.at(), RuleErrorKind::Empty));
    }
    let expr = parser.or()?;
    let newline_then_end = parser.tokens.get(parser.pos + 1).map(|t| &t.token) == Some(&Token::End);
    if parser.peek() == &Token::Newline && newline_then_end {
        parser.pos += 1;
    }
    if parser.peek() != &Token::End {
        return Err(parser.expected("'&&', '||' or end of rule"));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    depth: usize,
}

#[derive(Clone, Copy)]
enum Op {
    And,
    Or,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).map_or(&Token::End, |t| &t.token)
    }

    fn at(&self) -> usize {
        self.tokens
            .get(self.pos)
            .or_else(|| self.tokens.last())
            .map_or(0, |t| t.at)
    }

    /// The text of the current identifier or string token, moved out (tokens behind `pos` are never looked at
    /// again), advancing past it; `None`, without advancing, for any other token.
    fn take_text(&mut self, ident: bool) -> Option<String> {
        let text = match self.tokens.get_mut(self.pos).map(|t| &mut t.token) {
            Some(Token::Ident(text)) if ident => std::mem::take(text),
            Some(Token::Str(text)) if !ident => std::mem::take(text),
            _ => return None,
        };
        self.pos += 1;
        Some(text)
    }

    fn expected(&self, expected: &'static str) -> RuleError {
        let found = match self.peek() {
            Token::End => Found::End,
            Token::Newline => Found::Newline,
            Token::Ident(name) => Found::Identifier(name.clone()),
            Token::Str(_) => Found::String,
            Token::LParen => Found::Token("("),
            Token::RParen => Found::Token(")"),
            Token::Comma => Found::Token(","),
            Token::And => Found::Token("&&"),
            Token::Or => Found::Token("||"),
            Token::Not => Found::Token("!"),
        };
        RuleError::new(self.at(), RuleErrorKind::Expected { expected, found })
    }

    fn enter(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::new(self.at(), RuleErrorKind::TooDeep(MAX_DEPTH)));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let first = self.and()?;
        let mut rest = Vec::new();
        while self.peek() == &Token::Or {
            self.pos += 1;
            rest.push(self.and()?);
        }
        Ok(join(Op::Or, first, rest))
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let first = self.unary()?;
        let mut rest = Vec::new();
        while self.peek() == &Token::And {
            self.pos += 1;
            rest.push(self.unary()?);
        }
        Ok(join(Op::And, first, rest))
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.peek() != &Token::Not {
            return self.primary();
        }
        self.enter()?;
        self.pos += 1;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(operand)))
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        match self.peek() {
            Token::LParen => {
                self.enter()?;
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != &Token::RParen {
                    return Err(self.expected("')'"));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Token::Ident(_) => self.call(),
            _ => Err(self.expected("a matcher, '!' or '('")),
        }
    }

    fn call(&mut self) -> Result<Expr, RuleError> {
        let name_at = self.at();
        let Some(name) = self.take_text(true) else {
            return Err(self.expected("a matcher"));
        };
        if self.peek() != &Token::LParen {
            return Err(self.expected("'(' after the matcher name"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            if self.peek() == &Token::RParen {
                self.pos += 1;
                break;
            }
            let at = self.at();
            let Some(value) = self.take_text(false) else {
                return Err(self.expected("a string argument (`…` or \"…\")"));
            };
            args.push(Arg { value, at });
            match self.peek() {
                Token::Comma => self.pos += 1,
                Token::RParen => {}
                _ => return Err(self.expected("',' or ')'")),
            }
        }
        Ok(Expr::Matcher(build(&name, name_at, args)?))
    }
}

/// One operand stays itself; several become one node, absorbing operands of the same kind.
fn join(op: Op, first: Expr, rest: Vec<Expr>) -> Expr {
    if rest.is_empty() {
        return first;
    }
    let mut flat = Vec::with_capacity(rest.len() + 1);
    for operand in std::iter::once(first).chain(rest) {
        match (op, operand) {
            (Op::And, Expr::And(inner)) | (Op::Or, Expr::Or(inner)) => flat.extend(inner.into_vec()),
            (_, other) => flat.push(other),
        }
    }
    match op {
        Op::And => Expr::And(flat.into_boxed_slice()),
        Op::Or => Expr::Or(flat.into_boxed_slice()),
    }
}
