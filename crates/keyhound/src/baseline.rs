//! Baselines: the fingerprints of findings a team has accepted, so that later scans report
//! only what is new. The file is position-independent (fingerprints hash the rule id and the
//! secret only), sorted, and free of timestamps: writing it twice gives identical bytes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::Finding;

/// Default file name, at the repository root.
pub const DEFAULT_FILE: &str = ".keyhound-baseline.json";

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The rule that found it (for people reading the file).
    pub rule_id: String,
}

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// Accepted findings, sorted by fingerprint.
    pub findings: Vec<Entry>,
}

impl Baseline {
    /// A baseline of `findings` (deduplicated and sorted).
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        let map: BTreeMap<String, String> = findings
            .into_iter()
            .map(|f| (f.fingerprint.clone(), f.rule_id.clone()))
            .collect();
        Baseline {
            version: 1,
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
        let b: Baseline = serde_json::from_str(&text).map_err(|e| Error::BadFile {
            path: path.to_path_buf(),
            message: format!("not a keyhound baseline: {e}"),
        })?;
        if b.version != 1 {
            return Err(Error::BadFile {
                path: path.to_path_buf(),
                message: format!("baseline version {} is not supported (1 is)", b.version),
            });
        }
        Ok(b)
    }

    /// Writes the file.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_text()).map_err(|e| Error::io(path, e))
    }

    /// The fingerprints.
    pub fn fingerprints(&self) -> impl Iterator<Item = String> + '_ {
        self.findings.iter().map(|e| e.fingerprint.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests_support::sample;

    #[test]
    fn sorted_deduplicated_and_stable() {
        let mut a = sample();
        a.fingerprint = "ff".into();
        let mut b = sample();
        b.fingerprint = "0a".into();
        let one = Baseline::from_findings([&a, &b, &a]).to_text();
        let two = Baseline::from_findings([&b, &a]).to_text();
        assert_eq!(one, two);
        let parsed: Baseline = serde_json::from_str(&one).unwrap();
        assert_eq!(parsed.findings.len(), 2);
        assert_eq!(parsed.findings[0].fingerprint, "0a");
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
