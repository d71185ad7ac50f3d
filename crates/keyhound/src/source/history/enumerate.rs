//! Enumeration: which commits to look at, and which blobs they hold, each blob id once with the
//! first place it was seen (commit, directory, file name).
//!
//! Commits are put in order parents first (ties broken by time, oldest first), so the first
//! sighting of a blob is in the earliest commit that holds it. Each commit is read once: the
//! walk reads parents, tree and dates from the same object. Two modes for blobs:
//! - every blob of every selected commit's tree (the audit): a tree already walked is not
//!   walked again, so the cost follows the number of distinct trees, not commits × files. The
//!   commits are cut into consecutive runs walked on separate threads, each with its own
//!   repository handle; merging keeps the earliest sighting, so the result does not depend on
//!   the number of threads;
//! - only what each selected commit introduces (a range, or an author-time window): entries whose
//!   id differs from the same path in every parent, recursing only into changed directories.
//!
//! When some paths are skipped (a config's path allowlist, ignore-file globs), a blob first met
//! at a skipped path takes the first place it is met at a path that is not skipped, so that a
//! key committed in an ignored directory and later copied elsewhere is still scanned; a tree is
//! then walked again when met at another directory.
//!
//! Refs that name a tree or a blob (rare tags) are walked after every commit, so a commit's
//! provenance wins. Problems with single objects (a missing commit or tree, an unreadable ref)
//! are recorded and the walk goes on.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Sort, Tree};

use super::oid::{Interner, OidKey, OidMap, OidSet, Origin, NO_COMMIT};
use super::Progress;
use crate::error::{Error, ItemError, Result, Revision};

/// What to enumerate.
#[derive(Debug, Default)]
pub(super) struct Selection<'a> {
    /// Refs or revisions to start from; empty: every ref, HEAD and the stash's entries.
    pub branches: &'a [String],
    /// `A..B`.
    pub range: Option<&'a str>,
    /// Commits chosen by id (a push); takes precedence over `branches` and `range`.
    pub tips: Option<&'a super::Tips>,
    /// Author time bounds, seconds since the epoch: `since <= t < until`.
    pub since: Option<i64>,
    /// See `since`.
    pub until: Option<i64>,
    /// Threads for the tree walk (0: one per core).
    pub threads: usize,
    /// Paths the scan skips, if any.
    pub skip: Option<SkipPaths<'a>>,
}

/// A message met on the walk: every selected commit's, and every annotated tag's a ref names.
pub(super) enum Message<'a> {
    /// The message of a commit.
    Commit(Oid, &'a [u8]),
    /// The message of an annotated tag, and the ref that names it.
    Tag(&'a str, &'a [u8]),
}

/// A predicate over paths (bytes, `/`-separated): true for a path the scan skips.
#[derive(Clone, Copy)]
pub(super) struct SkipPaths<'a>(pub &'a (dyn Fn(&[u8]) -> bool + Sync));

impl std::fmt::Debug for SkipPaths<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SkipPaths")
    }
}

impl Selection<'_> {
    /// Whether to take only what commits introduce.
    pub(super) fn introduced_only(&self) -> bool {
        self.range.is_some() || self.tips.is_some() || self.since.is_some() || self.until.is_some()
    }
}

/// The unique blobs and where each was first seen.
#[derive(Debug, Default)]
pub(super) struct Blobs {
    pub ids: Vec<OidKey>,
    pub origins: Vec<Origin>,
    pub index: OidMap<u32>,
    pub dirs: Interner,
    pub names: Interner,
    /// Slots whose origin is at a skipped path (only when paths are skipped).
    skipped: HashSet<u32>,
}

impl Blobs {
    fn add(&mut self, key: OidKey, origin: Origin) {
        self.add_at(key, origin, false);
    }

