//! The human format: `path:line:col`, the rule, the redacted secret and what to do, then a
//! summary of what was scanned and skipped.

use std::io::{self, Write};

use super::{printable, Report, ReportOptions};
use crate::finding::Finding;
use crate::verify::Status;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub(super) fn write(
    findings: &[Finding],
    report: Report<'_>,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Paint { on: opts.color };
    // Real leaks first: high, then medium, then low; fixtures last, and only counted unless
    // asked for.
    // Keys a provider accepted (`--verify`) come before everything and are never hidden.
    let listed = |f: &&Finding| f.fixture.is_none() || active(f);
    let mut order: Vec<&Finding> = findings.iter().filter(listed).collect();
    order.sort_by_key(|f| (!active(f), std::cmp::Reverse(f.confidence)));
    let fixtures: Vec<&Finding> = findings.iter().filter(|f| !listed(f)).collect();
    for f in &order {
        finding(out, &p, f)?;
    }
    if !fixtures.is_empty() {
        if opts.show_fixtures {
            writeln!(
                out,
                "{}",
                p.wrap(
                    "1",
                    &format!(
                        "Fixtures ({}): test keys, examples and published samples",
                        fixtures.len()
                    )
                )
            )?;
            writeln!(out)?;
            for f in &fixtures {
                finding(out, &p, f)?;
            }
        } else {
            let hint = opts
                .fixtures_hint
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            writeln!(
                out,
                "{} fixture{} (test keys, examples, published samples) not listed{hint}",
                fixtures.len(),
                if fixtures.len() == 1 { "" } else { "s" }
            )?;
        }
    }
    explanations(report, opts, out)?;
    if opts.summary {
        summary(findings, report, opts, out)?;
    }
    Ok(())
}

fn active(f: &Finding) -> bool {
    matches!(&f.verification, Some(v) if v.status == Status::Active)
}

