//! Required literals: sets of strings such that every match of a regex contains one of each,
//! and the gates that skip a rule's regex over content lacking one of the sets.
//!
//! A rule whose keyword is not part of its match (`session` cookies whose keyword is the word
//! `cookie`, a Rails `_app_session` name) makes the regex engine search every byte of every
//! file that says the keyword, at the speed of its automaton (about a nanosecond a byte here):
//! 1.3 s of regex time on curl's history for one such rule. When the regex itself requires a
//! literal that the keywords do not imply (`_session`), one SIMD substring search over long
//! content (memchr's, or aho-corasick's for a few) says whether the regex can match at all:
//! [`Gate::for_long`].
//!
//! A regex is compiled the first time it is needed (1–4 M instructions for the generic ones, a
//! third of a pre-commit check). Before that, [`Gate::before_compile`] searches every set the
//! regex requires (a URL password's `@` as well as its keyword `://`; `_session=` or
//! `_session:`), taken from a table `build.rs` makes, so that nothing is parsed: the check of
//! a staged file compiles only the regexes that can match it.
//!
//! Exact by construction (see [`literals`]): a haystack that lacks a set has no match, and a
//! gate never changes what a rule finds, only what it costs.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem;

// `conjuncts` runs in build.rs (for the table below) and in tests, not in the library.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod literals;

use literals::MAX_LITERALS;

/// Shortest literal worth a search in a set of several: shorter ones occur nearly everywhere
/// (a set of one is searched whatever its length: memchr finds a byte at once or proves it
/// absent fast).
const MIN_LEN: usize = 3;

/// Most searches in a gate, the most selective sets first.
const MAX_SEARCHES: usize = 3;

/// The required literals of the built-in rules' regexes (and path regexes), computed by
/// `build.rs` with [`literals`]: `(source, best set, all sets)`, sorted by source.
type Table = &'static [(
    &'static str,
    Option<&'static [&'static [u8]]>,
    &'static [Set],
)];
type Set = &'static [&'static [u8]];
static BUILTIN: Table = include!(concat!(env!("OUT_DIR"), "/gates.rs"));

