//! Sources of content to scan. Each enumerates its pieces of content, names each by the path it
//! is reported under (git sources add the blob, commit and provenance to the findings), and
//! drives its own parallelism; matching, findings and reports are shared.
//!
//! - [`fs`]: files and directories on disk, and stdin.
//! - [`staged`]: what the next commit adds (the index compared with HEAD), for the pre-commit check.
//! - [`history`]: every blob of a git repository's history, or of a range of commits.

pub mod fs;
pub mod history;
pub mod staged;
