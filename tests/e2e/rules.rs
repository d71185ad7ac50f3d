//! End-to-end tests: `keyhound rules list|check`.
