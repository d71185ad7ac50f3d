//! `keyhound audit`: many repositories in one audit (paths, a list file, or every repository
//! under a directory; clone URLs are cloned into `--clone-dir`), each blob scanned once per
//! audit, optionally incremental (`--state`) and split into shards that `keyhound merge`
//! puts back together.
//!
//! A subcommand of its own rather than `keyhound git` taking several repositories: an audit's
//! report has a different shape (each finding lists its repositories; the summary counts
//! repositories and is what shards and merge exchange), it reads no repository's own
//! configuration, and its options (list, clone directory, state, shards) mean nothing for one
//! repository.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keyhound::report::{self, printable};
use keyhound::source::audit::{self, AuditReport, RepoEntry, Seen, Shard, State};
use keyhound::source::history::{self, HistoryOptions, NoProgress};

use crate::common::CommonArgs;
use crate::config::Base;
use crate::exit::{exit_code, EXIT_FOUND};
use crate::run::{write_output, Configured, Run};
use crate::verification::FailOn;

/// Arguments of `keyhound audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Repositories to audit: paths, or clone URLs (cloned into --clone-dir).
    #[arg(value_name = "REPO")]
    pub repos: Vec<String>,
    /// A file listing repositories, one path or clone URL a line (`#` starts a comment).
    #[arg(long = "repos", value_name = "FILE")]
    pub repos_file: Vec<PathBuf>,
    /// Audit every repository under this directory (work trees and bare repositories).
    #[arg(long, value_name = "DIR")]
    pub discover: Vec<PathBuf>,
    /// Where clone URLs are cloned (and fetched again on the next audit).
    #[arg(long, value_name = "DIR")]
    pub clone_dir: Option<PathBuf>,
    /// Do not fetch the hosts' review refs (`refs/pull/*/head`, `refs/merge-requests/*/head`)
    /// with a clone URL.
    #[arg(long)]
    pub no_review_refs: bool,
    /// Keep what was scanned here, and scan only what is new on the next audit.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Audit only shard I of N (0-based) of the repository list; also `KEYHOUND_SHARD=I/N`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The number of shards, the index taken from `JOB_COMPLETION_INDEX` (a Kubernetes
    /// Indexed Job).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// What a shard is a part of: the repository list, or the blobs of every repository (for
    /// one very large repository: each shard walks it all and scans its part of the blobs).
    #[arg(long, value_name = "WHAT", value_enum, default_value_t = ShardBy::Repositories)]
    pub shard_by: ShardBy,
    /// Do not scan commit and tag messages.
    #[arg(long)]
    pub no_messages: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// What `--shard` splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShardBy {
    /// The list of repositories (by a hash of each name).
    Repositories,
    /// The blob ids of each repository (by range).
    Blobs,
}

