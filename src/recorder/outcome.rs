//! Placing judged plans: unique names in the outcome folders (nothing there
//! is ever overwritten), atomic sidecars, moves, and the syncs that make
//! them durable.

use crate::watch::file_name::{numbered, SIDECAR_SUFFIX, TEXT_SIDECAR_SUFFIX};
use crate::watch::folder::Folder;
use std::collections::HashSet;
use std::ffi::{CString, OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of the daemon's temporary sidecars; leftovers of a crash are
/// removed at start-up (they are never referenced by a record).
pub const TEMP_PREFIX: &str = ".embolint-sidecar-";

/// Most numbered variants tried for one name before giving up.
const MAX_VARIANTS: u32 = 99_999;

/// Chooses a name in `dir`, starting from `base`, such that neither the
/// name nor its two sidecars (JSON and text) exist nor are already
/// `reserved` by this batch (as a plan or as a sidecar: a plan may be named
/// like another plan's sidecar, `p.json.verdict.json`). Reserves all three.
pub fn pick_name(dir: &Folder, base: &str, reserved: &mut HashSet<PathBuf>) -> io::Result<String> {
    for n in 1..=MAX_VARIANTS {
        let name = if n == 1 { base.to_string() } else { numbered(base, n) };
        let names = [
            name.clone(),
            format!("{name}{SIDECAR_SUFFIX}"),
            format!("{name}{TEXT_SIDECAR_SUFFIX}"),
        ];
        let mut all_free = true;
        for candidate in &names {
            let taken = reserved.contains(&dir.path().join(candidate))
                || dir.exists(OsStr::new(candidate))?;
            if taken {
                all_free = false;
                break;
            }
        }
        if all_free {
            for candidate in &names {
                reserved.insert(dir.path().join(candidate));
            }
            return Ok(name);
        }
    }
    Err(io::Error::other(format!(
        "{} already holds {MAX_VARIANTS} plans named like {base}: move old ones away",
        dir.path().display()
    )))
}

/// Whether anything (even a dangling link) has this name.
pub fn exists(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to a new temporary file in `dir` (not yet synced) and
/// returns its path.
pub fn write_temp(dir: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{TEMP_PREFIX}{}-{n}.tmp", std::process::id()));
    let mut file = OpenOptions::new().write(true).create_new(true).open(&path)?;
    file.write_all(bytes)?;
    Ok(path)
}

/// Writes `bytes` to a new temporary file in the held folder `dir` (not
/// yet synced) and returns its name.
pub fn write_temp_in(dir: &Folder, bytes: &[u8]) -> io::Result<OsString> {
    write_temp_named(dir, TEMP_PREFIX, bytes)
}

/// Writes `bytes` to a new temporary file named with `prefix` in the held
/// folder `dir` (not yet synced; removed again if the write fails) and
/// returns its name. Start-up removes leftovers by their prefix
/// ([`remove_stale_temps_in`]).
pub fn write_temp_named(dir: &Folder, prefix: &str, bytes: &[u8]) -> io::Result<OsString> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = OsString::from(format!("{prefix}{}-in-{n}.tmp", process_id()));
    if let Err(error) = dir.create_new(&name, 0o644)?.write_all(bytes) {
        let _ = dir.remove_file(&name);
        return Err(error);
    }
    Ok(name)
}

/// This process's id, asked of the kernel once (it names every
/// temporary file).
fn process_id() -> u32 {
    static ID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *ID.get_or_init(std::process::id)
}

/// Removes the daemon's temporary files (named with `prefix`) left by a
/// crash in the held folder `dir`; returns how many.
pub fn remove_stale_temps_in(dir: &Folder, prefix: &str) -> io::Result<usize> {
    let mut removed = 0;
    for name in dir.names()? {
        if name.as_bytes().starts_with(prefix.as_bytes()) {
            dir.remove_file(&name)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Flushes everything written on the file system holding `dir` (one sync
/// for a whole batch of temporary sidecars). An error is a failed write.
pub fn sync_file_system(dir: &Path) -> io::Result<()> {
    let handle = File::open(dir)?;
    // SAFETY: syncfs on a descriptor we own.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Syncs a folder, so renames into and out of it survive a power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Renames `from` to `to`, failing with `AlreadyExists` rather than
/// replacing anything at `to`.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    let c_from = c_path(from)?;
    let c_to = c_path(to)?;
    // SAFETY: both strings are NUL-terminated and live across the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_from.as_ptr(),
            libc::AT_FDCWD,
            c_to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if done == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        // The file system cannot do it atomically: check, then rename.
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            if exists(to)? {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            std::fs::rename(from, to)
        }
        _ => Err(error),
    }
}

/// A path as a C string (paths never hold NUL, but say so if one does).
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))
}

/// Removes the daemon's temporary files (named with `prefix`) left by a
/// crash in `dir`; returns how many.
pub fn remove_stale_temps(dir: &Path, prefix: &str) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().as_bytes().starts_with(prefix.as_bytes()) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_a_numbered_variant() {
        let dir = tempfile::tempdir().unwrap();
        let mut reserved = HashSet::new();
        std::fs::write(dir.path().join("p.json"), b"").unwrap();
        std::fs::write(dir.path().join("p.2.json.verdict.json"), b"").unwrap();
        assert_eq!(
            pick_name(&Folder::open(dir.path()).unwrap(), "p.json", &mut reserved).unwrap(),
            "p.3.json"
        );
        assert_eq!(
            pick_name(&Folder::open(dir.path()).unwrap(), "p.json", &mut reserved).unwrap(),
            "p.4.json"
        );
        assert_eq!(
            pick_name(&Folder::open(dir.path()).unwrap(), "q.json", &mut reserved).unwrap(),
            "q.json"
        );
    }

    #[test]
    fn a_plan_named_like_another_plans_sidecar_gets_its_own_name() {
        // Regression: `p.json` and `p.json.verdict.json` in one batch were
        // both placed at `p.json.verdict.json` (one as a sidecar), and the
        // second rename failed, stopping the daemon.
        let dir = tempfile::tempdir().unwrap();
        let mut reserved = HashSet::new();
        assert_eq!(
            pick_name(&Folder::open(dir.path()).unwrap(), "p.json", &mut reserved).unwrap(),
            "p.json"
        );
        let second =
            pick_name(&Folder::open(dir.path()).unwrap(), "p.json.verdict.json", &mut reserved)
                .unwrap();
        assert_eq!(second, "p.json.verdict.2.json");
        let mut reserved = HashSet::new();
        let first =
            pick_name(&Folder::open(dir.path()).unwrap(), "p.json.verdict.json", &mut reserved)
                .unwrap();
        assert_eq!(first, "p.json.verdict.json");
        assert_eq!(
            pick_name(&Folder::open(dir.path()).unwrap(), "p.json", &mut reserved).unwrap(),
            "p.2.json"
        );
    }

    #[test]
    fn rename_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        let error = rename_no_replace(&a, &b).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
        rename_no_replace(&a, &dir.path().join("c")).unwrap();
        assert!(!a.exists());
    }

    #[test]
    fn stale_temps_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let temp = write_temp(dir.path(), b"{}").unwrap();
        std::fs::write(dir.path().join("p.json"), b"").unwrap();
        assert_eq!(remove_stale_temps(dir.path(), TEMP_PREFIX).unwrap(), 1);
        assert!(!temp.exists() && dir.path().join("p.json").exists());
    }
}
