//! A blob to scan and where it came from. Every source hands the scanner a [`Blob`]: its bytes
//! and its [`Origin`], a typed account of where they sit (a file, stdin, a git blob seen at a
//! path of a commit of a repository, a staged index entry, or something nested in another blob:
//! an archive member, a notebook cell or output, a decoded layer). A finding's whole
//! [`Location`](crate::Location) is built from the origin, once (`finding::from_matches`).
//!
//! The strings reports print (`release.zip!config/.env`, `nb.ipynb#cell-3/output-1`,
//! `base64 > percent`) are renderings of the origin ([`Origin`]'s `Display`,
//! [`Origin::decoded_chain`]), never parsed back. Origins borrow: a nested origin points at its
//! parent on the stack of the scan, and a git origin borrows the repository, path and commit of
//! the walk, so that making one per blob allocates nothing.

use std::cell::OnceCell;
use std::fmt;
use std::path::Path;

use crate::decode::OffsetMap;
use crate::finding::LineIndex;

/// One piece of content to scan, with where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Blob<'a> {
    /// The content.
    pub bytes: &'a [u8],
    /// Where it came from.
    pub origin: Origin<'a>,
}

impl<'a> Blob<'a> {
    /// `bytes` from `origin`.
    pub fn new(bytes: &'a [u8], origin: Origin<'a>) -> Blob<'a> {
        Blob { bytes, origin }
    }

    /// Its git blob id, for a git blob or a staged index entry (not for what is nested in one).
    pub fn id(&self) -> Option<git2::Oid> {
        match self.origin {
            Origin::Git { blob, .. } | Origin::Index { blob, .. } => Some(blob),
            _ => None,
        }
    }
}

/// A repository a git origin belongs to, so that one report can hold many.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    git_dir: std::path::PathBuf,
}

impl RepoId {
    /// The repository whose git directory is `git_dir`.
    pub fn new(git_dir: impl Into<std::path::PathBuf>) -> RepoId {
        RepoId {
            git_dir: git_dir.into(),
        }
    }

    /// Its git directory.
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }
}

/// Where a blob came from. Nested origins point at the origin of the blob they sit in.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A file on disk, by the path it is shown under (relative as given, `/`-separated).
    File {
        /// The path.
        path: &'a str,
    },
    /// Standard input, shown as `-`.
    Stdin,
    /// A commit or tag message, by the name reports show (`message of commit 0123abcd…`).
    Message {
        /// The name.
        name: &'a str,
    },
    /// A git blob as seen at `path` in `commit` of `repo`.
    Git {
        /// The repository.
        repo: &'a RepoId,
        /// The commit it was first seen in, when known.
        commit: Option<git2::Oid>,
        /// Its path in that commit's tree (lossy UTF-8).
        path: &'a str,
        /// The blob id.
        blob: git2::Oid,
    },
    /// A staged index entry.
    Index {
        /// Its path (lossy UTF-8).
        path: &'a str,
        /// Its git mode: `0o100644`, `0o100755` (executable) or `0o120000` (a symbolic link,
        /// whose blob is the link's target).
        mode: u32,
        /// The staged blob.
        blob: git2::Oid,
    },
    /// A member of an archive: shown `parent!name`.
    Member {
        /// The archive.
        parent: &'a Origin<'a>,
        /// The member's name in it.
        name: &'a str,
    },
    /// The source of a notebook cell, or one of its outputs: shown `parent#cell-N` or
    /// `parent#cell-N/output-M`.
    Cell {
        /// The notebook.
        parent: &'a Origin<'a>,
        /// The cell, 1-based in file order.
        cell: usize,
        /// The output of the cell, 1-based, if this is one.
        output: Option<usize>,
    },
    /// Bytes decoded from encoded text in the parent: shown as the parent, since a finding's
    /// location is that of the encoded text.
    Decoded {
        /// What was decoded.
        parent: &'a Origin<'a>,
        /// The layer of decoding.
        layer: &'a Layer<'a>,
    },
}

/// One layer of decoding: the encoding, and how offsets in the decoded bytes map to offsets
/// in the parent's.
#[derive(Debug)]
pub struct Layer<'a> {
    how: &'static str,
    /// Offsets in the decoded bytes to offsets in the parent's, applied in order.
    maps: &'a [OffsetMap],
    /// The blob (not itself decoded) that the outermost layer was decoded from.
    host: &'a (dyn Hosted + 'a),
}

impl fmt::Debug for dyn Hosted + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Host({} bytes)", self.content().len())
    }
}

/// What a decoded layer's locations are reported in: a trait so that [`Origin`] stays
/// covariant in its lifetime (a [`Host`] holds a cell).
pub(crate) trait Hosted {
    /// The bytes.
    fn content(&self) -> &[u8];
    /// Their line index.
    fn index(&self) -> &LineIndex<'_>;
}

impl<'a> Layer<'a> {
    pub(crate) fn new(
        how: &'static str,
        maps: &'a [OffsetMap],
        host: &'a (dyn Hosted + 'a),
    ) -> Self {
        Layer { how, maps, host }
    }

    /// The encoding: `base64`, `hex`, `percent`, `escape`.
    pub fn how(&self) -> &'static str {
        self.how
    }
}

