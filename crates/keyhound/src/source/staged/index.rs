//! Git's index file read directly: its entries and its cached-tree extension (`TREE`), which
//! records, for each directory whose entries have not changed since the last `git write-tree`
//! or commit, the id of the tree those entries make. A directory whose cached tree equals the
//! same directory in HEAD holds no staged change, so the comparison never opens it; that is
//! the whole reason to read the file here rather than through libgit2, which neither exposes
//! the extension nor skips verifying the file's checksum (git does not verify it on read).
//!
//! Versions 2, 3 and 4 (path-compressed) are read. A split index (`link`), a sparse index
//! (`sdir`), another mandatory extension or a damaged file is [`ReadError::Unsupported`]: the
//! caller falls back to a reader that understands it.

use std::ops::Range;
use std::path::Path;

use git2::Oid;

/// One entry: a path at a merge stage.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Path from the repository root, `/`-separated.
    pub path: Vec<u8>,
    /// Git mode (`0o100644`, `0o100755`, `0o120000`, `0o160000`).
    pub mode: u32,
    /// Blob (or commit, for a submodule) id.
    pub oid: Oid,
    /// 0, or 1–3 for the sides of an unresolved conflict.
    pub stage: u8,
    /// Added with `git add -N`: known to git but not part of the next commit.
    pub intent_to_add: bool,
}

/// The parts of an index the staged comparison needs.
#[derive(Debug, Default)]
pub(super) struct IndexFile {
    /// Entries sorted by path, then stage.
    pub entries: Vec<Entry>,
    /// Valid cached trees by directory path (see [`CachedTrees::get`]).
    pub trees: CachedTrees,
    /// Whether the file had a cached-tree extension at all.
    pub has_cache_tree: bool,
}

/// Why the file was not read.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The file could not be read.
    Io(std::io::Error),
    /// A format or extension this reader does not handle, or a damaged file.
    Unsupported(Unsupported),
}

/// What this reader does not handle. A split or sparse index is one that git reads and libgit2
/// does not, so the caller's fallback depends on which it is.
#[derive(Debug)]
pub(super) enum Unsupported {
    /// A split index (`link` extension, `core.splitIndex`).
    SplitIndex,
    /// A sparse index (`sdir` extension, `index.sparse`).
    SparseIndex,
    /// A directory entry: what a sparse index holds for a directory outside the cone.
    DirectoryEntry,
    /// Anything else: another version or mandatory extension, or a damaged file.
    Other(String),
}

impl Unsupported {
    /// Whether git can read what this reader cannot, while libgit2 cannot either.
    pub(super) fn only_git_reads_it(&self) -> bool {
        matches!(
            self,
            Unsupported::SplitIndex | Unsupported::SparseIndex | Unsupported::DirectoryEntry
        )
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsupported::SplitIndex => f.write_str("a split index (core.splitIndex)"),
            Unsupported::SparseIndex => f.write_str("a sparse index (index.sparse)"),
            Unsupported::DirectoryEntry => f.write_str("a directory entry (sparse index)"),
            Unsupported::Other(why) => f.write_str(why),
        }
    }
}

impl From<String> for Unsupported {
    fn from(why: String) -> Self {
        Unsupported::Other(why)
    }
}

impl From<&str> for Unsupported {
    fn from(why: &str) -> Self {
        Unsupported::Other(why.to_string())
    }
}

const HASH_LEN: usize = 20;

/// Reads and parses the index file at `path`.
pub(super) fn read(path: &Path) -> Result<IndexFile, ReadError> {
    let data = std::fs::read(path).map_err(ReadError::Io)?;
    parse(&data).map_err(ReadError::Unsupported)
}

fn be16(d: &[u8], at: usize) -> Result<u16, String> {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| "truncated".to_string())
}

fn be32(d: &[u8], at: usize) -> Result<u32, String> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| "truncated".to_string())
}

fn oid_at(d: &[u8], at: usize) -> Result<Oid, String> {
    d.get(at..at + HASH_LEN)
        .and_then(|b| Oid::from_bytes(b).ok())
        .ok_or_else(|| "truncated".to_string())
}

/// Git's offset varint (index v4 path prefixes): big-endian groups of 7 bits, each
/// continuation adding one so that every value has exactly one encoding.
fn varint(d: &[u8], at: &mut usize) -> Result<usize, String> {
    let mut next = || {
        let c = *d.get(*at).ok_or("truncated")?;
        *at += 1;
        Ok::<u8, String>(c)
    };
    let mut c = next()?;
    let mut val = usize::from(c & 127);
    while c & 128 != 0 {
        c = next()?;
        val = val
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .ok_or("path prefix length overflows")?
            + usize::from(c & 127);
    }
    Ok(val)
}

