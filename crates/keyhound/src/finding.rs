//! Findings: what keyhound reports. A finding is one secret found by one rule, with every
//! location it was seen at, a position-independent fingerprint, and what to do about it.

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::evidence::{self, Confidence, Fixture};
use crate::matcher::RawMatch;
use crate::rules::{Rule, Severity};
use crate::source::blob::Blob;

/// A commit that holds a location (history and staged scans).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommitInfo {
    /// Full commit id.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// First line of the message.
    pub summary: String,
    /// Byte ranges of secrets the rules find in `summary`, which reports redact like any
    /// secret.
    #[serde(skip)]
    pub summary_secrets: Vec<std::ops::Range<usize>>,
}

/// Where a secret was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// File path (lossy UTF-8 for display; `-` for stdin).
    pub path: String,
    /// 1-based line of the start of the secret.
    pub line: usize,
    /// 1-based column (in characters) of the start of the secret.
    pub column: usize,
    /// 1-based line of the end of the secret.
    pub end_line: usize,
    /// 1-based column just past the secret's last character.
    pub end_column: usize,
    /// Byte offset of the secret in the scanned content.
    pub offset: usize,
    /// Byte offset just past the secret (for a decoded secret: past its encoded text), for
    /// telling overlapping sightings apart; not reported.
    #[serde(skip)]
    pub end_offset: usize,
    /// The commit, for git sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// The blob id, for git sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// In the report of a blob-range shard of an audit only: the position of the commit in the
    /// walk of its repository (which every shard walks alike), so that merging the shards
    /// orders locations as one scan does. Merge removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_order: Option<u32>,
}

/// One secret found by one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// Rule description.
    pub description: String,
    /// Rule severity.
    pub severity: Severity,
    /// The secret (reports redact it unless asked not to).
    pub secret: String,
    /// Hash of the rule id and the secret: the same wherever the secret moves.
    pub fingerprint: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// What to do.
    pub remediation: String,
    /// The provider's page for revoking or rotating the key, if the rule names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_url: Option<String>,
    /// How likely this is a live credential.
    pub confidence: Confidence,
    /// Set when the finding is a test fixture, by value or by place.
    pub fixture: Option<Fixture>,
    /// The evidence behind the confidence, in words.
    pub context: Vec<String>,
    /// How the secret was decoded before it matched (`base64`, `base64 > percent`…), when it
    /// was found inside encoded text; its location is that of the encoded text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    /// Where the secret sits in git history (history scans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitProvenance>,
    /// What the provider said about the secret: only when verified, and only for rules with
    /// a verify block. JSON: `"verified": "active", "verified_status": 200`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::verify::Verification>,
    /// Every place the secret was seen (one for a plain scan); in an audit of many
    /// repositories, the places in the first of [`Finding::repositories`].
    pub locations: Vec<Location>,
    /// The repositories holding the secret, in an audit of many (sorted by name); empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepoSighting>,
    /// The text around the secret on its (first) line, at most [`LINE_REACH`] bytes either
    /// side of it: reports redact every secret found in it unless asked not to.
    pub line: String,
    /// Byte ranges in `line` of the secrets found there (this one and others), for redaction.
    #[serde(skip)]
    pub line_secrets: Vec<std::ops::Range<usize>>,
}

/// How far either side of a secret [`Finding::line`] reaches, in bytes.
pub const LINE_REACH: usize = 80;

/// Secret spans of one content buffer, sorted by start, for [`line_excerpt`]: each finding
/// looks up the spans on its own line instead of going through all of them (a minified file
/// with 20,000 findings made that quadratic).
#[derive(Debug, Default)]
pub(crate) struct Spans {
    sorted: Vec<std::ops::Range<usize>>,
    /// The largest end among `sorted[..=i]`.
    max_end: Vec<usize>,
}

impl Spans {
    /// The spans of `secrets`, in any order.
    pub fn new(secrets: impl IntoIterator<Item = std::ops::Range<usize>>) -> Spans {
        let mut sorted: Vec<_> = secrets.into_iter().collect();
        sorted.sort_by_key(|r| (r.start, r.end));
        let mut max_end = Vec::with_capacity(sorted.len());
        let mut m = 0;
        for r in &sorted {
            m = m.max(r.end);
            max_end.push(m);
        }
        Spans { sorted, max_end }
    }

