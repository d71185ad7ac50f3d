//! What is nested inside content: encoded strings, archives and notebooks. It holds the
//! unwrapping and its limits; matching is the [`Matcher`]'s, reporting the reporters'.
//!
//! [`Scanner::scan_content`] scans content as it is, then calls this module, so every source
//! (files, stdin, git history, the staged index) looks inside the same things:
//!
//! - **Encodings**: base64 (standard and URL-safe, also wrapped over lines), hex,
//!   percent-encoding, JSON and JavaScript string escapes (`\u002d`, `\x2d`, `\/`). Decoded text
//!   is scanned with the same rules; the finding's [`Finding::decoded`] says how
//!   (`base64 > percent`) and its location is that of the encoded text in the blob.
//! - **Containers**: zip and the formats built on it (jar, docx, xlsx…), tar, gzip and tar.gz,
//!   recognised by their magic bytes. A member is scanned as content of its own at
//!   `outer.zip!dir/member` (nested: `a.tar.gz!b.zip!c/.env`); its findings carry the member's
//!   own lines and columns.
//! - **Jupyter notebooks** (`.ipynb`): each cell's source and each output's text is scanned as
//!   content of its own at `nb.ipynb#cell-N` or `nb.ipynb#cell-N/output-M` (both 1-based, in
//!   file order), so lines are lines of the cell, not of the JSON.
//!
//! # Contract
//!
//! - Cost: nothing is decoded on speculation. A base64 or hex run is decoded only where it holds
//!   an encoding of a rule keyword; a line is percent- or escape-decoded only where it holds such
//!   an escape, and is matched only if the prefilter then finds a keyword. Archive detection
//!   reads at most a few magic bytes.
//! - Limits: `max_decode_depth` layers (each decoding, each archive, each notebook is one layer;
//!   a tar.gz is one) — 0 turns all of this off. Per top-level blob, decompressed and decoded
//!   bytes share a budget of four times `max_file_size` (at most 1 GiB); a member larger than
//!   `max_file_size` once decompressed is not scanned. Members are read through `Read::take`
//!   whatever size their header states, so a decompression bomb costs at most those limits in
//!   memory and time, and a header cannot make a member be skipped. Every limit hit and every
//!   corrupt archive is an [`Incomplete`] entry in [`ContentResult::incomplete`] (an archive or
//!   an encoded keyword nested deeper than the depth too); the scan goes on, and the raw bytes
//!   of a corrupt archive have been scanned as binary already.
//! - Dedup: a secret found both as it is and decoded at the same place is reported once (the
//!   plain finding); one found in the raw bytes of an archive or notebook and in a member or cell
//!   is reported at the member or cell.
//! - Out of scope: a key split by string concatenation or a line continuation.
//!
//! [`Matcher`]: crate::matcher::Matcher
//! [`Finding::decoded`]: crate::Finding::decoded

mod archive;
mod classify;
mod encoding;
mod notebook;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::rc::Rc;
use std::sync::OnceLock;

use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::scan::{ContentResult, Incomplete, Scanner, Unread};
use crate::source::blob::{Blob, Host, Layer, Origin};
pub(crate) use encoding::OffsetMap;
use encoding::{Decoded, Triggers};

/// Per-scanner state of this module, built on first use.
#[derive(Debug, Default)]
pub(crate) struct Nested {
    triggers: OnceLock<Triggers>,
}

/// The decompressed-and-decoded budget per top-level blob is this many times `max_file_size`…
const BUDGET_FACTOR: u64 = 4;
/// …but never more than this.
const BUDGET_CAP: u64 = 1 << 30;
/// Archive members looked at per top-level blob.
const MAX_MEMBERS: usize = 100_000;

fn budget(max_file_size: u64) -> u64 {
    max_file_size.saturating_mul(BUDGET_FACTOR).min(BUDGET_CAP)
}

/// Scans what is nested in `blob` (already scanned as it is into `result`) and adds the
/// findings, what could not be read and notes to `result`.
pub(crate) fn scan_nested(
    scanner: &Scanner,
    matcher: &mut Matcher<'_>,
    blob: &Blob<'_>,
    result: &mut ContentResult,
) {
    let max_depth = scanner.options.max_decode_depth;
    if max_depth == 0 {
        return;
    }
    // Plain offsets are those of the UTF-8 text when the content is UTF-16.
    let utf8 = crate::scan::decode_utf16(blob.bytes);
    let content = utf8.as_deref().unwrap_or(blob.bytes);
    let max_file_size = scanner.options.max_file_size;
    let mut cx = Cx {
        scanner,
        max_depth,
        budget: Rc::new(Cell::new(budget(max_file_size))),
        member_cap: max_file_size,
        members_left: MAX_MEMBERS,
        budget_noted: false,
        seen: Seen::default(),
        decoded_spans: Vec::new(),
        incomplete: Vec::new(),
        notes: Vec::new(),
    };
    cx.remember(&result.findings);
    let plain = result.findings.len();
    cx.inside(matcher, &blob.origin, content, 0, result.binary, 0, result);
    disown(scanner, plain, &cx.decoded_spans, result);
    result.incomplete.append(&mut cx.incomplete);
    result.notes.append(&mut cx.notes);
}