/// Runs the audit.
pub fn run(mut args: AuditArgs) -> anyhow::Result<i32> {
    let start = Instant::now();
    refuse_single_repository_options(&args.common)?;
    let shard = shard(&args)?;
    // The auditor's configuration only: a repository cannot silence an audit of it.
    args.common.config.no_repo_config = true;
    let common = &args.common;
    let entries = entries(&args)?;
    let blob_shard = (args.shard_by == ShardBy::Blobs && !shard.is_all()).then_some(shard);
    let entries: Vec<RepoEntry> = match blob_shard {
        Some(_) => entries,
        None => entries
            .into_iter()
            .filter(|e| shard.takes(&e.name))
            .collect(),
    };
    let blobs_scope = blob_shard.map(|s| s.to_string());
    if entries.iter().any(|e| e.url.is_some()) && args.clone_dir.is_none() {
        bail!("a clone URL is listed: name a directory to clone into with --clone-dir DIR");
    }

    history::tune_libgit2();
    let run = Run::new(common)?;
    let cwd = std::env::current_dir().context("the current directory")?;
    let Configured { scanner, used } = run.setup().configure(&Base::Dir(&cwd))?;
    let fingerprint = fingerprint(&args, &scanner)?;
    let redact = !common.no_redact;
    let min_confidence: keyhound::Confidence = common.min_confidence.into();

    let seen = Arc::new(Seen::new());
    let state = match &args.state {
        Some(dir) => {
            let (state, note) = State::open(dir, &fingerprint)?;
            if let Some(note) = note {
                eprintln!("keyhound: note: {}", printable(&note));
            }
            let (_, notes) = state.load_seen(&seen);
            for n in notes {
                eprintln!("keyhound: note: {}", printable(&n));
            }
            Some(state)
        }
        None => None,
    };

    let mut options = HistoryOptions::default();
    options.threads = common.threads;
    options.messages = !args.no_messages;
    options.seen = Some(seen.clone());
    options.blob_shard = blob_shard;

    let bar = Bar::new(
        !common.quiet && std::io::stderr().is_terminal(),
        entries.len(),
    );
    let mut parts: Vec<(String, AuditReport)> = Vec::with_capacity(entries.len());
    let mut reused_parts = 0usize;
    for mut entry in entries {
        bar.repository(&entry.name, &seen);
        if let (Some(url), Some(dir)) = (entry.url.clone(), &args.clone_dir) {
            match audit::fetch(&url, dir, !args.no_review_refs) {
                Ok(fetched) => entry.path = fetched.path,
                Err(why) => {
                    parts.push((entry.name.clone(), {
                        let mut part = AuditReport::failed(&entry.name, &why);
                        part.summary.fingerprint = fingerprint.clone();
                        part.summary.redacted = redact;
                        part
                    }));
                    bar.done_one();
                    continue;
                }
            }
        }
        if let Some(mut stored) = reusable(state.as_ref(), &entry, blobs_scope.as_deref(), redact) {
            reused_parts += 1;
            stored.findings.retain(|f| f.confidence >= min_confidence);
            parts.push((entry.name.clone(), stored));
            bar.done_one();
            continue;
        }
        let scan = audit::scan_repository(&scanner, &entry, &options, &NoProgress);
        if let Some(state) = &state {
            if scan.report.summary.errors.is_empty() && !scan.tips.is_empty() {
                state.save(
                    &entry.name,
                    blobs_scope.as_deref(),
                    scan.tips.clone(),
                    &scan.report,
                    &seen,
                )?;
            }
        }
        let mut part = scan.report;
        part.findings.retain(|f| f.confidence >= min_confidence);
        part.summary.fingerprint = fingerprint.clone();
        if redact {
            part.findings = part.findings.iter().map(report::redacted).collect();
        }
        part.summary.redacted = redact;
        parts.push((entry.name.clone(), part));
        bar.done_one();
    }
    bar.finish();

    let mut audit = match blob_shard {
        Some(_) => audit::combine_blob_shard(parts)?,
        None => audit::combine(parts)?,
    };
    audit.summary.fingerprint = fingerprint;
    audit.summary.redacted = redact;
    audit.summary.shard = (!shard.is_all()).then(|| shard.to_string());
    audit.summary.blob_shard = blob_shard.is_some();
    for e in &audit.summary.errors {
        eprintln!("keyhound: {}", printable(e));
    }
    if !common.quiet {
        for n in &audit.summary.notes {
            eprintln!("keyhound: note: {}", printable(n));
        }
        for c in &used {
            for w in &c.warnings {
                eprintln!("keyhound: note: {}", printable(w));
            }
        }
        eprintln!(
            "keyhound: audit: {} repositor{} ({} from the state), {} blobs scanned, {} reused, {:.2} s",
            audit.summary.repositories,
            if audit.summary.repositories == 1 { "y" } else { "ies" },
            reused_parts,
            seen.scanned(),
            seen.reused(),
            start.elapsed().as_secs_f64()
        );
    }
    for i in &audit.summary.incomplete {
        eprintln!("keyhound: not read whole: {}", printable(i));
    }
    write(&audit, common)?;
    finish_code(&audit, common.fail_on, common.exit_code, common)
}

/// The exit code of an audit's (or a merge's) report.
pub fn finish_code(
    audit: &AuditReport,
    fail_on: FailOn,
    found_code: i32,
    common: &CommonArgs,
) -> anyhow::Result<i32> {
    let at = fail_on.level();
    let failing = audit.findings.iter().filter(|f| f.fails(at)).count();
    let incomplete = match common.on_incomplete.map(keyhound::OnIncomplete::from) {
        Some(keyhound::OnIncomplete::Warn) => 0,
        _ => audit.summary.incomplete.len(),
    };
    Ok(
        match exit_code(failing, audit.summary.errors.len(), incomplete) {
            EXIT_FOUND => found_code,
            code => code,
        },
    )
}

/// Writes the report as `common` asks.
pub fn write(audit: &AuditReport, common: &CommonArgs) -> anyhow::Result<()> {
    let mut opts = keyhound::report::ReportOptions::default();
    opts.summary = !common.quiet;
    opts.show_fixtures = common.show_fixtures;
    opts.unit = "file versions";
    opts.fail_at = common.fail_on.level();
    opts.color = false;
    write_output(common.output.as_deref(), |w| {
        report::write_audit(common.format.into(), audit, &opts, w)
    })
}