fn parse(d: &[u8]) -> Result<IndexFile, Unsupported> {
    if d.len() < 12 + HASH_LEN || &d[..4] != b"DIRC" {
        return Err("not an index file".into());
    }
    let version = be32(d, 4)?;
    if !(2..=4).contains(&version) {
        return Err(format!("index version {version}").into());
    }
    let count = be32(d, 8)? as usize;
    let end = d.len() - HASH_LEN;
    let mut out = IndexFile {
        entries: Vec::with_capacity(count.min(end / 62)),
        ..IndexFile::default()
    };
    let mut pos = 12;
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..count {
        let mode = be32(d, pos + 24)?;
        let oid = oid_at(d, pos + 40)?;
        let flags = be16(d, pos + 60)?;
        let mut p = pos + 62;
        let mut intent_to_add = false;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return Err("extended flags in a version 2 index".into());
            }
            intent_to_add = be16(d, p)? & 0x2000 != 0;
            p += 2;
        }
        let path = if version == 4 {
            let strip = varint(d, &mut p)?;
            let len = memchr::memchr(0, d.get(p..end).ok_or("truncated")?).ok_or("truncated")?;
            let keep = prev
                .len()
                .checked_sub(strip)
                .ok_or("bad path prefix length")?;
            let mut path = Vec::with_capacity(keep + len);
            path.extend_from_slice(&prev[..keep]);
            path.extend_from_slice(&d[p..p + len]);
            p += len + 1;
            prev.clone_from(&path);
            path
        } else {
            let len = memchr::memchr(0, d.get(p..end).ok_or("truncated")?).ok_or("truncated")?;
            let path = d[p..p + len].to_vec();
            // Entries are NUL-padded to a multiple of 8 bytes, with at least one NUL.
            p = pos + ((p + len - pos + 8) & !7);
            path
        };
        if p > end {
            return Err("truncated".into());
        }
        if mode & 0o170000 == 0o040000 {
            return Err(Unsupported::DirectoryEntry);
        }
        out.entries.push(Entry {
            path,
            mode,
            oid,
            stage: ((flags >> 12) & 3) as u8,
            intent_to_add,
        });
        pos = p;
    }
    while pos + 8 <= end {
        let sig = &d[pos..pos + 4];
        let size = be32(d, pos + 4)? as usize;
        let body = d
            .get(pos + 8..pos + 8 + size)
            .filter(|_| pos + 8 + size <= end)
            .ok_or("truncated extension")?;
        match sig {
            b"TREE" => {
                out.has_cache_tree = true;
                out.trees = cache_tree(body)?;
            }
            b"link" => return Err(Unsupported::SplitIndex),
            b"sdir" => return Err(Unsupported::SparseIndex),
            // Optional extensions start with a capital letter; a reader may ignore them.
            [b'A'..=b'Z', ..] => {}
            _ => {
                return Err(
                    format!("mandatory extension `{}`", String::from_utf8_lossy(sig)).into(),
                )
            }
        }
        pos += 8 + size;
    }
    Ok(out)
}

/// The cached-tree extension as read: its directories in pre-order, each with the index of
/// the node after its subtree, so that a lookup walks down one path and skips whole
/// subtrees. (A map from every directory's path was built on every pre-commit check and cost
/// more than the rest of the comparison, which looks up a handful of directories.)
#[derive(Debug, Default)]
pub(super) struct CachedTrees {
    /// The directories' names, one after another.
    names: Vec<u8>,
    nodes: Vec<TreeNode>,
}

#[derive(Debug)]
struct TreeNode {
    /// Where the name is in [`CachedTrees::names`].
    name: Range<u32>,
    /// The tree's id; `None` for a directory changed since the tree was computed.
    id: Option<Oid>,
    /// The node after this one's subtree.
    next: u32,
}

impl CachedTrees {
    /// The valid cached tree of the directory `path` (`/`-separated, `""` for the root).
    pub(super) fn get(&self, path: &[u8]) -> Option<Oid> {
        let mut at = 0;
        let mut node = self.nodes.first()?;
        if !path.is_empty() {
            for part in path.split(|&b| b == b'/') {
                let end = node.next as usize;
                let mut child = at + 1;
                loop {
                    let c = self.nodes.get(child).filter(|_| child < end)?;
                    if &self.names[c.name.start as usize..c.name.end as usize] == part {
                        break;
                    }
                    child = c.next as usize;
                }
                at = child;
                node = &self.nodes[at];
            }
        }
        node.id
    }

    /// How many directories have a valid cached tree.
    #[cfg(test)]
    fn valid(&self) -> usize {
        self.nodes.iter().filter(|n| n.id.is_some()).count()
    }
}

