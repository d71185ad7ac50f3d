//! Step 1 of a staged scan: the changed paths, from comparing HEAD's tree (or the empty tree)
//! with the index in one of three ways: the index file read directly with its cached trees,
//! libgit2's tree-to-index diff, or `git diff-index --cached`. It reads no blob content.

use std::path::Path;

use git2::{Delta, DiffOptions, Oid, Repository, Tree};

use super::{index, DiffMethod, StagedOptions};
use crate::error::{Error, Result};

/// One path the commit adds, modifies or deletes.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// Path in the repository, as git stores it.
    pub(crate) path: Vec<u8>,
    /// The staged blob; `None` for a deletion.
    pub(crate) new: Option<Oid>,
    /// The staged entry's git mode (`0o100644`, `0o100755`, `0o120000`); 0 for a deletion.
    pub(crate) mode: u32,
    /// The blob in HEAD; `None` for an addition.
    pub(crate) old: Option<Oid>,
}

impl Change {
    pub(crate) fn path_str(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }
}

/// What the comparison of HEAD with the index yields.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) list: Vec<Change>,
    /// Directories of HEAD the index no longer has: their blobs are old versions too, listed
    /// only if step 3 needs them.
    pub(crate) deleted_dirs: Vec<(Vec<u8>, Oid)>,
    /// Paths with an unresolved conflict.
    pub(crate) conflicts: Vec<Vec<u8>>,
    pub(crate) method: DiffMethod,
}

/// Compares HEAD with the index by `opts.method`, falling back as [`DiffMethod::Auto`] says.
pub(crate) fn head_with_index(repo: &Repository, opts: &StagedOptions) -> Result<Changes> {
    let head = head_tree(repo)?;
    let index_path = opts
        .index_file
        .clone()
        .unwrap_or_else(|| repo.path().join("index"));
    let by_file = || -> Result<std::result::Result<Changes, index::Unsupported>> {
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
            Err(why) if why.only_git_reads_it() => by_git_cli(repo, head.as_ref(), &index_path),
            Err(_) => by_libgit2(repo, head.as_ref(), opts.index_file.as_deref())
                .or_else(|_| by_git_cli(repo, head.as_ref(), &index_path)),
        },
    }
}

fn unsupported(path: &Path, why: &index::Unsupported) -> Error {
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
            if self.file.trees.get(dir_path) == Some(t) {
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
                mode: 0,
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
            mode: e.mode,
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
                mode: 0,
                old: Some(theirs.id()),
            });
        }
    }
}

/// Lists the blobs of deleted directories as deletions (only needed to learn which secrets
/// were already committed).
pub(crate) fn expand_deleted_dirs(repo: &Repository, changes: &mut Changes) -> Result<()> {
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
                    mode: 0,
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
        let new_mode = u32::from(new.mode());
        let new = (new.exists() && is_content(new_mode)).then(|| new.id());
        let old = (old.exists() && is_content(u32::from(old.mode()))).then(|| old.id());
        if (new.is_some() || old.is_some()) && new != old {
            let mode = if new.is_some() { new_mode } else { 0 };
            out.list.push(Change {
                path,
                new,
                mode,
                old,
            });
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
                mode: if new.is_some() { mode(new_mode) } else { 0 },
                new,
                old,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// Each comparison says the staged entry's mode, so that an origin holds it.
    #[test]
    fn every_method_gives_the_staged_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::write(root.join("old.txt"), "old\n").expect("write");
        git(root, &["add", "old.txt"]);
        git(root, &["commit", "-q", "-m", "first"]);
        std::fs::write(root.join("plain.txt"), "plain\n").expect("write");
        std::fs::write(root.join("run.sh"), "#!/bin/sh\n").expect("write");
        git(root, &["add", "plain.txt", "run.sh"]);
        git(root, &["update-index", "--chmod=+x", "run.sh"]);
        git(root, &["rm", "-q", "old.txt"]);
        let repo = Repository::open(root).expect("opens");
        for method in [
            DiffMethod::IndexFile,
            DiffMethod::Libgit2,
            DiffMethod::GitCli,
        ] {
            let opts = StagedOptions {
                method,
                ..StagedOptions::default()
            };
            let changes = head_with_index(&repo, &opts).expect("compares");
            let mut modes: Vec<(String, u32, bool)> = changes
                .list
                .iter()
                .map(|c| (c.path_str(), c.mode, c.new.is_some()))
                .collect();
            modes.sort();
            assert_eq!(
                modes,
                [
                    ("old.txt".to_string(), 0, false),
                    ("plain.txt".to_string(), 0o100644, true),
                    ("run.sh".to_string(), 0o100755, true),
                ],
                "{method:?}"
            );
        }
    }
}
