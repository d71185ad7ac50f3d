//! Git history: every blob reachable from every ref (or from chosen refs, or introduced by a
//! range of commits), each read and scanned once, in parallel, with the first commit and path
//! that held it as its provenance.
//!
//! Contract:
//! - A blob id is scanned once however many commits and paths hold it. Its findings carry the
//!   first place it was seen: commits are visited parents first, so that is the earliest commit
//!   holding it. A key deleted later is still reported, with `present_at_head: false`.
//! - Findings are grouped per (rule, secret) unless asked not to: one finding, every location
//!   (earliest commit first), and a [`GitProvenance`] with counts.
//! - Problems with single objects (missing, corrupt) are recorded in [`Stats::errors`], naming
//!   the object, and the scan goes on. Only an unusable repository or selection is an `Err`.
//! - The result does not depend on the number of threads or on the reading order.
//!
//! Speed comes from reading order (see [`packorder`]) and from libgit2's global settings: call
//! [`tune_libgit2`] once, before scanning, in a process that only reads (it turns off the
//! per-read SHA-1 check and the object cache).
//!
//! What it does not do: decide exit codes, print progress, or read the work tree.

mod enumerate;
mod packorder;
pub mod time;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use git2::{Oid, Repository};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::finding::{CommitInfo, Finding, GitProvenance};
use crate::matcher::Prefilter;
use crate::scan::{ContentResult, Explanation, Incomplete, Scanner, Stats, Unread};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// Start from these refs or revisions only (default: every ref, HEAD and the stash).
    pub branches: Vec<String>,
    /// Only what the commits of `A..B` introduce.
    pub range: Option<String>,
    /// Only commits authored at or after this time (seconds since the epoch); implies taking
    /// only what those commits introduce.
    pub since: Option<i64>,
    /// Only commits authored before this time; as `since`.
    pub until: Option<i64>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// One finding per (rule, secret) with every location (otherwise one per location).
    pub dedup: bool,
    /// Read blobs in pack-offset order (otherwise in hash order; same result, slower).
    pub pack_order: bool,
    /// Also time the keyword prefilter on its own (runs it twice).
    pub timings: bool,
    /// Scan commit messages and annotated tag messages too.
    pub messages: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            branches: Vec::new(),
            range: None,
            since: None,
            until: None,
            threads: 0,
            dedup: true,
            pack_order: true,
            timings: false,
            messages: true,
        }
    }
}

/// Receives progress from a history scan; called from worker threads. Every method has a
/// default that does nothing.
pub trait Progress: Sync {
    /// `n` commits walked so far.
    fn commits(&self, _n: u64) {}
    /// Enumeration is done: `blobs` unique blobs will be read.
    fn reading(&self, _blobs: u64) {}
    /// `blobs` more blobs holding `bytes` were scanned.
    fn scanned(&self, _blobs: u64, _bytes: u64) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Time spent in each stage. `read`, `prefilter` and `scan` are summed over worker threads.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Timings {
    /// Walking refs, commits and trees: `commit_walk` + `tree_walk`.
    pub enumerate: Duration,
    /// Reading every selected commit and ordering them, parents first (one thread).
    pub commit_walk: Duration,
    /// Reading trees to list blobs (in parallel runs of commits).
    pub tree_walk: Duration,
    /// Reading pack indexes and sorting blobs into reading order.
    pub order: Duration,
    /// Wall time of the parallel read-and-scan stage.
    pub read_and_scan: Duration,
    /// Inflating blobs (thread time).
    pub read: Duration,
    /// The keyword prefilter alone (thread time; only measured with `timings`).
    pub prefilter: Duration,
    /// Matching a blob: prefilter, regexes, checks, findings (thread time).
    pub scan: Duration,
    /// Grouping findings, commit details, HEAD check.
    pub finish: Duration,
}

/// What the history walk saw, for the summary.
#[derive(Debug, Default, Clone, Serialize)]
pub struct HistoryStats {
    /// Refs (and stash entries) the walk started from.
    pub refs: usize,
    /// Commits selected.
    pub commits: usize,
    /// Trees read.
    pub trees: usize,
    /// Unique blobs found.
    pub blobs: usize,
    /// Blobs placed by a pack index (the others were read after them, in hash order).
    pub blobs_in_packs: usize,
    /// Pack indexes read.
    pub packs: usize,
    /// Submodule entries, skipped.
    pub gitlinks: u64,
    /// Git LFS pointer files (scanned; the content they point to lives elsewhere).
    pub lfs_pointers: u64,
    /// Blobs skipped because their path is allowlisted or ignored.
    pub skipped_by_path: u64,
    /// Whether the repository is a shallow clone (history before its edge is not there).
    pub shallow: bool,
    /// Whether only what commits introduce was scanned (`--range`, `--since`, `--until`).
    pub introduced_only: bool,
    /// Commit and tag messages scanned.
    pub messages: usize,
    /// Time per stage.
    pub timings: Timings,
}

/// Everything a history scan produced.
#[derive(Debug, Default)]
pub struct HistoryScan {
    /// Findings, earliest first.
    pub findings: Vec<Finding>,
    /// Dropped candidates (with `explain`).
    pub explanations: Vec<Explanation>,
    /// Counts; `scanned` and `bytes` count unique blobs.
    pub stats: Stats,
    /// What the walk saw.
    pub history: HistoryStats,
}

/// Sets libgit2's process-wide options for read-once work: no SHA-1 check on every object read
/// (git does not check on read either) and no object cache (it only costs memory when each
/// object is read once). Affects every repository opened in this process.
pub fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
}

