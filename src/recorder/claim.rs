//! Reading a file from the inbox safely: never following a link, never
//! opening anything but a regular file, never reading more than the size
//! limit into memory, and noticing when the file changes under us.

use crate::check::sha256_hex;
use crate::watch::folder::Folder;
use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// What identifies one version of a file in the inbox: if any of these
/// change, the file was replaced or written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// Device and inode: the same file, not a new one under the same name.
    pub dev: u64,
    /// See `dev`.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last data change, seconds and nanoseconds.
    pub mtime: (i64, i64),
    /// Last change of data or metadata (set by the kernel, not by writers).
    pub ctime: (i64, i64),
    /// The file type bits of the mode (regular, link, FIFO...).
    pub kind: u32,
}

impl Fingerprint {
    /// The fingerprint of a raw `lstat`/`fstat` result.
    // The stat fields are 64 bits wide here; narrower on 32-bit systems.
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    pub fn of_stat(stat: &libc::stat) -> Fingerprint {
        Fingerprint {
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
            size: u64::try_from(stat.st_size).unwrap_or(0),
            mtime: (i64::from(stat.st_mtime), i64::from(stat.st_mtime_nsec)),
            ctime: (i64::from(stat.st_ctime), i64::from(stat.st_ctime_nsec)),
            kind: u32::from(stat.st_mode) & libc::S_IFMT,
        }
    }

    /// The fingerprint of an `lstat`/`fstat` result.
    pub fn of(meta: &Metadata) -> Fingerprint {
        Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            kind: meta.mode() & libc::S_IFMT,
        }
    }
}

/// What kind of thing an inbox entry is, from `lstat` (never followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file: read and judged.
    File,
    /// A symbolic link: judged invalid and moved as a link.
    Link,
    /// A folder, FIFO, socket or device: never opened, reported once.
    Special(&'static str),
}

impl EntryKind {
    /// Classifies `lstat` metadata.
    pub fn of(meta: &Metadata) -> EntryKind {
        let kind = meta.file_type();
        if kind.is_file() {
            EntryKind::File
        } else if kind.is_symlink() {
            EntryKind::Link
        } else if kind.is_dir() {
            EntryKind::Special("a folder")
        } else if kind.is_fifo() {
            EntryKind::Special("a FIFO (named pipe)")
        } else if kind.is_socket() {
            EntryKind::Special("a socket")
        } else {
            EntryKind::Special("a device file")
        }
    }
}

/// What was found in a plan's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// A regular file within the size limit: its bytes.
    Bytes(Vec<u8>),
    /// A regular file above the size limit: its size. It was read no
    /// further than one byte past the limit (a 100 GB file costs no more
    /// than a 1 MiB one), and nothing read was kept.
    Oversized(u64),
    /// A symbolic link, never followed: its target as written.
    Link(OsString),
    /// A regular file embolint may not open: the reason.
    Unreadable(String),
}

/// One version of an inbox file, read completely.
#[derive(Clone, Debug)]
pub struct Claim {
    /// sha256 (hex) of the file's bytes; for an oversized file, of its
    /// first `limit + 1` bytes only (see [`Content::Oversized`]); of the
    /// target text for a link; of nothing for an unreadable file. With the
    /// name, it identifies the plan when recovery finishes an interrupted
    /// move, and it proves the moved file is the one judged.
    pub sha256: String,
    /// What was read.
    pub content: Content,
    /// The version that was read.
    pub fingerprint: Fingerprint,
    /// How many names the file has (`st_nlink`): more than one means it is
    /// hard-linked to a name that may lie outside the root, through which
    /// it could change after its verdict (see [`take_own_copy`]).
    pub links: u64,
}

/// Why a file could not be claimed this time.
#[derive(Debug)]
pub enum NotClaimed {
    /// It is no longer there.
    Gone,
    /// It changed (written, replaced, turned into something else) since it
    /// was last seen: look again once it settles.
    Changed,
    /// The operating system refused for a reason worth logging.
    Io(io::Error),
}

