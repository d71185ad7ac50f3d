//! The on-disk rule format: what `rules/*.toml` and a user's `.keyhound.toml` may contain.
//! Parsing only; turning specs into runnable rules is `rules::compile`'s job.

use serde::Deserialize;

use crate::error::{Error, Result};
/// The `[rules.verify]` block, whose meaning is the verify module's.
pub use crate::verify::VerifySpec;

/// One rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique, stable identifier (kebab-case).
    pub id: String,
    /// One line saying what the rule finds.
    pub description: String,
    /// Bytes regex, compiled with Unicode off (ASCII classes).
    pub regex: String,
    /// Capture group (index or name) holding the secret.
    #[serde(default)]
    pub secret_group: Option<GroupRef>,
    /// Case-sensitive literals; the regex only runs where one occurs. Optional in a config
    /// file (see [`crate::rules::RuleSet::add_file`]); every built-in rule has some.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Longest secret (bytes) the rule reports; a longer match is dropped. Lets a rule bound a
    /// block (a PEM key) without a counted repetition, which would make its automaton huge.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Regex over the file path; the rule applies only to matching paths.
    #[serde(default)]
    pub path: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    #[serde(default)]
    pub severity: Option<String>,
    /// A rule that needs a context word: text only, and it yields to specific rules.
    #[serde(default)]
    pub generic: bool,
    /// Whether the rule runs on binary content (default: not generic).
    #[serde(default)]
    pub binary: Option<bool>,
    /// The secret carries a marker distinctive enough (OpenAI's `T3BlbkFJ`, a fixed prefix and
    /// checksum) that a match glued to other letters or digits is still a key: the engine
    /// drops the regex's outer boundaries (a leading `\b` or `(?:^|[^…])`, a trailing `\b` or
    /// `(?:[^…]|$)`), so keys packed into binary records and minified text are found. The rule
    /// file keeps the bounded regex; a rule with nothing to relax, or a generic one, is an error.
    #[serde(default)]
    pub packed: bool,
    /// A check the engine runs on the value itself: `jwt` (decode a JSON Web Token's header
    /// and claims; what is not one is dropped, the claims are evidence) or `private-key` (a
    /// PEM block whose body must decode, judged like the private-key rules).
    #[serde(default)]
    pub check: Option<String>,
    /// What to do about a finding.
    #[serde(default)]
    pub remediation: Option<String>,
    /// Per-rule allowlist.
    #[serde(default)]
    pub allowlist: Option<AllowlistSpec>,
    /// More per-rule allowlists (`[[rules.allowlists]]`), each judged on its own.
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
    /// The provider's page for revoking or rotating a key of this kind.
    #[serde(default)]
    pub revoke_url: Option<String>,
    /// Rules that must also match near a match of this one for it to be reported (a
    /// composite rule: a key id that counts only beside its secret).
    #[serde(default)]
    pub required: Vec<RequiredSpec>,
    /// `false`: the rule is never reported by itself; it only serves other rules' `required`.
    #[serde(default)]
    pub report: Option<bool>,
    /// Text with placeholders that must yield a finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Text with placeholders that must yield no finding of this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// The path the examples are checked at (default `example.txt`); a rule with `path` needs
    /// one it matches.
    #[serde(default)]
    pub example_path: Option<String>,
    /// How to ask the provider whether a secret works (only when a caller verifies).
    #[serde(default)]
    pub verify: Option<VerifySpec>,
}

/// `[[rules.required]]`: a rule that must match near the rule's match (the same file, and
/// within the given distances of the secret's start when they are set).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RequiredSpec {
    /// The other rule's id.
    pub id: String,
    /// At most this many lines above or below.
    #[serde(default)]
    pub within_lines: Option<usize>,
    /// Starting at most this many columns left or right.
    #[serde(default)]
    pub within_columns: Option<usize>,
}

/// A capture group named by index or by name.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum GroupRef {
    /// Group number (0 is the whole match).
    Index(usize),
    /// Group name.
    Name(String),
}

/// Things that drop a finding even though a rule matched. With `condition = "or"` (the
/// default) any one listed thing drops it; with `"and"` every kind listed must match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// What it is for (shown nowhere yet; kept so imported files keep their reasons).
    #[serde(default)]
    pub description: Option<String>,
    /// Regexes tested against the secret (or what `regex_target` names).
    #[serde(default)]
    pub regexes: Vec<String>,
    /// What `regexes` are tested against: `secret` (default), `match` (the whole regex
    /// match) or `line` (the lines the match is on).
    #[serde(default)]
    pub regex_target: Option<String>,
    /// Case-insensitive substrings of the secret.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes tested against the path.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Commit ids (full, or a prefix of at least 7 hex digits): findings introduced by these
    /// commits are dropped (history scans).
    #[serde(default)]
    pub commits: Vec<String>,
    /// `or` (default) or `and`.
    #[serde(default)]
    pub condition: Option<String>,
    /// In a file's global allowlists only: the rule ids it applies to (default: every rule).
    #[serde(default)]
    pub rules: Vec<String>,
}