/// Scans the history of `repo`. See the module documentation for the contract.
pub fn scan_history(
    scanner: &Scanner,
    repo: &Repository,
    options: &HistoryOptions,
    progress: &dyn Progress,
) -> Result<HistoryScan> {
    let start = Instant::now();
    let skip = |path: &[u8]| scanner.skips_path(&String::from_utf8_lossy(path));
    let selection = enumerate::Selection {
        skip: scanner.skips_paths().then_some(enumerate::SkipPaths(&skip)),
        branches: &options.branches,
        range: options.range.as_deref(),
        since: options.since,
        until: options.until,
        threads: options.threads,
    };
    // Commit and tag messages are content too: people paste keys into them, and they live as
    // long as the commit does. Each is scanned as it is met on the walk (the commit is read
    // then anyway); findings are rare, so they are kept until the commits are numbered.
    let mut in_messages: Vec<(MessageKey, ContentResult)> = Vec::new();
    let mut messages_scanned = 0usize;
    let mut message_matcher = scanner.matcher();
    let mut on_message = |m: enumerate::Message<'_>| {
        if !options.messages {
            return;
        }
        let (key, path, text) = match m {
            enumerate::Message::Commit(id, text) => {
                let short = id.to_string();
                let path = format!("message of commit {}", &short[..12.min(short.len())]);
                (MessageKey::Commit(OidKey::from(id)), path, text)
            }
            enumerate::Message::Tag(name, text) => {
                let name = name.strip_prefix("refs/tags/").unwrap_or(name);
                (MessageKey::Tag, format!("message of tag {name}"), text)
            }
        };
        messages_scanned += 1;
        let result = scanner.scan_content(&mut message_matcher, &path, text);
        if !result.findings.is_empty() {
            in_messages.push((key, result));
        }
    };
    let walk = enumerate::walk(repo, &selection, progress, &mut on_message)?;
    let mut history = HistoryStats {
        refs: walk.refs,
        commits: walk.commits.len(),
        trees: walk.trees,
        blobs: walk.blobs.ids.len(),
        gitlinks: walk.gitlinks,
        shallow: repo.is_shallow(),
        introduced_only: selection.introduced_only(),
        ..HistoryStats::default()
    };
    history.timings.enumerate = start.elapsed();
    history.timings.commit_walk = walk.commit_walk;
    history.timings.tree_walk = walk.tree_walk;

    let start = Instant::now();
    let objects = repo.commondir().join("objects");
    let order = if options.pack_order {
        packorder::order(&objects, &walk.blobs.ids, &walk.blobs.index)
    } else {
        packorder::hash_order(&walk.blobs.ids)
    };
    history.packs = order.packs;
    history.blobs_in_packs = order.in_packs;
    history.timings.order = start.elapsed();

    let start = Instant::now();
    progress.reading(order.order.len() as u64);
    let read = read_all(scanner, repo, &walk, &order, options, progress)?;
    history.timings.read_and_scan = start.elapsed();
    history.timings.read = read.read;
    history.timings.prefilter = read.prefilter;
    history.timings.scan = read.scan;
    history.lfs_pointers = read.lfs_pointers;
    history.skipped_by_path = read.skipped_by_path;

    let start = Instant::now();
    let mut stats = read.stats;
    stats.errors.splice(0..0, walk.errors.iter().cloned());
    let mut explanations = read.explanations;
    explanations.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    // "Still present" means at the end of what was scanned: the range's last revision, else HEAD.
    let end = options
        .range
        .as_deref()
        .and_then(|r| repo.revparse(r).ok())
        .and_then(|spec| spec.to().map(|o| o.id()));
    let mut found = read.found;
    if !in_messages.is_empty() {
        let index: OidMap<u32> = walk
            .commits
            .iter()
            .enumerate()
            .map(|(i, id)| (OidKey::from(*id), i as u32))
            .collect();
        for (key, result) in in_messages {
            let commit = match key {
                // A commit outside --since/--until was read on the walk but not selected.
                MessageKey::Commit(id) => match index.get(&id) {
                    Some(&i) => i,
                    None => continue,
                },
                MessageKey::Tag => NO_COMMIT,
            };
            stats.removed.add(&result.removed);
            found.extend(result.findings.into_iter().map(|finding| Found {
                at: At::Message(commit),
                finding,
            }));
        }
    }
    history.messages = messages_scanned;
    let findings = finish(scanner, repo, &walk, found, options.dedup, end, &mut stats);
    stats.sort();
    history.timings.finish = start.elapsed();
    Ok(HistoryScan {
        findings,
        explanations,
        stats,
        history,
    })
}

