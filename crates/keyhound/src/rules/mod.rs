//! Rules: the built-in pack, user config files, and the runnable form of both.
//!
//! A [`RuleSet`] is built once per process and shared by every matcher thread. Regexes compile
//! lazily, on first use, with Unicode off: a pre-commit check that sees no keyword compiles none.
//! Rules from a user's file are compiled eagerly so that a bad regex fails at load time with the
//! file, rule id and field in the message.

pub mod builtin;
pub mod examples;
pub mod syntax;

use std::path::Path;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::{Error, Result};
use syntax::{AllowlistSpec, GroupRef, RuleFile, RuleSpec};

/// How bad a finding of a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Low,
    /// Worth a look.
    Medium,
    /// A working credential for something that matters.
    High,
    /// A credential that can spend money or read data right now.
    Critical,
}

impl Severity {
    fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The compiled regex of a rule and the capture groups that hold the secret, the name bound to
/// it and the context word that guards it.
#[derive(Debug)]
pub struct CompiledRegex {
    /// The regex.
    pub regex: Regex,
    /// Capture group index of the secret (0 = whole match).
    pub secret_group: usize,
    /// Group `name`, if the regex has one: the name the value is bound to (an assignment's key,
    /// a header or a JSON key). The value checks decide from it, not from words nearby.
    pub name_group: Option<usize>,
    /// Group `context`, if the regex has one: a provider word that must be bound to the secret
    /// (same line, or the secret nested in the call, object or YAML block the word opens).
    pub context_group: Option<usize>,
}

/// A check the engine runs on a rule's value (`check = "..."` in the rule file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueCheck {
    /// `jwt`: the value must decode as a JSON Web Token; its claims are evidence.
    Jwt,
    /// `private-key`: the value is a PEM private key block (inside whatever the regex matched
    /// around it), judged like the private-key rules.
    PrivateKey,
}

impl ValueCheck {
    fn parse(s: &str) -> Option<ValueCheck> {
        Some(match s {
            "jwt" => ValueCheck::Jwt,
            "private-key" => ValueCheck::PrivateKey,
            _ => return None,
        })
    }
}

/// Regexes and stopwords that drop a finding.
#[derive(Debug, Default)]
pub struct Allowlist {
    regexes: Vec<Regex>,
    stopwords: Vec<Vec<u8>>,
    paths: Vec<Regex>,
}

impl Allowlist {
    fn compile(spec: &AllowlistSpec, file: &str, rule: &str) -> Result<Allowlist> {
        let regexes = compile_all(&spec.regexes, file, rule, "allowlist.regexes")?;
        let paths = compile_all(&spec.paths, file, rule, "allowlist.paths")?;
        let stopwords = spec
            .stopwords
            .iter()
            .map(|w| w.to_ascii_lowercase().into_bytes())
            .collect();
        Ok(Allowlist {
            regexes,
            stopwords,
            paths,
        })
    }

    fn extend(&mut self, other: Allowlist) {
        self.regexes.extend(other.regexes);
        self.stopwords.extend(other.stopwords);
        self.paths.extend(other.paths);
    }

    /// Whether the secret is allowed (a regex matches or a stopword occurs in it).
    pub fn allows_secret(&self, secret: &[u8]) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }

    /// Whether the path is allowed.
    pub fn allows_path(&self, path: &[u8]) -> bool {
        self.paths.iter().any(|r| r.is_match(path))
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty() && self.stopwords.is_empty() && self.paths.is_empty()
    }
}

fn compile_all(sources: &[String], file: &str, rule: &str, field: &str) -> Result<Vec<Regex>> {
    sources
        .iter()
        .map(|s| build_regex(s).map_err(|m| invalid(file, rule, field, m)))
        .collect()
}

fn invalid(file: &str, rule: &str, field: &str, message: String) -> Error {
    Error::InvalidRule {
        file: file.to_string(),
        rule: rule.to_string(),
        field: field.to_string(),
        message,
    }
}