/// The content that decoded locations are reported in (a top-level blob, an archive member or
/// a notebook cell), with its line index built on first use.
#[derive(Debug)]
pub(crate) struct Host<'a> {
    content: &'a [u8],
    index: OnceCell<LineIndex<'a>>,
}

impl<'a> Host<'a> {
    pub(crate) fn new(content: &'a [u8]) -> Self {
        Host {
            content,
            index: OnceCell::new(),
        }
    }
}

impl Hosted for Host<'_> {
    fn content(&self) -> &[u8] {
        self.content
    }

    fn index(&self) -> &LineIndex<'_> {
        self.index.get_or_init(|| LineIndex::new(self.content))
    }
}

impl<'a> Origin<'a> {
    /// The name reports show for it (see `Display`), borrowed for a top-level origin.
    pub fn shown(&self) -> std::borrow::Cow<'a, str> {
        match *self {
            Origin::File { path } | Origin::Git { path, .. } | Origin::Index { path, .. } => {
                path.into()
            }
            Origin::Message { name } => name.into(),
            Origin::Stdin => "-".into(),
            _ => self.to_string().into(),
        }
    }

    /// The origin this one is nested in, if any.
    pub fn parent(&self) -> Option<&'a Origin<'a>> {
        match *self {
            Origin::Member { parent, .. }
            | Origin::Cell { parent, .. }
            | Origin::Decoded { parent, .. } => Some(parent),
            _ => None,
        }
    }

    /// The top-level origin (a file, stdin, a message, a git blob or an index entry).
    pub fn root(&self) -> &Origin<'a> {
        let mut at = self;
        while let Some(p) = at.parent() {
            at = p;
        }
        at
    }

    /// The git blob id of the top-level blob, for git sources.
    pub fn git_blob(&self) -> Option<git2::Oid> {
        match *self.root() {
            Origin::Git { blob, .. } | Origin::Index { blob, .. } => Some(blob),
            _ => None,
        }
    }

    /// The nearest origin that is not a decoded layer.
    pub fn undecoded(&self) -> &Origin<'a> {
        let mut at = self;
        while let Origin::Decoded { parent, .. } = at {
            at = parent;
        }
        at
    }

    /// How the bytes were decoded, outermost first (`base64 > percent`); `None` when they
    /// were not.
    pub fn decoded_chain(&self) -> Option<String> {
        let Origin::Decoded { parent, layer } = self else {
            return None;
        };
        Some(match parent.decoded_chain() {
            Some(outer) => format!("{outer} > {}", layer.how),
            None => layer.how.to_string(),
        })
    }

    /// The host a decoded origin's locations are reported in.
    pub(crate) fn host(&self) -> Option<&'a (dyn Hosted + 'a)> {
        match self {
            Origin::Decoded { layer, .. } => Some(layer.host),
            _ => None,
        }
    }

    /// An offset in decoded bytes as an offset in the host (unchanged when not decoded).
    pub(crate) fn host_start(&self, mut at: usize) -> usize {
        let mut o = self;
        while let Origin::Decoded { parent, layer } = o {
            for m in layer.maps {
                at = m.start(at);
            }
            o = parent;
        }
        at
    }

    /// An end offset in decoded bytes as an end offset in the host.
    pub(crate) fn host_end(&self, mut at: usize) -> usize {
        let mut o = self;
        while let Origin::Decoded { parent, layer } = o {
            for m in layer.maps {
                at = m.end(at);
            }
            o = parent;
        }
        at
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path } | Origin::Git { path, .. } | Origin::Index { path, .. } => {
                f.write_str(path)
            }
            Origin::Stdin => f.write_str("-"),
            Origin::Message { name } => f.write_str(name),
            Origin::Member { parent, name } => write!(f, "{parent}!{name}"),
            Origin::Cell {
                parent,
                cell,
                output,
            } => {
                write!(f, "{parent}#cell-{cell}")?;
                match output {
                    Some(o) => write!(f, "/output-{o}"),
                    None => Ok(()),
                }
            }
            Origin::Decoded { parent, .. } => write!(f, "{parent}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renderings() {
        let file = Origin::File { path: "dist/a.tar" };
        let zip = Origin::Member {
            parent: &file,
            name: "release.zip",
        };
        let member = Origin::Member {
            parent: &zip,
            name: "nb.ipynb",
        };
        let cell = Origin::Cell {
            parent: &member,
            cell: 3,
            output: Some(1),
        };
        assert_eq!(
            cell.to_string(),
            "dist/a.tar!release.zip!nb.ipynb#cell-3/output-1"
        );
        assert_eq!(cell.root().to_string(), "dist/a.tar");
        let host = Host::new(b"");
        let b64 = Layer::new("base64", &[], &host);
        let pct = Layer::new("percent", &[], &host);
        let once = Origin::Decoded {
            parent: &cell,
            layer: &b64,
        };
        let twice = Origin::Decoded {
            parent: &once,
            layer: &pct,
        };
        assert_eq!(twice.decoded_chain().as_deref(), Some("base64 > percent"));
        assert_eq!(twice.to_string(), cell.to_string());
        assert_eq!(Origin::Stdin.to_string(), "-");
        assert_eq!(twice.git_blob(), None);
    }
}
