//! Wires the pieces: a [`Scanner`] owns the rules and the prefilter, turns one blob of content
//! (from any source) into findings, and carries what a whole scan counts. Sources (files,
//! git history, the staged index) call [`Scanner::scan_content`] from their worker threads,
//! each thread with its own [`Matcher`].

use serde::Serialize;

use crate::error::ItemError;
use crate::finding::{self, Finding};
use crate::matcher::{Matcher, Matches, Prefilter, RawMatch};
use crate::rules::RuleSet;
use crate::source::blob::{Blob, Origin};
use crate::suppress::{SuppressedBy, Suppressions};

/// Options that apply to every source.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScanOptions {
    /// Files and blobs larger than this are skipped and counted.
    pub max_file_size: u64,
    /// Record why candidates were dropped.
    pub explain: bool,
    /// How many layers of encodings and containers to look inside (0: none); see
    /// the `decode` module.
    pub max_decode_depth: usize,
    /// The time one top-level blob (with all it holds) may take to scan; `None`: no limit.
    pub scan_budget: Option<ScanBudget>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: 100 * 1024 * 1024,
            explain: false,
            max_decode_depth: 2,
            scan_budget: Some(ScanBudget::default()),
        }
    }
}

/// The time a blob may take to scan: `base`, and `per_mib` more for each MiB it holds. Past it
/// the matcher runs no more rules on the blob and the scan is incomplete ([`Unread::ScanBudget`])
/// rather than stalled by a costly regex. The default (10 s and 1 s per MiB) is about a hundred
/// times what scanning takes; only a pathological regex in a config file reaches it. Time is
/// checked between rules, between the keyword occurrences a config rule searches near, and
/// every few hundred matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanBudget {
    /// Time for any blob.
    pub base: std::time::Duration,
    /// Time for each MiB of it.
    pub per_mib: std::time::Duration,
}

impl Default for ScanBudget {
    fn default() -> Self {
        ScanBudget {
            base: std::time::Duration::from_secs(10),
            per_mib: std::time::Duration::from_secs(1),
        }
    }
}

impl ScanBudget {
    /// The budget of a blob of `bytes`.
    pub fn for_size(&self, bytes: usize) -> std::time::Duration {
        let mib = u32::try_from(bytes >> 20).unwrap_or(u32::MAX);
        self.base.saturating_add(self.per_mib.saturating_mul(mib))
    }
}

/// A candidate that a rule's regex matched but that is not reported, for [`ScanOptions::explain`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
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
#[non_exhaustive]
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
            // The user's own choice, not something a configuration removed.
            PathSkip::NotSelected => {}
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
    /// The scan is limited to some paths ([`Scanner::with_paths`]) and this is not one.
    NotSelected,
}

/// The paths a scan is limited to: gitignore-style globs over paths relative to the root (a
/// pattern without `/` matches a name at any depth; a directory stands for what it holds).
#[derive(Debug, Clone)]
pub struct PathFilter(globset::GlobSet);

impl PathFilter {
    /// The filter of `patterns`; `None` when there are none (every path is scanned).
    pub fn new(patterns: &[String]) -> crate::Result<Option<PathFilter>> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut builder = globset::GlobSetBuilder::new();
        for line in patterns {
            let pattern = line.trim_start_matches("./");
            let anchored = pattern.starts_with('/');
            let pattern = pattern.trim_start_matches('/').trim_end_matches('/');
            let pattern = if anchored || pattern.contains('/') {
                pattern.to_string()
            } else {
                format!("**/{pattern}")
            };
            for p in [pattern.clone(), format!("{pattern}/**")] {
                let glob = globset::GlobBuilder::new(&p)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| crate::Error::BadPattern {
                        pattern: line.clone(),
                        message: e.kind().to_string(),
                    })?;
                builder.add(glob);
            }
        }
        let set = builder.build().map_err(|e| crate::Error::BadPattern {
            pattern: patterns.join(" "),
            message: e.to_string(),
        })?;
        Ok(Some(PathFilter(set)))
    }

    /// Whether `path` is one of the selected paths.
    pub fn selects(&self, path: &str) -> bool {
        self.0.is_match(path.trim_start_matches("./"))
    }
}

