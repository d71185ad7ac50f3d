//! `keyhound scan [PATH...]`: files, directories and stdin.
//!
//! Each directory named is a root with its own configuration (its `.keyhound.toml`,
//! `.keyhoundignore` and baseline), which applies to the paths under it only: a scanned
//! directory's config cannot change how another one is scanned. Files named on their own, and
//! stdin, take the configuration of the current directory.

use std::path::{Path, PathBuf};

use keyhound::scan::finding_order;
use keyhound::source::fs::{scan_paths, scan_reader, FsScan, WalkOptions};
use keyhound::OnIncomplete;

use crate::common::CommonArgs;
use crate::config::{self, Base};
use crate::run::{Configured, Outcome, Run};

/// Arguments of `keyhound scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads stdin (default: `.`).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also scan files that .gitignore and .ignore exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links (loops are reported, not followed forever).
    #[arg(long, short = 'L')]
    pub follow_links: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The roots of a scan: each directory named, then the files named (under `.`).
fn roots(paths: &[PathBuf]) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut roots: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            roots.push((p.clone(), vec![p.clone()]));
        } else {
            files.push(p.clone());
        }
    }
    if !files.is_empty() {
        roots.push((PathBuf::from("."), files));
    }
    roots
}

/// Runs the scan and returns the exit code.
pub fn run(args: ScanArgs) -> anyhow::Result<i32> {
    let run = Run::new(&args.common)?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let stdin = paths.len() == 1 && paths[0].as_os_str() == "-";
    if !stdin && paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("`-` (stdin) cannot be combined with other paths");
    }
    let mut walk = WalkOptions::default();
    walk.no_ignore = args.no_ignore;
    walk.follow_links = args.follow_links;
    walk.threads = args.common.threads;
    let mut outcome = Outcome {
        unit: "files",
        ..Outcome::default()
    };
    let groups = if stdin {
        vec![(PathBuf::from("."), Vec::new())]
    } else {
        roots(&paths)
    };
    let several = groups.len() > 1;
    for (root, targets) in groups {
        let Configured { scanner, mut used } =
            run.setup().configure(&Base::Dir(Path::new(&root)))?;
        // Each root's config speaks for itself only: one asking to fail keeps the run failing.
        outcome.config_on_incomplete =
            match (outcome.config_on_incomplete, scanner.rules().on_incomplete) {
                (Some(OnIncomplete::Fail), _) | (_, Some(OnIncomplete::Fail)) => {
                    Some(OnIncomplete::Fail)
                }
                (a, b) => a.or(b),
            };
        let result: FsScan = if stdin {
            scan_reader(&scanner, std::io::stdin().lock())?
        } else {
            scan_paths(&scanner, &targets, &walk)?
        };
        config::count_removed(&mut used, &result.stats.removed);
        let checks = run.checks(&scanner, &result.findings);
        outcome.checks.extend(checks);
        outcome.findings.extend(result.findings);
        outcome.explanations.extend(result.explanations);
        outcome.stats.merge(result.stats);
        outcome.config.extend(used);
    }
    if several {
        // One order over every root, each finding's verify check kept beside it.
        let checks = std::mem::take(&mut outcome.checks);
        let mut paired: Vec<_> = std::mem::take(&mut outcome.findings)
            .into_iter()
            .zip(checks.into_iter().map(Some).chain(std::iter::repeat(None)))
            .collect();
        paired.sort_by(|a, b| finding_order(&a.0, &b.0));
        for (f, c) in paired {
            outcome.findings.push(f);
            if let Some(c) = c {
                outcome.checks.push(c);
            }
        }
    }
    outcome.stats.sort();
    match outcome.stats.excluded_by_ignore_files {
        0 => {}
        n => outcome.extra_summary.push(format!(
            "{n} path{} excluded by .gitignore (or .ignore, git's exclude files); --no-ignore scans them",
            if n == 1 { "" } else { "s" }
        )),
    }
    run.finish(outcome)
}
