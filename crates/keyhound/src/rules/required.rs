//! Required literals: strings one of which every match of a regex contains, and the gate that
//! skips a rule's regex over content holding none of them.
//!
//! A rule whose keyword is not part of its match (`session` cookies whose keyword is the word
//! `cookie`, a Rails `_app_session` name) makes the regex engine search every byte of every
//! file that says the keyword, at the speed of its automaton (about a nanosecond a byte here):
//! 1.3 s of regex time on curl's history for one such rule. When the regex itself requires a
//! literal that the keywords do not imply (`_session`), one SIMD substring search over the
//! content (memchr's, or aho-corasick's for a few) says whether the regex can match at all.
//!
//! Exact by construction: the set is derived from the parsed regex (a literal, a concatenation
//! that holds a required piece, an alternation whose every branch requires one, a repetition
//! of at least one), so a haystack without any of them has no match and the gate never changes
//! what a rule finds, only what it costs.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem;
use regex_syntax::hir::{Hir, HirKind};

/// Shortest literal worth a search of its own: shorter ones occur nearly everywhere.
const MIN_LEN: usize = 3;

/// Most literals in a gate: an alternation of more costs about what the regex costs.
const MAX_LITERALS: usize = 32;

/// A search for a rule's required literals.
#[derive(Debug)]
pub(crate) enum Gate {
    /// One literal.
    One(Box<memmem::Finder<'static>>),
    /// Several: any of them.
    Any(AhoCorasick),
}

impl Gate {
    /// The gate for `source` (compiled as every rule regex is, Unicode off), unless the regex
    /// requires no literal worth searching for or `keywords` imply one of them (each keyword
    /// contains a required literal: the prefilter already found one in the content).
    pub(crate) fn new(source: &str, keywords: &[String]) -> Option<Gate> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(source)
            .ok()?;
        let set = required(&hir)?;
        if set.iter().any(|l| l.len() < MIN_LEN) || set.len() > MAX_LITERALS {
            return None;
        }
        let implied = !keywords.is_empty()
            && keywords
                .iter()
                .all(|k| set.iter().any(|l| memmem::find(k.as_bytes(), l).is_some()));
        if implied {
            return None;
        }
        if let [one] = set.as_slice() {
            return Some(Gate::One(Box::new(memmem::Finder::new(one).into_owned())));
        }
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&set)
            .ok()
            .map(Gate::Any)
    }

    /// Whether `hay` holds one of the literals (else the regex cannot match in it).
    pub(crate) fn admits(&self, hay: &[u8]) -> bool {
        match self {
            Gate::One(f) => f.find(hay).is_some(),
            Gate::Any(ac) => ac.is_match(hay),
        }
    }
}

/// Literals one of which every match of `hir` contains, if there is such a set; the best of
/// several (longest shortest literal, then fewest).
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(parts) => parts.iter().filter_map(required).max_by(|a, b| {
            let score = |s: &Vec<Vec<u8>>| {
                let shortest = s.iter().map(Vec::len).min().unwrap_or(0);
                (shortest.min(16), std::cmp::Reverse(s.len()))
            };
            score(a).cmp(&score(b))
        }),
        HirKind::Alternation(branches) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for b in branches {
                all.extend(required(b)?);
                if all.len() > MAX_LITERALS {
                    return None;
                }
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        // Empty, a class, a look-around, an optional repetition: nothing required.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(source: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(source)
            .unwrap();
        required(&hir).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn required_literals_follow_the_regex_structure() {
        assert_eq!(
            set(r"\b(?P<name>_[a-z0-9]+_session)[=:](?P<secret>\w{16,})"),
            Some(vec!["_session".into()])
        );
        // Every branch must require one; the set is their union.
        assert_eq!(
            set(r"(?:PHPSESSID|sessionid)=\w+"),
            Some(vec!["PHPSESSID".into(), "sessionid".into()])
        );
        // An optional part or a branch with no literal requires nothing.
        assert_eq!(set(r"(?:abc)?\w+"), None);
        assert_eq!(set(r"(?:abc|\w+)x"), Some(vec!["x".into()]));
        assert_eq!(set(r"[a-z]+"), None);
        // The longest shortest literal wins.
        assert_eq!(
            set(r"ab\w+(?:longer|longest)"),
            Some(vec!["longer".into(), "longest".into()])
        );
        // Case-insensitive letters are classes, not literals.
        assert_eq!(set(r"(?i)token=\w+"), Some(vec!["=".into()]));
    }

    #[test]
    fn gate_is_skipped_when_the_keywords_imply_it() {
        let kw = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Keyword `cookie` does not imply `_session`: a gate.
        assert!(Gate::new(r"_[a-z]+_session=\w+", &kw(&["cookie"])).is_some());
        // Keyword `xoxb-` contains the literal: the prefilter found it already.
        assert!(Gate::new(r"xoxb-[0-9]+", &kw(&["xoxb-"])).is_none());
        // Too short to be worth a search.
        assert!(Gate::new(r"\w+=\w+", &kw(&["k"])).is_none());
    }

    #[test]
    fn a_gate_never_refuses_content_the_regex_matches() {
        // Every built-in rule's examples (and its regex on them) against its gate.
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        let mut gated = 0;
        for rule in rules.rules() {
            let source = rule.compiled_source.as_ref().unwrap_or(&rule.regex_source);
            let Some(gate) = Gate::new(source, &rule.keywords) else {
                continue;
            };
            gated += 1;
            let regex = crate::rules::build_regex(source).unwrap();
            for template in rule.examples.iter().chain(&rule.negative_examples) {
                for seed in 0..4 {
                    let text = crate::rules::examples::expand(template, seed).unwrap();
                    if regex.is_match(text.as_bytes()) {
                        assert!(gate.admits(text.as_bytes()), "{}: {text}", rule.id);
                    }
                }
            }
        }
        assert!(gated > 0);
    }
}