/// The unwrapping of one top-level blob: limits left and what was reported.
struct Cx<'s> {
    scanner: &'s Scanner,
    max_depth: usize,
    /// Bytes left to decompress or decode (shared with the decompressing readers).
    budget: Rc<Cell<u64>>,
    /// Largest member, once decompressed.
    member_cap: u64,
    members_left: usize,
    budget_noted: bool,
    /// Findings reported so far.
    seen: Seen,
    /// Where in the top-level blob a decoded finding's encoded text sits.
    decoded_spans: Vec<Range<usize>>,
    incomplete: Vec<Incomplete>,
    notes: Vec<String>,
}

/// Where each secret was reported, per path and fingerprint: the union of the byte ranges, kept
/// as disjoint ranges by start, so that a blob with many findings looks each up in logarithmic
/// time (a list searched whole for every decoded finding made a minified file quadratic).
#[derive(Default)]
struct Seen(HashMap<(String, String), BTreeMap<usize, usize>>);

impl Seen {
    fn insert(&mut self, path: &str, fingerprint: &str, range: Range<usize>) {
        let spans = self
            .0
            .entry((path.to_string(), fingerprint.to_string()))
            .or_default();
        let (mut start, mut end) = (range.start, range.end);
        // Merge with every range it touches, so that the ranges stay disjoint.
        let touching: Vec<(usize, usize)> = spans
            .range(..=end)
            .rev()
            .take_while(|(_, &e)| e >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            spans.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        spans.insert(start, end);
    }

    fn overlaps(&self, path: &str, fingerprint: &str, range: &Range<usize>) -> bool {
        let Some(spans) = self.0.get(&(path.to_string(), fingerprint.to_string())) else {
            return false;
        };
        // Disjoint ranges sorted by start end in order too: only the last one starting before
        // `range` ends can reach into it.
        spans
            .range(..range.end)
            .next_back()
            .is_some_and(|(_, &end)| end > range.start)
    }
}

impl<'s> Cx<'s> {
    fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// What `origin` names could not be read whole: the scan is incomplete.
    fn unread(&mut self, origin: &Origin<'_>, reason: Unread) {
        self.incomplete.push(Incomplete::at(origin, reason));
    }

    /// Takes `n` bytes from the budget; false (and a note, once) when it is used up.
    fn spend(&mut self, n: u64, origin: &Origin<'_>) -> bool {
        let left = self.budget.get();
        if n <= left {
            self.budget.set(left - n);
            return true;
        }
        self.budget.set(0);
        self.budget_exhausted(origin);
        false
    }

    fn budget_exhausted(&mut self, origin: &Origin<'_>) {
        if !self.budget_noted {
            self.budget_noted = true;
            let limit = budget(self.member_cap);
            self.unread(origin.root(), Unread::DecodeBudget { limit });
        }
    }

    fn remember(&mut self, findings: &[Finding]) {
        for f in findings {
            let l = f.location();
            self.seen.insert(
                &l.path,
                &f.fingerprint,
                l.offset..l.offset + f.secret.len().max(1),
            );
        }
    }

    /// Looks inside `content`, a blob from `origin` that is `depth` layers deep and has been
    /// scanned as it is; its own findings are those of `out` from `own` on.
    #[allow(clippy::too_many_arguments)]
    fn inside(
        &mut self,
        matcher: &mut Matcher<'_>,
        origin: &Origin<'_>,
        content: &[u8],
        depth: usize,
        binary: bool,
        own: usize,
        out: &mut ContentResult,
    ) {
        if depth >= self.max_depth {
            let nested =
                archive::detect(content).is_some() || (!binary && self.encoded_keyword(content));
            if depth > 0 && nested {
                self.unread(
                    origin,
                    Unread::DepthLimit {
                        depth: self.max_depth,
                    },
                );
            }
            return;
        }
        if let Some(kind) = archive::detect(content) {
            let mark = out.findings.len();
            if archive::scan(self, matcher, origin, content, kind, depth, out) {
                prefer_inner(own, mark, out);
                return;
            }
        }
        if notebook::is_notebook(&origin.shown()) {
            let mark = out.findings.len();
            if notebook::scan(self, matcher, origin, content, depth, out) {
                prefer_inner(own, mark, out);
                return;
            }
        }
        if binary {
            return;
        }
        let host = Host::new(content);
        self.encodings(matcher, origin, &host, depth == 0, content, depth, out);
    }