    /// The spans that overlap `from..to`.
    fn overlapping(&self, from: usize, to: usize) -> impl Iterator<Item = &std::ops::Range<usize>> {
        let hi = self.sorted.partition_point(|r| r.start < to);
        // `max_end` never decreases: spans before `lo` all end at or before `from`.
        let lo = self.max_end[..hi].partition_point(|&m| m <= from);
        self.sorted[lo..hi].iter().filter(move |r| r.end > from)
    }
}

/// The text of `content` around `span` on its line (see [`Finding::line`]), with the ranges in
/// it of every span of `secrets` that falls in it (clipped to it).
pub(crate) fn line_excerpt(
    index: &LineIndex<'_>,
    content: &[u8],
    span: std::ops::Range<usize>,
    secrets: &Spans,
) -> (String, Vec<std::ops::Range<usize>>) {
    let whole = index.line_near(span.start, span.end, usize::MAX);
    let line_start = whole.as_ptr() as usize - content.as_ptr() as usize;
    let line_end = line_start + whole.len();
    let mut from = span.start.saturating_sub(LINE_REACH).max(line_start);
    let mut to = span.end.saturating_add(LINE_REACH).min(line_end).max(from);
    // A secret cut by the window's edge is taken whole (within the line), so that redaction
    // never shows a piece of one.
    for r in secrets.overlapping(from, to.max(from + 1)) {
        if r.start < from && r.end > from {
            from = r.start.max(line_start);
        }
        if r.start < to && r.end > to {
            to = r.end.min(line_end);
        }
    }
    let mut inside: Vec<std::ops::Range<usize>> = secrets
        .overlapping(from, to.max(from + 1))
        .filter(|r| r.start < to && r.end > from)
        .map(|r| r.start.max(from)..r.end.min(to))
        .collect();
    inside.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut text = String::with_capacity(to - from);
    let mut ranges = Vec::with_capacity(inside.len());
    let mut at = from;
    for r in inside {
        if r.start < at {
            continue;
        }
        text.push_str(&String::from_utf8_lossy(&content[at..r.start]));
        let begin = text.len();
        text.push_str(&String::from_utf8_lossy(&content[r.clone()]));
        ranges.push(begin..text.len());
        at = r.end;
    }
    text.push_str(&String::from_utf8_lossy(&content[at..to]));
    (text, ranges)
}

/// One repository of an audit of many that holds a secret: its own first place and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepoSighting {
    /// The repository, as the audit's list names it (a path or a clone URL).
    pub repository: String,
    /// The commit that first held the secret there (none for a tag's message).
    pub commit: Option<String>,
    /// Where: the path of the first location.
    pub path: String,
    /// Its line.
    pub line: usize,
    /// Locations in this repository.
    pub locations: usize,
    /// Distinct commits that introduced a blob holding it there.
    pub commits: usize,
    /// Whether the repository's HEAD still holds it.
    pub present_at_head: bool,
    /// Whether only review refs (`refs/pull/*`, `refs/merge-requests/*`) reach it: the branches
    /// do not hold it, yet anyone who can read the repository's pull requests can.
    pub review_refs_only: bool,
}

/// A secret's place in git history, over every blob that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GitProvenance {
    /// Distinct commits that introduced a blob holding the secret.
    pub commits: usize,
    /// Distinct paths those blobs were first seen at.
    pub paths: usize,
    /// Whether a commit that introduced it is reachable from a remote-tracking ref
    /// (`refs/remotes/*`): it has left the machine, so rotate the key now. `false`: only local
    /// commits hold it (as far as this clone's remote-tracking refs know).
    pub pushed: bool,
    /// Whether HEAD's tree still holds it (if not, it stays exposed in history).
    pub present_at_head: bool,
}

impl Finding {
    /// The first location.
    pub fn location(&self) -> &Location {
        &self.locations[0]
    }

    /// Whether the provider accepted the secret (when verified).
    pub fn is_active(&self) -> bool {
        matches!(&self.verification, Some(v) if v.status == crate::verify::Status::Active)
    }