/// A finding in one blob or message, before provenance is attached.
struct Found {
    at: At,
    finding: Finding,
}

/// Whose message a finding in a message is in.
enum MessageKey {
    Commit(OidKey),
    Tag,
}

/// Where a [`Found`] was found.
#[derive(Clone, Copy)]
enum At {
    /// In the blob of this slot.
    Blob(u32),
    /// In the message of the commit of this index (or [`NO_COMMIT`] for a tag's message).
    Message(u32),
}

impl At {
    fn commit(self, walk: &enumerate::Walk) -> u32 {
        match self {
            At::Blob(slot) => walk.blobs.origins[slot as usize].commit,
            At::Message(commit) => commit,
        }
    }
}

#[derive(Default)]
struct ReadOut {
    found: Vec<Found>,
    explanations: Vec<Explanation>,
    stats: Stats,
    lfs_pointers: u64,
    skipped_by_path: u64,
    read: Duration,
    prefilter: Duration,
    scan: Duration,
}

impl ReadOut {
    fn merge(&mut self, o: ReadOut) {
        self.found.extend(o.found);
        self.explanations.extend(o.explanations);
        self.stats.merge(o.stats);
        self.lfs_pointers += o.lfs_pointers;
        self.skipped_by_path += o.skipped_by_path;
        self.read += o.read;
        self.prefilter += o.prefilter;
        self.scan += o.scan;
    }
}

const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/";

/// Reads and scans the blobs in `order` on a pool of threads. Each thread opens its own
/// repository handle and makes its own matcher, takes chunks of consecutive blobs (so that
/// reading stays close to pack order), and merges its results once, at the end.
fn read_all(
    scanner: &Scanner,
    repo: &Repository,
    walk: &enumerate::Walk,
    order: &packorder::Ordered,
    options: &HistoryOptions,
    progress: &dyn Progress,
) -> Result<ReadOut> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| {
            Error::git(
                "starting worker threads",
                git2::Error::from_str(&e.to_string()),
            )
        })?;
    let threads = pool.current_num_threads().max(1);
    let order = &order.order;
    let chunk = (order.len() / (threads * 64)).clamp(16, 1024);
    let cursor = AtomicUsize::new(0);
    let total = Mutex::new(ReadOut::default());
    let git_dir = repo.path().to_path_buf();
    let prefilter = options
        .timings
        .then(|| Prefilter::new(scanner.rules().rules()));
    pool.broadcast(|_| {
        let mut out = ReadOut::default();
        match Repository::open(&git_dir) {
            Ok(repo) => match repo.odb() {
                Ok(odb) => {
                    let mut worker = Worker {
                        scanner,
                        odb,
                        repo: &repo,
                        walk,
                        matcher: scanner.matcher(),
                        prefilter: prefilter.as_ref(),
                        candidates: vec![false; scanner.rules().rules().len()],
                        out: &mut out,
                    };
                    loop {
                        let at = cursor.fetch_add(chunk, Ordering::Relaxed);
                        if at >= order.len() {
                            break;
                        }
                        let end = (at + chunk).min(order.len());
                        let bytes_before = worker.out.stats.bytes;
                        for &slot in &order[at..end] {
                            worker.blob(slot);
                        }
                        progress.scanned((end - at) as u64, worker.out.stats.bytes - bytes_before);
                    }
                }
                Err(e) => out.stats.errors.push(format!(
                    "opening the objects of {}: {}",
                    git_dir.display(),
                    e.message()
                )),
            },
            Err(e) => {
                out.stats
                    .errors
                    .push(format!("opening {}: {}", git_dir.display(), e.message()))
            }
        }
        total.lock().unwrap_or_else(|p| p.into_inner()).merge(out);
    });
    let mut total = total.into_inner().unwrap_or_else(|p| p.into_inner());
    total.stats.errors.dedup();
    Ok(total)
}

