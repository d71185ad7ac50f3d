//! A packed rule's regex without its outer boundaries (see `Rule::packed`). Shared with
//! `build.rs`, which computes the built-in regexes' required literals from the source that is
//! compiled; so this file uses nothing but `std`.

/// A packed rule's regex without its outer boundaries: a leading `\b` or `(?:^|[^…])`, a
/// trailing `\b` or `(?:[^…]|$)`. `None` when it has neither. Only the very start and end of
/// the source are looked at, so the relaxed regex is the written one minus those groups and
/// matches everything the written one matched.
pub(crate) fn relax_boundaries(source: &str) -> Option<String> {
    let mut s = source;
    let mut relaxed = false;
    if let Some(rest) = s.strip_prefix("\\b") {
        s = rest;
        relaxed = true;
    } else if let Some(rest) = s.strip_prefix("(?:^|[^") {
        if let Some(end) = rest.find("])") {
            if !rest[..end].contains(['[', '(', ')']) {
                s = &rest[end + 2..];
                relaxed = true;
            }
        }
    }
    if let Some(rest) = s.strip_suffix("\\b") {
        if !rest.ends_with('\\') {
            s = rest;
            relaxed = true;
        }
    } else if s.ends_with("]|$)") {
        if let Some(start) = s.rfind("(?:[^") {
            let class = &s[start + 5..s.len() - 4];
            if !class.contains(['[', ']', '(', ')']) {
                s = &s[..start];
                relaxed = true;
            }
        }
    }
    relaxed.then(|| s.to_string())
}