    /// Adds a sighting: a new blob, or a better origin for a blob seen only at skipped paths.
    fn add_at(&mut self, key: OidKey, origin: Origin, skipped: bool) {
        if let Some(&slot) = self.index.get(&key) {
            if !skipped && self.skipped.remove(&slot) {
                self.origins[slot as usize] = origin;
            }
            return;
        }
        let slot = self.ids.len() as u32;
        self.index.insert(key, slot);
        self.ids.push(key);
        self.origins.push(origin);
        if skipped {
            self.skipped.insert(slot);
        }
    }

    /// Whether `key` is known at a path that is not skipped (nothing more to learn about it).
    fn settled(&self, key: &OidKey) -> bool {
        self.index
            .get(key)
            .is_some_and(|slot| self.skipped.is_empty() || !self.skipped.contains(slot))
    }

    /// Adds the blobs of `later` that are not here yet (`later` covers later commits).
    fn absorb(&mut self, later: Blobs) {
        for (slot, (key, o)) in later.ids.into_iter().zip(later.origins).enumerate() {
            if self.settled(&key) {
                continue;
            }
            let origin = Origin {
                commit: o.commit,
                dir: self.dirs.intern(later.dirs.get(o.dir)),
                name: self.names.intern(later.names.get(o.name)),
            };
            self.add_at(key, origin, later.skipped.contains(&(slot as u32)));
        }
    }

