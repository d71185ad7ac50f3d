//! A push as a source: what a set of ref updates adds to a repository, as git hands it to a
//! `pre-receive` hook on the server (`<old> <new> <ref>` lines) or to a `pre-push` hook on the
//! client (`<local ref> <local id> <remote ref> <remote id>` lines).
//!
//! Contract:
//! - What a push adds is the commits reachable from its new tips and from no ref the receiving
//!   side had before the push ([`server_tips`]), or, on the client, from no remote-tracking ref
//!   and from none of the remote's old tips that are here ([`client_tips`]). They are scanned
//!   with the "what the commits introduce" semantics of a range, each blob once across every
//!   ref of the push (see [`history::Tips`]).
//! - A deletion (new id all zeros) adds nothing. A new ref (old id all zeros) adds only the
//!   commits no other ref holds.
//! - While `pre-receive` runs, git keeps the pushed objects in a quarantine directory and names
//!   it in the environment; libgit2 does not read those variables, so [`Quarantine`] collects
//!   the directories and [`open`] adds them to the object database (and the history scan adds
//!   them to every worker's handle through [`history::HistoryOptions::object_dirs`]).
//! - SHA-256 repositories are refused ([`PushError::Sha256`]): libgit2 reads SHA-1 only.
//!
//! What it does not do: read stdin or the environment itself (the caller passes them in),
//! decide whether a push is accepted, or read any configuration.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use crate::source::history::{self, Tips};

/// Errors of reading a push.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// A line of the hook's input is not in the form git writes.
    #[error("line {line} of the hook's input ({text:?}): {why}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The repository uses SHA-256 object ids.
    #[error("{}: a SHA-256 repository: keyhound reads git objects with libgit2, which reads SHA-1 repositories only", path.display())]
    Sha256 {
        /// The repository.
        path: PathBuf,
    },
    /// The repository could not be opened, or its refs read.
    #[error("{}: {}", path.display(), error.message())]
    Repository {
        /// The repository.
        path: PathBuf,
        /// libgit2's error.
        error: git2::Error,
    },
}

/// One ref update of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The ref on the receiving side (`refs/heads/main`).
    pub name: String,
    /// What the receiving side has now (`None`: the ref is new).
    pub old: Option<Oid>,
    /// What the push sets it to (`None`: the ref is deleted).
    pub new: Option<Oid>,
}

/// Which hook's input lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// `<old> <new> <ref>` (pre-receive, and post-receive).
    PreReceive,
    /// `<local ref> <local id> <remote ref> <remote id>` (pre-push).
    PrePush,
}

/// Parses a hook's input: one update per non-empty line.
pub fn parse_updates(text: &str, input: Input) -> Result<Vec<RefUpdate>, PushError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why| PushError::BadLine {
            line: i + 1,
            text: line.to_string(),
            why,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (old, new, name) = match (input, fields.as_slice()) {
            (Input::PreReceive, [old, new, name]) => (*old, *new, *name),
            (Input::PrePush, [_local, new, name, old]) => (*old, *new, *name),
            (Input::PreReceive, _) => return Err(bad("expected `<old id> <new id> <ref>`")),
            (Input::PrePush, _) => {
                return Err(bad(
                    "expected `<local ref> <local id> <remote ref> <remote id>`",
                ))
            }
        };
        if old.len() == 64 || new.len() == 64 {
            return Err(bad(
                "a SHA-256 object id: keyhound reads SHA-1 repositories only",
            ));
        }
        out.push(RefUpdate {
            name: name.to_string(),
            old: object_id(old).ok_or_else(|| bad("the old id is not a SHA-1 object id"))?,
            new: object_id(new).ok_or_else(|| bad("the new id is not a SHA-1 object id"))?,
        });
    }
    Ok(out)
}

/// A 40-hex id; `Some(None)` for git's all-zero "none".
fn object_id(text: &str) -> Option<Option<Oid>> {
    if text.len() != 40 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = Oid::from_str(text).ok()?;
    Some((!id.is_zero()).then_some(id))
}

/// The object directories of a push in quarantine, from git's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    /// Directories to read objects from, besides the repository's own `objects`.
    pub object_dirs: Vec<PathBuf>,
}

impl Quarantine {
    /// Collects `GIT_QUARANTINE_PATH`, `GIT_OBJECT_DIRECTORY` and every entry of
    /// `GIT_ALTERNATE_OBJECT_DIRECTORIES` (`:`-separated) from `var`, relative ones taken from
    /// `cwd` (where git runs the hook), each once.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>, cwd: &Path) -> Quarantine {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut add = |p: PathBuf| {
            let p = if p.is_absolute() { p } else { cwd.join(p) };
            if !p.as_os_str().is_empty() && !dirs.contains(&p) {
                dirs.push(p);
            }
        };
        for name in ["GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY"] {
            if let Some(v) = var(name).filter(|v| !v.is_empty()) {
                add(PathBuf::from(v));
            }
        }
        if let Some(v) = var("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
            for p in std::env::split_paths(&v) {
                if !p.as_os_str().is_empty() {
                    add(p);
                }
            }
        }
        Quarantine { object_dirs: dirs }
    }
}

