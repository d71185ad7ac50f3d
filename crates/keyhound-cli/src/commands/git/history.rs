//! `keyhound git [REPO]` without `--staged`: the full-history audit, or what a range of
//! commits introduced (CI). Finds the repository, turns the arguments into
//! [`HistoryOptions`], shows progress on a terminal, and adds the history summary to the report.
//!
//! Two environment variables help measure it: `KEYHOUND_TIMINGS=1` prints the time of each
//! stage on stderr (and times the keyword prefilter on its own, which runs it twice), then
//! the rules that took the most time, with how often each was proposed, searched and kept;
//! `KEYHOUND_HASH_ORDER=1` reads blobs in hash order instead of pack order (same findings,
//! slower: what pack order saves).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keyhound::source::history::{self, time, HistoryOptions, HistoryScan, HistoryStats};
use keyhound::Revision;

use super::GitArgs;
use crate::config::{self, Base};
use crate::run::{Configured, Outcome, Run};

/// Runs the history scan.
pub fn run(args: GitArgs, run: Run) -> anyhow::Result<i32> {
    let start = Instant::now();
    if args.range.is_some() && !args.branch.is_empty() {
        bail!("--range and --branch cannot be combined (the range names its own commits)");
    }
    let date = |d: &Option<String>, flag: &str| {
        d.as_deref()
            .map(time::parse_date)
            .transpose()
            .map_err(|e| anyhow!("{flag}: {e}"))
    };
    let since = date(&args.since, "--since")?;
    let until = date(&args.until, "--until")?;

    history::tune_libgit2();
    let path = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    if path.is_file() {
        bail!(
            "{}: a file, not a repository: `keyhound git` audits a repository's history; scan a file with `keyhound scan {}`",
            path.display(),
            path.display()
        );
    }
    let repo = git2::Repository::discover(&path)
        .map_err(|e| anyhow!("{}: not a git repository ({})", path.display(), e.message()))?;
    let range = args
        .range
        .as_deref()
        .map(|r| merge_base_form(&repo, r))
        .transpose()?;
    let base = config_base(&repo, range.as_deref())?;
    let Configured { scanner, used } = run.setup().configure(&base)?;
    if let (Base::Revision { label, .. }, Some(dir)) = (&base, repo.workdir()) {
        for name in config::changed_since(run.setup().config_args(), &base, dir)? {
            eprintln!(
                "keyhound: note: the work tree's {name} differs from {label}'s; a range is scanned with its base revision's files (a change cannot bless itself)"
            );
        }
    }
    let scanner = scanner.with_paths(args.path_filter()?);
    let mut options = HistoryOptions::default();
    options.branches = args.branch.clone();
    options.range = range.clone();
    options.since = since;
    options.until = until;
    options.threads = args.common.threads;
    options.dedup = !args.no_dedup;
    options.pack_order = std::env::var_os("KEYHOUND_HASH_ORDER").is_none();
    options.timings = timings_wanted();
    options.messages = !args.no_messages;
    let progress = Bar::new(!args.common.quiet && std::io::stderr().is_terminal());
    let mut result =
        history::scan_history(&scanner, &repo, &options, &progress).map_err(in_flag_words)?;
    if let Some(why) = result.range_stopped.take() {
        let range = options.range.as_deref().unwrap_or_default();
        result.stats.errors.push(keyhound::ItemError::new(
            format!("walking --range {range}"),
            why,
        ));
        result.stats.errors.sort();
    }
    progress.done();
    let elapsed = start.elapsed();
    if options.timings {
        eprintln!("{}", timings(&result.history, elapsed));
        eprintln!("{}", rule_times(&result.history, scanner.rules().rules()));
    }
    let extra_summary = summary(&result, elapsed);
    let scanned = (result.findings, result.stats, result.explanations);
    run.finish(Outcome {
        extra_summary,
        ..Outcome::new(&run, &scanner, scanned, used, "file versions")
    })
}

