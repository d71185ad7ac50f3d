//! Rules: the built-in pack, user config files, and the runnable form of both.
//!
//! A [`RuleSet`] is built once per process and shared by every matcher thread. Regexes compile
//! lazily, on first use, with Unicode off: a pre-commit check that sees no keyword compiles none.
//! Rules from a user's file are compiled eagerly so that a bad regex fails at load time with the
//! file, rule id and field in the message.
//!
//! A repository's config must not be able to stall every scan: keywords are bounded
//! ([`MAX_KEYWORD_LEN`], [`MAX_KEYWORDS_PER_RULE`], [`MAX_KEYWORDS`]), a config file's regexes
//! compile within [`CONFIG_REGEX_SIZE`], and its rules run near their keywords only (see
//! [`Rule::from_config`]); the matcher's time budget per blob covers the rest.

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

/// The compiled regex of a rule and the capture group that holds the secret.
#[derive(Debug)]
pub struct CompiledRegex {
    /// The regex.
    pub regex: Regex,
    /// Capture group index of the secret (0 = whole match).
    pub secret_group: usize,
}

/// Regexes and stopwords that drop a finding.
#[derive(Debug, Default)]
pub struct Allowlist {
    regexes: Vec<Regex>,
    stopwords: Vec<Vec<u8>>,
    paths: Vec<Regex>,
}

impl Allowlist {
    fn compile(spec: &AllowlistSpec, file: &str, rule: &str, size: usize) -> Result<Allowlist> {
        let regexes = compile_all(&spec.regexes, file, rule, "allowlist.regexes", size)?;
        let paths = compile_all(&spec.paths, file, rule, "allowlist.paths", size)?;
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

fn compile_all(
    sources: &[String],
    file: &str,
    rule: &str,
    field: &str,
    size: usize,
) -> Result<Vec<Regex>> {
    sources
        .iter()
        .map(|s| build_regex_within(s, size).map_err(|m| invalid(file, rule, field, m)))
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

/// Longest keyword, in bytes. A keyword is a short literal a rule's matches contain; a long one
/// made the keyword automaton slow to build (40,000 bytes took minutes on every run).
pub const MAX_KEYWORD_LEN: usize = 256;
/// Most keywords one rule may have.
pub const MAX_KEYWORDS_PER_RULE: usize = 64;
/// Most distinct keywords of all rules in force (the built-in rules have about 120). Each 64
/// more are one more pass of the prefilter over every blob: 1,024 made scans three times
/// slower, 4,096 thirteen times.
pub const MAX_KEYWORDS: usize = 512;
/// Most memory a built-in rule's regex may compile to.
const BUILTIN_REGEX_SIZE: usize = 16 << 20;
/// Most memory a config file's regex may compile to: four times the largest built-in rule
/// (63 KiB), room for an alternation of 200 words. Past about 256 KiB an automaton such as
/// `(?:a|aa){1600}X` no longer fits the 1 MiB lazy-DFA cache, and searching falls back to an
/// engine that took 100 s per MiB.
pub const CONFIG_REGEX_SIZE: usize = 256 << 10;

/// Compiles a bytes regex the way every rule regex is compiled: Unicode off, so `\w`, `\d`,
/// `\b` and `(?i)` are ASCII-only (fast to build, and secrets are ASCII anyway).
pub fn build_regex(source: &str) -> std::result::Result<Regex, String> {
    build_regex_within(source, BUILTIN_REGEX_SIZE)
}

/// [`build_regex`] within `size` bytes of compiled program.
fn build_regex_within(source: &str, size: usize) -> std::result::Result<Regex, String> {
    RegexBuilder::new(source)
        .unicode(false)
        .size_limit(size)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "compiles to more than {} KiB, the most a config file's regex may take \
                 (counted repetitions such as {{0,4096}} and long alternations grow it; bound a \
                 block with max_length instead)",
                limit >> 10
            ),
            e => e.to_string(),
        })
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
    /// From a user's file rather than built in: its regexes compile within
    /// [`CONFIG_REGEX_SIZE`], and it runs only near its keywords (see [`Rule::from_config`]).
    from_config: bool,
    /// An automaton over the keywords, to find where they occur (config rules only).
    keyword_finder: OnceLock<Option<aho_corasick::AhoCorasick>>,
    path: Option<Regex>,
    regex_source: String,
    group: Option<GroupRef>,
    compiled: OnceLock<std::result::Result<CompiledRegex, String>>,
}

