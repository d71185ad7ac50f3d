//! Value checks that turn a regex match into a finding or drop it: Shannon entropy, and the
//! shapes of things that are not secrets (placeholders, repeated or sequential characters,
//! variable references, hashes, lockfile integrity values, data URIs, plain words, file names
//! and link targets). A UUID or a hex string is a secret's shape too when the name bound to it
//! says credential (`PINECONE_API_KEY`, `x-api-key`), and never when it says id or digest.

/// Shannon entropy of `data` in bits per byte (0 for empty input).
pub(crate) fn shannon_entropy(data: &[u8]) -> f64 {
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
    /// The value is bound to a name that identifies, counts or describes (`token_id`,
    /// `api_key_sha256`, `token_type`, `OSSAccessKeyId`).
    IdLikeName,
    /// The name says the token grants nothing (a CSRF or captcha token, a pagination cursor).
    NotACredential(&'static str),
    /// The rule's provider word belongs to another statement than the value.
    ContextNotBound,
    /// The rule wants a JSON Web Token and this is none (the text says why).
    NotAJwt(&'static str),
    /// The rule wants HTTP Basic credentials and this is none (the text says why).
    NotBasicAuth(&'static str),
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
            DropReason::IdLikeName => write!(
                f,
                "bound to a name that says id, digest or setting, not credential"
            ),
            DropReason::NotACredential(w) => write!(f, "{w}, not a credential"),
            DropReason::ContextNotBound => write!(
                f,
                "the provider word is in another statement, not bound to the value"
            ),
            DropReason::NotAJwt(why) => write!(f, "not a JSON Web Token ({why})"),
            DropReason::NotBasicAuth(why) => write!(f, "not HTTP Basic credentials ({why})"),
            DropReason::MissingRequired(id) => {
                write!(f, "required rule `{id}` did not match near it")
            }
        }
    }
}

/// Checks for every rule: runs of one character and counting sequences.
pub(crate) fn repetitive(secret: &[u8]) -> bool {
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

/// Checks for generic (context-word) rules, whose values are often not secrets at all. `name`
/// is the name the value is bound to, when the rule captures it: it decides whether a UUID or a
/// hex string is a key (`api_key`, `Authorization: Bearer`) or an id or digest (`token_id`,
/// `spec_hash`), and drops tokens that grant nothing (CSRF and captcha tokens).
pub(crate) fn generic_value(secret: &[u8], name: Option<&[u8]>) -> Option<DropReason> {
    let kind = name.map(binding::classify);
    match kind {
        Some(NameKind::IdLike) => return Some(DropReason::IdLikeName),
        Some(NameKind::NotCredential(why)) => return Some(DropReason::NotACredential(why)),
        _ => {}
    }
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
    let credential_name =
        kind == Some(NameKind::Credential) && !name.is_some_and(binding::is_query_parameter);
    if is_uuid(secret) && !credential_name {
        return Some(DropReason::NotASecretShape("a UUID"));
    }
    if is_hex_digest(secret) && !credential_name {
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
    if lower.starts_with(b"0x") && lower.len() > 2 && lower[2..].iter().all(u8::is_ascii_hexdigit) {
        return Some(DropReason::NotASecretShape("a number"));
    }
    if encoded_text_file(secret) {
        return Some(DropReason::NotASecretShape(
            "base64 of a text file (its decoded layer is scanned)",
        ));
    }
    if is_file_reference(&lower) {
        return Some(DropReason::NotASecretShape("a file name or link target"));
    }
    if is_identifier(secret) {
        return Some(DropReason::Identifier);
    }
    None
}

/// Base64 of text with lines or `NAME=` assignments (an encoded `.env` or config file): a
/// container of secrets that the decoder opens, not one credential. Long values only, since
/// values got long enough to hold whole files.
fn encoded_text_file(secret: &[u8]) -> bool {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose};
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::NO_PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    if secret.len() < 64 {
        return false;
    }
    let Ok(text) = LENIENT.decode(secret) else {
        return false;
    };
    if !text
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'))
    {
        return false;
    }
    let assignment = text.windows(4).any(|w| {
        w[..3]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            && w[3] == b'='
    });
    text.contains(&b'\n') || assignment
}

/// A UUID or a hex string of a digest's length: the shapes a name decides.
pub(crate) fn hex_shaped(s: &[u8]) -> bool {
    is_uuid(s) || is_hex_digest(s)
}

/// A hex string of a digest's length (MD5, SHA-1, SHA-256, SHA-512), in one case.
pub(crate) fn is_hex_digest(s: &[u8]) -> bool {
    matches!(s.len(), 32 | 40 | 64 | 128)
        && (s
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            || s.iter()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)))
}

