//! The analysis behind the rule gate: from a parsed regex, sets of literals such that every
//! match contains one literal of each set. Shared with `build.rs`, which runs it over the
//! built-in rules so that a run never parses their regexes for it; so this file uses nothing
//! but `regex-syntax`.
//!
//! Exact by construction: a literal is required; a concatenation requires what each of its
//! parts requires, and also one of the prefixes (regex-syntax's extractor, when the set is
//! finite) of each of its tails (`_session[=:]` requires `_session=` or `_session:`); an
//! alternation requires the union of one set from every branch; a repetition of at least one
//! requires what its body does. Classes, look-arounds and optional parts require nothing.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// Most literals in one set: an alternation of more costs about what the regex costs.
pub(crate) const MAX_LITERALS: usize = 32;

/// Parses `source` as every rule regex is compiled (Unicode off, any bytes).
pub(crate) fn parse(source: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(source)
        .ok()
}

/// The literal sets `hir` requires (each match holds one literal of every set), best first
/// (see [`score`]), without duplicates.
pub(crate) fn conjuncts(hir: &Hir) -> Vec<Vec<Vec<u8>>> {
    let mut sets = collect(&without_groups(hir));
    for s in &mut sets {
        s.sort();
        s.dedup();
    }
    sets.sort_by(|a, b| score(b).cmp(&score(a)).then_with(|| a.cmp(b)));
    sets.dedup();
    sets
}

/// The one set a search of long content uses: the best required piece of the regex's own
/// structure (a literal, a concatenation's best part, the union of an alternation's branches,
/// a repetition of at least one), without the extensions [`conjuncts`] adds. Measured on
/// curl's history, the extended sets cost more to search than they spare: where the regex
/// starts with the literals (case variants of a name), its own prefilter searches them as
/// fast, and the gate only doubles the reading.
pub(crate) fn best(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Capture(c) => best(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => best(&r.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(best)
            .max_by(|a, b| score(a).cmp(&score(b))),
        HirKind::Alternation(branches) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for b in branches {
                all.extend(best(b)?);
                if all.len() > MAX_LITERALS {
                    return None;
                }
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        _ => None,
    }
}

/// How selective a set is: its shortest literal (capped), then fewer literals.
pub(crate) fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest.min(16), std::cmp::Reverse(set.len()))
}

/// `hir` without its capture groups, which do not change what it matches: their
/// concatenations merge with the one around them, so that a literal at the end of a group
/// extends by what follows the group (`(?P<name>\w+_session)=`).
fn without_groups(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Capture(c) => without_groups(&c.sub),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(without_groups).collect()),
        HirKind::Alternation(bs) => Hir::alternation(bs.iter().map(without_groups).collect()),
        HirKind::Repetition(r) => Hir::repetition(regex_syntax::hir::Repetition {
            sub: Box::new(without_groups(&r.sub)),
            ..r.clone()
        }),
        _ => hir.clone(),
    }
}

fn collect(hir: &Hir) -> Vec<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(lit) => vec![vec![lit.0.to_vec()]],
        // No capture groups: `conjuncts` removed them.
        HirKind::Repetition(r) if r.min >= 1 => collect(&r.sub),
        HirKind::Concat(parts) => {
            let mut out: Vec<Vec<Vec<u8>>> = parts.iter().flat_map(collect).collect();
            for start in 0..parts.len() {
                if let Some(set) = prefixes(&parts[start..]) {
                    out.push(set);
                }
            }
            out
        }
        HirKind::Alternation(branches) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for b in branches {
                let Some(best) = collect(b)
                    .into_iter()
                    .max_by(|x, y| score(x).cmp(&score(y)))
                else {
                    return Vec::new();
                };
                all.extend(best);
                if all.len() > MAX_LITERALS {
                    return Vec::new();
                }
            }
            vec![all]
        }
        // Empty, a class, a look-around, an optional repetition: nothing required.
        _ => Vec::new(),
    }
}

/// The literals one of which starts every match of the concatenation of `parts`, when that
/// set is finite, small and holds no empty literal.
fn prefixes(parts: &[Hir]) -> Option<Vec<Vec<u8>>> {
    // A tail that starts with something unbounded gives nothing; skip the extraction.
    if !matches!(
        parts.first()?.kind(),
        HirKind::Literal(_) | HirKind::Alternation(_)
    ) {
        return None;
    }
    let hir = Hir::concat(parts.to_vec());
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.len() > MAX_LITERALS {
        return None;
    }
    let set: Vec<Vec<u8>> = literals.iter().map(|l| l.as_bytes().to_vec()).collect();
    if set.iter().any(Vec::is_empty) {
        return None;
    }
    Some(set)
}
