//! Evidence: how likely a finding is a live credential, and why.
//!
//! Two kinds of evidence, kept apart on purpose:
//! - *value evidence* looks at the secret itself (a published example value, a placeholder
//!   word inside it, a checksum that fails, a key body that does not decode) and may lower any
//!   finding, down to a fixture;
//! - *place evidence* looks at where it is (a path under `tests/`, `fixtures/`, `examples/`,
//!   `docs/`…; the words fake, dummy, example, sample on the line) and may mark generic and
//!   private-key findings as fixtures, but never a provider key with its unique marker: an
//!   OpenAI key in `tests/test_chat.py` is the classic real leak. Generic findings in vendored
//!   or minified third-party code (`node_modules/`, `site-packages/`, `*.min.js`) are fixtures
//!   by place too: a library's default, not this repository's credential.
//!
//! JSON Web Tokens are judged by their claims (the `jwt` module); generic findings by the name the value
//! is bound to and by how random the value is.

pub(crate) mod basic;
pub(crate) mod jwt;

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::matcher::binding::{self, NameKind};
use crate::matcher::heuristics::{is_hex_digest, shannon_entropy};
use crate::rules::{Rule, ValueCheck};

/// How likely a finding is a live credential, named in lowercase (`low`, `medium`, `high`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Probably not a live credential (or not checkable).
    Low,
    /// Credential-shaped, with some support.
    Medium,
    /// A credential by its format and its value.
    High,
}

impl Confidence {
    /// The lowercase name, as serde writes it (a test holds them equal).
    pub fn as_str(self) -> &'static str {
        crate::names::name(&self)
    }
}

/// Why a finding is considered a test fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fixture {
    /// The value itself is not a real credential (example value, failed checksum…).
    Value,
    /// It sits in test or example material.
    Place,
}

/// The verdict on one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Assessment {
    /// Confidence.
    pub confidence: Confidence,
    /// Set when the finding is a fixture.
    pub fixture: Option<Fixture>,
    /// The evidence, in words.
    pub context: Vec<String>,
}

/// How a rule's findings are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleClass {
    /// A provider key with a unique marker: place never downgrades it.
    Marked,
    /// A private key block: place may mark it a fixture; its body must decode.
    PrivateKey,
    /// A context rule (assignment, bearer, URL password): medium when the name bound to the
    /// value says credential and the value looks random, low otherwise.
    Generic,
    /// A JSON Web Token: its claims decide.
    Jwt,
}

impl RuleClass {
    /// The class of a rule.
    pub fn of(rule: &Rule) -> RuleClass {
        match rule.check {
            Some(ValueCheck::Jwt) => return RuleClass::Jwt,
            Some(ValueCheck::PrivateKey) => return RuleClass::PrivateKey,
            Some(ValueCheck::BasicAuth) | None => {}
        }
        if rule.generic {
            RuleClass::Generic
        } else if rule
            .keywords
            .iter()
            .any(|k| k.contains("-----BEGIN") || k.contains("PRIVATE KEY"))
        {
            RuleClass::PrivateKey
        } else {
            RuleClass::Marked
        }
    }
}

