//! End-to-end tests: `keyhound scan`.
