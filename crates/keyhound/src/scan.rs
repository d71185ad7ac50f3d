//! Wires the pieces: a [`Scanner`] owns the rules and the prefilter, turns one blob of content
//! (from any source) into findings, and carries what a whole scan counts. Sources (files,
//! git history, the staged index) call [`Scanner::scan_content`] from their worker threads,
//! each thread with its own [`Matcher`].

use serde::Serialize;

use crate::finding::{self, Finding};
use crate::matcher::{heuristics::DropReason, Matcher, Matches, Prefilter, RawMatch};
use crate::rules::RuleSet;
use crate::suppress::{SuppressedBy, Suppressions};

/// Options that apply to every source.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files and blobs larger than this are skipped and counted.
    pub max_file_size: u64,
    /// Record why candidates were dropped.
    pub explain: bool,
    /// How many layers of encodings and containers to look inside (0: none); see
    /// [`crate::decode`].
    pub max_decode_depth: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: 100 * 1024 * 1024,
            explain: false,
            max_decode_depth: 2,
        }
    }
}

/// A candidate that a rule's regex matched but that is not reported, for `--explain`.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Rule id.
    pub rule_id: String,
    /// Where.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The candidate secret, as matched (reports redact it).
    pub secret: String,
    /// Why it was dropped.
    pub reason: String,
}

/// How many findings the run's configuration left out, by what: the summary says so, so
/// that a repository's own config cannot silence a scan without a word.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Removed {
    /// Candidates dropped by a config file's allowlist (its global allowlist, or that of a
    /// rule it defines).
    pub config_allowlist: u64,
    /// Files or blobs skipped because a config file's allowlist matched their path.
    pub config_paths: u64,
    /// Findings whose fingerprint is in the ignore file.
    pub ignore_fingerprints: u64,
    /// Files or blobs skipped by a path glob of the ignore file.
    pub ignore_paths: u64,
    /// Findings whose fingerprint is in the baseline.
    pub baseline: u64,
}

impl Removed {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Removed) {
        self.config_allowlist += other.config_allowlist;
        self.config_paths += other.config_paths;
        self.ignore_fingerprints += other.ignore_fingerprints;
        self.ignore_paths += other.ignore_paths;
        self.baseline += other.baseline;
    }

    /// Counts one item skipped for its path.
    pub fn skipped(&mut self, why: PathSkip) {
        match why {
            PathSkip::ConfigAllowlist => self.config_paths += 1,
            PathSkip::IgnoreFile => self.ignore_paths += 1,
        }
    }
}

/// Why a path is skipped entirely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSkip {
    /// A config file's allowlist lists it.
    ConfigAllowlist,
    /// A path glob of the ignore file matches it.
    IgnoreFile,
}

/// What scanning one piece of content found.
#[derive(Debug, Default, Clone)]
pub struct ContentResult {
    /// Findings, one location each, in order of position.
    pub findings: Vec<Finding>,
    /// Dropped candidates (with `explain`).
    pub explanations: Vec<Explanation>,
    /// Whether the content was treated as binary.
    pub binary: bool,
    /// Things worth telling that are not errors: limits hit while looking inside archives and
    /// encodings, corrupt archives (the scan went on).
    pub notes: Vec<String>,
    /// What the configuration left out.
    pub removed: Removed,
}

/// Counts for the summary at the end of a scan.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Files or blobs scanned.
    pub scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Of those, binary.
    pub binary: u64,
    /// Skipped for size, with their paths.
    pub skipped_too_large: Vec<String>,
    /// Errors met along the way (the scan went on).
    pub errors: Vec<String>,
    /// Notes from looking inside archives and encodings (limits hit, corrupt archives).
    pub notes: Vec<String>,
    /// What the configuration (config allowlists, ignore file, baseline) left out.
    pub removed: Removed,
}

impl Stats {
    /// Adds what scanning one piece of content counted (not `scanned` or `bytes`).
    pub fn add_content(&mut self, result: &ContentResult) {
        self.binary += u64::from(result.binary);
        self.removed.add(&result.removed);
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: Stats) {
        self.removed.add(&other.removed);
        self.scanned += other.scanned;
        self.bytes += other.bytes;
        self.binary += other.binary;
        self.skipped_too_large.extend(other.skipped_too_large);
        self.errors.extend(other.errors);
        self.notes.extend(other.notes);
    }

    /// Sorts the lists so that parallel runs report the same as serial ones.
    pub fn sort(&mut self) {
        self.skipped_too_large.sort();
        self.errors.sort();
        self.notes.sort();
    }
}

/// The rules, the prefilter and the suppressions, shared by every worker thread.
#[derive(Debug)]
pub struct Scanner {
    rules: RuleSet,
    prefilter: Prefilter,
    /// Fingerprints and path globs to leave out.
    pub suppressions: Suppressions,
    /// Options.
    pub options: ScanOptions,
    /// Built on first use by [`crate::decode`].
    pub(crate) nested: crate::decode::Nested,
}

/// Content starting with NUL bytes in its first 8 KiB is treated as binary (as git does).
pub fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(8192)]).is_some()
}

