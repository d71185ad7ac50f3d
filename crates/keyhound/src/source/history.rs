//! Git history: every blob reachable from every ref (or from chosen refs, or introduced by a
//! range of commits), each read and scanned once, in parallel, with the first commit and path
//! that held it as its provenance.
//!
//! Contract:
//! - A blob id is scanned once however many commits and paths hold it. Its findings carry the
//!   first place it was seen: commits are visited parents first, so that is the earliest commit
//!   holding it. A key deleted later is still reported, with `present_at_head: false`.
//! - Findings are grouped per (rule, secret) unless asked not to: one finding, every location
//!   (earliest commit first), and a [`GitProvenance`](crate::finding::GitProvenance) with counts.
//! - Problems with single objects (missing, corrupt) are recorded in [`Stats::errors`], naming
//!   the object, and the scan goes on. Only an unusable repository or selection is an `Err`.
//! - The result does not depend on the number of threads or on the reading order.
//!
//! Speed comes from reading order (see `packorder`) and from libgit2's global settings: call
//! [`tune_libgit2`] once, before scanning, in a process that only reads (it turns off the
//! per-read SHA-1 check and the object cache).
//!
//! This file holds the options and the driver; the stages live beside it: `enumerate` (refs,
//! commits and trees to the blobs to read), `packorder` (reading order), `read` (the parallel
//! read and scan), `group` (commits, provenance and grouping per (rule, secret)) and `oid` (the
//! compact id, path and origin types they share).
//!
//! What it does not do: decide exit codes, print progress, or read the work tree.
//!
//! An audit of a repository whose key moved from one file to another and then left: one
//! finding, both places, the commit that first held it.
//!
//! ```
//! use keyhound::source::history::{scan_history, HistoryOptions, NoProgress};
//! use keyhound::{RuleSet, Scanner};
//!
//! # let key = format!("sk-proj-{}T3BlbkFJ{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5jK7mN9pQ1sT3vW5yZ7bC9dF1gH3jK5mN",
//! #                     "Zy8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE8dC6bA4zY2xW0vU8tS6rQ4pO2nM0lK8jI6hG4f");
//! let dir = tempfile::tempdir()?;
//! let repo = git2::Repository::init(dir.path())?;
//! let me = git2::Signature::now("Dev", "dev@example.com")?;
//! let mut commit = |files: &[(&str, String)], message: &str| -> Result<git2::Oid, git2::Error> {
//!     let mut tree = repo.treebuilder(None)?;
//!     for (path, text) in files {
//!         tree.insert(path, repo.blob(text.as_bytes())?, 0o100644)?;
//!     }
//!     let tree = repo.find_tree(tree.write()?)?;
//!     let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
//!     let parents: Vec<&git2::Commit> = parent.iter().collect();
//!     repo.commit(Some("HEAD"), &me, &me, message, &tree, &parents)
//! };
//! let first = commit(&[(".env", format!("OPENAI_API_KEY={key}\n"))], "configure")?;
//! commit(&[("settings.py", format!("API_KEY = \"{key}\"\n"))], "move the key")?;
//! commit(&[("settings.py", "API_KEY = os.environ['API_KEY']\n".to_string())], "read it from the environment")?;
//!
//! let scanner = Scanner::new(RuleSet::builtin()?);
//! let scan = scan_history(&scanner, &repo, &HistoryOptions::default(), &NoProgress)?;
//! assert_eq!(scan.findings.len(), 1, "one secret, one finding");
//! let finding = &scan.findings[0];
//! assert_eq!(finding.locations.len(), 2);
//! assert_eq!(finding.location().path, ".env");
//! assert_eq!(finding.location().commit.as_ref().map(|c| c.id.clone()), Some(first.to_string()));
//! let git = finding.git.as_ref().expect("history findings say where in history");
//! assert_eq!((git.commits, git.paths, git.present_at_head), (2, 2, false));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod enumerate;
mod group;
pub(crate) mod oid;
mod packorder;
mod read;
pub mod time;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{Oid, Repository};
use serde::Serialize;

use crate::error::Result;
use crate::finding::Finding;
use crate::scan::{ContentResult, Explanation, Scanner, Stats};

use oid::{OidKey, OidMap, NO_COMMIT};

/// What to scan and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// Only what the commits of this selection introduce (a push), instead of `branches` and
    /// `range`.
    pub tips: Option<Tips>,
    /// More object directories to read objects from besides the repository's own (the
    /// quarantine of a push being received); the packs of the first set the reading order.
    pub object_dirs: Vec<PathBuf>,
    /// What an audit of many repositories has already scanned: a (blob, path) found there is
    /// not read again, its result is reused.
    pub seen: Option<std::sync::Arc<crate::source::audit::Seen>>,
    /// Read and scan only the blobs of this part of the blob-id space (one very large
    /// repository split over machines); commit and tag messages belong to part 0. Locations
    /// then carry their commit's [`walk_order`](crate::finding::Location::walk_order).
    pub blob_shard: Option<crate::source::audit::Shard>,
}

