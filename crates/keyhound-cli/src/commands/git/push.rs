//! `keyhound git --pre-receive` and `keyhound git --pre-push`: the lines git gives those hooks
//! on stdin, turned into what the push adds ([`keyhound::source::push`]) and scanned as a range
//! is, every ref of the push in one scan.
//!
//! The server side (pre-receive) trusts nothing that was pushed: its configuration comes only
//! from `--config` (which `hook install --pre-receive --config FILE` writes into the hook) or
//! `KEYHOUND_CONFIG`, never from the repository's `.keyhound.toml`, `.keyhoundignore` or
//! baseline. It keeps to a time budget with an explicit policy when that runs out, accepts
//! bypass push options only when the server enables them, and writes every bypass and every
//! unscanned acceptance to an audit log (JSON lines). What the pusher reads (git prefixes it
//! `remote:`) names the commit, path, line, rule and redacted secret, and what to do.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use keyhound::report::printable;
use keyhound::source::history::{self, time, HistoryScan, NoProgress};
use keyhound::source::push::{self, Input, Quarantine, RefUpdate};
use keyhound::Finding;

use super::GitArgs;
use crate::config;
use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FOUND};
use crate::run::{Configured, Outcome, Run};

/// The server's settings of `--pre-receive`; each also read from the environment.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Pre-receive (server side)")]
pub struct ServerArgs {
    /// Seconds the whole check may take (default 4.5, or KEYHOUND_BUDGET; GitHub Enterprise
    /// Server stops pre-receive hooks after 5 s).
    #[arg(long, value_name = "SECS", requires = "pre_receive")]
    pub budget: Option<f64>,
    /// What a push whose check runs out of time gets: reject (the default) or accept (written
    /// to the audit log). Default: KEYHOUND_ON_BUDGET, else reject.
    #[arg(long, value_name = "POLICY", value_enum, requires = "pre_receive")]
    pub on_budget: Option<BudgetPolicy>,
    /// Honour the push options `keyhound.allow=FINGERPRINT` and `keyhound.skip=REASON`
    /// (or KEYHOUND_ALLOW_BYPASS=1); each use is written to the audit log.
    #[arg(long, requires = "pre_receive")]
    pub allow_bypass: bool,
    /// The audit log (JSON lines) of bypasses and unscanned acceptances (or
    /// KEYHOUND_AUDIT_LOG).
    #[arg(long, value_name = "FILE", requires = "pre_receive")]
    pub audit_log: Option<PathBuf>,
}

/// What happens to a push whose check runs out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BudgetPolicy {
    /// Reject the push.
    #[default]
    Reject,
    /// Accept it unscanned, and record that in the audit log.
    Accept,
}

/// The default budget: a little under GitHub Enterprise Server's 5 s.
const DEFAULT_BUDGET: Duration = Duration::from_millis(4500);

/// What to tell a pusher whose commits hold a secret.
const ADVICE: &str = "\
What to do:
  1. Take the key out of the commits that add it: `git commit --amend` for the last one,
     `git rebase -i` for older ones; load it from the environment or a secrets manager.
  2. Push again.
  3. If the key was ever pushed or shared anywhere else, treat it as leaked: revoke it at
     the provider and rotate it. Rewriting the commits does not make it secret again.
  A false positive? Put `keyhound:allow` in a comment on that line.";

/// The server's settings, resolved from the flags and the environment.
struct Server {
    budget: Duration,
    policy: BudgetPolicy,
    allow_bypass: bool,
    audit_log: Option<PathBuf>,
}

