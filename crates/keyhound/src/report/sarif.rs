//! SARIF 2.1.0 output, as GitHub code scanning accepts it: one run, the rules that have
//! results in `tool.driver.rules`, one result per location, and the finding's fingerprint in
//! `partialFingerprints` so that alerts follow a secret when lines move. What was not read
//! whole and the errors of the run are `invocations[0].toolExecutionNotifications`.

use std::io::{self, Write};

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};

use crate::evidence::Confidence;
use crate::finding::Finding;
use crate::rules::Severity;
use crate::scan::Stats;

use super::ReportOptions;

/// Characters escaped in a relative URI reference built from a path.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning sorts and labels alerts by this CVSS-like score (a string): above
/// 9.0 critical, 7.0 high, 4.0 medium, else low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// A result's level follows its confidence: fixtures and weak guesses are notes.
fn result_level(f: &Finding) -> &'static str {
    match (f.fixture, f.confidence) {
        (Some(_), _) | (None, Confidence::Low) => "note",
        (None, Confidence::Medium) => "warning",
        (None, Confidence::High) => "error",
    }
}

/// The run's invocation: it succeeded unless errors were met; what was not read whole and the
/// errors are its tool execution notifications (GitHub shows them on the tool's status page).
fn invocation(stats: &Stats, opts: &ReportOptions) -> Value {
    let location = |what: &str| {
        let file = what.split(['!', '#']).next().unwrap_or(what);
        json!([{ "physicalLocation": {
            "artifactLocation": { "uri": utf8_percent_encode(file, PATH).to_string() }
        }}])
    };
    let mut notifications: Vec<Value> = stats
        .incomplete
        .iter()
        .map(|i| {
            json!({
                "level": "warning",
                "message": { "text": format!(
                    "Not read whole, so a key in it would not be found: {}",
                    super::describe(i, opts)
                ) },
                "descriptor": { "id": "keyhound/incomplete" },
                "locations": location(&i.what),
                "properties": { "reason": i.reason }
            })
        })
        .collect();
    notifications.extend(stats.errors.iter().map(|e| {
        json!({
            "level": "error",
            "message": { "text": e },
            "descriptor": { "id": "keyhound/error" }
        })
    }));
    json!({
        "executionSuccessful": stats.errors.is_empty(),
        "toolExecutionNotifications": notifications
    })
}

pub(super) fn write(
    findings: &[Finding],
    stats: &Stats,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut rule_ids: Vec<&str> = Vec::new();
    let mut rules: Vec<Value> = Vec::new();
    let mut results = Vec::new();
    for f in findings {
        let index = match rule_ids.iter().position(|r| *r == f.rule_id) {
            Some(i) => i,
            None => {
                rule_ids.push(&f.rule_id);
                rules.push(json!({
                    "id": f.rule_id,
                    "name": f.rule_id,
                    "shortDescription": { "text": f.description },
                    "fullDescription": { "text": f.description },
                    "help": { "text": f.remediation },
                    "defaultConfiguration": { "level": level(f.severity) },
                    "properties": {
                        "tags": ["security", "secret"],
                        "precision": "high",
                        "security-severity": security_severity(f.severity)
                    }
                }));
                rule_ids.len() - 1
            }
        };
        for l in &f.locations {
            let mut result = json!({
                "ruleId": f.rule_id,
                "ruleIndex": index,
                "level": result_level(f),
                "message": { "text": format!("{} found: {}. {}", f.description, f.secret, f.remediation) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": utf8_percent_encode(&l.path, PATH).to_string() },
                        "region": {
                            "startLine": l.line,
                            "startColumn": l.column,
                            "endLine": l.end_line,
                            "endColumn": l.end_column.max(1)
                        }
                    }
                }],
                "partialFingerprints": { "keyhound/v1": f.fingerprint },
                "properties": {
                    "confidence": f.confidence.as_str(),
                    "fixture": f.fixture,
                    "context": f.context
                }
            });
            if let Some(first) = f.repositories.first() {
                result["properties"]["repository"] = json!(first.repository);
                result["properties"]["repositories"] = json!(f.repositories);
            }
            if let Some(c) = &l.commit {
                result["properties"]["commit"] = json!(c.id);
                result["properties"]["author"] = json!(c.author);
                result["properties"]["email"] = json!(c.email);
                result["properties"]["date"] = json!(c.date);
            }
            results.push(result);
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keyhound",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "invocations": [invocation(stats, opts)],
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
