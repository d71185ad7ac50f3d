//! Escaped lines: where a line holds percent-encoding or JSON/JavaScript string escapes of
//! printable ASCII (found from the `%` and `\` of each block), and the decoders for both that
//! keep a map back to the line.

use std::ops::Range;

use memchr::memchr;

use super::alphabet::{hex_number, hex_value, is_b64};
use super::offsets::{Decoded, OffsetMap, Piece};

/// Collects the lines of [`Found::escaped`] from the `%` and `\` found block by block.
pub(crate) struct EscapeFinder<'c> {
    pub(crate) content: &'c [u8],
    pub(crate) out: Vec<(Range<usize>, bool, bool)>,
    /// How far a region reaches either side of an escape within its line.
    pub(crate) reach: usize,
    /// Whether no escape can extend the last region (its line ended): the next one starts
    /// another.
    pub(crate) closed: bool,
}

impl EscapeFinder<'_> {
    /// The escapes at the set bits of `bits`, of the block at `base`.
    pub(crate) fn block_at(&mut self, base: usize, mut bits: u64) {
        while bits != 0 {
            let at = base + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.at(at);
        }
    }

    fn at(&mut self, at: usize) {
        let content = self.content;
        let (percent, escape) = kind_at(content, at);
        let counts = percent || escape;
        if let Some((r, p, e)) = self.out.last_mut() {
            let near = !self.closed && at <= r.end.saturating_add(self.reach);
            if at < r.end || (counts && near) {
                if counts && !self.closed {
                    // Only the bytes past the region's end are looked at: each byte once.
                    let to = at.saturating_add(self.reach).min(content.len());
                    if to > r.end {
                        match memchr(b'\n', &content[r.end..to]) {
                            // The line ended before `at`: the region stays as it is.
                            Some(i) if r.end + i < at => self.closed = true,
                            Some(i) => (r.end, self.closed) = (r.end + i, true),
                            None => (r.end, self.closed) = (to, to == content.len()),
                        }
                    }
                }
                if at < r.end {
                    *p |= percent;
                    *e |= escape;
                    return;
                }
                // A newline came between: `at` starts a region of its own.
            }
        }
        if !counts {
            return;
        }
        let from = at.saturating_sub(self.reach);
        let start = memchr::memrchr(b'\n', &content[from..at]).map_or(from, |i| from + i + 1);
        let to = at.saturating_add(self.reach).min(content.len());
        let end = match memchr(b'\n', &content[at..to]) {
            Some(i) => {
                self.closed = true;
                at + i
            }
            None => {
                self.closed = to == content.len();
                to
            }
        };
        self.out.push((start..end, percent, escape));
    }
}

///
/// Only escapes of printable ASCII count: keywords and keys are made of it, while `%02x`
/// format strings, `\x00` byte strings and `\u00e9` text are common and hide nothing.
pub(crate) fn kind_at(content: &[u8], at: usize) -> (bool, bool) {
    let hex_at = |k: usize, n: usize| content.get(at + k..at + k + n).and_then(hex_number);
    let printable = |v: Option<u32>| v.is_some_and(|v| (0x21..0x7f).contains(&v));
    if content[at] == b'%' {
        return (printable(hex_at(1, 2)), false);
    }
    let escape = match content.get(at + 1) {
        Some(b'u') => printable(hex_at(2, 4)),
        Some(b'x') => printable(hex_at(2, 2)),
        Some(b'/') => true,
        _ => false,
    };
    (false, escape)
}

/// A decoder that tracks where each decoded byte came from.
struct Builder {
    bytes: Vec<u8>,
    pieces: Vec<Piece>,
    base: usize,
    look_inside: bool,
}

impl Builder {
    fn new(base: usize, cap: usize) -> Self {
        Builder {
            bytes: Vec::with_capacity(cap),
            pieces: Vec::new(),
            base,
            look_inside: false,
        }
    }

