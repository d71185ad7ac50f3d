//! An audit of many repositories: each repository's history scanned as [`super::history`]
//! scans one, each (blob, path) read and scanned once per audit however many repositories
//! hold it ([`Seen`]), and the results combined into one report in which a secret found in
//! several repositories is one finding listing each repository with its own first place.
//!
//! Contract:
//! - A repository's part of the audit is what a history scan of it alone finds (same
//!   findings, same counts); only the work differs.
//! - [`combine`] of parts is independent of how they were grouped: the report of a list
//!   audited in one process equals, byte for byte when written, the combination of the reports
//!   of any split of that list into [`Shard`]s. The order of findings is a sort on what they
//!   hold (first repository, path, line, column, rule, fingerprint), never on timing.
//! - A repository that cannot be opened or read is an error in the report, and the audit goes
//!   on.
//!
//! The parts beside this file: `list` (which repositories), `fetch` (clone URLs into a
//! directory, with the hosts' review refs), `shard` (a deterministic part of the list), `seen`
//! (what was scanned already) and `state` (what an earlier audit left, for an incremental one).
//!
//! What it does not do: schedule anything (an engine runs the shards), decide exit codes, or
//! read a repository's own configuration (an audit is the auditor's view; a repository cannot
//! silence it).
//!
//! Two repositories holding one key: one finding listing both, the second scan reusing what
//! the first read.
//!
//! ```
//! use std::sync::Arc;
//! use keyhound::source::audit::{self, RepoEntry, Seen};
//! use keyhound::source::history::{HistoryOptions, NoProgress};
//! use keyhound::{RuleSet, Scanner};
//!
//! # let key = format!("sk-proj-{}T3BlbkFJ{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5jK7mN9pQ1sT3vW5yZ7bC9dF1gH3jK5mN",
//! #                     "Zy8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE8dC6bA4zY2xW0vU8tS6rQ4pO2nM0lK8jI6hG4f");
//! let dir = tempfile::tempdir()?;
//! let me = git2::Signature::now("Dev", "dev@example.com")?;
//! for name in ["app", "app-fork"] {
//!     let repo = git2::Repository::init(dir.path().join(name))?;
//!     let mut tree = repo.treebuilder(None)?;
//!     tree.insert(".env", repo.blob(format!("OPENAI_API_KEY={key}\n").as_bytes())?, 0o100644)?;
//!     let tree = repo.find_tree(tree.write()?)?;
//!     repo.commit(Some("HEAD"), &me, &me, "configure", &tree, &[])?;
//! }
//!
//! let scanner = Scanner::new(RuleSet::builtin()?);
//! let seen = Arc::new(Seen::new());
//! let mut options = HistoryOptions::default();
//! options.seen = Some(seen.clone());
//! let mut parts = Vec::new();
//! for name in ["app", "app-fork"] {
//!     let entry = RepoEntry::local(dir.path().join(name));
//!     let scan = audit::scan_repository(&scanner, &entry, &options, &NoProgress);
//!     parts.push((entry.name.clone(), scan.report));
//! }
//! let report = audit::combine(parts)?;
//! assert_eq!(report.findings.len(), 1, "one secret, one finding");
//! assert_eq!(report.findings[0].repositories.len(), 2);
//! assert_eq!((seen.scanned(), seen.reused()), (1, 1), "the fork's blob was not read again");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fetch;
mod list;
pub(crate) mod seen;
mod shard;
mod state;

use std::collections::HashSet;
use std::path::PathBuf;

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::{Finding, RepoSighting};
use crate::scan::ScanOptions;
use crate::source::history::{self, HistoryOptions, Progress};
use crate::Scanner;

pub use fetch::{fetch, Fetched, REVIEW_REFSPECS};
pub use list::{discover, is_url, parse_list, read_list, RepoEntry};
pub use seen::Seen;
pub use shard::Shard;
pub use state::{State, StoredPart};