    /// Whether this finding fails a run that fails at confidence `at` (`None`: only keys the
    /// provider accepted fail). A key the provider accepted always fails; a fixture (test
    /// material, a published example, a failed checksum) never does otherwise: what fails a
    /// run is what a report shows by default.
    pub fn fails(&self, at: Option<Confidence>) -> bool {
        if self.is_active() {
            return true;
        }
        match at {
            Some(level) => self.fixture.is_none() && self.confidence >= level,
            None => false,
        }
    }
}

/// The position-independent fingerprint of a secret found by a rule.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(secret);
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Maps byte offsets of one content buffer to 1-based lines and character columns.
#[derive(Debug)]
pub(crate) struct LineIndex<'c> {
    content: &'c [u8],
    newlines: Vec<usize>,
    last: Cell<Option<Column>>,
}

impl<'c> LineIndex<'c> {
    /// Indexes `content`.
    pub fn new(content: &'c [u8]) -> Self {
        LineIndex {
            content,
            newlines: memchr::memchr_iter(b'\n', content).collect(),
            last: Cell::new(None),
        }
    }

    /// The bytes of the line holding `offset` (without its newline).
    pub fn line_at(&self, offset: usize) -> &'c [u8] {
        let line0 = self.newlines.partition_point(|&nl| nl < offset);
        let start = if line0 == 0 {
            0
        } else {
            self.newlines[line0 - 1] + 1
        };
        let end = self
            .newlines
            .get(line0)
            .copied()
            .unwrap_or(self.content.len());
        &self.content[start..end.max(start)]
    }

    /// The line holding `offset`, cut to `reach` bytes before `offset` and after `end`: what
    /// per-finding checks look at, bounded so that a one-line file costs the same as many lines.
    pub fn line_near(&self, offset: usize, end: usize, reach: usize) -> &'c [u8] {
        let line = self.line_at(offset);
        let line_start = line.as_ptr() as usize - self.content.as_ptr() as usize;
        let from = offset.saturating_sub(reach).max(line_start) - line_start;
        let to = end.saturating_add(reach).min(line_start + line.len()) - line_start;
        &line[from.min(to)..to]
    }

    /// `(line, column)` of `offset`, both 1-based; columns count UTF-8 characters (bytes where
    /// the line up to `offset` is not valid UTF-8).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.content.len());
        let line0 = self.newlines.partition_point(|&nl| nl < offset);
        let start = if line0 == 0 {
            0
        } else {
            self.newlines[line0 - 1] + 1
        };
        (line0 + 1, self.column(start, offset) + 1)
    }

    /// Characters from `start` (a line start) to `offset`. Counting resumes from the last
    /// offset asked for on the same line: findings come in order, and counting each from the
    /// line start made a one-line file with many findings quadratic.
    fn column(&self, start: usize, offset: usize) -> usize {
        let (from, counted) = match self.last.get() {
            Some(Column::Valid { line, at, chars }) if line == start && at <= offset => (at, chars),
            Some(Column::Invalid { line, from }) if line == start && from <= offset => {
                return offset - start
            }
            _ => (start, 0),
        };
        match std::str::from_utf8(&self.content[from..offset]) {
            Ok(s) => {
                let chars = counted + s.chars().count();
                self.last.set(Some(Column::Valid {
                    line: start,
                    at: offset,
                    chars,
                }));
                chars
            }
            Err(e) => {
                // A bad byte (not just a character cut at `offset`) makes every longer prefix
                // of the line invalid too.
                if e.error_len().is_some() {
                    self.last.set(Some(Column::Invalid {
                        line: start,
                        from: offset,
                    }));
                }
                offset - start
            }
        }
    }
}

/// Where [`LineIndex::column`] last stopped.
#[derive(Debug, Clone, Copy)]
enum Column {
    /// `content[line..at]` is valid UTF-8 of `chars` characters.
    Valid {
        line: usize,
        at: usize,
        chars: usize,
    },
    /// `content[line..from]` holds a byte that is not UTF-8.
    Invalid { line: usize, from: usize },
}