struct Worker<'a, 's> {
    scanner: &'s Scanner,
    odb: git2::Odb<'a>,
    repo: &'a Repository,
    walk: &'a enumerate::Walk,
    matcher: crate::matcher::Matcher<'s>,
    prefilter: Option<&'a Prefilter>,
    candidates: Vec<bool>,
    out: &'a mut ReadOut,
}

impl Worker<'_, '_> {
    /// Reads and scans one blob.
    fn blob(&mut self, slot: u32) {
        let blobs = &self.walk.blobs;
        let id = blobs.ids[slot as usize].oid();
        let path = String::from_utf8_lossy(&blobs.path(slot)).into_owned();
        if let Some(why) = self.scanner.path_skip(&path) {
            self.out.skipped_by_path += 1;
            self.out.stats.removed.skipped(why);
            return;
        }
        let t = Instant::now();
        // Every blob is sized from its header before it is inflated: a pack entry says nothing
        // of the size of what it inflates to (2 GiB of zeros take 4 MB; a delta of a few KB
        // can make 512 MiB), and inflating first held gigabytes only to skip them.
        let limit = self.scanner.options.max_file_size;
        let size = self.odb.read_header(id).map(|(size, _)| size as u64);
        let blob = size.and_then(|size| {
            if size > limit {
                Ok(Err(size))
            } else {
                self.repo.find_blob(id).map(Ok)
            }
        });
        let too_large = |size: u64| Incomplete {
            blob: Some(id.to_string()),
            ..Incomplete::new(
                path.clone(),
                Unread::TooLarge {
                    size: Some(size),
                    limit,
                },
            )
        };
        let blob = match blob {
            Ok(Ok(b)) => b,
            Ok(Err(size)) => {
                self.out.stats.incomplete.push(too_large(size));
                return;
            }
            Err(e) => {
                let commit = blobs.origins[slot as usize].commit;
                let at = match self.walk.commits.get(commit as usize) {
                    Some(c) => format!("{path} in commit {c}"),
                    None => path,
                };
                self.out
                    .stats
                    .errors
                    .push(format!("blob {id} ({at}): {}", e.message()));
                return;
            }
        };
        let content = blob.content();
        self.out.read += t.elapsed();
        if content.len() as u64 > limit {
            self.out
                .stats
                .incomplete
                .push(too_large(content.len() as u64));
            return;
        }
        if content.len() < 1024 && content.starts_with(LFS_POINTER) {
            self.out.lfs_pointers += 1;
        }
        if let Some(p) = self.prefilter {
            let t = Instant::now();
            p.candidates(content, &mut self.candidates);
            self.candidates.iter_mut().for_each(|c| *c = false);
            self.out.prefilter += t.elapsed();
        }
        let t = Instant::now();
        let result = self.scanner.scan_content(&mut self.matcher, &path, content);
        self.out.scan += t.elapsed();
        let mut result = result;
        let blob_hex = id.to_string();
        for i in &mut result.incomplete {
            i.blob = Some(blob_hex.clone());
        }
        self.out.stats.add_content(content.len(), &mut result);
        self.out.explanations.extend(result.explanations);
        for mut finding in result.findings {
            for l in &mut finding.locations {
                l.blob = Some(blob_hex.clone());
            }
            self.out.found.push(Found {
                at: At::Blob(slot),
                finding,
            });
        }
    }
}