/// What can go wrong in an audit as a whole (a single repository's trouble is an error in the
/// report instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A shard spec that does not name a shard.
    #[error("shard {spec}: {why}")]
    Shard {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
    /// A file or directory of the audit could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A repository list that cannot be used.
    #[error("{}: {why}", path.display())]
    List {
        /// The list file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A state directory's file that cannot be used.
    #[error("{}: {why}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Reports that cannot be combined into one.
    #[error("{0}")]
    Combine(String),
}

/// What one repository contributed to an audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepoSummary {
    /// The repository's name in the list.
    pub name: String,
    /// Commits walked.
    pub commits: u64,
    /// Unique blobs (file versions) it holds.
    pub blobs: u64,
    /// Bytes of those blobs that were scanned.
    pub bytes: u64,
    /// Findings whose secret it holds.
    pub findings: u64,
    /// Review refs (`refs/pull/*`, `refs/merge-requests/*`) among its refs.
    pub review_refs: u64,
    /// Errors met in it.
    pub errors: u64,
}

/// The summary of an audit's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditSummary {
    /// Findings in the report.
    pub findings: u64,
    /// Of the rules, configuration, options and keyhound version: reports and states of
    /// different fingerprints do not mix.
    pub fingerprint: String,
    /// Whether the secrets in the report are redacted.
    pub redacted: bool,
    /// The shard (`I/N`) this report is, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Whether the shard is a part of the blob-id space of every repository (one very large
    /// repository split over machines) rather than a part of the repository list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blob_shard: bool,
    /// Repositories audited.
    pub repositories: u64,
    /// Commits walked, over all repositories.
    pub commits: u64,
    /// Unique blobs per repository, summed.
    pub blobs: u64,
    /// Bytes scanned per repository, summed.
    pub bytes: u64,
    /// Errors, each naming its repository.
    pub errors: Vec<String>,
    /// What was not read whole, each naming its repository.
    pub incomplete: Vec<String>,
    /// Notes, each naming its repository.
    pub notes: Vec<String>,
    /// Each repository, by name.
    pub per_repository: Vec<RepoSummary>,
}

/// An audit's report: findings (each with its repositories) and the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// Findings, in the order of the contract.
    pub findings: Vec<Finding>,
    /// Counts and problems.
    pub summary: AuditSummary,
}

impl AuditReport {
    /// The part of a repository that could not be audited (not opened, not cloned, not
    /// walked): no findings, one error naming it.
    pub fn failed(name: &str, why: &str) -> AuditReport {
        let mut report = AuditReport::default();
        let s = &mut report.summary;
        s.repositories = 1;
        s.errors.push(format!("{name}: {why}"));
        s.per_repository.push(RepoSummary {
            name: name.to_string(),
            errors: 1,
            ..RepoSummary::default()
        });
        report
    }
}

/// One repository scanned.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RepoScan {
    /// Its part of the audit (fingerprint and redaction left for the caller to set).
    pub report: AuditReport,
    /// Its refs and HEAD, each with the object it names, sorted: an incremental audit rescans
    /// a repository only when these changed.
    pub tips: Vec<(String, String)>,
}

/// Refs under these prefixes are a host's review refs.
const REVIEW_PREFIXES: [&str; 2] = ["refs/pull/", "refs/merge-requests/"];

