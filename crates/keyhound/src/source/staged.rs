//! The staged changes: what the next commit will contain, for the pre-commit check.
//!
//! Contract: the content scanned is the blob in the index (not the working tree, which differs
//! after `git add -p`), and only what the commit adds is reported: a finding is kept when its
//! fingerprint is not among the findings of the old versions of the paths this commit changes
//! or deletes. So a key that was already committed in a file the commit touches (edited around,
//! moved, or moved into a renamed or split file) is not reported again, while every location of
//! a new key is (the developer must fix each one). Line numbers are those of the staged blob,
//! which is scanned whole so that multi-line keys match.
//!
//! The work is in three steps, each paid only when the previous one found something:
//! 1. list the changed paths by comparing HEAD's tree (the empty tree before the first commit)
//!    with the index: no working-tree status, no content diff. The index file is read directly
//!    so that its cached trees let the comparison skip every directory without a staged change
//!    (see [`DiffMethod`] for the fallbacks and what they cost);
//! 2. scan each added or modified blob; the keyword prefilter usually finds nothing, and rules
//!    compile only when one of their keywords appears;
//! 3. only if step 2 found something: scan the old versions of the changed paths to learn which
//!    secrets were already there.
//!
//! Step 1 lives in `compare` (the three ways to compare HEAD with the index) over `index` (the
//! index file reader); this file holds the options, the scan of steps 2 and 3, and the result.
//!
//! It does not decide which index git will commit: the caller passes `GIT_INDEX_FILE` (see
//! [`StagedOptions::index_file`]).
//!
//! ```
//! use keyhound::source::staged::{scan, StagedOptions};
//! use keyhound::{RuleSet, Scanner};
//!
//! # let key = format!("sk-proj-{}T3BlbkFJ{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5jK7mN9pQ1sT3vW5yZ7bC9dF1gH3jK5mN",
//! #                     "Zy8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE8dC6bA4zY2xW0vU8tS6rQ4pO2nM0lK8jI6hG4f");
//! let dir = tempfile::tempdir()?;
//! let repo = git2::Repository::init(dir.path())?;
//! std::fs::write(dir.path().join("config.py"), format!("OPENAI_API_KEY = \"{key}\"\n"))?;
//! let mut index = repo.index()?;
//! index.add_path(std::path::Path::new("config.py"))?;
//! index.write()?;
//!
//! let scanner = Scanner::new(RuleSet::builtin()?);
//! let staged = scan(&scanner, &repo, &StagedOptions::default())?;
//! assert_eq!(staged.findings.len(), 1);
//! assert_eq!(staged.findings[0].location().path, "config.py");
//! assert_eq!(staged.findings[0].location().line, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compare;
mod index;

use std::collections::HashSet;
use std::path::PathBuf;

use git2::{Oid, Repository};
use rayon::prelude::*;

use crate::error::{Error, ItemError, Result};
use crate::finding::Finding;
use crate::scan::{sort_findings, Explanation, Incomplete, Scanner, Stats, Unread};
use crate::source::blob::{Blob, Origin, RepoId};
use crate::source::collect::{thread_pool, Collector};
use crate::source::object::{read_blob, Sized};
use compare::{expand_deleted_dirs, Change, Changes};

/// How to compare HEAD with the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DiffMethod {
    /// The index file read directly, then libgit2, then the git CLI, each when the one before
    /// cannot read the index.
    #[default]
    Auto,
    /// Read the index file directly and open only the directories whose cached tree is missing
    /// or differs from HEAD's (a one-file change in a 3,000-file repository opens 2–3 trees).
    /// An index without cached trees (after `git read-tree`, or written by a tool that drops
    /// them) opens every directory of HEAD: the cost of [`DiffMethod::Libgit2`].
    #[serde(rename = "index")]
    IndexFile,
    /// libgit2's tree-to-index diff: parses and checksums the whole index and opens every tree
    /// of HEAD. Cannot read a split or sparse index.
    Libgit2,
    /// `git diff-index --cached`: a child process (a few milliseconds), but it reads every
    /// index git can write, split and sparse ones included.
    #[serde(rename = "git")]
    GitCli,
}

