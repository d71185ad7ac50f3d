//! Writing the files keyhound owns (baselines, reports, state): into a temporary file in the
//! destination's directory, then renamed over the destination, so that a reader never sees
//! half a file and a crash leaves the old one in place.
//!
//! The destination must be a regular file or absent. A symbolic link (a cloned repository can
//! plant `.keyhound-baseline.json -> .git/hooks/pre-commit`), a directory, a FIFO or a device
//! is refused with an error naming it; keyhound never writes through a link. The rename
//! replaces the directory entry itself, so a link swapped in after the check is replaced, not
//! followed.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written; nothing appears at its destination until [`AtomicFile::commit`].
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

/// Checks that `dest` is a regular file or does not exist.
fn check_destination(dest: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) => {
            let what = if m.file_type().is_symlink() {
                "a symbolic link"
            } else if m.is_dir() {
                "a directory"
            } else {
                "not a regular file"
            };
            Err(Error::BadFile {
                path: dest.to_path_buf(),
                message: format!("{what}; keyhound writes only regular files, never through a link: remove it or choose another path"),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dest, e)),
    }
}

impl AtomicFile {
    /// Starts writing `dest`: checks it (see the module docs) and creates the temporary file
    /// beside it.
    pub fn create(dest: &Path) -> Result<AtomicFile> {
        check_destination(dest)?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".keyhound-tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// Flushes the content to disk and renames it over the destination (checked again).
    pub fn commit(mut self) -> Result<()> {
        self.tmp
            .as_file_mut()
            .sync_all()
            .map_err(|e| Error::io(self.tmp.path(), e))?;
        check_destination(&self.dest)?;
        let dest = self.dest;
        self.tmp
            .persist(&dest)
            .map(|_| ())
            .map_err(|e| Error::io(&dest, e.error))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// Writes `bytes` to `dest` atomically (see the module docs).
pub fn write(dest: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes).map_err(|e| Error::io(dest, e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_a_regular_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        std::fs::write(&p, "old").unwrap();
        write(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_to_write_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("hook");
        std::fs::write(&target, "#!/bin/sh\n").unwrap();
        let link = dir.path().join(".keyhound-baseline.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write(&link, b"{}").unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(err.contains(".keyhound-baseline.json"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "#!/bin/sh\n");
        let err = write(dir.path(), b"{}").unwrap_err().to_string();
        assert!(err.contains("directory"), "{err}");
    }

    #[test]
    fn nothing_appears_without_commit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.sarif");
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