/// Reads `dir/name`, which was last seen with fingerprint `seen`, keeping at
/// most `limit` bytes in memory.
pub fn claim(
    dir: &Folder,
    name: &OsStr,
    seen: &Fingerprint,
    limit: u64,
) -> Result<Claim, NotClaimed> {
    if seen.kind == libc::S_IFLNK {
        return claim_link(dir, name, seen);
    }
    let file = match dir.open_read(name) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(NotClaimed::Gone),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(NotClaimed::Changed),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Ok(Claim {
                sha256: sha256_hex(b""),
                content: Content::Unreadable(e.to_string()),
                fingerprint: *seen,
                links: 1,
            });
        }
        Err(e) => return Err(NotClaimed::Io(e)),
    };
    let before = fingerprint_of(&file)?;
    if before != *seen || before.kind != libc::S_IFREG {
        return Err(NotClaimed::Changed);
    }
    let (content, sha256) = read_limited(&file, limit, before.size).map_err(NotClaimed::Io)?;
    let read_as_seen = match &content {
        Content::Bytes(bytes) => bytes.len() as u64 == before.size,
        _ => before.size > limit,
    };
    // One look after reading gives both the proof that nothing changed
    // while it was read and the number of its names.
    let after = file.metadata().map_err(NotClaimed::Io)?;
    if Fingerprint::of(&after) != before || !read_as_seen {
        return Err(NotClaimed::Changed);
    }
    let content = match content {
        Content::Oversized(_) => Content::Oversized(before.size),
        other => other,
    };
    Ok(Claim { sha256, content, fingerprint: before, links: after.nlink() })
}

/// Prefix of the private copies [`take_own_copy`] makes in the inbox (a
/// name starting with `.` is never a plan); leftovers of a crash are
/// removed at start-up.
pub const COPY_PREFIX: &str = ".embolint-copy-";

/// Replaces the hard-linked inbox file `dir/name`, read as `claimed`, by a
/// private copy of the bytes that were read, so that what is judged and
/// placed shares its inode with no file outside the root. The other names
/// of the file are left alone (nothing outside the root is written).
/// Returns `false`, having changed nothing, when the file at `name` is no
/// longer the one read (a new version came in meanwhile).
pub fn take_own_copy(
    dir: &Folder,
    name: &OsStr,
    claimed: &Claim,
    bytes: &[u8],
) -> io::Result<bool> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = OsString::from(format!("{COPY_PREFIX}{}-{n}.tmp", std::process::id()));
    let mut copy = dir.create_new(&temp, 0o644)?;
    let written = copy.write_all(bytes).and_then(|()| copy.sync_all());
    if let Err(error) = written {
        let _ = dir.remove_file(&temp);
        return Err(error);
    }
    // Exchanged, not renamed over: a new version renamed in meanwhile must
    // not be lost; it is put back.
    dir.exchange(&temp, name)?;
    let swapped_out = dir.fingerprint(&temp)?;
    let same =
        (swapped_out.dev, swapped_out.ino) == (claimed.fingerprint.dev, claimed.fingerprint.ino);
    if !same {
        dir.exchange(&temp, name)?;
    }
    dir.remove_file(&temp)?;
    dir.sync()?;
    Ok(same)
}

/// `fstat` of an open file, as a fingerprint.
fn fingerprint_of(file: &File) -> Result<Fingerprint, NotClaimed> {
    file.metadata().map(|m| Fingerprint::of(&m)).map_err(NotClaimed::Io)
}

