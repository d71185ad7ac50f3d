//! `keyhound rules list|check`: what the rules are, and whether a rule file's examples hold.

use std::io::Write;
use std::path::PathBuf;

use keyhound::rules::examples;
use keyhound::{RuleSet, Scanner};

/// Arguments of `keyhound rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `rules` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// List the rules in force (id, description, keywords).
    List {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Config file extending the built-in rules.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Compile a rule file (default: the built-in rules) and run its examples and negative
    /// examples; exits 1 if one fails.
    Check {
        /// A rule file (same format as rules/*.toml).
        file: Option<PathBuf>,
    },
}

/// How `rules list` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One line a rule: id, description, keywords.
    Human,
    /// A JSON array of `{id, description, keywords}`.
    Json,
}

/// Runs the subcommand.
pub fn run(args: RulesArgs) -> anyhow::Result<i32> {
    match args.command {
        RulesCommand::List { format, config } => {
            let rules = match config {
                Some(c) => RuleSet::with_config(&c)?,
                None => RuleSet::builtin()?,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let written = match format {
                ListFormat::Json => {
                    let items: Vec<_> = rules
                        .rules()
                        .iter()
                        .map(|r| {
                            serde_json::json!({
                                "id": r.id,
                                "description": r.description,
                                "keywords": r.keywords,
                            })
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&items)?)
                }
                ListFormat::Human => rules.rules().iter().try_for_each(|r| {
                    writeln!(
                        out,
                        "{:<32} {}  [{}]",
                        r.id,
                        r.description,
                        r.keywords.join(", ")
                    )
                }),
            };
            match written.and_then(|_| out.flush()) {
                // `keyhound rules list | head`: a reader that stops early is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                other => other.map(|_| 0).map_err(Into::into),
            }
        }
        RulesCommand::Check { file } => {
            let rules = match &file {
                Some(f) => RuleSet::from_file(f)?,
                None => RuleSet::builtin()?,
            };
            rules.check_all()?;
            let n = rules.rules().len();
            let failures = examples::check(&Scanner::new(rules));
            for f in &failures {
                println!("FAIL {f}");
            }
            println!("{} rules checked, {} example failures", n, failures.len());
            Ok(if failures.is_empty() { 0 } else { 1 })
        }
    }
}
