//! The run: what a scanning subcommand's arguments mean, built once before anything is scanned
//! (the way ripgrep turns its low-level args into high-level ones). A [`Run`] holds the scan
//! options, where the configuration is found, the verification asked for and how to report;
//! [`Setup::configure`] is the one place a configuration is discovered and a scanner built, and
//! [`Run::finish`] writes the report and returns the exit code.
//!
//! The subcommands enumerate what they scan (a tree, a history, the index, a message); this
//! module knows none of that.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use keyhound::atomic::AtomicFile;
use keyhound::evidence::Confidence;
use keyhound::report::{self, printable, ConfigUsed, Format, Report, ReportOptions};
use keyhound::scan::{Explanation, ScanOptions, Stats};
use keyhound::verify::Check;
use keyhound::{Finding, OnIncomplete, Scanner};

use crate::common::{ColorChoice, CommonArgs};
use crate::config::{self, Base, ConfigArgs};
use crate::exit::{exit_code, EXIT_FOUND};
use crate::verification::{FailOn, Verify};

/// How to find a run's configuration and build its scanner.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The files named on the command line, and whether the repository's own count.
    config: ConfigArgs,
    /// Whether the baseline is loaded (`baseline create` must not hide what it records).
    baseline: bool,
    /// The scanner's options.
    options: ScanOptions,
}

/// A configuration found and the scanner built from it.
pub struct Configured {
    /// The scanner: the rules in force, the ignore file and baseline, the run's options.
    pub scanner: Scanner,
    /// Every file used, for the summary.
    pub used: Vec<ConfigUsed>,
}

impl Setup {
    /// Finds the configuration `config` names (with the baseline unless `baseline` is false)
    /// and builds scanners with `options`.
    pub fn new(config: ConfigArgs, baseline: bool, options: ScanOptions) -> Setup {
        Setup {
            config,
            baseline,
            options,
        }
    }

    /// The configuration files named on the command line.
    pub fn config_args(&self) -> &ConfigArgs {
        &self.config
    }

    /// Discovers the configuration at `base` and builds the scanner from it.
    pub fn configure(&self, base: &Base<'_>) -> anyhow::Result<Configured> {
        let config::Discovered {
            rules,
            suppressions,
            used,
        } = config::discover(&self.config, base, self.baseline)?;
        let scanner = Scanner::new(rules)
            .with_suppressions(suppressions)
            .with_options(self.options.clone());
        Ok(Configured { scanner, used })
    }
}

/// How the report is written and what fails the run.
#[derive(Debug, Clone)]
struct ReportSettings {
    format: Format,
    output: Option<PathBuf>,
    purge_plan: Option<PathBuf>,
    no_redact: bool,
    color: bool,
    quiet: bool,
    show_fixtures: bool,
    min_confidence: Confidence,
    fail_on: FailOn,
    exit_code: i32,
    on_incomplete: Option<OnIncomplete>,
}

/// A scanning subcommand's run, built once from its arguments.
#[derive(Debug, Clone)]
pub struct Run {
    setup: Setup,
    report: ReportSettings,
    /// `Some` when the run asks providers (only ever on request).
    verify: Option<Verify>,
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

impl Outcome {
    /// What a scan by `scanner` found, ready for `run` to report: the verification checks of
    /// the findings, and what the configuration `used` removed (counted from `stats`).
    pub fn new(
        run: &Run,
        scanner: &Scanner,
        scanned: (Vec<Finding>, Stats, Vec<Explanation>),
        mut used: Vec<ConfigUsed>,
        unit: &'static str,
    ) -> Outcome {
        let (findings, stats, explanations) = scanned;
        config::count_removed(&mut used, &stats.removed);
        Outcome {
            checks: run.checks(scanner, &findings),
            findings,
            stats,
            explanations,
            config: used,
            config_on_incomplete: scanner.rules().on_incomplete,
            unit,
            extra_summary: Vec::new(),
        }
    }
}

impl Run {
    /// The run that `args` ask for.
    pub fn new(args: &CommonArgs) -> anyhow::Result<Run> {
        let verifying = args.verify || args.only_verified || args.fail_on == FailOn::Active;
        Ok(Run {
            setup: Setup::new(args.config.clone(), true, {
                let mut options = ScanOptions::default();
                options.max_file_size = args.max_file_size;
                options.explain = args.explain;
                options.max_decode_depth = args.max_decode_depth;
                options.scan_budget = Some(scan_budget()?);
                options
            }),
            report: ReportSettings {
                format: args.format.into(),
                output: args.output.clone(),
                purge_plan: args.purge_plan.clone(),
                no_redact: args.no_redact,
                color: color_wanted(args.color, args.output.is_some()),
                quiet: args.quiet,
                show_fixtures: args.show_fixtures,
                min_confidence: args.min_confidence.into(),
                fail_on: args.fail_on,
                exit_code: args.exit_code,
                on_incomplete: args.on_incomplete.map(Into::into),
            },
            verify: verifying.then_some(Verify {
                timeout: args.verify_timeout,
                only_verified: args.only_verified,
                no_redact: args.no_redact,
            }),
        })
    }

    /// How the configuration is found and the scanner built.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The report's format.
    pub fn format(&self) -> Format {
        self.report.format
    }

