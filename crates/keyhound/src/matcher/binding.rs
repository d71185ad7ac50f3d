//! What a value is bound to: the name on the left of it (the key of an assignment, a header
//! name, a JSON key, a cookie name) and whether a rule's context word belongs to the same
//! assignment, call, object or block as the secret.
//!
//! Decisions are made from the name the regex captured (group `name`) and from the structure
//! between a context word (group `context`) and the secret, never from words that merely occur
//! within some window: `account_id = "…"` three lines below `AZURE_OPENAI_ENDPOINT` is an
//! account id, not an Azure key.

use std::ops::Range;

/// What a name says about the value bound to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    /// A credential slot: `api_key`, `PINECONE_API_KEY`, `x-api-key`, `Authorization`,
    /// `session_token`, `PHPSESSID`.
    Credential,
    /// An identifier, digest or setting: `token_id`, `api_key_sha256`, `secret_name`,
    /// `token_type`, `OSSAccessKeyId`.
    IdLike,
    /// A token that grants nothing: CSRF tokens, captcha tokens, pagination cursors, tokenizer
    /// settings, upload handles. The text says which.
    NotCredential(&'static str),
    /// None of those (`SECRET_KEY_BASE`, an e-mail address of an account list).
    Other,
}

/// The whole name a capture belongs to: the regex starts at the credential word, so the
/// `PINECONE_` of `PINECONE_API_KEY` and the `__Host-next-auth.csrf-` of
/// `__Host-next-auth.csrf-token` are found by walking left over name characters. A URL query
/// parameter keeps its `?` or `&` (see [`is_query_parameter`]).
pub(crate) fn full_name(content: &[u8], name: Range<usize>) -> Range<usize> {
    let mut start = name.start;
    while start > 0 && is_name_byte(content[start - 1]) && name.start - start < 80 {
        start -= 1;
    }
    if start > 0 && matches!(content[start - 1], b'?' | b'&') {
        start -= 1;
    }
    start..name.end
}

/// A name that is a URL query parameter (`&token=` of a download link): its value is judged by
/// its looks alone, since links carry UUID-shaped download and cache tokens by the thousand.
pub(crate) fn is_query_parameter(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'?' | b'&'))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$')
}

/// The lower-case words of a name: split at `_ - . $ /` and at camelCase humps, with a run of
/// capitals kept together (`OSSAccessKeyId` → oss, access, key, id).
pub(crate) fn words(name: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &b) in name.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| name[j]);
        let next = name.get(i + 1).copied();
        let hump = b.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if hump && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(b.to_ascii_lowercase() as char);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words anywhere in a name that make the token on the right of it no credential.
const NOT_CREDENTIAL: &[(&str, &str)] = &[
    ("csrf", "a CSRF token"),
    ("xsrf", "a CSRF token"),
    ("captcha", "a captcha token"),
    ("turnstile", "a captcha token"),
];

/// Words that, right before a last word `token`, make it something other than a credential:
/// `next_token`, `page_token`, `pad_token`, `FileToken`.
const NOT_CREDENTIAL_TOKENS: &[(&str, &str)] = &[
    ("page", "a pagination cursor"),
    ("next", "a pagination cursor"),
    ("prev", "a pagination cursor"),
    ("continuation", "a pagination cursor"),
    ("sync", "a pagination cursor"),
    ("pad", "a tokenizer setting"),
    ("eos", "a tokenizer setting"),
    ("bos", "a tokenizer setting"),
    ("unk", "a tokenizer setting"),
    ("mask", "a tokenizer setting"),
    ("sep", "a tokenizer setting"),
    ("cls", "a tokenizer setting"),
    ("file", "a file or upload handle"),
    ("upload", "a file or upload handle"),
];

/// Last words of names whose values are credentials.
const CREDENTIAL_WORDS: &[&str] = &[
    "key",
    "apikey",
    "secretkey",
    "accesskey",
    "privatekey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "auth",
    "authorization",
    "bearer",
    "credential",
    "credentials",
    "cred",
    "creds",
    "code",
    "session",
    "sess",
    "sessionid",
    "sid",
    "phpsessid",
    "jsessionid",
    "clearance",
    "psid",
    "cookie",
];

/// Last words of names whose values identify, count or describe rather than authenticate.
const ID_WORDS: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "guid",
    "uid",
    "account",
    "hash",
    "hashed",
    "hashes",
    "sha",
    "sha1",
    "sha256",
    "sha384",
    "sha512",
    "md5",
    "checksum",
    "digest",
    "integrity",
    "etag",
    "fingerprint",
    "type",
    "kind",
    "name",
    "names",
    "count",
    "length",
    "len",
    "size",
    "version",
    "revision",
    "rev",
    "commit",
    "nonce",
    "index",
    "prefix",
    "suffix",
    "url",
    "uri",
    "path",
    "dir",
    "filename",
    "field",
    "header",
    "label",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "format",
    "env",
    "var",
    "ref",
];

/// Credential words a one-word name may end with (`apikey`, `authtoken`, `clientsecret`).
const CREDENTIAL_SUFFIXES: &[&str] = &["key", "token", "secret", "password", "passwd"];

