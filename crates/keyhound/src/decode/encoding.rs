//! Encoded strings: where base64, hex, percent-encoding and JSON/JavaScript string escapes may
//! hide a keyword, and how to decode them while remembering where each decoded byte came from.
//!
//! Nothing here decodes text on speculation. A base64 or hex run is decoded only where an
//! encoding of a rule keyword occurs in it ([`Triggers`]), or where its first characters decode
//! to base64 text again (`base64 > base64`); a line is percent- or escape-decoded only where it
//! holds such an escape, and the decoded line is then only matched if the prefilter finds a
//! keyword in it. Scanning, findings and limits are the caller's job (`decode/mod.rs`).
//!
//! Finding the runs is the one cost paid on every byte, so it works on 64-byte blocks: a
//! bitmask of base64 characters per block (a loop the compiler vectorises), and shifts of it
//! that tell whether a long enough run can touch the block. Only such blocks are looked at
//! byte by byte.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use memchr::memchr;

use super::classify::{case_masks, for_each_marked, pack, Marked};

/// Shortest base64 run worth looking at: 19 decoded bytes, shorter than any key (an AWS
/// access key id, 20 bytes, is 27 characters).
pub(crate) const MIN_B64_RUN: usize = 26;
/// Shortest hex run worth decoding: 16 bytes (`worth_a_look` counts on it being 32).
const MIN_HEX_RUN: usize = 32;
/// Shortest encoded keyword searched for; shorter ones would fire on any long run.
const MIN_PATTERN: usize = 3;

/// Maps offsets of decoded bytes to offsets of the text they were decoded from.
#[derive(Debug, Clone)]
pub(crate) enum OffsetMap {
    /// Byte `d` comes from `base + d * num / den` (base64: 4/3, hex: 2/1, a copy: 1/1).
    Linear {
        /// Where the encoded text starts.
        base: usize,
        /// Encoded characters per `den` decoded bytes.
        num: usize,
        /// Decoded bytes per `num` characters.
        den: usize,
    },
    /// Runs of decoded bytes, each from one span of source text (sorted by `dec`).
    Pieces(Vec<Piece>),
}

/// Decoded bytes `dec..` come from source `src..`: one byte each when `literal`, else the
/// whole piece (an escape sequence) from `src..src + src_len`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    pub(crate) dec: usize,
    pub(crate) src: usize,
    pub(crate) src_len: usize,
    pub(crate) literal: bool,
}

impl OffsetMap {
    /// Source offset where decoded byte `d` starts.
    pub(crate) fn start(&self, d: usize) -> usize {
        match self {
            OffsetMap::Linear { base, num, den } => base + d * num / den,
            OffsetMap::Pieces(pieces) => {
                let p = piece_at(pieces, d);
                if p.literal {
                    p.src + (d - p.dec)
                } else {
                    p.src
                }
            }
        }
    }

    /// Source offset just past the text that decoded byte `end - 1` came from.
    pub(crate) fn end(&self, end: usize) -> usize {
        let last = end.saturating_sub(1);
        match self {
            OffsetMap::Linear { base, num, den } => base + ((last + 1) * num).div_ceil(*den),
            OffsetMap::Pieces(pieces) => {
                let p = piece_at(pieces, last);
                if p.literal {
                    p.src + (last - p.dec) + 1
                } else {
                    p.src + p.src_len
                }
            }
        }
    }
}

fn piece_at(pieces: &[Piece], d: usize) -> Piece {
    let i = pieces.partition_point(|p| p.dec <= d).saturating_sub(1);
    pieces.get(i).copied().unwrap_or(Piece {
        dec: 0,
        src: 0,
        src_len: 0,
        literal: true,
    })
}

/// One pass of decoding: the bytes, and how to map them back one layer.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// What it was: `base64`, `hex`, `percent`, `escape`.
    pub(crate) how: &'static str,
    /// The decoded bytes.
    pub(crate) bytes: Vec<u8>,
    /// Decoded offsets to offsets of the text it was decoded from, innermost first.
    pub(crate) maps: Vec<OffsetMap>,
    /// Whether the bytes may hold encoded strings the text did not show: always for base64
    /// and hex; for a decoded line, only when an escape became a base64 character (`\/` in
    /// JSON, `%2B` in a URL), since its other runs and escapes were looked at in the text.
    pub(crate) look_inside: bool,
}