/// Whether `name` is a host's review ref (`refs/pull/*`, `refs/merge-requests/*`).
pub fn is_review_ref(name: &str) -> bool {
    REVIEW_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The fingerprint of an audit's settings: the keyhound version, the built-in rules, each
/// configuration file's bytes (`config`: its name and bytes) and the options that change
/// what a scan finds.
pub fn fingerprint(config: &[(&str, &[u8])], options: &ScanOptions) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(env!("CARGO_PKG_VERSION").as_bytes());
    for (name, text) in crate::rules::builtin_files() {
        field(name.as_bytes());
        field(text.as_bytes());
    }
    for (name, bytes) in config {
        field(name.as_bytes());
        field(bytes);
    }
    field(&options.max_file_size.to_le_bytes());
    field(&(options.max_decode_depth as u64).to_le_bytes());
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The refs and HEAD of `repo`, each with the id it names, sorted.
pub fn tips(repo: &Repository) -> Vec<(String, String)> {
    let mut tips = Vec::new();
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            let target = r
                .target()
                .map(|id| id.to_string())
                .or_else(|| r.symbolic_target().map(str::to_string))
                .unwrap_or_default();
            tips.push((name, target));
        }
    }
    if let Ok(head) = repo.find_reference("HEAD") {
        let target = head
            .symbolic_target()
            .map(str::to_string)
            .or_else(|| head.target().map(|id| id.to_string()))
            .unwrap_or_default();
        tips.push(("HEAD".to_string(), target));
    }
    tips.sort();
    tips
}

/// Scans the history of one repository of an audit (`options.seen` shares the work with the
/// others). A repository that cannot be opened or walked is an error in its part.
pub fn scan_repository(
    scanner: &Scanner,
    entry: &RepoEntry,
    options: &HistoryOptions,
    progress: &dyn Progress,
) -> RepoScan {
    let name = &entry.name;
    let mut summary = RepoSummary {
        name: name.clone(),
        ..RepoSummary::default()
    };
    let mut report = AuditReport::default();
    let failed = |why: String| RepoScan {
        report: AuditReport::failed(name, &why),
        tips: Vec::new(),
    };
    let repo = match Repository::open(&entry.path) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("not a git repository that can be opened ({})", e.message());
            return failed(why);
        }
    };
    let tips = tips(&repo);
    let scan = match history::scan_history(scanner, &repo, options, progress) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let review: Vec<&(String, String)> = tips.iter().filter(|(n, _)| is_review_ref(n)).collect();
    summary.review_refs = review.len() as u64;
    let on_branches = if review.is_empty() || scan.findings.is_empty() {
        None
    } else {
        Some(reachable_without_review_refs(&repo))
    };
    let mut findings = scan.findings;
    for f in &mut findings {
        let first = f.location();
        let review_refs_only = on_branches.as_ref().is_some_and(|reach| {
            f.locations.iter().all(|l| {
                l.commit
                    .as_ref()
                    .and_then(|c| Oid::from_str(&c.id).ok())
                    .is_some_and(|id| !reach.contains(&id))
            })
        });
        let git = f.git.as_ref();
        let sighting = RepoSighting {
            repository: name.clone(),
            commit: first.commit.as_ref().map(|c| c.id.clone()),
            path: first.path.clone(),
            line: first.line,
            locations: f.locations.len(),
            commits: git.map_or(0, |g| g.commits),
            present_at_head: git.is_some_and(|g| g.present_at_head),
            review_refs_only,
        };
        f.repositories = vec![sighting];
    }
    let stats = scan.stats;
    summary.commits = scan.history.commits as u64;
    summary.blobs = scan.history.blobs as u64;
    summary.bytes = stats.bytes;
    summary.findings = findings.len() as u64;
    summary.errors = stats.errors.len() as u64;
    let s = &mut report.summary;
    s.errors = stats
        .errors
        .iter()
        .map(|e| format!("{name}: {e}"))
        .collect();
    s.incomplete = stats
        .incomplete
        .iter()
        .map(|i| format!("{name}: {}: {}", i.what, i.reason))
        .collect();
    s.notes = stats.notes.iter().map(|n| format!("{name}: {n}")).collect();
    if scan.history.shallow {
        s.notes.push(format!(
            "{name}: a shallow clone: history before its edge was not scanned"
        ));
    }
    s.repositories = 1;
    s.commits = summary.commits;
    s.blobs = summary.blobs;
    s.bytes = summary.bytes;
    s.findings = findings.len() as u64;
    s.per_repository.push(summary);
    report.findings = findings;
    RepoScan { report, tips }
}

