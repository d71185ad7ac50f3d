//! Required literals: sets of strings such that every match of a regex contains one of each,
//! and the gate that skips a rule's regex over content lacking one of the sets.
//!
//! A rule whose keyword is not part of its match (`session` cookies whose keyword is the word
//! `cookie`, a Rails `_app_session` name) makes the regex engine search every byte of every
//! file that says the keyword, at the speed of its automaton (about a nanosecond a byte here):
//! 1.3 s of regex time on curl's history for one such rule. When the regex itself requires
//! literals that the keywords do not imply (`_session=` or `_session:`; a URL password's `@`),
//! a SIMD substring search per set over the content (memchr's, or aho-corasick's for several
//! literals) says whether the regex can match at all. Before a built-in rule's regex is first
//! compiled, its gate (from `build.rs`, so no parse) also decides short content: a pre-commit
//! check then compiles only the regexes that can match the staged files.
//!
//! Exact by construction (see [`literals`]): a haystack that lacks a set has no match, and the
//! gate never changes what a rule finds, only what it costs.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use memchr::memmem;

pub(crate) mod literals;

use literals::MAX_LITERALS;

/// Shortest literal worth a search in a set of several: shorter ones occur nearly everywhere
/// (a set of one is searched whatever its length: memchr finds a byte at once or proves it
/// absent fast).
const MIN_LEN: usize = 3;

/// Most searches in a gate, the most selective sets first.
const MAX_SEARCHES: usize = 3;

/// The required literal sets of the built-in rules' regexes (and path regexes), computed by
/// `build.rs` with [`literals`]: `(source, sets)`, sorted by source.
static BUILTIN: &[(&str, &[&[&[u8]]])] = include!(concat!(env!("OUT_DIR"), "/gates.rs"));

/// The sets `build.rs` found for `source`, when it is a built-in regex (an empty list: it
/// requires none); `None` for any other source.
pub(crate) fn builtin(source: &str) -> Option<&'static [&'static [&'static [u8]]]> {
    BUILTIN
        .binary_search_by(|(s, _)| (*s).cmp(source))
        .ok()
        .map(|i| BUILTIN[i].1)
}

/// A search for a rule's required literals: every one of its searches must find one.
#[derive(Debug)]
pub(crate) struct Gate {
    searches: Vec<Search>,
}

#[derive(Debug)]
enum Search {
    /// One literal.
    One(Box<memmem::Finder<'static>>),
    /// Several: any of them.
    Any(AhoCorasick),
}

impl Gate {
    /// The gate for `source` (compiled as every rule regex is, Unicode off), unless the regex
    /// requires no literal worth searching for that `keywords` do not imply (see below). A
    /// built-in source takes the sets `build.rs` computed; another is parsed here.
    pub(crate) fn new(source: &str, keywords: &[String]) -> Option<Gate> {
        match builtin(source) {
            Some(sets) => Gate::from_sets(sets.iter().map(|s| s.to_vec()), keywords),
            None => {
                let hir = literals::parse(source)?;
                let sets = literals::conjuncts(&hir);
                Gate::from_sets(
                    sets.iter().map(|s| s.iter().map(Vec::as_slice).collect()),
                    keywords,
                )
            }
        }
    }

