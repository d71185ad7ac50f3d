//! `keyhound git [REPO]`: the arguments, and the choice between the staged scan (pre-commit),
//! the history scan (audit, `--range` for CI) and the scan of a push (`--pre-receive` on the
//! server, `--pre-push` on the client).

mod commit_msg;
mod history;
mod push;
mod staged;

pub use push::{BudgetPolicy, ServerArgs};

use std::path::PathBuf;

use crate::common::CommonArgs;
use crate::run::Run;

/// Arguments of `keyhound git`.
#[derive(Debug, clap::Args)]
pub struct GitArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// Scan what the next commit will contain: the index, only lines added relative to HEAD.
    #[arg(long, conflicts_with_all = ["range", "branch", "since", "until"])]
    pub staged: bool,
    /// Scan only what the commits in A..B introduce (for CI: `origin/main..HEAD`).
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Scan only commits reachable from REF (repeatable; default: every ref).
    #[arg(long, value_name = "REF")]
    pub branch: Vec<String>,
    /// Only commits authored at or after DATE (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only commits authored before DATE (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// List every location separately instead of one finding per secret.
    #[arg(long)]
    pub no_dedup: bool,
    /// Do not scan commit and annotated tag messages (they are scanned by default).
    #[arg(long)]
    pub no_messages: bool,
    /// Scan a commit message file (what the commit-msg hook passes) instead of history.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["staged", "range", "branch", "since", "until"])]
    pub commit_msg: Option<PathBuf>,
    /// Scan only files whose path matches GLOB (gitignore-style, relative to the repository's
    /// root; repeatable). Globs after `--` count the same.
    #[arg(long = "path", value_name = "GLOB")]
    pub paths: Vec<String>,
    /// Globs after `--`, as `--path`.
    #[arg(last = true, value_name = "GLOB")]
    pub pathspec: Vec<String>,
    /// Server side: read a pre-receive hook's `<old> <new> <ref>` lines on stdin and scan what
    /// the push adds, every ref in one scan. Configuration only from --config or
    /// KEYHOUND_CONFIG: the pushed `.keyhound.toml`, `.keyhoundignore` and baseline count for
    /// nothing.
    #[arg(long, conflicts_with_all = ["staged", "range", "branch", "since", "until", "commit_msg", "pre_push"])]
    pub pre_receive: bool,
    /// Read a pre-push hook's `<local ref> <local sha> <remote ref> <remote sha>` lines on stdin
    /// and scan the commits no remote-tracking ref has, every ref in one scan.
    #[arg(long, conflicts_with_all = ["staged", "range", "branch", "since", "until", "commit_msg"])]
    pub pre_push: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    // Last: its heading then covers only its own options.
    #[command(flatten)]
    pub server: Box<push::ServerArgs>,
}

impl GitArgs {
    /// The path filter of `--path` and the globs after `--`.
    pub fn path_filter(&self) -> anyhow::Result<Option<keyhound::scan::PathFilter>> {
        let all: Vec<String> = self.paths.iter().chain(&self.pathspec).cloned().collect();
        Ok(keyhound::scan::PathFilter::new(&all)?)
    }
}

/// Runs the staged or the history scan.
pub fn run(args: GitArgs) -> anyhow::Result<i32> {
    if args.pre_receive {
        // Builds its own run: the configuration is the server's alone.
        return push::pre_receive(args);
    }
    let run = Run::new(&args.common)?;
    if args.pre_push {
        push::pre_push(args, run)
    } else if args.commit_msg.is_some() {
        commit_msg::run(args, run)
    } else if args.staged {
        staged::run(args, run)
    } else {
        history::run(args, run)
    }
}
