//! What every scanning subcommand shares: output and scan options, the scanner built from a
//! discovered configuration, writing the report, and exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use keyhound::atomic::AtomicFile;
use keyhound::report::{self, printable, ConfigUsed, Format, Report, ReportOptions};
use keyhound::scan::{Explanation, ScanOptions, Stats};
use keyhound::suppress::Suppressions;
use keyhound::verify::Check;
use keyhound::{Finding, OnIncomplete, RuleSet, Scanner};

use crate::commands::verify::{self, FailOn};
use crate::config::ConfigArgs;

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
    /// Output format: human, compact (one line a finding), json, jsonl, sarif, github.
    #[arg(long, short = 'f', default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Also write a `git filter-repo --replace-text` file that removes the reported secrets
    /// from every commit, and print how to use it (the file holds the secrets: mode 0600).
    #[arg(long, value_name = "FILE")]
    pub purge_plan: Option<PathBuf>,
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
    /// Colour human output: auto (on a terminal unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Exit code for a run that finds what fails it (default 1; errors still exit 2).
    #[arg(long, value_name = "N", default_value_t = EXIT_FOUND, value_parser = clap::value_parser!(i32).range(0..=255))]
    pub exit_code: i32,
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
    /// Which findings fail the run (exit 1): every finding that is not a test fixture (low,
    /// the default), those of medium or high confidence, or only keys the provider accepted
    /// (active; implies --verify).
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = FailOn::Low)]
    pub fail_on: FailOn,
    /// Seconds to wait for each provider's answer (--verify).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = verify::parse_timeout)]
    pub verify_timeout: std::time::Duration,
    /// What a scan that could not read everything (a file over --max-file-size, an archive
    /// past a limit) does: fail (exit 3, the default) or warn. Default: the config's
    /// `[scan] on_incomplete`, else fail.
    #[arg(long, value_name = "POLICY")]
    pub on_incomplete: Option<OnIncomplete>,
}

impl CommonArgs {
    /// Whether this run asks providers (only ever on request).
    pub fn verifying(&self) -> bool {
        self.verify || self.only_verified || self.fail_on == FailOn::Active
    }