/// Options of `keyhound git` that an audit does not take, refused by name.
fn refuse_single_repository_options(common: &CommonArgs) -> anyhow::Result<()> {
    if common.verify || common.only_verified || common.fail_on == FailOn::Active {
        bail!("an audit does not ask providers: verify the keys of its report with `keyhound verify`, or audit one repository with `keyhound git --verify`");
    }
    if common.explain {
        bail!("--explain is for one repository: `keyhound git --explain REPO`");
    }
    if common.purge_plan.is_some() {
        bail!("--purge-plan is for one repository: `keyhound git --purge-plan FILE REPO`");
    }
    if common.config.trust_repo_config {
        bail!("--trust-repo-config: an audit reads no repository's own configuration");
    }
    Ok(())
}

/// The shard asked for: `--shard I/N`, else `KEYHOUND_SHARD`, else `JOB_COMPLETION_INDEX` with
/// `--shards N`; the whole list if none.
fn shard(args: &AuditArgs) -> anyhow::Result<Shard> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let shard = if let Some(spec) = &args.shard {
        Shard::parse(spec).map_err(|e| anyhow!("--shard: {e}"))?
    } else if let Some(spec) = from_env("KEYHOUND_SHARD") {
        Shard::parse(&spec).map_err(|e| anyhow!("KEYHOUND_SHARD: {e}"))?
    } else if let Some(n) = args.shards {
        let index = from_env("JOB_COMPLETION_INDEX").ok_or_else(|| {
            anyhow!("--shards {n}: which shard? set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job does) or use --shard I/{n}")
        })?;
        let i: u32 = index
            .trim()
            .parse()
            .map_err(|_| anyhow!("JOB_COMPLETION_INDEX: `{index}` is not a number"))?;
        Shard::new(i, n).map_err(|e| anyhow!("JOB_COMPLETION_INDEX with --shards {n}: {e}"))?
    } else {
        Shard::ALL
    };
    if let (Some(n), true) = (
        args.shards,
        args.shard.is_some() || from_env("KEYHOUND_SHARD").is_some(),
    ) {
        if n != shard.count {
            bail!("--shards {n} and shard {shard} disagree on the number of shards");
        }
    }
    Ok(shard)
}

/// The repositories named, listed and discovered, each once (by name), sorted by name.
fn entries(args: &AuditArgs) -> anyhow::Result<Vec<RepoEntry>> {
    let mut all: Vec<RepoEntry> = args.repos.iter().map(|r| RepoEntry::parse(r)).collect();
    for file in &args.repos_file {
        all.extend(audit::read_list(file)?);
    }
    for dir in &args.discover {
        let (found, errors) = audit::discover(dir)?;
        for (path, e) in errors {
            eprintln!(
                "keyhound: --discover: {}: {e}",
                printable(&path.display().to_string())
            );
        }
        all.extend(found);
    }
    if all.is_empty() {
        bail!("no repositories to audit: name them, list them with --repos FILE, or use --discover DIR");
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all.dedup_by(|a, b| a.name == b.name);
    Ok(all)
}

/// The fingerprint of this audit's settings: rules and configuration files, the options that
/// change what is found or reported.
fn fingerprint(args: &AuditArgs, scanner: &keyhound::Scanner) -> anyhow::Result<String> {
    let c = &args.common.config;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for path in [&c.config, &c.ignore_file, &c.baseline]
        .into_iter()
        .flatten()
    {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        files.push((path.display().to_string(), bytes));
    }
    let settings = format!(
        "min-confidence={:?} messages={} review-refs={}",
        args.common.min_confidence, !args.no_messages, !args.no_review_refs
    );
    files.push(("settings".into(), settings.into_bytes()));
    let named: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    Ok(audit::fingerprint(&named, scanner.options()))
}

/// A stored part of `entry` that can stand for a scan of it: same tips, and redacted (the state
/// holds no secrets, so a run that shows them scans again).
fn reusable(
    state: Option<&State>,
    entry: &RepoEntry,
    blobs: Option<&str>,
    redact: bool,
) -> Option<AuditReport> {
    let state = state?;
    if !redact {
        return None;
    }
    let stored = state.part(&entry.name, blobs)?;
    let repo = git2::Repository::open(&entry.path).ok()?;
    (audit::tips(&repo) == stored.tips).then_some(stored.report)
}

/// Progress on a terminal: repositories done, blobs scanned and reused.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(visible: bool, repositories: usize) -> Bar {
        let bar = if visible {
            ProgressBar::with_draw_target(
                Some(repositories as u64),
                ProgressDrawTarget::stderr_with_hz(8),
            )
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:20} {pos}/{len} repositories {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if visible {
            bar.enable_steady_tick(Duration::from_millis(125));
        }
        Bar { bar }
    }

    fn repository(&self, name: &str, seen: &Seen) {
        self.bar.set_message(format!(
            "({} blobs scanned, {} reused) {}",
            seen.scanned(),
            seen.reused(),
            printable(name)
        ));
    }

    fn done_one(&self) {
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
