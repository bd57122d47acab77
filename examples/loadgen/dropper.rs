use super::observer::Tracker;
use super::plans::PlanSet;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Writes plan `i`'s temporary file; returns its path and final path.
fn write_temp(inbox: &Path, set: &PlanSet, i: usize) -> Result<(PathBuf, PathBuf), String> {
    let name = set.name(i);
    let temp = inbox.join(format!(".{name}.tmp"));
    std::fs::write(&temp, set.text(i))
        .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    Ok((temp, inbox.join(name)))
}

/// Renames a temporary file into place, stamping the moment just before.
fn rename_in(tracker: &Tracker, i: usize, temp: &Path, plan: &Path) -> Result<(), String> {
    tracker.stamp_renamed(i);
    std::fs::rename(temp, plan).map_err(|e| format!("cannot rename into {}: {e}", plan.display()))
}

/// A burst: every temporary file written first, then all renamed in a
/// tight loop, so the daemon meets them "at once".
pub fn burst(inbox: &Path, set: &PlanSet, tracker: &Tracker) -> Result<(), String> {
    let files: Vec<(PathBuf, PathBuf)> =
        (0..set.len()).map(|i| write_temp(inbox, set, i)).collect::<Result<_, _>>()?;
    for (i, (temp, plan)) in files.iter().enumerate() {
        rename_in(tracker, i, temp, plan)?;
    }
    Ok(())
}

/// A steady stream: plan `i` written and renamed at `i / rate` seconds.
pub fn steady(
    inbox: &Path,
    set: &PlanSet,
    tracker: &Tracker,
    rate: f64,
    deadline: Instant,
) -> Result<(), String> {
    let start = Instant::now();
    for i in 0..set.len() {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if due >= deadline {
            return Err(format!("deadline reached after dropping {i} plans"));
        }
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let (temp, plan) = write_temp(inbox, set, i)?;
        rename_in(tracker, i, &temp, &plan)?;
    }
    Ok(())
}

/// A backlog: every plan put in place before the daemon starts, and
/// flushed to disk, as plans that waited while the daemon was down
/// would be (the daemon's first sync does not pay for writing them).
pub fn backlog(inbox: &Path, set: &PlanSet) -> Result<(), String> {
    for i in 0..set.len() {
        let (temp, plan) = write_temp(inbox, set, i)?;
        std::fs::rename(&temp, &plan)
            .map_err(|e| format!("cannot rename into {}: {e}", plan.display()))?;
    }
    let dir = std::fs::File::open(inbox).map_err(|e| format!("cannot open the inbox: {e}"))?;
    // SAFETY: syncfs on a descriptor we own.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
        return Err(format!("cannot sync the backlog: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}