/// Attaches commits, groups per (rule, secret) when `dedup`, and orders findings earliest
/// first.
fn finish(
    scanner: &Scanner,
    repo: &Repository,
    walk: &enumerate::Walk,
    mut found: Vec<Found>,
    dedup: bool,
    end: Option<Oid>,
    stats: &mut Stats,
) -> Vec<Finding> {
    if found.is_empty() {
        return Vec::new();
    }
    let commit_of = |f: &Found| f.at.commit(walk);
    found.sort_by(|a, b| {
        let (la, lb) = (a.finding.location(), b.finding.location());
        (
            commit_of(a),
            &la.path,
            la.line,
            la.column,
            &a.finding.rule_id,
        )
            .cmp(&(
                commit_of(b),
                &lb.path,
                lb.line,
                lb.column,
                &b.finding.rule_id,
            ))
    });
    let mut infos: HashMap<u32, Option<CommitInfo>> = HashMap::new();
    let mut matcher = scanner.matcher();
    for f in &mut found {
        let c = f.at.commit(walk);
        let info = infos
            .entry(c)
            .or_insert_with(|| commit_info(scanner, &mut matcher, repo, walk, c, stats))
            .clone();
        for l in &mut f.finding.locations {
            l.commit = info.clone();
        }
    }
    // A commit allowlist (gitleaks' `commits`) and a `.gitleaksignore` entry naming a commit
    // can only be judged once the commit is known.
    let rules = scanner.rules();
    let ignores = &scanner.suppressions;
    if rules.has_commit_allowlists() || ignores.has_commit_locations() {
        found.retain(|f| {
            let l = f.finding.location();
            let Some(c) = &l.commit else {
                return true;
            };
            let secret = f.finding.secret.as_bytes();
            if rules.allows_commit(&f.finding.rule_id, secret, l.path.as_bytes(), &c.id) {
                stats.removed.config_allowlist += 1;
                return false;
            }
            if ignores.ignores_location(&f.finding.rule_id, &l.path, l.line, Some(&c.id)) {
                stats.removed.ignore_fingerprints += 1;
                return false;
            }
            true
        });
        if found.is_empty() {
            return Vec::new();
        }
    }
    let at_head = head_blobs(repo, end);
    // Group by (rule, secret); groups are numbered in order of first sighting.
    let mut group_of: HashMap<(&str, &str), usize> = HashMap::new();
    let groups: Vec<usize> = found
        .iter()
        .map(|f| {
            let next = group_of.len();
            *group_of
                .entry((f.finding.rule_id.as_str(), f.finding.secret.as_str()))
                .or_insert(next)
        })
        .collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); group_of.len()];
    for (i, &g) in groups.iter().enumerate() {
        members[g].push(i);
    }
    let pushed = remote_reachable(repo);
    let provenances: Vec<GitProvenance> = members
        .iter()
        .map(|m| provenance(walk, m.iter().map(|&i| &found[i]), &at_head, &pushed))
        .collect();
    if !dedup {
        return found
            .into_iter()
            .zip(groups)
            .map(|(f, g)| {
                let mut finding = f.finding;
                finding.git = Some(provenances[g].clone());
                finding
            })
            .collect();
    }
    let mut found: Vec<Option<Found>> = found.into_iter().map(Some).collect();
    members
        .iter()
        .zip(provenances)
        .map(|(m, provenance)| {
            // The assessment comes from the strongest sighting (a key first seen in a test
            // directory and later in a config file is not a fixture); the locations start with
            // the earliest.
            let best = m
                .iter()
                .copied()
                .max_by_key(|&i| {
                    let f = found[i].as_ref().map(|f| &f.finding);
                    (
                        f.is_some_and(|f| f.fixture.is_none()),
                        f.map(|f| f.confidence),
                        std::cmp::Reverse(i),
                    )
                })
                .unwrap_or(m[0]);
            let mut finding = found[best]
                .as_ref()
                .map(|f| f.finding.clone())
                .expect("each sighting is in one group");
            finding.locations = m
                .iter()
                .filter_map(|&i| found[i].take())
                .flat_map(|f| f.finding.locations)
                .collect();
            finding.git = Some(provenance);
            finding
        })
        .collect()
}