impl std::str::FromStr for DiffMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        crate::names::parse(s)
            .ok_or_else(|| format!("unknown diff method `{s}` (auto, index, libgit2, git)"))
    }
}

/// What to scan and how.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StagedOptions {
    /// The index the commit is made from, when not the repository's own. Git points
    /// `GIT_INDEX_FILE` at a temporary index for `git commit -a`, `git commit PATH…` and
    /// `git commit --include`; a relative value is relative to the current directory.
    pub index_file: Option<PathBuf>,
    /// Worker threads for large changes (0: one per core); small ones use the calling thread.
    pub threads: usize,
    /// How to compare HEAD with the index.
    pub method: DiffMethod,
}

/// What a staged scan found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct StagedScan {
    /// New findings, one location each, sorted by path, line and column.
    pub findings: Vec<Finding>,
    /// Counts (blobs scanned, bytes, skipped, errors: an unresolved conflict is one).
    pub stats: Stats,
    /// Dropped candidates, with `explain`.
    pub explanations: Vec<Explanation>,
    /// Paths the commit adds or modifies (deletions are not counted).
    pub changed: usize,
    /// The comparison that was used (never [`DiffMethod::Auto`]).
    pub method: DiffMethod,
}

/// The paths a commit made from the index would add, modify or delete: the first step of
/// [`scan`], apart so that a caller can build its [`Scanner`] meanwhile on another thread.
#[derive(Debug)]
pub struct StagedChanges(Changes);

impl StagedChanges {
    /// Paths added or modified (deletions are not counted).
    pub fn len(&self) -> usize {
        self.0.list.iter().filter(|c| c.new.is_some()).count()
    }

    /// Whether the commit adds or modifies nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The comparison that was used (never [`DiffMethod::Auto`]).
    pub fn method(&self) -> DiffMethod {
        self.0.method
    }
}

/// Compares HEAD (or the empty tree) with the index `opts` names.
pub fn changes(repo: &Repository, opts: &StagedOptions) -> Result<StagedChanges> {
    compare::head_with_index(repo, opts).map(StagedChanges)
}

/// Scans what the commit made from the index would add to `repo`.
pub fn scan(scanner: &Scanner, repo: &Repository, opts: &StagedOptions) -> Result<StagedScan> {
    scan_changes(scanner, repo, changes(repo, opts)?, opts.threads)
}

/// Scans the blobs of `changes` (from [`changes`] on the same repository) with `threads`
/// workers for large changes (0: one per core).
pub fn scan_changes(
    scanner: &Scanner,
    repo: &Repository,
    changes: StagedChanges,
    threads: usize,
) -> Result<StagedScan> {
    let mut changes = changes.0;
    let mut stats = Stats::default();
    for c in &changes.conflicts {
        stats
            .errors
            .push(ItemError::conflict(String::from_utf8_lossy(c)));
    }
    let wanted: Vec<&Change> = changes
        .list
        .iter()
        .filter(|c| c.new.is_some())
        .filter(|c| match scanner.path_skip(&c.path_str()) {
            Some(why) => {
                stats.removed.skipped(why);
                false
            }
            None => true,
        })
        .collect();
    let (collected, mut findings) = scan_blobs(scanner, repo, &wanted, threads, |c| c.new)?;
    stats.merge(collected.stats);
    if !findings.is_empty() {
        expand_deleted_dirs(repo, &mut changes)?;
        let known = old_fingerprints(scanner, repo, &changes.list, threads, &mut stats)?;
        findings.retain(|f| !known.contains(&f.fingerprint));
    }
    let mut out = StagedScan {
        changed: changes.list.iter().filter(|c| c.new.is_some()).count(),
        method: changes.method,
        findings,
        explanations: collected.explanations,
        ..StagedScan::default()
    };
    sort_findings(&mut out.findings);
    stats.sort();
    out.stats = stats;
    Ok(out)
}

