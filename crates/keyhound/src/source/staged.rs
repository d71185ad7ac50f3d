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
//! It does not decide which index git will commit: the caller passes `GIT_INDEX_FILE` (see
//! [`StagedOptions::index_file`]).

mod index;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use git2::{Delta, DiffOptions, ObjectType, Oid, Repository, Tree};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::scan::{sort_findings, ContentResult, Explanation, Incomplete, Scanner, Stats, Unread};

/// How to compare HEAD with the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffMethod {
    /// The index file read directly, then libgit2, then the git CLI, each when the one before
    /// cannot read the index.
    #[default]
    Auto,
    /// Read the index file directly and open only the directories whose cached tree is missing
    /// or differs from HEAD's (a one-file change in a 3,000-file repository opens 2–3 trees).
    /// An index without cached trees (after `git read-tree`, or written by a tool that drops
    /// them) opens every directory of HEAD: the cost of [`DiffMethod::Libgit2`].
    IndexFile,
    /// libgit2's tree-to-index diff: parses and checksums the whole index and opens every tree
    /// of HEAD. Cannot read a split or sparse index.
    Libgit2,
    /// `git diff-index --cached`: a child process (a few milliseconds), but it reads every
    /// index git can write, split and sparse ones included.
    GitCli,
}

impl std::str::FromStr for DiffMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "auto" => DiffMethod::Auto,
            "index" => DiffMethod::IndexFile,
            "libgit2" => DiffMethod::Libgit2,
            "git" => DiffMethod::GitCli,
            _ => {
                return Err(format!(
                    "unknown diff method `{s}` (auto, index, libgit2, git)"
                ))
            }
        })
    }
}

/// What to scan and how.
#[derive(Debug, Clone, Default)]
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

/// One path the commit adds, modifies or deletes.
#[derive(Debug, Clone)]
struct Change {
    /// Path in the repository, as git stores it.
    path: Vec<u8>,
    /// The staged blob; `None` for a deletion.
    new: Option<Oid>,
    /// The blob in HEAD; `None` for an addition.
    old: Option<Oid>,
}

impl Change {
    fn path_str(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }
}

/// What the comparison of HEAD with the index yields.
#[derive(Debug, Default)]
struct Changes {
    list: Vec<Change>,
    /// Directories of HEAD the index no longer has: their blobs are old versions too, listed
    /// only if step 3 needs them.
    deleted_dirs: Vec<(Vec<u8>, Oid)>,
    /// Paths with an unresolved conflict.
    conflicts: Vec<Vec<u8>>,
    method: DiffMethod,
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
    compare(repo, opts).map(StagedChanges)
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
        stats.errors.push(format!(
            "{}: unresolved merge conflict; resolve it and `git add` the file",
            String::from_utf8_lossy(c)
        ));
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
    let blobs = scan_blobs(scanner, repo, &wanted, threads, |c| c.new)?;
    let mut results = Vec::with_capacity(blobs.len());
    for (result, blob, s) in blobs {
        stats.merge(s);
        if let Some(r) = result {
            results.push((r, blob));
        }
    }
    if results.iter().any(|(r, _)| !r.findings.is_empty()) {
        expand_deleted_dirs(repo, &mut changes)?;
        let known = old_fingerprints(scanner, repo, &changes.list, threads, &mut stats)?;
        for (r, blob) in &mut results {
            r.findings.retain(|f| !known.contains(&f.fingerprint));
            for f in &mut r.findings {
                for l in &mut f.locations {
                    l.blob = Some(blob.to_string());
                }
            }
        }
    }
    let mut out = StagedScan {
        changed: changes.list.iter().filter(|c| c.new.is_some()).count(),
        method: changes.method,
        ..StagedScan::default()
    };
    for (r, _) in results {
        out.findings.extend(r.findings);
        out.explanations.extend(r.explanations);
    }
    sort_findings(&mut out.findings);
    stats.sort();
    out.stats = stats;
    Ok(out)
}

