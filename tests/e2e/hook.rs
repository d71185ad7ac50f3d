//! End-to-end tests: `hook` (being written).
