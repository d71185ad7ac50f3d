//! Archives: zip (and jar, docx, xlsx… built on it), tar, gzip and tar.gz, recognised by their
//! magic bytes. Each regular-file member is read through `Read::take` within the member cap and
//! the blob's budget, whatever size its header states (a header may lie either way), then
//! handed back to the driver as a blob of its own at `outer!member`. What could not be read
//! whole is recorded as incomplete. It does not decide what a member holds; the driver does.

use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

use super::Cx;
use crate::matcher::Matcher;
use crate::scan::{self, ContentResult};
use crate::source::blob::Origin;

/// What kind of container some bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Zip,
    Gzip,
    Tar,
}

/// The container `content` is, by its magic bytes.
pub(super) fn detect(content: &[u8]) -> Option<Kind> {
    if content.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if content.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if content.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// Scans the members of the archive `content` from `path`. False if it could not be opened at
/// all (recorded as incomplete; the caller treats the bytes as they are).
pub(super) fn scan(
    cx: &mut Cx<'_>,
    matcher: &mut Matcher<'_>,
    path: &Origin<'_>,
    content: &[u8],
    kind: Kind,
    depth: usize,
    out: &mut ContentResult,
) -> bool {
    match kind {
        Kind::Zip => zip(cx, matcher, path, content, depth, out),
        Kind::Tar => tar(cx, matcher, path, Cursor::new(content), false, depth, out),
        Kind::Gzip => gzip(cx, matcher, path, content, depth, out),
    }
}

/// Why a member was not read whole.
enum Unread {
    /// Larger than the member cap.
    TooLarge,
    /// The blob's budget ran out.
    Budget,
    /// The data could not be read (corrupt, encrypted…).
    Error(io::Error),
}

/// Most memory set aside up front for a member, whatever size its header claims.
const MAX_PREALLOCATION: u64 = 8 << 20;

/// Reads a member of at most `cap` bytes with at most `budget` bytes left; what was read
/// before an error is returned with it. `size` is what the archive says the member holds: room
/// for up to [`MAX_PREALLOCATION`] of it is set aside at once, so that it is read in a few
/// large reads rather than many small ones through the decompressor; it bounds nothing else,
/// so a header that lies costs neither memory nor a skipped member.
fn read_member(
    reader: &mut dyn Read,
    cap: u64,
    budget: u64,
    size: Option<u64>,
) -> (Vec<u8>, Option<Unread>) {
    let limit = cap.min(budget);
    let room = size.unwrap_or(0).min(limit).min(MAX_PREALLOCATION) + 1;
    let mut buf = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
    let result = reader.take(limit.saturating_add(1)).read_to_end(&mut buf);
    if let Err(e) = result {
        return (buf, Some(Unread::Error(e)));
    }
    if buf.len() as u64 > limit {
        let why = if limit < cap {
            Unread::Budget
        } else {
            Unread::TooLarge
        };
        return (Vec::new(), Some(why));
    }
    (buf, None)
}

impl Cx<'_> {
    /// Reads one member (of `size` bytes, if the archive says) and scans it; false when the
    /// blob's budget is used up.
    #[allow(clippy::too_many_arguments)]
    fn member(
        &mut self,
        matcher: &mut Matcher<'_>,
        path: &Origin<'_>,
        reader: &mut dyn Read,
        size: Option<u64>,
        depth: usize,
        counted: bool,
        out: &mut ContentResult,
    ) -> bool {
        if self.members_left == 0 || matcher.expired() {
            return false;
        }
        self.members_left -= 1;
        let (bytes, unread) = read_member(reader, self.member_cap, self.budget.get(), size);
        if !counted {
            self.budget
                .set(self.budget.get().saturating_sub(bytes.len() as u64));
        }
        match unread {
            None => {}
            Some(Unread::TooLarge) => {
                let limit = self.member_cap;
                self.unread(path, scan::Unread::TooLarge { size: None, limit });
                return true;
            }
            Some(Unread::Budget) => {
                self.budget_exhausted(path);
                return false;
            }
            Some(Unread::Error(_)) if self.budget.get() == 0 => {
                self.budget_exhausted(path);
                return false;
            }
            Some(Unread::Error(e)) => {
                let error = e.to_string();
                self.unread(path, scan::Unread::Unreadable { error });
            }
        }
        self.blob(matcher, path, &bytes, depth + 1, out);
        true
    }

    /// A member whose header gives its size (zip, tar): skipped by path, else read and scanned
    /// (the size only helps to set room aside); false when the archive's member count or
    /// budget is used up.
    #[allow(clippy::too_many_arguments)]
    fn listed_member(
        &mut self,
        matcher: &mut Matcher<'_>,
        archive: &Origin<'_>,
        member_path: &Origin<'_>,
        size: u64,
        reader: &mut dyn Read,
        depth: usize,
        counted: bool,
        out: &mut ContentResult,
    ) -> bool {
        if self.scanner.skips_path(&member_path.shown()) {
            return true;
        }
        if !self.member(
            matcher,
            member_path,
            reader,
            Some(size),
            depth,
            counted,
            out,
        ) {
            self.too_many_members(archive);
            return false;
        }
        true
    }

    fn too_many_members(&mut self, path: &Origin<'_>) {
        if self.members_left == 0 {
            let limit = super::MAX_MEMBERS;
            self.unread(path.root(), scan::Unread::TooManyMembers { limit });
        }
    }
}

