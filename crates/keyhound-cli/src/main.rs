//! `keyhound`: the command-line face of the keyhound library. Argument parsing, config
//! discovery, output and exit codes live here; scanning lives in the library.
//!
//! Exit codes: 0 nothing found, 1 findings, 2 error, 3 incomplete (something could not be read
//! whole; `--on-incomplete warn` lets it pass).

mod commands;
mod common;
mod config;
mod exit;
mod incomplete;
mod purge;
mod run;
mod verification;

use clap::{Parser, Subcommand};

/// Find API keys and other secrets in files and git history; block them at commit time.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan files and directories (`-` reads stdin).
    Scan(commands::scan::ScanArgs),
    /// Scan git history, a commit range, or the staged changes.
    Git(commands::git::GitArgs),
    /// Audit many repositories: each blob once, incrementally (--state), in shards (--shard).
    Audit(commands::audit::AuditArgs),
    /// Merge the shard reports of one audit into one report.
    Merge(commands::merge::MergeArgs),
    /// Install, remove or inspect the git hooks.
    Hook(commands::hook::HookArgs),
    /// Record today's findings so that later scans report only new ones.
    Baseline(commands::baseline::BaselineArgs),
    /// List or check rules.
    Rules(commands::rules::RulesArgs),
    /// Ask providers whether keys (one a line on stdin) still work.
    Verify(commands::verify::VerifyArgs),
    /// Revoke GitHub tokens found in files through GitHub's public revocation endpoint
    /// (asks first).
    Revoke(commands::revoke::RevokeArgs),
    /// Import a gitleaks config, or check a config.
    Config(commands::config::ConfigCmdArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Git(args) => commands::git::run(args),
        Command::Audit(args) => commands::audit::run(args),
        Command::Merge(args) => commands::merge::run(args),
        Command::Hook(args) => commands::hook::run(args),
        Command::Baseline(args) => commands::baseline::run(args),
        Command::Rules(args) => commands::rules::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Config(args) => commands::config::run(args),
        Command::Revoke(args) => commands::revoke::run(args),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keyhound: error: {e:#}");
            exit::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
