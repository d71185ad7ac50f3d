//! The keyword prefilter: every rule's keywords, case-sensitive, found with aho-corasick's SIMD
//! searcher (Teddy) in a few passes over the content.
//!
//! Contract: it may name a rule whose regex then finds nothing (a false candidate), but it never
//! misses a rule one of whose keywords occurs in the text. Leftmost-first reports at most one
//! keyword per start position, so a keyword hit also stands for every keyword that shares a
//! prefix with it (`sk-` and `sk-proj-` start at the same place); searching again from the next
//! byte after each hit covers keywords that start inside another one.
//!
//! Cost: each pass reads every byte once, about 0.25 s per GiB here whatever it holds, and more
//! when its patterns make Teddy verify many false candidates. Teddy keeps 16 buckets of
//! patterns and flags a position when the low and high nibbles of its first bytes (up to four,
//! fewer if the pass has a shorter keyword) could start a pattern of a bucket; a bucket of
//! unrelated patterns accepts the cross product of their nibbles and flags ordinary text all
//! the time. So keywords are laid out by *stem* (their first four bytes, ASCII case folded:
//! `okta`, `Okta` and `OKTA` share one and cost about one pattern), sorted so that each bucket
//! gets neighbouring stems, at most [`PASS_STEMS`] in a pass. Keywords shorter than four bytes
//! get a pass of their own: their three-byte mask would let through far more text for the
//! stems beside them, and alone (up to 32 patterns) they take Teddy's slim variant, 32 bytes a
//! step. Timed alone over every blob of cargo's history (1.3 GiB, one thread): the 98 keywords
//! of the built-in rules took 0.63 s laid out this way against 0.73 s in groups of 64 in rule
//! order, and a set of 182 keywords 1.03 s against 3.7 s. A pass costs about two instructions a
//! byte whatever it holds (fat Teddy; slim about one): counted with callgrind over a twelfth of
//! cargo's history (113 MB), 48 rare keywords took 228 M instructions, one keyword 129 M, and the
//! 292 built-in keywords in four passes 1,132 M, 1,025 M once the short keywords (22) had their
//! pass to themselves instead of sharing it with ten stems.

use std::collections::BTreeMap;

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, Input, MatchKind, Span};

use crate::rules::Rule;

/// Most stems in any other pass: three per bucket.
pub(crate) const PASS_STEMS: usize = 48;

/// Teddy's buckets (the 256-bit "fat" variant; with fewer than 33 patterns it uses 8).
const BUCKETS: usize = 16;

/// Most patterns aho-corasick's packed searcher takes.
const PACKED_LIMIT: usize = 128;

/// Keywords shorter than this cut the mask of the pass that holds them.
const STEM_LEN: usize = 4;

/// The compiled prefilter for a rule list.
#[derive(Debug)]
pub struct Prefilter {
    passes: Vec<Pass>,
    /// For each distinct keyword, the rules it may stand for.
    rules_for: Vec<Vec<u32>>,
    /// Rules without keywords (a user's own, see `RuleSet::add_file`): candidates everywhere.
    always: Vec<u32>,
}

/// One pass over the content: a searcher and, for each of its patterns, the keyword it is.
#[derive(Debug)]
struct Pass {
    searcher: PassSearcher,
    keyword: Vec<u32>,
}

#[derive(Debug)]
enum PassSearcher {
    /// Teddy, built with the layout above.
    Teddy(packed::Searcher),
    /// Where Teddy is not available (no SSSE3/AVX2 or NEON): an automaton, same semantics.
    Automaton(AhoCorasick),
}

impl PassSearcher {
    fn build(patterns: &[&str]) -> PassSearcher {
        let mut config = packed::Config::new();
        config
            .match_kind(packed::MatchKind::LeftmostFirst)
            // The layout keeps buckets apart itself; the default limit (64 patterns) would
            // count case variants that cost almost nothing.
            .heuristic_pattern_limits(false);
        let mut builder = config.builder();
        builder.extend(patterns);
        match builder.build() {
            Some(s) => PassSearcher::Teddy(s),
            None => PassSearcher::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(patterns)
                    .expect("keywords are non-empty literals; the automaton size is small"),
            ),
        }
    }

    /// The first match at or after `at`: (pattern index, start).
    fn find(&self, hay: &[u8], at: usize) -> Option<(usize, usize)> {
        match self {
            PassSearcher::Teddy(s) => s
                .find_in(hay, Span::from(at..hay.len()))
                .map(|m| (m.pattern().as_usize(), m.start())),
            PassSearcher::Automaton(ac) => ac
                .find(Input::new(hay).span(at..hay.len()))
                .map(|m| (m.pattern().as_usize(), m.start())),
        }
    }
}