/// Compiles a bytes regex the way every rule regex is compiled: Unicode off, so `\w`, `\d`,
/// `\b` and `(?i)` are ASCII-only (fast to build, and secrets are ASCII anyway).
pub fn build_regex(source: &str) -> std::result::Result<Regex, String> {
    RegexBuilder::new(source)
        .unicode(false)
        .size_limit(16 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// One runnable rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable identifier.
    pub id: String,
    /// What it finds.
    pub description: String,
    /// Severity of a finding.
    pub severity: Severity,
    /// What to do about a finding.
    pub remediation: String,
    /// Prefilter literals (case-sensitive).
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy of the secret.
    pub entropy: Option<f64>,
    /// Longest secret (bytes) reported, if the rule bounds it.
    pub max_length: Option<usize>,
    /// Needs context: text only, yields to specific rules.
    pub generic: bool,
    /// Runs on binary content.
    pub binary: bool,
    /// The engine's check on the value, if the rule names one.
    pub check: Option<ValueCheck>,
    /// Example texts (with placeholders).
    pub examples: Vec<String>,
    /// Negative example texts (with placeholders).
    pub negative_examples: Vec<String>,
    /// Where the rule was defined.
    pub origin: String,
    /// Per-rule allowlist.
    pub allowlist: Allowlist,
    /// How to ask the provider whether a secret works (`--verify`), if the rule says.
    pub verify: Option<crate::verify::Check>,
    path: Option<Regex>,
    regex_source: String,
    group: Option<GroupRef>,
    compiled: OnceLock<std::result::Result<CompiledRegex, String>>,
}

impl Rule {
    fn from_spec(spec: RuleSpec, file: &str) -> Result<Rule> {
        let id = spec.id.clone();
        if id.trim().is_empty() {
            return Err(invalid(file, "?", "id", "must not be empty".into()));
        }
        if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.is_empty()) {
            return Err(invalid(
                file,
                &id,
                "keywords",
                "needs at least one non-empty keyword (the prefilter runs the rule only where one occurs)".into(),
            ));
        }
        let severity = match spec.severity.as_deref() {
            None => Severity::High,
            Some(s) => Severity::parse(s).ok_or_else(|| {
                invalid(
                    file,
                    &id,
                    "severity",
                    format!("`{s}` is not one of critical, high, medium, low"),
                )
            })?,
        };
        if let Some(e) = spec.entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(invalid(
                    file,
                    &id,
                    "entropy",
                    format!("{e} is outside 0..=8 bits per byte"),
                ));
            }
        }
        if spec.max_length == Some(0) {
            return Err(invalid(
                file,
                &id,
                "max_length",
                "must be at least 1 byte".into(),
            ));
        }
        let path = match &spec.path {
            Some(p) => Some(build_regex(p).map_err(|m| invalid(file, &id, "path", m))?),
            None => None,
        };
        let allowlist = match &spec.allowlist {
            Some(a) => Allowlist::compile(a, file, &id)?,
            None => Allowlist::default(),
        };
        let check = match spec.check.as_deref() {
            None => None,
            Some(c) => Some(ValueCheck::parse(c).ok_or_else(|| {
                invalid(
                    file,
                    &id,
                    "check",
                    format!("`{c}` is not one of jwt, private-key"),
                )
            })?),
        };
        let verify = match &spec.verify {
            Some(v) => Some(
                crate::verify::Check::from_spec(v)
                    .map_err(|e| invalid(file, &id, e.field, e.message))?,
            ),
            None => None,
        };
        Ok(Rule {
            description: spec.description,
            severity,
            remediation: spec.remediation.unwrap_or_else(|| {
                "Remove the secret from the file, load it from the environment or a secrets \
                 manager, and rotate it if it was ever pushed."
                    .to_string()
            }),
            keywords: spec.keywords,
            entropy: spec.entropy,
            max_length: spec.max_length,
            generic: spec.generic,
            binary: spec.binary.unwrap_or(!spec.generic),
            check,
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            origin: file.to_string(),
            allowlist,
            verify,
            path,
            regex_source: spec.regex,
            group: spec.secret_group,
            compiled: OnceLock::new(),
            id,
        })
    }

    /// The regex source text.
    pub fn regex_source(&self) -> &str {
        &self.regex_source
    }

    /// The compiled regex, compiling it on first use. The error says what is wrong with it.
    pub fn compiled(&self) -> std::result::Result<&CompiledRegex, &str> {
        self.compiled
            .get_or_init(|| compile_rule(&self.regex_source, self.group.as_ref()))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// Compiles now, turning a failure into an error naming the rule.
    pub fn check(&self) -> Result<()> {
        self.compiled()
            .map(|_| ())
            .map_err(|m| invalid(&self.origin, &self.id, "regex", m.to_string()))
    }

    /// Whether the rule applies to a file at `path` (`None`: no path known, so it may).
    pub fn applies_to_path(&self, path: Option<&[u8]>) -> bool {
        match (&self.path, path) {
            (Some(re), Some(p)) => re.is_match(p),
            (Some(_), None) | (None, _) => true,
        }
    }
}

fn compile_rule(
    source: &str,
    group: Option<&GroupRef>,
) -> std::result::Result<CompiledRegex, String> {
    let regex = build_regex(source)?;
    let secret_group = match group {
        Some(GroupRef::Index(i)) => {
            if *i >= regex.captures_len() {
                return Err(format!(
                    "secret_group {i} does not exist (the regex has {} groups)",
                    regex.captures_len() - 1
                ));
            }
            *i
        }
        Some(GroupRef::Name(name)) => regex
            .capture_names()
            .position(|n| n == Some(name.as_str()))
            .ok_or_else(|| format!("secret_group `{name}` does not exist in the regex"))?,
        None => regex
            .capture_names()
            .position(|n| n == Some("secret"))
            .unwrap_or(if regex.captures_len() > 1 { 1 } else { 0 }),
    };
    let named = |want: &str| regex.capture_names().position(|n| n == Some(want));
    let name_group = named("name");
    let context_group = named("context");
    Ok(CompiledRegex {
        secret_group,
        name_group,
        context_group,
        regex,
    })
}

