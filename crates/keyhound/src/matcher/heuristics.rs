//! Value checks that turn a regex match into a finding or drop it: Shannon entropy, and the
//! shapes of things that are not secrets (placeholders, repeated or sequential characters,
//! variable references, UUIDs, hashes, lockfile integrity values, data URIs, plain words).

/// Shannon entropy of `data` in bits per byte (0 for empty input).
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Why a candidate that a rule's regex matched is not reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// Entropy below the rule's minimum.
    LowEntropy,
    /// Longer than the rule's `max_length`.
    TooLong,
    /// Long runs of one character, or counting sequences (`abcdef`, `123456`).
    Repetitive,
    /// A known placeholder word or shape (`your-key-here`, `REDACTED`, `<...>`, `xxxx`).
    Placeholder(&'static str),
    /// A reference to a variable or environment (`${X}`, `os.environ[...]`, `process.env.X`).
    VariableReference,
    /// Shaped like a UUID, a hex hash, an integrity value or a data URI.
    NotASecretShape(&'static str),
    /// An identifier, type name or ordinary word rather than a credential.
    Identifier,
    /// A config file's allowlist (its global one, or that of a rule it defines).
    Allowlisted,
    /// The allowlist of a built-in rule.
    BuiltinAllowlisted,
    /// An inline `keyhound:allow` (or `gitleaks:allow`, `pragma: allowlist secret`) marker.
    InlineAllow,
    /// A more specific rule matched the same span.
    Overlap,
    /// A composite rule's required rule did not match near it.
    MissingRequired(String),
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropReason::LowEntropy => write!(f, "entropy below the rule's minimum"),
            DropReason::TooLong => write!(f, "longer than the rule's max_length"),
            DropReason::Repetitive => write!(f, "repeated or sequential characters"),
            DropReason::Placeholder(w) => write!(f, "placeholder ({w})"),
            DropReason::VariableReference => write!(f, "a variable or environment reference"),
            DropReason::NotASecretShape(s) => write!(f, "shaped like {s}, not a secret"),
            DropReason::Identifier => write!(f, "an identifier or word, not a credential"),
            DropReason::Allowlisted => write!(f, "allowlisted by a config file"),
            DropReason::BuiltinAllowlisted => write!(f, "allowlisted by the rule"),
            DropReason::InlineAllow => write!(f, "inline allow marker on the line"),
            DropReason::Overlap => write!(f, "a more specific rule reported this span"),
            DropReason::MissingRequired(id) => {
                write!(f, "required rule `{id}` did not match near it")
            }
        }
    }
}

/// Checks for every rule: runs of one character and counting sequences.
pub fn repetitive(secret: &[u8]) -> bool {
    if secret.len() < 8 {
        return false;
    }
    let mut longest_run = 1;
    let mut run = 1;
    let mut steps = 0usize;
    for w in secret.windows(2) {
        if w[0] == w[1] {
            run += 1;
            longest_run = longest_run.max(run);
        } else {
            run = 1;
        }
        if w[1].wrapping_sub(w[0]) == 1 && w[0].is_ascii_alphanumeric() {
            steps += 1;
        }
    }
    longest_run >= 8.max(secret.len() / 4) || steps * 2 >= secret.len()
}

const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "your-",
    "your_",
    "yourkey",
    "your key",
    "-here",
    "_here",
    "placeholder",
    "redacted",
    "changeme",
    "change_me",
    "example",
    "dummy",
    "insert",
    "replace",
    "...",
    "****",
    "<",
    ">",
];