/// Opens the repository at `path` and adds the quarantine's object directories (but for the
/// repository's own) to its object database. Refuses SHA-256 repositories.
pub fn open(path: &Path, quarantine: &Quarantine) -> Result<(Repository, Vec<PathBuf>), PushError> {
    let err = |error| PushError::Repository {
        path: path.to_path_buf(),
        error,
    };
    let sha256 = || PushError::Sha256 {
        path: path.to_path_buf(),
    };
    // libgit2 does not open a SHA-256 repository at all: its config says why.
    let repo =
        Repository::open(path).map_err(|e| if is_sha256(path) { sha256() } else { err(e) })?;
    let format = repo
        .config()
        .and_then(|c| c.get_string("extensions.objectformat"))
        .unwrap_or_default();
    if format.eq_ignore_ascii_case("sha256") {
        return Err(sha256());
    }
    let own = std::fs::canonicalize(repo.commondir().join("objects")).ok();
    let dirs: Vec<PathBuf> = quarantine
        .object_dirs
        .iter()
        .filter(|d| d.is_dir() && std::fs::canonicalize(d).ok() != own)
        .cloned()
        .collect();
    if !dirs.is_empty() {
        let odb = repo.odb().map_err(err)?;
        for d in &dirs {
            odb.add_disk_alternate(&d.to_string_lossy()).map_err(err)?;
        }
    }
    Ok((repo, dirs))
}

/// Whether the config file of the repository at `path` (bare or not) asks for SHA-256 ids.
fn is_sha256(path: &Path) -> bool {
    [path.join("config"), path.join(".git").join("config")]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|text| {
            text.lines().any(|l| {
                let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                l.eq_ignore_ascii_case("objectformat=sha256")
            })
        })
}

/// What a push adds on the receiving side: the new tips, less every commit reachable from a
/// ref the repository has (during pre-receive its refs are still those from before the push).
pub fn server_tips(repo: &Repository, updates: &[RefUpdate]) -> Result<Tips, PushError> {
    let mut exclude = refs(repo, |_| true)?;
    exclude.extend(updates.iter().filter_map(|u| u.old));
    Ok(Tips {
        include: include(updates),
        exclude,
    })
}

/// What a push adds as the pushing side sees it: the new tips, less every commit reachable
/// from a remote-tracking ref or from an old tip of the remote that is here.
pub fn client_tips(repo: &Repository, updates: &[RefUpdate]) -> Result<Tips, PushError> {
    let mut exclude = refs(repo, |name| name.starts_with("refs/remotes/"))?;
    exclude.extend(updates.iter().filter_map(|u| u.old));
    Ok(Tips {
        include: include(updates),
        exclude,
    })
}

fn include(updates: &[RefUpdate]) -> Vec<(String, Oid)> {
    updates
        .iter()
        .filter_map(|u| u.new.map(|id| (u.name.clone(), id)))
        .collect()
}

/// The targets of the refs whose name `keep` accepts.
fn refs(repo: &Repository, keep: impl Fn(&str) -> bool) -> Result<Vec<Oid>, PushError> {
    let err = |error| PushError::Repository {
        path: repo.path().to_path_buf(),
        error,
    };
    let mut out = Vec::new();
    for r in repo.references().map_err(err)? {
        let r = r.map_err(err)?;
        if !keep(&String::from_utf8_lossy(r.name_bytes())) {
            continue;
        }
        // A symbolic ref names another ref, which is listed too. An annotated tag in the
        // packed refs comes with the commit it peels to: taken from there, the tag object need
        // not be read.
        if let Some(id) = r.target_peel().or_else(|| r.target()) {
            out.push(id);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The history options that scan what `tips` add, reading objects from `object_dirs` too.
pub fn options(tips: Tips, object_dirs: Vec<PathBuf>) -> history::HistoryOptions {
    history::HistoryOptions {
        tips: Some(tips),
        object_dirs,
        ..history::HistoryOptions::default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn every_line_is_an_update_and_zeros_mean_none() {
        let text =
            format!("{A} {B} refs/heads/main\n{Z} {B} refs/heads/new\n{A} {Z} refs/tags/old\n");
        let u = parse_updates(&text, Input::PreReceive).unwrap();
        assert_eq!(u.len(), 3);
        assert_eq!(u[0].old, Some(Oid::from_str(A).unwrap()));
        assert_eq!(u[1].old, None);
        assert_eq!(u[2].new, None);
        assert_eq!(u[2].name, "refs/tags/old");
        let pp = format!("refs/heads/x {B} refs/heads/main {A}\n");
        let u = parse_updates(&pp, Input::PrePush).unwrap();
        assert_eq!(u[0].name, "refs/heads/main");
        assert_eq!(u[0].old, Some(Oid::from_str(A).unwrap()));
        assert_eq!(u[0].new, Some(Oid::from_str(B).unwrap()));
    }

    #[test]
    fn malformed_and_sha256_lines_are_refused_with_their_number() {
        let e = parse_updates(&format!("{A} {B}\n"), Input::PreReceive).unwrap_err();
        assert!(e.to_string().starts_with("line 1 "), "{e}");
        let long = "a".repeat(64);
        let e = parse_updates(
            &format!("\n{long} {long} refs/heads/m\n"),
            Input::PreReceive,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("SHA-256"),
            "{e}"
        );
    }

    #[test]
    fn quarantine_dirs_are_collected_once_and_made_absolute() {
        let vars = |name: &str| -> Option<OsString> {
            match name {
                "GIT_QUARANTINE_PATH" => Some("/r/objects/incoming-x".into()),
                "GIT_OBJECT_DIRECTORY" => Some("objects/incoming-x".into()),
                "GIT_ALTERNATE_OBJECT_DIRECTORIES" => Some("/r/objects:/s/objects".into()),
                _ => None,
            }
        };
        let q = Quarantine::from_vars(vars, Path::new("/r"));
        let want: Vec<PathBuf> = ["/r/objects/incoming-x", "/r/objects", "/s/objects"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(q.object_dirs, want);
    }
}