    /// The path of blob `slot` as first seen (bytes; not necessarily UTF-8).
    pub(super) fn path(&self, slot: u32) -> Vec<u8> {
        let o = &self.origins[slot as usize];
        join(self.dirs.get(o.dir), self.names.get(o.name))
    }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
    if !dir.is_empty() {
        p.extend_from_slice(dir);
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// The result of enumeration.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// Selected commits, parents first; `Origin::commit` indexes this.
    pub commits: Vec<Oid>,
    pub blobs: Blobs,
    /// Refs (and stash entries) the walk started from.
    pub refs: usize,
    /// Trees read.
    pub trees: usize,
    /// Submodule entries met (and skipped).
    pub gitlinks: u64,
    pub errors: Vec<ItemError>,
    /// Why the walk of a range stopped before its end (libgit2's message), if it did.
    pub range_stopped: Option<String>,
    pub commit_walk: std::time::Duration,
    pub tree_walk: std::time::Duration,
}

/// A commit as the walk needs it.
#[derive(Debug, Clone, Copy)]
struct Node {
    id: Oid,
    tree: Oid,
    /// Author time, for the author-time window.
    authored: i64,
}

const TREE: i32 = 0o040_000;
const GITLINK: i32 = 0o160_000;

/// Enumerates the selected commits of `repo` and their blobs.
pub(super) fn walk(
    repo: &Repository,
    sel: &Selection<'_>,
    progress: &dyn Progress,
    messages: &mut dyn FnMut(Message<'_>),
) -> Result<Walk> {
    let start = std::time::Instant::now();
    let mut out = Walk::default();
    let mut other_tips = Vec::new();
    let nodes = match (sel.tips, sel.range) {
        (Some(tips), _) => tip_commits(repo, tips, &mut out, &mut other_tips, messages)?,
        (None, Some(range)) => range_commits(repo, range, &mut out, messages)?,
        (None, None) => {
            let tips = tips(repo, sel.branches, &mut out, &mut other_tips, messages)?;
            graph_order(repo, &tips, &mut out, progress, messages)
        }
    };
    let nodes: Vec<Node> = nodes
        .into_iter()
        .filter(|n| {
            sel.since.is_none_or(|s| n.authored >= s) && sel.until.is_none_or(|u| n.authored < u)
        })
        .collect();
    out.commits = nodes.iter().map(|n| n.id).collect();
    out.commit_walk = start.elapsed();
    let start = std::time::Instant::now();

    let mut walker = if sel.introduced_only() {
        let mut w = TreeWalker::new(repo, &out.commits, Blobs::default(), sel.skip);
        for (i, n) in nodes.iter().enumerate() {
            w.introduced(n, i as u32);
        }
        w
    } else {
        let roots: Vec<Oid> = nodes.iter().map(|n| n.tree).collect();
        let threads = match sel.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        all_blobs(repo, &out.commits, &roots, threads, sel.skip)
    };
    for (name, id, kind) in other_tips {
        match kind {
            ObjectType::Tree => {
                let dir = walker.blobs.dirs.intern(name.as_bytes());
                walker.all(id, NO_COMMIT, dir);
            }
            _ => {
                let name = walker.blobs.names.intern(name.as_bytes());
                let origin = Origin {
                    commit: NO_COMMIT,
                    dir: 0,
                    name,
                };
                walker.blobs.add(OidKey::from(id), origin);
            }
        }
    }
    out.blobs = walker.blobs;
    out.trees = walker.trees;
    out.gitlinks = walker.gitlinks;
    out.errors.extend(walker.errors);
    out.tree_walk = start.elapsed();
    Ok(out)
}

/// The commits to start from: the chosen revisions, or HEAD, every ref and every stash entry
/// (annotated tags peeled). Refs that name trees or blobs go to `others`.
fn tips(
    repo: &Repository,
    branches: &[String],
    out: &mut Walk,
    others: &mut Vec<(String, Oid, ObjectType)>,
    messages: &mut dyn FnMut(Message<'_>),
) -> Result<Vec<Oid>> {
    if !branches.is_empty() {
        let mut tips = Vec::new();
        for name in branches {
            let commit = repo
                .revparse_single(name)
                .and_then(|o| o.peel_to_commit())
                .map_err(|error| Error::BadRevision {
                    revision: Revision::Branch(name.clone()),
                    error,
                })?;
            tips.push(commit.id());
            out.refs += 1;
        }
        return Ok(tips);
    }
    let mut named: Vec<(String, Oid)> = Vec::new();
    if let Ok(head) = repo.head() {
        if let Some(id) = head.target() {
            named.push(("HEAD".into(), id));
        }
    }
    match repo.references() {
        Ok(refs) => {
            for r in refs {
                let r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        out.errors.push(ItemError::refs(&e));
                        continue;
                    }
                };
                let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                match r.resolve() {
                    Ok(r) => named.extend(r.target().map(|id| (name, id))),
                    Err(e) => out
                        .errors
                        .push(ItemError::object(format!("ref {name}"), &e)),
                }
            }
        }
        Err(e) => out.errors.push(ItemError::refs(&e)),
    }
    // Older stash entries live only in the stash's reflog.
    if let Ok(log) = repo.reflog("refs/stash") {
        for (i, entry) in log.iter().enumerate() {
            named.push((format!("stash@{{{i}}}"), entry.id_new()));
        }
    }
    let mut tips = Vec::new();
    for (name, id) in named {
        // HEAD names a branch that is counted already (or a detached commit, still a start).
        if name != "HEAD" {
            out.refs += 1;
        }
        // Annotated tags (possibly nested) name what they tag; anything else is itself.
        let object = repo.find_object(id, None).and_then(|o| {
            if o.kind() == Some(ObjectType::Tag) {
                if let Some(tag) = o.as_tag() {
                    messages(Message::Tag(&name, tag.message_bytes().unwrap_or_default()));
                }
                o.peel(ObjectType::Any)
            } else {
                Ok(o)
            }
        });
        match object {
            Ok(o) => match o.kind() {
                Some(ObjectType::Commit) => tips.push(o.id()),
                Some(kind @ (ObjectType::Tree | ObjectType::Blob)) => {
                    others.push((name, o.id(), kind))
                }
                _ => {}
            },
            Err(e) => out
                .errors
                .push(ItemError::object(format!("ref {name} ({id})"), &e)),
        }
    }
    Ok(tips)
}

/// Every commit reachable from `tips`, each read once, parents first; among commits whose
/// parents are all placed, the oldest (committer time, then id) goes next.
fn graph_order(
    repo: &Repository,
    tips: &[Oid],
    out: &mut Walk,
    progress: &dyn Progress,
    messages: &mut dyn FnMut(Message<'_>),
) -> Vec<Node> {
    const MISSING: u32 = u32::MAX;
    let shallow = shallow_commits(repo);
    let mut index: OidMap<u32> = OidMap::default();
    let mut nodes: Vec<Node> = Vec::new();
    let mut times: Vec<i64> = Vec::new();
    // (child, parent) edges, resolved to indices once every commit is loaded.
    let mut edges: Vec<(u32, Oid)> = Vec::new();
    let mut stack: Vec<Oid> = tips.iter().rev().copied().collect();
    while let Some(id) = stack.pop() {
        let key = OidKey::from(id);
        if index.contains_key(&key) {
            continue;
        }
        let commit = match repo.find_commit(id) {
            Ok(c) => c,
            Err(e) => {
                out.errors
                    .push(ItemError::object(format!("commit {id}"), &e));
                index.insert(key, MISSING);
                continue;
            }
        };
        let at = nodes.len() as u32;
        index.insert(key, at);
        if !shallow.contains(&key) {
            for p in commit.parent_ids() {
                edges.push((at, p));
                stack.push(p);
            }
        }
        messages(Message::Commit(id, commit.message_raw_bytes()));
        nodes.push(Node {
            id,
            tree: commit.tree_id(),
            authored: commit.author().when().seconds(),
        });
        times.push(commit.time().seconds());
        if nodes.len() & 1023 == 0 {
            progress.commits(nodes.len() as u64);
        }
    }
    progress.commits(nodes.len() as u64);

    // Kahn's algorithm over parent → child edges (a CSR adjacency list).
    let n = nodes.len();
    let mut pending = vec![0u32; n];
    let mut pairs: Vec<(u32, u32)> = edges
        .into_iter()
        .filter_map(|(child, p)| match index.get(&OidKey::from(p)) {
            Some(&parent) if parent != MISSING => Some((parent, child)),
            _ => None,
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut start = vec![0usize; n + 1];
    for &(parent, child) in &pairs {
        start[parent as usize + 1] += 1;
        pending[child as usize] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let key = |i: u32| Reverse((times[i as usize], OidKey::from(nodes[i as usize].id), i));
    let mut ready: BinaryHeap<_> = (0..n as u32)
        .filter(|&i| pending[i as usize] == 0)
        .map(key)
        .collect();
    let mut order: Vec<u32> = Vec::with_capacity(n);
    while let Some(Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        for &(_, child) in &pairs[start[i as usize]..start[i as usize + 1]] {
            pending[child as usize] -= 1;
            if pending[child as usize] == 0 {
                ready.push(key(child));
            }
        }
    }
    if order.len() < n {
        // Only a corrupt repository has a cycle; keep its commits, oldest first.
        let mut rest: Vec<u32> = (0..n as u32).filter(|&i| pending[i as usize] > 0).collect();
        rest.sort_by_key(|&i| key(i).0);
        order.extend(rest);
    }
    order.into_iter().map(|i| nodes[i as usize]).collect()
}

/// The commits at the edge of a shallow clone: their parents are not in the repository.
fn shallow_commits(repo: &Repository) -> OidSet {
    let text = std::fs::read_to_string(repo.commondir().join("shallow")).unwrap_or_default();
    text.lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .map(OidKey::from)
        .collect()
}

/// The commits of `A..B`, parents first (libgit2's walk knows how to stop early on the `A`
/// side).
fn range_commits(
    repo: &Repository,
    range: &str,
    out: &mut Walk,
    messages: &mut dyn FnMut(Message<'_>),
) -> Result<Vec<Node>> {
    if !range.contains("..") || range.contains("...") {
        return Err(Error::BadRevision {
            revision: Revision::Range(range.to_string()),
            error: git2::Error::from_str("expected A..B (two dots)"),
        });
    }
    let mut revwalk = parents_first(repo)?;
    revwalk
        .push_range(range)
        .map_err(|error| Error::BadRevision {
            revision: Revision::Range(range.to_string()),
            error,
        })?;
    out.refs = 1;
    let (nodes, stopped) = read_walk(repo, revwalk, out, messages);
    out.range_stopped = stopped;
    Ok(nodes)
}

/// The commits `revwalk` yields, each read once (its message handed to `messages`), and why
/// the walk stopped before its end (libgit2's message), if it did.
fn read_walk(
    repo: &Repository,
    revwalk: git2::Revwalk<'_>,
    out: &mut Walk,
    messages: &mut dyn FnMut(Message<'_>),
) -> (Vec<Node>, Option<String>) {
    let mut nodes = Vec::new();
    for next in revwalk {
        let id = match next {
            Ok(id) => id,
            Err(e) => return (nodes, Some(e.message().to_string())),
        };
        match repo.find_commit(id) {
            Ok(c) => {
                messages(Message::Commit(id, c.message_raw_bytes()));
                nodes.push(Node {
                    id,
                    tree: c.tree_id(),
                    authored: c.author().when().seconds(),
                })
            }
            Err(e) => out
                .errors
                .push(ItemError::object(format!("commit {id}"), &e)),
        }
    }
    (nodes, None)
}

/// A commit walk that yields parents before children (ties by time, oldest first).
fn parents_first(repo: &Repository) -> Result<git2::Revwalk<'_>> {
    let mut revwalk = repo
        .revwalk()
        .map_err(|e| Error::git("starting the commit walk", e))?;
    revwalk
        .set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(|e| Error::git("sorting the commit walk", e))?;
    Ok(revwalk)
}

/// The commits reachable from `tips.include` and from none of `tips.exclude`, parents first.
/// Annotated tags among the tips give their message and are peeled; tips that name a tree or
/// blob go to `others`.
fn tip_commits(
    repo: &Repository,
    tips: &super::Tips,
    out: &mut Walk,
    others: &mut Vec<(String, Oid, ObjectType)>,
    messages: &mut dyn FnMut(Message<'_>),
) -> Result<Vec<Node>> {
    let mut revwalk = parents_first(repo)?;
    // The hidden commits go in first: libgit2 takes its starting commits last in, first out,
    // and stops walking soon after the last interesting one only once it has met one; with
    // the new tips taken last, every ref a server has (hundreds of tags) was walked down.
    for id in &tips.exclude {
        // libgit2 peels a tag to its commit itself. A tip the repository does not hold (a ref
        // of another repository), or one that names no commit, hides nothing: at worst more
        // is scanned, never less.
        let _ = revwalk.hide(*id);
    }
    for (name, id) in &tips.include {
        out.refs += 1;
        let object = repo.find_object(*id, None).and_then(|o| {
            if o.kind() == Some(ObjectType::Tag) {
                if let Some(tag) = o.as_tag() {
                    messages(Message::Tag(name, tag.message_bytes().unwrap_or_default()));
                }
                o.peel(ObjectType::Any)
            } else {
                Ok(o)
            }
        });
        let object = match object {
            Ok(o) => o,
            Err(error) => {
                return Err(Error::BadRevision {
                    revision: Revision::Branch(format!("{name} ({id})")),
                    error,
                })
            }
        };
        match object.kind() {
            Some(ObjectType::Commit) => {
                revwalk
                    .push(object.id())
                    .map_err(|error| Error::BadRevision {
                        revision: Revision::Branch(format!("{name} ({id})")),
                        error,
                    })?
            }
            Some(kind @ (ObjectType::Tree | ObjectType::Blob)) => {
                others.push((name.clone(), object.id(), kind))
            }
            _ => {}
        }
    }
    let (nodes, stopped) = read_walk(repo, revwalk, out, messages);
    if let Some(why) = stopped {
        // Not a range's note: a push whose commits cannot all be walked is not checked whole.
        out.errors
            .push(ItemError::new("walking the pushed commits", why));
    }
    Ok(nodes)
}

/// Walks the trees of `roots` (one per commit, in commit order) on up to `threads` threads,
/// each taking a run of consecutive commits with its own repository handle.
fn all_blobs<'r>(
    repo: &'r Repository,
    commits: &'r [Oid],
    roots: &[Oid],
    threads: usize,
    skip: Option<SkipPaths<'r>>,
) -> TreeWalker<'r> {
    // Each run re-walks what it shares with earlier runs (about one full tree), so runs stay
    // long.
    let threads = threads.clamp(1, 1 + roots.len() / 512);
    let mut first = TreeWalker::new(repo, commits, Blobs::default(), skip);
    if threads == 1 {
        for (i, &root) in roots.iter().enumerate() {
            first.all(root, i as u32, 0);
        }
        return first;
    }
    let run = roots.len().div_ceil(threads);
    let git_dir: &Path = repo.path();
    let later: Vec<std::result::Result<Parts, usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = roots
            .chunks(run)
            .enumerate()
            .skip(1)
            .map(|(k, chunk)| {
                s.spawn(move || {
                    let start = k * run;
                    let Ok(repo) = Repository::open(git_dir) else {
                        return Err(start);
                    };
                    let mut w = TreeWalker::new(&repo, commits, Blobs::default(), skip);
                    for (i, &root) in chunk.iter().enumerate() {
                        w.all(root, (start + i) as u32, 0);
                    }
                    Ok(w.into_parts())
                })
            })
            .collect();
        for (i, &root) in roots[..run.min(roots.len())].iter().enumerate() {
            first.all(root, i as u32, 0);
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(usize::MAX)))
            .collect()
    });
    for (k, part) in later.into_iter().enumerate() {
        match part {
            Ok(p) => {
                first.blobs.absorb(p.blobs);
                first.trees += p.trees;
                first.gitlinks += p.gitlinks;
                first.errors.extend(p.errors);
            }
            Err(_) => {
                // The thread could not open the repository: walk its run here.
                let start = (k + 1) * run;
                let end = (start + run).min(roots.len());
                for (i, &root) in roots[start..end].iter().enumerate() {
                    first.all(root, (start + i) as u32, 0);
                }
            }
        }
    }
    first
}

/// What a tree walker found, without its repository handle.
struct Parts {
    blobs: Blobs,
    trees: usize,
    gitlinks: u64,
    errors: Vec<ItemError>,
}

struct TreeWalker<'r> {
    repo: &'r Repository,
    commits: &'r [Oid],
    blobs: Blobs,
    skip: Option<SkipPaths<'r>>,
    seen: OidSet,
    /// With `skip`: trees walked, by (tree, directory), since where a blob sits decides.
    seen_at: HashSet<(OidKey, u32)>,
    stack: Vec<(Oid, u32)>,
    trees: usize,
    gitlinks: u64,
    errors: Vec<ItemError>,
}

impl<'r> TreeWalker<'r> {
    fn new(
        repo: &'r Repository,
        commits: &'r [Oid],
        blobs: Blobs,
        skip: Option<SkipPaths<'r>>,
    ) -> Self {
        TreeWalker {
            repo,
            commits,
            blobs,
            skip,
            seen: OidSet::default(),
            seen_at: HashSet::new(),
            stack: Vec::new(),
            trees: 0,
            gitlinks: 0,
            errors: Vec::new(),
        }
    }