    /// The verify check of each finding's rule, in the order of `findings` (empty unless
    /// verifying).
    pub fn checks(&self, scanner: &Scanner, findings: &[Finding]) -> Vec<Option<Check>> {
        if self.verify.is_none() {
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

    /// How many findings fail the run under `--fail-on` (see [`Finding::fails`]).
    pub fn blocking(&self, findings: &[Finding]) -> usize {
        let at = self.report.fail_on.level();
        findings.iter().filter(|f| f.fails(at)).count()
    }

    /// `--on-incomplete`, else the config's (`config`), else fail.
    fn on_incomplete(&self, config: Option<OnIncomplete>) -> OnIncomplete {
        self.report.on_incomplete.or(config).unwrap_or_default()
    }

    /// Prints what the scan has to say besides findings: per-item errors, what it could not
    /// read, notes, and the configuration's warnings.
    fn tell(&self, stats: &Stats, config: &[ConfigUsed], on_incomplete: OnIncomplete) {
        for e in &stats.errors {
            eprintln!("keyhound: {}", printable(&e.to_string()));
        }
        // Even under --quiet: a scan that passes must not hide that it did not read everything.
        crate::incomplete::report(&stats.incomplete, on_incomplete);
        if !self.report.quiet {
            for n in &stats.notes {
                eprintln!("keyhound: note: {}", printable(n));
            }
        }
        for c in config {
            for w in &c.warnings {
                eprintln!("keyhound: note: {}", printable(w));
            }
        }
    }

    /// The findings to report: those at or above `--min-confidence`, then, when verifying,
    /// asked of their providers (adding the summary line to `extra_summary`).
    fn kept(
        &self,
        findings: Vec<Finding>,
        checks: &[Option<Check>],
        extra_summary: &mut Vec<String>,
    ) -> anyhow::Result<Vec<Finding>> {
        let mut kept = Vec::with_capacity(findings.len());
        let mut kept_checks = Vec::new();
        for (i, f) in findings.into_iter().enumerate() {
            if f.confidence >= self.report.min_confidence {
                kept.push(f);
                if self.verify.is_some() {
                    kept_checks.push(checks.get(i).cloned().flatten());
                }
            }
        }
        if let Some(verify) = &self.verify {
            extra_summary.push(verify.apply(&mut kept, &kept_checks)?);
        }
        Ok(kept)
    }

    /// Writes the report (and the purge plan, if asked for) and returns the exit code.
    pub fn finish(&self, outcome: Outcome) -> anyhow::Result<i32> {
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
        let on_incomplete = self.on_incomplete(config_on_incomplete);
        self.tell(&stats, &config, on_incomplete);
        let kept = self.kept(findings, &checks, &mut extra_summary)?;
        let findings = &kept[..];
        if let Some(path) = &self.report.purge_plan {
            crate::purge::write_plan(path, findings, self.report.show_fixtures)?;
        }
        let mut opts = ReportOptions::default();
        opts.no_redact = self.report.no_redact;
        opts.color = self.report.color;
        opts.summary = !self.report.quiet;
        opts.show_fixtures = self.report.show_fixtures;
        opts.unit = unit;
        opts.extra_summary = extra_summary;
        opts.fail_at = self.report.fail_on.level();
        opts.describe_incomplete = Some(crate::incomplete::describe);
        opts.fixtures_hint = Some("--show-fixtures lists them");
        let report = Report {
            findings,
            stats: &stats,
            explanations: &explanations,
            config: &config,
        };
        write_report(
            self.report.format,
            self.report.output.as_deref(),
            report,
            &opts,
        )?;
        let failing = self.blocking(findings);
        let incomplete = match on_incomplete {
            OnIncomplete::Fail => stats.incomplete.len(),
            OnIncomplete::Warn => 0,
        };
        Ok(match exit_code(failing, stats.errors.len(), incomplete) {
            EXIT_FOUND => self.report.exit_code,
            code => code,
        })
    }
}

/// Writes `report` to `output` (a file, replaced whole; a device or FIFO, written as it is),
/// else to stdout.
fn write_report(
    format: Format,
    output: Option<&std::path::Path>,
    report: Report<'_>,
    opts: &ReportOptions,
) -> anyhow::Result<()> {
    write_output(output, |w| report::write(format, report, opts, w))
}

/// Runs `write` on `output` (a file, replaced whole: a reader never sees half a report, and a
/// planted symbolic link is refused, not written through; a device or FIFO, written as it
/// is), else on stdout (where a closed pipe is not an error).
pub fn write_output(
    output: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> keyhound::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) if is_stream(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w)?;
            w.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Some(path) => {
            let file = AtomicFile::create(path)?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w)?;
            let file = w
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", path.display()))?;
            file.commit()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            if let Err(e) = write(&mut w).and_then(|_| w.flush().map_err(keyhound::Error::Report)) {
                if !is_broken_pipe(&e) {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

fn is_broken_pipe(e: &keyhound::Error) -> bool {
    matches!(e, keyhound::Error::Report(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
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

/// Whether to colour human output on stdout (`to_file`: the report goes to `--output`).
fn color_wanted(color: ColorChoice, to_file: bool) -> bool {
    match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}
