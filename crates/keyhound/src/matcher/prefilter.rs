//! The keyword prefilter: Aho-Corasick automata over every rule's keywords, case-sensitive with
//! leftmost-first semantics so that aho-corasick can use its SIMD searcher (Teddy). Teddy takes
//! at most 64 patterns, so the keywords are split into groups of at most [`GROUP`], one
//! automaton each: two SIMD passes are about four times faster than one automaton walk over
//! a hundred keywords.
//!
//! Contract: it may name a rule whose regex then finds nothing (a false candidate), but it never
//! misses a rule one of whose keywords occurs in the text. Leftmost-first reports at most one
//! keyword per start position, so a keyword hit also stands for every keyword that shares a
//! prefix with it (`sk-` and `sk-proj-` start at the same place); searching again from the next
//! byte after each hit covers keywords that start inside another one.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use crate::rules::Rule;

/// Most keywords in one automaton (aho-corasick's SIMD searcher takes at most 64).
pub const GROUP: usize = 64;

/// The compiled prefilter for a rule list.
#[derive(Debug)]
pub struct Prefilter {
    /// One automaton per group of keywords, with the index of the group's first keyword.
    groups: Vec<(AhoCorasick, usize)>,
    /// For each distinct keyword, the rules it may stand for.
    rules_for: Vec<Vec<u32>>,
}

impl Prefilter {
    /// Builds the automaton over the keywords of `rules` (indices into that slice).
    pub fn new(rules: &[Rule]) -> Prefilter {
        let mut keywords: Vec<&str> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            for kw in &rule.keywords {
                match keywords.iter().position(|k| k == kw) {
                    Some(p) => owners[p].push(i as u32),
                    None => {
                        keywords.push(kw);
                        owners.push(vec![i as u32]);
                    }
                }
            }
        }
        let mut rules_for = Vec::with_capacity(keywords.len());
        for k in &keywords {
            let mut set: Vec<u32> = Vec::new();
            for (j, other) in keywords.iter().enumerate() {
                if other.starts_with(k) || k.starts_with(other) {
                    set.extend(&owners[j]);
                }
            }
            set.sort_unstable();
            set.dedup();
            rules_for.push(set);
        }
        let n_groups = keywords.len().div_ceil(GROUP).max(1);
        let per_group = keywords.len().div_ceil(n_groups).max(1);
        let groups = keywords
            .chunks(per_group)
            .enumerate()
            .map(|(g, chunk)| {
                let ac = AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(chunk)
                    .expect("keywords are non-empty literals; the automaton size is small");
                (ac, g * per_group)
            })
            .collect();
        Prefilter { groups, rules_for }
    }

    /// Marks in `candidates` (one flag per rule) every rule that may match `hay`.
    /// Returns how many distinct rules were marked.
    pub fn candidates(&self, hay: &[u8], candidates: &mut [bool]) -> usize {
        let mut marked = 0;
        for (ac, first) in &self.groups {
            let mut at = 0;
            while at < hay.len() {
                let Some(m) = ac.find(Input::new(hay).span(at..hay.len())) else {
                    break;
                };
                for &r in &self.rules_for[first + m.pattern().as_usize()] {
                    let flag = &mut candidates[r as usize];
                    if !*flag {
                        *flag = true;
                        marked += 1;
                    }
                }
                at = m.start() + 1;
            }
        }
        marked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{syntax::RuleFile, RuleSet};

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
    fn many_keywords_in_several_groups_all_found() {
        let words: Vec<String> = (0..130).map(|i| format!("kw{i:03}x")).collect();
        let refs: Vec<Vec<&str>> = words.iter().map(|w| vec![w.as_str()]).collect();
        let slices: Vec<&[&str]> = refs.iter().map(|v| v.as_slice()).collect();
        let rules = set(&slices);
        let p = Prefilter::new(rules.rules());
        assert!(p.groups.len() >= 3);
        for (i, w) in words.iter().enumerate() {
            let c = hits(&rules, &format!("a {w} b"));
            assert!(c[i], "{w} lost");
            assert_eq!(c.iter().filter(|&&x| x).count(), 1);
        }
    }

    #[test]
    fn case_sensitive() {
        let rules = set(&[&["token"]]);
        assert_eq!(hits(&rules, "TOKEN"), vec![false]);
        assert_eq!(hits(&rules, "my_token"), vec![true]);
    }
}
