//! The matching engine: keyword prefilter, then the regexes of the candidate rules, then the
//! value checks (entropy, placeholders, allowlists, inline allow markers) and overlap
//! resolution. It works on bytes and knows nothing of files, git or output formats.
//!
//! A [`Matcher`] holds per-thread scratch space; make one per thread from a shared
//! [`RuleSet`] and [`Prefilter`].

pub(crate) mod binding;
pub(crate) mod heuristics;
pub(crate) mod prefilter;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::rules::{syntax, Candidate, Rule, RuleSet, ValueCheck};
use heuristics::DropReason;
pub(crate) use prefilter::Prefilter;

/// A rule match that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMatch {
    /// Index of the rule in the rule set.
    pub rule: usize,
    /// Byte range of the whole regex match.
    pub span: Range<usize>,
    /// Byte range of the secret (the capture group, or the whole match).
    pub secret: Range<usize>,
    /// Shannon entropy of the secret.
    pub entropy: f64,
    /// Byte range of the name the secret is bound to (the rule's `name` group, completed to
    /// the whole identifier), if the rule captures one.
    pub name: Option<Range<usize>>,
}

/// What one rule cost a matcher, counted when it measures (see [`Matcher::measure`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RuleCost {
    /// Contents in which the prefilter proposed the rule (and its path and binary filters let
    /// it run).
    pub candidates: u64,
    /// Of those, the contents its regex searched (the others were ruled out before, by the
    /// literals every match needs).
    pub searches: u64,
    /// Matches that passed the rule's checks (before overlaps with other rules are resolved).
    pub matches: u64,
    /// Time spent on the rule: literal check, compile, search, checks, and the searches of
    /// the rules it requires near its matches (which are not counted as their own).
    pub time: Duration,
}

impl RuleCost {
    /// Adds `other`'s counts and time to these.
    pub fn add(&mut self, other: &RuleCost) {
        self.candidates += other.candidates;
        self.searches += other.searches;
        self.matches += other.matches;
        self.time += other.time;
    }
}

/// A regex match that was dropped, and why (kept only when explaining).
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    /// The match.
    pub candidate: RawMatch,
    /// Why it is not reported.
    pub reason: DropReason,
}

/// What one call of [`Matcher::find`] produced.
#[derive(Debug, Default, Clone)]
pub struct Matches {
    /// Reported matches, in order of position.
    pub kept: Vec<RawMatch>,
    /// Dropped candidates (only filled when the matcher explains).
    pub dropped: Vec<Dropped>,
    /// Rules the prefilter proposed.
    pub candidate_rules: usize,
    /// Candidates a config file's allowlist dropped (the global allowlist, or the allowlist of
    /// a rule not built in): counted always, so the summary can say what a config removed.
    pub config_allowlisted: usize,
}

/// The entropy a generic rule asks of a hex-shaped value at most (random hex of 32 characters
/// has about 3.7 bits a character, a UUID a little less).
const HEX_ENTROPY: f64 = 3.0;

/// Markers that suppress a finding on their line.
pub(crate) const INLINE_ALLOW_MARKERS: &[&[u8]] = &[
    b"keyhound:allow",
    b"gitleaks:allow",
    b"pragma: allowlist secret",
];

/// How far either side of an occurrence of one of its keywords a config rule's regex searches
/// (see [`Rule::from_config`]): far past any credential, and little enough that a costly
/// regex costs little per occurrence, with the time budget checked between occurrences.
pub(crate) const KEYWORD_REACH: usize = 8 << 10;

/// Matches looked at between two checks of the time budget.
const BUDGET_EVERY: usize = 256;

/// Per-thread matcher.
#[derive(Debug)]
pub struct Matcher<'a> {
    rules: &'a RuleSet,
    prefilter: &'a Prefilter,
    candidates: Vec<bool>,
    explain: bool,
    /// Per rule, what it cost (only when measuring).
    costs: Option<Vec<RuleCost>>,
    /// When the current blob's time runs out (see [`Matcher::set_budget`]).
    deadline: Option<Instant>,
    expired: Cell<bool>,
}

