//! `keyhound verify`: keys on stdin, one a line, each asked of the provider whose rule
//! recognizes it. The client (and its testing hook) is [`crate::verification`]'s.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use keyhound::finding::redact;
use keyhound::rules::RuleSet;
use keyhound::verify::{Check, Status, Verification};
use keyhound::Scanner;

use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FOUND};
use crate::verification::{parse_timeout, verifier};

fn checks_of(rules: &RuleSet) -> HashMap<String, Check> {
    rules
        .rules()
        .iter()
        .filter_map(|r| r.verify.clone().map(|c| (r.id.clone(), c)))
        .collect()
}

/// Arguments of `keyhound verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Config file adding rules with verify blocks to the built-in ones.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AnswerFormat::Human)]
    pub format: AnswerFormat,
    /// Print the keys in full (they are redacted by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Seconds to wait for each provider's answer.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// How `keyhound verify` writes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AnswerFormat {
    /// One line a key.
    Human,
    /// A JSON array of `{line, key, rule_id, status, ...}`.
    Json,
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
    if args.format == AnswerFormat::Json {
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
