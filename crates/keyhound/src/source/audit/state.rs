//! An audit's state directory, for incremental audits: what earlier audits scanned, so that
//! the next one scans only what is new. It holds hashes and positions, never a secret:
//!
//! - `state.json`: the format and the [fingerprint](super::fingerprint) of the settings it
//!   was made with. A state of another format or fingerprint is emptied (everything is scanned
//!   again), with a note; it is never trusted across settings.
//! - `repos/<hash of name>.json`: per repository, its tips (refs and HEAD) and its part of
//!   the report, *redacted*. A repository whose tips did not change is not walked again; its
//!   part is reused.
//! - `seen/<hash of name>.bin`: (blob id, path hash, size, flags) of the blobs that scanned
//!   clean in that repository, fixed-size records after a one-line header. A blob that held a
//!   finding is not recorded, so it is scanned again whenever its repository is.
//!
//! Every file is written whole to a temporary file and renamed, the seen file before the part
//! that marks the repository done: an interrupted audit resumes with the repositories done.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::seen::{Clean, Key, Seen};
use super::{AuditError, AuditReport};
use crate::source::history::oid::OidKey;

const FORMAT: u32 = 1;
const SEEN_HEADER: &[u8] = b"keyhound-seen 1\n";
const RECORD: usize = 20 + 8 + 8 + 1;

/// An open state directory.
#[derive(Debug)]
pub struct State {
    dir: PathBuf,
    fingerprint: String,
}

/// A repository's entry in the state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredPart {
    /// Its name in the list.
    pub name: String,
    /// Its refs and HEAD when it was scanned.
    pub tips: Vec<(String, String)>,
    /// Its part of the report, redacted.
    pub report: AuditReport,
    /// The part of its blobs scanned (`I/N` of a blob-range shard), if not all.
    #[serde(default)]
    pub blobs: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    fingerprint: String,
    keyhound: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn atomic(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    crate::atomic::write(path, bytes).map_err(|e| AuditError::State {
        path: path.to_path_buf(),
        why: e.to_string(),
    })
}

