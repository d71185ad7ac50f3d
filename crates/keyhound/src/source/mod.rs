//! Sources of content to scan. Each enumerates its pieces of content as [`blob::Blob`]s with
//! their [`blob::Origin`] (from which a finding's location is built whole, git blob id
//! included), and drives its own parallelism; matching, findings and reports are shared. A
//! history scan attaches each commit's details and the provenance when it groups findings.
//!
//! - [`blob`]: a blob and its origin.
//!
//! - [`fs`]: files and directories on disk, and stdin.
//! - [`staged`]: what the next commit adds (the index compared with HEAD), for the pre-commit check.
//! - [`history`]: every blob of a git repository's history, or of a range of commits.
//! - [`audit`]: many repositories in one audit, each blob once, incremental, in shards.
//! - [`push`]: what a push adds (the ref updates a pre-receive or pre-push hook is given), and
//!   the quarantine its objects sit in.

pub mod audit;
pub mod blob;
mod collect;
pub mod fs;
pub mod history;
mod object;
pub mod push;
pub mod staged;