fn provenance<'f>(
    walk: &enumerate::Walk,
    group: impl Iterator<Item = &'f Found>,
    at_head: &OidSet,
    remote: &OidSet,
) -> GitProvenance {
    let mut commits = HashSet::new();
    let mut paths = HashSet::new();
    let mut present_at_head = false;
    let mut pushed = false;
    for f in group {
        let commit = f.at.commit(walk);
        if commit != NO_COMMIT {
            commits.insert(commit);
            if let Some(id) = walk.commits.get(commit as usize) {
                pushed |= remote.contains(&OidKey::from(*id));
            }
        }
        paths.insert(f.finding.location().path.as_str());
        if let At::Blob(slot) = f.at {
            present_at_head |= at_head.contains(&walk.blobs.ids[slot as usize]);
        }
    }
    GitProvenance {
        commits: commits.len(),
        paths: paths.len(),
        present_at_head,
        pushed,
    }
}

/// Every commit reachable from a remote-tracking ref (`refs/remotes/*`): what has been pushed
/// (or fetched) as far as this clone knows. Empty when there is no remote-tracking ref.
fn remote_reachable(repo: &Repository) -> OidSet {
    let mut out = OidSet::default();
    let Ok(refs) = repo.references_glob("refs/remotes/*") else {
        return out;
    };
    let Ok(mut revwalk) = repo.revwalk() else {
        return out;
    };
    let mut any = false;
    for r in refs.flatten() {
        if let Ok(c) = r.peel_to_commit() {
            any |= revwalk.push(c.id()).is_ok();
        }
    }
    if any {
        for id in revwalk.flatten() {
            out.insert(OidKey::from(id));
        }
    }
    out
}

fn commit_info(
    scanner: &Scanner,
    matcher: &mut crate::matcher::Matcher<'_>,
    repo: &Repository,
    walk: &enumerate::Walk,
    index: u32,
    stats: &mut Stats,
) -> Option<CommitInfo> {
    let id = *walk.commits.get(index as usize)?;
    match repo.find_commit(id) {
        Ok(c) => {
            let author = c.author();
            let when = author.when();
            let summary = c
                .summary_bytes()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            // A key pasted into a commit message must not be printed in full beside the
            // finding: the reports redact what the rules find here.
            let summary_secrets = scanner
                .scan_plain(matcher, "", summary.as_bytes())
                .findings
                .iter()
                .map(|f| {
                    let at = f.location().offset;
                    at..at + f.secret.len()
                })
                .collect();
            Some(CommitInfo {
                id: id.to_string(),
                author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                date: time::rfc3339(when.seconds(), when.offset_minutes()),
                summary,
                summary_secrets,
            })
        }
        Err(e) => {
            stats.errors.push(format!("commit {id}: {}", e.message()));
            Some(CommitInfo {
                id: id.to_string(),
                author: String::new(),
                email: String::new(),
                date: String::new(),
                summary: String::new(),
                summary_secrets: Vec::new(),
            })
        }
    }
}

/// Every blob in the tree of `end` (HEAD when `None`; empty when unborn or unreadable).
fn head_blobs(repo: &Repository, end: Option<Oid>) -> OidSet {
    let mut out = OidSet::default();
    let tree = match end {
        Some(id) => repo.find_object(id, None).and_then(|o| o.peel_to_tree()),
        None => repo.head().and_then(|h| h.peel_to_tree()),
    };
    let Ok(tree) = tree else {
        return out;
    };
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            out.insert(OidKey::from(entry.id()));
        }
        git2::TreeWalkResult::Ok
    });
    out
}

/// Where a blob was first seen.
#[derive(Debug, Clone, Copy)]
struct Origin {
    /// Index into the walk's commits, or [`NO_COMMIT`] for a ref that names a tree or blob.
    commit: u32,
    /// Interned directory path.
    dir: u32,
    /// Interned file name.
    name: u32,
}

const NO_COMMIT: u32 = u32::MAX;

/// A SHA-1 object id as a plain array: hashing and comparing it needs no call into libgit2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct OidKey([u8; 20]);

impl OidKey {
    fn oid(self) -> Oid {
        Oid::from_bytes(&self.0).expect("20 bytes make an object id")
    }
}

impl From<Oid> for OidKey {
    fn from(id: Oid) -> Self {
        let mut k = [0u8; 20];
        let b = id.as_bytes();
        k[..b.len().min(20)].copy_from_slice(&b[..b.len().min(20)]);
        OidKey(k)
    }
}