/// The cached-tree extension: nodes in pre-order, each `name NUL entry_count SP
/// subtree_count LF [id]`, where an entry count of -1 marks a directory changed since the
/// tree was computed (no id follows; its subdirectories may still be valid).
fn cache_tree(d: &[u8]) -> Result<CachedTrees, String> {
    let mut trees = CachedTrees::default();
    let mut pos = 0;
    // (node of the directory, subtrees still to read)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut root_seen = false;
    while pos < d.len() {
        let nul = memchr::memchr(0, &d[pos..]).ok_or("bad cached tree")?;
        let name = &d[pos..pos + nul];
        pos += nul + 1;
        let line_end = memchr::memchr(b'\n', &d[pos..]).ok_or("bad cached tree")?;
        let line = std::str::from_utf8(&d[pos..pos + line_end]).map_err(|_| "bad cached tree")?;
        pos += line_end + 1;
        let (count, subtrees) = line.split_once(' ').ok_or("bad cached tree")?;
        let count: i64 = count.parse().map_err(|_| "bad cached tree")?;
        let subtrees: usize = subtrees.parse().map_err(|_| "bad cached tree")?;
        let here = trees.nodes.len();
        while let Some(&(done, 0)) = stack.last() {
            trees.nodes[done].next = here as u32;
            stack.pop();
        }
        match stack.last_mut() {
            Some((_, left)) => *left -= 1,
            None if !root_seen && name.is_empty() => root_seen = true,
            None => return Err("bad cached tree".into()),
        }
        let id = if count >= 0 {
            let id = oid_at(d, pos)?;
            pos += HASH_LEN;
            Some(id)
        } else {
            None
        };
        let start = trees.names.len() as u32;
        trees.names.extend_from_slice(name);
        trees.nodes.push(TreeNode {
            name: start..trees.names.len() as u32,
            id,
            next: 0,
        });
        stack.push((here, subtrees));
    }
    let end = trees.nodes.len() as u32;
    for (node, _) in stack {
        trees.nodes[node].next = end;
    }
    Ok(trees)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_matches_git() {
        // Values from git's varint.c encoding: 127 is one byte, 128 is 0x80 0x00.
        for (bytes, want) in [
            (&[0x00u8][..], 0usize),
            (&[0x7f], 127),
            (&[0x80, 0x00], 128),
            (&[0x80, 0x7f], 255),
            (&[0x81, 0x00], 256),
        ] {
            let mut at = 0;
            assert_eq!(varint(bytes, &mut at).unwrap(), want, "{bytes:?}");
            assert_eq!(at, bytes.len());
        }
    }

    #[test]
    fn cache_tree_paths_and_invalid_nodes() {
        let oid = [7u8; 20];
        let mut d = Vec::new();
        d.extend_from_slice(b"\0-1 2\n");
        d.extend_from_slice(b"a\x003 1\n");
        d.extend_from_slice(&oid);
        d.extend_from_slice(b"b\x001 0\n");
        d.extend_from_slice(&oid);
        d.extend_from_slice(b"c\0-1 0\n");
        let trees = cache_tree(&d).unwrap();
        assert_eq!(trees.get(b""), None);
        assert_eq!(trees.get(b"a"), Some(Oid::from_bytes(&oid).unwrap()));
        assert_eq!(trees.get(b"a/b"), Some(Oid::from_bytes(&oid).unwrap()));
        assert_eq!(trees.get(b"c"), None);
        assert_eq!(trees.get(b"b"), None);
        assert_eq!(trees.get(b"a/c"), None);
        assert_eq!(trees.valid(), 2);
    }

    /// Lookups walk down past whole subtrees: every directory of a deeper tree is found with
    /// its own id, and names that are another directory's are not.
    #[test]
    fn cache_tree_lookups_skip_subtrees() {
        // (name, subtrees, id byte or none), in pre-order: root{a{b{c}, x}, d{e}, f}
        let nodes: [(&str, usize, Option<u8>); 8] = [
            ("", 3, Some(1)),
            ("a", 2, Some(2)),
            ("b", 1, None),
            ("c", 0, Some(4)),
            ("x", 0, Some(5)),
            ("d", 1, Some(6)),
            ("e", 0, Some(7)),
            ("f", 0, Some(8)),
        ];
        let mut d = Vec::new();
        for (name, subtrees, id) in nodes {
            let count = if id.is_some() { 1 } else { -1 };
            d.extend_from_slice(format!("{name}\0{count} {subtrees}\n").as_bytes());
            if let Some(b) = id {
                d.extend_from_slice(&[b; 20]);
            }
        }
        let trees = cache_tree(&d).unwrap();
        let id = |b: u8| Some(Oid::from_bytes(&[b; 20]).unwrap());
        for (path, want) in [
            ("", id(1)),
            ("a", id(2)),
            ("a/b", None),
            ("a/b/c", id(4)),
            ("a/x", id(5)),
            ("d", id(6)),
            ("d/e", id(7)),
            ("f", id(8)),
            ("c", None),
            ("e", None),
            ("a/e", None),
            ("d/e/c", None),
            ("g", None),
        ] {
            assert_eq!(trees.get(path.as_bytes()), want, "{path:?}");
        }
        assert_eq!(trees.valid(), 7);
        // One subtree too many is a damaged extension, as before.
        let mut extra = d.clone();
        extra.extend_from_slice(b"g\x000 0\n");
        extra.extend_from_slice(&[9; 20]);
        assert!(cache_tree(&extra).is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"nope").is_err());
        let mut d = b"DIRC\0\0\0\x05\0\0\0\0".to_vec();
        d.extend_from_slice(&[0; 20]);
        assert!(parse(&d).unwrap_err().to_string().contains("version 5"));
    }
}
