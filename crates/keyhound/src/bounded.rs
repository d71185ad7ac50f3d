//! Reads with a bound. Every read of content (files, stdin, a FIFO or device named on the
//! command line) and of the small files that steer a scan (config, ignore and baseline files)
//! goes through here, so that no input can grow memory without limit or make a scan wait
//! forever: content is read up to its size limit plus one byte, and a settings file must be a
//! regular file of at most [`MAX_SETTINGS_FILE`] bytes.
//!
//! It does not decide what an over-limit read means: callers record it as incomplete (content)
//! or fail (settings).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// The largest config, ignore or baseline file read: far more than any real one holds, little
/// enough that a file pointing at `/dev/zero` costs nothing.
pub const MAX_SETTINGS_FILE: u64 = 8 << 20;

/// Most memory set aside before reading, whatever size is announced.
const MAX_ROOM: u64 = 64 << 20;

/// Reads `reader` to its end if it holds at most `limit` bytes (`None` if it holds more: it is
/// read no further than `limit + 1` bytes). `hint` is the size it announces (a file's length),
/// used only to set room aside.
pub(crate) fn read_to_limit(
    reader: impl Read,
    limit: u64,
    hint: u64,
) -> io::Result<Option<Vec<u8>>> {
    let room = hint.min(limit).min(MAX_ROOM).saturating_add(1);
    let mut buf = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

/// Opens `path` for reading without waiting for a writer: opening a FIFO blocks until one comes
/// unless asked not to. Reads from a regular file are not affected.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Reads a config, ignore or baseline file: it must be a regular file (symbolic links are
/// followed) of at most [`MAX_SETTINGS_FILE`] bytes, in UTF-8. A FIFO, a device, a directory
/// or anything larger is an error naming the file, never a wait or a read without end. A
/// missing file is [`Error::Io`] with [`io::ErrorKind::NotFound`].
pub fn read_settings_file(path: &Path) -> Result<String> {
    let file = open_nonblocking(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "not a regular file ({}); keyhound reads settings only from regular files",
                kind(&meta)
            ),
        });
    }
    let Some(bytes) =
        read_to_limit(&file, MAX_SETTINGS_FILE, meta.len()).map_err(|e| Error::io(path, e))?
    else {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "larger than {} MiB; a settings file this large is not read",
                MAX_SETTINGS_FILE >> 20
            ),
        });
    };
    String::from_utf8(bytes).map_err(|e| Error::BadFile {
        path: path.to_path_buf(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// Whether `error` says a file does not exist.
pub(crate) fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Io { error, .. } if error.kind() == io::ErrorKind::NotFound)
}

/// What kind of file `meta` describes, in words.
pub fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_one_byte_more() {
        let data = vec![7u8; 100];
        assert_eq!(
            read_to_limit(&data[..], 100, 0).unwrap(),
            Some(data.clone())
        );
        assert_eq!(read_to_limit(&data[..], 99, 1 << 40).unwrap(), None);
        // An endless reader stops one byte past the limit.
        assert_eq!(read_to_limit(io::repeat(0), 1000, 0).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn settings_files_must_be_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.toml");
        std::fs::write(&ok, "a = 1\n").unwrap();
        assert_eq!(read_settings_file(&ok).unwrap(), "a = 1\n");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'#'; MAX_SETTINGS_FILE as usize + 1]).unwrap();
        let err = read_settings_file(&big).unwrap_err().to_string();
        assert!(
            err.contains("big") && err.contains("larger than 8 MiB"),
            "{err}"
        );
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read_settings_file(&zero).unwrap_err().to_string();
        assert!(
            err.contains("zero") && err.contains("character device"),
            "{err}"
        );
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Nothing ever writes to it: reading must not wait.
            let err = read_settings_file(&fifo).unwrap_err().to_string();
            assert!(err.contains("fifo") && err.contains("a FIFO"), "{err}");
        }
        assert!(is_not_found(
            &read_settings_file(&dir.path().join("missing")).unwrap_err()
        ));
    }
}
