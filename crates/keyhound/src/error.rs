//! Error types of the library: one enum, each variant naming what went wrong and where
//! (file, rule id, field, path). The CLI adds exit codes and context on top.

use std::path::PathBuf;

/// An error from loading rules, reading input or writing a report.
///
/// Each message is whole: it names the file, rule, object or path and says what the
/// underlying error said, once (the underlying error is not also given as a `source()`, so
/// printing the chain does not repeat it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file or config file is not valid TOML or does not fit the schema.
    #[error("{file}: {message}")]
    RuleFileSyntax {
        /// The file (or `builtin:NAME` for an embedded one).
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A rule is well-formed TOML but one of its fields is invalid.
    #[error("{file}: rule `{rule}`: field `{field}`: {message}")]
    InvalidRule {
        /// The file the rule came from.
        file: String,
        /// The rule id.
        rule: String,
        /// The offending field, e.g. `regex` or `allowlist.paths`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A path pattern (a glob) is not valid.
    #[error("path pattern `{pattern}`: {message}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// Reading a file or directory failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path that could not be read.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A git operation failed.
    #[error("{context}: {}", error.message())]
    Git {
        /// What keyhound was doing (names the repository, commit or object).
        context: String,
        /// The underlying libgit2 error (its message is in this error's).
        error: git2::Error,
    },
    /// A revision or range the caller chose cannot be used (not found, or not `A..B`).
    #[error("{revision}: {}", error.message())]
    BadRevision {
        /// Which one, as given.
        revision: Revision,
        /// The underlying libgit2 error (its message is in this error's).
        error: git2::Error,
    },
    /// Writing a report failed.
    #[error("writing report: {0}")]
    Report(std::io::Error),
    /// The worker threads could not be started.
    #[error("starting worker threads: {message}")]
    Threads {
        /// What the thread pool said.
        message: String,
    },
    /// A baseline or ignore file is malformed.
    #[error("{}: {message}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// A revision the caller chose, as it was given. How the caller spelled the choice (an
/// option's name) is its own business.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revision {
    /// A ref or revision the history walk starts from.
    Branch(String),
    /// A range of commits, `A..B`.
    Range(String),
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revision::Branch(name) => write!(f, "start revision {name}"),
            Revision::Range(range) => write!(f, "range {range}"),
        }
    }
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }

    pub(crate) fn git(context: impl Into<String>, source: git2::Error) -> Self {
        Error::Git {
            context: context.into(),
            error: source,
        }
    }
}

/// A problem with one item of a scan (a file, a git object, a ref, a commit), recorded in
/// [`Stats::errors`](crate::Stats::errors) while the scan goes on. Only an unusable source or
/// selection stops a scan, as an [`Error`].
///
/// It shows as one line, `ITEM: WHAT WENT WRONG`, and lists of them sort by that line.
#[derive(Debug, Clone)]
pub struct ItemError {
    kind: ItemKind,
    item: String,
    message: String,
}

/// What kind of item failed; private, so that kinds can be added (as aho-corasick's errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ItemKind {
    /// A directory entry the walk could not read (the walker's message names it).
    Walk,
    /// A file that could not be read.
    File,
    /// A repository (of a worktree or a submodule) that could not be opened.
    Repository,
    /// A repository whose object database could not be opened.
    Objects,
    /// The list of refs could not be read.
    Refs,
    /// A ref, commit, tree or blob that is missing or corrupt.
    Object,
    /// A path the index holds in an unresolved merge conflict.
    Conflict,
    /// Recorded by a caller.
    Other,
}

impl ItemError {
    /// A directory entry the walk could not read; `message` names it.
    pub(crate) fn walk(message: impl Into<String>) -> ItemError {
        ItemError::of(ItemKind::Walk, "", message)
    }

    /// A file (as shown) that could not be read.
    pub(crate) fn file(path: impl Into<String>, error: impl std::fmt::Display) -> ItemError {
        ItemError::of(ItemKind::File, path, error.to_string())
    }

