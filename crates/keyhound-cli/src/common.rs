//! The options every scanning subcommand shares, as clap parses them: plain data, no state
//! and no behaviour; [`crate::run::Run`] is what they mean.

use std::path::PathBuf;

use keyhound::evidence::Confidence;
use keyhound::report::Format;
use keyhound::OnIncomplete;

use crate::config::ConfigArgs;
use crate::exit::EXIT_FOUND;
use crate::verification::{self, FailOn};

/// Options shared by `scan` and `git`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Also write a `git filter-repo --replace-text` file that removes the reported secrets
    /// from every commit, and print how to use it (the file holds the secrets: mode 0600).
    #[arg(long, value_name = "FILE")]
    pub purge_plan: Option<PathBuf>,
    /// Show secrets in full (they are redacted by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Skip files larger than this (bytes, or with K, M, G).
    #[arg(long, alias = "max-blob-size", value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Print why each candidate the rules matched was kept or dropped.
    #[arg(long)]
    pub explain: bool,
    /// Layers of encodings (base64, hex, percent, string escapes) and containers (zip, tar,
    /// gzip, notebooks) to look inside; 0 turns decoding off.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_decode_depth: usize,
    /// Report only findings at or above this confidence: low, medium, high.
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = ConfidenceArg::Low)]
    pub min_confidence: ConfidenceArg,
    /// List test fixtures in human output (they are counted, not listed, by default; JSON and
    /// SARIF always carry them).
    #[arg(long)]
    pub show_fixtures: bool,
    /// Colour human output: auto (on a terminal unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Exit code for a run that finds what fails it (default 1; errors still exit 2).
    #[arg(long, value_name = "N", default_value_t = EXIT_FOUND, value_parser = clap::value_parser!(i32).range(0..=255))]
    pub exit_code: i32,
    /// Print only findings and errors: no summary, no progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Ask each key's provider whether it still works: sends the key to the host its rule
    /// names, over HTTPS. Off by default; nothing else opens a connection.
    #[arg(long)]
    pub verify: bool,
    /// Report only keys the provider accepted (implies --verify).
    #[arg(long)]
    pub only_verified: bool,
    /// Which findings fail the run (exit 1): every finding that is not a test fixture (low,
    /// the default), those of medium or high confidence, or only keys the provider accepted
    /// (active; implies --verify).
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = FailOn::Low)]
    pub fail_on: FailOn,
    /// Seconds to wait for each provider's answer (--verify).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = verification::parse_timeout)]
    pub verify_timeout: std::time::Duration,
    /// What a scan that could not read everything (a file over --max-file-size, an archive
    /// past a limit) does: fail (exit 3, the default) or warn. Default: the config's
    /// `[scan] on_incomplete`, else fail.
    #[arg(long, value_name = "POLICY", value_enum)]
    pub on_incomplete: Option<OnIncompleteArg>,
}

/// Parses `123`, `64K`, `100M`, `1G` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size unit `{c}` (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 5000000, 512K, 100M, 1G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always (also into a file or a pipe).
    Always,
    /// Never.
    Never,
}

/// `--format`: the library's [`Format`], as clap lists and parses it (the library does not
/// depend on clap; a test holds the names equal to the library's serde names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Text for people, optionally coloured.
    #[value(alias = "text")]
    Human,
    /// One line a finding.
    Compact,
    /// A JSON array of findings.
    Json,
    /// One JSON finding a line.
    Jsonl,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Compact => Format::Compact,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
        }
    }
}

/// `--min-confidence`: the library's [`Confidence`], as clap lists and parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfidenceArg {
    /// Every finding.
    Low,
    /// Medium and high.
    Medium,
    /// High only.
    High,
}

impl From<ConfidenceArg> for Confidence {
    fn from(c: ConfidenceArg) -> Confidence {
        match c {
            ConfidenceArg::Low => Confidence::Low,
            ConfidenceArg::Medium => Confidence::Medium,
            ConfidenceArg::High => Confidence::High,
        }
    }
}

/// `--on-incomplete`: the library's [`OnIncomplete`], as clap lists and parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnIncompleteArg {
    /// Exit 3.
    Fail,
    /// Say so and pass.
    Warn,
}

impl From<OnIncompleteArg> for OnIncomplete {
    fn from(o: OnIncompleteArg) -> OnIncomplete {
        match o {
            OnIncompleteArg::Fail => OnIncomplete::Fail,
            OnIncompleteArg::Warn => OnIncomplete::Warn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Each value clap accepts (aliases too) means what the library's serde name means.
    macro_rules! same_names {
        ($arg:ty, $lib:ty) => {
            for v in <$arg>::value_variants() {
                let pv = v.to_possible_value().expect("no value is hidden");
                for name in pv.get_name_and_aliases() {
                    let lib: $lib = serde_json::from_value(serde_json::Value::from(name))
                        .unwrap_or_else(|e| panic!("`{name}`: {e}"));
                    assert_eq!(lib, <$lib>::from(*v), "`{name}`");
                }
            }
        };
    }

    #[test]
    fn value_names_are_the_librarys() {
        same_names!(FormatArg, Format);
        same_names!(ConfidenceArg, Confidence);
        same_names!(OnIncompleteArg, OnIncomplete);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("7"), Ok(7));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("x").is_err());
    }
}
