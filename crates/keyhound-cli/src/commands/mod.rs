//! One module per subcommand: its arguments and its `run`.

pub mod audit;
pub mod baseline;
pub mod config;
pub mod git;
pub mod hook;
pub mod merge;
pub mod revoke;
pub mod rules;
pub mod scan;
pub mod verify;