/// What `build.rs` found for `source`, when it is a built-in regex: its best set and all its
/// sets (an empty list: it requires none); `None` for any other source.
pub(crate) fn builtin(source: &str) -> Option<(Option<Set>, &'static [Set])> {
    BUILTIN
        .binary_search_by(|(s, _, _)| (*s).cmp(source))
        .ok()
        .map(|i| (BUILTIN[i].1, BUILTIN[i].2))
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
    /// Several, each searched by itself: no automaton to build.
    Each(Vec<memmem::Finder<'static>>),
}

impl Search {
    /// One literal: memchr's search; several: one aho-corasick automaton.
    fn new(set: &[&[u8]]) -> Option<Search> {
        match set {
            [_] => Some(Search::each(set)),
            many => AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(many)
                .ok()
                .map(Search::Any),
        }
    }

    /// A search for `set` with one memchr substring search per literal.
    fn each(set: &[&[u8]]) -> Search {
        match set {
            [one] => Search::One(Box::new(memmem::Finder::new(one).into_owned())),
            many => Search::Each(
                many.iter()
                    .map(|l| memmem::Finder::new(l).into_owned())
                    .collect(),
            ),
        }
    }
}

/// Whether each keyword contains a literal of `set` (the prefilter then found one already),
/// or, `either_way`, a literal contains the keyword.
fn implied(set: &[&[u8]], keywords: &[String], either_way: bool) -> bool {
    !keywords.is_empty()
        && keywords.iter().all(|k| {
            let k = k.as_bytes();
            set.iter().any(|l| {
                memmem::find(k, l).is_some() || (either_way && memmem::find(l, k).is_some())
            })
        })
}

impl Gate {
    /// The gate searched in long content once the regex is compiled: the regex's best set
    /// (see [`literals::best`]), unless a literal is shorter than [`MIN_LEN`], there are
    /// more than [`MAX_LITERALS`], or the keywords imply it. A built-in source takes the set
    /// `build.rs` computed; another is parsed here.
    pub(crate) fn for_long(source: &str, keywords: &[String]) -> Option<Gate> {
        let parsed;
        let set: Vec<&[u8]> = match builtin(source) {
            Some((best, _)) => best?.to_vec(),
            None => {
                parsed = literals::best(&literals::parse(source)?)?;
                parsed.iter().map(Vec::as_slice).collect()
            }
        };
        if set.iter().any(|l| l.len() < MIN_LEN)
            || set.len() > MAX_LITERALS
            || implied(&set, keywords, false)
        {
            return None;
        }
        Some(Gate {
            searches: vec![Search::new(&set)?],
        })
    }

    /// The gate searched before a built-in regex is first compiled (`None` for any other
    /// source): up to [`MAX_SEARCHES`] of the sets [`literals::conjuncts`] finds, the most
    /// selective first, each a literal of any length or several of at least [`MIN_LEN`],
    /// and none that the keywords imply, either way (`xoxb-0`…`xoxb-9` after keyword
    /// `xoxb-`: the regex's own search for the keyword costs what this one would).
    pub(crate) fn before_compile(source: &str, keywords: &[String]) -> Option<Gate> {
        let (_, sets) = builtin(source)?;
        Gate::from_sets(sets.iter().copied(), keywords)
    }

    /// [`Gate::before_compile`] over `sets`, best first.
    fn from_sets<'a>(
        sets: impl IntoIterator<Item = &'a [&'a [u8]]>,
        keywords: &[String],
    ) -> Option<Gate> {
        let mut searches = Vec::new();
        for set in sets {
            if searches.len() == MAX_SEARCHES {
                break;
            }
            let usable = match set {
                [one] => !one.is_empty(),
                many => many.len() <= MAX_LITERALS && many.iter().all(|l| l.len() >= MIN_LEN),
            };
            if usable && !implied(set, keywords, true) {
                // One substring search per literal, no automaton: this gate is searched over
                // a few KiB in most runs (at most its budget), and building an automaton cost
                // more than that search (a DFA 2.4 M instructions for eleven lockfile names,
                // an NFA 0.7 M for an allowlist's sets, in a check whose scan is 6 M).
                searches.push(Search::each(set));
            }
        }
        (!searches.is_empty()).then_some(Gate { searches })
    }

    /// Whether `hay` holds a literal of every set (else the regex cannot match in it).
    pub(crate) fn admits(&self, hay: &[u8]) -> bool {
        self.searches.iter().all(|s| match s {
            Search::One(f) => f.find(hay).is_some(),
            Search::Any(ac) => ac.is_match(hay),
            Search::Each(finders) => finders.iter().any(|f| f.find(hay).is_some()),
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

    /// [`Gate::before_compile`] for any source, parsed here.
    fn before_compile(source: &str, keywords: &[String]) -> Option<Gate> {
        let sets = literals::conjuncts(&literals::parse(source).unwrap());
        let sets: Vec<Vec<&[u8]>> = sets
            .iter()
            .map(|s| s.iter().map(Vec::as_slice).collect())
            .collect();
        Gate::from_sets(sets.iter().map(Vec::as_slice), keywords)
    }

    #[test]
    fn long_content_gate_searches_the_best_set_the_keywords_do_not_imply() {
        // Keyword `cookie` does not imply `_session`: a gate.
        let g = Gate::for_long(r"_[a-z]+_session=\w+", &strings(&["cookie"])).unwrap();
        assert!(g.admits(b"cookie: _app_session=abc"));
        assert!(!g.admits(b"cookie: _app_sessio=abc"));
        // Keyword `xoxb-` contains the literal: the prefilter found it already.
        assert!(Gate::for_long(r"xoxb-[0-9]+", &strings(&["xoxb-"])).is_none());
        // Too short to be worth a search.
        assert!(Gate::for_long(r"\w+=\w+", &strings(&["k"])).is_none());
    }

    #[test]
    fn gate_before_the_compile_searches_every_set_the_keywords_do_not_imply() {
        let g = before_compile(r"_[a-z]+_session=\w+", &strings(&["cookie"])).unwrap();
        assert!(g.admits(b"cookie: _app_session=abc"));
        assert!(!g.admits(b"cookie: _app_session abc"));
        // A literal that extends the keyword is implied by it.
        assert!(before_compile(r"xoxb-[0-9]+", &strings(&["xoxb-"])).is_none());
        // A set of one short literal is searched (memchr); several short ones are not.
        let g = before_compile(r"\w+=\w+", &strings(&["k"])).unwrap();
        assert!(g.admits(b"k=v") && !g.admits(b"k v"));
        assert!(before_compile(r"\w+(?:=|:)\w+", &strings(&["k"])).is_none());
        // Every set must be found: a URL keyword without an `@` after it cannot match.
        let g = before_compile(r"[a-z]+://[^:@]+:[^@]+@[a-z]+", &strings(&["://"])).unwrap();
        assert!(g.admits(b"see https://a:b@c"));
        assert!(!g.admits(b"see https://docs.rs/cargo"));
        // Only built-in regexes have their sets without a parse.
        assert!(Gate::before_compile(r"[a-z]+://[^:@]+:[^@]+@[a-z]+", &[]).is_none());
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
        let owned = |s: &[&[u8]]| s.iter().map(|l| l.to_vec()).collect::<Vec<_>>();
        for source in sources {
            let (best, all) =
                builtin(source).unwrap_or_else(|| panic!("not in the table: {source}"));
            let hir = literals::parse(source).unwrap();
            assert_eq!(best.map(owned), literals::best(&hir), "{source}");
            let all: Vec<_> = all.iter().map(|s| owned(s)).collect();
            assert_eq!(all, literals::conjuncts(&hir), "{source}");
        }
        assert!(builtin("not a built-in regex").is_none());
    }

    #[test]
    fn a_gate_never_refuses_content_the_regex_matches() {
        // Every built-in rule's examples (and its regex on them) against both its gates.
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        let (mut long, mut first) = (0, 0);
        for rule in rules.rules() {
            let source = rule.compiled_source.as_ref().unwrap_or(&rule.regex_source);
            let gates = [
                Gate::for_long(source, &rule.keywords),
                Gate::before_compile(source, &rule.keywords),
            ];
            long += usize::from(gates[0].is_some());
            first += usize::from(gates[1].is_some());
            let regex = crate::rules::build_regex(source).unwrap();
            for template in rule.examples().iter().chain(rule.negative_examples()) {
                for seed in 0..4 {
                    let text = crate::rules::examples::expand(template, seed).unwrap();
                    if regex.is_match(text.as_bytes()) {
                        for gate in gates.iter().flatten() {
                            assert!(gate.admits(text.as_bytes()), "{}: {text}", rule.id);
                        }
                    }
                }
            }
        }
        assert!(
            long > 0 && first > long,
            "{long} long, {first} before the compile"
        );
    }
}
