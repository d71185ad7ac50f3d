//! Reports: findings written as human text, JSON, JSON lines, SARIF 2.1.0 or GitHub Actions
//! annotations. Reporters decide presentation and never exit codes. The machine formats write
//! every finding in the order given; the human format reorders them (keys a provider accepted
//! first, then by confidence) and only counts fixtures unless `show_fixtures` asks for them.
//!
//! The `json` format is one document: `{"findings": [...], "summary": {...}}`, the summary holding
//! the counts, what was not read whole (`incomplete`), errors and notes of the run. `jsonl` is
//! one finding a line, then one last line `{"summary": {...}}`.
//!
//! ```
//! use keyhound::report::{self, Format, Report, ReportOptions};
//! use keyhound::{RuleSet, Scanner, Stats};
//!
//! # let key = format!("sk-proj-{}T3BlbkFJ{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5jK7mN9pQ1sT3vW5yZ7bC9dF1gH3jK5mN",
//! #                     "Zy8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE8dC6bA4zY2xW0vU8tS6rQ4pO2nM0lK8jI6hG4f");
//! let scanner = Scanner::new(RuleSet::builtin()?);
//! let mut matcher = scanner.matcher();
//! let found = scanner.scan_content(&mut matcher, ".env", format!("OPENAI_API_KEY={key}\n").as_bytes());
//! let stats = Stats::default();
//! let report = Report { findings: &found.findings, stats: &stats, explanations: &[], config: &[] };
//! let mut out = Vec::new();
//! report::write(Format::Json, report, &ReportOptions::default(), &mut out)?;
//!
//! let doc: serde_json::Value = serde_json::from_slice(&out)?;
//! assert_eq!(doc["findings"][0]["rule_id"], found.findings[0].rule_id.as_str());
//! assert_eq!(doc["findings"][0]["locations"][0]["path"], ".env");
//! assert!(!String::from_utf8(out)?.contains(&key), "secrets are redacted unless asked not to");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audit;
mod escape;
mod human;
mod sarif;

pub use audit::write_audit;
pub use escape::printable;

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::finding::{redact, redact_spans, Finding};
use crate::scan::{Explanation, Incomplete, Stats};

/// Output formats, named in lowercase (`human`, `json`, ...; `text` is also `human`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// Text for people, optionally coloured.
    #[serde(alias = "text")]
    Human,
    /// A JSON array of findings.
    Json,
    /// One JSON finding a line.
    Jsonl,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`).
    Github,
    /// One line a finding, `path:line:col: rule-id secret (confidence)`, for terminals and
    /// editors (fixtures only with `show_fixtures`).
    Compact,
}

/// How to write.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReportOptions {
    /// Show secrets in full (default: redacted).
    pub no_redact: bool,
    /// ANSI colours (human format).
    pub color: bool,
    /// Print the summary (human format).
    pub summary: bool,
    /// List fixtures in human output (otherwise only counted).
    pub show_fixtures: bool,
    /// What was scanned, for the summary line ("files", "blobs").
    pub unit: &'static str,
    /// Extra summary lines from the source (commits walked, time…).
    pub extra_summary: Vec<String>,
    /// Which findings fail the run (see [`Finding::fails`]), for the formats that mark them:
    /// GitHub annotations are errors for those, warnings for the other findings that are not
    /// fixtures, notices for fixtures.
    pub fail_at: Option<crate::evidence::Confidence>,
    /// Words what was not read whole and why (the CLI names its options here); `None`: the
    /// library's own words.
    pub describe_incomplete: Option<fn(&Incomplete) -> String>,
    /// How to list the fixtures the human format only counts, added to its count line (the CLI
    /// names its option here); `None`: no hint.
    pub fixtures_hint: Option<&'static str>,
}

/// `what: why`, in the caller's words if it gave some.
fn describe(i: &Incomplete, opts: &ReportOptions) -> String {
    match opts.describe_incomplete {
        Some(f) => f(i),
        None => format!("{}: {}", i.what, i.reason),
    }
}

/// What a report is made from.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The findings, in the order to print.
    pub findings: &'a [Finding],
    /// Counts.
    pub stats: &'a Stats,
    /// Candidates dropped and why (when the scan was asked to explain).
    pub explanations: &'a [Explanation],
    /// The config file, ignore file and baseline the run used, and what each removed.
    pub config: &'a [ConfigUsed],
}

/// Which kind of file a [`ConfigUsed`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigKind {
    /// Rules and allowlists (`.keyhound.toml`).
    Config,
    /// Fingerprints and path globs (`.keyhoundignore`).
    IgnoreFile,
    /// Accepted findings (`.keyhound-baseline.json`).
    Baseline,
}

impl ConfigKind {
    /// The words for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::Config => "config",
            ConfigKind::IgnoreFile => "ignore file",
            ConfigKind::Baseline => "baseline",
        }
    }
}

/// Who provided a [`ConfigUsed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigFrom {
    /// The user named it.
    User,
    /// It was found in the scanned repository or directory.
    Repository,
    /// It was read from this revision of the repository (the base of a range).
    Revision(String),
}