/// `config.md#registrytoken`, `docs/auth.html`, `settings.toml`: a file or a link target (a
/// markdown reference definition after a credential word), lower-cased.
fn is_file_reference(lower: &[u8]) -> bool {
    const EXTENSIONS: &[&str] = &[
        "md", "html", "htm", "rst", "txt", "json", "yaml", "yml", "toml", "ini", "cfg", "conf",
        "js", "ts", "py", "rs", "go", "rb", "php", "java", "sh", "pem", "crt", "key", "env",
    ];
    let path = match memchr::memchr(b'#', lower) {
        Some(i) => &lower[..i],
        None => lower,
    };
    let Some(dot) = memchr::memrchr(b'.', path) else {
        return false;
    };
    let (stem, ext) = (&path[..dot], &path[dot + 1..]);
    !stem.is_empty()
        && stem
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.'))
        && EXTENSIONS.iter().any(|e| e.as_bytes() == ext)
        && lower[path.len()..]
            .iter()
            .skip(1)
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A name, not a credential: `my_api_token`, `self.password`, `str`, `PasswordField`,
/// `pw_buf2`, `DB_PASSWORD`, `--password-file`, `v1.2.3`, `AUTH0_CLIENT_SECRET!` (a TypeScript
/// non-null assertion), `_X509_SUBJECT_TOKEN_TYPE`, `AppConfig.g4f_api_key`. Every part between
/// `_`, `.`, `-` and `/` is a word (lower, UPPER, Capitalized or camelCase) with at most two
/// trailing digits, or a short part of at most three letters and digits (`g4f`, `x509`).
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
    // `X!` is a TypeScript non-null assertion, `name=` an attribute of markup.
    let s = s
        .strip_suffix(b"!")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    if s.is_empty() {
        return false;
    }
    let parts: Vec<&[u8]> = s
        .split(|b| matches!(b, b'_' | b'.' | b'-' | b'/'))
        .filter(|p| !p.is_empty())
        .collect();
    let short = |p: &[u8]| {
        p.len() <= 4 && p.iter().all(u8::is_ascii_alphanumeric) && p[0].is_ascii_alphabetic()
    };
    // An algorithm or curve name: a few letters and a number (`x25519`, `sha256`, `p384`).
    let numbered = |p: &[u8]| {
        let letters = p.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let digits = p.len() - letters;
        (1..=5).contains(&letters)
            && (1..=6).contains(&digits)
            && p[letters..].iter().all(u8::is_ascii_digit)
    };
    // One short or numbered part among words (`g4f_api_key`, `x25519_generate_private_key`);
    // a value of short parts only is more likely a random code (`k9x2-m3n4-p5q6`).
    let mut shorts = 0;
    parts.iter().all(|p| {
        if word(p) || p.iter().all(u8::is_ascii_digit) {
            return true;
        }
        shorts += 1;
        parts.len() > 1 && shorts == 1 && (short(p) || numbered(p))
    })
}

use super::binding::{self, NameKind};

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
            (b"AUTH0_CLIENT_SECRET!", true),
            (b"_X509_SUBJECT_TOKEN_TYPE", true),
            (b"AppConfig.g4f_api_key", true),
            (b"x25519_generate_private_key", true),
            (b"ed25519_check_private_key_bytes", true),
            (b"config.md#registrytoken", true),
            (b"0x0002000", true),
            (b"loading=", true),
            (b"QZ8RW4KTN2MXJ7VDB5", false),
            (b"Kx9mQ2vLp8Rt", false),
            (b"q8Zt2LmX9vR4pN7wK1cY", false),
        ] {
            assert_eq!(
                generic_value(v, None).is_some(),
                want,
                "{}",
                String::from_utf8_lossy(v)
            );
        }
    }

    #[test]
    fn base64_of_a_text_file_is_not_one_credential() {
        use base64::Engine;
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let env = b64(&format!(
            "OPENAI_API_KEY={}\n",
            "q8Zt2LmX9vR4pN7wK1cY".repeat(4)
        ));
        assert!(matches!(
            generic_value(env.as_bytes(), Some(b"token")),
            Some(DropReason::NotASecretShape(_))
        ));
        let token = b64(&"q8Zt2LmX9vR4pN7wK1cY".repeat(4));
        assert_eq!(generic_value(token.as_bytes(), Some(b"token")), None);
    }

    #[test]
    fn uuid_and_hex_decided_by_the_bound_name() {
        let uuid = b"26f5e5b3-1706-4c9d-8db4-6fd8e8a3886c";
        let hex = b"3e54a834e284540111b618a2b4bc97b4";
        for name in [
            &b"PINECONE_API_KEY"[..],
            b"api_key",
            b"x-api-key",
            b"Authorization",
        ] {
            assert_eq!(generic_value(uuid, Some(name)), None);
            assert_eq!(generic_value(hex, Some(name)), None);
        }
        assert!(generic_value(uuid, None).is_some());
        assert!(generic_value(hex, Some(b"SECRET_KEY_BASE")).is_some());
        for name in [
            &b"token_id"[..],
            b"api_key_sha256",
            b"spec_hash_token_digest",
        ] {
            assert_eq!(
                generic_value(uuid, Some(name)),
                Some(DropReason::IdLikeName)
            );
            assert_eq!(generic_value(hex, Some(name)), Some(DropReason::IdLikeName));
        }
        assert!(matches!(
            generic_value(b"q8Zt2LmX9vR4pN7wK1cY", Some(b"csrf_token")),
            Some(DropReason::NotACredential(_))
        ));
    }
}
