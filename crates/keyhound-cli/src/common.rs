//! What every scanning subcommand shares: output and rule options, config discovery, writing
//! the report, and exit codes.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use keyhound::report::{self, Format, Report, ReportOptions};
use keyhound::scan::{Explanation, ScanOptions, Stats};
use keyhound::suppress::Suppressions;
use keyhound::{Finding, OnIncomplete, RuleSet, Scanner};

use crate::commands::verify::{self, FailOn};

/// Nothing found.
pub const EXIT_CLEAN: i32 = 0;
/// Findings.
pub const EXIT_FOUND: i32 = 1;
/// Error (bad config, unreadable root, errors during the scan).
pub const EXIT_ERROR: i32 = 2;
/// Incomplete: something asked for could not be read whole (and `--on-incomplete` is `fail`).
pub const EXIT_INCOMPLETE: i32 = 3;

/// Options shared by `scan` and `git`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Output format: human, json, jsonl, sarif, github.
    #[arg(long, short = 'f', default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file adding rules and allowlists (default: `.keyhound.toml` at the scanned root).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore file of fingerprints and path globs (default: `.keyhoundignore` at the root).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Baseline of accepted findings (default: `.keyhound-baseline.json` at the root).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Show secrets in full (they are redacted by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Skip files larger than this (bytes, or with K, M, G).
    #[arg(long, alias = "max-blob-size", value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Print why each candidate the rules matched was kept or dropped.
    #[arg(long)]
    pub explain: bool,
    /// Layers of encodings (base64, hex, percent, string escapes) and containers (zip, tar,
    /// gzip, notebooks) to look inside; 0 turns decoding off.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_decode_depth: usize,
    /// Report only findings at or above this confidence: low, medium, high.
    #[arg(long, value_name = "LEVEL", default_value = "low")]
    pub min_confidence: keyhound::evidence::Confidence,
    /// List test fixtures in human output (they are counted, not listed, by default; JSON and
    /// SARIF always carry them).
    #[arg(long)]
    pub show_fixtures: bool,
    /// Print only findings and errors: no summary, no progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Ask each key's provider whether it still works: sends the key to the host its rule
    /// names, over HTTPS. Off by default; nothing else opens a connection.
    #[arg(long)]
    pub verify: bool,
    /// Report only keys the provider accepted (implies --verify).
    #[arg(long)]
    pub only_verified: bool,
    /// Which findings fail the run: any, or only active keys (implies --verify).
    #[arg(long, value_name = "WHICH", value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Seconds to wait for each provider's answer (--verify).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = verify::parse_timeout)]
    pub verify_timeout: std::time::Duration,
    /// What a scan that could not read everything (a file over --max-file-size, an archive
    /// past a limit) does: fail (exit 3, the default) or warn. Default: the config's
    /// `[scan] on_incomplete`, else fail.
    #[arg(long, value_name = "POLICY")]
    pub on_incomplete: Option<OnIncomplete>,
    #[arg(skip)]
    pub verify_checks: verify::Checks,
    /// The config file's `[scan] on_incomplete`, once the rules are loaded.
    #[arg(skip)]
    pub config_on_incomplete: std::sync::OnceLock<OnIncomplete>,
}

impl CommonArgs {
    /// Whether this run asks providers (only ever on request).
    pub fn verifying(&self) -> bool {
        self.verify || self.only_verified || self.fail_on == FailOn::Active
    }

    /// `--on-incomplete`, else the config's, else fail.
    pub fn on_incomplete(&self) -> OnIncomplete {
        self.on_incomplete
            .or_else(|| self.config_on_incomplete.get().copied())
            .unwrap_or_default()
    }
}

/// Parses `123`, `64K`, `100M`, `1G` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size unit `{c}` (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 5000000, 512K, 100M, 1G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Loads the rules: `--config`, else `.keyhound.toml` in `root` if present, else built-ins.
pub fn load_rules(args: &CommonArgs, root: &Path) -> anyhow::Result<RuleSet> {
    let config = match &args.config {
        Some(c) => Some(c.clone()),
        // Present at all (a symbolic link to a device too): reading it says what is wrong.
        None => Some(root.join(".keyhound.toml")).filter(|p| p.symlink_metadata().is_ok()),
    };
    Ok(match config {
        Some(path) => RuleSet::with_config(&path)?,
        None => RuleSet::builtin()?,
    })
}

