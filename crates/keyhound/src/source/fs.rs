//! Files and directories: a parallel walk with `ignore` (`.gitignore` respected unless asked
//! not to; dotfiles included; `.git` itself never walked), each file read once and scanned by
//! the walking thread's own matcher. Per-file problems are counted and the walk goes on.
//!
//! Every read is bounded by the size limit (files in `/proc` say they are empty and may hold
//! anything): a file found larger is recorded as incomplete, never read whole. A FIFO, socket
//! or device met in a walked directory is skipped and counted, never waited on; one named as a
//! root (`/dev/stdin`, a process substitution, a FIFO) is read, up to the limit.
//!
//! `.gitignore` files (and git's exclude files) apply only inside a git repository: a directory
//! that is not one is read whole, a gitignored `.env` included. Inside one, what they excluded
//! is counted: each directory's entries are counted once more and compared with what the walk
//! yielded from it, so that the summary can say how much was left out.
//!
//! ```
//! use keyhound::source::fs::{scan_paths, WalkOptions};
//! use keyhound::{RuleSet, Scanner};
//!
//! # let key = format!("sk-proj-{}T3BlbkFJ{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5jK7mN9pQ1sT3vW5yZ7bC9dF1gH3jK5mN",
//! #                     "Zy8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE8dC6bA4zY2xW0vU8tS6rQ4pO2nM0lK8jI6hG4f");
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("app"))?;
//! std::fs::write(dir.path().join("app/.env"), format!("OPENAI_API_KEY={key}\n"))?;
//! std::fs::write(dir.path().join("README.md"), "nothing here\n")?;
//!
//! let scanner = Scanner::new(RuleSet::builtin()?);
//! let scan = scan_paths(&scanner, &[dir.path().to_path_buf()], &WalkOptions::default())?;
//! assert_eq!(scan.stats.scanned, 2);
//! assert_eq!(scan.findings.len(), 1);
//! assert!(scan.findings[0].location().path.ends_with("app/.env"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::bounded;
use crate::error::{Error, ItemError, Result};
use crate::finding::Finding;
use crate::scan::{sort_findings, Explanation, Incomplete, Scanner, Stats, Unread};
use crate::source::blob::{Blob, Origin};
use crate::source::collect::Collector;

/// How to walk.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WalkOptions {
    /// Include files that `.gitignore` and friends exclude.
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_links: bool,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

/// Everything a scan of files produced.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FsScan {
    /// Findings, sorted by path and position.
    pub findings: Vec<Finding>,
    /// Dropped candidates (with `explain`).
    pub explanations: Vec<Explanation>,
    /// Counts.
    pub stats: Stats,
}

impl FsScan {
    fn merge(&mut self, other: FsScan) {
        self.findings.extend(other.findings);
        self.explanations.extend(other.explanations);
        self.stats.merge(other.stats);
    }

    fn finish(mut self) -> FsScan {
        sort_findings(&mut self.findings);
        self.explanations
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        self.stats.sort();
        self
    }
}

/// Shown for a path: relative to the current directory as given, `/`-separated.
fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

/// Scans files and directories. A root that does not exist is an error; problems with single
/// files below a root are recorded in the stats and the scan goes on. A root that is neither a
/// directory nor a regular file (a FIFO, `/dev/stdin`, a device) is read as it is.
pub fn scan_paths(scanner: &Scanner, roots: &[PathBuf], options: &WalkOptions) -> Result<FsScan> {
    let mut walked = Vec::with_capacity(roots.len());
    let mut special = Vec::new();
    for root in roots {
        if let Err(e) = std::fs::symlink_metadata(root) {
            return Err(Error::io(root, e));
        }
        match std::fs::metadata(root) {
            Ok(m) if !m.is_dir() && !m.is_file() => special.push(root),
            _ => walked.push(root.clone()),
        }
    }
    let mut total = FsScan::default();
    if !special.is_empty() {
        let mut worker = Worker {
            scanner,
            matcher: scanner.matcher(),
            collect: Collector::default(),
            findings: Vec::new(),
            total: None,
            balance: None,
        };
        for root in special {
            worker.named(root);
        }
        total.merge(worker.take());
    }
    let Some((first, rest)) = walked.split_first() else {
        return Ok(total.finish());
    };
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .hidden(false)
        .ignore(!options.no_ignore)
        .git_ignore(!options.no_ignore)
        .git_global(!options.no_ignore)
        .git_exclude(!options.no_ignore)
        .parents(!options.no_ignore)
        .require_git(true)
        .follow_links(options.follow_links)
        .threads(options.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let total = Mutex::new((total, HashMap::new()));
    builder.build_parallel().run(|| {
        let mut worker = Worker {
            scanner,
            matcher: scanner.matcher(),
            collect: Collector::default(),
            findings: Vec::new(),
            total: Some(&total),
            balance: (!options.no_ignore).then(HashMap::new),
        };
        Box::new(move |entry| {
            worker.visit(entry);
            WalkState::Continue
        })
    });
    let (mut total, balance) = total.into_inner().unwrap_or_else(|p| p.into_inner());
    total.stats.excluded_by_ignore_files = balance
        .values()
        .map(|&n| u64::try_from(n).unwrap_or(0))
        .sum();
    Ok(total.finish())
}

struct Worker<'s> {
    scanner: &'s Scanner,
    matcher: crate::matcher::Matcher<'s>,
    /// This thread's counts and explanations.
    collect: Collector,
    findings: Vec<Finding>,
    /// Where a walking thread's results go when it is done.
    total: Option<&'s Mutex<(FsScan, Balance)>>,
    /// When ignore files apply: for each directory, its entries less those the walk yielded.
    balance: Option<Balance>,
}

