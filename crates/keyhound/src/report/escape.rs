//! Text from a scanned repository (paths, commit summaries, author names, matched secrets) made
//! safe to print: control characters and bidirectional overrides are shown as escapes, so that
//! a planted `ESC[2K` in a file name or commit message cannot erase or rewrite what an auditor's
//! terminal shows, and a right-to-left override cannot make a path read as another one.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `s` with every control character (but tab) and bidirectional control written as an escape
/// (`\x1b`, `\u{202e}`); borrowed when there is none.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_overrides() {
        assert!(matches!(printable("src/app.py\tok"), Cow::Borrowed(_)));
        assert_eq!(printable("a\x1b[1A\x1b[2Kb"), "a\\x1b[1A\\x1b[2Kb");
        assert_eq!(printable("x\ny\r\0"), "x\\x0ay\\x0d\\x00");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(printable("café"), "café");
    }
}