    /// A repository at `git_dir` that could not be opened.
    pub(crate) fn repository(git_dir: &std::path::Path, error: &git2::Error) -> ItemError {
        ItemError::of(
            ItemKind::Repository,
            git_dir.display().to_string(),
            error.message(),
        )
    }

    /// A repository at `git_dir` whose objects could not be opened.
    pub(crate) fn objects(git_dir: &std::path::Path, error: &git2::Error) -> ItemError {
        ItemError::of(
            ItemKind::Objects,
            git_dir.display().to_string(),
            error.message(),
        )
    }

    /// The refs could not be listed.
    pub(crate) fn refs(error: &git2::Error) -> ItemError {
        ItemError::of(ItemKind::Refs, "", error.message())
    }

    /// A git object (`commit ID`, `ref NAME`, `blob ID (PATH)`…) that is missing or corrupt.
    pub(crate) fn object(item: impl Into<String>, error: &git2::Error) -> ItemError {
        ItemError::of(ItemKind::Object, item, error.message())
    }

    /// A problem a caller records about an item of its own (`item` as it shows it).
    pub fn new(item: impl Into<String>, message: impl Into<String>) -> ItemError {
        ItemError::of(ItemKind::Other, item, message)
    }

    /// A path in an unresolved merge conflict.
    pub(crate) fn conflict(path: impl Into<String>) -> ItemError {
        ItemError::of(
            ItemKind::Conflict,
            path,
            "unresolved merge conflict; resolve it and `git add` the file",
        )
    }

    fn of(kind: ItemKind, item: impl Into<String>, message: impl Into<String>) -> ItemError {
        ItemError {
            kind,
            item: item.into(),
            message: message.into(),
        }
    }

    /// The item, as shown: a path, `commit ID`, `ref NAME`, `blob ID (PATH)`, a repository's
    /// git directory; empty when the message names it.
    pub fn item(&self) -> &str {
        &self.item
    }

    /// What went wrong, in the words of the layer that failed (libgit2, the file system).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a git object (a ref, commit, tree or blob) is missing or corrupt.
    pub fn is_git_object(&self) -> bool {
        self.kind == ItemKind::Object
    }
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ItemKind::Repository => write!(f, "opening {}: {}", self.item, self.message),
            ItemKind::Objects => {
                write!(f, "opening the objects of {}: {}", self.item, self.message)
            }
            ItemKind::Refs => write!(f, "listing refs: {}", self.message),
            _ if self.item.is_empty() => f.write_str(&self.message),
            _ => write!(f, "{}: {}", self.item, self.message),
        }
    }
}

impl Ord for ItemError {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl PartialEq for ItemError {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for ItemError {}

impl PartialOrd for ItemError {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for ItemError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_errors_show_as_one_line_and_sort_by_it() {
        let git = git2::Error::from_str("object not found");
        let mut errors = [
            ItemError::object("tree 1234 (at /)", &git),
            ItemError::refs(&git),
            ItemError::repository(std::path::Path::new("/r/.git"), &git),
            ItemError::objects(std::path::Path::new("/r/.git"), &git),
            ItemError::walk("a b: permission denied"),
            ItemError::file("a", "permission denied"),
            ItemError::conflict("src/x.rs"),
            ItemError::new("walking A..B", "stopped"),
        ];
        errors.sort();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "a b: permission denied",
                "a: permission denied",
                "listing refs: object not found",
                "opening /r/.git: object not found",
                "opening the objects of /r/.git: object not found",
                "src/x.rs: unresolved merge conflict; resolve it and `git add` the file",
                "tree 1234 (at /): object not found",
                "walking A..B: stopped",
            ]
        );
        assert!(errors[6].is_git_object() && !errors[1].is_git_object());
        assert_eq!(
            (errors[1].item(), errors[1].message()),
            ("a", "permission denied")
        );
        assert_eq!(
            serde_json::to_string(&errors[2]).expect("serializes"),
            "\"listing refs: object not found\""
        );
    }
}