// ---------------------------------------------------------------------------------------------
// Triggers: encodings of keywords.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A base64 pattern that starts `skip` characters into a 4-character group.
    Base64 { skip: usize },
    /// A hex pattern (always starts on a byte).
    Hex,
}

/// An automaton over the base64 (both alphabets, all three byte alignments) and hex (both
/// cases) encodings of every rule keyword.
#[derive(Debug)]
pub(crate) struct Triggers {
    ac: Option<AhoCorasick>,
    kinds: Vec<Vec<Kind>>,
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The characters of base64 text (both alphabets) fully determined by `bytes` when they sit
/// `align` bytes into a 3-byte group, and how far into its 4-character group the first one is.
fn base64_core(bytes: &[u8], align: usize, alphabet: &[u8; 64]) -> (Vec<u8>, usize) {
    let mut padded = vec![0u8; align];
    padded.extend_from_slice(bytes);
    let mut chars = Vec::with_capacity(padded.len() * 4 / 3 + 4);
    for group in padded.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            chars.push(alphabet[((n >> (18 - 6 * k)) & 63) as usize]);
        }
    }
    // Characters made only of known bits: from the first whole 6-bit slot after the
    // unknown prefix to the last slot that ends inside the keyword.
    let first = (align * 8).div_ceil(6);
    let last = (padded.len() * 8) / 6;
    if first >= last {
        return (Vec::new(), first % 4);
    }
    (chars[first..last].to_vec(), first % 4)
}

fn hex(bytes: &[u8], upper: bool) -> Vec<u8> {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    bytes
        .iter()
        .flat_map(|b| [digits[usize::from(b >> 4)], digits[usize::from(b & 15)]])
        .collect()
}

/// Every encoding of `bytes` that identifies it inside a longer encoded text.
fn encodings(bytes: &[u8]) -> Vec<(Vec<u8>, Kind)> {
    let mut out = Vec::new();
    for align in 0..3 {
        for alphabet in [STD, URL] {
            let (core, skip) = base64_core(bytes, align, alphabet);
            out.push((core, Kind::Base64 { skip }));
        }
    }
    out.push((hex(bytes, false), Kind::Hex));
    out.push((hex(bytes, true), Kind::Hex));
    out
}

impl Triggers {
    /// Builds the automaton for `keywords`.
    pub(crate) fn new<'k>(keywords: impl IntoIterator<Item = &'k str>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut kinds: Vec<Vec<Kind>> = Vec::new();
        let mut add = |p: Vec<u8>, k: Kind| {
            if p.len() < MIN_PATTERN {
                return;
            }
            match patterns.iter().position(|q| *q == p) {
                Some(i) if !kinds[i].contains(&k) => kinds[i].push(k),
                Some(_) => {}
                None => {
                    patterns.push(p);
                    kinds.push(vec![k]);
                }
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        for kw in keywords {
            if kw.is_empty() || seen.contains(&kw) {
                continue;
            }
            seen.push(kw);
            for (encoded, kind) in encodings(kw.as_bytes()) {
                add(encoded, kind);
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            // Built once per process, and every short scan (a pre-commit check) pays for it: a
            // contiguous NFA builds in a third of a DFA's time (about 1 ms for the built-in
            // rules) and is fast enough for the runs that pass `worth_a_look`.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&patterns)
                .ok()
        };
        Triggers { ac, kinds }
    }

    /// What in `run` (a base64-alphabet run, possibly joined from wrapped lines) to decode:
    /// around each encoded keyword, a window of base64 at the alignment the hit implies, or
    /// the hex run it is in; or, when it holds none and `twice` allows, the whole run if it is
    /// base64 of base64 text. Ranges are relative to `run`, in order, not overlapping.
    pub(crate) fn plans(&self, run: &[u8], twice: bool) -> Vec<Plan> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let head = &run[..run.len().min(64)];
        let all = u64::MAX.checked_shr(64 - head.len() as u32).unwrap_or(0);
        if hex_mask(head) & all == all && !hex_of_text(head) {
            // Checksums and hashes (lock files are full of them): hex of random bytes.
            return Vec::new();
        }
        let mut windows: Vec<Range<usize>> = Vec::new();
        let mut hex_runs: Vec<Range<usize>> = Vec::new();
        for m in ac.find_overlapping_iter(run) {
            for kind in &self.kinds[m.pattern().as_usize()] {
                match *kind {
                    Kind::Base64 { skip } => {
                        let phase = (m.start() + 4 - skip) % 4;
                        windows.push(window(run.len(), m.start(), phase));
                    }
                    Kind::Hex => {
                        if hex_runs.iter().any(|r| r.contains(&m.start())) {
                            continue;
                        }
                        let mut s = m.start();
                        while s > 0 && run[s - 1].is_ascii_hexdigit() {
                            s -= 1;
                        }
                        let mut e = m.end();
                        while e < run.len() && run[e].is_ascii_hexdigit() {
                            e += 1;
                        }
                        // Start on the byte boundary the hit implies.
                        s += (m.start() - s) % 2;
                        if e - s >= MIN_HEX_RUN {
                            hex_runs.push(s..e);
                        }
                    }
                }
            }
        }
        if twice && windows.is_empty() && hex_runs.is_empty() {
            if let Some(phase) = base64_of_base64(run) {
                windows.push(phase..run.len());
            }
        }
        // Windows at the same alignment that touch become one.
        windows.sort_by_key(|w| (w.start % 4, w.start));
        let mut plans: Vec<Plan> = Vec::new();
        for w in windows {
            match plans.last_mut() {
                Some(Plan::Base64(last))
                    if last.start % 4 == w.start % 4 && w.start <= last.end =>
                {
                    last.end = last.end.max(w.end);
                }
                _ => plans.push(Plan::Base64(w)),
            }
        }
        plans.extend(hex_runs.into_iter().map(Plan::Hex));
        plans
    }
}

/// Whether the hex digits `run` (from either byte boundary) start with the hex of text:
/// hex-encoded keys are text, hashes and checksums are not (a third of random bytes are
/// printable).
fn hex_of_text(run: &[u8]) -> bool {
    // Eight bytes tell: all printable but one happens to random bytes once in ten thousand.
    (0..2).any(|parity| {
        let head = &run[parity..run.len().min(parity + 16)];
        let (mut bytes, mut text) = (0, 0);
        for pair in head.chunks_exact(2) {
            let b = (HEX[usize::from(pair[0])] << 4) | HEX[usize::from(pair[1])];
            bytes += 1;
            text += usize::from((0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'));
        }
        bytes > 0 && text + 1 >= bytes
    })
}

/// Hex digit values (0 for anything else; callers know they hold hex digits).
static HEX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0,
        };
        c += 1;
    }
    t
};

