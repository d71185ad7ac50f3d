//! Sources of content to scan. Each yields pieces of content with an origin and drives its own
//! parallelism; matching, findings and reports are shared.
//!
//! - [`fs`]: files and directories on disk, and stdin.
//! - [`staged`]: what the next commit adds (the index compared with HEAD), for the pre-commit check.
//! - [`history`]: every blob of a git repository's history, or of a range of commits.

pub mod fs;
pub mod history;
pub mod staged;
