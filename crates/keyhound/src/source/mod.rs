//! Sources of content to scan. Each yields pieces of content with an origin and drives its own
//! parallelism; matching, findings and reports are shared.
//!
//! - [`fs`]: files and directories on disk, and stdin.

pub mod fs;