/// Reads at most `limit + 1` bytes: the whole file when it is within the
/// limit, otherwise just enough to know it is over (never the rest: a huge
/// file must not stall the daemon). Returns the content and the sha256 of
/// the bytes read; `Oversized` carries the bytes read, not the file's size.
/// `size` (from `fstat`) only sizes the buffer, so that a plan is read in
/// one call instead of a dozen growing ones; what is read decides.
fn read_limited(file: &File, limit: u64, size: u64) -> io::Result<(Content, String)> {
    let room = usize::try_from(size.min(limit).saturating_add(1)).unwrap_or(0);
    let mut kept = Vec::with_capacity(room);
    file.take(limit.saturating_add(1)).read_to_end(&mut kept)?;
    let sha256 = sha256_hex(&kept);
    if kept.len() as u64 > limit {
        return Ok((Content::Oversized(kept.len() as u64), sha256));
    }
    Ok((Content::Bytes(kept), sha256))
}

/// Reads a symbolic link's target without following it.
fn claim_link(dir: &Folder, name: &OsStr, seen: &Fingerprint) -> Result<Claim, NotClaimed> {
    let target = match dir.read_link(name) {
        Ok(target) => target,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(NotClaimed::Gone),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => return Err(NotClaimed::Changed),
        Err(e) => return Err(NotClaimed::Io(e)),
    };
    let now = dir.metadata(name).map_err(|_| NotClaimed::Gone)?;
    if Fingerprint::of(&now) != *seen {
        return Err(NotClaimed::Changed);
    }
    let sha256 = sha256_hex(std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()));
    Ok(Claim { sha256, content: Content::Link(target), fingerprint: *seen, links: 1 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn seen(path: &Path) -> Fingerprint {
        Fingerprint::of(&std::fs::symlink_metadata(path).unwrap())
    }

    #[test]
    fn a_small_file_is_read_whole_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, b"{}").unwrap();
        let claim =
            claim(&Folder::open(dir.path()).unwrap(), OsStr::new("p.json"), &seen(&path), 10)
                .unwrap();
        assert_eq!(claim.content, Content::Bytes(b"{}".to_vec()));
        assert_eq!(claim.sha256, crate::check::sha256_hex(b"{}"));
    }

    #[test]
    fn a_file_over_the_limit_is_read_one_byte_past_it_and_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let claim =
            claim(&Folder::open(dir.path()).unwrap(), OsStr::new("big.json"), &seen(&path), 60_000)
                .unwrap();
        assert_eq!(claim.content, Content::Oversized(100_000));
        assert_eq!(claim.sha256, crate::check::sha256_hex(&bytes[..60_001]));
    }

    #[test]
    fn a_huge_sparse_file_is_refused_after_reading_one_byte_past_the_limit() {
        // Regression: the whole file was read and hashed, so a 1 TiB file
        // stalled the daemon for hours. Its sha256 is now of limit + 1 bytes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        std::fs::File::create(&path).unwrap().set_len(1 << 40).unwrap();
        let claim =
            claim(&Folder::open(dir.path()).unwrap(), OsStr::new("huge.json"), &seen(&path), 1024)
                .unwrap();
        assert_eq!(claim.content, Content::Oversized(1 << 40));
        assert_eq!(claim.sha256, crate::check::sha256_hex(&[0u8; 1025]));
    }

    #[test]
    fn a_file_exactly_at_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, b"0123456789").unwrap();
        let claim =
            claim(&Folder::open(dir.path()).unwrap(), OsStr::new("p.json"), &seen(&path), 10)
                .unwrap();
        assert_eq!(claim.content, Content::Bytes(b"0123456789".to_vec()));
    }

    #[test]
    fn a_link_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.json");
        std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
        let claim =
            claim(&Folder::open(dir.path()).unwrap(), OsStr::new("l.json"), &seen(&path), 10)
                .unwrap();
        assert_eq!(claim.content, Content::Link("/etc/passwd".into()));
    }

    #[test]
    fn a_file_written_after_it_was_seen_is_not_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, b"{").unwrap();
        let first = seen(&path);
        std::fs::write(&path, b"{}").unwrap();
        assert!(matches!(
            claim(&Folder::open(dir.path()).unwrap(), OsStr::new("p.json"), &first, 10),
            Err(NotClaimed::Changed)
        ));
    }
}