/// What scanning one piece of content found.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct ContentResult {
    /// Findings, one location each, in order of position.
    pub findings: Vec<Finding>,
    /// Dropped candidates (with `explain`).
    pub explanations: Vec<Explanation>,
    /// Whether the content was treated as binary.
    pub binary: bool,
    /// What inside the content could not be read whole (a member over the size limit, the
    /// decoding budget used up, a corrupt archive…): the scan of it is incomplete.
    pub incomplete: Vec<Incomplete>,
    /// Things worth telling that take nothing away from the scan (a file named `.ipynb` that is
    /// not a notebook, scanned as text).
    pub notes: Vec<String>,
    /// What the configuration left out.
    pub removed: Removed,
}

/// Something a scan was asked to read and did not read whole. A scan with any is *incomplete*:
/// a key may sit in what was not read. Reports list them; the CLI's policy decides whether
/// they fail the run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Incomplete {
    /// What was not read whole, as reports name it: a path (`dump.sql`, `-` for stdin), an
    /// archive member (`release.zip!config/.env`) or a notebook cell (`nb.ipynb#cell-2`).
    pub what: String,
    /// The git blob, for history and staged scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// Why.
    pub reason: Unread,
}

/// Why something was not read whole. Limits are given as numbers; naming the option that sets
/// them is the caller's business.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unread {
    /// Larger than the size limit, so not scanned: `size` bytes when known (a file's or a
    /// blob's size), else more than `limit` (a member, a special file, stdin: read up to it).
    TooLarge {
        /// Its size in bytes, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
        /// The size limit in bytes.
        limit: u64,
    },
    /// The budget of decompressed and decoded bytes of one top-level blob ran out: what it
    /// holds beyond that point was not scanned.
    DecodeBudget {
        /// The budget in bytes.
        limit: u64,
    },
    /// An archive, or encoded text holding a rule keyword, nested deeper than the decoding
    /// depth: not opened or decoded.
    DepthLimit {
        /// The depth limit.
        depth: usize,
    },
    /// An archive with more members than are looked at: the rest were not scanned.
    TooManyMembers {
        /// How many members are looked at.
        limit: usize,
    },
    /// The scan budget of one blob ran out: the rules after that point did not run on it.
    ScanBudget {
        /// The budget, in milliseconds of matching.
        limit_ms: u64,
    },
    /// It could not be read (a corrupt or encrypted archive or member): its raw bytes were
    /// scanned as they are, what it holds was not (or only up to the damage).
    Unreadable {
        /// What went wrong.
        error: String,
    },
}

impl Incomplete {
    /// The blob from `origin` not read whole for `reason`, named as reports name it.
    pub fn at(origin: &Origin<'_>, reason: Unread) -> Incomplete {
        Incomplete {
            what: origin.to_string(),
            blob: origin.git_blob().map(|id| id.to_string()),
            reason,
        }
    }

    /// `what` not read whole for `reason`.
    pub fn new(what: impl Into<String>, reason: Unread) -> Incomplete {
        Incomplete {
            what: what.into(),
            blob: None,
            reason,
        }
    }
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::TooLarge {
                size: Some(size),
                limit,
            } => write!(
                f,
                "larger than the size limit ({size} > {limit} bytes); not scanned"
            ),
            Unread::TooLarge { size: None, limit } => {
                write!(f, "larger than the size limit ({limit} bytes); not scanned")
            }
            Unread::DecodeBudget { limit } => write!(
                f,
                "stopped looking inside after {limit} bytes of decompressed or decoded data; \
                 the rest of what it holds was not scanned"
            ),
            Unread::DepthLimit { depth } => write!(
                f,
                "nested deeper than the decoding depth ({depth}); not opened or decoded"
            ),
            Unread::TooManyMembers { limit } => {
                write!(
                    f,
                    "more than {limit} archive members; the rest were not scanned"
                )
            }
            Unread::ScanBudget { limit_ms } => write!(
                f,
                "the scan budget of one blob ({limit_ms} ms) ran out; the rest of the rules \
                 did not run on it"
            ),
            Unread::Unreadable { error } => {
                write!(
                    f,
                    "could not be read whole ({error}); scanned what could be read"
                )
            }
        }
    }
}

/// What an incomplete scan does to the outcome of a run (the CLI's exit code follows it; the
/// library only carries the setting, from a config file's `[scan] on_incomplete`), named in
/// lowercase (`fail`, `warn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnIncomplete {
    /// The run fails, as it would for a finding: what was not read may hold a key.
    #[default]
    Fail,
    /// The run says so and passes.
    Warn,
}

