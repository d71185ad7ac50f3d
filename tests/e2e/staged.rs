//! End-to-end tests: `staged` (being written).