/// The commits reachable from HEAD and every ref that is not a review ref.
fn reachable_without_review_refs(repo: &Repository) -> HashSet<Oid> {
    let mut set = HashSet::new();
    let Ok(mut walk) = repo.revwalk() else {
        return set;
    };
    let _ = walk.push_head();
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            if is_review_ref(&name) {
                continue;
            }
            if let Ok(c) = r.peel_to_commit() {
                let _ = walk.push(c.id());
            }
        }
    }
    set.extend(walk.flatten());
    set
}

/// The sort key of a finding in a report.
fn order_key(f: &Finding) -> (&str, &str, usize, usize, &str, &str) {
    let repo = f.repositories.first().map_or("", |r| r.repository.as_str());
    let l = f.locations.first();
    (
        repo,
        l.map_or("", |l| l.path.as_str()),
        l.map_or(0, |l| l.line),
        l.map_or(0, |l| l.column),
        &f.rule_id,
        &f.fingerprint,
    )
}

/// Combines reports (of repositories, or of shards) into one: a secret held by several is
/// one finding (its places from the first repository by name) listing every repository. Each
/// labelled report must have the same fingerprint and redaction; shard reports must be all
/// the shards of one split, each once. A repository may be in several reports only when they
/// are blob-range shards, whose parts of each repository are joined as one scan of it.
pub fn combine(parts: Vec<(String, AuditReport)>) -> Result<AuditReport, AuditError> {
    combine_as(parts, true)
}

/// The repositories' parts of one blob-range shard, combined without grouping a secret's
/// repositories into one finding: each finding keeps its one repository and every location,
/// for [`combine`] to join with the other shards' (a finding listing several repositories
/// holds the locations of the first only).
pub fn combine_blob_shard(parts: Vec<(String, AuditReport)>) -> Result<AuditReport, AuditError> {
    combine_as(parts, false)
}

fn combine_as(
    parts: Vec<(String, AuditReport)>,
    group_repositories: bool,
) -> Result<AuditReport, AuditError> {
    let mut out = AuditReport::default();
    let Some((first_label, first)) = parts.first() else {
        return Ok(out);
    };
    out.summary.fingerprint = first.summary.fingerprint.clone();
    out.summary.redacted = first.summary.redacted;
    for (label, p) in &parts {
        if p.summary.fingerprint != first.summary.fingerprint {
            return Err(AuditError::Combine(format!(
                "{label} and {first_label} were made with different rules, configuration or keyhound versions (fingerprints {} and {}): audit them again with the same settings",
                p.summary.fingerprint, first.summary.fingerprint
            )));
        }
        if p.summary.redacted != first.summary.redacted {
            return Err(AuditError::Combine(format!(
                "{label} and {first_label}: one has its secrets redacted and the other does not"
            )));
        }
    }
    let blob_shards = check_shards(&parts)?;
    if !blob_shards {
        let mut seen_repos: std::collections::HashMap<&str, &str> = Default::default();
        for (label, p) in &parts {
            for r in &p.summary.per_repository {
                if let Some(other) = seen_repos.insert(&r.name, label) {
                    return Err(AuditError::Combine(format!(
                        "repository {} is in both {other} and {label}",
                        r.name
                    )));
                }
            }
        }
    }
    let mut all: Vec<Finding> = Vec::new();
    let mut repos: Vec<RepoSummary> = Vec::new();
    for (_, p) in parts {
        let s = p.summary;
        out.summary.errors.extend(s.errors);
        out.summary.incomplete.extend(s.incomplete);
        out.summary.notes.extend(s.notes);
        repos.extend(s.per_repository);
        all.extend(p.findings);
    }
    for list in [
        &mut out.summary.errors,
        &mut out.summary.incomplete,
        &mut out.summary.notes,
    ] {
        list.sort();
        // The shards of one repository each walk it, and each meet what the walk meets.
        list.dedup();
    }
    if blob_shards {
        all = join_blob_shards(all);
    }
    // Group by (rule, secret): the member whose first repository sorts first stands for the
    // group; every member's repositories are listed.
    all.sort_by(|a, b| {
        (&a.rule_id, &a.fingerprint)
            .cmp(&(&b.rule_id, &b.fingerprint))
            .then_with(|| order_key(a).cmp(&order_key(b)))
    });
    let mut grouped: Vec<Finding> = Vec::new();
    for f in all {
        match grouped.last_mut() {
            Some(g)
                if group_repositories
                    && g.rule_id == f.rule_id
                    && g.fingerprint == f.fingerprint =>
            {
                g.repositories.extend(f.repositories);
            }
            _ => grouped.push(f),
        }
    }
    for g in &mut grouped {
        g.repositories
            .sort_by(|a, b| a.repository.cmp(&b.repository));
    }
    grouped.sort_by(|a, b| order_key(a).cmp(&order_key(b)));

    repos.sort_by(|a, b| a.name.cmp(&b.name));
    let mut joined: Vec<RepoSummary> = Vec::new();
    for r in repos {
        match joined.last_mut() {
            // Blob-range shards of one repository: one walk, blobs split.
            Some(j) if j.name == r.name => {
                j.blobs += r.blobs;
                j.bytes += r.bytes;
                j.commits = j.commits.max(r.commits);
                j.review_refs = j.review_refs.max(r.review_refs);
            }
            _ => joined.push(r),
        }
    }
    for r in &mut joined {
        if blob_shards {
            let prefix = format!("{}: ", r.name);
            r.errors = out
                .summary
                .errors
                .iter()
                .filter(|e| e.starts_with(&prefix))
                .count() as u64;
        }
        r.findings = grouped
            .iter()
            .filter(|f| f.repositories.iter().any(|s| s.repository == r.name))
            .count() as u64;
    }
    let s = &mut out.summary;
    s.repositories = joined.len() as u64;
    s.commits = joined.iter().map(|r| r.commits).sum();
    s.blobs = joined.iter().map(|r| r.blobs).sum();
    s.bytes = joined.iter().map(|r| r.bytes).sum();
    s.per_repository = joined;
    s.findings = grouped.len() as u64;
    out.findings = grouped;
    Ok(out)
}