/// First 16 bytes of SHA-256, hex: how published example values are listed, so that this
/// file holds no key-shaped literal.
fn digest(secret: &[u8]) -> String {
    Sha256::digest(secret)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Published example credentials (vendor documentation, jwt.io), by [`digest`].
const PUBLISHED_EXAMPLES: &[(&str, &str)] = &[
    (
        "1a5d44a2dca19669d72edf4c4f1c27c4",
        "AWS documentation's example access key id",
    ),
    (
        "78314b11be2e581549ac1c4f616563fa",
        "AWS documentation's example secret access key",
    ),
    (
        "7f75367e7881255134e1375e723d1dea",
        "the jwt.io example token",
    ),
    (
        "3543c50b0cb9cea8e55eb1f529b79f04",
        "GitHub documentation's example token",
    ),
    (
        "bc3ae723f57c6b9e3fd80b699fcc420f",
        "GitHub documentation's example token",
    ),
    (
        "6c96130f130ab0d6d158397e24d2bcc1",
        "RFC 6749's example access token",
    ),
    (
        "00cf4c781dc37003f7c7dd7d4c9a6ef1",
        "RFC 6749's example refresh token",
    ),
    (
        "a35b81a7d7927b70ec99270dd2362b88",
        "RFC 6749's example authorization code",
    ),
    (
        "ca7459e2b26776de081b9a07e40227fd",
        "RFC 6749's example client credentials",
    ),
    (
        "b8e148545b13c78bc74da2f1a7275dd7",
        "RFC 6750's example bearer token",
    ),
    (
        "986c0dc956dc822b5d8f698661b9eb1e",
        "the UUID that documentation uses as its example",
    ),
    (
        "95a4db2dd430bb3f690bf0c7487f3bc8",
        "Firebase documentation's example API key",
    ),
    (
        "279a2219c2388e7f062e82cf79c635e6",
        "Firebase documentation's example API key",
    ),
    (
        "281cbc35f6814ed4e401cdf03223a65a",
        "the Firebase JS SDK's public test-project API key",
    ),
    (
        "fe686096b4987fed70f96ffa6572cccb",
        "the Firebase JS SDK's public test-project API key",
    ),
    (
        "4c1bbecaca97449149fb0c08669495db",
        "the Firebase JS SDK's public test-project API key",
    ),
    (
        "395994d252046759dc676a5dc6af97e5",
        "the Firebase JS SDK's auth demo project API key",
    ),
    (
        "dd07a0586b989a86a27244bb3f275c37",
        "the Firebase JS SDK's public end-to-end test project API key",
    ),
    (
        "f1385f1e79feaa3cbe87ef4c9c384154",
        "the Firebase JS SDK's public messaging test project API key",
    ),
    (
        "c85debb55f2f204d868cc1552c42faa1",
        "the Supabase CLI's local development secret key",
    ),
    (
        "0011cc25eb4320717494d2703e8cba85",
        "the Azurite storage emulator's documented account key",
    ),
    (
        "0b5dd075ccdd03c42f4edda8e299e683",
        "Telegram documentation's example bot token",
    ),
];

/// Published example values that documentation and tutorials vary at the end (a digit
/// dropped, letters appended to reach a real key's length), by [`digest`] of their first bytes.
const PUBLISHED_EXAMPLE_PREFIXES: &[(usize, &str, &str)] = &[(
    30,
    "b60ec292cf3fc843a5922585ec04144e",
    "Firebase documentation's example API key, or a variant of it",
)];

/// Words that, inside a secret, say it was made up.
const MADE_UP_WORDS: &[&str] = &[
    "example",
    "fake",
    "dummy",
    "sample",
    "placeholder",
    "notreal",
    "redacted",
    "foobar",
];

/// Path components that hold tests, fixtures, examples and documentation.
const FIXTURE_DIRS: &[&str] = &[
    "test",
    "tests",
    "testdata",
    "test_data",
    "testing",
    "__tests__",
    "spec",
    "specs",
    "fixture",
    "fixtures",
    "example",
    "examples",
    "sample",
    "samples",
    "doc",
    "docs",
    "mock",
    "mocks",
    "testutil",
    "testutils",
    "demo",
    "demos",
];

/// Words a file name starts with when the file is test or demo material (`demo-host-key`,
/// `test_server.key`, `example.env`).
const FIXTURE_FILE_PREFIXES: &[&str] =
    &["test", "demo", "example", "sample", "fake", "dummy", "mock"];

/// Words on the line that mark test material.
const FIXTURE_WORDS: &[&str] = &["fake", "dummy", "example", "sample", "mock", "for testing"];

/// Value evidence: `Some(reason)` when the value itself is not a real credential.
pub(crate) fn value_evidence(class: RuleClass, rule_id: &str, secret: &[u8]) -> Option<String> {
    let d = digest(secret);
    if let Some((_, what)) = PUBLISHED_EXAMPLES.iter().find(|(h, _)| *h == d) {
        return Some(format!("a published example value ({what})"));
    }
    if let Some((_, _, what)) = PUBLISHED_EXAMPLE_PREFIXES
        .iter()
        .find(|(n, h, _)| secret.len() >= *n && digest(&secret[..*n]) == *h)
    {
        return Some(format!("a published example value ({what})"));
    }
    let lower = secret.to_ascii_lowercase();
    if class != RuleClass::PrivateKey {
        if let Some(w) = MADE_UP_WORDS
            .iter()
            .find(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
        {
            return Some(format!("the value contains the word `{w}`"));
        }
    }
    if let Some(valid) = github_checksum(secret) {
        if !valid {
            return Some("its CRC32 checksum does not match: not a token GitHub issued".into());
        }
    }
    if class == RuleClass::PrivateKey {
        if let Some(problem) = pem_body_problem(secret) {
            return Some(problem);
        }
    }
    if class == RuleClass::Jwt {
        if let Ok(token) = jwt::Jwt::decode(secret) {
            if let jwt::Verdict::Fixture(why) = jwt::judge(&token, now()) {
                return Some(why);
            }
        }
    }
    let _ = rule_id;
    None
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// GitHub's `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` tokens end in six base62 digits of the CRC32 of
/// the 30 characters before them. `None` for anything else.
pub(crate) fn github_checksum(secret: &[u8]) -> Option<bool> {
    let prefixes: [&[u8]; 5] = [b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"];
    if secret.len() != 40 || !prefixes.iter().any(|p| secret.starts_with(p)) {
        return None;
    }
    let body = &secret[4..34];
    let check = &secret[34..];
    if !secret[4..].iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(base62_6(crc32fast::hash(body)).as_bytes() == check)
}

/// `n` in base62 (`0-9A-Za-z`), left-padded with `0` to six digits.
pub(crate) fn base62_6(mut n: u32) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A PEM or OpenSSH private key block whose body decodes to something that kind of key cannot
/// be. `None` when it looks right, when it is encrypted or of a kind not checked, and when the
/// body cannot be decoded at all: a body cut short or laid out in a way not understood here is
/// unknown, never proof of a fake. Bodies in one-line layouts are read too: newlines escaped as
/// `\n` (a service-account JSON, a `.env` value, a Kubernetes manifest) or replaced by spaces.
pub(crate) fn pem_body_problem(block: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(block);
    if text.contains("ENCRYPTED") || text.contains("PGP") {
        return None;
    }
    let begin = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let kind_len = text[begin..].find("-----")?;
    let kind = &text[begin..begin + kind_len];
    let body_start = begin + kind_len + "-----".len();
    let body_end = text[body_start..]
        .find("-----END")
        .map_or(text.len(), |i| body_start + i);
    let unescaped = text[body_start..body_end]
        .replace("\\\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\r", "\n")
        .replace("\\t", " ");
    // Header lines (`Proc-Type:`, `DEK-Info:`) are not body; whitespace is layout.
    let body: String = unescaped
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let Ok(der) = engine.decode(body.as_bytes()) else {
        return repeated_body(&body).then(|| "the key body is repeated characters".into());
    };
    if kind.contains("OPENSSH") {
        if !der.starts_with(b"openssh-key-v1\0") {
            return Some("the key body is not an OpenSSH key".into());
        }
    } else if der.first() != Some(&0x30) || der.len() < 64 {
        return Some("the key body is not DER (a real key starts with an ASN.1 SEQUENCE)".into());
    }
    None
}

/// A body made of a few characters over and over (`abcabcabc…`), which no key encodes to.
fn repeated_body(body: &str) -> bool {
    let mut seen = [false; 256];
    body.bytes().for_each(|b| seen[b as usize] = true);
    body.len() >= 16 && seen.iter().filter(|&&s| s).count() <= 8
}

/// Paths of vendored and built third-party code: a package manager's directories, copied-in
/// libraries, build output, minified bundles.
const VENDOR_DIRS: &[&str] = &[
    "node_modules",
    "bower_components",
    "vendor",
    "vendors",
    "third_party",
    "third-party",
    "thirdparty",
    "site-packages",
    "dist-packages",
    "dist",
];

/// Whether a path holds vendored or minified third-party code, and why.
pub(crate) fn vendored(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let components: Vec<&str> = lower.split(['/', '\\']).collect();
    if let Some(dir) = components
        .iter()
        .rev()
        .skip(1)
        .find(|c| VENDOR_DIRS.contains(c))
    {
        return Some(format!(
            "the path is under `{dir}/` (vendored or built code)"
        ));
    }
    let file = components.last().copied().unwrap_or_default();
    let file = file.split(['!', '#']).next().unwrap_or(file);
    [".min.js", ".min.mjs", ".min.css", "-min.js", ".bundle.js"]
        .iter()
        .find(|ext| file.ends_with(*ext))
        .map(|_| format!("`{file}` is minified third-party code"))
}

/// Place evidence: `Some(reason)` when the path or the line says test material.
pub(crate) fn place_evidence(path: &str, line: &[u8]) -> Option<String> {
    let path_lower = path.to_ascii_lowercase();
    let components: Vec<&str> = path_lower.split(['/', '\\']).collect();
    if let Some((dir, _)) = components
        .iter()
        .rev()
        .skip(1)
        .find_map(|c| FIXTURE_DIRS.iter().find(|d| *d == c).map(|d| (d, c)))
    {
        return Some(format!("the path is under `{dir}/`"));
    }
    if let Some(file) = components.last() {
        let stem = file.split('.').next().unwrap_or(file);
        if let Some(p) = FIXTURE_FILE_PREFIXES.iter().find(|p| {
            stem.strip_prefix(**p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_', '.']))
        }) {
            return Some(format!("`{file}` is {p} material by its name"));
        }
        if stem.starts_with("test_")
            || stem.ends_with("_test")
            || stem.ends_with("_spec")
            || file.contains(".test.")
            || file.contains(".spec.")
        {
            return Some(format!("`{file}` is a test file"));
        }
    }
    let line_lower = line.to_ascii_lowercase();
    FIXTURE_WORDS
        .iter()
        .find(|w| memchr::memmem::find(&line_lower, w.as_bytes()).is_some())
        .map(|w| format!("the line says `{w}`"))
}

/// Strong value evidence for a generic finding: long, varied, high entropy.
fn strong_generic_value(secret: &[u8]) -> bool {
    char_classes(secret) >= 3 && secret.len() >= 20 && shannon_entropy(secret) >= 4.0
}

fn char_classes(secret: &[u8]) -> usize {
    [
        secret.iter().any(u8::is_ascii_lowercase),
        secret.iter().any(u8::is_ascii_uppercase),
        secret.iter().any(u8::is_ascii_digit),
        secret.iter().any(|b| b.is_ascii_punctuation()),
    ]
    .iter()
    .filter(|&&c| c)
    .count()
}

/// Passwords made of a word everyone tries and digits or symbols (`admin123`, `Password1!`).
const WEAK_PASSWORD_WORDS: &[&str] = &[
    "admin", "root", "test", "user", "pass", "password", "secret", "guest", "demo", "qwerty",
    "letmein", "welcome", "changeme", "default", "example", "abc",
];

/// A value that looks generated or chosen to be hard to guess: at least 8 characters, letters
/// mixed with digits or symbols (or with both cases from 12 characters on), no common-word
/// password, and the entropy such a value has.
fn random_value(secret: &[u8]) -> bool {
    let letters = secret.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let others = secret.len() - letters;
    let mixed_case =
        secret.iter().any(u8::is_ascii_lowercase) && secret.iter().any(u8::is_ascii_uppercase);
    if secret.len() < 8 || letters == 0 || (others == 0 && !(mixed_case && secret.len() >= 12)) {
        return false;
    }
    let word: Vec<u8> = secret
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .map(u8::to_ascii_lowercase)
        .collect();
    if WEAK_PASSWORD_WORDS.iter().any(|w| w.as_bytes() == word) {
        return false;
    }
    let max = (secret.len() as f64).log2();
    shannon_entropy(secret) >= (max * 0.65).clamp(2.0, 3.2)
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Judges a generic finding: the name bound to the value, then the value.
fn generic_confidence(secret: &[u8], name: Option<&[u8]>, context: &mut Vec<String>) -> Confidence {
    let shown = name.map(|n| String::from_utf8_lossy(n).into_owned());
    let kind = name.map(binding::classify);
    let credential =
        kind == Some(NameKind::Credential) && !name.is_some_and(binding::is_query_parameter);
    if credential && (is_uuid(secret) || is_hex_digest(secret)) {
        let shape = if is_uuid(secret) {
            "a UUID"
        } else {
            "a hex string"
        };
        context.push(format!(
            "{shape} bound to the credential name `{}`: some providers issue keys in this shape",
            shown.unwrap_or_default()
        ));
        return Confidence::Medium;
    }
    if strong_generic_value(secret) {
        context.push("a long, varied, high-entropy value after a credential word".into());
        return Confidence::Medium;
    }
    if random_value(secret) && kind != Some(NameKind::IdLike) {
        context.push(match shown {
            Some(n) => format!("a random-looking value bound to `{n}`"),
            None => "a random-looking value in a credential slot".into(),
        });
        return Confidence::Medium;
    }
    context.push("a value after a credential word; no provider format".into());
    Confidence::Low
}

/// A rule whose regex has a `context` group: its provider word must be bound to the value.
fn context_guarded(rule: &Rule) -> bool {
    rule.compiled().is_ok_and(|c| c.context_group.is_some())
}

/// Judges one finding of `rule` with `secret`, at `path`, on `line`; `name` is the name the
/// value is bound to, when the rule captures one.
pub(crate) fn assess(
    rule: &Rule,
    secret: &[u8],
    path: &str,
    line: &[u8],
    name: Option<&[u8]>,
) -> Assessment {
    let class = RuleClass::of(rule);
    let mut context = Vec::new();
    if let Some(why) = value_evidence(class, &rule.id, secret) {
        context.push(format!("fixture by value: {why}"));
        return Assessment {
            confidence: Confidence::Low,
            fixture: Some(Fixture::Value),
            context,
        };
    }
    let mut place_applies = class != RuleClass::Marked;
    let confidence = match class {
        RuleClass::Marked => {
            context.push("the provider's unique format".into());
            if github_checksum(secret) == Some(true) {
                context.push("its CRC32 checksum matches".into());
            }
            Confidence::High
        }
        RuleClass::PrivateKey => {
            context.push("a private key block whose body decodes".into());
            Confidence::High
        }
        RuleClass::Generic => {
            // Basic credentials are judged by their password (the matcher kept only values
            // that decode).
            let basic = (rule.check == Some(ValueCheck::BasicAuth))
                .then(|| basic::Basic::decode(secret).ok())
                .flatten();
            let judged = match &basic {
                Some(b) => {
                    context.push(format!("HTTP Basic credentials of the user `{}`", b.user));
                    generic_confidence(b.password.as_bytes(), Some(b"password"), &mut context)
                }
                None => generic_confidence(secret, name, &mut context),
            };
            if context_guarded(rule) {
                // The matcher keeps a guarded rule's match only when its provider word belongs
                // to the value's assignment, call or block: that binding is evidence.
                context.push("the provider is named in the same assignment, call or block".into());
                judged.max(Confidence::Medium)
            } else {
                judged
            }
        }
        RuleClass::Jwt => match jwt::Jwt::decode(secret).map(|t| jwt::judge(&t, now())) {
            Ok(jwt::Verdict::Token {
                confidence,
                context: said,
                place_applies: applies,
            }) => {
                context.extend(said);
                place_applies = applies;
                confidence
            }
            // The matcher keeps only tokens that decode, and fixtures returned above.
            _ => Confidence::Low,
        },
    };
    if place_applies {
        let vendored = matches!(class, RuleClass::Generic | RuleClass::Jwt)
            .then(|| vendored(path))
            .flatten();
        if let Some(why) = vendored.or_else(|| place_evidence(path, line)) {
            context.push(format!("fixture by place: {why}"));
            return Assessment {
                confidence: Confidence::Low,
                fixture: Some(Fixture::Place),
                context,
            };
        }
    } else if let Some(why) = place_evidence(path, line) {
        context.push(format!(
            "{why}, but a provider key is reported wherever it is"
        ));
    }
    Assessment {
        confidence,
        fixture: None,
        context,
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_names_are_serdes() {
        for c in [Confidence::Low, Confidence::Medium, Confidence::High] {
            let name = serde_json::to_value(c).expect("a unit variant serializes");
            assert_eq!(name, c.as_str());
            assert_eq!(serde_json::from_value::<Confidence>(name).ok(), Some(c));
        }
    }

    fn github_token(prefix: &str, valid: bool) -> String {
        let body: String = (0..30)
            .map(|_| {
                let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                a[fastrand::usize(..a.len())] as char
            })
            .collect();
        let mut check = base62_6(crc32fast::hash(body.as_bytes()));
        if !valid {
            // Change the first checksum digit to another one.
            let first = if check.starts_with('Z') { 'Y' } else { 'Z' };
            check = format!("{first}{}", &check[first.len_utf8()..]);
        }
        format!("{prefix}_{body}{check}")
    }

    #[test]
    fn github_checksums() {
        for p in ["ghp", "gho", "ghu", "ghs", "ghr"] {
            assert_eq!(
                github_checksum(github_token(p, true).as_bytes()),
                Some(true)
            );
            assert_eq!(
                github_checksum(github_token(p, false).as_bytes()),
                Some(false)
            );
        }
        assert_eq!(github_checksum(b"sk-something"), None);
        assert_eq!(base62_6(0), "000000");
        assert_eq!(base62_6(61), "00000z");
        assert_eq!(base62_6(62), "000010");
    }

    #[test]
    fn rfc_oauth_examples_are_value_fixtures() {
        let token = ["2YotnFZFEjr1", "zCsicMWpAA"].concat();
        let why = value_evidence(RuleClass::Generic, "generic-api-key", token.as_bytes()).unwrap();
        assert!(why.contains("RFC 6749"), "{why}");
    }

    #[test]
    fn the_documentation_example_uuid_is_a_value_fixture() {
        let uuid = ["123e4567-e89b", "-12d3-a456-426614174000"].concat();
        let why = value_evidence(RuleClass::Generic, "generic-api-key", uuid.as_bytes()).unwrap();
        assert!(why.contains("example"), "{why}");
    }

    #[test]
    fn published_examples_are_value_fixtures() {
        let aws = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
        let why = value_evidence(RuleClass::Marked, "aws", aws.as_bytes()).unwrap();
        assert!(why.contains("published example"), "{why}");
    }

    #[test]
    fn a_bound_provider_word_is_evidence() {
        let rules = crate::RuleSet::builtin().expect("built-in rules load");
        // Letters only: no random-looking value by itself, so a generic rule says low.
        let key: String = (0..32)
            .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
            .collect();
        let line = format!("MISTRAL_API_KEY={key}");
        let mistral = rules.get("mistral-api-key").expect("mistral rule");
        let a = assess(
            mistral,
            key.as_bytes(),
            "app/config.py",
            line.as_bytes(),
            None,
        );
        assert_eq!(a.confidence, Confidence::Medium, "{:?}", a.context);
        assert!(a.context.iter().any(|c| c.contains("provider is named")));
        let generic = rules.get("generic-api-key").expect("generic rule");
        let name: &[u8] = b"MISTRAL_API_KEY";
        let g = assess(
            generic,
            key.as_bytes(),
            "app/config.py",
            line.as_bytes(),
            Some(name),
        );
        assert_eq!(g.confidence, Confidence::Low, "{:?}", g.context);
    }

    #[test]
    fn firebase_documentation_examples_and_their_variants_are_value_fixtures() {
        let stem = ["AIzaSyDOC", "AbC123dEf456", "GhI789jKl"].concat();
        for tail in ["012-MnO", "01-MnO", "01MnOpQrS", "01-MnO2345"] {
            let key = format!("{stem}{tail}");
            let why = value_evidence(RuleClass::Marked, "google-api-key", key.as_bytes()).unwrap();
            assert!(why.contains("Firebase documentation"), "{why}");
        }
        let other = format!("{}{}", &stem[..29], "Q012-MnOpQrS");
        assert_eq!(
            value_evidence(RuleClass::Marked, "google-api-key", other.as_bytes()),
            None
        );
    }

    /// A PEM block of `kind` with a DER-shaped random body, its lines joined by `sep`.
    fn pem(kind: &str, sep: &str) -> String {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut der = vec![0x30u8, 0x82, 0x04, 0xa4];
        der.extend((0..600).map(|_| fastrand::u8(..)));
        let body = engine.encode(&der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let kind = format!("{kind} {}", ["PRIVATE", "KEY"].join(" "));
        format!(
            "-----BEGIN {kind}-----{sep}{}{sep}-----END {kind}-----",
            lines.join(sep)
        )
    }

    #[test]
    fn pem_body_checks() {
        let engine = base64::engine::general_purpose::STANDARD;
        assert_eq!(pem_body_problem(pem("RSA", "\n").as_bytes()), None);
        let text =
            engine.encode(b"hello world, this is just some text and not a key at all, no no no");
        let begin = ["-----BEGIN ", "PRIVATE KEY-----"].concat();
        let end = ["-----END ", "PRIVATE KEY-----"].concat();
        let notder = format!("{begin}\n{text}\n{end}");
        assert!(pem_body_problem(notder.as_bytes()).unwrap().contains("DER"));
        // A body that cannot be decoded is unknown, not proof of a fake…
        let cut = format!(
            "{begin}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{}\n{end}",
            "q8Zt2LmX9vR4pN7wK"
        );
        assert_eq!(pem_body_problem(cut.as_bytes()), None);
        // …but repeated characters are no key whatever the layout.
        let repeated = format!("{begin}\n{}\n{end}", "abcd".repeat(30));
        assert!(pem_body_problem(repeated.as_bytes()).is_some());
        let zeros = format!("{begin}\n{}\n{end}", "A".repeat(120));
        assert!(pem_body_problem(zeros.as_bytes()).is_some());
    }

    #[test]
    fn pem_bodies_in_one_line_layouts_decode() {
        for sep in ["\\n", "\\r\\n", " ", "\\\\n", "\n  "] {
            for kind in ["RSA", "EC"] {
                let block = pem(kind, sep);
                assert_eq!(pem_body_problem(block.as_bytes()), None, "{block}");
            }
            let pkcs8 = pem("", sep)
                .replace("BEGIN  ", "BEGIN ")
                .replace("END  ", "END ");
            assert_eq!(pem_body_problem(pkcs8.as_bytes()), None, "{pkcs8}");
        }
    }

    #[test]
    fn place_evidence_paths_and_words() {
        assert!(place_evidence("tests/data/key.pem", b"").is_some());
        assert!(place_evidence("src/test_chat.py", b"").is_some());
        assert!(place_evidence("pkg/foo_test.go", b"").is_some());
        assert!(place_evidence("src/app.py", b"password = 'fake-but-long'").is_some());
        assert!(place_evidence("src/app.py", b"password = x").is_none());
        assert!(place_evidence("contest/app.py", b"").is_none());
        assert!(place_evidence("demo-host-key", b"").is_some());
        assert!(place_evidence("demos/user_rsa_key", b"").is_some());
        assert!(place_evidence("demo_dss_key", b"").is_some());
        assert!(place_evidence("democracy.key", b"").is_none());
        assert!(place_evidence("testament.pem", b"").is_none());
    }
}
