//! What an audit of many repositories has already scanned: each (blob id, path) once per
//! audit, however many repositories hold it. A fork or a mirror holds the same blobs at the
//! same paths, so its history costs an enumeration, not a second scan.
//!
//! The key is the blob *and* the path it is first seen at in its repository, not the blob
//! alone: a scan's result can depend on the path (path allowlists, test-material evidence,
//! file kinds). With the path in the key, each repository's result is exactly what scanning it
//! alone gives, whichever repository (or shard) met the blob first.
//!
//! Memory is bounded: at most [`Seen::DEFAULT_LIMIT`] entries (about 64 bytes each) are held;
//! past that, new blobs are still scanned and recorded for a state, only not reused within
//! this audit. A blob that scanned clean is kept as its size and two flags; one that produced findings or
//! allowlist removals keeps its whole result, to be replayed. Results that were not complete or
//! carry notes are not kept (they are scanned again). Only clean entries are written to an
//! audit's state (see [`super::state`]): a state never holds a secret.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use git2::Oid;
use sha2::{Digest, Sha256};

use crate::scan::ContentResult;
use crate::source::history::oid::{IdHasher, OidKey};

/// A blob id and the hash of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub(crate) id: OidKey,
    pub(crate) path: u64,
}

impl Key {
    pub(crate) fn new(id: Oid, path: &[u8]) -> Key {
        let digest = Sha256::digest(path);
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        Key {
            id: OidKey::from(id),
            path: u64::from_le_bytes(head),
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.id.0[..8]);
        state.write_u64(u64::from_le_bytes(head) ^ self.path);
    }
}

/// What scanning one (blob, path) gave.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// Nothing found, nothing removed.
    Clean(Clean),
    /// Findings or removals: the whole result, replayed for the next repository.
    Held(Arc<(Clean, ContentResult)>),
}

/// The counts a clean blob adds to a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clean {
    pub(crate) size: u64,
    pub(crate) binary: bool,
    pub(crate) lfs_pointer: bool,
}

/// The (blob, path) pairs an audit has scanned, shared by the repositories of one audit.
#[derive(Debug, Default)]
pub struct Seen {
    map: Mutex<HashMap<Key, Entry, BuildHasherDefault<IdHasher>>>,
    /// Clean entries added by scans since the last [`Seen::take_fresh`].
    fresh: Mutex<Vec<(Key, Clean)>>,
    reused: AtomicU64,
    scanned: AtomicU64,
    /// Most entries held (0: [`Seen::DEFAULT_LIMIT`]).
    limit: usize,
}

impl Seen {
    /// How many entries a [`Seen`] holds at most by default (about 256 MB).
    pub const DEFAULT_LIMIT: usize = 4_000_000;

    /// Nothing seen yet.
    pub fn new() -> Seen {
        Seen::default()
    }

    /// Nothing seen yet; holds at most `limit` entries.
    pub fn with_limit(limit: usize) -> Seen {
        Seen {
            limit: limit.max(1),
            ..Seen::default()
        }
    }

    fn limit(&self) -> usize {
        if self.limit == 0 {
            Seen::DEFAULT_LIMIT
        } else {
            self.limit
        }
    }

    /// Blob scans saved: blobs a repository holds that an earlier one (or an earlier audit,
    /// through its state) had scanned.
    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    /// Blobs read and scanned.
    pub fn scanned(&self) -> u64 {
        self.scanned.load(Ordering::Relaxed)
    }

    /// Entries held (clean or not).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry, BuildHasherDefault<IdHasher>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What scanning `key` gave, if it was scanned.
    pub(crate) fn get(&self, key: &Key) -> Option<Entry> {
        let found = self.lock().get(key).cloned();
        if found.is_some() {
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Records what scanning `key` gave (results that are not complete are not kept).
    pub(crate) fn put(&self, key: Key, clean: Clean, result: &ContentResult) {
        self.scanned.fetch_add(1, Ordering::Relaxed);
        if !result.incomplete.is_empty()
            || !result.notes.is_empty()
            || !result.explanations.is_empty()
        {
            return;
        }
        let entry = if result.findings.is_empty() && result.removed == Default::default() {
            self.fresh
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((key, clean));
            Entry::Clean(clean)
        } else {
            Entry::Held(Arc::new((clean, result.clone())))
        };
        let limit = self.limit();
        let mut map = self.lock();
        if map.len() < limit {
            map.insert(key, entry);
        }
    }

    /// Adds a clean entry read from a state (none past the limit).
    pub(crate) fn insert_clean(&self, key: Key, clean: Clean) {
        let limit = self.limit();
        let mut map = self.lock();
        if map.len() < limit {
            map.entry(key).or_insert(Entry::Clean(clean));
        }
    }

    /// The clean entries scans added since the last call, sorted (for a state file).
    pub(crate) fn take_fresh(&self) -> Vec<(Key, Clean)> {
        let mut v = std::mem::take(&mut *self.fresh.lock().unwrap_or_else(|p| p.into_inner()));
        v.sort_by_key(|(k, _)| *k);
        v
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_blobs_are_recorded_for_the_state_but_not_held() {
        let seen = Seen::with_limit(2);
        let clean = Clean {
            size: 3,
            binary: false,
            lfs_pointer: false,
        };
        let keys: Vec<Key> = (0u8..3)
            .map(|i| Key::new(Oid::from_bytes(&[i; 20]).unwrap(), b"a.txt"))
            .collect();
        for k in &keys {
            seen.put(*k, clean, &ContentResult::default());
        }
        assert_eq!(seen.len(), 2);
        assert!(seen.get(&keys[2]).is_none());
        assert!(matches!(seen.get(&keys[0]), Some(Entry::Clean(_))));
        assert_eq!(
            seen.take_fresh().len(),
            3,
            "the state still learns of all three"
        );
        assert_eq!((seen.scanned(), seen.reused()), (3, 1));
        // The path is part of the key.
        let other_path = Key::new(Oid::from_bytes(&[0; 20]).unwrap(), b"b.txt");
        assert!(seen.get(&other_path).is_none());
    }
}