/// How much base64 around an encoded keyword is decoded (each side, in characters): enough
/// for the key and the lines about it, not a whole 100 MB blob for one hit.
const WINDOW: usize = 4096;

/// The base64 window around a hit at `at`, starting at alignment `phase`.
fn window(len: usize, at: usize, phase: usize) -> Range<usize> {
    let start = match at.saturating_sub(WINDOW) {
        s if s <= phase => phase,
        s => s - (s - phase) % 4,
    };
    start.min(len)..(at + WINDOW).min(len)
}

/// A piece of a run to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Base64 characters, starting on a group boundary.
    Base64(Range<usize>),
    /// Hex digits, starting on a byte boundary.
    Hex(Range<usize>),
}

impl Plan {
    /// Decodes the planned piece of `run`.
    pub(crate) fn decode(&self, run: &[u8]) -> Decoded {
        match self {
            Plan::Base64(r) => Decoded {
                how: "base64",
                look_inside: true,
                bytes: decode_base64(&run[r.clone()]),
                maps: vec![OffsetMap::Linear {
                    base: r.start,
                    num: 4,
                    den: 3,
                }],
            },
            Plan::Hex(r) => Decoded {
                how: "hex",
                look_inside: true,
                bytes: decode_hex(&run[r.clone()]),
                maps: vec![OffsetMap::Linear {
                    base: r.start,
                    num: 2,
                    den: 1,
                }],
            },
        }
    }
}

/// [`worth_a_look_in`] on the bytes of a run, for tests.
#[cfg(test)]
fn worth_a_look(run: &[u8]) -> bool {
    let head = &run[..run.len().min(64)];
    let upper = head.iter().any(u8::is_ascii_uppercase);
    let lower = head.iter().any(u8::is_ascii_lowercase);
    let other = head.iter().any(|b| !b.is_ascii_alphabetic());
    (upper && lower && other)
        || (other
            && head
                .windows(MIN_HEX_RUN)
                .any(|w| w.iter().all(u8::is_ascii_hexdigit)))
}

