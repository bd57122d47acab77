//! How long a file found in the inbox has already been quiet, from its
//! status change time (ctime).
//!
//! The settle time asks for evidence that nobody is still writing a plan:
//! that it stayed unchanged for `settle_millis`. Watching it gathers that
//! evidence from the moment the daemon first sees the file. But the kernel
//! already keeps it: a file's ctime is set to the current time by every
//! write, truncation, rename, link, chmod or change of its times, and unlike
//! the modification time (mtime) no user tool can set it to another value
//! (`touch -d`, `cp -p` and `rsync -t` set mtime, and so bump ctime to now).
//! A plan whose ctime is already the settle time in the past has been quiet
//! for the settle time, so a plan that waited in the inbox while the daemon
//! was down is read at once instead of waiting the settle time again. A
//! plan quiet for less than that waits the whole settle time from when the
//! daemon first saw it, as before (no partial credit: plans seen together
//! stay ready together, and are judged in full batches).
//!
//! A ctime in the future (the wall clock was set back since) gives no
//! credit: the plan waits the whole settle time, as without this.

use crate::recorder::claim::Fingerprint;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Taken off a ctime's age: the kernel stamps ctime from a coarse clock
/// that may lag the real time by a clock tick (1–10 ms), so a file can look
/// that much older than it is.
pub const CTIME_TICK: Duration = Duration::from_millis(20);

/// The most credit a ctime gives: more than any wait (the settle time is at
/// most ten minutes).
pub const MAX_CREDIT: Duration = Duration::from_secs(3600);

/// How long the version of a file with this fingerprint had already been
/// unchanged at `wall_now`, as its ctime shows (at most [`MAX_CREDIT`]);
/// nothing when its ctime is in the future or unreadable.
pub fn quiet_for(fingerprint: &Fingerprint, wall_now: SystemTime) -> Duration {
    let age = ctime(fingerprint).and_then(|at| wall_now.duration_since(at).ok());
    age.map_or(Duration::ZERO, |age| age.saturating_sub(CTIME_TICK).min(MAX_CREDIT))
}

/// A fingerprint's ctime as a wall-clock time (`None` before 1970).
fn ctime(fingerprint: &Fingerprint) -> Option<SystemTime> {
    let (secs, nanos) = fingerprint.ctime;
    let secs = u64::try_from(secs).ok()?;
    let nanos = u32::try_from(nanos).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fingerprint whose ctime is `wall`.
    fn changed_at(wall: SystemTime) -> Fingerprint {
        let since = wall.duration_since(UNIX_EPOCH).unwrap();
        Fingerprint {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: (0, 0),
            ctime: (since.as_secs() as i64, i64::from(since.subsec_nanos())),
            kind: libc::S_IFREG,
        }
    }

    #[test]
    fn an_old_ctime_counts_as_time_already_quiet() {
        let wall = SystemTime::now();
        let quiet = quiet_for(&changed_at(wall - Duration::from_secs(5)), wall);
        assert!(quiet >= Duration::from_secs(5) - CTIME_TICK, "{quiet:?}");
        assert!(quiet <= Duration::from_secs(5), "{quiet:?}");
    }

    #[test]
    fn a_recent_ctime_gives_nothing_within_a_clock_tick() {
        let wall = SystemTime::now();
        let quiet = quiet_for(&changed_at(wall - Duration::from_millis(10)), wall);
        assert_eq!(quiet, Duration::ZERO);
    }

    #[test]
    fn a_ctime_in_the_future_gives_nothing() {
        let wall = SystemTime::now();
        let quiet = quiet_for(&changed_at(wall + Duration::from_secs(3600)), wall);
        assert_eq!(quiet, Duration::ZERO);
    }

    #[test]
    fn a_ctime_before_1970_gives_nothing() {
        let wall = SystemTime::now();
        let mut plan = changed_at(wall);
        plan.ctime = (-5, 0);
        assert_eq!(quiet_for(&plan, wall), Duration::ZERO);
    }

    #[test]
    fn a_very_old_ctime_gives_at_most_the_cap() {
        let wall = SystemTime::now();
        let plan = changed_at(UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(quiet_for(&plan, wall), MAX_CREDIT);
    }
}
