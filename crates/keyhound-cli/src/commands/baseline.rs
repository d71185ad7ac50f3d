//! `keyhound baseline create [PATH]`: records the fingerprints of today's findings, so that an
//! old repository can start blocking new keys without first cleaning up every old one. Scans
//! load the file from the root (`.keyhound-baseline.json`) or `--baseline FILE` and report only
//! what is not in it.

use std::path::{Path, PathBuf};

use keyhound::baseline::{Baseline, DEFAULT_FILE};
use keyhound::report::printable;
use keyhound::scan::ScanOptions;
use keyhound::source::fs::{scan_paths, WalkOptions};
use keyhound::source::history;

use crate::common::parse_size;
use crate::config::{Base, ConfigArgs};
use crate::exit::{EXIT_CLEAN, EXIT_ERROR};
use crate::run::{Configured, Setup};

/// Arguments of `keyhound baseline`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

/// `baseline` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BaselineCommand {
    /// Scan the working tree and write the fingerprints of every finding (position-independent,
    /// sorted, no timestamps: creating it twice gives the same bytes).
    Create(CreateArgs),
}

/// Arguments of `keyhound baseline create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The directory to scan (default: the root of the repository containing the current
    /// directory, else the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Where to write the baseline (default: `.keyhound-baseline.json` in PATH).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file adding rules and allowlists (default: `.keyhound.toml` in PATH).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore file of fingerprints and path globs (default: `.keyhoundignore` in PATH).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Also scan files that .gitignore and .ignore exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip files larger than this (bytes, or with K, M, G).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Record the findings of the whole history (every commit of every ref, as `keyhound git`
    /// audits it) instead of the working tree: for an old repository whose rotated keys stay
    /// in history.
    #[arg(long)]
    pub history: bool,
}

/// Runs the subcommand.
pub fn run(args: BaselineArgs) -> anyhow::Result<i32> {
    match args.command {
        BaselineCommand::Create(args) => create(args),
    }
}

fn create(args: CreateArgs) -> anyhow::Result<i32> {
    let root = match &args.path {
        Some(p) => p.clone(),
        None => git2::Repository::discover(".")
            .ok()
            .and_then(|r| r.workdir().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    if !root.is_dir() {
        anyhow::bail!("{}: not a directory", root.display());
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| root.join(DEFAULT_FILE));
    let Configured { scanner, used } = setup(&args).configure(&Base::Dir(&root))?;
    for c in &used {
        for w in &c.warnings {
            eprintln!("keyhound: note: {}", printable(w));
        }
    }
    let mut walk = WalkOptions::default();
    walk.no_ignore = args.no_ignore;
    walk.follow_links = false;
    walk.threads = args.threads;
    let result = if args.history {
        history::tune_libgit2();
        let repo = git2::Repository::discover(&root).map_err(|e| {
            anyhow::anyhow!(
                "{}: --history needs a git repository ({})",
                root.display(),
                e.message()
            )
        })?;
        let mut options = history::HistoryOptions::default();
        options.threads = args.threads;
        let scan = history::scan_history(&scanner, &repo, &options, &history::NoProgress)?;
        let mut found = keyhound::source::fs::FsScan::default();
        found.findings = scan.findings;
        found.explanations = scan.explanations;
        found.stats = scan.stats;
        found
    } else {
        scan_paths(&scanner, std::slice::from_ref(&root), &walk)?
    };
    for e in &result.stats.errors {
        eprintln!("keyhound: {}", printable(&e.to_string()));
    }
    // The salt of the file being replaced is kept, so that the same findings give the same
    // bytes; a new file gets a new one.
    let salt = Baseline::load(&output)
        .ok()
        .and_then(|b| b.salt)
        .unwrap_or_else(keyhound::baseline::new_salt);
    // The baseline records what was read; what was not is said, and does not stop it.
    crate::incomplete::report(&result.stats.incomplete, keyhound::OnIncomplete::Warn);
    let baseline = Baseline::from_findings(&result.findings, salt);
    baseline.save(&output)?;
    println!(
        "keyhound: {} finding{} ({} distinct) recorded in {}; later scans report only keys not in it",
        result.findings.len(),
        if result.findings.len() == 1 { "" } else { "s" },
        baseline.findings.len(),
        output.display()
    );
    Ok(if result.stats.errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    })
}

/// The configuration discovery of `keyhound scan`, except that the existing baseline is not
/// loaded: it would hide the findings the new one must record again.
fn setup(args: &CreateArgs) -> Setup {
    let config = ConfigArgs {
        config: args.config.clone(),
        ignore_file: args.ignore_file.clone(),
        ..ConfigArgs::default()
    };
    let mut options = ScanOptions::default();
    options.max_file_size = args.max_file_size;
    Setup::new(config, false, options)
}