/// Counts for the summary at the end of a scan.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Files or blobs scanned.
    pub scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Of those, binary.
    pub binary: u64,
    /// What was not read whole (over the size limit, limits of decoding, corrupt archives):
    /// when not empty, the scan is incomplete.
    pub incomplete: Vec<Incomplete>,
    /// FIFOs, sockets and devices met while walking a directory: skipped, never waited on
    /// (they hold no content at rest; one named as a root is read).
    pub special_files: Vec<String>,
    /// Problems with single items met along the way (the scan went on).
    pub errors: Vec<ItemError>,
    /// Notes that take nothing away from the scan.
    pub notes: Vec<String>,
    /// What the configuration (config allowlists, ignore file, baseline) left out.
    pub removed: Removed,
    /// Files and directories a walk left out because `.gitignore` (or `.ignore`, git's
    /// `info/exclude`, the global excludes file) excludes them; a directory counts once.
    pub excluded_by_ignore_files: u64,
}

impl Stats {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: Stats) {
        self.removed.add(&other.removed);
        self.excluded_by_ignore_files += other.excluded_by_ignore_files;
        self.scanned += other.scanned;
        self.bytes += other.bytes;
        self.binary += other.binary;
        self.incomplete.extend(other.incomplete);
        self.special_files.extend(other.special_files);
        self.errors.extend(other.errors);
        self.notes.extend(other.notes);
    }

    /// Sorts the lists so that parallel runs report the same as serial ones.
    pub fn sort(&mut self) {
        self.incomplete.sort();
        self.incomplete.dedup();
        self.special_files.sort();
        self.errors.sort();
        self.notes.sort();
    }

    /// Counts one scanned blob of `bytes` and what its scan found incomplete or noted.
    pub fn add_content(&mut self, bytes: usize, result: &mut ContentResult) {
        self.scanned += 1;
        self.bytes += bytes as u64;
        self.binary += u64::from(result.binary);
        self.removed.add(&result.removed);
        self.incomplete.append(&mut result.incomplete);
        self.notes.append(&mut result.notes);
    }
}

/// The rules, the prefilter and the suppressions, shared by every worker thread.
#[derive(Debug)]
pub struct Scanner {
    rules: RuleSet,
    prefilter: Prefilter,
    /// Fingerprints and path globs to leave out.
    pub(crate) suppressions: Suppressions,
    /// The only paths to scan, if limited.
    paths: Option<PathFilter>,
    /// Options.
    pub(crate) options: ScanOptions,
    /// Built on first use by [`crate::decode`].
    pub(crate) nested: crate::decode::Nested,
}

/// Whether `content` is UTF-16 text without a byte-order mark: `Some(true)` for little-endian,
/// `Some(false)` for big-endian. ASCII text in UTF-16 has a NUL as one byte of every unit, so
/// it looks binary; it is taken for text when at least 90% of the units of its first 4 KiB
/// (and at least 8) are an ASCII character (printable, tab, CR or LF) beside a NUL, all on the
/// same side.
pub(crate) fn utf16_without_bom(content: &[u8]) -> Option<bool> {
    let head = &content[..content.len().min(4096)];
    let units = head.len() / 2;
    // Most content has no NUL at all: one fast pass says so.
    if units < 8 || memchr::memchr(0, head).is_none() {
        return None;
    }
    let text = |b: u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e);
    let (mut le, mut be) = (0, 0);
    for u in head.chunks_exact(2) {
        le += usize::from(u[1] == 0 && text(u[0]));
        be += usize::from(u[0] == 0 && text(u[1]));
    }
    if le * 10 >= units * 9 {
        Some(true)
    } else if be * 10 >= units * 9 {
        Some(false)
    } else {
        None
    }
}

/// Content starting with NUL bytes in its first 8 KiB is treated as binary (as git does).
pub(crate) fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(8192)]).is_some()
}