impl<'a> Matcher<'a> {
    /// A matcher over `rules`; `prefilter` must have been built from the same rules.
    pub fn new(rules: &'a RuleSet, prefilter: &'a Prefilter) -> Matcher<'a> {
        Matcher {
            rules,
            prefilter,
            candidates: vec![false; rules.rules().len()],
            explain: false,
            costs: None,
            deadline: None,
            expired: Cell::new(false),
        }
    }

    /// Also record dropped candidates and the reason (for [`crate::ScanOptions::explain`]).
    pub fn explain(mut self, yes: bool) -> Self {
        self.explain = yes;
        self
    }

    /// Also count, per rule, how often it was proposed and searched and what it cost (see
    /// [`Matcher::costs`]); timing each rule costs two clock reads per candidate rule.
    pub fn measure(mut self, yes: bool) -> Self {
        self.costs = yes.then(|| vec![RuleCost::default(); self.rules.rules().len()]);
        self
    }

    /// What each rule cost so far (indexed like the rule set), if the matcher measures.
    pub fn costs(&self) -> Option<&[RuleCost]> {
        self.costs.as_deref()
    }

    /// Gives what follows `budget` of time (`None`: no limit), until the next call: once it has
    /// run out, [`Matcher::find`] runs no more rules (it checks between rules, between the
    /// keyword occurrences a config rule searches near, and every few hundred matches) and
    /// [`Matcher::expired`] says so.
    pub fn set_budget(&mut self, budget: Option<Duration>) {
        self.deadline = budget.map(|b| Instant::now() + b);
        self.expired.set(false);
    }

    /// Whether the budget given by [`Matcher::set_budget`] ran out.
    pub fn expired(&self) -> bool {
        self.expired.get()
    }

    fn out_of_time(&self) -> bool {
        if !self.expired.get() && self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.expired.set(true);
        }
        self.expired.get()
    }

    /// Finds the secrets in `content`. `path` (if known) selects path-specific rules and path
    /// allowlists; `binary` content runs only the rules meant for it. Results are appended to
    /// `out` (cleared first).
    pub fn find(&mut self, content: &[u8], path: Option<&[u8]>, binary: bool, out: &mut Matches) {
        out.kept.clear();
        out.dropped.clear();
        out.config_allowlisted = 0;
        if self.out_of_time() {
            return;
        }
        self.candidates.iter_mut().for_each(|c| *c = false);
        out.candidate_rules = self.prefilter.candidates(content, &mut self.candidates);
        if out.candidate_rules == 0 {
            return;
        }
        for (index, rule) in self.rules.rules().iter().enumerate() {
            if !self.candidates[index] || (binary && !rule.binary) || !rule.report {
                continue;
            }
            if !rule.applies_to_path(path) {
                continue;
            }
            if let Some(p) = path {
                if rule.allowlist.allows_path(p)
                    || self.rules.allowlist.allows_path_for(&rule.id, p)
                {
                    continue;
                }
            }
            if self.out_of_time() {
                break;
            }
            let first = out.kept.len();
            let started = self.costs.is_some().then(Instant::now);
            let searched = self.run_rule(index, rule, content, path, out);
            if !rule.required.is_empty() && out.kept.len() > first {
                self.require(rule, content, path, first, out);
            }
            if let (Some(costs), Some(started)) = (&mut self.costs, started) {
                let cost = &mut costs[index];
                cost.candidates += 1;
                cost.searches += u64::from(searched);
                cost.matches += (out.kept.len() - first) as u64;
                cost.time += started.elapsed();
            }
        }
        resolve_overlaps(self.rules.rules(), out, self.explain);
    }

    /// Keeps, of the matches from `first` on (all of `rule`), those near which every rule
    /// `rule` requires matches too (its checks passed), as gitleaks' composite rules do.
    fn require(
        &self,
        rule: &Rule,
        content: &[u8],
        path: Option<&[u8]>,
        first: usize,
        out: &mut Matches,
    ) {
        let index = crate::finding::LineIndex::new(content);
        let mut near: Vec<(&syntax::RequiredSpec, Vec<(usize, usize)>)> = Vec::new();
        for req in &rule.required {
            let Some(r) = self.rules.index_of(&req.id) else {
                continue;
            };
            let mut found = Matches::default();
            self.run_rule(r, &self.rules.rules()[r], content, path, &mut found);
            let at = found
                .kept
                .iter()
                .map(|m| index.position(m.secret.start))
                .collect();
            near.push((req, at));
        }
        let primary = out.kept.split_off(first);
        for m in primary {
            let (line, col) = index.position(m.secret.start);
            let missing = near.iter().find(|(req, at)| {
                !at.iter().any(|&(l, c)| {
                    req.within_lines.is_none_or(|n| l.abs_diff(line) <= n)
                        && req.within_columns.is_none_or(|n| c.abs_diff(col) <= n)
                })
            });
            match missing {
                None => out.kept.push(m),
                Some((req, _)) if self.explain => out.dropped.push(Dropped {
                    candidate: m,
                    reason: DropReason::MissingRequired(req.id.clone()),
                }),
                Some(_) => {}
            }
        }
    }

    /// Searches `content` with one rule, appending to `out`; whether its regex searched (false
    /// when the literals every match needs are missing).
    fn run_rule(
        &self,
        index: usize,
        rule: &Rule,
        content: &[u8],
        path: Option<&[u8]>,
        out: &mut Matches,
    ) -> bool {
        // Before the compile: a regex that cannot match is not compiled.
        if !rule.may_match(content) {
            return false;
        }
        let Ok(compiled) = rule.compiled() else {
            // Rules from user files are compiled at load time; built-in ones are tested.
            return false;
        };
        let group = compiled.secret_group;
        let mut push = |span: Range<usize>, secret: Range<usize>, name: Option<Range<usize>>| {
            let bytes = &content[secret.clone()];
            let entropy = heuristics::shannon_entropy(bytes);
            let candidate = RawMatch {
                rule: index,
                span,
                secret,
                entropy,
                name: name.map(|n| binding::full_name(content, n)),
            };
            match self.check(rule, content, path, &candidate) {
                None => out.kept.push(candidate),
                Some(DropReason::Allowlisted) => {
                    out.config_allowlisted += 1;
                    if self.explain {
                        out.dropped.push(Dropped {
                            candidate,
                            reason: DropReason::Allowlisted,
                        });
                    }
                }
                Some(reason) if self.explain => out.dropped.push(Dropped { candidate, reason }),
                Some(_) => {}
            }
        };
        let plain = group == 0 && compiled.name_group.is_none() && compiled.context_group.is_none();
        let windows = if rule.from_config() {
            keyword_windows(rule, content)
        } else {
            std::iter::once(0..content.len()).collect()
        };
        let mut unbound = Vec::new();
        'windows: for window in windows {
            if self.out_of_time() {
                break;
            }
            // The window's end is the haystack's; its start keeps what precedes it as context.
            let hay = &content[..window.end];
            let mut at = window.start;
            let mut seen = 0usize;
            while at <= hay.len() {
                seen += 1;
                if seen.is_multiple_of(BUDGET_EVERY) && self.out_of_time() {
                    break 'windows;
                }
                if plain {
                    let Some(m) = compiled.regex.find_at(hay, at) else {
                        break;
                    };
                    at = m.end().max(m.start() + 1);
                    if !m.is_empty() {
                        push(m.range(), m.range(), None);
                    }
                    continue;
                }
                let Some(caps) = compiled.regex.captures_at(hay, at) else {
                    break;
                };
                let whole = caps.get(0).map(|m| m.range()).unwrap_or_default();
                let secret = caps.get(group).map(|m| m.range()).filter(|r| !r.is_empty());
                let name = compiled
                    .name_group
                    .and_then(|g| caps.get(g))
                    .map(|m| m.range());
                let context = compiled
                    .context_group
                    .and_then(|g| caps.get(g))
                    .map(|m| m.range());
                at = whole.end.max(whole.start + 1);
                let Some(secret) = secret else { continue };
                if let Some(context) = context {
                    if !binding::context_bound(content, &context, &secret) {
                        // A nearer context word may be bound: search again from just after it.
                        if self.explain {
                            let candidate = RawMatch {
                                rule: index,
                                span: whole.clone(),
                                entropy: heuristics::shannon_entropy(&content[secret.clone()]),
                                secret,
                                name: None,
                            };
                            unbound.push(Dropped {
                                candidate,
                                reason: DropReason::ContextNotBound,
                            });
                        }
                        at = context.start + 1;
                        continue;
                    }
                }
                push(whole, secret, name);
            }
        }
        out.dropped.append(&mut unbound);
        true
    }

    fn check(
        &self,
        rule: &Rule,
        content: &[u8],
        path: Option<&[u8]>,
        m: &RawMatch,
    ) -> Option<DropReason> {
        let secret = &content[m.secret.clone()];
        if rule.max_length.is_some_and(|max| secret.len() > max) {
            return Some(DropReason::TooLong);
        }
        if let Some(mut min) = rule.entropy {
            if rule.generic && heuristics::hex_shaped(secret) {
                // Hex has at most 4 bits a character: a generic rule's bar is lowered for UUIDs
                // and hex keys, which the name bound to them then decides.
                min = min.min(HEX_ENTROPY);
            }
            if m.entropy < min {
                return Some(DropReason::LowEntropy);
            }
        }
        if heuristics::repetitive(secret) {
            return Some(DropReason::Repetitive);
        }
        if rule.generic {
            let name = m.name.clone().map(|n| &content[n]);
            if let Some(reason) = heuristics::generic_value(secret, name) {
                return Some(reason);
            }
        }
        if rule.check == Some(ValueCheck::Jwt) {
            if let Err(why) = crate::evidence::jwt::Jwt::decode(secret) {
                return Some(DropReason::NotAJwt(why));
            }
        }
        if rule.check == Some(ValueCheck::BasicAuth) {
            if let Err(why) = crate::evidence::basic::Basic::decode(secret) {
                return Some(DropReason::NotBasicAuth(why));
            }
        }
        let candidate = Candidate {
            rule: &rule.id,
            secret,
            matched: &content[m.span.clone()],
            line: &content[near_lines(content, &m.span)],
            path,
        };
        if self.rules.allowlist.allows(&candidate, None) {
            return Some(DropReason::Allowlisted);
        }
        if rule.allowlist.allows(&candidate, None) {
            // A built-in rule's own allowlist is part of the rule, not a config's doing.
            return Some(if rule.origin.starts_with("builtin:") {
                DropReason::BuiltinAllowlisted
            } else {
                DropReason::Allowlisted
            });
        }
        if has_inline_allow(content, &m.span) {
            return Some(DropReason::InlineAllow);
        }
        None
    }
}

