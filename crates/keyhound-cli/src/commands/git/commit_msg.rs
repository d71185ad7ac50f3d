//! `keyhound git --commit-msg FILE`: the commit-msg hook's check. Scans the message of the
//! commit being made (the file git passes the hook) and, when it holds a key, says what to do.
//!
//! What is scanned is what the commit will keep: the lines git strips are left out (comment
//! lines, and everything from `git commit -v`'s scissors line on, which is the diff — the
//! pre-commit check has seen that already).

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use keyhound::report::Format;
use keyhound::scan::Stats;

use super::GitArgs;
use crate::config::Base;
use crate::exit::EXIT_ERROR;
use crate::run::{Configured, Outcome, Run};

/// The largest message file read (a message is text a person wrote or pasted).
const MAX_MESSAGE: u64 = 8 << 20;

/// The scissors line of `git commit -v` (with `#` as the comment character).
const SCISSORS: &str = "# ------------------------ >8 ------------------------";

/// Runs the check.
pub fn run(args: GitArgs, run: Run) -> anyhow::Result<i32> {
    let file = args
        .commit_msg
        .as_deref()
        .context("internal: --commit-msg without a file")?;
    let message = read_message(file)?;
    let kept = kept_text(&message);
    let repo = git2::Repository::open_from_env().ok();
    let root = repo
        .as_ref()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let Configured { scanner, used } = run.setup().configure(&Base::WorkTree(&root))?;
    let mut matcher = scanner.matcher();
    let mut result = scanner.scan_content(
        &mut matcher,
        "message of the commit being made",
        kept.as_bytes(),
    );
    let mut stats = Stats::default();
    stats.add_content(kept.len(), &mut result);
    let blocking = run.blocking(&result.findings);
    let scanned = (result.findings, stats, result.explanations);
    let code = run.finish(Outcome::new(
        &run,
        &scanner,
        scanned,
        used,
        "commit messages",
    ))?;
    if blocking > 0 && code != EXIT_ERROR && run.format() == Format::Human {
        eprint!("{}", advice(blocking));
    }
    Ok(code)
}

fn read_message(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_MESSAGE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_MESSAGE {
        anyhow::bail!(
            "{}: a commit message over {} MiB was not scanned",
            path.display(),
            MAX_MESSAGE >> 20
        );
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The message as git keeps it by default: comment lines dropped, nothing after the scissors
/// line. Dropped lines become empty lines, so line numbers stay those of the file.
fn kept_text(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for line in message.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == SCISSORS {
            break;
        }
        if bare.starts_with('#') {
            out.push_str(&line[bare.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn advice(n: usize) -> String {
    let what = if n == 1 {
        "a secret".to_string()
    } else {
        format!("{n} secrets")
    };
    format!(
        "keyhound: this commit's message holds {what}. What to do:\n\
         \x20 1. Take the key out of the message (your editor still has it: git saved it in\n\
         \x20    .git/COMMIT_EDITMSG), then commit again.\n\
         \x20 2. If the key was ever pushed or shared, treat it as leaked: revoke it at the provider\n\
         \x20    and rotate it.\n\
         \x20 3. Only as a last resort: `git commit --no-verify` skips this check.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_the_diff_are_not_the_message() {
        let msg = format!("fix it\n\n# Please enter the commit message\nbody\n{SCISSORS}\n# Do not modify\ndiff --git a/x b/x\n+KEY=abc\n");
        let kept = kept_text(&msg);
        assert_eq!(kept, "fix it\n\n\nbody\n");
        assert_eq!(kept.lines().count(), 4);
    }
}