/// Compares HEAD with the index by `opts.method`, falling back as [`DiffMethod::Auto`] says.
fn compare(repo: &Repository, opts: &StagedOptions) -> Result<Changes> {
    let head = head_tree(repo)?;
    let index_path = opts
        .index_file
        .clone()
        .unwrap_or_else(|| repo.path().join("index"));
    let by_file = || -> Result<std::result::Result<Changes, String>> {
        match index::read(&index_path) {
            Ok(file) => Ok(Ok(IndexWalk::run(repo, &file, head.as_ref())?)),
            // No index yet (a new repository with nothing added): nothing is staged.
            Err(index::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Ok(Changes {
                    method: DiffMethod::IndexFile,
                    ..Changes::default()
                }))
            }
            Err(index::ReadError::Io(e)) => Err(Error::io(&index_path, e)),
            Err(index::ReadError::Unsupported(why)) => Ok(Err(why)),
        }
    };
    match opts.method {
        DiffMethod::IndexFile => by_file()?.map_err(|why| unsupported(&index_path, &why)),
        DiffMethod::Libgit2 => by_libgit2(repo, head.as_ref(), opts.index_file.as_deref()),
        DiffMethod::GitCli => by_git_cli(repo, head.as_ref(), &index_path),
        DiffMethod::Auto => match by_file()? {
            Ok(c) => Ok(c),
            Err(why) if why.contains("split index") || why.contains("sparse index") => {
                by_git_cli(repo, head.as_ref(), &index_path)
            }
            Err(_) => by_libgit2(repo, head.as_ref(), opts.index_file.as_deref())
                .or_else(|_| by_git_cli(repo, head.as_ref(), &index_path)),
        },
    }
}

fn unsupported(path: &Path, why: &str) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        message: format!("cannot read this index directly: {why}"),
    }
}

fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>> {
    let head = match repo.head() {
        Ok(h) => h,
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(Error::git("reading HEAD", e)),
    };
    let commit = head
        .peel_to_commit()
        .map_err(|e| Error::git("reading HEAD's commit", e))?;
    let tree = commit.tree_id();
    repo.find_tree(tree).map(Some).map_err(|e| {
        Error::git(
            format!(
                "reading tree {tree} (HEAD's tree, of commit {})",
                commit.id()
            ),
            e,
        )
    })
}

const MODE_TYPE: u32 = 0o170000;
const MODE_TREE: u32 = 0o040000;

/// A blob or a symbolic link (whose blob is the link's target): content the commit stores.
fn is_content(mode: u32) -> bool {
    matches!(mode & MODE_TYPE, 0o100000 | 0o120000)
}

/// The comparison over the index file and its cached trees.
struct IndexWalk<'a> {
    repo: &'a Repository,
    file: &'a index::IndexFile,
    out: Changes,
}

impl<'a> IndexWalk<'a> {
    fn run(
        repo: &'a Repository,
        file: &'a index::IndexFile,
        head: Option<&Tree<'_>>,
    ) -> Result<Changes> {
        let mut w = IndexWalk {
            repo,
            file,
            out: Changes {
                method: DiffMethod::IndexFile,
                ..Changes::default()
            },
        };
        w.dir(b"", head.map(|t| t.id()), 0, file.entries.len())?;
        Ok(w.out)
    }