    /// Copies `text`, which starts at `at`, as it is.
    fn literal(&mut self, at: usize, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        match self.pieces.last() {
            Some(p) if p.literal && p.src + (self.bytes.len() - p.dec) == self.base + at => {}
            _ => self.pieces.push(Piece {
                dec: self.bytes.len(),
                src: self.base + at,
                src_len: 1,
                literal: true,
            }),
        }
        self.bytes.extend_from_slice(text);
    }

    fn escape(&mut self, at: usize, len: usize, decoded: &[u8]) {
        self.pieces.push(Piece {
            dec: self.bytes.len(),
            src: self.base + at,
            src_len: len,
            literal: false,
        });
        self.look_inside |= decoded.iter().any(|&b| is_b64(b));
        self.bytes.extend_from_slice(decoded);
    }

    fn finish(self, how: &'static str) -> Decoded {
        Decoded {
            how,
            bytes: self.bytes,
            maps: vec![OffsetMap::Pieces(self.pieces)],
            look_inside: self.look_inside,
        }
    }
}

/// Percent-decodes `line` (which starts at `base` in its content).
pub(crate) fn decode_percent(line: &[u8], base: usize) -> Decoded {
    let mut b = Builder::new(base, line.len());
    let mut i = 0;
    while let Some(at) = memchr(b'%', &line[i..]).map(|k| i + k) {
        b.literal(i, &line[i..at]);
        if let (Some(h), Some(l)) = (
            line.get(at + 1).copied().and_then(hex_value),
            line.get(at + 2).copied().and_then(hex_value),
        ) {
            b.escape(at, 3, &[(h << 4) | l]);
            i = at + 3;
        } else {
            b.literal(at, b"%");
            i = at + 1;
        }
    }
    b.literal(i, &line[i..]);
    b.finish("percent")
}

/// Decodes JSON and JavaScript string escapes in `line` (which starts at `base`).
pub(crate) fn decode_escapes(line: &[u8], base: usize) -> Decoded {
    let mut b = Builder::new(base, line.len());
    let mut i = 0;
    let mut utf8 = [0u8; 4];
    loop {
        let Some(at) = memchr(b'\\', &line[i..]).map(|k| i + k) else {
            b.literal(i, &line[i..]);
            break;
        };
        b.literal(i, &line[i..at]);
        i = at;
        if i + 1 >= line.len() {
            b.literal(i, &line[i..]);
            break;
        }
        let simple = match line[i + 1] {
            b'/' => Some(b'/'),
            b'\\' => Some(b'\\'),
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            b.escape(i, 2, &[c]);
            i += 2;
            continue;
        }
        if line[i + 1] == b'x' {
            if let Some(v) = line.get(i + 2..i + 4).and_then(hex_number) {
                let c = char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER);
                b.escape(i, 4, c.encode_utf8(&mut utf8).as_bytes());
                i += 4;
                continue;
            }
        }
        if line[i + 1] == b'u' {
            if let Some((c, len)) = unicode_escape(&line[i..]) {
                b.escape(i, len, c.encode_utf8(&mut utf8).as_bytes());
                i += len;
                continue;
            }
        }
        b.literal(i, b"\\");
        i += 1;
    }
    b.finish("escape")
}

/// `\uXXXX` (with a following low surrogate when it is a high one) or `\u{X…}` at the start of
/// `s`: the character and the escape's length.
fn unicode_escape(s: &[u8]) -> Option<(char, usize)> {
    if s.get(2) == Some(&b'{') {
        let close = memchr(b'}', s.get(3..(3 + 7).min(s.len()))?)?;
        let v = hex_number(&s[3..3 + close])?;
        return Some((char::from_u32(v)?, 3 + close + 1));
    }
    let hi = hex_number(s.get(2..6)?)?;
    if (0xD800..0xDC00).contains(&hi) {
        if s.get(6..8) == Some(b"\\u") {
            if let Some(lo) = s.get(8..12).and_then(hex_number) {
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return Some((char::from_u32(c)?, 12));
                }
            }
        }
        return Some((char::REPLACEMENT_CHARACTER, 6));
    }
    Some((char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER), 6))
}
