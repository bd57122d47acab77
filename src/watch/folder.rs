//! A folder of the root, held open: every file the daemon reads, creates,
//! renames or removes in it is named relative to the handle, never by a
//! path.
//!
//! A path is looked up again at every use: if someone who can write the
//! root swaps a folder for a symbolic link to somewhere else (in one atomic
//! `rename`), a write by path lands there. A handle opened once, with
//! `O_DIRECTORY | O_NOFOLLOW`, stays the folder it was: a write through it
//! goes into that folder wherever it has been moved, and so never leaves
//! the root. The swap itself is noticed by comparing the handle with what
//! is at the path ([`Folder::check`]), before each batch and at each
//! re-scan; the daemon then stops.

use std::ffi::{CString, OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::recorder::claim::Fingerprint;

/// A folder held open.
#[derive(Debug)]
pub struct Folder {
    /// The open folder: every operation is relative to it.
    handle: File,
    /// Where it was opened, for messages and for [`Folder::check`].
    path: PathBuf,
    /// Its device and inode, to notice a different folder at `path`.
    identity: (u64, u64),
    /// Its mount, when the kernel tells (`statx`): a mount put over the
    /// path (a read-only bind mount) hides the held folder as surely as a
    /// swap does.
    mount: Option<u64>,
}

impl Folder {
    /// Opens the folder at `path`, refusing a symbolic link.
    pub fn open(path: &Path) -> io::Result<Folder> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))?;
        let handle = open_c(libc::AT_FDCWD, &c_path, DIR_FLAGS, 0)?;
        Folder::held(handle, path.to_path_buf())
    }

    /// Opens the folder `name` inside this one, refusing a symbolic link.
    pub fn open_sub(&self, name: &str) -> io::Result<Folder> {
        let handle = open_at(self.fd(), OsStr::new(name), DIR_FLAGS, 0)?;
        Folder::held(handle, self.path.join(name))
    }

    /// A folder from its open handle.
    fn held(handle: File, path: PathBuf) -> io::Result<Folder> {
        let meta = handle.metadata()?;
        if !meta.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a folder"));
        }
        let mount = mount_id(handle.as_raw_fd(), c"", libc::AT_EMPTY_PATH);
        Ok(Folder { handle, path, identity: (meta.dev(), meta.ino()), mount })
    }

    /// Whether a file here can be renamed into `other` (the same file
    /// system, through the same mount).
    pub fn same_mount_as(&self, other: &Folder) -> bool {
        self.identity.0 == other.identity.0 && self.mount == other.mount
    }

    /// Where it was opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `Ok` while the folder at its path is still this one; otherwise an
    /// error saying what happened.
    pub fn check(&self) -> io::Result<()> {
        let now = std::fs::symlink_metadata(&self.path);
        let same = now.as_ref().is_ok_and(|m| m.is_dir() && (m.dev(), m.ino()) == self.identity);
        let mount = || {
            let c_path = CString::new(self.path.as_os_str().as_bytes()).ok()?;
            mount_id(libc::AT_FDCWD, &c_path, libc::AT_SYMLINK_NOFOLLOW)
        };
        let same_mount = self.mount.is_none() || mount() == self.mount;
        if same && same_mount {
            return Ok(());
        }
        let what = match now {
            Ok(m) if m.file_type().is_symlink() => "a symbolic link".to_string(),
            Ok(m) if m.is_dir() && same => "a mount put over it".to_string(),
            Ok(m) if m.is_dir() => "another folder".to_string(),
            Ok(_) => "something that is not a folder".to_string(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} was removed while embolint runs; if it was removed, restart embolint \
                         to create it again",
                        self.path.display()
                    ),
                ))
            }
            Err(e) => format!("nothing that can be looked at ({e})"),
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} was replaced while embolint runs: it is now {what}. embolint wrote only into \
                 the folder it had opened, never through the new name, and stops: put the \
                 folder back and restart embolint",
                self.path.display()
            ),
        ))
    }

    /// `lstat` of `name` in this folder (a link is not followed).
    pub fn metadata(&self, name: &OsStr) -> io::Result<Metadata> {
        open_at(self.fd(), name, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0)?.metadata()
    }

    /// `lstat` of `name` in this folder, as the fields that identify one
    /// version of a file: one `fstatat` call (where [`Folder::metadata`]
    /// takes three: open, stat, close).
    pub fn fingerprint(&self, name: &OsStr) -> io::Result<Fingerprint> {
        let c_name = c_name(name)?;
        // SAFETY: `stat` is plain integers, for which all zeroes is valid.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstatat fills the buffer it is given; the name is
        // NUL-terminated and lives across the call.
        let done = unsafe {
            libc::fstatat(self.fd(), c_name.as_ptr(), &mut stat, libc::AT_SYMLINK_NOFOLLOW)
        };
        if done != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Fingerprint::of_stat(&stat))
    }

    /// Whether anything (even a dangling link) has this name here.
    pub fn exists(&self, name: &OsStr) -> io::Result<bool> {
        match self.fingerprint(name) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Opens `name` for reading, without following a final link and
    /// without blocking (a FIFO cannot hang the daemon).
    pub fn open_read(&self, name: &OsStr) -> io::Result<File> {
        let flags =
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
        open_at(self.fd(), name, flags, 0)
    }

    /// Creates `name`, which must not exist, for writing.
    pub fn create_new(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        open_at(self.fd(), name, flags, mode)
    }

    /// The target of the link `name`, not followed.
    pub fn read_link(&self, name: &OsStr) -> io::Result<OsString> {
        let c_name = c_name(name)?;
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        // SAFETY: the buffer is writable for its length; the name is
        // NUL-terminated and lives across the call.
        let n = unsafe {
            libc::readlinkat(self.fd(), c_name.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        buf.truncate(n);
        Ok(OsString::from_vec(buf))
    }

    /// Renames `from` here to `to` in `dest`, failing with `AlreadyExists`
    /// rather than replacing anything there.
    pub fn rename_no_replace(&self, from: &OsStr, dest: &Folder, to: &OsStr) -> io::Result<()> {
        match rename_at(self, from, dest, to, libc::RENAME_NOREPLACE) {
            // The file system cannot do it atomically: check, then rename.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {
                if dest.exists(to)? {
                    return Err(io::Error::from(io::ErrorKind::AlreadyExists));
                }
                rename_at(self, from, dest, to, 0)
            }
            other => other,
        }
    }

    /// Exchanges the names `a` and `b` here, atomically.
    pub fn exchange(&self, a: &OsStr, b: &OsStr) -> io::Result<()> {
        rename_at(self, a, self, b, libc::RENAME_EXCHANGE)
    }

    /// Removes the file `name` here.
    pub fn remove_file(&self, name: &OsStr) -> io::Result<()> {
        let c_name = c_name(name)?;
        // SAFETY: the name is NUL-terminated and lives across the call.
        if unsafe { libc::unlinkat(self.fd(), c_name.as_ptr(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Syncs the folder, so renames into and out of it survive a power loss.
    pub fn sync(&self) -> io::Result<()> {
        self.handle.sync_all()
    }

    /// Flushes everything written on the file system holding this folder
    /// (one sync for a whole batch of files).
    pub fn sync_file_system(&self) -> io::Result<()> {
        // SAFETY: syncfs on a descriptor we own.
        if unsafe { libc::syncfs(self.fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The names in this folder, read through the handle (through its path
    /// where `/proc` is not mounted; the names are then used relative to
    /// the handle all the same).
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let listed = std::fs::read_dir(format!("/proc/self/fd/{}", self.fd()))
            .or_else(|_| std::fs::read_dir(&self.path))?;
        listed.map(|entry| entry.map(|e| e.file_name())).collect()
    }

    /// The raw descriptor.
    fn fd(&self) -> libc::c_int {
        self.handle.as_raw_fd()
    }
}

/// The mount id of a path (or, with `AT_EMPTY_PATH`, of `dir` itself);
/// `None` when the kernel cannot tell (before Linux 5.8).
fn mount_id(dir: libc::c_int, path: &std::ffi::CStr, flags: libc::c_int) -> Option<u64> {
    // SAFETY: statx fills the zeroed buffer; the path is NUL-terminated.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    let done = unsafe { libc::statx(dir, path.as_ptr(), flags, libc::STATX_MNT_ID, &mut buf) };
    (done == 0 && buf.stx_mask & libc::STATX_MNT_ID != 0).then_some(buf.stx_mnt_id)
}

/// How folders are opened: a folder, never through a final link.
const DIR_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// `openat(2)` of a single name.
fn open_at(dir: libc::c_int, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
    open_c(dir, &c_name(name)?, flags, mode)
}

/// `openat(2)`.
fn open_c(dir: libc::c_int, c_name: &CString, flags: libc::c_int, mode: u32) -> io::Result<File> {
    // SAFETY: the name is NUL-terminated and lives across the call; the
    // returned descriptor is ours alone.
    let fd = unsafe { libc::openat(dir, c_name.as_ptr(), flags, mode as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nobody else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `renameat2(2)` between two held folders.
fn rename_at(
    from_dir: &Folder,
    from: &OsStr,
    to_dir: &Folder,
    to: &OsStr,
    flags: libc::c_uint,
) -> io::Result<()> {
    let (c_from, c_to) = (c_name(from)?, c_name(to)?);
    // SAFETY: both names are NUL-terminated and live across the call.
    let done = unsafe {
        libc::renameat2(from_dir.fd(), c_from.as_ptr(), to_dir.fd(), c_to.as_ptr(), flags)
    };
    if done != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A single name (no `/`, not `.` or `..`) as a C string: only names in
/// the folder itself are ever used, never paths.
fn c_name(name: &OsStr) -> io::Result<CString> {
    let bytes = name.as_bytes();
    let single = !bytes.is_empty() && !bytes.contains(&b'/') && bytes != b"." && bytes != b"..";
    if !single {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{:?} is not a single name in a folder", name),
        ));
    }
    CString::new(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a name holds a NUL byte"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_into_the_held_folder_even_after_it_is_swapped_for_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let (held_path, outside) = (dir.path().join("passed"), dir.path().join("outside"));
        std::fs::create_dir(&held_path).unwrap();
        std::fs::create_dir(&outside).unwrap();
        let folder = Folder::open(&held_path).unwrap();
        folder.check().unwrap();
        std::fs::rename(&held_path, dir.path().join("moved")).unwrap();
        std::os::unix::fs::symlink(&outside, &held_path).unwrap();
        let error = folder.check().unwrap_err();
        assert!(error.to_string().contains("now a symbolic link"), "{error}");
        folder.create_new(OsStr::new("p.json"), 0o644).unwrap();
        assert!(dir.path().join("moved/p.json").exists());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(Folder::open(&held_path).is_err(), "a link is never opened as a folder");
    }

    #[test]
    fn only_single_names_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        assert!(folder.create_new(OsStr::new("../x"), 0o644).is_err());
        assert!(folder.exists(OsStr::new("..")).is_err());
    }
}
