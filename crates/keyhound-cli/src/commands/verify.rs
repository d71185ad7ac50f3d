//! Live verification in the CLI: `keyhound verify` (keys on stdin, one a line), and the part of
//! `scan` and `git` that `--verify`, `--only-verified` and `--fail-on active` switch on.
//!
//! Nothing here opens a connection unless one of those was asked for. The testing hook
//! `KEYHOUND_TEST_PROVIDER_URL` is read here, and announced on stderr whenever it is used.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use keyhound::finding::redact;
use keyhound::report::printable;
use keyhound::rules::RuleSet;
use keyhound::verify::{Check, Status, Verification, Verifier, VerifyOptions};
use keyhound::{Finding, Scanner};

use crate::common::{CommonArgs, EXIT_CLEAN, EXIT_ERROR, EXIT_FOUND};

/// The environment variable that points every check at a local test server.
pub const PROVIDER_URL_VAR: &str = "KEYHOUND_TEST_PROVIDER_URL";

/// Which findings fail a run. Fixtures (test material, published examples, failed checksums)
/// never do, unless the provider accepted the key; keys the provider accepted always do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Every finding that is not a fixture (the default: what human output lists).
    #[default]
    #[value(alias = "any")]
    Low,
    /// Findings of medium or high confidence.
    Medium,
    /// Findings of high confidence.
    High,
    /// Only keys the provider accepted (implies --verify).
    Active,
}

impl FailOn {
    /// The confidence at which findings fail (`None`: only active keys).
    pub fn level(self) -> Option<keyhound::evidence::Confidence> {
        use keyhound::evidence::Confidence;
        match self {
            FailOn::Low => Some(Confidence::Low),
            FailOn::Medium => Some(Confidence::Medium),
            FailOn::High => Some(Confidence::High),
            FailOn::Active => None,
        }
    }
}

fn checks_of(rules: &RuleSet) -> HashMap<String, Check> {
    rules
        .rules()
        .iter()
        .filter_map(|r| r.verify.clone().map(|c| (r.id.clone(), c)))
        .collect()
}

/// Parses `--verify-timeout`: seconds, fractions allowed.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t > 0.0 && *t <= 600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{s}` is not a number of seconds between 0 and 600"))
}

/// The client, with the testing hook applied (and announced).
fn verifier(timeout: Duration) -> anyhow::Result<Verifier> {
    let provider_override = std::env::var(PROVIDER_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty());
    if let Some(url) = &provider_override {
        eprintln!("keyhound: note: {PROVIDER_URL_VAR} is set: every provider check goes to {url}");
    }
    Ok(Verifier::new(VerifyOptions {
        timeout,
        provider_override,
        ..VerifyOptions::default()
    })?)
}

/// For `common::finish`: sends each finding's secret to the host of its rule's check
/// (`checks`, in the order of `findings`; saying first, on stderr, which key goes where),
/// records the answers, applies `--only-verified`, and returns the summary line.
pub fn apply(
    args: &CommonArgs,
    findings: &mut Vec<Finding>,
    checks: &[Option<Check>],
) -> anyhow::Result<String> {
    let targets: Vec<(usize, &Check)> = checks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
        .filter(|&(i, _)| i < findings.len())
        .collect();
    let mut announced = std::collections::HashSet::new();
    for &(i, check) in &targets {
        let f = &findings[i];
        if announced.insert((check.url_template(), f.secret.clone())) {
            let shown = if args.no_redact {
                f.secret.clone()
            } else {
                redact(&f.secret)
            };
            eprintln!(
                "keyhound: verify: {} {} -> {} ({} {})",
                f.rule_id,
                printable(&shown),
                check.host(),
                check.method().as_str(),
                check.url_template()
            );
        }
    }
    let verifier = verifier(args.verify_timeout)?;
    let jobs: Vec<(&Check, &str)> = targets
        .iter()
        .map(|&(i, c)| (c, findings[i].secret.as_str()))
        .collect();
    let answers = verifier.check_all(&jobs);
    for (&(i, _), answer) in targets.iter().zip(answers) {
        findings[i].verification = Some(answer);
    }
    let checked = targets.len();
    let count = |s: Status| {
        findings
            .iter()
            .filter(|f| f.verification.as_ref().map(|v| v.status) == Some(s))
            .count()
    };
    let line = format!(
        "verified {checked} finding{} with their providers: {} active, {} inactive, {} unknown",
        if checked == 1 { "" } else { "s" },
        count(Status::Active),
        count(Status::Inactive),
        count(Status::Unknown),
    );
    if args.only_verified {
        findings.retain(is_active);
    }
    Ok(line)
}