    fn into_parts(self) -> Parts {
        Parts {
            blobs: self.blobs,
            trees: self.trees,
            gitlinks: self.gitlinks,
            errors: self.errors,
        }
    }

    fn find_tree(&mut self, id: Oid, dir: u32, commit: u32) -> Option<Tree<'r>> {
        match self.repo.find_tree(id) {
            Ok(t) => {
                self.trees += 1;
                Some(t)
            }
            Err(e) => {
                let at = String::from_utf8_lossy(self.blobs.dirs.get(dir)).into_owned();
                let at = if at.is_empty() { "/".to_string() } else { at };
                let commit = match self.commits.get(commit as usize) {
                    Some(c) => format!(" in commit {c}"),
                    None => String::new(),
                };
                self.errors.push(ItemError::object(
                    format!("tree {id} (at {at}{commit})"),
                    &e,
                ));
                None
            }
        }
    }

    /// Marks a tree at `dir` as walked; false if it was already.
    fn first_visit(&mut self, key: OidKey, dir: u32) -> bool {
        match self.skip {
            None => self.seen.insert(key),
            Some(_) => self.seen_at.insert((key, dir)),
        }
    }

    /// Records the blob `key` named `name` in `dir`, seen in `commit`.
    fn blob(&mut self, key: OidKey, commit: u32, dir: u32, name: &[u8]) {
        if self.blobs.settled(&key) {
            return;
        }
        let skipped = match self.skip {
            None => false,
            Some(SkipPaths(skip)) => skip(&join(self.blobs.dirs.get(dir), name)),
        };
        if skipped && self.blobs.index.contains_key(&key) {
            return;
        }
        let name = self.blobs.names.intern(name);
        self.blobs
            .add_at(key, Origin { commit, dir, name }, skipped);
    }

