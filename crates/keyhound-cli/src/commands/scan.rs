//! `keyhound scan [PATH...]`: files, directories and stdin.

use std::path::PathBuf;

use keyhound::source::fs::{scan_paths, scan_reader, WalkOptions};

use crate::common::{self, CommonArgs};

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

/// Runs the scan and returns the exit code.
pub fn run(args: ScanArgs) -> anyhow::Result<i32> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let root = paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let scanner = common::scanner(&args.common, &root)?;
    let result = if paths.len() == 1 && paths[0].as_os_str() == "-" {
        scan_reader(&scanner, std::io::stdin().lock())?
    } else {
        if paths.iter().any(|p| p.as_os_str() == "-") {
            anyhow::bail!("`-` (stdin) cannot be combined with other paths");
        }
        let walk = WalkOptions {
            no_ignore: args.no_ignore,
            follow_links: args.follow_links,
            threads: args.common.threads,
        };
        scan_paths(&scanner, &paths, &walk)?
    };
    common::finish(
        &args.common,
        &result.findings,
        &result.stats,
        &result.explanations,
        "files",
        Vec::new(),
    )
}