/// A configuration file a run used, and what it changed: the summary names every one, so
/// that a scanned repository's own files never change what is reported without a word.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigUsed {
    /// What kind of file.
    pub kind: ConfigKind,
    /// Its path (in the repository, for a revision).
    pub path: String,
    /// Who provided it.
    pub from: ConfigFrom,
    /// Findings and files it left out (allowlisted candidates and skipped paths for a config;
    /// findings and skipped paths for an ignore file; findings for a baseline).
    pub removed: u64,
    /// What a config file changed about the built-in rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<crate::rules::ConfigEffect>,
    /// Verify blocks dropped, and other requests not honoured, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ConfigUsed {
    /// A file of `kind` at `path` from `from`, that removed nothing yet.
    pub fn new(kind: ConfigKind, path: impl Into<String>, from: ConfigFrom) -> ConfigUsed {
        ConfigUsed {
            kind,
            path: path.into(),
            from,
            removed: 0,
            effect: None,
            warnings: Vec::new(),
        }
    }
}

/// The finding as reports show it: the secret redacted, and so is every secret in text that
/// comes from the repository (commit summaries), unless asked not to.
fn shown(f: &Finding, opts: &ReportOptions) -> Finding {
    let mut f = f.clone();
    if !opts.no_redact {
        let secret = std::mem::take(&mut f.secret);
        let redacted = redact(&secret);
        for l in &mut f.locations {
            if let Some(c) = &mut l.commit {
                let mut summary = redact_spans(&c.summary, &c.summary_secrets);
                if !secret.is_empty() {
                    summary = summary.replace(&secret, &redacted);
                }
                c.summary = summary;
                c.summary_secrets.clear();
            }
        }
        let mut line = redact_spans(&f.line, &f.line_secrets);
        if !secret.is_empty() {
            line = line.replace(&secret, &redacted);
        }
        f.line = line;
        f.line_secrets.clear();
        f.secret = redacted;
    }
    f
}

/// The finding as the default report shows it: its secret redacted, and every secret in text
/// that comes from the repository. Redacting twice is not the same as once: apply it to a
/// finding as a scan made it.
pub fn redacted(f: &Finding) -> Finding {
    shown(f, &ReportOptions::default())
}

/// The `summary` object of JSON and JSON lines output.
#[derive(Serialize)]
struct Summary<'a> {
    findings: usize,
    #[serde(flatten)]
    stats: &'a Stats,
    config: &'a [ConfigUsed],
}

#[derive(Serialize)]
struct Document<'a> {
    findings: &'a [Finding],
    summary: Summary<'a>,
}

/// Writes `report` in `format` to `out`.
pub fn write(
    format: Format,
    report: Report<'_>,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let shown: Vec<Finding> = report.findings.iter().map(|f| shown(f, opts)).collect();
    let r = match format {
        Format::Human => human::write(&shown, report, opts, out),
        Format::Json => {
            let doc = Document {
                findings: &shown,
                summary: Summary {
                    findings: shown.len(),
                    stats: report.stats,
                    config: report.config,
                },
            };
            serde_json::to_writer_pretty(&mut *out, &doc)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out))
        }
        Format::Jsonl => jsonl(&shown, report, out),
        Format::Sarif => sarif::write(&shown, report.stats, opts, out),
        Format::Github => github(&shown, report.stats, opts, out),
        Format::Compact => compact(&shown, opts, out),
    };
    r.map_err(Error::Report)
}

fn jsonl(findings: &[Finding], report: Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        writeln!(out)?;
    }
    let summary = Summary {
        findings: findings.len(),
        stats: report.stats,
        config: report.config,
    };
    serde_json::to_writer(&mut *out, &serde_json::json!({ "summary": summary }))?;
    writeln!(out)
}