/// All rules in force, plus the allowlist that applies to every rule.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Allowlist applying to all rules (from config files).
    pub allowlist: Allowlist,
}

impl RuleSet {
    /// The built-in rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet> {
        let mut set = RuleSet::default();
        for (name, text) in builtin::FILES {
            let file = RuleFile::parse(&format!("builtin:{name}"), text)?;
            set.add_file(file, false)?;
        }
        Ok(set)
    }

    /// Rules from one file only (no built-ins), compiled eagerly.
    pub fn from_file(path: &Path) -> Result<RuleSet> {
        let file = read_rule_file(path)?;
        let mut set = RuleSet::default();
        set.add_file(file, true)?;
        Ok(set)
    }

    /// The built-in rules extended (or replaced) by a user's config file.
    pub fn with_config(path: &Path) -> Result<RuleSet> {
        let file = read_rule_file(path)?;
        let extend = file.extend.clone().unwrap_or_default();
        let mut set = if extend.default {
            RuleSet::builtin()?
        } else {
            RuleSet::default()
        };
        for id in &extend.disable {
            if !set.rules.iter().any(|r| &r.id == id) {
                return Err(invalid(
                    &file.origin,
                    id,
                    "extend.disable",
                    "no such rule".into(),
                ));
            }
        }
        set.rules.retain(|r| !extend.disable.contains(&r.id));
        set.add_file(file, true)?;
        Ok(set)
    }

    /// Adds a parsed file: its rules (replacing rules with the same id) and its allowlist.
    pub fn add_file(&mut self, file: RuleFile, eager: bool) -> Result<()> {
        if let Some(a) = &file.allowlist {
            self.allowlist
                .extend(Allowlist::compile(a, &file.origin, "[allowlist]")?);
        }
        let mut seen = std::collections::HashSet::new();
        for spec in file.rules {
            if !seen.insert(spec.id.clone()) {
                return Err(invalid(
                    &file.origin,
                    &spec.id,
                    "id",
                    "defined twice in this file".into(),
                ));
            }
            let rule = Rule::from_spec(spec, &file.origin)?;
            if eager {
                rule.check()?;
            }
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(old) => *old = rule,
                None => self.rules.push(rule),
            }
        }
        Ok(())
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Looks a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Compiles every rule now (for `rules check` and tests).
    pub fn check_all(&self) -> Result<()> {
        self.rules.iter().try_for_each(Rule::check)
    }
}

fn read_rule_file(path: &Path) -> Result<RuleFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    RuleFile::parse(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuleSet> {
        let mut set = RuleSet::default();
        set.add_file(RuleFile::parse("t.toml", text)?, true)?;
        Ok(set)
    }

    #[test]
    fn bad_regex_names_rule_and_field() {
        let err = parse("[[rules]]\nid='r1'\ndescription='d'\nregex='(unclosed'\nkeywords=['k']\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.toml") && err.contains("`r1`") && err.contains("`regex`"),
            "{err}"
        );
    }

    #[test]
    fn bad_severity_and_group_are_named() {
        let err = parse(
            "[[rules]]\nid='r2'\ndescription='d'\nregex='a(b)'\nkeywords=['a']\nseverity='huge'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`severity`"), "{err}");
        let err = parse(
            "[[rules]]\nid='r3'\ndescription='d'\nregex='a(b)'\nkeywords=['a']\nsecret_group=4\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`r3`") && err.contains("secret_group"),
            "{err}"
        );
    }

    #[test]
    fn empty_keywords_rejected() {
        let err = parse("[[rules]]\nid='r4'\ndescription='d'\nregex='a'\nkeywords=[]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`keywords`"), "{err}");
    }

    #[test]
    fn secret_group_defaults() {
        let set = parse("[[rules]]\nid='a'\ndescription='d'\nregex='x(?P<secret>y)(z)'\nkeywords=['x']\n[[rules]]\nid='b'\ndescription='d'\nregex='x(y)'\nkeywords=['x']\n[[rules]]\nid='c'\ndescription='d'\nregex='xy'\nkeywords=['x']\n").unwrap();
        let groups: Vec<usize> = set
            .rules()
            .iter()
            .map(|r| r.compiled().unwrap().secret_group)
            .collect();
        assert_eq!(groups, vec![1, 1, 0]);
    }

    #[test]
    fn builtin_rules_all_compile() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rules().len() >= 10, "only {} rules", set.rules().len());
        set.check_all().unwrap();
    }
}
