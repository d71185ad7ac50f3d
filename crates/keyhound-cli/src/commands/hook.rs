//! `keyhound hook` (being written).

/// Arguments of `keyhound hook`.
#[derive(Debug, clap::Args)]
pub struct HookArgs {}

pub fn run(_args: HookArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`keyhound hook` is not available yet")
}
