//! Reading one git blob for a scan, sized from its header before it is inflated: a pack entry
//! says nothing of the size it inflates to (2 GiB of zeros take 4 MB; a delta of a few KB can
//! make 512 MiB), so inflating first would hold gigabytes only to skip them. History and the
//! staged check both read blobs through [`read_blob`].

use git2::{ObjectType, Odb, OdbObject, Oid};

/// What reading one blob gave.
pub(crate) enum Sized<'o> {
    /// The blob, no larger than the limit.
    Blob(OdbObject<'o>),
    /// Its size, larger than the limit: not inflated (or, when the header said less than the
    /// content holds, not scanned).
    TooLarge(u64),
    /// Not a blob (a tree entry that names another kind of object).
    NotBlob,
}

/// Reads blob `id` from `odb` if it is at most `limit` bytes.
pub(crate) fn read_blob<'o>(
    odb: &'o Odb<'_>,
    id: Oid,
    limit: u64,
) -> Result<Sized<'o>, git2::Error> {
    let (size, kind) = odb.read_header(id)?;
    if kind != ObjectType::Blob {
        return Ok(Sized::NotBlob);
    }
    if size as u64 > limit {
        return Ok(Sized::TooLarge(size as u64));
    }
    let object = odb.read(id)?;
    let len = object.data().len() as u64;
    if len > limit {
        return Ok(Sized::TooLarge(len));
    }
    Ok(Sized::Blob(object))
}