/// How far either side of a match the checks that look at its line reach. A line is usually
/// shorter; a minified file is one line of megabytes, and looking at all of it for each of its
/// thousands of matches made scanning it quadratic.
pub(crate) const LINE_REACH: usize = 1024;

/// The lines touched by `span`, cut to [`LINE_REACH`] bytes either side of it.
pub(crate) fn near_lines(content: &[u8], span: &Range<usize>) -> Range<usize> {
    let from = span.start.saturating_sub(LINE_REACH);
    let to = span.end.saturating_add(LINE_REACH).min(content.len());
    let start = memchr::memrchr(b'\n', &content[from..span.start]).map_or(from, |i| from + i + 1);
    let end = memchr::memchr(b'\n', &content[span.end..to]).map_or(to, |i| span.end + i);
    start..end
}

/// Whether a line touched by `span` carries an inline allow marker near it.
fn has_inline_allow(content: &[u8], span: &Range<usize>) -> bool {
    let lines = &content[near_lines(content, span)];
    INLINE_ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(lines, m).is_some())
}

/// Where a config rule's regex runs: [`KEYWORD_REACH`] bytes either side of each occurrence
/// of its keywords, windows that meet merged, in order.
fn keyword_windows(rule: &Rule, content: &[u8]) -> Vec<Range<usize>> {
    let finder = match rule.keyword_finder() {
        Some(f) if !rule.keywords.is_empty() => f,
        // No keywords (a user's own rule): the whole blob, with the time budget.
        _ => return std::iter::once(0..content.len()).collect(),
    };
    let mut out: Vec<Range<usize>> = Vec::new();
    for m in finder.find_iter(content) {
        let w = m.start().saturating_sub(KEYWORD_REACH)
            ..m.end().saturating_add(KEYWORD_REACH).min(content.len());
        match out.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => out.push(w),
        }
    }
    out
}

