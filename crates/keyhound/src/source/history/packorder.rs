//! The order to read blobs in: by pack file, then by offset inside it, as git's pack index
//! (`.idx`, version 2) records them. libgit2 keeps a small delta-base cache per pack; reading in
//! offset order makes it hit, reading in hash order rebuilds delta chains over and over.
//!
//! This module only computes an order. Objects it cannot place (loose objects, packs whose
//! index it cannot parse, objects in no pack at all) come last in hash order, and every object
//! is still read through libgit2, so a wrong or missing index costs speed, never findings.
//! A multi-pack index needs no special case: git keeps each pack's own `.idx` beside it.

use std::path::{Path, PathBuf};

use super::oid::{OidKey, OidMap};

/// Pack index files of a repository: those in its object directory and in its alternates
/// (followed recursively, as git does, up to a small depth).
pub(super) fn index_files(objects: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    collect_object_dirs(objects, 0, &mut dirs);
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        let mut idx: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        idx.sort();
        out.extend(idx);
    }
    out
}

fn collect_object_dirs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if depth > 5 || out.contains(&canonical) {
        return;
    }
    out.push(canonical);
    let Ok(text) = std::fs::read_to_string(dir.join("info/alternates")) else {
        return;
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Relative alternates are relative to the object directory that names them.
        collect_object_dirs(&dir.join(line), depth + 1, out);
    }
}

/// Why a pack index could not be used.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct BadIndex(pub &'static str);

/// Calls `f(oid, offset)` for every object of a version-2 pack index.
pub(super) fn for_each_entry(
    data: &[u8],
    mut f: impl FnMut(&[u8; 20], u64),
) -> Result<(), BadIndex> {
    const HEADER: usize = 8;
    const FANOUT: usize = 256 * 4;
    if data.len() < HEADER + FANOUT || data[..4] != *b"\xfftOc" || be32(data, 4) != Some(2) {
        return Err(BadIndex("not a version 2 pack index"));
    }
    let n = be32(data, HEADER + 255 * 4).ok_or(BadIndex("truncated"))? as usize;
    let names = HEADER + FANOUT;
    let offsets = names + n * 24; // names (20 each), then CRC32s (4 each)
    let large = offsets + n * 4;
    if data.len() < large {
        return Err(BadIndex("truncated"));
    }
    for i in 0..n {
        let oid: &[u8; 20] = data[names + i * 20..names + i * 20 + 20]
            .try_into()
            .map_err(|_| BadIndex("truncated"))?;
        let small = be32(data, offsets + i * 4).ok_or(BadIndex("truncated"))?;
        let offset = if small & 0x8000_0000 == 0 {
            u64::from(small)
        } else {
            let at = large + (small & 0x7fff_ffff) as usize * 8;
            let bytes = data.get(at..at + 8).ok_or(BadIndex("truncated"))?;
            u64::from_be_bytes(bytes.try_into().map_err(|_| BadIndex("truncated"))?)
        };
        f(oid, offset);
    }
    Ok(())
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// What ordering found.
#[derive(Debug, Default)]
pub(super) struct Ordered {
    /// Indices into the blob table, in reading order.
    pub order: Vec<u32>,
    /// How many of them were placed by a pack index (the rest are loose or unplaced).
    pub in_packs: usize,
    /// Pack indexes read.
    pub packs: usize,
    /// Pack indexes that could not be used, with why.
    pub bad: Vec<String>,
}

/// Orders `blobs` (keys into `index`) for reading: by pack, then offset; then the rest in hash
/// order.
pub(super) fn order(objects: &Path, ids: &[OidKey], index: &OidMap<u32>) -> Ordered {
    let mut placed: Vec<(u32, u64, u32)> = Vec::with_capacity(ids.len());
    let mut seen = vec![false; ids.len()];
    let mut out = Ordered::default();
    for (pack, path) in index_files(objects).iter().enumerate() {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                out.bad.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        out.packs += 1;
        let r = for_each_entry(&data, |oid, offset| {
            if let Some(&slot) = index.get(&OidKey(*oid)) {
                if !std::mem::replace(&mut seen[slot as usize], true) {
                    placed.push((pack as u32, offset, slot));
                }
            }
        });
        if let Err(BadIndex(why)) = r {
            out.bad.push(format!("{}: {why}", path.display()));
        }
    }
    placed.sort_unstable();
    out.in_packs = placed.len();
    out.order = placed.iter().map(|p| p.2).collect();
    let mut rest: Vec<u32> = (0..ids.len() as u32)
        .filter(|&s| !seen[s as usize])
        .collect();
    rest.sort_unstable_by_key(|&s| ids[s as usize]);
    out.order.extend(rest);
    out
}

/// Plain hash order, for comparison and as the fallback.
pub(super) fn hash_order(ids: &[OidKey]) -> Ordered {
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by_key(|&s| ids[s as usize]);
    Ordered {
        order,
        ..Ordered::default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Builds a v2 index with the given (oid, offset) entries (sorted by oid, as git writes).
    fn index(entries: &[([u8; 20], u64)]) -> Vec<u8> {
        let mut d = b"\xfftOc".to_vec();
        d.extend(2u32.to_be_bytes());
        for b in 0..256usize {
            let count = entries.iter().filter(|(o, _)| (o[0] as usize) <= b).count() as u32;
            d.extend(count.to_be_bytes());
        }
        for (o, _) in entries {
            d.extend(o);
        }
        for _ in entries {
            d.extend(0u32.to_be_bytes());
        }
        let mut large = Vec::new();
        for (_, off) in entries {
            if *off >= 0x8000_0000 {
                d.extend((0x8000_0000u32 | (large.len() as u32)).to_be_bytes());
                large.push(*off);
            } else {
                d.extend((*off as u32).to_be_bytes());
            }
        }
        for off in large {
            d.extend(off.to_be_bytes());
        }
        d.extend([0u8; 40]);
        d
    }

    #[test]
    fn reads_small_and_large_offsets() {
        let a = [1u8; 20];
        let b = [2u8; 20];
        let data = index(&[(a, 12), (b, 5 << 32)]);
        let mut got = Vec::new();
        for_each_entry(&data, |o, off| got.push((*o, off))).unwrap();
        assert_eq!(got, vec![(a, 12), (b, 5 << 32)]);
    }

    #[test]
    fn rejects_other_formats_and_truncation() {
        assert_eq!(
            for_each_entry(b"PACK", |_, _| {}),
            Err(BadIndex("not a version 2 pack index"))
        );
        let data = index(&[([1u8; 20], 12), ([2u8; 20], 40)]);
        assert!(for_each_entry(&data[..1032 + 30], |_, _| {}).is_err());
    }
}