/// Whether the provider accepted the finding's secret.
pub fn is_active(f: &Finding) -> bool {
    matches!(&f.verification, Some(v) if v.status == Status::Active)
}

/// Arguments of `keyhound verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Config file adding rules with verify blocks to the built-in ones.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format: human or json.
    #[arg(long, short = 'f', default_value = "human", value_parser = ["human", "json"])]
    pub format: String,
    /// Print the keys in full (they are redacted by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Seconds to wait for each provider's answer.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// One key read from stdin and what became of it.
struct Line {
    number: usize,
    key: String,
    rule: Option<String>,
    answer: Verification,
}

/// Reads keys from stdin, asks each one's provider, prints the answers. Exit code: 0 if every
/// key is inactive, 1 if any is active, 2 if some could not be told (and none is active).
pub fn run(args: VerifyArgs) -> anyhow::Result<i32> {
    let rules = match &args.config {
        Some(c) => RuleSet::with_config(c)?,
        None => RuleSet::builtin()?,
    };
    let checks = checks_of(&rules);
    let scanner = Scanner::new(rules);
    let mut matcher = scanner.matcher();
    let mut lines = Vec::new();
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading stdin")?;
        let key = line.trim();
        if key.is_empty() || key.starts_with('#') {
            continue;
        }
        // The rule is whichever recognizes the key and knows how to check it.
        let rule = scanner
            .scan_plain(&mut matcher, "-", key.as_bytes())
            .findings
            .into_iter()
            .find(|f| checks.contains_key(&f.rule_id))
            .map(|f| (f.rule_id, f.secret));
        lines.push((i + 1, key.to_string(), rule));
    }
    if lines.is_empty() {
        anyhow::bail!("no keys on stdin (one a line)");
    }
    let jobs: Vec<(&Check, &str)> = lines
        .iter()
        .filter_map(|(_, _, rule)| rule.as_ref())
        .map(|(id, secret)| (&checks[id], secret.as_str()))
        .collect();
    let mut answers = verifier(args.timeout)?.check_all(&jobs).into_iter();
    let results: Vec<Line> = lines
        .into_iter()
        .map(|(number, key, rule)| {
            let answer = match &rule {
                Some(_) => answers.next().unwrap_or_else(|| unknown("not checked")),
                None => unknown("no rule with a verify block recognizes this key"),
            };
            Line {
                number,
                key: if args.no_redact { key } else { redact(&key) },
                rule: rule.map(|(id, _)| id),
                answer,
            }
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.format == "json" {
        let items: Vec<_> = results
            .iter()
            .map(|l| {
                let mut item = serde_json::json!({
                    "line": l.number,
                    "key": l.key,
                    "rule_id": l.rule,
                });
                if let (Some(obj), Ok(serde_json::Value::Object(v))) =
                    (item.as_object_mut(), serde_json::to_value(&l.answer))
                {
                    obj.extend(v);
                }
                item
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &items)?;
        writeln!(out)?;
    } else {
        for l in &results {
            let how = match (&l.answer.http_status, &l.answer.detail) {
                (Some(code), Some(d)) => format!("HTTP {code}, {d}"),
                (Some(code), None) => format!("HTTP {code}"),
                (None, Some(d)) => d.clone(),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "line {}: {:<8} {} {} ({})",
                l.number,
                l.answer.status.as_str(),
                l.rule.as_deref().unwrap_or("-"),
                l.key,
                how
            )?;
        }
    }
    out.flush()?;
    let any = |s: Status| results.iter().any(|l| l.answer.status == s);
    Ok(if any(Status::Active) {
        EXIT_FOUND
    } else if any(Status::Unknown) {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    })
}

fn unknown(detail: &str) -> Verification {
    Verification {
        status: Status::Unknown,
        http_status: None,
        detail: Some(detail.to_string()),
    }
}