/// Turns matches in one blob into findings, each with one location, built whole from the
/// blob's origin: the path shown, the git blob id, and for bytes decoded from encoded text the
/// encoding chain and the position of that text in the blob it sits in (the line shown is that
/// blob's, the encoded text standing for the secret). This is the one place a location is made.
pub(crate) fn from_matches(rules: &[Rule], blob: &Blob<'_>, matches: &[RawMatch]) -> Vec<Finding> {
    if matches.is_empty() {
        return Vec::new();
    }
    let content = blob.bytes;
    let origin = &blob.origin;
    let path = origin.shown();
    let blob_id = origin.git_blob().map(|id| id.to_string());
    let decoded = origin.decoded_chain();
    let host = origin.host();
    let index = LineIndex::new(content);
    let spans = Spans::new(matches.iter().map(|m| m.secret.clone()));
    matches
        .iter()
        .map(|m| {
            let rule = &rules[m.rule];
            let secret = &content[m.secret.clone()];
            let near = index.line_near(m.secret.start, m.secret.end, crate::matcher::LINE_REACH);
            let name = m.name.clone().map(|n| &content[n]);
            let assessment = evidence::assess(rule, secret, &path, near, name);
            let secret_text = String::from_utf8_lossy(secret).into_owned();
            let (
                offset,
                end_offset,
                (line, column),
                (end_line, end_column),
                (line_text, line_secrets),
            ) = match host {
                None => (
                    m.secret.start,
                    m.secret.end,
                    index.position(m.secret.start),
                    index.position(m.secret.end),
                    line_excerpt(&index, content, m.secret.clone(), &spans),
                ),
                Some(host) => {
                    let start = origin.host_start(m.secret.start);
                    let end = origin.host_end(m.secret.start + secret_text.len().max(1));
                    let hi = host.index();
                    let own = Spans::new(std::iter::once(start..end));
                    (
                        start,
                        end,
                        hi.position(start),
                        hi.position(end),
                        line_excerpt(hi, host.content(), start..end, &own),
                    )
                }
            };
            Finding {
                rule_id: rule.id.clone(),
                description: rule.description.clone(),
                severity: rule.severity,
                secret: secret_text,
                fingerprint: fingerprint(&rule.id, secret),
                entropy: (m.entropy * 1000.0).round() / 1000.0,
                remediation: rule.remediation.clone(),
                revoke_url: rule.revoke_url.clone(),
                confidence: assessment.confidence,
                fixture: assessment.fixture,
                context: assessment.context,
                decoded: decoded.clone(),
                git: None,
                verification: None,
                repositories: Vec::new(),
                locations: vec![Location {
                    path: path.to_string(),
                    line,
                    column,
                    end_line,
                    end_column,
                    offset,
                    end_offset,
                    commit: None,
                    blob: blob_id.clone(),
                    walk_order: None,
                }],
                line: line_text,
                line_secrets,
            }
        })
        .collect()
}

/// Sightings grouped by (rule, secret): a finding is the matches of one rule with one secret,
/// wherever they were seen. Groups are numbered in order of first sighting.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Groups {
    /// For each sighting, the number of its group.
    pub of: Vec<usize>,
    /// For each group, its sightings in the order given.
    pub members: Vec<Vec<usize>>,
}