    /// The gate over `sets` (best first, as [`literals::conjuncts`] orders them).
    fn from_sets<'a>(
        sets: impl Iterator<Item = Vec<&'a [u8]>>,
        keywords: &[String],
    ) -> Option<Gate> {
        let mut searches = Vec::new();
        for set in sets {
            if searches.len() == MAX_SEARCHES {
                break;
            }
            let usable = match set.as_slice() {
                [one] => !one.is_empty(),
                many => many.len() <= MAX_LITERALS && many.iter().all(|l| l.len() >= MIN_LEN),
            };
            // Implied: each keyword contains a literal of the set, or one contains the
            // keyword (`xoxb-0`…`xoxb-9` after keyword `xoxb-`: the regex's own search for
            // the keyword costs what this one would).
            let implied = !keywords.is_empty()
                && keywords.iter().all(|k| {
                    let k = k.as_bytes();
                    set.iter()
                        .any(|l| memmem::find(k, l).is_some() || memmem::find(l, k).is_some())
                });
            if !usable || implied {
                continue;
            }
            searches.push(match set.as_slice() {
                [one] => Search::One(Box::new(memmem::Finder::new(one).into_owned())),
                // An NFA: the default for a few patterns is a DFA, which costs 2.4 M
                // instructions to build for eleven lockfile names (a pre-commit check's whole
                // scan is 11 M); the search is its prefilter's either way.
                many => Search::Any(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::LeftmostFirst)
                        .kind(Some(AhoCorasickKind::ContiguousNFA))
                        .build(many)
                        .ok()?,
                ),
            });
        }
        (!searches.is_empty()).then_some(Gate { searches })
    }

    /// Whether `hay` holds a literal of every set (else the regex cannot match in it).
    pub(crate) fn admits(&self, hay: &[u8]) -> bool {
        self.searches.iter().all(|s| match s {
            Search::One(f) => f.find(hay).is_some(),
            Search::Any(ac) => ac.is_match(hay),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(source: &str) -> Vec<Vec<String>> {
        let hir = literals::parse(source).unwrap();
        literals::conjuncts(&hir)
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|l| String::from_utf8(l).unwrap())
                    .collect()
            })
            .collect()
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn required_literals_follow_the_regex_structure() {
        // A literal, extended by what must follow it; the best set first.
        let s = sets(r"\b(?P<name>_[a-z0-9]+_session)[=:](?P<secret>\w{16,})");
        assert_eq!(s[0], strings(&["_session:", "_session="]));
        assert!(s.contains(&strings(&["_session"])));
        // Every branch must require one; the set is their union.
        assert_eq!(
            sets(r"(?:PHPSESSID|sessionid)=\w+")[0],
            strings(&["PHPSESSID=", "sessionid="])
        );
        // An optional part or a branch with no literal requires nothing.
        assert!(sets(r"(?:abc)?\w+").is_empty());
        assert_eq!(sets(r"(?:abc|\w+)x"), vec![strings(&["x"])]);
        assert!(sets(r"[a-z]+").is_empty());
        // The longest shortest literal first.
        assert_eq!(
            sets(r"ab\w+(?:longer|longest)")[0],
            strings(&["longer", "longest"])
        );
        // A concatenation requires each of its pieces: a URL's `://` and its `@`.
        let url = sets(r"[a-z]+://[^:@]+:[^@]+@[a-z]+");
        assert!(url.contains(&strings(&["://"])), "{url:?}");
        assert!(url.contains(&strings(&["@"])), "{url:?}");
        // Case-insensitive letters are classes, not literals.
        assert_eq!(sets(r"(?i)token=\w+"), vec![strings(&["="])]);
    }

    #[test]
    fn gate_searches_what_the_keywords_do_not_imply() {
        // Keyword `cookie` does not imply `_session`: a gate.
        let g = Gate::new(r"_[a-z]+_session=\w+", &strings(&["cookie"])).unwrap();
        assert!(g.admits(b"cookie: _app_session=abc"));
        assert!(!g.admits(b"cookie: _app_session abc"));
        // Keyword `xoxb-` contains the literal: the prefilter found it already.
        assert!(Gate::new(r"xoxb-[0-9]+", &strings(&["xoxb-"])).is_none());
        // A set of one short literal is searched (memchr); several short ones are not.
        let g = Gate::new(r"\w+=\w+", &strings(&["k"])).unwrap();
        assert!(g.admits(b"k=v") && !g.admits(b"k v"));
        assert!(Gate::new(r"\w+(?:=|:)\w+", &strings(&["k"])).is_none());
        // Every set must be found: a URL keyword without an `@` after it cannot match.
        let g = Gate::new(r"[a-z]+://[^:@]+:[^@]+@[a-z]+", &strings(&["://"])).unwrap();
        assert!(g.admits(b"see https://a:b@c"));
        assert!(!g.admits(b"see https://docs.rs/cargo"));
    }

    #[test]
    fn build_time_sets_are_the_ones_this_analysis_finds() {
        // build.rs runs `literals` over every built-in regex and path regex: each source is in
        // the table, with the sets the analysis finds at run time.
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        let mut sources: Vec<&str> = Vec::new();
        for rule in rules.rules() {
            sources.push(rule.compiled_source.as_ref().unwrap_or(&rule.regex_source));
            sources.extend(rule.path_sources());
            sources.extend(rule.allowlist.path_sources());
        }
        for source in sources {
            let table = builtin(source).unwrap_or_else(|| panic!("not in the table: {source}"));
            let table: Vec<Vec<Vec<u8>>> = table
                .iter()
                .map(|s| s.iter().map(|l| l.to_vec()).collect())
                .collect();
            let now = literals::conjuncts(&literals::parse(source).unwrap());
            assert_eq!(table, now, "{source}");
        }
        assert!(builtin("not a built-in regex").is_none());
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