impl Rule {
    fn from_spec(spec: RuleSpec, file: &str, from_config: bool) -> Result<Rule> {
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
        if let Some(k) = spec.keywords.iter().find(|k| k.len() > MAX_KEYWORD_LEN) {
            return Err(invalid(
                file,
                &id,
                "keywords",
                format!(
                    "a keyword of {} bytes (`{}…`); at most {MAX_KEYWORD_LEN}: a keyword is a \
                     short literal the rule's matches contain",
                    k.len(),
                    k.chars().take(16).collect::<String>()
                ),
            ));
        }
        if spec.keywords.len() > MAX_KEYWORDS_PER_RULE {
            return Err(invalid(
                file,
                &id,
                "keywords",
                format!(
                    "{} keywords; a rule may have at most {MAX_KEYWORDS_PER_RULE}",
                    spec.keywords.len()
                ),
            ));
        }
        let size = if from_config {
            CONFIG_REGEX_SIZE
        } else {
            BUILTIN_REGEX_SIZE
        };
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
            Some(p) => {
                Some(build_regex_within(p, size).map_err(|m| invalid(file, &id, "path", m))?)
            }
            None => None,
        };
        let allowlist = match &spec.allowlist {
            Some(a) => Allowlist::compile(a, file, &id, size)?,
            None => Allowlist::default(),
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
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            origin: file.to_string(),
            allowlist,
            verify,
            from_config,
            keyword_finder: OnceLock::new(),
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
        let size = if self.from_config {
            CONFIG_REGEX_SIZE
        } else {
            BUILTIN_REGEX_SIZE
        };
        self.compiled
            .get_or_init(|| compile_rule(&self.regex_source, self.group.as_ref(), size))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// Whether the rule comes from a user's config file. Such a rule's regex runs only within
    /// [`KEYWORD_REACH`](crate::matcher::KEYWORD_REACH) bytes of where its keywords occur,
    /// not over the whole blob: a costly regex then costs in proportion to its keywords'
    /// occurrences, and the matcher's time budget is checked between them.
    pub fn from_config(&self) -> bool {
        self.from_config
    }

    /// Finds the occurrences of the rule's keywords (`None` if the automaton cannot be built).
    pub(crate) fn keyword_finder(&self) -> Option<&aho_corasick::AhoCorasick> {
        self.keyword_finder
            .get_or_init(|| {
                aho_corasick::AhoCorasickBuilder::new()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(&self.keywords)
                    .ok()
            })
            .as_ref()
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
    size: usize,
) -> std::result::Result<CompiledRegex, String> {
    let regex = build_regex_within(source, size)?;
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
    Ok(CompiledRegex {
        regex,
        secret_group,
    })
}

/// All rules in force, plus the allowlist that applies to every rule.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Allowlist applying to all rules (from config files).
    pub allowlist: Allowlist,
    /// A config file's `[scan] on_incomplete`, if it sets one.
    pub on_incomplete: Option<crate::scan::OnIncomplete>,
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
        set.on_incomplete = file.scan.as_ref().and_then(|s| s.on_incomplete);
        set.add_file(file, true)?;
        Ok(set)
    }

    /// Adds a parsed file: its rules (replacing rules with the same id) and its allowlist.
    /// `eager` for a user's file: its rules compile now, within the limits of config rules.
    pub fn add_file(&mut self, file: RuleFile, eager: bool) -> Result<()> {
        let size = if eager {
            CONFIG_REGEX_SIZE
        } else {
            BUILTIN_REGEX_SIZE
        };
        if let Some(a) = &file.allowlist {
            self.allowlist
                .extend(Allowlist::compile(a, &file.origin, "[allowlist]", size)?);
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
            let rule = Rule::from_spec(spec, &file.origin, eager)?;
            if eager {
                rule.check()?;
            }
            let id = rule.id.clone();
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(old) => *old = rule,
                None => self.rules.push(rule),
            }
            let distinct = self
                .rules
                .iter()
                .flat_map(|r| &r.keywords)
                .collect::<std::collections::HashSet<_>>()
                .len();
            if distinct > MAX_KEYWORDS {
                return Err(invalid(
                    &file.origin,
                    &id,
                    "keywords",
                    format!(
                        "brings the rules in force to {distinct} distinct keywords; at most \
                         {MAX_KEYWORDS} (every 64 more make each scan pass over every file once \
                         more)"
                    ),
                ));
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
    let text = crate::bounded::read_settings_file(path)?;
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

    fn config(text: &str) -> Result<RuleSet> {
        let mut set = RuleSet::builtin()?;
        set.add_file(RuleFile::parse(".keyhound.toml", text)?, true)?;
        Ok(set)
    }

    fn rule_with(keywords: &[String], regex: &str) -> String {
        let list: Vec<String> = keywords.iter().map(|k| format!("{k:?}")).collect();
        format!(
            "[[rules]]\nid='big'\ndescription='d'\nregex='''{regex}'''\nkeywords=[{}]\n",
            list.join(",")
        )
    }

    #[test]
    fn config_keywords_are_bounded() {
        let named = |e: Error, what: &str| {
            let e = e.to_string();
            assert!(
                e.contains(".keyhound.toml") && e.contains("`big`") && e.contains("`keywords`"),
                "{e}"
            );
            assert!(e.contains(what), "{e}");
        };
        let long = "k".repeat(40_000);
        named(
            config(&rule_with(&[long], "k+")).unwrap_err(),
            "a keyword of 40000 bytes",
        );
        let many: Vec<String> = (0..65).map(|i| format!("kw{i}")).collect();
        named(config(&rule_with(&many, "kw")).unwrap_err(), "65 keywords");
        // 64 each are allowed, but not ten rules of them on top of the built-in rules.
        let mut text = String::new();
        for r in 0..10 {
            let kws: Vec<String> = (0..64).map(|i| format!("kw{r}x{i}")).collect();
            text += &rule_with(&kws, "kw").replace("'big'", &format!("'big{r}'"));
        }
        let e = config(&text).unwrap_err().to_string();
        assert!(e.contains("distinct keywords; at most 512"), "{e}");
        assert!(config(&rule_with(&["kw".into()], "kw[0-9]+")).is_ok());
    }

    #[test]
    fn config_regex_size_is_bounded() {
        let e = config(&rule_with(&["X".into()], "(?:a|aa){2000}X"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`big`") && e.contains("`regex`") && e.contains("more than 256 KiB"),
            "{e}"
        );
        // A built-in rule may be larger (they are tested); a config's allowlists may not.
        assert!(build_regex("(?:a|aa){2000}X").is_ok());
        let allow = rule_with(&["kw".into()], "kw")
            + "[rules.allowlist]\nregexes=['''(?:a|aa){2000}X''']\n";
        let e = config(&allow).unwrap_err().to_string();
        assert!(e.contains("allowlist.regexes"), "{e}");
    }

    #[test]
    fn builtin_rules_all_compile() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rules().len() >= 10, "only {} rules", set.rules().len());
        set.check_all().unwrap();
    }
}
