//! Purge plans: a `git filter-repo --replace-text` expressions file that replaces each found
//! secret with a marker in every commit. The file necessarily holds the secrets themselves.
//!
//! Each line is `literal:SECRET==>REPLACEMENT`; a secret that spans lines or holds `==>` (which
//! would end the literal early) becomes a `regex:` line with every non-alphanumeric byte
//! escaped. The `literal:` prefix keeps a secret that starts with `regex:` or `glob:` literal.

/// What each secret becomes (filter-repo's own default; no rule matches it).
pub const REPLACEMENT: &str = "***REMOVED***";

/// The expressions file for `secrets` (each distinct one once, in order of first
/// appearance) and how many secrets it replaces.
pub fn replace_text<'a>(secrets: impl IntoIterator<Item = &'a str>) -> (String, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for s in secrets {
        if s.is_empty() || !seen.insert(s) {
            continue;
        }
        if s.contains('\n') || s.contains('\r') || s.contains("==>") {
            out.push_str("regex:");
            for c in s.chars() {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_ascii_alphanumeric() || !c.is_ascii() => out.push(c),
                    c => {
                        out.push('\\');
                        out.push(c);
                    }
                }
            }
        } else {
            out.push_str("literal:");
            out.push_str(s);
        }
        out.push_str("==>");
        out.push_str(REPLACEMENT);
        out.push('\n');
    }
    (out, seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_lines_regex_lines_and_dedup() {
        let (text, n) = replace_text(["abc123", "abc123", "regex:x", "-----BEGIN\nxy==>z"]);
        assert_eq!(n, 3);
        assert_eq!(
            text,
            "literal:abc123==>***REMOVED***\nliteral:regex:x==>***REMOVED***\nregex:\\-\\-\\-\\-\\-BEGIN\\nxy\\=\\=\\>z==>***REMOVED***\n"
        );
    }
}
