//! The parallel read-and-scan stage of a history scan: blobs are read in the given order on a
//! pool of threads, each sized from its header before it is inflated, scanned, and the results
//! merged once per thread. It does not attach commits or group findings (see [`super::group`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use git2::Repository;

use super::{enumerate, packorder, At, Found, HistoryOptions, Progress};
use crate::error::{ItemError, Result};
use crate::matcher::Prefilter;
use crate::scan::{ContentResult, Incomplete, Scanner, Unread};
use crate::source::audit::seen::{Clean, Entry, Key};
use crate::source::audit::Seen;
use crate::source::blob::{Blob, Origin, RepoId};
use crate::source::collect::{thread_pool, Collector};
use crate::source::object::{read_blob, Sized};

/// What the read-and-scan stage produced, merged over threads.
#[derive(Default)]
pub(crate) struct ReadOut {
    pub(crate) found: Vec<Found>,
    /// Counts and explanations.
    pub(crate) collect: Collector,
    pub(crate) lfs_pointers: u64,
    pub(crate) skipped_by_path: u64,
    pub(crate) read: Duration,
    pub(crate) prefilter: Duration,
    pub(crate) scan: Duration,
    /// Per rule, when measured (see `Timings::rules`).
    pub(crate) rules: Vec<crate::RuleCost>,
}

impl ReadOut {
    fn merge(&mut self, o: ReadOut) {
        self.found.extend(o.found);
        self.collect.merge(o.collect);
        self.lfs_pointers += o.lfs_pointers;
        self.skipped_by_path += o.skipped_by_path;
        self.read += o.read;
        self.prefilter += o.prefilter;
        self.scan += o.scan;
        // A thread's costs are all the rules' or none (not measured, or its repository did
        // not open).
        if self.rules.is_empty() {
            self.rules = o.rules;
        } else {
            for (total, cost) in self.rules.iter_mut().zip(&o.rules) {
                total.add(cost);
            }
        }
    }
}

const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/";

/// Reads and scans the blobs in `order` on a pool of threads. Each thread opens its own
/// repository handle and makes its own matcher, takes chunks of consecutive blobs (so that
/// reading stays close to pack order), and merges its results once, at the end.
pub(crate) fn read_all(
    scanner: &Scanner,
    repo: &Repository,
    walk: &enumerate::Walk,
    order: &packorder::Ordered,
    options: &HistoryOptions,
    progress: &dyn Progress,
) -> Result<ReadOut> {
    let pool = thread_pool(options.threads)?;
    let threads = pool.current_num_threads().max(1);
    let order = &order.order;
    let chunk = (order.len() / (threads * 64)).clamp(16, 1024);
    let cursor = AtomicUsize::new(0);
    let total = Mutex::new(ReadOut::default());
    let git_dir = repo.path().to_path_buf();
    let repo_id = RepoId::new(&git_dir);
    let prefilter = options
        .timings
        .then(|| Prefilter::new(scanner.rules().rules()));
    pool.broadcast(|_| {
        let mut out = ReadOut::default();
        match super::reopen(&git_dir, &options.object_dirs) {
            Ok(repo) => match repo.odb() {
                Ok(odb) => {
                    let mut worker = Worker {
                        scanner,
                        odb: &odb,
                        repo_id: &repo_id,
                        walk,
                        matcher: scanner.matcher().measure(options.timings),
                        prefilter: prefilter.as_ref(),
                        candidates: vec![false; scanner.rules().rules().len()],
                        seen: options.seen.as_deref(),
                        blob_shard: options.blob_shard,
                        out: &mut out,
                    };
                    loop {
                        let at = cursor.fetch_add(chunk, Ordering::Relaxed);
                        if at >= order.len() {
                            break;
                        }
                        let end = (at + chunk).min(order.len());
                        let bytes_before = worker.out.collect.stats.bytes;
                        for &slot in &order[at..end] {
                            worker.blob(slot);
                        }
                        progress.scanned(
                            (end - at) as u64,
                            worker.out.collect.stats.bytes - bytes_before,
                        );
                    }
                    if let Some(costs) = worker.matcher.costs() {
                        worker.out.rules = costs.to_vec();
                    }
                }
                Err(e) => out
                    .collect
                    .stats
                    .errors
                    .push(ItemError::objects(&git_dir, &e)),
            },
            Err(e) => out
                .collect
                .stats
                .errors
                .push(ItemError::repository(&git_dir, &e)),
        }
        total.lock().unwrap_or_else(|p| p.into_inner()).merge(out);
    });
    let mut total = total.into_inner().unwrap_or_else(|p| p.into_inner());
    total.collect.stats.errors.dedup();
    Ok(total)
}