    /// `--on-incomplete`, else the config's (`config`), else fail.
    pub fn on_incomplete(&self, config: Option<OnIncomplete>) -> OnIncomplete {
        self.on_incomplete.or(config).unwrap_or_default()
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

/// The scanner for a run's rules and suppressions, with the run's options.
pub fn scanner(
    args: &CommonArgs,
    rules: RuleSet,
    suppressions: Suppressions,
) -> anyhow::Result<Scanner> {
    Ok(Scanner::new(rules)
        .with_suppressions(suppressions)
        .with_options(ScanOptions {
            max_file_size: args.max_file_size,
            explain: args.explain,
            max_decode_depth: args.max_decode_depth,
            scan_budget: Some(scan_budget()?),
        }))
}

/// The verify check of each finding's rule, in the order of `findings` (empty unless
/// verifying).
pub fn checks_for(
    args: &CommonArgs,
    scanner: &Scanner,
    findings: &[Finding],
) -> Vec<Option<Check>> {
    if !args.verifying() {
        return Vec::new();
    }
    findings
        .iter()
        .map(|f| {
            scanner
                .rules()
                .get(&f.rule_id)
                .and_then(|r| r.verify.clone())
        })
        .collect()
}

/// What a scan produced, ready to report.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings, in the order to report.
    pub findings: Vec<Finding>,
    /// Counts, errors, notes.
    pub stats: Stats,
    /// Candidates dropped (`--explain`).
    pub explanations: Vec<Explanation>,
    /// When verifying: the check of each finding's rule, in the order of `findings`.
    pub checks: Vec<Option<Check>>,
    /// The configuration files used.
    pub config: Vec<ConfigUsed>,
    /// The config file's `[scan] on_incomplete`, if it sets one.
    pub config_on_incomplete: Option<OnIncomplete>,
    /// What was scanned ("files", "blobs").
    pub unit: &'static str,
    /// Lines the source adds to the summary.
    pub extra_summary: Vec<String>,
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

/// Whether `path` is itself (not through a link) a character device or a FIFO.
#[cfg(unix)]
fn is_stream(path: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_char_device() || m.file_type().is_fifo())
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_stream(_: &std::path::Path) -> bool {
    false
}

/// Whether to colour human output on stdout.
pub fn color_wanted(args: &CommonArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always (also into a file or a pipe).
    Always,
    /// Never.
    Never,
}

/// Writes the report, prints per-item errors to stderr, and returns the exit code.
pub fn finish(args: &CommonArgs, outcome: Outcome) -> anyhow::Result<i32> {
    let Outcome {
        findings,
        stats,
        explanations,
        checks,
        config,
        config_on_incomplete,
        unit,
        mut extra_summary,
    } = outcome;
    for e in &stats.errors {
        eprintln!("keyhound: {}", printable(e));
    }
    // Even under --quiet: a scan that passes must not hide that it did not read everything.
    let on_incomplete = args.on_incomplete(config_on_incomplete);
    crate::incomplete::report(&stats.incomplete, on_incomplete);
    if !args.quiet {
        for n in &stats.notes {
            eprintln!("keyhound: note: {}", printable(n));
        }
    }
    for c in &config {
        for w in &c.warnings {
            eprintln!("keyhound: note: {}", printable(w));
        }
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut kept_checks = Vec::new();
    for (i, f) in findings.into_iter().enumerate() {
        if f.confidence >= args.min_confidence {
            kept.push(f);
            if args.verifying() {
                kept_checks.push(checks.get(i).cloned().flatten());
            }
        }
    }
    if args.verifying() {
        extra_summary.push(verify::apply(args, &mut kept, &kept_checks)?);
    }
    let findings = &kept[..];
    if let Some(path) = &args.purge_plan {
        crate::purge::write_plan(path, findings, args.show_fixtures)?;
    }
    let opts = ReportOptions {
        no_redact: args.no_redact,
        color: color_wanted(args),
        summary: !args.quiet,
        show_fixtures: args.show_fixtures,
        unit,
        extra_summary,
        fail_at: args.fail_on.level(),
        describe_incomplete: Some(crate::incomplete::describe),
        fixtures_hint: Some("--show-fixtures lists them"),
    };
    let report = Report {
        findings,
        stats: &stats,
        explanations: &explanations,
        config: &config,
    };
    match &args.output {
        Some(path) if is_stream(path) => {
            // `-o /dev/null`, a FIFO: written as they are (nothing to rename over).
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            report::write(args.format, report, &opts, &mut w)?;
            w.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Some(path) => {
            // A temporary file renamed over the destination: a reader never sees half a
            // report, and a planted symbolic link is refused, not written through.
            let file = AtomicFile::create(path)?;
            let mut w = std::io::BufWriter::new(file);
            report::write(args.format, report, &opts, &mut w)?;
            let file = w
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", path.display()))?;
            file.commit()?;
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
    let failing = blocking(findings, args.fail_on);
    let incomplete = match on_incomplete {
        OnIncomplete::Fail => stats.incomplete.len(),
        OnIncomplete::Warn => 0,
    };
    Ok(match exit_code(failing, stats.errors.len(), incomplete) {
        EXIT_FOUND => args.exit_code,
        code => code,
    })
}

fn is_broken_pipe(e: &keyhound::Error) -> bool {
    matches!(e, keyhound::Error::Report(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// How many findings fail the run under `fail_on` (see [`Finding::fails`]).
pub fn blocking(findings: &[Finding], fail_on: FailOn) -> usize {
    let at = fail_on.level();
    findings.iter().filter(|f| f.fails(at)).count()
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