impl AllowlistSpec {
    /// True when it lists nothing.
    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.paths.is_empty()
            && self.commits.is_empty()
    }
}

/// How a config file relates to the built-in rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendSpec {
    /// Keep the built-in rules (default true); `false` replaces them.
    #[serde(default = "yes")]
    pub default: bool,
    /// Ids of built-in rules to drop.
    #[serde(default)]
    pub disable: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for ExtendSpec {
    fn default() -> Self {
        ExtendSpec {
            default: true,
            disable: Vec::new(),
        }
    }
}

/// `[scan]`: how a scan behaves (config files only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSpec {
    /// `fail` (the default) or `warn`: whether a scan that could not read everything it was
    /// asked to fails the run. The pre-commit hook takes no options, so it reads this.
    #[serde(default)]
    pub on_incomplete: Option<crate::scan::OnIncomplete>,
}

/// A parsed rule file or config file.
#[derive(Debug, Clone, Default)]
pub struct RuleFile {
    /// Where it came from (a path, or `builtin:NAME`).
    pub origin: String,
    /// `[extend]` (config files only).
    pub extend: Option<ExtendSpec>,
    /// `[scan]` (config files only).
    pub scan: Option<ScanSpec>,
    /// `[allowlist]`: applies to every rule.
    pub allowlist: Option<AllowlistSpec>,
    /// `[[allowlists]]`: more global allowlists, each judged on its own.
    pub allowlists: Vec<AllowlistSpec>,
    /// `[[rules]]`.
    pub rules: Vec<RuleSpec>,
}

/// A rule file as read: its rules as TOML values (each then read on its own, so that an error
/// names the rule) or, for the built-in files `build.rs` converted, already as specs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile<R> {
    #[serde(default)]
    extend: Option<ExtendSpec>,
    #[serde(default)]
    scan: Option<ScanSpec>,
    #[serde(default)]
    allowlist: Option<AllowlistSpec>,
    #[serde(default)]
    allowlists: Vec<AllowlistSpec>,
    #[serde(default = "Vec::new")]
    rules: Vec<R>,
}

impl<R> RawFile<R> {
    /// The file of `origin`, with `rules` for the raw ones.
    fn with_rules(self, origin: &str, rules: Vec<RuleSpec>) -> RuleFile {
        RuleFile {
            origin: origin.to_string(),
            extend: self.extend,
            scan: self.scan,
            allowlist: self.allowlist,
            allowlists: self.allowlists,
            rules,
        }
    }
}

impl RuleFile {
    /// Parses a built-in rule file in the JSON `build.rs` made of its TOML.
    pub(crate) fn parse_embedded(origin: &str, json: &str) -> Result<RuleFile> {
        let mut raw: RawFile<RuleSpec> =
            serde_json::from_str(json).map_err(|e| Error::RuleFileSyntax {
                file: origin.to_string(),
                message: e.to_string(),
            })?;
        let rules = std::mem::take(&mut raw.rules);
        Ok(raw.with_rules(origin, rules))
    }

    /// Parses TOML text. Errors name `origin`, and for a bad rule its id and field.
    pub fn parse(origin: &str, text: &str) -> Result<RuleFile> {
        let mut raw: RawFile<toml::Value> =
            toml::from_str(text).map_err(|e| Error::RuleFileSyntax {
                file: origin.to_string(),
                message: e.message().to_string() + &line_hint(text, e.span()),
            })?;
        let mut rules = Vec::with_capacity(raw.rules.len());
        for (i, value) in std::mem::take(&mut raw.rules).into_iter().enumerate() {
            let id = value
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", i + 1));
            let spec: RuleSpec = value.try_into().map_err(|e: toml::de::Error| {
                let message = e.message().to_string();
                Error::InvalidRule {
                    file: origin.to_string(),
                    rule: id.clone(),
                    field: field_of(&message),
                    message,
                }
            })?;
            rules.push(spec);
        }
        Ok(raw.with_rules(origin, rules))
    }
}

fn line_hint(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let line = text.as_bytes()[..span.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

/// Pulls the field name out of serde's messages (`missing field `x``, `unknown field `x``,
/// `invalid type ... for key `x``), falling back to `?`.
fn field_of(message: &str) -> String {
    let mut parts = message.split('`');
    parts.next();
    parts.next().unwrap_or("?").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_rule_and_field() {
        let err = RuleFile::parse(
            "my.toml",
            "[[rules]]\nid = \"x\"\ndescription = \"d\"\nkeywords = [\"k\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("my.toml"), "{err}");
        assert!(err.contains("`x`"), "{err}");
        assert!(err.contains("regex"), "{err}");
    }

    #[test]
    fn unknown_field_is_named() {
        let err = RuleFile::parse(
            "my.toml",
            "[[rules]]\nid = \"y\"\ndescription = \"d\"\nregex = \"a\"\nkeywords = [\"a\"]\nentropyy = 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("entropyy") && err.contains("`y`"), "{err}");
    }

    #[test]
    fn syntax_error_has_line() {
        let err = RuleFile::parse("c.toml", "[[rules]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.toml:") && err.contains("line 1"),
            "{err}"
        );
    }
}
