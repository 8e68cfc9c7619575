//! Dotted key paths (`entryPoints.web.address`, `...trustedIPs[1]`) as every ringress config
//! message spells them.
//!
//! Owns the conversion from the paths serde_ignored and serde_path_to_error report. Never
//! decides whether a key is valid.

use std::fmt::Write as _;

/// One step of a key path.
pub(super) enum Segment {
    /// A mapping key.
    Key(String),
    /// A list position.
    Index(usize),
}

/// The path of a key serde did not use. Option and newtype layers add no step.
pub(super) fn from_ignored(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    let mut segments = Vec::new();
    collect_ignored(path, &mut segments);
    segments
}

fn collect_ignored(path: &serde_ignored::Path<'_>, out: &mut Vec<Segment>) {
    match path {
        serde_ignored::Path::Root => {}
        serde_ignored::Path::Seq { parent, index } => {
            collect_ignored(parent, out);
            out.push(Segment::Index(*index));
        }
        serde_ignored::Path::Map { parent, key } => {
            collect_ignored(parent, out);
            out.push(Segment::Key(key.clone()));
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => collect_ignored(parent, out),
    }
}

/// The path of the value a serde error happened in.
pub(super) fn from_tracked(path: &serde_path_to_error::Path) -> Vec<Segment> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } | serde_path_to_error::Segment::Enum { variant: key } => {
                Some(Segment::Key(key.clone()))
            }
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// `a.b[0].c`; empty for the top level.
pub(super) fn dotted(segments: &[Segment]) -> String {
    let mut key = String::new();
    for segment in segments {
        match segment {
            Segment::Key(name) => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(name);
            }
            Segment::Index(index) => {
                let _ = write!(key, "[{index}]");
            }
        }
    }
    key
}