fn finding(out: &mut dyn Write, p: &Paint, f: &Finding) -> io::Result<()> {
    {
        let l = f.location();
        writeln!(
            out,
            "{}{}:{}:{}: {} [{} confidence] {}",
            if active(f) {
                p.wrap("1;41", "ACTIVE") + " "
            } else {
                String::new()
            },
            p.wrap("1", &printable(&l.path)),
            l.line,
            l.column,
            p.wrap("1;31", &f.rule_id),
            f.confidence.as_str(),
            printable(&f.description)
        )?;
        writeln!(
            out,
            "    secret:      {}",
            p.wrap("33", &printable(&f.secret))
        )?;
        let line = f.line.trim();
        if !line.is_empty() && line != f.secret {
            writeln!(out, "    line:        {}", printable(line))?;
        }
        if let Some(how) = &f.decoded {
            writeln!(
                out,
                "    decoded:     {how} (the location is that of the encoded text)"
            )?;
        }
        if let Some(v) = &f.verification {
            writeln!(
                out,
                "    verified:    {}{}{}",
                v.status.as_str(),
                v.http_status
                    .map(|c| format!(" (HTTP {c})"))
                    .unwrap_or_default(),
                v.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(
            out,
            "    confidence:  {}{} ({})",
            f.confidence.as_str(),
            match f.fixture {
                Some(crate::evidence::Fixture::Value) => ", fixture by value",
                Some(crate::evidence::Fixture::Place) => ", fixture by place",
                None => "",
            },
            f.context.join("; ")
        )?;
        if f.locations.len() > 1 {
            writeln!(out, "    seen at:     {} locations", f.locations.len())?;
        }
        if let Some(c) = &l.commit {
            writeln!(
                out,
                "    commit:      {} {} <{}> {} {}",
                &c.id[..c.id.len().min(12)],
                printable(&c.author),
                printable(&c.email),
                c.date,
                printable(&c.summary)
            )?;
        }
        if let Some(g) = &f.git {
            writeln!(
                out,
                "    history:     introduced by {} commit{} at {} path{}; {}",
                g.commits,
                if g.commits == 1 { "" } else { "s" },
                g.paths,
                if g.paths == 1 { "" } else { "s" },
                if g.present_at_head {
                    "still present at HEAD"
                } else {
                    "no longer at HEAD, still exposed in history"
                }
            )?;
            writeln!(
                out,
                "    pushed:      {}",
                if g.pushed {
                    "yes, reachable from a remote-tracking ref: it has left this machine, rotate it now"
                } else {
                    "no, only in local commits: rewriting them before pushing may be enough (rotate anyway if in doubt)"
                }
            )?;
        }
        if !f.repositories.is_empty() {
            writeln!(out, "    repositories: {} hold it", f.repositories.len())?;
            for r in &f.repositories {
                let commit = r.commit.as_deref().map_or(String::new(), |c| {
                    format!(" in commit {}", &c[..c.len().min(12)])
                });
                writeln!(
                    out,
                    "      {}: {}:{}{commit}, {} location{}{}{}",
                    printable(&r.repository),
                    printable(&r.path),
                    r.line,
                    r.locations,
                    if r.locations == 1 { "" } else { "s" },
                    if r.present_at_head {
                        ", still at HEAD"
                    } else {
                        ""
                    },
                    if r.review_refs_only {
                        ", only reachable from pull or merge request refs"
                    } else {
                        ""
                    }
                )?;
            }
        }
        writeln!(out, "    fingerprint: {}", f.fingerprint)?;
        writeln!(out, "    what to do:  {}", printable(&f.remediation))?;
        match &f.revoke_url {
            Some(u) => writeln!(out, "    revoke at:   {}", printable(u))?,
            None => writeln!(
                out,
                "    revoke:      revoke it with the service that issued it"
            )?,
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `2.5 MB`, `812 bytes`: sizes as people read them (powers of 1000, like `ls -h --si`).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} byte{}", if n == 1 { "" } else { "s" });
    }
    let mut value = n as f64;
    let mut unit = "";
    for u in UNITS {
        value /= 1000.0;
        unit = u;
        if value < 1000.0 {
            break;
        }
    }
    format!("{value:.1} {unit}")
}

/// `config: .keyhound.toml (the scanned repository's own): disables 2 built-in rules; removed 3`.
fn config_line(c: &super::ConfigUsed) -> String {
    use super::ConfigFrom;
    let from = match &c.from {
        ConfigFrom::User => "given".to_string(),
        ConfigFrom::Repository => "the scanned repository's own".to_string(),
        ConfigFrom::Revision(rev) => format!("read from {rev}, the base of the range"),
    };
    let mut parts = Vec::new();
    if let Some(e) = &c.effect {
        if e.replaced_builtins {
            parts.push("replaces the built-in rules".to_string());
        }
        if !e.disabled.is_empty() {
            parts.push(format!(
                "disables {} built-in rule{} ({})",
                e.disabled.len(),
                if e.disabled.len() == 1 { "" } else { "s" },
                e.disabled.join(", ")
            ));
        }
        if !e.overridden.is_empty() {
            parts.push(format!("redefines {}", e.overridden.join(", ")));
        }
        if e.added > 0 {
            parts.push(format!(
                "adds {} rule{}",
                e.added,
                if e.added == 1 { "" } else { "s" }
            ));
        }
    }
    parts.push(format!("removed {}", c.removed));
    let mut line = format!(
        "{}: {} ({from}): {}",
        c.kind.as_str(),
        printable(&c.path),
        parts.join("; ")
    );
    for w in &c.warnings {
        line += &format!("\n  {}", printable(w));
    }
    line
}

fn explanations(report: Report<'_>, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    for e in report.explanations {
        let secret = if opts.no_redact {
            e.secret.clone()
        } else {
            crate::finding::redact(&e.secret)
        };
        writeln!(
            out,
            "explain: {}:{}:{}: {} {} -> {}",
            printable(&e.path),
            e.line,
            e.column,
            e.rule_id,
            printable(&secret),
            e.reason
        )?;
    }
    Ok(())
}

fn summary(
    findings: &[Finding],
    report: Report<'_>,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    {
        let s = report.stats;
        let unit = if opts.unit.is_empty() {
            "files"
        } else {
            opts.unit
        };
        // "1 file", "2 files", "1 staged file".
        let scanned_unit = match unit.strip_suffix('s') {
            Some(one) if s.scanned == 1 => one,
            _ => unit,
        };
        writeln!(
            out,
            "{} finding{} in {} {} ({}, {} binary)",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            s.scanned,
            scanned_unit,
            human_bytes(s.bytes),
            s.binary
        )?;
        for line in &opts.extra_summary {
            writeln!(out, "{line}")?;
        }
        for c in report.config {
            writeln!(out, "{}", config_line(c))?;
        }
        if !s.special_files.is_empty() {
            writeln!(
                out,
                "skipped {} special file{} (FIFOs, sockets, devices are not read in a walk): {}",
                s.special_files.len(),
                if s.special_files.len() == 1 { "" } else { "s" },
                printable(&s.special_files.join(", "))
            )?;
        }
        if !s.incomplete.is_empty() {
            writeln!(
                out,
                "incomplete: {} not read whole; a key in what was not read is not found:",
                if s.incomplete.len() == 1 {
                    "1 item was".to_string()
                } else {
                    format!("{} items were", s.incomplete.len())
                }
            )?;
            for i in &s.incomplete {
                writeln!(out, "  {}", super::describe(i, opts))?;
            }
        }
        if !s.errors.is_empty() {
            writeln!(
                out,
                "{} error{} (see stderr)",
                s.errors.len(),
                if s.errors.len() == 1 { "" } else { "s" }
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_for_people() {
        assert_eq!(super::human_bytes(0), "0 bytes");
        assert_eq!(super::human_bytes(1), "1 byte");
        assert_eq!(super::human_bytes(999), "999 bytes");
        assert_eq!(super::human_bytes(2_500_000), "2.5 MB");
        assert_eq!(super::human_bytes(1_290_000_000), "1.3 GB");
    }
}