impl Server {
    fn new(args: &ServerArgs) -> anyhow::Result<Server> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let budget = match (args.budget, env("KEYHOUND_BUDGET")) {
            (Some(s), _) => seconds(s, "--budget")?,
            (None, Some(v)) => seconds(
                v.parse()
                    .map_err(|_| anyhow!("KEYHOUND_BUDGET: `{v}` is not a number of seconds"))?,
                "KEYHOUND_BUDGET",
            )?,
            (None, None) => DEFAULT_BUDGET,
        };
        let policy = match (args.on_budget, env("KEYHOUND_ON_BUDGET").as_deref()) {
            (Some(p), _) => p,
            (None, None | Some("reject")) => BudgetPolicy::Reject,
            (None, Some("accept")) => BudgetPolicy::Accept,
            (None, Some(v)) => bail!("KEYHOUND_ON_BUDGET: `{v}`: expected reject or accept"),
        };
        let allow_bypass =
            args.allow_bypass || env("KEYHOUND_ALLOW_BYPASS").is_some_and(|v| v != "0");
        let audit_log = args
            .audit_log
            .clone()
            .or_else(|| env("KEYHOUND_AUDIT_LOG").map(PathBuf::from));
        if audit_log.is_none() && (allow_bypass || policy == BudgetPolicy::Accept) {
            bail!(
                "bypass push options and `--on-budget accept` need an audit log (--audit-log FILE or KEYHOUND_AUDIT_LOG): a push that is let through unchecked must be recorded"
            );
        }
        Ok(Server {
            budget,
            policy,
            allow_bypass,
            audit_log,
        })
    }
}

fn seconds(s: f64, what: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| anyhow!("{what}: `{s}` is not a number of seconds"))
}

/// The push options keyhound reads (`git push -o keyhound.allow=FP -o keyhound.skip=REASON`).
#[derive(Debug, Default)]
struct Bypass {
    allow: Vec<String>,
    skip: Option<String>,
    reason: Option<String>,
}

impl Bypass {
    fn from_env() -> Bypass {
        let mut b = Bypass::default();
        let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        for i in 0..count {
            let Ok(option) = std::env::var(format!("GIT_PUSH_OPTION_{i}")) else {
                continue;
            };
            if let Some(fp) = option.strip_prefix("keyhound.allow=") {
                b.allow.extend(fp.split(',').map(|s| s.trim().to_string()));
            } else if let Some(why) = option.strip_prefix("keyhound.skip=") {
                b.skip = Some(why.to_string());
            } else if let Some(why) = option.strip_prefix("keyhound.reason=") {
                b.reason = Some(why.to_string());
            }
        }
        b.allow.retain(|s| !s.is_empty());
        b
    }

    fn asked(&self) -> bool {
        !self.allow.is_empty() || self.skip.is_some()
    }
}

/// Who pushes, as the git server names them.
fn pusher() -> String {
    [
        "GL_USERNAME",
        "GITEA_PUSHER_NAME",
        "GITHUB_USER_LOGIN",
        "GITHUB_USER",
        "USER",
    ]
    .iter()
    .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    .unwrap_or_else(|| "unknown".to_string())
}

/// Whether the hook runs under GitLab, whose web UI shows `GL-HOOK-ERR:` lines.
fn under_gitlab() -> bool {
    ["GL_ID", "GL_PROTOCOL"]
        .iter()
        .any(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()))
}

/// Appends one record to the audit log.
fn audit(
    server: &Server,
    action: &str,
    updates: &[RefUpdate],
    commits: &[String],
    fingerprints: &[String],
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let Some(path) = &server.audit_log else {
        bail!("no audit log is configured");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let refs: Vec<serde_json::Value> = updates
        .iter()
        .map(|u| {
            serde_json::json!({
                "ref": u.name,
                "old": u.old.map(|o| o.to_string()),
                "new": u.new.map(|o| o.to_string()),
            })
        })
        .collect();
    let record = serde_json::json!({
        "time": time::rfc3339(now, 0),
        "pusher": pusher(),
        "action": action,
        "refs": refs,
        "commits": commits,
        "fingerprints": fingerprints,
        "reason": reason,
    });
    let mut line = record.to_string();
    line.push('\n');
    // One write in append mode: concurrent pushes do not interleave their records.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .with_context(|| format!("writing the audit log {}", path.display()))
}

fn read_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the hook's input")?;
    Ok(input)
}

