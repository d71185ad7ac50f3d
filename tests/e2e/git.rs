//! End-to-end tests: `git` (being written).
