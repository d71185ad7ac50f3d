//! Enumeration: which commits to look at, and which blobs they hold, each blob id once with the
//! first place it was seen (commit, directory, file name).
//!
//! Commits are visited parents first (topological order, ties by time), so the first sighting
//! of a blob is in the earliest commit that holds it. Two modes:
//! - every blob of every selected commit's tree (the audit): a tree already walked is not
//!   walked again, so the cost follows the number of distinct trees, not commits × files;
//! - only what each selected commit introduces (`--range`, `--since`, `--until`): entries whose
//!   id differs from the same path in every parent, recursing only into changed directories.
//!
//! Problems with single objects (a missing tree, an unreadable ref) are recorded and the walk
//! goes on.

use git2::{ObjectType, Oid, Repository, Sort, Tree};

use super::{Interner, OidKey, OidMap, OidSet, Origin, Progress, NO_COMMIT};
use crate::error::{Error, Result};

/// What to enumerate.
#[derive(Debug, Default)]
pub(super) struct Selection<'a> {
    /// Refs or revisions to start from; empty: every ref, HEAD and the stash's entries.
    pub branches: &'a [String],
    /// `A..B`.
    pub range: Option<&'a str>,
    /// Author time bounds, seconds since the epoch: `since <= t < until`.
    pub since: Option<i64>,
    /// See `since`.
    pub until: Option<i64>,
}

impl Selection<'_> {
    /// Whether to take only what commits introduce.
    pub fn introduced_only(&self) -> bool {
        self.range.is_some() || self.since.is_some() || self.until.is_some()
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
}

impl Blobs {
    fn add(&mut self, id: Oid, origin: Origin) {
        let key = OidKey::from(id);
        if self.index.contains_key(&key) {
            return;
        }
        self.index.insert(key, self.ids.len() as u32);
        self.ids.push(key);
        self.origins.push(origin);
    }

    /// The path of blob `slot` as first seen (bytes; not necessarily UTF-8).
    pub fn path(&self, slot: u32) -> Vec<u8> {
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
    /// Visited commits, parents first; `Origin::commit` indexes this.
    pub commits: Vec<Oid>,
    pub blobs: Blobs,
    /// Refs (and stash entries) the walk started from.
    pub refs: usize,
    /// Distinct trees read.
    pub trees: usize,
    /// Submodule entries met (and skipped).
    pub gitlinks: u64,
    pub errors: Vec<String>,
}

const TREE: i32 = 0o040_000;
const GITLINK: i32 = 0o160_000;

/// Enumerates the selected commits of `repo` and their blobs.
pub(super) fn walk(
    repo: &Repository,
    sel: &Selection<'_>,
    progress: &dyn Progress,
) -> Result<Walk> {
    let mut w = Walker {
        repo,
        out: Walk::default(),
        seen_trees: OidSet::default(),
        stack: Vec::new(),
    };
    let mut revwalk = repo
        .revwalk()
        .map_err(|e| Error::git("starting the commit walk", e))?;
    revwalk
        .set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(|e| Error::git("sorting the commit walk", e))?;
    if let Some(range) = sel.range {
        if !range.contains("..") || range.contains("...") {
            return Err(Error::git(
                format!("--range {range}"),
                git2::Error::from_str("expected A..B (two dots)"),
            ));
        }
        revwalk
            .push_range(range)
            .map_err(|e| Error::git(format!("--range {range}"), e))?;
        w.out.refs = 1;
    } else if !sel.branches.is_empty() {
        for name in sel.branches {
            let commit = repo
                .revparse_single(name)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| Error::git(format!("--branch {name}"), e))?;
            revwalk
                .push(commit.id())
                .map_err(|e| Error::git(format!("--branch {name}"), e))?;
            w.out.refs += 1;
        }
    } else {
        w.push_all_refs(&mut revwalk);
    }

    let introduced = sel.introduced_only();
    let mut walked = 0u64;
    for next in revwalk {
        let id = match next {
            Ok(id) => id,
            Err(e) => {
                w.out
                    .errors
                    .push(format!("walking commits: {}", e.message()));
                break;
            }
        };
        walked += 1;
        if walked % 1024 == 0 {
            progress.commits(walked);
        }
        let commit = match repo.find_commit(id) {
            Ok(c) => c,
            Err(e) => {
                w.out.errors.push(format!("commit {id}: {}", e.message()));
                continue;
            }
        };
        let t = commit.author().when().seconds();
        if sel.since.is_some_and(|s| t < s) || sel.until.is_some_and(|u| t >= u) {
            continue;
        }
        let index = w.out.commits.len() as u32;
        w.out.commits.push(id);
        if introduced {
            w.introduced(&commit, index);
        } else {
            w.all(commit.tree_id(), index, 0);
        }
    }
    progress.commits(walked);
    w.out.trees = w.seen_trees.len().max(w.out.trees);
    Ok(w.out)
}

struct Walker<'r> {
    repo: &'r Repository,
    out: Walk,
    seen_trees: OidSet,
    stack: Vec<(Oid, u32)>,
}

