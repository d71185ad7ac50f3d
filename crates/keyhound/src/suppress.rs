//! `.keyhoundignore`: fingerprints of findings a team has triaged, and path globs to leave out.
//!
//! One entry a line; `#` starts a comment. A line of 32 hex digits (as printed in every
//! finding) is a fingerprint; anything else is a gitignore-style glob over paths relative to
//! the scanned root.

use std::collections::HashSet;
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// Fingerprints and path globs to leave out of the results.
#[derive(Debug, Default, Clone)]
pub struct Suppressions {
    fingerprints: HashSet<String>,
    baseline: Vec<crate::baseline::Keys>,
    globs: Option<GlobSet>,
    locations: Vec<IgnoredLocation>,
}

/// A finding left out by where it is: a `.gitleaksignore` entry (`commit:file:rule:line` or
/// `file:rule:line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredLocation {
    /// The commit (lowercase hex), for history findings; `None` matches any.
    pub commit: Option<String>,
    /// The path, relative to the scanned root.
    pub path: String,
    /// The rule id.
    pub rule: String,
    /// The 1-based line.
    pub line: usize,
}

impl IgnoredLocation {
    /// Parses one `.gitleaksignore` line (the path may itself hold `:`; the commit is told by
    /// being 40 or 64 hex digits).
    pub fn parse(line: &str) -> Option<IgnoredLocation> {
        let (rest, n) = line.rsplit_once(':')?;
        let n: usize = n.trim().parse().ok().filter(|&n| n > 0)?;
        let (rest, rule) = rest.rsplit_once(':')?;
        let (commit, path) = match rest.split_once(':') {
            Some((c, p))
                if (c.len() == 40 || c.len() == 64) && c.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                (Some(c.to_ascii_lowercase()), p)
            }
            _ => (None, rest),
        };
        if path.is_empty() || rule.is_empty() {
            return None;
        }
        Some(IgnoredLocation {
            commit,
            path: path.trim_start_matches("./").to_string(),
            rule: rule.to_string(),
            line: n,
        })
    }

    fn matches(&self, rule: &str, path: &str, line: usize, commit: Option<&str>) -> bool {
        self.rule == rule
            && self.line == line
            && self.path == path.trim_start_matches("./")
            && match (&self.commit, commit) {
                (None, _) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (Some(_), None) => false,
            }
    }
}

/// What left a finding out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SuppressedBy {
    /// A fingerprint in the ignore file.
    IgnoreFile,
    /// A fingerprint in the baseline.
    Baseline,
}