fn zip(
    cx: &mut Cx<'_>,
    matcher: &mut Matcher<'_>,
    path: &Origin<'_>,
    content: &[u8],
    depth: usize,
    out: &mut ContentResult,
) -> bool {
    let mut archive = match zip::ZipArchive::new(Cursor::new(content)) {
        Ok(a) => a,
        Err(e) => {
            let error = format!("not a readable zip archive: {e}");
            cx.unread(path, scan::Unread::Unreadable { error });
            return false;
        }
    };
    for i in 0..archive.len() {
        let name = archive.name_for_index(i).unwrap_or("?").to_string();
        let member_path = Origin::Member {
            parent: path,
            name: &name,
        };
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                let error = e.to_string();
                cx.unread(&member_path, scan::Unread::Unreadable { error });
                continue;
            }
        };
        if !file.is_file() {
            continue;
        }
        // Deflate inflates at most 1032 to 1: a header that claims more is not believed even
        // for setting room aside.
        let size = file.size().min(file.compressed_size().saturating_mul(1032));
        if !cx.listed_member(
            matcher,
            path,
            &member_path,
            size,
            &mut file,
            depth,
            false,
            out,
        ) {
            break;
        }
    }
    true
}

/// A decompressing reader that takes every byte it yields from the blob's budget and fails
/// once it is used up, so that even data skipped unread (a tar member's) is paid for.
struct Budgeted<R> {
    inner: R,
    left: Rc<Cell<u64>>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let left = self.left.get();
        if left == 0 {
            return Err(io::Error::other("decompression budget used up"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left.set(left - n as u64);
        Ok(n)
    }
}

/// A stream that can only seek forward, by reading: lets the tar reader skip what is not read
/// (padding, skipped members) through one reused buffer rather than a fresh zeroed one each time.
struct Forward<R> {
    inner: R,
    pos: u64,
    scratch: Vec<u8>,
}

impl<R: Read> Read for Forward<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Seek for Forward<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let mut skip = match to {
            SeekFrom::Current(n) if n >= 0 => n as u64,
            SeekFrom::Start(n) if n >= self.pos => n - self.pos,
            _ => {
                return Err(io::Error::other(
                    "cannot seek backwards in a compressed stream",
                ))
            }
        };
        if self.scratch.is_empty() {
            self.scratch = vec![0; 32 * 1024];
        }
        while skip > 0 {
            let want = self
                .scratch
                .len()
                .min(usize::try_from(skip).unwrap_or(usize::MAX));
            let n = self.inner.read(&mut self.scratch[..want])?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.pos += n as u64;
            skip -= n as u64;
        }
        Ok(self.pos)
    }
}

