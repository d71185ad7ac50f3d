//! Expands the placeholders in rule examples into concrete text, so that the repository never
//! holds a key-shaped literal: `sk-proj-{base64url:74}T3BlbkFJ{base64url:74}` becomes a fresh
//! fake key for each seed.
//!
//! Placeholders: `{base64url:N}`, `{base64:N}`, `{alnum:N}`, `{hex:N}`, `{HEX:N}`, `{lower:N}`,
//! `{upper:N}`, `{digits:N}`, `{lowernum:N}`, `{uppernum:N}` (N random characters of that
//! alphabet), `{rep:C:N}` (the character C, N times) and `{b64json:K=V;K=V}` (unpadded
//! base64url of the JSON object `{"K":"V",…}`, a value of digits only as a number: the parts
//! of a JSON Web Token, so that no token is written out), `{b64:TEXT}` (padded base64 of TEXT
//! as written) and `{b64basic:USER:N}` (padded base64 of `USER:` and N random alphanumerics:
//! HTTP Basic credentials). Any other brace is literal text.

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

fn alphabet(name: &str) -> Option<String> {
    Some(match name {
        "base64url" => format!("{UPPER}{LOWER}{DIGITS}-_"),
        "base64" => format!("{UPPER}{LOWER}{DIGITS}+/"),
        "alnum" => format!("{UPPER}{LOWER}{DIGITS}"),
        "hex" => "0123456789abcdef".to_string(),
        "HEX" => "0123456789ABCDEF".to_string(),
        "lower" => LOWER.to_string(),
        "upper" => UPPER.to_string(),
        "digits" => DIGITS.to_string(),
        "lowernum" => format!("{LOWER}{DIGITS}"),
        "uppernum" => format!("{UPPER}{DIGITS}"),
        _ => return None,
    })
}

/// Most characters one placeholder, or one whole example, may expand to: far more than any
/// credential, little enough that `{rep:x:18446744073709551615}` is an error, not an abort.
pub const MAX_EXPANSION: usize = 1 << 20;

/// Expands every placeholder in `template` with a generator seeded by `seed`.
/// The same template and seed always give the same text. A placeholder (or the whole example)
/// asking for more than [`MAX_EXPANSION`] characters is an error saying which.
pub fn expand(template: &str, seed: u64) -> Result<String, String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = String::with_capacity(template.len().min(MAX_EXPANSION) * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let placeholder = match after.find('}') {
            Some(close) => expand_one(
                &after[..close],
                MAX_EXPANSION - out.len().min(MAX_EXPANSION),
                &mut rng,
            )
            .map_err(|why| format!("placeholder `{{{}}}` {why}", &after[..close]))?
            .map(|text| (close, text)),
            None => None,
        };
        match placeholder {
            Some((close, text)) => {
                out.push_str(&text);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if out.len() > MAX_EXPANSION {
        return Err(format!(
            "expands to more than {MAX_EXPANSION} characters (1 MiB)"
        ));
    }
    Ok(out)
}

/// The text of one placeholder (`Ok(None)`: not a placeholder, so literal text), given that
/// `room` characters are left for it.
fn expand_one(inner: &str, room: usize, rng: &mut fastrand::Rng) -> Result<Option<String>, String> {
    if let Some(fields) = inner.strip_prefix("b64json:") {
        return Ok(Some(b64json(fields)));
    }
    if let Some(text) = inner.strip_prefix("b64:") {
        return Ok(Some(b64(text)));
    }
    if let Some((user, count)) = inner
        .strip_prefix("b64basic:")
        .and_then(|spec| spec.rsplit_once(':'))
    {
        let n = match count.parse::<usize>() {
            Ok(n) if n <= room => n,
            _ => return Ok(None),
        };
        let chars: Vec<char> = format!("{UPPER}{LOWER}{DIGITS}").chars().collect();
        let password: String = (0..n).map(|_| chars[rng.usize(..chars.len())]).collect();
        return Ok(Some(b64(&format!("{user}:{password}"))));
    }
    let mut parts = inner.split(':');
    let Some(kind) = parts.next() else {
        return Ok(None);
    };
    let (fill, count) = if kind == "rep" {
        match (parts.next(), parts.next(), parts.next()) {
            (Some(c), Some(n), None) if c.chars().count() == 1 => (Fill::Rep(c), n),
            _ => return Ok(None),
        }
    } else {
        match (alphabet(kind), parts.next(), parts.next()) {
            (Some(a), Some(n), None) => (Fill::Random(a.chars().collect()), n),
            _ => return Ok(None),
        }
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let n = match count.parse::<usize>() {
        Ok(n) if n <= room => n,
        _ => {
            return Err(format!(
                "asks for {count} characters; an example may hold at most {MAX_EXPANSION} \
                 (1 MiB)"
            ))
        }
    };
    Ok(Some(match fill {
        Fill::Rep(c) => c.repeat(n),
        Fill::Random(chars) => (0..n).map(|_| chars[rng.usize(..chars.len())]).collect(),
    }))
}

/// What a placeholder is filled with.
enum Fill<'a> {
    Rep(&'a str),
    Random(Vec<char>),
}

/// Padded standard base64 of `text`.
fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `K=V;K=V` as unpadded base64url of a JSON object.
fn b64json(fields: &str) -> String {
    use base64::Engine;
    let mut map = serde_json::Map::new();
    for field in fields.split(';').filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').unwrap_or((field, ""));
        let value = match v.parse::<i64>() {
            Ok(n) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => n.into(),
            _ => serde_json::Value::String(v.to_string()),
        };
        map.insert(k.to_string(), value);
    }
    let json = serde_json::Value::Object(map).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64json_builds_token_parts() {
        use base64::Engine;
        let s = expand("{b64json:alg=HS256;exp=1700000000}", 1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"alg":"HS256","exp":1700000000}"#
        );
    }

    #[test]
    fn huge_counts_are_errors_not_aborts() {
        for template in [
            "{rep:x:18446744073709551615}",
            "{alnum:4000000000}",
            "{hex:99999999999999999999999}",
            "{rep:x:1048577}",
        ] {
            let err = expand(template, 1).unwrap_err();
            assert!(
                err.contains(&template[1..template.len() - 1]) && err.contains("at most"),
                "{err}"
            );
        }
        // Each is within the bound, all of them together are not.
        let err = expand("{rep:x:600000}{rep:y:600000}", 1).unwrap_err();
        assert!(err.contains("{rep:y:600000}"), "{err}");
        assert_eq!(expand("{rep:x:1048576}", 1).unwrap().len(), 1 << 20);
    }

    #[test]
    fn base64_of_text_and_of_basic_credentials() {
        use base64::Engine;
        let decode = |s: &str| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
            String::from_utf8(bytes).unwrap()
        };
        assert_eq!(decode(&expand("{b64:user:pass}", 1).unwrap()), "user:pass");
        let basic = decode(&expand("{b64basic:deploy:16}", 1).unwrap());
        let (user, password) = basic.split_once(':').unwrap();
        assert_eq!(user, "deploy");
        assert_eq!(password.len(), 16);
        assert!(password.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(decode(&expand("{b64basic::8}", 2).unwrap()).starts_with(':'));
    }

    #[test]
    fn expands_known_placeholders_only() {
        let s = expand("a{hex:8}b{rep:x:3}c{not:3}{json}", 7).unwrap();
        assert_eq!(s.len(), "a".len() + 8 + 1 + 3 + 1 + "{not:3}{json}".len());
        assert!(s.starts_with('a') && s.ends_with("cxxx{not:3}{json}".trim_start_matches("cxxx")));
        assert!(s.contains("bxxxc"));
        assert!(s[1..9].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(expand("{alnum:20}", 1), expand("{alnum:20}", 1));
        assert_ne!(expand("{alnum:20}", 1), expand("{alnum:20}", 2));
        assert!(expand("{alnum:20}", 1).is_ok());
    }
}

/// Seeds every example is expanded with when rules are checked.
pub const CHECK_SEEDS: [u64; 5] = [1, 2, 3, 42, 2024];

/// Why a rule's example check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// Rule id.
    pub rule: String,
    /// The template.
    pub template: String,
    /// Seed it was expanded with.
    pub seed: u64,
    /// What went wrong.
    pub problem: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rule `{}`: {} (seed {}, example {:?})",
            self.rule, self.problem, self.seed, self.template
        )
    }
}