/// One secret, one finding: where secret spans overlap, a specific rule beats a generic one and
/// a longer secret beats a shorter one.
fn resolve_overlaps(rules: &[Rule], out: &mut Matches, explain: bool) {
    if out.kept.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..out.kept.len()).collect();
    order.sort_by_key(|&i| {
        let m = &out.kept[i];
        (
            rules[m.rule].generic,
            std::cmp::Reverse(m.secret.len()),
            m.secret.start,
            m.rule,
        )
    });
    // Accepted spans never overlap one another, so sorted by start they also end in order: a
    // new span overlaps one of them only if it overlaps the last accepted ones starting before
    // its end. Looking them up in a sorted set keeps a file with many matches linear-logarithmic
    // (a scan over every accepted span made a minified file with 20,000 matches quadratic).
    let mut spans: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut accepted: Vec<usize> = Vec::with_capacity(order.len());
    let mut rejected = Vec::new();
    for i in order {
        let s = &out.kept[i].secret;
        let clash = spans
            .range(..(s.end, 0))
            .rev()
            .map(|&(start, end)| start..end)
            // An empty span ends nothing; the first non-empty span that ends before `s`
            // starts rules out every earlier one.
            .take_while(|a| a.is_empty() || a.end > s.start)
            .any(|a| overlaps(s, &a));
        if clash {
            rejected.push(i);
        } else {
            spans.insert((s.start, s.end));
            accepted.push(i);
        }
    }
    if rejected.is_empty() {
        // In order of position, as promised, also when every match stays (rules run one
        // after the other, so their matches come rule by rule).
        out.kept.sort_by_key(|m| (m.span.start, m.rule));
        return;
    }
    if explain {
        for &i in &rejected {
            out.dropped.push(Dropped {
                candidate: out.kept[i].clone(),
                reason: DropReason::Overlap,
            });
        }
    }
    accepted.sort_unstable();
    let kept = std::mem::take(&mut out.kept);
    out.kept = accepted.into_iter().map(|i| kept[i].clone()).collect();
    out.kept.sort_by_key(|m| (m.span.start, m.rule));
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::syntax::RuleFile;

    fn rules(text: &str) -> RuleSet {
        let mut s = RuleSet::default();
        s.add_file(RuleFile::parse("t", text).unwrap(), true)
            .unwrap();
        s
    }

    const RULES: &str = r#"
