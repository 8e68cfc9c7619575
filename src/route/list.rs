//! Listing route specs as an aligned text table, like 1Backend's `oo routes list`.
//!
//! Owns the layout used by `ringress routes check PATH`. Pure formatting: never reads files.

use std::fmt::Write as _;

use super::spec::RouteSpec;

const HEADERS: [&str; 3] = ["ROUTE ID", "TARGET", "SOURCE"];

/// Renders `specs` sorted by host, then prefix, with columns `ROUTE ID  TARGET  SOURCE`
/// separated by at least two spaces. Every line, the header included, ends with `\n`.
pub fn render(specs: &[RouteSpec]) -> String {
    let mut sorted: Vec<&RouteSpec> = specs.iter().collect();
    sorted.sort_by(|a, b| (&a.host, &a.prefix).cmp(&(&b.host, &b.prefix)));
    let rows: Vec<[String; 3]> = sorted
        .iter()
        .map(|spec| [spec.id.clone(), spec.target.to_string(), spec.source.clone()])
        .collect();

    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    line(&mut out, &widths, HEADERS);
    for row in &rows {
        line(&mut out, &widths, [&row[0], &row[1], &row[2]].map(String::as_str));
    }
    out
}

fn line(out: &mut String, widths: &[usize; 3], cells: [&str; 3]) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:<w0$}  {:<w1$}  {}",
        cells[0],
        cells[1],
        cells[2],
        w0 = widths[0],
        w1 = widths[1],
    );
}
