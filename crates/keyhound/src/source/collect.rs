//! What every source's worker threads share: one thread-pool builder, and the per-thread
//! [`Collector`] that tallies each scanned blob (scanned, bytes, binary, what the configuration
//! removed, what was not read whole, notes) and keeps its explanations, merged once per thread.
//! Enumeration, reading and the shape of the threads stay each source's own.

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::scan::{ContentResult, Explanation, Stats};

/// The per-thread tally of a scan: counts and explanations. Findings are handed back to the
/// source, which keeps them with what it knows of where they sit.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    /// Counts, incomplete entries, notes and errors.
    pub(crate) stats: Stats,
    /// Dropped candidates (with `explain`).
    pub(crate) explanations: Vec<Explanation>,
}

impl Collector {
    /// Counts one scanned blob of `bytes` with what its scan found, keeps its explanations,
    /// and returns its findings.
    pub(crate) fn scanned(&mut self, bytes: usize, mut result: ContentResult) -> Vec<Finding> {
        self.stats.add_content(bytes, &mut result);
        self.explanations.append(&mut result.explanations);
        result.findings
    }

    /// Adds what another thread collected.
    pub(crate) fn merge(&mut self, other: Collector) {
        self.stats.merge(other.stats);
        self.explanations.extend(other.explanations);
    }
}

/// A pool of `threads` worker threads (0: one per core).
pub(crate) fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Threads {
            message: e.to_string(),
        })
}
