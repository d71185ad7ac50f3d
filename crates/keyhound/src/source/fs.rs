//! Files and directories: a parallel walk with `ignore` (`.gitignore` respected unless asked
//! not to; dotfiles included; `.git` itself never walked), each file read once and scanned by
//! the walking thread's own matcher. Per-file problems are counted and the walk goes on.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::scan::{sort_findings, Explanation, Scanner, Stats};

/// How to walk.
#[derive(Debug, Clone, Default)]
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
/// files below a root are recorded in the stats and the scan goes on.
pub fn scan_paths(scanner: &Scanner, roots: &[PathBuf], options: &WalkOptions) -> Result<FsScan> {
    let Some((first, rest)) = roots.split_first() else {
        return Ok(FsScan::default());
    };
    for root in roots {
        if let Err(e) = std::fs::symlink_metadata(root) {
            return Err(Error::io(root, e));
        }
    }
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
        .require_git(false)
        .follow_links(options.follow_links)
        .threads(options.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let total = Mutex::new(FsScan::default());
    builder.build_parallel().run(|| {
        let mut worker = Worker {
            scanner,
            matcher: scanner.matcher(),
            out: FsScan::default(),
            total: &total,
        };
        Box::new(move |entry| {
            worker.visit(entry);
            WalkState::Continue
        })
    });
    let total = total.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(total.finish())
}

struct Worker<'s> {
    scanner: &'s Scanner,
    matcher: crate::matcher::Matcher<'s>,
    out: FsScan,
    total: &'s Mutex<FsScan>,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let out = std::mem::take(&mut self.out);
        self.total
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .merge(out);
    }
}

impl Worker<'_> {
    fn visit(&mut self, entry: std::result::Result<ignore::DirEntry, ignore::Error>) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                self.out.stats.errors.push(e.to_string());
                return;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            return;
        }
        let path = entry.path();
        let shown = display_path(path);
        if let Some(why) = self.scanner.path_skip(&shown) {
            self.out.stats.removed.skipped(why);
            return;
        }
        let size = match entry.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                self.out.stats.errors.push(format!("{shown}: {e}"));
                return;
            }
        };
        if size > self.scanner.options.max_file_size {
            self.out.stats.skipped_too_large.push(shown);
            return;
        }
        match std::fs::read(path) {
            Ok(content) => self.scan(&shown, &content),
            Err(e) => self.out.stats.errors.push(format!("{shown}: {e}")),
        }
    }

    fn scan(&mut self, shown: &str, content: &[u8]) {
        let result = self.scanner.scan_content(&mut self.matcher, shown, content);
        self.out.stats.scanned += 1;
        self.out.stats.bytes += content.len() as u64;
        self.out.stats.add_content(&result);
        self.out.stats.notes.extend(result.notes);
        self.out.findings.extend(result.findings);
        self.out.explanations.extend(result.explanations);
    }
}

/// Scans content read from `reader` (stdin), shown as `-`.
pub fn scan_reader(scanner: &Scanner, mut reader: impl Read) -> Result<FsScan> {
    let mut content = Vec::new();
    reader
        .read_to_end(&mut content)
        .map_err(|e| Error::io("-", e))?;
    let mut out = FsScan::default();
    if content.len() as u64 > scanner.options.max_file_size {
        out.stats.skipped_too_large.push("-".into());
        return Ok(out);
    }
    let mut matcher = scanner.matcher();
    let result = scanner.scan_content(&mut matcher, "-", &content);
    out.stats.scanned = 1;
    out.stats.bytes = content.len() as u64;
    out.stats.add_content(&result);
    out.stats.notes = result.notes;
    out.findings = result.findings;
    out.explanations = result.explanations;
    Ok(out.finish())
}