/// Commits chosen by id: those reachable from an `include` tip and from no `exclude` tip.
#[derive(Debug, Clone, Default)]
pub struct Tips {
    /// The tips, each with a name to call it by (a ref name). An annotated tag is peeled and
    /// its message scanned; a tip that names a tree or blob has that scanned whole.
    pub include: Vec<(String, Oid)>,
    /// Commits (or tags of commits) whose history is left out; ids not in the repository are
    /// ignored.
    pub exclude: Vec<Oid>,
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
            tips: None,
            object_dirs: Vec::new(),
            seen: None,
            blob_shard: None,
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
#[non_exhaustive]
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
    /// The keyword prefilter alone (thread time; only measured with `timings`, which also
    /// measures each rule, see `rules`).
    pub prefilter: Duration,
    /// Matching a blob: prefilter, regexes, checks, findings (thread time).
    pub scan: Duration,
    /// Grouping findings, commit details, HEAD check.
    pub finish: Duration,
    /// What each rule cost the read-and-scan stage, summed over threads and indexed like the
    /// scanner's rules (only measured with `timings`; empty otherwise).
    #[serde(skip)]
    pub rules: Vec<crate::RuleCost>,
}

/// What the history walk saw, for the summary.
#[derive(Debug, Default, Clone, Serialize)]
#[non_exhaustive]
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
    /// Whether only what commits introduce was scanned (a range or an author-time window).
    pub introduced_only: bool,
    /// Commit and tag messages scanned.
    pub messages: usize,
    /// Time per stage.
    pub timings: Timings,
}

/// Everything a history scan produced.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct HistoryScan {
    /// Findings, earliest first.
    pub findings: Vec<Finding>,
    /// Dropped candidates (with `explain`).
    pub explanations: Vec<Explanation>,
    /// Counts; `scanned` and `bytes` count unique blobs.
    pub stats: Stats,
    /// What the walk saw.
    pub history: HistoryStats,
    /// Why the walk of [`HistoryOptions::range`] stopped before the range's end (libgit2's
    /// message), if it did: what was walked was scanned. Not in [`Stats::errors`], so that the
    /// caller can say which range in its own words.
    pub range_stopped: Option<String>,
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
        tips: options.tips.as_ref(),
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
        if !options.messages || options.blob_shard.is_some_and(|s| s.index != 0) {
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
        let blob = crate::source::blob::Blob::new(
            text,
            crate::source::blob::Origin::Message { name: &path },
        );
        let result = scanner.scan_blob(&mut message_matcher, &blob);
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
    if let Some(shard) = options.blob_shard {
        history.blobs = walk
            .blobs
            .ids
            .iter()
            .filter(|id| shard.takes_blob(&id.0))
            .count();
    }
    history.timings.enumerate = start.elapsed();
    history.timings.commit_walk = walk.commit_walk;
    history.timings.tree_walk = walk.tree_walk;

    let start = Instant::now();
    // A push's new objects sit in its quarantine: the first of `object_dirs` sets the reading
    // order (the repository's own packs hold little of what a push adds).
    let objects = match options.object_dirs.first() {
        Some(dir) => dir.clone(),
        None => repo.commondir().join("objects"),
    };
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
    let read = read::read_all(scanner, repo, &walk, &order, options, progress)?;
    history.timings.read_and_scan = start.elapsed();
    history.timings.read = read.read;
    history.timings.prefilter = read.prefilter;
    history.timings.scan = read.scan;
    history.timings.rules = read.rules;
    history.lfs_pointers = read.lfs_pointers;
    history.skipped_by_path = read.skipped_by_path;

    let start = Instant::now();
    let mut stats = read.collect.stats;
    stats.errors.splice(0..0, walk.errors.iter().cloned());
    let mut explanations = read.collect.explanations;
    explanations.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    // "Still present" means at the end of what was scanned: the range's last revision, else HEAD.
    let end = match &options.tips {
        Some(tips) => tips
            .include
            .iter()
            .find_map(|(_, id)| repo.find_object(*id, None).ok()?.peel_to_commit().ok())
            .map(|c| c.id()),
        None => options
            .range
            .as_deref()
            .and_then(|r| repo.revparse(r).ok())
            .and_then(|spec| spec.to().map(|o| o.id())),
    };
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
    let findings = group::finish(scanner, repo, &walk, found, options, end, &mut stats);
    stats.sort();
    history.timings.finish = start.elapsed();
    Ok(HistoryScan {
        findings,
        explanations,
        stats,
        history,
        range_stopped: walk.range_stopped.clone(),
    })
}

/// Opens the repository at `git_dir` with `object_dirs` added to its object database (a
/// worker thread's own handle must see what the caller's handle sees).
fn reopen(git_dir: &Path, object_dirs: &[PathBuf]) -> std::result::Result<Repository, git2::Error> {
    let repo = Repository::open(git_dir)?;
    if !object_dirs.is_empty() {
        let odb = repo.odb()?;
        for dir in object_dirs {
            odb.add_disk_alternate(&dir.to_string_lossy())?;
        }
    }
    Ok(repo)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scan::Unread;
    use crate::RuleSet;
    use git2::Oid;
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