/// Checks for generic (context-word) rules, whose values are often not secrets at all.
pub fn generic_value(secret: &[u8]) -> Option<DropReason> {
    let lower = secret.to_ascii_lowercase();
    let has = |w: &str| memchr::memmem::find(&lower, w.as_bytes()).is_some();
    if has("${")
        || has("{{")
        || has("$(")
        || has("os.environ")
        || has("process.env")
        || has("getenv")
        || has("env[")
        || lower.starts_with(b"$")
        || lower.starts_with(b"%(")
    {
        return Some(DropReason::VariableReference);
    }
    if let Some(w) = PLACEHOLDER_WORDS.iter().find(|w| has(w)) {
        return Some(DropReason::Placeholder(w));
    }
    if is_uuid(secret) {
        return Some(DropReason::NotASecretShape("a UUID"));
    }
    if matches!(secret.len(), 32 | 40 | 64 | 128) && secret.iter().all(u8::is_ascii_hexdigit) {
        return Some(DropReason::NotASecretShape("a hex hash"));
    }
    if ["sha512-", "sha384-", "sha256-", "sha1-"]
        .iter()
        .any(|p| lower.starts_with(p.as_bytes()))
    {
        return Some(DropReason::NotASecretShape("a lockfile integrity value"));
    }
    if lower.starts_with(b"data:") {
        return Some(DropReason::NotASecretShape("a data URI"));
    }
    if is_identifier(secret) {
        return Some(DropReason::Identifier);
    }
    None
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A name, not a credential: `my_api_token`, `self.password`, `str`, `PasswordField`,
/// `pw_buf2`, `DB_PASSWORD`, `--password-file`, `v1.2.3`. Every part between `_`, `.`, `-`
/// and `/` is a word (lower, UPPER, Capitalized or camelCase) with at most two trailing digits.
fn is_identifier(s: &[u8]) -> bool {
    fn word(part: &[u8]) -> bool {
        let letters = part
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |i| i + 1);
        if part.len() - letters > 2 && letters > 0 {
            return false;
        }
        let w = &part[..letters];
        if !w.iter().all(u8::is_ascii_alphabetic) {
            return false;
        }
        if w.iter().all(u8::is_ascii_uppercase) || w.iter().all(u8::is_ascii_lowercase) {
            return true;
        }
        // camelCase / PascalCase: every upper-case letter starts a run of lower-case ones.
        w.windows(2)
            .all(|p| !(p[0].is_ascii_uppercase() && p[1].is_ascii_uppercase()))
            && w.iter().skip(1).filter(|b| b.is_ascii_uppercase()).count() * 3 <= w.len()
    }
    if s.is_empty() {
        return false;
    }
    s.split(|b| matches!(b, b'_' | b'.' | b'-' | b'/'))
        .filter(|p| !p.is_empty())
        .all(|p| word(p) || p.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_values() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn repetition_and_sequences() {
        assert!(repetitive(b"aaaaaaaaaaaaaaaaaaaa"));
        assert!(repetitive(b"abcdefghijklmnopqrstuvwxyz"));
        assert!(repetitive(b"0123456789012345"));
        assert!(!repetitive(b"q8Zt2LmX9vR4pN7wK1cY"));
    }

    #[test]
    fn generic_shapes() {
        for (v, want) in [
            (&b"${OPENAI_API_KEY}"[..], true),
            (b"os.environ[\"KEY\"]", true),
            (b"your-key-here", true),
            (b"REDACTED", true),
            (b"<your key>", true),
            (b"123e4567-e89b-12d3-a456-426614174000", true),
            (b"d41d8cd98f00b204e9800998ecf8427e", true),
            (b"sha512-AbCdEf0123", true),
            (b"data:image/png;base64,iVBOR", true),
            (b"PasswordField", true),
            (b"pw_buf2", true),
            (b"DB_PASSWORD", true),
            (b"--password-file", true),
            (b"v1.2.3", true),
            (b"getAccessToken", true),
            (b"Kx9mQ2vLp8Rt", false),
            (b"q8Zt2LmX9vR4pN7wK1cY", false),
        ] {
            assert_eq!(
                generic_value(v).is_some(),
                want,
                "{}",
                String::from_utf8_lossy(v)
            );
        }
    }
}
