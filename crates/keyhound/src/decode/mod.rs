//! What is nested inside content: archives, notebooks and encoded strings (being written).

use crate::matcher::Matcher;
use crate::scan::{ContentResult, Scanner};

/// Scans what is nested in `content` and adds the findings to `result`.
pub(crate) fn scan_nested(
    _scanner: &Scanner,
    _matcher: &mut Matcher<'_>,
    _path: &str,
    _content: &[u8],
    _result: &mut ContentResult,
) {
}