impl Hash for OidKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Object ids are uniformly distributed already: eight of their bytes are a hash.
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

/// The hasher for [`OidKey`]: it takes the eight bytes given and does nothing else.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type OidHash = BuildHasherDefault<IdHasher>;
type OidMap<V> = HashMap<OidKey, V, OidHash>;
type OidSet = HashSet<OidKey, OidHash>;

/// Byte strings stored once each, named by a number.
#[derive(Debug)]
struct Interner {
    ids: HashMap<Box<[u8]>, u32>,
    strings: Vec<Box<[u8]>>,
}

impl Default for Interner {
    fn default() -> Self {
        // Id 0 is the empty string (the root directory).
        let mut i = Interner {
            ids: HashMap::new(),
            strings: Vec::new(),
        };
        i.intern(b"");
        i
    }
}

impl Interner {
    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    fn get(&self, id: u32) -> &[u8] {
        &self.strings[id as usize]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::RuleSet;
    use std::io::Write;
    use std::path::Path;
    use std::process::{Command, Stdio};

    /// Packs the reachable objects (`extra`: more `rev-list` arguments) into a new pack and
    /// removes their loose copies.
    fn pack(d: &Path, extra: &[&str]) {
        let mut args = vec!["rev-list", "--objects", "--all"];
        args.extend_from_slice(extra);
        let ids: String = git(d, &args, b"")
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|id| format!("{id}\n"))
            .collect();
        git(
            d,
            &["pack-objects", "-q", ".git/objects/pack/pack"],
            ids.as_bytes(),
        );
        git(d, &["prune-packed"], b"");
    }

    fn git(dir: &Path, args: &[&str], input: &[u8]) -> String {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn key(seed: u64) -> String {
        let mut rng = fastrand::Rng::with_seed(seed);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut part = || -> String {
            (0..74)
                .map(|_| alphabet[rng.usize(..alphabet.len())] as char)
                .collect()
        };
        let (a, b) = (part(), part());
        format!("{}-{a}{}{b}", "sk-proj", ["T3Bl", "bkFJ"].concat())
    }

    /// Commits in rounds, packing the loose objects after every other round, so the
    /// repository ends with several packs and some loose objects.
    fn repo_with_packs_and_loose_objects() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"], b"");
        for round in 0..6u64 {
            for file in 0..3u64 {
                let path = d.join(format!("d{file}/r{round}.env"));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let text = format!("OPENAI_API_KEY={}\n", key(round * 10 + file));
                std::fs::write(path, text).unwrap();
            }
            git(d, &["add", "-A"], b"");
            git(d, &["commit", "-q", "-m", &format!("round {round}")], b"");
            if round % 2 == 0 {
                pack(d, &["--unpacked"]);
            }
        }
        dir
    }

    fn run(repo: &Repository, pack_order: bool, threads: usize) -> (String, HistoryStats) {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let options = HistoryOptions {
            pack_order,
            threads,
            ..HistoryOptions::default()
        };
        let scan = scan_history(&scanner, repo, &options, &NoProgress).unwrap();
        assert!(scan.stats.errors.is_empty(), "{:?}", scan.stats.errors);
        (
            serde_json::to_string_pretty(&scan.findings).unwrap(),
            scan.history,
        )
    }

    #[test]
    fn pack_order_and_hash_order_find_the_same() {
        let dir = repo_with_packs_and_loose_objects();
        let repo = Repository::open(dir.path()).unwrap();
        let (packed, stats) = run(&repo, true, 2);
        assert_eq!(stats.packs, 3);
        assert!(
            stats.blobs_in_packs > 0 && stats.blobs_in_packs < stats.blobs,
            "{stats:?}"
        );
        assert_eq!(stats.blobs, 18);
        let (hashed, _) = run(&repo, false, 1);
        assert_eq!(packed, hashed);
        let findings: serde_json::Value = serde_json::from_str(&packed).unwrap();
        assert_eq!(findings.as_array().unwrap().len(), 18);
    }