/// What the name a value is bound to says about it.
pub(crate) fn classify(name: &[u8]) -> NameKind {
    let lower = name.to_ascii_lowercase();
    if let Some((_, why)) = NOT_CREDENTIAL
        .iter()
        .find(|(w, _)| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return NameKind::NotCredential(why);
    }
    let words = words(name);
    let Some(last) = words.last().map(String::as_str) else {
        return NameKind::Other;
    };
    let before_last = words.len().checked_sub(2).map(|i| words[i].as_str());
    if last == "token" {
        if let Some((_, why)) = NOT_CREDENTIAL_TOKENS
            .iter()
            .find(|(w, _)| before_last == Some(*w))
        {
            return NameKind::NotCredential(why);
        }
    }
    if CREDENTIAL_WORDS.contains(&last) || (last == "id" && before_last == Some("session")) {
        return NameKind::Credential;
    }
    if ID_WORDS.contains(&last) {
        return NameKind::IdLike;
    }
    if words.len() == 1 {
        if last.ends_with("id") {
            return NameKind::IdLike;
        }
        if CREDENTIAL_SUFFIXES.iter().any(|s| last.ends_with(s)) {
            return NameKind::Credential;
        }
    }
    NameKind::Other
}

/// Whether a rule's context word (at `context`) belongs with the secret (at `secret`): on the
/// same line; or, across lines, the secret is nested in the call, object or list the context
/// opens (`AzureOpenAI(\n  api_key="…"`), in the YAML block under a key that holds the word
/// (`deepseek:\n  api_key: …`) or in the INI section named by it; or, for a context after the
/// secret, both are items of one object, call or list (`"api_key": "…",\n "endpoint": "…"`).
/// A window that crosses statements is not context.
pub(crate) fn context_bound(content: &[u8], context: &Range<usize>, secret: &Range<usize>) -> bool {
    if context.end <= secret.start {
        let between = &content[context.end..secret.start];
        if memchr::memchr(b'\n', between).is_none() {
            return true;
        }
        nested_in_brackets(between) || in_yaml_block(content, context, secret.start)
    } else if secret.end <= context.start {
        let between = &content[secret.end..context.start];
        if memchr::memchr(b'\n', between).is_none() {
            return true;
        }
        sibling_items(between)
    } else {
        true
    }
}

/// Text that ends inside a bracket it opened, without closing one opened before it, ending a
/// statement or leaving a blank line.
fn nested_in_brackets(between: &[u8]) -> bool {
    let mut depth = 0i32;
    for (i, &b) in between.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b';' => return false,
            b'\n' if blank_line_follows(&between[i + 1..]) => return false,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth > 0
}

/// Text between two items of one object, call or list: a separating comma at their level, no
/// bracket closed that was opened before, no statement end, no blank line.
fn sibling_items(between: &[u8]) -> bool {
    let mut depth = 0i32;
    let mut comma = false;
    for (i, &b) in between.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => comma = true,
            b';' => return false,
            b'\n' if blank_line_follows(&between[i + 1..]) => return false,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    comma
}

fn blank_line_follows(rest: &[u8]) -> bool {
    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    rest[..line_end].iter().all(|b| b.is_ascii_whitespace())
}

/// The context word is part of a YAML key that opens a block (`deepseek:` or
/// `azure_openai_settings:` alone on its line) or an INI/TOML section header (`[deepseek]`),
/// and the secret's line is inside that block or section.
fn in_yaml_block(content: &[u8], context: &Range<usize>, secret_start: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &content[..context.start]).map_or(0, |i| i + 1);
    let line_end =
        memchr::memchr(b'\n', &content[context.end..]).map_or(content.len(), |i| context.end + i);
    let line = &content[line_start..line_end];
    let indent = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let trimmed = trim(line);
    let section = trimmed.starts_with(b"[") && trimmed.ends_with(b"]");
    let before = &content[line_start + indent..context.start];
    let after = trim(&content[context.end..line_end]);
    let block_key = before
        .iter()
        .all(|&b| is_name_byte(b) || b == b'"' || b == b'\'')
        && yaml_key_rest(after);
    if !section && !block_key {
        return false;
    }
    let mut at = line_end + 1;
    while at <= secret_start && at < content.len() {
        let end = memchr::memchr(b'\n', &content[at..]).map_or(content.len(), |i| at + i);
        let l = &content[at..end];
        let lead = l.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        let blank = lead == l.len();
        if !blank {
            if section && trim(l).starts_with(b"[") {
                return false;
            }
            if !section && lead <= indent {
                return false;
            }
        }
        at = end + 1;
    }
    true
}