/// For each directory walked: how many of its entries the walk did not yield.
type Balance = HashMap<PathBuf, i64>;

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        if let Some(total) = self.total {
            let out = self.take();
            let mut total = total.lock().unwrap_or_else(|p| p.into_inner());
            total.0.merge(out);
            for (dir, n) in self.balance.take().unwrap_or_default() {
                *total.1.entry(dir).or_insert(0) += n;
            }
        }
    }
}

impl Worker<'_> {
    /// What this worker collected so far.
    fn take(&mut self) -> FsScan {
        let collect = std::mem::take(&mut self.collect);
        FsScan {
            findings: std::mem::take(&mut self.findings),
            explanations: collect.explanations,
            stats: collect.stats,
        }
    }

    fn visit(&mut self, entry: std::result::Result<ignore::DirEntry, ignore::Error>) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                self.collect
                    .stats
                    .errors
                    .push(ItemError::walk(e.to_string()));
                return;
            }
        };
        let Some(file_type) = entry.file_type() else {
            return;
        };
        let path = entry.path();
        if let Some(balance) = &mut self.balance {
            if entry.depth() > 0 {
                if let Some(parent) = path.parent() {
                    *balance.entry(parent.to_path_buf()).or_insert(0) -= 1;
                }
            }
            if file_type.is_dir() {
                // `.git` is left out by the walk's own filter, not by an ignore file.
                let entries = std::fs::read_dir(path)
                    .map(|d| d.flatten().filter(|e| e.file_name() != ".git").count())
                    .unwrap_or(0);
                *balance.entry(path.to_path_buf()).or_insert(0) +=
                    i64::try_from(entries).unwrap_or(i64::MAX);
            }
        }
        if file_type.is_dir() || file_type.is_symlink() {
            return;
        }
        let shown = display_path(path);
        if !file_type.is_file() {
            // A FIFO would make the walk wait for a writer; sockets and devices hold no content
            // at rest (and /dev/zero holds no end).
            self.collect.stats.special_files.push(shown);
            return;
        }
        if let Some(why) = self.scanner.path_skip(&shown) {
            self.collect.stats.removed.skipped(why);
            return;
        }
        let limit = self.scanner.options.max_file_size;
        let opened = bounded::open_nonblocking(path).and_then(|f| {
            let meta = f.metadata()?;
            Ok((f, meta))
        });
        let (file, meta) = match opened {
            Ok(o) => o,
            Err(e) => {
                self.collect
                    .stats
                    .errors
                    .push(ItemError::file(shown.as_str(), e));
                return;
            }
        };
        if !meta.is_file() {
            // Replaced by something else since the walk saw it.
            self.collect.stats.special_files.push(shown);
            return;
        }
        if meta.len() > limit {
            let reason = Unread::TooLarge {
                size: Some(meta.len()),
                limit,
            };
            self.collect
                .stats
                .incomplete
                .push(Incomplete::new(shown, reason));
            return;
        }
        // The length is only a hint: files in /proc say 0 and may hold anything.
        self.read(&shown, file, meta.len());
    }

    /// A root that is neither a directory nor a regular file: read as it is, up to the limit.
    fn named(&mut self, root: &Path) {
        let shown = display_path(root);
        match std::fs::File::open(root) {
            Ok(file) => self.read(&shown, file, 0),
            Err(e) => self
                .collect
                .stats
                .errors
                .push(ItemError::file(shown.as_str(), e)),
        }
    }

    /// Reads `reader` up to the size limit and scans it; more than that is incomplete.
    fn read(&mut self, shown: &str, reader: impl Read, hint: u64) {
        let limit = self.scanner.options.max_file_size;
        match bounded::read_to_limit(reader, limit, hint) {
            Ok(Some(content)) => self.scan(Origin::File { path: shown }, &content),
            Ok(None) => {
                let reason = Unread::TooLarge { size: None, limit };
                self.collect
                    .stats
                    .incomplete
                    .push(Incomplete::new(shown, reason));
            }
            Err(e) => self.collect.stats.errors.push(ItemError::file(shown, e)),
        }
    }

    fn scan(&mut self, origin: Origin<'_>, content: &[u8]) {
        let blob = Blob::new(content, origin);
        let result = self.scanner.scan_blob(&mut self.matcher, &blob);
        let found = self.collect.scanned(content.len(), result);
        self.findings.extend(found);
    }
}

/// Scans content read from `reader` (stdin), shown as `-`, reading no more than the size limit
/// and one byte: more than that is recorded as incomplete, not held.
pub fn scan_reader(scanner: &Scanner, reader: impl Read) -> Result<FsScan> {
    let mut worker = Worker {
        scanner,
        matcher: scanner.matcher(),
        collect: Collector::default(),
        findings: Vec::new(),
        total: None,
        balance: None,
    };
    let limit = scanner.options.max_file_size;
    match bounded::read_to_limit(reader, limit, 0) {
        Ok(Some(content)) => worker.scan(Origin::Stdin, &content),
        Ok(None) => {
            let reason = Unread::TooLarge { size: None, limit };
            worker
                .collect
                .stats
                .incomplete
                .push(Incomplete::new("-", reason));
        }
        Err(e) => return Err(Error::io("-", e)),
    }
    Ok(worker.take().finish())
}