impl Prefilter {
    /// Builds the passes over the keywords of `rules` (indices into that slice).
    pub fn new(rules: &[Rule]) -> Prefilter {
        let mut keywords: Vec<&str> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        // Keyword → its position, so that collecting the distinct keywords and finding each
        // one's prefixes stays linear in their number (a scan over the list was quadratic,
        // and every run, the one-file pre-commit check included, builds this).
        let mut index: std::collections::HashMap<&str, usize> = Default::default();
        for (i, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                always.push(i as u32);
            }
            for kw in &rule.keywords {
                match index.get(kw.as_str()) {
                    Some(&p) => owners[p].push(i as u32),
                    None => {
                        index.insert(kw, keywords.len());
                        keywords.push(kw);
                        owners.push(vec![i as u32]);
                    }
                }
            }
        }
        // A hit on a keyword is a hit on every keyword it starts with or that starts with it.
        // In sorted order, the longer ones follow it, and the shorter ones are what a stack
        // holds when it is reached, if each keyword pops those it does not start with and is
        // pushed (every keyword between a prefix and it starts with that prefix too). Looking
        // each prefix up in a map cost more than the rest of building the prefilter.
        let mut sorted: Vec<usize> = (0..keywords.len()).collect();
        sorted.sort_unstable_by_key(|&k| keywords[k]);
        let mut rules_for: Vec<Vec<u32>> = vec![Vec::new(); keywords.len()];
        let mut stack: Vec<usize> = Vec::new();
        for (at, &k) in sorted.iter().enumerate() {
            let kw = keywords[k];
            while stack.last().is_some_and(|&p| !kw.starts_with(keywords[p])) {
                stack.pop();
            }
            let mut set: Vec<u32> = Vec::new();
            for &p in &stack {
                set.extend(&owners[p]);
            }
            for &longer in sorted[at..]
                .iter()
                .take_while(|&&l| keywords[l].starts_with(kw))
            {
                set.extend(&owners[longer]);
            }
            set.sort_unstable();
            set.dedup();
            rules_for[k] = set;
            stack.push(k);
        }
        let passes = layout(&keywords)
            .into_iter()
            .map(|order| {
                let patterns: Vec<&str> = order.iter().map(|&k| keywords[k]).collect();
                Pass {
                    searcher: PassSearcher::build(&patterns),
                    keyword: order.iter().map(|&k| k as u32).collect(),
                }
            })
            .collect();
        Prefilter {
            passes,
            rules_for,
            always,
        }
    }

    /// Marks in `candidates` (one flag per rule) every rule that may match `hay`.
    /// Returns how many distinct rules were marked.
    pub fn candidates(&self, hay: &[u8], candidates: &mut [bool]) -> usize {
        let mut marked = 0;
        for &r in &self.always {
            let flag = &mut candidates[r as usize];
            if !*flag {
                *flag = true;
                marked += 1;
            }
        }
        for pass in &self.passes {
            let mut at = 0;
            while at < hay.len() {
                let Some((pattern, start)) = pass.searcher.find(hay, at) else {
                    break;
                };
                for &r in &self.rules_for[pass.keyword[pattern] as usize] {
                    let flag = &mut candidates[r as usize];
                    if !*flag {
                        *flag = true;
                        marked += 1;
                    }
                }
                at = start + 1;
            }
        }
        marked
    }
}

