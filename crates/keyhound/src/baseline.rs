//! Baselines: the findings a team has accepted, so that later scans report only what is new.
//!
//! The file is position-independent (an entry hashes the rule id and the secret only),
//! sorted, and free of timestamps: writing it twice gives identical bytes. Entries are keyed
//! with a salt stored in the file (version 2): a random salt made when the file is first
//! created and kept when it is written again. The salt stops precomputed tables and keeps the
//! same secret from having the same entry in two repositories; it cannot stop someone who has
//! the file from testing guesses of a weak password one by one, so rotate weak secrets rather
//! than baselining them. Version 1 files (entries are the plain fingerprints printed with each
//! finding) are still read.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::finding::Finding;

/// Default file name, at the repository root.
pub const DEFAULT_FILE: &str = ".keyhound-baseline.json";

/// The format version written.
pub(crate) const VERSION: u32 = 2;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// The keyed hash of the rule id and the secret (version 1: the finding's fingerprint).
    pub fingerprint: String,
    /// The rule that found it (for people reading the file).
    pub rule_id: String,
}

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// The salt of the entries, hex (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Accepted findings, sorted by fingerprint.
    pub findings: Vec<Entry>,
}

/// The keyed hash of a baseline entry: the first 16 bytes of SHA-256 over the salt, the rule
/// id and the secret, hex.
pub fn keyed(salt: &str, rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"keyhound-baseline-v2\0");
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(secret);
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random salt (16 bytes, hex). It need not be secret, only different per file.
pub fn new_salt() -> String {
    let mut rng = fastrand::Rng::new();
    (0..16).map(|_| format!("{:02x}", rng.u8(..))).collect()
}

/// What a loaded baseline matches findings with.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    salt: Option<String>,
    entries: HashSet<String>,
}

impl Keys {
    /// Whether the finding of `rule_id` with `secret` (whose plain fingerprint is
    /// `fingerprint`) is accepted.
    pub fn accepts(&self, fingerprint: &str, rule_id: &str, secret: &[u8]) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        match &self.salt {
            Some(salt) => self.entries.contains(&keyed(salt, rule_id, secret)),
            None => self.entries.contains(fingerprint),
        }
    }

    /// Whether it accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Baseline {
    /// A baseline of `findings` (deduplicated and sorted), keyed with `salt` (keep the salt of
    /// an existing file so that writing it again gives the same bytes).
    pub fn from_findings<'a>(
        findings: impl IntoIterator<Item = &'a Finding>,
        salt: String,
    ) -> Baseline {
        let map: BTreeMap<String, String> = findings
            .into_iter()
            .map(|f| {
                (
                    keyed(&salt, &f.rule_id, f.secret.as_bytes()),
                    f.rule_id.clone(),
                )
            })
            .collect();
        Baseline {
            version: VERSION,
            salt: Some(salt),
            findings: map
                .into_iter()
                .map(|(fingerprint, rule_id)| Entry {
                    fingerprint,
                    rule_id,
                })
                .collect(),
        }
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a baseline always serializes");
        s.push('\n');
        s
    }

    /// Reads a baseline file (a regular file of bounded size, see
    /// [`crate::bounded::read_settings_file`]).
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = crate::bounded::read_settings_file(path)?;
        Baseline::parse(path, &text)
    }

    /// Parses the text of a baseline file (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Baseline> {
        let bad = |message: String| Error::BadFile {
            path: path.to_path_buf(),
            message,
        };
        let b: Baseline =
            serde_json::from_str(text).map_err(|e| bad(format!("not a keyhound baseline: {e}")))?;
        match (b.version, &b.salt) {
            (1, _) => {}
            (2, Some(s)) if !s.is_empty() => {}
            (2, _) => return Err(bad("a version 2 baseline needs its `salt`".into())),
            (v, _) => {
                return Err(bad(format!(
                    "baseline version {v} is not supported (1 and 2 are)"
                )))
            }
        }
        Ok(b)
    }

    /// Writes the file (atomically; never through a symbolic link: see [`crate::atomic`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::atomic::write(path, self.to_text().as_bytes())
    }

    /// What findings are matched with.
    pub fn keys(&self) -> Keys {
        Keys {
            salt: if self.version >= 2 {
                self.salt.clone()
            } else {
                None
            },
            entries: self
                .findings
                .iter()
                .map(|e| e.fingerprint.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::fingerprint;
    use crate::report::tests_support::sample;

    #[test]
    fn sorted_deduplicated_and_stable() {
        let mut a = sample();
        a.secret = "one-secret-value".into();
        let mut b = sample();
        b.secret = "another-secret".into();
        let salt = new_salt();
        let one = Baseline::from_findings([&a, &b, &a], salt.clone()).to_text();
        let two = Baseline::from_findings([&b, &a], salt.clone()).to_text();
        assert_eq!(one, two);
        let parsed = Baseline::parse(Path::new("b.json"), &one).unwrap();
        assert_eq!(parsed.findings.len(), 2);
        assert!(parsed.findings[0].fingerprint < parsed.findings[1].fingerprint);
        let keys = parsed.keys();
        assert!(keys.accepts("x", &a.rule_id, a.secret.as_bytes()));
        assert!(!keys.accepts("x", &a.rule_id, b"some other secret"));
    }

    #[test]
    fn entries_are_salted_and_not_the_printed_fingerprint() {
        let mut a = sample();
        a.secret = "hunter22".into();
        let (s1, s2) = (new_salt(), new_salt());
        assert_ne!(s1, s2);
        let b1 = Baseline::from_findings([&a], s1);
        let b2 = Baseline::from_findings([&a], s2);
        assert_ne!(b1.findings[0].fingerprint, b2.findings[0].fingerprint);
        let plain = fingerprint(&a.rule_id, a.secret.as_bytes());
        assert_ne!(b1.findings[0].fingerprint, plain);
        assert!(!b1.to_text().contains(&plain));
    }

    #[test]
    fn version_one_files_still_match_plain_fingerprints() {
        let text = r#"{"version": 1, "findings": [{"fingerprint": "00112233445566778899aabbccddeeff", "rule_id": "r"}]}"#;
        let keys = Baseline::parse(Path::new("b.json"), text).unwrap().keys();
        assert!(keys.accepts("00112233445566778899aabbccddeeff", "r", b"whatever"));
        let err = Baseline::parse(Path::new("b.json"), r#"{"version": 2, "findings": []}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("salt"), "{err}");
    }

    #[test]
    fn bad_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        std::fs::write(&p, "{").unwrap();
        let err = Baseline::load(&p).unwrap_err().to_string();
        assert!(
            err.contains("b.json") && err.contains("not a keyhound baseline"),
            "{err}"
        );
    }
}