/// UTF-16 text with a byte-order mark, decoded to UTF-8; `None` for anything else.
pub fn decode_utf16(content: &[u8]) -> Option<Vec<u8>> {
    let le = match content {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = content[2..].chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    // Bytes that merely start like a byte-order mark decode to a soup of CJK characters and
    // replacement characters; real UTF-16 text in a code base is mostly ASCII.
    let total = text.chars().count();
    let ascii = text.chars().filter(|c| c.is_ascii()).count();
    (total == 0 || ascii * 2 >= total).then(|| text.into_bytes())
}

impl Scanner {
    /// A scanner over `rules` with default options and no suppressions.
    pub fn new(rules: RuleSet) -> Scanner {
        let prefilter = Prefilter::new(rules.rules());
        Scanner {
            rules,
            prefilter,
            suppressions: Suppressions::default(),
            options: ScanOptions::default(),
            nested: crate::decode::Nested::default(),
        }
    }

    /// Sets the options.
    pub fn with_options(mut self, options: ScanOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the suppressions.
    pub fn with_suppressions(mut self, suppressions: Suppressions) -> Self {
        self.suppressions = suppressions;
        self
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// A matcher for one worker thread.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher::new(&self.rules, &self.prefilter).explain(self.options.explain)
    }

    /// Whether a path is skipped entirely (config allowlist or ignore-file glob).
    pub fn skips_path(&self, path: &str) -> bool {
        self.path_skip(path).is_some()
    }

    /// Why a path is skipped entirely, if it is.
    pub fn path_skip(&self, path: &str) -> Option<PathSkip> {
        if self.rules.allowlist.allows_path(path.as_bytes()) {
            Some(PathSkip::ConfigAllowlist)
        } else if self.suppressions.ignores_path(path) {
            Some(PathSkip::IgnoreFile)
        } else {
            None
        }
    }

    /// Whether any path is skipped at all (a config allowlist of paths or ignore-file globs).
    pub fn skips_paths(&self) -> bool {
        self.rules.allowlist.has_paths() || self.suppressions.has_globs()
    }

    /// Scans one piece of content that lives at `path`: its text, then what is nested in it
    /// (archives, notebooks, encoded strings; see [`crate::decode`]).
    pub fn scan_content(
        &self,
        matcher: &mut Matcher<'_>,
        path: &str,
        content: &[u8],
    ) -> ContentResult {
        let mut result = self.scan_plain(matcher, path, content);
        crate::decode::scan_nested(self, matcher, path, content, &mut result);
        result
    }

    /// Scans content as it is, without looking inside archives or encodings.
    pub fn scan_plain(
        &self,
        matcher: &mut Matcher<'_>,
        path: &str,
        content: &[u8],
    ) -> ContentResult {
        let mut matches = Matches::default();
        let decoded = decode_utf16(content);
        let content = decoded.as_deref().unwrap_or(content);
        let binary = decoded.is_none() && is_binary(content);
        matcher.find(content, Some(path.as_bytes()), binary, &mut matches);
        let mut findings = finding::from_matches(self.rules.rules(), content, path, &matches.kept);
        let mut removed = Removed {
            config_allowlist: matches.config_allowlisted as u64,
            ..Removed::default()
        };
        findings.retain(|f| {
            let l = f.location();
            if self
                .suppressions
                .ignores_location(&f.rule_id, &l.path, l.line, None)
            {
                removed.ignore_fingerprints += 1;
                return false;
            }
            match self
                .suppressions
                .suppressed_by(&f.fingerprint, &f.rule_id, f.secret.as_bytes())
            {
                None => true,
                Some(SuppressedBy::IgnoreFile) => {
                    removed.ignore_fingerprints += 1;
                    false
                }
                Some(SuppressedBy::Baseline) => {
                    removed.baseline += 1;
                    false
                }
            }
        });
        let explanations = if self.options.explain {
            self.explain(content, path, &matches)
        } else {
            Vec::new()
        };
        ContentResult {
            findings,
            explanations,
            binary,
            notes: Vec::new(),
            removed,
        }
    }

    fn explain(&self, content: &[u8], path: &str, matches: &Matches) -> Vec<Explanation> {
        let index = finding::LineIndex::new(content);
        let mut out: Vec<Explanation> = matches
            .dropped
            .iter()
            .map(|d| self.explanation(&index, content, path, &d.candidate, &d.reason.to_string()))
            .collect();
        out.extend(
            matches
                .kept
                .iter()
                .map(|m| self.explanation(&index, content, path, m, "kept")),
        );
        out.extend(self.suppressed(content, path, matches, &index));
        out.sort_by_key(|e| (e.line, e.column));
        out
    }

    fn suppressed(
        &self,
        content: &[u8],
        path: &str,
        matches: &Matches,
        index: &finding::LineIndex<'_>,
    ) -> Vec<Explanation> {
        matches
            .kept
            .iter()
            .filter_map(|m| {
                let id = &self.rules.rules()[m.rule].id;
                let secret = &content[m.secret.clone()];
                let fp = finding::fingerprint(id, secret);
                let why = match self.suppressions.suppressed_by(&fp, id, secret)? {
                    SuppressedBy::IgnoreFile => "fingerprint listed in the ignore file",
                    SuppressedBy::Baseline => "accepted in the baseline",
                };
                Some(self.explanation(index, content, path, m, why))
            })
            .collect()
    }

    fn explanation(
        &self,
        index: &finding::LineIndex<'_>,
        content: &[u8],
        path: &str,
        m: &RawMatch,
        reason: &str,
    ) -> Explanation {
        let (line, column) = index.position(m.secret.start);
        Explanation {
            rule_id: self.rules.rules()[m.rule].id.clone(),
            path: path.to_string(),
            line,
            column,
            secret: String::from_utf8_lossy(&content[m.secret.clone()]).into_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Orders findings by path, line, column and rule, so every run prints the same.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

/// The order of [`sort_findings`]: path, line, column, rule.
pub fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let (la, lb) = (a.location(), b.location());
    (&la.path, la.line, la.column, &a.rule_id).cmp(&(&lb.path, lb.line, lb.column, &b.rule_id))
}

/// Keep the type reachable for callers matching on reasons.
pub type Reason = DropReason;
