//! `keyhound revoke [FILE...]`: finds GitHub tokens in files (or stdin) and, after listing them
//! redacted and asking, sends them to GitHub's public credential revocation endpoint. Nothing
//! is sent without a yes (`--yes` for scripts), and nothing goes anywhere but api.github.com.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use keyhound::finding::redact;
use keyhound::report::printable;
use keyhound::revoke::{self, BATCH};
use keyhound::{RuleSet, Scanner};

use crate::exit::{EXIT_CLEAN, EXIT_ERROR};
use crate::verification::{parse_timeout, PROVIDER_URL_VAR};

/// Arguments of `keyhound revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// Files to take the tokens from (`-`, or none, reads stdin).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Send without asking (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the tokens in full (they are redacted by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Seconds to wait for GitHub's answer.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// Runs it. Exit code: 0 when GitHub accepted every token (or none was found), 2 otherwise.
pub fn run(args: RevokeArgs) -> anyhow::Result<i32> {
    let scanner = Scanner::new(RuleSet::builtin()?);
    let mut matcher = scanner.matcher();
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let from_stdin = args.files.is_empty() || args.files.iter().any(|f| f.as_os_str() == "-");
    for f in &args.files {
        if f.as_os_str() == "-" {
            continue;
        }
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        inputs.push((f.display().to_string(), bytes));
    }
    if from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
        inputs.push(("-".into(), bytes));
    }
    let mut tokens: Vec<String> = Vec::new();
    let mut places: Vec<String> = Vec::new();
    let mut skipped = 0;
    for (name, bytes) in &inputs {
        for f in scanner.scan_plain(&mut matcher, name, bytes).findings {
            if !revoke::GITHUB_PREFIXES
                .iter()
                .any(|p| f.secret.starts_with(p))
            {
                continue;
            }
            if !revoke::is_revocable(&f.secret) {
                skipped += 1;
                continue;
            }
            if !tokens.contains(&f.secret) {
                let l = f.location();
                places.push(format!("{}:{}", l.path, l.line));
                tokens.push(f.secret);
            }
        }
    }
    if skipped > 0 {
        eprintln!("keyhound: revoke: {skipped} GitHub-shaped token(s) fail their checksum (not real tokens): not sent");
    }
    if tokens.is_empty() {
        eprintln!("keyhound: revoke: no GitHub token found: nothing sent");
        return Ok(EXIT_CLEAN);
    }
    eprintln!(
        "keyhound: revoke: {} GitHub token(s) would go to api.github.com (POST /credentials/revoke, no authentication, {} request(s)):",
        tokens.len(),
        tokens.len().div_ceil(BATCH)
    );
    for (t, at) in tokens.iter().zip(&places) {
        let shown = if args.no_redact { t.clone() } else { redact(t) };
        eprintln!("  {}  ({})", printable(&shown), printable(at));
    }
    eprintln!("keyhound: revoke: GitHub notifies each token's owner; a revoked token cannot be reactivated.");
    if !args.yes {
        if from_stdin || !std::io::stdin().is_terminal() {
            eprintln!("keyhound: revoke: nothing sent: pass --yes to send (there is no terminal to ask on)");
            return Ok(EXIT_ERROR);
        }
        eprint!("Revoke them? [y/N] ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .context("reading the answer")?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("keyhound: revoke: nothing sent");
            return Ok(EXIT_ERROR);
        }
    }
    let base = std::env::var(PROVIDER_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty());
    if let Some(b) = &base {
        eprintln!("keyhound: note: {PROVIDER_URL_VAR} is set: the revocation request goes to {b}");
    }
    let outcomes = revoke::revoke_github(&tokens, base.as_deref(), args.timeout)?;
    let mut all = true;
    for o in &outcomes {
        match &o.problem {
            None => eprintln!(
                "keyhound: revoke: {} token(s) accepted for revocation (HTTP 202)",
                o.tokens
            ),
            Some(p) => {
                all = false;
                eprintln!("keyhound: revoke: {} token(s) not revoked: {p}", o.tokens);
            }
        }
    }
    if all {
        eprintln!(
            "keyhound: revoke: done; now remove them from the code and its history (--purge-plan)"
        );
    }
    Ok(if all { EXIT_CLEAN } else { EXIT_ERROR })
}