    /// Every blob under `root` not met before, skipping trees met before.
    fn all(&mut self, root: Oid, commit: u32, dir: u32) {
        if !self.first_visit(OidKey::from(root), dir) {
            return;
        }
        self.stack.push((root, dir));
        while let Some((id, dir)) = self.stack.pop() {
            let Some(tree) = self.find_tree(id, dir, commit) else {
                continue;
            };
            for entry in tree.iter() {
                let mode = entry.filemode();
                let key = OidKey::from(entry.id());
                if mode == TREE {
                    if self.skip.is_none() {
                        if self.seen.insert(key) {
                            let path = join(self.blobs.dirs.get(dir), entry.name_bytes());
                            let sub = self.blobs.dirs.intern(&path);
                            self.stack.push((entry.id(), sub));
                        }
                    } else {
                        let path = join(self.blobs.dirs.get(dir), entry.name_bytes());
                        let sub = self.blobs.dirs.intern(&path);
                        if self.seen_at.insert((key, sub)) {
                            self.stack.push((entry.id(), sub));
                        }
                    }
                } else if mode == GITLINK {
                    self.gitlinks += 1;
                } else {
                    self.blob(key, commit, dir, entry.name_bytes());
                }
            }
        }
    }

    /// The blobs a commit introduces: entries that differ from the same path in every parent.
    fn introduced(&mut self, node: &Node, index: u32) {
        let repo = self.repo;
        let Some(tree) = self.find_tree(node.tree, 0, index) else {
            return;
        };
        // A parent that is missing (the edge of a shallow clone) introduces nothing, so all
        // of this commit's content counts as new.
        let parents: Vec<Tree<'_>> = match repo.find_commit(node.id) {
            Ok(c) => c
                .parent_ids()
                .filter_map(|p| repo.find_commit(p).ok())
                .filter_map(|c| c.tree().ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        self.diff(&tree, &parents, 0, index);
    }

    fn diff(&mut self, tree: &Tree<'_>, parents: &[Tree<'_>], dir: u32, commit: u32) {
        let repo = self.repo;
        for entry in tree.iter() {
            let eid = entry.id();
            let name = entry.name_bytes();
            let olds: Vec<git2::TreeEntry<'_>> = parents
                .iter()
                .filter_map(|p| p.get_name_bytes(name))
                .collect();
            if olds.iter().any(|o| o.id() == eid) {
                continue;
            }
            let mode = entry.filemode();
            if mode == TREE {
                let path = join(self.blobs.dirs.get(dir), name);
                let sub = self.blobs.dirs.intern(&path);
                let Some(subtree) = self.find_tree(eid, sub, commit) else {
                    continue;
                };
                let sub_parents: Vec<Tree<'_>> = olds
                    .iter()
                    .filter(|o| o.filemode() == TREE)
                    .filter_map(|o| repo.find_tree(o.id()).ok())
                    .collect();
                self.diff(&subtree, &sub_parents, sub, commit);
            } else if mode == GITLINK {
                self.gitlinks += 1;
            } else {
                self.blob(OidKey::from(eid), commit, dir, name);
            }
        }
    }
}