struct Worker<'a, 's> {
    scanner: &'s Scanner,
    odb: &'a git2::Odb<'a>,
    repo_id: &'a RepoId,
    walk: &'a enumerate::Walk,
    matcher: crate::matcher::Matcher<'s>,
    prefilter: Option<&'a Prefilter>,
    candidates: Vec<bool>,
    seen: Option<&'a Seen>,
    blob_shard: Option<crate::source::audit::Shard>,
    out: &'a mut ReadOut,
}

impl Worker<'_, '_> {
    /// Reads and scans one blob.
    fn blob(&mut self, slot: u32) {
        let blobs = &self.walk.blobs;
        if let Some(shard) = self.blob_shard {
            if !shard.takes_blob(&blobs.ids[slot as usize].0) {
                return;
            }
        }
        let id = blobs.ids[slot as usize].oid();
        let path = String::from_utf8_lossy(&blobs.path(slot)).into_owned();
        if let Some(why) = self.scanner.path_skip(&path) {
            self.out.skipped_by_path += 1;
            self.out.collect.stats.removed.skipped(why);
            return;
        }
        let commit = self
            .walk
            .commits
            .get(blobs.origins[slot as usize].commit as usize);
        let origin = Origin::Git {
            repo: self.repo_id,
            commit: commit.copied(),
            path: &path,
            blob: id,
        };
        let key = self.seen.map(|_| Key::new(id, path.as_bytes()));
        if let (Some(seen), Some(key)) = (self.seen, &key) {
            match seen.get(key) {
                Some(Entry::Clean(clean)) => {
                    self.replay(slot, clean, ContentResult::default());
                    return;
                }
                Some(Entry::Held(held)) => {
                    let (clean, result) = &*held;
                    self.replay(slot, *clean, result.clone());
                    return;
                }
                None => {}
            }
        }
        let t = Instant::now();
        let limit = self.scanner.options.max_file_size;
        let odb = self.odb;
        let error = match read_blob(odb, id, limit) {
            Ok(Sized::Blob(blob)) => {
                self.out.read += t.elapsed();
                self.scan(slot, &blob, origin, key);
                return;
            }
            Ok(Sized::TooLarge(size)) => {
                let reason = Unread::TooLarge {
                    size: Some(size),
                    limit,
                };
                let incomplete = Incomplete::at(&origin, reason);
                self.out.collect.stats.incomplete.push(incomplete);
                return;
            }
            // libgit2's words for a blob looked up as what it is not.
            Ok(Sized::NotBlob) => git2::Error::new(
                git2::ErrorCode::NotFound,
                git2::ErrorClass::Invalid,
                "the requested type does not match the type in the ODB",
            ),
            Err(e) => e,
        };
        let at = match commit {
            Some(c) => format!("{path} in commit {c}"),
            None => path.clone(),
        };
        self.out
            .collect
            .stats
            .errors
            .push(ItemError::object(format!("blob {id} ({at})"), &error));
    }

    /// Counts a blob an earlier repository of the audit scanned, and takes its findings.
    fn replay(&mut self, slot: u32, clean: Clean, mut result: ContentResult) {
        self.out.lfs_pointers += u64::from(clean.lfs_pointer);
        result.binary = clean.binary;
        for finding in self.out.collect.scanned(clean.size as usize, result) {
            self.out.found.push(Found {
                at: At::Blob(slot),
                finding,
            });
        }
    }

    /// Scans one blob that was read (and records the result for the audit, with `key`).
    fn scan(
        &mut self,
        slot: u32,
        blob: &git2::OdbObject<'_>,
        origin: Origin<'_>,
        key: Option<Key>,
    ) {
        let content = blob.data();
        let lfs_pointer = content.len() < 1024 && content.starts_with(LFS_POINTER);
        self.out.lfs_pointers += u64::from(lfs_pointer);
        if let Some(p) = self.prefilter {
            let t = Instant::now();
            p.candidates(content, &mut self.candidates);
            self.candidates.iter_mut().for_each(|c| *c = false);
            self.out.prefilter += t.elapsed();
        }
        let t = Instant::now();
        let result = self
            .scanner
            .scan_blob(&mut self.matcher, &Blob::new(content, origin));
        self.out.scan += t.elapsed();
        if let (Some(seen), Some(key)) = (self.seen, key) {
            let clean = Clean {
                size: content.len() as u64,
                binary: result.binary,
                lfs_pointer,
            };
            seen.put(key, clean, &result);
        }
        for finding in self.out.collect.scanned(content.len(), result) {
            self.out.found.push(Found {
                at: At::Blob(slot),
                finding,
            });
        }
    }
}