[[rules]]
id = "specific"
description = "d"
regex = 'SPEC_[A-Za-z0-9]{16}'
keywords = ["SPEC_"]
entropy = 3.0

[[rules]]
id = "generic"
description = "d"
regex = '(?i)(?:token)\s*=\s*"?([A-Za-z0-9_]{12,})'
keywords = ["token", "TOKEN"]
generic = true
entropy = 3.0
"#;

    #[test]
    fn measuring_counts_proposals_searches_and_kept_matches_per_rule() {
        let set = rules(RULES);
        let p = Prefilter::new(set.rules());
        let mut out = Matches::default();
        assert!(Matcher::new(&set, &p).costs().is_none());
        let mut m = Matcher::new(&set, &p).measure(true);
        let value = "Zq8xW2vN7kR4pL9m";
        // Proposed and searched, one match kept; then proposed and searched, none kept; then
        // not proposed at all (no keyword).
        for text in [
            format!("SPEC_{value}\n"),
            "SPEC_ is a prefix\n".to_string(),
            "nothing here\n".to_string(),
        ] {
            m.find(text.as_bytes(), None, false, &mut out);
        }
        let costs = m.costs().expect("measuring");
        assert_eq!(costs.len(), 2);
        let specific = costs[0];
        assert_eq!(
            (specific.candidates, specific.searches, specific.matches),
            (2, 2, 1)
        );
        assert!(specific.time > Duration::ZERO);
        assert_eq!(costs[1], RuleCost::default());
        let mut sum = RuleCost::default();
        sum.add(&specific);
        sum.add(&specific);
        assert_eq!((sum.candidates, sum.matches), (4, 2));
    }

    #[test]
    fn measuring_tells_a_search_from_a_proposal_the_literals_rule_out() {
        // The keyword is there, the literal every match needs is not: proposed, not searched
        // (the gate looks at content this long whatever the rule's origin).
        let set = rules(
            r#"
[[rules]]
id = "needs"
description = "d"
regex = 'tok_LIT[A-Za-z0-9]{16}'
keywords = ["tok_"]
"#,
        );
        let p = Prefilter::new(set.rules());
        let mut m = Matcher::new(&set, &p).measure(true);
        let mut out = Matches::default();
        let text = "tok_ without the rest\n".repeat(crate::rules::GATE_FROM / 20);
        m.find(text.as_bytes(), None, false, &mut out);
        let cost = m.costs().expect("measuring")[0];
        assert_eq!((cost.candidates, cost.searches, cost.matches), (1, 0, 0));
    }

    fn find(set: &RuleSet, text: &str, binary: bool) -> Matches {
        let p = Prefilter::new(set.rules());
        let mut m = Matcher::new(set, &p).explain(true);
        let mut out = Matches::default();
        m.find(text.as_bytes(), Some(b"a.txt"), binary, &mut out);
        out
    }

    #[test]
    fn specific_beats_generic_on_same_span() {
        let set = rules(RULES);
        // Assembled at run time: no key-shaped literal in the repository.
        let text = ["token = \"SPEC_", "q8Zt2LmX9vR4pN7w\""].concat();
        let out = find(&set, &text, false);
        assert_eq!(out.kept.len(), 1);
        assert_eq!(set.rules()[out.kept[0].rule].id, "specific");
        assert_eq!(out.dropped.len(), 1);
        assert_eq!(out.dropped[0].reason, DropReason::Overlap);
    }

    #[test]
    fn binary_skips_generic_rules() {
        let set = rules(RULES);
        // Values are assembled at run time so that keyhound scans its own sources clean.
        let text = ["TOKEN=q8Zt2LmX9", "vR4pN7wK1cY"].concat();
        let out = find(&set, &text, true);
        assert!(out.kept.is_empty());
        let out = find(&set, &text, false);
        assert_eq!(out.kept.len(), 1);
    }

    #[test]
    fn inline_allow_and_entropy() {
        let set = rules(RULES);
        let out = find(&set, "x SPEC_q8Zt2LmX9vR4pN7w # keyhound:allow\n", false);
        assert!(out.kept.is_empty());
        assert_eq!(out.dropped[0].reason, DropReason::InlineAllow);
        let out = find(&set, "x SPEC_aaaabbbbaaaabbbb\n", false);
        assert_eq!(out.dropped[0].reason, DropReason::LowEntropy);
        // The marker on another line does not count.
        let out = find(&set, "# keyhound:allow\nx SPEC_q8Zt2LmX9vR4pN7w\n", false);
        assert_eq!(out.kept.len(), 1);
    }

    #[test]
    fn inline_allow_counts_near_the_match_only() {
        let set = rules(RULES);
        let key = ["SPEC_q8Zt2LmX9", "vR4pN7w"].concat();
        let near = format!("x {key} {} # keyhound:allow\n", "a".repeat(LINE_REACH - 40));
        assert!(find(&set, &near, false).kept.is_empty());
        // On a minified line the marker of another statement, far along, does not count.
        let far = format!("x {key} {} # keyhound:allow\n", "a".repeat(LINE_REACH + 10));
        assert_eq!(find(&set, &far, false).kept.len(), 1);
        let before = format!("// keyhound:allow {} {key}\n", "a".repeat(LINE_REACH + 10));
        assert_eq!(find(&set, &before, false).kept.len(), 1);
    }

    #[test]
    fn overlaps_resolved_as_by_comparing_every_pair() {
        // The sorted-set lookup against the pairwise comparison it replaced.
        let mut rng = fastrand::Rng::with_seed(5);
        let set = rules(RULES);
        for _ in 0..300 {
            let mut out = Matches::default();
            for _ in 0..rng.usize(0..40) {
                let start = rng.usize(0..200);
                let secret = start..start + rng.usize(0..30);
                out.kept.push(RawMatch {
                    rule: rng.usize(0..2),
                    span: secret.clone(),
                    secret,
                    entropy: 4.0,
                    name: None,
                });
            }
            let mut order: Vec<usize> = (0..out.kept.len()).collect();
            let rules = set.rules();
            order.sort_by_key(|&i| {
                let m = &out.kept[i];
                let key = (std::cmp::Reverse(m.secret.len()), m.secret.start, m.rule);
                (rules[m.rule].generic, key)
            });
            let mut accepted: Vec<usize> = Vec::new();
            for i in order {
                let s = &out.kept[i].secret;
                if !accepted.iter().any(|&j| overlaps(s, &out.kept[j].secret)) {
                    accepted.push(i);
                }
            }
            accepted.sort_unstable();
            let mut want: Vec<RawMatch> = accepted.iter().map(|&i| out.kept[i].clone()).collect();
            want.sort_by_key(|m| (m.span.start, m.rule));
            resolve_overlaps(rules, &mut out, false);
            assert_eq!(out.kept, want);
        }
    }

    #[test]
    fn config_rules_run_near_their_keywords_only() {
        let text = "[[rules]]\nid='c'\ndescription='d'\nregex='zz_[0-9]{8}'\nkeywords=['kw:']\n";
        let load = |config: bool| {
            let mut set = RuleSet::default();
            set.add_file(RuleFile::parse("c.toml", text).unwrap(), config)
                .unwrap();
            set
        };
        let set = load(true);
        assert!(set.rules()[0].from_config());
        let value = "zz_31415926";
        let near = format!("kw: {}{value}\n", "y".repeat(KEYWORD_REACH - 20));
        assert_eq!(find(&set, &near, false).kept.len(), 1);
        let far = format!("kw: {}{value}\n", "y".repeat(KEYWORD_REACH + 10));
        assert!(find(&set, &far, false).kept.is_empty());
        // A built-in rule searches the whole blob.
        assert_eq!(find(&load(false), &far, false).kept.len(), 1);
    }

    #[test]
    fn a_rule_whose_required_literal_is_absent_is_skipped_on_long_content_only() {
        // The keyword is `cookie`, the regex requires `_session`: on long content the gate
        // decides, on short content the regex runs as it always did; the findings agree.
        let set = rules(
            "[[rules]]\nid='rails'\ndescription='d'\nregex='_[a-z]+_session=([A-Za-z0-9]{12,})'\nkeywords=['cookie']\n",
        );
        let value = ["Zq8", "Lm2", "Xw7", "Pk4"].concat();
        let pad = "let cookie_jar = 1;\n".repeat(crate::rules::GATE_FROM / 20 + 1);
        for (pad, long) in [("", false), (pad.as_str(), true)] {
            let with = format!("cookie: 1\n{pad}_shop_session={value}\n");
            let without = format!("cookie: 1\n{pad}shop_sessio={value}\n");
            assert_eq!(with.len() >= crate::rules::GATE_FROM, long);
            assert_eq!(find(&set, &with, false).kept.len(), 1, "long: {long}");
            assert!(find(&set, &without, false).kept.is_empty(), "long: {long}");
        }
        assert!(set.rules()[0].gated(), "the long content built the gate");
    }

    #[test]
    fn a_builtin_regex_that_cannot_match_short_content_is_not_compiled() {
        // `url-password`'s keyword is `://`; its regex also requires `@`. A file with URLs but
        // no `@` is decided by the gate and leaves the regex uncompiled; one with a password
        // in a URL compiles it and finds the password.
        let set = RuleSet::builtin().unwrap();
        let url = set.get("url-password").unwrap();
        let docs =
            "//! - <https://docs.rs/cargo>: the library\n//! see https://crates.io/crates/x\n";
        assert!(docs.len() < crate::rules::GATE_FROM);
        assert!(find(&set, docs, false).kept.is_empty());
        assert!(!url.is_compiled(), "compiled for a file it cannot match");
        let secret = ["Zq8", "Lm2", "Xw7", "Pk4", "Rt9"].concat();
        let dsn = format!("DATABASE_URL=postgres://app:{secret}@db.internal:5432/app\n");
        let found = find(&set, &dsn, false);
        assert!(found
            .kept
            .iter()
            .any(|k| set.rules()[k.rule].id == "url-password"));
        assert!(url.is_compiled());
    }

    #[test]
    fn a_gate_that_keeps_refusing_gives_way_to_the_compiled_regex() {
        // `okta-api-token` wakes on `Authorization` and requires an `okta` or `SSWS`: a text
        // without them is refused before the compile, until the gate has searched
        // FIRST_GATE_BUDGET bytes; then the regex compiles (and finds nothing either).
        let set = RuleSet::builtin().unwrap();
        let okta = set.get("okta-api-token").unwrap();
        let text = "curl -H 'Authorization: none' https://example.invalid\n".repeat(1000);
        let mut searched = 0;
        while searched <= crate::rules::FIRST_GATE_BUDGET {
            assert!(!okta.is_compiled(), "compiled after {searched} bytes");
            assert!(find(&set, &text, false).kept.is_empty());
            searched += text.len();
        }
        assert!(find(&set, &text, false).kept.is_empty());
        assert!(okta.is_compiled());
    }

    #[test]
    fn an_expired_budget_stops_the_rules() {
        let set = rules(RULES);
        let p = Prefilter::new(set.rules());
        let mut m = Matcher::new(&set, &p);
        let mut out = Matches::default();
        let text = ["x SPEC_q8Zt2LmX9", "vR4pN7w\n"].concat();
        m.set_budget(Some(Duration::ZERO));
        m.find(text.as_bytes(), None, false, &mut out);
        assert!(out.kept.is_empty() && m.expired());
        m.set_budget(None);
        m.find(text.as_bytes(), None, false, &mut out);
        assert_eq!(out.kept.len(), 1);
        assert!(!m.expired());
    }

    #[test]
    fn secret_is_capture_group() {
        let set = rules(RULES);
        let text = &["token=\"q8Zt2LmX9", "vR4pN7wK1cY\""].concat();
        let out = find(&set, text, false);
        assert_eq!(&text[out.kept[0].secret.clone()], "q8Zt2LmX9vR4pN7wK1cY");
    }
}