    /// A linear history of `n` commits made with `git fast-import` (fast enough for a
    /// thousand commits): each commit changes one of seven files; every 100th commit adds a
    /// file with a key, which stays until the end.
    fn long_history(n: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"], b"");
        let mut stream = String::new();
        for i in 0..n {
            let msg = format!("commit {i}");
            stream += &format!(
                "commit refs/heads/main\nmark :{}\ncommitter T <t@example.com> {} +0000\ndata {}\n{msg}\n",
                i + 1,
                1_600_000_000 + i * 60,
                msg.len()
            );
            if i > 0 {
                stream += &format!("from :{i}\n");
            }
            let body = format!("value={i}\n");
            stream += &format!(
                "M 100644 inline src/m{}/file.txt\ndata {}\n{body}\n",
                i % 7,
                body.len()
            );
            if i % 100 == 7 {
                let body = format!("OPENAI_API_KEY={}\n", key(i as u64));
                stream += &format!(
                    "M 100644 inline keys/k{i}.env\ndata {}\n{body}\n",
                    body.len()
                );
            }
        }
        git(dir.path(), &["fast-import", "--quiet"], stream.as_bytes());
        dir
    }

    #[test]
    fn tree_walk_on_several_threads_equals_one_thread() {
        let dir = long_history(1300);
        let repo = Repository::open(dir.path()).unwrap();
        let walk = |threads| {
            let sel = enumerate::Selection {
                threads,
                ..Default::default()
            };
            let w = enumerate::walk(&repo, &sel, &NoProgress, &mut |_| {}).unwrap();
            assert!(w.errors.is_empty(), "{:?}", w.errors);
            let mut v: Vec<(OidKey, u32, Vec<u8>)> = (0..w.blobs.ids.len() as u32)
                .map(|s| {
                    let o = w.blobs.origins[s as usize];
                    (w.blobs.ids[s as usize], o.commit, w.blobs.path(s))
                })
                .collect();
            v.sort();
            (w.commits, v)
        };
        let (commits, one) = walk(1);
        assert_eq!(commits.len(), 1300);
        assert_eq!(one.len(), 1300 + 13);
        assert_eq!(walk(2), (commits.clone(), one.clone()));
        assert_eq!(walk(3), (commits, one));

        let (single, _) = run(&repo, true, 1);
        let (parallel, _) = run(&repo, true, 3);
        assert_eq!(single, parallel);
        let findings: serde_json::Value = serde_json::from_str(&parallel).unwrap();
        let findings = findings.as_array().unwrap();
        assert_eq!(findings.len(), 13);
        assert_eq!(findings[0]["locations"][0]["commit"]["summary"], "commit 7");
        assert_eq!(findings[12]["git"]["present_at_head"], true);
    }

    #[test]
    fn blobs_over_the_limit_are_skipped_packed_or_loose_compressible_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"], b"");
        // 100 KB that compress to a few hundred bytes, and 100 KB that do not.
        std::fs::write(d.join("zeros.txt"), "0".repeat(100_000)).unwrap();
        let noise: String = (0..100_000u64).map(|i| key(i)[8..9].to_string()).collect();
        std::fs::write(d.join("noise.txt"), &noise).unwrap();
        std::fs::write(d.join("small.txt"), "ok\n").unwrap();
        git(d, &["add", "-A"], b"");
        git(d, &["commit", "-q", "-m", "one"], b"");
        pack(d, &[]);
        std::fs::write(d.join("loose.txt"), "1".repeat(100_000)).unwrap();
        git(d, &["add", "-A"], b"");
        git(d, &["commit", "-q", "-m", "two"], b"");

        let repo = Repository::open(d).unwrap();
        let mut scanner = Scanner::new(RuleSet::builtin().unwrap());
        scanner.options.max_file_size = 50_000;
        let scan = scan_history(&scanner, &repo, &HistoryOptions::default(), &NoProgress).unwrap();
        assert_eq!(scan.history.blobs_in_packs, 3);
        let skipped: Vec<(&str, &Unread)> = scan
            .stats
            .incomplete
            .iter()
            .map(|i| (i.what.as_str(), &i.reason))
            .collect();
        let too_large = Unread::TooLarge {
            size: Some(100_000),
            limit: 50_000,
        };
        assert_eq!(
            skipped,
            [
                ("loose.txt", &too_large),
                ("noise.txt", &too_large),
                ("zeros.txt", &too_large)
            ]
        );
        assert!(scan.stats.incomplete.iter().all(|i| i.blob.is_some()));
        assert_eq!(scan.stats.scanned, 1);
    }

    #[test]
    fn oid_keys_round_trip() {
        let id = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(OidKey::from(id).oid(), id);
    }
}