/// A tar stream; `counted` when `reader` pays for its bytes itself (a [`Budgeted`] stream).
fn tar(
    cx: &mut Cx<'_>,
    matcher: &mut Matcher<'_>,
    path: &Origin<'_>,
    reader: impl Read + Seek,
    counted: bool,
    depth: usize,
    out: &mut ContentResult,
) -> bool {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries_with_seek() {
        Ok(e) => e,
        Err(e) => {
            let error = format!("not a readable tar archive: {e}");
            cx.unread(path, scan::Unread::Unreadable { error });
            return false;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(_) if cx.budget.get() == 0 => {
                cx.budget_exhausted(path);
                break;
            }
            Err(e) => {
                let error = format!("corrupt tar archive: {e}; the members after it");
                cx.unread(path, scan::Unread::Unreadable { error });
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let member_path = Origin::Member {
            parent: path,
            name: &name,
        };
        let size = entry.size();
        if !cx.listed_member(
            matcher,
            path,
            &member_path,
            size,
            &mut entry,
            depth,
            counted,
            out,
        ) {
            break;
        }
    }
    true
}

/// A gzip stream: a tar.gz is one layer (its members are scanned as tar members); anything
/// else is one member named after the file without `.gz`.
fn gzip(
    cx: &mut Cx<'_>,
    matcher: &mut Matcher<'_>,
    path: &Origin<'_>,
    content: &[u8],
    depth: usize,
    out: &mut ContentResult,
) -> bool {
    let mut stream = Budgeted {
        inner: MultiGzDecoder::new(content),
        left: Rc::clone(&cx.budget),
    };
    let mut head = Vec::with_capacity(512);
    if let Err(e) = (&mut stream).take(512).read_to_end(&mut head) {
        if cx.budget.get() == 0 {
            cx.budget_exhausted(path);
        } else {
            let error = format!("not readable gzip data: {e}");
            cx.unread(path, scan::Unread::Unreadable { error });
        }
        return false;
    }
    if head.get(257..262) == Some(b"ustar") {
        let whole = Forward {
            inner: Cursor::new(head).chain(stream),
            pos: 0,
            scratch: Vec::new(),
        };
        return tar(cx, matcher, path, whole, true, depth, out);
    }
    let file = file_name(path);
    let inner = file
        .strip_suffix(".gz")
        .or_else(|| file.strip_suffix(".gzip"))
        .or_else(|| file.strip_suffix(".z"))
        .unwrap_or(&file);
    let member_path = Origin::Member {
        parent: path,
        name: inner,
    };
    if cx.scanner.skips_path(&member_path.shown()) {
        return true;
    }
    let mut reader = Cursor::new(head).chain(stream);
    if !cx.member(matcher, &member_path, &mut reader, None, depth, true, out) {
        cx.too_many_members(path);
    }
    true
}

/// The last name in `origin`'s path: what a gzip stream's one member is named after.
fn file_name<'a>(origin: &Origin<'a>) -> std::borrow::Cow<'a, str> {
    let last = |p: &'a str| p.rsplit('/').next().unwrap_or(p);
    match *origin.undecoded() {
        Origin::File { path } | Origin::Git { path, .. } | Origin::Index { path, .. } => {
            last(path).into()
        }
        Origin::Member { name, .. } => last(name).into(),
        Origin::Cell {
            output: Some(o), ..
        } => format!("output-{o}").into(),
        Origin::Cell { cell, .. } => format!("cell-{cell}").into(),
        _ => origin.shown(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(detect(&[0x1f, 0x8b, 0x08, 0]), Some(Kind::Gzip));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&tar), Some(Kind::Tar));
        assert_eq!(detect(b"PK plain text"), None);
    }

    #[test]
    fn budgeted_reader_stops() {
        let left = Rc::new(Cell::new(10));
        let mut r = Budgeted {
            inner: &[7u8; 100][..],
            left: Rc::clone(&left),
        };
        let mut buf = Vec::new();
        assert!(r.read_to_end(&mut buf).is_err());
        assert_eq!((buf.len(), left.get()), (10, 0));
    }
}
