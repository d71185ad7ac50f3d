//! The parallel read-and-scan stage of a history scan: blobs are read in the given order on a
//! pool of threads, each sized from its header before it is inflated, scanned, and the results
//! merged once per thread. It does not attach commits or group findings (see [`super::group`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use git2::Repository;

use super::{enumerate, packorder, At, Found, HistoryOptions, Progress};
use crate::error::Result;
use crate::matcher::Prefilter;
use crate::scan::{Incomplete, Scanner, Unread};
use crate::source::blob::{Blob, Origin, RepoId};
use crate::source::collect::{thread_pool, Collector};

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
                        odb,
                        repo: &repo,
                        repo_id: &repo_id,
                        walk,
                        matcher: scanner.matcher(),
                        prefilter: prefilter.as_ref(),
                        candidates: vec![false; scanner.rules().rules().len()],
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
                }
                Err(e) => out.collect.stats.errors.push(format!(
                    "opening the objects of {}: {}",
                    git_dir.display(),
                    e.message()
                )),
            },
            Err(e) => out.collect.stats.errors.push(format!(
                "opening {}: {}",
                git_dir.display(),
                e.message()
            )),
        }
        total.lock().unwrap_or_else(|p| p.into_inner()).merge(out);
    });
    let mut total = total.into_inner().unwrap_or_else(|p| p.into_inner());
    total.collect.stats.errors.dedup();
    Ok(total)
}

struct Worker<'a, 's> {
    scanner: &'s Scanner,
    odb: git2::Odb<'a>,
    repo: &'a Repository,
    repo_id: &'a RepoId,
    walk: &'a enumerate::Walk,
    matcher: crate::matcher::Matcher<'s>,
    prefilter: Option<&'a Prefilter>,
    candidates: Vec<bool>,
    out: &'a mut ReadOut,
}

impl Worker<'_, '_> {
    /// Reads and scans one blob.
    fn blob(&mut self, slot: u32) {
        let blobs = &self.walk.blobs;
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
        let t = Instant::now();
        // Every blob is sized from its header before it is inflated: a pack entry says nothing
        // of the size of what it inflates to (2 GiB of zeros take 4 MB; a delta of a few KB
        // can make 512 MiB), and inflating first held gigabytes only to skip them.
        let limit = self.scanner.options.max_file_size;
        let size = self.odb.read_header(id).map(|(size, _)| size as u64);
        let blob = size.and_then(|size| {
            if size > limit {
                Ok(Err(size))
            } else {
                self.repo.find_blob(id).map(Ok)
            }
        });
        let too_large = |size: u64| {
            let reason = Unread::TooLarge {
                size: Some(size),
                limit,
            };
            Incomplete::at(&origin, reason)
        };
        let blob = match blob {
            Ok(Ok(b)) => b,
            Ok(Err(size)) => {
                self.out.collect.stats.incomplete.push(too_large(size));
                return;
            }
            Err(e) => {
                let at = match commit {
                    Some(c) => format!("{path} in commit {c}"),
                    None => path.clone(),
                };
                self.out
                    .collect
                    .stats
                    .errors
                    .push(format!("blob {id} ({at}): {}", e.message()));
                return;
            }
        };
        let content = blob.content();
        self.out.read += t.elapsed();
        if content.len() as u64 > limit {
            self.out
                .collect
                .stats
                .incomplete
                .push(too_large(content.len() as u64));
            return;
        }
        if content.len() < 1024 && content.starts_with(LFS_POINTER) {
            self.out.lfs_pointers += 1;
        }
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
        for finding in self.out.collect.scanned(content.len(), result) {
            self.out.found.push(Found {
                at: At::Blob(slot),
                finding,
            });
        }
    }
}