    /// Compares the directory `prefix` (empty, or ending in `/`) of HEAD, whose tree is `tree`,
    /// with the index entries `lo..hi` (all those under `prefix`).
    fn dir(&mut self, prefix: &[u8], tree: Option<Oid>, lo: usize, hi: usize) -> Result<()> {
        let dir_path = prefix.strip_suffix(b"/").unwrap_or(prefix);
        if let Some(t) = tree {
            if self.file.trees.get(dir_path) == Some(&t) {
                return Ok(());
            }
        }
        let tree = match tree {
            Some(t) => Some(self.repo.find_tree(t).map_err(|e| {
                Error::git(
                    format!("reading tree {t} ({})", String::from_utf8_lossy(dir_path)),
                    e,
                )
            })?),
            None => None,
        };
        let mut theirs = tree.iter().flat_map(|t| t.iter()).peekable();
        let entries = &self.file.entries;
        let mut i = lo;
        loop {
            // The next index item under `prefix`: a file (all its stages), or a subdirectory
            // (all entries under it). Index order and tree order agree when a directory sorts
            // as its name followed by `/`.
            let ours = (i < hi).then(|| {
                let rest = &entries[i].path[prefix.len()..];
                match memchr::memchr(b'/', rest) {
                    Some(slash) => {
                        let key = &rest[..=slash];
                        let sub_prefix = &entries[i].path[..prefix.len() + slash + 1];
                        let end =
                            i + entries[i..hi].partition_point(|e| e.path.starts_with(sub_prefix));
                        (key, end, true)
                    }
                    None => {
                        let end = i + entries[i..hi].partition_point(|e| e.path == entries[i].path);
                        (rest, end, false)
                    }
                }
            });
            let head_entry = theirs.peek();
            let order = match (&ours, head_entry) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((key, _, _)), Some(t)) => {
                    let name = t.name_bytes();
                    let is_dir = t.filemode() as u32 & MODE_TYPE == MODE_TREE;
                    let tkey: Vec<u8>;
                    let tkey: &[u8] = if is_dir {
                        tkey = [name, b"/"].concat();
                        &tkey
                    } else {
                        name
                    };
                    (*key).cmp(tkey)
                }
            };
            match order {
                std::cmp::Ordering::Less => {
                    let (_, end, _) = ours.expect("ours sorts first only when present");
                    self.added(i, end);
                    i = end;
                }
                std::cmp::Ordering::Greater => {
                    let t = theirs.next().expect("theirs sorts first only when present");
                    self.deleted(prefix, &t);
                }
                std::cmp::Ordering::Equal => {
                    let (_, end, is_dir) = ours.expect("equal keys are both present");
                    let t = theirs.next().expect("equal keys are both present");
                    if is_dir {
                        let sub: Vec<u8> = [prefix, t.name_bytes(), b"/"].concat();
                        self.dir(&sub, Some(t.id()), i, end)?;
                    } else {
                        self.modified(i, end, &t);
                    }
                    i = end;
                }
            }
        }
        Ok(())
    }

    /// Index entries `lo..hi` that HEAD does not have.
    fn added(&mut self, lo: usize, hi: usize) {
        for e in &self.file.entries[lo..hi] {
            self.entry(e, None);
        }
    }

    /// One path in both: index entries `lo..hi` (its stages) against HEAD's entry.
    fn modified(&mut self, lo: usize, hi: usize, theirs: &git2::TreeEntry<'_>) {
        let mode = theirs.filemode() as u32;
        let old = is_content(mode).then(|| theirs.id());
        let before = self.out.list.len();
        for e in &self.file.entries[lo..hi] {
            self.entry(e, old);
        }
        if self.out.list.len() == before
            && old.is_some()
            && self.file.entries[lo..hi]
                .iter()
                .all(|e| e.stage == 0 && !is_content(e.mode))
        {
            // A file replaced by a submodule: its content is gone.
            self.out.list.push(Change {
                path: self.file.entries[lo].path.clone(),
                new: None,
                old,
            });
        }
    }

    fn entry(&mut self, e: &index::Entry, old: Option<Oid>) {
        if e.stage != 0 {
            if self.out.conflicts.last() != Some(&e.path) {
                self.out.conflicts.push(e.path.clone());
            }
            return;
        }
        if !is_content(e.mode) || e.intent_to_add || old == Some(e.oid) {
            return;
        }
        self.out.list.push(Change {
            path: e.path.clone(),
            new: Some(e.oid),
            old,
        });
    }

    /// An entry of HEAD that the index does not have.
    fn deleted(&mut self, prefix: &[u8], theirs: &git2::TreeEntry<'_>) {
        let mode = theirs.filemode() as u32;
        let path: Vec<u8> = [prefix, theirs.name_bytes()].concat();
        if mode & MODE_TYPE == MODE_TREE {
            self.out.deleted_dirs.push((path, theirs.id()));
        } else if is_content(mode) {
            self.out.list.push(Change {
                path,
                new: None,
                old: Some(theirs.id()),
            });
        }
    }
}

