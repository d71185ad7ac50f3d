//! Keyword triggers: an automaton over the base64 and hex encodings of every rule keyword, and
//! the [`Plan`]s it makes for a run (a window of base64 around each hit, the hex run a hit is
//! in, or a whole run of base64 of base64). It does not find the runs (see `runs`).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::alphabet::{decode_base64, decode_hex, hex_mask, is_b64, B64, HEX, STD, URL};
use super::offsets::{Decoded, OffsetMap};
pub(crate) use super::patterns::base64_core;
use super::patterns::{sorted_table, Table, MIN_PATTERN};
use super::runs::MIN_HEX_RUN;

/// The sorted base64 patterns of the built-in rules' keywords, made by `build.rs` with
/// [`sorted_table`]: `BUILTIN_KEYWORDS` (sorted, each once, ends in `BUILTIN_KEYWORD_ENDS`) and
/// the table's `BUILTIN_BASE64`, `BUILTIN_BASE64_ENDS`, `BUILTIN_BASE64_SKIPS`.
mod builtin {
    include!(concat!(env!("OUT_DIR"), "/triggers.rs"));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A base64 pattern that starts `skip` characters into a 4-character group.
    Base64 { skip: usize },
    /// A hex pattern (always starts on a byte).
    Hex,
}

/// Automata over the base64 (both alphabets, all three byte alignments) and hex (both cases)
/// encodings of every rule keyword: one per kind, each built the first time a run needs it
/// (most short scans meet base64-looking runs but no long hex run, and every process builds
/// what it uses: a pre-commit check or a one-commit push pays for it). Base64 grows with the
/// text searched: sorted patterns and a binary search for the first [`SORTED_UP_TO`] bytes,
/// then an automaton over the patterns' prefixes, then one over the whole patterns.
#[derive(Debug)]
pub(crate) struct Triggers {
    /// The distinct keywords, in order.
    keywords: Vec<Vec<u8>>,
    base64: OnceLock<Automaton>,
    /// The base64 patterns sorted, searched by binary search at each position: what a process
    /// uses until it has searched [`SORTED_UP_TO`] bytes (a pre-commit check's few lines),
    /// since building either automaton costs more than searching that little text this way
    /// (with the built-in rules, the table is made at build time and costs nothing here).
    base64_sorted: OnceLock<Automaton>,
    /// The base64 automaton over whole patterns, built once a process has searched
    /// [`WHOLE_AFTER`] bytes with the prefix one: slower to build, faster to search (same hits).
    base64_whole: OnceLock<Automaton>,
    /// Base64 text searched so far (it picks the search: sorted, prefix, whole).
    searched: AtomicU64,
    hex: OnceLock<Automaton>,
}

/// How much text the base64 prefix automaton searches before the whole-pattern one is built:
/// a short scan (a commit, a push) never pays for the larger one, a history audit soon does.
const WHOLE_AFTER: u64 = 4 << 20;

/// How much text the sorted base64 patterns search before the prefix automaton is built: a
/// binary search per position costs about 150 instructions, building the automaton a few
/// million.
const SORTED_UP_TO: u64 = 8 << 10;

/// One kind's patterns and how they are searched.
#[derive(Debug)]
struct Automaton {
    search: Search,
    /// The kinds of each pattern, by pattern id.
    kinds: Vec<Vec<Kind>>,
}

/// How an [`Automaton`]'s patterns are searched.
#[derive(Debug)]
enum Search {
    /// An automaton over the whole patterns (none when there are no patterns).
    Whole(Option<AhoCorasick>),
    /// An automaton over the patterns' first [`MIN_PATTERN`] bytes only, and the whole
    /// patterns listed under each prefix's id: a hit on a prefix is a match of each of its
    /// patterns that the text goes on to spell. The same matches as an automaton over the
    /// whole patterns, from one a fraction of its size (it is built in every process that meets
    /// an encoded-looking run, and thousands of base64 patterns made it the largest cost of a
    /// one-file scan).
    Prefix(Option<AhoCorasick>, ByPrefix),
    /// No automaton: the patterns in sorted order (pattern id = position), searched position
    /// by position with a binary search; their kinds are in the table, not in
    /// [`Automaton::kinds`].
    Sorted(Sorted),
}