fn compact(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> std::io::Result<()> {
    for f in findings
        .iter()
        .filter(|f| opts.show_fixtures || f.fixture.is_none() || f.is_active())
    {
        let l = f.location();
        writeln!(
            out,
            "{}:{}:{}: {} {} ({}{})",
            printable(&l.path),
            l.line,
            l.column,
            f.rule_id,
            printable(&f.secret),
            f.confidence.as_str(),
            if f.fixture.is_some() { ", fixture" } else { "" }
        )?;
    }
    Ok(())
}

fn github(
    findings: &[Finding],
    stats: &Stats,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    // Workflow-command escaping: %, CR and LF in the message; also , and : in properties.
    fn msg(s: &str) -> String {
        printable(s)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn prop(s: &str) -> String {
        msg(s).replace(':', "%3A").replace(',', "%2C")
    }
    for f in findings {
        let l = f.location();
        let (command, what) = if f.fails(opts.fail_at) {
            ("error", "found")
        } else if f.fixture.is_some() {
            ("notice", "found in test material or a published example")
        } else {
            ("warning", "found")
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            prop(&l.path),
            l.line,
            l.column,
            l.end_line,
            l.end_column,
            prop(&format!("keyhound: {}", f.rule_id)),
            msg(&format!(
                "{} ({}) {what}: {} (confidence {}). {}",
                f.description,
                f.rule_id,
                f.secret,
                f.confidence.as_str(),
                f.remediation
            ))
        )?;
    }
    // What was not read whole is a warning on the file it is in (an archive member's archive).
    for i in &stats.incomplete {
        let file = i.what.split(['!', '#']).next().unwrap_or(&i.what);
        writeln!(
            out,
            "::warning file={},title={}::{}",
            prop(file),
            prop("keyhound: incomplete scan"),
            msg(&format!(
                "not read whole, so a key in it would not be found: {}",
                describe(i, opts)
            ))
        )?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::finding::{Finding, Location};
    use crate::rules::Severity;

    /// A finding for format tests.
    pub(crate) fn sample() -> Finding {
        Finding {
            rule_id: "test-rule".into(),
            description: "A test secret".into(),
            severity: Severity::High,
            secret: "abcdefghijklmnopqrstuvwxyz0123456789".into(),
            fingerprint: "00112233445566778899aabbccddeeff".into(),
            entropy: 5.1,
            remediation: "Rotate it.".into(),
            revoke_url: None,
            confidence: crate::evidence::Confidence::High,
            fixture: None,
            context: vec!["the provider's unique format".into()],
            decoded: None,
            git: None,
            verification: None,
            repositories: Vec::new(),
            locations: vec![Location {
                path: "dir with space/a,b:c.env".into(),
                line: 3,
                column: 7,
                end_line: 3,
                end_column: 43,
                offset: 40,
                end_offset: 76,
                commit: None,
                blob: None,
                walk_order: None,
            }],
            line: "KEY=abcdefghijklmnopqrstuvwxyz0123456789".into(),
            line_secrets: std::iter::once(4..40).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sample;
    use super::*;

    fn render(format: Format, no_redact: bool) -> String {
        let f = [sample()];
        let stats = Stats::default();
        let mut out = Vec::new();
        let opts = ReportOptions {
            no_redact,
            fail_at: Some(crate::evidence::Confidence::Low),
            ..Default::default()
        };
        write(
            format,
            Report {
                findings: &f,
                stats: &stats,
                explanations: &[],
                config: &[],
            },
            &opts,
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn redacted_by_default_everywhere() {
        for format in [
            Format::Human,
            Format::Compact,
            Format::Json,
            Format::Jsonl,
            Format::Sarif,
            Format::Github,
        ] {
            let out = render(format, false);
            assert!(!out.contains("0123456789"), "{format:?} leaks: {out}");
            let out = render(format, true);
            assert!(
                out.contains("abcdefghijklmnopqrstuvwxyz0123456789"),
                "{format:?}"
            );
        }
    }

    #[test]
    fn github_escapes_properties() {
        let out = render(Format::Github, false);
        assert!(
            out.starts_with("::error file=dir with space/a%2Cb%3Ac.env,line=3,col=7,"),
            "{out}"
        );
    }

    #[test]
    fn json_is_array_with_locations() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json, false)).unwrap();
        let f = &v["findings"];
        assert_eq!(f[0]["rule_id"], "test-rule");
        assert_eq!(f[0]["locations"][0]["line"], 3);
        assert_eq!(f[0]["severity"], "high");
        assert_eq!(v["summary"]["findings"], 1);
        assert!(v["summary"]["errors"]
            .as_array()
            .is_some_and(|e| e.is_empty()));
    }

    #[test]
    fn jsonl_ends_with_the_summary() {
        let out = render(Format::Jsonl, false);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["rule_id"], "test-rule");
        assert_eq!(lines[1]["summary"]["findings"], 1);
    }
}
