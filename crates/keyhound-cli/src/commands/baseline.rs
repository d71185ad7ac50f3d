//! `keyhound baseline` (being written).

/// Arguments of `keyhound baseline`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {}

pub fn run(_args: BaselineArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`keyhound baseline` is not available yet")
}