/// The alignment (0..4) at which the start of `run` decodes to base64 characters only, if
/// one does: a base64 encoding of base64 text, whose keywords only show once decoded. Most
/// runs fail on their first group.
fn base64_of_base64(run: &[u8]) -> Option<usize> {
    const GROUPS: usize = 8;
    if run.len() < GROUPS * 4 + 3 {
        return None;
    }
    (0..4).find(|&phase| {
        run[phase..phase + GROUPS * 4].chunks_exact(4).all(|group| {
            let n = group
                .iter()
                .fold(0u32, |n, &c| (n << 6) | u32::from(B64[usize::from(c)] & 63));
            [(n >> 16) as u8, (n >> 8) as u8, n as u8]
                .iter()
                .all(|&b| is_b64(b))
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Runs of base64 characters.

const fn b64_table() -> [u8; 256] {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[STD[i] as usize] = i as u8;
        t[URL[i] as usize] = i as u8;
        i += 1;
    }
    t
}

static B64: [u8; 256] = b64_table();

#[inline]
fn is_b64(b: u8) -> bool {
    B64[usize::from(b)] != 0xFF
}

/// Decodes base64 text in either alphabet (mixed is fine), without padding or with, starting
/// on a group boundary; stops at the first character of neither alphabet.
pub(crate) fn decode_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut n = 0;
    for &c in text {
        let v = B64[usize::from(c)];
        if v == 0xFF {
            break;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn decode_hex(text: &[u8]) -> Vec<u8> {
    text.chunks_exact(2)
        .map_while(|p| Some((hex_value(p[0])? << 4) | hex_value(p[1])?))
        .collect()
}

/// A base64-alphabet run, maybe wrapped over several lines: the spans of `content` it is made
/// of, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    first: Range<usize>,
    /// The following lines of a wrapped block (empty, so unallocated, for most runs).
    rest: Vec<Range<usize>>,
}

impl Run {
    /// The spans, in order.
    pub(crate) fn spans(&self) -> impl Iterator<Item = &Range<usize>> {
        std::iter::once(&self.first).chain(&self.rest)
    }

    /// Where the last span ends.
    fn end(&self) -> usize {
        self.rest.last().unwrap_or(&self.first).end
    }

    /// The run's characters, and how to map offsets in them back to `content`.
    pub(crate) fn text<'c>(&self, content: &'c [u8]) -> (std::borrow::Cow<'c, [u8]>, OffsetMap) {
        if self.rest.is_empty() {
            // One span: byte `d` is byte `start + d` (no allocation for the common case).
            let one = &self.first;
            let map = OffsetMap::Linear {
                base: one.start,
                num: 1,
                den: 1,
            };
            return (std::borrow::Cow::Borrowed(&content[one.clone()]), map);
        }
        let mut joined = Vec::new();
        let mut pieces = Vec::new();
        for s in self.spans() {
            pieces.push(Piece {
                dec: joined.len(),
                src: s.start,
                src_len: s.len(),
                literal: true,
            });
            joined.extend_from_slice(&content[s.clone()]);
        }
        (std::borrow::Cow::Owned(joined), OffsetMap::Pieces(pieces))
    }
}

/// The case masks of the block of `content` at `base` and, in the high half once a run's head
/// reaches into it, of the next one.
#[derive(Clone, Copy)]
struct Cases {
    upper: u128,
    lower: u128,
    next: bool,
}

impl Cases {
    fn of(content: &[u8], base: usize) -> Self {
        let (upper, lower) = Self::block_at(content, base);
        Cases {
            upper: u128::from(upper),
            lower: u128::from(lower),
            next: false,
        }
    }

    /// Adds the next block's masks.
    fn with_next(&mut self, content: &[u8], base: usize) {
        if !self.next {
            let (upper, lower) = Self::block_at(content, base + 64);
            self.upper |= u128::from(upper) << 64;
            self.lower |= u128::from(lower) << 64;
            self.next = true;
        }
    }

    fn block_at(content: &[u8], at: usize) -> (u64, u64) {
        match content
            .get(at..at + 64)
            .and_then(|b| <&[u8; 64]>::try_from(b).ok())
        {
            Some(block) => case_masks(block),
            None => {
                let mut block = [0u8; 64];
                let bytes = content.get(at..).unwrap_or_default();
                block[..bytes.len()].copy_from_slice(bytes);
                case_masks(&block)
            }
        }
    }
}

fn hex_mask(block: &[u8]) -> u64 {
    let mut hex = [0u8; 64];
    for (h, &c) in hex.iter_mut().zip(block) {
        *h = u8::from(c.wrapping_sub(b'0') < 10) | u8::from((c | 0x20).wrapping_sub(b'a') < 6);
    }
    pack(&hex)
}

/// Whether `mask` holds `MIN_HEX_RUN` (32) set bits in a row.
fn has_hex_run(mask: u64) -> bool {
    let mut r = mask & (mask >> 1);
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    r &= r >> 16;
    r != 0
}

/// Whether a run can be encoded data, judged on its head: its first 64 characters, the set
/// bits `run` of the case masks `upper` and `lower` and of `block` (which starts where the run
/// does); hex digits are looked at only when a run needs them. Base64
/// of anything longer than a few bytes mixes upper and lower case with digits or `+/-_` (all
/// three are missing from one in a thousand random 26-character runs, far fewer at key
/// lengths); hex has digits. Identifiers (`snake_case_names`, `SHOUTING_CASE`, `CamelCase`,
/// URL paths) do not pass, which keeps the automaton off most of source code.
fn worth_a_look_in(upper: u64, lower: u64, block: &[u8], run: u64) -> bool {
    let other = run & !(upper | lower);
    if upper & run != 0 && lower & run != 0 && other != 0 {
        return true;
    }
    // Any 32 characters in a row within the first 64 hold the 32nd or the 33rd: when neither
    // is a hex digit, there is no hex run to find (most long `SHOUTING_CASE` names).
    let hex_at = |k: usize| block.get(k).is_some_and(u8::is_ascii_hexdigit);
    other != 0
        && run.count_ones() as usize >= MIN_HEX_RUN
        && (hex_at(MIN_HEX_RUN - 1) || hex_at(MIN_HEX_RUN))
        && has_hex_run(hex_mask(block) & run)
}

/// Where a text may hide encoded strings.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Runs of at least [`MIN_B64_RUN`] base64 characters that may be encoded data (see
    /// `worth_a_look`), lines of a wrapped block (each line only base64, every line but the
    /// last a multiple of 4 long) joined into one.
    pub(crate) runs: Vec<Run>,
    /// Lines holding a `%XX`, `\uXXXX` or `\xXX` escape of printable ASCII or a `\/`, as
    /// byte ranges (without the newline) with whether they hold percent and string escapes,
    /// in order, each once. A long line is cut to the parts within [`ESCAPE_REACH`] bytes of
    /// its escapes, so that a one-line file is decoded where it holds escapes, not whole.
    pub(crate) escaped: Vec<(Range<usize>, bool, bool)>,
}

/// Finds the runs and escaped lines of `content` in one pass over its 64-byte blocks.
pub(crate) fn find(content: &[u8]) -> Found {
    find_within(content, ESCAPE_REACH)
}

/// How far a decoded region reaches either side of an escape on a long line: past the longest
/// secret a rule reports (200 bytes) and its credential word. Regions closer than twice this
/// are one; a long line decoded whole made a one-line minified file cost three times as much
/// as the same text on many lines.
pub(crate) const ESCAPE_REACH: usize = 256;

/// [`find`], with escaped lines cut to `reach` bytes either side of their escapes.
fn find_within(content: &[u8], reach: usize) -> Found {
    let mut runs = RunFinder {
        content,
        out: Vec::new(),
        done: 0,
    };
    let mut escapes = EscapeFinder {
        content,
        out: Vec::new(),
        reach,
        closed: true,
    };
    for_each_marked(content, |block| {
        if block.starts != 0 {
            runs.starts_at(block);
        }
        if block.escapes != 0 {
            escapes.block_at(block.offset, block.escapes);
        }
    });
    Found {
        runs: runs.out,
        escaped: escapes.out,
    }
}

#[cfg(test)]
pub(crate) fn runs(content: &[u8]) -> Vec<Run> {
    find(content).runs
}

#[cfg(test)]
pub(crate) fn escaped_lines(content: &[u8]) -> Vec<(Range<usize>, bool, bool)> {
    find(content).escaped
}

#[cfg(test)]
fn escaped_within(content: &[u8], reach: usize) -> Vec<(Range<usize>, bool, bool)> {
    find_within(content, reach).escaped
}

/// Turns the starts of long runs into [`Run`]s.
struct RunFinder<'c> {
    content: &'c [u8],
    out: Vec<Run>,
    /// Where the last run looked at ends (a wrapped block reaches past its first line).
    done: usize,
}

impl RunFinder<'_> {
    /// The runs that start in `block`: the first start bit of a run not looked at yet is
    /// where it starts (its other bits follow it). Each run is judged on its head
    /// (`worth_a_look_in`) from the block's masks.
    fn starts_at(&mut self, block: &Marked) {
        let content = self.content;
        let base = block.offset;
        let mut starts = block.starts;
        let mut window: Option<Cases> = None;
        while starts != 0 {
            let i = starts.trailing_zeros() as usize;
            let start = base + i;
            if start >= self.done {
                let len = (!(block.b64 >> i)).trailing_zeros() as usize;
                let end = if i + len < 128 {
                    start + len
                } else {
                    // Runs on past the next block.
                    let mut end = base + 128;
                    while end < content.len() && is_b64(content[end]) {
                        end += 1;
                    }
                    end
                };
                let head = if len >= 64 {
                    u64::MAX
                } else {
                    (1u64 << len) - 1
                };
                let cases = window.get_or_insert_with(|| Cases::of(content, base));
                if i + len.min(64) > 64 {
                    cases.with_next(content, base);
                }
                let (upper, lower) = ((cases.upper >> i) as u64, (cases.lower >> i) as u64);
                self.done = end;
                if worth_a_look_in(upper, lower, &content[start..], head) {
                    self.emit(start, end);
                }
            }
            let next = self.done.max(start + 1) - base;
            if next >= 64 {
                return;
            }
            starts &= u64::MAX << next;
        }
    }

    fn emit(&mut self, start: usize, end: usize) {
        let run = wrapped(self.content, start..end);
        self.done = run.end();
        self.out.push(run);
    }
}

/// Extends a run that fills its line to the following lines of the same wrapped block.
fn wrapped(content: &[u8], first: Range<usize>) -> Run {
    let mut run = Run {
        first,
        rest: Vec::new(),
    };
    loop {
        let cur = run.rest.last().unwrap_or(&run.first).clone();
        let mut line_start = cur.start;
        while line_start > 0 && matches!(content[line_start - 1], b' ' | b'\t') {
            line_start -= 1;
        }
        let fills_line = line_start == 0 || content[line_start - 1] == b'\n';
        let mut next = cur.end;
        if content.get(next) == Some(&b'\r') {
            next += 1;
        }
        if !fills_line || cur.len() & 3 != 0 || content.get(next) != Some(&b'\n') {
            break;
        }
        next += 1;
        while matches!(content.get(next), Some(b' ' | b'\t')) {
            next += 1;
        }
        let mut end = next;
        while end < content.len() && is_b64(content[end]) {
            end += 1;
        }
        let at_eol = matches!(
            content.get(end),
            None | Some(b'\n' | b'\r' | b'=' | b'"' | b'\'')
        );
        if end == next || !at_eol {
            break;
        }
        run.rest.push(next..end);
    }
    run
}

// ---------------------------------------------------------------------------------------------
// Lines with percent-encoding or string escapes.

/// Collects the lines of [`Found::escaped`] from the `%` and `\` found block by block.
struct EscapeFinder<'c> {
    content: &'c [u8],
    out: Vec<(Range<usize>, bool, bool)>,
    /// How far a region reaches either side of an escape within its line.
    reach: usize,
    /// Whether no escape can extend the last region (its line ended): the next one starts
    /// another.
    closed: bool,
}

