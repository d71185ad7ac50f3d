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
