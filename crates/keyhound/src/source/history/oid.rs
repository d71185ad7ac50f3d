//! The compact types the history walk keeps per object: [`OidKey`] (an object id as a plain
//! array) with its pass-through hasher and maps, the [`Interner`] for paths, and [`Origin`], the
//! (commit, directory, name) where a blob was first seen. They hold no logic of the walk.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use git2::Oid;

/// Where a blob was first seen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    /// Index into the walk's commits, or [`NO_COMMIT`] for a ref that names a tree or blob.
    pub(crate) commit: u32,
    /// Interned directory path.
    pub(crate) dir: u32,
    /// Interned file name.
    pub(crate) name: u32,
}

pub(crate) const NO_COMMIT: u32 = u32::MAX;

/// A SHA-1 object id as a plain array: hashing and comparing it needs no call into libgit2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OidKey(pub(crate) [u8; 20]);

impl OidKey {
    pub(crate) fn oid(self) -> Oid {
        Oid::from_bytes(&self.0).expect("20 bytes make an object id")
    }
}

impl From<Oid> for OidKey {
    fn from(id: Oid) -> Self {
        let mut k = [0u8; 20];
        let b = id.as_bytes();
        k[..b.len().min(20)].copy_from_slice(&b[..b.len().min(20)]);
        OidKey(k)
    }
}

impl Hash for OidKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Object ids are uniformly distributed already: eight of their bytes are a hash.
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

/// The hasher for [`OidKey`]: it takes the eight bytes given and does nothing else.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type OidHash = BuildHasherDefault<IdHasher>;
pub(crate) type OidMap<V> = HashMap<OidKey, V, OidHash>;
pub(crate) type OidSet = HashSet<OidKey, OidHash>;

/// Byte strings stored once each, named by a number.
#[derive(Debug)]
pub(crate) struct Interner {
    ids: HashMap<Box<[u8]>, u32>,
    strings: Vec<Box<[u8]>>,
}

impl Default for Interner {
    fn default() -> Self {
        // Id 0 is the empty string (the root directory).
        let mut i = Interner {
            ids: HashMap::new(),
            strings: Vec::new(),
        };
        i.intern(b"");
        i
    }
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &[u8] {
        &self.strings[id as usize]
    }
}
