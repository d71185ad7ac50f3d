//! `keyhound git` (history part; being written).

use super::git::GitArgs;

/// Runs the history scan.
pub fn run(_args: GitArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this part of `keyhound git` is not available yet")
}