impl Groups {
    /// Groups `sightings` (each a finding with one location, from any source) by rule and
    /// secret.
    pub fn by_secret<'f>(sightings: impl IntoIterator<Item = &'f Finding>) -> Groups {
        let mut group_of: std::collections::HashMap<(&str, &str), usize> =
            std::collections::HashMap::new();
        let of: Vec<usize> = sightings
            .into_iter()
            .map(|f| {
                let next = group_of.len();
                *group_of
                    .entry((f.rule_id.as_str(), f.secret.as_str()))
                    .or_insert(next)
            })
            .collect();
        let mut members = vec![Vec::new(); group_of.len()];
        for (i, &g) in of.iter().enumerate() {
            members[g].push(i);
        }
        Groups { of, members }
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// The sightings of one group (see [`Groups`]) as one finding: its assessment from the
/// strongest sighting (a key first seen in a test directory and later in a config file is not
/// a fixture: not a fixture first, then the highest confidence, then the earliest), its
/// locations those of every sighting, in the order given. `None` for no sightings.
pub fn merge_sightings(mut sightings: Vec<Finding>) -> Option<Finding> {
    let best = sightings
        .iter()
        .enumerate()
        .max_by_key(|(i, f)| (f.fixture.is_none(), f.confidence, std::cmp::Reverse(*i)))
        .map(|(i, _)| i)?;
    let locations = sightings
        .iter_mut()
        .flat_map(|f| std::mem::take(&mut f.locations))
        .collect();
    let mut finding = sightings.swap_remove(best);
    finding.locations = locations;
    Some(finding)
}

/// Most characters of a secret's own text that redaction ever shows.
pub const REDACT_BUDGET: usize = 12;

/// The secret as reports show it by default: enough to tell keys apart, never enough to use
/// one, whatever its shape. A private key block shows only its `-----BEGIN …-----` line (a
/// header that shares a line with the body stops at its closing dashes); a secret of 32
/// characters or more shows its first 8 and last 4 (`sk-proj-…x9Qz`); a shorter one a fifth
/// of it, from the start. Nothing ever shows more than [`REDACT_BUDGET`] characters of the
/// secret beyond a PEM header.
pub fn redact(secret: &str) -> String {
    if let Some(header) = pem_header(secret) {
        return format!("{header}…");
    }
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    if n >= 32 {
        let head: String = chars[..8].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        return format!("{head}…{tail}");
    }
    let keep = (n / 5).min(REDACT_BUDGET);
    let prefix: String = chars[..keep].iter().collect();
    format!("{prefix}…")
}

/// `text` with each byte range in `spans` (secrets found in it) replaced by its redaction.
pub fn redact_spans(text: &str, spans: &[std::ops::Range<usize>]) -> String {
    let mut spans: Vec<_> = spans
        .iter()
        .filter(|r| r.start < r.end && text.get(r.start..r.end).is_some())
        .cloned()
        .collect();
    spans.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in spans {
        if r.start < at {
            continue;
        }
        out.push_str(&text[at..r.start]);
        out.push_str(&redact(&text[r.clone()]));
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// `-----BEGIN RSA PRIVATE KEY-----` at the start of `secret`: a label, not key material.
fn pem_header(secret: &str) -> Option<&str> {
    let rest = secret.strip_prefix("-----BEGIN ")?;
    let end = rest.find("-----")?;
    let label = &rest[..end];
    (label.len() <= 40 && label.bytes().all(|b| b.is_ascii_uppercase() || b == b' '))
        .then(|| &secret[.."-----BEGIN ".len() + end + 5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let text = "ab\r\nçd key\nx";
        let idx = LineIndex::new(text.as_bytes());
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(4), (2, 1));
        let key = text.find("key").unwrap();
        assert_eq!(idx.position(key), (2, 4));
        assert_eq!(idx.position(text.len() - 1), (3, 1));
    }

    #[test]
    fn columns_counted_on_from_the_last_one_equal_counting_from_the_line_start() {
        // Multi-byte characters, a bad byte and newlines; offsets asked in order, backwards
        // and at random, some inside a character.
        let mut rng = fastrand::Rng::with_seed(9);
        let pieces: [&[u8]; 6] = [b"ab", "ç".as_bytes(), "😀".as_bytes(), b"\n", b"\xff", b"k"];
        for _ in 0..100 {
            let mut text = Vec::new();
            for _ in 0..rng.usize(0..80) {
                text.extend_from_slice(pieces[rng.usize(..pieces.len())]);
            }
            let idx = LineIndex::new(&text);
            let mut offsets: Vec<usize> = (0..40).map(|_| rng.usize(0..=text.len())).collect();
            if rng.bool() {
                offsets.sort_unstable();
            }
            for at in offsets {
                let fresh = LineIndex::new(&text);
                assert_eq!(idx.position(at), fresh.position(at), "{text:?} at {at}");
            }
        }
    }

    #[test]
    fn place_evidence_looks_near_the_secret_on_a_long_line() {
        let rules = crate::RuleSet::builtin().unwrap();
        let (index, rule) = rules
            .rules()
            .iter()
            .enumerate()
            .find(|(_, r)| r.id == "generic-api-key")
            .unwrap();
        let value = ["Kx9mQ2vLp8Rt", "Zw4Yc7Bn1Hs5"].concat();
        let finding_on = |line: String| {
            let start = line.find(&value).unwrap();
            let m = RawMatch {
                rule: index,
                span: start..start + value.len(),
                secret: start..start + value.len(),
                entropy: 4.0,
                name: None,
            };
            let origin = crate::source::blob::Origin::File { path: "app.js" };
            from_matches(rules.rules(), &Blob::new(line.as_bytes(), origin), &[m]).remove(0)
        };
        assert!(rule.generic);
        let near = finding_on(format!("var x=1;/*example*/token=\"{value}\";"));
        assert!(near.fixture.is_some(), "{:?}", near.context);
        // The word in another statement of a minified line, far away, says nothing.
        let pad = "y".repeat(crate::matcher::LINE_REACH + 10);
        let far = finding_on(format!("var x=1;/*example*/{pad};token=\"{value}\";"));
        assert!(far.fixture.is_none(), "{:?}", far.context);
    }

    #[test]
    fn sightings_group_by_rule_and_secret_and_merge_from_the_strongest() {
        let mut sample = crate::report::tests_support::sample();
        sample.confidence = Confidence::Low;
        let sighting = |rule: &str, secret: &str, path: &str, fixture: bool| {
            let mut f = sample.clone();
            f.rule_id = rule.into();
            f.secret = secret.into();
            f.locations[0].path = path.into();
            if !fixture {
                f.fixture = None;
            } else {
                f.fixture = Some(Fixture::Place);
            }
            f
        };
        let found = vec![
            sighting("r", "a", "test/1", true),
            sighting("q", "a", "2", false),
            sighting("r", "b", "3", false),
            sighting("r", "a", "4", false),
        ];
        let groups = Groups::by_secret(&found);
        assert_eq!(groups.of, vec![0, 1, 2, 0]);
        assert_eq!(groups.members, vec![vec![0, 3], vec![1], vec![2]]);
        let merged = merge_sightings(vec![found[0].clone(), found[3].clone()]).unwrap();
        assert!(merged.fixture.is_none());
        let paths: Vec<&str> = merged.locations.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, vec!["test/1", "4"]);
        assert!(merge_sightings(Vec::new()).is_none());
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        assert_eq!(fingerprint("r", b"s"), fingerprint("r", b"s"));
        assert_ne!(fingerprint("r", b"s"), fingerprint("q", b"s"));
        assert_eq!(fingerprint("r", b"s").len(), 32);
    }

    #[test]
    fn redaction_hides_most() {
        let r = redact("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH");
        assert_eq!(r, "abcdefgh…EFGH");
        assert_eq!(redact("short"), "s…");
        assert_eq!(redact("Q9vX2mLp7RtZ4w"), "Q9…");
        assert_eq!(
            redact("-----BEGIN X-----\nAAAA\n-----END X-----"),
            "-----BEGIN X-----…"
        );
    }

    #[test]
    fn redaction_keeps_to_its_budget_whatever_the_shape() {
        // A private key whose header shares a line with its body.
        let body = "MIIEowIBAAKCAQEA".repeat(100);
        let one_line =
            format!("-----BEGIN RSA PRIVATE KEY-----{body}-----END RSA PRIVATE KEY-----");
        assert_eq!(redact(&one_line), "-----BEGIN RSA PRIVATE KEY-----…");
        // Not a real header: treated as any other secret.
        let fake = format!("-----BEGIN {body}");
        assert!(redact(&fake).chars().count() <= REDACT_BUDGET + 1);
        for n in [0, 1, 7, 20, 31, 32, 33, 200, 5000] {
            let s: String = "x9".repeat(n).chars().take(n).collect();
            let shown = redact(&s).chars().filter(|&c| c != '…').count();
            assert!(shown <= REDACT_BUDGET, "{n}: {}", redact(&s));
            assert!(shown * 2 <= n.max(1), "{n} shows half: {}", redact(&s));
        }
        // Multi-line without a header: never more than the budget either.
        let lines = format!("{}\n{}", "a".repeat(300), "b".repeat(300));
        assert!(redact(&lines).chars().count() <= REDACT_BUDGET + 1);
    }
}
