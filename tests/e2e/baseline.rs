//! End-to-end tests: `baseline` (being written).