    /// Scans a member or cell: as it is, then inside.
    fn blob(
        &mut self,
        matcher: &mut Matcher<'_>,
        origin: &Origin<'_>,
        content: &[u8],
        depth: usize,
        out: &mut ContentResult,
    ) {
        if let Some(why) = self.scanner.path_skip(&origin.shown()) {
            out.removed.skipped(why);
            return;
        }
        let r = self
            .scanner
            .scan_blob_plain(matcher, &Blob::new(content, *origin));
        self.remember(&r.findings);
        out.removed.add(&r.removed);
        let own = out.findings.len();
        out.findings.extend(r.findings);
        out.explanations.extend(r.explanations);
        let utf8 = crate::scan::decode_utf16(content);
        let content = utf8.as_deref().unwrap_or(content);
        self.inside(matcher, origin, content, depth, r.binary, own, out);
    }

    /// Finds encoded strings in `text` (the bytes of `origin`: `host` itself, or bytes
    /// decoded from it), `depth` layers deep, and scans what they decode to. `top`: `host` is
    /// the top-level blob.
    #[allow(clippy::too_many_arguments)]
    fn encodings(
        &mut self,
        matcher: &mut Matcher<'_>,
        origin: &Origin<'_>,
        host: &Host<'_>,
        top: bool,
        text: &[u8],
        depth: usize,
        out: &mut ContentResult,
    ) {
        if depth >= self.max_depth {
            if self.encoded_keyword(text) {
                let depth = self.max_depth;
                self.unread(origin.undecoded(), Unread::DepthLimit { depth });
            }
            return;
        }
        // Each piece is scanned and dropped before the next is decoded: what is held at once
        // is one run's or one line's decodings.
        let mut decoded: Vec<Decoded> = Vec::new();
        let found = encoding::find(text);
        if !found.runs.is_empty() {
            let triggers = self.triggers();
            for run in found.runs {
                let (joined, join_map) = run.text(text);
                for plan in triggers.plans(&joined, depth + 2 <= self.max_depth) {
                    let mut d = plan.decode(&joined);
                    d.maps.push(join_map.clone());
                    decoded.push(d);
                    if !self.scan_decoded(matcher, origin, host, top, &mut decoded, depth, out) {
                        return;
                    }
                }
            }
        }
        for (line, percent, escape) in found.escaped {
            if percent {
                decoded.push(encoding::decode_percent(&text[line.clone()], line.start));
            }
            if escape {
                decoded.push(encoding::decode_escapes(&text[line.clone()], line.start));
            }
            if !self.scan_decoded(matcher, origin, host, top, &mut decoded, depth, out) {
                return;
            }
        }
    }

    fn triggers(&self) -> &'s Triggers {
        let scanner = self.scanner;
        scanner.nested.triggers.get_or_init(|| {
            let rules = scanner.rules().rules();
            Triggers::new(
                rules
                    .iter()
                    .flat_map(|r| r.keywords.iter().map(String::as_str)),
            )
        })
    }

    /// Whether `text` holds what one more layer of decoding would look at: a base64 or hex run
    /// that encodes a rule keyword, or an escaped line whose decoding holds a keyword the line
    /// itself does not.
    fn encoded_keyword(&self, text: &[u8]) -> bool {
        let found = encoding::find(text);
        let triggers = self.triggers();
        if found
            .runs
            .iter()
            .any(|run| !triggers.plans(&run.text(text).0, false).is_empty())
        {
            return true;
        }
        found.escaped.iter().any(|(line, percent, escape)| {
            let raw = &text[line.clone()];
            let before = self.scanner.keyword_rules(raw);
            let more = |d: Decoded| self.scanner.keyword_rules(&d.bytes) > before;
            (*percent && more(encoding::decode_percent(raw, 0)))
                || (*escape && more(encoding::decode_escapes(raw, 0)))
        })
    }

    /// Scans and drops `pieces`, decoded from the bytes of `origin`, `depth` layers deep;
    /// false when the budget is used up.
    #[allow(clippy::too_many_arguments)]
    fn scan_decoded(
        &mut self,
        matcher: &mut Matcher<'_>,
        origin: &Origin<'_>,
        host: &Host<'_>,
        top: bool,
        pieces: &mut Vec<Decoded>,
        depth: usize,
        out: &mut ContentResult,
    ) -> bool {
        for d in pieces.drain(..) {
            // Out of time: the scanner records it; decoding more would be matched by no rule.
            if matcher.expired() || !self.spend(d.bytes.len() as u64, origin) {
                return false;
            }
            let layer = Layer::new(d.how, &d.maps, host);
            let child = Origin::Decoded {
                parent: origin,
                layer: &layer,
            };
            self.decoded(matcher, &child, host, top, &d, depth + 1, out);
        }
        true
    }