/// UTF-16 text, decoded to UTF-8; `None` for anything else. Text with a byte-order mark, and
/// text without one as some Windows tools write it (see [`utf16_without_bom`]).
pub(crate) fn decode_utf16(content: &[u8]) -> Option<Vec<u8>> {
    let (le, body) = match content {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => (utf16_without_bom(content)?, content),
    };
    let units = body.chunks_exact(2).map(|c| {
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
            paths: None,
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

    /// Limits the scan to the paths `filter` selects (`None`: every path).
    pub fn with_paths(mut self, filter: Option<PathFilter>) -> Self {
        self.paths = filter;
        self
    }

    /// The options it scans with.
    pub fn options(&self) -> &ScanOptions {
        &self.options
    }

    /// The fingerprints and paths it leaves out.
    pub fn suppressions(&self) -> &Suppressions {
        &self.suppressions
    }

    /// The rules it runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// A matcher for one worker thread.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher::new(&self.rules, &self.prefilter).explain(self.options.explain)
    }

    /// How many rules the keyword prefilter proposes for `content`.
    pub(crate) fn keyword_rules(&self, content: &[u8]) -> usize {
        let mut candidates = vec![false; self.rules.rules().len()];
        self.prefilter.candidates(content, &mut candidates)
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
        } else if self.paths.as_ref().is_some_and(|f| !f.selects(path)) {
            Some(PathSkip::NotSelected)
        } else {
            None
        }
    }

    /// Whether any path is skipped at all (a config allowlist of paths or ignore-file globs).
    pub fn skips_paths(&self) -> bool {
        self.rules.allowlist.has_paths() || self.suppressions.has_globs() || self.paths.is_some()
    }

    /// Scans one piece of content that lives at `path` (a file, as reports show it): see
    /// [`Scanner::scan_blob`].
    pub fn scan_content(
        &self,
        matcher: &mut Matcher<'_>,
        path: &str,
        content: &[u8],
    ) -> ContentResult {
        self.scan_blob(matcher, &Blob::new(content, Origin::File { path }))
    }

    /// Scans one blob: its text, then what is nested in it (archives, notebooks, encoded
    /// strings; see the `decode` module).
    pub fn scan_blob(&self, matcher: &mut Matcher<'_>, blob: &Blob<'_>) -> ContentResult {
        let budget = self
            .options
            .scan_budget
            .map(|b| b.for_size(blob.bytes.len()));
        matcher.set_budget(budget);
        let mut result = self.scan_blob_plain(matcher, blob);
        crate::decode::scan_nested(self, matcher, blob, &mut result);
        if let (true, Some(budget)) = (matcher.expired(), budget) {
            let limit_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
            result.incomplete.push(Incomplete::at(
                &blob.origin,
                Unread::ScanBudget { limit_ms },
            ));
        }
        matcher.set_budget(None);
        result
    }

    /// Scans content at `path` as it is: see [`Scanner::scan_blob_plain`].
    pub fn scan_plain(
        &self,
        matcher: &mut Matcher<'_>,
        path: &str,
        content: &[u8],
    ) -> ContentResult {
        self.scan_blob_plain(matcher, &Blob::new(content, Origin::File { path }))
    }

    /// Scans a blob as it is, without looking inside archives or encodings.
    pub fn scan_blob_plain(&self, matcher: &mut Matcher<'_>, blob: &Blob<'_>) -> ContentResult {
        let mut matches = Matches::default();
        let decoded = decode_utf16(blob.bytes);
        let content = decoded.as_deref().unwrap_or(blob.bytes);
        let binary = decoded.is_none() && is_binary(content);
        let shown = blob.origin.shown();
        matcher.find(content, Some(shown.as_bytes()), binary, &mut matches);
        let text = Blob::new(content, blob.origin);
        let mut findings = finding::from_matches(self.rules.rules(), &text, &matches.kept);
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
            self.explain(content, &shown, &matches)
        } else {
            Vec::new()
        };
        ContentResult {
            findings,
            explanations,
            binary,
            incomplete: Vec::new(),
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
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

/// The order of `sort_findings`: path, line, column, rule.
pub fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let (la, lb) = (a.location(), b.location());
    (&la.path, la.line, la.column, &a.rule_id).cmp(&(&lb.path, lb.line, lb.column, &b.rule_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, le: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    #[test]
    fn utf16_without_a_byte_order_mark_is_text() {
        let text = "OPENAI_API_KEY=x\r\nname = café — ok\r\n".repeat(3);
        for le in [true, false] {
            let bytes = utf16(&text, le);
            assert!(is_binary(&bytes));
            assert_eq!(utf16_without_bom(&bytes), Some(le));
            assert_eq!(decode_utf16(&bytes).as_deref(), Some(text.as_bytes()));
        }
        // Binary data with NULs is not: zeros, a NUL every other byte beside non-text bytes,
        // or too little to tell.
        assert_eq!(utf16_without_bom(&[0u8; 64]), None);
        let odd: Vec<u8> = (0..64u8)
            .flat_map(|i| [i.wrapping_mul(37) | 0x80, 0])
            .collect();
        assert_eq!(utf16_without_bom(&odd), None);
        assert_eq!(utf16_without_bom(&utf16("k=v", true)), None);
        assert_eq!(decode_utf16(b"plain text, no NULs"), None);
    }
}