/// The findings of blob-range shards joined per (rule, secret, repository) as one scan of the
/// repository makes them: every location in walk order, the best sighting standing for them,
/// the provenance over all of them. The walk positions are then dropped.
fn join_blob_shards(mut all: Vec<Finding>) -> Vec<Finding> {
    let repo_of = |f: &Finding| f.repositories.first().map(|r| r.repository.clone());
    all.sort_by(|a, b| {
        (&a.rule_id, &a.fingerprint, repo_of(a)).cmp(&(&b.rule_id, &b.fingerprint, repo_of(b)))
    });
    let mut out: Vec<Finding> = Vec::new();
    let mut group: Vec<Finding> = Vec::new();
    let flush = |group: &mut Vec<Finding>, out: &mut Vec<Finding>| {
        if group.is_empty() {
            return;
        }
        out.push(join_one(std::mem::take(group)));
    };
    for f in all {
        if let Some(g) = group.first() {
            if (g.rule_id != f.rule_id)
                || g.fingerprint != f.fingerprint
                || repo_of(g) != repo_of(&f)
            {
                flush(&mut group, &mut out);
            }
        }
        group.push(f);
    }
    flush(&mut group, &mut out);
    for f in &mut out {
        for l in &mut f.locations {
            l.walk_order = None;
        }
    }
    out
}