/// A library error, with a revision the user chose named by the option that chose it.
fn in_flag_words(e: keyhound::Error) -> anyhow::Error {
    match e {
        keyhound::Error::BadRevision {
            revision: Revision::Branch(name),
            error,
        } => anyhow!("--branch {name}: {}", error.message()),
        keyhound::Error::BadRevision {
            revision: Revision::Range(range),
            error,
        } => anyhow!("--range {range}: {}", error.message()),
        e => e.into(),
    }
}

/// `A...B` (what B adds since it left A, as a pull request sees it) as `MERGE-BASE..B`; any
/// other range as it is.
fn merge_base_form(repo: &git2::Repository, range: &str) -> anyhow::Result<String> {
    let Some((a, b)) = range.split_once("...") else {
        return Ok(range.to_string());
    };
    let b = if b.is_empty() { "HEAD" } else { b };
    let commit = |name: &str| {
        repo.revparse_single(name)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| anyhow!("--range {range}: {name}: {}", e.message()))
    };
    let (ca, cb) = (commit(a)?, commit(b)?);
    let base = repo.merge_base(ca, cb).map_err(|e| {
        anyhow!(
            "--range {range}: {a} and {b} have no common ancestor ({}); in a shallow clone, fetch more history",
            e.message()
        )
    })?;
    Ok(format!("{base}..{b}"))
}

/// Where the repository's own config files are read from: the base of the range (a change
/// cannot bless itself), else the work tree, else (a bare repository) HEAD's tree.
pub(super) fn config_base<'r>(
    repo: &'r git2::Repository,
    range: Option<&str>,
) -> anyhow::Result<Base<'r>> {
    if let Some(range) = range {
        let (left, _) = range
            .split_once("..")
            .ok_or_else(|| anyhow!("--range {range}: expected A..B (two dots)"))?;
        let commit = repo
            .revparse_single(left)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                let hint = if e.code() == git2::ErrorCode::NotFound && !left.contains(['~', '^']) {
                    format!(
                        "; the base is not in this clone: fetch it (`git fetch origin {}`), and in CI check out the full history (GitHub Actions: actions/checkout with `fetch-depth: 0`; GitLab CI: `GIT_DEPTH: 0`)",
                        left.strip_prefix("origin/").unwrap_or(left)
                    )
                } else {
                    String::new()
                };
                anyhow!("--range {range}: {left}: {}{hint}", e.message())
            })?;
        return Ok(Base::Revision {
            repo,
            commit: commit.id(),
            label: left.to_string(),
        });
    }
    if let Some(dir) = repo.workdir() {
        return Ok(Base::WorkTree(dir));
    }
    match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(c) => Ok(Base::Revision {
            repo,
            commit: c.id(),
            label: "HEAD".to_string(),
        }),
        // An empty bare repository: nothing to read config from, nothing to scan either.
        Err(_) => Ok(Base::Dir(repo.path())),
    }
}