/// Lists the blobs of deleted directories as deletions (only needed to learn which secrets
/// were already committed).
fn expand_deleted_dirs(repo: &Repository, changes: &mut Changes) -> Result<()> {
    let mut stack = std::mem::take(&mut changes.deleted_dirs);
    while let Some((path, oid)) = stack.pop() {
        let tree = repo
            .find_tree(oid)
            .map_err(|e| Error::git(format!("reading tree {oid}"), e))?;
        for t in tree.iter() {
            let sub: Vec<u8> = [path.as_slice(), b"/", t.name_bytes()].concat();
            let mode = t.filemode() as u32;
            if mode & MODE_TYPE == MODE_TREE {
                stack.push((sub, t.id()));
            } else if is_content(mode) {
                changes.list.push(Change {
                    path: sub,
                    new: None,
                    old: Some(t.id()),
                });
            }
        }
    }
    Ok(())
}

/// libgit2's tree-to-index diff (index opened from `index_file` when given).
fn by_libgit2(
    repo: &Repository,
    head: Option<&Tree<'_>>,
    index_file: Option<&Path>,
) -> Result<Changes> {
    let index = match index_file {
        Some(path) => git2::Index::open(path)
            .map_err(|e| Error::git(format!("reading index {}", path.display()), e))?,
        None => repo.index().map_err(|e| {
            Error::git(format!("reading the index of {}", repo.path().display()), e)
        })?,
    };
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(true).skip_binary_check(true);
    let diff = repo
        .diff_tree_to_index(head, Some(&index), Some(&mut opts))
        .map_err(|e| Error::git("comparing HEAD with the index", e))?;
    let mut out = Changes {
        method: DiffMethod::Libgit2,
        ..Changes::default()
    };
    for d in diff.deltas() {
        let (old, new) = (d.old_file(), d.new_file());
        let path = new
            .path_bytes()
            .or_else(|| old.path_bytes())
            .unwrap_or_default()
            .to_vec();
        if d.status() == Delta::Conflicted {
            out.conflicts.push(path);
            continue;
        }
        let new = (new.exists() && is_content(u32::from(new.mode()))).then(|| new.id());
        let old = (old.exists() && is_content(u32::from(old.mode()))).then(|| old.id());
        if (new.is_some() || old.is_some()) && new != old {
            out.list.push(Change { path, new, old });
        }
    }
    Ok(out)
}

/// The id of the empty tree, which git knows without storing it.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// `git diff-index --cached --raw -z`: reads any index git can write.
fn by_git_cli(repo: &Repository, head: Option<&Tree<'_>>, index_path: &Path) -> Result<Changes> {
    let base = head.map_or_else(|| EMPTY_TREE.to_string(), |t| t.id().to_string());
    let output = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo.path())
        .args(["diff-index", "--cached", "--raw", "-z", "--no-renames"])
        .args(["--ignore-submodules=all", "--no-ext-diff", &base, "--"])
        .env("GIT_INDEX_FILE", index_path)
        .output()
        .map_err(|e| Error::io("git", e))?;
    if !output.status.success() {
        return Err(Error::git(
            "git diff-index --cached",
            git2::Error::from_str(String::from_utf8_lossy(&output.stderr).trim()),
        ));
    }
    let mut out = Changes {
        method: DiffMethod::GitCli,
        ..Changes::default()
    };
    // Records: `:old_mode new_mode old_id new_id status` NUL `path` NUL.
    let mut fields = output.stdout.split(|&b| b == 0);
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let meta = String::from_utf8_lossy(meta);
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_id, new_id, status] = parts[..] else {
            continue;
        };
        let mode = |m: &str| u32::from_str_radix(m, 8).unwrap_or(0);
        let id = |s: &str| Oid::from_str(s).ok().filter(|o| !o.is_zero());
        if status.starts_with('U') {
            out.conflicts.push(path.to_vec());
            continue;
        }
        let old = id(old_id).filter(|_| is_content(mode(old_mode)));
        let new = id(new_id).filter(|_| is_content(mode(new_mode)));
        if (new.is_some() || old.is_some()) && new != old {
            out.list.push(Change {
                path: path.to_vec(),
                new,
                old,
            });
        }
    }
    Ok(out)
}