/// What the scan thread hands back.
struct Scanned {
    result: HistoryScan,
    /// With `--verify`: each finding's check, in the order of the findings.
    checks: Vec<Option<keyhound::verify::Check>>,
    used: Vec<keyhound::report::ConfigUsed>,
    on_incomplete: Option<keyhound::OnIncomplete>,
}

/// Runs the server-side check.
pub fn pre_receive(args: GitArgs) -> anyhow::Result<i32> {
    let start = Instant::now();
    let server = Server::new(&args.server)?;
    let updates = push::parse_updates(&read_stdin()?, Input::PreReceive)?;
    let gitlab = under_gitlab();
    let reject = |lines: &[String], gl: &str| {
        for l in lines {
            eprintln!("{l}");
        }
        if gitlab {
            eprintln!("GL-HOOK-ERR: {gl}");
        }
    };
    if updates.iter().all(|u| u.new.is_none()) {
        return Ok(EXIT_CLEAN);
    }
    let tips: Vec<String> = updates
        .iter()
        .filter_map(|u| u.new.map(|id| id.to_string()))
        .collect();
    let bypass = Bypass::from_env();
    if bypass.asked() && !server.allow_bypass {
        eprintln!(
            "keyhound: this server does not accept the keyhound.allow and keyhound.skip push options: the push is checked in full"
        );
    }
    if let (Some(reason), true) = (&bypass.skip, server.allow_bypass) {
        audit(&server, "skip", &updates, &tips, &[], Some(reason))
            .context("the push asked to skip the check, and the skip cannot be recorded, so the push was rejected")?;
        let reason = printable(reason);
        eprintln!("keyhound: the check was skipped on request ({reason}); this is recorded in the audit log");
        return Ok(EXIT_CLEAN);
    }

    // The pushed content is the pusher's: none of its files may configure the check.
    let mut common = args.common.clone();
    common.config.no_repo_config = true;
    common.config.trust_repo_config = false;
    if common.config.config.is_none() {
        common.config.config = std::env::var_os("KEYHOUND_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
    }
    let run = Run::new(&common)?;
    let cwd = std::env::current_dir().context("finding the current directory")?;
    let path = std::env::var_os("GIT_DIR")
        .map(PathBuf::from)
        .or_else(|| args.repo.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    let quarantine = Quarantine::from_vars(|n| std::env::var_os(n), &cwd);
    let (tx, rx) = mpsc::channel();
    {
        let run = run.clone();
        let updates = updates.clone();
        let threads = common.threads;
        let messages = !args.no_messages;
        let dedup = !args.no_dedup;
        let paths = args.path_filter()?;
        // Not scoped: when the budget runs out the process ends without waiting for it.
        std::thread::spawn(move || {
            let scanned = (|| -> anyhow::Result<Scanned> {
                history::tune_libgit2();
                let (repo, dirs) = push::open(&path, &quarantine)?;
                let tips = push::server_tips(&repo, &updates)?;
                let Configured { scanner, mut used } =
                    run.setup().configure(&config::Base::Dir(repo.path()))?;
                let scanner = scanner.with_paths(paths);
                let mut options = push::options(tips, dirs);
                options.threads = threads;
                options.messages = messages;
                options.dedup = dedup;
                let result = history::scan_history(&scanner, &repo, &options, &NoProgress)?;
                config::count_removed(&mut used, &result.stats.removed);
                Ok(Scanned {
                    checks: run.checks(&scanner, &result.findings),
                    result,
                    used,
                    on_incomplete: scanner.rules().on_incomplete,
                })
            })();
            let _ = tx.send(scanned);
        });
    }
    let left = server.budget.saturating_sub(start.elapsed());
    let scanned = match rx.recv_timeout(left) {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            reject(
                &[
                    format!("keyhound: error: {e:#}"),
                    "keyhound: the push was rejected because it could not be checked.".into(),
                ],
                "keyhound could not check this push; see the messages above",
            );
            return Ok(EXIT_ERROR);
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            return out_of_time(&server, &updates, &tips, gitlab)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            reject(
                &["keyhound: the check of this push stopped without a result, so the push was rejected.".into()],
                "keyhound could not check this push",
            );
            return Ok(EXIT_ERROR);
        }
    };
    let Scanned {
        result,
        mut checks,
        used,
        on_incomplete,
    } = scanned;
    let HistoryScan {
        mut findings,
        stats,
        explanations,
        history: walked,
        ..
    } = result;

    if server.allow_bypass && !bypass.allow.is_empty() {
        let verifying = !checks.is_empty();
        let mut all_checks = std::mem::take(&mut checks).into_iter();
        let mut allowed: Vec<Finding> = Vec::new();
        let mut kept: Vec<Finding> = Vec::new();
        for f in findings {
            let check = all_checks.next().flatten();
            if bypass.allow.contains(&f.fingerprint) {
                allowed.push(f);
            } else {
                kept.push(f);
                if verifying {
                    checks.push(check);
                }
            }
        }
        findings = kept;
        if !allowed.is_empty() {
            let fps: Vec<String> = allowed.iter().map(|f| f.fingerprint.clone()).collect();
            let mut commits: Vec<String> = allowed
                .iter()
                .flat_map(|f| &f.locations)
                .filter_map(|l| l.commit.as_ref().map(|c| c.id.clone()))
                .collect();
            commits.sort();
            commits.dedup();
            audit(&server, "allow", &updates, &commits, &fps, bypass.reason.as_deref())
                .context("the push asked to allow findings, and that cannot be recorded, so the push was rejected")?;
            eprintln!(
                "keyhound: {} allowed on request (keyhound.allow); this is recorded in the audit log",
                if fps.len() == 1 { "1 finding".to_string() } else { format!("{} findings", fps.len()) }
            );
        }
    }
    let blocking: Vec<Finding> = findings
        .iter()
        .filter(|f| run.blocking(std::slice::from_ref(f)) == 1)
        .cloned()
        .collect();
    let code = run.finish(Outcome {
        findings,
        stats,
        explanations,
        checks,
        config: used,
        config_on_incomplete: on_incomplete,
        unit: "file versions",
        extra_summary: vec![format!(
            "push: {} new commit{} on {} ref{}",
            walked.commits,
            if walked.commits == 1 { "" } else { "s" },
            walked.refs,
            if walked.refs == 1 { "" } else { "s" }
        )],
    })?;
    match code {
        EXIT_CLEAN => {}
        EXIT_FOUND => {
            let mut lines = vec![String::new(), format!(
                "keyhound: push rejected: {} in the pushed commits (nothing of this push was accepted):",
                if blocking.len() == 1 { "a secret".to_string() } else { format!("{} secrets", blocking.len()) }
            )];
            for f in &blocking {
                lines.extend(describe(f));
            }
            lines.extend(ADVICE.lines().map(str::to_string));
            if server.allow_bypass {
                lines.push("  If it must go in as it is: `git push -o keyhound.allow=FINGERPRINT` (recorded in the audit log).".into());
            }
            let gl = match blocking.first() {
                Some(f) => {
                    let l = f.location();
                    format!(
                        "keyhound rejected this push: {} at {}:{}{}: remove it from the commits, push again, and rotate the key if it was ever pushed elsewhere",
                        f.rule_id,
                        printable(&l.path),
                        l.line,
                        l.commit.as_ref().map(|c| format!(" in commit {}", short(&c.id))).unwrap_or_default()
                    )
                }
                None => "keyhound rejected this push: a secret in the pushed commits".into(),
            };
            reject(&lines, &gl);
        }
        _ => reject(
            &["keyhound: the check of this push failed or is incomplete (see above), so the push was rejected.".into()],
            "keyhound could not check this push completely; see the messages above",
        ),
    }
    Ok(code)
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

/// The lines naming one finding for the pusher: commit, path, line, rule, redacted secret.
fn describe(f: &Finding) -> Vec<String> {
    let mut lines = Vec::new();
    let l = f.location();
    let at = match &l.commit {
        Some(c) => format!(
            "commit {} \"{}\"",
            short(&c.id),
            redacted_summary(c, &f.secret)
        ),
        None => "a tag message".to_string(),
    };
    lines.push(format!("  {at}"));
    lines.push(format!(
        "    {}:{}  {}  {}",
        printable(&l.path),
        l.line,
        f.rule_id,
        keyhound::finding::redact(&f.secret)
    ));
    lines.push(format!("    fingerprint {}", f.fingerprint));
    lines
}

fn redacted_summary(c: &keyhound::finding::CommitInfo, secret: &str) -> String {
    // The subject is the pusher's text: redacted, then made printable (no escape sequences or
    // line breaks that could pass for the server's own lines).
    let s = keyhound::finding::redact_spans(&c.summary, &c.summary_secrets);
    printable(&s.replace(secret, &keyhound::finding::redact(secret))).into_owned()
}

/// The budget ran out: the policy decides, and says so.
fn out_of_time(
    server: &Server,
    updates: &[RefUpdate],
    tips: &[String],
    gitlab: bool,
) -> anyhow::Result<i32> {
    let secs = server.budget.as_secs_f64();
    match server.policy {
        BudgetPolicy::Reject => {
            if server.audit_log.is_some() {
                let _ = audit(server, "budget-reject", updates, tips, &[], None);
            }
            eprintln!(
                "keyhound: the check of this push did not finish within its time budget ({secs:.1} s), and this server rejects pushes it could not check: push rejected. Push fewer commits at a time, or ask the server's administrator about the budget (--budget, --on-budget)."
            );
            if gitlab {
                eprintln!("GL-HOOK-ERR: keyhound could not check this push within {secs:.1} s: push fewer commits at a time");
            }
            Ok(EXIT_FOUND)
        }
        BudgetPolicy::Accept => {
            audit(server, "budget-accept", updates, tips, &[], None).context(
                "the check ran out of time and the unchecked push cannot be recorded, so the push was rejected",
            )?;
            eprintln!(
                "keyhound: warning: the check of this push did not finish within its time budget ({secs:.1} s): the push is accepted unchecked (this server's policy) and recorded in the audit log"
            );
            Ok(EXIT_CLEAN)
        }
    }
}

/// Runs the client-side check of a pre-push hook: one scan over every ref pushed.
pub fn pre_push(args: GitArgs, run: Run) -> anyhow::Result<i32> {
    let updates = push::parse_updates(&read_stdin()?, Input::PrePush)?;
    history::tune_libgit2();
    let path = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let repo = git2::Repository::discover(&path)
        .map_err(|e| anyhow!("{}: not a git repository ({})", path.display(), e.message()))?;
    let tips = push::client_tips(&repo, &updates)?;
    if tips.include.is_empty() {
        return Ok(EXIT_CLEAN);
    }
    // As a range does: the configuration of what the remote has, when it is here.
    let here = |id: &git2::Oid| repo.find_commit(*id).is_ok();
    let range = updates
        .iter()
        .find_map(|u| Some((u.old.filter(here)?, u.new?)))
        .map(|(old, new)| format!("{old}..{new}"));
    let base = super::history::config_base(&repo, range.as_deref())?;
    let Configured { scanner, used } = run.setup().configure(&base)?;
    let scanner = scanner.with_paths(args.path_filter()?);
    let mut options = push::options(tips, Vec::new());
    options.threads = args.common.threads;
    options.messages = !args.no_messages;
    options.dedup = !args.no_dedup;
    let result = history::scan_history(&scanner, &repo, &options, &NoProgress)?;
    let scanned = (result.findings, result.stats, result.explanations);
    run.finish(Outcome::new(&run, &scanner, scanned, used, "file versions"))
}
