//! `keyhound config import|check`: turn a gitleaks config into a `.keyhound.toml`, and say
//! whether a config loads cleanly and leaves any rule active.

use std::path::{Path, PathBuf};

use anyhow::Context;
use keyhound::report::ConfigFrom;
use keyhound::rules::gitleaks::{self, NoteKind};
use keyhound::rules::syntax::RuleFile;
use keyhound::rules::{ConfigTrust, RuleSet};

use crate::config::{self, Base, ConfigArgs};
use keyhound::report::printable;

/// Arguments of `keyhound config`.
#[derive(Debug, clap::Args)]
pub struct ConfigCmdArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// `config` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Write the `.keyhound.toml` equivalent to a gitleaks or betterleaks config file; what
    /// could not be carried exactly is said on stderr and in comments at the top.
    Import {
        /// The gitleaks config (`.gitleaks.toml`).
        file: PathBuf,
        /// Where to write (default: `.keyhound.toml` in the current directory).
        #[arg(long, short = 'o', value_name = "FILE", default_value = config::CONFIG_FILE)]
        output: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Load a config (default: the one `keyhound scan .` would use) and report what it does;
    /// exits 1 if it leaves no rule active or has problems (unknown keys, regexes that do not
    /// compile), 0 otherwise.
    Check {
        /// A config file, keyhound's or gitleaks'.
        file: Option<PathBuf>,
    },
}

/// Runs the subcommand.
pub fn run(args: ConfigCmdArgs) -> anyhow::Result<i32> {
    match args.command {
        ConfigCommand::Import {
            file,
            output,
            force,
        } => import(&file, &output, force),
        ConfigCommand::Check { file } => check(file),
    }
}

fn import(file: &Path, output: &Path, force: bool) -> anyhow::Result<i32> {
    let found = config::given(file, "the gitleaks config")?;
    let imported = config::import(&found, &Base::Dir(Path::new(".")))?;
    let text = gitleaks::render(&imported, &found.path);
    // What is written must load as it is: check before replacing anything.
    let reparsed = RuleFile::parse(&output.display().to_string(), &text)
        .context("the translated config does not parse (a keyhound bug)")?;
    let rules = RuleSet::from_config(reparsed, ConfigTrust::User)
        .context("the translated config does not load (a keyhound bug)")?;
    if !force && std::fs::symlink_metadata(output).is_ok() {
        anyhow::bail!(
            "{} exists; pass --force to replace it, or -o to write elsewhere",
            output.display()
        );
    }
    keyhound::atomic::write(output, text.as_bytes())?;
    for n in &imported.notes {
        eprintln!(
            "keyhound: {}: {}",
            kind_word(n.kind),
            printable(&n.to_string())
        );
    }
    let f = &imported.file;
    let builtins = f.extend.as_ref().is_none_or(|e| e.default);
    eprintln!(
        "keyhound: wrote {}: {} rule(s) of its own, {} global allowlist(s), built-in rules {}; {} rule(s) active",
        output.display(),
        f.rules.len(),
        f.allowlists.len(),
        if builtins { "kept" } else { "replaced" },
        rules.rules().len()
    );
    if rules.rules().is_empty() {
        eprintln!("keyhound: warning: no rule is active under the written config: a scan with it finds nothing");
    }
    Ok(if rules.rules().is_empty() { 1 } else { 0 })
}

fn kind_word(k: NoteKind) -> &'static str {
    match k {
        NoteKind::Problem => "problem",
        NoteKind::Approximate => "approximate",
        NoteKind::Info => "note",
    }
}

fn check(file: Option<PathBuf>) -> anyhow::Result<i32> {
    let args = ConfigArgs {
        config: file,
        ..ConfigArgs::default()
    };
    let base = Base::Dir(Path::new("."));
    let Some(found) = config::find_config(&args, &base)? else {
        println!(
            "no config file: keyhound's built-in rules ({} rules)",
            RuleSet::builtin()?.rules().len()
        );
        return Ok(0);
    };
    let mut problems = 0;
    let file = if gitleaks::looks_like_gitleaks(&found.path, &found.text) {
        let imported = config::import(&found, &base)?;
        println!("{}: gitleaks format", found.path);
        for n in &imported.notes {
            if n.kind == NoteKind::Problem {
                problems += 1;
            }
            println!("  {}: {}", kind_word(n.kind), printable(&n.to_string()));
        }
        imported.file
    } else {
        println!("{}: keyhound format", found.path);
        RuleFile::parse(&found.path, &found.text)?
    };
    let trust = match found.from {
        ConfigFrom::User => ConfigTrust::User,
        _ => ConfigTrust::Repository,
    };
    let rules = RuleSet::from_config(file, trust)?;
    for w in rules.warnings() {
        problems += 1;
        println!("  problem: {}", printable(&w.to_string()));
    }
    let builtin = rules
        .rules()
        .iter()
        .filter(|r| r.origin.starts_with("builtin:"))
        .count();
    let active = rules.rules().len();
    println!(
        "{active} rule(s) active ({builtin} built-in, {} from the file){}",
        active - builtin,
        if problems > 0 {
            format!("; {problems} problem(s)")
        } else {
            String::new()
        }
    );
    if active == 0 {
        eprintln!(
            "keyhound: error: {}: no rule is active: a scan with this config finds nothing",
            found.path
        );
        return Ok(1);
    }
    Ok(if problems > 0 { 1 } else { 0 })
}