/// A sorted table of base64 patterns: made at build time for the built-in rules' keywords,
/// or at run time for others (a config's rules).
#[derive(Debug)]
enum Sorted {
    Builtin,
    Built(Table),
}

/// A [`Table`]'s parts, borrowed.
#[derive(Clone, Copy)]
struct TableRef<'a> {
    bytes: &'a [u8],
    ends: &'a [u32],
    skips: &'a [u8],
}

impl Sorted {
    fn table(&self) -> TableRef<'_> {
        match self {
            Sorted::Builtin => TableRef {
                bytes: builtin::BUILTIN_BASE64,
                ends: builtin::BUILTIN_BASE64_ENDS,
                skips: builtin::BUILTIN_BASE64_SKIPS,
            },
            Sorted::Built(t) => TableRef {
                bytes: &t.bytes,
                ends: &t.ends,
                skips: &t.skips,
            },
        }
    }
}

impl TableRef<'_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn pattern(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j] as usize);
        &self.bytes[start..self.ends[i] as usize]
    }

    /// Every occurrence in `run` of every pattern.
    fn hits(&self, run: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for start in 0..run.len().saturating_sub(MIN_PATTERN - 1) {
            let rest = &run[start..];
            let head = &rest[..MIN_PATTERN];
            // The first pattern whose head is not below `head`.
            let (mut lo, mut hi) = (0, self.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if &self.pattern(mid)[..MIN_PATTERN] < head {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            for i in lo..self.len() {
                let p = self.pattern(i);
                if &p[..MIN_PATTERN] != head {
                    break;
                }
                if rest.starts_with(p) {
                    hits.push((start, start + p.len(), i));
                }
            }
        }
        hits
    }
}

/// The whole patterns, and the ids of those under each prefix.
type ByPrefix = (Vec<Vec<u8>>, Vec<Vec<u32>>);

/// A match: start, end, pattern.
type Hit = (usize, usize, usize);

impl Automaton {
    /// The automaton over the base64 encodings of `keywords`, or (`hex_digits`) their hex;
    /// `by_prefix`: over their prefixes (see [`Search::Prefix`]).
    fn build(keywords: &[Vec<u8>], hex_digits: bool, by_prefix: bool) -> Automaton {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut kinds: Vec<Vec<Kind>> = Vec::new();
        // Where each pattern is in `patterns` (which keeps the order they came in): looking
        // them up one by one made building the triggers quadratic in the keywords' encodings.
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for kw in keywords {
            for (p, k) in encodings(kw, hex_digits) {
                if p.len() < MIN_PATTERN {
                    continue;
                }
                match index.get(&p) {
                    Some(&i) if !kinds[i].contains(&k) => kinds[i].push(k),
                    Some(_) => {}
                    None => {
                        index.insert(p.clone(), patterns.len());
                        patterns.push(p);
                        kinds.push(vec![k]);
                    }
                }
            }
        }
        let build = |patterns: &[Vec<u8>]| {
            if patterns.is_empty() {
                return None;
            }
            // A contiguous NFA builds in a third of a DFA's time and is fast enough for the
            // runs that pass `worth_a_look`.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(patterns)
                .ok()
        };
        if !by_prefix {
            return Automaton {
                search: Search::Whole(build(&patterns)),
                kinds,
            };
        }
        let mut prefixes: Vec<Vec<u8>> = Vec::new();
        let mut under: Vec<Vec<u32>> = Vec::new();
        let mut at: HashMap<&[u8], usize> = HashMap::new();
        for (i, p) in patterns.iter().enumerate() {
            let head = &p[..MIN_PATTERN];
            let slot = *at.entry(head).or_insert_with(|| {
                prefixes.push(head.to_vec());
                under.push(Vec::new());
                prefixes.len() - 1
            });
            under[slot].push(i as u32);
        }
        Automaton {
            search: Search::Prefix(build(&prefixes), (patterns, under)),
            kinds,
        }
    }

    /// The base64 patterns of `keywords`, sorted, without an automaton (see
    /// [`Triggers::base64_sorted`]): the same patterns with the same kinds as
    /// [`Automaton::build`] makes; the built-in rules' table when `keywords` are theirs.
    fn sorted(keywords: &[Vec<u8>]) -> Automaton {
        let sorted = if is_builtin(keywords) {
            Sorted::Builtin
        } else {
            Sorted::Built(sorted_table(keywords.iter().map(Vec::as_slice)))
        };
        Automaton {
            search: Search::Sorted(sorted),
            kinds: Vec::new(),
        }
    }

    /// The kinds of pattern `pattern`.
    fn kinds(&self, pattern: usize) -> impl Iterator<Item = Kind> + '_ {
        let (listed, skips): (&[Kind], u8) = match &self.search {
            Search::Sorted(sorted) => (&[], sorted.table().skips[pattern]),
            _ => (&self.kinds[pattern], 0),
        };
        listed.iter().copied().chain(
            (0..4)
                .filter(move |s| skips & (1 << s) != 0)
                .map(|skip| Kind::Base64 { skip }),
        )
    }

    /// Every occurrence in `run` of every pattern (overlapping ones too).
    fn hits(&self, run: &[u8]) -> Vec<Hit> {
        match &self.search {
            Search::Whole(None) | Search::Prefix(None, _) => Vec::new(),
            Search::Whole(Some(ac)) => ac
                .find_overlapping_iter(run)
                .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
                .collect(),
            Search::Prefix(Some(ac), (patterns, under)) => {
                let mut hits = Vec::new();
                for m in ac.find_overlapping_iter(run) {
                    for &i in &under[m.pattern().as_usize()] {
                        let p = &patterns[i as usize];
                        if run[m.start()..].starts_with(p) {
                            hits.push((m.start(), m.start() + p.len(), i as usize));
                        }
                    }
                }
                hits
            }
            Search::Sorted(sorted) => sorted.table().hits(run),
        }
    }
}