/// One repository's sightings of one secret, from several blob-range shards, as one.
fn join_one(mut parts: Vec<Finding>) -> Finding {
    let loc_key = |l: &crate::finding::Location| {
        (
            l.walk_order.unwrap_or(u32::MAX),
            l.path.clone(),
            l.line,
            l.column,
        )
    };
    if parts.len() == 1 {
        return parts.remove(0);
    }
    let first_order = |f: &Finding| f.locations.first().map(loc_key);
    // The sighting a single scan keeps: not a fixture, most confident, earliest.
    let best = parts
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| {
            (a.fixture.is_none(), a.confidence)
                .cmp(&(b.fixture.is_none(), b.confidence))
                .then_with(|| first_order(b).cmp(&first_order(a)))
        })
        .map_or(0, |(i, _)| i);
    let mut locations: Vec<crate::finding::Location> = parts
        .iter_mut()
        .flat_map(|f| std::mem::take(&mut f.locations))
        .collect();
    locations.sort_by_key(|l| loc_key(l));
    let present_at_head = parts
        .iter()
        .any(|f| f.git.as_ref().is_some_and(|g| g.present_at_head));
    let pushed = parts
        .iter()
        .any(|f| f.git.as_ref().is_some_and(|g| g.pushed));
    let review_only = parts
        .iter()
        .all(|f| f.repositories.first().is_some_and(|r| r.review_refs_only));
    let mut f = parts.swap_remove(best);
    let commits: HashSet<&str> = locations
        .iter()
        .filter_map(|l| l.commit.as_ref().map(|c| c.id.as_str()))
        .collect();
    let paths: HashSet<&str> = locations.iter().map(|l| l.path.as_str()).collect();
    if let Some(g) = &mut f.git {
        g.commits = commits.len();
        g.paths = paths.len();
        g.present_at_head = present_at_head;
        g.pushed = pushed;
    }
    let (commits, locations_n) = (commits.len(), locations.len());
    if let (Some(r), Some(first)) = (f.repositories.first_mut(), locations.first()) {
        r.commit = first.commit.as_ref().map(|c| c.id.clone());
        r.path = first.path.clone();
        r.line = first.line;
        r.locations = locations_n;
        r.commits = commits;
        r.present_at_head = present_at_head;
        r.review_refs_only = review_only;
    }
    f.locations = locations;
    f
}

/// Shard reports: all of one split, each once; a report without a shard cannot join them.
/// Returns whether they are blob-range shards.
fn check_shards(parts: &[(String, AuditReport)]) -> Result<bool, AuditError> {
    let shards: Vec<(&str, Option<Shard>)> = parts
        .iter()
        .map(|(label, p)| {
            let shard = p
                .summary
                .shard
                .as_deref()
                .map(Shard::parse)
                .transpose()
                .map_err(|e| AuditError::Combine(format!("{label}: {e}")))?;
            Ok((label.as_str(), shard))
        })
        .collect::<Result<_, AuditError>>()?;
    if shards.iter().all(|(_, s)| s.is_none()) {
        return Ok(false);
    }
    let blob_shards = parts[0].1.summary.blob_shard;
    if let Some((label, _)) = parts
        .iter()
        .find(|(_, p)| p.summary.blob_shard != blob_shards)
    {
        return Err(AuditError::Combine(format!(
            "{label} and {}: one splits the blobs of each repository, the other the list of repositories",
            parts[0].0
        )));
    }
    let mut by_index: std::collections::BTreeMap<u32, &str> = Default::default();
    let mut count = None;
    for (label, shard) in &shards {
        let Some(shard) = shard else {
            return Err(AuditError::Combine(format!(
                "{label} is not a shard's report, the others are: merge the shards of one split"
            )));
        };
        match count {
            None => count = Some((shard.count, *label)),
            Some((n, other)) if n != shard.count => {
                return Err(AuditError::Combine(format!(
                    "{label} is shard {shard} and {other} a shard of {n}: merge the shards of one split"
                )))
            }
            Some(_) => {}
        }
        if let Some(other) = by_index.insert(shard.index, label) {
            return Err(AuditError::Combine(format!(
                "{other} and {label} are both shard {shard}: each shard once"
            )));
        }
    }
    if let Some((n, _)) = count {
        let missing: Vec<String> = (0..n)
            .filter(|i| !by_index.contains_key(i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !missing.is_empty() {
            return Err(AuditError::Combine(format!(
                "shard {} missing: merge every shard of the split (a shard with no repositories still writes a report)",
                missing.join(", ")
            )));
        }
    }
    Ok(blob_shards)
}