impl EscapeFinder<'_> {
    /// The escapes at the set bits of `bits`, of the block at `base`.
    fn block_at(&mut self, base: usize, mut bits: u64) {
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
fn kind_at(content: &[u8], at: usize) -> (bool, bool) {
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

fn hex_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |acc, &c| Some((acc << 4) | u32::from(hex_value(c)?)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn base64_core_is_found_at_every_alignment() {
        let kw = b"sk-proj-";
        for prefix in ["", "a", "ab", "abc", "abcd"] {
            let text = b64(&[prefix.as_bytes(), kw.as_slice(), b"0123456789"].concat());
            let found = (0..3).any(|align| {
                let (core, _) = base64_core(kw, align, STD);
                text.as_bytes().windows(core.len()).any(|w| w == core)
            });
            assert!(found, "{prefix:?} {text}");
        }
    }

    fn decode_all(t: &Triggers, run: &[u8]) -> Vec<Decoded> {
        t.plans(run, true).iter().map(|p| p.decode(run)).collect()
    }

    #[test]
    fn windows_around_hits_in_a_long_run() {
        let t = Triggers::new(["sk-proj-"]);
        let mut plain = vec![b'x'; 30_000];
        plain.splice(20_000..20_000, *b"sk-proj-abcdefghijklmnop");
        let text = b64(&plain);
        let plans = t.plans(text.as_bytes(), true);
        assert_eq!(plans.len(), 1, "{plans:?}");
        let Plan::Base64(r) = &plans[0] else {
            panic!("{plans:?}")
        };
        assert!(r.len() <= 2 * WINDOW + 3 && r.start % 4 == 0, "{r:?}");
        let d = plans[0].decode(text.as_bytes());
        assert!(memchr::memmem::find(&d.bytes, b"sk-proj-abcdefghijklmnop").is_some());
        assert_eq!(window(100, 10, 2), 2..100);
        assert_eq!(window(10_000, 5_000, 1), 901..9_096);
    }

    #[test]
    fn triggers_decode_at_the_right_alignment() {
        let t = Triggers::new(["sk-proj-"]);
        for prefix in ["", "x", "xy", "API_KEY=", "z"] {
            // Not key-shaped on purpose: the body is built, so the source holds no key shape.
            let plain = format!("{prefix}sk-proj-{}", "abcdefghijklm".repeat(2));
            let text = format!("zz{}", b64(plain.as_bytes()));
            let out = decode_all(&t, text.as_bytes());
            assert!(
                out.iter()
                    .any(|d| memchr::memmem::find(&d.bytes, plain.as_bytes()).is_some()),
                "{prefix:?}: {out:?}"
            );
        }
        // Twice encoded.
        let twice = b64(b64(b"x sk-proj-abcdefghijklmnop").as_bytes());
        let out = decode_all(&t, twice.as_bytes());
        assert!(
            out.iter().any(|d| d.bytes.starts_with(b"eCBzay1w")),
            "{out:?}"
        );
        // A run that starts as hex of random bytes is a checksum or a hash, whatever follows.
        let checksum = "6f1ed1d3f8d2c3c9b0f8e4d7d1e6a0a2c5b3f1e9d8c7b6a5948372615f4e3d2c";
        let tail = String::from_utf8(hex(b"token sk-proj-abcdefghijklmnop", false)).unwrap();
        assert_eq!(
            t.plans(format!("{checksum}{tail}").as_bytes(), true),
            vec![]
        );
        assert!(!t
            .plans(format!("{tail}{checksum}").as_bytes(), true)
            .is_empty());
        // Hex.
        let hexed = hex(b"token sk-proj-abcdefghijklmnop", false);
        let out = decode_all(&t, &[b"0".as_slice(), &hexed].concat());
        assert!(out
            .iter()
            .any(|d| d.how == "hex" && d.bytes == b"token sk-proj-abcdefghijklmnop"));
    }

    #[test]
    fn runs_skip_text_and_join_wrapped_lines() {
        let text =
            b"fn main() { let x = 1; }\n  key: QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\nshort abc\n";
        let r = runs(text);
        assert_eq!(r.len(), 1);
        assert_eq!(
            &text[r[0].first.clone()],
            b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
        );
        let wrapped = b"x:\n  QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n  WVo=\n";
        let r = runs(wrapped);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].spans().count(), 2);
        let (joined, map) = r[0].text(wrapped);
        assert_eq!(decode_base64(&joined), b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert_eq!(map.start(32), wrapped.len() - 5);
    }

    #[test]
    fn block_scan_finds_what_a_byte_scan_finds() {
        // Runs of every length around the 64-byte block boundaries, separated by spaces, some
        // mixed (base64-like), some identifiers, some hex; texts end anywhere, also mid-run.
        let alphabets: [&[u8]; 6] = [
            b"aB3+/-_xY9",
            b"abc_def",
            b"0123456789abcdef",
            b"Zz",
            // Hex with the odd underscore: hex runs of 32 start anywhere in the head.
            b"0123456789abcdefABCDEF0123456789_",
            b"ABCDEFGHXYZ_0",
        ];
        for seed in 0..1000u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut text = Vec::new();
            let size = rng.usize(1..700);
            while text.len() < size {
                let alphabet = alphabets[rng.usize(..alphabets.len())];
                let len = match rng.u8(..4) {
                    0 => rng.usize(100..300),
                    _ => rng.usize(1..90),
                };
                text.extend((0..len).map(|_| alphabet[rng.usize(..alphabet.len())]));
                text.extend((0..rng.usize(1..4)).map(|_| b' '));
            }
            text.truncate(size);
            let mut expected = Vec::new();
            let mut i = 0;
            while i < text.len() {
                let s = i;
                while i < text.len() && is_b64(text[i]) {
                    i += 1;
                }
                if i - s >= MIN_B64_RUN && worth_a_look(&text[s..i]) {
                    expected.push(s..i);
                }
                i += 1;
            }
            let got: Vec<Range<usize>> = runs(&text).into_iter().map(|r| r.first).collect();
            assert_eq!(got, expected, "seed {seed}");
        }
    }

    #[test]
    fn block_scan_finds_the_escaped_lines_a_byte_scan_finds() {
        let pieces: [&[u8]; 9] = [
            b"%41", b"%0a", b"%", b"\\u0041", b"\\x2D", b"\\n", b"\\/", b"\n", b"abc ",
        ];
        for seed in 0..300u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut text = Vec::new();
            let size = rng.usize(1..400);
            while text.len() < size {
                text.extend_from_slice(pieces[rng.usize(..pieces.len())]);
            }
            text.truncate(size);
            // Whole lines, and lines cut to a few bytes around their escapes.
            for reach in [usize::MAX, 1, 5, 17] {
                let expected = escaped_by_bytes(&text, reach);
                assert_eq!(
                    escaped_within(&text, reach),
                    expected,
                    "seed {seed} reach {reach}"
                );
            }
            assert_eq!(escaped_lines(&text), escaped_by_bytes(&text, usize::MAX));
        }
    }

    /// What [`Found::escaped`] holds, byte by byte: per line, the union of the spans within
    /// `reach` of each escape (spans that touch are one), with the kinds of escape inside.
    fn escaped_by_bytes(text: &[u8], reach: usize) -> Vec<(Range<usize>, bool, bool)> {
        let mut out: Vec<(Range<usize>, bool, bool)> = Vec::new();
        let mut start = 0;
        for line in text.split(|&b| b == b'\n') {
            let end = start + line.len();
            let first = out.len();
            for (i, &c) in line.iter().enumerate() {
                let at = start + i;
                let (p, e) = kind_at(text, at);
                let (p, e) = (p && c == b'%', e && c == b'\\');
                if !p && !e {
                    continue;
                }
                let span = at.saturating_sub(reach).max(start)..at.saturating_add(reach).min(end);
                match out[first..].last_mut() {
                    Some((r, rp, re)) if span.start <= r.end => {
                        r.end = r.end.max(span.end);
                        *rp |= p;
                        *re |= e;
                    }
                    _ => out.push((span, p, e)),
                }
            }
            // Escapes of other kinds inside a span count for it too.
            for (r, rp, re) in &mut out[first..] {
                for at in r.clone() {
                    let (p, e) = kind_at(text, at);
                    *rp |= p && text[at] == b'%';
                    *re |= e && text[at] == b'\\';
                }
            }
            start = end + 1;
        }
        out
    }

    #[test]
    fn percent_and_escapes_map_back() {
        let line = b"u=a%2Db&x";
        let d = decode_percent(line, 10);
        assert_eq!(d.bytes, b"u=a-b&x");
        let m = &d.maps[0];
        assert_eq!((m.start(3), m.end(4)), (13, 16));
        assert_eq!(m.start(4), 16);
        let d = decode_escapes(br#""sk\u002dproj\/x\x41 \ud83d\ude00""#, 0);
        assert_eq!(d.bytes, "\"sk-proj/xA \u{1F600}\"".as_bytes());
        assert_eq!(d.maps[0].start(3), 3);
        assert_eq!(d.maps[0].start(4), 9);
        assert_eq!(
            escaped_lines(b"a\\n\nb%41\nc\\u0041 %2D\n"),
            vec![(4..8, true, false), (9..20, true, true)]
        );
    }

    #[test]
    fn base64_and_hex_decode() {
        assert_eq!(decode_base64(b"c2stcHJvai0"), b"sk-proj-");
        assert_eq!(decode_base64(b"c2st_w"), [b's', b'k', b'-', 0xff]);
        assert_eq!(decode_hex(b"736b2D"), b"sk-");
        assert!(hex_of_text(&hex(b"OPENAI_API_KEY=sk-proj-abc", false)));
        assert!(hex_of_text(
            &[b"0".as_slice(), &hex(b"token = abcdefgh", true)].concat()
        ));
        let checksum = b"6f1ed1d3f8d2c3c9b0f8e4d7d1e6a0a2c5b3f1e9d8c7b6a5948372615f4e3d2c";
        assert!(!hex_of_text(checksum));
    }
}
