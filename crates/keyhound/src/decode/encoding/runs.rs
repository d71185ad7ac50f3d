//! Runs of base64-alphabet characters that may be encoded data: found from the start bits of
//! [`Marked`] blocks, judged on their head (case mix, hex digits), and joined over the lines of
//! a wrapped block. It does not decide what in a run to decode (see `triggers`).

use std::ops::Range;

use super::super::classify::{case_masks, Marked};
use super::alphabet::{hex_mask, is_b64};
use super::offsets::{OffsetMap, Piece};

/// Shortest hex run worth decoding: 16 bytes (`worth_a_look` counts on it being 32).
pub(crate) const MIN_HEX_RUN: usize = 32;

/// A base64-alphabet run, maybe wrapped over several lines: the spans of `content` it is made
/// of, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) first: Range<usize>,
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

/// [`worth_a_look_in`] on the bytes of a run, for tests.
#[cfg(test)]
pub(crate) fn worth_a_look(run: &[u8]) -> bool {
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

/// Turns the starts of long runs into [`Run`]s.
pub(crate) struct RunFinder<'c> {
    pub(crate) content: &'c [u8],
    pub(crate) out: Vec<Run>,
    /// Where the last run looked at ends (a wrapped block reaches past its first line).
    pub(crate) done: usize,
}

impl RunFinder<'_> {
    /// The runs that start in `block`: the first start bit of a run not looked at yet is
    /// where it starts (its other bits follow it). Each run is judged on its head
    /// (`worth_a_look_in`) from the block's masks.
    pub(crate) fn starts_at(&mut self, block: &Marked) {
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
