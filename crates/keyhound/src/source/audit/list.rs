//! The repositories of an audit: named on the command line, listed in a file (one path or clone
//! URL a line, `#` comments), or discovered under a directory (every repository, bare or not,
//! without descending into a `.git` directory or a bare repository). A repository is known by
//! its *name*, the text the list gives for it: reports, shards and states use it.

use std::path::{Path, PathBuf};

use super::AuditError;

/// One repository to audit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RepoEntry {
    /// The name the list gives it (a path or a clone URL), as reports show it.
    pub name: String,
    /// Where it is on disk (for a URL: where it is cloned, once it is).
    pub path: PathBuf,
    /// The clone URL, if the list gave one.
    pub url: Option<String>,
}

impl RepoEntry {
    /// A repository on disk at `path`, named as written.
    pub fn local(path: impl Into<PathBuf>) -> RepoEntry {
        let path = path.into();
        let name = path.to_string_lossy().into_owned();
        let name = match name.trim_end_matches('/') {
            "" => name,
            trimmed => trimmed.to_string(),
        };
        RepoEntry {
            name,
            path,
            url: None,
        }
    }

    /// A list entry: a clone URL (`scheme://…` or `user@host:path`), else a path.
    pub fn parse(entry: &str) -> RepoEntry {
        if is_url(entry) {
            RepoEntry {
                name: entry.trim_end_matches('/').to_string(),
                path: PathBuf::new(),
                url: Some(entry.to_string()),
            }
        } else {
            RepoEntry::local(entry)
        }
    }
}

/// Whether a list entry is a clone URL rather than a path.
pub fn is_url(entry: &str) -> bool {
    if entry.contains("://") {
        return true;
    }
    // scp-like `user@host:path` (git's rule: a colon before any slash).
    match entry.find(':') {
        Some(colon) => {
            let before = &entry[..colon];
            before.contains('@') && !before.contains('/')
        }
        None => false,
    }
}

/// The entries of a list file's text: one a line, blank lines and `#` comments skipped.
pub fn parse_list(text: &str) -> Vec<RepoEntry> {
    text.lines()
        .map(|l| match l.find(" #") {
            Some(i) => &l[..i],
            None => l,
        })
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(RepoEntry::parse)
        .collect()
}

/// Reads the list file at `path`.
pub fn read_list(path: &Path) -> Result<Vec<RepoEntry>, AuditError> {
    let text = std::fs::read(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(text).map_err(|_| AuditError::List {
        path: path.to_path_buf(),
        why: "not UTF-8 text".into(),
    })?;
    Ok(parse_list(&text))
}

/// The repositories found under a directory, and the directories that could not be read.
pub type Discovered = (Vec<RepoEntry>, Vec<(PathBuf, std::io::Error)>);

/// Every repository under `dir` (itself included), sorted by path: a directory holding `.git`
/// (a directory or a file) is a work tree, one holding `HEAD`, `objects/` and `refs/` is a
/// bare repository. `.git` directories and bare repositories are not descended into; work
/// trees are (they may hold other repositories). Symbolic links are not followed. Directories
/// that cannot be read are returned as errors beside the repositories.
pub fn discover(dir: &Path) -> Result<Discovered, AuditError> {
    let top = std::fs::read_dir(dir).map_err(|source| AuditError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    drop(top);
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if is_bare(&d) {
            found.push(RepoEntry::local(&d));
            continue;
        }
        // `.git` itself, not through a symbolic link: a tree under DIR (a scanned repository's
        // own files) cannot point the audit at a repository elsewhere.
        if std::fs::symlink_metadata(d.join(".git")).is_ok_and(|m| !m.file_type().is_symlink()) {
            found.push(RepoEntry::local(&d));
        }
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                errors.push((d.clone(), e));
                continue;
            }
        };
        for e in entries {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    errors.push((d.clone(), err));
                    continue;
                }
            };
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir && e.file_name() != ".git" {
                stack.push(e.path());
            }
        }
    }
    found.sort();
    Ok((found, errors))
}

fn is_bare(d: &Path) -> bool {
    let is = |name: &str, dir: bool| {
        std::fs::symlink_metadata(d.join(name)).is_ok_and(|m| {
            if dir {
                m.is_dir()
            } else {
                m.is_file()
            }
        })
    };
    is("HEAD", false) && is("objects", true) && is("refs", true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn list_files_take_paths_urls_and_comments() {
        let list = parse_list(
            "# the team's repositories\n\n/srv/a.git\n  relative/b/  \nhttps://example.com/o/c.git # mirror\ngit@example.com:o/d.git\n",
        );
        let names: Vec<(&str, bool)> = list
            .iter()
            .map(|e| (e.name.as_str(), e.url.is_some()))
            .collect();
        assert_eq!(
            names,
            [
                ("/srv/a.git", false),
                ("relative/b", false),
                ("https://example.com/o/c.git", true),
                ("git@example.com:o/d.git", true)
            ]
        );
        assert!(!is_url("C/dir:with:colons"));
        assert!(is_url("file:///tmp/x"));
    }

    #[test]
    fn discover_finds_work_trees_and_bare_repositories_without_entering_git_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git2::Repository::init(d.join("one")).unwrap();
        git2::Repository::init(d.join("one/nested")).unwrap();
        git2::Repository::init_bare(d.join("srv/two.git")).unwrap();
        std::fs::create_dir_all(d.join("plain/dir")).unwrap();
        #[cfg(unix)]
        {
            // A planted `.git` link to a repository elsewhere is not followed.
            std::fs::create_dir_all(d.join("planted")).unwrap();
            std::os::unix::fs::symlink(d.join("one/.git"), d.join("planted/.git")).unwrap();
        }
        let (found, errors) = discover(d).unwrap();
        assert!(errors.is_empty());
        let rel: Vec<PathBuf> = found
            .iter()
            .map(|e| e.path.strip_prefix(d).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            rel,
            [
                PathBuf::from("one"),
                PathBuf::from("one/nested"),
                PathBuf::from("srv/two.git")
            ]
        );
        assert!(discover(&d.join("missing")).is_err());
    }
}
