//! Shards: a deterministic part of an audit's repository list, so that an engine that runs N
//! jobs (a CI matrix, a Kubernetes Indexed Job) can split one audit. A repository belongs to
//! shard `hash(name) mod N`: it depends only on its own name and N, so adding a repository to
//! the list moves no other.

use sha2::{Digest, Sha256};

use super::AuditError;

/// Shard `index` of `count` (0-based, as `JOB_COMPLETION_INDEX` is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl Shard {
    /// The whole list.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; an index outside `0..count` or a count of 0 is an error.
    pub fn new(index: u32, count: u32) -> Result<Shard, AuditError> {
        if count == 0 || index >= count {
            return Err(AuditError::Shard {
                spec: format!("{index}/{count}"),
                why: if count == 0 {
                    "the number of shards must be at least 1".into()
                } else {
                    format!("the index must be below {count} (indexes count from 0)")
                },
            });
        }
        Ok(Shard { index, count })
    }

    /// Parses `I/N`.
    pub fn parse(spec: &str) -> Result<Shard, AuditError> {
        let bad = |why: &str| AuditError::Shard {
            spec: spec.to_string(),
            why: why.to_string(),
        };
        let (i, n) = spec
            .trim()
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, such as 0/4"))?;
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| bad("the index is not a number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad("the count is not a number"))?;
        Shard::new(i, n)
    }

    /// Whether the repository named `name` is in this shard.
    pub fn takes(&self, name: &str) -> bool {
        self.count <= 1 || slot(name, self.count) == self.index
    }

    /// Whether the blob with this id is in this part of the blob-id space (a split of one
    /// repository): the id's first four bytes, as a number, scaled to `count` parts.
    pub fn takes_blob(&self, id: &[u8]) -> bool {
        if self.count <= 1 {
            return true;
        }
        let mut head = [0u8; 4];
        let n = id.len().min(4);
        head[..n].copy_from_slice(&id[..n]);
        let part = (u64::from(u32::from_be_bytes(head)) * u64::from(self.count)) >> 32;
        part == u64::from(self.index)
    }

    /// Whether this is the whole list.
    pub fn is_all(&self) -> bool {
        self.count <= 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of `name` among `count`.
fn slot(name: &str, count: u32) -> u32 {
    let digest = Sha256::digest(name.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(head) % u64::from(count)) as u32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_repository_is_in_exactly_one_shard() {
        let names: Vec<String> = (0..500).map(|i| format!("/srv/git/repo-{i}.git")).collect();
        for n in [1u32, 2, 3, 7] {
            let mut sizes = vec![0usize; n as usize];
            for name in &names {
                let owners: Vec<u32> = (0..n)
                    .filter(|&i| Shard::new(i, n).unwrap().takes(name))
                    .collect();
                assert_eq!(owners.len(), 1, "{name} in {owners:?} of {n}");
                sizes[owners[0] as usize] += 1;
            }
            // Roughly even: no shard holds more than twice its share.
            assert!(
                sizes.iter().all(|&s| s * n as usize <= 2 * names.len()),
                "{sizes:?}"
            );
        }
    }

    #[test]
    fn bad_specs_are_clear_errors() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for (spec, words) in [
            ("4/4", "below 4"),
            ("0/0", "at least 1"),
            ("x/4", "not a number"),
            ("3", "expected I/N"),
        ] {
            let e = Shard::parse(spec).unwrap_err().to_string();
            assert!(e.contains(words) && e.contains(spec), "{spec}: {e}");
        }
    }
}