/// The file name for a repository's entries.
fn stem(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl State {
    /// Opens (or creates) the state at `dir` for settings of `fingerprint`. A state made with
    /// other settings or another format is emptied, and the returned note says so.
    pub fn open(dir: &Path, fingerprint: &str) -> Result<(State, Option<String>), AuditError> {
        for d in [dir.to_path_buf(), dir.join("repos"), dir.join("seen")] {
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let state = State {
            dir: dir.to_path_buf(),
            fingerprint: fingerprint.to_string(),
        };
        let header_path = dir.join("state.json");
        let note = match std::fs::read(&header_path) {
            Ok(bytes) => match serde_json::from_slice::<Header>(&bytes) {
                Ok(h) if h.format == FORMAT && h.fingerprint == fingerprint => None,
                Ok(h) if h.format == FORMAT => Some(format!(
                    "the state in {} was made with other rules, configuration or keyhound version (keyhound {}): everything is scanned again",
                    dir.display(),
                    h.keyhound
                )),
                _ => Some(format!(
                    "the state in {} is of another format: everything is scanned again",
                    dir.display()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&header_path)(e)),
        };
        if note.is_some() {
            for sub in ["repos", "seen"] {
                let d = dir.join(sub);
                for e in std::fs::read_dir(&d).map_err(io(&d))?.flatten() {
                    let p = e.path();
                    std::fs::remove_file(&p).map_err(io(&p))?;
                }
            }
        }
        let header = Header {
            format: FORMAT,
            fingerprint: fingerprint.to_string(),
            keyhound: env!("CARGO_PKG_VERSION").to_string(),
        };
        let bytes = serde_json::to_vec_pretty(&header).map_err(|e| AuditError::State {
            path: header_path.clone(),
            why: e.to_string(),
        })?;
        atomic(&header_path, &bytes)?;
        Ok((state, note))
    }

    fn part_path(&self, name: &str) -> PathBuf {
        self.dir.join("repos").join(format!("{}.json", stem(name)))
    }

    fn seen_path(&self, name: &str) -> PathBuf {
        self.dir.join("seen").join(format!("{}.bin", stem(name)))
    }

    /// Adds every clean blob the state records to `seen`; returns how many. A seen file that
    /// cannot be used is skipped (its blobs are scanned again) and named in the returned
    /// notes.
    pub fn load_seen(&self, seen: &Seen) -> (usize, Vec<String>) {
        let mut n = 0;
        let mut notes = Vec::new();
        let dir = self.dir.join("seen");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return (0, notes);
        };
        for e in entries.flatten() {
            let path = e.path();
            match read_seen(&path) {
                Ok(records) => {
                    n += records.len();
                    for (k, c) in records {
                        seen.insert_clean(k, c);
                    }
                }
                Err(why) => notes.push(format!(
                    "{}: {why}; its blobs are scanned again",
                    path.display()
                )),
            }
        }
        (n, notes)
    }

    /// The stored part of repository `name` for `blobs` (the blob-range shard scanned, if not
    /// all), if there is a usable one.
    pub fn part(&self, name: &str, blobs: Option<&str>) -> Option<StoredPart> {
        let bytes = std::fs::read(self.part_path(name)).ok()?;
        let part: StoredPart = serde_json::from_slice(&bytes).ok()?;
        (part.name == name
            && part.blobs.as_deref() == blobs
            && part.report.summary.redacted
            && part.report.summary.fingerprint == self.fingerprint)
            .then_some(part)
    }

    /// Records repository `name` done: the clean blobs `seen` gained since the last call
    /// (added to those recorded for it before), then its tips and its part of the report
    /// (`report`, as the scan made it: it is redacted here) for `blobs` (the blob-range shard
    /// scanned, if not all).
    pub fn save(
        &self,
        name: &str,
        blobs: Option<&str>,
        tips: Vec<(String, String)>,
        report: &AuditReport,
        seen: &Seen,
    ) -> Result<(), AuditError> {
        let seen_path = self.seen_path(name);
        let mut records = read_seen(&seen_path).unwrap_or_default();
        records.extend(seen.take_fresh());
        records.sort_by_key(|(k, _)| *k);
        records.dedup_by_key(|(k, _)| *k);
        let mut bytes = Vec::with_capacity(SEEN_HEADER.len() + records.len() * RECORD);
        bytes.extend_from_slice(SEEN_HEADER);
        for (k, c) in &records {
            bytes.extend_from_slice(&k.id.0);
            bytes.extend_from_slice(&k.path.to_le_bytes());
            bytes.extend_from_slice(&c.size.to_le_bytes());
            bytes.push(u8::from(c.binary) | (u8::from(c.lfs_pointer) << 1));
        }
        atomic(&seen_path, &bytes)?;

        let mut report = report.clone();
        if !report.summary.redacted {
            report.findings = report
                .findings
                .iter()
                .map(crate::report::redacted)
                .collect();
            report.summary.redacted = true;
        }
        report.summary.fingerprint = self.fingerprint.clone();
        let part = StoredPart {
            name: name.to_string(),
            tips,
            report,
            blobs: blobs.map(str::to_string),
        };
        let path = self.part_path(name);
        let bytes = serde_json::to_vec(&part).map_err(|e| AuditError::State {
            path: path.clone(),
            why: e.to_string(),
        })?;
        atomic(&path, &bytes)
    }
}

fn read_seen(path: &Path) -> Result<Vec<(Key, Clean)>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let body = bytes
        .strip_prefix(SEEN_HEADER)
        .ok_or("not a keyhound seen file")?;
    if body.len() % RECORD != 0 {
        return Err("cut short".into());
    }
    Ok(body
        .chunks_exact(RECORD)
        .map(|r| {
            let mut id = [0u8; 20];
            id.copy_from_slice(&r[..20]);
            let mut path = [0u8; 8];
            path.copy_from_slice(&r[20..28]);
            let mut size = [0u8; 8];
            size.copy_from_slice(&r[28..36]);
            (
                Key {
                    id: OidKey(id),
                    path: u64::from_le_bytes(path),
                },
                Clean {
                    size: u64::from_le_bytes(size),
                    binary: r[36] & 1 != 0,
                    lfs_pointer: r[36] & 2 != 0,
                },
            )
        })
        .collect())
}