/// Splits `keywords` into passes; each pass lists keyword indices in the order they become
/// Teddy patterns. Keywords shorter than [`STEM_LEN`] make the first pass, alone; the others
/// are grouped by stem, stems sorted, and each pass gets a run of stems, balanced.
fn layout(keywords: &[&str]) -> Vec<Vec<usize>> {
    let mut short: Vec<usize> = Vec::new();
    let mut by_stem: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    for (i, k) in keywords.iter().enumerate() {
        if k.len() < STEM_LEN {
            short.push(i);
        } else {
            by_stem
                .entry(k.as_bytes()[..STEM_LEN].to_ascii_lowercase())
                .or_default()
                .push(i);
        }
    }
    let stems: Vec<Vec<usize>> = by_stem.into_values().collect();
    let mut chunks: Vec<(Vec<usize>, &[Vec<usize>])> = Vec::new();
    if !short.is_empty() {
        chunks.push((short, &[]));
    }
    let rest: &[Vec<usize>] = &stems;
    if !rest.is_empty() {
        let n = rest.len().div_ceil(PASS_STEMS);
        let per = rest.len().div_ceil(n);
        for c in rest.chunks(per) {
            chunks.push((Vec::new(), c));
        }
    }
    let mut passes = Vec::new();
    for (short, stems) in chunks {
        split_to_limit(short, stems, &mut passes);
    }
    passes
}

/// Appends the pass for `short` and `stems`, halved until no pass exceeds [`PACKED_LIMIT`].
fn split_to_limit(short: Vec<usize>, stems: &[Vec<usize>], passes: &mut Vec<Vec<usize>>) {
    let count = short.len() + stems.iter().map(Vec::len).sum::<usize>();
    if count > PACKED_LIMIT && stems.len() > 1 {
        let (a, b) = stems.split_at(stems.len() / 2);
        split_to_limit(short, a, passes);
        split_to_limit(Vec::new(), b, passes);
        return;
    }
    passes.push(order_pass(short, stems));
}

