//! One module per subcommand: its arguments and its `run`.

pub mod baseline;
pub mod commit_msg;
pub mod config;
pub mod git;
pub mod history;
pub mod hook;
pub mod revoke;
pub mod rules;
pub mod scan;
pub mod staged;
pub mod verify;
