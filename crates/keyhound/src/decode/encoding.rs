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
//!
//! The parts: `alphabet` (tables and primitive decoders), `offsets` (maps back to the source),
//! `triggers` (encoded keywords and what to decode around them), `runs` (base64 and hex runs)
//! and `escapes` (percent- and escape-decoded lines). This file holds the one pass that finds
//! runs and escaped lines together.

mod alphabet;
mod escapes;
mod offsets;
mod patterns;
mod runs;
mod triggers;

use std::ops::Range;

use super::classify::for_each_marked;
#[cfg(test)]
use super::classify::MIN_B64_RUN;
use escapes::EscapeFinder;
use runs::{Run, RunFinder};

pub(crate) use escapes::{decode_escapes, decode_percent};
pub(crate) use offsets::{Decoded, OffsetMap};
pub(crate) use triggers::Triggers;

/// Where a text may hide encoded strings.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Runs of at least [`MIN_B64_RUN`](super::classify::MIN_B64_RUN) base64 characters that
    /// may be encoded data (see `worth_a_look`), lines of a wrapped block (each line only
    /// base64, every line but the last a multiple of 4 long) joined into one.
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
pub(crate) fn escaped_within(content: &[u8], reach: usize) -> Vec<(Range<usize>, bool, bool)> {
    find_within(content, reach).escaped
}

#[cfg(test)]
mod tests {
    use super::alphabet::*;
    use super::escapes::*;
    use super::runs::*;
    use super::triggers::*;
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
