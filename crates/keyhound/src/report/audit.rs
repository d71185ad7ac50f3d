//! The report of an audit of many repositories. JSON is one document, `{"findings": [...],
//! "summary": {...}}`, whose summary is an [`AuditSummary`]: it is what shards write and what
//! `merge` reads back, so it round-trips (a merged report is written from what was read).
//! JSON lines: one finding a line, then `{"summary": {...}}`. The other formats are those of
//! any scan, each finding listing its repositories.
//!
//! The findings are written as they are given: the caller redacts them first (the summary's
//! `redacted` says whether it did), so that a report read back is never redacted twice.

use std::io::Write;

use serde::Serialize;

use super::{write, Format, Report, ReportOptions};
use crate::error::{Error, ItemError, Result};
use crate::finding::Finding;
use crate::scan::Stats;
use crate::source::audit::{AuditReport, AuditSummary};

#[derive(Serialize)]
struct Document<'a> {
    findings: &'a [Finding],
    summary: &'a AuditSummary,
}

/// Writes `audit` in `format` to `out`. Its findings are written as they are (see the module
/// documentation); `opts.no_redact` is not consulted.
pub fn write_audit(
    format: Format,
    audit: &AuditReport,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let doc = Document {
        findings: &audit.findings,
        summary: &audit.summary,
    };
    match format {
        Format::Json => serde_json::to_writer_pretty(&mut *out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
            .map_err(Error::Report),
        Format::Jsonl => {
            let r: std::io::Result<()> = (|| {
                for f in &audit.findings {
                    serde_json::to_writer(&mut *out, f)?;
                    writeln!(out)?;
                }
                serde_json::to_writer(
                    &mut *out,
                    &serde_json::json!({ "summary": &audit.summary }),
                )?;
                writeln!(out)
            })();
            r.map_err(Error::Report)
        }
        _ => {
            let s = &audit.summary;
            let mut stats = Stats {
                scanned: s.blobs,
                bytes: s.bytes,
                ..Stats::default()
            };
            stats.errors = s
                .errors
                .iter()
                .map(|e| match e.split_once(": ") {
                    Some((repo, rest)) => ItemError::new(repo, rest),
                    None => ItemError::new(e.as_str(), ""),
                })
                .collect();
            let mut opts = opts.clone();
            opts.no_redact = true;
            let mut extra = vec![format!(
                "audit: {} repositor{}, {} commits, {} unique file versions per repository, summed",
                s.repositories,
                if s.repositories == 1 { "y" } else { "ies" },
                s.commits,
                s.blobs
            )];
            for i in &s.incomplete {
                extra.push(format!("not read whole: {i}"));
            }
            extra.append(&mut opts.extra_summary);
            opts.extra_summary = extra;
            let report = Report {
                findings: &audit.findings,
                stats: &stats,
                explanations: &[],
                config: &[],
            };
            write(format, report, &opts, out)
        }
    }
}