/// Below this many blobs, threads cost more than they save.
const PARALLEL_MIN: usize = 64;

type BlobResult = (Option<ContentResult>, Oid, Stats);

/// Scans the blob `pick` selects from each change, in parallel for large changes (each worker
/// opens its own handle on the repository: libgit2 handles are not shared across threads).
fn scan_blobs(
    scanner: &Scanner,
    repo: &Repository,
    changes: &[&Change],
    threads: usize,
    pick: fn(&Change) -> Option<Oid>,
) -> Result<Vec<BlobResult>> {
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| Error::io(&git_dir, std::io::Error::other(e)))?;
    let parts: Vec<Result<Vec<BlobResult>>> = pool.install(|| {
        changes
            .par_chunks(chunk)
            .map(|part| {
                let repo = Repository::open(&git_dir)
                    .map_err(|e| Error::git(format!("opening {}", git_dir.display()), e))?;
                scan_chunk(scanner, &repo, part, pick)
            })
            .collect()
    });
    let mut out = Vec::with_capacity(changes.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

fn scan_chunk(
    scanner: &Scanner,
    repo: &Repository,
    changes: &[&Change],
    pick: fn(&Change) -> Option<Oid>,
) -> Result<Vec<BlobResult>> {
    let odb = repo.odb().map_err(|e| {
        Error::git(
            format!("opening the objects of {}", repo.path().display()),
            e,
        )
    })?;
    let mut matcher = scanner.matcher();
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        let Some(oid) = pick(c) else { continue };
        let path = c.path_str();
        let mut stats = Stats::default();
        let size = match odb.read_header(oid) {
            Ok((size, ObjectType::Blob)) => size as u64,
            Ok(_) => continue,
            Err(e) => {
                stats
                    .errors
                    .push(format!("{path}: blob {oid}: {}", e.message()));
                out.push((None, oid, stats));
                continue;
            }
        };
        let limit = scanner.options.max_file_size;
        if size > limit {
            stats.incomplete.push(Incomplete {
                blob: Some(oid.to_string()),
                ..Incomplete::new(
                    path,
                    Unread::TooLarge {
                        size: Some(size),
                        limit,
                    },
                )
            });
            out.push((None, oid, stats));
            continue;
        }
        let result = match odb.read(oid) {
            Ok(obj) => {
                let mut r = scanner.scan_content(&mut matcher, &path, obj.data());
                for i in &mut r.incomplete {
                    i.blob = Some(oid.to_string());
                }
                stats.add_content(obj.data().len(), &mut r);
                Some(r)
            }
            Err(e) => {
                stats
                    .errors
                    .push(format!("{path}: blob {oid}: {}", e.message()));
                None
            }
        };
        out.push((result, oid, stats));
    }
    Ok(out)
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
    let mut known = HashSet::new();
    for (result, _, s) in scan_blobs(scanner, repo, &old, threads, |c| c.old)? {
        stats.errors.extend(s.errors);
        if let Some(r) = result {
            known.extend(r.findings.into_iter().map(|f| f.fingerprint));
        }
    }
    Ok(known)
}
