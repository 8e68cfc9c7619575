//! Bridging Go RE2 syntax to the `regex` crate where the two read the same text differently.
//!
//! Owns the rewrites: a `{` that does not start a valid repetition is a literal in Go (so the
//! v2 placeholder `{sub:[a-z]+}` is literal text) but an error here; inside a character class
//! Go reads `[`, `&` and `~` literally where the regex crate sees nested classes and set
//! operators. Must never change what a pattern means in Go.

/// Rewrites a Go pattern so the regex crate accepts it with Go's meaning.
pub(crate) fn go_to_rust(go: &str) -> String {
    let mut out = String::with_capacity(go.len() + 8);
    let chars: Vec<char> = go.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                    i += 1;
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` first in the class (after an optional `^`) is literal in both.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // POSIX class `[:alpha:]`: copy through its closing `:]`.
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&k| chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&']'));
                match end {
                    Some(k) => {
                        out.extend(chars.get(i..k + 2).unwrap_or(&[]));
                        i = k + 1;
                    }
                    None => out.push_str("\\["),
                }
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '{' if !in_class && !is_repetition(chars.get(i + 1..).unwrap_or(&[])) => out.push_str("\\{"),
            '}' if !in_class => out.push_str("\\}"),
            _ => out.push(c),
        }
        // A valid repetition is copied whole so its `}` is not escaped.
        if c == '{' && !in_class && is_repetition(chars.get(i + 1..).unwrap_or(&[])) {
            out.pop();
            while let Some(&r) = chars.get(i) {
                out.push(r);
                i += 1;
                if r == '}' {
                    break;
                }
            }
            continue;
        }
        i += 1;
    }
    out
}

/// Does `rest` (the text after a `{`) read `n}`, `n,}` or `n,m}` with decimal n and m?
fn is_repetition(rest: &[char]) -> bool {
    let digits = |from: usize| {
        rest.get(from..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let n = digits(0);
    if n == 0 {
        return false;
    }
    match rest.get(n) {
        Some('}') => true,
        Some(',') => {
            let m = digits(n + 1);
            rest.get(n + 1 + m) == Some(&'}')
        }
        _ => false,
    }
}