/// What may follow the context word on a YAML line that opens a block: the rest of the key,
/// a closing quote, the colon and an optional comment.
fn yaml_key_rest(after: &[u8]) -> bool {
    let key_end = after
        .iter()
        .position(|&b| !(is_name_byte(b) || b == b'"' || b == b'\''))
        .unwrap_or(after.len());
    let rest = trim(&after[key_end..]);
    rest.first() == Some(&b':') && {
        let tail = trim(&rest[1..]);
        tail.is_empty() || tail.starts_with(b"#")
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_completed_to_the_left() {
        let text = b"export PINECONE_API_KEY=abc";
        let at = 16..23;
        assert_eq!(&text[at.clone()], b"API_KEY");
        assert_eq!(&text[full_name(text, at)], b"PINECONE_API_KEY");
        let cookie = b"a=1; __Host-next-auth.csrf-token=xyz";
        let at = 27..32;
        assert_eq!(
            &cookie[full_name(cookie, at)],
            b"__Host-next-auth.csrf-token"
        );
        let url = b"a.png?alt=media&token=x";
        assert_eq!(&url[full_name(url, 16..21)], b"&token");
    }

    #[test]
    fn words_split_at_humps_and_separators() {
        assert_eq!(words(b"OSSAccessKeyId"), ["oss", "access", "key", "id"]);
        assert_eq!(words(b"secretAccessKey"), ["secret", "access", "key"]);
        assert_eq!(words(b"X-API-KEY"), ["x", "api", "key"]);
        assert_eq!(words(b"token_sha256"), ["token", "sha256"]);
    }

    #[test]
    fn names_classified() {
        use NameKind::*;
        for (name, want) in [
            (&b"api_key"[..], Credential),
            (b"PINECONE_API_KEY", Credential),
            (b"X-API-KEY", Credential),
            (b"Authorization", Credential),
            (b"read_write_token", Credential),
            (b"APIKEY", Credential),
            (b"PHPSESSID", Credential),
            (b"ASP.NET_SessionId", Credential),
            (b"cf_clearance", Credential),
            (b"aws.secretkey", Credential),
            (b"SUPABASE_SERVICE_ROLE_KEY", Credential),
            (b"auth", Credential),
            (b"creds", Credential),
            (b"auth_type", IdLike),
            (b"token_id", IdLike),
            (b"api_key_sha256", IdLike),
            (b"OSSAccessKeyId", IdLike),
            (b"token_type", IdLike),
            (b"spec_hash", IdLike),
            (b"SECRET_KEY_BASE", Other),
        ] {
            assert_eq!(classify(name), want, "{}", String::from_utf8_lossy(name));
        }
        assert!(matches!(
            classify(b"csrfmiddlewaretoken"),
            NotCredential("a CSRF token")
        ));
        assert!(matches!(
            classify(b"__Host-next-auth.csrf-token"),
            NotCredential("a CSRF token")
        ));
        assert!(matches!(
            classify(b"g-recaptcha-response"),
            NotCredential(_)
        ));
        assert!(matches!(classify(b"next_page_token"), NotCredential(_)));
        assert!(matches!(classify(b"FileToken"), NotCredential(_)));
        assert_eq!(classify(b"NEXT_PUBLIC_PASSWORD"), Credential);
        assert_eq!(classify(b"FILE_ENCRYPTION_KEY"), Credential);
    }

    fn bound(text: &str, context: &str, secret: &str) -> bool {
        let c = text.find(context).unwrap();
        let s = text.find(secret).unwrap();
        context_bound(
            text.as_bytes(),
            &(c..c + context.len()),
            &(s..s + secret.len()),
        )
    }

    #[test]
    fn context_on_the_same_line_or_enclosing_the_value() {
        assert!(bound(
            "AZURE_OPENAI_API_KEY=SECRET\n",
            "AZURE_OPENAI",
            "SECRET"
        ));
        assert!(bound(
            "client = AzureOpenAI(\n    azure_endpoint=\"x\",\n    api_key=\"SECRET\",\n)",
            "AzureOpenAI",
            "SECRET"
        ));
        assert!(bound(
            "deepseek:\n  base_url: https://api.deepseek.com/v1\n  api_key: \"SECRET\"\n",
            "deepseek",
            "SECRET"
        ));
        assert!(bound(
            "[deepseek]\nurl = x\n\nkey = SECRET\n",
            "deepseek",
            "SECRET"
        ));
        assert!(bound(
            "{\"api_key\": \"SECRET\",\n \"endpoint\": \"https://c.openai.azure.com/\"}",
            "openai.azure.com",
            "SECRET"
        ));
    }

    #[test]
    fn context_in_another_statement_is_not_bound() {
        assert!(!bound(
            "if (profile.use_azure_openai) {\n  x = 1\n}\nbaseURL: \"https://gw/v1/SECRET/x\"",
            "azure_openai",
            "SECRET"
        ));
        assert!(!bound(
            "AZURE_OPENAI_ENDPOINT=https://x\nACCOUNT_ID=SECRET\n",
            "AZURE_OPENAI",
            "SECRET"
        ));
        assert!(!bound(
            "deepseek:\n  url: x\nother:\n  api_key: SECRET\n",
            "deepseek",
            "SECRET"
        ));
        assert!(!bound(
            "api-key: SECRET\nendpoint: https://c.openai.azure.com\n",
            "openai.azure.com",
            "SECRET"
        ));
        assert!(!bound(
            "client = AzureOpenAI(endpoint=x)\nkey = \"SECRET\"\n",
            "AzureOpenAI",
            "SECRET"
        ));
    }
}
