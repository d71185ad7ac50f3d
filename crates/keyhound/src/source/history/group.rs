//! After the read: commits attached to each finding, commit allowlists and ignores applied, and
//! findings grouped per (rule, secret) ([`Groups`], [`merge_sightings`]) with their
//! [`GitProvenance`] (commits, paths, still at HEAD, pushed). It reads commits and trees but no
//! blobs.

use std::collections::{HashMap, HashSet};

use git2::{Oid, Repository};

use super::oid::{OidKey, OidSet, NO_COMMIT};
use super::{enumerate, time, At, Found};
use crate::error::ItemError;
use crate::finding::{merge_sightings, CommitInfo, Finding, GitProvenance, Groups};
use crate::scan::{Scanner, Stats};

/// Attaches commits (and, for a blob-range shard, each location's commit position), groups
/// per (rule, secret) unless the options say not to, and orders findings earliest first.
pub(crate) fn finish(
    scanner: &Scanner,
    repo: &Repository,
    walk: &enumerate::Walk,
    mut found: Vec<Found>,
    options: &super::HistoryOptions,
    end: Option<Oid>,
    stats: &mut Stats,
) -> Vec<Finding> {
    let (dedup, walk_order) = (options.dedup, options.blob_shard.is_some());
    if found.is_empty() {
        return Vec::new();
    }
    let commit_of = |f: &Found| f.at.commit(walk);
    found.sort_by(|a, b| {
        let (la, lb) = (a.finding.location(), b.finding.location());
        (
            commit_of(a),
            &la.path,
            la.line,
            la.column,
            &a.finding.rule_id,
        )
            .cmp(&(
                commit_of(b),
                &lb.path,
                lb.line,
                lb.column,
                &b.finding.rule_id,
            ))
    });
    let mut infos: HashMap<u32, Option<CommitInfo>> = HashMap::new();
    let mut matcher = scanner.matcher();
    for f in &mut found {
        let c = f.at.commit(walk);
        let info = infos
            .entry(c)
            .or_insert_with(|| commit_info(scanner, &mut matcher, repo, walk, c, stats))
            .clone();
        for l in &mut f.finding.locations {
            l.commit = info.clone();
            if walk_order {
                l.walk_order = Some(c);
            }
        }
    }
    // A commit allowlist (gitleaks' `commits`) and a `.gitleaksignore` entry naming a commit
    // can only be judged once the commit is known.
    let rules = scanner.rules();
    let ignores = &scanner.suppressions;
    if rules.has_commit_allowlists() || ignores.has_commit_locations() {
        found.retain(|f| {
            let l = f.finding.location();
            let Some(c) = &l.commit else {
                return true;
            };
            let secret = f.finding.secret.as_bytes();
            if rules.allows_commit(&f.finding.rule_id, secret, l.path.as_bytes(), &c.id) {
                stats.removed.config_allowlist += 1;
                return false;
            }
            if ignores.ignores_location(&f.finding.rule_id, &l.path, l.line, Some(&c.id)) {
                stats.removed.ignore_fingerprints += 1;
                return false;
            }
            true
        });
        if found.is_empty() {
            return Vec::new();
        }
    }
    let at_head = head_blobs(repo, end);
    let groups = Groups::by_secret(found.iter().map(|f| &f.finding));
    let pushed = remote_reachable(repo);
    let provenances: Vec<GitProvenance> = groups
        .members
        .iter()
        .map(|m| provenance(walk, m.iter().map(|&i| &found[i]), &at_head, &pushed))
        .collect();
    if !dedup {
        return found
            .into_iter()
            .zip(groups.of)
            .map(|(f, g)| {
                let mut finding = f.finding;
                finding.git = Some(provenances[g].clone());
                finding
            })
            .collect();
    }
    let mut found: Vec<Option<Found>> = found.into_iter().map(Some).collect();
    groups
        .members
        .iter()
        .zip(provenances)
        .filter_map(|(m, provenance)| {
            let sightings = m
                .iter()
                .filter_map(|&i| found[i].take())
                .map(|f| f.finding)
                .collect();
            let mut finding = merge_sightings(sightings)?;
            finding.git = Some(provenance);
            Some(finding)
        })
        .collect()
}