/// Whether `keywords` (distinct) are the built-in rules' keywords, in any order.
fn is_builtin(keywords: &[Vec<u8>]) -> bool {
    let ends = builtin::BUILTIN_KEYWORD_ENDS;
    if keywords.len() != ends.len() {
        return false;
    }
    let mut mine: Vec<&[u8]> = keywords.iter().map(Vec::as_slice).collect();
    mine.sort_unstable();
    let mut start = 0;
    mine.iter().zip(ends).all(|(kw, &end)| {
        let theirs = &builtin::BUILTIN_KEYWORDS[start..end as usize];
        start = end as usize;
        *kw == theirs
    })
}

/// `bytes` as hex digits.
pub(crate) fn hex(bytes: &[u8], upper: bool) -> Vec<u8> {
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

/// Every encoding of `bytes` that identifies it inside a longer encoded text: its base64
/// (both alphabets, three alignments), or (`hex`) its hex digits in both cases.
fn encodings(bytes: &[u8], hex_digits: bool) -> Vec<(Vec<u8>, Kind)> {
    let mut out = Vec::new();
    if hex_digits {
        out.push((hex(bytes, false), Kind::Hex));
        out.push((hex(bytes, true), Kind::Hex));
        return out;
    }
    for align in 0..3 {
        for alphabet in [STD, URL] {
            let (core, skip) = base64_core(bytes, align, alphabet);
            out.push((core, Kind::Base64 { skip }));
        }
    }
    out
}

impl Triggers {
    /// The triggers of `keywords` (nothing is built until a run needs it).
    pub(crate) fn new<'k>(keywords: impl IntoIterator<Item = &'k str>) -> Self {
        let mut seen: HashSet<&str> = HashSet::new();
        let keywords = keywords
            .into_iter()
            .filter(|kw| !kw.is_empty() && seen.insert(kw))
            .map(|kw| kw.as_bytes().to_vec())
            .collect();
        Triggers {
            keywords,
            base64: OnceLock::new(),
            base64_sorted: OnceLock::new(),
            base64_whole: OnceLock::new(),
            searched: AtomicU64::new(0),
            hex: OnceLock::new(),
        }
    }

    /// The base64 automaton to search `len` more bytes with.
    fn base64(&self, len: usize) -> &Automaton {
        if let Some(whole) = self.base64_whole.get() {
            return whole;
        }
        let before = self.searched.fetch_add(len as u64, Ordering::Relaxed);
        if before >= WHOLE_AFTER {
            return self
                .base64_whole
                .get_or_init(|| Automaton::build(&self.keywords, false, false));
        }
        if let Some(prefix) = self.base64.get() {
            return prefix;
        }
        if before + len as u64 <= SORTED_UP_TO {
            return self
                .base64_sorted
                .get_or_init(|| Automaton::sorted(&self.keywords));
        }
        self.base64
            .get_or_init(|| Automaton::build(&self.keywords, false, true))
    }

    fn hex(&self) -> &Automaton {
        self.hex
            .get_or_init(|| Automaton::build(&self.keywords, true, false))
    }

    /// What in `run` (a base64-alphabet run, possibly joined from wrapped lines) to decode:
    /// around each encoded keyword, a window of base64 at the alignment the hit implies, or
    /// the hex run it is in; or, when it holds none and `twice` allows, the whole run if it is
    /// base64 of base64 text. Ranges are relative to `run`, in order, not overlapping.
    pub(crate) fn plans(&self, run: &[u8], twice: bool) -> Vec<Plan> {
        // A keyword of two bytes or more has a hex pattern (four digits) at least: with none,
        // there is nothing to look for.
        if !self.keywords.iter().any(|k| k.len() >= 2) {
            return Vec::new();
        }
        let head = &run[..run.len().min(64)];
        let all = u64::MAX.checked_shr(64 - head.len() as u32).unwrap_or(0);
        if hex_mask(head) & all == all && !hex_of_text(head) {
            // Checksums and hashes (lock files are full of them): hex of random bytes.
            return Vec::new();
        }
        let mut windows: Vec<Range<usize>> = Vec::new();
        let mut hex_runs: Vec<Range<usize>> = Vec::new();
        // A hex hit counts only inside a run of hex digits long enough to decode: without one,
        // the hex automaton is neither searched nor built.
        let automata = [
            Some(self.base64(run.len())),
            has_hex_stretch(run, MIN_HEX_RUN).then(|| self.hex()),
        ];
        for automaton in automata.into_iter().flatten() {
            for (start, end, pattern) in automaton.hits(run) {
                for kind in automaton.kinds(pattern) {
                    match kind {
                        Kind::Base64 { skip } => {
                            let phase = (start + 4 - skip) % 4;
                            windows.push(window(run.len(), start, phase));
                        }
                        Kind::Hex => {
                            if hex_runs.iter().any(|r| r.contains(&start)) {
                                continue;
                            }
                            let mut s = start;
                            while s > 0 && run[s - 1].is_ascii_hexdigit() {
                                s -= 1;
                            }
                            let mut e = end;
                            while e < run.len() && run[e].is_ascii_hexdigit() {
                                e += 1;
                            }
                            // Start on the byte boundary the hit implies.
                            s += (start - s) % 2;
                            if e - s >= MIN_HEX_RUN {
                                hex_runs.push(s..e);
                            }
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

/// Whether `run` holds at least `min` hex digits in a row.
fn has_hex_stretch(run: &[u8], min: usize) -> bool {
    let mut n = 0;
    for &b in run {
        if b.is_ascii_hexdigit() {
            n += 1;
            if n >= min {
                return true;
            }
        } else {
            n = 0;
        }
    }
    false
}

/// Whether the hex digits `run` (from either byte boundary) start with the hex of text:
/// hex-encoded keys are text, hashes and checksums are not (a third of random bytes are
/// printable).
pub(crate) fn hex_of_text(run: &[u8]) -> bool {
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

/// How much base64 around an encoded keyword is decoded (each side, in characters): enough
/// for the key and the lines about it, not a whole 100 MB blob for one hit.
pub(crate) const WINDOW: usize = 4096;

/// The base64 window around a hit at `at`, starting at alignment `phase`.
pub(crate) fn window(len: usize, at: usize, phase: usize) -> Range<usize> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The encoding by whole 3-byte groups, padded (what base64_core computes slot by slot).
    fn core_by_groups(bytes: &[u8], align: usize, alphabet: &[u8; 64]) -> (Vec<u8>, usize) {
        let mut padded = vec![0u8; align];
        padded.extend_from_slice(bytes);
        let mut chars = Vec::new();
        for group in padded.chunks(3) {
            let b = [
                group[0],
                *group.get(1).unwrap_or(&0),
                *group.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                chars.push(alphabet[((n >> (18 - 6 * k)) & 63) as usize]);
            }
        }
        let first = (align * 8).div_ceil(6);
        let last = (padded.len() * 8) / 6;
        if first >= last {
            return (Vec::new(), first % 4);
        }
        (chars[first..last].to_vec(), first % 4)
    }

    #[test]
    fn base64_core_equals_the_encoding_by_groups() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..3000 {
            let bytes: Vec<u8> = (0..rng.usize(0..12)).map(|_| rng.u8(..)).collect();
            for align in 0..3 {
                for alphabet in [STD, URL] {
                    assert_eq!(
                        base64_core(&bytes, align, alphabet),
                        core_by_groups(&bytes, align, alphabet),
                        "{bytes:?} at {align}"
                    );
                }
            }
        }
    }

    /// The table `build.rs` made is the built-in rules' own: their keywords, and the table
    /// `sorted_table` makes of them now; a scan with the built-in rules uses it, one with a
    /// keyword more makes its own.
    #[test]
    fn the_build_time_table_is_the_builtin_rules_table() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let keywords: Vec<&str> = rules
            .rules()
            .iter()
            .flat_map(|r| r.keywords.iter().map(String::as_str))
            .collect();
        let triggers = Triggers::new(keywords.iter().copied());
        assert!(is_builtin(&triggers.keywords));
        let made = sorted_table(triggers.keywords.iter().map(Vec::as_slice));
        let builtin = Sorted::Builtin;
        let t = builtin.table();
        assert!(t.len() > 500, "{}", t.len());
        assert_eq!(
            (t.bytes, t.ends, t.skips),
            (&made.bytes[..], &made.ends[..], &made.skips[..])
        );
        assert!(matches!(
            Automaton::sorted(&triggers.keywords).search,
            Search::Sorted(Sorted::Builtin)
        ));
        let mut more = triggers.keywords.clone();
        more.push(b"keyhound-test-keyword".to_vec());
        assert!(!is_builtin(&more));
        assert!(!is_builtin(&more[1..]));
        let own = Automaton::sorted(&more);
        assert!(matches!(own.search, Search::Sorted(Sorted::Built(_))));
        // The extra keyword's encoding is found by the table made for it.
        let (core, _) = base64_core(b"keyhound-test-keyword", 0, STD);
        assert!(!own.hits(&core).is_empty());
        assert!(Automaton::sorted(&triggers.keywords).hits(&core).is_empty());
    }

    /// The automaton over prefixes finds what one over the whole patterns finds.
    #[test]
    fn prefix_hits_are_the_whole_patterns_hits() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let keywords: Vec<Vec<u8>> = rules
            .rules()
            .iter()
            .flat_map(|r| r.keywords.iter().map(|k| k.as_bytes().to_vec()))
            .collect();
        let by_prefix = Automaton::build(&keywords, false, true);
        let whole = Automaton::build(&keywords, false, false);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut text = Vec::new();
        for i in 0..2000 {
            let kw = &keywords[rng.usize(..keywords.len())];
            let mut plain: Vec<u8> = (0..rng.usize(0..6))
                .map(|_| rng.alphanumeric() as u8)
                .collect();
            plain.extend_from_slice(kw);
            plain.extend((0..rng.usize(0..6)).map(|_| rng.alphanumeric() as u8));
            let (core, _) = base64_core(&plain, i % 3, if i % 2 == 0 { STD } else { URL });
            text.extend_from_slice(&core);
        }
        let mut a = by_prefix.hits(&text);
        let mut b = whole.hits(&text);
        a.sort_unstable();
        b.sort_unstable();
        assert!(b.len() > 2000, "{}", b.len());
        assert_eq!(a, b);
        // The sorted patterns (other pattern numbers): the same hits, pattern text and kinds.
        let sorted = Automaton::sorted(&keywords);
        let named = |auto: &Automaton, hits: Vec<Hit>| {
            let mut out: Vec<(usize, usize, Vec<u8>, Vec<String>)> = hits
                .into_iter()
                .map(|(s, e, p)| {
                    let mut kinds: Vec<String> = auto.kinds(p).map(|k| format!("{k:?}")).collect();
                    kinds.sort();
                    (s, e, text[s..e].to_vec(), kinds)
                })
                .collect();
            out.sort();
            out
        };
        assert_eq!(named(&sorted, sorted.hits(&text)), named(&whole, b));
    }
}
