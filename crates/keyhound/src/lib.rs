//! keyhound finds OpenAI-style API keys, and the other credentials that leak beside them, in
//! bytes, files and git history.
//!
//! Data flows one way: a source (files, history, the staged index, a push) yields each piece of content
//! as a [`Blob`] with its [`Origin`] (a file, stdin, a git blob at a path of a commit, an index
//! entry; archive members, notebook cells and decoded layers are child origins of the blob they
//! sit in) → a [`Scanner`] runs a per-thread [`matcher::Matcher`] over it (keyword prefilter, then the candidate rules'
//! regexes, then entropy, placeholder and allowlist checks) → matches become [`Finding`]s with
//! line, column and a position-independent fingerprint → a reporter writes them.
//!
//! ```
//! use keyhound::{RuleSet, Scanner};
//!
//! let scanner = Scanner::new(RuleSet::builtin()?);
//! let key = format!("sk-proj-{}T3BlbkFJ{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5jK7mN9pQ1sT3vW5yZ7bC9dF1gH3jK5mN",
//!                                          "Zy8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE8dC6bA4zY2xW0vU8tS6rQ4pO2nM0lK8jI6hG4f");
//! let text = format!("OPENAI_API_KEY={key}\n");
//! let mut matcher = scanner.matcher();
//! let found = scanner.scan_content(&mut matcher, ".env", text.as_bytes()).findings;
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].location().line, 1);
//! # Ok::<(), keyhound::Error>(())
//! ```
#![deny(missing_docs)]

// The public surface: the scanner and its options, rules, findings and their locations, blobs
// and origins, the sources (files, history, staged changes) with their options, reports and
// formats, baselines and suppressions, verification and revocation, and errors. The file helpers
// (`atomic`, `bounded`) and history purging are public because keyhound's CLI and other tools
// that write its files share them. The engine's stages (decoding, matching) are private:
// their contracts are tested inside the crate and may change.
pub mod atomic;
pub mod baseline;
pub mod bounded;
mod decode;
pub mod error;
pub mod evidence;
pub mod finding;
mod matcher;
mod names;
pub mod purge;
pub mod report;
pub mod revoke;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod verify;

pub use error::{Error, ItemError, Result, Revision};
pub use evidence::{Confidence, Fixture};
pub use finding::{Finding, Location};
pub use matcher::{Matcher, RuleCost};
pub use rules::{Rule, RuleSet};
pub use scan::{
    ContentResult, Incomplete, OnIncomplete, ScanBudget, ScanOptions, Scanner, Stats, Unread,
};
pub use source::blob::{Blob, Origin};