fn timings_wanted() -> bool {
    std::env::var_os("KEYHOUND_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The history part of the summary: what was walked, what was left out and why, and time.
fn summary(result: &HistoryScan, elapsed: Duration) -> Vec<String> {
    let h = &result.history;
    let mut lines = Vec::new();
    if h.commits == 0 && h.blobs == 0 {
        lines.push("no commits: nothing to scan".to_string());
        return lines;
    }
    lines.push(format!(
        "history: {} from {}, {} unique {}",
        plural(h.commits as u64, "commit", "commits"),
        plural(h.refs as u64, "ref", "refs"),
        h.blobs,
        if h.introduced_only {
            "file versions (blobs) introduced by them"
        } else {
            "file versions (blobs)"
        }
    ));
    if h.messages > 0 {
        lines.push(format!(
            "{} scanned",
            plural(
                h.messages as u64,
                "commit or tag message",
                "commit and tag messages"
            )
        ));
    }
    if h.shallow {
        lines.push(
            "shallow clone: history before its edge is not in this repository and was not scanned"
                .to_string(),
        );
    }
    if h.gitlinks > 0 {
        lines.push(format!(
            "skipped {} (other repositories; scan them on their own)",
            plural(h.gitlinks, "submodule entry", "submodule entries")
        ));
    }
    if h.skipped_by_path > 0 {
        lines.push(format!(
            "skipped {} whose path is allowlisted or ignored",
            plural(h.skipped_by_path, "file version", "file versions")
        ));
    }
    if h.lfs_pointers > 0 {
        lines.push(format!(
            "{} scanned; the files they stand for live on the LFS server and were not",
            plural(h.lfs_pointers, "Git LFS pointer", "Git LFS pointers")
        ));
    }
    lines.push(format!("time: {:.2} s", elapsed.as_secs_f64()));
    lines
}

fn timings(h: &HistoryStats, elapsed: Duration) -> String {
    let t = &h.timings;
    let s = |d: Duration| d.as_secs_f64();
    format!(
        "keyhound: timings: total {:.3} s = enumerate {:.3} (commits {:.3}, trees {:.3}) + order {:.3} + read-and-scan {:.3} (wall) + finish {:.3}; \
         thread time: read {:.3}, scan {:.3} (of which prefilter {:.3}); \
         {} commits, {} trees, {} blobs ({} placed by {} pack indexes)",
        s(elapsed),
        s(t.enumerate),
        s(t.commit_walk),
        s(t.tree_walk),
        s(t.order),
        s(t.read_and_scan),
        s(t.finish),
        s(t.read),
        s(t.scan),
        s(t.prefilter),
        h.commits,
        h.trees,
        h.blobs,
        h.blobs_in_packs,
        h.packs
    )
}

/// Rules shown by [`rule_times`].
const RULE_TIMES_SHOWN: usize = 10;

/// The rules that took the most thread time in the read-and-scan stage, with how often the
/// prefilter proposed each one, how often its regex searched, and how many matches it kept.
fn rule_times(h: &HistoryStats, rules: &[keyhound::Rule]) -> String {
    let mut costly: Vec<(&str, &keyhound::RuleCost)> = rules
        .iter()
        .map(|r| r.id.as_str())
        .zip(&h.timings.rules)
        .filter(|(_, c)| c.candidates > 0)
        .collect();
    costly.sort_by(|a, b| b.1.time.cmp(&a.1.time).then(a.0.cmp(b.0)));
    let total: f64 = costly.iter().map(|(_, c)| c.time.as_secs_f64()).sum();
    let shown: Vec<String> = costly
        .iter()
        .take(RULE_TIMES_SHOWN)
        .map(|(id, c)| {
            format!(
                "{id} {:.3} ({} proposed, {} searched, {} kept)",
                c.time.as_secs_f64(),
                c.candidates,
                c.searches,
                c.matches
            )
        })
        .collect();
    format!(
        "keyhound: rule time: {total:.3} s thread time over {} rules proposed; most: {}",
        costly.len(),
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    )
}

/// The progress bar on stderr: a counter of commits while walking, then blobs scanned with
/// throughput and ETA. Hidden unless stderr is a terminal and `--quiet` is off.
struct Bar {
    bar: ProgressBar,
    bytes: AtomicU64,
    reading_since: OnceLock<Instant>,
}

impl Bar {
    fn new(visible: bool) -> Bar {
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8))
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} 1/2 walking history: {pos} commits")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        if visible {
            bar.enable_steady_tick(Duration::from_millis(125));
        }
        Bar {
            bar,
            bytes: AtomicU64::new(0),
            reading_since: OnceLock::new(),
        }
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

impl history::Progress for Bar {
    fn commits(&self, n: u64) {
        self.bar.set_position(n);
    }

    fn reading(&self, blobs: u64) {
        self.reading_since.get_or_init(Instant::now);
        self.bar.set_position(0);
        self.bar.set_length(blobs);
        self.bar.set_style(
            ProgressStyle::with_template(
                "2/2 [{elapsed_precise}] {bar:20} {pos}/{len} file versions {msg} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }

    fn scanned(&self, blobs: u64, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let since = self.reading_since.get_or_init(Instant::now);
        let secs = since.elapsed().as_secs_f64().max(0.001);
        self.bar
            .set_message(format!("{:.0} MiB/s", total as f64 / 1048576.0 / secs));
        self.bar.inc(blobs);
    }
}