fn provenance<'f>(
    walk: &enumerate::Walk,
    group: impl Iterator<Item = &'f Found>,
    at_head: &OidSet,
    remote: &OidSet,
) -> GitProvenance {
    let mut commits = HashSet::new();
    let mut paths = HashSet::new();
    let mut present_at_head = false;
    let mut pushed = false;
    for f in group {
        let commit = f.at.commit(walk);
        if commit != NO_COMMIT {
            commits.insert(commit);
            if let Some(id) = walk.commits.get(commit as usize) {
                pushed |= remote.contains(&OidKey::from(*id));
            }
        }
        paths.insert(f.finding.location().path.as_str());
        if let At::Blob(slot) = f.at {
            present_at_head |= at_head.contains(&walk.blobs.ids[slot as usize]);
        }
    }
    GitProvenance {
        commits: commits.len(),
        paths: paths.len(),
        present_at_head,
        pushed,
    }
}

/// Every commit reachable from a remote-tracking ref (`refs/remotes/*`): what has been pushed
/// (or fetched) as far as this clone knows. Empty when there is no remote-tracking ref.
fn remote_reachable(repo: &Repository) -> OidSet {
    let mut out = OidSet::default();
    let Ok(refs) = repo.references_glob("refs/remotes/*") else {
        return out;
    };
    let Ok(mut revwalk) = repo.revwalk() else {
        return out;
    };
    let mut any = false;
    for r in refs.flatten() {
        if let Ok(c) = r.peel_to_commit() {
            any |= revwalk.push(c.id()).is_ok();
        }
    }
    if any {
        for id in revwalk.flatten() {
            out.insert(OidKey::from(id));
        }
    }
    out
}

fn commit_info(
    scanner: &Scanner,
    matcher: &mut crate::matcher::Matcher<'_>,
    repo: &Repository,
    walk: &enumerate::Walk,
    index: u32,
    stats: &mut Stats,
) -> Option<CommitInfo> {
    let id = *walk.commits.get(index as usize)?;
    match repo.find_commit(id) {
        Ok(c) => {
            let author = c.author();
            let when = author.when();
            let summary = c
                .summary_bytes()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            // A key pasted into a commit message must not be printed in full beside the
            // finding: the reports redact what the rules find here.
            let summary_secrets = scanner
                .scan_plain(matcher, "", summary.as_bytes())
                .findings
                .iter()
                .map(|f| {
                    let at = f.location().offset;
                    at..at + f.secret.len()
                })
                .collect();
            Some(CommitInfo {
                id: id.to_string(),
                author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                date: time::rfc3339(when.seconds(), when.offset_minutes()),
                summary,
                summary_secrets,
            })
        }
        Err(e) => {
            stats
                .errors
                .push(ItemError::object(format!("commit {id}"), &e));
            Some(CommitInfo {
                id: id.to_string(),
                author: String::new(),
                email: String::new(),
                date: String::new(),
                summary: String::new(),
                summary_secrets: Vec::new(),
            })
        }
    }
}

/// Every blob in the tree of `end` (HEAD when `None`; empty when unborn or unreadable).
fn head_blobs(repo: &Repository, end: Option<Oid>) -> OidSet {
    let mut out = OidSet::default();
    let tree = match end {
        Some(id) => repo.find_object(id, None).and_then(|o| o.peel_to_tree()),
        None => repo.head().and_then(|h| h.peel_to_tree()),
    };
    let Ok(tree) = tree else {
        return out;
    };
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            out.insert(OidKey::from(entry.id()));
        }
        git2::TreeWalkResult::Ok
    });
    out
}
