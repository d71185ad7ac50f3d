//! `keyhound merge`: the shard reports of one audit (`keyhound audit --shard I/N --format
//! json`) made into the one report a single process would have written. Reports of different
//! settings (fingerprints), a shard given twice or missing, or a file that is not an audit's
//! JSON report are refused, naming the files. Secrets are redacted unless `--no-redact` (and
//! reports that hold them redacted cannot show them).

use std::path::PathBuf;

use anyhow::{bail, Context};
use keyhound::report::printable;
use keyhound::source::audit::{self, AuditReport};

use crate::common::CommonArgs;

/// Arguments of `keyhound merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Runs the merge.
pub fn run(args: MergeArgs) -> anyhow::Result<i32> {
    let common = &args.common;
    let mut parts: Vec<(String, AuditReport)> = Vec::new();
    for path in &args.reports {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let report: AuditReport = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{}: not the JSON report of a `keyhound audit` (write one with --format json)",
                path.display()
            )
        })?;
        parts.push((path.display().to_string(), report));
    }
    let redacted = parts.iter().any(|(_, p)| p.summary.redacted);
    if common.no_redact && redacted {
        bail!(
            "--no-redact: the reports hold redacted secrets; audit with --no-redact to show them"
        );
    }
    // Reports that show their secrets are merged into one that shows them only when asked
    // (`--no-redact`), like any report.
    if !common.no_redact {
        for (_, p) in parts.iter_mut().filter(|(_, p)| !p.summary.redacted) {
            p.findings = p.findings.iter().map(keyhound::report::redacted).collect();
            p.summary.redacted = true;
        }
    }
    let merged = audit::combine(parts)?;
    for e in &merged.summary.errors {
        eprintln!("keyhound: {}", printable(e));
    }
    super::audit::write(&merged, common)?;
    super::audit::finish_code(&merged, common.fail_on, common.exit_code, common)
}