/// Below this many blobs, threads cost more than they save.
const PARALLEL_MIN: usize = 64;

/// Scans the blob `pick` selects from each change, in parallel for large changes (each worker
/// opens its own handle on the repository: libgit2 handles are not shared across threads):
/// what was collected, and the findings in the order of `changes`.
fn scan_blobs(
    scanner: &Scanner,
    repo: &Repository,
    changes: &[&Change],
    threads: usize,
    pick: fn(&Change) -> Option<Oid>,
) -> Result<(Collector, Vec<Finding>)> {
    if changes.len() < PARALLEL_MIN || threads == 1 {
        return scan_chunk(scanner, repo, changes, pick);
    }
    let workers = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let chunk = changes.len().div_ceil(workers * 4);
    let git_dir = repo.path().to_path_buf();
    let pool = thread_pool(workers)?;
    let parts: Vec<Result<(Collector, Vec<Finding>)>> = pool.install(|| {
        changes
            .par_chunks(chunk)
            .map(|part| {
                let repo = Repository::open(&git_dir)
                    .map_err(|e| Error::git(format!("opening {}", git_dir.display()), e))?;
                scan_chunk(scanner, &repo, part, pick)
            })
            .collect()
    });
    let mut collected = Collector::default();
    let mut findings = Vec::new();
    for p in parts {
        let (c, f) = p?;
        collected.merge(c);
        findings.extend(f);
    }
    Ok((collected, findings))
}

fn scan_chunk(
    scanner: &Scanner,
    repo: &Repository,
    changes: &[&Change],
    pick: fn(&Change) -> Option<Oid>,
) -> Result<(Collector, Vec<Finding>)> {
    let odb = repo.odb().map_err(|e| {
        Error::git(
            format!("opening the objects of {}", repo.path().display()),
            e,
        )
    })?;
    let mut matcher = scanner.matcher();
    let repo_id = RepoId::new(repo.path());
    let mut collect = Collector::default();
    let mut findings = Vec::new();
    for c in changes {
        let Some(oid) = pick(c) else { continue };
        let path = c.path_str();
        // The staged blob is an index entry; an old one, HEAD's.
        let origin = if c.new == Some(oid) {
            Origin::Index {
                path: &path,
                mode: c.mode,
                blob: oid,
            }
        } else {
            Origin::Git {
                repo: &repo_id,
                commit: None,
                path: &path,
                blob: oid,
            }
        };
        let limit = scanner.options.max_file_size;
        match read_blob(&odb, oid, limit) {
            Ok(Sized::Blob(obj)) => {
                let blob = Blob::new(obj.data(), origin);
                let result = scanner.scan_blob(&mut matcher, &blob);
                findings.extend(collect.scanned(obj.data().len(), result));
            }
            Ok(Sized::TooLarge(size)) => {
                let reason = Unread::TooLarge {
                    size: Some(size),
                    limit,
                };
                collect
                    .stats
                    .incomplete
                    .push(Incomplete::at(&origin, reason));
            }
            Ok(Sized::NotBlob) => {}
            Err(e) => collect
                .stats
                .errors
                .push(ItemError::object(format!("{path}: blob {oid}"), &e)),
        }
    }
    Ok((collect, findings))
}

/// Fingerprints of what the old versions of the changed paths already held. Only their
/// errors are counted; they are not part of what the commit adds.
fn old_fingerprints(
    scanner: &Scanner,
    repo: &Repository,
    changes: &[Change],
    threads: usize,
    stats: &mut Stats,
) -> Result<HashSet<String>> {
    let old: Vec<&Change> = changes.iter().filter(|c| c.old.is_some()).collect();
    let (collected, findings) = scan_blobs(scanner, repo, &old, threads, |c| c.old)?;
    stats.errors.extend(collected.stats.errors);
    let known = findings.into_iter().map(|f| f.fingerprint).collect();
    Ok(known)
}