/// The pattern order of one pass. Teddy puts a pattern whose low-nibble prefix it has not seen
/// yet into bucket `15 - id % 16`, and one it has seen into that pattern's bucket; so the first
/// keyword of each stem is placed such that bucket `b` receives the `b`-th run of neighbouring
/// stems, and the other keywords of a stem (case variants, longer keywords) follow them.
fn order_pass(short: Vec<usize>, stems: &[Vec<usize>]) -> Vec<usize> {
    let mut out = short;
    let per = stems.len().div_ceil(BUCKETS).max(1);
    let runs: Vec<&[Vec<usize>]> = stems.chunks(per).collect();
    let mut heads: Vec<&Vec<usize>> = Vec::with_capacity(stems.len());
    for j in 0..per {
        for run in &runs {
            if let Some(stem) = run.get(j) {
                heads.push(stem);
            }
        }
    }
    out.extend(heads.iter().map(|s| s[0]));
    for s in heads {
        out.extend(&s[1..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{syntax::RuleFile, RuleSet};

    #[test]
    fn each_keyword_names_the_rules_of_every_keyword_it_overlaps_by_prefix() {
        let set = RuleSet::builtin().unwrap();
        let rules = set.rules();
        let p = Prefilter::new(rules);
        // Brute force: the rules of every keyword that starts with this one or that this
        // one starts with, for each distinct keyword in order of first appearance.
        let mut keywords: Vec<&str> = Vec::new();
        for r in rules {
            for k in &r.keywords {
                if !keywords.contains(&k.as_str()) {
                    keywords.push(k);
                }
            }
        }
        assert_eq!(p.rules_for.len(), keywords.len());
        for (n, k) in keywords.iter().enumerate() {
            let mut want: Vec<u32> = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.keywords
                        .iter()
                        .any(|o| o.starts_with(k) || k.starts_with(o.as_str()))
                })
                .map(|(i, _)| i as u32)
                .collect();
            want.dedup();
            assert_eq!(p.rules_for[n], want, "{k}");
        }
    }

    fn set(keywords: &[&[&str]]) -> RuleSet {
        let mut text = String::new();
        for (i, kws) in keywords.iter().enumerate() {
            let list: Vec<String> = kws.iter().map(|k| format!("{k:?}")).collect();
            text += &format!(
                "[[rules]]\nid='r{i}'\ndescription='d'\nregex='x'\nkeywords=[{}]\n",
                list.join(",")
            );
        }
        let mut s = RuleSet::default();
        s.add_file(RuleFile::parse("t", &text).unwrap(), true)
            .unwrap();
        s
    }

    fn hits(rules: &RuleSet, hay: &str) -> Vec<bool> {
        let p = Prefilter::new(rules.rules());
        let mut c = vec![false; rules.rules().len()];
        p.candidates(hay.as_bytes(), &mut c);
        c
    }

    #[test]
    fn shared_prefix_keywords_both_found() {
        let rules = set(&[&["sk-"], &["sk-proj-"]]);
        assert_eq!(hits(&rules, "a sk-proj-abc"), vec![true, true]);
        // A shorter keyword stands for the longer ones it prefixes: a false candidate, allowed.
        assert_eq!(hits(&rules, "a sk-abc"), vec![true, true]);
        assert_eq!(hits(&rules, "a sk_abc"), vec![false, false]);
    }

    #[test]
    fn keyword_inside_another_found() {
        // "bc" starts inside "abcd": a plain leftmost-first iteration would skip it.
        let rules = set(&[&["abcd"], &["bc"]]);
        assert_eq!(hits(&rules, "xxabcdxx"), vec![true, true]);
    }

    #[test]
    fn many_keywords_in_several_passes_all_found() {
        // Distinct stems (the first four bytes differ), enough for several passes.
        let words: Vec<String> = (0..130).map(|i| format!("{i:04}kw")).collect();
        let refs: Vec<Vec<&str>> = words.iter().map(|w| vec![w.as_str()]).collect();
        let slices: Vec<&[&str]> = refs.iter().map(|v| v.as_slice()).collect();
        let rules = set(&slices);
        let p = Prefilter::new(rules.rules());
        assert!(p.passes.len() >= 3);
        for (i, w) in words.iter().enumerate() {
            let c = hits(&rules, &format!("a {w} b"));
            assert!(c[i], "{w} lost");
            assert_eq!(c.iter().filter(|&&x| x).count(), 1);
        }
    }

    fn stem(k: &str) -> Vec<u8> {
        k.as_bytes()[..STEM_LEN.min(k.len())].to_ascii_lowercase()
    }

    #[test]
    fn layout_keeps_short_keywords_and_stems_together() {
        let mut kws: Vec<String> = vec!["://".into(), "hf_".into(), "SG.".into()];
        for w in ["okta", "twilio", "mailgun", "vercel", "netlify", "heroku"] {
            kws.push(w.to_string());
            kws.push(w.to_uppercase());
            kws.push(format!("{}{}", w[..1].to_uppercase(), &w[1..]));
        }
        kws.extend((0..120).map(|i| format!("{i:04}_tok")));
        let refs: Vec<&str> = kws.iter().map(String::as_str).collect();
        let passes = layout(&refs);
        // Every keyword exactly once.
        let mut seen: Vec<usize> = passes.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..kws.len()).collect::<Vec<_>>());
        // Short keywords only in the first pass, and alone there; a stem never split across
        // passes.
        for (p, pass) in passes.iter().enumerate() {
            for &k in pass {
                assert_eq!(kws[k].len() < STEM_LEN, p == 0, "{} in pass {p}", kws[k]);
                let home = passes
                    .iter()
                    .position(|q| q.iter().any(|&j| stem(&kws[j]) == stem(&kws[k])));
                assert_eq!(home, Some(p), "stem of {} split", kws[k]);
            }
            let stems: std::collections::BTreeSet<Vec<u8>> =
                pass.iter().map(|&k| stem(&kws[k])).collect();
            assert!(stems.len() <= PASS_STEMS, "pass {p}: {} stems", stems.len());
            assert!(pass.len() <= PACKED_LIMIT);
        }
    }

    #[test]
    fn every_builtin_keyword_is_found_alone_and_in_text() {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        let p = Prefilter::new(rules.rules());
        let mut c = vec![false; rules.rules().len()];
        // Plain text with none of the keywords marks nothing.
        let text = "fn main() { let value = compute(42); println!(\"{value}\"); }\n".repeat(50);
        assert_eq!(p.candidates(text.as_bytes(), &mut c), 0);
        for (i, rule) in rules.rules().iter().enumerate() {
            for kw in &rule.keywords {
                // Short haystacks take the packed searcher's fallback, long ones Teddy.
                for hay in [kw.clone(), format!("{text}{kw}{text}")] {
                    c.iter_mut().for_each(|x| *x = false);
                    p.candidates(hay.as_bytes(), &mut c);
                    assert!(c[i], "{}: keyword {kw:?} lost", rule.id);
                }
            }
        }
    }

    #[test]
    fn case_sensitive() {
        let rules = set(&[&["token"]]);
        assert_eq!(hits(&rules, "TOKEN"), vec![false]);
        assert_eq!(hits(&rules, "my_token"), vec![true]);
    }
}