impl Suppressions {
    /// Parses the text of an ignore file (`origin` names it in errors).
    pub fn parse(origin: &Path, text: &str) -> Result<Suppressions> {
        let mut fingerprints = HashSet::new();
        let mut builder = GlobSetBuilder::new();
        let mut any_glob = false;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.len() == 32 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
                fingerprints.insert(line.to_ascii_lowercase());
                continue;
            }
            let pattern = line.trim_start_matches('/').trim_end_matches('/');
            let pattern = if line.starts_with('/') || pattern.contains('/') {
                pattern.to_string()
            } else {
                format!("**/{pattern}")
            };
            for p in [pattern.clone(), format!("{pattern}/**")] {
                let glob = Glob::new(&p).map_err(|e| Error::BadFile {
                    path: origin.to_path_buf(),
                    message: format!("line {}: {e}", n + 1),
                })?;
                builder.add(glob);
            }
            any_glob = true;
        }
        let globs = if any_glob {
            Some(builder.build().map_err(|e| Error::BadFile {
                path: origin.to_path_buf(),
                message: e.to_string(),
            })?)
        } else {
            None
        };
        Ok(Suppressions {
            fingerprints,
            baseline: Vec::new(),
            globs,
            locations: Vec::new(),
        })
    }

    /// Reads an ignore file (a regular file of bounded size, see
    /// [`crate::bounded::read_settings_file`]); a missing file means no suppressions.
    pub fn load(path: &Path) -> Result<Suppressions> {
        match crate::bounded::read_settings_file(path) {
            Ok(text) => Suppressions::parse(path, &text),
            Err(e) if crate::bounded::is_not_found(&e) => Ok(Suppressions::default()),
            Err(e) => Err(e),
        }
    }

    /// Adds what a baseline accepts.
    pub fn add_baseline(&mut self, keys: crate::baseline::Keys) {
        if !keys.is_empty() {
            self.baseline.push(keys);
        }
    }

    /// Whether a finding with this fingerprint, rule and secret is left out.
    pub fn ignores(&self, fp: &str, rule_id: &str, secret: &[u8]) -> bool {
        self.suppressed_by(fp, rule_id, secret).is_some()
    }

    /// What leaves a finding out, if anything (the ignore file first): its plain fingerprint
    /// `fp` in the ignore file, or its rule and secret in a baseline.
    pub fn suppressed_by(&self, fp: &str, rule_id: &str, secret: &[u8]) -> Option<SuppressedBy> {
        if self.fingerprints.contains(fp) {
            Some(SuppressedBy::IgnoreFile)
        } else if self.baseline.iter().any(|k| k.accepts(fp, rule_id, secret)) {
            Some(SuppressedBy::Baseline)
        } else {
            None
        }
    }

    /// Adds locations to leave out (from a `.gitleaksignore`).
    pub fn add_locations(&mut self, locations: impl IntoIterator<Item = IgnoredLocation>) {
        self.locations.extend(locations);
    }

    /// Whether a finding of `rule` at `path:line` is left out by location; `commit` is the
    /// commit it was found in, if known (an entry naming a commit needs it).
    pub fn ignores_location(
        &self,
        rule: &str,
        path: &str,
        line: usize,
        commit: Option<&str>,
    ) -> bool {
        self.locations
            .iter()
            .any(|l| l.matches(rule, path, line, commit))
    }

    /// Whether some location entry names a commit (judged once commits are known).
    pub fn has_commit_locations(&self) -> bool {
        self.locations.iter().any(|l| l.commit.is_some())
    }

    /// Whether it lists any path glob.
    pub fn has_globs(&self) -> bool {
        self.globs.is_some()
    }

    /// Whether a path (relative to the scanned root, `/`-separated) is left out.
    pub fn ignores_path(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./");
        self.globs.as_ref().is_some_and(|g| g.is_match(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_and_globs() {
        let s = Suppressions::parse(
            Path::new(".keyhoundignore"),
            "# triaged\n0123456789abcdef0123456789ABCDEF\nvendor/\n*.min.js\n/docs/x.md\n",
        )
        .unwrap();
        assert!(s.ignores("0123456789abcdef0123456789abcdef", "r", b"s"));
        assert!(s.ignores_path("vendor/a/b.rs"));
        assert!(s.ignores_path("./src/vendor/x"));
        assert!(s.ignores_path("web/app.min.js"));
        assert!(s.ignores_path("docs/x.md"));
        assert!(!s.ignores_path("src/docs/x.md"));
        assert!(!s.ignores_path("src/main.rs"));
    }

    #[test]
    fn bad_glob_names_file_and_line() {
        let err = Suppressions::parse(Path::new("ign"), "ok\na[\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ign") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn gitleaks_fingerprints_parse_from_the_right() {
        let c = "a".repeat(40);
        let l = IgnoredLocation::parse(&format!("{c}:dir/a:b.env:some-rule:12")).unwrap();
        assert_eq!(l.commit.as_deref(), Some(c.as_str()));
        assert_eq!(
            (l.path.as_str(), l.rule.as_str(), l.line),
            ("dir/a:b.env", "some-rule", 12)
        );
        let l = IgnoredLocation::parse("./x:y.env:r:3").unwrap();
        assert_eq!((l.commit, l.path.as_str()), (None, "x:y.env"));
        assert!(IgnoredLocation::parse("file:rule:0").is_none());
        assert!(IgnoredLocation::parse("0123456789abcdef0123456789abcdef").is_none());
    }
}