/// Runs every rule's examples and negative examples through `scanner` (with all its rules,
/// so that overlap resolution is part of the check): each example must yield a finding of
/// its rule, found through the prefilter; each negative example must yield none.
pub fn check(scanner: &crate::Scanner) -> Vec<ExampleFailure> {
    let mut failures = Vec::new();
    let mut matcher = scanner.matcher();
    let mut matches = crate::matcher::Matches::default();
    let rules = scanner.rules().rules();
    for (index, rule) in rules.iter().enumerate() {
        let fail = |template: &str, seed: u64, problem: String| ExampleFailure {
            rule: rule.id.clone(),
            template: template.to_string(),
            seed,
            problem,
        };
        if rule.examples().is_empty() {
            failures.push(fail("", 0, "has no examples".into()));
        }
        let path = Some(rule.example_path.as_bytes());
        if !rule.applies_to_path(path) {
            failures.push(fail(
                "",
                0,
                format!(
                    "its examples are checked at `{}`, which its `path` does not match (set `example_path`)",
                    rule.example_path
                ),
            ));
        }
        for template in rule.examples() {
            for seed in CHECK_SEEDS {
                let text = match expand(template, seed) {
                    Ok(t) => t,
                    Err(why) => {
                        failures.push(fail(template, seed, why));
                        break;
                    }
                };
                let Ok(compiled) = rule.compiled() else {
                    failures.push(fail(template, seed, "regex does not compile".into()));
                    break;
                };
                if !compiled.regex.is_match(text.as_bytes()) {
                    failures.push(fail(template, seed, "regex does not match".into()));
                    continue;
                }
                matcher.find(text.as_bytes(), path, false, &mut matches);
                if !matches.kept.iter().any(|m| m.rule == index) {
                    let why = if !rule.keywords.iter().any(|k| text.contains(k.as_str())) {
                        "no keyword occurs in it, so the prefilter loses it".to_string()
                    } else {
                        let mut explained = scanner.matcher().explain(true);
                        explained.find(text.as_bytes(), path, false, &mut matches);
                        match matches.dropped.iter().find(|d| d.candidate.rule == index) {
                            Some(d) => format!("matched but dropped: {}", d.reason),
                            None => "no finding".to_string(),
                        }
                    };
                    failures.push(fail(template, seed, why));
                }
            }
        }
        for template in rule.negative_examples() {
            for seed in CHECK_SEEDS {
                let text = match expand(template, seed) {
                    Ok(t) => t,
                    Err(why) => {
                        failures.push(fail(template, seed, why));
                        break;
                    }
                };
                matcher.find(text.as_bytes(), path, false, &mut matches);
                if matches.kept.iter().any(|m| m.rule == index) {
                    failures.push(fail(
                        template,
                        seed,
                        "negative example yields a finding".into(),
                    ));
                }
            }
        }
    }
    failures
}