/// Builds the scanner for a root: rules, `.keyhoundignore`, options.
pub fn scanner(args: &CommonArgs, root: &Path) -> anyhow::Result<Scanner> {
    let rules = load_rules(args, root)?;
    if let Some(policy) = rules.on_incomplete {
        let _ = args.config_on_incomplete.set(policy);
    }
    if args.verifying() {
        args.verify_checks.remember(&rules);
    }
    let ignore = match &args.ignore_file {
        Some(p) => {
            if p.symlink_metadata().is_err() {
                anyhow::bail!("{}: ignore file not found", p.display());
            }
            Suppressions::load(p)?
        }
        None => Suppressions::load(&root.join(".keyhoundignore"))?,
    };
    let mut ignore = ignore;
    let baseline = match &args.baseline {
        Some(p) => Some(p.clone()),
        None => Some(root.join(keyhound::baseline::DEFAULT_FILE))
            .filter(|p| p.symlink_metadata().is_ok()),
    };
    if let Some(path) = baseline {
        ignore.add_fingerprints(keyhound::baseline::Baseline::load(&path)?.fingerprints());
    }
    Ok(Scanner::new(rules)
        .with_suppressions(ignore)
        .with_options(ScanOptions {
            max_file_size: args.max_file_size,
            explain: args.explain,
            max_decode_depth: args.max_decode_depth,
            scan_budget: Some(scan_budget()?),
        }))
}

/// The time budget of each blob: the library's default, or `KEYHOUND_SCAN_BUDGET_MS` (a flat
/// budget, for tests of what running out does; not a user option).
fn scan_budget() -> anyhow::Result<keyhound::ScanBudget> {
    match std::env::var("KEYHOUND_SCAN_BUDGET_MS") {
        Ok(v) if !v.is_empty() => {
            let ms: u64 = v
                .parse()
                .map_err(|_| anyhow::anyhow!("KEYHOUND_SCAN_BUDGET_MS: `{v}` is not a number"))?;
            Ok(keyhound::ScanBudget {
                base: std::time::Duration::from_millis(ms),
                per_mib: std::time::Duration::ZERO,
            })
        }
        _ => Ok(keyhound::ScanBudget::default()),
    }
}

/// Whether to colour human output on stdout.
pub fn color_wanted(args: &CommonArgs) -> bool {
    args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes the report, prints per-item errors to stderr, and returns the exit code.
pub fn finish(
    args: &CommonArgs,
    findings: &[Finding],
    stats: &Stats,
    explanations: &[Explanation],
    unit: &'static str,
    extra_summary: Vec<String>,
) -> anyhow::Result<i32> {
    for e in &stats.errors {
        eprintln!("keyhound: {e}");
    }
    // Even under --quiet: a scan that passes must not hide that it did not read everything.
    crate::incomplete::report(&stats.incomplete, args.on_incomplete());
    if !args.quiet {
        for n in &stats.notes {
            eprintln!("keyhound: note: {n}");
        }
    }
    let kept: Vec<Finding> = findings
        .iter()
        .filter(|f| f.confidence >= args.min_confidence)
        .cloned()
        .collect();
    let mut kept = kept;
    let mut extra_summary = extra_summary;
    if args.verifying() {
        extra_summary.push(verify::apply(args, &mut kept)?);
    }
    let findings = &kept[..];
    let opts = ReportOptions {
        no_redact: args.no_redact,
        color: color_wanted(args),
        summary: !args.quiet,
        show_fixtures: args.show_fixtures,
        unit,
        extra_summary,
        describe_incomplete: Some(crate::incomplete::describe),
    };
    let report = Report {
        findings,
        stats,
        explanations,
    };
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            report::write(args.format, report, &opts, &mut w)?;
            w.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            if let Err(e) = report::write(args.format, report, &opts, &mut w)
                .and_then(|_| w.flush().map_err(keyhound::Error::Report))
            {
                // A closed pipe (`keyhound scan | head`) is not an error worth a message.
                if !is_broken_pipe(&e) {
                    return Err(e.into());
                }
            }
        }
    }
    let failing = match args.fail_on {
        FailOn::Any => blocking(findings),
        FailOn::Active => findings.iter().filter(|f| verify::is_active(f)).count(),
    };
    let incomplete = match args.on_incomplete() {
        OnIncomplete::Fail => stats.incomplete.len(),
        OnIncomplete::Warn => 0,
    };
    Ok(exit_code(failing, stats.errors.len(), incomplete))
}

fn is_broken_pipe(e: &keyhound::Error) -> bool {
    matches!(e, keyhound::Error::Report(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Findings that fail a scan: all but fixtures by value evidence (published examples, failed
/// checksums, bodies that do not decode), which cannot be live credentials — unless the
/// provider says otherwise.
pub fn blocking(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.fixture != Some(keyhound::evidence::Fixture::Value) || verify::is_active(f))
        .count()
}

/// 2 if anything failed along the way, else 1 if anything was found, else 3 if something
/// could not be read whole (under `--on-incomplete fail`), else 0.
pub fn exit_code(findings: usize, errors: usize, incomplete: usize) -> i32 {
    if errors > 0 {
        EXIT_ERROR
    } else if findings > 0 {
        EXIT_FOUND
    } else if incomplete > 0 {
        EXIT_INCOMPLETE
    } else {
        EXIT_CLEAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("7"), Ok(7));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("x").is_err());
    }
}
