//! The exit codes of `keyhound`, and how a run's results choose one.

/// Nothing found.
pub const EXIT_CLEAN: i32 = 0;
/// Findings.
pub const EXIT_FOUND: i32 = 1;
/// Error (bad config, unreadable root, errors during the scan).
pub const EXIT_ERROR: i32 = 2;
/// Incomplete: something asked for could not be read whole (and `--on-incomplete` is `fail`).
pub const EXIT_INCOMPLETE: i32 = 3;

/// 2 if anything failed along the way, else 1 if anything was found, else 3 if something
/// could not be read whole (under `--on-incomplete fail`), else 0.
pub fn exit_code(findings: usize, errors: usize, incomplete: usize) -> i32 {
    if errors > 0 {
        EXIT_ERROR
    } else if findings > 0 {
        EXIT_FOUND
    } else if incomplete > 0 {
        EXIT_INCOMPLETE
    } else {
        EXIT_CLEAN
    }
}