    /// Scans bytes decoded from `host` (`origin` says how), then looks for encodings inside
    /// them.
    #[allow(clippy::too_many_arguments)]
    fn decoded(
        &mut self,
        matcher: &mut Matcher<'_>,
        origin: &Origin<'_>,
        host: &Host<'_>,
        top: bool,
        decoded: &Decoded,
        depth: usize,
        out: &mut ContentResult,
    ) {
        let bytes = &decoded.bytes;
        let r = self
            .scanner
            .scan_blob_plain(matcher, &Blob::new(bytes, *origin));
        out.removed.add(&r.removed);
        for f in r.findings {
            let l = f.location();
            let span = l.offset..l.end_offset;
            if self.seen.overlaps(&l.path, &f.fingerprint, &span) {
                continue;
            }
            if top {
                self.decoded_spans.push(span.clone());
            }
            self.seen.insert(&l.path, &f.fingerprint, span);
            out.findings.push(f);
        }
        // Explanations of decoded text would carry positions in that text; `--explain` shows
        // the blob's own candidates only.
        if decoded.look_inside && !r.binary {
            self.encodings(matcher, origin, host, top, bytes, depth, out);
        }
    }
}

/// A decoded finding owns the encoded text it came from: drops the generic findings of the
/// blob's plain scan (the first `plain` findings) whose secret overlaps such text (a base64
/// value in a Kubernetes Secret is one key, not a key and a generic finding on its encoding).
fn disown(scanner: &Scanner, plain: usize, spans: &[Range<usize>], out: &mut ContentResult) {
    if spans.is_empty() {
        return;
    }
    let mut i = 0;
    out.findings.retain(|f| {
        i += 1;
        if i > plain {
            return true;
        }
        let generic = scanner.rules().get(&f.rule_id).is_some_and(|r| r.generic);
        let at = f.location().offset..f.location().offset + f.secret.len().max(1);
        !(generic && spans.iter().any(|s| s.start < at.end && at.start < s.end))
    });
}

/// Drops the blob's own findings (those of `out` from `own` to `mark`) whose secret was also
/// found in one of its members or cells (the findings after `mark`), which say better where it
/// is.
fn prefer_inner(own: usize, mark: usize, out: &mut ContentResult) {
    if out.findings.len() == mark || own == mark {
        return;
    }
    let inner: Vec<String> = out.findings[mark..]
        .iter()
        .map(|f| f.fingerprint.clone())
        .collect();
    let mut i = 0;
    out.findings.retain(|f| {
        i += 1;
        i <= own || i > mark || !inner.contains(&f.fingerprint)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        let body = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            (0..74)
                .map(|_| a[rng.usize(..a.len())] as char)
                .collect::<String>()
        };
        format!(
            "sk-proj-{}{}{}",
            body(1),
            ["T3Bl", "bkFJ"].concat(),
            body(2)
        )
    }

    #[test]
    fn escapes_far_along_a_long_line_are_decoded_where_they_are() {
        let scanner = Scanner::new(crate::RuleSet::builtin().unwrap());
        let key = key();
        let encoded = key.replace('-', "%2D");
        let pad = "x=1;".repeat(10_000);
        let line = format!("{pad}u=\"https%3A%2F%2Fa.example%2F\";{pad}k=\"{encoded}\";{pad}\n");
        let mut m = scanner.matcher();
        let found = scanner
            .scan_content(&mut m, "app.min.js", line.as_bytes())
            .findings;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].secret, key);
        assert_eq!(found[0].decoded.as_deref(), Some("percent"));
        let l = found[0].location();
        assert_eq!((l.line, l.column), (1, line.find("sk%2D").unwrap() + 1));
    }

    #[test]
    fn seen_ranges_answer_as_a_list_of_every_range_does() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..200 {
            let mut seen = Seen::default();
            let mut list: Vec<(&str, Range<usize>)> = Vec::new();
            for _ in 0..rng.usize(0..30) {
                let fp = ["a", "b"][rng.usize(0..2)];
                let start = rng.usize(0..100);
                let r = start..start + rng.usize(1..10);
                if rng.bool() {
                    seen.insert("p", fp, r.clone());
                    list.push((fp, r));
                } else {
                    let want = list
                        .iter()
                        .any(|(f, x)| *f == fp && x.start < r.end && r.start < x.end);
                    assert_eq!(seen.overlaps("p", fp, &r), want, "{list:?} {fp} {r:?}");
                    assert!(!seen.overlaps("q", fp, &r));
                }
            }
        }
    }
}
