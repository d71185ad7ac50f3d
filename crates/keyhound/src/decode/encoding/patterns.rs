//! The base64 patterns of rule keywords: the characters of base64 text that a keyword fully
//! determines at each alignment ([`base64_core`]), and all of them as one sorted table
//! ([`sorted_table`]) for searching a few lines without building an automaton. `build.rs`
//! includes this file to write the built-in rules' table, so it uses only `std`.

/// The standard base64 alphabet.
pub(crate) const STD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// The URL-safe base64 alphabet.
pub(crate) const URL: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Shortest encoded keyword searched for; shorter ones would fire on any long run.
pub(crate) const MIN_PATTERN: usize = 3;

/// The characters of base64 text (both alphabets) fully determined by `bytes` when they sit
/// `align` bytes into a 3-byte group, and how far into its 4-character group the first one is.
/// Character `c` of the stream (`align` unknown bytes, then `bytes`) holds bits `6c..6c + 6`;
/// the ones made only of known bits run from the first whole slot after the unknown prefix to
/// the last slot that ends inside `bytes`.
pub(crate) fn base64_core(bytes: &[u8], align: usize, alphabet: &[u8; 64]) -> (Vec<u8>, usize) {
    let total = align + bytes.len();
    let first = (align * 8).div_ceil(6);
    let last = (total * 8) / 6;
    if first >= last {
        return (Vec::new(), first % 4);
    }
    let byte = |i: usize| {
        i.checked_sub(align)
            .and_then(|j| bytes.get(j))
            .map_or(0u16, |&b| u16::from(b))
    };
    let chars = (first..last)
        .map(|c| {
            let (i, off) = (6 * c / 8, 6 * c % 8);
            let pair = (byte(i) << 8) | byte(i + 1);
            alphabet[usize::from((pair >> (10 - off)) & 63)]
        })
        .collect();
    (chars, first % 4)
}

/// The base64 patterns of a set of keywords, sorted, each once: pattern `i` is
/// `bytes[ends[i - 1]..ends[i]]` (from 0 for the first), and bit `s` of `skips[i]` says it
/// occurs starting `s` characters into a 4-character group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ends: Vec<u32>,
    pub(crate) skips: Vec<u8>,
}

/// The patterns of `keywords` in both alphabets at the three byte alignments, of at least
/// [`MIN_PATTERN`] characters. It depends on the set of keywords only, not their order.
pub(crate) fn sorted_table<'k>(keywords: impl IntoIterator<Item = &'k [u8]>) -> Table {
    let mut all: Vec<(Vec<u8>, usize)> = Vec::new();
    for kw in keywords {
        for align in 0..3 {
            for alphabet in [STD, URL] {
                let (core, skip) = base64_core(kw, align, alphabet);
                if core.len() >= MIN_PATTERN {
                    all.push((core, skip));
                }
            }
        }
    }
    all.sort_unstable();
    let mut table = Table::default();
    let mut last: Option<&[u8]> = None;
    for (pattern, skip) in &all {
        if last != Some(pattern.as_slice()) {
            table.bytes.extend_from_slice(pattern);
            table.ends.push(table.bytes.len() as u32);
            table.skips.push(0);
            last = Some(pattern);
        }
        if let Some(s) = table.skips.last_mut() {
            *s |= 1 << skip;
        }
    }
    table
}