impl Walker<'_> {
    /// Pushes HEAD, every ref (peeled), and every stash entry. Refs to trees or blobs are
    /// enumerated directly, with the ref's name as their path.
    fn push_all_refs(&mut self, revwalk: &mut git2::Revwalk<'_>) {
        let mut tips: Vec<(String, Oid)> = Vec::new();
        if let Ok(head) = self.repo.head() {
            if let Some(id) = head.target() {
                tips.push(("HEAD".into(), id));
            }
        }
        match self.repo.references() {
            Ok(refs) => {
                for r in refs {
                    match r {
                        Ok(r) => {
                            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                            match r.resolve() {
                                Ok(r) => tips.extend(r.target().map(|id| (name, id))),
                                Err(e) => {
                                    self.out.errors.push(format!("ref {name}: {}", e.message()))
                                }
                            }
                        }
                        Err(e) => self
                            .out
                            .errors
                            .push(format!("listing refs: {}", e.message())),
                    }
                }
            }
            Err(e) => self
                .out
                .errors
                .push(format!("listing refs: {}", e.message())),
        }
        // Older stash entries live only in the stash's reflog.
        if let Ok(log) = self.repo.reflog("refs/stash") {
            for (i, entry) in log.iter().enumerate() {
                tips.push((format!("stash@{{{i}}}"), entry.id_new()));
            }
        }
        for (name, id) in tips {
            self.out.refs += 1;
            // Annotated tags (possibly nested) name what they tag; anything else is itself.
            let object = match self.repo.find_object(id, None).and_then(|o| {
                if o.kind() == Some(ObjectType::Tag) {
                    o.peel(ObjectType::Any)
                } else {
                    Ok(o)
                }
            }) {
                Ok(o) => o,
                Err(e) => {
                    self.out
                        .errors
                        .push(format!("ref {name} ({id}): {}", e.message()));
                    continue;
                }
            };
            match object.kind() {
                Some(ObjectType::Commit) => {
                    if let Err(e) = revwalk.push(object.id()) {
                        self.out
                            .errors
                            .push(format!("ref {name} ({id}): {}", e.message()));
                    }
                }
                Some(ObjectType::Tree) => {
                    let dir = self.out.blobs.dirs.intern(name.as_bytes());
                    self.all(object.id(), NO_COMMIT, dir);
                }
                Some(ObjectType::Blob) => {
                    let name = self.out.blobs.names.intern(name.as_bytes());
                    self.out.blobs.add(
                        object.id(),
                        Origin {
                            commit: NO_COMMIT,
                            dir: 0,
                            name,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    fn tree_error(&mut self, id: Oid, dir: u32, commit: u32, e: &git2::Error) {
        let at = String::from_utf8_lossy(self.out.blobs.dirs.get(dir)).into_owned();
        let at = if at.is_empty() { "/".to_string() } else { at };
        let commit = match self.out.commits.get(commit as usize) {
            Some(c) => format!(" in commit {c}"),
            None => String::new(),
        };
        self.out
            .errors
            .push(format!("tree {id} (at {at}{commit}): {}", e.message()));
    }

    /// Every blob under `root` not met before, skipping trees met before.
    fn all(&mut self, root: Oid, commit: u32, dir: u32) {
        if !self.seen_trees.insert(OidKey::from(root)) {
            return;
        }
        self.stack.push((root, dir));
        while let Some((id, dir)) = self.stack.pop() {
            let tree = match self.repo.find_tree(id) {
                Ok(t) => t,
                Err(e) => {
                    self.tree_error(id, dir, commit, &e);
                    continue;
                }
            };
            for entry in tree.iter() {
                let mode = entry.filemode();
                let eid = entry.id();
                if mode == TREE {
                    if self.seen_trees.insert(OidKey::from(eid)) {
                        let path = join(self.out.blobs.dirs.get(dir), entry.name_bytes());
                        let sub = self.out.blobs.dirs.intern(&path);
                        self.stack.push((eid, sub));
                    }
                } else if mode == GITLINK {
                    self.out.gitlinks += 1;
                } else if !self.out.blobs.index.contains_key(&OidKey::from(eid)) {
                    let name = self.out.blobs.names.intern(entry.name_bytes());
                    self.out.blobs.add(eid, Origin { commit, dir, name });
                }
            }
        }
    }

    /// The blobs `commit` introduces: entries that differ from the same path in every parent.
    fn introduced(&mut self, commit: &git2::Commit<'_>, index: u32) {
        let repo = self.repo;
        let tree = match repo.find_tree(commit.tree_id()) {
            Ok(t) => t,
            Err(e) => return self.tree_error(commit.tree_id(), 0, index, &e),
        };
        // A parent that is missing (the edge of a shallow clone) introduces nothing, so all
        // of this commit's content counts as new.
        let parents: Vec<Tree<'_>> = commit
            .parent_ids()
            .filter_map(|p| repo.find_commit(p).ok())
            .filter_map(|c| c.tree().ok())
            .collect();
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
                self.out.trees += 1;
                let path = join(self.out.blobs.dirs.get(dir), name);
                let sub = self.out.blobs.dirs.intern(&path);
                let subtree = match repo.find_tree(eid) {
                    Ok(t) => t,
                    Err(e) => {
                        self.tree_error(eid, sub, commit, &e);
                        continue;
                    }
                };
                let sub_parents: Vec<Tree<'_>> = olds
                    .iter()
                    .filter(|o| o.filemode() == TREE)
                    .filter_map(|o| repo.find_tree(o.id()).ok())
                    .collect();
                self.diff(&subtree, &sub_parents, sub, commit);
            } else if mode == GITLINK {
                self.out.gitlinks += 1;
            } else if !self.out.blobs.index.contains_key(&OidKey::from(eid)) {
                let name = self.out.blobs.names.intern(name);
                self.out.blobs.add(eid, Origin { commit, dir, name });
            }
        }
    }
}
